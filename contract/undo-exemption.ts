// Undo exemptions: what keeps an undone entry undone. `remedy undo` re-adds what a fix removed; without this the next
// detection (Config, the periodic scan, the real-time path) would fix it again at once. After a successful re-add the
// undo writes one object per resource to the ledger bucket, listing exactly the entries it re-added and until when
// they are to be left as restored. The object is a claim like any other: it can only stop a fix, never cause one,
// only for the exact entries it lists (problem + matchedEntryKey), only on the resource it names, and only until its
// `until`; a malformed object exempts nothing. Pure: no SDK (platform/undo-exemptions.ts is the S3 store).
import * as v from "valibot";
import { PROBLEMS } from "../detection/types.ts";
import { PermanentError } from "../platform/errors.ts";
import { PROBLEM_SPECS } from "../problems/index.ts";
import { ACCOUNT_ID_PATTERN, ACTION_ID_PATTERN, REGION_PATTERN } from "./ids.ts";
import { MATCHED_KIND_BY_PROBLEM, type MatchedEntry, matchedEntryKey } from "./instruction.ts";
import { boundedJson } from "./json.ts";
import { kindVariant } from "./schema-kit.ts";

export const UNDO_EXEMPTION_VERSION = 1;
/** Where the objects live in the ledger bucket. */
export const UNDO_EXEMPTION_PREFIX = "exemptions/";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
export const DEFAULT_UNDO_EXEMPTION_MS = DAY_MS;
/** The longest an undo may keep an entry open: past this, exempt it (tag or allowlist), with an owner and a reason. */
export const MAX_UNDO_EXEMPTION_MS = 30 * DAY_MS;
/**
 * Clocks differ (the operator's laptop wrote `at`, a Lambda reads it): an entry written up to this far in the future
 * still counts, never longer than MAX_UNDO_EXEMPTION_MS plus this from the reader's now.
 */
export const UNDO_EXEMPTION_CLOCK_SKEW_MS = 5 * MINUTE_MS;
/** More than any one resource can hold (a security group has at most a few hundred rules). */
export const MAX_UNDO_EXEMPTION_ENTRIES = 1_000;

/** The resource an exemption applies to: nothing else, whatever the entries say. */
export interface UndoExemptionResource {
  accountId: string;
  region: string;
  type: string;
  id: string;
}

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp("must be an ISO-8601 timestamp"));
const actionId = v.pipe(v.string(), v.regex(ACTION_ID_PATTERN, "must be an action id"));
/** Built from the same per-problem schemas as the instruction's (contract/instruction.ts). */
const MatchedEntrySchema = kindVariant(
  "matched entry",
  PROBLEM_SPECS.map((spec) => spec.contract.matched),
);

const ResourceSchema = v.strictObject({
  accountId: v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id")),
  region: v.pipe(v.string(), v.regex(REGION_PATTERN, "must be an AWS region")),
  type: v.pipe(v.string(), v.regex(/^AWS::\w+::\w+$/, "must be an AWS resource type like AWS::S3::Bucket")),
  id: v.pipe(v.string(), v.minLength(1, "must not be empty")),
});

/** Which undo left an entry (or the object's latest write) restored, by whom, from when until when. */
const provenance = {
  undoActionId: actionId,
  /** The fix's action id: what the undo undid. */
  undoes: actionId,
  /** The operator's ARN (STS). */
  by: v.pipe(v.string(), v.minLength(1, "must name the operator")),
  at: isoTimestamp,
  until: isoTimestamp,
};

/** `until` after `at`, and not longer after it than the longest exemption an undo may write. */
function lengthIsValid(item: { at: string; until: string }): boolean {
  const length = Date.parse(item.until) - Date.parse(item.at);
  return length > 0 && length <= MAX_UNDO_EXEMPTION_MS;
}
const lengthMessage = `until must be after at, by at most ${MAX_UNDO_EXEMPTION_MS / DAY_MS} days`;

