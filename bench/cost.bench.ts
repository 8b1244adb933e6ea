// A monthly cost estimate for 10,000 resources, from measured call counts and public us-east-1 list prices
// (November 2026). It measures what one idle coordinator tick costs in calls, takes the per-message SQS calls from
// the drain benchmark, and states every other assumption next to its figure. Run: npx tsx bench/cost.bench.ts
import { pathToFileURL } from "node:url";
import { type CoordinatorStateStore, memoryStateStore } from "../functions/coordinator/state.ts";
import { runCoordinator } from "../functions/coordinator/tick.ts";
import {
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  recordingReporter,
  testConfig,
} from "../test/coordinator/support.ts";
import { startLocalSqs } from "../test/helpers/local-sqs.ts";

/** Public list prices (USD), us-east-1. */
export const PRICES = {
  configEvaluationFirst100k: 0.001,
  configEvaluationNext400k: 0.0008,
  configEvaluationOver500k: 0.0005,
  lambdaRequest: 0.2 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  sqsRequest: 0.4 / 1e6,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  snsPublish: 0.5 / 1e6,
  logsIngestGb: 0.5,
  kmsKeyMonth: 1,
  kmsRequest: 0.03 / 10_000,
} as const;

export interface CostAssumptions {
  resources: number;
  /** Share of resources whose configuration changes on a given day (each change is one rule evaluation). */
  dailyChangeRate: number;
  /** Periodic re-evaluations of every resource per day (Config's TwentyFour_Hours frequency = 1). */
  periodicRunsPerDay: number;
  /** Share of changes that open a hole Remedy fixes. */
  violationRate: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  resources: 10_000,
  dailyChangeRate: 0.05,
  periodicRunsPerDay: 1,
  violationRate: 0.02,
};

export interface IdleTick {
  sqsCalls: number;
  stateLoads: number;
  stateSaves: number;
}

/** Counts what one coordinator tick on an empty queue sends (the cost floor of the 60-second schedule). */
export async function measureIdleTick(): Promise<IdleTick> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const local = await startLocalSqs();
  try {
    const inner = memoryStateStore();
    const counts = { stateLoads: 0, stateSaves: 0 };
    const store: CoordinatorStateStore = {
      load: () => (counts.stateLoads++, inner.load()),
      save: (state, etag) => (counts.stateSaves++, inner.save(state, etag)),
    };
    local.commands.length = 0;
    await runCoordinator({
      sqs: local.client(),
      lambda: fakeLambda(),
      ssm: fakePauseParameter().ssm,
      store,
      reporter: recordingReporter(),
      config: testConfig(local, { receiveWaitSeconds: 0 }),
      now: fakeClock().now,
      remainingTimeMs: () => 50_000,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      metrics: { count() {} },
    });
    return { sqsCalls: local.commands.length, ...counts };
  } finally {
    await local.stop();
  }
}

function configEvaluationCost(evaluations: number): number {
  const first = Math.min(evaluations, 100_000);
  const next = Math.min(Math.max(evaluations - 100_000, 0), 400_000);
  const rest = Math.max(evaluations - 500_000, 0);
  return (
    first * PRICES.configEvaluationFirst100k +
    next * PRICES.configEvaluationNext400k +
    rest * PRICES.configEvaluationOver500k
  );
}

export interface CostLine {
  item: string;
  basis: string;
  usd: number;
}

