// Taking back a decision that could not be carried out (its worker not started, or failed for good), so that the
// button can be pressed again: decisions are written put-if-absent, and a record left behind would answer every later
// press with "already chose … nothing more was done". Kept out of contract/decisions.ts so that the functions that only
// read decisions (the coordinator, the remediations) carry no delete.
import { DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type DecisionRecord, decisionKey, decisionStoreError, lookUpDecision } from "../../contract/decisions.ts";
import { hasErrorCode, isConditionalWriteConflict } from "../../platform/aws-errors.ts";
import { errorFields, type Log } from "../../platform/logging.ts";

/**
 * Deletes the record at the decision's key only while it is still this decision: read, compared by decisionId,
 * deleted If-Match the ETag read (never another person's decision taken since). Returns whether it was deleted
 * (false: gone already, not a valid record, or another decision holds the key). Store failures throw
 * DecisionStoreUnavailableError (retry) or DecisionStoreError.
 */
export async function withdrawDecision(
  s3: Pick<S3Client, "send">,
  bucket: string,
  record: Pick<DecisionRecord, "decisionId" | "action" | "target">,
): Promise<boolean> {
  const key = decisionKey(record.target, record.action);
  const found = await lookUpDecision(s3, bucket, key, "reading the decision to withdraw");
  // Gone already, or not a record this decision wrote: not ours to delete.
  if (found.state !== "valid") return false;
  const { record: stored, etag } = found;
  if (stored.decisionId !== record.decisionId) return false;
  try {
    await s3.send(
      new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(etag !== undefined ? { IfMatch: etag } : {}) }),
    );
  } catch (error) {
    // Replaced since it was read (412), or gone: not this decision's to delete any more.
    if (isConditionalWriteConflict(error) || hasErrorCode(error, "NoSuchKey", "NotFound")) return false;
    throw decisionStoreError(`s3://${bucket}/${key}: withdrawing the decision`, error);
  }
  return true;
}

/** withdrawDecision, logged with `fields`: whether the decision is gone. Never throws (the caller has told the person). */
export async function withdrawLogged(
  s3: Pick<S3Client, "send">,
  bucket: string,
  record: Pick<DecisionRecord, "decisionId" | "action" | "target">,
  log: Log,
  fields: Record<string, unknown>,
): Promise<boolean> {
  try {
    const withdrawn = await withdrawDecision(s3, bucket, record);
    if (withdrawn) log.info("withdrew a decision that could not be carried out", fields);
    else log.warn("a decision to withdraw is no longer the one at its key", fields);
    return withdrawn;
  } catch (error) {
    log.error("could not withdraw a decision that could not be carried out", fields, errorFields(error));
    return false;
  }
}
