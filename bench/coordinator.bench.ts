// Coordinator throughput on a real SQS-protocol server (local-aws-sqs, in process), beside Defendable Design's
// coordinator loop on the same endpoint. Each run queues `count` valid instructions on a fresh server and drains them
// once: Remedy with one coordinator tick (Lambda stubbed, limits that do not bind: rate limit and breaker lifted, so
// the look-ahead reads the whole backlog before dispatching, as the issue measured), Defendable Design with its loop.
// Both run twice: with no added latency, and with a fixed latency injected on every call — every SQS command waits
// SQS_LATENCY_MS before it is sent and every Invoke takes INVOKE_LATENCY_MS — which is what a Lambda in a region
// sees and what decides how fast a loop that waits on one call at a time can go. Printed side by side with the
// ratio. No assertions. Run: npx tsx bench/coordinator.bench.ts [count] [count with latency, default count]
//
// Defendable Design's loop, emulated from its code (github.com/DefendableDesign/DD-AWS,
// modules/aws_config/remediation_coordinator/lambda_remediation_coordinator/
// dd_config_lambda_remediation_coordinator.py, lambda_handler): `while True:` receive up to 10 messages
// (MaxNumberOfMessages 10, VisibilityTimeout 180, WaitTimeSeconds 3); stop when none come back; for each message,
// one after another, parse the body and call lambda.invoke(InvocationType "Event") with the queue URL, receipt handle
// and body. The coordinator itself deletes nothing: the remediation function it invokes deletes the message with the
// receipt handle in its payload, in its own Lambda, off the coordinator's path. So for both loops the stub Lambda
// accepts the event (202) and then, as the remediation would, deletes the message — unawaited, batched, through a
// client of its own without added latency, whose calls are not counted as the coordinator's. (Without that delete, a
// loop that runs longer than its visibility timeout, as Defendable Design's does here with latency, would see its
// messages again and never end.) Emulated with three differences, each in its favour or neutral: WaitTimeSeconds 0,
// as Remedy's runs here (local-aws-sqs waits out the whole wait on any partial batch, which would add 3 s per partial
// receive to its loop only); one Lambda client reused (its code builds a boto3 client per invoke); the function
// looked up by our instruction's problem instead of its violationType. And one workaround for the emulator: an empty
// answer is confirmed against the queue's message count before it ends the loop (see defendableDesignLoop).
import { setTimeout as delay } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Instruction } from "../contract/instruction.ts";
import { memoryStateStore } from "../functions/coordinator/state.ts";
import { type CoordinatorConfig, runCoordinator } from "../functions/coordinator/tick.ts";
import {
  enqueue,
  FUNCTIONS,
  fakeClock,
  fakePauseParameter,
  instruction,
  recordingReporter,
  testConfig,
} from "../test/coordinator/support.ts";
import { type LocalSqs, startLocalSqs } from "../test/helpers/local-sqs.ts";

/** Added before every SQS command is sent, in the runs with latency. */
export const SQS_LATENCY_MS = 10;
/** How long every Invoke takes, in the runs with latency (an asynchronous Invoke answers 202 in tens of ms). */
export const INVOKE_LATENCY_MS = 20;

export interface LoopFigures {
  instructions: number;
  dispatched: number;
  seconds: number;
  messagesPerSecond: number;
  /** SQS calls seen on the wire during the drain. */
  sqsCalls: number;
  /** Most Invokes in flight at once. */
  maxInvokesInFlight: number;
  byCommand: Record<string, number>;
}

export interface CoordinatorBenchResult {
  /** Remedy without added latency (the fields bench/run.ts and the cost bench use). */
  instructions: number;
  dispatched: number;
  seconds: number;
  messagesPerSecond: number;
  sqsCalls: number;
  latency: { sqsMs: number; invokeMs: number };
  zeroLatency: { remedy: LoopFigures; defendableDesign: LoopFigures; ratio: number };
  withLatency: { remedy: LoopFigures; defendableDesign: LoopFigures; ratio: number };
}

interface Latency {
  sqsMs: number;
  invokeMs: number;
}

const NO_LATENCY: Latency = { sqsMs: 0, invokeMs: 0 };
const LATENCY: Latency = { sqsMs: SQS_LATENCY_MS, invokeMs: INVOKE_LATENCY_MS };

/** A client of the local server whose every command waits `ms` before it is sent (and is recorded, as all are). */
function sqsWithLatency(local: LocalSqs, ms: number): SQSClient {
  const sqs = local.client();
  if (ms > 0) {
    sqs.middlewareStack.add(
      (next) => async (args) => {
        await delay(ms);
        return next(args);
      },
      { step: "initialize", name: "benchLatency" },
    );
  }
  return sqs;
}

