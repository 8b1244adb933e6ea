// The durable record of a decision taken in Slack (Fix now, Snooze, Exempt, Undo), one object per target and action
// in the ledger bucket: `decisions/<instructionId or actionId>/<action>.json`. Written put-if-absent
// (If-None-Match: *), so a double click, Slack's retry of a slow answer, or two approvers at once act once: the
// second writer gets the first record back instead. A record is a claim like any ledger object: whoever acts on it
// re-checks it. Undo targets a remediation's action id; the others an instruction id.
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as v from "valibot";
import { errorCode, hasErrorCode, isConditionalWriteConflict, storeFailure } from "../platform/aws-errors.ts";
import { mapLimit } from "../platform/concurrency.ts";
import { PermanentError, RetryableError } from "../platform/errors.ts";
import { DECISION_ACTIONS, type DecisionAction } from "./decision-actions.ts";
import {
  ACTION_ID_PATTERN,
  DECISION_ID_PATTERN,
  INSTRUCTION_ID_PATTERN,
  ISO_INSTANT,
  SLACK_TEAM_ID,
  SLACK_USER_ID,
} from "./ids.ts";

export const DECISION_PREFIX = "decisions/";

/** A decision record that is not valid (to write, or found stored). */
export class InvalidDecisionError extends PermanentError {
  override name = "InvalidDecisionError";
}

/** The ledger bucket refused the request, and the same request would be refused again. */
export class DecisionStoreError extends PermanentError {
  override name = "DecisionStoreError";
  readonly code: string | undefined;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.code = errorCode(options.cause);
  }
}

/** The ledger bucket could not be reached or raced (throttled, 5xx, a concurrent write): try again. */
export class DecisionStoreUnavailableError extends RetryableError {
  override name = "DecisionStoreUnavailableError";
  readonly code: string | undefined;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.code = errorCode(options.cause);
  }
}

const InstructionTarget = v.strictObject({
  instructionId: v.pipe(v.string(), v.regex(INSTRUCTION_ID_PATTERN, "must be 32 lowercase hex characters")),
});
const ActionTarget = v.strictObject({
  actionId: v.pipe(v.string(), v.regex(ACTION_ID_PATTERN, "must be an action id like act-20261120T102819Z-7c1d9e2f")),
});

const DecisionRecordSchema = v.pipe(
  v.strictObject({
    version: v.literal(1),
    decisionId: v.pipe(v.string(), v.regex(DECISION_ID_PATTERN, "must be 1-128 letters, digits, - or _")),
    action: v.picklist(DECISION_ACTIONS),
    target: v.union([InstructionTarget, ActionTarget], "must be { instructionId } or { actionId }"),
    by: v.strictObject({
      slackUserId: v.pipe(v.string(), v.regex(SLACK_USER_ID, "must be a Slack user id like U012ABCDEF")),
      teamId: v.pipe(v.string(), v.regex(SLACK_TEAM_ID, "must be a Slack team id like T012ABCDEF")),
    }),
    at: v.pipe(
      v.string(),
      v.regex(ISO_INSTANT, "must be an ISO 8601 UTC instant"),
      v.check((at) => !Number.isNaN(Date.parse(at)), "must be a real instant"),
    ),
    details: v.optional(v.record(v.string(), v.unknown())),
  }),
  v.check(
    (record) => (record.action === "undo") === "actionId" in record.target,
    "undo targets an action id ({ actionId }); fix-now, snooze and exempt an instruction id ({ instructionId })",
  ),
);

export type DecisionRecord = v.InferOutput<typeof DecisionRecordSchema>;
export type DecisionTarget = DecisionRecord["target"];

export type RecordOutcome =
  /** `superseded`: the decision about an earlier detection it replaced. */
  | { recorded: true; key: string; superseded?: DecisionRecord }
  | { recorded: false; key: string; existing: DecisionRecord };

export function parseDecisionRecord(value: unknown, where = "decision record"): DecisionRecord {
  const parsed = v.safeParse(DecisionRecordSchema, value);
  if (parsed.success) return parsed.output;
  const [issue] = parsed.issues;
  throw new InvalidDecisionError(`${where}: ${v.getDotPath(issue) ?? "record"}: ${issue.message}`);
}

/** `decisions/<instructionId or actionId>/<action>.json`; only validated ids reach a key. */
export function decisionKey(target: DecisionTarget, action: DecisionAction): string {
  const id = "instructionId" in target ? target.instructionId : target.actionId;
  const valid = "instructionId" in target ? INSTRUCTION_ID_PATTERN.test(id) : ACTION_ID_PATTERN.test(id);
  if (!valid || !(DECISION_ACTIONS as readonly string[]).includes(action)) {
    throw new InvalidDecisionError(`no decision key for ${JSON.stringify(target)} and ${JSON.stringify(action)}`);
  }
  return `${DECISION_PREFIX}${id}/${action}.json`;
}

