import type { CommandPermissions } from "../../platform/permissions.ts";
import { RESOURCES } from "../../problems/index.ts";

/** What reading every resource type live sends (each type's observe.ts declares its reads in its resource spec). */
const resourceReads = Object.assign(
  {},
  ...RESOURCES.map((resource) => resource.reads.permissions),
) as CommandPermissions;

/** Every AWS command the real-time function sends, and the IAM action it needs. */
export const realtimePermissions = {
  ...resourceReads,
  // The same fix instructions the Config path queues, to the remediation queue.
  SendMessageBatchCommand: "sqs:SendMessage",
  // "Run now": an asynchronous invoke of the coordinator (which runs one at a time).
  InvokeCommand: "lambda:InvokeFunction",
  // An account-level change (the account's S3 Block Public Access) re-evaluates the problem's Config rule.
  StartConfigRulesEvaluationCommand: "config:StartConfigRulesEvaluation",
  // Organisation mode: the member account's names of Remedy's organisation rules (OrgConfigRule-<name>-<suffix>).
  DescribeConfigRulesCommand: "config:DescribeConfigRules",
  // The temporary exemptions undo records for exactly the entries it restored, and the allowlist's Slack part (both in
  // the ledger bucket).
  GetObjectCommand: "s3:GetObject",
} as const satisfies CommandPermissions;

/** Actions AWS does not scope to a resource: every resource type's unscoped reads. */
export const realtimeUnscopedActions: readonly string[] = [
  ...new Set(RESOURCES.flatMap((resource) => resource.reads.unscopedActions)),
];

/**
 * The real-time queue's event source mapping polls with the function's role; s3:ListBucket (on the ledger bucket)
 * makes S3 answer a missing exemption (or Slack allowlist) NoSuchKey instead of AccessDenied.
 */
export const realtimeImpliedActions = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "s3:ListBucket",
] as const;

/**
 * Organisation mode: the commands sent to a member account, with its `remedy-member-detect` role's credentials in
 * the event's account and region (the role is granted these actions too, infra/member-roles.ts).
 */
export const realtimeMemberCommands = [
  ...(Object.keys(resourceReads) as (keyof typeof realtimePermissions)[]),
  "StartConfigRulesEvaluationCommand",
  "DescribeConfigRulesCommand",
] as const;