/**
 * What the remediation functions do to the queue here: delete each message they were invoked for, with the queue
 * URL and receipt handle of their payload, through a client whose calls are not the coordinator's (see the header).
 * Batched ten at a time, one batch in flight, so that the in-process server spends on them a tenth of what one
 * delete per message would cost (both loops share that server's one thread with it).
 */
function remediationDeletes(endpoint: string) {
  const sqs = new SQSClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  const pending: { queueUrl: string; receiptHandle: string }[] = [];
  let inFlight: Promise<void> | undefined;
  const flush = (all: boolean): void => {
    if (inFlight || pending.length === 0 || (!all && pending.length < 10)) return;
    const batch = pending.splice(0, 10);
    inFlight = sqs
      .send(
        new DeleteMessageBatchCommand({
          QueueUrl: batch[0]!.queueUrl,
          Entries: batch.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.receiptHandle })),
        }),
      )
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        inFlight = undefined;
        flush(all);
      });
  };
  return {
    add(queueUrl: string, receiptHandle: string) {
      pending.push({ queueUrl, receiptHandle });
      flush(false);
    },
    /** Deletes what is left (after the measurement) and closes the client. */
    async settle() {
      flush(true);
      while (inFlight || pending.length > 0) {
        await inFlight;
        flush(true);
      }
      sqs.destroy();
    },
  };
}

/**
 * A stub Lambda: accepts every Invoke after `ms`, counting them and how many are in flight at once; then the
 * "remediation" deletes the message (both loops' payloads carry the queue URL and receipt handle).
 */
function stubLambda(ms: number, remediations: ReturnType<typeof remediationDeletes>) {
  const lambda = {
    invokes: 0,
    inFlight: 0,
    maxInFlight: 0,
    async send(command: InvokeCommand) {
      lambda.inFlight++;
      lambda.maxInFlight = Math.max(lambda.maxInFlight, lambda.inFlight);
      try {
        if (ms > 0) await delay(ms);
        lambda.invokes++;
        // Both loops send the payload as a string or bytes.
        const payload = command.input.Payload as string | Uint8Array;
        const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
        const { queueUrl, sqsUrl, receiptHandle } = JSON.parse(text) as Record<string, string>;
        remediations.add(queueUrl ?? sqsUrl ?? "", receiptHandle ?? "");
        return { StatusCode: 202 };
      } finally {
        lambda.inFlight--;
      }
    },
  };
  return lambda;
}

type Loop = (local: LocalSqs, sqs: SQSClient, lambda: ReturnType<typeof stubLambda>) => Promise<number>;

/** One Remedy coordinator tick over the whole backlog; returns what it dispatched. */
const remedyLoop: Loop = async (local, sqs, lambda) => {
  const overrides: Partial<CoordinatorConfig> = {
    rateLimit: { count: 1_000_000, windowMinutes: 10 },
    breaker: { freshLimit: 1_000_000, windowMinutes: 10 },
    dispatchVisibilitySeconds: 300,
    receiveWaitSeconds: 0,
  };
  const summary = await runCoordinator({
    sqs,
    lambda,
    ssm: fakePauseParameter().ssm,
    store: memoryStateStore(),
    reporter: recordingReporter(),
    config: testConfig(local, overrides),
    now: fakeClock().now,
    remainingTimeMs: () => 15 * 60_000,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    metrics: { count() {} },
  });
  return summary.dispatched;
};

/** Defendable Design's coordinator loop (see the header); returns how many messages it invoked a function for. */
const defendableDesignLoop: Loop = async (local, sqs, lambda) => {
  let processed = 0;
  while (true) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: local.queueUrl,
        AttributeNames: ["All"],
        MessageAttributeNames: ["All"],
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 180,
        WaitTimeSeconds: 0,
      }),
    );
    // Its `if not messages: break`. local-aws-sqs may answer a receive empty when its thread is busy (see
    // test/helpers/local-sqs.ts), which SQS would not for a queue this full: an empty answer is checked against the
    // queue's count before it ends the loop (one GetQueueAttributes, counted among its SQS calls).
    if (messages.length === 0) {
      if ((await local.counts()).visible === 0) break;
      continue;
    }
    for (const message of messages) {
      const body = JSON.parse(message.Body ?? "{}") as Instruction;
      await lambda.send(
        new InvokeCommand({
          FunctionName: FUNCTIONS[body.problem],
          InvocationType: "Event",
          Payload: JSON.stringify({ sqsUrl: local.queueUrl, receiptHandle: message.ReceiptHandle, messageBody: body }),
        }),
      );
      processed++;
    }
  }
  return processed;
};

