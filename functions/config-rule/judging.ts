// Judging one configuration item for a deployed rule, the same way on every path (a change notification, an
// oversized one, a page of a periodic scan): deployed parameters, the account facts the rule uses, exemptions, and
// the item's own account and region checked against the deployment's.
import {
  BatchGetResourceConfigCommand,
  type ConfigServiceClient,
  type Evaluation,
  GetComplianceDetailsByResourceCommand,
  type GetComplianceDetailsByResourceCommandOutput,
  GetResourceConfigHistoryCommand,
  PutEvaluationsCommand,
  type PutEvaluationsCommandOutput,
  type ResourceKey,
  type ResourceType,
} from "@aws-sdk/client-config-service";
import type { Instruction } from "../../contract/instruction.ts";
import { InvalidConfigItemError, normalizeConfigItem } from "../../detection/config-item.ts";
import type { AllowlistEntry } from "../../detection/exemptions.ts";
import { cutAnnotation, judgeItem } from "../../detection/judge.ts";
import type { AccountFacts, ConfigItem } from "../../detection/types.ts";
import type { DeployedRule, Deployment } from "../../platform/deployment.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";

const BATCH_GET_LIMIT = 100;
const PUT_EVALUATIONS_LIMIT = 100;

export interface JudgingDeps {
  configService: ConfigServiceClient;
  deployment: Deployment;
  allowlist: readonly AllowlistEntry[];
  gracePeriodMs: number;
  now: () => Date;
  log: Log;
}

/** One item's verdict for Config and the fix instructions it gives. */
export interface Judged {
  evaluation: Evaluation;
  instructions: Instruction[];
  exemptFindings: number;
}

let lastText: string | undefined;
let lastTime = 0;

/** `new Date(text)`, its text read once for a run of items captured at the same time (a new Date every call). */
function dateOf(text: string): Date {
  if (text !== lastText) {
    lastTime = Date.parse(text);
    lastText = text;
  }
  return new Date(lastTime);
}

/** Judges one item with the deployed rule (throws InvalidConfigItemError for one of another account or region). */
export function judgeConfigItem(
  deps: JudgingDeps,
  deployed: DeployedRule,
  configRuleName: string,
  facts: AccountFacts,
  item: ConfigItem,
): Judged {
  const judgement = judgeItem(item, deployed.rule, deployed.parameters, {
    allowlist: deps.allowlist,
    now: deps.now(),
    gracePeriodMs: deps.gracePeriodMs,
    configRuleName,
    facts,
  });
  // An item is a claim too: one from another account or region is never judged into an instruction here.
  const { accountId, region } = deps.deployment;
  if (item.accountId !== accountId || item.region !== region) {
    throw new InvalidConfigItemError(
      `configuration item of ${item.resourceId} belongs to ${item.accountId}/${item.region}, not this deployment's ${accountId}/${region}`,
    );
  }
  const notes = judgement.notes;
  for (let index = 0; index < notes.length; index++) deps.log.warn(notes[index]!, { resourceId: item.resourceId });
  let exemptFindings = 0;
  for (const finding of judgement.findings) if (finding.exemption) exemptFindings++;
  return {
    evaluation: {
      ComplianceResourceType: item.resourceType,
      ComplianceResourceId: item.resourceId,
      ComplianceType: judgement.compliance,
      Annotation: cutAnnotation(judgement.annotation),
      OrderingTimestamp: dateOf(item.captureTime),
    },
    instructions: judgement.instructions,
    exemptFindings,
  };
}

/**
 * Judges an item of a batch read: BatchGetResourceConfig leaves tags out, and a tag can exempt, so a violation whose
 * item carries no tags of its own (a security group's configuration lists them; a bucket's batch item does not) is
 * judged again on the full item (GetResourceConfigHistory, with its tags) before it is reported or queued. If that
 * cannot be read, the judgement without tags stands, with a warning: still NON_COMPLIANT, and the remediation
 * re-checks the live tags before any change, so an exempt resource is never changed — it is only queued and skipped.
 */
