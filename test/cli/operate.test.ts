// Operator commands against a real SQS-protocol server (local-aws-sqs) and a mocked SSM.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import type { Finding } from "../../rules/types.ts";
import { buildInstructions, serializeInstruction } from "../../shared/instruction.ts";
import { type LocalSqs, startLocalSqs } from "../helpers/local-sqs.ts";

const ssmMock = mockClient(SSMClient);
let sqs: LocalSqs;
let outputsFile: string;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

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
    eventBridge: () => {
      throw new Error("not used");
    },
    now: () => new Date("2026-11-20T12:00:00Z"),
    user: () => "alice",
    confirm: async () => false,
    env: { REMEDY_OUTPUTS: outputsFile },
    ...overrides,
  };
}

function instruction(port: number, notBefore = "2026-11-20T10:00:00.000Z") {
  const finding: Finding = {
    problem: "sg-open-ingress",
    matched: {
      kind: "sg-rule",
      rule: { direction: "ingress", ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0" },
    },
    reason: `tcp ${port} open to 0.0.0.0/0`,
  };
  return buildInstructions(
    {
      resource: {
        type: "AWS::EC2::SecurityGroup",
        id: "sg-0123456789abcdef0",
        accountId: "123456789012",
        region: "us-east-1",
      },
      rule: { id: "sg-open-ingress", parameters: {} },
      capturedAt: "2026-11-20T09:00:00.000Z",
      detectedAt: "2026-11-20T09:01:00.000Z",
      notBefore,
    },
    [finding],
  )[0]!;
}

beforeEach(async () => {
  sqs = await startLocalSqs();
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
      expect(text).toMatch(
        new RegExp(`${ssh.id.slice(0, 12)}\\s+2\\s+.*now\\s+sg-open-ingress.*tcp 22 from 0\\.0\\.0\\.0/0`),
      );
      expect(text).toMatch(/2026-11-20 13:00 UTC\s+sg-open-ingress/);
      expect(text).toContain("1 messages are not valid fix instructions");
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

  it("says in one sentence how to find the stack when it is unknown", async () => {
    const { err, io: cliIo } = io();
    const code = await runCli(["peek"], cliIo, deps({ env: {} }));
    expect(code).toBe(2);
    expect(err.join("")).toMatch(/^remedy peek: Remedy's stack is not known here: .*--queue-url\.\n$/);
  });
});

describe("remedy pause / resume", () => {
  it("pause writes the switch with who and why", async () => {
    ssmMock.on(PutParameterCommand).resolves({});
    const { out, io: cliIo } = io();
    expect(await runCli(["pause", "--reason", "incident 42"], cliIo, deps())).toBe(0);
    const input = ssmMock.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ Name: "/remedy/pause", Overwrite: true, Type: "String" });
    expect(JSON.parse(input.Value!)).toMatchObject({ paused: true, by: "alice", reason: "incident 42" });
    expect(out.join("")).toContain("Paused by alice");
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
    ssmMock.on(PutParameterCommand).resolves({});
    const { out, io: cliIo } = io();
    expect(await runCli(["resume"], cliIo, deps())).toBe(0);
    const value = JSON.parse(ssmMock.commandCalls(PutParameterCommand)[0]!.args[0].input.Value!);
    expect(value).toMatchObject({ paused: false, by: "alice", resumedAt: "2026-11-20T12:00:00.000Z" });
    expect(out.join("")).toContain("was paused by circuit-breaker");
  });

  it("fails with one sentence when credentials are missing", async () => {
    ssmMock
      .on(PutParameterCommand)
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
    ssmMock.on(PutParameterCommand).rejects(new Error("Region is missing"));
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
