// The periodic scan (functions/config-rule/scan.ts) at 10k, 100k and 1M security groups, against a local Config
// stand-in that answers like Config (pages of 100, the item shapes BatchGetResourceConfig returns) and keeps what
// PutEvaluations was sent, so a second scan compares against it. Every call is charged AWS-like latency on a
// virtual clock (no sleeping, so 1M runs in minutes): each task's time = its CPU time + the latency of the calls it
// awaited, summed (an upper bound: a task overlaps a few calls). Tasks run as the scan queue's event source would
// run them: up to SCAN_CONCURRENCY invocations at once, each released when the task that sent it sent it.
//
// Day 1: Config holds nothing for the rule (a new deployment): every verdict is reported. Day 2: 1% of the groups
// changed overnight: only verdicts that differ are reported (what Config is charged for).
//
// Printed per size and day: wall time, invocations, the longest invocation (anchor: Lambda's 300 s timeout, the
// function's), the most the heap grew during one invocation (anchor: the function's 256 MB; garbage included, so an
// upper bound), this process's peak heap and RSS (the bench, tsx, esbuild and the stand-in's state besides), API
// calls by name, evaluations reported, instructions queued. Run: npx tsx bench/periodic.bench.ts [10000,100000,1000000]
import { pathToFileURL } from "node:url";
import { VERDICT_CODES } from "../functions/config-rule/recorded.ts";
import { runScanTask, type ScanDeps, type ScanQueue, type ScanTask, startScan } from "../functions/config-rule/scan.ts";
import { FUNCTIONS } from "../functions/registry.ts";
import { deploymentFrom } from "../platform/deployment.ts";
import { random, securityGroupItem } from "./generate.ts";

/** Per-call latency (ms) charged on the virtual clock: figures seen from a Lambda in-region, stated not measured. */
export const LATENCY_MS: Readonly<Record<string, number>> = {
  GetComplianceDetailsByConfigRuleCommand: 100,
  ListDiscoveredResourcesCommand: 100,
  BatchGetResourceConfigCommand: 300,
  GetResourceConfigHistoryCommand: 100,
  PutEvaluationsCommand: 80,
  SendMessageBatchCommand: 10,
  ScanQueueSend: 10,
  PutObjectCommand: 30,
  GetObjectCommand: 30,
};
const SCAN_CONCURRENCY = 5;
const TIMEOUT_MS = FUNCTIONS["config-rule"].timeoutSeconds * 1_000;
const MEMORY_MB = FUNCTIONS["config-rule"].memoryMb;
const SAFETY_MARGIN_MS = 60_000;
const RULE = "remedy-sg-open-ingress";
const SG = "AWS::EC2::SecurityGroup";
const CODE_OF: Record<string, number> = VERDICT_CODES;
const NAME_OF = Object.fromEntries(Object.entries(VERDICT_CODES).map(([name, code]) => [code, name]));

export interface ScanFigures {
  resources: number;
  day: 1 | 2;
  wallSeconds: number;
  invocations: number;
  longestInvocationSeconds: number;
  peakHeapMb: number;
  /** The heap before the scan's first task: the bench, the SDK and the stand-in, not any invocation's state. */
  baselineHeapMb: number;
  /** The most the heap grew during one invocation (garbage included, so an upper bound of what it needs). */
  largestInvocationHeapMb: number;
  peakRssMb: number;
  calls: Record<string, number>;
  reported: number;
  queued: number;
  cpuSeconds: number;
}

/** The invocation running now: its virtual latency so far, and when its CPU time started. */
let current = { latencyMs: 0, cpuStart: 0 };
const elapsedMs = () => performance.now() - current.cpuStart + current.latencyMs;
let peakHeap = 0;
let peakRss = 0;
/** The heap when the running invocation started, and the most it grew since (garbage included: an upper bound). */
let invocationHeap = { start: 0, growth: 0 };
function sample() {
  const { heapUsed, rss } = process.memoryUsage();
  peakHeap = Math.max(peakHeap, heapUsed);
  peakRss = Math.max(peakRss, rss);
  invocationHeap.growth = Math.max(invocationHeap.growth, heapUsed - invocationHeap.start);
}

