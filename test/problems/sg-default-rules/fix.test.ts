// The sg-default-rules fix in remediate-sg, through the one runner (aws-sdk-client-mock EC2): the group re-read live
// with the interfaces that use it (every page), exactly the instructed rules that still violate revoked by rule id —
// ingress and egress each with its own call — the before-state ledgered first, and nothing changed while an
// interface uses the group (skipped, naming them, in the report).
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseAllowlist } from "../../../detection/exemptions.ts";
import { FUNCTIONS } from "../../../functions/registry.ts";
import { inUseReason } from "../../../problems/sg-default-rules/fix.ts";
import { recordingLog } from "../../helpers/recording-log.ts";
import {
  ACTION_ID,
  awsError,
  DLQ_URL,
  deployedDeps,
  recordingReporter,
  requestFor,
  T0,
  testLedger,
} from "../../remediation/support.ts";
import { remediate, type TestRemediationDeps } from "../../support/remediate.ts";
import {
  defaultRulesDeployment,
  defaultRulesInstruction,
  GROUP,
  type LiveDefaultGroup,
  mockDefaultGroup,
  OUT_V4,
  OUT_V6,
  PREFIX_LIST,
  SELF,
} from "./support.ts";

const ec2 = mockClient(EC2Client);
const sqs = mockClient(SQSClient);

function setup(live: LiveDefaultGroup = {}, options: { allowlist?: unknown[] } = {}) {
  ec2.reset();
  sqs.reset();
  const events: string[] = [];
  mockDefaultGroup(ec2, live);
  const revoked = (name: string) => (input: { SecurityGroupRuleIds: string[] }) => {
    events.push(name);
    return {
      Return: true,
      RevokedSecurityGroupRules: input.SecurityGroupRuleIds.map((id) => ({ SecurityGroupRuleId: id })),
    };
  };
  ec2.on(RevokeSecurityGroupIngressCommand).callsFake(revoked("revoke-ingress"));
  ec2.on(RevokeSecurityGroupEgressCommand).callsFake(revoked("revoke-egress"));
  sqs.on(DeleteMessageCommand).callsFake(() => {
    events.push("delete");
    return {};
  });
  const ledger = testLedger(events);
  const reporter = recordingReporter();
  const deps: TestRemediationDeps = {
    ...deployedDeps({ deployment: defaultRulesDeployment() }),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: parseAllowlist(options.allowlist ?? []).entries,
    now: () => T0,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  };
  return { deps, ledger, reporter, events };
}

/** The inputs the fix sent with one command class, in order. */
const inputs = (command: unknown) => ec2.commandCalls(command as never).map((call) => call.args[0].input);

beforeEach(() => {
  ec2.reset();
  sqs.reset();
});
afterAll(() => {
  ec2.restore();
  sqs.restore();
});

