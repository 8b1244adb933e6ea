import type { CommandPermissions } from "../../platform/permissions.ts";

/** Every AWS command the rule runtime sends, and the IAM action it needs. */
export const configRulePermissions = {
  PutEvaluationsCommand: "config:PutEvaluations",
  GetResourceConfigHistoryCommand: "config:GetResourceConfigHistory",
  ListDiscoveredResourcesCommand: "config:ListDiscoveredResources",
  BatchGetResourceConfigCommand: "config:BatchGetResourceConfig",
  SendMessageBatchCommand: "sqs:SendMessage",
  // The account-level S3 Block Public Access (S3 Control), which the bucket's Config item does not carry.
  GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
} as const satisfies CommandPermissions;
