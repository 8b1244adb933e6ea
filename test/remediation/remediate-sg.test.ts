import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { serializeInstruction } from "../../contract/instruction.ts";
import { parseAllowlist } from "../../detection/exemptions.ts";
import * as coordinator from "../../functions/coordinator/queue-io.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import {
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
  readRemediationSettings,
} from "../../functions/remediation/runner.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { remediate, type TestRemediationDeps } from "../support/remediate.ts";
import {
  ACCOUNT,
  ACTION_ID,
  awsError,
  DLQ_URL,
  deployedDeps,
  deploymentEnv,
  GROUP_ID,
  instructionFor,
  PUBLIC_READ_GRANT,
  QUEUE_URL,
  recordingReporter,
  requestFor,
  SG_RULES,
  SSH_V4,
  SSH_V6,
  T0,
  testDeployment,
  testLedger,
} from "./support.ts";

const ec2Mock = mockClient(EC2Client);
const sqsMock = mockClient(SQSClient);
// The commands the current test sent (setup() resets the mocks, so it collects first): each test's own, checked
// against permissions.ts after it (expectDeclared), whatever ran before it.
const sent = new Set<string>();

function collectSent() {
  for (const call of [...ec2Mock.calls(), ...sqsMock.calls()]) sent.add(call.args[0].constructor.name);
}

function expectDeclared() {
  collectSent();
  for (const command of sent)
    expect(Object.keys(FUNCTIONS["remediate-sg"].permissions), "declared (the runner's and the fix spec's)").toContain(
      command,
    );
}

interface SetupOptions {
  rules?: SecurityGroupRule[];
  tags?: { Key: string; Value: string }[];
  allowlist?: unknown[];
  failLedgerOn?: ("pending" | "fixed" | "skipped" | "failed")[];
  reporterFails?: boolean;
}

function setup(options: SetupOptions = {}) {
  collectSent();
  ec2Mock.reset();
  sqsMock.reset();
  const events: string[] = [];
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [{ GroupId: GROUP_ID, GroupName: "web", Tags: options.tags ?? [] }],
  });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: options.rules ?? SG_RULES });
  ec2Mock.on(RevokeSecurityGroupIngressCommand).callsFake((input: { SecurityGroupRuleIds: string[] }) => {
    events.push("revoke");
    return {
      Return: true,
      RevokedSecurityGroupRules: input.SecurityGroupRuleIds.map((id) => ({ SecurityGroupRuleId: id })),
    };
  });
  sqsMock.on(DeleteMessageCommand).callsFake(() => {
    events.push("delete");
    return {};
  });
  sqsMock.on(SendMessageCommand).callsFake(() => {
    events.push("dlq");
    return { MessageId: "dlq-1" };
  });
  const ledger = testLedger(events, options.failLedgerOn);
  const reporter = recordingReporter({ fail: options.reporterFails ?? false });
  const log = recordingLog();
  const deps: TestRemediationDeps = {
    ...deployedDeps(),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: parseAllowlist(options.allowlist ?? []).entries,
    now: () => T0,
    log,
    newActionId: () => ACTION_ID,
  };
  return { deps, ledger, reporter, log, events };
}

beforeEach(() => sent.clear());
afterEach(expectDeclared);

afterAll(() => {
  ec2Mock.restore();
  sqsMock.restore();
});

describe("remediate-sg: duplicate deliveries of one dispatch", () => {
  it("the second delivery of the same invoke claims nothing and changes, deletes and reports nothing", async () => {
    const t = setup();
    const request = requestFor(instructionFor("sg-open-ingress", [SSH_V4]));
    const first = await remediate("remediate-sg", request, t.deps);
    const second = await remediate("remediate-sg", request, t.deps);
    expect(first).toMatchObject({ status: "fixed" });
    expect(second).toEqual({ status: "duplicate", actionId: ACTION_ID });
    expect(t.events).toEqual(["ledger:pending", "revoke", "ledger:fixed", "delete"]);
    expect(t.reporter.reports).toHaveLength(1);
  });

  it("a later attempt of the same message is a new dispatch and re-reads the group", async () => {
    const t = setup();
    const instruction = instructionFor("sg-open-ingress", [SSH_V4]);
    await remediate("remediate-sg", requestFor(instruction), t.deps);
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: SG_RULES.filter((rule) => rule.SecurityGroupRuleId !== "sgr-0ssh4"),
    });
    const again = await remediate("remediate-sg", requestFor(instruction, { attempt: 2 }), t.deps);
    expect(again).toMatchObject({ status: "skipped", reason: expect.stringMatching(/nothing to do/) });
    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
  });
});

