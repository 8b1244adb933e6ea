// The generic Config rule runtime: one evaluator for every Remedy rule (rules themselves are pure). A change
// notification is judged here; a ScheduledNotification starts a periodic scan in pages (scan.ts).
import type { ConfigServiceClient, Evaluation } from "@aws-sdk/client-config-service";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { canonicalJson } from "../../contract/canonical-json.ts";
import type { Instruction } from "../../contract/instruction.ts";
import type { AccountFactsReader } from "../../detection/account-facts.ts";
import { InvalidConfigItemError, normalizeConfigItem } from "../../detection/config-item.ts";
import type { AllowlistEntry } from "../../detection/exemptions.ts";
import type { AccountFacts, ConfigItem } from "../../detection/types.ts";
import { type DeployedRule, type Deployment, deployedRuleNamed } from "../../platform/deployment.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import { sendMessages } from "../../platform/queue.ts";
import { InvalidEventError, parseRuleEvent, type RuleEvent } from "./event.ts";
import {
  evaluationsPut,
  fetchFullItem,
  heldQuery,
  heldUnread,
  holds,
  instructionMessages,
  type Judged,
  judgeConfigItem,
  queuedLines,
  refusedEvaluations,
} from "./judging.ts";
import { type InstructionAdmission, type ScanQueue, startScan } from "./scan.ts";

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
  /** Organisation mode: the account's settings hold back what they do not enable (the verdict is still reported). */
  admitInstructions?: InstructionAdmission;
}

export type RuleRunResult =
  | {
      outcome: "evaluated";
      messageType: string;
      evaluations: Evaluation[];
      /** Verdicts not sent because Config already held them exactly (same compliance and annotation). */
      unchanged: number;
      queued: Instruction[];
      /**
       * Instructions judged but not queued because Config ran the rule in test mode (TESTMODE result token), or
       * (organisation mode) the account's settings held them back.
       */
      notQueued: number;
      exemptFindings: number;
    }
  | { outcome: "scan-started"; scanId: string }
  | { outcome: "rejected"; reason: string };

/** An event accepted for judging: parsed, and its Config rule one of the deployment's. */
interface Accepted {
  parsed: RuleEvent;
  deployed: DeployedRule;
}

type ChangeNotification = Exclude<RuleEvent["invoking"], { messageType: "ScheduledNotification" }>;

/** What a run reads from the account when the rule needs nothing of it: shared, never written to. */
const NO_FACTS: AccountFacts = Object.freeze({});

// The steps around each await are functions of their own: the async function keeps (and saves at every await) only
// what it holds across them, not every temporary of parsing, judging and reporting.
export async function runConfigRule(event: unknown, deps: RuleRuntimeDeps): Promise<RuleRunResult> {
  const accepted = accept(event, deps);
  if ("outcome" in accepted) return accepted;
  const { parsed, deployed } = accepted;
  const invoking = parsed.invoking;
  if (invoking.messageType === "ScheduledNotification") {
    // Every resource of the rule's types, in pages, by as many invocations as it takes (scan.ts).
    return { outcome: "scan-started", scanId: await startScan(deps, parsed) };
  }
  // Only for what is judged here, and only what the rule uses (e.g. the account's S3 Block Public Access).
  const needs = deployed.rule.facts;
  const facts = needs?.length ? await deps.accountFacts(deps.deployment.accountId, needs) : NO_FACTS;
  // Both kinds of change notification carry one item: one verdict, its instructions.
  const judged =
    invoking.messageType === "ConfigurationItemChangeNotification"
      ? judgeChange(deps, accepted, facts, invoking)
      : await judgeOversized(deps, accepted, facts, invoking);
  if ("outcome" in judged) return judged;

  const evaluation = judged.evaluation;
  // "TESTMODE" is the token Config's console uses for test invocations: nothing is recorded, nothing is queued.
  const testMode = parsed.resultToken === "TESTMODE";
  // A change that leaves the verdict as Config holds it (most changes) is not re-sent: each evaluation sent is billed.
  // alreadyHeld, putEvaluations and queueInstructions step by step: each call awaited here, not in a function of its own.
  let unchanged = false;
  if (!testMode) {
    try {
      unchanged = holds(await deps.configService.send(heldQuery(evaluation)), parsed.configRuleName, evaluation);
    } catch (error) {
      heldUnread(deps, parsed.configRuleName, evaluation, error);
    }
  }
  // Nothing to send, nothing to queue: neither call would do anything, so neither is awaited.
  if (!unchanged) refusedEvaluations(deps, parsed, await deps.configService.send(evaluationsPut(parsed, [evaluation])));
  const instructions = queueable(deps, parsed, judged, unchanged, testMode);
  if (instructions.length > 0) {
    await sendMessages(deps.sqs, deps.queueUrl, instructionMessages(instructions));
    queuedLines(deps, instructions);
  }
  return finish(deps, parsed, judged, unchanged, instructions);
}

