// `remedy peek` must be harmless: reading the queue any number of times while auto-response is off never moves a
// message to the DLQ, loses it, or delays its fix past the next tick once auto-response is on.
import { describe, expect, it } from "vitest";
import { peekQueue } from "../../cli/peek.ts";
import { runCoordinator } from "../../functions/coordinator/tick.ts";
import type { LocalSqs } from "../helpers/local-sqs.ts";
import { localSqsPerTest } from "../helpers/local-sqs-per-test.ts";
import {
  enqueue,
  enqueueRaw,
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  instruction,
  pausedBy,
  running,
  T0,
  testConfig,
  testDeps,
} from "./support.ts";

let local: LocalSqs;
localSqsPerTest((server) => {
  local = server;
});

describe("peekQueue", () => {
  it("groups what is queued by instruction id and leaves every message visible", async () => {
    const first = instruction(1, { notBefore: new Date(T0.getTime() + 60_000) });
    const second = instruction(2);
    await enqueue(local.sqs, local.queueUrl, [first, second, first]);
    await enqueueRaw(local.sqs, local.queueUrl, ['{"version":1}']);

    const result = await peekQueue(local.sqs, local.queueUrl, { maxMessages: 100, waitSeconds: 0 });

    expect(result.messages).toHaveLength(4);
    expect(result.truncated).toBe(false);
    expect(result.groups.map((group) => [group.id, group.count])).toEqual([
      [second.id, 1],
      [first.id, 2],
    ]);
    expect(result.groups[1]).toMatchObject({
      due: first.notBefore,
      problem: "sg-open-ingress",
      resource: first.resource,
      matched: first.matched,
      annotation: first.annotation,
      firstSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(result.groups[1]!.messageIds).toHaveLength(2);
    expect(result.invalid).toEqual([
      expect.objectContaining({ body: '{"version":1}', reason: expect.stringMatching(/^id: /) }),
    ]);
    expect(await local.counts()).toEqual({ stored: 4, visible: 4, invisible: 0 });
  });

  it("stops at maxMessages, says so, and still releases what it read", async () => {
    await enqueue(
      local.sqs,
      local.queueUrl,
      Array.from({ length: 25 }, (_, n) => instruction(n)),
    );
    const result = await peekQueue(local.sqs, local.queueUrl, { maxMessages: 12, waitSeconds: 0 });
    expect(result.messages).toHaveLength(12);
    expect(result.truncated).toBe(true);
    expect(await local.counts()).toEqual({ stored: 25, visible: 25, invisible: 0 });
  });

  it("20 peeks while paused: nothing dead-lettered, nothing lost, all visible; then one tick dispatches all", async () => {
    const instructions = Array.from({ length: 15 }, (_, n) => instruction(n));
    await enqueue(local.sqs, local.queueUrl, instructions);
    const pause = fakePauseParameter(pausedBy("alice"));
    const clock = fakeClock();
    const lambda = fakeLambda(local.sqs, () => "succeed");
    const deps = testDeps({
      sqs: local.client(),
      lambda,
      ssm: pause.ssm,
      config: testConfig(local, { maxAttempts: 3 }),
      now: clock.now,
    });

    for (let peek = 1; peek <= 20; peek++) {
      const summary = await runCoordinator(deps);
      expect(summary).toMatchObject({ paused: true, received: 0, sqsCalls: 0 });
      const result = await peekQueue(local.sqs, local.queueUrl, { maxMessages: 1_000, waitSeconds: 0 });
      expect(result.groups).toHaveLength(15);
      expect(await local.counts()).toEqual({ stored: 15, visible: 15, invisible: 0 });
      if (peek === 20) {
        // Peeks inflate SQS's receive count, which is why the queue has no maxReceiveCount redrive. (local-aws-sqs
        // also counts each visibility change, so only a lower bound holds here.)
        expect(result.messages).toHaveLength(15);
        for (const message of result.messages) {
          expect(Number(message.Attributes?.ApproximateReceiveCount)).toBeGreaterThanOrEqual(20);
        }
      }
      clock.advance(60_000);
    }
    expect(await local.counts(local.dlqUrl)).toMatchObject({ stored: 0 });
    expect(lambda.invocations).toHaveLength(0);

    pause.set(running(clock.now()));
    const summary = await runCoordinator(deps);

    expect(summary).toMatchObject({ paused: false, dispatched: 15, deadLettered: 0 });
    expect(lambda.invocations.every((invocation) => invocation.request.attempt === 1)).toBe(true);
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
    expect(await local.counts(local.dlqUrl)).toMatchObject({ stored: 0 });
  });
});
