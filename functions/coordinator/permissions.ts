import type { CommandPermissions } from "../../platform/permissions.ts";

/**
 * Every AWS command the coordinator sends, and the IAM action it needs. Resources: the SQS actions on the
 * remediation queue except SendMessage (dead-letter queue only); InvokeFunction on the remediation functions;
 * the SSM actions on the pause parameter; the S3 actions on the ledger bucket's state/ objects, and with Slack buttons
 * its decisions/ (read) and pending/ (written, deleted) objects (infra/iam.ts ledgerAccessOf); Publish on the report
 * topic.
 */
export const coordinatorPermissions = {
  GetParameterCommand: "ssm:GetParameter",
  PutParameterCommand: "ssm:PutParameter",
  ReceiveMessageCommand: "sqs:ReceiveMessage",
  ChangeMessageVisibilityCommand: "sqs:ChangeMessageVisibility",
  ChangeMessageVisibilityBatchCommand: "sqs:ChangeMessageVisibility",
  DeleteMessageCommand: "sqs:DeleteMessage",
  DeleteMessageBatchCommand: "sqs:DeleteMessage",
  SendMessageCommand: "sqs:SendMessage",
  InvokeCommand: "lambda:InvokeFunction",
  GetObjectCommand: "s3:GetObject",
  PutObjectCommand: "s3:PutObject",
  // Slack buttons only (config.interactive): the decisions read, the pending records deleted.
  ListObjectsV2Command: "s3:ListBucket",
  DeleteObjectCommand: "s3:DeleteObject",
  PublishCommand: "sns:Publish",
} as const satisfies CommandPermissions;

/**
 * Actions needed without a command of their own: s3:ListBucket on the state bucket, so that reading the state
 * object before it exists answers NoSuchKey (404) instead of AccessDenied (403).
 */
export const coordinatorImpliedActions = ["s3:ListBucket"] as const;