describe("remediate-sg: fixing", () => {
  it("revokes exactly the instructed open entries by rule id, ledgers before/after, then deletes and reports", async () => {
    const t = setup();
    const instruction = instructionFor("sg-open-ingress", [SSH_V4, SSH_V6]);

    const result = await remediate("remediate-sg", requestFor(instruction), t.deps);

    expect(result).toMatchObject({ status: "fixed", actionId: ACTION_ID, messageDeleted: true });
    expect(ec2Mock).toHaveReceivedCommandTimes(RevokeSecurityGroupIngressCommand, 1);
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, {
      GroupId: GROUP_ID,
      SecurityGroupRuleIds: ["sgr-0ssh4", "sgr-0ssh6"],
    });
    const revoked = ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input;
    // The office CIDR in the same permission, the group reference, the prefix list and tcp 443 stay.
    expect(revoked.SecurityGroupRuleIds).not.toContain("sgr-0office");
    expect(revoked.SecurityGroupRuleIds).not.toContain("sgr-0peer");
    expect(revoked.SecurityGroupRuleIds).not.toContain("sgr-0plist");
    expect(revoked.SecurityGroupRuleIds).not.toContain("sgr-0web");
    expect(revoked.IpPermissions).toBeUndefined();
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSecurityGroupRulesCommand, {
      Filters: [{ Name: "group-id", Values: [GROUP_ID] }],
    });

    expect(t.events).toEqual(["ledger:pending", "revoke", "ledger:fixed", "delete"]);
    expect(sqsMock).toHaveReceivedCommandWith(DeleteMessageCommand, {
      QueueUrl: QUEUE_URL,
      ReceiptHandle: "receipt-handle-1",
    });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageCommand);

    const [pending, fixed] = t.ledger.writes;
    expect(pending).toMatchObject({
      outcome: "pending",
      actionId: ACTION_ID,
      instructionId: instruction.id,
      after: null,
    });
    expect(pending!.before).toEqual({ kind: "sg-rules", groupId: GROUP_ID, rules: [SG_RULES[0], SG_RULES[1]] });
    expect(fixed).toMatchObject({
      version: 1,
      actionId: ACTION_ID,
      instructionId: instruction.id,
      problem: "sg-open-ingress",
      resource: { type: "AWS::EC2::SecurityGroup", id: GROUP_ID, accountId: ACCOUNT },
      ruleId: "sg-open-ingress",
      outcome: "fixed",
      before: pending!.before,
      after: { kind: "sg-rules", groupId: GROUP_ID, rules: [] },
      startedAt: T0.toISOString(),
      finishedAt: T0.toISOString(),
      attempt: 1,
    });
    const change = {
      kind: "sg-rules-revoked",
      groupId: GROUP_ID,
      rules: [
        {
          securityGroupRuleId: "sgr-0ssh4",
          ipProtocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrIpv4: "0.0.0.0/0",
          description: "ssh from anywhere (temporary)",
        },
        {
          securityGroupRuleId: "sgr-0ssh6",
          ipProtocol: "tcp",
          fromPort: 22,
          toPort: 22,
          cidrIpv6: "::/0",
          description: "ssh v6",
        },
      ],
    };
    expect(fixed!.changes).toEqual([change]);
    expect(t.reporter.reports).toEqual([
      {
        kind: "fixed",
        instructionId: instruction.id,
        problem: "sg-open-ingress",
        resource: { type: "AWS::EC2::SecurityGroup", id: GROUP_ID, accountId: ACCOUNT, region: "us-east-1" },
        ruleId: "sg-open-ingress",
        actionId: ACTION_ID,
        changes: [change],
        undoCommand: `remedy undo ${ACTION_ID}`,
      },
    ]);
  });

  it("reads every page of the group's rules", async () => {
    const t = setup();
    ec2Mock
      .on(DescribeSecurityGroupRulesCommand)
      .resolvesOnce({ SecurityGroupRules: SG_RULES.slice(2), NextToken: "page-2" })
      .resolvesOnce({ SecurityGroupRules: SG_RULES.slice(0, 2) });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V6])), t.deps);
    expect(result.status).toBe("fixed");
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSecurityGroupRulesCommand, 2);
    expect(ec2Mock).toHaveReceivedNthCommandWith(DescribeSecurityGroupRulesCommand, 2, { NextToken: "page-2" });
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, {
      GroupId: GROUP_ID,
      SecurityGroupRuleIds: ["sgr-0ssh6"],
    });
  });

  it("revokes only the instructed entries that are still open (one of two was already removed)", async () => {
    const t = setup({ rules: SG_RULES.filter((rule) => rule.SecurityGroupRuleId !== "sgr-0ssh6") });
    await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4, SSH_V6])), t.deps);
    expect(ec2Mock).toHaveReceivedCommandWith(RevokeSecurityGroupIngressCommand, {
      GroupId: GROUP_ID,
      SecurityGroupRuleIds: ["sgr-0ssh4"],
    });
  });

  it("judges with the instruction's parameters: prohibitedPorts 3389 leaves an open tcp 22 alone", async () => {
    const t = setup();
    const result = await remediate(
      "remediate-sg",
      requestFor(instructionFor("sg-open-ingress", [SSH_V4], { parameters: { prohibitedPorts: "3389" } })),
      t.deps,
    );
    expect(result.status).toBe("skipped");
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
  });
});

