// The remediation runner honours the allowlist's Slack part (allowlist/slack.json in the ledger bucket), read for every
// run: a resource exempted in Slack is skipped with that exemption as the reason and nothing is changed; an object that
// cannot be read changes nothing and leaves the message to be retried; a malformed one exempts nothing.
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseAllowlist } from "../../detection/exemptions.ts";
import type { RemediationSettings } from "../../functions/remediation/runner.ts";
import { liveRemediationDeps, liveSlackAllowlist } from "../../functions/remediation/wiring.ts";
import { createLogger, createMetrics } from "../../platform/logging.ts";
import { SLACK_ALLOWLIST_KEY } from "../../platform/slack-allowlist.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { remediate, type TestRemediationDeps } from "../support/remediate.ts";
import {
  ACTION_ID,
  awsError,
  DLQ_URL,
  deployedDeps,
  GROUP_ID,
  instructionFor,
  recordingReporter,
  requestFor,
  SG_RULES,
  SSH_V4,
  T0,
  testLedger,
} from "./support.ts";

const ec2Mock = mockClient(EC2Client);
const sqsMock = mockClient(SQSClient);
const s3Mock = mockClient(S3Client);
const LEDGER_BUCKET = "remedy-ledger-test";
const NOW = new Date(T0.getTime() + 60_000);

const request = () =>
  requestFor(instructionFor("sg-open-ingress", [SSH_V4]), {
    dispatchedAt: new Date(NOW.getTime() - 10_000).toISOString(),
  });

const slackEntry = (overrides: Record<string, unknown> = {}) => ({
  resource: GROUP_ID,
  problems: ["sg-open-ingress"],
  reason: "vendor VPN cut-over this week",
  owner: "slack:U012ABCDEF",
  expires: "2026-11-27",
  decisionId: "dec-1",
  at: "2026-11-20T10:00:00.000Z",
  ...overrides,
});

function storeSlackAllowlist(text: string | undefined) {
  s3Mock.on(GetObjectCommand, { Bucket: LEDGER_BUCKET, Key: SLACK_ALLOWLIST_KEY }).callsFake(() => {
    if (text === undefined) throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} });
    return { Body: { transformToString: async () => text }, ETag: '"1"' };
  });
}

function setup(deployed = "[]") {
  const revoked: string[][] = [];
  ec2Mock
    .on(DescribeSecurityGroupsCommand)
    .resolves({ SecurityGroups: [{ GroupId: GROUP_ID, GroupName: "web", Tags: [] }] });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
  ec2Mock.on(RevokeSecurityGroupIngressCommand).callsFake((input: { SecurityGroupRuleIds: string[] }) => {
    revoked.push(input.SecurityGroupRuleIds);
    return {
      Return: true,
      RevokedSecurityGroupRules: input.SecurityGroupRuleIds.map((id) => ({ SecurityGroupRuleId: id })),
    };
  });
  sqsMock.on(DeleteMessageCommand).resolves({});
  sqsMock.on(SendMessageCommand).resolves({ MessageId: "dlq-1" });
  const log = recordingLog();
  const ledger = testLedger();
  const reporter = recordingReporter();
  const deps: TestRemediationDeps = {
    ...deployedDeps(),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: parseAllowlist(deployed).entries,
    // The deployed reader: the ledger bucket's object, through the function's S3 client.
    slackAllowlist: liveSlackAllowlist({ ledgerBucket: LEDGER_BUCKET }, log),
    now: () => NOW,
    log,
    newActionId: () => ACTION_ID,
  };
  return { deps, ledger, reporter, revoked, log };
}

beforeEach(() => {
  ec2Mock.reset();
  sqsMock.reset();
  s3Mock.reset();
});
afterAll(() => {
  ec2Mock.restore();
  sqsMock.restore();
  s3Mock.restore();
});

