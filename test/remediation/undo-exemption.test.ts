// The remediation runner honours undo's temporary exemptions: after its re-judgement, targets an undo restored are
// left alone (exactly those entries, on that resource, until `until`); none left is a skip saying who undid it. An
// exemption that cannot be read changes nothing and leaves the message to be retried.
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { UndoExemptionRecord, UndoExemptionResource } from "../../contract/undo-exemption.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { remediate, type TestRemediationDeps } from "../support/remediate.ts";
import { EXEMPT_AT, exemptionRecord, OPERATOR, RDP_ENTRY, SSH_ENTRY, UNDO_ACTION } from "../undo/exemption-fixtures.ts";
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
  SSH_V6,
  testLedger,
} from "./support.ts";

const ec2Mock = mockClient(EC2Client);
const sqsMock = mockClient(SQSClient);
/** During the exemption (it runs from EXEMPT_AT for 24 h). */
const NOW = new Date(EXEMPT_AT.getTime() + 60 * 60_000);

/** A dispatch of an instruction for `matched`, made just now. */
const request = (matched: Parameters<typeof instructionFor>[1]) =>
  requestFor(instructionFor("sg-open-ingress", matched), {
    dispatchedAt: new Date(NOW.getTime() - 10_000).toISOString(),
  });

function setup(undoExemptions: (resource: UndoExemptionResource) => Promise<UndoExemptionRecord | undefined>) {
  ec2Mock.reset();
  sqsMock.reset();
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
  const asked: UndoExemptionResource[] = [];
  const ledger = testLedger();
  const reporter = recordingReporter();
  const deps: TestRemediationDeps = {
    ...deployedDeps(),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: [],
    undoExemptions: async (resource) => {
      asked.push(resource);
      return undoExemptions(resource);
    },
    now: () => NOW,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  };
  return { deps, ledger, reporter, revoked, asked };
}

beforeEach(() => {
  ec2Mock.reset();
  sqsMock.reset();
});
afterAll(() => {
  ec2Mock.restore();
  sqsMock.restore();
});

describe("remediation runner: undo exemptions", () => {
  it("skips an instruction whose every target an undo left as restored, saying who, when and until when", async () => {
    const t = setup(async () => exemptionRecord([SSH_ENTRY]));
    const result = await remediate("remediate-sg", request([SSH_V4]), t.deps);
    const reason = `undone by ${OPERATOR} at 2026-11-20T12:00:00.000Z (${UNDO_ACTION}): left as restored until 2026-11-21T12:00:00.000Z`;
    expect(result).toEqual({ status: "skipped", actionId: ACTION_ID, reason, messageDeleted: true });
    expect(t.revoked).toEqual([]);
    expect(t.ledger.writes.map((record) => [record.outcome, record.reason])).toEqual([["skipped", reason]]);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "skipped", reason })]);
    // Asked about the instruction's own resource, nothing from the message beyond what was checked.
    expect(t.asked).toEqual([
      { accountId: "123456789012", region: "us-east-1", type: "AWS::EC2::SecurityGroup", id: GROUP_ID },
    ]);
  });

  it("fixes the other targets: only the exact entries listed are left alone", async () => {
    const t = setup(async () => exemptionRecord([SSH_ENTRY]));
    const result = await remediate("remediate-sg", request([SSH_V4, SSH_V6]), t.deps);
    expect(result).toMatchObject({ status: "fixed" });
    expect(t.revoked).toEqual([["sgr-0ssh6"]]);
  });

  it("fixes as usual once the exemption has run out, or when it lists other entries", async () => {
    const expired = setup(async () =>
      exemptionRecord([SSH_ENTRY], { until: new Date(NOW.getTime() - 1), at: new Date(NOW.getTime() - 60_000) }),
    );
    expect(await remediate("remediate-sg", request([SSH_V4]), expired.deps)).toMatchObject({ status: "fixed" });
    expect(expired.revoked).toEqual([["sgr-0ssh4"]]);

    const other = setup(async () => exemptionRecord([RDP_ENTRY]));
    expect(await remediate("remediate-sg", request([SSH_V4]), other.deps)).toMatchObject({ status: "fixed" });
    expect(other.revoked).toEqual([["sgr-0ssh4"]]);
  });

  it("an exemption that cannot be read changes nothing: a transient failure, the message stays for a retry", async () => {
    const t = setup(async () => {
      throw awsError("SlowDown", 503, "Please reduce your request rate.");
    });
    const result = await remediate("remediate-sg", request([SSH_V4]), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient", deadLettered: false, changeAttempted: false });
    expect(t.revoked).toEqual([]);
    expect(sqsMock).not.toHaveReceivedCommand(DeleteMessageCommand);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "failed", willRetry: true })]);
    expect((result as { error: string }).error).toContain("could not read the undo exemption of");
  });

  it("does not read exemptions when nothing instructed still violates", async () => {
    const t = setup(async () => exemptionRecord([SSH_ENTRY]));
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: SG_RULES.filter((rule) => rule.SecurityGroupRuleId !== "sgr-0ssh4"),
    });
    const result = await remediate("remediate-sg", request([SSH_V4]), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringContaining("nothing to do") });
    expect(t.asked).toEqual([]);
  });
});