describe("remediate-sg: nothing to do", () => {
  it("stale instruction: the rule is already gone ⇒ skipped, nothing revoked, message deleted, skip ledgered", async () => {
    const t = setup({
      rules: SG_RULES.filter((rule) => !["sgr-0ssh4", "sgr-0ssh6"].includes(rule.SecurityGroupRuleId!)),
    });
    const instruction = instructionFor("sg-open-ingress", [SSH_V4, SSH_V6]);
    const result = await remediate("remediate-sg", requestFor(instruction), t.deps);
    expect(result).toMatchObject({ status: "skipped", messageDeleted: true });
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(sqsMock).toHaveReceivedCommandWith(DeleteMessageCommand, { ReceiptHandle: "receipt-handle-1" });
    expect(t.ledger.writes).toHaveLength(1);
    expect(t.ledger.writes[0]).toMatchObject({ outcome: "skipped", before: null, after: null, changes: [] });
    expect(t.ledger.writes[0]!.reason).toMatch(/^nothing to do/);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "skipped", actionId: ACTION_ID })]);
    expect((t.reporter.reports[0] as { reason: string }).reason).toMatch(/^nothing to do: none of the 2/);
  });

  it("forged instruction: names an authorized entry of a compliant group ⇒ nothing changed", async () => {
    const t = setup();
    const forged = instructionFor("sg-open-ingress", [
      {
        kind: "sg-rule",
        rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
      },
      {
        kind: "sg-rule",
        rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "203.0.113.0/24" },
      },
    ]);
    const result = await remediate("remediate-sg", requestFor(forged), t.deps);
    expect(result.status).toBe("skipped");
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
  });

  it("exempt now by a live tag ⇒ skipped with the exemption's reason", async () => {
    const t = setup({ tags: [{ Key: "remedy:exempt", Value: "vendor remote support, SEC-412 until=2027-03-31" }] });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "skipped" });
    expect((result as { reason: string }).reason).toBe(
      "exempt by tag remedy:exempt until 2027-03-31: vendor remote support, SEC-412",
    );
    // The live group is read whole (as a bucket is), then judged only if no exemption holds: nothing is changed.
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(t.ledger.writes.map((record) => record.outcome)).toEqual(["skipped"]);
    expect(sqsMock).toHaveReceivedCommand(DeleteMessageCommand);
  });

  it("exempt now by the allowlist ⇒ skipped; an expired tag is logged and exempts nothing", async () => {
    const t = setup({
      allowlist: [
        {
          resource: "sg-0123*",
          problems: ["sg-open-ingress"],
          reason: "bastion",
          owner: "ops@acme",
          expires: "2027-01-31",
        },
      ],
    });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect((result as { reason: string }).reason).toMatch(/^exempt by allowlist \(owner ops@acme\)/);

    const expired = setup({ tags: [{ Key: "remedy:exempt", Value: "old until=2026-01-01" }] });
    const fixed = await remediate(
      "remediate-sg",
      requestFor(instructionFor("sg-open-ingress", [SSH_V4])),
      expired.deps,
    );
    expect(fixed.status).toBe("fixed");
    expect(expired.log.lines.some((line) => String(line.fields.note).includes("expired on 2026-01-01"))).toBe(true);
  });

  it("group gone (InvalidGroup.NotFound) ⇒ skipped, message deleted", async () => {
    const t = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(awsError("InvalidGroup.NotFound", 400));
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "skipped", messageDeleted: true });
    expect((result as { reason: string }).reason).toMatch(/no longer exists \(InvalidGroup.NotFound\)/);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
  });
});

