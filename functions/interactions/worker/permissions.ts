import type { CommandPermissions } from "../../../platform/permissions.ts";
import { resourceUndos } from "../../../problems/undo.ts";

/**
 * Every AWS command the interactions worker sends itself, and the IAM action it needs: the app secret (bot token),
 * the ledger bucket (decisions, withdrawn when they fail, pending instructions, the Slack allowlist, the undo's records
 * and exemption), Fix
 * now's visibility change on the remediation queue, Undo's MAC check (kms:VerifyMac on the ledger MAC key; never
 * GenerateMac) and its "undone" report.
 */
export const interactionsWorkerOwnPermissions = {
  GetSecretValueCommand: "secretsmanager:GetSecretValue",
  GetObjectCommand: "s3:GetObject",
  PutObjectCommand: "s3:PutObject",
  // Withdrawing a decision that could not be carried out (functions/interactions/withdraw.ts), so it can be retried.
  DeleteObjectCommand: "s3:DeleteObject",
  // Not sent (the ledger's and decisions' listings are the CLI's and the coordinator's), but needed: a missing
  // object then answers NoSuchKey, not AccessDenied.
  ListObjectsV2Command: "s3:ListBucket",
  ChangeMessageVisibilityCommand: "sqs:ChangeMessageVisibility",
  VerifyMacCommand: "kms:VerifyMac",
  PublishCommand: "sns:Publish",
} as const satisfies CommandPermissions;

/**
 * Its own, and those of every resource type's undo (problems/<folder>/undo.ts) with the type's live reads the undo
 * reads through (problems/<folder>/live.ts), as the CLI's undo has them.
 */
export const interactionsWorkerPermissions: CommandPermissions = Object.assign(
  {},
  ...resourceUndos().map(({ undo }) => undo.permissions),
  interactionsWorkerOwnPermissions,
);

/** What the undos need without a command of their own (ec2:CreateTags, ...). */
export const interactionsWorkerImpliedActions: readonly string[] = [
  ...new Set(resourceUndos().flatMap(({ undo }) => undo.impliedActions)),
];
