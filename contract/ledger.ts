// The ledger: one JSON object per action in the ledger bucket, the durable record of what Remedy changed and the
// exact state before and after, so any fix can be undone. Key: `actions/<YYYY-MM-DD>/<actionId>.json`, where the
// date is the action's own start date (UTC), encoded in the action id: a record is found from its id alone (no
// index object, no listing). A `pending` record is written before a change and overwritten (same key) by the
// final one, so a crash in the middle still leaves the before-state.
// Integrity: every record a remediation writes carries a MAC (`integrity`) from a KMS HMAC key only the remediation
// roles may use to sign (kms:GenerateMac); undo verifies it (kms:VerifyMac) before it trusts anything in the record,
// so whoever can write to the ledger bucket cannot make undo open something Remedy never closed.
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { GenerateMacCommand, type KMSClient } from "@aws-sdk/client-kms";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as v from "valibot";
import { PROBLEMS } from "../detection/types.ts";
import { hasErrorCode, isConditionalWriteConflict } from "../platform/aws-errors.ts";
import { PermanentError } from "../platform/errors.ts";
import { RESOURCES } from "../problems/index.ts";
import { canonicalJson } from "./canonical-json.ts";
import { ACTION_ID_PATTERN } from "./ids.ts";
import { boundedJson } from "./json.ts";
import { ChangeSchema } from "./report.ts";
import { kindVariant } from "./schema-kit.ts";

export const LEDGER_VERSION = 1;
/** Action ids are defined with the other id shapes (contract/ids.ts); re-exported for the ledger's users. */
export { ACTION_ID_PATTERN, isActionId } from "./ids.ts";
export const LEDGER_PREFIX = "actions/";

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp("must be an ISO-8601 timestamp"));
const actionId = v.pipe(
  v.string(),
  v.regex(ACTION_ID_PATTERN, "must be an action id like act-20261120T102819Z-7c1d9e2f"),
);

/**
 * The exact state of what a remediation touches, before or after it: each resource type's own (RESOURCES `state`,
 * from its problems' folder), in the registry's order.
 */
export const ResourceStateSchema = kindVariant(
  "ledger state",
  RESOURCES.map((resource) => resource.state),
);
export type ResourceState = v.InferOutput<typeof ResourceStateSchema>;
export type { S3BucketState } from "../problems/s3-public/contract.ts";
export type { SgRuleState, SgRulesState } from "../problems/sg-open-ingress/contract.ts";

export const LEDGER_OUTCOMES = ["pending", "fixed", "skipped", "failed"] as const;

/** The only MAC algorithm records are signed with (KMS MacAlgorithmSpec, HMAC key spec HMAC_256). */
export const LEDGER_MAC_ALGORITHM = "HMAC_SHA_256";

/** A record's MAC: over integrityMessage(record), by the KMS HMAC key `keyId`. */
const IntegritySchema = v.object({
  keyId: v.pipe(v.string(), v.minLength(1, "must name the MAC key")),
  algorithm: v.literal(LEDGER_MAC_ALGORITHM, (issue) => `unsupported MAC algorithm ${String(issue.input)}`),
  mac: v.pipe(v.string(), v.minLength(1, "must not be empty"), v.base64("must be base64")),
});
export type LedgerIntegrity = v.InferOutput<typeof IntegritySchema>;
export type LedgerOutcome = (typeof LEDGER_OUTCOMES)[number];

