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

function packBatches(messages: readonly OutgoingMessage[]): OutgoingMessage[][] {
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
  let pending = [...messages];
  let calls = 0;
  const reasons = new Map<string, string>();
  for (let attempt = 0; attempt <= retries && pending.length > 0; attempt++) {
    const failed: OutgoingMessage[] = [];
    for (const batch of packBatches(pending)) {
      calls++;
      const output = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((message, index) => ({
            Id: String(index),
            MessageBody: message.body,
            ...(message.delaySeconds ? { DelaySeconds: message.delaySeconds } : {}),
            ...(message.attributes ? { MessageAttributes: message.attributes } : {}),
          })),
        }),
      );
      for (const failure of output.Failed ?? []) {
        const message = batch[Number(failure.Id)];
        if (!message) continue;
        failed.push(message);
        reasons.set(message.id, `${failure.Code ?? "unknown"}: ${failure.Message ?? ""}`.trim());
      }
    }
    pending = failed;
  }
  if (pending.length > 0) {
    throw new MessageSendError(
      pending.map((message) => message.id),
      pending.map((message) => `${message.id} ${reasons.get(message.id) ?? ""}`),
    );
  }
  return { sent: messages.length, calls };
}
