// Undoing a bucket fix. The live bucket is read first (ownership controls, ACL, policy, Block Public Access, each with
// the record's account as ExpectedBucketOwner, as every write is). What goes back depends on the record's one change:
// each S3 problem undoes its own surgical change (problems/s3-public-acl/undo.ts, problems/s3-public-policy/undo.ts);
// the block-public-access strategy's, shared, is undone here: the flags the fix turned on are turned off in the live
// configuration, every other flag staying as it is now (the configuration is removed when the bucket had none before
// the fix and every flag would be off). A record is consistent when its before-state is its own bucket's, its one
// change is for that bucket and is what a fix removes, and (when `fixed`) its after-state is the before-state with
// exactly that change (before − changes = after).
import {
  type AccessControlPolicy,
  DeletePublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { canonicalJson } from "../../contract/canonical-json.ts";
import type { S3BucketState } from "../../contract/ledger.ts";
import type { Change } from "../../contract/report.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS } from "../../detection/types.ts";
import { hasErrorCode } from "../../platform/aws-errors.ts";
import { s3PublicAclUndo } from "../s3-public-acl/undo.ts";
import { s3PublicPolicyUndo } from "../s3-public-policy/undo.ts";
import {
  changeKinds,
  inconsistent,
  type ResourcePlan,
  type ResourceUndo,
  type UndoableRecordOf,
  UndoError,
} from "../undo-kit.ts";
import { listText, plural } from "../words.ts";
import type { BucketPolicyDocument, PublicAccessBlock } from "./detect.ts";
import { readBucketState } from "./live.ts";
import { describePublicAccessBlock } from "./words.ts";

export type BucketRecord = UndoableRecordOf<"s3-bucket">;

/** The bucket as S3 answers undo's reads now. */
export interface BucketLive {
  kind: "s3-bucket";
  state: S3BucketState;
}

/** What an undo put back on the bucket (`remedy undo --json` reAdded): grants, statements, flags turned off. */
export type BucketReAdded =
  | { kind: "acl-grants"; bucket: string; grants: S3BucketState["acl"]["Grants"] }
  | { kind: "policy-statements"; bucket: string; statements: Record<string, unknown>[] }
  | { kind: "block-public-access-off"; bucket: string; flags: string[] };

/** One call that puts entries back on the bucket. */
export type BucketWrite =
  | { kind: "put-acl"; acl: S3BucketState["acl"] }
  | { kind: "put-policy"; policy: string }
  | { kind: "put-block"; block: PublicAccessBlock }
  | { kind: "delete-block" };

/** The bucket as the fix must have left it; `policy` is the exact text when unchanged, else the document. */
export interface ExpectedBucket {
  acl: S3BucketState["acl"];
  policy: string | null | { document: BucketPolicyDocument };
  publicAccessBlock: S3BucketState["publicAccessBlock"];
}

/** A change a bucket fix records (each names its bucket). */
type BucketChange = Extract<Change, { bucket: string }>;

/** Undoing one kind of change a bucket fix records: an S3 problem's surgical change, or the strategy's. */
export interface BucketChangeUndo<C extends BucketChange = BucketChange> {
  changeKind: C["kind"];
  /**
   * Throws UndoError (inconsistent) unless `change` is what a fix removes from the record's before-state; the part of
   * the bucket it changed, as the fix must have left it.
   */
  expected(record: BucketRecord, change: C): Partial<ExpectedBucket>;
  /** What goes back on the live bucket (its lines, steps, conflicts and writes). */
  plan(record: BucketRecord, change: C, live: S3BucketState): ResourcePlan<BucketWrite>;
}

type BlockEnabled = Extract<Change, { kind: "public-access-block-enabled" }>;

function blockTurnedOn(record: BucketRecord, change: BlockEnabled): PublicAccessBlock {
  if (canonicalJson(change.before) !== canonicalJson(record.before.publicAccessBlock)) {
    throw inconsistent(record, "its change's Block Public Access before-state is not the bucket's before-state");
  }
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) {
    if (change.before?.[flag] === true && change.after[flag] !== true) {
      throw inconsistent(record, `its change turned Block Public Access ${flag} off; a fix only turns flags on`);
    }
  }
  return change.after;
}

