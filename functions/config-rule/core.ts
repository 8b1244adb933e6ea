// The generic Config rule runtime: one evaluator for every Remedy rule (rules themselves are pure).
import {
  BatchGetResourceConfigCommand,
  type ConfigServiceClient,
  type Evaluation,
  GetResourceConfigHistoryCommand,
  ListDiscoveredResourcesCommand,
  PutEvaluationsCommand,
  type ResourceKey,
  type ResourceType,
} from "@aws-sdk/client-config-service";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { canonicalJson } from "../../contract/canonical-json.ts";
import { type Instruction, serializeInstruction } from "../../contract/instruction.ts";
import type { AccountFactsReader } from "../../detection/account-facts.ts";
import { InvalidConfigItemError, normalizeConfigItem } from "../../detection/config-item.ts";
import type { AllowlistEntry } from "../../detection/exemptions.ts";
import { cutAnnotation, judgeItem } from "../../detection/judge.ts";
import type { ConfigItem } from "../../detection/types.ts";
import { type DeployedRule, type Deployment, deployedRuleNamed } from "../../platform/deployment.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import { sendMessages } from "../../platform/queue.ts";
import { InvalidEventError, parseRuleEvent, type RuleEvent } from "./event.ts";

export const PUT_EVALUATIONS_LIMIT = 100;
const BATCH_GET_LIMIT = 100;

export interface RuleRuntimeDeps {
  configService: ConfigServiceClient;
  sqs: SQSClient;
  queueUrl: string;
  /** The deployed rules (exact Config rule names and parameters), account and region: never the event's. */
  deployment: Deployment;
  /** Reads what the rule needs to know about the account (rule.facts), once per invocation. */
  accountFacts: AccountFactsReader;
  allowlist: readonly AllowlistEntry[];
  gracePeriodMs: number;
  now: () => Date;
  log: Log;
  metrics: MetricSink;
}

export type RuleRunResult =
  | {
      outcome: "evaluated";
      messageType: string;
      evaluations: Evaluation[];
      queued: Instruction[];
      /** Instructions judged but not queued because Config ran the rule in test mode (TESTMODE result token). */
      notQueued: number;
      exemptFindings: number;
      skippedItems: number;
    }
  | { outcome: "rejected"; reason: string };

/** An item-level problem inside a scheduled run: that item is skipped and reported, the others go on. */
interface Judged {
  evaluation: Evaluation;
  instructions: Instruction[];
  exemptFindings: number;
}

