// Fix now pressed in Slack, as a remediation sees it: the coordinator dispatches an instruction before its grace
// period ends when an approver pressed Fix now on its notice, so the runner, which refuses an instruction that is not
// due (a direct invoke must not skip the grace period), reads the same decision before refusing. The decision is a
// claim like the instruction: read from the ledger bucket (decisions/ is written by the interactions endpoint only),
// re-checked against the deployed approvers (REMEDY_SLACK_APPROVERS) and about this detection (pressed after it was
// captured). As the coordinator's gates.ts dueWithDecisions: the latest of Fix now and Snooze wins.
import type { S3Client } from "@aws-sdk/client-s3";
import { readDecisions } from "../../contract/decisions.ts";
import type { Instruction } from "../../contract/instruction.ts";
import { type ApproverSettings, mayPress } from "../../platform/approvers.ts";

/**
 * When an approver pressed Fix now on this instruction (epoch ms), or undefined when no such decision stands (none,
 * not an approver's, an earlier detection's, or a later Snooze). Throws when the bucket cannot be read.
 */
export async function fixNowPressedAt(
  s3: Pick<S3Client, "send">,
  bucket: string,
  approvers: ApproverSettings,
  instruction: Instruction,
): Promise<number | undefined> {
  const { records } = await readDecisions(s3, bucket, { instructionId: instruction.id });
  const capturedMs = Date.parse(instruction.capturedAt);
  let latest: { action: "fix-now" | "snooze"; atMs: number } | undefined;
  for (const decision of records) {
    const { action } = decision;
    if (action !== "fix-now" && action !== "snooze") continue;
    if (!mayPress(approvers, action, decision.by.slackUserId, instruction.resource.accountId).allowed) continue;
    const atMs = Date.parse(decision.at);
    if (!(atMs >= capturedMs)) continue;
    if (!latest || atMs > latest.atMs || (atMs === latest.atMs && action === "snooze")) latest = { action, atMs };
  }
  return latest?.action === "fix-now" ? latest.atMs : undefined;
}