export async function judgeBatchItem(
  deps: JudgingDeps,
  deployed: DeployedRule,
  configRuleName: string,
  facts: AccountFacts,
  raw: unknown,
): Promise<Judged> {
  const item = normalizeConfigItem(raw);
  const withoutTags = judgeConfigItem(deps, deployed, configRuleName, facts, item);
  if (withoutTags.evaluation.ComplianceType !== "NON_COMPLIANT" || carriesTags(raw)) return withoutTags;
  try {
    const full = await fetchFullItem(deps.configService, {
      resourceType: item.resourceType,
      resourceId: item.resourceId,
      configurationItemCaptureTime: item.captureTime,
    });
    return judgeConfigItem(deps, deployed, configRuleName, facts, full);
  } catch (error) {
    deps.log.warn(
      "could not read the violating resource's tags: judged without them (the remediation re-checks them live)",
      { configRuleName, step: "tags-unread", resourceId: item.resourceId, ...errorFields(error) },
    );
    return withoutTags;
  }
}

/** Whether a raw item says its tags itself: a `tags` map, or the `tags` list in its configuration. */
function carriesTags(raw: unknown): boolean {
  const item = raw as { tags?: unknown; configuration?: unknown };
  if (item?.tags !== undefined && item.tags !== null) return true;
  let configuration = item?.configuration;
  if (typeof configuration === "string") {
    try {
      configuration = JSON.parse(configuration);
    } catch {
      return false;
    }
  }
  return Array.isArray((configuration as { tags?: unknown } | null)?.tags);
}

/** The item as of a capture time, with its tags and relationships (GetResourceConfigHistory). */
export async function fetchFullItem(
  configService: ConfigServiceClient,
  summary: { resourceType: string; resourceId: string; configurationItemCaptureTime: string },
): Promise<ConfigItem> {
  const output = await configService.send(
    new GetResourceConfigHistoryCommand({
      resourceType: summary.resourceType as ResourceType,
      resourceId: summary.resourceId,
      laterTime: new Date(summary.configurationItemCaptureTime),
      limit: 1,
    }),
  );
  const [item] = output.configurationItems ?? [];
  if (!item) {
    throw new InvalidConfigItemError(
      `GetResourceConfigHistory returned no item for ${summary.resourceType} ${summary.resourceId}`,
    );
  }
  return normalizeConfigItem(item);
}

/**
 * The items of up to 100 keys (BatchGetResourceConfig). Config may leave keys unprocessed under load: asked again
 * a few times, then returned as `unprocessed` (they are judged on the next periodic run).
 */
export async function batchGetItems(
  configService: ConfigServiceClient,
  keys: readonly ResourceKey[],
): Promise<{ items: unknown[]; unprocessed: ResourceKey[] }> {
  if (keys.length > BATCH_GET_LIMIT) throw new RangeError(`at most ${BATCH_GET_LIMIT} keys per batch`);
  const items: unknown[] = [];
  let pending = [...keys];
  for (let attempt = 0; attempt < 4 && pending.length > 0; attempt++) {
    const output = await configService.send(new BatchGetResourceConfigCommand({ resourceKeys: pending }));
    items.push(...(output.baseConfigurationItems ?? []));
    pending = output.unprocessedResourceKeys ?? [];
  }
  return { items, unprocessed: pending };
}

/** PutEvaluations in chunks of 100 (its limit); what Config refuses is counted and logged, not retried. */
export async function putEvaluations(
  deps: { configService: ConfigServiceClient; log: Log; metrics: MetricSink },
  event: { resultToken: string; configRuleName: string },
  evaluations: readonly Evaluation[],
): Promise<void> {
  for (let start = 0; start < evaluations.length; start += PUT_EVALUATIONS_LIMIT) {
    // One chunk (every change notification): the list as given, no copy of it (the SDK only reads it).
    const chunk =
      start === 0 && evaluations.length <= PUT_EVALUATIONS_LIMIT
        ? (evaluations as Evaluation[])
        : evaluations.slice(start, start + PUT_EVALUATIONS_LIMIT);
    refusedEvaluations(deps, event, await deps.configService.send(evaluationsPut(event, chunk)));
  }
}

