// A security group rule that lets the internet in (0.0.0.0/0, ::/0, or a range wider than allowed) on a port not
// authorised: found by problems/sg-open-ingress/detect.ts, fixed by revoking exactly that rule.
import type { ProblemSpec } from "../types.ts";
import { sgOpenIngressContract } from "./contract.ts";
import { authorizeCallTrigger, securityGroup } from "./resource.ts";
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
  realtime: {
    cloudTrail: [
      authorizeCallTrigger("AuthorizeSecurityGroupIngress"),
      {
        eventSource: "ec2.amazonaws.com",
        eventName: "ModifySecurityGroupRules",
        resourceIds: ["requestParameters.ModifySecurityGroupRulesRequest.GroupId"],
      },
    ],
    securityHub: {
      // EC2.18 unrestricted ingress on unauthorised ports, EC2.19 high-risk ports, EC2.13/EC2.14 SSH/RDP from
      // 0.0.0.0/0, EC2.53/EC2.54 remote administration ports from 0.0.0.0/0 and ::/0.
      controls: ["EC2.13", "EC2.14", "EC2.18", "EC2.19", "EC2.53", "EC2.54"],
      generatorIds: [
        "prowler-ec2_securitygroup_allow_ingress_from_internet_to_all_ports",
        "prowler-ec2_securitygroup_allow_ingress_from_internet_to_any_port",
        "prowler-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
        "prowler-ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389",
      ],
    },
  },
} as const satisfies ProblemSpec<"sg-open-ingress">;
