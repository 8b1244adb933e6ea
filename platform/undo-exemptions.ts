// Reading undo's temporary exemptions: one object per resource under `exemptions/` in the ledger bucket
// (contract/undo-exemption.ts has the schema, the key layout and the matching). The remediation runner and the
// real-time function read it before they change anything; only GetObject, so their bundles carry no write
// (undo-exemptions-store.ts, the CLI's, adds, lists and lifts). A stored object is a claim: whatever is malformed, or
// names another resource than its key's, exempts nothing.
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  InvalidUndoExemptionError,
  parseUndoExemptionRecord,
  sameResource,
  type UndoExemptionRecord,
  type UndoExemptionResource,
  undoExemptionKey,
} from "../contract/undo-exemption.ts";
import { hasErrorCode } from "./aws-errors.ts";

export type S3 = Pick<S3Client, "send">;

/** What one stored object holds: a valid record, nothing, or the reason it is not one. */
export type StoredExemption =
  | { state: "absent" }
  | { state: "valid"; record: UndoExemptionRecord; etag: string | undefined }
  | { state: "invalid"; reason: string; etag: string | undefined };

/** Larger than any valid object (MAX_UNDO_EXEMPTION_ENTRIES entries of a few hundred bytes each). */
const MAX_OBJECT_BYTES = 2_000_000;

/** Reads one object; `resource`: the resource its key is for (else the record's own must give that key). */
export async function readStored(
  s3: S3,
  bucket: string,
  key: string,
  resource?: UndoExemptionResource,
): Promise<StoredExemption> {
  let text: string;
  let etag: string | undefined;
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    etag = output.ETag;
    if ((output.ContentLength ?? 0) > MAX_OBJECT_BYTES) {
      // Not read: its connection is let go rather than left open until the body is collected.
      (output.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return { state: "invalid", reason: `larger than ${MAX_OBJECT_BYTES} bytes`, etag };
    }
    text = output.Body ? await output.Body.transformToString("utf-8") : "";
  } catch (error) {
    if (hasErrorCode(error, "NoSuchKey", "NotFound")) return { state: "absent" };
    throw error;
  }
  try {
    const record = parseUndoExemptionRecord(text);
    const named = resource ?? record.resource;
    if (!sameResource(record.resource, named) || undoExemptionKey(record.resource) !== key) {
      return { state: "invalid", reason: `names another resource (${record.resource.id})`, etag };
    }
    return { state: "valid", record, etag };
  } catch (error) {
    if (!(error instanceof InvalidUndoExemptionError)) throw error;
    return { state: "invalid", reason: error.message, etag };
  }
}

/**
 * Reads the undo exemption of one resource: undefined when there is none (NoSuchKey) or the object is malformed
 * (`onInvalid` is told why: it exempts nothing); any other error is thrown (the caller decides: the runner retries
 * the message).
 */
export function undoExemptionReader(
  s3: S3,
  bucket: string,
  onInvalid?: (reason: string) => void,
): (resource: UndoExemptionResource) => Promise<UndoExemptionRecord | undefined> {
  return async (resource) => {
    const key = undoExemptionKey(resource);
    const stored = await readStored(s3, bucket, key, resource);
    if (stored.state === "valid") return stored.record;
    if (stored.state === "invalid") onInvalid?.(`s3://${bucket}/${key}: ${stored.reason}`);
    return undefined;
  };
}
