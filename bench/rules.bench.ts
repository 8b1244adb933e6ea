// Rule evaluation per item versus JSON.parse of the same invoking events (target: evaluation ≤ 2× parse), and the
// whole Config rule handler per change notification (runConfigRule with in-memory Config and SQS clients that answer
// at once: parse and validate the event, normalise, judge, build the fix instructions, serialise them for SQS) versus
// the same floor (target: handler ≤ 3× parse), with each step's share.
// Run: npx tsx bench/rules.bench.ts [items]
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ConfigServiceClient } from "@aws-sdk/client-config-service";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { buildInstructions, type InstructionSource, serializeInstruction } from "../contract/instruction.ts";
import { normalizeConfigItem } from "../detection/config-item.ts";
import { parseAllowlist } from "../detection/exemptions.ts";
import { type AnyRule, type Judgement, judgeItem } from "../detection/judge.ts";
import { RULES } from "../detection/rules.ts";
import type { ConfigItem } from "../detection/types.ts";
import { type RuleRuntimeDeps, runConfigRule } from "../functions/config-rule/core.ts";
import { parseRuleEvent, type RuleEvent } from "../functions/config-rule/event.ts";
import { deploymentFrom } from "../platform/deployment.ts";
import { sendMessages } from "../platform/queue.ts";
import { bucketItem, changeEventFor, random, securityGroupItem } from "./generate.ts";

/** One step of the handler path, per item, measured on its own over every item. */
export interface HandlerStep {
  step: string;
  microsPerItem: number;
  /** microsPerItem / the JSON.parse floor. */
  ratio: number;
  /** Part of the whole handler's time per item (0..1). */
  share: number;
}

/** What the items are: how many of each type, how they were judged and what was queued for them. */
export interface BenchMix {
  securityGroups: number;
  buckets: number;
  compliant: number;
  nonCompliant: number;
  notApplicable: number;
  /** Fix instructions the handler queued, over every item. */
  instructions: number;
  /** Matched entries over every instruction. */
  matchedEntries: number;
  /** How many instructions carry 1, 2, 3, 4 or more matched entries (index 0: one entry, ... index 3: four or more). */
  entriesPerInstruction: [number, number, number, number];
  /** Findings an exemption (allowlist or tag) covered: judged, never queued. */
  exemptFindings: number;
}

export interface HandlerBenchResult {
  items: number;
  /** JSON.parse of the invoking events, measured in the same process as the handler. */
  handlerParseMicrosPerItem: number;
  handlerMicrosPerItem: number;
  /** handler / parse floor (target ≤ 3×). */
  handlerRatio: number;
  steps: HandlerStep[];
  mix: BenchMix;
}

export interface RulesBenchResult extends HandlerBenchResult {
  parseMicrosPerItem: number;
  evaluateMicrosPerItem: number;
  judgeMicrosPerItem: number;
  ratio: number;
  nonCompliant: number;
}

const ACCOUNT = "123456789012";
const NOW = new Date("2026-11-20T10:00:00Z");
const WARM_UP = 3_000;
/** Items per slice of the handler measurement (see handlerMain). */
const SLICE = 2_000;
const HANDLER_FLAG = "--handler-json";

