// `remedy dlq redrive` against a real SQS-protocol server (local-aws-sqs): only Remedy's own dead-letters with a
// valid fix instruction go back, only after the operator saw them, and nothing else leaves the dead-letter queue.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Message,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequest,
  SendMessageCommand,
  type SendMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { deadLetterInput } from "../../contract/dead-letter.ts";
import { serializeInstruction } from "../../contract/instruction.ts";
import { type LocalSqs, SQS_SERVER_TIMERS, startLocalSqs } from "../helpers/local-sqs.ts";
import { sgInstruction } from "./support.ts";

let sqs: LocalSqs;
let outputsFile: string;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

function deps(overrides: Partial<CliDeps> = {}): CliDeps {
  const unused = () => {
    throw new Error("not used");
  };
  return {
    sqs: () => sqs.sqs as SQSClient,
    ssm: unused,
    s3: unused,
    ec2: unused,
    eventBridge: unused,
    kms: unused,
    secretsManager: unused,
    configService: unused,
    s3Control: unused,
    now: () => new Date("2026-11-20T12:00:00Z"),
    user: () => "alice",
    confirm: async () => {
      throw new Error("the test did not expect a question");
    },
    env: { REMEDY_OUTPUTS: outputsFile },
    ...overrides,
  };
}

/** A confirm that answers `answer` and records each question, with what stdout held when it was asked. */
function answering(answer: boolean, out: string[], whileAsking?: () => Promise<void>) {
  const asked: { question: string; shownBefore: string }[] = [];
  const confirm = async (question: string) => {
    asked.push({ question, shownBefore: out.join("") });
    await whileAsking?.();
    return answer;
  };
  return { asked, confirm };
}

const instruction = sgInstruction;

async function send(input: SendMessageCommandInput): Promise<string> {
  return (await sqs.sqs.send(new SendMessageCommand(input))).MessageId!;
}

/** What Remedy writes when a remediation keeps failing (the remediation functions name the instruction). */
function remedyDeadLetter(port: number, letter: { instructionId?: string | null } = {}) {
  const body = serializeInstruction(instruction(port));
  const instructionId = letter.instructionId === undefined ? instruction(port).id : letter.instructionId;
  return send(
    deadLetterInput(sqs.dlqUrl, body, {
      reason: `remediation failed 3 times (port ${port})`,
      sourceMessageId: `source-${port}`,
      ...(instructionId ? { instructionId } : {}),
    }),
  );
}

/**
 * The DLQ of the threat: two genuine dead-letters (one with, one without the instruction-id attribute), a forged
 * valid-looking instruction sent without attributes, a message Remedy dead-lettered because its body is invalid, and
 * a valid instruction whose instruction-id attribute names another instruction.
 */
async function mixedDlq() {
  return {
    genuine: [await remedyDeadLetter(22), await remedyDeadLetter(23, { instructionId: null })],
    forged: await send({ QueueUrl: sqs.dlqUrl, MessageBody: serializeInstruction(instruction(3389)) }),
    invalid: await send(
      deadLetterInput(sqs.dlqUrl, "garbage", {
        reason: "not a valid fix instruction: message body is not JSON",
        sourceMessageId: "source-garbage",
      }),
    ),
    mismatched: await remedyDeadLetter(25, { instructionId: instruction(26).id }),
  };
}

const byId = (messages: Message[], id: string) => messages.find((message) => message.MessageId === id);