/** Config for `count` groups: items made from their index (a changed group gets another seed), verdicts kept. */
function configStandIn(count: number) {
  const held = new Uint8Array(count);
  const generation = new Uint8Array(count);
  const index = (id: string) => Number.parseInt(id.slice(3), 16);
  const baseItem = (i: number) => {
    const item = securityGroupItem(i, random(0x5ca7 + i * 7 + generation[i]! * 1_000_003));
    return { ...item, configuration: JSON.stringify(item.configuration), tags: undefined };
  };
  const send = async (command: { constructor: { name: string }; input: any }) => {
    const name = command.constructor.name;
    current.latencyMs += LATENCY_MS[name] ?? 50;
    sample();
    const input = command.input;
    switch (name) {
      case "GetComplianceDetailsByConfigRuleCommand": {
        // Config answers in its own order, skipping resources it holds nothing for.
        let at = Number(input.NextToken ?? 0);
        const results = [];
        while (at < count && results.length < 100) {
          const code = held[at];
          if (code) {
            const id = `sg-${at.toString(16).padStart(17, "0")}`;
            results.push({
              EvaluationResultIdentifier: {
                EvaluationResultQualifier: { ConfigRuleName: RULE, ResourceType: SG, ResourceId: id },
              },
              ComplianceType: NAME_OF[code],
            });
          }
          at++;
        }
        return { EvaluationResults: results, NextToken: at < count ? String(at) : undefined };
      }
      case "ListDiscoveredResourcesCommand": {
        const start = Number(input.nextToken ?? 0);
        const end = Math.min(count, start + 100);
        const resourceIdentifiers = [];
        for (let i = start; i < end; i++) {
          resourceIdentifiers.push({ resourceType: SG, resourceId: `sg-${i.toString(16).padStart(17, "0")}` });
        }
        return { resourceIdentifiers, nextToken: end < count ? String(end) : undefined };
      }
      case "BatchGetResourceConfigCommand":
        return {
          baseConfigurationItems: input.resourceKeys.map((key: { resourceId: string }) =>
            baseItem(index(key.resourceId)),
          ),
        };
      case "PutEvaluationsCommand":
        for (const evaluation of input.Evaluations) {
          held[index(evaluation.ComplianceResourceId)] = CODE_OF[evaluation.ComplianceType]!;
        }
        return { FailedEvaluations: [] };
      default:
        throw new Error(`the Config stand-in does not answer ${name}`);
    }
  };
  return {
    client: { send } as unknown as ScanDeps["configService"],
    /** Overnight, `share` of the groups change (a new configuration each). */
    change(share: number, seed: number) {
      const rand = random(seed);
      for (let i = 0; i < count; i++) if (rand() < share) generation[i]!++;
    },
  };
}

export async function scanOnce(count: number, day: 1 | 2, config = configStandIn(count)): Promise<ScanFigures> {
  const calls: Record<string, number> = {};
  const stand = config;
  // Count this scan's calls only.
  const countingClient = {
    send: (command: { constructor: { name: string } }) => {
      const name = command.constructor.name;
      calls[name] = (calls[name] ?? 0) + 1;
      return (stand.client as unknown as { send: (c: unknown) => Promise<unknown> }).send(command);
    },
  } as unknown as ScanDeps["configService"];

  interface Pending {
    body: string;
    releaseMs: number;
  }
  const pending: (Pending | undefined)[] = [];
  const queue: ScanQueue = {
    async send(tasks) {
      calls.ScanQueueSend = (calls.ScanQueueSend ?? 0) + 1;
      current.latencyMs += LATENCY_MS.ScanQueueSend!;
      const releaseMs = invocationStartMs + elapsedMs();
      for (const task of tasks) pending.push({ body: JSON.stringify(task), releaseMs });
    },
  };
  const parts = new Map<string, Uint8Array>();
  let queued = 0;
  let reported = 0;
  const deps: Omit<ScanDeps, "remainingTimeMs"> = {
    configService: countingClient,
    sqs: {
      send: async (command: { constructor: { name: string }; input: { Entries: unknown[] } }) => {
        calls.SendMessageBatchCommand = (calls.SendMessageBatchCommand ?? 0) + 1;
        current.latencyMs += LATENCY_MS.SendMessageBatchCommand!;
        queued += command.input.Entries.length;
        return { Failed: [] };
      },
    } as unknown as ScanDeps["sqs"],
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    deployment: deploymentFrom({
      accountId: "123456789012",
      region: "us-east-1",
      partition: "aws",
      rules: [
        {
          id: "sg-open-ingress",
          configRuleName: RULE,
          parameters: { authorizedPorts: "tcp:80,tcp:443", ipv4MinPrefix: "8", ipv6MinPrefix: "16" },
        },
      ],
    }),
    accountFacts: async () => ({}),
    allowlist: [],
    gracePeriodMs: 0,
    now: () => new Date("2026-11-21T00:00:00.000Z"),
    log: { debug() {}, info() {}, warn() {}, error() {} },
    metrics: { count() {} },
    scanQueue: queue,
    scanStore: {
      async putPart(scanId, part, bytes) {
        calls.PutObjectCommand = (calls.PutObjectCommand ?? 0) + 1;
        current.latencyMs += LATENCY_MS.PutObjectCommand!;
        parts.set(`${scanId}/${part}`, new Uint8Array(bytes));
      },
      async getPart(scanId, part) {
        calls.GetObjectCommand = (calls.GetObjectCommand ?? 0) + 1;
        current.latencyMs += LATENCY_MS.GetObjectCommand!;
        return parts.get(`${scanId}/${part}`)!;
      },
    },
    safetyMarginMs: SAFETY_MARGIN_MS,
  };

  // The schedule: each invocation starts when a worker is free and its task was released.
  const workers = Array.from({ length: SCAN_CONCURRENCY }, () => 0);
  let invocationStartMs = 0;
  current = { latencyMs: 0, cpuStart: performance.now() };
  await startScan(deps, { configRuleName: RULE, resultToken: "token" });
  (globalThis as { gc?: () => void }).gc?.();
  const baselineHeap = process.memoryUsage().heapUsed;
  peakHeap = 0;
  peakRss = 0;
  let invocations = 0;
  let longest = 0;
  let largestGrowth = 0;
  let wall = 0;
  let cpu = 0;
  for (let next = 0; next < pending.length; next++) {
    const { body, releaseMs } = pending[next]!;
    pending[next] = undefined; // taken off the queue: not this process's memory any more
    const worker = workers.indexOf(Math.min(...workers));
    invocationStartMs = Math.max(releaseMs, workers[worker]!);
    current = { latencyMs: 0, cpuStart: performance.now() };
    invocationHeap = { start: process.memoryUsage().heapUsed, growth: 0 };
    const task = JSON.parse(body) as ScanTask;
    const result = await runScanTask(task, { ...deps, remainingTimeMs: () => TIMEOUT_MS - elapsedMs() });
    if (result.kind === "judge") reported += result.reported;
    const duration = elapsedMs();
    cpu += performance.now() - current.cpuStart;
    sample();
    invocations++;
    longest = Math.max(longest, duration);
    largestGrowth = Math.max(largestGrowth, invocationHeap.growth);
    workers[worker] = invocationStartMs + duration;
    wall = Math.max(wall, workers[worker]!);
  }
  const { ScanQueueSend: _sends, ...apiCalls } = calls;
  return {
    resources: count,
    day,
    wallSeconds: wall / 1_000,
    invocations,
    longestInvocationSeconds: longest / 1_000,
    peakHeapMb: peakHeap / 2 ** 20,
    baselineHeapMb: baselineHeap / 2 ** 20,
    largestInvocationHeapMb: largestGrowth / 2 ** 20,
    peakRssMb: peakRss / 2 ** 20,
    calls: { ...apiCalls, scanTasksSent: calls.ScanQueueSend ?? 0 },
    reported,
    queued,
    cpuSeconds: cpu / 1_000,
  };
}