function time(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

async function timeAsync(run: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/** The bench's items: even indexes security groups, odd ones buckets, each in the change notification Config sends. */
function benchEvents(count: number): Record<string, unknown>[] {
  const rand = random(42);
  return Array.from({ length: count }, (_, index) =>
    index % 2 === 0
      ? changeEventFor(securityGroupItem(index, rand), "remedy-sg-open-ingress")
      : changeEventFor(bucketItem(index, rand), "remedy-s3-public"),
  );
}

function benchAllowlist() {
  return parseAllowlist([
    { resource: "arn:aws:s3:::bucket-1*7", problems: ["*"], reason: "bench", owner: "bench", expires: "2099-01-01" },
  ]).entries;
}

export function main(count = 100_000): RulesBenchResult {
  const events = benchEvents(count);
  const invokingEvents = events.map((event) => event.invokingEvent as string);
  const rules: AnyRule[] = events.map(
    (event) => RULES.find((rule) => (event.configRuleName as string).endsWith(rule.id))!,
  );
  const parameters = rules.map((rule) => rule.parseParameters({}));
  const allowlist = benchAllowlist();
  const now = NOW;

  // Warm up every path so the JIT has compiled them before timing.
  const parsed = invokingEvents.map((text) => JSON.parse(text));
  const items = parsed.map((event) => event.configurationItem);
  for (let index = 0; index < 2_000; index++) {
    judgeItem(normalizeConfigItem(items[index]), rules[index]!, parameters[index], {
      allowlist,
      now,
      gracePeriodMs: 0,
    });
  }

  const parseMs = time(() => {
    for (const text of invokingEvents) JSON.parse(text);
  });
  let nonCompliant = 0;
  const evaluateMs = time(() => {
    for (let index = 0; index < count; index++) {
      const verdict = rules[index]!.evaluate(normalizeConfigItem(items[index]), parameters[index]);
      if (verdict.compliance === "NON_COMPLIANT") nonCompliant++;
    }
  });
  const judgeMs = time(() => {
    for (let index = 0; index < count; index++) {
      judgeItem(normalizeConfigItem(items[index]), rules[index]!, parameters[index], {
        allowlist,
        now,
        gracePeriodMs: 0,
      });
    }
  });
  const micros = (ms: number) => (ms * 1_000) / count;
  return {
    ...handlerInChild(count),
    items: count,
    parseMicrosPerItem: micros(parseMs),
    evaluateMicrosPerItem: micros(evaluateMs),
    judgeMicrosPerItem: micros(judgeMs),
    ratio: evaluateMs / parseMs,
    nonCompliant,
  };
}

/**
 * The handler is async (it awaits Config and SQS, even fake ones) and `main` is not: it is measured in a fresh process
 * of its own (same Node flags, so tsx too), which also keeps the two measurements from warming each other up.
 */
function handlerInChild(count: number): HandlerBenchResult {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), HANDLER_FLAG, String(count)],
    { encoding: "utf8", maxBuffer: 16 * 1024 * 1024, stdio: ["ignore", "pipe", "inherit"] },
  );
  if (child.status !== 0) throw new Error(`the handler bench exited with ${child.status ?? child.signal}`);
  return JSON.parse(child.stdout.trim().split("\n").at(-1)!) as HandlerBenchResult;
}