beforeEach(async () => {
  // The redrive reads the DLQ with long polls (WaitTimeSeconds 1), and local-aws-sqs holds a receive that finds
  // fewer messages than it asks for until that second is over: on fake timers, advanced while the receive waits
  // (test/helpers/local-sqs.ts), the wait costs no real second. Date is not faked: deps.now is fixed, and the
  // Date.now the redrive reads itself only decides which held messages to release (all of them, here, either way).
  vi.useFakeTimers({ toFake: [...SQS_SERVER_TIMERS], shouldAdvanceTime: true });
  sqs = await startLocalSqs({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
  outputsFile = join(tmpdir(), `remedy-outputs-redrive-${process.pid}-${Date.now()}.json`);
  writeFileSync(
    outputsFile,
    JSON.stringify({
      queue_url: { value: sqs.queueUrl, type: "string", sensitive: false },
      dlq_url: { value: sqs.dlqUrl, type: "string", sensitive: false },
    }),
  );
});
afterEach(async () => {
  await sqs.stop();
  vi.useRealTimers();
  rmSync(outputsFile, { force: true });
});

describe("remedy dlq redrive", () => {
  it("does not redrive a forged instruction that carries no Remedy dead-letter attributes", async () => {
    const forged = await send({ QueueUrl: sqs.dlqUrl, MessageBody: serializeInstruction(instruction(3389)) });
    const { out, io: cliIo } = io();

    // Nothing is redrivable, so nothing is asked (deps() fails the command if it asks).
    expect(await runCli(["dlq", "redrive"], cliIo, deps())).toBe(0);

    expect(out.join("")).toContain(`${forged}: no Remedy dead-letter attributes: not sent by Remedy`);
    expect(out.join("")).toContain("Nothing to redrive");
    expect(await sqs.counts(sqs.queueUrl)).toEqual({ stored: 0, visible: 0, invisible: 0 });
    expect(await sqs.counts(sqs.dlqUrl)).toEqual({ stored: 1, visible: 1, invisible: 0 });
  }, 30_000);

  it("moves only genuine dead-letters with a valid instruction; the rest stays in the DLQ with why", async () => {
    const ids = await mixedDlq();
    const { out, err, io: cliIo } = io();

    // On a terminal: progress on stderr.
    expect(await runCli(["dlq", "redrive", "--yes"], { ...cliIo, interactive: true }, deps())).toBe(0);

    const text = out.join("");
    expect(text).toContain("Read 5 messages from the dead-letter queue.");
    expect(text).toContain("Will redrive 2 fix instructions in 2 messages");
    expect(text).toMatch(
      new RegExp(
        `${instruction(22).id.slice(0, 12)}\\s+1\\s+.*revoke ingress tcp 22 from 0\\.0\\.0\\.0/0\\s+remediation failed 3 times`,
      ),
    );
    expect(text).toContain("3 messages are not redriven and stay in the dead-letter queue:");
    expect(text).toContain(`${ids.forged}: no Remedy dead-letter attributes: not sent by Remedy`);
    expect(text).toMatch(new RegExp(`${ids.invalid}: not a valid fix instruction: message body is not JSON`));
    expect(text).toContain(`${ids.mismatched}: instruction id does not match its dead-letter attribute`);
    expect(text).toContain("Moved 2 of 2 messages");
    expect(text).toContain("3 messages that are not redrivable stay in the dead-letter queue (listed above).");
    expect(err.join("")).toContain("reading the dead-letter queue (nothing is consumed)…\n");
    expect(err.join("")).toContain("redrive: 2 of 2 messages moved");

    const moved = await sqs.drain(sqs.queueUrl);
    expect(moved.map((message) => JSON.parse(message.Body!).id).sort()).toEqual(
      [instruction(22).id, instruction(23).id].sort(),
    );
    expect(moved.map((message) => message.Body).sort()).toEqual(
      [22, 23].map((port) => serializeInstruction(instruction(port))).sort(),
    );
    // The copy carries none of the dead-letter attributes.
    expect(moved.every((message) => message.MessageAttributes === undefined)).toBe(true);

    // Everything refused is still in the DLQ, visible again, with its attributes untouched.
    expect(await sqs.counts(sqs.dlqUrl)).toEqual({ stored: 3, visible: 3, invisible: 0 });
    const left = await sqs.drain(sqs.dlqUrl);
    expect(left.map((message) => message.MessageId).sort()).toEqual([ids.forged, ids.invalid, ids.mismatched].sort());
    expect(byId(left, ids.forged)!.MessageAttributes).toBeUndefined();
    expect(byId(left, ids.invalid)!.MessageAttributes?.["remedy-dlq-reason"]?.StringValue).toBe(
      "not a valid fix instruction: message body is not JSON",
    );
    expect(byId(left, ids.mismatched)!.MessageAttributes?.["remedy-instruction-id"]?.StringValue).toBe(
      instruction(26).id,
    );
  }, 30_000);

  it("shows the plan and asks first; declining moves nothing and exits 1", async () => {
    const ids = await mixedDlq();
    const { out, io: cliIo } = io();
    const { asked, confirm } = answering(false, out);

    expect(await runCli(["dlq", "redrive"], cliIo, deps({ confirm }))).toBe(1);

    expect(asked.map((entry) => entry.question)).toEqual(["Send these 2 messages back to the remediation queue?"]);
    // What is approved was on screen before the question.
    expect(asked[0]!.shownBefore).toContain(instruction(22).id.slice(0, 12));
    expect(asked[0]!.shownBefore).toContain(instruction(23).id.slice(0, 12));
    expect(asked[0]!.shownBefore).toContain(`${ids.forged}: no Remedy dead-letter attributes`);
    expect(out.join("")).toMatch(/Nothing was moved\.\n$/);
    expect(await sqs.counts(sqs.queueUrl)).toEqual({ stored: 0, visible: 0, invisible: 0 });
    expect(await sqs.counts(sqs.dlqUrl)).toEqual({ stored: 5, visible: 5, invisible: 0 });
  }, 30_000);

  it("approving moves exactly the messages shown, not one that arrived while it asked", async () => {
    await mixedDlq();
    let late = "";
    const { out, io: cliIo } = io();
    const { asked, confirm } = answering(true, out, async () => {
      late = await remedyDeadLetter(24);
    });

    expect(await runCli(["dlq", "redrive"], cliIo, deps({ confirm }))).toBe(0);

    expect(asked).toHaveLength(1);
    const moved = await sqs.drain(sqs.queueUrl);
    expect(moved.map((message) => JSON.parse(message.Body!).id).sort()).toEqual(
      [instruction(22).id, instruction(23).id].sort(),
    );
    const left = await sqs.drain(sqs.dlqUrl);
    expect(left).toHaveLength(4);
    expect(byId(left, late)).toBeDefined();
  }, 30_000);

  it("--yes does not ask", async () => {
    await remedyDeadLetter(22);
    const { io: cliIo } = io();
    // deps() throws from confirm: asking would fail the command.
    expect(await runCli(["dlq", "redrive", "--yes"], cliIo, deps())).toBe(0);
    expect(await sqs.counts(sqs.queueUrl)).toMatchObject({ stored: 1 });
    expect(await sqs.counts(sqs.dlqUrl)).toMatchObject({ stored: 0 });
  }, 30_000);

  it("in a pipe writes no progress; one message is counted in the singular; the caller's identity is in the result", async () => {
    const forged = await send({ QueueUrl: sqs.dlqUrl, MessageBody: serializeInstruction(instruction(3389)) });
    await remedyDeadLetter(22);
    const { out, err, io: cliIo } = io();
    const { asked, confirm } = answering(false, out);
    const callerIdentity = async () => ({
      account: "123456789012",
      arn: "arn:aws:sts::123456789012:assumed-role/ops/alice",
    });

    expect(await runCli(["dlq", "redrive", "--json"], cliIo, deps({ confirm, callerIdentity }))).toBe(1);

    expect(asked.map((entry) => entry.question)).toEqual(["Send this message back to the remediation queue?"]);
    const shown = err.join("");
    expect(shown).not.toContain("reading");
    expect(shown).toContain("Will redrive 1 fix instruction in 1 message back to the remediation queue:");
    expect(shown).toContain("1 message is not redriven and stays in the dead-letter queue:");
    expect(shown).toContain(`${forged}: no Remedy dead-letter attributes`);
    expect(JSON.parse(out.join(""))).toMatchObject({
      outcome: "declined",
      by: "arn:aws:sts::123456789012:assumed-role/ops/alice",
    });
  }, 30_000);

  it("refuses credentials for another account than the stack's before reading the DLQ", async () => {
    await remedyDeadLetter(22);
    writeFileSync(
      outputsFile,
      JSON.stringify({
        queue_url: { value: sqs.queueUrl },
        dlq_url: { value: sqs.dlqUrl },
        account_id: { value: "210987654321" },
      }),
    );
    const { out, err, io: cliIo } = io();
    const callerIdentity = async () => ({ account: "123456789012", arn: "arn:aws:iam::123456789012:user/alice" });
    const sqsClient = () => {
      throw new Error("SQS must not be used with another account's credentials");
    };
    expect(await runCli(["dlq", "redrive", "--yes"], cliIo, deps({ callerIdentity, sqs: sqsClient }))).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("")).toMatch(
      /^remedy dlq: these credentials are for account 123456789012 .* in account 210987654321/,
    );
    expect(await sqs.counts(sqs.dlqUrl)).toEqual({ stored: 1, visible: 1, invisible: 0 });
  }, 30_000);

  it("--json prints only a parseable JSON result on stdout: what moved, what was refused and why", async () => {
    const ids = await mixedDlq();
    const { out, err, io: cliIo } = io();

    expect(await runCli(["dlq", "redrive", "--json", "--yes"], cliIo, deps())).toBe(0);

    const result = JSON.parse(out.join(""));
    expect(result.outcome).toBe("moved");
    expect(result.failed).toEqual([]);
    expect(result.moved.map((entry: { messageId: string }) => entry.messageId).sort()).toEqual([...ids.genuine].sort());
    expect(result.moved).toContainEqual({
      messageId: ids.genuine[0],
      instructionId: instruction(22).id,
      dlqReason: "remediation failed 3 times (port 22)",
    });
    const refused = Object.fromEntries(
      result.refused.map((entry: { messageId: string; reason: string }) => [entry.messageId, entry.reason]),
    );
    expect(refused).toEqual({
      [ids.forged]: "no Remedy dead-letter attributes: not sent by Remedy",
      [ids.invalid]: expect.stringMatching(/^not a valid fix instruction: message body is not JSON/),
      [ids.mismatched]: "instruction id does not match its dead-letter attribute",
    });
    // The human-readable plan went to stderr.
    expect(err.join("")).toContain("Will redrive 2 fix instructions");
  }, 30_000);

  it("--json after declining is still one JSON result, and exits 1", async () => {
    await remedyDeadLetter(22);
    const { out, io: cliIo } = io();
    const { confirm } = answering(false, out);

    expect(await runCli(["dlq", "redrive", "--json"], cliIo, deps({ confirm }))).toBe(1);

    expect(JSON.parse(out.join(""))).toMatchObject({ outcome: "declined", moved: [], redrivable: [{}] });
    expect(await sqs.counts(sqs.dlqUrl)).toEqual({ stored: 1, visible: 1, invisible: 0 });
  }, 30_000);

  it("a message the remediation queue refuses stays in the DLQ, is reported, and the exit code says so", async () => {
    const kept = await remedyDeadLetter(22);
    const movedId = await remedyDeadLetter(23);
    const refusing = sqs.client();
    // The remediation queue turns down every copy of port 22's instruction (as SQS does per entry, e.g. KMS).
    refusing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "SendMessageBatchCommand") return next(args);
        const input = args.input as SendMessageBatchRequest;
        const isRefused = (body: string | undefined) => body === serializeInstruction(instruction(22));
        const refusedEntries = (input.Entries ?? []).filter((entry) => isRefused(entry.MessageBody));
        const rest = (input.Entries ?? []).filter((entry) => !isRefused(entry.MessageBody));
        const result =
          rest.length > 0
            ? await next({ ...args, input: { ...input, Entries: rest } })
            : { response: {}, output: { $metadata: {}, Successful: [], Failed: [] } };
        const output = result.output as SendMessageBatchCommandOutput;
        output.Failed = [
          ...(output.Failed ?? []),
          ...refusedEntries.map((entry) => ({
            Id: entry.Id!,
            SenderFault: false,
            Code: "KMS.ThrottlingException",
            Message: "injected",
          })),
        ];
        return result;
      },
      { step: "initialize", name: "refusePort22" },
    );
    const { out, err, io: cliIo } = io();

    expect(await runCli(["dlq", "redrive", "--yes"], cliIo, deps({ sqs: () => refusing }))).toBe(1);

    expect(out.join("")).toContain("Moved 1 of 2 messages");
    expect(out.join("")).toMatch(
      new RegExp(`${kept}: the remediation queue did not accept it: KMS.ThrottlingException: injected`),
    );
    expect(out.join("")).toContain("1 could not be moved and stays in the dead-letter queue:");
    expect(err.join("")).toContain("remedy dlq: 1 message could not be moved; it stays in the dead-letter queue");
    const left = await sqs.drain(sqs.dlqUrl);
    expect(left.map((message) => message.MessageId)).toEqual([kept]);
    expect(left[0]!.MessageAttributes?.["remedy-dlq-reason"]?.StringValue).toBe("remediation failed 3 times (port 22)");
    const moved = await sqs.drain(sqs.queueUrl);
    expect(moved.map((message) => JSON.parse(message.Body!).id)).toEqual([instruction(23).id]);
    expect(movedId).not.toBe(kept);
  }, 30_000);

  it("with an empty dead-letter queue says so and exits 0", async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(["dlq", "redrive"], cliIo, deps())).toBe(0);
    expect(out.join("")).toContain("Nothing to redrive");
  }, 30_000);

  it("rejects extra arguments with exit code 2", async () => {
    const { err, io: cliIo } = io();
    expect(await runCli(["dlq", "redrive", "now"], cliIo, deps())).toBe(2);
    expect(err.join("")).toContain("usage: remedy dlq redrive [--yes] [--json]");
  });
});
