// Undo: puts back the exact before-state a `fixed` ledger record holds, and records the undo as an action of its
// own (`undoes: <actionId>`); the original record is never rewritten.
// - Security groups: AuthorizeSecurityGroupIngress with one IpRange/Ipv6Range per revoked entry, description (and
//   rule tags) included, skipping entries that exist live again, so undoing twice does not fail.
// - Buckets: only the parts the fix changed go back — the ACL exactly as it was (PutBucketAcl), the policy text
//   exactly as it was (PutBucketPolicy, or DeleteBucketPolicy when there was none), the Block Public Access
//   configuration exactly as it was (PutPublicAccessBlock, or DeletePublicAccessBlock when there was none). Parts
//   the fix did not touch are left alone, so an undo never overwrites an unrelated later change (and never calls
//   PutBucketAcl on a bucket whose ACLs are disabled).
// Nothing in a record is trusted before it is checked, and nothing is shown or asked before that: the record must
// carry a MAC from the ledger MAC key that verifies (KMS VerifyMac; only the remediation functions can sign, so
// whoever can write to the ledger bucket cannot forge one), and it must be consistent — its before-state is for
// its own resource, its changes are exactly what a remediation removes (open ingress rules, public grants and
// statements, Block Public Access flags turned on) and its after-state is its before-state minus those changes.
// Whole parts still go back as they were (the ACL, the policy text); describeUndo says so and lists exactly what
// that re-adds.
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  type EC2Client,
  type IpPermission,
  type TagSpecification,
} from "@aws-sdk/client-ec2";
import { type KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import {
  type AccessControlPolicy,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  aclGrantKey,
  aclGrantsFromApi,
  type BucketPolicyDocument,
  type BucketState,
  isPublicGrant,
  judgeS3,
  type PublicAccessBlock,
  parsePolicyDocument,
  policyStatementKey,
} from "../rules/s3-public.ts";
import {
  type DescribedSecurityGroupRule,
  judgeSgEntries,
  parseSgOpenIngressParameters,
  sgEntriesFromDescribedRules,
  sgRuleEntryKey,
} from "../rules/sg-open-ingress.ts";
import type { AclGrant, PolicyStatement, SgRuleEntry } from "../rules/types.ts";
import { describeAwsError, hasErrorCode } from "./aws-errors.ts";
import { canonicalJson } from "./canonical-json.ts";
import {
  integrityMessage,
  LEDGER_MAC_ALGORITHM,
  type Ledger,
  type LedgerRecord,
  LedgerRecordNotFoundError,
  newActionId,
  type RecordVerifier,
  type ResourceState,
  type S3BucketState,
  type SgRuleState,
  type SgRulesState,
} from "./ledger.ts";
import { errorFields, type Log } from "./logging.ts";
import type { Change } from "./report.ts";

/** How undo tells a genuine record: its MAC must verify, with the stack's key when that is known. */
export interface RecordIntegrityCheck {
  /** kmsRecordVerifier (KMS VerifyMac) for real records. */
  verifier: RecordVerifier;
  /**
   * The stack's ledger MAC key (its ARN, as GenerateMac reports it): a record naming any other key is refused.
   * Absent: the key the record names is used, so a record signed with another key that the operator may use would
   * verify.
   */
  macKeyId?: string;
}

export interface UndoDeps extends RecordIntegrityCheck {
  ec2: EC2Client;
  s3: S3Client;
  ledger: Ledger;
  now: () => Date;
  log: Log;
  newActionId?: (now: Date) => string;
}

/** An action that cannot be undone (not found, not a fix, an undo itself, not genuine, inconsistent). */
export class UndoError extends Error {
  override name = "UndoError";
}

export interface UndoResult {
  /** The undo's own ledger action. */
  actionId: string;
  undoes: string;
  /** "fixed": something was put back; "skipped": everything was already as before. */
  outcome: "fixed" | "skipped";
  /** One line per thing restored (or found already restored). */
  steps: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Checks

export type UndoableRecord = LedgerRecord & { before: ResourceState };

/**
 * Throws UndoError unless `record` is a fix that undo can restore and is consistent (see assertConsistent). The MAC
 * is checked separately (verifyRecordIntegrity, asynchronous); checkUndoable does both.
 */
export function assertUndoable(record: LedgerRecord): asserts record is UndoableRecord {
  assertOutcome(record);
  assertConsistent(record);
}

/**
 * Everything undo checks before it shows or changes anything, in this order: an outcome that changed something
 * (undo records are refused here: they are never signed), a MAC that verifies, then consistency.
 */
export async function checkUndoable(record: LedgerRecord, check: RecordIntegrityCheck): Promise<UndoableRecord> {
  assertOutcome(record);
  await verifyRecordIntegrity(record, check);
  assertConsistent(record);
  return record;
}

/** Throws UndoError unless the record carries a MAC by the expected key that verifies over the record as read. */
export async function verifyRecordIntegrity(record: LedgerRecord, check: RecordIntegrityCheck): Promise<void> {
  const { integrity } = record;
  if (!integrity) {
    throw new UndoError(
      `${record.actionId} carries no integrity MAC, so nothing shows that Remedy wrote it; it is not undone`,
    );
  }
  if (check.macKeyId !== undefined && integrity.keyId !== check.macKeyId) {
    throw new UndoError(
      `${record.actionId} is signed with key ${integrity.keyId}, not the stack's ledger MAC key ${check.macKeyId}; it is not undone`,
    );
  }
  if (!(await check.verifier.verify({ ...record, integrity }))) {
    throw new UndoError(
      `${record.actionId} does not match its integrity MAC: it was changed after Remedy wrote it; it is not undone`,
    );
  }
}

/** KMS errors meaning the named key cannot check this MAC at all (absent, not an HMAC key, disabled...). */
const UNUSABLE_MAC_KEY = [
  "NotFoundException",
  "InvalidKeyUsageException",
  "DisabledException",
  "KMSInvalidStateException",
  "InvalidArnException",
  "KeyUnavailableException",
];

/** Verifies with KMS VerifyMac, with the key the record names (checkUndoable compares it with the stack's first). */
export function kmsRecordVerifier(kms: KMSClient): RecordVerifier {
  return {
    async verify(record) {
      const { keyId, mac } = record.integrity;
      try {
        const output = await kms.send(
          new VerifyMacCommand({
            KeyId: keyId,
            MacAlgorithm: LEDGER_MAC_ALGORITHM,
            Message: integrityMessage(record),
            Mac: Buffer.from(mac, "base64"),
          }),
        );
        return output.MacValid === true;
      } catch (error) {
        // KMS answers a MAC that does not verify with this error rather than MacValid false.
        if (hasErrorCode(error, "KMSInvalidMacException")) return false;
        if (hasErrorCode(error, ...UNUSABLE_MAC_KEY)) {
          throw new UndoError(
            `${record.actionId} cannot be verified: KMS key ${keyId} cannot check its MAC (${describeAwsError(error)}); it is not undone`,
          );
        }
        throw error;
      }
    },
  };
}

function assertOutcome(record: LedgerRecord): asserts record is UndoableRecord {
  if (record.undoes) {
    throw new UndoError(`${record.actionId} is itself the undo of ${record.undoes}; it cannot be undone`);
  }
  if (record.outcome !== "fixed" && !isUncertain(record)) {
    const why = record.reason ? `: ${record.reason}` : "";
    throw new UndoError(`${record.actionId} is ${record.outcome}${why}; it changed nothing to undo`);
  }
  if (!record.before) throw new UndoError(`${record.actionId} has no before-state to restore`);
  if (record.outcome === "fixed") {
    if (!record.after) throw new UndoError(`${record.actionId} has no after-state`);
    if (record.before.kind !== record.after.kind) {
      throw new UndoError(`${record.actionId} has before/after states of different kinds`);
    }
    return;
  }
  // Otherwise a change that was started but not confirmed (crash, lost answer): undoable from its before-state.
}

function inconsistent(record: LedgerRecord, what: string): UndoError {
  return new UndoError(`${record.actionId} is inconsistent, so it is not undone: ${what}`);
}

const RESOURCE_OF: Record<ResourceState["kind"], { type: string; problems: readonly string[]; what: string }> = {
  "sg-rules": { type: "AWS::EC2::SecurityGroup", problems: ["sg-open-ingress"], what: "security-group rules" },
  "s3-bucket": { type: "AWS::S3::Bucket", problems: ["s3-public-acl", "s3-public-policy"], what: "a bucket's state" },
};

function changeKinds(record: LedgerRecord): string {
  return record.changes.map((change) => change.kind).join(", ") || "none";
}

/**
 * A record is consistent when it describes what a remediation does: its before-state is its own resource's, its
 * changes are exactly what the fix removes, and (when `fixed`) its after-state is the before-state minus them.
 */
function assertConsistent(record: UndoableRecord): void {
  const { before, resource } = record;
  const expected = RESOURCE_OF[before.kind];
  if (resource.type !== expected.type) {
    throw inconsistent(record, `its resource is an ${resource.type}, but its before-state holds ${expected.what}`);
  }
  if (!expected.problems.includes(record.problem)) {
    throw inconsistent(record, `its problem ${record.problem} is not fixed by changing ${expected.what}`);
  }
  if (before.kind === "sg-rules") assertSgConsistent(record, before);
  else assertS3Consistent(record, before);
}

/** The rule under its most permissive parameters: no port authorized, any source wider than one address that is
 * not private. An entry it does not flag (a private range, a single address) is one Remedy never revokes. */
const MOST_PERMISSIVE_SG = parseSgOpenIngressParameters({ authorizedPorts: "", ipv4MinPrefix: 32, ipv6MinPrefix: 128 });

type RuleFields = Pick<DescribedSecurityGroupRule, "IpProtocol" | "FromPort" | "ToPort" | "CidrIpv4" | "CidrIpv6">;

function sgEntryOf(record: LedgerRecord, rule: RuleFields, where: string): SgRuleEntry {
  if ((rule.CidrIpv4 === undefined) === (rule.CidrIpv6 === undefined)) {
    throw inconsistent(record, `${where} does not have exactly one CIDR`);
  }
  let entry: SgRuleEntry | undefined;
  try {
    [entry] = sgEntriesFromDescribedRules([{ ...rule, IsEgress: false }]);
  } catch (error) {
    throw inconsistent(record, `${where} cannot be read as a rule (${(error as Error).message})`);
  }
  if (!entry) throw inconsistent(record, `${where} has no CIDR`);
  return entry;
}

function sameEntries(a: readonly string[], b: readonly string[]): boolean {
  return canonicalJson([...a].sort()) === canonicalJson([...b].sort());
}

function assertSgConsistent(record: UndoableRecord, before: SgRulesState): void {
  if (before.groupId !== record.resource.id) {
    throw inconsistent(
      record,
      `its before-state is for security group ${before.groupId}, not its resource ${record.resource.id}`,
    );
  }
  if (before.rules.length === 0) throw inconsistent(record, "its before-state holds no rule, yet a fix revokes some");
  const restored = before.rules.map((rule, index) => {
    const where = `before rule ${index + 1} (${ruleText(rule)})`;
    if (rule.GroupId !== undefined && rule.GroupId !== before.groupId) {
      throw inconsistent(record, `${where} belongs to security group ${rule.GroupId}, not ${before.groupId}`);
    }
    if (rule.IsEgress === true) throw inconsistent(record, `${where} is an egress rule; Remedy only revokes ingress`);
    const entry = sgEntryOf(record, rule, where);
    if (judgeSgEntries([entry], MOST_PERMISSIVE_SG).length === 0) {
      throw inconsistent(
        record,
        `${where} is not open to the internet (a private range or a single address), so Remedy never revoked it`,
      );
    }
    return sgRuleEntryKey(entry);
  });
  const [change, ...more] = record.changes;
  if (change?.kind !== "sg-rules-revoked" || more.length > 0) {
    throw inconsistent(record, `its changes (${changeKinds(record)}) are not the one sg-rules-revoked a fix makes`);
  }
  if (change.groupId !== before.groupId) {
    throw inconsistent(record, `its change revoked rules of ${change.groupId}, not of ${before.groupId}`);
  }
  const revoked = change.rules.map((rule, index) =>
    sgRuleEntryKey(
      sgEntryOf(
        record,
        {
          IpProtocol: rule.ipProtocol,
          FromPort: rule.fromPort,
          ToPort: rule.toPort,
          CidrIpv4: rule.cidrIpv4,
          CidrIpv6: rule.cidrIpv6,
        },
        `revoked rule ${index + 1}`,
      ),
    ),
  );
  if (!sameEntries(restored, revoked)) {
    throw inconsistent(
      record,
      `the rules it would re-authorize (${restored.join("; ")}) are not the rules its change revoked (${revoked.join("; ") || "none"})`,
    );
  }
  const { after } = record;
  if (
    record.outcome === "fixed" &&
    (after?.kind !== "sg-rules" || after.groupId !== before.groupId || after.rules.length > 0)
  ) {
    throw inconsistent(
      record,
      `its after-state is not ${before.groupId} without the revoked rules (before − changes ≠ after)`,
    );
  }
}

type BucketChange = Extract<
  Change,
  { kind: "acl-grants-removed" | "policy-statements-removed" | "public-access-block-enabled" }
>;
type ChangedGrant = Extract<Change, { kind: "acl-grants-removed" }>["grants"][number];

const BLOCK_FLAGS = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"] as const;

function isBucketChange(change: Change | undefined): change is BucketChange {
  return (
    change?.kind === "acl-grants-removed" ||
    change?.kind === "policy-statements-removed" ||
    change?.kind === "public-access-block-enabled"
  );
}

/** The bucket as the fix must have left it; `policy` is the exact text when unchanged, else the document. */
interface ExpectedBucket {
  acl: S3BucketState["acl"];
  policy: string | null | { document: BucketPolicyDocument };
  publicAccessBlock: S3BucketState["publicAccessBlock"];
}

function assertS3Consistent(record: UndoableRecord, before: S3BucketState): void {
  if (before.bucket !== record.resource.id) {
    throw inconsistent(
      record,
      `its before-state is for bucket ${before.bucket}, not its resource ${record.resource.id}`,
    );
  }
  const [change, ...more] = record.changes;
  if (!isBucketChange(change) || more.length > 0) {
    throw inconsistent(record, `its changes (${changeKinds(record)}) are not the one bucket change a fix makes`);
  }
  if (change.bucket !== before.bucket) {
    throw inconsistent(record, `its change is for bucket ${change.bucket}, not ${before.bucket}`);
  }
  const expected: ExpectedBucket = {
    acl: before.acl,
    policy: before.policy,
    publicAccessBlock: before.publicAccessBlock,
  };
  if (change.kind === "acl-grants-removed") expected.acl = aclWithoutRemoved(record, before, change.grants);
  else if (change.kind === "policy-statements-removed") {
    const document = policyWithoutRemoved(record, before, change);
    expected.policy = document === null ? null : { document };
  } else expected.publicAccessBlock = blockTurnedOn(record, before, change);
  if (record.outcome === "fixed") assertBucketAfter(record, before, expected);
}

function apiGrant(record: LedgerRecord, raw: S3BucketState["acl"]["Grants"][number], where: string): AclGrant {
  try {
    return aclGrantsFromApi([raw])[0]!;
  } catch (error) {
    throw inconsistent(record, `${where} cannot be read as a grant (${(error as Error).message})`);
  }
}

function aclWithoutRemoved(
  record: UndoableRecord,
  before: S3BucketState,
  grants: readonly ChangedGrant[],
): S3BucketState["acl"] {
  if (record.problem !== "s3-public-acl") throw inconsistent(record, `a ${record.problem} fix removes no ACL grant`);
  if (before.aclsDisabled) {
    throw inconsistent(record, `its change removed ACL grants of ${before.bucket}, whose ACLs are disabled`);
  }
  if (grants.length === 0) throw inconsistent(record, "its change removed no ACL grant");
  const keys = before.acl.Grants.map((raw, index) => aclGrantKey(apiGrant(record, raw, `before grant ${index + 1}`)));
  const removed = new Set<string>();
  for (const grant of grants) {
    const what = changedGrantText(grant);
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

function statementName(statement: PolicyStatement, index: number): string {
  return typeof statement.Sid === "string" && statement.Sid ? `statement ${statement.Sid}` : `statement #${index + 1}`;
}

function policyWithoutRemoved(
  record: UndoableRecord,
  before: S3BucketState,
  change: Extract<Change, { kind: "policy-statements-removed" }>,
): BucketPolicyDocument | null {
  if (record.problem !== "s3-public-policy") {
    throw inconsistent(record, `a ${record.problem} fix removes no policy statement`);
  }
  if (change.statements.length === 0) throw inconsistent(record, "its change removed no policy statement");
  let document: BucketPolicyDocument | null;
  let grants: AclGrant[];
  try {
    document = parsePolicyDocument(before.policy);
    grants = before.aclsDisabled ? [] : aclGrantsFromApi(before.acl.Grants);
  } catch (error) {
    throw inconsistent(record, `its before-state cannot be judged (${(error as Error).message})`);
  }
  if (!document) throw inconsistent(record, `its change removed policy statements, but ${before.bucket} had no policy`);
  const state: BucketState = {
    bucket: before.bucket,
    ...(before.acl.Owner?.ID ? { ownerId: before.acl.Owner.ID } : {}),
    aclsDisabled: before.aclsDisabled,
    grants,
    policy: document,
    publicAccessBlock: before.publicAccessBlock,
  };
  const publicKeys = new Set(
    judgeS3(state).findings.flatMap((finding) =>
      finding.matched.kind === "policy-statement" ? [policyStatementKey(finding.matched.statement)] : [],
    ),
  );
  const beforeKeys = new Set(document.Statement.map(policyStatementKey));
  const removed = new Set<string>();
  change.statements.forEach((statement, index) => {
    const name = statementName(statement, index);
    const effect = typeof statement.Effect === "string" ? statement.Effect : "";
    if (effect.toLowerCase() !== "allow") {
      throw inconsistent(
        record,
        `its change re-adds ${name}, ${effect ? `a ${effect}` : "an Effect-less"} statement; Remedy only removes public Allow statements`,
      );
    }
    const key = policyStatementKey(statement);
    if (!beforeKeys.has(key))
      throw inconsistent(record, `its change re-adds ${name}, which the before policy does not hold`);
    if (!publicKeys.has(key)) {
      throw inconsistent(record, `its change re-adds ${name}, which is not public in the before-state`);
    }
    removed.add(key);
  });
  const remaining = document.Statement.filter((statement) => !removed.has(policyStatementKey(statement)));
  if (change.policyDeleted !== (remaining.length === 0)) {
    throw inconsistent(
      record,
      change.policyDeleted
        ? "its change says the policy was deleted, yet statements remain without the removed ones"
        : "its change says a policy remained, yet no statement remains without the removed ones",
    );
  }
  return remaining.length === 0 ? null : { ...document, Statement: remaining };
}

function blockTurnedOn(
  record: UndoableRecord,
  before: S3BucketState,
  change: Extract<Change, { kind: "public-access-block-enabled" }>,
): PublicAccessBlock {
  if (canonicalJson(change.before) !== canonicalJson(before.publicAccessBlock)) {
    throw inconsistent(record, "its change's Block Public Access before-state is not the bucket's before-state");
  }
  for (const flag of BLOCK_FLAGS) {
    if (change.before?.[flag] === true && change.after[flag] !== true) {
      throw inconsistent(record, `its change turned Block Public Access ${flag} off; a fix only turns flags on`);
    }
  }
  return change.after;
}

function samePolicy(text: string | null, expected: ExpectedBucket["policy"]): boolean {
  if (expected === null || typeof expected === "string") return text === expected;
  if (text === null) return false;
  try {
    return canonicalJson(JSON.parse(text)) === canonicalJson(expected.document);
  } catch {
    return false;
  }
}

function assertBucketAfter(record: UndoableRecord, before: S3BucketState, expected: ExpectedBucket): void {
  const { after } = record;
  if (after?.kind !== "s3-bucket") throw inconsistent(record, "its after-state is not a bucket's state");
  const differs = [
    after.bucket !== before.bucket ? "bucket" : "",
    after.aclsDisabled !== before.aclsDisabled ? "ACLs disabled" : "",
    canonicalJson(after.acl) !== canonicalJson(expected.acl) ? "ACL" : "",
    samePolicy(after.policy, expected.policy) ? "" : "policy",
    canonicalJson(after.publicAccessBlock) !== canonicalJson(expected.publicAccessBlock) ? "Block Public Access" : "",
  ].filter(Boolean);
  if (differs.length > 0) {
    throw inconsistent(
      record,
      `its after-state is not its before-state minus its change (before − changes ≠ after: ${differs.join(", ")})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wording

/** A pending or failed action that had planned changes: the change may or may not have happened. */
export function isUncertain(record: LedgerRecord): boolean {
  return (record.outcome === "pending" || record.outcome === "failed") && !!record.before && record.changes.length > 0;
}

function ruleText(rule: SgRuleState): string {
  const protocol = rule.IpProtocol === "-1" ? "all traffic" : (rule.IpProtocol ?? "?");
  const ports =
    rule.IpProtocol === "-1" || rule.FromPort === undefined || rule.FromPort === -1
      ? ""
      : rule.FromPort === rule.ToPort
        ? ` ${rule.FromPort}`
        : ` ${rule.FromPort}-${rule.ToPort}`;
  const description = rule.Description ? ` "${rule.Description}"` : "";
  return `${protocol}${ports} from ${rule.CidrIpv4 ?? rule.CidrIpv6 ?? "?"}${description}`;
}

function grantText(grant: S3BucketState["acl"]["Grants"][number]): string {
  const grantee = grant.Grantee;
  const who = grantee?.URI?.split("/").pop() ?? grantee?.DisplayName ?? grantee?.ID ?? grantee?.EmailAddress ?? "?";
  return `${who} ${grant.Permission ?? "?"}`;
}

function changedGrantText(grant: ChangedGrant): string {
  const { grantee } = grant;
  const who = [grantee.uri, grantee.displayName, grantee.id, grantee.emailAddress].find(
    (value): value is string => typeof value === "string" && value !== "",
  );
  return `${who?.split("/").pop() ?? "?"} ${grant.permission}`;
}

function blockText(block: S3BucketState["publicAccessBlock"]): string {
  if (!block) return "none configured";
  return BLOCK_FLAGS.map((key) => `${key}=${block[key] ?? false}`).join(", ");
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function statementCount(policy: string): string {
  try {
    const parsed = JSON.parse(policy) as { Statement?: unknown };
    const count = Array.isArray(parsed.Statement) ? parsed.Statement.length : parsed.Statement ? 1 : 0;
    return `${count} statement${count === 1 ? "" : "s"}`;
  } catch {
    return "unparseable text";
  }
}

type BucketParts = { acl: boolean; policy: boolean; publicAccessBlock: boolean };

/** Which parts of a bucket a fix changed (the parts undo puts back): from the after-state when the fix was
 * confirmed, else from the planned changes. */
function partsToRestore(record: LedgerRecord & { before: S3BucketState }): BucketParts {
  const { before, after } = record;
  if (after?.kind === "s3-bucket") {
    return {
      acl: canonicalJson(before.acl) !== canonicalJson(after.acl),
      policy: before.policy !== after.policy,
      publicAccessBlock: canonicalJson(before.publicAccessBlock) !== canonicalJson(after.publicAccessBlock),
    };
  }
  const kinds = new Set(record.changes.map((change) => change.kind));
  return {
    acl: kinds.has("acl-grants-removed"),
    policy: kinds.has("policy-statements-removed"),
    publicAccessBlock: kinds.has("public-access-block-enabled"),
  };
}

/** What `remedy undo` shows before asking "proceed?". Throws UndoError for a record that cannot be undone. */
export function describeUndo(record: LedgerRecord): string {
  assertUndoable(record);
  const { resource } = record;
  const lines = [
    `Undo ${record.actionId} (${record.problem}, ${record.outcome} ${record.finishedAt ?? record.startedAt})`,
    `on ${resource.type} ${resource.id} in ${resource.accountId}/${resource.region}:`,
  ];
  if (isUncertain(record)) {
    lines.push(
      "  This action did not finish: its change may or may not have happened. Undo puts the recorded before-state",
      "  back either way (rules that exist are skipped; bucket parts are rewritten as they were before).",
    );
  }
  const before = record.before;
  if (before.kind === "sg-rules") {
    lines.push(
      `  re-authorize ${before.rules.length} ingress rule${before.rules.length === 1 ? "" : "s"} on ${before.groupId} (skipping any that exist again):`,
    );
    for (const rule of before.rules) lines.push(`    + ${ruleText(rule)}`);
  } else {
    // assertUndoable made sure there is exactly one bucket change and that it is what the fix removed.
    const change = record.changes[0] as BucketChange;
    const parts = partsToRestore({ ...record, before });
    if (parts.acl) {
      lines.push(
        `  put back the ACL of ${before.bucket} exactly as it was (${before.acl.Grants.length} grants): the whole ACL is written back as it was before the fix.`,
      );
      if (change.kind === "acl-grants-removed") {
        lines.push(`  The ${plural(change.grants.length, "grant")} Remedy removed, which this re-adds:`);
        for (const grant of change.grants) lines.push(`    + ${changedGrantText(grant)}`);
      }
    }
    if (parts.policy) {
      lines.push(
        before.policy === null
          ? `  delete the bucket policy of ${before.bucket} (it had none)`
          : `  put back the bucket policy of ${before.bucket} exactly as it was (${statementCount(before.policy)}): the whole policy is written back as it was before the fix.`,
      );
      if (change.kind === "policy-statements-removed") {
        lines.push(`  The ${plural(change.statements.length, "statement")} Remedy removed, which this re-adds:`);
        for (const statement of change.statements) {
          for (const line of JSON.stringify(statement, null, 2).split("\n")) lines.push(`    + ${line}`);
        }
      }
    }
    if (parts.publicAccessBlock) {
      lines.push(
        before.publicAccessBlock === null
          ? `  remove the Block Public Access configuration of ${before.bucket} (it had none)`
          : `  set Block Public Access of ${before.bucket} back to ${blockText(before.publicAccessBlock)}`,
      );
      if (change.kind === "public-access-block-enabled") {
        const off = BLOCK_FLAGS.filter(
          (flag) => change.after[flag] === true && before.publicAccessBlock?.[flag] !== true,
        );
        lines.push(`  This turns Block Public Access off for: ${off.join(", ") || "none of its flags"}`);
      }
    }
    if (!parts.acl && !parts.policy && !parts.publicAccessBlock) lines.push("  nothing: the fix changed nothing");
  }
  lines.push("This re-opens what Remedy closed; the Config rule will report it again unless it is exempted.");
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Restoring

function permissionOf(rule: SgRuleState): IpPermission {
  const description = rule.Description ? { Description: rule.Description } : {};
  return {
    IpProtocol: rule.IpProtocol,
    ...(rule.FromPort !== undefined ? { FromPort: rule.FromPort } : {}),
    ...(rule.ToPort !== undefined ? { ToPort: rule.ToPort } : {}),
    ...(rule.CidrIpv4 !== undefined
      ? { IpRanges: [{ CidrIp: rule.CidrIpv4, ...description }] }
      : { Ipv6Ranges: [{ CidrIpv6: rule.CidrIpv6, ...description }] }),
  };
}

async function describeGroupRules(ec2: EC2Client, groupId: string): Promise<DescribedSecurityGroupRule[]> {
  const rules: DescribedSecurityGroupRule[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeSecurityGroupRulesCommand({
        Filters: [{ Name: "group-id", Values: [groupId] }],
        MaxResults: 1000,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    rules.push(...(page.SecurityGroupRules ?? []));
    token = page.NextToken || undefined;
  } while (token);
  return rules;
}

function entryKeyOf(rule: DescribedSecurityGroupRule): string | undefined {
  const [entry] = sgEntriesFromDescribedRules([{ ...rule, IsEgress: false }]);
  return entry ? sgRuleEntryKey(entry) : undefined;
}

async function restoreSg(
  ec2: EC2Client,
  before: SgRulesState,
  log: Log,
): Promise<{ steps: string[]; changed: number }> {
  const live = await describeGroupRules(ec2, before.groupId);
  const present = new Set(
    sgEntriesFromDescribedRules(live.filter((rule) => rule.IsEgress === false)).map(sgRuleEntryKey),
  );
  const steps: string[] = [];
  const missing: SgRuleState[] = [];
  for (const rule of before.rules) {
    if (present.has(entryKeyOf(rule) ?? "")) steps.push(`already present: ${ruleText(rule)}`);
    else missing.push(rule);
  }
  // Rules with the same tags go in one call (tags apply to every rule a call creates); usually one call, no tags.
  const byTags = new Map<string, SgRuleState[]>();
  for (const rule of missing) {
    const key = canonicalJson(rule.Tags ?? []);
    byTags.set(key, [...(byTags.get(key) ?? []), rule]);
  }
  for (const rules of byTags.values()) {
    const tags = rules[0]?.Tags ?? [];
    const tagSpecifications: TagSpecification[] = tags.length
      ? [{ ResourceType: "security-group-rule", Tags: tags.map((tag) => ({ Key: tag.Key, Value: tag.Value })) }]
      : [];
    const output = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: before.groupId,
        IpPermissions: rules.map(permissionOf),
        ...(tagSpecifications.length ? { TagSpecifications: tagSpecifications } : {}),
      }),
    );
    if (output.Return === false) {
      throw new UndoError(`AuthorizeSecurityGroupIngress on ${before.groupId} returned false`);
    }
    for (const rule of rules) steps.push(`re-authorized: ${ruleText(rule)}`);
    log.info("re-authorized ingress rules", { groupId: before.groupId, count: rules.length });
  }
  return { steps, changed: missing.length };
}

async function restoreBucket(
  s3: S3Client,
  before: S3BucketState,
  parts: BucketParts,
  expectedOwner: string,
): Promise<{ steps: string[]; changed: number }> {
  const target = { Bucket: before.bucket, ExpectedBucketOwner: expectedOwner };
  const steps: string[] = [];
  if (parts.acl) {
    await s3.send(new PutBucketAclCommand({ ...target, AccessControlPolicy: before.acl as AccessControlPolicy }));
    steps.push(`ACL put back (${before.acl.Grants.map(grantText).join(", ")})`);
  }
  if (parts.policy) {
    if (before.policy === null) {
      await s3.send(new DeleteBucketPolicyCommand(target));
      steps.push("bucket policy deleted (there was none)");
    } else {
      await s3.send(new PutBucketPolicyCommand({ ...target, Policy: before.policy }));
      steps.push(`bucket policy put back (${statementCount(before.policy)})`);
    }
  }
  if (parts.publicAccessBlock) {
    if (before.publicAccessBlock === null) {
      await s3.send(new DeletePublicAccessBlockCommand(target));
      steps.push("Block Public Access configuration removed (there was none)");
    } else {
      await s3.send(
        new PutPublicAccessBlockCommand({ ...target, PublicAccessBlockConfiguration: before.publicAccessBlock }),
      );
      steps.push(`Block Public Access set back to ${blockText(before.publicAccessBlock)}`);
    }
  }
  return { steps, changed: steps.length };
}

/**
 * Reads the action's record, checks it (checkUndoable: genuine and consistent) and restores its before-state.
 * Throws UndoError when it cannot be undone; nothing is changed then.
 */
export async function undoAction(actionId: string, deps: UndoDeps): Promise<UndoResult> {
  let original: LedgerRecord;
  try {
    original = await deps.ledger.read(actionId);
  } catch (error) {
    if (error instanceof LedgerRecordNotFoundError) throw new UndoError(error.message);
    throw error;
  }
  const { before } = await checkUndoable(original, deps);

  const now = deps.now();
  const id = (deps.newActionId ?? newActionId)(now);
  const log: Log = {
    debug: (message, ...extra) => deps.log.debug(message, { actionId: id, undoes: actionId }, ...extra),
    info: (message, ...extra) => deps.log.info(message, { actionId: id, undoes: actionId }, ...extra),
    warn: (message, ...extra) => deps.log.warn(message, { actionId: id, undoes: actionId }, ...extra),
    error: (message, ...extra) => deps.log.error(message, { actionId: id, undoes: actionId }, ...extra),
  };
  const base = {
    version: 1 as const,
    actionId: id,
    instructionId: original.instructionId,
    problem: original.problem,
    resource: original.resource,
    ruleId: original.ruleId,
    // The undo goes from the fix's after-state (unknown when the fix did not finish) back to its before-state.
    before: original.after,
    startedAt: now.toISOString(),
    undoes: actionId,
  };
  const planned: Change[] = [{ kind: "restored", summary: `undo of ${actionId}` }];
  await deps.ledger.write({ ...base, outcome: "pending", changes: planned, after: null });

  let result: { steps: string[]; changed: number };
  try {
    if (before.kind === "sg-rules") result = await restoreSg(deps.ec2, before, log);
    else
      result = await restoreBucket(
        deps.s3,
        before,
        partsToRestore({ ...original, before }),
        original.resource.accountId,
      );
  } catch (error) {
    log.error("undo failed", errorFields(error));
    try {
      await deps.ledger.write({
        ...base,
        outcome: "failed",
        reason: (error as Error).message,
        changes: planned,
        after: null,
        finishedAt: deps.now().toISOString(),
      });
    } catch (ledgerError) {
      log.error("could not record the failed undo", errorFields(ledgerError));
    }
    throw error;
  }

  const outcome = result.changed > 0 ? "fixed" : "skipped";
  const summary = `undo of ${actionId}: ${result.steps.join("; ") || "nothing to restore"}`;
  await deps.ledger.write({
    ...base,
    outcome,
    ...(outcome === "skipped" ? { reason: `already restored: ${summary}` } : {}),
    changes: outcome === "fixed" ? [{ kind: "restored", summary }] : [],
    after: before,
    finishedAt: deps.now().toISOString(),
  });
  log.info("undo finished", { outcome, steps: result.steps });
  return { actionId: id, undoes: actionId, outcome, steps: result.steps };
}
