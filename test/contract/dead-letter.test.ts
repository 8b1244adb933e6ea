import { describe, expect, it } from "vitest";
import { DLQ_REASON_ATTRIBUTE, deadLetterInput, SQS_MAX_MESSAGE_BYTES } from "../../contract/dead-letter.ts";

const DLQ = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-dlq";

describe("deadLetterInput", () => {
  it("keeps the body exactly and says why, from where and for which instruction", () => {
    expect(deadLetterInput(DLQ, "{bad", { reason: "not JSON", sourceMessageId: "m-1", instructionId: "abc" })).toEqual({
      QueueUrl: DLQ,
      MessageBody: "{bad",
      MessageAttributes: {
        "remedy-dlq-reason": { DataType: "String", StringValue: "not JSON" },
        "remedy-source-message-id": { DataType: "String", StringValue: "m-1" },
        "remedy-instruction-id": { DataType: "String", StringValue: "abc" },
      },
    });
  });

  it("cuts a long reason", () => {
    const input = deadLetterInput(DLQ, "x", { reason: "r".repeat(5_000), sourceMessageId: "m" });
    expect(input.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue).toHaveLength(1_000);
  });

  it("sends a body at the size limit without attributes rather than failing to dead-letter it forever", () => {
    const body = "x".repeat(SQS_MAX_MESSAGE_BYTES - 10);
    const input = deadLetterInput(DLQ, body, { reason: "too large to parse", sourceMessageId: "m" });
    expect(input.MessageBody).toBe(body);
    expect(input.MessageAttributes).toBeUndefined();
  });
});
