// Whose resource a ledger action changed, as the interactions endpoint needs it to ask the approvers list about an
// Undo press: the record's account only. The endpoint cannot verify a record's MAC (it holds no KMS key, by design)
// and never acts on it: this read is only for the answer "may you press this?". The worker, which acts, verifies the
// record (cli/undo-runner.ts) and asks the approvers again with the verified account. Kept apart from
// contract/ledger.ts so the endpoint's bundle carries no ledger writer or signer.
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as v from "valibot";
import { ACCOUNT_ID_PATTERN, ACTION_ID_PATTERN } from "../../contract/ids.ts";
import { hasErrorCode, storeFailure } from "../../platform/aws-errors.ts";
import { PermanentError, RetryableError } from "../../platform/errors.ts";

export class LedgerTargetError extends PermanentError {
  override name = "LedgerTargetError";
}
export class LedgerTargetUnavailableError extends RetryableError {
  override name = "LedgerTargetUnavailableError";
}

/** contract/ledger.ts ledgerKey's layout: `actions/YYYY-MM-DD/<actionId>.json` (a test holds the two equal). */
export function ledgerObjectKey(actionId: string): string | undefined {
  const match = ACTION_ID_PATTERN.exec(actionId);
  return match ? `actions/${match[1]}-${match[2]}-${match[3]}/${actionId}.json` : undefined;
}

const TargetSchema = v.object({
  actionId: v.string(),
  resource: v.object({ accountId: v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN)) }),
});

/** The record's account, or undefined when there is no record for the id. */
export async function readLedgerTarget(
  s3: Pick<S3Client, "send">,
  bucket: string,
  actionId: string,
): Promise<{ accountId: string } | undefined> {
  const key = ledgerObjectKey(actionId);
  if (!key) throw new LedgerTargetError(`${JSON.stringify(actionId)} is not an action id`);
  let text: string;
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = output.Body ? await output.Body.transformToString("utf-8") : "";
  } catch (error) {
    if (hasErrorCode(error, "NoSuchKey", "NotFound")) return undefined;
    throw storeFailure(`s3://${bucket}/${key}`, error, {
      transient: LedgerTargetUnavailableError,
      permanent: LedgerTargetError,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LedgerTargetError(`s3://${bucket}/${key} is not JSON`);
  }
  const parsed = v.safeParse(TargetSchema, value);
  if (!parsed.success || parsed.output.actionId !== actionId) {
    throw new LedgerTargetError(`s3://${bucket}/${key} is not the ledger record of ${actionId}`);
  }
  return { accountId: parsed.output.resource.accountId };
}
