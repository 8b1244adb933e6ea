// Operator commands against a real SQS-protocol server (local-aws-sqs) and a mocked SSM.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DescribeRuleCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { buildInstructions, serializeInstruction } from "../../contract/instruction.ts";
import { type LocalSqs, SQS_SERVER_TIMERS, startLocalSqs } from "../helpers/local-sqs.ts";
import { sgInstruction } from "./support.ts";

const ssmMock = mockClient(SSMClient);
const eventsMock = mockClient(EventBridgeClient);
let sqs: LocalSqs;
let outputsFile: string;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

const notUsed = () => {
  throw new Error("not used");
};

function deps(overrides: Partial<CliDeps> = {}): CliDeps {
  return {
    sqs: () => sqs.sqs as SQSClient,
    ssm: () => new SSMClient({ region: "us-east-1" }),
    s3: () => {
      throw new Error("not used");
    },
    ec2: () => {
      throw new Error("not used");
    },
    eventBridge: () => new EventBridgeClient({ region: "us-east-1" }),
    kms: notUsed,
    secretsManager: notUsed,
    configService: notUsed,
    s3Control: notUsed,
    now: () => new Date("2026-11-20T12:00:00Z"),
    user: () => "alice",
    confirm: async () => false,
    env: { REMEDY_OUTPUTS: outputsFile },
    ...overrides,
  };
}

const instruction = sgInstruction;

