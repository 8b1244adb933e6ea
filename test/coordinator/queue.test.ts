// Queue behaviour of the coordinator against a real SQS-protocol server (local-aws-sqs, in this process): real
// visibility timeouts, real receipt handles, a real dead-letter queue. Lambda, SSM and the state store are fakes.
// Time: the coordinator reads `now` from the fake clock of each setup; the server's timers (visibility timeouts, the
// receive wait) run on vitest's fake timers (see test/helpers/local-sqs.ts), so "wait until the visibility ends" is

// vi.advanceTimersByTimeAsync, not a real sleep. Date is not faked: nothing here reads it to decide anything.
import { ChangeMessageVisibilityCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it, vi } from "vitest";
import { serializeInstruction } from "../../contract/instruction.ts";
import { coordinatorPermissions } from "../../functions/coordinator/permissions.ts";
import {
  CoordinatorQueue,
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
} from "../../functions/coordinator/queue-io.ts";
import { memoryStateStore } from "../../functions/coordinator/state.ts";
import { type CoordinatorConfig, type CoordinatorSummary, runCoordinator } from "../../functions/coordinator/tick.ts";
import { resume } from "../../platform/pause.ts";
import type { LocalSqs } from "../helpers/local-sqs.ts";
import { localSqsPerTest } from "../helpers/local-sqs-per-test.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  enqueue,
  enqueueRaw,
  FUNCTIONS,
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  instruction,
  PAUSE_PARAMETER,
  type Remediation,
  recordingReporter,
  T0,
  testConfig,
  testDeps,
} from "./support.ts";

let local: LocalSqs;
localSqsPerTest((server) => {
  local = server;
});

/** Lets `ms` pass on the server's (fake) clock: visibility timeouts due by then end. */
const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);

const MINUTE = 60_000;

function setup(overrides: Partial<CoordinatorConfig> = {}, remediation: Remediation = () => "fail") {
  const clock = fakeClock();
  const pause = fakePauseParameter();
  const lambda = fakeLambda(local.sqs, remediation);
  const store = memoryStateStore();
  const reporter = recordingReporter();
  const log = recordingLog();
  const config = testConfig(local, overrides);
  const sqs = local.client();
  const tick = (extra: { sqs?: SQSClient; remainingTimeMs?: () => number } = {}) =>
    runCoordinator(testDeps({ sqs, lambda, ssm: pause.ssm, config, now: clock.now, store, reporter, log, ...extra }));
  const dispatchedIds = () => lambda.invocations.map((invocation) => invocation.request.instruction.id);
  return { clock, pause, lambda, store, reporter, log, config, sqs, tick, dispatchedIds };
}

const pick = (summary: CoordinatorSummary, ...keys: (keyof CoordinatorSummary)[]) =>
  Object.fromEntries(keys.map((key) => [key, summary[key]]));

