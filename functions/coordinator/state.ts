// The coordinator's memory between ticks, one JSON document: recent dispatch times (rate limit), what it knows about
// each instruction id (real attempts, grace notice sent) and recent fresh sightings (circuit breaker; in organisation
// mode each names its account, for the account's own breaker).
// Stored in S3 with conditional writes, so two overlapping coordinators never overwrite each other silently.
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as v from "valibot";
import { isConditionalWriteConflict } from "../../platform/aws-errors.ts";
import { PermanentError, RetryableError } from "../../platform/errors.ts";

export const STATE_VERSION = 1;
/** SQS's longest message retention: an id unseen for this long cannot come back from the queue. */
export const INSTRUCTION_RETENTION_MS = 14 * 24 * 60 * 60 * 1000;

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp());

const InstructionRecordSchema = v.object({
  firstSeenAt: isoTimestamp,
  lastSeenAt: isoTimestamp,
  /** Real dispatches (Lambda invokes that were accepted) since the last dead-lettering or newer capture. */
  attempts: v.pipe(v.number(), v.integer(), v.minValue(0)),
  graceNotified: v.boolean(),
  /** The last dispatch: a copy of the id arriving while that one is in flight is a duplicate. */
  lastDispatch: v.optional(v.object({ at: isoTimestamp, messageId: v.string(), capturedAt: isoTimestamp })),
});
export type InstructionRecord = v.InferOutput<typeof InstructionRecordSchema>;

const FreshSightingSchema = v.object({
  id: v.string(),
  at: isoTimestamp,
  /** "problem resource-id", for the breaker's report. */
  label: v.string(),
  /** Organisation mode: the member account the instruction names, for that account's breaker. */
  accountId: v.optional(v.string()),
});
export type FreshSighting = v.InferOutput<typeof FreshSightingSchema>;

export const CoordinatorStateSchema = v.object({
  version: v.literal(STATE_VERSION),
  /** When each recent dispatch happened (ISO), for the rate limit. */
  dispatches: v.array(isoTimestamp),
  instructions: v.record(v.string(), InstructionRecordSchema),
  /** First sightings of fresh instructions (never seen, recently captured), for the breaker. */
  freshSightings: v.array(FreshSightingSchema),
});
export type CoordinatorState = v.InferOutput<typeof CoordinatorStateSchema>;

export function emptyState(): CoordinatorState {
  return { version: STATE_VERSION, dispatches: [], instructions: {}, freshSightings: [] };
}

/** The stored document does not parse. */
export class InvalidCoordinatorStateError extends PermanentError {
  override name = "InvalidCoordinatorStateError";
}

/** Someone else wrote the state since it was loaded (S3 412 PreconditionFailed / 409). */
export class CoordinatorStateConflictError extends RetryableError {
  override name = "CoordinatorStateConflictError";
}

export function parseCoordinatorState(text: string): CoordinatorState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidCoordinatorStateError(`coordinator state is not JSON: ${(error as Error).message}`);
  }
  const result = v.safeParse(CoordinatorStateSchema, value, { abortEarly: true });
  if (result.success) return result.output;
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  throw new InvalidCoordinatorStateError(`coordinator state ${path ? `${path}: ` : ""}${issue.message}`);
}

/** Drops what no longer matters: dispatches and sightings older than their windows, ids unseen for 14 days. */
export function pruneState(
  state: CoordinatorState,
  now: Date,
  windows: { rateLimitMs: number; breakerMs: number; retentionMs?: number },
): CoordinatorState {
  const nowMs = now.getTime();
  const retentionMs = windows.retentionMs ?? INSTRUCTION_RETENTION_MS;
  const instructions: Record<string, InstructionRecord> = {};
  for (const [id, record] of Object.entries(state.instructions)) {
    if (nowMs - Date.parse(record.lastSeenAt) <= retentionMs) instructions[id] = record;
  }
  return {
    version: STATE_VERSION,
    dispatches: state.dispatches.filter((at) => nowMs - Date.parse(at) < windows.rateLimitMs),
    instructions,
    freshSightings: state.freshSightings.filter((sighting) => nowMs - Date.parse(sighting.at) < windows.breakerMs),
  };
}

const earlier = (a: string, b: string) => (Date.parse(a) <= Date.parse(b) ? a : b);
const later = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

function tally(list: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const at of list) counts.set(at, (counts.get(at) ?? 0) + 1);
  return counts;
}

/**
 * Three-way merge for overlapping coordinators: `base` is what this one loaded, `ours` what it would have
 * written, `theirs` what the other one wrote meanwhile. Each message was handled by only one of them
 * (visibility), so applying our changes on top of theirs loses nothing: our new dispatch times are added, our
 * attempt increments are added to theirs (a reset by dead-lettering wins), notices and sightings are unions.
 */
