import type { CommandPermissions } from "../../shared/permissions.ts";

/**
 * Every AWS command the S3 bucket remediation sends, and the IAM action it needs (S3 bucket subresource actions
 * are not named like their API calls: GetPublicAccessBlock needs s3:GetBucketPublicAccessBlock). Resources: the
 * bucket actions on buckets; PutObject on the ledger bucket's `actions/*`; GenerateMac on the ledger MAC key;
 * DeleteMessage on the remediation queue; SendMessage on the dead-letter queue; Publish on the report topic.
 */
export const remediateS3Permissions = {
  GetBucketAclCommand: "s3:GetBucketAcl",
  PutBucketAclCommand: "s3:PutBucketAcl",
  GetBucketPolicyCommand: "s3:GetBucketPolicy",
  PutBucketPolicyCommand: "s3:PutBucketPolicy",
  DeleteBucketPolicyCommand: "s3:DeleteBucketPolicy",
  GetPublicAccessBlockCommand: "s3:GetBucketPublicAccessBlock",
  PutPublicAccessBlockCommand: "s3:PutBucketPublicAccessBlock",
  GetBucketOwnershipControlsCommand: "s3:GetBucketOwnershipControls",
  GetBucketTaggingCommand: "s3:GetBucketTagging",
  // S3 Control: the account-level Block Public Access, judged with the bucket as the rule does.
  GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
  PutObjectCommand: "s3:PutObject",
  // Signs every ledger record with the ledger MAC key (REMEDY_LEDGER_MAC_KEY_ID): only remediations can.
  GenerateMacCommand: "kms:GenerateMac",
  DeleteMessageCommand: "sqs:DeleteMessage",
  SendMessageCommand: "sqs:SendMessage",
  PublishCommand: "sns:Publish",
  // The pause switch, re-read before every change (shared/remediation.ts).
  GetParameterCommand: "ssm:GetParameter",
} as const satisfies CommandPermissions;

/** Needed without a command of their own: none (the ledger bucket is SSE-S3 encrypted, so writing needs no KMS key). */
export const remediateS3ImpliedActions = [] as const;