function planBlock(_record: BucketRecord, change: BlockEnabled, live: S3BucketState): ResourcePlan<BucketWrite> {
  const { bucket } = change;
  const current = live.publicAccessBlock;
  // Only the flags the fix turned on go off again; a flag on or off since stays as it is now.
  const turnedOn = BLOCK_PUBLIC_ACCESS_FLAGS.filter(
    (flag) => change.after[flag] === true && change.before?.[flag] !== true,
  );
  const off = turnedOn.filter((flag) => current?.[flag] === true);
  const already = turnedOn.filter((flag) => current?.[flag] !== true).map((flag) => `already off: ${flag}`);
  const block: PublicAccessBlock = { ...current };
  for (const flag of off) block[flag] = false;
  // No configuration before the fix, and none of its flags on after the undo: remove it, as it was.
  const remove =
    off.length > 0 && change.before === null && BLOCK_PUBLIC_ACCESS_FLAGS.every((flag) => block[flag] !== true);
  const lines: string[] = [];
  if (off.length === 0) {
    lines.push(`  nothing to turn off: every Block Public Access flag Remedy turned on is off on ${bucket} again`);
  } else if (remove) {
    lines.push(
      `  remove the Block Public Access configuration of ${bucket}: it had none before the fix, and with ${listText(off)} off again no flag is on`,
    );
  } else {
    lines.push(
      `  turn off in the live Block Public Access of ${bucket} the ${plural(off.length, "flag")} Remedy turned on: ${off.join(", ")}`,
      `  (every other flag stays as it is now), leaving ${describePublicAccessBlock(block)}`,
    );
  }
  lines.push(...already.map((line) => `  ${line}`));
  const write: BucketWrite[] =
    off.length === 0 ? [] : remove ? [{ kind: "delete-block" }] : [{ kind: "put-block", block }];
  return {
    lines,
    steps: [
      ...(remove
        ? [`Block Public Access configuration removed (there was none before the fix): ${off.join(", ")} off again`]
        : off.map((flag) => `turned off again: ${flag}`)),
      ...already,
    ],
    refused: [],
    writes: write,
    before: live,
    after: off.length === 0 ? live : { ...live, publicAccessBlock: remove ? null : block },
  };
}

const blockUndo: BucketChangeUndo<BlockEnabled> = {
  changeKind: "public-access-block-enabled",
  expected: (record, change) => ({ publicAccessBlock: blockTurnedOn(record, change) }),
  plan: planBlock,
};

/**
 * The undo of each change a bucket fix records: each S3 problem's surgical change, and the strategy's. Read when a
 * record is checked, never while modules load (whichever of these modules a program loads first).
 */
const changeUndos = (): readonly BucketChangeUndo[] => [s3PublicAclUndo, s3PublicPolicyUndo, blockUndo];

function changeUndoOf(change: Change | undefined): BucketChangeUndo | undefined {
  return changeUndos().find((candidate) => candidate.changeKind === change?.kind);
}

