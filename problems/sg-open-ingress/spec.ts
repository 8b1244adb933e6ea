// A security group rule that lets the internet in (0.0.0.0/0, ::/0, or a range wider than allowed) on a port not
// authorised: found by problems/sg-open-ingress/detect.ts, fixed by revoking exactly that rule.
import type { ProblemSpec } from "../types.ts";
import { sgOpenIngressContract } from "./contract.ts";
import { securityGroup } from "./resource.ts";
import { sgOpenIngressWords } from "./words.ts";

export const sgOpenIngress = {
  id: "sg-open-ingress",
  resource: securityGroup,
  resourceType: securityGroup.type,
  ruleId: "sg-open-ingress",
  matchedKind: "sg-rule",
  contract: sgOpenIngressContract,
  remediation: "remediate-sg",
  fix: {
    permissions: {
      DescribeSecurityGroupsCommand: "ec2:DescribeSecurityGroups",
      DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
      RevokeSecurityGroupIngressCommand: "ec2:RevokeSecurityGroupIngress",
    },
    env: [],
    // EC2 Describe* calls do not support resource-level permissions.
    unscopedActions: ["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules"],
  },
  violatingWord: "open",
  title: "security group open to the internet",
  training: securityGroup.training,
  words: sgOpenIngressWords,
} as const satisfies ProblemSpec<"sg-open-ingress">;
