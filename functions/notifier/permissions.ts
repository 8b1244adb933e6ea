import type { CommandPermissions } from "../../platform/permissions.ts";

/** Every AWS command the notifier sends, and the IAM action it needs. */
export const notifierPermissions = {
  /** Who made the change (best effort; "unknown" without it). */
  LookupEventsCommand: "cloudtrail:LookupEvents",
  /** The Slack webhook secret when REMEDY_SLACK_SECRET is a Secrets Manager ARN or name (plus kms:Decrypt on a CMK). */
  GetSecretValueCommand: "secretsmanager:GetSecretValue",
  /** The Slack webhook secret when REMEDY_SLACK_SECRET is "ssm:<parameter name>" (plus kms:Decrypt on a CMK). */
  GetParameterCommand: "ssm:GetParameter",
} as const satisfies CommandPermissions;