const EntrySchema = v.pipe(
  v.strictObject({
    problem: v.picklist(PROBLEMS, (issue) => `unknown problem ${JSON.stringify(issue.input)}`),
    /** matchedEntryKey(entry): what a fix's target is compared with. */
    key: v.pipe(v.string(), v.minLength(1)),
    /** The entry itself, for display (and to check the key against). */
    entry: MatchedEntrySchema,
    ...provenance,
  }),
  v.check((item) => item.entry.kind === MATCHED_KIND_BY_PROBLEM[item.problem], "entry does not fit its problem"),
  // A key that is not the entry's own would exempt something the object does not show.
  v.check((item) => item.key === matchedEntryKey(item.entry), "key is not the entry's matchedEntryKey"),
  v.check((item) => lengthIsValid(item), lengthMessage),
);

export const UndoExemptionRecordSchema = v.pipe(
  v.strictObject({
    version: v.literal(UNDO_EXEMPTION_VERSION, (issue) => `unsupported exemption version ${String(issue.input)}`),
    resource: ResourceSchema,
    entries: v.pipe(
      v.array(EntrySchema),
      v.minLength(1, "must list at least one entry"),
      v.maxLength(MAX_UNDO_EXEMPTION_ENTRIES, `must list at most ${MAX_UNDO_EXEMPTION_ENTRIES} entries`),
    ),
    /** The latest undo that wrote the object (each entry names its own). */
    ...provenance,
  }),
  v.check((item) => lengthIsValid(item), lengthMessage),
  v.check(
    (record) => new Set(record.entries.map((item) => `${item.problem}\n${item.key}`)).size === record.entries.length,
    "lists an entry twice",
  ),
);

export type UndoExemptionRecord = v.InferOutput<typeof UndoExemptionRecordSchema>;
export type UndoExemptionEntry = UndoExemptionRecord["entries"][number];
/** An entry an exemption keeps restored, with the resource it is on. */
export type ActiveUndoExemption = UndoExemptionEntry & { resource: UndoExemptionResource };

/** An exemption object that is not valid: it exempts nothing (and is reported). */
export class InvalidUndoExemptionError extends PermanentError {
  override name = "InvalidUndoExemptionError";
}

/** An exemption length (`--exempt-for`) that is not one. */
export class InvalidExemptionLengthError extends PermanentError {
  override name = "InvalidExemptionLengthError";
}

/** The object's key: one per resource, every part encoded (ids and types never make another path). */
export function undoExemptionKey(resource: UndoExemptionResource): string {
  return `${UNDO_EXEMPTION_PREFIX}${resource.accountId}/${resource.region}/${encodeURIComponent(resource.type)}/${encodeURIComponent(resource.id)}.json`;
}

export function sameResource(a: UndoExemptionResource, b: UndoExemptionResource): boolean {
  return a.accountId === b.accountId && a.region === b.region && a.type === b.type && a.id === b.id;
}

/** Strict parse of a stored object (text or parsed JSON); throws InvalidUndoExemptionError saying why. */
export function parseUndoExemptionRecord(value: unknown): UndoExemptionRecord {
  let parsed: unknown;
  try {
    parsed = boundedJson(value, "undo exemption");
  } catch (error) {
    throw new InvalidUndoExemptionError((error as Error).message);
  }
  const result = v.safeParse(UndoExemptionRecordSchema, parsed, { abortEarly: true });
  if (result.success) return result.output;
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  throw new InvalidUndoExemptionError(path ? `${path}: ${issue.message}` : issue.message);
}

/** Whether one entry keeps its target restored at `now`: written no later than now (+ skew), not yet over. */
function entryIsActive(item: UndoExemptionEntry, now: Date): boolean {
  const time = now.getTime();
  const at = Date.parse(item.at);
  const until = Date.parse(item.until);
  return at <= time + UNDO_EXEMPTION_CLOCK_SKEW_MS && time < until;
}

/**
 * The exemption that keeps `problem`'s entry `entryKey` restored at `now`, if the record lists exactly that entry and
 * it has not run out; undefined otherwise. The caller reads the record for the resource it is about to change
 * (undoExemptionReader checks that the object names that resource).
 */