export async function runConfigRule(event: unknown, deps: RuleRuntimeDeps): Promise<RuleRunResult> {
  let parsed: RuleEvent;
  let deployed: DeployedRule;
  try {
    parsed = parseRuleEvent(event);
    // Exact names only: any Config rule could point at this function, and a name is all the event proves.
    const found = deployedRuleNamed(deps.deployment, parsed.configRuleName);
    if (!found) {
      throw new InvalidEventError(
        `config rule "${parsed.configRuleName}" is not one of this deployment's rules (${deps.deployment.rules.map((r) => r.configRuleName).join(", ")})`,
      );
    }
    deployed = found;
  } catch (error) {
    if (error instanceof InvalidEventError) return reject(error, deps);
    throw error;
  }
  const rule = deployed.rule;
  // Judged with the deployed parameters, whatever the event carries: someone who can edit the Config rule (or
  // invoke this function) must not be able to change what counts as a violation.
  const parameters = deployed.parameters;
  if (!sameParameters(deployed, parsed.parameters)) {
    deps.metrics.count("ParameterMismatches");
    deps.log.error("the Config rule's parameters differ from the deployment's: judging with the deployed ones", {
      configRuleName: parsed.configRuleName,
      eventParameters: parsed.parameters,
      deployedParameters: deployed.rawParameters,
    });
  }
  // Only for what is judged here, and only what the rule uses (e.g. the account's S3 Block Public Access).
  const facts = rule.facts?.length ? await deps.accountFacts(deps.deployment.accountId, rule.facts) : {};
  const foreign = (item: ConfigItem) =>
    item.accountId !== deps.deployment.accountId || item.region !== deps.deployment.region
      ? `configuration item of ${item.resourceId} belongs to ${item.accountId}/${item.region}, not this deployment's ${deps.deployment.accountId}/${deps.deployment.region}`
      : undefined;

  // `message` is a reserved Powertools key (it would be overwritten, with a warning on every run): say `step`.
  const log = (step: string, extra: object = {}) => ({ ...extra, configRuleName: parsed.configRuleName, step });
  const judge = (item: ConfigItem): Judged => {
    const judgement = judgeItem(item, rule, parameters, {
      allowlist: deps.allowlist,
      now: deps.now(),
      gracePeriodMs: deps.gracePeriodMs,
      configRuleName: parsed.configRuleName,
      facts,
    });
    // An item is a claim too: one from another account or region is never judged into an instruction here.
    const elsewhere = foreign(item);
    if (elsewhere) throw new InvalidConfigItemError(elsewhere);
    for (const note of judgement.notes) deps.log.warn(note, { resourceId: item.resourceId });
    return {
      evaluation: {
        ComplianceResourceType: item.resourceType,
        ComplianceResourceId: item.resourceId,
        ComplianceType: judgement.compliance,
        Annotation: cutAnnotation(judgement.annotation),
        OrderingTimestamp: new Date(item.captureTime),
      },
      instructions: judgement.instructions,
      exemptFindings: judgement.findings.filter((finding) => finding.exemption).length,
    };
  };

  /**
   * The judgement of the full item of a violating resource (with its tags). If it cannot be read, the judgement
   * without tags stands, with a warning: still NON_COMPLIANT, and the remediation re-checks the live tags before any
   * change, so an exempt resource is never changed — it is only queued and then skipped.
   */
  const withTags = async (item: ConfigItem, withoutTags: Judged): Promise<Judged> => {
    try {
      return judge(
        await fetchOversizedItem(deps.configService, {
          resourceType: item.resourceType,
          resourceId: item.resourceId,
          configurationItemCaptureTime: item.captureTime,
        }),
      );
    } catch (error) {
      deps.log.warn(
        "could not read the violating resource's tags: judged without them (the remediation re-checks them live)",
        log("tags-unread", { resourceId: item.resourceId, ...errorFields(error) }),
      );
      return withoutTags;
    }
  };

  const judged: Judged[] = [];
  let skippedItems = 0;
  const invoking = parsed.invoking;
  try {
    switch (invoking.messageType) {
      case "ConfigurationItemChangeNotification": {
        const item = normalizeConfigItem(invoking.configurationItem);
        judged.push(parsed.eventLeftScope ? leftScope(item) : judge(item));
        break;
      }
      case "OversizedConfigurationItemChangeNotification": {
        const summary = invoking.configurationItemSummary;
        const deleted = /^ResourceDeleted/.test(summary.configurationItemStatus);
        if (parsed.eventLeftScope || deleted) {
          judged.push(
            notApplicableEvaluation(
              summary.resourceType,
              summary.resourceId,
              new Date(summary.configurationItemCaptureTime),
              parsed.eventLeftScope ? "resource left the rule's scope" : "resource deleted",
            ),
          );
        } else {
          judged.push(judge(await fetchOversizedItem(deps.configService, summary)));
        }
        break;
      }
      case "ScheduledNotification": {
        for await (const raw of listRecordedItems(deps.configService, rule.resourceTypes, deps.log)) {
          try {
            const item = normalizeConfigItem(raw);
            const first = judge(item);
            // BatchGetResourceConfig leaves tags out, and a tag can exempt: a violation whose item carries no tags of
            // its own (a security group's configuration lists them; a bucket's batch item does not) is judged again
            // on the full item (GetResourceConfigHistory, with its tags) before it is reported or queued.
            const recheck = first.evaluation.ComplianceType === "NON_COMPLIANT" && !carriesTags(raw);
            judged.push(recheck ? await withTags(item, first) : first);
          } catch (error) {
            if (!(error instanceof InvalidConfigItemError)) throw error;
            skippedItems++;
            deps.metrics.count("InvalidConfigurationItems");
            deps.log.error(
              "skipped a configuration item that cannot be judged",
              log("skipped", { resourceId: (raw as { resourceId?: string }).resourceId, ...errorFields(error) }),
            );
          }
        }
        break;
      }
    }
  } catch (error) {
    // A change notification carries one item: if it cannot be judged, nothing is reported or queued.
    if (error instanceof InvalidConfigItemError) return reject(new InvalidEventError(error.message), deps);
    throw error;
  }

  const evaluations = judged.map((entry) => entry.evaluation);
  await putEvaluations(deps, parsed, evaluations);

  // "TESTMODE" is the token Config's console uses for test invocations: nothing is recorded, nothing is queued.
  const testMode = parsed.resultToken === "TESTMODE";
  const judgedInstructions = judged.flatMap((entry) => entry.instructions);
  const instructions = testMode ? [] : judgedInstructions;
  const notQueued = judgedInstructions.length - instructions.length;
  if (notQueued > 0) {
    deps.log.info("test-mode run: fix instructions judged but not queued", {
      configRuleName: parsed.configRuleName,
      notQueued,
    });
  }
  if (instructions.length > 0) {
    await sendMessages(
      deps.sqs,
      deps.queueUrl,
      instructions.map((instruction) => ({ id: instruction.id, body: serializeInstruction(instruction) })),
    );
    for (const instruction of instructions) {
      deps.log.info("queued fix instruction", {
        instructionId: instruction.id,
        problem: instruction.problem,
        resourceId: instruction.resource.id,
        entries: instruction.matched.length,
        notBefore: instruction.notBefore,
      });
    }
  }

  const exemptFindings = judged.reduce((sum, entry) => sum + entry.exemptFindings, 0);
  deps.metrics.count("Evaluations", evaluations.length);
  deps.metrics.count(
    "NonCompliantResources",
    evaluations.filter((evaluation) => evaluation.ComplianceType === "NON_COMPLIANT").length,
  );
  deps.metrics.count("InstructionsQueued", instructions.length);
  deps.metrics.count("ExemptFindings", exemptFindings);
  deps.log.info(
    "rule run complete",
    log("complete", {
      messageType: invoking.messageType,
      evaluations: evaluations.length,
      queued: instructions.length,
      exemptFindings,
      skippedItems,
    }),
  );
  return {
    outcome: "evaluated",
    messageType: invoking.messageType,
    evaluations,
    queued: instructions,
    notQueued,
    exemptFindings,
    skippedItems,
  };
}

