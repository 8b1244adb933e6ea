// Slack buttons, the coordinator's side, against a real SQS-protocol server (local-aws-sqs): the pending record left
// at each grace hide (its receipt really makes the message visible, as the interactions function's Fix now does),
// the Fix now and Snooze decisions honoured as claims re-checked with the deployed approvers, and nothing else
// changed by them (pause, rate limit). The ledger bucket is an in-memory map behind aws-sdk-client-mock; the
// coordinator's clock is a fake one, the server's timers vitest's fake timers.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { ChangeMessageVisibilityCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { type DecisionRecord, decisionKey } from "../../contract/decisions.ts";
import type { Instruction } from "../../contract/instruction.ts";
import { type PendingInstruction, parsePendingRecord, pendingKey } from "../../contract/pending.ts";
import type { InteractiveConfig } from "../../functions/coordinator/interactive.ts";
import { type CoordinatorState, emptyState, memoryStateStore } from "../../functions/coordinator/state.ts";
import { type CoordinatorConfig, type CoordinatorSummary, runCoordinator } from "../../functions/coordinator/tick.ts";
import { parseApproverSettings } from "../../platform/approvers.ts";
import type { LocalSqs } from "../helpers/local-sqs.ts";
import { localSqsPerTest } from "../helpers/local-sqs-per-test.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { awsError } from "../support/kit.ts";
import {
  enqueue,
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  instruction,
  pausedBy,
  recordingReporter,
  running,
  T0,
  testConfig,
  testDeps,
} from "./support.ts";

let local: LocalSqs;
localSqsPerTest((server) => {
  local = server;
});

const MINUTE = 60_000;
const BUCKET = "remedy-ledger-123456789012-us-east-1";
const APPROVER = "U012ALICE0";
const STRANGER = "U012MALLORY";
const SNOOZE_MINUTES = 60;
const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);

const INTERACTIVE: InteractiveConfig = {
  bucket: BUCKET,
  approvers: parseApproverSettings({
    approvers: { fixNow: [{ users: [APPROVER] }], snooze: [{ users: [APPROVER], accounts: ["123456789012"] }] },
  }),
  snoozeMinutes: SNOOZE_MINUTES,
};

/** The ledger bucket in memory, behind a mocked S3Client. */
const s3Mock = mockClient(S3Client);
const objects = new Map<string, string>();
beforeEach(() => {
  s3Mock.reset();
  objects.clear();
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
    objects.set(input.Key, String(input.Body));
    return { ETag: '"1"' };
  });
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const text = objects.get(input.Key);
    if (text === undefined) throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} });
    return { Body: { transformToString: async () => text } };
  });
  s3Mock.on(DeleteObjectCommand).callsFake((input: { Key: string }) => {
    objects.delete(input.Key);
    return {};
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: [...objects.keys()].filter((key) => key.startsWith(input.Prefix)).map((Key) => ({ Key })),
    IsTruncated: false,
  }));
});

function setup(overrides: Partial<CoordinatorConfig> = { interactive: INTERACTIVE }, initial?: CoordinatorState) {
  const clock = fakeClock();
  const pause = fakePauseParameter();
  const lambda = fakeLambda(local.sqs);
  const store = memoryStateStore(initial);
  const reporter = recordingReporter();
  const log = recordingLog();
  const metrics = recordingMetrics();
  let config = testConfig(local, overrides);
  const sqs = local.client();
  const s3 = new S3Client({ region: "us-east-1" });
  const tick = (extra: { sqs?: SQSClient } = {}) =>
    runCoordinator(
      testDeps({ sqs, lambda, ssm: pause.ssm, config, now: clock.now, store, reporter, log, metrics, s3, ...extra }),
    );
  const reconfigure = (changes: Partial<CoordinatorConfig>) => {
    config = { ...config, ...changes };
  };
  const dispatchedIds = () => lambda.invocations.map((invocation) => invocation.request.instruction.id);
  return { clock, pause, lambda, store, reporter, log, metrics, sqs, s3, tick, reconfigure, dispatchedIds };
}

const pick = (summary: CoordinatorSummary, ...keys: (keyof CoordinatorSummary)[]) =>
  Object.fromEntries(keys.map((key) => [key, summary[key]]));

function pending(instructionId: string): PendingInstruction | undefined {
  const text = objects.get(pendingKey(instructionId));
  return text === undefined ? undefined : parsePendingRecord(JSON.parse(text), instructionId);
}