/** The event parsed and its rule found, or rejected; a parameter mismatch is reported (and judged past). */
function accept(event: unknown, deps: RuleRuntimeDeps): Accepted | RuleRunResult {
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
  return { parsed, deployed };
}

/** A change notification's item judged (rejected when it cannot be: nothing is then reported or queued). */
function judgeChange(
  deps: RuleRuntimeDeps,
  { parsed, deployed }: Accepted,
  facts: AccountFacts,
  invoking: Extract<ChangeNotification, { messageType: "ConfigurationItemChangeNotification" }>,
): Judged | RuleRunResult {
  try {
    const item = normalizeConfigItem(invoking.configurationItem);
    return parsed.eventLeftScope
      ? leftScope(item)
      : judgeConfigItem(deps, deployed, parsed.configRuleName, facts, item);
  } catch (error) {
    // A change notification carries one item: if it cannot be judged, nothing is reported or queued.
    if (error instanceof InvalidConfigItemError) return reject(new InvalidEventError(error.message), deps);
    throw error;
  }
}

/** An oversized change notification's item, read in full from Config and judged (or rejected, as judgeChange). */
async function judgeOversized(
  deps: RuleRuntimeDeps,
  { parsed, deployed }: Accepted,
  facts: AccountFacts,
  invoking: Extract<ChangeNotification, { messageType: "OversizedConfigurationItemChangeNotification" }>,
): Promise<Judged | RuleRunResult> {
  try {
    const summary = invoking.configurationItemSummary;
    const deleted = /^ResourceDeleted/.test(summary.configurationItemStatus);
    if (parsed.eventLeftScope || deleted) {
      return notApplicableEvaluation(
        summary.resourceType,
        summary.resourceId,
        new Date(summary.configurationItemCaptureTime),
        parsed.eventLeftScope ? "resource left the rule's scope" : "resource deleted",
      );
    }
    const item = await fetchFullItem(deps.configService, summary);
    return judgeConfigItem(deps, deployed, parsed.configRuleName, facts, item);
  } catch (error) {
    if (error instanceof InvalidConfigItemError) return reject(new InvalidEventError(error.message), deps);
    throw error;
  }
}

/** What is queued of the judged instructions (none in test mode, which is said); the unchanged verdict counted. */
function queueable(
  deps: RuleRuntimeDeps,
  parsed: RuleEvent,
  judged: Judged,
  unchanged: boolean,
  testMode: boolean,
): Instruction[] {
  if (unchanged) deps.metrics.count("UnchangedVerdicts", 1);
  const judgedInstructions = judged.instructions;
  const instructions = testMode ? [] : judgedInstructions;
  const notQueued = judgedInstructions.length - instructions.length;
  if (notQueued > 0) {
    deps.log.info("test-mode run: fix instructions judged but not queued", {
      configRuleName: parsed.configRuleName,
      notQueued,
    });
  }
  const admit = deps.admitInstructions;
  return admit === undefined || instructions.length === 0 ? instructions : admit(instructions);
}

/** The run's metrics, its closing log line and its result. */
function finish(
  deps: RuleRuntimeDeps,
  parsed: RuleEvent,
  judged: Judged,
  unchanged: boolean,
  instructions: Instruction[],
): RuleRunResult {
  const evaluation = judged.evaluation;
  const reported = unchanged ? 0 : 1;
  const exemptFindings = judged.exemptFindings;
  const messageType = parsed.invoking.messageType;
  deps.metrics.count("Evaluations", reported);
  deps.metrics.count("NonCompliantResources", evaluation.ComplianceType === "NON_COMPLIANT" ? 1 : 0);
  deps.metrics.count("InstructionsQueued", instructions.length);
  deps.metrics.count("ExemptFindings", exemptFindings);
  // `message` is a reserved Powertools key (it would be overwritten, with a warning on every run): say `step`.
  deps.log.info("rule run complete", {
    messageType,
    evaluations: 1,
    reported,
    queued: instructions.length,
    exemptFindings,
    configRuleName: parsed.configRuleName,
    step: "complete",
  });
  return {
    outcome: "evaluated",
    messageType,
    evaluations: [evaluation],
    unchanged: 1 - reported,
    queued: instructions,
    notQueued: judged.instructions.length - instructions.length,
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
    // No keys (a rule without parameters, every event of one): canonicalJson(raw) is "{}", without writing it.
    if (texts.raw === "{}" && Object.keys(raw).length === 0 && !inheritedToJson()) return true;
    if (canonicalJson(raw) === texts.raw) return true;
    return canonicalJson(deployed.rule.parseParameters(raw)) === texts.parsed;
  } catch {
    return false;
  }
}

/** Whether plain objects inherit a toJSON (a polluted Object.prototype), which canonicalJson's text would call. */
function inheritedToJson(): boolean {
  return (Object.prototype as { toJSON?: unknown }).toJSON !== undefined;
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