/** Whether the event's parameters mean the same as the deployed ones (after the rule's own parsing). */
function sameParameters(deployed: DeployedRule, raw: Record<string, unknown>): boolean {
  try {
    return canonicalJson(deployed.rule.parseParameters(raw)) === canonicalJson(deployed.parameters);
  } catch {
    return false;
  }
}

function reject(error: Error, deps: RuleRuntimeDeps): RuleRunResult {
  deps.metrics.count("InvalidEvents");
  deps.log.error("rejected Config rule event", errorFields(error));
  return { outcome: "rejected", reason: `${error.name}: ${error.message}` };
}

function notApplicableEvaluation(type: string, id: string, capturedAt: Date, why: string): Judged {
  return {
    evaluation: {
      ComplianceResourceType: type,
      ComplianceResourceId: id,
      ComplianceType: "NOT_APPLICABLE",
      Annotation: why,
      OrderingTimestamp: capturedAt,
    },
    instructions: [],
    exemptFindings: 0,
  };
}

function leftScope(item: ConfigItem): Judged {
  return notApplicableEvaluation(
    item.resourceType,
    item.resourceId,
    new Date(item.captureTime),
    "resource left the rule's scope",
  );
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

async function fetchOversizedItem(
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

/** Every recorded resource of the rule's types, paged, fetched in batches of 100. */
async function* listRecordedItems(
  configService: ConfigServiceClient,
  resourceTypes: readonly string[],
  log: Log,
): AsyncGenerator<unknown> {
  for (const resourceType of resourceTypes) {
    let nextToken: string | undefined;
    do {
      const page = await configService.send(
        new ListDiscoveredResourcesCommand({ resourceType: resourceType as ResourceType, nextToken }),
      );
      nextToken = page.nextToken;
      const keys: ResourceKey[] = (page.resourceIdentifiers ?? [])
        .filter((identifier) => identifier.resourceId)
        .map((identifier) => ({ resourceType: resourceType as ResourceType, resourceId: identifier.resourceId! }));
      for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
        yield* batchGet(configService, keys.slice(start, start + BATCH_GET_LIMIT), log);
      }
    } while (nextToken);
  }
}

/** BatchGetResourceConfig may leave keys unprocessed under load; ask again a few times, then say so. */
async function* batchGet(configService: ConfigServiceClient, keys: ResourceKey[], log: Log): AsyncGenerator<unknown> {
  let pending = keys;
  for (let attempt = 0; attempt < 4 && pending.length > 0; attempt++) {
    const output = await configService.send(new BatchGetResourceConfigCommand({ resourceKeys: pending }));
    yield* output.baseConfigurationItems ?? [];
    pending = output.unprocessedResourceKeys ?? [];
  }
  if (pending.length > 0) {
    log.error("Config left resources unprocessed; they will be judged on the next periodic run", {
      unprocessed: pending.map((key) => key.resourceId),
    });
  }
}

async function putEvaluations(deps: RuleRuntimeDeps, event: RuleEvent, evaluations: Evaluation[]): Promise<void> {
  const testMode = event.resultToken === "TESTMODE";
  for (let start = 0; start < evaluations.length; start += PUT_EVALUATIONS_LIMIT) {
    const chunk = evaluations.slice(start, start + PUT_EVALUATIONS_LIMIT);
    const output = await deps.configService.send(
      new PutEvaluationsCommand({ Evaluations: chunk, ResultToken: event.resultToken, TestMode: testMode }),
    );
    const failed = output.FailedEvaluations ?? [];
    if (failed.length > 0) {
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
}
