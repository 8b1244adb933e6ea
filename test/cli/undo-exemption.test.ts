// `remedy undo` leaves what it put back alone: it records a temporary exemption for exactly those entries (--exempt-for,
// default 24 h, 0 for none), says until when and how to lift it, and tells Slack; `remedy status`, `remedy exemptions`
// and `remedy plan` show it. SDK mocks, the ledger an in-memory bucket behind the S3 mock.
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
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import type { LedgerRecord } from "../../contract/ledger.ts";
import { ledgerKey } from "../../contract/ledger.ts";
import { parseReport } from "../../contract/report.ts";
import { parseUndoExemptionRecord, undoExemptionKey } from "../../contract/undo-exemption.ts";
import { awsError, fakeVerifyMac, signRecord, TEST_MAC_KEY_ID } from "../remediation/support.ts";
import { exemptionRecord } from "../undo/exemption-fixtures.ts";

const ssmMock = mockClient(SSMClient);
const s3Mock = mockClient(S3Client);
const ec2Mock = mockClient(EC2Client);
const eventsMock = mockClient(EventBridgeClient);
const kmsMock = mockClient(KMSClient);
const snsMock = mockClient(SNSClient);
const sqsMock = mockClient(SQSClient);

const BUCKET = "remedy-ledger-123456789012";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:remedy-reports";
const ACTION = "act-20261120T102819Z-7c1d9e2f";
const GROUP = "sg-0ba5710000000002";
const NOW = new Date("2026-11-20T12:00:00.000Z");
const RESOURCE = { accountId: "123456789012", region: "us-east-1", type: "AWS::EC2::SecurityGroup", id: GROUP };
const EXEMPTION_KEY = undoExemptionKey(RESOURCE);
const SSH_WORDS = "tcp 22 from 0.0.0.0/0 (sgr-0a1b2c3d4e5f60001)";

let outputsFile: string;
let objects: Map<string, string>;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    text: () => out.join(""),
    errors: () => err.join(""),
    io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) },
  };
}

const notUsed = () => {
  throw new Error("not used");
};

function deps(overrides: Partial<CliDeps> = {}): CliDeps {
  return {
    sqs: () => new SQSClient({ region: "us-east-1" }),
    ssm: () => new SSMClient({ region: "us-east-1" }),
    s3: () => new S3Client({ region: "us-east-1" }),
    ec2: () => new EC2Client({ region: "us-east-1" }),
    eventBridge: () => new EventBridgeClient({ region: "us-east-1" }),
    kms: () => new KMSClient({ region: "us-east-1" }),
    sns: () => new SNSClient({ region: "us-east-1" }),
    secretsManager: notUsed,
    configService: notUsed,
    s3Control: notUsed,
    now: () => NOW,
    user: () => "alice",
    confirm: async () => false,
    env: { REMEDY_OUTPUTS: outputsFile },
    ...overrides,
  };
}

/** The fix of tcp 22 from 0.0.0.0/0 on GROUP, signed as a remediation signs it. */
function fixedRecord(): LedgerRecord {
  const rule = {
    SecurityGroupRuleId: "sgr-0a1b2c3d4e5f60001",
    GroupId: GROUP,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    CidrIpv4: "0.0.0.0/0",
    Description: "temporary debug",
  };
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
            securityGroupRuleId: rule.SecurityGroupRuleId,
            ipProtocol: "tcp",
            fromPort: 22,
            toPort: 22,
            cidrIpv4: "0.0.0.0/0",
            description: rule.Description,
          },
        ],
      },
    ],
    before: { kind: "sg-rules", groupId: GROUP, rules: [rule] },
    after: { kind: "sg-rules", groupId: GROUP, rules: [] },
    startedAt: "2026-11-20T10:28:19.000Z",
    finishedAt: "2026-11-20T10:28:20.000Z",
    attempt: 1,
  };
}