export function mergeStates(
  base: CoordinatorState,
  ours: CoordinatorState,
  theirs: CoordinatorState,
): CoordinatorState {
  const baseTimes = tally(base.dispatches);
  const ourTimes = tally(ours.dispatches);
  const merged = tally(theirs.dispatches);
  for (const [at, count] of ourTimes) {
    merged.set(at, Math.max(0, (merged.get(at) ?? 0) + count - (baseTimes.get(at) ?? 0)));
  }
  const dispatches = [...merged].flatMap(([at, count]) => Array<string>(count).fill(at)).sort();

  const instructions: Record<string, InstructionRecord> = { ...theirs.instructions };
  for (const [id, mine] of Object.entries(ours.instructions)) {
    const other = instructions[id];
    if (!other) {
      instructions[id] = mine;
      continue;
    }
    const delta = mine.attempts - (base.instructions[id]?.attempts ?? 0);
    const lastDispatch =
      mine.lastDispatch && other.lastDispatch
        ? Date.parse(mine.lastDispatch.at) >= Date.parse(other.lastDispatch.at)
          ? mine.lastDispatch
          : other.lastDispatch
        : (mine.lastDispatch ?? other.lastDispatch);
    instructions[id] = {
      firstSeenAt: earlier(mine.firstSeenAt, other.firstSeenAt),
      lastSeenAt: later(mine.lastSeenAt, other.lastSeenAt),
      attempts: delta >= 0 ? other.attempts + delta : mine.attempts,
      graceNotified: mine.graceNotified || other.graceNotified,
      ...(lastDispatch ? { lastDispatch } : {}),
    };
  }

  const sightings = new Map<string, FreshSighting>();
  for (const sighting of [...theirs.freshSightings, ...ours.freshSightings]) {
    const known = sightings.get(sighting.id);
    if (!known || Date.parse(sighting.at) < Date.parse(known.at)) sightings.set(sighting.id, sighting);
  }
  const freshSightings = [...sightings.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { version: STATE_VERSION, dispatches, instructions, freshSightings };
}

export interface LoadedState {
  state: CoordinatorState;
  /** Version token of what was read (S3 ETag); absent when nothing was stored yet. */
  etag?: string;
  /** Set when a stored document existed but did not parse: `state` is then empty (the caller logs this). */
  problem?: string;
}

export interface CoordinatorStateStore {
  load(): Promise<LoadedState>;
  /**
   * Writes `state` only if the stored version is still `etag` (or, without one, if nothing is stored yet).
   * Throws CoordinatorStateConflictError otherwise. Returns the new version token.
   */
  save(state: CoordinatorState, etag: string | undefined): Promise<{ etag?: string }>;
}

/**
 * The state as one S3 object. Needs s3:GetObject and s3:PutObject on the key, and s3:ListBucket on the bucket so a
 * missing object reads as NoSuchKey (404) rather than AccessDenied (403).
 */
export function s3StateStore(s3: S3Client, location: { bucket: string; key: string }): CoordinatorStateStore {
  return {
    async load() {
      let text: string;
      let etag: string | undefined;
      try {
        const output = await s3.send(new GetObjectCommand({ Bucket: location.bucket, Key: location.key }));
        text = (await output.Body?.transformToString("utf-8")) ?? "";
        etag = output.ETag;
      } catch (error) {
        if ((error as Error).name === "NoSuchKey") return { state: emptyState() };
        throw error;
      }
      try {
        return { state: parseCoordinatorState(text), ...(etag ? { etag } : {}) };
      } catch (error) {
        // Overwritten (with IfMatch) at the end of the tick; attempts and grace notices start over.
        return { state: emptyState(), ...(etag ? { etag } : {}), problem: (error as Error).message };
      }
    },
    async save(state, etag) {
      try {
        const output = await s3.send(
          new PutObjectCommand({
            Bucket: location.bucket,
            Key: location.key,
            Body: JSON.stringify(state),
            ContentType: "application/json",
            ...(etag ? { IfMatch: etag } : { IfNoneMatch: "*" }),
          }),
        );
        return output.ETag ? { etag: output.ETag } : {};
      } catch (error) {
        if (isConditionalWriteConflict(error)) {
          throw new CoordinatorStateConflictError(
            `s3://${location.bucket}/${location.key} changed since it was read (${(error as Error).name})`,
          );
        }
        throw error;
      }
    },
  };
}

/** In-memory store with the same conditional-write rules, for tests. */
export function memoryStateStore(initial?: CoordinatorState): CoordinatorStateStore & {
  current(): CoordinatorState | undefined;
  saves: number;
  conflicts: number;
} {
  let stored: string | undefined = initial ? JSON.stringify(initial) : undefined;
  let version = initial ? 1 : 0;
  const store = {
    saves: 0,
    conflicts: 0,
    current: () => (stored === undefined ? undefined : parseCoordinatorState(stored)),
    async load(): Promise<LoadedState> {
      if (stored === undefined) return { state: emptyState() };
      return { state: parseCoordinatorState(stored), etag: `"v${version}"` };
    },
    async save(state: CoordinatorState, etag: string | undefined) {
      const expected = stored === undefined ? undefined : `"v${version}"`;
      if (etag !== expected) {
        store.conflicts++;
        throw new CoordinatorStateConflictError(`state changed since it was read (have ${etag}, stored ${expected})`);
      }
      stored = JSON.stringify(state);
      version++;
      store.saves++;
      return { etag: `"v${version}"` };
    },
  };
  return store;
}
