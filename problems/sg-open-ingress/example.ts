// One security group open to the internet once: ssh (tcp 22) from 0.0.0.0/0, in the same permission as ssh from a
// private range, next to https from anywhere (an authorized port under the default authorized_ports tcp:80,tcp:443)
// and the default egress rule. Every ingress rule carries a tag, so undo must put tags back too. Also how Config
// records a live group (securityGroupConfigItem), which the end-to-end tests use for groups of their own too.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
  type SecurityGroup,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { type ConfigScope, configScope, type ProblemExample } from "../example.ts";
import { describeGroupRules } from "./live.ts";
import { sgOpenIngress } from "./spec.ts";

const OPEN_DESCRIPTION = "ssh from anywhere (temporary)";
const RULE_TAGS = [{ Key: "ticket", Value: "OPS-7" }];

const PERMISSIONS: IpPermission[] = [
  {
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    IpRanges: [
      { CidrIp: "0.0.0.0/0", Description: OPEN_DESCRIPTION },
      // Kept: the same port from a private range.
      { CidrIp: "10.0.0.0/8", Description: "ssh from the office" },
    ],
  },
  // Kept: open to anyone, but on an authorized port.
  { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "https" }] },
];

/** A rule as its owner sees it: no rule id (re-authorizing a rule gives it a new one). */
export interface RuleShape {
  egress: boolean | undefined;
  protocol: string | undefined;
  from: number | undefined;
  to: number | undefined;
  cidr: string | undefined;
  description: string | undefined;
  tags: string[];
}

function ruleShape(rule: SecurityGroupRule): RuleShape {
  return {
    egress: rule.IsEgress,
    protocol: rule.IpProtocol,
    from: rule.FromPort,
    to: rule.ToPort,
    cidr: rule.CidrIpv4 ?? rule.CidrIpv6,
    description: rule.Description,
    tags: (rule.Tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`).sort(),
  };
}

/** The live group, as DescribeSecurityGroups answers for it. */
export async function describeGroup(ec2: EC2Client, groupId: string): Promise<SecurityGroup> {
  const { SecurityGroups = [] } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  const [group] = SecurityGroups;
  if (!group) throw new Error(`DescribeSecurityGroups ${groupId} answered no group`);
  return group;
}

/** A live group as Config records it (configuration item, camelCase, ipRanges repeating ipv4Ranges). */
export function securityGroupConfigItem(
  group: SecurityGroup,
  capturedAt: Date,
  scope: ConfigScope,
): Record<string, unknown> {
  const permission = (p: IpPermission) => ({
    ipProtocol: p.IpProtocol,
    ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}),
    ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}),
    ipv4Ranges: (p.IpRanges ?? []).map((r) => ({
      cidrIp: r.CidrIp,
      ...(r.Description ? { description: r.Description } : {}),
    })),
    ipRanges: (p.IpRanges ?? []).map((r) => r.CidrIp),
    ipv6Ranges: (p.Ipv6Ranges ?? []).map((r) => ({
      cidrIpv6: r.CidrIpv6,
      ...(r.Description ? { description: r.Description } : {}),
    })),
    prefixListIds: (p.PrefixListIds ?? []).map((entry) => ({ prefixListId: entry.PrefixListId })),
    userIdGroupPairs: (p.UserIdGroupPairs ?? []).map((pair) => ({ groupId: pair.GroupId, userId: pair.UserId })),
  });
  const tags = Object.fromEntries((group.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
  return {
    relatedEvents: [],
    relationships: [],
    configuration: {
      description: group.Description,
      groupName: group.GroupName,
      ipPermissions: (group.IpPermissions ?? []).map(permission),
      ownerId: group.OwnerId,
      groupId: group.GroupId,
      ipPermissionsEgress: (group.IpPermissionsEgress ?? []).map(permission),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      vpcId: group.VpcId,
    },
    supplementaryConfiguration: {},
    tags,
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationStateId: capturedAt.getTime(),
    awsAccountId: scope.accountId,
    configurationItemStatus: "ResourceDiscovered",
    resourceType: "AWS::EC2::SecurityGroup",
    resourceId: group.GroupId,
    resourceName: group.GroupName,
    ARN: `arn:aws:ec2:${scope.region}:${scope.accountId}:security-group/${group.GroupId}`,
    awsRegion: scope.region,
    availabilityZone: "Not Applicable",
    configurationStateMd5Hash: "",
    resourceCreationTime: capturedAt.toISOString(),
  };
}

export const example: ProblemExample<RuleShape> = {
  problem: sgOpenIngress.id,

  async create(clients, name) {
    const ec2 = clients.client(EC2Client);
    const { GroupId } = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: `${name} (Remedy example)` }),
    );
    for (const permission of PERMISSIONS) {
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [permission],
          TagSpecifications: [{ ResourceType: "security-group-rule", Tags: RULE_TAGS }],
        }),
      );
    }
    if (!GroupId) throw new Error(`CreateSecurityGroup ${name} answered no GroupId`);
    return GroupId;
  },

  violation: () => ({
    kind: "sg-rule",
    rule: {
      direction: "ingress",
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrIpv4: "0.0.0.0/0",
      description: OPEN_DESCRIPTION,
    },
  }),

  recordedChange: (groupId) => ({
    kind: "sg-rules-revoked",
    groupId,
    rules: [{ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0", description: OPEN_DESCRIPTION }],
  }),

  pinnedInstructionId: "3656a36d079962c4b5e006dcefe73d1a",

  async configItem(clients, groupId, capturedAt) {
    const ec2 = clients.client(EC2Client);
    return securityGroupConfigItem(await describeGroup(ec2, groupId), capturedAt, await configScope(clients, ec2));
  },

  async read(clients, groupId) {
    const ec2 = clients.client(EC2Client);
    const entries = (await describeGroupRules(ec2, groupId))
      .map(ruleShape)
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    // The rules are all that the fix (or undo) can change on a group.
    return { entries, rest: null };
  },

  isViolation: (rule) =>
    rule.egress === false && rule.protocol === "tcp" && rule.from === 22 && rule.to === 22 && rule.cidr === "0.0.0.0/0",
};
