// One default security group with a rule, in a VPC of its own that no network interface uses: EC2 gives every new VPC
// a default group, whose default egress rule (all traffic to 0.0.0.0/0) is the one violating entry (the ingress rule
// from the group itself that AWS adds as well is revoked first, so exactly one rule violates). Next to it, a group of
// the VPC's own with look-alike rules that must be kept: the same egress rule, and ingress from the default group
// (tagged, so its tags must survive too). Every rule of a default group violates, so the look-alikes are on the other
// group: the fix changes only the default group's instructed rule.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { configScope, type ProblemExample } from "../example.ts";
import { describeGroup, securityGroupConfigItem } from "../sg-open-ingress/example.ts";
import { describeGroupRules } from "../sg-open-ingress/live.ts";
import { DEFAULT_GROUP_NAME } from "./detect.ts";
import { sgDefaultRules } from "./spec.ts";

/** A rule as its owner sees it, with the name of its group: no rule id (re-authorizing gives it a new one). */
export interface DefaultRuleShape {
  group: string | undefined;
  egress: boolean | undefined;
  protocol: string | undefined;
  from: number | undefined;
  to: number | undefined;
  peer: string | undefined;
  description: string | undefined;
  tags: string[];
}

function ruleShape(group: SecurityGroup, rule: SecurityGroupRule): DefaultRuleShape {
  return {
    group: group.GroupName,
    egress: rule.IsEgress,
    protocol: rule.IpProtocol,
    from: rule.FromPort,
    to: rule.ToPort,
    peer: rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.PrefixListId ?? rule.ReferencedGroupInfo?.GroupId,
    description: rule.Description,
    tags: (rule.Tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`).sort(),
  };
}

/** Every group of a VPC. */
async function vpcGroups(ec2: EC2Client, vpcId: string): Promise<SecurityGroup[]> {
  const { SecurityGroups = [] } = await ec2.send(
    new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }),
  );
  return SecurityGroups;
}

export const example: ProblemExample<DefaultRuleShape> = {
  problem: sgDefaultRules.id,

  async create(clients, name) {
    const ec2 = clients.client(EC2Client);
    const { Vpc } = await ec2.send(
      new CreateVpcCommand({
        CidrBlock: "10.42.0.0/16",
        TagSpecifications: [{ ResourceType: "vpc", Tags: [{ Key: "Name", Value: name }] }],
      }),
    );
    const vpcId = Vpc?.VpcId;
    if (!vpcId) throw new Error(`CreateVpc ${name} answered no VpcId`);
    const defaultGroup = (await vpcGroups(ec2, vpcId)).find((group) => group.GroupName === DEFAULT_GROUP_NAME);
    const groupId = defaultGroup?.GroupId;
    if (!groupId) throw new Error(`VPC ${vpcId} has no default security group`);
    // Only the default egress rule is to violate: the ingress rule from itself that AWS adds goes.
    const ingress = (await describeGroupRules(ec2, groupId)).filter((rule) => rule.IsEgress === false);
    if (ingress.length > 0) {
      await ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: groupId,
          SecurityGroupRuleIds: ingress.map((rule) => rule.SecurityGroupRuleId!),
        }),
      );
    }
    // The look-alikes, kept: a group of the VPC's own, with its own default egress rule and https from the default group.
    const { GroupId: appGroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `${name}-app`, Description: `${name} app tier`, VpcId: vpcId }),
    );
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: appGroupId,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            UserIdGroupPairs: [{ GroupId: groupId, Description: "https from the default group" }],
          },
        ],
        TagSpecifications: [{ ResourceType: "security-group-rule", Tags: [{ Key: "ticket", Value: "NET-12" }] }],
      }),
    );
    return groupId;
  },

  violation: () => ({
    kind: "sg-default-rule",
    rule: { direction: "egress", ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" },
  }),

  recordedChange: (groupId) => ({
    kind: "sg-default-rules-revoked",
    groupId,
    rules: [{ direction: "egress", ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" }],
  }),

  pinnedInstructionId: "dc65a231918374e0bc03a7b6176178f2",

  async configItem(clients, groupId, capturedAt) {
    const ec2 = clients.client(EC2Client);
    return securityGroupConfigItem(await describeGroup(ec2, groupId), capturedAt, await configScope(clients, ec2));
  },

  async read(clients, groupId) {
    const ec2 = clients.client(EC2Client);
    const { VpcId } = await describeGroup(ec2, groupId);
    if (!VpcId) throw new Error(`security group ${groupId} is in no VPC`);
    const entries: DefaultRuleShape[] = [];
    // The default group and the look-alike group of its VPC: what the fix may change, and what it must not.
    for (const group of await vpcGroups(ec2, VpcId)) {
      for (const rule of await describeGroupRules(ec2, group.GroupId!)) entries.push(ruleShape(group, rule));
    }
    entries.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    return { entries, rest: null };
  },

  isViolation: (rule) =>
    rule.group === DEFAULT_GROUP_NAME && rule.egress === true && rule.protocol === "-1" && rule.peer === "0.0.0.0/0",
};