async function measure(loop: Loop, count: number, latency: Latency): Promise<LoopFigures> {
  const local = await startLocalSqs();
  try {
    const instructions = Array.from({ length: count }, (_, n) => instruction(n));
    for (let start = 0; start < instructions.length; start += 1_000) {
      await enqueue(local.sqs, local.queueUrl, instructions.slice(start, start + 1_000));
    }
    const sqs = sqsWithLatency(local, latency.sqsMs);
    const remediations = remediationDeletes(local.endpoint);
    const lambda = stubLambda(latency.invokeMs, remediations);
    local.commands.length = 0;
    const started = performance.now();
    const dispatched = await loop(local, sqs, lambda);
    const elapsedMs = performance.now() - started;
    await remediations.settle();
    const byCommand = local.commands.reduce<Record<string, number>>((counts, name) => {
      counts[name] = (counts[name] ?? 0) + 1;
      return counts;
    }, {});
    return {
      instructions: count,
      dispatched,
      seconds: elapsedMs / 1000,
      messagesPerSecond: (dispatched / elapsedMs) * 1000,
      sqsCalls: local.commands.length,
      maxInvokesInFlight: lambda.maxInFlight,
      byCommand,
    };
  } finally {
    await local.stop();
  }
}

function line(name: string, figures: LoopFigures): string {
  return [
    name.padEnd(20),
    `${figures.dispatched}/${figures.instructions} dispatched`.padEnd(24),
    `${figures.seconds.toFixed(2)} s`.padStart(9),
    `${Math.round(figures.messagesPerSecond)} msg/s`.padStart(12),
    `${figures.sqsCalls} SQS calls`.padStart(16),
    `≤ ${figures.maxInvokesInFlight} Invokes in flight`.padStart(24),
  ].join("  ");
}

function print(title: string, remedy: LoopFigures, defendableDesign: LoopFigures, ratio: number): void {
  console.log(title);
  console.log(`  ${line("Remedy (one tick)", remedy)}`);
  console.log(`  ${line("Defendable Design", defendableDesign)}`);
  console.log(`  Remedy / Defendable Design: ${ratio.toFixed(1)}×`);
  console.log(`  Remedy's SQS calls by command:`, remedy.byCommand);
}

export async function main(count = 10_000, latencyCount = count): Promise<CoordinatorBenchResult> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const zero = {
    remedy: await measure(remedyLoop, count, NO_LATENCY),
    defendableDesign: await measure(defendableDesignLoop, count, NO_LATENCY),
  };
  const zeroRatio = zero.remedy.messagesPerSecond / zero.defendableDesign.messagesPerSecond;
  print(`${count} instructions, no added latency:`, zero.remedy, zero.defendableDesign, zeroRatio);
  console.log(
    `  SQS calls per dispatched message (Remedy): ${(zero.remedy.sqsCalls / Math.max(1, zero.remedy.dispatched)).toFixed(3)}`,
  );

  const slow = {
    remedy: await measure(remedyLoop, latencyCount, LATENCY),
    defendableDesign: await measure(defendableDesignLoop, latencyCount, LATENCY),
  };
  const slowRatio = slow.remedy.messagesPerSecond / slow.defendableDesign.messagesPerSecond;
  print(
    `${latencyCount} instructions, +${SQS_LATENCY_MS} ms per SQS call and +${INVOKE_LATENCY_MS} ms per Invoke:`,
    slow.remedy,
    slow.defendableDesign,
    slowRatio,
  );

  return {
    instructions: count,
    dispatched: zero.remedy.dispatched,
    seconds: zero.remedy.seconds,
    messagesPerSecond: zero.remedy.messagesPerSecond,
    sqsCalls: zero.remedy.sqsCalls,
    latency: { sqsMs: SQS_LATENCY_MS, invokeMs: INVOKE_LATENCY_MS },
    zeroLatency: { ...zero, ratio: zeroRatio },
    withLatency: { ...slow, ratio: slowRatio },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const count = Number(process.argv[2] ?? 10_000);
  const valid = (n: number) => Number.isInteger(n) && n > 0;
  const total = valid(count) ? count : 10_000;
  const latencyCount = Number(process.argv[3] ?? total);
  main(total, valid(latencyCount) ? latencyCount : total).catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
