// Bad input on the remediation queue: a real local SQS queue holding valid instructions beside hundreds of malformed
// bodies. Every malformed one ends on the DLQ with its reason, every valid one is dispatched exactly once, and
// nothing is lost: what went in is what came out.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildInstructions, type Instruction, serializeInstruction } from "../../contract/instruction.ts";
import {
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
} from "../../functions/coordinator/queue-io.ts";
import { memoryStateStore } from "../../functions/coordinator/state.ts";
import { runCoordinator } from "../../functions/coordinator/tick.ts";
import { sendMessages } from "../../platform/queue.ts";
import {
  FUNCTIONS,
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  instruction,
  recordingReporter,
  T0,
  testConfig,
  testDeps,
} from "../coordinator/support.ts";
import { type LocalSqs, startLocalSqs } from "../helpers/local-sqs.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { seededRandom } from "./generate.ts";
import { queueCases } from "./queue-cases.ts";

const QUEUE_SEED = 0x5eed_0c0d;

let local: LocalSqs;
beforeEach(async () => {
  local = await startLocalSqs();
});
afterEach(async () => {
  await local.stop();
});

function policyInstruction(n: number): Instruction {
  const [built] = buildInstructions(
    {
      resource: { type: "AWS::S3::Bucket", id: `bucket-policy-${n}`, accountId: "123456789012", region: "us-east-1" },
      rule: { id: "s3-public", parameters: {} },
      capturedAt: new Date(T0.getTime() - 3_600_000).toISOString(),
      detectedAt: new Date(T0.getTime() - 3_600_000).toISOString(),
      notBefore: new Date(T0.getTime() - 3_600_000).toISOString(),
    },
    [
      {
        problem: "s3-public-policy",
        matched: { kind: "policy-statement", statement: { Effect: "Allow", Principal: "*", Sid: `s${n}` } },
        reason: "public",
      },
    ],
  );
  return built!;
}

describe("the coordinator with malformed messages beside valid ones on a real queue", () => {
  it("dead-letters every malformed body with its reason and dispatches every valid instruction exactly once", async () => {
    const random = seededRandom(QUEUE_SEED);
    const cases = queueCases(random);
    expect(cases.length).toBeGreaterThanOrEqual(400);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(new Set(cases.map((c) => c.body)).size).toBe(cases.length);

    const valid = Array.from({ length: 60 }, (_, n) =>
      instruction(n + 1, n % 3 === 0 ? { problem: "s3-public-acl" } : { port: 1000 + n }),
    );
    // Valid instructions for a problem without a registered function: dead-lettered, with their instruction id.
    const unregistered = Array.from({ length: 5 }, (_, n) => policyInstruction(n));
    const { "s3-public-policy": _dropped, ...functions } = FUNCTIONS;

    type Entry = { kind: "valid" | "unregistered"; instruction: Instruction } | { kind: "bad"; index: number };
    const entries: Entry[] = random.shuffle([
      ...valid.map((each) => ({ kind: "valid" as const, instruction: each })),
      ...unregistered.map((each) => ({ kind: "unregistered" as const, instruction: each })),
      ...cases.map((_, index) => ({ kind: "bad" as const, index })),
    ]);
    const bodyOf = (entry: Entry) =>
      entry.kind === "bad" ? cases[entry.index]!.body : serializeInstruction(entry.instruction);
    await sendMessages(
      local.sqs,
      local.queueUrl,
      entries.map((entry, index) => ({ id: `m${index}`, body: bodyOf(entry) })),
    );
    expect((await local.counts()).stored).toBe(entries.length);

    const clock = fakeClock();
    const pause = fakePauseParameter();
    const lambda = fakeLambda(local.sqs, () => "succeed");
    const store = memoryStateStore();
    const reporter = recordingReporter();
    const log = recordingLog();
    const config = testConfig(local, { remediationFunctions: functions });
    let ticks = 0;
    while ((await local.counts()).stored > 0 && ticks < 20) {
      await runCoordinator(
        testDeps({ sqs: local.client(), lambda, ssm: pause.ssm, config, now: clock.now, store, reporter, log }),
      );
      clock.advance(60_000);
      ticks++;
    }
    expect(ticks).toBeLessThan(20);
    expect(await local.counts()).toMatchObject({ stored: 0 });

    // Every valid instruction dispatched exactly once, to its function.
    const dispatched = lambda.invocations.map((invocation) => invocation.request.instruction.id).sort();
    expect(dispatched).toEqual(valid.map((each) => each.id).sort());
    for (const invocation of lambda.invocations) {
      expect(invocation.functionName).toBe(FUNCTIONS[invocation.request.instruction.problem]);
    }

    // Every malformed body (and every unregistered problem) on the DLQ, once, with its reason.
    const dead = await local.drain(local.dlqUrl);
    expect(dead).toHaveLength(cases.length + unregistered.length);
    const reasonByBody = new Map<string, string[]>();
    for (const message of dead) {
      const reason = message.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue ?? "";
      expect(message.MessageAttributes?.[DLQ_SOURCE_MESSAGE_ATTRIBUTE]?.StringValue).toMatch(/^[0-9a-f-]{36}$/);
      reasonByBody.set(message.Body!, [...(reasonByBody.get(message.Body!) ?? []), reason]);
    }
    for (const testCase of cases) {
      const reasons = reasonByBody.get(testCase.body);
      expect(reasons, testCase.name).toHaveLength(1);
      expect(reasons![0], testCase.name).toMatch(testCase.reason);
      expect(reasons![0]!.length).toBeLessThanOrEqual(1_000);
    }
    for (const each of unregistered) {
      const message = dead.find((m) => m.Body === serializeInstruction(each));
      expect(message?.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue).toBe(
        "no remediation function registered for problem s3-public-policy",
      );
      expect(message?.MessageAttributes?.[DLQ_INSTRUCTION_ATTRIBUTE]?.StringValue).toBe(each.id);
    }
    // Slack is told about each one; nothing is lost: in = dispatched + dead-lettered.
    expect(reporter.of("dead-lettered")).toHaveLength(cases.length + unregistered.length);
    expect(lambda.invocations.length + dead.length).toBe(entries.length);
    expect(log.errors()).toEqual([]);
  }, 120_000);
});