/** The PutEvaluations call for one chunk (at most 100) of an event's evaluations. */
export function evaluationsPut(event: { resultToken: string }, chunk: Evaluation[]): PutEvaluationsCommand {
  return new PutEvaluationsCommand({
    Evaluations: chunk,
    ResultToken: event.resultToken,
    TestMode: event.resultToken === "TESTMODE",
  });
}

/** What Config refused of a PutEvaluations call: counted and logged, not retried. */
export function refusedEvaluations(
  deps: { log: Log; metrics: MetricSink },
  event: { configRuleName: string },
  output: PutEvaluationsCommandOutput,
): void {
  const failed = output.FailedEvaluations;
  if (failed !== undefined && failed !== null && failed.length > 0) {
    deps.metrics.count("FailedEvaluations", failed.length);
    deps.log.error("Config did not accept some evaluations", {
      configRuleName: event.configRuleName,
      failed: failed.map((evaluation) => ({
        resourceId: evaluation.ComplianceResourceId,
        resourceType: evaluation.ComplianceResourceType,
        complianceType: evaluation.ComplianceType,
      })),
    });
  }
}

/**
 * Whether Config already holds exactly this verdict for the resource under the rule (same compliance and the same
 * annotation): then sending it again changes nothing but the bill. Any doubt (the read fails, a result is missing or
 * differs) means it is sent.
 */
export async function alreadyHeld(
  deps: { configService: ConfigServiceClient; log: Log },
  configRuleName: string,
  evaluation: Evaluation,
): Promise<boolean> {
  try {
    return holds(await deps.configService.send(heldQuery(evaluation)), configRuleName, evaluation);
  } catch (error) {
    return heldUnread(deps, configRuleName, evaluation, error);
  }
}

/** The read alreadyHeld makes: what Config holds for the evaluation's resource. */
export function heldQuery(evaluation: Evaluation): GetComplianceDetailsByResourceCommand {
  return new GetComplianceDetailsByResourceCommand({
    ResourceType: evaluation.ComplianceResourceType,
    ResourceId: evaluation.ComplianceResourceId,
  });
}

/** Whether that read's answer holds the verdict exactly (throws, as find's callback did, on a missing result). */
export function holds(
  output: GetComplianceDetailsByResourceCommandOutput | undefined,
  configRuleName: string,
  evaluation: Evaluation,
): boolean {
  const results = output?.EvaluationResults ?? [];
  let held: (typeof results)[number] | undefined;
  // find's first match, without a closure per verdict (a missing result throws here as it did in find's callback).
  for (let index = 0; index < results.length && held === undefined; index++) {
    const result = results[index] as (typeof results)[number];
    if (result.EvaluationResultIdentifier?.EvaluationResultQualifier?.ConfigRuleName === configRuleName) held = result;
  }
  return (
    held !== undefined &&
    held.ComplianceType === evaluation.ComplianceType &&
    (held.Annotation ?? "") === (evaluation.Annotation ?? "")
  );
}

/** alreadyHeld's answer when the read (or reading its answer) failed: logged, and the verdict is sent. */
export function heldUnread(deps: { log: Log }, configRuleName: string, evaluation: Evaluation, error: unknown): false {
  deps.log.warn("could not read what Config holds for the resource: the verdict is sent", {
    configRuleName,
    step: "held-unread",
    resourceId: evaluation.ComplianceResourceId,
    ...errorFields(error),
  });
  return false;
}

// Queueing instructions is shared with the real-time path (platform/instruction-queue.ts).
export { instructionMessages, queuedLines, queueInstructions } from "../../platform/instruction-queue.ts";
