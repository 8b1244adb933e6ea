// The store of the allowlist's Slack part (allowlist/slack.json in the ledger bucket): adding an exemption granted in
// Slack and removing one; reading it is slack-allowlist-read.ts (re-exported here), which the functions that only
// judge import, so their bundles carry no write.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { AllowlistEntry, ExemptionProblem } from "../detection/exemptions.ts";
import { isConditionalWriteConflict } from "./aws-errors.ts";
import { PermanentError, RetryableError } from "./errors.ts";
import {
  checkSlackAllowlistEntry,
  MAX_SLACK_ALLOWLIST_ENTRIES,
  readStoredSlackAllowlist,
  type S3,
  SLACK_ALLOWLIST_KEY,
  SLACK_ALLOWLIST_VERSION,
  type SlackAllowlistEntry,
  type StoredSlackAllowlist,
} from "./slack-allowlist-read.ts";

export * from "./slack-allowlist-read.ts";

/** Writers racing on the one object retry this many times (conditional writes keep every writer's entry). */
const WRITE_ATTEMPTS = 4;

/** What to add: `at` defaults to the `now` of the write. */
export type SlackAllowlistAddition = Omit<SlackAllowlistEntry, "at"> & { at?: string };

/** An entry to add is not a valid allowlist entry: `field` names the field ("owner", "expires", …). */
export class InvalidSlackAllowlistEntryError extends PermanentError {
  override name = "InvalidSlackAllowlistEntryError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`Slack allowlist entry: ${field}: ${message}`);
  }
}

/** The object holds MAX_SLACK_ALLOWLIST_ENTRIES entries in force already. */
export class SlackAllowlistFullError extends PermanentError {
  override name = "SlackAllowlistFullError";
}

/** Others wrote the object at the same time, again and again: try the write again. */
export class SlackAllowlistConflictError extends RetryableError {
  override name = "SlackAllowlistConflictError";
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** Writes `entries` over what was read: If-Match its ETag, If-None-Match when there was none. False: raced. */
async function writeStored(
  s3: S3,
  bucket: string,
  read: StoredSlackAllowlist,
  entries: SlackAllowlistEntry[],
): Promise<boolean> {
  const etag = read.state === "absent" ? undefined : read.etag;
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: SLACK_ALLOWLIST_KEY,
        Body: `${JSON.stringify({ version: SLACK_ALLOWLIST_VERSION, entries }, null, 2)}\n`,
        ContentType: "application/json",
        ServerSideEncryption: "AES256",
        ...(etag !== undefined ? { IfMatch: etag } : { IfNoneMatch: "*" }),
      }),
    );
    return true;
  } catch (error) {
    if (!isConditionalWriteConflict(error)) throw error;
    return false;
  }
}

export interface AddedSlackAllowlistEntry {
  entry: AllowlistEntry;
  key: string;
  /** The decision's entry was there already (a retried write): nothing was written. */
  existing?: boolean;
  /** What the write dropped because it exempted nothing (malformed entries or object). */
  dropped?: ExemptionProblem[];
}

/**
 * Adds a Slack exemption: validated as a REMEDY_ALLOWLIST entry is (refused with InvalidSlackAllowlistEntryError
 * naming the field, also when it has already expired at `now`), merged with the entries still in force (expired ones
 * are dropped), and written conditionally so concurrent grants all keep their entries. The same decisionId again
 * returns the stored entry and writes nothing (Lambda and Slack retry).
 */
export async function addSlackAllowlistEntry(
  s3: S3,
  bucket: string,
  addition: SlackAllowlistAddition,
  now: Date,
): Promise<AddedSlackAllowlistEntry> {
  const checked = checkSlackAllowlistEntry({ ...addition, at: addition.at ?? now.toISOString() }, 0, "");
  if (!checked.ok)
    throw new InvalidSlackAllowlistEntryError(checked.problem.where.replace(/^\./, ""), checked.problem.message);
  if (now.getTime() >= checked.entry.expiresBefore) {
    throw new InvalidSlackAllowlistEntryError("expires", `${checked.entry.expires} has already passed`);
  }
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const read = await readStoredSlackAllowlist(s3, bucket);
    const current = read.state === "absent" ? { entries: [], records: [], problems: [] } : read.reading;
    const same = current.records.findIndex((record) => record.decisionId === checked.stored.decisionId);
    if (same >= 0) return { entry: current.entries[same]!, key: SLACK_ALLOWLIST_KEY, existing: true };
    const kept = current.records.filter((_, index) => now.getTime() < current.entries[index]!.expiresBefore);
    if (kept.length >= MAX_SLACK_ALLOWLIST_ENTRIES) {
      throw new SlackAllowlistFullError(
        `s3://${bucket}/${SLACK_ALLOWLIST_KEY} holds ${kept.length} exemptions in force (at most ${MAX_SLACK_ALLOWLIST_ENTRIES}): remove some first`,
      );
    }
    const entries = [...kept, checked.stored];
    if (await writeStored(s3, bucket, read, entries)) {
      const entry: AllowlistEntry = { ...checked.entry, index: entries.length - 1 };
      return {
        entry,
        key: SLACK_ALLOWLIST_KEY,
        ...(current.problems.length > 0 ? { dropped: current.problems } : {}),
      };
    }
  }
  throw new SlackAllowlistConflictError(
    `s3://${bucket}/${SLACK_ALLOWLIST_KEY} kept changing while the exemption was written`,
  );
}

/** Removes the entry a decision granted (`remedy exemptions`, tests). Says whether there was one. */
export async function removeSlackAllowlistEntry(s3: S3, bucket: string, decisionId: string): Promise<boolean> {
  for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
    const read = await readStoredSlackAllowlist(s3, bucket);
    if (read.state === "absent") return false;
    if (!read.stored.some((record) => record.decisionId === decisionId)) return false;
    const entries = read.stored.filter((record) => record.decisionId !== decisionId);
    if (await writeStored(s3, bucket, read, entries)) return true;
  }
  throw new SlackAllowlistConflictError(
    `s3://${bucket}/${SLACK_ALLOWLIST_KEY} kept changing while the exemption was removed`,
  );
}
