// A pending instruction: one the coordinator holds in its grace period after telling Slack about it, written to the
// ledger bucket as `pending/<instructionId>.json` so that a Slack button, which carries only the instruction id, can
// be answered: whose it is (account, region, resource, problem: what the approvers list and an exemption need) and
// which SQS receipt makes its hidden message visible again (Fix now). Written by the coordinator only, overwritten at
// each hide (the receipt changes), deleted when the message is dispatched or removed. A record is a claim like any
// ledger object: the instruction in it is parsed with the instruction contract and checked against the deployment by
// whoever reads it; a stale receipt handle only fails to make the message visible sooner.

import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import * as v from "valibot";
import { hasErrorCode, storeFailure } from "../platform/aws-errors.ts";
import { PermanentError, RetryableError } from "../platform/errors.ts";
import { INSTRUCTION_ID_PATTERN } from "./ids.ts";
import { type Instruction, InvalidInstructionError, parseInstruction } from "./instruction.ts";

export const PENDING_VERSION = 1;
export const PENDING_PREFIX = "pending/";

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp("must be an ISO-8601 timestamp"));

const PendingSchema = v.strictObject({
  version: v.literal(PENDING_VERSION),
  /** The instruction as queued (re-parsed with parseInstruction on read). */
  instruction: v.unknown(),
  /** The SQS message that carries it, and the receipt of the coordinator's latest receive of it. */
  messageId: v.pipe(v.string(), v.minLength(1)),
  receiptHandle: v.pipe(v.string(), v.minLength(1), v.maxLength(8_192)),
  /** When the instruction is due (the later of its notBefore and the account's grace period). */
  dueAt: isoTimestamp,
  /** When the hidden message becomes visible again on its own. */
  hiddenUntil: isoTimestamp,
  /**
   * The first instant a decision about this detection counts (functions/coordinator/gates.ts decisionsFrom): an
   * earlier one is about an earlier detection of the problem (instruction ids repeat) and may be replaced.
   */
  decisionsFrom: isoTimestamp,
  /** When the coordinator wrote this record. */
  at: isoTimestamp,
});

export interface PendingInstruction {
  version: typeof PENDING_VERSION;
  instruction: Instruction;
  messageId: string;
  receiptHandle: string;
  dueAt: string;
  hiddenUntil: string;
  decisionsFrom: string;
  at: string;
}

/** A stored pending record is not valid. */
export class InvalidPendingRecordError extends PermanentError {
  override name = "InvalidPendingRecordError";
}

/** The ledger bucket refused or could not be reached for a pending record. */
export class PendingStoreError extends PermanentError {
  override name = "PendingStoreError";
}
export class PendingStoreUnavailableError extends RetryableError {
  override name = "PendingStoreUnavailableError";
}

/** `pending/<instructionId>.json`; only a valid instruction id makes a key. */
export function pendingKey(instructionId: string): string {
  if (!INSTRUCTION_ID_PATTERN.test(instructionId)) {
    throw new InvalidPendingRecordError(`${JSON.stringify(instructionId)} is not an instruction id`);
  }
  return `${PENDING_PREFIX}${instructionId}.json`;
}

/** Parses a stored record; its instruction through the instruction contract, and it must be the key's. */
export function parsePendingRecord(
  value: unknown,
  instructionId?: string,
  where = "pending record",
): PendingInstruction {
  const parsed = v.safeParse(PendingSchema, value);
  if (!parsed.success) {
    const [issue] = parsed.issues;
    throw new InvalidPendingRecordError(`${where}: ${v.getDotPath(issue) ?? "record"}: ${issue.message}`);
  }
  let instruction: Instruction;
  try {
    instruction = parseInstruction(parsed.output.instruction);
  } catch (error) {
    const reason = error instanceof InvalidInstructionError ? error.message : String(error);
    throw new InvalidPendingRecordError(`${where}: instruction: ${reason}`);
  }
  if (instructionId !== undefined && instruction.id !== instructionId) {
    throw new InvalidPendingRecordError(`${where}: holds instruction ${instruction.id}, not ${instructionId}`);
  }
  return { ...parsed.output, version: PENDING_VERSION, instruction };
}

type S3 = Pick<S3Client, "send">;

const storeError = (context: string, error: unknown) =>
  storeFailure(context, error, { transient: PendingStoreUnavailableError, permanent: PendingStoreError });

/** Writes (overwrites) the record of an instruction held in its grace period. */
export async function writePending(s3: S3, bucket: string, record: PendingInstruction): Promise<string> {
  const key = pendingKey(record.instruction.id);
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(record)}\n`,
        ContentType: "application/json",
        ServerSideEncryption: "AES256",
      }),
    );
  } catch (error) {
    throw storeError(`s3://${bucket}/${key}: writing the pending instruction`, error);
  }
  return key;
}

/** The pending record of an instruction, or undefined when there is none (never held, or no longer pending). */
export async function readPending(
  s3: S3,
  bucket: string,
  instructionId: string,
): Promise<PendingInstruction | undefined> {
  const key = pendingKey(instructionId);
  let text: string;
  try {
    const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = output.Body ? await output.Body.transformToString("utf-8") : "";
  } catch (error) {
    if (hasErrorCode(error, "NoSuchKey", "NotFound")) return undefined;
    throw storeError(`s3://${bucket}/${key}: reading the pending instruction`, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidPendingRecordError(`s3://${bucket}/${key}: not JSON: ${(error as Error).message}`);
  }
  return parsePendingRecord(value, instructionId, `s3://${bucket}/${key}`);
}
