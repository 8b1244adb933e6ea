// Slack's buttons, the coordinator's side (a Slack app deployed: config.interactive). On a grace notice people press
// Fix now or Snooze; the interactions function records each press in the ledger bucket (decisions/<id>/<action>.json)
// and, for Fix now, makes the hidden message visible with the receipt the coordinator left in the instruction's
// pending record (contract/pending.ts). Here: reading the decisions as claims (each re-checked with the deployed
// approvers and against what the coordinator remembers), and the pending record's S3 calls. gates.ts
// dueWithDecisions turns what is honoured into a due time; tick.ts decides when to call these.
import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { decisionKey, readDecisions } from "../../contract/decisions.ts";
import type { Instruction } from "../../contract/instruction.ts";
import { PENDING_VERSION, type PendingInstruction, pendingKey } from "../../contract/pending.ts";
import { type ApproverSettings, mayPress } from "../../platform/approvers.ts";
import { describeAwsError } from "../../platform/aws-errors.ts";
import { type DueDecision, staleDecision } from "./gates.ts";
import type { InstructionRecord } from "./state.ts";

/** REMEDY_SNOOZE_MINUTES: how far Snooze pushes the due time (default a day, at most a week). */
export const SNOOZE_MINUTES = { fallback: 1_440, min: 1, max: 10_080 } as const;

export interface InteractiveConfig {
  /** The ledger bucket: decisions are read from it, pending records written to it. */
  bucket: string;
  /** Who may press which button (REMEDY_SLACK_APPROVERS): every decision is re-checked against it. */
  approvers: ApproverSettings;
  /** How far a Snooze pushes the due time: the deployed amount, never a figure from a record. */
  snoozeMinutes: number;
}

type S3 = Pick<S3Client, "send">;

export interface DecisionsToHonour {
  decisions: DueDecision[];
  /** Decision records not honoured: their key and why (invalid, not an approver, stale). */
  ignored: { key: string; reason: string }[];
}

/**
 * The Fix now and Snooze decisions on an instruction that stand: stored validly under their own key, pressed by
 * someone the deployed approvers allow for the instruction's account, and about its current grace period. Exempt
 * decisions are not the coordinator's (the allowlist is). Throws when the bucket cannot be read.
 */
export async function decisionsToHonour(
  s3: S3,
  config: InteractiveConfig,
  instruction: Instruction,
  record: Readonly<InstructionRecord>,
  abortSignal?: AbortSignal,
): Promise<DecisionsToHonour> {
  const reading = await readDecisions(
    s3,
    config.bucket,
    { instructionId: instruction.id },
    abortSignal ? { abortSignal } : {},
  );
  const ignored = [...reading.invalid];
  const decisions: DueDecision[] = [];
  for (const decision of reading.records) {
    const { action } = decision;
    if (action !== "fix-now" && action !== "snooze") continue;
    const key = decisionKey(decision.target, action);
    const verdict = mayPress(config.approvers, action, decision.by.slackUserId, instruction.resource.accountId);
    if (!verdict.allowed) {
      ignored.push({ key, reason: verdict.reason });
      continue;
    }
    const atMs = Date.parse(decision.at);
    const stale = staleDecision(atMs, record, instruction.capturedAt);
    if (stale) ignored.push({ key, reason: stale });
    else decisions.push({ action, atMs });
  }
  return { decisions, ignored };
}

/** The pending record of a message hidden in its grace period, for the buttons of its notice. */
export function pendingRecord(
  instruction: Instruction,
  receipt: { messageId: string; receiptHandle: string },
  times: { dueMs: number; hiddenUntilMs: number; now: Date; decisionsFrom: string },
): PendingInstruction {
  return {
    version: PENDING_VERSION,
    instruction,
    messageId: receipt.messageId,
    receiptHandle: receipt.receiptHandle,
    dueAt: new Date(times.dueMs).toISOString(),
    hiddenUntil: new Date(times.hiddenUntilMs).toISOString(),
    decisionsFrom: times.decisionsFrom,
    at: times.now.toISOString(),
  };
}

/** Deletes an instruction's pending record (none there is no error: S3 answers a missing key's delete alike). */
export async function deletePending(
  s3: S3,
  bucket: string,
  instructionId: string,
  abortSignal?: AbortSignal,
): Promise<void> {
  const key = pendingKey(instructionId);
  try {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), abortSignal ? { abortSignal } : {});
  } catch (error) {
    throw new Error(`s3://${bucket}/${key}: deleting the pending instruction: ${describeAwsError(error)}`, {
      cause: error,
    });
  }
}
