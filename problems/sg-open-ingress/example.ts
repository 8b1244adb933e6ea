// One security group open to the internet once: ssh (tcp 22) from 0.0.0.0/0, in the same permission as ssh from a
// private range, next to https from anywhere (an authorized port under the default authorized_ports tcp:80,tcp:443)
// and the default egress rule. Every ingress rule carries a tag, so undo must put tags back too.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  type IpPermission,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import type { ProblemExample } from "../example.ts";
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

  async read(clients, groupId) {
    const ec2 = clients.client(EC2Client);
    const rules: SecurityGroupRule[] = [];
    let token: string | undefined;
    do {
      const page = await ec2.send(
        new DescribeSecurityGroupRulesCommand({
          Filters: [{ Name: "group-id", Values: [groupId] }],
          ...(token ? { NextToken: token } : {}),
        }),
      );
      rules.push(...(page.SecurityGroupRules ?? []));
      token = page.NextToken || undefined;
    } while (token);
    const entries = rules.map(ruleShape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    // The rules are all that the fix (or undo) can change on a group.
    return { entries, rest: null };
  },

  isViolation: (rule) =>
    rule.egress === false && rule.protocol === "tcp" && rule.from === 22 && rule.to === 22 && rule.cidr === "0.0.0.0/0",
};
