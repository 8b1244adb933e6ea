// The runner every remediation function uses, for every problem. It owns the order that makes fixes safe and
// auditable: parse → check the claim against the deployment → claim the dispatch → re-read the live resource (the
// problem's readLive) → re-check exemptions against its live tags and the allowlist (the deployed one and the Slack
// one read now) → re-judge it with the deployed parameters → keep
// exactly the instructed entries that still violate → the problem's plan for those → re-check the pause switch →
// ledger `pending` (before-state) → apply the change → ledger final (`fixed`, with the after-state) → delete the
// queue message → report. A problem supplies only how to read, judge and plan (problems/fix.ts).
// The request and its instruction are claims: whoever can invoke the function or send to the queue controls them.
// Only the deployment (this function's environment) says where Remedy may act and how to judge; an instruction
// that disagrees with it is skipped with the reason reported, and nothing is read or changed.
// The message is deleted only after the change and its final record both succeeded. Errors are sorted by
// classifyAwsError: permanent ⇒ ledger `failed`, report failed, move the message to the DLQ at once; transient ⇒
// report failed (willRetry from the request), leave the message, which the queue brings back after the dispatch
// visibility timeout; gone while planning ⇒ skipped (nothing left to fix).
// Organisation mode (the deployment has organisation settings): the account's standing comes from the organisation
// (never from the claim) and is checked with the claim; the account's mode, problems and grace period are checked
// next (off, not enabled, not due ⇒ skipped, nothing read). Then the run assumes the account's fix role and makes the
// fix with clients in that account and region (member.ts). An account in notify mode is planned as usual and told
// what would change (a "would-fix" report): no pause check, no ledger action, no change.

import { DeleteMessageCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { deadLetterInput, truncateReason } from "../../contract/dead-letter.ts";
import { parseRemediationRequest, type RemediationRequest, willRetry } from "../../contract/dispatch.ts";
import { type Instruction, matchedEntryKey, serializeInstruction } from "../../contract/instruction.ts";
import { type Ledger, type LedgerRecord, newActionId, type ResourceState } from "../../contract/ledger.ts";
import type { Change, ReportBody, Reporter } from "../../contract/report.ts";
import {
  activeUndoExemption,
  describeUndoExemption,
  type UndoExemptionRecord,
  type UndoExemptionResource,
} from "../../contract/undo-exemption.ts";
import {
  type AllowlistEntry,
  describeExemption,
  type ExemptionProblem,
  findExemption,
  parseAllowlist,
} from "../../detection/exemptions.ts";
import { type ApproverSettings, parseApproverSettingsJson } from "../../platform/approvers.ts";
import {
  type AwsErrorKind,
  classifyAwsError,
  describeAwsError,
  errorCode,
  PermanentRemediationError,
  TransientRemediationError,
} from "../../platform/aws-errors.ts";
import {
  CLOCK_SKEW_MS,
  claimProblem,
  type Deployment,
  deployedRuleFor,
  readDeployment,
  resourceArn,
} from "../../platform/deployment.ts";
import { integerEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import { type AccountStanding, notifyOnly, standingProblem } from "../../platform/organization.ts";
import type { PauseReading } from "../../platform/pause.ts";
import type { PlannedChange, ProblemFix } from "../../problems/fix.ts";
import { problemSpec, resourceSpec } from "../../problems/index.ts";
import { assumeFixRole, fixedProblems, isMemberFixes, type OrganizationDeps, type RemediationFixes } from "./member.ts";

/** Same attribute names the coordinator uses when it dead-letters (functions/coordinator/queue-io.ts). */
export {
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
} from "../../contract/dead-letter.ts";

/** Settings every remediation function reads (once, at cold start: functions/remediation/handler.ts). */
export interface RemediationSettings {
  /** Where this function may act and how it judges: never taken from a message. */
  deployment: Deployment;
  /** The remediation queue: the only queue a request may name. */
  queueUrl: string;
  ledgerBucket: string;
  /** The KMS HMAC key every ledger record is signed with (GenerateMac), so undo can tell a genuine record. */
  ledgerMacKeyId: string;
  reportTopicArn: string;
  deadLetterQueueUrl: string;
  /** The pause switch, re-read before every change. */
  pauseParameter: string;
  /** A dispatch older than this may already have been dispatched again: it is left alone. */
  maxDispatchAgeSeconds: number;
  allowlist: AllowlistEntry[];
  /** Malformed allowlist entries: reported at cold start, exempting nothing. */
  allowlistProblems: ExemptionProblem[];
  /**
   * Who may press Fix now (REMEDY_SLACK_APPROVERS), for an instruction dispatched before its grace period ended;
   * undefined when unset or not valid (then only the grace period says when an instruction is due).
   */
  slackApprovers?: ApproverSettings;
  /** Why REMEDY_SLACK_APPROVERS was not used: reported at cold start. */
  slackApproversProblem?: string;
}

/**
 * REMEDY_ACCOUNT_ID, REMEDY_REGION, REMEDY_PARTITION?, REMEDY_RULES (platform/deployment.ts), REMEDY_QUEUE_URL,
 * REMEDY_LEDGER_BUCKET, REMEDY_REPORT_TOPIC_ARN, REMEDY_DLQ_URL, REMEDY_PAUSE_PARAMETER,
 * REMEDY_MAX_DISPATCH_AGE_SECONDS, REMEDY_ALLOWLIST?, REMEDY_LEDGER_MAC_KEY_ID (required: a remediation that cannot
 * sign its records would write records undo refuses), REMEDY_SLACK_APPROVERS? (Fix now pressed in Slack).
 */
export function readRemediationSettings(env: Record<string, string | undefined> = process.env): RemediationSettings {
  const allowlist = parseAllowlist(optionalEnv("REMEDY_ALLOWLIST", "[]", env));
  return {
    deployment: readDeployment(env),
    queueUrl: requiredEnv("REMEDY_QUEUE_URL", env),
    ledgerBucket: requiredEnv("REMEDY_LEDGER_BUCKET", env),
    reportTopicArn: requiredEnv("REMEDY_REPORT_TOPIC_ARN", env),
    deadLetterQueueUrl: requiredEnv("REMEDY_DLQ_URL", env),
    pauseParameter: requiredEnv("REMEDY_PAUSE_PARAMETER", env),
    maxDispatchAgeSeconds: integerEnv("REMEDY_MAX_DISPATCH_AGE_SECONDS", 150, { min: 60, max: 3_600 }, env),
    allowlist: allowlist.entries,
    allowlistProblems: allowlist.errors,
    ledgerMacKeyId: requiredEnv("REMEDY_LEDGER_MAC_KEY_ID", env),
    ...slackApproversOf(optionalEnv("REMEDY_SLACK_APPROVERS", "", env)),
  };
}

/** REMEDY_SLACK_APPROVERS, for Fix now: not valid means no early fix (said at cold start), never a failed function. */
function slackApproversOf(text: string): Pick<RemediationSettings, "slackApprovers" | "slackApproversProblem"> {
  if (text.trim() === "") return {};
  try {
    return { slackApprovers: parseApproverSettingsJson(text, "REMEDY_SLACK_APPROVERS") };
  } catch (error) {
    return { slackApproversProblem: (error as Error).message };
  }
}

export function undoCommand(actionId: string): string {
  return `remedy undo ${actionId}`;
}

/** Whether the instruction is still in its own grace period or its account's (organisation mode). */
function inGracePeriod(instruction: Instruction, standing: AccountStanding | undefined, now: Date): boolean {
  if (Date.parse(instruction.notBefore) > now.getTime() + CLOCK_SKEW_MS) return true;
  if (!standing?.member) return false;
  return Date.parse(instruction.detectedAt) + standing.settings.gracePeriodMinutes * 60_000 > now.getTime();
}

/** What the runner decides after re-reading the live resource. */
type FixPlan = { outcome: "skipped"; reason: string } | ({ outcome: "fix" } & PlannedChange);

export interface RemediationDeps {
  deployment: Deployment;
  /** The remediation queue; a request naming any other queue is rejected. */
  queueUrl: string;
  sqs: SQSClient;
  ledger: Ledger;
  reporter: Reporter;
  deadLetterQueueUrl: string;
  /** The deployed exemptions, re-checked against the live resource's tags before anything is judged. */
  allowlist: readonly AllowlistEntry[];
  /**
   * Undo's temporary exemption of a resource (platform/undo-exemptions.ts undoExemptionReader): the entries an undo
   * restored are left as they are until it ends. Throwing means nothing is changed and the message is retried.
   */
  undoExemptions: (resource: UndoExemptionResource) => Promise<UndoExemptionRecord | undefined>;
  /**
   * The Slack part of the allowlist (platform/slack-allowlist-read.ts), checked after the deployed entries. Read on
   * every run, never cached: an exemption granted a minute ago must stop this fix. Throwing means nothing is changed
   * and the message is retried. Absent: the deployed allowlist alone (the handler always wires it).
   */
  slackAllowlist?: () => Promise<readonly AllowlistEntry[]>;
  /**
   * When an approver pressed Fix now in Slack on an instruction still in its grace period (functions/remediation/
   * fix-now.ts), which makes it due: read only for such an instruction. Throwing means nothing is changed and the
   * message is retried. Absent (no approvers deployed): the grace period alone says when it is due.
   */
  fixNowAt?: (instruction: Instruction) => Promise<number | undefined>;
  /** Reads the pause switch. Throwing, or "paused", means nothing is changed (fail closed). */
  readPause: () => Promise<PauseReading>;
  /** Requests dispatched longer ago than this are left alone (the coordinator may have dispatched them again). */
  maxDispatchAgeMs: number;
  now: () => Date;
  log: Log;
  metrics?: MetricSink;
  newActionId?: (now: Date) => string;
  /**
   * Organisation mode: the organisation's directory and STS. Without it a deployment with organisation settings
   * acts nowhere (every instruction is refused: its account was not checked).
   */
  organization?: OrganizationDeps;
}

export type RemediationResult =
  | { status: "rejected"; reason: string }
  /** Left alone, message untouched: paused (or the switch unreadable), or a dispatch too old to be current. */
  | { status: "held"; reason: string; actionId?: string }
  /** Another run already claimed this very dispatch (a duplicate delivery): this one did nothing. */
  | { status: "duplicate"; actionId: string }
  | { status: "fixed"; actionId: string; changes: Change[]; messageDeleted: boolean }
  /** Notify mode: planned and told, nothing changed, no ledger action. */
  | { status: "would-fix"; actionId: string; changes: Change[]; reason: string; messageDeleted: boolean }
  | { status: "skipped"; actionId: string; reason: string; messageDeleted: boolean }
  | {
      status: "failed";
      actionId: string;
      kind: Exclude<AwsErrorKind, "gone">;
      error: string;
      /** Permanent failures: whether the message reached the DLQ (else it stays and is retried/dead-lettered later). */
      deadLettered: boolean;
      /** Whether the change itself may have happened (failure after apply started). */
      changeAttempted: boolean;
    };

/** One dispatch = one queue message at one attempt; duplicates of the same invoke share it. */
export function dispatchClaimKey(request: Pick<RemediationRequest, "messageId" | "attempt">): string {
  return `${request.messageId}-${request.attempt}.json`;
}

/** A Log that adds `fields` to every line. */
export function withFields(log: Log, fields: Record<string, unknown>): Log {
  return {
    debug: (message, ...extra) => log.debug(message, fields, ...extra),
    info: (message, ...extra) => log.info(message, fields, ...extra),
    warn: (message, ...extra) => log.warn(message, fields, ...extra),
    error: (message, ...extra) => log.error(message, fields, ...extra),
  };
}

function resourceRef(instruction: Instruction) {
  const { type, id, arn, accountId, region } = instruction.resource;
  return { type, id, ...(arn ? { arn } : {}), accountId, region };
}

/** Why a request cannot be this deployment's current dispatch (wrong queue, stale, from the future), or undefined. */
function requestProblem(
  request: RemediationRequest,
  deps: RemediationDeps,
): { held: boolean; reason: string } | undefined {
  if (request.queueUrl !== deps.queueUrl) {
    return { held: false, reason: `request names queue ${request.queueUrl}, not this deployment's ${deps.queueUrl}` };
  }
  const age = deps.now().getTime() - Date.parse(request.dispatchedAt);
  if (age < -CLOCK_SKEW_MS) {
    return { held: false, reason: `request dispatchedAt ${request.dispatchedAt} is in the future` };
  }
  if (age > deps.maxDispatchAgeMs) {
    return {
      held: true,
      reason: `dispatched ${Math.round(age / 1000)} s ago (over ${deps.maxDispatchAgeMs / 1000} s): it may have been dispatched again since; left alone`,
    };
  }
  return undefined;
}

/**
 * Runs one remediation request. Never throws for AWS failures: the outcome is in the result, the ledger, the
 * report and the logs (the coordinator invokes asynchronously without Lambda retries; the queue does the retrying).
 */
export async function runRemediation(
  payload: unknown,
  deps: RemediationDeps,
  fixes: RemediationFixes,
): Promise<RemediationResult> {
  let request: RemediationRequest;
  try {
    request = parseRemediationRequest(payload);
  } catch (error) {
    // Without a valid request there is no receipt handle to delete or dead-letter with: the message (if any)
    // comes back to the coordinator, which counts the attempt and dead-letters it after maxAttempts.
    const reason = `invalid remediation request: ${(error as Error).message}`;
    deps.log.error(reason, { ...errorFields(error) });
    deps.metrics?.count("RejectedRequests");
    return { status: "rejected", reason };
  }
  const refused = requestProblem(request, deps);
  if (refused) {
    const fields = { instructionId: request.instruction.id, messageId: request.messageId, reason: refused.reason };
    deps.log.warn(refused.held ? "dispatch left alone" : "remediation request rejected", fields);
    deps.metrics?.count(refused.held ? "StaleDispatches" : "RejectedRequests");
    return refused.held ? { status: "held", reason: refused.reason } : { status: "rejected", reason: refused.reason };
  }
  const run = new Run(request, deps);
  return run.execute(fixes);
}

class Run {
  readonly instruction: Instruction;
  readonly actionId: string;
  readonly log: Log;
  readonly startedAt: string;

  constructor(
    readonly request: RemediationRequest,
    readonly deps: RemediationDeps,
  ) {
    this.instruction = request.instruction;
    const now = deps.now();
    this.actionId = (deps.newActionId ?? newActionId)(now);
    this.startedAt = now.toISOString();
    this.log = withFields(deps.log, {
      instructionId: this.instruction.id,
      actionId: this.actionId,
      messageId: request.messageId,
      attempt: request.attempt,
      problem: this.instruction.problem,
      resourceId: this.instruction.resource.id,
    });
  }

  async execute(fixes: RemediationFixes): Promise<RemediationResult> {
    const { instruction } = this;
    const handled = fixedProblems(fixes);
    if (!handled.includes(instruction.problem)) {
      return this.fail(
        new Error(`this function fixes ${handled.join(", ")}, not ${instruction.problem} (misrouted instruction)`),
        "permanent",
        null,
        false,
      );
    }

    // Organisation mode: who the account is comes from the organisation, never from the claim.
    let standing: AccountStanding | undefined;
    if (this.deps.deployment.organization && this.deps.organization) {
      try {
        standing = await this.deps.organization.directory.standing(instruction.resource.accountId);
      } catch (error) {
        this.log.error("could not read the organisation: nothing changed", errorFields(error));
        return this.fail(error, classifyAwsError(error) === "permanent" ? "permanent" : "transient", null, false);
      }
    }

    // The instruction is a claim: it must be this deployment's, from its rule with its parameters, and due.
    const now = this.deps.now();
    let refused = claimProblem(instruction, this.deps.deployment, now, standing);
    // The account's own settings: off, the problem not enabled for it, or its grace period not over.
    let held = refused ? undefined : standing && standingProblem(standing, instruction, now);
    // Still in its grace period: due all the same if an approver pressed Fix now on it (the coordinator's reason to
    // dispatch it early), read and re-checked here rather than taken from the request. Only when the grace period is
    // the one reason (as if pressed now it would go on): any other refusal stands without a read.
    const nowMs = now.getTime();
    const onlyTheGrace =
      (refused !== undefined || held !== undefined) &&
      this.deps.fixNowAt !== undefined &&
      inGracePeriod(instruction, standing, now) &&
      claimProblem(instruction, this.deps.deployment, now, standing, nowMs) === undefined &&
      !(standing && standingProblem(standing, instruction, now, nowMs));
    if (onlyTheGrace) {
      let pressedAt: number | undefined;
      try {
        pressedAt = await this.deps.fixNowAt!(instruction);
      } catch (error) {
        // Whatever the error: nothing is fixed early, and the message stays for the coordinator to decide again.
        this.log.error("could not read the Slack decisions: nothing changed, the message stays", errorFields(error));
        return this.fail(error, "transient", null, false);
      }
      if (pressedAt === undefined) {
        // No Fix now stands (withdrawn, or a Snooze pressed since the coordinator looked): left as it is, so the
        // coordinator hides it until due again rather than the instruction being dropped.
        const reason = `not due yet (${refused ?? held}) and no Fix now stands: left for the coordinator`;
        this.log.info("in its grace period without a Fix now: left alone", { reason });
        return { status: "held", reason, actionId: this.actionId };
      }
      refused = claimProblem(instruction, this.deps.deployment, now, standing, pressedAt);
      held = refused ? undefined : standing && standingProblem(standing, instruction, now, pressedAt);
      if (!refused && !held) {
        this.log.info("due before its grace period ended: Fix now pressed in Slack", {
          pressedAt: new Date(pressedAt).toISOString(),
        });
      }
    }
    if (refused) {
      this.deps.metrics?.count("RefusedInstructions");
      return this.skip(`refused: ${refused}`);
    }
    if (held) return this.skip(`not acted on: ${held}`);
    const deployed = deployedRuleFor(this.deps.deployment, instruction.problem)!;

    // 0. Claim this dispatch: a duplicate delivery of the same invoke must not plan and write a second time.
    let claimed: boolean;
    try {
      claimed = await this.deps.ledger.claim(dispatchClaimKey(this.request));
    } catch (error) {
      this.log.error("could not claim the dispatch: nothing changed, the message stays", errorFields(error));
      return this.fail(error, classifyAwsError(error) === "permanent" ? "permanent" : "transient", null, false);
    }
    if (!claimed) {
      this.log.warn("duplicate delivery of a dispatch another run already handles: nothing done");
      this.deps.metrics?.count("DuplicateDeliveries");
      return { status: "duplicate", actionId: this.actionId };
    }

    let fix: ProblemFix;
    try {
      fix = await this.fixFor(fixes, standing);
    } catch (error) {
      this.log.error("could not act in the instruction's account: nothing changed", errorFields(error));
      return this.fail(error, classifyAwsError(error) === "permanent" ? "permanent" : "transient", null, false);
    }

    // 1. Plan: re-read, re-judge, decide. Nothing has changed yet.
    let plan: FixPlan;
    try {
      plan = await this.plan(fix, deployed.parameters);
    } catch (error) {
      const kind = classifyAwsError(error);
      if (kind === "gone") {
        plan = { outcome: "skipped", reason: `nothing to do: the resource no longer exists (${errorCode(error)})` };
      } else {
        return this.fail(error, kind, null, false);
      }
    }

    if (plan.outcome === "skipped") return this.skip(plan.reason);
    if (standing && notifyOnly(standing)) return this.wouldFix(plan.changes, standing.accountId);

    // Paused since the dispatch (or the switch cannot be read): change nothing, leave the message for later.
    const pausedBecause = await this.pausedBecause();
    if (pausedBecause) {
      this.log.warn("not changing anything: auto-response is paused", { reason: pausedBecause });
      this.deps.metrics?.count("HeldWhilePaused");
      return { status: "held", reason: pausedBecause, actionId: this.actionId };
    }

    // 2. Pending record with the before-state, so a crash mid-change leaves what undo needs.
    const pending = this.record("pending", { before: plan.before, changes: plan.changes });
    try {
      await this.deps.ledger.write(pending);
    } catch (error) {
      this.log.error("could not write the pending ledger record: nothing changed", errorFields(error));
      return this.fail(error, classifyAwsError(error) === "permanent" ? "permanent" : "transient", plan.before, false);
    }

    // 3. The change.
    let after: ResourceState;
    try {
      after = await plan.apply();
    } catch (error) {
      const kind = classifyAwsError(error);
      // Gone between reading and changing: the next attempt re-reads and decides (most likely "nothing to do").
      return this.fail(error, kind === "gone" ? "transient" : kind, plan.before, true, { changes: plan.changes });
    }
    this.log.info("change made", { changes: plan.changes });

    // 4. Final record. Without it the message stays: the next attempt finds nothing to do and says so.
    const fixed = this.record("fixed", { before: plan.before, after, changes: plan.changes, finished: true });
    try {
      await this.deps.ledger.write(fixed);
    } catch (error) {
      this.log.error("changed, but the final ledger record failed: the pending record holds the before-state", {
        ...errorFields(error),
      });
      return this.fail(error, "transient", plan.before, true, { writeLedger: false });
    }
    this.deps.metrics?.count("Fixed");

    // 5. Only now: delete the message, then tell.
    const messageDeleted = await this.deleteMessage();
    await this.report({
      kind: "fixed",
      ...this.about(),
      actionId: this.actionId,
      changes: plan.changes,
      undoCommand: undoCommand(this.actionId),
    });
    return { status: "fixed", actionId: this.actionId, changes: plan.changes, messageDeleted };
  }

  /**
   * The fix this run uses: the function's own (single-account mode), or one made for this run in the instruction's
   * account and region with its fix role's credentials (organisation mode). Either mode refuses the other's fixes.
   */
  private async fixFor(fixes: RemediationFixes, standing: AccountStanding | undefined): Promise<ProblemFix> {
    const { instruction } = this;
    const organization = this.deps.organization;
    if (!standing || !organization) {
      if (isMemberFixes(fixes)) throw new PermanentRemediationError("per-account fixes outside organisation mode");
      return fixes.find((candidate) => candidate.problem === instruction.problem)!;
    }
    if (!isMemberFixes(fixes)) {
      throw new PermanentRemediationError("organisation mode needs fixes made in the member account");
    }
    const credentials = await assumeFixRole(organization.sts, this.deps.deployment, instruction, this.actionId);
    this.log.info("acting in a member account", { accountId: standing.accountId, region: instruction.resource.region });
    const { accountId, region } = instruction.resource;
    return fixes.create(instruction.problem, { accountId, region, credentials });
  }

  /** Notify mode: tell what would change, change nothing, and leave no ledger action (there is nothing to undo). */
  private async wouldFix(changes: Change[], accountId: string): Promise<RemediationResult> {
    const reason = `account ${accountId} is in notify mode: Remedy tells, and changes nothing`;
    this.log.info("would fix (notify mode): nothing changed", { changes });
    const messageDeleted = await this.deleteMessage();
    await this.report({
      kind: "would-fix",
      ...this.about(),
      actionId: this.actionId,
      changes,
      reason,
    });
    return { status: "would-fix", actionId: this.actionId, changes, reason, messageDeleted };
  }

  /**
   * Re-read the live resource, re-check exemptions against its live tags, re-judge it with the deployed parameters
   * and keep exactly the instructed entries that still violate; the problem plans the change for those alone.
   */
  private async plan(fix: ProblemFix, parameters: unknown): Promise<FixPlan> {
    const { instruction } = this;
    const { resource, problem } = instruction;
    const refusal = fix.refuse?.(resource);
    if (refusal) return { outcome: "skipped", reason: `refused: ${refusal}` };

    const live = await fix.readLive(resource, this.log);
    const label = resourceSpec(resource.type)?.label ?? resource.type;
    if (!live) return { outcome: "skipped", reason: `nothing to do: ${label} ${resource.id} no longer exists` };

    // The ARN in the resource's own account and region (a member account's in organisation mode).
    const arn = resourceArn(this.deps.deployment, resource.type, resource.id, resource);
    const check = findExemption(
      { resourceId: resource.id, ...(arn ? { arn } : {}), tags: live.tags, problem },
      await this.allowlist(),
      this.deps.now(),
    );
    for (const note of check.notes) this.log.warn("exemption not applied", { note });
    if (check.exemption) return { outcome: "skipped", reason: describeExemption(check.exemption) };

    // The deployed parameters (validated at cold start), never the instruction's.
    const wanted = new Set(instruction.matched.map(matchedEntryKey));
    const violating = fix
      .judge(live, parameters)
      .filter((finding) => finding.problem === problem && wanted.has(matchedEntryKey(finding.matched)));
    if (violating.length === 0) {
      const still = problemSpec(problem).violatingWord;
      return {
        outcome: "skipped",
        reason: `nothing to do: none of the ${wanted.size} instructed entries is still ${still} on ${resource.id}`,
      };
    }
    // Entries an undo put back stay as restored until its exemption ends (the exact entries, on this resource).
    const undone = await this.undoExemptionOf(resource);
    const now = this.deps.now();
    const targets = violating.filter(
      (finding) => !activeUndoExemption(undone, problem, matchedEntryKey(finding.matched), now),
    );
    if (targets.length === 0) {
      const exemption = activeUndoExemption(undone, problem, matchedEntryKey(violating[0]!.matched), now)!;
      return { outcome: "skipped", reason: describeUndoExemption(exemption) };
    }
    if (targets.length < violating.length) {
      this.log.info("some entries are left as an undo restored them: fixing only the rest", {
        undone: violating.length - targets.length,
        fixing: targets.length,
      });
    }
    if (violating.length < wanted.size) {
      this.log.info("some instructed entries no longer violate: fixing only the rest", {
        instructed: wanted.size,
        fixing: violating.length,
      });
    }
    const planned = fix.plan(targets, live, resource);
    return "skipped" in planned ? { outcome: "skipped", reason: planned.skipped } : { outcome: "fix", ...planned };
  }

  /** The deployed allowlist, then the Slack entries as they are now; unreadable is transient (nothing is changed). */
  private async allowlist(): Promise<readonly AllowlistEntry[]> {
    const { slackAllowlist, allowlist } = this.deps;
    if (!slackAllowlist) return allowlist;
    try {
      return [...allowlist, ...(await slackAllowlist())];
    } catch (error) {
      throw new TransientRemediationError(`could not read the Slack allowlist: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
  }

  /** The resource's undo exemption; unreadable is transient (nothing is changed, the message comes back). */
  private async undoExemptionOf(resource: Instruction["resource"]): Promise<UndoExemptionRecord | undefined> {
    const { accountId, region, type, id } = resource;
    try {
      return await this.deps.undoExemptions({ accountId, region, type, id });
    } catch (error) {
      throw new TransientRemediationError(`could not read the undo exemption of ${id}: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
  }

  /** Why the pause switch forbids a change now, or undefined when it is readable and says running. */
  private async pausedBecause(): Promise<string | undefined> {
    try {
      const pause = await this.deps.readPause();
      if (pause.failSafe) return pause.failSafe;
      return pause.paused ? `paused by ${pause.by}: ${pause.reason}` : undefined;
    } catch (error) {
      this.log.error("pause switch unreadable: acting as paused", errorFields(error));
      return `pause switch unreadable (${describeAwsError(error)}): treated as paused`;
    }
  }

  private about() {
    const { instruction } = this;
    return {
      instructionId: instruction.id,
      problem: instruction.problem,
      resource: resourceRef(instruction),
      ruleId: instruction.rule.id,
    };
  }

  private record(
    outcome: LedgerRecord["outcome"],
    fields: {
      before?: ResourceState | null;
      after?: ResourceState | null;
      changes?: Change[];
      reason?: string;
      finished?: boolean;
    },
  ): LedgerRecord {
    const { instruction } = this;
    return {
      version: 1,
      actionId: this.actionId,
      instructionId: instruction.id,
      problem: instruction.problem,
      resource: resourceRef(instruction),
      ruleId: instruction.rule.id,
      outcome,
      ...(fields.reason !== undefined ? { reason: fields.reason } : {}),
      changes: fields.changes ?? [],
      before: fields.before ?? null,
      after: fields.after ?? null,
      startedAt: this.startedAt,
      ...(fields.finished ? { finishedAt: this.deps.now().toISOString() } : {}),
      attempt: this.request.attempt,
    };
  }

  private async skip(reason: string): Promise<RemediationResult> {
    this.log.info("skipped", { reason });
    try {
      await this.deps.ledger.write(this.record("skipped", { reason, finished: true }));
    } catch (error) {
      this.log.error("could not record the skip in the ledger: message left for the next attempt", errorFields(error));
      return this.fail(error, classifyAwsError(error) === "permanent" ? "permanent" : "transient", null, false);
    }
    this.deps.metrics?.count("Skipped");
    const messageDeleted = await this.deleteMessage();
    await this.report({ kind: "skipped", ...this.about(), actionId: this.actionId, reason: truncateReason(reason) });
    return { status: "skipped", actionId: this.actionId, reason, messageDeleted };
  }

  private async fail(
    error: unknown,
    kind: "permanent" | "transient",
    before: ResourceState | null,
    changeAttempted: boolean,
    options: {
      writeLedger?: boolean;
      /**
       * The planned changes, when the change call was made: it may have happened (a timeout, a lost answer), so the
       * failed record keeps them and undo can compare them with the live state and put back whatever is gone.
       */
      changes?: Change[];
    } = {},
  ): Promise<RemediationResult> {
    const message = describeAwsError(error);
    const retry = kind === "transient" && willRetry(this.request);
    this.log.error(`remediation failed (${kind})`, { ...errorFields(error), kind, willRetry: retry, changeAttempted });
    this.deps.metrics?.count(kind === "permanent" ? "PermanentFailures" : "TransientFailures");

    if (options.writeLedger !== false) {
      // Nothing was changed unless the change call was made: then the record says what may have been.
      const changes = changeAttempted ? (options.changes ?? []) : [];
      try {
        await this.deps.ledger.write(
          this.record("failed", { before, changes, reason: `${kind}: ${truncateReason(message)}`, finished: true }),
        );
      } catch (ledgerError) {
        this.log.error("could not write the failed ledger record", errorFields(ledgerError));
      }
    }

    await this.report({
      kind: "failed",
      ...this.about(),
      error: truncateReason(message),
      willRetry: retry,
      attempt: this.request.attempt,
    });

    let deadLettered = false;
    if (kind === "permanent") deadLettered = await this.deadLetter(`remediation failed permanently: ${message}`);
    return { status: "failed", actionId: this.actionId, kind, error: message, deadLettered, changeAttempted };
  }

  /** Send to the DLQ first, delete only after the send succeeded. */
  private async deadLetter(reason: string): Promise<boolean> {
    const { request, deps } = this;
    try {
      await deps.sqs.send(
        new SendMessageCommand(
          deadLetterInput(deps.deadLetterQueueUrl, serializeInstruction(request.instruction), {
            reason,
            sourceMessageId: request.messageId,
            instructionId: request.instruction.id,
          }),
        ),
      );
    } catch (error) {
      this.log.error("could not dead-letter the message: it stays on the queue", errorFields(error));
      return false;
    }
    this.log.warn("dead-lettered", { reason });
    await this.deleteMessage();
    return true;
  }

  private async deleteMessage(): Promise<boolean> {
    const { request, deps } = this;
    try {
      await deps.sqs.send(
        new DeleteMessageCommand({ QueueUrl: request.queueUrl, ReceiptHandle: request.receiptHandle }),
      );
      return true;
    } catch (error) {
      // The outcome is ledgered; a redelivery re-reads the resource and finds nothing to do.
      this.log.error("could not delete the queue message: it will be delivered again", errorFields(error));
      return false;
    }
  }

  private async report(body: ReportBody): Promise<void> {
    try {
      await this.deps.reporter.report(body);
    } catch (error) {
      this.log.error(`could not publish the ${body.kind} report`, errorFields(error));
    }
  }
}