describe("sg-default-rules: the fix", () => {
  it("is remediate-sg's, and the function is granted every command it sends", async () => {
    expect(FUNCTIONS["remediate-sg"].fixes).toContain("sg-default-rules");
    const t = setup();
    await remediate("remediate-sg", requestFor(defaultRulesInstruction([SELF, OUT_V4])), t.deps);
    for (const call of ec2.calls()) {
      expect(Object.keys(FUNCTIONS["remediate-sg"].permissions)).toContain(call.args[0].constructor.name);
    }
  });

  it("revokes exactly the instructed rules, ingress and egress by rule id, after ledgering their before-state", async () => {
    const t = setup();
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([SELF, OUT_V4])), t.deps);

    expect(result).toMatchObject({ status: "fixed", actionId: ACTION_ID, messageDeleted: true });
    expect(inputs(DescribeSecurityGroupsCommand)).toEqual([{ GroupIds: [GROUP] }]);
    expect(inputs(DescribeSecurityGroupRulesCommand)).toEqual([
      { Filters: [{ Name: "group-id", Values: [GROUP] }], MaxResults: 1000 },
    ]);
    expect(inputs(DescribeNetworkInterfacesCommand)).toEqual([
      { Filters: [{ Name: "group-id", Values: [GROUP] }], MaxResults: 1000 },
    ]);
    expect(inputs(RevokeSecurityGroupIngressCommand)).toEqual([
      { GroupId: GROUP, SecurityGroupRuleIds: [SELF.SecurityGroupRuleId] },
    ]);
    expect(inputs(RevokeSecurityGroupEgressCommand)).toEqual([
      { GroupId: GROUP, SecurityGroupRuleIds: [OUT_V4.SecurityGroupRuleId] },
    ]);
    // The IPv6 egress and the prefix-list rule were not instructed: untouched.
    expect(t.events).toEqual(["ledger:pending", "revoke-ingress", "revoke-egress", "ledger:fixed", "delete"]);

    const [pending, fixed] = t.ledger.writes;
    expect(pending).toMatchObject({ outcome: "pending", problem: "sg-default-rules", ruleId: "sg-default-rules" });
    expect(pending!.before).toEqual({
      kind: "sg-rules",
      groupId: GROUP,
      groupName: "default",
      rules: [
        {
          SecurityGroupRuleId: SELF.SecurityGroupRuleId,
          GroupId: GROUP,
          GroupOwnerId: "123456789012",
          IsEgress: false,
          IpProtocol: "-1",
          FromPort: -1,
          ToPort: -1,
          ReferencedGroupInfo: { GroupId: GROUP, UserId: "123456789012" },
        },
        {
          SecurityGroupRuleId: OUT_V4.SecurityGroupRuleId,
          GroupId: GROUP,
          GroupOwnerId: "123456789012",
          IsEgress: true,
          IpProtocol: "-1",
          FromPort: -1,
          ToPort: -1,
          CidrIpv4: "0.0.0.0/0",
        },
      ],
    });
    const changes = [
      {
        kind: "sg-default-rules-revoked",
        groupId: GROUP,
        rules: [
          {
            securityGroupRuleId: SELF.SecurityGroupRuleId,
            direction: "ingress",
            ipProtocol: "-1",
            fromPort: -1,
            toPort: -1,
            referencedGroup: { groupId: GROUP, userId: "123456789012" },
          },
          {
            securityGroupRuleId: OUT_V4.SecurityGroupRuleId,
            direction: "egress",
            ipProtocol: "-1",
            fromPort: -1,
            toPort: -1,
            cidrIpv4: "0.0.0.0/0",
          },
        ],
      },
    ];
    expect(pending!.changes).toEqual(changes);
    expect(fixed).toMatchObject({
      outcome: "fixed",
      after: { kind: "sg-rules", groupId: GROUP, groupName: "default", rules: [] },
      changes,
    });
    expect(t.reporter.reports).toEqual([
      expect.objectContaining({ kind: "fixed", problem: "sg-default-rules", actionId: ACTION_ID, changes }),
    ]);
  });

  it("revokes a prefix-list rule by its id, with its description and tags in the before-state", async () => {
    const t = setup();
    await remediate("remediate-sg", requestFor(defaultRulesInstruction([PREFIX_LIST])), t.deps);
    expect(inputs(RevokeSecurityGroupIngressCommand)).toEqual([
      { GroupId: GROUP, SecurityGroupRuleIds: [PREFIX_LIST.SecurityGroupRuleId] },
    ]);
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toEqual([]);
    expect(t.ledger.writes[0]!.before).toMatchObject({
      rules: [
        {
          PrefixListId: "pl-02cd2c6b",
          Description: "https from the corporate prefix list",
          Tags: [{ Key: "ticket", Value: "NET-7" }],
        },
      ],
    });
  });

  it("partially: revokes only the instructed rules that are still there, and says nothing of the others", async () => {
    const t = setup({ rules: [SELF, OUT_V6, PREFIX_LIST] });
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([OUT_V4, OUT_V6])), t.deps);
    expect(result).toMatchObject({ status: "fixed" });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toEqual([]);
    expect(inputs(RevokeSecurityGroupEgressCommand)).toEqual([
      { GroupId: GROUP, SecurityGroupRuleIds: [OUT_V6.SecurityGroupRuleId] },
    ]);
  });

  it("changes nothing while a network interface uses the group: skipped, naming every interface (every page)", async () => {
    const t = setup({ interfacePages: [["eni-0a7c3e9f1b2d4c6e8"], ["eni-05d2b8f4a6c1e3079"]] });
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([SELF, OUT_V4])), t.deps);

    const reason =
      "not revoked: 2 network interfaces use default group sg-0d3fa017e5c6b8a21 (eni-05d2b8f4a6c1e3079, " +
      "eni-0a7c3e9f1b2d4c6e8), and revoking its rules would cut their traffic. Move them to security groups of " +
      "their own; the group's next evaluation then fixes it";
    expect(result).toEqual({ status: "skipped", actionId: ACTION_ID, reason, messageDeleted: true });
    expect(inputs(DescribeNetworkInterfacesCommand)).toEqual([
      { Filters: [{ Name: "group-id", Values: [GROUP] }], MaxResults: 1000 },
      { Filters: [{ Name: "group-id", Values: [GROUP] }], MaxResults: 1000, NextToken: "page-2" },
    ]);
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toEqual([]);
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toEqual([]);
    expect(t.events).toEqual(["ledger:skipped", "delete"]);
    expect(t.ledger.writes[0]).toMatchObject({ outcome: "skipped", reason, before: null, changes: [] });
    expect(t.reporter.reports).toEqual([
      expect.objectContaining({ kind: "skipped", problem: "sg-default-rules", reason }),
    ]);
  });

  it("names at most 20 interfaces, and how many more", () => {
    const ids = Array.from({ length: 23 }, (_, n) => `eni-${n.toString(16).padStart(17, "0")}`);
    const reason = inUseReason(GROUP, ids);
    expect(reason).toContain(`(${ids.slice(0, 20).join(", ")} and 3 more)`);
    expect(reason).toMatch(/^not revoked: 23 network interfaces use default group /);
    expect(reason.length).toBeLessThan(1_000);
    expect(inUseReason(GROUP, ["eni-1"])).toMatch(/^not revoked: 1 network interface uses default group /);
  });

  it("is exempt by the live group's tag: skipped before anything is judged or changed", async () => {
    const t = setup({ tags: [{ Key: "remedy:exempt", Value: "shared services VPC" }] });
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([OUT_V4])), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringContaining("shared services VPC") });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toEqual([]);
  });

  it("is exempt by the deployed allowlist, for this problem", async () => {
    const entry = {
      resource: GROUP,
      problems: ["sg-default-rules"],
      reason: "lab",
      owner: "net",
      expires: "2099-12-31",
    };
    const t = setup({}, { allowlist: [entry] });
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([OUT_V4])), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringContaining("lab") });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toEqual([]);
  });

  it("nothing to do when none of the instructed rules is on the group any more", async () => {
    const t = setup({ rules: [SELF] });
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([OUT_V4])), t.deps);
    expect(result).toMatchObject({
      status: "skipped",
      reason: `nothing to do: none of the 1 instructed entries is still present on ${GROUP}`,
    });
    expect(ec2.commandCalls(RevokeSecurityGroupEgressCommand)).toEqual([]);
  });

  it("a gone group is nothing to do", async () => {
    const t = setup();
    ec2.on(DescribeSecurityGroupsCommand).rejects(awsError("InvalidGroup.NotFound", 400));
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([OUT_V4])), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringContaining("no longer exists") });
  });

  it("a revoke EC2 does not confirm fails transiently, with the planned change kept for undo", async () => {
    const t = setup();
    ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true, RevokedSecurityGroupRules: [] });
    const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction([SELF, OUT_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient", changeAttempted: true });
    expect((result as { error: string }).error).toContain(
      `RevokeSecurityGroupEgress on ${GROUP} did not revoke everything (Return true, 0 unknown permission(s), not revoked: ${OUT_V4.SecurityGroupRuleId})`,
    );
    const failed = t.ledger.writes.at(-1)!;
    expect(failed).toMatchObject({ outcome: "failed", changes: [{ kind: "sg-default-rules-revoked" }] });
  });
});
