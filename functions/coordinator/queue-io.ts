// The coordinator's SQS calls, in one place: receive a batch, hide one message, dead-letter one (send to the DLQ,
// then delete), delete duplicates and release held messages in batches of ten. Each call's failures are handled
// here (logged, or thrown where the caller must know), and every call is counted for the tick's summary. Separate
// from the tick so that what to do with a message (gates.ts, tick.ts) is never mixed with how SQS is asked to do it.
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { deadLetterInput } from "../../contract/dead-letter.ts";
import { errorFields, type Log } from "../../platform/logging.ts";

export {
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
} from "../../contract/dead-letter.ts";

/** SQS's largest batch: of a receive, a batch delete and a batch visibility change. */
export const SQS_BATCH_SIZE = 10;

export interface QueueSettings {
  queueUrl: string;
  deadLetterQueueUrl: string;
  receiveWaitSeconds: number;
}

/** A received message and the id of the instruction it carries (when it parsed), for the log lines. */
export interface QueuedMessage {
  message: Message;
  instructionId?: string;
}

/** Why and for which instruction a message goes to the DLQ. */
export interface DeadLetterNote {
  reason: string;
  instructionId?: string;
}

export class CoordinatorQueue {
  /** SQS calls made so far (failed ones too): the tick's summary reports them. */
  calls = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly settings: QueueSettings,
    private readonly log: Log,
  ) {}

  /** Up to ten messages, hidden for `visibilitySeconds`. Throws when SQS does not answer: the tick stops draining. */
  async receive(visibilitySeconds: number): Promise<Message[]> {
    const output = await this.send((sqs) =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.settings.queueUrl,
          MaxNumberOfMessages: SQS_BATCH_SIZE,
          WaitTimeSeconds: this.settings.receiveWaitSeconds,
          VisibilityTimeout: visibilitySeconds,
          MessageSystemAttributeNames: ["All"],
          // The older name, for SQS implementations that predate MessageSystemAttributeNames.
          AttributeNames: ["All"],
        }),
      ),
    );
    return output.Messages ?? [];
  }

  /** Hides one message for `seconds`. Throws: the caller's message then comes back when its visibility ends. */
  async hide(message: Message, seconds: number): Promise<void> {
    await this.send((sqs) =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.settings.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: seconds,
        }),
      ),
    );
  }

  /**
   * Moves a message to the DLQ with its reason: send first, delete only after the send succeeded. False when the
   * send failed (the message is still on the queue); a failed delete after a good send still counts as moved.
   */
  async deadLetter(message: Message, note: DeadLetterNote): Promise<boolean> {
    const { reason, instructionId } = note;
    const messageId = message.MessageId ?? "";
    const ids = { messageId, ...(instructionId ? { instructionId } : {}) };
    try {
      await this.send((sqs) =>
        sqs.send(
          new SendMessageCommand(
            deadLetterInput(this.settings.deadLetterQueueUrl, message.Body || "(empty body)", {
              reason,
              sourceMessageId: messageId,
              ...(instructionId ? { instructionId } : {}),
            }),
          ),
        ),
      );
    } catch (error) {
      this.log.error("could not dead-letter message: left on the queue", { ...ids, reason, ...errorFields(error) });
      return false;
    }
    try {
      await this.send((sqs) =>
        sqs.send(new DeleteMessageCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: message.ReceiptHandle })),
      );
    } catch (error) {
      this.log.error("dead-lettered but not deleted: it will be dead-lettered again", {
        ...ids,
        ...errorFields(error),
      });
    }
    this.log.warn("dead-lettered", { ...ids, reason });
    return true;
  }

  /** Deletes copies of instructions already handled, ten at a time. Returns how many were deleted. */
  async deleteDuplicates(duplicates: readonly QueuedMessage[]): Promise<number> {
    let deleted = 0;
    for (let start = 0; start < duplicates.length; start += SQS_BATCH_SIZE) {
      const batch = duplicates.slice(start, start + SQS_BATCH_SIZE);
      try {
        const output = await this.send((sqs) =>
          sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.settings.queueUrl,
              Entries: batch.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.message.ReceiptHandle })),
            }),
          ),
        );
        for (const failure of output.Failed ?? []) {
          this.log.warn("duplicate not deleted: it will be seen again", {
            instructionId: batch[Number(failure.Id)]?.instructionId,
            code: failure.Code,
          });
        }
        for (const success of output.Successful ?? []) {
          const entry = batch[Number(success.Id)];
          if (!entry) continue;
          deleted++;
          this.log.info("duplicate deleted", {
            instructionId: entry.instructionId,
            messageId: entry.message.MessageId,
          });
        }
      } catch (error) {
        this.log.error("could not delete duplicates: they will be seen again", {
          instructionIds: batch.map((entry) => entry.instructionId),
          ...errorFields(error),
        });
      }
    }
    return deleted;
  }

  /** Makes held messages visible again (visibility 0), ten at a time. Returns how many were released. */
  async release(held: readonly QueuedMessage[]): Promise<number> {
    let released = 0;
    for (let start = 0; start < held.length; start += SQS_BATCH_SIZE) {
      const batch = held.slice(start, start + SQS_BATCH_SIZE);
      try {
        const output = await this.send((sqs) =>
          sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.settings.queueUrl,
              Entries: batch.map((entry, index) => ({
                Id: String(index),
                ReceiptHandle: entry.message.ReceiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          ),
        );
        released += output.Successful?.length ?? 0;
        for (const failure of output.Failed ?? []) {
          this.log.warn("could not release message: it reappears when its visibility ends", {
            instructionId: batch[Number(failure.Id)]?.instructionId,
            code: failure.Code,
          });
        }
      } catch (error) {
        this.log.error("could not release messages: they reappear when their visibility ends", {
          instructionIds: batch.map((entry) => entry.instructionId),
          ...errorFields(error),
        });
      }
    }
    return released;
  }

  /** Every SQS call goes through here, so the summary can say how many were made. */
  private send<T>(call: (sqs: SQSClient) => Promise<T>): Promise<T> {
    this.calls++;
    return call(this.sqs);
  }
}
