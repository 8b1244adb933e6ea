// The real-time path: CloudTrail management events and Security Hub findings (EventBridge → a queue with a short
// delivery delay → here) are hints, never verdicts. For each resource an event names, Remedy
//   1. checks the claim: the account and region are the deployment's (organisation mode: an active member account in
//      a region of the settings), the resource type one it judges;
//   2. ignores its own changes: a call made with one of its remediation roles, or a member fix or undo role;
//   3. reads the live resource with the same reader and normaliser as the remediation (problems/<folder>/observe.ts),
//      judges it with every deployed rule of its type (each with its parameters), applies exemptions (allowlist,
//      tags, and undo's temporary exemptions for the exact entries it restored), and queues the same deterministic
//      instructions the Config path would (detection/judge.ts judgeVerdict), so the two paths de-duplicate each other;
//   4. asks the coordinator to run now (an asynchronous invoke; it runs one at a time), only with auto-response on.
// An account-level change (the account's Block Public Access) names no resource: the problem's Config rule is
// re-evaluated instead. A malformed or unrelated event is logged and dropped; a transient failure retries only its
// own message (ReportBatchItemFailures), never the batch.

import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import type { Instruction } from "../../contract/instruction.ts";
import { matchedEntryKey } from "../../contract/instruction.ts";
import { activeUndoExemption, describeUndoExemption, type UndoExemptionRecord } from "../../contract/undo-exemption.ts";
import type { AllowlistEntry } from "../../detection/exemptions.ts";
import { judgeVerdict } from "../../detection/judge.ts";
import type { Verdict } from "../../detection/types.ts";
import { classifyAwsError, describeAwsError } from "../../platform/aws-errors.ts";
import { type DeployedRule, type Deployment, resourceArn } from "../../platform/deployment.ts";
import { queueInstructions } from "../../platform/instruction-queue.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import { isMemberActionRole } from "../../platform/member-roles.ts";
import { resourceSpec } from "../../problems/index.ts";
import type { PlaceAccess, RealtimeAccess } from "./access.ts";
import { type Actor, readRealtimeEvent, type Sighting } from "./events.ts";

export interface RealtimeDeps {
  deployment: Deployment;
  access: RealtimeAccess;
  sqs: SQSClient;
  queueUrl: string;
  allowlist: readonly AllowlistEntry[];
  gracePeriodMs: number;
  /** Undo's temporary exemption record of a resource (platform/undo-exemptions.ts), or undefined. */
  undoExemptions(resource: {
    accountId: string;
    region: string;
    type: string;
    id: string;
  }): Promise<UndoExemptionRecord | undefined>;
  /** Remedy's remediation roles in this account: changes made with them are Remedy's own. */
  ownRoleArns: readonly string[];
  autoResponse: boolean;
  /** Asks the coordinator to run now (asynchronously). */
  runCoordinator(reason: { queued: number }): Promise<void>;
  now: () => Date;
  log: Log;
  metrics: MetricSink;
}

/** What became of one resource (or account) an event named. */
export type SightingOutcome =
  | { outcome: "queued"; instructions: Instruction[] }
  | { outcome: "nothing-to-fix"; reason: string }
  | { outcome: "ignored"; reason: string }
  | { outcome: "reevaluated"; configRuleNames: string[] };

export interface RealtimeResult extends SQSBatchResponse {
  /** Per message id: its sightings' outcomes, or why the message was dropped. */
  outcomes: Record<string, SightingOutcome[] | { dropped: string }>;
  /** Whether the coordinator was asked to run now. */
  coordinatorAsked: boolean;
}

/** Why a sighting's change is Remedy's own (never answered), or undefined. */
export function ownChange(actor: Actor | undefined, ownRoleArns: readonly string[]): string | undefined {
  const role = actor?.roleArn;
  if (role === undefined) return undefined;
  if (ownRoleArns.includes(role)) return `made by Remedy's own role ${role}`;
  if (isMemberActionRole(role)) return `made by Remedy's member role ${role}`;
  return undefined;
}

