// What the sg-default-rules tests share: a VPC's default group as EC2 describes it live (AWS's two default rules, an
// IPv6 egress rule and a tagged prefix-list rule), the deployment with this problem's rule, its instructions, and the
// EC2 answers a fix reads (the group, its rules, the interfaces that use it, page by page).
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import type { AwsClientStub } from "aws-sdk-client-mock";
import type { Instruction } from "../../../contract/instruction.ts";
import type { Deployment } from "../../../platform/deployment.ts";
import type { SgDefaultRuleEntry } from "../../../problems/sg-default-rules/contract.ts";
import { defaultRuleEntriesFromDescribedRules } from "../../../problems/sg-default-rules/detect.ts";
import { ACCOUNT, deployedRules, testDeployment } from "../../remediation/support.ts";
import { testInstruction } from "../../support/instructions.ts";

export const GROUP = "sg-0d3fa017e5c6b8a21";
export const VPC = "vpc-0a1b2c3d4e5f60718";
export const CONFIG_RULE = "remedy-sg-default-rules";

/** The deployment of the tests' functions with this problem's rule too (it takes no parameters). */
export function defaultRulesDeployment(): Deployment {
  return testDeployment({ rules: [...deployedRules(), { id: "sg-default-rules", configRuleName: CONFIG_RULE }] });
}

const rule = (id: string, fields: Partial<SecurityGroupRule>): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: GROUP,
  GroupOwnerId: ACCOUNT,
  IsEgress: false,
  IpProtocol: "-1",
  FromPort: -1,
  ToPort: -1,
  Tags: [],
  SecurityGroupRuleArn: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group-rule/${id}`,
  ...fields,
});

/** All traffic in from the group itself: AWS's default ingress rule. */
export const SELF = rule("sgr-0a1b2c3d4e5f00001", { ReferencedGroupInfo: { GroupId: GROUP, UserId: ACCOUNT } });
/** All traffic out to 0.0.0.0/0: AWS's default egress rule. */
export const OUT_V4 = rule("sgr-0a1b2c3d4e5f00002", { IsEgress: true, CidrIpv4: "0.0.0.0/0" });
export const OUT_V6 = rule("sgr-0a1b2c3d4e5f00003", { IsEgress: true, CidrIpv6: "::/0" });
export const PREFIX_LIST = rule("sgr-0a1b2c3d4e5f00004", {
  IpProtocol: "tcp",
  FromPort: 443,
  ToPort: 443,
  PrefixListId: "pl-02cd2c6b",
  Description: "https from the corporate prefix list",
  Tags: [{ Key: "ticket", Value: "NET-7" }],
});
export const LIVE_RULES = [SELF, OUT_V4, OUT_V6, PREFIX_LIST];

/** A live rule as a Config item's finding names it: the same entry, without the live rule id. */
export function entryOf(live: SecurityGroupRule): SgDefaultRuleEntry {
  const [{ securityGroupRuleId: _id, ...entry }] = defaultRuleEntriesFromDescribedRules([live]) as [SgDefaultRuleEntry];
  return entry;
}

/** An instruction of this problem on GROUP, as the deployed rule writes it. */
export function defaultRulesInstruction(rules: readonly SecurityGroupRule[]): Instruction {
  return testInstruction({
    problem: "sg-default-rules",
    matched: rules.map((live) => ({ kind: "sg-default-rule", rule: entryOf(live) })),
    resourceId: GROUP,
    configRuleName: CONFIG_RULE,
    parameters: {},
    capturedAt: "2026-11-20T10:00:00.000Z",
    detectedAt: "2026-11-20T10:00:05.000Z",
  });
}

export interface LiveDefaultGroup {
  rules?: SecurityGroupRule[];
  /** The interfaces that use it, one array per page. */
  interfacePages?: string[][];
  tags?: { Key: string; Value: string }[];
  groupName?: string;
}

/** EC2's answers about the group: DescribeSecurityGroups, its rules, and DescribeNetworkInterfaces page by page. */
export function mockDefaultGroup(ec2: AwsClientStub<EC2Client>, live: LiveDefaultGroup = {}): void {
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [GROUP] }).resolves({
    SecurityGroups: [
      {
        GroupId: GROUP,
        GroupName: live.groupName ?? "default",
        Description: "default VPC security group",
        OwnerId: ACCOUNT,
        VpcId: VPC,
        Tags: live.tags ?? [],
      },
    ],
  });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: live.rules ?? LIVE_RULES });
  const pages = live.interfacePages ?? [[]];
  ec2.on(DescribeNetworkInterfacesCommand).callsFake((input: { NextToken?: string }) => {
    const index = input.NextToken ? Number(input.NextToken.replace("page-", "")) - 1 : 0;
    return {
      NetworkInterfaces: (pages[index] ?? []).map((id) => ({
        NetworkInterfaceId: id,
        Groups: [{ GroupId: GROUP, GroupName: "default" }],
      })),
      ...(index + 1 < pages.length ? { NextToken: `page-${index + 2}` } : {}),
    };
  });
}
