import type { CommandPermissions } from "../../shared/permissions.ts";

/**
 * Every AWS command the security-group remediation sends, and the IAM action it needs. Resources: the EC2 actions
 * on security groups; DeleteMessage on the remediation queue; SendMessage on the dead-letter queue; PutObject on
 * the ledger bucket's `actions/*`; Publish on the report topic.
 */
export const remediateSgPermissions = {
  DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
  DescribeSecurityGroupsCommand: "ec2:DescribeSecurityGroups",
  RevokeSecurityGroupIngressCommand: "ec2:RevokeSecurityGroupIngress",
  DeleteMessageCommand: "sqs:DeleteMessage",
  SendMessageCommand: "sqs:SendMessage",
  PutObjectCommand: "s3:PutObject",
  PublishCommand: "sns:Publish",
} as const satisfies CommandPermissions;

/** Needed without a command of their own: kms:GenerateDataKey on the ledger key when REMEDY_LEDGER_KMS_KEY_ID is set. */
export const remediateSgImpliedActions = ["kms:GenerateDataKey"] as const;