export const LedgerRecordSchema = v.object({
  version: v.literal(LEDGER_VERSION, (issue) => `unsupported ledger record version ${String(issue.input)}`),
  actionId,
  instructionId: v.string(),
  problem: v.picklist(PROBLEMS),
  resource: v.object({
    type: v.string(),
    id: v.string(),
    arn: v.optional(v.string()),
    accountId: v.string(),
    region: v.string(),
  }),
  ruleId: v.string(),
  outcome: v.picklist(LEDGER_OUTCOMES),
  /** Why it was skipped or failed. */
  reason: v.optional(v.string()),
  changes: v.array(ChangeSchema),
  /** null when nothing was read (skipped before reading, failed early). */
  before: v.nullable(ResourceStateSchema),
  /** null until the change is confirmed (pending, failed, skipped). */
  after: v.nullable(ResourceStateSchema),
  startedAt: isoTimestamp,
  finishedAt: v.optional(isoTimestamp),
  /** Delivery attempt of the instruction (remediations only). */
  attempt: v.optional(v.number()),
  /** This record is an undo of that action. */
  undoes: v.optional(actionId),
  /** Who asked for it, when a person did (an undo: the operator's AWS identity, from STS). */
  requestedBy: v.optional(v.pipe(v.string(), v.maxLength(2048))),
  /** Reserved: the action that undid this one (undo never rewrites the original record today). */
  undoneBy: v.optional(actionId),
  /** The remediation's MAC over the rest of the record. Absent on undo's own records (written by an operator). */
  integrity: v.optional(IntegritySchema),
});
export type LedgerRecord = v.InferOutput<typeof LedgerRecordSchema>;

export class InvalidLedgerRecordError extends PermanentError {
  override name = "InvalidLedgerRecordError";
}

export class LedgerRecordNotFoundError extends PermanentError {
  override name = "LedgerRecordNotFoundError";
}

/**
 * Validates a record (object or JSON text, through boundedJson); throws InvalidLedgerRecordError naming the first
 * problem, whatever went wrong.
 */
export function parseLedgerRecord(value: unknown): LedgerRecord {
  let result: v.SafeParseResult<typeof LedgerRecordSchema>;
  try {
    result = v.safeParse(LedgerRecordSchema, boundedJson(value, "ledger record"), { abortEarly: true });
  } catch (error) {
    throw new InvalidLedgerRecordError((error as Error).message);
  }
  if (result.success) return result.output;
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  throw new InvalidLedgerRecordError(path ? `${path}: ${issue.message}` : issue.message);
}

// ---------------------------------------------------------------------------------------------------------------
// Integrity

/**
 * What a record's MAC is computed over: the SHA-256 digest of the canonical JSON of the record without its
 * `integrity` field. (KMS GenerateMac/VerifyMac take at most 4,096 bytes; a record holding a bucket policy is
 * larger, so the MAC covers the record through its digest.)
 */
export function integrityMessage(record: LedgerRecord): Uint8Array {
  return createHash("sha256")
    .update(canonicalJson({ ...record, integrity: undefined }), "utf8")
    .digest();
}

/** Produces a record's MAC. Only the remediation roles can (kms:GenerateMac on the ledger MAC key). */
export interface RecordSigner {
  sign(record: LedgerRecord): Promise<LedgerIntegrity>;
}

/**
 * Checks a record's MAC: true only when `integrity.mac` is the MAC of this very record by `integrity.keyId`. The KMS
 * implementation (kms:VerifyMac) is in cli/undo-runner.ts, the only code that verifies, so the remediation functions
 * neither send nor need VerifyMac.
 */
export interface RecordVerifier {
  verify(record: LedgerRecord & { integrity: LedgerIntegrity }): Promise<boolean>;
}

/** Signs with the KMS HMAC key `keyId` (GenerateMac, HMAC_SHA_256). */
export function kmsRecordSigner(kms: KMSClient, keyId: string): RecordSigner {
  return {
    async sign(record) {
      const output = await kms.send(
        new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: LEDGER_MAC_ALGORITHM, Message: integrityMessage(record) }),
      );
      if (!output.Mac || output.Mac.length === 0) throw new Error(`KMS GenerateMac with ${keyId} returned no MAC`);
      return {
        keyId: output.KeyId || keyId,
        algorithm: LEDGER_MAC_ALGORITHM,
        mac: Buffer.from(output.Mac).toString("base64"),
      };
    },
  };
}

/**
 * The same MAC computed locally (HMAC-SHA-256 with `secret` over integrityMessage), for tests and offline runs: a
 * record it signs verifies exactly as a KMS-signed one would with a key holding that secret.
 */