export async function runRealtime(event: SQSEvent, deps: RealtimeDeps): Promise<RealtimeResult> {
  const result: RealtimeResult = { batchItemFailures: [], outcomes: {}, coordinatorAsked: false };
  // One judgement per resource per batch: a burst of calls on one group reads it once.
  const judged = new Map<string, Promise<SightingOutcome>>();
  let queued = 0;
  for (const record of event.Records ?? []) {
    const messageId = record.messageId;
    const read = readRealtimeEvent(record.body ?? "");
    if ("dropped" in read) {
      deps.metrics.count("DroppedEvents");
      deps.log.warn("real-time event dropped", { messageId, reason: read.dropped, step: "dropped" });
      result.outcomes[messageId] = { dropped: read.dropped };
      continue;
    }
    const outcomes: SightingOutcome[] = [];
    try {
      for (const sighting of read.sightings) {
        const key = sightingKey(sighting);
        let outcome = judged.get(key);
        const first = outcome === undefined;
        if (outcome === undefined) {
          outcome = handleSighting(sighting, deps);
          judged.set(key, outcome);
        }
        const settled = await outcome;
        // A repeat of a resource already judged in this batch queues nothing more.
        if (first && settled.outcome === "queued") queued += settled.instructions.length;
        outcomes.push(first ? settled : { outcome: "ignored", reason: "already judged in this batch" });
      }
      result.outcomes[messageId] = outcomes;
    } catch (error) {
      // Transient (throttling, an outage, a queue send that failed): only this message is retried.
      deps.metrics.count("RetriedEvents");
      deps.log.warn("real-time event not handled: retried", { messageId, ...errorFields(error), step: "retry" });
      result.batchItemFailures.push({ itemIdentifier: messageId });
      for (const [key, promise] of judged) {
        // A failed judgement is not reused by a later message of the batch: it is tried again then.
        if (
          await promise.then(
            () => false,
            () => true,
          )
        )
          judged.delete(key);
      }
    }
  }
  deps.metrics.count("InstructionsQueued", queued);
  if (queued > 0) result.coordinatorAsked = await askCoordinator(deps, queued);
  return result;
}

function sightingKey(sighting: Sighting): string {
  return sighting.kind === "resource"
    ? `${sighting.accountId}/${sighting.region}/${sighting.resourceType}/${sighting.resourceId}`
    : `${sighting.accountId}/${sighting.region}/account/${sighting.ruleIds.join(",")}`;
}

/** With auto-response on, the coordinator runs now; a failure to ask only means the schedule's next minute. */
async function askCoordinator(deps: RealtimeDeps, queued: number): Promise<boolean> {
  if (!deps.autoResponse) {
    deps.log.info("auto-response is off: the instructions wait in the queue", { queued, step: "auto-response-off" });
    return false;
  }
  try {
    await deps.runCoordinator({ queued });
    deps.log.info("asked the coordinator to run now", { queued, step: "coordinator-asked" });
    return true;
  } catch (error) {
    deps.log.warn("could not ask the coordinator to run now: its schedule runs it within a minute", {
      queued,
      ...errorFields(error),
      step: "coordinator-not-asked",
    });
    return false;
  }
}

/**
 * One sighting, end to end. Resolves with what became of it; rejects only with what is worth retrying (transient
 * AWS errors, a queue send that failed), so everything else is decided once.
 */
async function handleSighting(sighting: Sighting, deps: RealtimeDeps): Promise<SightingOutcome> {
  const fields = sightingFields(sighting);
  const ignore = (reason: string, metric: string): SightingOutcome => {
    deps.metrics.count(metric);
    deps.log.info("real-time sighting ignored", { ...fields, reason, step: "ignored" });
    return { outcome: "ignored", reason };
  };
  const own = ownChange(sighting.actor, deps.ownRoleArns);
  if (own) return ignore(own, "OwnChanges");

  let access: PlaceAccess | { refused: string };
  try {
    access = await deps.access.open(sighting);
  } catch (error) {
    if (classifyAwsError(error) === "transient") throw error;
    return ignore(
      `cannot act in ${sighting.accountId}/${sighting.region}: ${describeAwsError(error)}`,
      "RefusedEvents",
    );
  }
  if ("refused" in access) return ignore(access.refused, "RefusedEvents");

  if (sighting.kind === "account") {
    try {
      const names = await access.reevaluate(sighting.ruleIds);
      deps.metrics.count("Reevaluations", names.length);
      deps.log.info("account-level change: Config rules re-evaluated", {
        ...fields,
        configRuleNames: names,
        step: "reevaluated",
      });
      return { outcome: "reevaluated", configRuleNames: names };
    } catch (error) {
      if (classifyAwsError(error) === "transient") throw error;
      return ignore(`could not re-evaluate the Config rules: ${describeAwsError(error)}`, "FailedReevaluations");
    }
  }
  return judgeResource(sighting, access, deps, fields, ignore);
}

