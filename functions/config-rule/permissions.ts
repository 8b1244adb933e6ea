import type { CommandPermissions } from "../../shared/permissions.ts";

/** Every AWS command the rule runtime sends, and the IAM action it needs. */
export const configRulePermissions = {
  PutEvaluationsCommand: "config:PutEvaluations",
  GetResourceConfigHistoryCommand: "config:GetResourceConfigHistory",
  ListDiscoveredResourcesCommand: "config:ListDiscoveredResources",
  BatchGetResourceConfigCommand: "config:BatchGetResourceConfig",
  SendMessageBatchCommand: "sqs:SendMessage",
} as const satisfies CommandPermissions;
