import type { CommandPermissions } from "../../platform/permissions.ts";
import { UNRECORDED_RESOURCES } from "../../problems/inventory.ts";

/**
 * What listing the types Config does not record sends (each type's inventory.ts, within its resource spec's reads):
 * the periodic scan lists them through their own service's API.
 */
const inventoryReads = Object.assign(
  {},
  ...UNRECORDED_RESOURCES.map((resource) => resource.reads.permissions),
) as CommandPermissions;

/** Every AWS command the rule runtime sends, and the IAM action it needs. */
export const configRulePermissions = {
  PutEvaluationsCommand: "config:PutEvaluations",
  // What Config holds for a changed resource: an unchanged verdict is not sent again (each one sent is billed).
  GetComplianceDetailsByResourceCommand: "config:GetComplianceDetailsByResource",
  GetResourceConfigHistoryCommand: "config:GetResourceConfigHistory",
  ListDiscoveredResourcesCommand: "config:ListDiscoveredResources",
  BatchGetResourceConfigCommand: "config:BatchGetResourceConfig",
  // Fix instructions to the remediation queue; a periodic scan's tasks to the scan queue (and refused ones to its
  // dead-letter queue).
  SendMessageBatchCommand: "sqs:SendMessage",
  // A periodic scan: what Config holds for the rule, and the scan's parts of it in the ledger bucket (scans/).
  GetComplianceDetailsByConfigRuleCommand: "config:GetComplianceDetailsByConfigRule",
  PutObjectCommand: "s3:PutObject",
  // …and the allowlist's Slack part (allowlist/slack.json), judged after the deployed allowlist.
  GetObjectCommand: "s3:GetObject",
  // The account-level S3 Block Public Access (S3 Control), which the bucket's Config item does not carry.
  GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
  ...inventoryReads,
} as const satisfies CommandPermissions;

/**
 * The scan queue's event source mapping polls with the function's role; s3:ListBucket (on the ledger bucket) makes S3
 * answer a Slack allowlist that is not there NoSuchKey (no entries) instead of AccessDenied.
 */
export const configRuleImpliedActions = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "s3:ListBucket",
] as const;

/**
 * Organisation mode: the commands sent to the member account (with the member detect role's credentials, in the
 * event's account and region); the rest go to the hub's own queues and bucket. The member detect role is granted
 * exactly these commands' actions (infra/).
 */
export const configRuleMemberCommands = [
  "PutEvaluationsCommand",
  "GetComplianceDetailsByResourceCommand",
  "GetResourceConfigHistoryCommand",
  "ListDiscoveredResourcesCommand",
  "BatchGetResourceConfigCommand",
  "GetComplianceDetailsByConfigRuleCommand",
  "GetAccountPublicAccessBlockCommand",
  ...(Object.keys(inventoryReads) as (keyof typeof configRulePermissions)[]),
] as const satisfies readonly (keyof typeof configRulePermissions)[];