describe("remediation runner: the allowlist's Slack part", () => {
  it("a resource exempted in Slack is skipped with that exemption as the reason; nothing is changed", async () => {
    storeSlackAllowlist(JSON.stringify({ version: 1, entries: [slackEntry()] }));
    const t = setup();
    const result = await remediate("remediate-sg", request(), t.deps);
    const reason = "exempt by allowlist (owner slack:U012ABCDEF) until 2026-11-27: vendor VPN cut-over this week";
    expect(result).toEqual({ status: "skipped", actionId: ACTION_ID, reason, messageDeleted: true });
    expect(t.revoked).toEqual([]);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(t.ledger.writes.map((record) => [record.outcome, record.reason])).toEqual([["skipped", reason]]);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "skipped", reason })]);
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: LEDGER_BUCKET, Key: SLACK_ALLOWLIST_KEY });
  });

  it("the deployed allowlist is checked first: its entry is the reason when both exempt", async () => {
    storeSlackAllowlist(JSON.stringify({ version: 1, entries: [slackEntry()] }));
    const deployed = JSON.stringify([
      { resource: GROUP_ID, problems: ["*"], reason: "bastion", owner: "net@acme", expires: "2027-01-31" },
    ]);
    const t = setup(deployed);
    const result = await remediate("remediate-sg", request(), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringContaining("owner net@acme") });
  });

  it("read on every run: an exemption granted after the last run stops this one", async () => {
    storeSlackAllowlist(undefined);
    const first = setup();
    expect(await remediate("remediate-sg", request(), first.deps)).toMatchObject({ status: "fixed" });
    storeSlackAllowlist(JSON.stringify({ version: 1, entries: [slackEntry()] }));
    const second = setup();
    expect(
      await remediate("remediate-sg", request(), { ...second.deps, slackAllowlist: first.deps.slackAllowlist }),
    ).toMatchObject({ status: "skipped" });
    expect(second.revoked).toEqual([]);
  });

  it("no object, an expired entry, another resource's: fixed as usual", async () => {
    for (const text of [
      undefined,
      JSON.stringify({ version: 1, entries: [slackEntry({ expires: "2026-11-19" })] }),
      JSON.stringify({ version: 1, entries: [slackEntry({ resource: "sg-0other" })] }),
    ]) {
      s3Mock.reset();
      ec2Mock.reset();
      storeSlackAllowlist(text);
      const t = setup();
      expect(await remediate("remediate-sg", request(), t.deps)).toMatchObject({ status: "fixed" });
      expect(t.revoked).toEqual([["sgr-0ssh4"]]);
    }
  });

  it("a malformed object exempts nothing (logged): the fix is made", async () => {
    storeSlackAllowlist(JSON.stringify({ version: 1, entries: [slackEntry({ owner: "" })] }));
    const t = setup();
    expect(await remediate("remediate-sg", request(), t.deps)).toMatchObject({ status: "fixed" });
    expect(t.revoked).toEqual([["sgr-0ssh4"]]);
    expect(JSON.stringify(t.log.lines)).toContain("Slack allowlist entry ignored");
  });

  it("an object that cannot be read: nothing is changed, the failure is transient and the message stays", async () => {
    s3Mock.on(GetObjectCommand).rejects(awsError("SlowDown", 503));
    const t = setup();
    const result = await remediate("remediate-sg", request(), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient", deadLettered: false, changeAttempted: false });
    expect((result as { error: string }).error).toContain("could not read the Slack allowlist");
    expect(t.revoked).toEqual([]);
    expect(sqsMock).not.toHaveReceivedCommand(DeleteMessageCommand);
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageCommand);
  });

  it("the deployed wiring reads it (the handler's dependencies)", async () => {
    storeSlackAllowlist(JSON.stringify({ version: 1, entries: [slackEntry()] }));
    const settings = { ledgerBucket: LEDGER_BUCKET, allowlist: [] } as unknown as RemediationSettings;
    const deps = liveRemediationDeps(settings, createLogger("test"), createMetrics("test"));
    expect((await deps.slackAllowlist!()).map((entry) => entry.owner)).toEqual(["slack:U012ABCDEF"]);
  });
});
