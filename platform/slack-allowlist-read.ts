// Reading the Slack part of the allowlist: exemptions granted with Slack's Exempt… button (issue 18), one object
// `allowlist/slack.json` in the ledger bucket. Each entry is today's allowlist entry (resource, problems, reason,
// owner, expires), validated by parseAllowlist exactly as a REMEDY_ALLOWLIST entry is, plus where it came from
// (decisionId, at); its owner is the Slack user ("slack:U012ABCDEF"). Whatever judges or fixes with the deployed
// allowlist appends these entries after the deployed ones. Only GetObject, so the functions that read it carry no
// write (slack-allowlist.ts adds and removes). The object is a claim like every ledger object: a malformed entry
// exempts nothing, a malformed object nothing at all, so a bad write can never widen what Remedy ignores.

import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { DECISION_ID_PATTERN, ISO_INSTANT, SLACK_USER_ID } from "../contract/ids.ts";
import { type AllowlistEntry, type ExemptionProblem, parseAllowlist } from "../detection/exemptions.ts";
import type { Problem } from "../detection/types.ts";
import { hasErrorCode } from "./aws-errors.ts";
import { errorFields, type Log } from "./logging.ts";

export type S3 = Pick<S3Client, "send">;

export const SLACK_ALLOWLIST_KEY = "allowlist/slack.json";
export const SLACK_ALLOWLIST_VERSION = 1;
/** Far more than a team grants by hand; it bounds the object every fix reads. */
export const MAX_SLACK_ALLOWLIST_ENTRIES = 1_000;
/** Larger than any valid object (MAX_SLACK_ALLOWLIST_ENTRIES entries of well under a kilobyte each). */
const MAX_OBJECT_BYTES = 2_000_000;

/** `slack:` and the Slack user who granted it. */
const SLACK_OWNER = new RegExp(`^slack:${SLACK_USER_ID.source.slice(1)}`);
const DECISION_ID = DECISION_ID_PATTERN;

/** One stored entry: today's allowlist entry fields, then its provenance. */
export interface SlackAllowlistEntry {
  resource: string;
  problems: (Problem | "*")[];
  reason: string;
  /** "slack:<user id>": who granted it. */
  owner: string;
  /** YYYY-MM-DD, exempt through the end of that day in UTC. */
  expires: string;
  /** The Slack decision that granted it (decisions/…): the same decision written twice is one entry. */
  decisionId: string;
  /** When it was granted (ISO 8601 UTC). */
  at: string;
}

export interface SlackAllowlistReading {
  /** The valid entries, compiled as parseAllowlist compiles REMEDY_ALLOWLIST's (expired ones too: they note why). */
  entries: AllowlistEntry[];
  /** Why some (or all) of the object exempts nothing. */
  problems: ExemptionProblem[];
  /** The valid entries as stored (aligned with `entries`), for listing with their provenance. */
  records: SlackAllowlistEntry[];
}

// ---------------------------------------------------------------------------------------------------------------
// Validation: parseAllowlist for the allowlist fields, then the provenance

export type CheckedSlackEntry =
  | { ok: true; stored: SlackAllowlistEntry; entry: AllowlistEntry }
  | { ok: false; problem: ExemptionProblem };

/** One entry checked: parseAllowlist's validation of today's fields, then the owner and the provenance. */
export function checkSlackAllowlistEntry(raw: unknown, index: number, where: string): CheckedSlackEntry {
  const fail = (field: string, message: string): CheckedSlackEntry => ({
    ok: false,
    problem: { where: field ? `${where}.${field}` : where, message },
  });
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return fail("", "expected an object");
  const value = raw as Record<string, unknown>;
  // Only today's fields go to parseAllowlist; the entry keeps its own position (its notes name it).
  const { resource, problems, reason, owner, expires } = value;
  const parsed = parseAllowlist([{ resource, problems, reason, owner, expires }]);
  const problem = parsed.errors[0];
  if (problem) return fail(problem.where.replace(/^allowlist\[\d+\]\.?/, ""), problem.message);
  const base = parsed.entries[0]!;
  const entry: AllowlistEntry = { ...base, index };
  if (!SLACK_OWNER.test(entry.owner)) return fail("owner", `must be "slack:<Slack user id>", got ${show(entry.owner)}`);
  const { decisionId, at } = value;
  if (typeof decisionId !== "string" || !DECISION_ID.test(decisionId)) {
    return fail("decisionId", "must be 1-128 letters, digits, - or _");
  }
  if (typeof at !== "string" || !ISO_INSTANT.test(at) || Number.isNaN(Date.parse(at))) {
    return fail("at", "must be an ISO 8601 UTC instant");
  }
  const stored: SlackAllowlistEntry = {
    resource: entry.resource,
    problems: [...entry.problems],
    reason: entry.reason,
    owner: entry.owner,
    expires: entry.expires,
    decisionId,
    at,
  };
  return { ok: true, stored, entry };
}