export function estimateMonthlyCost(
  idle: IdleTick,
  sqsCallsPerFix: number,
  assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS,
): CostLine[] {
  const days = 30;
  const ticks = days * 24 * 60;
  const changeEvaluations = assumptions.resources * assumptions.dailyChangeRate * days;
  const periodicEvaluations = assumptions.resources * assumptions.periodicRunsPerDay * days;
  const fixes = changeEvaluations * assumptions.violationRate;
  const gbSeconds = (invocations: number, seconds: number, memoryMb: number) =>
    invocations * seconds * (memoryMb / 1024);
  // Durations: rule run per change 0.2 s; a periodic run reads 100 items per BatchGetResourceConfig call at about
  // 0.3 s per call; a tick 1.5 s (1 s long-poll); a remediation 1 s; a notification 0.5 s.
  const periodicRuns = assumptions.periodicRunsPerDay * days * 2; // two rules
  const lambdaSeconds =
    gbSeconds(changeEvaluations, 0.2, 256) +
    gbSeconds(periodicRuns, (assumptions.resources / 2 / 100) * 0.3, 512) +
    gbSeconds(ticks, 1.5, 256) +
    gbSeconds(fixes, 1, 256) +
    gbSeconds(fixes * 2, 0.5, 256);
  const lambdaRequests = changeEvaluations + periodicRuns + ticks + fixes + fixes * 2;
  const sqsRequests = ticks * idle.sqsCalls + fixes * (sqsCallsPerFix + 2); // +send by the rule, +delete by the fix
  return [
    {
      item: "AWS Config rule evaluations",
      basis: `${Math.round(periodicEvaluations).toLocaleString("en-US")} periodic + ${Math.round(changeEvaluations).toLocaleString("en-US")} on change`,
      usd: configEvaluationCost(periodicEvaluations + changeEvaluations),
    },
    {
      item: "Lambda (arm64)",
      basis: `${Math.round(lambdaRequests).toLocaleString("en-US")} invocations, ${Math.round(lambdaSeconds).toLocaleString("en-US")} GB-s`,
      usd: lambdaRequests * PRICES.lambdaRequest + lambdaSeconds * PRICES.lambdaArmGbSecond,
    },
    {
      item: "SQS",
      basis: `${idle.sqsCalls} calls per idle tick × ${ticks.toLocaleString("en-US")} ticks + ${(sqsCallsPerFix + 2).toFixed(1)} per fix`,
      usd: sqsRequests * PRICES.sqsRequest,
    },
    {
      item: "S3 (coordinator state, ledger)",
      basis: `${idle.stateLoads} GET + ${idle.stateSaves} PUT per tick; 2 PUT per fix`,
      usd: ticks * (idle.stateLoads * PRICES.s3Get + idle.stateSaves * PRICES.s3Put) + fixes * 2 * PRICES.s3Put,
    },
    { item: "SNS reports", basis: `${Math.round(fixes * 2)} publishes`, usd: fixes * 2 * PRICES.snsPublish },
    {
      // Every remediation record is MACed (pending + final); the pause switch (standard SSM, free) and the account's
      // Block Public Access (S3 Control, free) are read once per fix.
      item: "KMS (ledger MAC key)",
      basis: `1 key + ${Math.round(fixes * 2)} GenerateMac`,
      usd: PRICES.kmsKeyMonth + fixes * 2 * PRICES.kmsRequest,
    },
    {
      item: "CloudWatch Logs",
      basis: "≈ 1 KB per tick and per evaluation",
      usd: ((ticks + changeEvaluations + periodicEvaluations) * 1024 * PRICES.logsIngestGb) / 1024 ** 3,
    },
  ];
}

export async function main(sqsCallsPerFix = 0.1): Promise<CostLine[]> {
  return estimateMonthlyCost(await measureIdleTick(), sqsCallsPerFix);
}

export function print(lines: readonly CostLine[]): void {
  const total = lines.reduce((sum, line) => sum + line.usd, 0);
  console.log(
    "Monthly cost estimate, 10,000 resources (5% change daily, daily periodic evaluation, 2% of changes fixed)",
  );
  console.table(
    Object.fromEntries([
      ...lines.map((line) => [line.item, { basis: line.basis, "USD/month": line.usd.toFixed(2) }]),
      ["total", { basis: "", "USD/month": total.toFixed(2) }],
    ]),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  print(await main());
}
