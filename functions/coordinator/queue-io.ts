// The coordinator's SQS calls, in one place: receive a batch, hide one message, dead-letter one (send to the DLQ,
// then delete), delete duplicates (and, in organisation mode, messages the settings say not to act on) and release
// held messages (or hide those of a paused account) in batches of ten (several batches at once, each started only
// while the caller's time budget allows). Each call's failures are handled here (logged, or thrown where the
// caller must know), every call is counted for the tick's summary, and every call is abandoned when the tick's
// abort signal fires (its time is up). Separate from the tick so that what to do with a message (gates.ts, tick.ts)
// is never mixed with how SQS is asked to do it.
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
import { SQS_BATCH_SIZE } from "./gates.ts";

export {
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
} from "../../contract/dead-letter.ts";

export { SQS_BATCH_SIZE };

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

/** How batches of a release or a duplicate delete are sent: how many at once, and whether another may start. */
export interface BatchPacing {
  /** Batches in flight at most (default 1: one after another). */
  concurrency?: number;
  /** Asked before each batch; false leaves it and every batch after it unsent (default: always true). */
  canStart?: () => boolean;
}

/** Runs `work` on every item, at most `limit` at a time, in order of start. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

function batchesOf<T>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (let start = 0; start < items.length; start += SQS_BATCH_SIZE) {
    batches.push(items.slice(start, start + SQS_BATCH_SIZE));
  }
  return batches;
}

/** How a batch delete's log lines name what it deletes. */
interface DeleteWords {
  deleted: string;
  notDeleted: string;
  failed: string;
  unsent: string;
}

const DUPLICATE_WORDS: DeleteWords = {
  deleted: "duplicate deleted",
  notDeleted: "duplicate not deleted: it will be seen again",
  failed: "could not delete duplicates: they will be seen again",
  unsent: "time budget spent: duplicates not deleted, they will be seen again",
};

const SKIPPED_WORDS: DeleteWords = {
  deleted: "removed without dispatch (organisation settings)",
  notDeleted: "message to remove not deleted: it will be seen (and skipped) again",
  failed: "could not delete messages to remove: they will be seen (and skipped) again",
  unsent: "time budget spent: messages to remove not deleted, they will be seen (and skipped) again",
};

export class CoordinatorQueue {
  /** SQS calls made so far (failed ones too): the tick's summary reports them. */
  calls = 0;
  /** Abandons every call in flight when it fires (the tick's time is up); set by the tick. */
  abortSignal: AbortSignal | undefined;

  constructor(
    private readonly sqs: SQSClient,
    private readonly settings: QueueSettings,
    private readonly log: Log,
  ) {}