/** A press recorded by the interactions function (its decision record). */
function press(one: Instruction, action: "fix-now" | "snooze", by: string, at: Date): void {
  const record: DecisionRecord = {
    version: 1,
    decisionId: `dec-${action}-${at.getTime()}`,
    action,
    target: { instructionId: one.id },
    by: { slackUserId: by, teamId: "T0TEAM0001" },
    at: at.toISOString(),
  };
  objects.set(decisionKey(record.target, action), JSON.stringify(record));
}

/** What the interactions function does on Fix now: the hidden message made visible with the pending receipt. */
async function makeVisible(one: Instruction): Promise<void> {
  const record = pending(one.id);
  if (!record) throw new Error("no pending record");
  await local.sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: local.queueUrl,
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: 0,
    }),
  );
}

/** An instruction seen first at T0, due (grace ends) `graceMinutes` later. */
function inGrace(n: number, graceMinutes = 30): Instruction {
  return instruction(n, {
    capturedAt: new Date(T0.getTime() - MINUTE),
    notBefore: new Date(T0.getTime() + graceMinutes * MINUTE),
  });
}

describe("the pending record", () => {
  it("is written once the grace notice is sent, with this receive's receipt, and works as Fix now's key", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);

    const first = await t.tick();
    expect(pick(first, "graceHidden", "dispatched", "pendingRecordFailures")).toEqual({
      graceHidden: 1,
      dispatched: 0,
      pendingRecordFailures: 0,
    });
    expect(t.reporter.of("grace")).toHaveLength(1);
    const record = pending(one.id)!;
    expect(record).toMatchObject({
      version: 1,
      instruction: one,
      dueAt: one.notBefore,
      hiddenUntil: new Date(T0.getTime() + 30 * MINUTE).toISOString(),
      // First seen now: a decision from before is about an earlier detection (the endpoint may replace it).
      decisionsFrom: T0.toISOString(),
      at: T0.toISOString(),
    });
    expect(record.messageId).not.toBe("");
    expect(await local.counts()).toMatchObject({ visible: 0, invisible: 1 });
    await makeVisible(one);
    expect(await local.counts()).toMatchObject({ visible: 1, invisible: 0 });
  });

  it("is overwritten with the new receipt at a later look, and not written while the notice is unsent", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    const failing = recordingReporter({ fail: true });
    expect((await runCoordinatorWith(t, { reporter: failing })).graceHidden).toBe(1);
    expect(pending(one.id)).toBeUndefined(); // no notice, no button
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);

    await elapse(61_000);
    t.clock.advance(MINUTE);
    expect((await t.tick()).graceHidden).toBe(1);
    const first = pending(one.id)!;
    expect(first.at).toBe(new Date(T0.getTime() + MINUTE).toISOString());

    await makeVisible(one);
    t.clock.advance(MINUTE);
    expect((await t.tick()).graceHidden).toBe(1);
    const second = pending(one.id)!;
    expect(second.receiptHandle).not.toBe(first.receiptHandle);
    expect(second.at).toBe(new Date(T0.getTime() + 2 * MINUTE).toISOString());
    expect(t.reporter.of("grace")).toHaveLength(1);
  });

  it("a failed write is logged and counted; the message stays hidden and the tick goes on", async () => {
    const t = setup();
    s3Mock.on(PutObjectCommand).rejects(awsError("AccessDenied", 403));
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one, instruction(2)]);
    const summary = await t.tick();
    expect(pick(summary, "graceHidden", "dispatched", "pendingRecordFailures")).toEqual({
      graceHidden: 1,
      dispatched: 1,
      pendingRecordFailures: 1,
    });
    expect(t.metrics.counts.PendingRecordFailures).toBe(1);
    expect(t.log.lines).toContainEqual(
      expect.objectContaining({ level: "warn", fields: expect.objectContaining({ instructionId: one.id }) }),
    );
    expect(await local.counts()).toMatchObject({ visible: 0, invisible: 2 });
  });

  it("is deleted when the message is dead-lettered", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    expect(pending(one.id)).toBeDefined();
    await makeVisible(one);
    t.reconfigure({ remediationFunctions: {} });
    expect((await t.tick()).deadLettered).toBe(1);
    expect(pending(one.id)).toBeUndefined();
  });
});

/** Runs one tick of `t` with other deps (a failing reporter). */
function runCoordinatorWith(t: ReturnType<typeof setup>, extra: { reporter: ReturnType<typeof recordingReporter> }) {
  return runCoordinator(
    testDeps({
      sqs: t.sqs,
      lambda: t.lambda,
      ssm: t.pause.ssm,
      config: testConfig(local, { interactive: INTERACTIVE }),
      now: t.clock.now,
      store: t.store,
      log: t.log,
      s3: t.s3,
      ...extra,
    }),
  );
}