beforeEach(async () => {
  // Every receive of `remedy peek` long-polls (WaitTimeSeconds 1), and local-aws-sqs holds a receive that finds
  // fewer messages than it asks for until that second is over: on fake timers, advanced while the receive waits
  // (test/helpers/local-sqs.ts), the wait costs no real second. Date is not faked: deps.now is fixed, and the
  // Date.now the peek reads itself only decides which messages to release (all of them, here, either way).
  vi.useFakeTimers({ toFake: [...SQS_SERVER_TIMERS], shouldAdvanceTime: true });
  sqs = await startLocalSqs({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
  ssmMock.reset();
  outputsFile = join(tmpdir(), `remedy-outputs-${process.pid}-${Date.now()}.json`);
  // `terraform output -json` shape.
  writeFileSync(
    outputsFile,
    JSON.stringify({
      queue_url: { value: sqs.queueUrl, type: "string", sensitive: false },
      dlq_url: { value: sqs.dlqUrl, type: "string", sensitive: false },
      pause_parameter: { value: "/remedy/pause", type: "string", sensitive: false },
    }),
  );
});
afterEach(async () => {
  await sqs.stop();
  vi.useRealTimers();
  rmSync(outputsFile, { force: true });
});

describe("remedy peek", () => {
  it("groups queued copies by instruction id and consumes nothing", async () => {
    const ssh = instruction(22);
    const rdp = instruction(3389, "2026-11-20T13:00:00.000Z");
    for (const body of [ssh, ssh, rdp].map(serializeInstruction)) {
      await sqs.sqs.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
    }
    await sqs.sqs.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "garbage" }));

    for (let round = 0; round < 3; round++) {
      const { out, io: cliIo } = io();
      expect(await runCli(["peek"], cliIo, deps())).toBe(0);
      const text = out.join("");
      expect(text).toContain("2 fix instructions in 4 messages");
      // The change is worded as the action the remediation takes, never as an internal name.
      expect(text).toMatch(
        new RegExp(
          `${ssh.id.slice(0, 12)}\\s+2\\s+.*now\\s+sg-open-ingress.*revoke ingress tcp 22 from 0\\.0\\.0\\.0/0`,
        ),
      );
      expect(text).toMatch(/2026-11-20 13:00 UTC\s+sg-open-ingress.*revoke ingress tcp 3389 from 0\.0\.0\.0\/0/);
      expect(text).toContain("1 message is not a valid fix instruction:");
    }
    // Every message is still there and visible again at once.
    expect(await sqs.counts()).toEqual({ stored: 4, visible: 4, invisible: 0 });
  }, 30_000);

  it("--json gives the full instructions", async () => {
    await sqs.sqs.send(
      new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: serializeInstruction(instruction(22)) }),
    );
    const { out, io: cliIo } = io();
    await runCli(["peek", "--json"], cliIo, deps());
    const parsed = JSON.parse(out.join(""));
    expect(parsed.groups[0]).toMatchObject({
      count: 1,
      problem: "sg-open-ingress",
      instruction: { id: instruction(22).id },
    });
  });

  it("--dlq shows why each message was dead-lettered", async () => {
    await sqs.sqs.send(
      new SendMessageCommand({
        QueueUrl: sqs.dlqUrl,
        MessageBody: serializeInstruction(instruction(22)),
        MessageAttributes: { "remedy-dlq-reason": { DataType: "String", StringValue: "remediation failed 3 times" } },
      }),
    );
    const { out, io: cliIo } = io();
    await runCli(["peek", "--dlq"], cliIo, deps());
    expect(out.join("")).toContain("remediation failed 3 times");
  });

  it("writes progress to stderr only on a terminal, and fits tables to the terminal's width", async () => {
    await sqs.sqs.send(
      new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: serializeInstruction(instruction(22)) }),
    );
    const piped = io();
    expect(await runCli(["peek"], piped.io, deps())).toBe(0);
    expect(piped.err).toEqual([]);
    expect(piped.out.join("")).toContain("1 fix instruction in 1 message.");

    const out: string[] = [];
    const err: string[] = [];
    const terminal = {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      interactive: true,
      columns: 70,
    };
    expect(await runCli(["peek"], terminal, deps())).toBe(0);
    expect(err.join("")).toBe("reading the remediation queue (nothing is consumed)…\n");
    const lines = out.join("").trimEnd().split("\n");
    expect(Math.max(...lines.map((line) => line.length))).toBeLessThanOrEqual(70);
    expect(out.join("")).toContain("…");
  }, 30_000);

  it("words bucket fixes as actions, notes the S3 strategy, and shows AWS strings without control characters", async () => {
    const [bucket] = buildInstructions(
      {
        resource: { type: "AWS::S3::Bucket", id: "acme-\u001b[2Jdata", accountId: "123456789012", region: "us-east-1" },
        rule: { id: "s3-public", parameters: {} },
        capturedAt: "2026-11-20T09:00:00.000Z",
        detectedAt: "2026-11-20T09:01:00.000Z",
        notBefore: "2026-11-20T10:00:00.000Z",
      },
      [
        {
          problem: "s3-public-acl",
          matched: {
            kind: "acl-grant",
            grant: {
              grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" },
              permission: "READ",
            },
          },
          reason: "public",
        },
      ],
    );
    await sqs.sqs.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: serializeInstruction(bucket!) }));
    const { out, io: cliIo } = io();
    expect(await runCli(["peek"], cliIo, deps())).toBe(0);
    const text = out.join("");
    expect(text).toContain("remove ACL grant AllUsers READ");
    expect(text).toContain(
      'with "block-public-access" the remediation turns on the bucket\'s Block Public Access flags',
    );
    expect(text).toContain("acme-\\x1b[2Jdata");
    expect(text.includes("\u001b")).toBe(false);
  }, 30_000);

  it("says in one sentence how to find the stack when it is unknown", async () => {
    const { err, io: cliIo } = io();
    const code = await runCli(["peek"], cliIo, deps({ env: {} }));
    expect(code).toBe(2);
    expect(err.join("")).toMatch(/^remedy peek: Remedy's stack is not known here: .*--queue-url\.\n$/);
  });
});

const RUNNING = JSON.stringify({
  paused: false,
  by: "terraform",
  reason: "created with the stack",
  at: "2026-11-20T08:00:00.000Z",
});
const PAUSED = JSON.stringify({
  paused: true,
  by: "arn:aws:iam::123456789012:user/bob",
  reason: "change freeze",
  at: "2026-11-20T11:00:00.000Z",
});
const pauseValue = (value: string) => ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: value } });
const written = () => ssmMock.commandCalls(PutParameterCommand).map((call) => JSON.parse(call.args[0].input.Value!));
const ALICE = "arn:aws:sts::123456789012:assumed-role/operator/alice";
const asAlice = { callerIdentity: async () => ({ account: "123456789012", arn: ALICE }) };

