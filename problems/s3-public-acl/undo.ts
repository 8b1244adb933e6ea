// Undoing a removal of public ACL grants: the removed grants are appended to the live ACL (its owner and every live
// grant kept), as they were in the before-state. Refused while ACLs are disabled or BlockPublicAcls is on (S3 refuses
// public grants then). A record is consistent when its change removed public group grants (AllUsers,
// AuthenticatedUsers) that its before ACL held, and (when `fixed`) its after ACL is the before ACL without them.
// (The bucket's undo, which this is part of: problems/s3-public/undo.ts.)
import type { S3BucketState } from "../../contract/ledger.ts";
import type { Change } from "../../contract/report.ts";
import type { AclGrant } from "../../detection/types.ts";
import { aclGrantKey, aclGrantsFromApi, isPublicGrant } from "../s3-public/detect.ts";
import type { BucketChangeUndo, BucketRecord, BucketWrite } from "../s3-public/undo.ts";
import { inconsistent, type ResourcePlan } from "../undo-kit.ts";
import { listText, plural } from "../words.ts";
import { s3PublicAcl } from "./spec.ts";
import { describeUndoneGrant } from "./words.ts";

type GrantsRemoved = Extract<Change, { kind: "acl-grants-removed" }>;
type RawGrant = S3BucketState["acl"]["Grants"][number];

function apiGrant(record: BucketRecord, raw: RawGrant, where: string): AclGrant {
  try {
    return aclGrantsFromApi([raw])[0]!;
  } catch (error) {
    throw inconsistent(record, `${where} cannot be read as a grant (${(error as Error).message})`);
  }
}

/** The before ACL without the removed grants, once each is checked to be a public grant the before ACL held. */
function aclWithoutRemoved(record: BucketRecord, { grants }: GrantsRemoved): S3BucketState["acl"] {
  const { before } = record;
  if (record.problem !== s3PublicAcl.id) throw inconsistent(record, `a ${record.problem} fix removes no ACL grant`);
  if (before.aclsDisabled) {
    throw inconsistent(record, `its change removed ACL grants of ${before.bucket}, whose ACLs are disabled`);
  }
  if (grants.length === 0) throw inconsistent(record, "its change removed no ACL grant");
  const keys = before.acl.Grants.map((raw, index) => aclGrantKey(apiGrant(record, raw, `before grant ${index + 1}`)));
  const removed = new Set<string>();
  for (const grant of grants) {
    const what = describeUndoneGrant(grant);
    const uri = grant.grantee.type === "Group" ? grant.grantee.uri : undefined;
    const parsed =
      typeof uri === "string"
        ? apiGrant(record, { Grantee: { Type: "Group", URI: uri }, Permission: grant.permission }, `grant ${what}`)
        : undefined;
    if (!parsed || !isPublicGrant(parsed)) {
      throw inconsistent(
        record,
        `its change re-adds ${what}, a grant to someone other than AllUsers or AuthenticatedUsers, which Remedy never removes`,
      );
    }
    const key = aclGrantKey(parsed);
    if (!keys.includes(key))
      throw inconsistent(record, `its change re-adds ${what}, which the before ACL does not hold`);
    removed.add(key);
  }
  return {
    ...(before.acl.Owner ? { Owner: before.acl.Owner } : {}),
    Grants: before.acl.Grants.filter((_, index) => !removed.has(keys[index]!)),
  };
}

/** The identity of a grant as S3 returns it, or undefined for one the rule cannot read (kept, never matched). */
function liveGrantKey(raw: RawGrant): string | undefined {
  try {
    const [grant] = aclGrantsFromApi([raw]);
    return grant ? aclGrantKey(grant) : undefined;
  } catch {
    return undefined;
  }
}

function planAcl(record: BucketRecord, change: GrantsRemoved, live: S3BucketState): ResourcePlan<BucketWrite> {
  const { before } = record;
  const { bucket } = before;
  const liveKeys = new Set(live.acl.Grants.map(liveGrantKey).filter((key) => key !== undefined));
  const missing: { text: string; raw: RawGrant }[] = [];
  const already: string[] = [];
  for (const grant of change.grants) {
    const text = describeUndoneGrant(grant);
    // assertConsistent made sure it is a public group grant that the before ACL holds: that one goes back as read.
    const key = liveGrantKey({
      Grantee: { Type: "Group", URI: String(grant.grantee.uri) },
      Permission: grant.permission,
    })!;
    const raw = before.acl.Grants.find((candidate) => liveGrantKey(candidate) === key)!;
    if (liveKeys.has(key)) already.push(`already present: ${text}`);
    else missing.push({ text, raw });
  }
  const names = listText(missing.map((entry) => entry.text));
  const refused =
    missing.length === 0
      ? []
      : live.aclsDisabled
        ? [
            `ACLs are disabled on ${bucket} now (Object Ownership BucketOwnerEnforced), so the ${plural(missing.length, "grant")} Remedy removed (${names}) cannot be re-added; its ACL is left as it is.`,
          ]
        : live.publicAccessBlock?.BlockPublicAcls === true
          ? [
              `Block Public Access BlockPublicAcls is on for ${bucket} now, so S3 would reject an ACL with the ${plural(missing.length, "public grant")} Remedy removed (${names}); they are not re-added and its ACL is left as it is (turn BlockPublicAcls off first to re-open them).`,
            ]
          : [];
  const added = refused.length > 0 ? [] : missing;
  const acl = {
    ...(live.acl.Owner ? { Owner: live.acl.Owner } : {}),
    Grants: [...live.acl.Grants, ...added.map((entry) => entry.raw)],
  };
  const lines: string[] = [];
  if (added.length > 0) {
    lines.push(
      `  add to the live ACL of ${bucket} the ${plural(added.length, "grant")} Remedy removed (its owner and its ${plural(live.acl.Grants.length, "grant")} stay as they are):`,
      ...added.map((entry) => `    + ${entry.text}`),
    );
  } else if (refused.length === 0) {
    lines.push(`  nothing to re-add: every grant Remedy removed is in the live ACL of ${bucket} again`);
  }
  lines.push(...already.map((line) => `  ${line}`), ...refused.map((sentence) => `  conflict: ${sentence}`));
  return {
    lines,
    steps: [
      ...added.map((entry) => `re-added grant: ${entry.text}`),
      ...already,
      ...refused.map((sentence) => `conflict: ${sentence}`),
    ],
    refused,
    writes: added.length > 0 ? [{ kind: "put-acl", acl }] : [],
    before: live,
    after: added.length > 0 ? { ...live, acl } : live,
  };
}

export const s3PublicAclUndo: BucketChangeUndo<GrantsRemoved> = {
  changeKind: "acl-grants-removed",
  expected: (record, change) => ({ acl: aclWithoutRemoved(record, change) }),
  plan: planAcl,
};
