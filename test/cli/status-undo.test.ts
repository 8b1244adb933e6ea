// `remedy status` and `remedy undo`: queue depths from a real SQS-protocol server, the rest from SDK mocks, the
// ledger from an in-memory S3 bucket behind the mock.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DescribeRuleCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import {
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { undoCommand } from "../../cli/undo.ts";
import { integrityMessage, type LedgerRecord, ledgerKey } from "../../contract/ledger.ts";
import { type LocalSqs, startLocalSqs } from "../helpers/local-sqs.ts";
import { awsError, fakeVerifyMac, signRecord, TEST_MAC_KEY_ID, testSigner } from "../remediation/support.ts";

const ssmMock = mockClient(SSMClient);
const s3Mock = mockClient(S3Client);
const ec2Mock = mockClient(EC2Client);
const eventsMock = mockClient(EventBridgeClient);
const kmsMock = mockClient(KMSClient);
const BUCKET = "remedy-ledger-123456789012";
const ACTION = "act-20261120T102819Z-7c1d9e2f";
const GROUP = "sg-0ba5710000000002";

let sqs: LocalSqs;
let outputsFile: string;
let objects: Map<string, string>;

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
    s3: () => new S3Client({ region: "us-east-1" }),
    ec2: () => new EC2Client({ region: "us-east-1" }),
    eventBridge: () => new EventBridgeClient({ region: "us-east-1" }),
    kms: () => new KMSClient({ region: "us-east-1" }),
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

/** The ledger's action records (actions/…), not undo's exemptions beside them (exemptions/…). */
function ledgerRecords(): LedgerRecord[] {
  return [...objects].filter(([key]) => key.startsWith("actions/")).map(([, text]) => JSON.parse(text) as LedgerRecord);
}

function fixedRecord(overrides: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    version: 1,
    actionId: ACTION,
    instructionId: "0123456789abcdef0123456789abcdef",
    problem: "sg-open-ingress",
    resource: { type: "AWS::EC2::SecurityGroup", id: GROUP, accountId: "123456789012", region: "us-east-1" },
    ruleId: "sg-open-ingress",
    outcome: "fixed",
    changes: [
      {
        kind: "sg-rules-revoked",
        groupId: GROUP,
        rules: [
          {
            securityGroupRuleId: "sgr-0a1b2c3d4e5f60001",
            ipProtocol: "tcp",
            fromPort: 22,
            toPort: 22,
            cidrIpv4: "0.0.0.0/0",
            description: "temporary debug",
          },
        ],
      },
    ],
    before: {
      kind: "sg-rules",
      groupId: GROUP,
      rules: [
        {
          SecurityGroupRuleId: "sgr-0a1b2c3d4e5f60001",
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          CidrIpv4: "0.0.0.0/0",
          Description: "temporary debug",
        },
      ],
    },
    after: { kind: "sg-rules", groupId: GROUP, rules: [] },
    startedAt: "2026-11-20T10:28:19.000Z",
    finishedAt: "2026-11-20T10:28:20.000Z",
    attempt: 1,
    ...overrides,
  };
}