describe("remediate-sg: failures", () => {
  it("permanent (UnauthorizedOperation on revoke) ⇒ ledger failed, report failed, DLQ with reason, then delete", async () => {
    const t = setup();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).callsFake(() => {
      t.events.push("revoke");
      throw awsError("UnauthorizedOperation", 403, "You are not authorized to perform this operation.");
    });
    const instruction = instructionFor("sg-open-ingress", [SSH_V4]);
    const result = await remediate("remediate-sg", requestFor(instruction), t.deps);

    expect(result).toMatchObject({ status: "failed", kind: "permanent", deadLettered: true, changeAttempted: true });
    expect(t.events).toEqual(["ledger:pending", "revoke", "ledger:failed", "dlq", "delete"]);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, {
      QueueUrl: DLQ_URL,
      MessageBody: serializeInstruction(instruction),
      MessageAttributes: {
        [DLQ_REASON_ATTRIBUTE]: {
          DataType: "String",
          StringValue:
            "remediation failed permanently: UnauthorizedOperation: You are not authorized to perform this operation.",
        },
        [DLQ_SOURCE_MESSAGE_ATTRIBUTE]: { DataType: "String", StringValue: "message-1" },
        [DLQ_INSTRUCTION_ATTRIBUTE]: { DataType: "String", StringValue: instruction.id },
      },
    });
    expect(t.ledger.writes.at(-1)).toMatchObject({ outcome: "failed", before: { kind: "sg-rules" } });
    expect(t.ledger.writes.at(-1)!.reason).toMatch(/^permanent: UnauthorizedOperation/);
    expect(t.reporter.reports).toEqual([
      expect.objectContaining({
        kind: "failed",
        willRetry: false,
        attempt: 1,
        error: expect.stringMatching(/^Unauth/),
      }),
    ]);
  });

  it("permanent (AccessDenied while reading) ⇒ DLQ, nothing changed", async () => {
    const t = setup();
    ec2Mock.on(DescribeSecurityGroupsCommand).rejects(awsError("UnauthorizedOperation", 403));
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "permanent", changeAttempted: false, deadLettered: true });
    expect(t.events).toEqual(["ledger:failed", "dlq", "delete"]);
  });

  it("DLQ send fails ⇒ the message is not deleted", async () => {
    const t = setup();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(awsError("UnauthorizedOperation", 403));
    sqsMock.on(SendMessageCommand).rejects(awsError("AccessDenied", 403));
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", deadLettered: false });
    expect(sqsMock).not.toHaveReceivedCommand(DeleteMessageCommand);
    expect(t.log.errors().map((line) => line.message)).toContain(
      "could not dead-letter the message: it stays on the queue",
    );
  });

  it("rule parameters in the instruction that are not the deployed ones ⇒ skipped with the reason, nothing read", async () => {
    const t = setup();
    const instruction = instructionFor("sg-open-ingress", [SSH_V4], { parameters: { authorisedPorts: "22" } });
    const result = await remediate("remediate-sg", requestFor(instruction), t.deps);
    expect(result).toMatchObject({ status: "skipped", messageDeleted: true });
    expect((result as { reason: string }).reason).toMatch(
      /^refused: instruction's rule parameters .* differ from the deployed/,
    );
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(t.reporter.reports).toEqual([
      expect.objectContaining({ kind: "skipped", reason: expect.stringMatching(/authorisedPorts/) }),
    ]);
  });

  it("misrouted instruction (an S3 problem) ⇒ permanent, dead-lettered, nothing read", async () => {
    const t = setup();
    const result = await remediate(
      "remediate-sg",
      requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])),
      t.deps,
    );
    expect(result).toMatchObject({ status: "failed", kind: "permanent", deadLettered: true });
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("transient (RequestLimitExceeded on revoke) ⇒ message NOT deleted, report failed willRetry", async () => {
    const t = setup();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(awsError("RequestLimitExceeded", 503));
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient", deadLettered: false });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "failed", willRetry: true, attempt: 1 })]);
    expect(t.ledger.writes.map((record) => record.outcome)).toEqual(["pending", "failed"]);
  });

  it("transient on the last attempt ⇒ willRetry false, still not deleted (the coordinator dead-letters it)", async () => {
    const t = setup();
    ec2Mock.on(DescribeSecurityGroupRulesCommand).rejects(awsError("ServiceUnavailable", 503));
    const result = await remediate(
      "remediate-sg",
      requestFor(instructionFor("sg-open-ingress", [SSH_V4]), { attempt: 3, maxAttempts: 3 }),
      t.deps,
    );
    expect(result).toMatchObject({ status: "failed", kind: "transient" });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "failed", willRetry: false, attempt: 3 })]);
  });

  it("a revoke that did not revoke everything is a failure: nothing deleted", async () => {
    const t = setup();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({
      Return: true,
      UnknownIpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22 }],
    });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient", changeAttempted: true });
    expect(sqsMock).not.toHaveReceivedCommand(DeleteMessageCommand);

    const t2 = setup();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: false });
    expect(
      (await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t2.deps)).status,
    ).toBe("failed");
    expect(sqsMock).not.toHaveReceivedCommand(DeleteMessageCommand);
  });

  it("final ledger write fails after the change ⇒ message NOT deleted, failure reported", async () => {
    const t = setup({ failLedgerOn: ["fixed"] });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient", changeAttempted: true });
    expect(t.events).toEqual(["ledger:pending", "revoke", "ledger:fixed"]);
    expect(sqsMock.calls()).toHaveLength(0);
    // The pending record (with the before-state) is what remains.
    expect(t.ledger.records.get(ACTION_ID)).toMatchObject({ outcome: "pending", before: { kind: "sg-rules" } });
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "failed", willRetry: true })]);
  });

  it("pending ledger write fails ⇒ nothing is changed and nothing deleted", async () => {
    const t = setup({ failLedgerOn: ["pending"] });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient", changeAttempted: false });
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("reporter fails after a fix ⇒ logged, the message is still deleted", async () => {
    const t = setup({ reporterFails: true });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "fixed", messageDeleted: true });
    expect(sqsMock).toHaveReceivedCommand(DeleteMessageCommand);
    expect(t.log.errors().map((line) => line.message)).toEqual(["could not publish the fixed report"]);
  });

  it("delete fails after a fix ⇒ logged, still reported as fixed", async () => {
    const t = setup();
    sqsMock.on(DeleteMessageCommand).rejects(awsError("InternalError", 500));
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "fixed", messageDeleted: false });
    expect(t.reporter.reports[0]).toMatchObject({ kind: "fixed" });
  });
});