  /** Up to ten messages, hidden for `visibilitySeconds`. Throws when SQS does not answer: the tick stops draining. */
  async receive(visibilitySeconds: number): Promise<Message[]> {
    const output = await this.send((sqs, options) =>
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
        options,
      ),
    );
    return output.Messages ?? [];
  }

  /** Hides one message for `seconds`. Throws: the caller's message then comes back when its visibility ends. */
  async hide(message: Message, seconds: number): Promise<void> {
    await this.send((sqs, options) =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.settings.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: seconds,
        }),
        options,
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
      await this.send((sqs, options) =>
        sqs.send(
          new SendMessageCommand(
            deadLetterInput(this.settings.deadLetterQueueUrl, message.Body || "(empty body)", {
              reason,
              sourceMessageId: messageId,
              ...(instructionId ? { instructionId } : {}),
            }),
          ),
          options,
        ),
      );
    } catch (error) {
      this.log.error("could not dead-letter message: left on the queue", { ...ids, reason, ...errorFields(error) });
      return false;
    }
    try {
      await this.send((sqs, options) =>
        sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: message.ReceiptHandle }),
          options,
        ),
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
  deleteDuplicates(duplicates: readonly QueuedMessage[], pacing: BatchPacing = {}): Promise<number> {
    return this.deleteAll(duplicates, pacing, DUPLICATE_WORDS);
  }

  /**
   * Deletes messages the organisation settings say not to act on (the account is off, or the problem not enabled
   * for it), ten at a time. Returns how many were deleted; the others are seen again and skipped again.
   */
  deleteSkipped(skipped: readonly QueuedMessage[], pacing: BatchPacing = {}): Promise<number> {
    return this.deleteAll(skipped, pacing, SKIPPED_WORDS);
  }

  private async deleteAll(entries: readonly QueuedMessage[], pacing: BatchPacing, words: DeleteWords): Promise<number> {
    let deleted = 0;
    const unsent = await this.eachBatch(entries, pacing, async (batch) => {
      try {
        const output = await this.send((sqs, options) =>
          sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.settings.queueUrl,
              Entries: batch.map((entry, index) => ({ Id: String(index), ReceiptHandle: entry.message.ReceiptHandle })),
            }),
            options,
          ),
        );
        for (const failure of output.Failed ?? []) {
          this.log.warn(words.notDeleted, {
            instructionId: batch[Number(failure.Id)]?.instructionId,
            code: failure.Code,
          });
        }
        for (const success of output.Successful ?? []) {
          const entry = batch[Number(success.Id)];
          if (!entry) continue;
          deleted++;
          this.log.info(words.deleted, {
            instructionId: entry.instructionId,
            messageId: entry.message.MessageId,
          });
        }
      } catch (error) {
        this.log.error(words.failed, {
          instructionIds: batch.map((entry) => entry.instructionId),
          ...errorFields(error),
        });
      }
    });
    if (unsent.length > 0) {
      this.log.warn(words.unsent, {
        instructionIds: unsent.map((entry) => entry.instructionId),
      });
    }
    return deleted;
  }

  /**
   * Makes held messages visible again (visibility 0), ten at a time. Returns how many were released; the rest
   * (refused, failed, or not sent because `pacing.canStart` said no) reappear when their visibility ends.
   */
  release(held: readonly QueuedMessage[], pacing: BatchPacing = {}): Promise<number> {
    return this.changeVisibility(held, 0, pacing, "release");
  }

  /**
   * Hides messages for `seconds` (those of a paused account), ten at a time. Returns how many were hidden; the rest
   * reappear when their visibility ends, as released ones would sooner.
   */
  hideAll(entries: readonly QueuedMessage[], seconds: number, pacing: BatchPacing = {}): Promise<number> {
    return this.changeVisibility(entries, seconds, pacing, "hide");
  }

  private async changeVisibility(
    held: readonly QueuedMessage[],
    seconds: number,
    pacing: BatchPacing,
    verb: "release" | "hide",
  ): Promise<number> {
    let released = 0;
    const unsent = await this.eachBatch(held, pacing, async (batch) => {
      try {
        const output = await this.send((sqs, options) =>
          sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.settings.queueUrl,
              Entries: batch.map((entry, index) => ({
                Id: String(index),
                ReceiptHandle: entry.message.ReceiptHandle,
                VisibilityTimeout: seconds,
              })),
            }),
            options,
          ),
        );
        released += output.Successful?.length ?? 0;
        for (const failure of output.Failed ?? []) {
          this.log.warn(`could not ${verb} message: it reappears when its visibility ends`, {
            instructionId: batch[Number(failure.Id)]?.instructionId,
            code: failure.Code,
          });
        }
      } catch (error) {
        this.log.error(`could not ${verb} messages: they reappear when their visibility ends`, {
          instructionIds: batch.map((entry) => entry.instructionId),
          ...errorFields(error),
        });
      }
    });
    if (unsent.length > 0) {
      this.log.warn(
        `time budget spent: messages not ${verb === "release" ? "released" : "hidden"}, they reappear when their visibility ends`,
        {
          messages: unsent.length,
        },
      );
    }
    return released;
  }

  /** Sends `items` in batches of ten as `pacing` allows. Returns the items of the batches never sent. */
  private async eachBatch(
    items: readonly QueuedMessage[],
    pacing: BatchPacing,
    send: (batch: QueuedMessage[]) => Promise<void>,
  ): Promise<QueuedMessage[]> {
    const unsent: QueuedMessage[] = [];
    let stopped = false;
    await eachLimited(batchesOf(items), pacing.concurrency ?? 1, async (batch) => {
      stopped ||= pacing.canStart ? !pacing.canStart() : false;
      if (stopped) {
        unsent.push(...batch);
        return;
      }
      await send(batch);
    });
    return unsent;
  }

  /** Every SQS call goes through here, so the summary can say how many were made (and the abort signal applies). */
  private send<T>(call: (sqs: SQSClient, options: { abortSignal?: AbortSignal }) => Promise<T>): Promise<T> {
    this.calls++;
    return call(this.sqs, this.abortSignal ? { abortSignal: this.abortSignal } : {});
  }
}