type S3 = Pick<S3Client, "send">;

/**
 * Writes the record if there is none for its target and action yet; otherwise returns the one there (the decision
 * already taken, which wins). Other failures throw DecisionStoreUnavailableError (retry) or DecisionStoreError.
 */
export async function recordDecision(
  s3: S3,
  bucket: string,
  record: DecisionRecord,
  options: { supersedeBefore?: string } = {},
): Promise<RecordOutcome> {
  const valid = parseDecisionRecord(record);
  const key = decisionKey(valid.target, valid.action);
  const put = async (condition: { IfNoneMatch: "*" } | { IfMatch: string }) => {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: `${JSON.stringify(valid, null, 2)}\n`,
          ContentType: "application/json",
          ServerSideEncryption: "AES256",
          ...condition,
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalWriteConflict(error))
        throw decisionStoreError(`s3://${bucket}/${key}: writing the decision`, error);
      return false;
    }
  };
  if (await put({ IfNoneMatch: "*" })) return { recorded: true, key };
  const found = await readDecision(s3, bucket, key);
  // A decision about an earlier detection of the problem (an instruction's id repeats when it comes back) is
  // replaced, only if it is still the one read: two presses at once still act once.
  const before = options.supersedeBefore === undefined ? Number.NaN : Date.parse(options.supersedeBefore);
  if (found.etag !== undefined && Date.parse(found.record.at) < before) {
    if (await put({ IfMatch: found.etag })) return { recorded: true, key, superseded: found.record };
    return { recorded: false, key, existing: (await readDecision(s3, bucket, key)).record };
  }
  return { recorded: false, key, existing: found.record };
}

async function readDecision(
  s3: S3,
  bucket: string,
  key: string,
): Promise<{ record: DecisionRecord; etag: string | undefined }> {
  const found = await lookUpDecision(s3, bucket, key, "reading the decision already taken");
  // A 409's winner may not have finished writing: the next attempt will find it.
  if (found.state === "absent") {
    throw new DecisionStoreUnavailableError(`s3://${bucket}/${key}: another write holds it but it is not there yet`);
  }
  if (found.state === "invalid") throw new InvalidDecisionError(found.reason);
  return { record: found.record, etag: found.etag };
}

/** What is stored at a decision's key: nothing, a valid record (with its ETag), or why it is not one. */
export type StoredDecision =
  | { state: "absent" }
  | { state: "valid"; record: DecisionRecord; etag: string | undefined }
  | { state: "invalid"; reason: string; etag: string | undefined };

/**
 * Reads the object at a decision key, the one read every reader of a single decision makes (recording, listing,
 * withdrawing, the worker). Store failures throw DecisionStoreUnavailableError (retry) or DecisionStoreError, their
 * message saying what was being done (`doing`).
 */
export async function lookUpDecision(
  s3: S3,
  bucket: string,
  key: string,
  doing: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<StoredDecision> {
  let text: string;
  let etag: string | undefined;
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), options);
    etag = output.ETag;
    text = output.Body ? await output.Body.transformToString("utf-8") : "";
  } catch (error) {
    if (hasErrorCode(error, "NoSuchKey", "NotFound")) return { state: "absent" };
    throw decisionStoreError(`s3://${bucket}/${key}: ${doing}`, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { state: "invalid", reason: `s3://${bucket}/${key}: not JSON: ${(error as Error).message}`, etag };
  }
  try {
    return { state: "valid", record: parseDecisionRecord(value, `s3://${bucket}/${key}`), etag };
  } catch (error) {
    if (!(error instanceof InvalidDecisionError)) throw error;
    return { state: "invalid", reason: error.message, etag };
  }
}

/** An instruction's decisions as stored: the valid ones, and the objects under its prefix that are not. */
export interface DecisionReading {
  records: DecisionRecord[];
  /** Objects that are not a valid record of this instruction under its own key: claims that lie, never decisions. */
  invalid: { key: string; reason: string }[];
}

/** Objects read at once: an instruction has at most one record per action. */
const READ_CONCURRENCY = 4;

/**
 * Every decision taken on an instruction (what the coordinator honours): the records under
 * `decisions/<instructionId>/`, each kept only if it parses, targets this instruction and lies under the key its
 * target and action make. A key that no decision can have is not read. Store failures throw
 * DecisionStoreUnavailableError (retry) or DecisionStoreError, as the write does.
 */