function isBucketChange(change: Change | undefined): change is BucketChange {
  return changeUndoOf(change) !== undefined;
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

function assertBucketAfter(record: BucketRecord, expected: ExpectedBucket): void {
  const { before, after } = record;
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

function assertS3Consistent(record: BucketRecord): void {
  const { before } = record;
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
    ...changeUndoOf(change)!.expected(record, change),
  };
  if (record.outcome === "fixed") assertBucketAfter(record, expected);
}

/** The statements of a policy's text (none when there is no policy, or it is not a JSON object with statements). */
function statementsOf(policy: string | null): Record<string, unknown>[] {
  if (policy === null) return [];
  try {
    const statement = (JSON.parse(policy) as { Statement?: unknown }).Statement;
    const list = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
    return list.filter(
      (entry): entry is Record<string, unknown> => typeof entry === "object" && entry !== null && !Array.isArray(entry),
    );
  } catch {
    return [];
  }
}

function bucketReAdded(before: S3BucketState, after: S3BucketState): BucketReAdded[] {
  const { bucket } = after;
  const added: BucketReAdded[] = [];
  const hadGrants = new Set(before.acl.Grants.map((grant) => canonicalJson(grant)));
  const grants = after.acl.Grants.filter((grant) => !hadGrants.has(canonicalJson(grant)));
  if (grants.length > 0) added.push({ kind: "acl-grants", bucket, grants });
  const hadStatements = new Set(statementsOf(before.policy).map((statement) => canonicalJson(statement)));
  const statements = statementsOf(after.policy).filter((statement) => !hadStatements.has(canonicalJson(statement)));
  if (statements.length > 0) added.push({ kind: "policy-statements", bucket, statements });
  const flags = BLOCK_PUBLIC_ACCESS_FLAGS.filter(
    (flag) => before.publicAccessBlock?.[flag] === true && after.publicAccessBlock?.[flag] !== true,
  );
  if (flags.length > 0) added.push({ kind: "block-public-access-off", bucket, flags: [...flags] });
  return added;
}

/** The undo of the s3-bucket before-state (problems/undo.ts loads it as this folder's `undo`). */
export const undo: ResourceUndo<"s3-bucket", BucketLive, BucketWrite, BucketReAdded> = {
  kind: "s3-bucket",
  what: "a bucket's state",
  permissions: {
    GetBucketOwnershipControlsCommand: "s3:GetBucketOwnershipControls",
    GetBucketAclCommand: "s3:GetBucketAcl",
    GetBucketPolicyCommand: "s3:GetBucketPolicy",
    GetPublicAccessBlockCommand: "s3:GetBucketPublicAccessBlock",
    PutBucketAclCommand: "s3:PutBucketAcl",
    PutBucketPolicyCommand: "s3:PutBucketPolicy",
    PutPublicAccessBlockCommand: "s3:PutBucketPublicAccessBlock",
    DeletePublicAccessBlockCommand: "s3:PutBucketPublicAccessBlock",
  },
  impliedActions: [],

  async readLive(record, clients) {
    const { bucket } = record.before;
    try {
      return { kind: "s3-bucket", state: await readBucketState(clients.s3, bucket, record.resource.accountId) };
    } catch (error) {
      if (hasErrorCode(error, "NoSuchBucket")) {
        throw new UndoError(`${record.actionId} is not undone: bucket ${bucket} no longer exists (NoSuchBucket)`);
      }
      throw error;
    }
  },

  assertConsistent: assertS3Consistent,

  plan(record, live) {
    const { before } = record;
    if (live.kind !== "s3-bucket" || live.state.bucket !== before.bucket) {
      throw new Error(`planUndo: the live state given is not bucket ${before.bucket}'s`);
    }
    // assertConsistent made sure there is exactly one bucket change and that it is what the fix removed.
    const change = record.changes[0] as BucketChange;
    return changeUndoOf(change)!.plan(record, change, live.state);
  },

  async apply(write, clients, record, log) {
    const target = { Bucket: record.resource.id, ExpectedBucketOwner: record.resource.accountId };
    switch (write.kind) {
      case "put-acl":
        await clients.s3.send(
          new PutBucketAclCommand({ ...target, AccessControlPolicy: write.acl as AccessControlPolicy }),
        );
        log.info("re-added ACL grants", { bucket: target.Bucket });
        return;
      case "put-policy":
        await clients.s3.send(new PutBucketPolicyCommand({ ...target, Policy: write.policy }));
        log.info("re-added policy statements", { bucket: target.Bucket });
        return;
      case "put-block":
        await clients.s3.send(
          new PutPublicAccessBlockCommand({ ...target, PublicAccessBlockConfiguration: write.block }),
        );
        log.info("turned Block Public Access flags off again", { bucket: target.Bucket });
        return;
      case "delete-block":
        await clients.s3.send(new DeletePublicAccessBlockCommand(target));
        log.info("removed the Block Public Access configuration", { bucket: target.Bucket });
        return;
    }
  },

  reAdded: bucketReAdded,
};