describe("remediate-sg: requests and logs", () => {
  it("invalid payload ⇒ rejected with a clear logged error, no AWS call", async () => {
    const t = setup();
    const result = await remediate("remediate-sg", { queueUrl: QUEUE_URL, receiptHandle: "r" }, t.deps);
    expect(result).toEqual({
      status: "rejected",
      reason: expect.stringMatching(/^invalid remediation request: messageId: /),
    });
    expect(t.log.errors()).toHaveLength(1);
    expect(t.log.errors()[0]!.message).toMatch(/^invalid remediation request/);
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
    expect(t.reporter.reports).toEqual([]);

    const notJson = await remediate("remediate-sg", "{not json", t.deps);
    expect(notJson).toMatchObject({ status: "rejected", reason: expect.stringMatching(/not JSON/) });
  });

  it("accepts the payload as JSON bytes (the Invoke payload)", async () => {
    const t = setup();
    const bytes = new TextEncoder().encode(JSON.stringify(requestFor(instructionFor("sg-open-ingress", [SSH_V4]))));
    expect((await remediate("remediate-sg", bytes, t.deps)).status).toBe("fixed");
  });

  it("every log line of a run carries instructionId and actionId", async () => {
    const t = setup();
    const instruction = instructionFor("sg-open-ingress", [SSH_V4]);
    ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(awsError("Throttling", 400));
    await remediate("remediate-sg", requestFor(instruction), t.deps);
    expect(t.log.lines.length).toBeGreaterThan(0);
    for (const line of t.log.lines) {
      expect(line.fields).toMatchObject({ instructionId: instruction.id, actionId: ACTION_ID, messageId: "message-1" });
    }
  });

  it("uses the coordinator's dead-letter attribute names", () => {
    expect(DLQ_REASON_ATTRIBUTE).toBe(coordinator.DLQ_REASON_ATTRIBUTE);
    expect(DLQ_SOURCE_MESSAGE_ATTRIBUTE).toBe(coordinator.DLQ_SOURCE_MESSAGE_ATTRIBUTE);
    expect(DLQ_INSTRUCTION_ATTRIBUTE).toBe(coordinator.DLQ_INSTRUCTION_ATTRIBUTE);
  });
});

