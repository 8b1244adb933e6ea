// Undoing a removal of public policy statements: the removed statements are appended to the live policy (every live
// statement, Version and Id kept; with no live policy, a policy of just those statements with the before-state's
// Version and Id). Refused for a statement whose Sid a different live statement holds (one Sid, one statement), and
// while BlockPublicPolicy is on. A record is consistent when its change removed Allow statements that its before
// policy held and that the rule finds public there, and (when `fixed`) its after policy is the before policy without
// them (deleted when none remained). (The bucket's undo, which this is part of: problems/s3-public/undo.ts.)
import type { S3BucketState } from "../../contract/ledger.ts";
import type { Change } from "../../contract/report.ts";
import type { AclGrant, PolicyStatement } from "../../detection/types.ts";
import {
  aclGrantsFromApi,
  type BucketPolicyDocument,
  type BucketState,
  judgeS3,
  parsePolicyDocument,
  policyStatementKey,
} from "../s3-public/detect.ts";
import type { BucketChangeUndo, BucketRecord, BucketWrite } from "../s3-public/undo.ts";
import { inconsistent, type ResourcePlan, UndoError } from "../undo-kit.ts";
import { listText, plural } from "../words.ts";
import { s3PublicPolicy } from "./spec.ts";
import { describeUndoneStatement } from "./words.ts";

type StatementsRemoved = Extract<Change, { kind: "policy-statements-removed" }>;

/** The before policy without the removed statements (null: none remain), once each is checked to be public there. */
function policyWithoutRemoved(record: BucketRecord, change: StatementsRemoved): BucketPolicyDocument | null {
  const { before } = record;
  if (record.problem !== s3PublicPolicy.id) {
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
    const name = describeUndoneStatement(statement, index);
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

function planPolicy(record: BucketRecord, change: StatementsRemoved, live: S3BucketState): ResourcePlan<BucketWrite> {
  const { before } = record;
  const { bucket } = before;
  let document: BucketPolicyDocument | null;
  try {
    document = parsePolicyDocument(live.policy, `the live policy of ${bucket}`);
  } catch (error) {
    throw new UndoError(`${record.actionId} is not undone: ${(error as Error).message}`);
  }
  const current = document?.Statement ?? [];
  const liveKeys = new Set(current.map(policyStatementKey));
  const liveSids = new Set(current.map((statement) => statement.Sid).filter((sid) => typeof sid === "string" && sid));
  const already: string[] = [];
  const refused: string[] = [];
  let added: { statement: PolicyStatement; name: string }[] = [];
  change.statements.forEach((statement, index) => {
    const name = describeUndoneStatement(statement, index);
    const sid = statement.Sid;
    if (liveKeys.has(policyStatementKey(statement))) already.push(`already present: ${name}`);
    else if (typeof sid === "string" && liveSids.has(sid)) {
      refused.push(
        `${name} is not re-added: the live policy of ${bucket} now holds a different statement with Sid ${sid}, and a policy cannot hold two statements with one Sid; that statement is left as it is.`,
      );
    } else added.push({ statement, name });
  });
  if (added.length > 0 && live.publicAccessBlock?.BlockPublicPolicy === true) {
    refused.push(
      `Block Public Access BlockPublicPolicy is on for ${bucket} now, so S3 would reject a policy with the ${plural(added.length, "public statement")} Remedy removed (${listText(added.map((entry) => entry.name))}); they are not re-added and its policy is left as it is (turn BlockPublicPolicy off first to re-open them).`,
    );
    added = [];
  }
  const statements = added.map((entry) => entry.statement);
  // assertConsistent made sure the before policy parses and held these statements.
  const previous = parsePolicyDocument(before.policy)!;
  const header = [
    previous.Version !== undefined ? `Version ${previous.Version}` : "",
    previous.Id !== undefined ? `Id ${previous.Id}` : "",
  ].filter(Boolean);
  const policy = JSON.stringify(
    document
      ? { ...document, Statement: [...current, ...statements] }
      : {
          ...(previous.Version !== undefined ? { Version: previous.Version } : {}),
          ...(previous.Id !== undefined ? { Id: previous.Id } : {}),
          Statement: statements,
        },
  );
  const lines: string[] = [];
  if (added.length > 0) {
    lines.push(
      document
        ? `  add to the live bucket policy of ${bucket} the ${plural(added.length, "statement")} Remedy removed (its ${plural(current.length, "statement")}${[document.Version, document.Id].some((value) => value !== undefined) ? ", Version and Id" : ""} stay as they are):`
        : `  create a bucket policy on ${bucket} (it has none now) of just the ${plural(added.length, "statement")} Remedy removed${header.length > 0 ? `, with the ${listText(header)} it had before the fix` : ""}:`,
    );
    for (const statement of statements) {
      for (const line of JSON.stringify(statement, null, 2).split("\n")) lines.push(`    + ${line}`);
    }
  } else if (refused.length === 0) {
    lines.push(`  nothing to re-add: every statement Remedy removed is in the live policy of ${bucket} again`);
  }
  lines.push(...already.map((line) => `  ${line}`), ...refused.map((sentence) => `  conflict: ${sentence}`));
  return {
    lines,
    steps: [
      ...added.map((entry) => `re-added ${entry.name} to the ${document ? "live" : "new"} bucket policy`),
      ...already,
      ...refused.map((sentence) => `conflict: ${sentence}`),
    ],
    refused,
    writes: added.length > 0 ? [{ kind: "put-policy", policy }] : [],
    before: live,
    after: added.length > 0 ? { ...live, policy } : live,
  };
}

export const s3PublicPolicyUndo: BucketChangeUndo<StatementsRemoved> = {
  changeKind: "policy-statements-removed",
  expected(record, change) {
    const document = policyWithoutRemoved(record, change);
    return { policy: document === null ? null : { document } };
  },
  plan: planPolicy,
};
