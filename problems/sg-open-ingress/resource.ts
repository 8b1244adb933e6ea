// The resource type sg-open-ingress is found on: how a security group is named, linked, identified and opened, the
// secure pattern for it, and its ledger state (this folder holds its undo). Registered through the problems found on
// it (problems/index.ts RESOURCES).
import type { ResourceSpec } from "../types.ts";
import { SgRulesStateSchema } from "./contract.ts";

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

/**
 * Where an Authorize* call (ingress or egress) names its group, for a problem's real-time triggers: a default-VPC call
 * may name the group only by groupName, and then the rules it added carry the id.
 */
export function authorizeCallTrigger(eventName: "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress") {
  return {
    eventSource: "ec2.amazonaws.com",
    eventName,
    resourceIds: ["requestParameters.groupId", "responseElements.securityGroupRuleSet.items.*.groupId"],
  } as const;
}

export const securityGroup = {
  type: "AWS::EC2::SecurityGroup",
  label: "EC2 security group",
  arn: ({ partition, region, accountId }, id) => `arn:${partition}:ec2:${region}:${accountId}:security-group/${id}`,
  iamScope: ({ partition, region, account }) => ({
    resources: [`arn:${partition}:ec2:${region}:${account}:security-group/*`],
  }),
  consoleUrl: (id, region) => {
    const r = encodeURIComponent(region);
    return `https://${r}.console.aws.amazon.com/ec2/home?region=${r}#SecurityGroup:groupId=${encodeURIComponent(id)}`;
  },
  openingEvents: [
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "CreateSecurityGroup",
  ],
  securityHub: {
    type: "AwsEc2SecurityGroup",
    // arn:<partition>:ec2:<region>:<account>:security-group/sg-…
    idFrom: (asffId) => /^arn:[\w-]+:ec2:[a-z0-9-]+:\d{12}:security-group\/(sg-[0-9a-f]{1,64})$/.exec(asffId)?.[1],
  },
  reads: {
    permissions: {
      DescribeSecurityGroupsCommand: "ec2:DescribeSecurityGroups",
      DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
      // Which interfaces use a default group (problems/sg-default-rules/).
      DescribeNetworkInterfacesCommand: "ec2:DescribeNetworkInterfaces",
    },
    // EC2 Describe* calls do not support resource-level permissions.
    unscopedActions: ["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeNetworkInterfaces"],
  },
  // Each rule on this type finds one problem: a compliance change shows that problem's pattern (functions/notifier/
  // render.ts trainingFor); this one where no problem is known.
  training: {
    title: "Secure pattern: ingress from known sources only",
    advice:
      "Open a port to a CIDR you know or to another security group, never to 0.0.0.0/0 or ::/0. For SSH/RDP, prefer SSM Session Manager: no inbound rule at all.",
    terraform: SG_INGRESS_TERRAFORM,
  },
  stateKind: "sg-rules",
  state: SgRulesStateSchema,
  folder: "sg-open-ingress",
} as const satisfies ResourceSpec;