describe("remediate-sg: settings", () => {
  const env = {
    ...deploymentEnv(),
    REMEDY_QUEUE_URL: QUEUE_URL,
    REMEDY_LEDGER_BUCKET: "remedy-ledger",
    REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
    REMEDY_DLQ_URL: DLQ_URL,
    REMEDY_PAUSE_PARAMETER: "/remedy/paused",
    REMEDY_LEDGER_MAC_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/0c0ffee0-0000-4000-8000-00000000a11c",
  };
  it("reads the required variables, the optional KMS key and allowlist", () => {
    expect(readRemediationSettings(env)).toEqual({
      deployment: testDeployment(),
      queueUrl: QUEUE_URL,
      ledgerBucket: "remedy-ledger",
      reportTopicArn: env.REMEDY_REPORT_TOPIC_ARN,
      deadLetterQueueUrl: DLQ_URL,
      pauseParameter: "/remedy/paused",
      maxDispatchAgeSeconds: 150,
      ledgerMacKeyId: env.REMEDY_LEDGER_MAC_KEY_ID,
      allowlist: [],
      allowlistProblems: [],
    });
    const withAllowlist = readRemediationSettings({ ...env, REMEDY_ALLOWLIST: '[{"resource":"sg-1"}]' });
    expect(withAllowlist.allowlistProblems).toHaveLength(1);
  });
  it.each([
    "REMEDY_LEDGER_BUCKET",
    "REMEDY_REPORT_TOPIC_ARN",
    "REMEDY_DLQ_URL",
    "REMEDY_QUEUE_URL",
    "REMEDY_PAUSE_PARAMETER",
    "REMEDY_ACCOUNT_ID",
    "REMEDY_REGION",
    "REMEDY_RULES",
    "REMEDY_LEDGER_MAC_KEY_ID",
  ])("names a missing %s", (name) => {
    expect(() => readRemediationSettings({ ...env, [name]: undefined })).toThrow(
      new ConfigurationError(`environment variable ${name} is required`),
    );
  });
});

describe("remediate-sg: declared permissions", () => {
  it("sends no AWS command that permissions.ts does not declare", async () => {
    // Its own runs: a fix (revoke, delete) and a permanent failure (DLQ send); every other test is checked after it.
    const t = setup();
    await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    const failing = setup();
    ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(awsError("UnauthorizedOperation", 403));
    await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), failing.deps);
    collectSent();
    expect(sent).toContain("RevokeSecurityGroupIngressCommand");
    expect(sent).toContain("SendMessageCommand");
    expect(sent).toContain("DeleteMessageCommand");
    // The ledger (S3 PutObject) and reporter (SNS Publish) are faked here; the S3 ledger test asserts PutObject.
    expectDeclared();
  });
});
