import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { MessageSendError, sendMessages } from "../../platform/queue.ts";

const sqsMock = mockClient(SQSClient);
const queueUrl = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
const messages = (count: number, bodyBytes = 10) =>
  Array.from({ length: count }, (_, index) => ({ id: `instr-${index}`, body: `${index}`.padEnd(bodyBytes, "x") }));

beforeEach(() => sqsMock.reset());

describe("sendMessages", () => {
  it("sends at most 10 entries per SendMessageBatch call", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const result = await sendMessages(new SQSClient({}), queueUrl, messages(23));
    expect(result).toEqual({ sent: 23, calls: 3 });
    const sizes = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input.Entries!.length);
    expect(sizes).toEqual([10, 10, 3]);
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: queueUrl });
  });

  it("keeps each batch call under SQS's 256 KiB total", async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({});
    await sendMessages(new SQSClient({}), queueUrl, messages(6, 100_000));
    for (const call of sqsMock.commandCalls(SendMessageBatchCommand)) {
      const total = call.args[0].input.Entries!.reduce((sum, entry) => sum + Buffer.byteLength(entry.MessageBody!), 0);
      expect(total).toBeLessThanOrEqual(262_144);
    }
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });

  it("retries only the entries that failed inside a batch", async () => {
    sqsMock
      .on(SendMessageBatchCommand)
      .resolvesOnce({ Failed: [{ Id: "1", Code: "InternalError", SenderFault: false }] })
      .resolves({});
    await sendMessages(new SQSClient({}), queueUrl, messages(3));
    const [first, retry] = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(first!.args[0].input.Entries).toHaveLength(3);
    expect(retry!.args[0].input.Entries!.map((entry) => entry.MessageBody)).toEqual(["1xxxxxxxxx"]);
  });

  it("fails with the ids of the messages that still could not be sent", async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string; MessageBody: string }[] }) => ({
      Failed: input.Entries.filter((entry) => entry.MessageBody.startsWith("2")).map((entry) => ({
        Id: entry.Id,
        Code: "KMS.ThrottlingException",
        SenderFault: false,
        Message: "slow down",
      })),
    }));
    const error = await sendMessages(new SQSClient({}), queueUrl, messages(4)).catch((e) => e);
    expect(error).toBeInstanceOf(MessageSendError);
    expect(error.failedIds).toEqual(["instr-2"]);
    expect(error.message).toContain("instr-2");
    expect(error.message).toContain("KMS.ThrottlingException");
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });
});