function writeOutputs(extra: Record<string, unknown> = { report_topic_arn: { value: TOPIC } }) {
  writeFileSync(
    outputsFile,
    JSON.stringify({
      region: { value: "us-east-1" },
      queue_url: { value: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation" },
      dlq_url: { value: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation-dlq" },
      pause_parameter: { value: "/remedy/paused" },
      ledger_bucket: { value: BUCKET },
      ledger_mac_key_id: { value: TEST_MAC_KEY_ID },
      schedule_rule_name: { value: "remedy-coordinator-schedule" },
      ...extra,
    }),
  );
}

const noSuchKey = () => new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} });

beforeEach(async () => {
  for (const mock of [ssmMock, s3Mock, ec2Mock, eventsMock, kmsMock, snsMock, sqsMock] as const) mock.reset();
  kmsMock.on(VerifyMacCommand).callsFake(fakeVerifyMac);
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
  ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  snsMock.on(PublishCommand).resolves({ MessageId: "sns-1" });
  objects = new Map();
  s3Mock.on(PutObjectCommand).callsFake((input) => {
    if (input.IfNoneMatch === "*" && objects.has(input.Key)) {
      throw awsError("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
    }
    objects.set(input.Key, String(input.Body));
    return { ETag: `"${objects.size}"` };
  });
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    const text = objects.get(input.Key);
    if (text === undefined) throw noSuchKey();
    return { Body: { transformToString: async () => text }, ETag: '"1"' };
  });
  s3Mock.on(DeleteObjectCommand).callsFake((input) => {
    objects.delete(input.Key);
    return {};
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input) => ({
    Contents: [...objects.keys()].filter((key) => key.startsWith(input.Prefix ?? "")).map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  outputsFile = join(tmpdir(), `remedy-outputs-undo-exemption-${process.pid}-${Date.now()}.json`);
  writeOutputs();
  objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
});
afterEach(() => rmSync(outputsFile, { force: true }));

const storedExemption = () => {
  const text = objects.get(EXEMPTION_KEY);
  return text === undefined ? undefined : parseUndoExemptionRecord(text);
};

describe("remedy undo: the temporary exemption", () => {
  it("records exactly the entry it put back, until now + 24 h by default, and says how to lift it", async () => {
    const t = io();
    expect(await runCli(["undo", ACTION, "--yes"], t.io, deps())).toBe(0);
    const record = storedExemption()!;
    const undoRecord = [...objects]
      .filter(([key]) => key.startsWith("actions/"))
      .map(([, text]) => JSON.parse(text) as LedgerRecord)
      .find((entry) => entry.undoes === ACTION)!;
    expect(record).toMatchObject({
      resource: RESOURCE,
      undoActionId: undoRecord.actionId,
      undoes: ACTION,
      by: "alice",
      at: NOW.toISOString(),
      until: "2026-11-21T12:00:00.000Z",
    });
    expect(record.entries).toEqual([
      expect.objectContaining({
        problem: "sg-open-ingress",
        entry: expect.objectContaining({ kind: "sg-rule" }),
        until: "2026-11-21T12:00:00.000Z",
      }),
    ]);
    // Said before asking, and after.
    expect(t.text()).toContain("Remedy will leave exactly what is put back as it is for 24h (--exempt-for)");
    expect(t.text()).toContain(
      `Left as restored until 2026-11-21T12:00:00.000Z: Remedy will not fix this entry again before then. To end it early: remedy exemptions lift ${GROUP} (or delete s3://${BUCKET}/${EXEMPTION_KEY}).`,
    );
    // A new object: written only if none appeared meanwhile.
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, { Key: EXEMPTION_KEY, IfNoneMatch: "*" });
  });

  it("--exempt-for sets the length; 0 records none and says so", async () => {
    const week = io();
    expect(await runCli(["undo", ACTION, "--yes", "--exempt-for", "7d"], week.io, deps())).toBe(0);
    expect(storedExemption()?.until).toBe("2026-11-27T12:00:00.000Z");

    objects.delete(EXEMPTION_KEY);
    const none = io();
    expect(await runCli(["undo", ACTION, "--yes", "--exempt-for", "0", "--json"], none.io, deps())).toBe(0);
    expect(storedExemption()).toBeUndefined();
    const result = JSON.parse(none.text());
    expect(result.exemption).toEqual({
      entries: [SSH_WORDS],
      note: expect.stringContaining("No exemption (--exempt-for 0)"),
    });
    expect(none.errors()).toContain("No exemption (--exempt-for 0): Remedy will see this hole again");
  });

  it.each([["31d"], ["1w"], ["12"]])("--exempt-for %s is bad usage: nothing is read or changed", async (length) => {
    const t = io();
    expect(await runCli(["undo", ACTION, "--yes", "--exempt-for", length], t.io, deps())).toBe(2);
    expect(t.errors()).toContain("--exempt-for");
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it("nothing put back (the rule is there again): no exemption and no report", async () => {
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        {
          SecurityGroupRuleId: "sgr-0back",
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          CidrIpv4: "0.0.0.0/0",
          Description: "temporary debug",
        },
      ],
    });
    const t = io();
    expect(await runCli(["undo", ACTION, "--yes", "--json"], t.io, deps())).toBe(0);
    expect(JSON.parse(t.text())).toMatchObject({ outcome: "already-restored" });
    expect(JSON.parse(t.text()).exemption).toBeUndefined();
    expect(storedExemption()).toBeUndefined();
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it("an exemption that cannot be written is a warning: the undo is done and says Remedy may fix it again", async () => {
    s3Mock.on(PutObjectCommand, { Key: EXEMPTION_KEY }).rejects(awsError("AccessDenied", 403, "Access Denied"));
    const t = io();
    expect(await runCli(["undo", ACTION, "--yes", "--json"], t.io, deps())).toBe(0);
    expect(JSON.parse(t.text())).toMatchObject({
      outcome: "restored",
      exemption: { entries: [SSH_WORDS], note: expect.stringContaining("could not be recorded") },
    });
    expect(t.errors()).toMatch(/warning: the undo is done, but its exemption could not be recorded \(AccessDenied/);
    expect(ec2Mock).toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
  });
});

describe("remedy undo: the Slack report", () => {
  it("publishes an undone report to the stack's report topic: what went back, who, until when", async () => {
    const t = io();
    expect(await runCli(["undo", ACTION, "--yes"], t.io, deps())).toBe(0);
    const [publish] = snsMock.commandCalls(PublishCommand);
    expect(publish!.args[0].input).toMatchObject({
      TopicArn: TOPIC,
      MessageAttributes: { kind: { DataType: "String", StringValue: "undone" } },
    });
    const report = parseReport(JSON.parse(String(publish!.args[0].input.Message)));
    expect(report).toMatchObject({
      kind: "undone",
      undoes: ACTION,
      problem: "sg-open-ingress",
      resource: { id: GROUP, accountId: "123456789012", region: "us-east-1" },
      reAdded: [SSH_WORDS],
      by: "alice",
      exemptUntil: "2026-11-21T12:00:00.000Z",
      at: NOW.toISOString(),
    });
  });

  it("a publish that fails, or a stack without the topic, is a warning: the undo is done", async () => {
    snsMock.on(PublishCommand).rejects(awsError("AuthorizationError", 403, "not authorized to publish"));
    const failed = io();
    expect(await runCli(["undo", ACTION, "--yes"], failed.io, deps())).toBe(0);
    expect(failed.errors()).toContain("warning: the undo is done, but Slack could not be told (AuthorizationError");
    expect(storedExemption()).toBeDefined();

    writeOutputs({});
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(fixedRecord())));
    const noTopic = io();
    expect(await runCli(["undo", ACTION, "--yes"], noTopic.io, deps())).toBe(0);
    expect(noTopic.errors()).toContain("report topic is not in its outputs (report_topic_arn)");
  });
});

describe("remedy status, remedy exemptions", () => {
  const hostile = () =>
    exemptionRecord(undefined, {
      resource: RESOURCE,
      by: "arn:aws:sts::123456789012:assumed-role/Ops/eve\u001b[2K\rall clear",
    });

  it("status lists what is left as restored, with every string escaped", async () => {
    eventsMock.on(DescribeRuleCommand).resolves({ State: "DISABLED" });
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({ paused: false, by: "terraform", reason: "created", at: NOW.toISOString() }),
      },
    });
    sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    objects.set(EXEMPTION_KEY, JSON.stringify(hostile()));
    objects.set("exemptions/123456789012/us-east-1/x/forged.json", JSON.stringify({ version: 1, exemptAll: true }));
    const t = io();
    expect(await runCli(["status"], t.io, deps())).toBe(0);
    const text = t.text();
    expect(text).toContain("Left as restored by undo (Remedy does not fix these until then;");
    expect(text).toMatch(
      /sg-0ba5710000000002\s+sg-open-ingress\s+tcp 22 from 0\.0\.0\.0\/0 \(sgr-0ssh4\)\s+2026-11-21 12:00 UTC\s+arn:aws:sts::123456789012:assumed-role\/Ops\/eve\\x1b\[2K\\rall clear/,
    );
    expect(text).not.toContain("\u001b");
    expect(text).toContain("1 exemption object not valid (they exempt nothing):");
    const json = io();
    expect(await runCli(["status", "--json"], json.io, deps())).toBe(0);
    expect(JSON.parse(json.text()).undoExemptions.value.active).toEqual([
      expect.objectContaining({ resource: RESOURCE, problem: "sg-open-ingress", until: "2026-11-21T12:00:00.000Z" }),
    ]);
  });

  it("exemptions lists them; lift deletes the resource's object and says what follows", async () => {
    objects.set(EXEMPTION_KEY, JSON.stringify(exemptionRecord(undefined, { resource: RESOURCE })));
    const list = io();
    expect(await runCli(["exemptions", "--json"], list.io, deps())).toBe(0);
    const listed = JSON.parse(list.text());
    expect(listed.active).toHaveLength(1);
    // What an offline plan takes (--undo-exemptions FILE).
    expect(listed.records).toEqual([exemptionRecord(undefined, { resource: RESOURCE })]);

    const lift = io();
    expect(await runCli(["exemptions", "lift", GROUP], lift.io, deps())).toBe(0);
    expect(lift.text()).toContain(`Lifted the undo exemption on ${GROUP}`);
    expect(s3Mock).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: BUCKET, Key: EXEMPTION_KEY });
    expect(objects.has(EXEMPTION_KEY)).toBe(false);

    const again = io();
    expect(await runCli(["exemptions", "lift", GROUP], again.io, deps())).toBe(0);
    expect(again.text()).toContain("nothing to lift");
    expect(s3Mock.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });

  it("exemptions revoke ends an exemption granted in Slack, by its decision id", async () => {
    const entry = {
      resource: `arn:aws:ec2:us-east-1:123456789012:security-group/${GROUP}`,
      problems: ["sg-open-ingress"],
      reason: "vendor support until the migration",
      owner: "slack:U0ALICE001",
      expires: "2099-01-31",
      decisionId: "d-exempt-1",
      at: "2026-11-20T10:00:00.000Z",
    };
    objects.set("allowlist/slack.json", JSON.stringify({ version: 1, entries: [entry] }));
    const list = io();
    expect(await runCli(["exemptions"], list.io, deps())).toBe(0);
    expect(list.text()).toContain("d-exempt-1");

    const revoke = io();
    expect(await runCli(["exemptions", "revoke", "d-exempt-1"], revoke.io, deps())).toBe(0);
    expect(revoke.text()).toContain("Revoked the exemption granted in Slack by decision d-exempt-1");
    expect(JSON.parse(objects.get("allowlist/slack.json")!).entries).toEqual([]);

    const again = io();
    expect(await runCli(["exemptions", "revoke", "d-exempt-1", "--json"], again.io, deps())).toBe(0);
    expect(JSON.parse(again.text())).toMatchObject({ revoked: false, decisionId: "d-exempt-1" });
  });

  it("exemptions: bad usage is exit 2", async () => {
    for (const args of [
      ["exemptions", "lift"],
      ["exemptions", "drop", GROUP],
      ["exemptions", "lift", GROUP, "--account", "12"],
      ["exemptions", "revoke"],
      ["exemptions", "revoke", "../x"],
      ["exemptions", "revoke", "d-1", "--account", "123456789012"],
    ]) {
      const t = io();
      expect(await runCli(args, t.io, deps())).toBe(2);
    }
    expect(s3Mock.calls()).toHaveLength(0);
  });
});
