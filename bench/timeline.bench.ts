// Simulated timeline: time from "fix instruction queued" to "remediation dispatched" with auto-response on.
// The real coordinator tick runs once per simulated minute (the EventBridge schedule) against a real SQS-protocol
// server (local-aws-sqs); violations arrive at random (Poisson) times between ticks; the default rate limit
// (20 per 10 minutes) and breaker (50 fresh per 10 minutes) apply. Time to fixed = this delay + the fix itself
// (a remediation's own API calls, a few hundred milliseconds), so the target is p99 ≤ 60 s + fix time.
// Run: npx tsx bench/timeline.bench.ts
import { pathToFileURL } from "node:url";
import { memoryStateStore } from "../functions/coordinator/state.ts";
import { runCoordinator } from "../functions/coordinator/tick.ts";
import {
  enqueue,
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  instruction,
  recordingReporter,
  T0,
  testConfig,
} from "../test/coordinator/support.ts";
import { startLocalSqs } from "../test/helpers/local-sqs.ts";
import { random } from "./generate.ts";

export interface TimelineScenario {
  name: string;
  instructions: number;
  simulatedMinutes: number;
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
  undispatched: number;
}

const TICK_MS = 60_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs the coordinator once per simulated minute until every arrival is dispatched (or `maxTicks`). */
async function simulate(name: string, arrivalsMs: readonly number[], maxTicks: number): Promise<TimelineScenario> {
  const local = await startLocalSqs();
  try {
    const clock = fakeClock(T0);
    const lambda = fakeLambda(local.sqs, () => "succeed");
    const pause = fakePauseParameter();
    const store = memoryStateStore();
    const arrivalById = new Map<string, number>();
    const pending = [...arrivalsMs]
      .sort((a, b) => a - b)
      .map((offset, n) => {
        const at = T0.getTime() + offset;
        return { at, instruction: instruction(n + 1, { capturedAt: new Date(at) }) };
      });
    let next = 0;
    let ticks = 0;
    while (ticks < maxTicks && (next < pending.length || lambda.invocations.length < pending.length)) {
      ticks++;
      clock.advance(TICK_MS);
      const now = clock.now().getTime();
      const due = [];
      while (next < pending.length && pending[next]!.at <= now) {
        const arrival = pending[next++]!;
        arrivalById.set(arrival.instruction.id, arrival.at);
        due.push(arrival.instruction);
      }
      if (due.length > 0) await enqueue(local.sqs, local.queueUrl, due);
      await runCoordinator({
        sqs: local.client(),
        lambda,
        ssm: pause.ssm,
        store,
        reporter: recordingReporter(),
        // The deployed defaults (functions/coordinator/settings.ts).
        config: testConfig(local, {
          rateLimit: { count: 20, windowMinutes: 10 },
          breaker: { freshLimit: 50, windowMinutes: 10 },
          dispatchVisibilitySeconds: 300,
          receiveWaitSeconds: 0,
        }),
        now: clock.now,
        remainingTimeMs: () => 45_000,
        log: { debug() {}, info() {}, warn() {}, error() {} },
        metrics: { count() {} },
      });
    }
    const delays = lambda.invocations
      .map(
        (invocation) =>
          (Date.parse(invocation.request.dispatchedAt) - arrivalById.get(invocation.request.instruction.id)!) / 1000,
      )
      .sort((a, b) => a - b);
    return {
      name,
      instructions: pending.length,
      simulatedMinutes: ticks,
      p50Seconds: percentile(delays, 50),
      p99Seconds: percentile(delays, 99),
      maxSeconds: delays.at(-1) ?? Number.NaN,
      undispatched: pending.length - new Set(lambda.invocations.map((i) => i.request.instruction.id)).size,
    };
  } finally {
    await local.stop();
  }
}

export async function main(): Promise<TimelineScenario[]> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const rand = random(7);
  // Steady: on average one new violation a minute for 8 hours (Poisson arrivals), below the rate limit.
  const steady: number[] = [];
  for (let at = 0; steady.length < 480; ) {
    at += -Math.log(1 - rand()) * 60_000;
    steady.push(at);
  }
  // Burst below the breaker: 40 violations within one minute; the rate limit spreads them over ~20 minutes.
  const burst = Array.from({ length: 40 }, () => rand() * 60_000);
  const results = [
    await simulate("steady, 1 violation/min for 8 h", steady, 600),
    await simulate("burst of 40 within a minute", burst, 60),
  ];
  return results;
}

export function print(results: readonly TimelineScenario[]): void {
  console.log("Queue → dispatch delay with auto-response on (simulated ticks, real coordinator, local SQS)");
  console.table(
    Object.fromEntries(
      results.map((result) => [
        result.name,
        {
          instructions: result.instructions,
          "p50 s": result.p50Seconds.toFixed(1),
          "p99 s": result.p99Seconds.toFixed(1),
          "max s": result.maxSeconds.toFixed(1),
          undispatched: result.undispatched,
        },
      ]),
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  print(await main());
}