describe("Fix now", () => {
  it("by an approver: dispatched on the tick that sees it, and its pending record deleted", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();

    t.clock.advance(2 * MINUTE);
    press(one, "fix-now", APPROVER, t.clock.now());
    await makeVisible(one);
    t.clock.advance(10_000);
    const summary = await t.tick();
    expect(pick(summary, "dispatched", "graceHidden", "fixNowHonoured", "decisionsIgnored")).toEqual({
      dispatched: 1,
      graceHidden: 0,
      fixNowHonoured: 1,
      decisionsIgnored: 0,
    });
    expect(t.dispatchedIds()).toEqual([one.id]);
    expect(t.metrics.counts.FixNowHonoured).toBe(1);
    expect(pending(one.id)).toBeUndefined();
    expect(s3Mock).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: BUCKET, Key: pendingKey(one.id) });
  });

  it("a retry of a remediation Fix now started does not wait for the grace period either", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    t.clock.advance(MINUTE);
    press(one, "fix-now", APPROVER, t.clock.now());
    await makeVisible(one);
    expect((await t.tick()).dispatched).toBe(1);
    // The remediation failed: the message is back when the dispatch visibility (30 s here) ends.
    await elapse(31_000);
    t.clock.advance(MINUTE);
    expect(pick(await t.tick(), "dispatched", "graceHidden", "decisionsIgnored")).toEqual({
      dispatched: 1,
      graceHidden: 0,
      decisionsIgnored: 0,
    });
    expect(t.lambda.invocations.map((invocation) => invocation.request.attempt)).toEqual([1, 2]);
  });

  it("by someone the approvers do not name: ignored (logged, counted), the message stays hidden", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();

    t.clock.advance(2 * MINUTE);
    press(one, "fix-now", STRANGER, t.clock.now());
    await makeVisible(one);
    const summary = await t.tick();
    expect(pick(summary, "dispatched", "graceHidden", "fixNowHonoured", "decisionsIgnored")).toEqual({
      dispatched: 0,
      graceHidden: 1,
      fixNowHonoured: 0,
      decisionsIgnored: 1,
    });
    expect(t.log.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "Slack decision not honoured",
        fields: expect.objectContaining({
          key: `decisions/${one.id}/fix-now.json`,
          reason: expect.stringContaining(`${STRANGER} is not in approvers.fixNow`),
        }),
      }),
    );
    expect(await local.counts()).toMatchObject({ visible: 0, invisible: 1 });
    expect(pending(one.id)?.dueAt).toBe(one.notBefore);
  });

  it("pressed before the coordinator first saw the instruction (an earlier detection's): ignored", async () => {
    const t = setup();
    const one = inGrace(1);
    press(one, "fix-now", APPROVER, new Date(T0.getTime() - 60 * MINUTE));
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    await makeVisible(one);
    t.clock.advance(MINUTE);
    expect(pick(await t.tick(), "dispatched", "graceHidden", "decisionsIgnored")).toEqual({
      dispatched: 0,
      graceHidden: 1,
      decisionsIgnored: 1,
    });
  });

  it("changes only the due time: the pause switch and a spent rate budget still hold it", async () => {
    const recent = { ...emptyState(), dispatches: [new Date(T0.getTime() - MINUTE).toISOString()] };
    const t = setup({ interactive: INTERACTIVE, rateLimit: { count: 1, windowMinutes: 10 } }, recent);
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    t.clock.advance(MINUTE);
    press(one, "fix-now", APPROVER, t.clock.now());
    await makeVisible(one);

    t.pause.set(pausedBy("alice"));
    expect(pick(await t.tick(), "paused", "dispatched")).toEqual({ paused: true, dispatched: 0 });

    t.pause.set(running());
    const limited = await t.tick();
    expect(pick(limited, "dispatched", "released", "fixNowHonoured")).toEqual({
      dispatched: 0,
      released: 1,
      fixNowHonoured: 0,
    });
    expect(t.dispatchedIds()).toEqual([]);

    // Once the window has room again, it goes.
    t.clock.advance(10 * MINUTE);
    const freed = await t.tick();
    expect(pick(freed, "dispatched", "fixNowHonoured")).toEqual({ dispatched: 1, fixNowHonoured: 1 });
  });

  it("unreadable decisions keep the grace period (never an early fix)", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    press(one, "fix-now", APPROVER, new Date(T0.getTime() + MINUTE));
    await makeVisible(one);
    t.clock.advance(2 * MINUTE);
    s3Mock.on(ListObjectsV2Command).rejects(awsError("AccessDenied", 403));
    expect(pick(await t.tick(), "dispatched", "graceHidden", "fixNowHonoured")).toEqual({
      dispatched: 0,
      graceHidden: 1,
      fixNowHonoured: 0,
    });
    expect(t.log.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "could not read the Slack decisions: keeping the grace period's due time",
        fields: expect.objectContaining({ instructionId: one.id }),
      }),
    );
  });
});

