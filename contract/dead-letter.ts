// How a message goes to the dead-letter queue, for the coordinator and the remediation functions alike: the
// original body, plus attributes that say why, from which message and for which instruction.
import type { MessageAttributeValue, SendMessageCommandInput } from "@aws-sdk/client-sqs";

export const DLQ_REASON_ATTRIBUTE = "remedy-dlq-reason";
export const DLQ_SOURCE_MESSAGE_ATTRIBUTE = "remedy-source-message-id";
export const DLQ_INSTRUCTION_ATTRIBUTE = "remedy-instruction-id";

/** SQS counts the body and every attribute's name, type and value against its 256 KiB message limit. */
export const SQS_MAX_MESSAGE_BYTES = 262_144;
const MAX_REASON_LENGTH = 1_000;

export function truncateReason(text: string, length = MAX_REASON_LENGTH): string {
  return text.length > length ? `${text.slice(0, length - 3)}...` : text;
}

export interface DeadLetter {
  reason: string;
  sourceMessageId: string;
  instructionId?: string;
}

/**
 * The SendMessage input that dead-letters `body`. A body so close to the limit that the attributes would not fit
 * is sent without them (the reason is still logged and reported): losing the message would be worse.
 */
export function deadLetterInput(queueUrl: string, body: string, letter: DeadLetter): SendMessageCommandInput {
  const attributes: Record<string, MessageAttributeValue> = {
    [DLQ_REASON_ATTRIBUTE]: { DataType: "String", StringValue: truncateReason(letter.reason) },
    [DLQ_SOURCE_MESSAGE_ATTRIBUTE]: { DataType: "String", StringValue: letter.sourceMessageId || "unknown" },
    ...(letter.instructionId
      ? { [DLQ_INSTRUCTION_ATTRIBUTE]: { DataType: "String", StringValue: letter.instructionId } }
      : {}),
  };
  const attributeBytes = Object.entries(attributes).reduce(
    (sum, [name, value]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength(value.DataType!) + Buffer.byteLength(value.StringValue!),
    0,
  );
  const fits = Buffer.byteLength(body) + attributeBytes <= SQS_MAX_MESSAGE_BYTES;
  return { QueueUrl: queueUrl, MessageBody: body, ...(fits ? { MessageAttributes: attributes } : {}) };
}
