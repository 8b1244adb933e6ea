// Writing, listing and lifting undo's temporary exemptions (the CLI's: `remedy undo`, `remedy exemptions`, status and
// plan). Reading one resource's is undo-exemptions.ts, which the functions use.
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from "@aws-sdk/client-s3";
import {
  mergeUndoExemption,
  UNDO_EXEMPTION_PREFIX,
  type UndoExemptionAddition,
  type UndoExemptionRecord,
  type UndoExemptionResource,
  undoExemptionKey,
} from "../contract/undo-exemption.ts";
import { isConditionalWriteConflict } from "./aws-errors.ts";
import { RetryableError } from "./errors.ts";
import { readStored, type S3 } from "./undo-exemptions.ts";

/** Two undos wrote the same resource's object at once, again and again: try the undo's exemption write again. */
export class UndoExemptionConflictError extends RetryableError {
  override name = "UndoExemptionConflictError";
}

export interface AddedUndoExemption {
  record: UndoExemptionRecord;
  key: string;
  /** The object there was not valid and was replaced: why. */
  replacedInvalid?: string;
}

/** Writes racing on one resource's object retry this many times (conditional writes keep both undos' entries). */
const ADD_ATTEMPTS = 4;

/**
 * Adds an undo's entries to its resource's object: merged with what is there and still in force (the same entry
 * keeps the later `until`), written with a conditional put (If-Match on the ETag read, If-None-Match when there was
 * none) so two undos of one resource at once both keep their entries.
 */
export async function addUndoExemption(
  s3: S3,
  bucket: string,
  addition: UndoExemptionAddition,
  now: Date,
): Promise<AddedUndoExemption> {
  const key = undoExemptionKey(addition.resource);
  for (let attempt = 1; attempt <= ADD_ATTEMPTS; attempt++) {
    const stored = await readStored(s3, bucket, key, addition.resource);
    const record = mergeUndoExemption(stored.state === "valid" ? stored.record : undefined, addition, now);
    const etag = stored.state === "absent" ? undefined : stored.etag;
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: `${JSON.stringify(record, null, 2)}\n`,
          ContentType: "application/json",
          ServerSideEncryption: "AES256",
          ...(etag !== undefined ? { IfMatch: etag } : { IfNoneMatch: "*" }),
        }),
      );
      return { record, key, ...(stored.state === "invalid" ? { replacedInvalid: `${key}: ${stored.reason}` } : {}) };
    } catch (error) {
      if (!isConditionalWriteConflict(error)) throw error;
    }
  }
  throw new UndoExemptionConflictError(`s3://${bucket}/${key} kept changing while the undo wrote it`);
}

export interface UndoExemptionListing {
  records: UndoExemptionRecord[];
  invalid: { key: string; reason: string }[];
}

/** Every exemption object in the bucket (status, plan --live, `remedy exemptions`), expired entries included. */
export async function listUndoExemptions(s3: S3, bucket: string): Promise<UndoExemptionListing> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: UNDO_EXEMPTION_PREFIX, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key?.endsWith(".json")) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const listing: UndoExemptionListing = { records: [], invalid: [] };
  for (const key of keys.sort()) {
    const stored = await readStored(s3, bucket, key);
    if (stored.state === "valid") listing.records.push(stored.record);
    else if (stored.state === "invalid") listing.invalid.push({ key, reason: stored.reason });
  }
  return listing;
}

/** Lifts a resource's exemption early: deletes its object. Says whether there was one. */
export async function liftUndoExemption(s3: S3, bucket: string, resource: UndoExemptionResource): Promise<boolean> {
  const key = undoExemptionKey(resource);
  const stored = await readStored(s3, bucket, key, resource);
  if (stored.state === "absent") return false;
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  return true;
}
