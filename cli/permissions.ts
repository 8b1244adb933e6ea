// Every AWS command the `remedy` CLI sends, and the IAM action an operator needs for it. `remedy plan` needs none
// (offline); `remedy plan --live` reads only. A test fails when the CLI sends a command that is not declared here.
import type { CommandPermissions } from "../platform/permissions.ts";

export const cliPermissions = {
  // peek (and peek --dlq): reads with a short visibility, then makes every message visible again.
  ReceiveMessageCommand: "sqs:ReceiveMessage",
  ChangeMessageVisibilityBatchCommand: "sqs:ChangeMessageVisibility",
  // dlq redrive: reads the DLQ as peek does, copies each approved message back, then deletes it from the DLQ
  // (messages it does not move are made visible again with the batch call above).
  SendMessageBatchCommand: "sqs:SendMessage",
  DeleteMessageBatchCommand: "sqs:DeleteMessage",
  // status
  GetQueueAttributesCommand: "sqs:GetQueueAttributes",
  DescribeRuleCommand: "events:DescribeRule",
  GetParameterCommand: "ssm:GetParameter",
  // status --slack-secret (or REMEDY_SLACK_SECRET): checks the notifier's Slack routing without showing it. An SSM
  // reference uses GetParameter above; either store needs kms:Decrypt too when the secret is on a customer key.
  GetSecretValueCommand: "secretsmanager:GetSecretValue",
  ListObjectsV2Command: "s3:ListBucket",
  GetObjectCommand: "s3:GetObject",
  // pause / resume
  PutParameterCommand: "ssm:PutParameter",
  // pause, resume, undo, dlq redrive: who is acting (recorded), and that it is the stack's account. IAM cannot deny
  // it, so no policy needs it.
  GetCallerIdentityCommand: "sts:GetCallerIdentity",
  // undo: reads the record, verifies its MAC (on the ledger MAC key), reads the live resource, re-adds what the fix
  // removed that is missing there, records the undo. It never deletes a bucket policy (it only adds statements).
  VerifyMacCommand: "kms:VerifyMac",
  PutObjectCommand: "s3:PutObject",
  DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
  AuthorizeSecurityGroupIngressCommand: "ec2:AuthorizeSecurityGroupIngress",
  GetBucketOwnershipControlsCommand: "s3:GetBucketOwnershipControls",
  GetBucketAclCommand: "s3:GetBucketAcl",
  GetBucketPolicyCommand: "s3:GetBucketPolicy",
  GetPublicAccessBlockCommand: "s3:GetBucketPublicAccessBlock",
  PutBucketAclCommand: "s3:PutBucketAcl",
  PutBucketPolicyCommand: "s3:PutBucketPolicy",
  PutPublicAccessBlockCommand: "s3:PutBucketPublicAccessBlock",
  DeletePublicAccessBlockCommand: "s3:PutBucketPublicAccessBlock",
  // plan --live (read-only): whether Config records the rules' types, then their items through Config...
  DescribeConfigurationRecordersCommand: "config:DescribeConfigurationRecorders",
  DescribeConfigurationRecorderStatusCommand: "config:DescribeConfigurationRecorderStatus",
  ListDiscoveredResourcesCommand: "config:ListDiscoveredResources",
  BatchGetResourceConfigCommand: "config:BatchGetResourceConfig",
  // ...or directly where Config does not record them (bucket tags always: Config's batch answer leaves them out),
  // with the bucket reads above (ownership controls, ACL, policy, Block Public Access), and the account's Block
  // Public Access (S3 Control). The caller's identity and the schedule rule use the calls above.
  DescribeSecurityGroupsCommand: "ec2:DescribeSecurityGroups",
  ListBucketsCommand: "s3:ListAllMyBuckets",
  GetBucketLocationCommand: "s3:GetBucketLocation",
  GetBucketTaggingCommand: "s3:GetBucketTagging",
  GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
} as const satisfies CommandPermissions;

/** Needed without a command of their own: undo restores revoked rules with their tags (TagSpecifications). */
export const cliImpliedActions = ["ec2:CreateTags"] as const;