export function localRecordSigner(secret: string | Uint8Array, keyId: string): RecordSigner & RecordVerifier {
  const macOf = (record: LedgerRecord) => createHmac("sha256", secret).update(integrityMessage(record)).digest();
  return {
    async sign(record) {
      return { keyId, algorithm: LEDGER_MAC_ALGORITHM, mac: macOf(record).toString("base64") };
    },
    async verify(record) {
      const { integrity } = record;
      if (integrity.keyId !== keyId || integrity.algorithm !== LEDGER_MAC_ALGORITHM) return false;
      const expected = macOf(record);
      const given = Buffer.from(integrity.mac, "base64");
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

/** The record as stored: validated, and signed (any previous `integrity` replaced) when a signer is given. */
async function recordToStore(record: LedgerRecord, signer: RecordSigner | undefined): Promise<LedgerRecord> {
  const checked = parseLedgerRecord(record);
  if (!signer) return checked;
  const { integrity: _previous, ...unsigned } = checked;
  return { ...unsigned, integrity: await signer.sign(unsigned) };
}

/** A new, time-sortable action id: `act-YYYYMMDDTHHMMSSZ-xxxxxxxx`. */
export function newActionId(now: Date, random: () => string = () => randomBytes(4).toString("hex")): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
  return `act-${stamp}-${random()}`;
}

/** `actions/YYYY-MM-DD/<actionId>.json`; throws InvalidLedgerRecordError for a malformed id. */
export function ledgerKey(id: string): string {
  const match = ACTION_ID_PATTERN.exec(id);
  if (!match) throw new InvalidLedgerRecordError(`"${id}" is not an action id (like act-20261120T102819Z-7c1d9e2f)`);
  return `${LEDGER_PREFIX}${match[1]}-${match[2]}-${match[3]}/${id}.json`;
}

export function ledgerDayPrefix(day: Date): string {
  return `${LEDGER_PREFIX}${day.toISOString().slice(0, 10)}/`;
}

// ---------------------------------------------------------------------------------------------------------------
// Storage

export interface LedgerListing {
  /** Newest first. */
  records: LedgerRecord[];
  /** Objects that could not be read as records: reported, never dropped silently. */
  invalid: { key: string; error: string }[];
}

/** What remediations, undo and the CLI need from the ledger. */
export interface Ledger {
  write(record: LedgerRecord): Promise<void>;
  /** Throws LedgerRecordNotFoundError or InvalidLedgerRecordError. */
  read(actionId: string): Promise<LedgerRecord>;
  listRecent(limit: number): Promise<LedgerListing>;
  /**
   * Claims `key` once: true for the first caller, false for every later one (put-if-absent). A remediation claims
   * its dispatch before changing anything, so a duplicate delivery of the same invoke (Lambda delivers
   * asynchronous events at least once; an SDK retry after a lost answer sends it again) changes nothing.
   */
  claim(key: string): Promise<boolean>;
}

export const CLAIM_PREFIX = "claims/";

export interface S3LedgerConfig {
  bucket: string;
  /** Signs every record written (the remediation functions); absent: records are written as given (undo's own). */
  signer?: RecordSigner;
}

export async function writeLedgerRecord(s3: S3Client, config: S3LedgerConfig, record: LedgerRecord): Promise<void> {
  // Validate on the way in too: a record undo cannot read back is worse than a failed write.
  const checked = await recordToStore(record, config.signer);
  await s3.send(
    new PutObjectCommand({
      Bucket: config.bucket,
      Key: ledgerKey(checked.actionId),
      Body: `${JSON.stringify(checked, null, 2)}\n`,
      ContentType: "application/json",
      // The bucket's own default (infra/ledger.ts), said again so a changed default cannot weaken records.
      ServerSideEncryption: "AES256",
    }),
  );
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<string> {
  const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!output.Body) throw new InvalidLedgerRecordError(`${key} has no body`);
  return output.Body.transformToString("utf-8");
}

export async function readLedgerRecord(s3: S3Client, config: S3LedgerConfig, id: string): Promise<LedgerRecord> {
  const key = ledgerKey(id);
  let text: string;
  try {
    text = await readObject(s3, config.bucket, key);
  } catch (error) {
    if (hasErrorCode(error, "NoSuchKey", "NotFound")) {
      throw new LedgerRecordNotFoundError(`no ledger record for ${id} (s3://${config.bucket}/${key})`);
    }
    throw error;
  }
  const record = parseLedgerRecord(text);
  if (record.actionId !== id) {
    throw new InvalidLedgerRecordError(`${key} holds action ${record.actionId}, not ${id}`);
  }
  return record;
}

export interface ListOptions {
  now?: Date;
  /** How many days back to look (today included). */
  days?: number;
}

/**
 * The newest `limit` records: lists day prefixes backwards from today (ids sort by time within a day), then reads
 * only the records it returns.
 */
export async function listRecentRecords(
  s3: S3Client,
  config: S3LedgerConfig,
  limit: number,
  options: ListOptions = {},
): Promise<LedgerListing> {
  const now = options.now ?? new Date();
  const days = options.days ?? 30;
  const keys: string[] = [];
  for (let back = 0; back < days && keys.length < limit; back++) {
    const day = new Date(now.getTime() - back * 86_400_000);
    const dayKeys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: config.bucket, Prefix: ledgerDayPrefix(day), ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key?.endsWith(".json")) dayKeys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    keys.push(...dayKeys.sort().reverse());
  }
  const listing: LedgerListing = { records: [], invalid: [] };
  for (const key of keys.slice(0, limit)) {
    try {
      listing.records.push(parseLedgerRecord(await readObject(s3, config.bucket, key)));
    } catch (error) {
      if (!(error instanceof InvalidLedgerRecordError)) throw error;
      listing.invalid.push({ key, error: error.message });
    }
  }
  return listing;
}

/** Put-if-absent on S3 (conditional write, If-None-Match: *): 412 or 409 means someone claimed it first. */
export async function claimObject(s3: S3Client, config: S3LedgerConfig, key: string, now: Date): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: config.bucket,
        Key: `${CLAIM_PREFIX}${key}`,
        Body: JSON.stringify({ claimedAt: now.toISOString() }),
        ContentType: "application/json",
        IfNoneMatch: "*",
        ServerSideEncryption: "AES256",
      }),
    );
    return true;
  } catch (error) {
    if (isConditionalWriteConflict(error)) return false;
    throw error;
  }
}

