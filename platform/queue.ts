// Sending to SQS in batches that respect both of its limits: 10 entries and 256 KiB per call.
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from "@aws-sdk/client-sqs";
import { SQS_MAX_MESSAGE_BYTES } from "../contract/instruction.ts";
import { RetryableError } from "./errors.ts";

export const SQS_MAX_BATCH_ENTRIES = 10;

export interface OutgoingMessage {
  /** Caller's id for the message (e.g. the instruction id); reported back when it could not be sent. */
  id: string;
  body: string;
  delaySeconds?: number;
  attributes?: SendMessageBatchRequestEntry["MessageAttributes"];
}

/** Some messages could not be sent after retries. Transient from the caller's point of view: retry the call. */
export class MessageSendError extends RetryableError {
  override name = "MessageSendError";
  constructor(
    readonly failedIds: readonly string[],
    readonly reasons: readonly string[],
  ) {
    super(`could not send ${failedIds.length} message(s) to SQS: ${failedIds.join(", ")} (${reasons.join("; ")})`);
  }
}

const NONE: readonly OutgoingMessage[] = Object.freeze([]);

/** Every message of a batch's worth goes in one batch when even an upper bound of its bytes fits (UTF-8: ≤ 3 a unit). */
function packBatches(messages: readonly OutgoingMessage[]): (readonly OutgoingMessage[])[] {
  if (messages.length <= SQS_MAX_BATCH_ENTRIES) {
    let bound = 0;
    for (let index = 0; index < messages.length; index++) bound += messages[index]!.body.length * 3 + 1_024;
    // Then packing by exact sizes below would not start a second batch either.
    if (bound <= SQS_MAX_MESSAGE_BYTES) return messages.length > 0 ? [messages] : [];
  }
  const batches: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = Buffer.byteLength(message.body, "utf8") + 1_024;
    if (current.length === SQS_MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > SQS_MAX_MESSAGE_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** One batch's entries: Id is the message's place in the batch; DelaySeconds and MessageAttributes only when set. */
function batchEntries(batch: readonly OutgoingMessage[]): SendMessageBatchRequestEntry[] {
  const entries: SendMessageBatchRequestEntry[] = [];
  for (let index = 0; index < batch.length; index++) {
    const message = batch[index]!;
    const entry: SendMessageBatchRequestEntry = { Id: String(index), MessageBody: message.body };
    if (message.delaySeconds) entry.DelaySeconds = message.delaySeconds;
    if (message.attributes) entry.MessageAttributes = message.attributes;
    entries.push(entry);
  }
  return entries;
}

/**
 * Sends every message; entries that fail inside a successful batch call are retried (`retries` more times).
 * Anything still unsent raises MessageSendError naming each message id, so nothing is dropped silently.
 */
export async function sendMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
  retries = 2,
): Promise<{ sent: number; calls: number }> {
  // Read, never changed: the first attempt sends the caller's own list, later ones what failed.
  let pending: readonly OutgoingMessage[] = messages;
  let calls = 0;
  let reasons: Map<string, string> | undefined;
  for (let attempt = 0; attempt <= retries && pending.length > 0; attempt++) {
    // Made at the first failure (most sends have none).
    let failed: OutgoingMessage[] | undefined;
    for (const batch of packBatches(pending)) {
      calls++;
      const output = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batchEntries(batch) }));
      const failures = output.Failed;
      if (failures === undefined || failures === null) continue;
      for (const failure of failures) {
        const message = batch[Number(failure.Id)];
        if (!message) continue;
        failed ??= [];
        failed.push(message);
        reasons ??= new Map();
        reasons.set(message.id, `${failure.Code ?? "unknown"}: ${failure.Message ?? ""}`.trim());
      }
    }
    pending = failed ?? NONE;
  }
  if (pending.length > 0) {
    throw new MessageSendError(
      pending.map((message) => message.id),
      pending.map((message) => `${message.id} ${reasons?.get(message.id) ?? ""}`),
    );
  }
  return { sent: messages.length, calls };
}
