// Every AWS command the `remedy` CLI sends, and the IAM action an operator needs for it: its own commands below, and
// those of every resource type's undo (each declares its own: problems/<folder>/undo.ts `permissions`). `remedy
// plan` needs none (offline); `remedy plan --live` reads only. A test fails when the CLI sends a command that is not
// declared here or by an undo.
import type { CommandPermissions } from "../platform/permissions.ts";
import { LISTED_RESOURCES } from "../problems/inventory.ts";
import { resourceUndos } from "../problems/undo.ts";

/** The commands the CLI's own code sends (undo's runner included; what an undo sends is its resource's). */
export const cliOwnPermissions = {
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
  // Reading and re-adding are the resource's undo's commands (merged in below).
  VerifyMacCommand: "kms:VerifyMac",
  // undo writes its own record (actions/*) and its temporary exemption (exemptions/*), then tells Slack (the report
  // topic, which lets operator_principal_arns publish); exemptions lift deletes an exemption (exemptions/*).
  PutObjectCommand: "s3:PutObject",
  PublishCommand: "sns:Publish",
  DeleteObjectCommand: "s3:DeleteObject",
  // undo in organisation mode: the record's member account is changed through its undo role, assumed with the
  // operator's own credentials: sts:AssumeRole on arn:<partition>:iam::*:role/remedy/remedy-member-undo only.
  AssumeRoleCommand: "sts:AssumeRole",
  // plan --live (read-only): whether Config records the rules' types, then their items through Config...
  DescribeConfigurationRecordersCommand: "config:DescribeConfigurationRecorders",
  DescribeConfigurationRecorderStatusCommand: "config:DescribeConfigurationRecorderStatus",
  ListDiscoveredResourcesCommand: "config:ListDiscoveredResources",
  BatchGetResourceConfigCommand: "config:BatchGetResourceConfig",
  // ...or directly where Config does not record them (bucket tags always: Config's batch answer leaves them out),
  // with the bucket's reads (ownership controls, ACL, policy, Block Public Access; the bucket undo reads them too),
  // and the account's Block Public Access (S3 Control). The caller's identity and the schedule rule use the calls
  // above.
  GetBucketOwnershipControlsCommand: "s3:GetBucketOwnershipControls",
  GetBucketAclCommand: "s3:GetBucketAcl",
  GetBucketPolicyCommand: "s3:GetBucketPolicy",
  GetPublicAccessBlockCommand: "s3:GetBucketPublicAccessBlock",
  DescribeSecurityGroupsCommand: "ec2:DescribeSecurityGroups",
  ListBucketsCommand: "s3:ListAllMyBuckets",
  GetBucketLocationCommand: "s3:GetBucketLocation",
  GetBucketTaggingCommand: "s3:GetBucketTagging",
  GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
} as const satisfies CommandPermissions;

/**
 * The commands of several declarations in one map: a command declared by more than one must name the same action in
 * each (else it throws, naming both).
 */
export function mergePermissions(
  declarations: readonly { by: string; permissions: CommandPermissions }[],
): CommandPermissions {
  const merged: Record<string, string> = {};
  const declaredBy: Record<string, string> = {};
  for (const { by, permissions } of declarations) {
    for (const [command, action] of Object.entries(permissions)) {
      const earlier = merged[command];
      if (earlier !== undefined && earlier !== action) {
        throw new Error(
          `${command} is declared as ${earlier} by ${declaredBy[command]} and as ${action} by ${by}: one command, one IAM action`,
        );
      }
      merged[command] = action;
      declaredBy[command] ??= by;
    }
  }
  return merged as CommandPermissions;
}

/**
 * Every command the CLI can send: its own, every resource type's undo's, and (plan --live) the reads of every type
 * with an inventory (problems/<folder>/inventory.ts), which it lists through it where Config does not record the type
 * (LISTED_RESOURCES: the types Config never records, and those whose spec says `inventory: true`).
 */
export const cliPermissions: typeof cliOwnPermissions & CommandPermissions = mergePermissions([
  { by: "cli/permissions.ts", permissions: cliOwnPermissions },
  ...resourceUndos().map(({ undo, resourceType }) => ({
    by: `the ${resourceType} undo (${undo.kind})`,
    permissions: undo.permissions,
  })),
  ...LISTED_RESOURCES.map((resource) => ({
    by: `the ${resource.type} inventory (plan --live)`,
    permissions: resource.reads.permissions,
  })),
]) as typeof cliOwnPermissions & CommandPermissions;

/**
 * Needed without a command of their own: what the undos' writes imply (revoked rules go back with their tags), and
 * sts:SetSourceIdentity beside AssumeRole (organisation mode: an undo's session carries SourceIdentity, which AWS
 * checks in the caller's policy as well as the role's trust).
 */
export const cliImpliedActions: readonly string[] = [
  ...new Set([...resourceUndos().flatMap(({ undo }) => undo.impliedActions), "sts:SetSourceIdentity"]),
];
