// The coordinator and `remedy peek` treat every queue message as a claim: a poison body, or an instruction for
// another account or region or from the future, is dead-lettered with its reason (never dispatched), and it never
// takes down the tick or the valid messages received beside it. Real SQS protocol (local-aws-sqs).
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { buildInstructions, type Instruction } from "../../contract/instruction.ts";
import { DLQ_REASON_ATTRIBUTE } from "../../functions/coordinator/queue-io.ts";
import { memoryStateStore } from "../../functions/coordinator/state.ts";
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
  recordingReporter,
  T0,
  testConfig,
  testDeps,
} from "./support.ts";

let local: LocalSqs;
localSqsPerTest((server) => {
  local = server;
});

/** About 240 KB, nested 40,000 levels deep: JSON.parse copes, every recursive step after it would not. */
const POISON = `${'{"a":'.repeat(40_000)}1${"}".repeat(40_000)}`;

function setup() {
  const clock = fakeClock();
  const pause = fakePauseParameter();
  const lambda = fakeLambda(local.sqs, () => "succeed");
  const reporter = recordingReporter();
  const config = testConfig(local);
  const tick = () =>
    runCoordinator(
      testDeps({
        sqs: local.client(),
        lambda,
        ssm: pause.ssm,
        config,
        now: clock.now,
        store: memoryStateStore(),
        reporter,
      }),
    );
  return { lambda, reporter, tick };
}

async function deadLetterReasons(): Promise<string[]> {
  const dead = await local.drain(local.dlqUrl);
  return dead.map((message) => message.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue ?? "").sort();
}

/** The same instruction as `instruction(n)` but pointing elsewhere, with a consistent id (a careful forger). */
function elsewhere(n: number, change: Partial<Instruction["resource"]> & { capturedAt?: string }): Instruction {
  const base = instruction(n);
  const { capturedAt, ...resource } = change;
  const [forged] = buildInstructions(
    {
      resource: { ...base.resource, ...resource },
      rule: base.rule,
      capturedAt: capturedAt ?? base.capturedAt,
      detectedAt: capturedAt ?? base.detectedAt,
      notBefore: capturedAt ?? base.notBefore,
    },
    base.matched.map((matched) => ({ problem: base.problem, matched, reason: "forged" })),
  );
  return forged!;
}

describe("poison messages", () => {
  it("dead-letters a body nested 40,000 levels deep with its reason and dispatches the valid messages beside it", async () => {
    const t = setup();
    expect(POISON.length).toBeGreaterThan(230_000);
    await enqueue(local.sqs, local.queueUrl, [instruction(1)]);
    await enqueueRaw(local.sqs, local.queueUrl, [POISON]);
    await enqueue(local.sqs, local.queueUrl, [instruction(2, { problem: "s3-public-acl" })]);

    const summary = await t.tick();

    expect(summary).toMatchObject({ received: 3, dispatched: 2, deadLettered: 1 });
    expect(t.lambda.invocations.map((invocation) => invocation.request.instruction.id).sort()).toEqual(
      [instruction(1).id, instruction(2, { problem: "s3-public-acl" }).id].sort(),
    );
    expect(await deadLetterReasons()).toEqual(["invalid instruction: message body nests deeper than 64 levels"]);
    expect(t.reporter.of("dead-lettered")).toEqual([
      expect.objectContaining({ reason: "invalid instruction: message body nests deeper than 64 levels" }),
    ]);
  });

  it("remedy peek lists the poison as not a valid instruction and still shows the others", async () => {
    await enqueue(local.sqs, local.queueUrl, [instruction(1)]);
    await enqueueRaw(local.sqs, local.queueUrl, [POISON]);
    const outputs = join(tmpdir(), `remedy-trust-outputs-${process.pid}.json`);
    writeFileSync(outputs, JSON.stringify({ queue_url: { value: local.queueUrl }, dlq_url: { value: local.dlqUrl } }));
    const out: string[] = [];
    const err: string[] = [];
    const unused = () => {
      throw new Error("not used by peek");
    };
    const deps = {
      sqs: () => local.sqs as SQSClient,
      ssm: unused,
      s3: unused,
      ec2: unused,
      eventBridge: unused,
      kms: unused,
      now: () => T0,
      user: () => "alice",
      confirm: async () => false,
      env: { REMEDY_OUTPUTS: outputs },
    } as unknown as CliDeps;

    const code = await runCli(["peek"], { out: (t) => out.push(t), err: (t) => err.push(t) }, deps);

    expect(code).toBe(0);
    const text = out.join("");
    expect(text).toMatch(/^1 fix instruction in 2 messages/);
    expect(text).toContain(instruction(1).id.slice(0, 12));
    expect(text).toMatch(
      /1 message is not a valid fix instruction:\n {2}\S+: message body nests deeper than 64 levels/,
    );
    expect(await local.counts()).toMatchObject({ stored: 2, visible: 2 });
  });
});

describe("instructions for somewhere else", () => {
  it.each([
    ["another account", { accountId: "999988887777" }, /^refused: instruction names account 999988887777/],
    ["another region", { region: "eu-west-1" }, /^refused: instruction names region eu-west-1/],
    [
      "a capture in the future",
      { capturedAt: new Date(T0.getTime() + 3_600_000).toISOString() },
      /^refused: instruction capturedAt .* is in the future/,
    ],
  ])("dead-letters an instruction for %s without dispatching it", async (_what, change, reason) => {
    const t = setup();
    const forged = elsewhere(7, change);
    await enqueue(local.sqs, local.queueUrl, [forged, instruction(8)]);

    const summary = await t.tick();

    expect(summary).toMatchObject({ received: 2, dispatched: 1, deadLettered: 1 });
    expect(t.lambda.invocations.map((invocation) => invocation.request.instruction.id)).toEqual([instruction(8).id]);
    const [why] = await deadLetterReasons();
    expect(why).toMatch(reason);
    expect(t.reporter.of("dead-lettered")[0]).toMatchObject({
      instructionId: forged.id,
      reason: expect.stringMatching(reason),
    });
  });
});
