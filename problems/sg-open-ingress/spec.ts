// A security group rule that lets the internet in (0.0.0.0/0, ::/0, or a range wider than allowed) on a port not
// authorised: found by problems/sg-open-ingress/detect.ts, fixed by revoking exactly that rule.
import type { ProblemSpec } from "../types.ts";
import { sgOpenIngressContract } from "./contract.ts";
import { sgOpenIngressWords } from "./words.ts";

export const SG_INGRESS_TERRAFORM = `resource "aws_vpc_security_group_ingress_rule" "https_from_office" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "203.0.113.0/24" # a range you know: office, VPN
}

resource "aws_vpc_security_group_ingress_rule" "app_from_alb" {
  security_group_id            = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 8080
  to_port                      = 8080
  referenced_security_group_id = aws_security_group.alb.id
}`;

export const sgOpenIngress = {
  id: "sg-open-ingress",
  resourceType: "AWS::EC2::SecurityGroup",
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
  training: {
    title: "Secure pattern: ingress from known sources only",
    advice:
      "Open a port to a CIDR you know or to another security group, never to 0.0.0.0/0 or ::/0. For SSH/RDP, prefer SSM Session Manager: no inbound rule at all.",
    terraform: SG_INGRESS_TERRAFORM,
  },
  words: sgOpenIngressWords,
} as const satisfies ProblemSpec<"sg-open-ingress">;