describe("Snooze", () => {
  it("hides the instruction until its grace period's end plus the deployed snooze, then dispatches it", async () => {
    const t = setup();
    const spy = vi.spyOn(t.sqs, "send");
    const hides = () =>
      spy.mock.calls
        .map(([command]) => command)
        .filter((command) => command instanceof ChangeMessageVisibilityCommand)
        .map((command) => command.input.VisibilityTimeout);
    const one = inGrace(1, 10);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    expect(hides()).toEqual([600]);

    t.clock.advance(MINUTE);
    press(one, "snooze", APPROVER, t.clock.now());
    // The grace period ends: the message is back, and snoozed.
    await elapse(600_000);
    t.clock.advance(9 * MINUTE);
    const snoozed = await t.tick();
    expect(pick(snoozed, "dispatched", "graceHidden", "snoozeHonoured")).toEqual({
      dispatched: 0,
      graceHidden: 1,
      snoozeHonoured: 1,
    });
    expect(hides()).toEqual([600, SNOOZE_MINUTES * 60]);
    const dueAt = new Date(T0.getTime() + (10 + SNOOZE_MINUTES) * MINUTE).toISOString();
    expect(pending(one.id)).toMatchObject({ dueAt, hiddenUntil: dueAt });
    expect(t.metrics.counts.SnoozeHonoured).toBe(1);

    await elapse(SNOOZE_MINUTES * MINUTE);
    t.clock.advance(SNOOZE_MINUTES * MINUTE);
    expect(pick(await t.tick(), "dispatched", "snoozeHonoured")).toEqual({ dispatched: 1, snoozeHonoured: 0 });
    expect(pending(one.id)).toBeUndefined();
  });

  it("past its grace period with the decisions unreadable: held for a later tick, never fixed (a Snooze may stand)", async () => {
    const t = setup();
    const one = inGrace(1, 10);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    t.clock.advance(MINUTE);
    press(one, "snooze", APPROVER, t.clock.now());
    await elapse(600_000);
    t.clock.advance(9 * MINUTE);
    s3Mock.on(ListObjectsV2Command).rejects(awsError("ServiceUnavailable", 503));
    expect(pick(await t.tick(), "dispatched", "graceHidden", "released")).toEqual({
      dispatched: 0,
      graceHidden: 0,
      released: 1,
    });
    expect(t.log.lines).toContainEqual(
      expect.objectContaining({
        message: "Slack decisions unreadable past its grace period: held for a later tick",
        fields: { instructionId: one.id },
      }),
    );
  });

  it("a later Fix now wins over an earlier Snooze", async () => {
    const t = setup();
    const one = inGrace(1);
    await enqueue(local.sqs, local.queueUrl, [one]);
    await t.tick();
    press(one, "snooze", APPROVER, new Date(T0.getTime() + MINUTE));
    press(one, "fix-now", APPROVER, new Date(T0.getTime() + 2 * MINUTE));
    await makeVisible(one);
    t.clock.advance(3 * MINUTE);
    expect(pick(await t.tick(), "dispatched", "fixNowHonoured")).toEqual({ dispatched: 1, fixNowHonoured: 1 });
  });
});

describe("without Slack buttons", () => {
  it("nothing new happens: no ledger-bucket calls, the grace period as before", async () => {
    const t = setup({});
    const one = inGrace(1, 1);
    press(one, "fix-now", APPROVER, T0);
    s3Mock.resetHistory();
    await enqueue(local.sqs, local.queueUrl, [one, instruction(2)]);
    expect(pick(await t.tick(), "graceHidden", "dispatched")).toEqual({ graceHidden: 1, dispatched: 1 });
    await elapse(60_000);
    t.clock.advance(MINUTE);
    const due = await t.tick();
    expect(t.dispatchedIds().filter((id) => id === one.id)).toHaveLength(1);
    expect(pick(due, "fixNowHonoured", "decisionsIgnored", "pendingRecordFailures")).toEqual({
      fixNowHonoured: 0,
      decisionsIgnored: 0,
      pendingRecordFailures: 0,
    });
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it("refuses Slack buttons without the ledger bucket's client", async () => {
    const t = setup();
    await expect(
      runCoordinator(
        testDeps({
          sqs: t.sqs,
          lambda: t.lambda,
          ssm: t.pause.ssm,
          config: testConfig(local, { interactive: INTERACTIVE }),
          now: t.clock.now,
        }),
      ),
    ).rejects.toThrow(/needs the ledger bucket's S3 client/);
  });
});