beforeEach(async () => {
  sqs = await startLocalSqs();
  // One by one: an array of the five mocks makes the type checker compare their huge types with each other.
  ssmMock.reset();
  s3Mock.reset();
  ec2Mock.reset();
  eventsMock.reset();
  kmsMock.reset();
  // KMS VerifyMac for the stack's ledger MAC key (the test secret).
  kmsMock.on(VerifyMacCommand).callsFake(fakeVerifyMac);
  // The group as the fix left it: the revoked rule is gone (undo reads it before showing anything).
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  objects = new Map();
  // An in-memory bucket: what PutObject stores, GetObject and ListObjectsV2 see.
  s3Mock.on(PutObjectCommand).callsFake((input) => {
    objects.set(input.Key, String(input.Body));
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    const text = objects.get(input.Key);
    if (text === undefined) throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
    return { Body: { transformToString: async () => text } };
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input) => ({
    Contents: [...objects.keys()].filter((key) => key.startsWith(input.Prefix ?? "")).map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  outputsFile = join(tmpdir(), `remedy-outputs-status-${process.pid}-${Date.now()}.json`);
  writeFileSync(
    outputsFile,
    JSON.stringify({
      queue_url: { value: sqs.queueUrl },
      dlq_url: { value: sqs.dlqUrl },
      pause_parameter: { value: "/remedy/pause" },
      ledger_bucket: { value: BUCKET },
      ledger_mac_key_id: { value: TEST_MAC_KEY_ID },
      schedule_rule_name: { value: "remedy-coordinator-schedule" },
    }),
  );
});
afterEach(async () => {
  await sqs.stop();
  rmSync(outputsFile, { force: true });
});

describe("remedy status", () => {
  it("shows auto-response, pause, breaker, queue depths and recent actions", async () => {
    eventsMock.on(DescribeRuleCommand).resolves({ Name: "remedy-coordinator-schedule", State: "DISABLED" });
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({
          paused: true,
          by: "circuit-breaker",
          reason: "61 fresh instructions in 10 minutes",
          at: "2026-11-20T11:00:00.000Z",
        }),
      },
    });
    for (const body of ["a", "b"])
      await sqs.sqs.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
    await sqs.sqs.send(new SendMessageCommand({ QueueUrl: sqs.dlqUrl, MessageBody: "c" }));
    objects.set(ledgerKey(ACTION), JSON.stringify(fixedRecord()));

    const { out, io: cliIo } = io();
    expect(await runCli(["status"], cliIo, deps())).toBe(0);
    const text = out.join("");
    expect(text).toContain("Auto-response: OFF (schedule remedy-coordinator-schedule disabled: nothing is changed)");
    expect(text).toContain("Pause switch:  PAUSED by circuit-breaker at 2026-11-20 11:00 UTC: 61 fresh instructions");
    expect(text).toContain("Breaker:       TRIPPED");
    expect(text).toContain("Queue:         2 waiting, 0 in flight");
    expect(text).toContain('Dead letters:  1 waiting, 0 in flight — "remedy peek --dlq" shows why');
    // The change in words, past tense, never its internal name.
    expect(text).toMatch(
      new RegExp(
        `${ACTION}\\s+2026-11-20 10:28 UTC\\s+fixed\\s+sg-open-ingress\\s+${GROUP}\\s+revoked ingress tcp 22 from 0\\.0\\.0\\.0/0 \\(sgr-0a1b2c3d4e5f60001\\)\n`,
      ),
    );
    expect(text).not.toContain("sg-rules-revoked");
    expect(s3Mock).toHaveReceivedCommandWith(ListObjectsV2Command, { Bucket: BUCKET, Prefix: "actions/2026-11-20/" });
  });

  it("shows the decisions taken in Slack, newest first, and names an object that is not one", async () => {
    eventsMock.on(DescribeRuleCommand).resolves({ State: "ENABLED" });
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: { Value: JSON.stringify({ paused: false, by: "alice", at: "2026-11-20T09:00:00.000Z" }) },
    });
    const instructionId = "0123456789abcdef0123456789abcdef";
    const by = { slackUserId: "U0ALICE001", teamId: "T0TEAM0001" };
    objects.set(
      `decisions/${instructionId}/exempt.json`,
      JSON.stringify({
        version: 1,
        decisionId: "d-exempt",
        action: "exempt",
        target: { instructionId },
        by,
        at: "2026-11-20T10:40:00.000Z",
        details: { reason: "vendor <!channel> feed", expires: "2026-12-31" },
      }),
    );
    objects.set(
      `decisions/${ACTION}/undo.json`,
      JSON.stringify({
        version: 1,
        decisionId: "d-undo",
        action: "undo",
        target: { actionId: ACTION },
        by,
        at: "2026-11-20T11:40:00.000Z",
      }),
    );
    objects.set(`decisions/${instructionId}/fix-now.json`, "{ not json");

    const { out, io: cliIo } = io();
    expect(await runCli(["status"], cliIo, deps())).toBe(0);
    const text = out.join("");
    const shown = text.slice(text.indexOf("Slack decisions (newest first):"));
    expect(shown).toMatch(
      new RegExp(`2026-11-20 11:40 UTC\\s+undo\\s+U0ALICE001 \\(T0TEAM0001\\)\\s+${ACTION}\\s+undo`),
    );
    expect(shown).toMatch(/2026-11-20 10:40 UTC\s+exempt\s+U0ALICE001 \(T0TEAM0001\)\s+instruction 0123456789abcdef/);
    expect(shown).toContain("exempt until 2026-12-31: vendor <!channel> feed");
    expect(shown.indexOf("undo  ")).toBeLessThan(shown.indexOf("exempt  "));
    expect(shown).toContain(`1 decision object could not be read:\n  decisions/${instructionId}/fix-now.json: `);
  });

  it("words every kind of record, shows AWS strings without control characters, and fits the terminal", async () => {
    eventsMock.on(DescribeRuleCommand).resolves({ State: "ENABLED" });
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({
          paused: true,
          by: "arn:aws:iam::123456789012:user/bob",
          reason: "freeze\u001b[2K\rall clear",
          at: "2026-11-20T11:00:00.000Z",
        }),
      },
    });
    const bucket = { type: "AWS::S3::Bucket", id: "acme-data", accountId: "123456789012", region: "us-east-1" };
    const records: LedgerRecord[] = [
      fixedRecord(),
      fixedRecord({
        actionId: "act-20261120T103000Z-00000001",
        problem: "s3-public-acl",
        resource: bucket,
        changes: [
          {
            kind: "acl-grants-removed",
            bucket: "acme-data",
            grants: [
              {
                grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" },
                permission: "READ",
              },
            ],
          },
        ],
      }),
      fixedRecord({
        actionId: "act-20261120T103100Z-00000002",
        problem: "s3-public-policy",
        resource: bucket,
        changes: [
          {
            kind: "public-access-block-enabled",
            bucket: "acme-data",
            before: { BlockPublicAcls: true },
            after: { BlockPublicAcls: true, RestrictPublicBuckets: true, BlockPublicPolicy: true },
          },
        ],
      }),
      fixedRecord({
        actionId: "act-20261120T103200Z-00000003",
        outcome: "failed",
        reason: "UnauthorizedOperation: not allowed",
        after: null,
      }),
      fixedRecord({
        actionId: "act-20261120T103300Z-00000004",
        outcome: "skipped",
        reason: "exempt: tag remedy:exempt\u001b]8;;https://evil.example\u0007",
        changes: [],
        before: null,
        after: null,
      }),
      fixedRecord({
        actionId: "act-20261120T103400Z-00000005",
        undoes: ACTION,
        changes: [{ kind: "restored", summary: `undo of ${ACTION}: re-authorized: tcp 22 from 0.0.0.0/0` }],
      }),
    ];
    for (const record of records) objects.set(ledgerKey(record.actionId), JSON.stringify(record));

    const { out, err, io: cliIo } = io();
    expect(await runCli(["status"], { ...cliIo, interactive: true }, deps())).toBe(0);
    expect(err.join("")).toBe("reading Remedy's state…\n");
    const text = out.join("");
    const row = (id: string) => text.split("\n").find((line) => line.startsWith(id)) ?? "";
    expect(row("act-20261120T103000Z-00000001")).toMatch(
      /fixed\s+s3-public-acl\s+acme-data\s+removed ACL grant AllUsers READ$/,
    );
    expect(row("act-20261120T103100Z-00000002")).toMatch(
      /fixed\s+s3-public-policy\s+acme-data\s+turned on Block Public Access BlockPublicPolicy \+ RestrictPublicBuckets$/,
    );
    expect(row("act-20261120T103200Z-00000003")).toMatch(
      /failed\s+sg-open-ingress\s+\S+\s+UnauthorizedOperation: not allowed — planned: revoke ingress tcp 22 from 0\.0\.0\.0\/0 \(sgr-0a1b2c3d4e5…$/,
    );
    expect(row("act-20261120T103300Z-00000004")).toMatch(/skipped .*exempt: tag remedy:exempt\\x1b\]8;;https:\/\/evil/);
    expect(row("act-20261120T103400Z-00000005")).toMatch(
      new RegExp(`undo of ${ACTION}\\s+sg-open-ingress\\s+${GROUP}\\s+re-authorized: tcp 22 from 0\\.0\\.0\\.0/0$`),
    );
    expect(text).toContain(
      "PAUSED by arn:aws:iam::123456789012:user/bob at 2026-11-20 11:00 UTC: freeze\\x1b[2K\\rall clear",
    );
    expect(text.includes("\u001b") || text.includes("\r") || text.includes("\u0007")).toBe(false);

    // On a narrow terminal the table is cut to fit; --json has everything.
    const narrow = io();
    expect(await runCli(["status"], { ...narrow.io, columns: 100 }, deps())).toBe(0);
    const table = narrow.out.join("").split("Recent actions (newest first):\n")[1]!.trimEnd().split("\n");
    expect(Math.max(...table.map((line) => line.length))).toBeLessThanOrEqual(100);
    expect(narrow.err).toEqual([]);
  });

  it("shows what it could read and exits 1 when a part fails", async () => {
    eventsMock.on(DescribeRuleCommand).resolves({ State: "ENABLED" });
    ssmMock.on(GetParameterCommand).rejects(
      Object.assign(new Error("User is not authorized to perform: ssm:GetParameter"), {
        name: "AccessDeniedException",
      }),
    );
    const { out, io: cliIo } = io();
    expect(await runCli(["status", "--json"], cliIo, deps())).toBe(1);
    const report = JSON.parse(out.join(""));
    expect(report.autoResponse).toEqual({ ok: true, value: { enabled: true, rule: "remedy-coordinator-schedule" } });
    expect(report.pause).toMatchObject({ ok: false, error: expect.stringMatching(/ssm:GetParameter/) });
    expect(report.queue).toEqual({ ok: true, value: { visible: 0, inFlight: 0, delayed: 0 } });
    expect(report.recentActions).toEqual({ ok: true, value: { records: [], invalid: [] } });
  });
});