describe("dispatch and visibility", () => {
  it("invokes the registered function asynchronously with a valid request; the message stays invisible", async () => {
    const t = setup();
    const sg = instruction(1);
    const bucket = instruction(2, { problem: "s3-public-acl" });
    await enqueue(local.sqs, local.queueUrl, [sg, bucket]);

    const summary = await t.tick();

    expect(pick(summary, "paused", "received", "dispatched", "deadLettered", "released")).toEqual({
      paused: false,
      received: 2,
      dispatched: 2,
      deadLettered: 0,
      released: 0,
    });
    const bySg = t.lambda.invocations.find((invocation) => invocation.request.instruction.id === sg.id)!;
    expect(bySg).toMatchObject({ functionName: FUNCTIONS["sg-open-ingress"], invocationType: "Event" });
    expect(bySg.request).toMatchObject({
      queueUrl: local.queueUrl,
      instruction: sg,
      attempt: 1,
      maxAttempts: 3,
      dispatchedAt: T0.toISOString(),
    });
    expect(bySg.request.receiptHandle).not.toBe("");
    expect(
      t.lambda.invocations.find((invocation) => invocation.request.instruction.id === bucket.id)?.functionName,
    ).toBe(FUNCTIONS["s3-public-acl"]);
    expect(await local.counts()).toEqual({ stored: 2, visible: 0, invisible: 2 });
    const second = await t.tick();
    expect(pick(second, "received", "dispatched")).toEqual({ received: 0, dispatched: 0 });
  });

  it("re-dispatches a message whose remediation failed once it reappears; success deletes it", async () => {
    let calls = 0;
    const t = setup({ dispatchVisibilitySeconds: 1 }, () => (++calls === 1 ? "fail" : "succeed"));
    const one = instruction(1);
    await enqueue(local.sqs, local.queueUrl, [one]);

    expect((await t.tick()).dispatched).toBe(1);
    expect((await t.tick()).received).toBe(0); // still invisible: the remediation is "running"
    await elapse(1_200);
    t.clock.advance(MINUTE);
    const retry = await t.tick();

    expect(pick(retry, "received", "dispatched", "duplicatesDeleted")).toEqual({
      received: 1,
      dispatched: 1,
      duplicatesDeleted: 0,
    });
    expect(t.lambda.invocations.map((invocation) => invocation.request.attempt)).toEqual([1, 2]);
    expect(t.lambda.invocations[1]!.request.messageId).toBe(t.lambda.invocations[0]!.request.messageId);
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
  });

  it("counts real dispatches, not receives: after maxAttempts failures the instruction is dead-lettered", async () => {
    const t = setup({ dispatchVisibilitySeconds: 1, maxAttempts: 3 });
    const one = instruction(1);
    await enqueue(local.sqs, local.queueUrl, [one]);

    for (let attempt = 1; attempt <= 3; attempt++) {
      expect((await t.tick()).dispatched).toBe(1);
      await elapse(1_150);
      t.clock.advance(MINUTE);
    }
    const last = await t.tick();

    expect(pick(last, "received", "dispatched", "deadLettered")).toEqual({
      received: 1,
      dispatched: 0,
      deadLettered: 1,
    });
    expect(t.lambda.invocations.map((invocation) => invocation.request.attempt)).toEqual([1, 2, 3]);
    expect(await local.counts()).toMatchObject({ stored: 0 });
    const [dead, ...more] = await local.drain(local.dlqUrl);
    expect(more).toHaveLength(0);
    expect(dead!.Body).toBe(serializeInstruction(one));
    expect(dead!.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue).toBe("remediation failed 3 times");
    expect(dead!.MessageAttributes?.[DLQ_SOURCE_MESSAGE_ATTRIBUTE]?.StringValue).toBe(
      t.lambda.invocations[0]!.request.messageId,
    );
    expect(dead!.MessageAttributes?.[DLQ_INSTRUCTION_ATTRIBUTE]?.StringValue).toBe(one.id);
    expect(t.reporter.of("dead-lettered")).toEqual([
      {
        kind: "dead-lettered",
        reason: "remediation failed 3 times",
        messageId: t.lambda.invocations[0]!.request.messageId,
        instructionId: one.id,
        problem: "sg-open-ingress",
        resource: one.resource,
      },
    ]);
    expect(t.store.current()!.instructions[one.id]).toMatchObject({ attempts: 0 });
  });

  it("does not count a failed Invoke as an attempt and makes the message visible again soon", async () => {
    let fail = true;
    const t = setup({ invokeRetryDelaySeconds: 1 }, () => (fail ? "throw" : "succeed"));
    const one = instruction(1);
    await enqueue(local.sqs, local.queueUrl, [one]);

    const first = await t.tick();
    expect(pick(first, "dispatched", "invokeFailures")).toEqual({ dispatched: 0, invokeFailures: 1 });
    expect(t.store.current()!.instructions[one.id]).toMatchObject({ attempts: 0 });
    expect(t.log.errors()).toEqual([
      expect.objectContaining({
        fields: expect.objectContaining({ instructionId: one.id, errorName: "TooManyRequestsException" }),
      }),
    ]);
    expect(await local.counts()).toMatchObject({ invisible: 1 });

    await elapse(1_150);
    fail = false;
    const second = await t.tick();
    expect(second.dispatched).toBe(1);
    expect(t.lambda.invocations[0]!.request.attempt).toBe(1);
  });

  it("counts an Invoke whose answer was lost as dispatched: no second remediation of the same message", async () => {
    const t = setup({ invokeRetryDelaySeconds: 1, dispatchVisibilitySeconds: 30 });
    const one = instruction(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    // The event reached Lambda but the connection broke before the 202 came back.
    const lost = t.lambda.send.bind(t.lambda);
    t.lambda.send = async (command) => {
      await lost(command);
      throw Object.assign(new Error("socket hang up"), { name: "TimeoutError", code: "ECONNRESET" });
    };

    const first = await t.tick();
    expect(pick(first, "dispatched", "invokeFailures")).toEqual({ dispatched: 1, invokeFailures: 0 });
    expect(t.store.current()!.instructions[one.id]).toMatchObject({ attempts: 1 });
    await elapse(1_150);
    // Past the invoke retry delay the message is still hidden for the remediation that may be running.
    expect((await t.tick()).dispatched).toBe(0);
    expect(t.lambda.invocations).toHaveLength(1);
    expect(await local.counts()).toMatchObject({ stored: 1, invisible: 1 });
  });

  it("stops receiving when the invocation's remaining time falls under the safety margin", async () => {
    const t = setup({ safetyMarginMs: 15_000 });
    await enqueue(
      local.sqs,
      local.queueUrl,
      Array.from({ length: 30 }, (_, n) => instruction(n)),
    );
    local.commands.length = 0;
    // 60 s left before the first receive, 14.999 s once it has been sent.
    const receives = () => local.commands.filter((name) => name === "ReceiveMessageCommand").length;
    const summary = await t.tick({ remainingTimeMs: () => (receives() === 0 ? 60_000 : 14_999) });
    // Nor does it act on what it received past the budget: released for the next tick.
    expect(pick(summary, "received", "dispatched", "released", "timeBudgetReached")).toEqual({
      received: 10,
      dispatched: 0,
      released: 10,
      timeBudgetReached: true,
    });
    expect(receives()).toBe(1);
    expect(await t.tick({ remainingTimeMs: () => 1_000 })).toMatchObject({ received: 0, sqsCalls: 0 });
  });
});

describe("validation", () => {
  it("dead-letters invalid messages at once with the reason; the good ones beside them are dispatched", async () => {
    const t = setup();
    const tampered = { ...instruction(9), annotation: "x", id: "0".repeat(32) };
    await enqueueRaw(local.sqs, local.queueUrl, ["not json at all", JSON.stringify(tampered)]);
    await enqueue(local.sqs, local.queueUrl, [instruction(1), instruction(2), instruction(3)]);

    const summary = await t.tick();

    expect(pick(summary, "received", "dispatched", "deadLettered")).toEqual({
      received: 5,
      dispatched: 3,
      deadLettered: 2,
    });
    const dead = await local.drain(local.dlqUrl);
    const reasons = dead.map((message) => message.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue).sort();
    expect(reasons).toEqual([
      expect.stringMatching(/^invalid instruction: id does not match/),
      expect.stringMatching(/^invalid instruction: message body is not JSON/),
    ]);
    expect(dead.map((message) => message.Body).sort()).toEqual(["not json at all", JSON.stringify(tampered)].sort());
    for (const message of dead) {
      expect(message.MessageAttributes?.[DLQ_SOURCE_MESSAGE_ATTRIBUTE]?.StringValue).toMatch(/^[0-9a-f-]{36}$/);
    }
    const reports = t.reporter.of("dead-lettered");
    expect(reports).toHaveLength(2);
    for (const report of reports) {
      expect(report.reason).toMatch(/^invalid instruction: /);
      expect(report.instructionId).toBeUndefined();
    }
    expect(await local.counts()).toEqual({ stored: 3, visible: 0, invisible: 3 });
    expect((await t.tick()).deadLettered).toBe(0);
  });

  it("dead-letters an instruction whose problem has no remediation function", async () => {
    const t = setup({ remediationFunctions: { "sg-open-ingress": "remedy-remediate-sg" } });
    const bucket = instruction(5, { problem: "s3-public-acl" });
    await enqueue(local.sqs, local.queueUrl, [bucket, instruction(6)]);

    const summary = await t.tick();

    expect(pick(summary, "dispatched", "deadLettered")).toEqual({ dispatched: 1, deadLettered: 1 });
    const [dead] = await local.drain(local.dlqUrl);
    expect(dead!.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue).toBe(
      "no remediation function registered for problem s3-public-acl",
    );
    expect(t.reporter.of("dead-lettered")).toEqual([
      expect.objectContaining({ instructionId: bucket.id, problem: "s3-public-acl", resource: bucket.resource }),
    ]);
  });
});

describe("duplicates", () => {
  it("dispatches an id once per tick and deletes its other copies after the dispatch", async () => {
    const t = setup();
    const one = instruction(1);
    const two = instruction(2);
    await enqueue(local.sqs, local.queueUrl, [one, one, two, one]);

    const summary = await t.tick();

    expect(pick(summary, "received", "dispatched", "duplicatesDeleted")).toEqual({
      received: 4,
      dispatched: 2,
      duplicatesDeleted: 2,
    });
    expect(t.dispatchedIds().sort()).toEqual([one.id, two.id].sort());
    expect(await local.counts()).toEqual({ stored: 2, visible: 0, invisible: 2 });
    const lines = t.log.lines.filter((line) => line.message === "duplicate deleted");
    expect(lines.map((line) => line.fields.instructionId)).toEqual([one.id, one.id]);
  });

  it("defers a newer capture of an instruction in flight until that attempt is over", async () => {
    const t = setup({ dispatchVisibilitySeconds: 30 });
    const spy = vi.spyOn(t.sqs, "send");
    const first = instruction(1);
    await enqueue(local.sqs, local.queueUrl, [first]);
    await t.tick();
    t.clock.advance(10_000);
    const recaptured = instruction(1, { capturedAt: t.clock.now() }); // same id: the port was opened again

    await enqueue(local.sqs, local.queueUrl, [recaptured]);
    const summary = await t.tick();

    expect(recaptured.id).toBe(first.id);
    expect(pick(summary, "dispatched", "deferred", "duplicatesDeleted")).toEqual({
      dispatched: 0,
      deferred: 1,
      duplicatesDeleted: 0,
    });
    const hides = spy.mock.calls
      .map(([command]) => command)
      .filter((command) => command instanceof ChangeMessageVisibilityCommand);
    expect(hides.map((command) => command.input.VisibilityTimeout)).toEqual([20]);
  });
});

describe("grace period", () => {
  it("hides an instruction until it is due and notifies once, across re-hides and re-detected copies", async () => {
    const t = setup();
    const spy = vi.spyOn(t.sqs, "send");
    const hiddenFor = () =>
      spy.mock.calls
        .map(([command]) => command)
        .filter((command) => command instanceof ChangeMessageVisibilityCommand)
        .map((command) => command.input.VisibilityTimeout);
    const due = new Date(T0.getTime() + 2_000);
    const one = instruction(1, { capturedAt: new Date(T0.getTime() - 5 * MINUTE), notBefore: due });
    await enqueue(local.sqs, local.queueUrl, [one]);

    const first = await t.tick();
    expect(pick(first, "received", "graceHidden", "dispatched")).toEqual({
      received: 1,
      graceHidden: 1,
      dispatched: 0,
    });
    expect(hiddenFor()).toEqual([2]);
    expect(t.reporter.of("grace")).toEqual([
      {
        kind: "grace",
        instructionId: one.id,
        problem: "sg-open-ingress",
        resource: one.resource,
        ruleId: "sg-open-ingress",
        notBefore: due.toISOString(),
        summary: one.annotation,
      },
    ]);
    await elapse(1_000);
    expect(await local.counts()).toMatchObject({ visible: 0, invisible: 1 }); // still hidden after 1 s

    // The real visibility ends; our clock says 1 s remain: hidden again, no second notice.
    await elapse(1_150);
    t.clock.advance(1_000);
    const second = await t.tick();
    expect(pick(second, "received", "graceHidden")).toEqual({ received: 1, graceHidden: 1 });
    expect(hiddenFor()).toEqual([2, 1]);

    // Config re-detects it: a second copy, also in grace, also silent.
    await enqueue(local.sqs, local.queueUrl, [one]);
    t.clock.advance(500);
    expect((await t.tick()).graceHidden).toBe(1);
    expect(t.reporter.of("grace")).toHaveLength(1);

    await elapse(1_150);
    t.clock.advance(1_000);
    let dispatched = 0;
    for (let tick = 0; tick < 3; tick++) {
      dispatched += (await t.tick()).dispatched;
      await elapse(300);
    }
    expect(dispatched).toBe(1);
    expect(t.dispatchedIds()).toEqual([one.id]);
    expect(t.reporter.of("grace")).toHaveLength(1);
    expect(
      t.log.lines
        .filter((line) => line.message.startsWith("in grace period"))
        .every((line) => line.fields.instructionId === one.id),
    ).toBe(true);
  });

  it("deletes the copies of an instruction hidden for grace in the same tick", async () => {
    const t = setup();
    const one = instruction(1, { notBefore: new Date(T0.getTime() + 10 * MINUTE) });
    await enqueue(local.sqs, local.queueUrl, [one, one]);
    expect(pick(await t.tick(), "graceHidden", "duplicatesDeleted")).toEqual({ graceHidden: 1, duplicatesDeleted: 1 });
    expect(await local.counts()).toEqual({ stored: 1, visible: 0, invisible: 1 });
  });
});

describe("rate limit", () => {
  it("spreads a backlog of 45 over windows at 20 per window, refusing none", async () => {
    const t = setup({ rateLimit: { count: 20, windowMinutes: 10 } }, () => "succeed");
    const backlog = Array.from({ length: 45 }, (_, n) => instruction(n));
    await enqueue(local.sqs, local.queueUrl, backlog);

    const first = await t.tick();
    expect(pick(first, "dispatched", "released", "deadLettered")).toEqual({
      dispatched: 20,
      released: 25,
      deadLettered: 0,
    });
    expect(await local.counts()).toEqual({ stored: 25, visible: 25, invisible: 0 });

    t.clock.advance(MINUTE);
    expect((await t.tick()).dispatched).toBe(0); // budget spent for this window: wait, do not refuse

    const perTick = [first.dispatched];
    for (let window = 1; window <= 2; window++) {
      t.clock.advance(10 * MINUTE);
      perTick.push((await t.tick()).dispatched);
    }
    expect(perTick).toEqual([20, 20, 5]);
    expect(new Set(t.dispatchedIds())).toEqual(new Set(backlog.map((each) => each.id)));
    expect(t.dispatchedIds()).toHaveLength(45);
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
    expect(await local.counts(local.dlqUrl)).toMatchObject({ stored: 0 });
  });
});

describe("circuit breaker", () => {
  const breakerConfig = { rateLimit: { count: 20, windowMinutes: 10 }, breaker: { freshLimit: 50, windowMinutes: 10 } };

  it("trips on more than 50 fresh instructions seen at once: pauses, reports, dispatches none of them", async () => {
    const t = setup(breakerConfig, () => "succeed");
    const burst = Array.from({ length: 60 }, (_, n) => instruction(n, { capturedAt: new Date(T0.getTime() - MINUTE) }));
    await enqueue(local.sqs, local.queueUrl, burst);

    const summary = await t.tick();

    // The tick reads the burst before acting on any of it: nothing of a bad template's burst is remediated.
    expect(pick(summary, "breakerTripped", "dispatched", "released")).toEqual({
      breakerTripped: true,
      dispatched: 0,
      released: 60,
    });
    expect(t.pause.state()).toMatchObject({ paused: true, by: "circuit-breaker" });
    expect(t.pause.state()!.reason).toMatch(/60 fresh instructions within 10 minutes \(limit 50\)/);
    const [report, ...others] = t.reporter.of("breaker-tripped");
    expect(others).toHaveLength(0);
    expect(report).toMatchObject({
      freshInstructions: 60,
      limit: 50,
      windowMinutes: 10,
      resumeCommand: "remedy resume",
    });
    expect(report!.sample).toHaveLength(10);
    for (const line of report!.sample) expect(line).toMatch(/^sg-open-ingress sg-[0-9a-f]{17}$/);
    expect(await local.counts()).toEqual({ stored: 60, visible: 60, invisible: 0 });

    t.clock.advance(MINUTE);
    local.commands.length = 0;
    const paused = await t.tick();
    expect(pick(paused, "paused", "dispatched", "sqsCalls")).toEqual({ paused: true, dispatched: 0, sqsCalls: 0 });
    expect(local.commands).toEqual([]);

    // A person looks, then resumes: what was seen before the resume does not count again.
    t.clock.advance(MINUTE);
    await resume(t.pause.ssm, PAUSE_PARAMETER, { by: "alice", now: t.clock.now() });
    // The rate limit then spreads the reviewed backlog: 20 per 10 minutes.
    const afterResume = await t.tick();
    expect(pick(afterResume, "breakerTripped", "dispatched")).toEqual({ breakerTripped: false, dispatched: 20 });
    t.clock.advance(10 * MINUTE);
    expect(pick(await t.tick(), "breakerTripped", "dispatched")).toEqual({ breakerTripped: false, dispatched: 20 });
    t.clock.advance(10 * MINUTE);
    expect(pick(await t.tick(), "breakerTripped", "dispatched")).toEqual({ breakerTripped: false, dispatched: 20 });
    expect(t.reporter.of("breaker-tripped")).toHaveLength(1);
    expect(new Set(t.dispatchedIds()).size).toBe(60);
  });

  it("does not trip on an old backlog of 200, however much of it one tick sees", async () => {
    const t = setup({ ...breakerConfig, rateLimit: { count: 1_000, windowMinutes: 10 } }, () => "succeed");
    const old = Array.from({ length: 200 }, (_, n) =>
      instruction(n, { capturedAt: new Date(T0.getTime() - 3 * 60 * MINUTE) }),
    );
    await enqueue(local.sqs, local.queueUrl, old);

    const summary = await t.tick();

    expect(pick(summary, "breakerTripped", "dispatched")).toEqual({ breakerTripped: false, dispatched: 200 });
    expect(t.pause.state()).toMatchObject({ paused: false });
    expect(t.reporter.of("breaker-tripped")).toHaveLength(0);
  });

  it("does not trip on an old backlog under the default rate limit either", async () => {
    const t = setup(breakerConfig, () => "succeed");
    const old = Array.from({ length: 200 }, (_, n) =>
      instruction(n, { capturedAt: new Date(T0.getTime() - 3 * 60 * MINUTE) }),
    );
    await enqueue(local.sqs, local.queueUrl, old);
    const summary = await t.tick();
    expect(pick(summary, "breakerTripped", "dispatched")).toEqual({ breakerTripped: false, dispatched: 20 });
    // Past the budget it looks at one more batch than the breaker's limit (rounded up to whole batches).
    expect(summary.released).toBe(60);
    expect(await local.counts()).toEqual({ stored: 180, visible: 180, invisible: 0 });
  });
});

describe("overlapping coordinators", () => {
  it("dispatches every instruction exactly once when two drain the same queue at the same time", async () => {
    const t = setup({}, () => "succeed");
    const instructions = Array.from({ length: 120 }, (_, n) => instruction(n));
    await enqueue(local.sqs, local.queueUrl, instructions);
    const other = local.client();

    const [a, b] = await Promise.all([t.tick(), t.tick({ sqs: other })]);

    expect(a.dispatched + b.dispatched).toBe(120);
    expect(a.dispatched).toBeGreaterThan(0);
    expect(b.dispatched).toBeGreaterThan(0);
    expect(t.dispatchedIds()).toHaveLength(120);
    expect(new Set(t.dispatchedIds()).size).toBe(120);
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
    // The second save hit the first one's write, merged and saved again: nothing of either tick is lost.
    expect(t.store.conflicts).toBe(1);
    const state = t.store.current()!;
    expect(Object.keys(state.instructions)).toHaveLength(120);
    expect(state.dispatches).toHaveLength(120);
    expect(Object.values(state.instructions).every((record) => record.attempts === 1)).toBe(true);
  });
});

describe("declared permissions", () => {
  it("sends no AWS command that permissions.ts does not declare", async () => {
    const t = setup({ rateLimit: { count: 2, windowMinutes: 10 }, breaker: { freshLimit: 3, windowMinutes: 10 } });
    await enqueueRaw(local.sqs, local.queueUrl, ["{}"]);
    await enqueue(local.sqs, local.queueUrl, [
      instruction(1),
      instruction(1),
      instruction(2),
      instruction(3),
      instruction(4, { notBefore: new Date(T0.getTime() + MINUTE) }),
    ]);
    await enqueue(
      local.sqs,
      local.queueUrl,
      [5, 6, 7, 8, 9].map((n) => instruction(n, { capturedAt: T0 })),
    );
    local.commands.length = 0;
    await t.tick();
    await t.tick();

    const sent = new Set([
      ...local.commands,
      ...t.pause.mock.calls().map((call) => call.args[0].constructor.name),
      "InvokeCommand",
    ]);
    expect(sent).toContain("ChangeMessageVisibilityBatchCommand");
    expect(sent).toContain("PutParameterCommand");
    for (const command of sent) expect(Object.keys(coordinatorPermissions)).toContain(command);
  });
});

describe("queue I/O (queue-io.ts, no decisions)", () => {
  function queueIo(deadLetterQueueUrl = local.dlqUrl) {
    const log = recordingLog();
    const settings = { queueUrl: local.queueUrl, deadLetterQueueUrl, receiveWaitSeconds: 0 };
    return { log, queue: new CoordinatorQueue(local.client(), settings, log) };
  }

  it("receives ten at a time, hidden for the visibility asked; releases in batches of ten; counts every call", async () => {
    const { queue } = queueIo();
    await enqueue(
      local.sqs,
      local.queueUrl,
      Array.from({ length: 25 }, (_, n) => instruction(n)),
    );
    const batches = [await queue.receive(30), await queue.receive(30), await queue.receive(30)];
    expect(batches.map((batch) => batch.length)).toEqual([10, 10, 5]);
    expect(await local.counts()).toEqual({ stored: 25, visible: 0, invisible: 25 });

    local.commands.length = 0;
    const released = await queue.release(batches.flat().map((message) => ({ message })));
    expect(released).toBe(25);
    expect(local.commands).toEqual(Array(3).fill("ChangeMessageVisibilityBatchCommand"));
    expect(await local.counts()).toEqual({ stored: 25, visible: 25, invisible: 0 });
    expect(queue.calls).toBe(6);
  });

  it("sends release batches several at once, and none once the caller's time budget says no", async () => {
    const log = recordingLog();
    const sqs = local.client();
    const settings = { queueUrl: local.queueUrl, deadLetterQueueUrl: local.dlqUrl, receiveWaitSeconds: 0 };
    const queue = new CoordinatorQueue(sqs, settings, log);
    let inFlight = 0;
    let maxInFlight = 0;
    const send = sqs.send.bind(sqs) as (...args: unknown[]) => Promise<unknown>;
    (sqs as unknown as { send: typeof send }).send = async (...args) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await send(...args);
      } finally {
        inFlight--;
      }
    };
    await enqueue(
      local.sqs,
      local.queueUrl,
      Array.from({ length: 50 }, (_, n) => instruction(n)),
    );
    const messages: Message[] = [];
    while (messages.length < 50) messages.push(...(await queue.receive(30)));
    local.commands.length = 0;
    maxInFlight = 0;
    let asked = 0;
    // Three batches at once; the fourth question is answered no: the fourth and fifth batches stay unsent.
    const released = await queue.release(
      messages.map((message) => ({ message })),
      { concurrency: 3, canStart: () => ++asked <= 3 },
    );
    expect(released).toBe(30);
    expect(maxInFlight).toBe(3);
    expect(local.commands).toEqual(Array(3).fill("ChangeMessageVisibilityBatchCommand"));
    expect(await local.counts()).toEqual({ stored: 50, visible: 30, invisible: 20 });
    expect(log.lines.filter((line) => line.level === "warn")).toEqual([
      expect.objectContaining({
        message: "time budget spent: messages not released, they reappear when their visibility ends",
        fields: { messages: 20 },
      }),
    ]);
  });

  it("dead-letters by sending first and deleting after; a DLQ that refuses leaves the message on the queue", async () => {
    const one = instruction(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    const refused = queueIo(`${local.dlqUrl}-missing`);
    const [message] = await refused.queue.receive(30);

    expect(await refused.queue.deadLetter(message!, { reason: "r", instructionId: one.id })).toBe(false);
    expect(refused.log.errors()).toEqual([
      expect.objectContaining({
        message: "could not dead-letter message: left on the queue",
        fields: expect.objectContaining({ instructionId: one.id, errorName: "QueueDoesNotExist" }),
      }),
    ]);
    expect(await local.counts()).toMatchObject({ stored: 1 });

    const { queue } = queueIo();
    expect(await queue.deadLetter(message!, { reason: "remediation failed 3 times", instructionId: one.id })).toBe(
      true,
    );
    expect(await local.counts()).toMatchObject({ stored: 0 });
    const [dead] = await local.drain(local.dlqUrl);
    expect(dead!.Body).toBe(serializeInstruction(one));
    expect(dead!.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue).toBe("remediation failed 3 times");
    expect(dead!.MessageAttributes?.[DLQ_SOURCE_MESSAGE_ATTRIBUTE]?.StringValue).toBe(message!.MessageId);
    expect(dead!.MessageAttributes?.[DLQ_INSTRUCTION_ATTRIBUTE]?.StringValue).toBe(one.id);
  });

  it("deletes duplicates by receipt handle; one that SQS refuses is logged, not counted, and holds back no other", async () => {
    const { queue, log } = queueIo();
    await enqueue(local.sqs, local.queueUrl, [instruction(1), instruction(2)]);
    const messages = await queue.receive(30);
    const entries = [
      ...messages.map((message, n) => ({ message, instructionId: `i-${n}` })),
      { message: { ReceiptHandle: "stale" }, instructionId: "i-stale" },
    ];

    expect(await queue.deleteDuplicates(entries)).toBe(2);
    expect(await local.counts()).toMatchObject({ stored: 0 });
    expect(log.lines.filter((line) => line.level === "warn")).toEqual([
      expect.objectContaining({
        message: "duplicate not deleted: it will be seen again",
        fields: { instructionId: "i-stale", code: "ReceiptHandleIsInvalid" },
      }),
    ]);
  });
});
