import type { CommandPermissions } from "../../shared/permissions.ts";

/**
 * Every AWS command the security-group remediation sends, and the IAM action it needs. Resources: the EC2 actions
 * on security groups; DeleteMessage on the remediation queue; SendMessage on the dead-letter queue; PutObject on
 * the ledger bucket's `actions/*`; GenerateMac on the ledger MAC key; Publish on the report topic.
 */
export const remediateSgPermissions = {
  DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
  DescribeSecurityGroupsCommand: "ec2:DescribeSecurityGroups",
  RevokeSecurityGroupIngressCommand: "ec2:RevokeSecurityGroupIngress",
  DeleteMessageCommand: "sqs:DeleteMessage",
  SendMessageCommand: "sqs:SendMessage",
  PutObjectCommand: "s3:PutObject",
  // Signs every ledger record with the ledger MAC key (REMEDY_LEDGER_MAC_KEY_ID): only remediations can.
  GenerateMacCommand: "kms:GenerateMac",
  PublishCommand: "sns:Publish",
  // The pause switch, re-read before every change (shared/remediation.ts).
  GetParameterCommand: "ssm:GetParameter",
} as const satisfies CommandPermissions;

/** Needed without a command of their own: none (the ledger bucket is SSE-S3 encrypted, so writing needs no KMS key). */
export const remediateSgImpliedActions = [] as const;
