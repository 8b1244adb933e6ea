// Undo: re-adds exactly what a fix removed, compared with the live resource, and records the undo as an action of
// its own (`undoes: <actionId>`); the original record is never rewritten. Every change made since the fix stays.
// - Security groups: AuthorizeSecurityGroupIngress with one IpRange/Ipv6Range per revoked entry missing live,
//   description (and rule tags) included; every other live rule is left alone.
// - Buckets: the live bucket is read first (ownership controls, ACL, policy, Block Public Access, each with the
//   record's account as ExpectedBucketOwner). The removed grants are appended to the live ACL (its owner and every
//   live grant kept); the removed statements to the live policy (every live statement, Version and Id kept; with no
//   live policy, a policy of just those statements with the before-state's Version and Id); the Block Public Access
//   flags the fix turned on are turned off in the live configuration, every other flag staying as it is now (the
//   configuration is removed when the bucket had none before the fix and every flag would be off).
// An entry that is there again is skipped and said so ("already present: …"); when everything is, the undo is
// recorded as skipped ("already restored"). An entry that conflicts with the live state is not re-added, with one
// sentence saying why: grants while ACLs are disabled or BlockPublicAcls is on (S3 refuses public grants then), a
// statement whose Sid a different live statement holds (one Sid, one statement), statements while BlockPublicPolicy
// is on. When nothing can be re-added and something was refused, the undo is refused (UndoError), nothing changed.
// A fix that did not finish (pending, or failed after its change call) is undone the same way: only what is
// actually gone goes back.
// Nothing in a record is trusted before it is checked, and nothing is shown or asked before that: the record must
// carry a MAC from the ledger MAC key that verifies (KMS VerifyMac; only the remediation functions can sign, so
// whoever can write to the ledger bucket cannot forge one), and it must be consistent — its before-state is for
// its own resource, its changes are exactly what a remediation removes (open ingress rules, public grants and
// statements, Block Public Access flags turned on) and its after-state (when it has one) is its before-state minus
// those changes. planUndo (pure) decides against a live state read by readLiveState; describeUndo shows that plan.
import {
  AuthorizeSecurityGroupIngressCommand,
  type EC2Client,
  type IpPermission,
  type TagSpecification,
} from "@aws-sdk/client-ec2";
import { type KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import {
  type AccessControlPolicy,
  DeletePublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { PROBLEM_SPECS } from "../problems/index.ts";
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
import { type AclGrant, BLOCK_PUBLIC_ACCESS_FLAGS, type PolicyStatement, type SgRuleEntry } from "../rules/types.ts";
import { describeAwsError, hasErrorCode } from "./aws-errors.ts";
import { canonicalJson } from "./canonical-json.ts";
import { describePorts } from "./describe.ts";
import { PermanentError } from "./errors.ts";
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
import { readBucketState } from "./live-s3.ts";
import { describeGroupRules } from "./live-sg.ts";
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
  /** Who asks for the undo (the CLI: the caller's AWS identity), recorded in the undo's ledger record. */
  requestedBy?: string;
}

/** An action that cannot be undone (not found, not a fix, an undo itself, not genuine, inconsistent). */
export class UndoError extends PermanentError {
  override name = "UndoError";
}

export interface UndoResult {
  /** The undo's own ledger action. */
  actionId: string;
  undoes: string;
  /** "fixed": something was re-added; "skipped": everything the fix removed was there again. */
  outcome: "fixed" | "skipped";
  /** One line per entry: re-added, already present, or not re-added (and why). */
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

const STATE_OF: Record<ResourceState["kind"], { type: string; what: string }> = {
  "sg-rules": { type: "AWS::EC2::SecurityGroup", what: "security-group rules" },
  "s3-bucket": { type: "AWS::S3::Bucket", what: "a bucket's state" },
};

/** Each state kind: its resource type, what it is called, and the problems (from the registry) found on that type. */
const RESOURCE_OF: Record<ResourceState["kind"], { type: string; problems: readonly string[]; what: string }> = {
  "sg-rules": { ...STATE_OF["sg-rules"], problems: problemsOn(STATE_OF["sg-rules"].type) },
  "s3-bucket": { ...STATE_OF["s3-bucket"], problems: problemsOn(STATE_OF["s3-bucket"].type) },
};

function problemsOn(type: string): string[] {
  return PROBLEM_SPECS.filter((spec) => spec.resourceType === type).map((spec) => spec.id);
}

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
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) {
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
  const ports = describePorts({
    ipProtocol: rule.IpProtocol ?? "?",
    ...(rule.FromPort !== undefined ? { fromPort: rule.FromPort } : {}),
    ...(rule.ToPort !== undefined ? { toPort: rule.ToPort } : {}),
  });
  const description = rule.Description ? ` "${rule.Description}"` : "";
  return `${ports} from ${rule.CidrIpv4 ?? rule.CidrIpv6 ?? "?"}${description}`;
}

function changedGrantText(grant: ChangedGrant): string {
  const { grantee } = grant;
  const who = [grantee.uri, grantee.displayName, grantee.id, grantee.emailAddress].find(
    (value): value is string => typeof value === "string" && value !== "",
  );
  return `${who?.split("/").pop() ?? "?"} ${grant.permission}`;
}

function blockText(block: PublicAccessBlock): string {
  return BLOCK_PUBLIC_ACCESS_FLAGS.map((key) => `${key}=${block[key] ?? false}`).join(", ");
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function listText(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

// ---------------------------------------------------------------------------------------------------------------
// What goes back: decided from the record and the live state alone (pure)

/** What undo compares a record with: read just before it describes, and again just before it restores. */
export type LiveState =
  | { kind: "sg-rules"; groupId: string; rules: DescribedSecurityGroupRule[] }
  | { kind: "s3-bucket"; state: S3BucketState };

/** One call that puts entries back. */
type Write =
  | { kind: "authorize"; groupId: string; rules: SgRuleState[] }
  | { kind: "put-acl"; acl: S3BucketState["acl"] }
  | { kind: "put-policy"; policy: string }
  | { kind: "put-block"; block: PublicAccessBlock }
  | { kind: "delete-block" };

export interface UndoPlan {
  record: UndoableRecord;
  /** What describeUndo shows about the resource: what is re-added, what is there already, what is refused. */
  lines: string[];
  /** What undo reports once the writes succeeded, one line per entry. */
  steps: string[];
  /** Entries not re-added because they conflict with the live state, one sentence each ("conflict: …"). */
  refused: string[];
  /** The calls that put the missing entries back; none when nothing is re-added. */
  writes: Write[];
  /** The live state as read (the undo's before-state) and as the writes leave it (its after-state). */
  before: ResourceState;
  after: ResourceState;
}

/**
 * Decides what an undo re-adds to `live`: exactly the entries the record's change removed that are missing live,
 * added to the live state (everything else in it kept). Throws UndoError for a record that cannot be undone.
 */
export function planUndo(record: LedgerRecord, live: LiveState): UndoPlan {
  assertUndoable(record);
  const { before } = record;
  if (before.kind === "sg-rules") {
    if (live.kind !== "sg-rules" || live.groupId !== before.groupId) {
      throw new Error(`planUndo: the live state given is not security group ${before.groupId}'s`);
    }
    return planSg(record, before, live.rules);
  }
  if (live.kind !== "s3-bucket" || live.state.bucket !== before.bucket) {
    throw new Error(`planUndo: the live state given is not bucket ${before.bucket}'s`);
  }
  // assertUndoable made sure there is exactly one bucket change and that it is what the fix removed.
  const change = record.changes[0] as BucketChange;
  if (change.kind === "acl-grants-removed") return planAcl(record, before, change, live.state);
  if (change.kind === "policy-statements-removed") return planPolicy(record, before, change, live.state);
  return planBlock(record, change, live.state);
}

/** Throws UndoError when nothing can be re-added because of conflicts with the live state. */
export function assertRestorable(plan: UndoPlan): void {
  if (plan.writes.length === 0 && plan.refused.length > 0) {
    throw new UndoError(`${plan.record.actionId} is not undone: ${plan.refused.join(" ")}`);
  }
}

function entryKeyOf(rule: DescribedSecurityGroupRule): string | undefined {
  const [entry] = sgEntriesFromDescribedRules([{ ...rule, IsEgress: false }]);
  return entry ? sgRuleEntryKey(entry) : undefined;
}

function planSg(record: UndoableRecord, before: SgRulesState, live: DescribedSecurityGroupRule[]): UndoPlan {
  const { groupId } = before;
  const present = new Set(
    sgEntriesFromDescribedRules(live.filter((rule) => rule.IsEgress === false)).map(sgRuleEntryKey),
  );
  const missing = before.rules.filter((rule) => !present.has(entryKeyOf(rule) ?? ""));
  const there = before.rules.filter((rule) => present.has(entryKeyOf(rule) ?? ""));
  // Rules with the same tags go in one call (tags apply to every rule a call creates); usually one call, no tags.
  const byTags = new Map<string, SgRuleState[]>();
  for (const rule of missing) {
    const key = canonicalJson(rule.Tags ?? []);
    byTags.set(key, [...(byTags.get(key) ?? []), rule]);
  }
  const lines: string[] = [];
  if (missing.length > 0) {
    lines.push(
      `  re-authorize ${plural(missing.length, "ingress rule")} on ${groupId} (every other rule of the group stays as it is):`,
      ...missing.map((rule) => `    + ${ruleText(rule)}`),
    );
  } else {
    lines.push(`  nothing to re-authorize: every rule Remedy revoked is on ${groupId} again`);
  }
  const already = there.map((rule) => `already present: ${ruleText(rule)}`);
  lines.push(...already.map((line) => `  ${line}`));
  return {
    record,
    lines,
    steps: [...missing.map((rule) => `re-authorized: ${ruleText(rule)}`), ...already],
    refused: [],
    writes: [...byTags.values()].map((rules) => ({ kind: "authorize", groupId, rules })),
    // The rules concerned: absent before the undo, the re-authorized ones after it.
    before: { kind: "sg-rules", groupId, rules: [] },
    after: { kind: "sg-rules", groupId, rules: missing },
  };
}

/** The identity of a grant as S3 returns it, or undefined for one the rule cannot read (kept, never matched). */
function liveGrantKey(raw: S3BucketState["acl"]["Grants"][number]): string | undefined {
  try {
    const [grant] = aclGrantsFromApi([raw]);
    return grant ? aclGrantKey(grant) : undefined;
  } catch {
    return undefined;
  }
}

function planAcl(
  record: UndoableRecord,
  before: S3BucketState,
  change: Extract<Change, { kind: "acl-grants-removed" }>,
  live: S3BucketState,
): UndoPlan {
  const { bucket } = before;
  const liveKeys = new Set(live.acl.Grants.map(liveGrantKey).filter((key) => key !== undefined));
  const missing: { text: string; raw: S3BucketState["acl"]["Grants"][number] }[] = [];
  const already: string[] = [];
  for (const grant of change.grants) {
    const text = changedGrantText(grant);
    // assertUndoable made sure it is a public group grant that the before ACL holds: that one goes back as read.
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
    record,
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

function planPolicy(
  record: UndoableRecord,
  before: S3BucketState,
  change: Extract<Change, { kind: "policy-statements-removed" }>,
  live: S3BucketState,
): UndoPlan {
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
    const name = statementName(statement, index);
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
  // assertUndoable made sure the before policy parses and held these statements.
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
    record,
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

function planBlock(
  record: UndoableRecord,
  change: Extract<Change, { kind: "public-access-block-enabled" }>,
  live: S3BucketState,
): UndoPlan {
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
      `  (every other flag stays as it is now), leaving ${blockText(block)}`,
    );
  }
  lines.push(...already.map((line) => `  ${line}`));
  const write: Write[] = off.length === 0 ? [] : remove ? [{ kind: "delete-block" }] : [{ kind: "put-block", block }];
  return {
    record,
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

/** What `remedy undo` shows before asking "proceed?": exactly what the plan re-adds to the live resource. */
export function describeUndo(plan: UndoPlan): string {
  const { record } = plan;
  const { resource } = record;
  const lines = [
    `Undo ${record.actionId} (${record.problem}, ${record.outcome} ${record.finishedAt ?? record.startedAt})`,
    `on ${resource.type} ${resource.id} in ${resource.accountId}/${resource.region}:`,
  ];
  if (isUncertain(record)) {
    lines.push(
      "  This action did not finish: its change may or may not have happened. Undo compares what it would have",
      "  removed with the live state and re-adds only what is actually gone.",
    );
  }
  lines.push(...plan.lines);
  if (plan.writes.length > 0) {
    lines.push("This re-opens what Remedy closed; the Config rule will report it again unless it is exempted.");
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and restoring

/**
 * Reads what undo compares the record with: the group's rules, or the bucket's ACL, ownership controls, policy
 * and Block Public Access (with the record's account as ExpectedBucketOwner). Changes nothing.
 */
export async function readLiveState(record: UndoableRecord, clients: Pick<UndoDeps, "ec2" | "s3">): Promise<LiveState> {
  const { before } = record;
  if (before.kind === "sg-rules") {
    return { kind: "sg-rules", groupId: before.groupId, rules: await describeGroupRules(clients.ec2, before.groupId) };
  }
  try {
    return { kind: "s3-bucket", state: await readBucketState(clients.s3, before.bucket, record.resource.accountId) };
  } catch (error) {
    if (hasErrorCode(error, "NoSuchBucket")) {
      throw new UndoError(`${record.actionId} is not undone: bucket ${before.bucket} no longer exists (NoSuchBucket)`);
    }
    throw error;
  }
}

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

async function send(write: Write, deps: Pick<UndoDeps, "ec2" | "s3">, record: UndoableRecord, log: Log) {
  const target = { Bucket: record.resource.id, ExpectedBucketOwner: record.resource.accountId };
  switch (write.kind) {
    case "authorize": {
      const tags = write.rules[0]?.Tags ?? [];
      const tagSpecifications: TagSpecification[] = tags.length
        ? [{ ResourceType: "security-group-rule", Tags: tags.map((tag) => ({ Key: tag.Key, Value: tag.Value })) }]
        : [];
      const output = await deps.ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: write.groupId,
          IpPermissions: write.rules.map(permissionOf),
          ...(tagSpecifications.length ? { TagSpecifications: tagSpecifications } : {}),
        }),
      );
      if (output.Return === false) {
        throw new UndoError(`AuthorizeSecurityGroupIngress on ${write.groupId} returned false`);
      }
      log.info("re-authorized ingress rules", { groupId: write.groupId, count: write.rules.length });
      return;
    }
    case "put-acl":
      await deps.s3.send(new PutBucketAclCommand({ ...target, AccessControlPolicy: write.acl as AccessControlPolicy }));
      log.info("re-added ACL grants", { bucket: target.Bucket });
      return;
    case "put-policy":
      await deps.s3.send(new PutBucketPolicyCommand({ ...target, Policy: write.policy }));
      log.info("re-added policy statements", { bucket: target.Bucket });
      return;
    case "put-block":
      await deps.s3.send(new PutPublicAccessBlockCommand({ ...target, PublicAccessBlockConfiguration: write.block }));
      log.info("turned Block Public Access flags off again", { bucket: target.Bucket });
      return;
    case "delete-block":
      await deps.s3.send(new DeletePublicAccessBlockCommand(target));
      log.info("removed the Block Public Access configuration", { bucket: target.Bucket });
      return;
  }
}

/**
 * Reads the action's record, checks it (checkUndoable: genuine and consistent), reads the live resource and
 * re-adds what the fix removed that is missing there (planUndo). Throws UndoError when it cannot be undone;
 * nothing is changed then.
 */
export async function undoAction(actionId: string, deps: UndoDeps): Promise<UndoResult> {
  let original: LedgerRecord;
  try {
    original = await deps.ledger.read(actionId);
  } catch (error) {
    if (error instanceof LedgerRecordNotFoundError) throw new UndoError(error.message);
    throw error;
  }
  const checked = await checkUndoable(original, deps);
  const plan = planUndo(checked, await readLiveState(checked, deps));
  assertRestorable(plan);

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
    // The live state undo read and compared with.
    before: plan.before,
    startedAt: now.toISOString(),
    undoes: actionId,
    ...(deps.requestedBy ? { requestedBy: deps.requestedBy } : {}),
  };
  const planned: Change[] = [{ kind: "restored", summary: `undo of ${actionId}` }];
  await deps.ledger.write({ ...base, outcome: "pending", changes: planned, after: null });

  try {
    for (const write of plan.writes) await send(write, deps, checked, log);
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

  const outcome = plan.writes.length > 0 ? "fixed" : "skipped";
  const summary = `undo of ${actionId}: ${plan.steps.join("; ") || "nothing to restore"}`;
  await deps.ledger.write({
    ...base,
    outcome,
    ...(outcome === "skipped" ? { reason: `already restored: ${summary}` } : {}),
    changes: outcome === "fixed" ? [{ kind: "restored", summary }] : [],
    after: plan.after,
    finishedAt: deps.now().toISOString(),
  });
  log.info("undo finished", { outcome, steps: plan.steps });
  return { actionId: id, undoes: actionId, outcome, steps: plan.steps };
}
