// A VPC's default security group with rules (ingress or egress): anything launched without a group of its own gets
// them. Found by problems/sg-default-rules/detect.ts, fixed by revoking exactly the instructed rules, and only while
// no network interface uses the group (revoking would cut its traffic): otherwise the fix is skipped, naming them.
import { authorizeCallTrigger, securityGroup } from "../sg-open-ingress/resource.ts";
import type { ProblemSpec } from "../types.ts";
import { sgDefaultRulesContract } from "./contract.ts";
import { sgDefaultRulesWords } from "./words.ts";

export const SG_DEFAULT_TERRAFORM = `resource "aws_default_security_group" "default" {
  vpc_id = aws_vpc.main.id
  # No ingress or egress block: Terraform adopts the VPC's default group and removes every rule it has.
}`;

export const sgDefaultRules = {
  id: "sg-default-rules",
  resource: securityGroup,
  resourceType: securityGroup.type,
  ruleId: "sg-default-rules",
  matchedKind: "sg-default-rule",
  contract: sgDefaultRulesContract,
  remediation: "remediate-sg",
  fix: {
    permissions: {
      DescribeSecurityGroupsCommand: "ec2:DescribeSecurityGroups",
      DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
      DescribeNetworkInterfacesCommand: "ec2:DescribeNetworkInterfaces",
      RevokeSecurityGroupIngressCommand: "ec2:RevokeSecurityGroupIngress",
      RevokeSecurityGroupEgressCommand: "ec2:RevokeSecurityGroupEgress",
    },
    env: [],
    // EC2 Describe* calls do not support resource-level permissions.
    unscopedActions: ["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeNetworkInterfaces"],
  },
  violatingWord: "present",
  title: "default security group with rules",
  training: {
    title: "Secure pattern: a VPC's default security group without rules",
    advice:
      "Give every instance, function and endpoint a security group of its own and leave the VPC's default group empty: whatever is launched without a group then gets no traffic instead of the default group's.",
    terraform: SG_DEFAULT_TERRAFORM,
  },
  words: sgDefaultRulesWords,
  realtime: {
    cloudTrail: [
      authorizeCallTrigger("AuthorizeSecurityGroupIngress"),
      authorizeCallTrigger("AuthorizeSecurityGroupEgress"),
    ],
    securityHub: {
      // EC2.2: VPC default security groups should not allow inbound or outbound traffic.
      controls: ["EC2.2"],
      generatorIds: ["prowler-ec2_securitygroup_default_restrict_traffic"],
    },
  },
} as const satisfies ProblemSpec<"sg-default-rules">;