export function s3Ledger(s3: S3Client, config: S3LedgerConfig, now: () => Date = () => new Date()): Ledger {
  return {
    write: (record) => writeLedgerRecord(s3, config, record),
    read: (id) => readLedgerRecord(s3, config, id),
    listRecent: (limit) => listRecentRecords(s3, config, limit, { now: now() }),
    claim: (key) => claimObject(s3, config, key, now()),
  };
}

/**
 * An in-memory ledger (tests, `remedy plan`-style dry runs). Records are stored as JSON, as in S3, and signed on
 * write when a signer is given.
 */
export function memoryLedger(
  signer?: RecordSigner,
): Ledger & { records: Map<string, LedgerRecord>; writes: LedgerRecord[] } {
  const stored = new Map<string, string>();
  const records = new Map<string, LedgerRecord>();
  const writes: LedgerRecord[] = [];
  const claims = new Set<string>();
  return {
    records,
    writes,
    async claim(key) {
      if (claims.has(key)) return false;
      claims.add(key);
      return true;
    },
    async write(record) {
      const checked = await recordToStore(record, signer);
      const text = JSON.stringify(checked);
      stored.set(checked.actionId, text);
      records.set(checked.actionId, JSON.parse(text) as LedgerRecord);
      writes.push(JSON.parse(text) as LedgerRecord);
    },
    async read(id) {
      ledgerKey(id);
      const text = stored.get(id);
      if (text === undefined) throw new LedgerRecordNotFoundError(`no ledger record for ${id}`);
      return parseLedgerRecord(text);
    },
    async listRecent(limit) {
      const ids = [...stored.keys()].sort().reverse().slice(0, limit);
      return { records: ids.map((id) => parseLedgerRecord(stored.get(id)!)), invalid: [] };
    },
  };
}