describe("remedy pause / resume", () => {
  beforeEach(() => {
    eventsMock.reset();
    ssmMock.on(PutParameterCommand).resolves({});
  });

  it("pause writes the switch with who and why", async () => {
    pauseValue(RUNNING);
    const { out, io: cliIo } = io();
    expect(await runCli(["pause", "--reason", "incident 42"], cliIo, deps())).toBe(0);
    const input = ssmMock.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ Name: "/remedy/pause", Overwrite: true, Type: "String" });
    expect(JSON.parse(input.Value!)).toMatchObject({ paused: true, by: "alice", reason: "incident 42" });
    expect(out.join("")).toContain("Paused by alice: incident 42.");
  });

  it("records the caller's AWS identity, not the local user", async () => {
    pauseValue(RUNNING);
    const { out, io: cliIo } = io();
    expect(await runCli(["pause"], cliIo, deps(asAlice))).toBe(0);
    expect(written()).toEqual([
      { paused: true, by: ALICE, reason: "paused by an operator", at: "2026-11-20T12:00:00.000Z" },
    ]);
    expect(out.join("")).toBe(
      `Paused by ${ALICE}: paused by an operator. The coordinator dispatches nothing until "remedy resume".\n`,
    );
  });

  it("already paused and no --reason: nothing is written, and it says who paused, when and why", async () => {
    pauseValue(PAUSED);
    const { out, io: cliIo } = io();
    expect(await runCli(["pause"], cliIo, deps(asAlice))).toBe(0);
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(out.join("")).toBe(
      "Already paused by arn:aws:iam::123456789012:user/bob at 2026-11-20 11:00 UTC: change freeze. Nothing was changed (--reason TEXT replaces the reason).\n",
    );
  });

  it("already paused with --reason: the reason is replaced and the caller recorded", async () => {
    pauseValue(PAUSED);
    const { out, io: cliIo } = io();
    expect(await runCli(["pause", "--reason", "incident 43", "--json"], cliIo, deps(asAlice))).toBe(0);
    expect(written()).toEqual([{ paused: true, by: ALICE, reason: "incident 43", at: "2026-11-20T12:00:00.000Z" }]);
    expect(JSON.parse(out.join(""))).toMatchObject({
      outcome: "reason-updated",
      by: ALICE,
      state: { paused: true, reason: "incident 43" },
      previous: { by: "arn:aws:iam::123456789012:user/bob", reason: "change freeze" },
    });
  });

  it("refuses credentials for another account than the stack's before reading or writing anything", async () => {
    writeFileSync(
      outputsFile,
      JSON.stringify({ pause_parameter: { value: "/remedy/pause" }, account_id: { value: "210987654321" } }),
    );
    const { out, err, io: cliIo } = io();
    expect(await runCli(["pause", "--reason", "x"], cliIo, deps(asAlice))).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("")).toContain("these credentials are for account 123456789012");
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it("an empty --reason is bad usage, and nothing is read or written", async () => {
    const { err, io: cliIo } = io();
    expect(await runCli(["pause", "--reason", " "], cliIo, deps())).toBe(2);
    expect(err.join("")).toBe(
      "remedy pause: --reason needs a text (leave it out to keep the reason of an existing pause)\n",
    );
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it("a pause parameter that does not parse is replaced by a real pause, with a warning", async () => {
    pauseValue("{not json");
    const { out, err, io: cliIo } = io();
    expect(await runCli(["pause"], cliIo, deps())).toBe(0);
    expect(written()).toMatchObject([{ paused: true, by: "alice", reason: "paused by an operator" }]);
    expect(out.join("")).toMatch(/^Paused by alice/);
    expect(err.join("")).toMatch(/^warning: pause parameter is not JSON: .*treated as paused\n$/);
  });

  it("resume clears a breaker trip and records when", async () => {
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({
          paused: true,
          by: "circuit-breaker",
          reason: "60 fresh instructions in 10 minutes",
          at: "2026-11-20T11:00:00.000Z",
        }),
      },
    });
    const { out, io: cliIo } = io();
    expect(await runCli(["resume"], cliIo, deps())).toBe(0);
    const value = JSON.parse(ssmMock.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!);
    expect(value).toMatchObject({ paused: false, by: "alice", resumedAt: "2026-11-20T12:00:00.000Z" });
    expect(out.join("")).toContain("was paused by circuit-breaker at 2026-11-20 11:00 UTC");
    // No schedule rule known here: it says so rather than promising a tick.
    expect(out.join("")).toContain("Whether auto-response is on could not be read (the schedule rule is not known");
  });

  it("resume says what runs next: nothing while the schedule is disabled, the next tick while it is enabled", async () => {
    const resumeWith = async (state: "ENABLED" | "DISABLED") => {
      ssmMock.reset();
      pauseValue(PAUSED);
      ssmMock.on(PutParameterCommand).resolves({});
      eventsMock.reset();
      eventsMock.on(DescribeRuleCommand, { Name: "remedy-coordinator-schedule" }).resolves({ State: state });
      const run = io();
      const code = await runCli(["resume", "--schedule-rule", "remedy-coordinator-schedule"], run.io, deps(asAlice));
      return { code, text: run.out.join("") };
    };
    const off = await resumeWith("DISABLED");
    expect(off.code).toBe(0);
    expect(off.text).toContain(
      "Auto-response is off (schedule remedy-coordinator-schedule disabled): nothing will run until enable_auto_response = true is applied (set it in remedy.auto.tfvars, then: npm run synth && terraform -chdir=cdktf.out/stacks/remedy apply).",
    );
    expect(off.text).not.toContain("next tick");
    const on = await resumeWith("ENABLED");
    expect(on.text).toContain(
      "Auto-response is on (schedule remedy-coordinator-schedule enabled): the next tick (within a minute) dispatches.",
    );
  });

  it("resume never fails because the schedule cannot be read, and --json is the result alone", async () => {
    pauseValue(PAUSED);
    eventsMock.on(DescribeRuleCommand).rejects(
      Object.assign(new Error("User is not authorized to perform: events:DescribeRule"), {
        name: "AccessDeniedException",
      }),
    );
    const { out, err, io: cliIo } = io();
    const code = await runCli(
      ["resume", "--schedule-rule", "remedy-coordinator-schedule", "--json"],
      cliIo,
      deps(asAlice),
    );
    expect(code).toBe(0);
    expect(err).toEqual([]);
    expect(JSON.parse(out.join(""))).toMatchObject({
      outcome: "resumed",
      by: ALICE,
      state: { paused: false, by: ALICE },
      previous: { paused: true, reason: "change freeze" },
      autoResponse: { known: false, error: expect.stringMatching(/events:DescribeRule/) },
    });
    expect(written()).toMatchObject([{ paused: false, by: ALICE }]);
  });

  it("resume when not paused writes nothing", async () => {
    pauseValue(RUNNING);
    eventsMock.on(DescribeRuleCommand).resolves({ State: "DISABLED" });
    const { out, io: cliIo } = io();
    expect(await runCli(["resume", "--schedule-rule", "remedy-coordinator-schedule"], cliIo, deps())).toBe(0);
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(out.join("")).toMatch(/^Remedy is not paused; nothing to do\. Auto-response is off/);
  });

  it("strings from the parameter reach the terminal without their control characters", async () => {
    pauseValue(
      JSON.stringify({
        paused: true,
        by: "mallory\u001b[2K",
        reason: "ok\n\u202eremedy resume",
        at: "2026-11-20T11:00:00.000Z",
      }),
    );
    const { out, io: cliIo } = io();
    expect(await runCli(["pause"], cliIo, deps())).toBe(0);
    const text = out.join("");
    expect(text).toContain("Already paused by mallory\\x1b[2K at 2026-11-20 11:00 UTC: ok\\n\\u202eremedy resume.");
    expect(text.includes("\u001b") || text.includes("\u202e")).toBe(false);
    expect(text.split("\n")).toHaveLength(2);
  });

  it("fails with one sentence when credentials are missing", async () => {
    ssmMock
      .on(GetParameterCommand)
      .rejects(
        Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }),
      );
    const { err, io: cliIo } = io();
    expect(await runCli(["pause"], cliIo, deps())).toBe(1);
    expect(err.join("")).toBe(
      "remedy pause: No AWS credentials found: set AWS_PROFILE (or run `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n",
    );
  });
});

describe("setup problems are one sentence", () => {
  it("a missing region", async () => {
    ssmMock.on(GetParameterCommand).rejects(new Error("Region is missing"));
    const { err, io: cliIo } = io();
    expect(await runCli(["pause"], cliIo, deps())).toBe(1);
    expect(err.join("")).toBe("remedy pause: No AWS region set: set AWS_REGION (or AWS_PROFILE with a region).\n");
  });
});

describe("remedy usage", () => {
  it("rejects unknown commands and options with exit code 2", async () => {
    expect(await runCli(["launch"], io().io, deps())).toBe(2);
    expect(await runCli(["peek", "--bogus"], io().io, deps())).toBe(2);
    expect(await runCli(["dlq", "purge"], io().io, deps())).toBe(2);
  });
});