async function judgeResource(
  sighting: Extract<Sighting, { kind: "resource" }>,
  access: PlaceAccess,
  deps: RealtimeDeps,
  fields: Record<string, unknown>,
  ignore: (reason: string, metric: string) => SightingOutcome,
): Promise<SightingOutcome> {
  const { resourceType: type, resourceId: id, accountId, region } = sighting;
  const spec = resourceSpec(type);
  // Every deployed rule that judges the type (a type may have several: each finds its own problems).
  const deployedRules = deps.deployment.rules.filter((entry) => entry.rule.resourceTypes.includes(type));
  const observer = access.observer(type);
  if (!spec || deployedRules.length === 0 || !observer) {
    return ignore(`${type} is not judged by this deployment`, "RefusedEvents");
  }

  const resource = { type, id, accountId, region };
  let verdicts: { deployed: DeployedRule; verdict: Verdict }[];
  let tags: Record<string, string>;
  try {
    const live = await observer.readLive(resource, deps.log);
    if (!live) return ignore(`${spec.label} ${id} no longer exists`, "GoneResources");
    tags = live.tags;
    verdicts = deployedRules.map((deployed) => ({
      deployed,
      verdict: observer.verdict(live, deployed.parameters, deployed.rule.id),
    }));
  } catch (error) {
    if (classifyAwsError(error) === "transient") throw error;
    if (classifyAwsError(error) === "gone") return ignore(`${spec.label} ${id} no longer exists`, "GoneResources");
    return ignore(`${spec.label} ${id} could not be read: ${describeAwsError(error)}`, "UnreadableResources");
  }

  const readAt = deps.now();
  const subject = {
    resourceType: type,
    resourceId: id,
    arn: resourceArn(deps.deployment, type, id, { accountId, region }),
    accountId,
    region,
    // The state was read now: what the instruction says it was captured as (Config's capture time on its path).
    captureTime: readAt.toISOString(),
    tags,
  };
  const judgedInstructions: Instruction[] = [];
  const reasons: { ruleId: string; reason: string; compliance: string; applies: boolean }[] = [];
  for (const { deployed, verdict } of verdicts) {
    const findings = await withoutUndone(verdict, resource, deps, fields, readAt);
    const judgement = judgeVerdict(
      subject,
      deployed.rule,
      deployed.parameters,
      { ...verdict, findings },
      {
        allowlist: deps.allowlist,
        now: readAt,
        gracePeriodMs: deps.gracePeriodMs,
        configRuleName: deployed.configRuleName,
      },
    );
    for (const note of judgement.notes) deps.log.warn(note, fields);
    judgedInstructions.push(...judgement.instructions);
    // Why this rule queues nothing: Remedy's judgement disagrees with the hint, or everything found is exempt.
    const reason = findings.length === 0 ? `Remedy's judgement: ${verdict.annotation}` : judgement.annotation;
    const applies = verdict.compliance !== "NOT_APPLICABLE";
    reasons.push({ ruleId: deployed.rule.id, reason, compliance: judgement.compliance, applies });
  }
  if (judgedInstructions.length === 0) {
    // The rules that judge this resource say why (a rule of the type that does not apply to it says nothing).
    const applying = reasons.filter((entry) => entry.applies);
    const shown = applying.length > 0 ? applying : reasons;
    const reason =
      shown.length === 1 ? shown[0]!.reason : shown.map((entry) => `${entry.ruleId}: ${entry.reason}`).join("; ");
    const compliance = shown.map((entry) => entry.compliance).join(", ");
    deps.metrics.count(sighting.source === "securityhub" ? "DisagreedFindings" : "NothingToFix");
    deps.log.info("nothing to fix", { ...fields, compliance, reason, step: "nothing-to-fix" });
    return { outcome: "nothing-to-fix", reason };
  }
  const instructions = access.admit ? access.admit(judgedInstructions) : judgedInstructions;
  if (instructions.length === 0) return ignore("the account's settings hold every instruction back", "HeldEvents");
  // A failed send throws (MessageSendError): the message is retried, and the same ids are queued then.
  await queueInstructions(deps, instructions, { ...fields, step: "queued" });
  return { outcome: "queued", instructions };
}

/** The verdict's findings less those undo left as restored (the exact entries, until the exemption ends). */
async function withoutUndone(
  verdict: Verdict,
  resource: { type: string; id: string; accountId: string; region: string },
  deps: RealtimeDeps,
  fields: Record<string, unknown>,
  now: Date,
): Promise<Verdict["findings"]> {
  if (verdict.findings.length === 0) return verdict.findings;
  const record = await deps.undoExemptions(resource);
  if (!record) return verdict.findings;
  return verdict.findings.filter((finding) => {
    const exemption = activeUndoExemption(record, finding.problem, matchedEntryKey(finding.matched), now);
    if (!exemption) return true;
    deps.metrics.count("UndoneEntries");
    deps.log.info("entry left as restored by undo", {
      ...fields,
      problem: finding.problem,
      reason: describeUndoExemption(exemption),
      step: "undone",
    });
    return false;
  });
}

function sightingFields(sighting: Sighting): Record<string, unknown> {
  return {
    source: sighting.source,
    eventRef: sighting.ref,
    trigger: sighting.trigger,
    accountId: sighting.accountId,
    region: sighting.region,
    ...(sighting.kind === "resource" ? { resourceId: sighting.resourceId, resourceType: sighting.resourceType } : {}),
  };
}
