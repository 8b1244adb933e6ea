// Coordinator throughput on a real SQS-protocol server (local-aws-sqs, in process): queue 10,000 valid
// instructions, run one coordinator tick with Lambda stubbed and limits that do not bind, print messages per
// second and SQS calls. No assertions. Run: npx tsx bench/coordinator.bench.ts [count]
import { pathToFileURL } from "node:url";
import { memoryStateStore } from "../functions/coordinator/state.ts";
import { runCoordinator } from "../functions/coordinator/tick.ts";
import {
  enqueue,
  fakeClock,
  fakePauseParameter,
  instruction,
  recordingReporter,
  testConfig,
} from "../test/coordinator/support.ts";
import { startLocalSqs } from "../test/helpers/local-sqs.ts";

export interface CoordinatorBenchResult {
  instructions: number;
  dispatched: number;
  seconds: number;
  messagesPerSecond: number;
  sqsCalls: number;
}

export async function main(count = 10_000): Promise<CoordinatorBenchResult> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const local = await startLocalSqs();
  try {
    const instructions = Array.from({ length: count }, (_, n) => instruction(n));
    const queuedAt = performance.now();
    for (let start = 0; start < instructions.length; start += 1_000) {
      await enqueue(local.sqs, local.queueUrl, instructions.slice(start, start + 1_000));
    }
    const queueMs = performance.now() - queuedAt;
    local.commands.length = 0;

    let invokes = 0;
    const lambda = { send: async () => ({ StatusCode: 202, invoke: ++invokes }) };
    const pause = fakePauseParameter();
    const clock = fakeClock();
    const started = performance.now();
    const summary = await runCoordinator({
      sqs: local.client(),
      lambda,
      ssm: pause.ssm,
      store: memoryStateStore(),
      reporter: recordingReporter(),
      config: testConfig(local, {
        rateLimit: { count: 1_000_000, windowMinutes: 10 },
        breaker: { freshLimit: 1_000_000, windowMinutes: 10 },
        dispatchVisibilitySeconds: 300,
        receiveWaitSeconds: 0,
      }),
      now: clock.now,
      remainingTimeMs: () => 15 * 60_000,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      metrics: { count() {} },
    });
    const elapsedMs = performance.now() - started;

    const byCommand = local.commands.reduce<Record<string, number>>((counts, name) => {
      counts[name] = (counts[name] ?? 0) + 1;
      return counts;
    }, {});
    console.log(`queued ${count} instructions in ${(queueMs / 1000).toFixed(2)} s`);
    console.log(
      `coordinator: received ${summary.received}, dispatched ${summary.dispatched} (${invokes} invokes) in ${(elapsedMs / 1000).toFixed(2)} s`,
    );
    console.log(`throughput: ${Math.round((summary.dispatched / elapsedMs) * 1000)} messages/s`);
    console.log(
      `SQS calls: ${local.commands.length} seen on the wire, ${summary.sqsCalls} counted by the coordinator`,
      byCommand,
    );
    console.log(
      `SQS calls per dispatched message: ${(local.commands.length / Math.max(1, summary.dispatched)).toFixed(3)}`,
    );
    return {
      instructions: count,
      dispatched: summary.dispatched,
      seconds: elapsedMs / 1000,
      messagesPerSecond: (summary.dispatched / elapsedMs) * 1000,
      sqsCalls: local.commands.length,
    };
  } finally {
    await local.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const count = Number(process.argv[2] ?? 10_000);
  main(Number.isInteger(count) && count > 0 ? count : 10_000).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