export function activeUndoExemption(
  record: UndoExemptionRecord | undefined,
  problem: string,
  entryKey: string,
  now: Date,
): ActiveUndoExemption | undefined {
  if (!record) return undefined;
  const item = record.entries.find((entry) => entry.problem === problem && entry.key === entryKey);
  if (!item || !entryIsActive(item, now)) return undefined;
  return { ...item, resource: record.resource };
}

/** The record's entries still in force at `now` (status, plan, list). */
export function activeUndoExemptionEntries(record: UndoExemptionRecord, now: Date): ActiveUndoExemption[] {
  return record.entries
    .filter((item) => entryIsActive(item, now))
    .map((item) => ({ ...item, resource: record.resource }));
}

/** Why a target is left alone: "undone by <by> at <at> (<undoActionId>): left as restored until <until>". */
export function describeUndoExemption(
  exemption: Pick<UndoExemptionEntry, "by" | "at" | "undoActionId" | "until">,
): string {
  return `undone by ${exemption.by} at ${exemption.at} (${exemption.undoActionId}): left as restored until ${exemption.until}`;
}

/** What one undo adds: the entries it re-added, with who and until when. */
export interface UndoExemptionAddition {
  resource: UndoExemptionResource;
  entries: readonly { problem: string; entry: MatchedEntry }[];
  undoActionId: string;
  undoes: string;
  by: string;
  at: Date;
  until: Date;
}

/**
 * The object after an undo: what was there and still in force, plus the new entries; an entry listed in both keeps the
 * later `until` (and that undo's provenance). Expired entries are dropped. Validated before it is returned, so the
 * store never writes an object a reader would refuse.
 */
export function mergeUndoExemption(
  existing: UndoExemptionRecord | undefined,
  addition: UndoExemptionAddition,
  now: Date,
): UndoExemptionRecord {
  const provenanceOf = {
    undoActionId: addition.undoActionId,
    undoes: addition.undoes,
    by: addition.by,
    at: addition.at.toISOString(),
    until: addition.until.toISOString(),
  };
  const byKey = new Map<string, UndoExemptionEntry>();
  if (existing && sameResource(existing.resource, addition.resource)) {
    for (const item of existing.entries) {
      if (Date.parse(item.until) > now.getTime()) byKey.set(`${item.problem}\n${item.key}`, item);
    }
  }
  for (const { problem, entry } of addition.entries) {
    const item = { problem, key: matchedEntryKey(entry), entry, ...provenanceOf } as UndoExemptionEntry;
    const id = `${problem}\n${item.key}`;
    const known = byKey.get(id);
    if (!known || Date.parse(known.until) <= Date.parse(item.until)) byKey.set(id, item);
  }
  const resource = {
    accountId: addition.resource.accountId,
    region: addition.resource.region,
    type: addition.resource.type,
    id: addition.resource.id,
  };
  return parseUndoExemptionRecord({
    version: UNDO_EXEMPTION_VERSION,
    resource,
    entries: [...byKey.values()],
    ...provenanceOf,
  });
}

/**
 * An exemption length: `30m`, `24h`, `7d` (whole numbers), or `0` for none. At most MAX_UNDO_EXEMPTION_MS. Returns
 * milliseconds.
 */
export function parseExemptionLength(text: string): number {
  const match = /^(\d{1,6})([mhd])?$/.exec(text.trim());
  if (!match) {
    throw new InvalidExemptionLengthError(
      `exemption length ${JSON.stringify(text)} is not a duration like 30m, 24h or 7d (or 0 for none)`,
    );
  }
  const count = Number(match[1]);
  const unit = match[2];
  if (count === 0) return 0;
  if (unit === undefined) throw new InvalidExemptionLengthError(`exemption length ${text} needs a unit: m, h or d`);
  const length = count * (unit === "m" ? MINUTE_MS : unit === "h" ? HOUR_MS : DAY_MS);
  if (length > MAX_UNDO_EXEMPTION_MS) {
    throw new InvalidExemptionLengthError(
      `exemption length ${text} is longer than ${MAX_UNDO_EXEMPTION_MS / DAY_MS}d: exempt the resource with a tag or the allowlist instead`,
    );
  }
  return length;
}