export async function readDecisions(
  s3: S3,
  bucket: string,
  target: { instructionId: string },
  options: { abortSignal?: AbortSignal } = {},
): Promise<DecisionReading> {
  if (!INSTRUCTION_ID_PATTERN.test(target.instructionId)) {
    throw new InvalidDecisionError(`${JSON.stringify(target.instructionId)} is not an instruction id`);
  }
  const prefix = `${DECISION_PREFIX}${target.instructionId}/`;
  const sendOptions = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  // One page, bounded: an instruction has at most one record per action; whatever else is there is not a decision.
  let output: Awaited<ReturnType<typeof listPage>>;
  try {
    output = await listPage(s3, bucket, prefix, undefined, sendOptions, MAX_LISTED_PER_INSTRUCTION);
  } catch (error) {
    throw decisionStoreError(`s3://${bucket}/${prefix}: listing the decisions`, error);
  }
  const keys = (output.Contents ?? []).flatMap((object) => (object.Key?.endsWith(".json") ? [object.Key] : []));

  const possible = new Set(DECISION_ACTIONS.map((action) => decisionKey(target, action)));
  const reading: DecisionReading = { records: [], invalid: [] };
  if (output.IsTruncated) {
    reading.invalid.push({
      key: prefix,
      reason: `more than ${MAX_LISTED_PER_INSTRUCTION} objects: only the first ${MAX_LISTED_PER_INSTRUCTION} were looked at`,
    });
  }
  const toRead: string[] = [];
  for (const key of keys) {
    if (possible.has(key)) toRead.push(key);
    else reading.invalid.push({ key, reason: "not a decision key" });
  }
  const found = new Map<string, DecisionRecord | { reason: string } | undefined>();
  let next = 0;
  const worker = async () => {
    while (next < toRead.length) {
      const key = toRead[next++]!;
      found.set(key, await readListed(s3, bucket, key, sendOptions));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, toRead.length) }, worker));
  // In listing order, whatever order the reads ended in.
  for (const key of toRead) {
    const record = found.get(key);
    if (record === undefined) continue;
    if ("reason" in record) reading.invalid.push({ key, reason: record.reason });
    else if (!("instructionId" in record.target) || record.target.instructionId !== target.instructionId) {
      reading.invalid.push({ key, reason: "its target is another instruction or an action" });
    } else if (decisionKey(record.target, record.action) !== key) {
      reading.invalid.push({ key, reason: `a ${record.action} record under another action's key` });
    } else reading.records.push(record);
  }
  return reading;
}

/** Objects listed under one instruction's prefix at most (its decisions are at most one per action). */
const MAX_LISTED_PER_INSTRUCTION = 20;

function listPage(
  s3: S3,
  bucket: string,
  prefix: string,
  token: string | undefined,
  options: { abortSignal?: AbortSignal },
  maxKeys?: number,
) {
  return s3.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: prefix,
      ...(token ? { ContinuationToken: token } : {}),
      ...(maxKeys ? { MaxKeys: maxKeys } : {}),
    }),
    options,
  );
}

/** One listed record, or why it is not one; undefined when it was deleted since the listing. */
async function readListed(
  s3: S3,
  bucket: string,
  key: string,
  options: { abortSignal?: AbortSignal },
): Promise<DecisionRecord | { reason: string } | undefined> {
  const found = await lookUpDecision(s3, bucket, key, "reading the decision", options);
  if (found.state === "absent") return undefined;
  return found.state === "valid" ? found.record : { reason: found.reason };
}

/** A store failure as this module's errors: transient ones to retry, the rest permanent. */
export function decisionStoreError(context: string, error: unknown): Error {
  return storeFailure(context, error, { transient: DecisionStoreUnavailableError, permanent: DecisionStoreError });
}

/** The newest decisions of the whole bucket (`remedy status`), newest first, and the objects that are not one. */
export async function listRecentDecisions(s3: S3, bucket: string, limit: number): Promise<DecisionReading> {
  const listed: { key: string; at: number }[] = [];
  let token: string | undefined;
  do {
    let output: Awaited<ReturnType<typeof listPage>>;
    try {
      output = await listPage(s3, bucket, DECISION_PREFIX, token, {});
    } catch (error) {
      throw decisionStoreError(`s3://${bucket}/${DECISION_PREFIX}: listing the decisions`, error);
    }
    for (const object of output.Contents ?? []) {
      if (object.Key?.endsWith(".json")) listed.push({ key: object.Key, at: object.LastModified?.getTime() ?? 0 });
    }
    token = output.IsTruncated ? output.NextContinuationToken : undefined;
  } while (token);
  const newest = listed.sort((a, b) => b.at - a.at || a.key.localeCompare(b.key)).slice(0, Math.max(0, limit));
  const reading: DecisionReading = { records: [], invalid: [] };
  const read = await mapLimit(newest, READ_CONCURRENCY, ({ key }) => readListed(s3, bucket, key, {}));
  newest.forEach(({ key }, index) => {
    const record = read[index];
    if (record === undefined) return;
    if ("reason" in record) reading.invalid.push({ key, reason: record.reason });
    else if (decisionKey(record.target, record.action) !== key) {
      reading.invalid.push({ key, reason: "a record under another target's or action's key" });
    } else reading.records.push(record);
  });
  reading.records.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return reading;
}