function show(value: unknown): string {
  return typeof value === "string"
    ? JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
    : typeof value;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** What the object holds, with the ETag it was read at (for a conditional write over it). */
export type StoredSlackAllowlist =
  | { state: "absent" }
  | { state: "read"; etag: string | undefined; stored: SlackAllowlistEntry[]; reading: SlackAllowlistReading };

export async function readStoredSlackAllowlist(s3: S3, bucket: string): Promise<StoredSlackAllowlist> {
  let text: string;
  let etag: string | undefined;
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: SLACK_ALLOWLIST_KEY }));
    etag = output.ETag;
    if ((output.ContentLength ?? 0) > MAX_OBJECT_BYTES) {
      // Not read: its connection is let go rather than left open until the body is collected.
      (output.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return invalid(etag, `larger than ${MAX_OBJECT_BYTES} bytes`);
    }
    text = output.Body ? await output.Body.transformToString("utf-8") : "";
  } catch (error) {
    if (hasErrorCode(error, "NoSuchKey", "NotFound")) return { state: "absent" };
    throw error;
  }
  if (text.length > MAX_OBJECT_BYTES) return invalid(etag, `larger than ${MAX_OBJECT_BYTES} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return invalid(etag, `invalid JSON: ${(error as Error).message}`);
  }
  const document = value as { version?: unknown; entries?: unknown } | null;
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    return invalid(etag, "expected an object { version, entries }");
  }
  if (document.version !== SLACK_ALLOWLIST_VERSION) {
    return invalid(etag, `version must be ${SLACK_ALLOWLIST_VERSION}, got ${show(document.version)}`);
  }
  if (!Array.isArray(document.entries)) return invalid(etag, "entries must be a list");
  if (document.entries.length > MAX_SLACK_ALLOWLIST_ENTRIES) {
    // No writer writes more: a longer list is not Remedy's, so none of it counts.
    return invalid(etag, `more than ${MAX_SLACK_ALLOWLIST_ENTRIES} entries`);
  }
  const reading: SlackAllowlistReading = { entries: [], problems: [], records: [] };
  const seen = new Set<string>();
  document.entries.forEach((raw, index) => {
    const checked = checkSlackAllowlistEntry(raw, index, `${SLACK_ALLOWLIST_KEY} entries[${index}]`);
    if (!checked.ok) {
      reading.problems.push(checked.problem);
      return;
    }
    if (seen.has(checked.stored.decisionId)) {
      // Writers keep one entry per decision: a second is not theirs.
      reading.problems.push({
        where: `${SLACK_ALLOWLIST_KEY} entries[${index}].decisionId`,
        message: `decision ${checked.stored.decisionId} is listed twice: the later entry exempts nothing`,
      });
      return;
    }
    seen.add(checked.stored.decisionId);
    reading.entries.push(checked.entry);
    reading.records.push(checked.stored);
  });
  return { state: "read", etag, stored: reading.records, reading };
}

function invalid(etag: string | undefined, message: string): StoredSlackAllowlist {
  return {
    state: "read",
    etag,
    stored: [],
    reading: { entries: [], problems: [{ where: SLACK_ALLOWLIST_KEY, message }], records: [] },
  };
}

/**
 * The Slack allowlist as it is now: no object is no entries; a malformed object or entry exempts nothing (`problems`
 * say why). Any other S3 error is thrown: the caller decides (the remediation retries, detection judges without).
 */
export async function readSlackAllowlist(s3: S3, bucket: string): Promise<SlackAllowlistReading> {
  const stored = await readStoredSlackAllowlist(s3, bucket);
  return stored.state === "absent" ? { entries: [], problems: [], records: [] } : stored.reading;
}

// ---------------------------------------------------------------------------------------------------------------
// Readers for the functions

/**
 * The deployed allowlist with the Slack entries after it, cached for `ttlMs` (detection: the Config rule and the
 * real-time function). Unreadable: the deployed entries alone, with a warning (the remediation reads it again before
 * it changes anything); malformed parts: a warning each, once per read.
 */
export function cachedAllowlist(options: {
  s3: S3;
  bucket: string;
  deployed: readonly AllowlistEntry[];
  log: Log;
  ttlMs?: number;
  now?: () => number;
}): () => Promise<readonly AllowlistEntry[]> {
  const ttlMs = options.ttlMs ?? 60_000;
  const clock = options.now ?? Date.now;
  let cached: { at: number; entries: readonly AllowlistEntry[] } | undefined;
  return async () => {
    const at = clock();
    if (cached && at - cached.at < ttlMs) return cached.entries;
    try {
      const reading = await readSlackAllowlist(options.s3, options.bucket);
      for (const problem of reading.problems) {
        options.log.warn("Slack allowlist entry ignored: it exempts nothing", { ...problem });
      }
      cached = { at, entries: [...options.deployed, ...reading.entries] };
    } catch (error) {
      options.log.warn("Slack allowlist unreadable: judging with the deployed allowlist only", errorFields(error));
      // Cached too, so an S3 outage costs one failed read per TTL, not one per event.
      cached = { at, entries: options.deployed };
    }
    return cached.entries;
  };
}
