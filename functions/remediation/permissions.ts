import type { CommandPermissions } from "../../platform/permissions.ts";

/**
 * Every AWS command the remediation runner sends, whatever the problem (each problem's fix adds its own, declared in
 * its spec.ts). Resources: PutObject on the ledger bucket's `actions/*` and `claims/*`, GetObject on its
 * `exemptions/*` and `allowlist/*`; GenerateMac on the ledger MAC key; DeleteMessage on the remediation queue; SendMessage on the
 * dead-letter queue; Publish on the report topic.
 */
export const remediationRunnerPermissions = {
  PutObjectCommand: "s3:PutObject",
  // Signs every ledger record with the ledger MAC key (REMEDY_LEDGER_MAC_KEY_ID): only remediations can.
  GenerateMacCommand: "kms:GenerateMac",
  DeleteMessageCommand: "sqs:DeleteMessage",
  SendMessageCommand: "sqs:SendMessage",
  PublishCommand: "sns:Publish",
  // The pause switch, re-read before every change (functions/remediation/runner.ts).
  GetParameterCommand: "ssm:GetParameter",
  // Undo's temporary exemptions (`exemptions/*` in the ledger bucket): entries an undo restored are left alone; and
  // the allowlist's Slack part (`allowlist/slack.json`), read before every fix.
  GetObjectCommand: "s3:GetObject",
} as const satisfies CommandPermissions;

/**
 * Needed without a command of their own: s3:ListBucket on the ledger bucket, so that reading an undo exemption (or
 * the Slack allowlist) that is not there answers NoSuchKey (no exemption) rather than AccessDenied (S3's answer for a
 * missing key to a caller who may not list), which would fail every fix. (The bucket is SSE-S3 encrypted, so writing needs no KMS key.)
 */
export const remediationRunnerImpliedActions = ["s3:ListBucket"] as const;