/** Day 1 and day 2 for one size (day 2 after 1% of the groups changed). */
export async function scanDays(count: number): Promise<ScanFigures[]> {
  const config = configStandIn(count);
  const first = await scanOnce(count, 1, config);
  config.change(0.01, 0xda7);
  const second = await scanOnce(count, 2, config);
  return [first, second];
}

export async function main(sizes: readonly number[] = [10_000, 100_000, 1_000_000]): Promise<ScanFigures[]> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const figures: ScanFigures[] = [];
  for (const size of sizes) figures.push(...(await scanDays(size)));
  return figures;
}

export function print(figures: readonly ScanFigures[]): void {
  console.log(
    `latency per call (virtual clock, ms): ${Object.entries(LATENCY_MS)
      .map(([name, ms]) => `${name.replace(/Command$/, "")} ${ms}`)
      .join(", ")}; ${SCAN_CONCURRENCY} invocations at once`,
  );
  console.table(
    figures.map((f) => ({
      resources: f.resources.toLocaleString("en-US"),
      day: f.day === 1 ? "1 (Config holds nothing)" : "2 (1% changed)",
      "wall (min)": (f.wallSeconds / 60).toFixed(1),
      invocations: f.invocations,
      "longest invocation (s)": `${f.longestInvocationSeconds.toFixed(1)} of ${TIMEOUT_MS / 1_000}`,
      "heap one invocation grew (MB)": `${f.largestInvocationHeapMb.toFixed(0)} of ${MEMORY_MB}`,
      "process peak heap / RSS (MB)": `${f.peakHeapMb.toFixed(0)} / ${f.peakRssMb.toFixed(0)}`,
      "CPU (s)": f.cpuSeconds.toFixed(1),
      "evaluations reported": f.reported.toLocaleString("en-US"),
      "instructions queued": f.queued.toLocaleString("en-US"),
    })),
  );
  for (const f of figures) {
    console.log(`${f.resources.toLocaleString("en-US")} day ${f.day} calls:`, f.calls);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = (process.argv[2] ?? "10000,100000,1000000").split(",").map(Number);
  main(sizes)
    .then(print)
    .catch((error) => {
      console.error(error);
      process.exitCode = 1;
    });
}
