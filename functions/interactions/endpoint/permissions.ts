import type { CommandPermissions } from "../../../platform/permissions.ts";

/**
 * Every AWS command the interactions endpoint sends, and the IAM action it needs. It changes no resource: it reads
 * the Slack app's secret, the pending instruction (pending/*) or ledger record (actions/*) a button names, writes
 * decision records (decisions/*, put-if-absent; withdrawn when the worker cannot be started) and invokes the worker. Resources (infra): the app secret, the ledger
 * bucket's pending/, actions/ and decisions/ prefixes, the worker function.
 */
export const interactionsPermissions = {
  GetSecretValueCommand: "secretsmanager:GetSecretValue",
  GetObjectCommand: "s3:GetObject",
  PutObjectCommand: "s3:PutObject",
  // Withdrawing an Exempt or Undo whose worker could not be started (functions/interactions/withdraw.ts).
  DeleteObjectCommand: "s3:DeleteObject",
  /**
   * Not sent (decisions.ts readDecisions is the coordinator's), but needed: with s3:ListBucket a missing pending or
   * ledger object answers NoSuchKey ("no longer pending") instead of AccessDenied.
   */
  ListObjectsV2Command: "s3:ListBucket",
  InvokeCommand: "lambda:InvokeFunction",
} as const satisfies CommandPermissions;