const nothing = () => {};
/** Config and SQS that answer at once, as if every call succeeded: the network is not part of what is measured. */
const fakeConfig = { send: async () => ({ FailedEvaluations: [] }) } as unknown as ConfigServiceClient;
const fakeSqs = { send: async () => ({ Failed: [] }) } as unknown as SQSClient;
const QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/remedy-remediation`;

/** The whole handler path per change notification, and each of its steps on its own, over the same items. */
export async function handlerMain(count = 100_000): Promise<HandlerBenchResult> {
  const events = benchEvents(count);
  const invokingEvents = events.map((event) => event.invokingEvent as string);
  const deployment = deploymentFrom({
    accountId: ACCOUNT,
    region: "us-east-1",
    rules: [
      { id: "sg-open-ingress", configRuleName: "remedy-sg-open-ingress", parameters: {} },
      { id: "s3-public", configRuleName: "remedy-s3-public", parameters: {} },
    ],
  });
  const allowlist = benchAllowlist();
  const deps: RuleRuntimeDeps = {
    configService: fakeConfig,
    sqs: fakeSqs,
    queueUrl: QUEUE_URL,
    deployment,
    accountFacts: async () => ({ s3PublicAccessBlock: null }),
    allowlist,
    gracePeriodMs: 0,
    // A clock as the handler's: a new Date per call.
    now: () => new Date(NOW.getTime()),
    // Logs and metrics go nowhere: what Powertools does with them is not measured.
    log: { debug: nothing, info: nothing, warn: nothing, error: nothing },
    metrics: { count: nothing },
    // Change notifications never start a scan.
    scanQueue: { send: async () => {} },
  };
  const ruleOf = new Map(deployment.rules.map((deployed) => [deployed.configRuleName, deployed]));
  const facts = { s3PublicAccessBlock: null };

  // The steps, as runConfigRule runs them for a change notification.
  const parse = (event: unknown) => parseRuleEvent(event);
  const normalise = (event: RuleEvent) =>
    normalizeConfigItem((event.invoking as { configurationItem: unknown }).configurationItem);
  const judge = (event: RuleEvent, item: ConfigItem): Judgement => {
    const deployed = ruleOf.get(event.configRuleName)!;
    return judgeItem(item, deployed.rule, deployed.parameters, {
      allowlist,
      now: NOW,
      gracePeriodMs: 0,
      configRuleName: event.configRuleName,
      facts,
    });
  };
  /** What judgeItem hands buildInstructions: the source (as it ends up in every instruction) and the findings. */
  const buildInput = (judgement: Judgement): [InstructionSource, Judgement["findings"]] | undefined => {
    const [first] = judgement.instructions;
    if (!first) return undefined;
    const { resource, rule, capturedAt, detectedAt, notBefore } = first;
    return [{ resource, rule, capturedAt, detectedAt, notBefore }, judgement.findings.filter((f) => !f.exemption)];
  };
  const send = (judgement: Judgement) =>
    sendMessages(
      fakeSqs,
      QUEUE_URL,
      judgement.instructions.map((instruction) => ({ id: instruction.id, body: serializeInstruction(instruction) })),
    );

  // Warm up every path so the JIT has compiled them before timing.
  for (let index = 0; index < WARM_UP; index++) {
    await runConfigRule(events[index], deps);
    const event = parse(events[index]);
    const judgement = judge(event, normalise(event));
    const input = buildInput(judgement);
    if (input) buildInstructions(...input);
    if (judgement.instructions.length > 0) await send(judgement);
  }
  for (let index = 0; index < WARM_UP; index++) JSON.parse(invokingEvents[index]!);

  const mix: BenchMix = {
    securityGroups: Math.ceil(count / 2),
    buckets: Math.floor(count / 2),
    compliant: 0,
    nonCompliant: 0,
    notApplicable: 0,
    instructions: 0,
    matchedEntries: 0,
    entriesPerInstruction: [0, 0, 0, 0],
    exemptFindings: 0,
  };
  const handle = async (from: number, to: number) => {
    for (let index = from; index < to; index++) {
      const result = await runConfigRule(events[index], deps);
      if (result.outcome !== "evaluated") throw new Error(`bench event not evaluated: ${JSON.stringify(result)}`);
      const compliance = result.evaluations[0]!.ComplianceType;
      if (compliance === "COMPLIANT") mix.compliant++;
      else if (compliance === "NON_COMPLIANT") mix.nonCompliant++;
      else mix.notApplicable++;
      mix.instructions += result.queued.length;
      mix.exemptFindings += result.exemptFindings;
      for (const instruction of result.queued) {
        mix.matchedEntries += instruction.matched.length;
        mix.entriesPerInstruction[Math.min(instruction.matched.length, 4) - 1]!++;
      }
    }
  };
  /** Each step on its own over a slice of the items, fed what the step before produced (ms per step). */
  const stepByStep = async (from: number, to: number): Promise<number[]> => {
    const slice = events.slice(from, to);
    let ruleEvents: RuleEvent[] = [];
    const parseStepMs = time(() => {
      ruleEvents = slice.map(parse);
    });
    let items: ConfigItem[] = [];
    const normaliseMs = time(() => {
      items = ruleEvents.map(normalise);
    });
    let judgements: Judgement[] = [];
    const judgeMs = time(() => {
      judgements = ruleEvents.map((event, index) => judge(event, items[index]!));
    });
    const inputs = judgements.map(buildInput).filter((input) => input !== undefined);
    const buildMs = time(() => {
      for (const input of inputs) buildInstructions(...input);
    });
    const queued = judgements.filter((judgement) => judgement.instructions.length > 0);
    const sendMs = await timeAsync(async () => {
      for (const judgement of queued) await send(judgement);
    });
    // judgeItem builds the instructions too: that part is the next step, measured on its own and taken out here.
    return [parseStepMs, normaliseMs, judgeMs - buildMs, buildMs, sendMs];
  };

  // Slice by slice, floor, handler and steps in turn (first one, then the other first), so that whatever else the
  // machine is doing weighs on all of them alike, and neither finds the slice's strings warm in the cache every time.
  let parseMs = 0;
  let handlerMs = 0;
  const stepMs = [0, 0, 0, 0, 0];
  for (let from = 0, slice = 0; from < count; from += SLICE, slice++) {
    const to = Math.min(count, from + SLICE);
    const floor = () => {
      parseMs += time(() => {
        for (let index = from; index < to; index++) JSON.parse(invokingEvents[index]!);
      });
    };
    if (slice % 2 === 0) floor();
    handlerMs += await timeAsync(() => handle(from, to));
    if (slice % 2 === 1) floor();
    (await stepByStep(from, to)).forEach((ms, index) => {
      stepMs[index]! += ms;
    });
  }
  const [parseStepMs, normaliseMs, judgeMs, buildMs, sendMs] = stepMs as [number, number, number, number, number];

  const micros = (ms: number) => (ms * 1_000) / count;
  const step = (name: string, ms: number): HandlerStep => ({
    step: name,
    microsPerItem: micros(ms),
    ratio: ms / parseMs,
    share: ms / handlerMs,
  });
  const stepsMs = parseStepMs + normaliseMs + judgeMs + buildMs + sendMs;
  return {
    items: count,
    handlerParseMicrosPerItem: micros(parseMs),
    handlerMicrosPerItem: micros(handlerMs),
    handlerRatio: handlerMs / parseMs,
    steps: [
      step("parse + validate the event (parseRuleEvent, its JSON.parse too)", parseStepMs),
      step("normalise the item (normalizeConfigItem)", normaliseMs),
      step("judge: rule, exemptions, annotation (judgeItem less its instructions)", judgeMs),
      step("fix instructions: ids, sizing, split (buildInstructions)", buildMs),
      step("serialise + batch for SQS (serializeInstruction, sendMessages)", sendMs),
      // What is left of the whole: core.ts and judging.ts themselves.
      step(
        "rest of runConfigRule: rule lookup, parameter check, evaluations, awaits",
        Math.max(0, handlerMs - stepsMs),
      ),
    ],
    mix,
  };
}

function percent(part: number, whole: number): string {
  return `${((part * 100) / whole).toFixed(1)}%`;
}

export function print(result: RulesBenchResult): void {
  const count = (n: number) => n.toLocaleString("en-US");
  console.log(`Rule evaluation, ${count(result.items)} configuration items (half security groups, half buckets)`);
  console.table({
    "JSON.parse of the invoking event": { "µs/item": result.parseMicrosPerItem.toFixed(2) },
    "evaluate (normalise + rule)": { "µs/item": result.evaluateMicrosPerItem.toFixed(2) },
    "judge (+ exemptions + fix instructions)": { "µs/item": result.judgeMicrosPerItem.toFixed(2) },
  });
  console.log(
    `evaluate / parse = ${result.ratio.toFixed(2)}× (target ≤ 2×: ${result.ratio <= 2 ? "met" : "NOT met"}); ${count(result.nonCompliant)} items non-compliant`,
  );

  const { mix } = result;
  const [one, two, three, more] = mix.entriesPerInstruction;
  console.log(
    "\nConfig rule handler: runConfigRule once per item, each a ConfigurationItemChangeNotification; Config and SQS " +
      "fakes answer at once, logs and metrics go nowhere.",
  );
  console.log(
    `Items (bench/generate.ts): ${count(mix.securityGroups)} security groups + ${count(mix.buckets)} buckets; ` +
      `${percent(mix.compliant, result.items)} compliant, ${percent(mix.nonCompliant, result.items)} non-compliant, ` +
      `${percent(mix.notApplicable, result.items)} not applicable; ${count(mix.instructions)} instructions queued ` +
      `with ${count(mix.matchedEntries)} matched entries (1 entry: ${count(one)}, 2: ${count(two)}, 3: ${count(three)}, ` +
      `4 or more: ${count(more)}); ${count(mix.exemptFindings)} findings exempt.`,
  );
  const rows: Record<string, { "µs/item": string; "× parse": string; share: string }> = {
    "JSON.parse of the invoking event (floor)": {
      "µs/item": result.handlerParseMicrosPerItem.toFixed(2),
      "× parse": "1.00",
      share: "",
    },
  };
  for (const step of result.steps) {
    rows[step.step] = {
      "µs/item": step.microsPerItem.toFixed(2),
      "× parse": step.ratio.toFixed(2),
      share: percent(step.share, 1),
    };
  }
  rows["whole handler"] = {
    "µs/item": result.handlerMicrosPerItem.toFixed(2),
    "× parse": result.handlerRatio.toFixed(2),
    share: "100.0%",
  };
  console.table(rows);
  console.log(
    `handler / parse = ${result.handlerRatio.toFixed(2)}× (target ≤ 3×: ${result.handlerRatio <= 3 ? "met" : "NOT met"})`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  if (process.argv[2] === HANDLER_FLAG) {
    // The child of handlerInChild: one JSON line on stdout.
    console.log(JSON.stringify(await handlerMain(Number(process.argv[3] ?? 100_000))));
  } else {
    print(main(Number(process.argv[2] ?? 100_000)));
  }
}
