// Undo: puts back the exact before-state a `fixed` ledger record holds, and records the undo as an action of its
// own (`undoes: <actionId>`); the original record is never rewritten.
// - Security groups: AuthorizeSecurityGroupIngress with one IpRange/Ipv6Range per revoked entry, description (and
//   rule tags) included, skipping entries that exist live again, so undoing twice does not fail.
// - Buckets: only the parts the fix changed go back — the ACL exactly as it was (PutBucketAcl), the policy text
//   exactly as it was (PutBucketPolicy, or DeleteBucketPolicy when there was none), the Block Public Access
//   configuration exactly as it was (PutPublicAccessBlock, or DeletePublicAccessBlock when there was none). Parts
//   the fix did not touch are left alone, so an undo never overwrites an unrelated later change (and never calls
//   PutBucketAcl on a bucket whose ACLs are disabled).
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  type EC2Client,
  type IpPermission,
  type TagSpecification,
} from "@aws-sdk/client-ec2";
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
  type DescribedSecurityGroupRule,
  sgEntriesFromDescribedRules,
  sgRuleEntryKey,
} from "../rules/sg-open-ingress.ts";
import { canonicalJson } from "./canonical-json.ts";
import {
  type Ledger,
  type LedgerRecord,
  LedgerRecordNotFoundError,
  newActionId,
  type ResourceState,
  type S3BucketState,
  type SgRuleState,
  type SgRulesState,
} from "./ledger.ts";
import { errorFields, type Log } from "./logging.ts";
import type { Change } from "./report.ts";

export interface UndoDeps {
  ec2: EC2Client;
  s3: S3Client;
  ledger: Ledger;
  now: () => Date;
  log: Log;
  newActionId?: (now: Date) => string;
}

/** An action that cannot be undone (not found, not a fix, an undo itself, unreadable before-state). */
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
// Checks and wording

/** Throws UndoError unless `record` is a fix that undo can restore. */
export function assertUndoable(record: LedgerRecord): asserts record is LedgerRecord & { before: ResourceState } {
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

function blockText(block: S3BucketState["publicAccessBlock"]): string {
  if (!block) return "none configured";
  return (["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"] as const)
    .map((key) => `${key}=${block[key] ?? false}`)
    .join(", ");
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
    const parts = partsToRestore({ ...record, before });
    if (parts.acl) {
      lines.push(`  put back the ACL of ${before.bucket} exactly as it was (${before.acl.Grants.length} grants):`);
      for (const grant of before.acl.Grants) lines.push(`    ${grantText(grant)}`);
    }
    if (parts.policy) {
      lines.push(
        before.policy === null
          ? `  delete the bucket policy of ${before.bucket} (it had none)`
          : `  put back the bucket policy of ${before.bucket} exactly as it was (${statementCount(before.policy)})`,
      );
    }
    if (parts.publicAccessBlock) {
      lines.push(
        before.publicAccessBlock === null
          ? `  remove the Block Public Access configuration of ${before.bucket} (it had none)`
          : `  set Block Public Access of ${before.bucket} back to ${blockText(before.publicAccessBlock)}`,
      );
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

/** Reads the action's record and restores its before-state. Throws UndoError when it cannot be undone. */
export async function undoAction(actionId: string, deps: UndoDeps): Promise<UndoResult> {
  let original: LedgerRecord;
  try {
    original = await deps.ledger.read(actionId);
  } catch (error) {
    if (error instanceof LedgerRecordNotFoundError) throw new UndoError(error.message);
    throw error;
  }
  assertUndoable(original);
  const before = original.before;

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
