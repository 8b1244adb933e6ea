// The generic Config rule runtime: one evaluator for every Remedy rule (rules themselves are pure). A change
// notification is judged here; a ScheduledNotification starts a periodic scan in pages (scan.ts).
import type { ConfigServiceClient, Evaluation } from "@aws-sdk/client-config-service";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { canonicalJson } from "../../contract/canonical-json.ts";
import type { Instruction } from "../../contract/instruction.ts";
import type { AccountFactsReader } from "../../detection/account-facts.ts";
import { InvalidConfigItemError, normalizeConfigItem } from "../../detection/config-item.ts";
import type { AllowlistEntry } from "../../detection/exemptions.ts";
import type { ConfigItem } from "../../detection/types.ts";
import { type DeployedRule, type Deployment, deployedRuleNamed } from "../../platform/deployment.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import { InvalidEventError, parseRuleEvent, type RuleEvent } from "./event.ts";
import {
  alreadyHeld,
  fetchFullItem,
  type Judged,
  judgeConfigItem,
  putEvaluations,
  queueInstructions,
} from "./judging.ts";
import { type ScanQueue, startScan } from "./scan.ts";

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
  /** Where a ScheduledNotification's scan starts (Remedy's scan queue). */
  scanQueue: ScanQueue;
}

export type RuleRunResult =
  | {
      outcome: "evaluated";
      messageType: string;
      evaluations: Evaluation[];
      /** Verdicts not sent because Config already held them exactly (same compliance and annotation). */
      unchanged: number;
      queued: Instruction[];
      /** Instructions judged but not queued because Config ran the rule in test mode (TESTMODE result token). */
      notQueued: number;
      exemptFindings: number;
    }
  | { outcome: "scan-started"; scanId: string }
  | { outcome: "rejected"; reason: string };

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
  // Judged with the deployed parameters, whatever the event carries (judgeConfigItem takes them from `deployed`): someone
  // who can edit the Config rule (or invoke this function) must not be able to change what counts as a violation.
  if (!sameParameters(deployed, parsed.parameters)) {
    deps.metrics.count("ParameterMismatches");
    deps.log.error("the Config rule's parameters differ from the deployment's: judging with the deployed ones", {
      configRuleName: parsed.configRuleName,
      eventParameters: parsed.parameters,
      deployedParameters: deployed.rawParameters,
    });
  }
  const invoking = parsed.invoking;
  if (invoking.messageType === "ScheduledNotification") {
    // Every resource of the rule's types, in pages, by as many invocations as it takes (scan.ts).
    return { outcome: "scan-started", scanId: await startScan(deps, parsed) };
  }
  // Only for what is judged here, and only what the rule uses (e.g. the account's S3 Block Public Access).
  const facts = rule.facts?.length ? await deps.accountFacts(deps.deployment.accountId, rule.facts) : {};
  const configRuleName = parsed.configRuleName;

  const judged: Judged[] = [];
  try {
    switch (invoking.messageType) {
      case "ConfigurationItemChangeNotification": {
        const item = normalizeConfigItem(invoking.configurationItem);
        judged.push(
          parsed.eventLeftScope ? leftScope(item) : judgeConfigItem(deps, deployed, configRuleName, facts, item),
        );
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
          const item = await fetchFullItem(deps.configService, summary);
          judged.push(judgeConfigItem(deps, deployed, configRuleName, facts, item));
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
  // "TESTMODE" is the token Config's console uses for test invocations: nothing is recorded, nothing is queued.
  const testMode = parsed.resultToken === "TESTMODE";
  // A change that leaves the verdict as Config holds it (most changes) is not re-sent: each evaluation sent is billed.
  // One evaluation (every change notification): awaited as is, the same call without Promise.all's extra turn.
  const unchanged = testMode
    ? []
    : evaluations.length === 1
      ? [await alreadyHeld(deps, configRuleName, evaluations[0]!)]
      : await Promise.all(evaluations.map((e) => alreadyHeld(deps, configRuleName, e)));
  const toSend: Evaluation[] = [];
  for (let index = 0; index < evaluations.length; index++) if (!unchanged[index]) toSend.push(evaluations[index]!);
  // Nothing to send, nothing to queue: neither call would do anything, so neither is awaited.
  if (toSend.length > 0) await putEvaluations(deps, parsed, toSend);
  if (toSend.length < evaluations.length) deps.metrics.count("UnchangedVerdicts", evaluations.length - toSend.length);

  const judgedInstructions: Instruction[] = [];
  for (const entry of judged) for (const instruction of entry.instructions) judgedInstructions.push(instruction);
  const instructions = testMode ? [] : judgedInstructions;
  const notQueued = judgedInstructions.length - instructions.length;
  if (notQueued > 0) {
    deps.log.info("test-mode run: fix instructions judged but not queued", {
      configRuleName: parsed.configRuleName,
      notQueued,
    });
  }
  if (instructions.length > 0) await queueInstructions(deps, instructions);

  let exemptFindings = 0;
  for (const entry of judged) exemptFindings += entry.exemptFindings;
  deps.metrics.count("Evaluations", toSend.length);
  let nonCompliant = 0;
  for (const evaluation of evaluations) if (evaluation.ComplianceType === "NON_COMPLIANT") nonCompliant++;
  deps.metrics.count("NonCompliantResources", nonCompliant);
  deps.metrics.count("InstructionsQueued", instructions.length);
  deps.metrics.count("ExemptFindings", exemptFindings);
  // `message` is a reserved Powertools key (it would be overwritten, with a warning on every run): say `step`.
  deps.log.info("rule run complete", {
    messageType: invoking.messageType,
    evaluations: evaluations.length,
    reported: toSend.length,
    queued: instructions.length,
    exemptFindings,
    configRuleName,
    step: "complete",
  });
  return {
    outcome: "evaluated",
    messageType: invoking.messageType,
    evaluations,
    unchanged: evaluations.length - toSend.length,
    queued: instructions,
    notQueued,
    exemptFindings,
  };
}

/** Whether the event's parameters mean the same as the deployed ones (after the rule's own parsing). */
/** The deployed parameters as canonical text, raw and parsed: worked out once per deployed rule, not per event. */
const deployedParameterTexts = new WeakMap<DeployedRule, { raw: string; parsed: string }>();

function sameParameters(deployed: DeployedRule, raw: Record<string, unknown>): boolean {
  let texts = deployedParameterTexts.get(deployed);
  if (!texts) {
    texts = { raw: canonicalJson(deployed.rawParameters), parsed: canonicalJson(deployed.parameters) };
    deployedParameterTexts.set(deployed, texts);
  }
  try {
    // Exactly the deployed text (what Config passes on): parsing it again would give the deployed parameters.
    if (canonicalJson(raw) === texts.raw) return true;
    return canonicalJson(deployed.rule.parseParameters(raw)) === texts.parsed;
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