describe("remedy undo", () => {
  it("shows the change, asks, and changes nothing when the answer is no", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    const asked: string[] = [];
    const { out, io: cliIo } = io();
    const code = await runCli(
      ["undo", ACTION],
      cliIo,
      deps({
        confirm: async (question) => {
          asked.push(question);
          return false;
        },
      }),
    );
    expect(code).toBe(1);
    expect(asked).toEqual(["Put this back?"]);
    expect(out.join("")).toContain(`Undo ${ACTION}`);
    expect(out.join("")).toContain(`re-authorize 1 ingress rule on ${GROUP}`);
    expect(out.join("")).toContain('+ tcp 22 from 0.0.0.0/0 "temporary debug"');
    expect(out.join("")).toContain("Nothing was changed.");
    // Formerly no EC2 call at all: it now reads the live group (to show what is missing), and changes nothing.
    expect(ec2Mock.calls().map((call) => call.args[0].constructor.name)).toEqual(["DescribeSecurityGroupRulesCommand"]);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it("--yes re-authorizes the revoked rule with its description and records the undo", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const { out, io: cliIo } = io();
    expect(await runCli(["undo", ACTION, "--yes"], cliIo, deps())).toBe(0);
    expect(ec2Mock).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, {
      GroupId: GROUP,
      IpPermissions: [
        {
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "temporary debug" }],
        },
      ],
    });
    const undoRecords = ledgerRecords().filter((record) => record.undoes);
    expect(undoRecords).toHaveLength(1);
    expect(undoRecords[0]).toMatchObject({ undoes: ACTION, outcome: "fixed" });
    // The operator cannot sign: undo's own records carry no MAC (and can never be undone).
    expect(undoRecords[0]!.integrity).toBeUndefined();
    expect(out.join("")).toContain(`Restored. The undo is recorded as ${undoRecords[0]!.actionId}.`);
  });

  it("--json: stdout is the result alone (outcome, the undo's action id, steps, what was re-added); the plan on stderr", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const { out, err, io: cliIo } = io();
    expect(await runCli(["undo", ACTION, "--yes", "--json"], cliIo, deps())).toBe(0);
    const result = JSON.parse(out.join(""));
    const undoRecord = ledgerRecords().find((record) => record.undoes)!;
    expect(result).toEqual({
      outcome: "restored",
      undoes: ACTION,
      actionId: undoRecord.actionId,
      by: "alice",
      steps: ['re-authorized: tcp 22 from 0.0.0.0/0 "temporary debug"'],
      reAdded: [
        {
          kind: "sg-rules",
          groupId: GROUP,
          rules: [expect.objectContaining({ IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "0.0.0.0/0" })],
        },
      ],
      // The default --exempt-for 24h, from the test's now (12:00).
      exemption: expect.objectContaining({
        until: "2026-11-21T12:00:00.000Z",
        entries: ["tcp 22 from 0.0.0.0/0 (sgr-0a1b2c3d4e5f60001)"],
      }),
    });
    expect(err.join("")).toContain(`Undo ${ACTION}`);
    expect(err.join("")).toContain(`re-authorize 1 ingress rule on ${GROUP}`);
  });

  it("--json declined: the plan and the question on stderr, a declined result on stdout, exit 1", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    const asked: string[] = [];
    const { out, err, io: cliIo } = io();
    const confirm = async (question: string) => {
      asked.push(question);
      return false;
    };
    expect(await runCli(["undo", ACTION, "--json"], cliIo, deps({ confirm }))).toBe(1);
    expect(asked).toEqual(["Put this back?"]);
    expect(JSON.parse(out.join(""))).toEqual({
      outcome: "declined",
      undoes: ACTION,
      by: "alice",
      steps: [],
      reAdded: [],
    });
    expect(err.join("")).toContain('+ tcp 22 from 0.0.0.0/0 "temporary debug"');
    expect(err.join("")).toContain("Nothing was changed.");
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
  });

  it("--json refused: a refused result on stdout, the sentence on stderr, exit 1", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(fixedRecord()));
    const { out, err, io: cliIo } = io();
    expect(await runCli(["undo", ACTION, "--yes", "--json"], cliIo, deps())).toBe(1);
    expect(JSON.parse(out.join(""))).toMatchObject({
      outcome: "refused",
      undoes: ACTION,
      reAdded: [],
      reason: expect.stringMatching(/carries no integrity MAC/),
    });
    expect(err.join("")).toMatch(/^remedy undo: .*carries no integrity MAC/);
  });

  it("refuses credentials for another account than the stack's before reading the record", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    writeFileSync(
      outputsFile,
      JSON.stringify({
        ledger_bucket: { value: BUCKET },
        ledger_mac_key_id: { value: TEST_MAC_KEY_ID },
        account_id: { value: "210987654321" },
      }),
    );
    const callerIdentity = async () => ({ account: "123456789012", arn: "arn:aws:iam::123456789012:user/alice" });
    const { out, err, io: cliIo } = io();
    expect(await runCli(["undo", ACTION, "--yes"], cliIo, deps({ callerIdentity }))).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("")).toContain("but Remedy's stack is in account 210987654321");
    expect(s3Mock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("shows a description with control characters inert, on its own line", async () => {
    const record = fixedRecord();
    const hostile = "debug\u001b[1A\u001b[2K\nUndo verified: nothing will change";
    (record.before as { rules: { Description?: string }[] }).rules[0]!.Description = hostile;
    (record.changes[0] as { rules: { description?: string }[] }).rules[0]!.description = hostile;
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(record)));
    const { out, io: cliIo } = io();
    expect(await runCli(["undo", ACTION], cliIo, deps())).toBe(1);
    const text = out.join("");
    expect(text).toContain('+ tcp 22 from 0.0.0.0/0 "debug\\x1b[1A\\x1b[2K\\nUndo verified: nothing will change"');
    expect(text.includes("\u001b")).toBe(false);
    expect(text.split("\n").some((line) => line.startsWith("Undo verified"))).toBe(false);
  });

  it("refuses what cannot be undone, in one sentence", async () => {
    objects.set(
      ledgerKey(ACTION),
      JSON.stringify(
        fixedRecord({ outcome: "skipped", reason: "nothing to do", changes: [], before: null, after: null }),
      ),
    );
    const skipped = io();
    expect(await runCli(["undo", ACTION, "--yes"], skipped.io, deps())).toBe(1);
    expect(skipped.err.join("")).toMatch(/^remedy undo: .* is skipped: nothing to do; it changed nothing to undo/);

    const missing = io();
    expect(await runCli(["undo", "act-20261119T000000Z-00000000", "--yes"], missing.io, deps())).toBe(1);
    expect(missing.err.join("")).toMatch(/no ledger record for act-20261119T000000Z-00000000/);

    const malformed = io();
    expect(await runCli(["undo", "sgr-123"], malformed.io, deps())).toBe(2);
    expect(malformed.err.join("")).toMatch(/"sgr-123" is not an action id/);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  describe("refuses a record that is not genuine, before showing or asking anything", () => {
    /** The record as signed, then changed in the bucket: 3389 re-opened instead of 22 (consistently). */
    async function tampered() {
      const record = structuredClone(await signRecord(fixedRecord()));
      const before = record.before as { rules: { FromPort?: number; ToPort?: number }[] };
      before.rules[0]!.FromPort = 3389;
      before.rules[0]!.ToPort = 3389;
      const revoked = record.changes[0] as { rules: { fromPort: number; toPort: number }[] };
      revoked.rules[0]!.fromPort = 3389;
      revoked.rules[0]!.toPort = 3389;
      return record;
    }

    async function refused(record: object, overrides: Partial<CliDeps> = {}) {
      objects.set(ledgerKey(ACTION), JSON.stringify(record));
      const asked: string[] = [];
      const run = io();
      const code = await runCli(
        ["undo", ACTION],
        run.io,
        deps({
          confirm: async (question) => {
            asked.push(question);
            return true;
          },
          ...overrides,
        }),
      );
      expect(code).toBe(1);
      expect(asked).toEqual([]);
      expect(run.out.join("")).toBe("");
      expect(ec2Mock.calls()).toHaveLength(0);
      expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
      return run.err.join("");
    }

    it("KMS VerifyMac says MacValid false for a field changed after signing", async () => {
      const record = await tampered();
      kmsMock.on(VerifyMacCommand).resolves({ KeyId: TEST_MAC_KEY_ID, MacValid: false });
      expect(await refused(record)).toMatch(
        new RegExp(`^remedy undo: ${ACTION} does not match its integrity MAC: it was changed after Remedy wrote it`),
      );
      expect(kmsMock).toHaveReceivedCommandWith(VerifyMacCommand, {
        KeyId: TEST_MAC_KEY_ID,
        MacAlgorithm: "HMAC_SHA_256",
        Message: integrityMessage(record),
      });
    });

    it("KMS refuses the MAC (KMSInvalidMacException, as the real service answers)", async () => {
      kmsMock.on(VerifyMacCommand).rejects(awsError("KMSInvalidMacException", 400));
      expect(await refused(await tampered())).toMatch(/does not match its integrity MAC/);
    });

    it("the key's own answer (VerifyMac computed with the key's secret) for the tampered record", async () => {
      expect(await refused(await tampered())).toMatch(/does not match its integrity MAC/);
    });

    it("a record without integrity (KMS is not even asked)", async () => {
      expect(await refused(fixedRecord())).toMatch(/carries no integrity MAC/);
      expect(kmsMock.calls()).toHaveLength(0);
    });

    it("a record signed with another key than the stack's (its own key, which the operator may verify with)", async () => {
      const other = await signRecord(fixedRecord(), testSigner("attacker", "arn:aws:kms:us-east-1:999999999999:key/x"));
      const err = await refused(other);
      expect(err).toMatch(
        /is signed with key arn:aws:kms:us-east-1:999999999999:key\/x, not the stack's ledger MAC key/,
      );
      expect(kmsMock.calls()).toHaveLength(0);
    });

    it("a signed record whose before-state names another group (consistency), nothing sent to EC2", async () => {
      const record = fixedRecord();
      const before = record.before as { groupId: string; rules: { GroupId?: string }[] };
      before.groupId = "sg-0ther000000000001";
      before.rules[0]!.GroupId = "sg-0ther000000000001";
      expect(await refused(await signRecord(record))).toMatch(
        /is inconsistent, so it is not undone: its before-state is for security group sg-0ther000000000001, not its resource sg-0ba5710000000002/,
      );
    });
  });

  describe("a bucket: reads the live bucket before asking and shows exactly what it re-adds", () => {
    const DATA = "acme-data";
    const TARGET = { Bucket: DATA, ExpectedBucketOwner: "123456789012" };
    const DENY = {
      Sid: "DenyInsecure",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: "arn:aws:s3:::acme-data/*",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
    const PUBLIC = {
      Sid: "PublicRead",
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: "arn:aws:s3:::acme-data/*",
    };
    const LATER = {
      Sid: "DenyDelete",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:DeleteBucket",
      Resource: "arn:aws:s3:::acme-data",
    };
    const bucketState = (policy: object) => ({
      kind: "s3-bucket" as const,
      bucket: DATA,
      aclsDisabled: false,
      acl: {
        Owner: { ID: "owner-id" },
        Grants: [{ Grantee: { Type: "CanonicalUser", ID: "owner-id" }, Permission: "FULL_CONTROL" }],
      },
      policy: JSON.stringify(policy),
      publicAccessBlock: null,
    });
    const policyRecord = () =>
      fixedRecord({
        problem: "s3-public-policy",
        ruleId: "s3-public",
        resource: { type: "AWS::S3::Bucket", id: DATA, accountId: "123456789012", region: "us-east-1" },
        changes: [{ kind: "policy-statements-removed", bucket: DATA, statements: [PUBLIC], policyDeleted: false }],
        before: bucketState({ Version: "2012-10-17", Statement: [DENY, PUBLIC] }),
        after: bucketState({ Version: "2012-10-17", Statement: [DENY] }),
      });

    function liveBucket(policy: object, block: object | null = null) {
      s3Mock.on(GetBucketOwnershipControlsCommand, TARGET).resolves({
        OwnershipControls: { Rules: [{ ObjectOwnership: "BucketOwnerPreferred" }] },
      });
      s3Mock.on(GetBucketAclCommand, TARGET).resolves({
        Owner: { ID: "owner-id" },
        Grants: [{ Grantee: { Type: "CanonicalUser", ID: "owner-id" }, Permission: "FULL_CONTROL" }],
      });
      s3Mock.on(GetBucketPolicyCommand, TARGET).resolves({ Policy: JSON.stringify(policy) });
      if (block) s3Mock.on(GetPublicAccessBlockCommand, TARGET).resolves({ PublicAccessBlockConfiguration: block });
      else
        s3Mock.on(GetPublicAccessBlockCommand, TARGET).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
      s3Mock.on(PutBucketPolicyCommand).resolves({});
    }

    it("the statement as JSON, added to the live policy (a statement added since stays); no changes nothing", async () => {
      objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(policyRecord())));
      liveBucket({ Version: "2012-10-17", Statement: [DENY, LATER] });
      const declined = io();
      expect(await runCli(["undo", ACTION], declined.io, deps())).toBe(1);
      const text = declined.out.join("");
      expect(text).toContain(
        [
          "  add to the live bucket policy of acme-data the 1 statement Remedy removed (its 2 statements, Version and Id stay as they are):",
          "    + {",
          '    +   "Sid": "PublicRead",',
        ].join("\n"),
      );
      expect(text).toContain("Nothing was changed.");
      expect(s3Mock).toHaveReceivedCommandWith(GetBucketPolicyCommand, TARGET);
      expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);

      const confirmed = io();
      expect(await runCli(["undo", ACTION, "--yes"], confirmed.io, deps())).toBe(0);
      expect(s3Mock.commandCalls(PutBucketPolicyCommand).map((call) => call.args[0].input)).toEqual([
        { ...TARGET, Policy: JSON.stringify({ Version: "2012-10-17", Statement: [DENY, LATER, PUBLIC] }) },
      ]);
      expect(confirmed.out.join("")).toContain("  re-added statement PublicRead to the live bucket policy\n");
    });

    it("--json names the statement re-added to the live policy", async () => {
      objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(policyRecord())));
      liveBucket({ Version: "2012-10-17", Statement: [DENY, LATER] });
      const { out, io: cliIo } = io();
      expect(await runCli(["undo", ACTION, "--yes", "--json"], cliIo, deps())).toBe(0);
      expect(JSON.parse(out.join(""))).toMatchObject({
        outcome: "restored",
        steps: ["re-added statement PublicRead to the live bucket policy"],
        reAdded: [{ kind: "policy-statements", bucket: DATA, statements: [PUBLIC] }],
      });
    });

    it("refuses, after showing why and before asking, when nothing can be re-added (BlockPublicPolicy on now)", async () => {
      objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(policyRecord())));
      liveBucket({ Version: "2012-10-17", Statement: [DENY] }, { BlockPublicPolicy: true });
      const asked: string[] = [];
      const run = io();
      const code = await runCli(
        ["undo", ACTION],
        run.io,
        deps({
          confirm: async (question) => {
            asked.push(question);
            return true;
          },
        }),
      );
      expect(code).toBe(1);
      expect(asked).toEqual([]);
      expect(run.out.join("")).toContain("  conflict: Block Public Access BlockPublicPolicy is on for acme-data now");
      expect(run.err.join("")).toMatch(
        new RegExp(
          `^remedy undo: ${ACTION} is not undone: Block Public Access BlockPublicPolicy is on for acme-data now`,
        ),
      );
      expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
      expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
    });
  });

  it("takes the stack's ledger MAC key from the stack references once they carry it", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    const run = io();
    const refs = { ledgerBucket: BUCKET, ledgerMacKeyId: "arn:aws:kms:us-east-1:123456789012:key/the-stack-key" };
    await expect(undoCommand(refs, ACTION, { yes: true }, deps(), run.io)).rejects.toThrow(
      new RegExp(`is signed with key ${TEST_MAC_KEY_ID}, not the stack's ledger MAC key ${refs.ledgerMacKeyId}`),
    );
    expect(run.out).toEqual([]);
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("refuses to undo anything while the stack's ledger MAC key is not known", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    writeFileSync(outputsFile, JSON.stringify({ ledger_bucket: { value: BUCKET } }));
    const run = io();
    expect(await runCli(["undo", ACTION, "--yes"], run.io, deps())).toBe(2);
    expect(run.err.join("")).toMatch(/Remedy's stack is not known here: .* or give --ledger-mac-key\./);
    expect(kmsMock.calls()).toHaveLength(0);
    expect(ec2Mock.calls()).toHaveLength(0);
    const flagged = io();
    expect(await runCli(["undo", ACTION, "--ledger-mac-key", TEST_MAC_KEY_ID], flagged.io, deps())).toBe(1);
    expect(flagged.out.join("")).toContain(`The record's integrity MAC verifies with KMS key ${TEST_MAC_KEY_ID}.`);
  });
});
