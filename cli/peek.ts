// Reading the remediation queue without consuming it (`remedy peek`). Every message read is hidden only while the
// scan runs, then made visible again at once, so peeking never delays a fix. The remediation queue has no
// maxReceiveCount redrive, so the receive counts a peek adds can never move a message to the dead-letter queue.
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { type Instruction, InvalidInstructionError, parseInstruction } from "../contract/instruction.ts";
import type { MatchedEntry, Problem } from "../detection/types.ts";

export interface PeekOptions {
  /** Stop after this many distinct messages. */
  maxMessages: number;
  /** How long each read message stays hidden if the release at the end does not happen (crash). */
  visibilitySeconds?: number;
  /** Long-poll wait per receive; 0 is faster but may miss messages on a near-empty queue. */
  waitSeconds?: number;
}

/** Every queued copy of one instruction id. */
export interface PeekGroup {
  id: string;
  count: number;
  /** Earliest SentTimestamp of the copies (ISO), when SQS reported it. */
  firstSeen?: string;
  /** The instruction's notBefore: when the grace period ends. */
  due: string;
  problem: Problem;
  resource: Instruction["resource"];
  matched: MatchedEntry[];
  annotation: string;
  messageIds: string[];
  instruction: Instruction;
}

export interface PeekInvalid {
  messageId: string;
  reason: string;
  sentAt?: string;
  body: string;
}

export interface PeekResult {
  messages: Message[];
  /** Sorted by due time, then first seen. */
  groups: PeekGroup[];
  invalid: PeekInvalid[];
  /** True when maxMessages was reached: the queue may hold more. */
  truncated: boolean;
  sqsCalls: number;
}

/** Releases are skipped for messages whose own visibility is about to end anyway (a stale handle may fail). */
const RELEASE_SAFETY_MS = 2_000;
const BATCH = 10;

function sentAt(message: Message): string | undefined {
  const millis = Number(message.Attributes?.SentTimestamp);
  return Number.isFinite(millis) && millis > 0 ? new Date(millis).toISOString() : undefined;
}

export async function peekQueue(sqs: SQSClient, queueUrl: string, options: PeekOptions): Promise<PeekResult> {
  const visibilitySeconds = options.visibilitySeconds ?? 20;
  const waitSeconds = options.waitSeconds ?? 1;
  const read = new Map<string, { message: Message; receivedAt: number }>();
  let sqsCalls = 0;
  let truncated = false;
  try {
    while (read.size < options.maxMessages) {
      sqsCalls++;
      const output = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(BATCH, options.maxMessages - read.size),
          VisibilityTimeout: visibilitySeconds,
          WaitTimeSeconds: waitSeconds,
          AttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      const messages = output.Messages ?? [];
      if (messages.length === 0) break;
      let unseen = 0;
      for (const message of messages) {
        const id = message.MessageId ?? message.ReceiptHandle ?? "";
        if (!read.has(id)) unseen++;
        // A message read again (its visibility ran out mid-scan) keeps the newest receipt handle.
        read.set(id, { message, receivedAt: Date.now() });
      }
      if (unseen === 0) break;
    }
    truncated = read.size >= options.maxMessages;
  } finally {
    const releasable = [...read.values()].filter(
      (entry) =>
        entry.message.ReceiptHandle && entry.receivedAt + visibilitySeconds * 1000 - RELEASE_SAFETY_MS > Date.now(),
    );
    for (let start = 0; start < releasable.length; start += BATCH) {
      sqsCalls++;
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: releasable.slice(start, start + BATCH).map((entry, index) => ({
            Id: String(index),
            ReceiptHandle: entry.message.ReceiptHandle!,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
  }
  const messages = [...read.values()].map((entry) => entry.message);
  return { ...groupMessages(messages), messages, truncated, sqsCalls };
}

/** Parses and groups raw queue messages by instruction id (also usable on messages read another way). */
export function groupMessages(messages: readonly Message[]): { groups: PeekGroup[]; invalid: PeekInvalid[] } {
  const groups = new Map<string, PeekGroup>();
  const invalid: PeekInvalid[] = [];
  for (const message of messages) {
    const messageId = message.MessageId ?? "";
    const sent = sentAt(message);
    let instruction: Instruction;
    try {
      instruction = parseInstruction(message.Body ?? "");
    } catch (error) {
      if (!(error instanceof InvalidInstructionError)) throw error;
      invalid.push({ messageId, reason: error.message, body: message.Body ?? "", ...(sent ? { sentAt: sent } : {}) });
      continue;
    }
    const group = groups.get(instruction.id);
    if (group) {
      group.count++;
      group.messageIds.push(messageId);
      if (sent && (!group.firstSeen || sent < group.firstSeen)) group.firstSeen = sent;
      continue;
    }
    groups.set(instruction.id, {
      id: instruction.id,
      count: 1,
      ...(sent ? { firstSeen: sent } : {}),
      due: instruction.notBefore,
      problem: instruction.problem,
      resource: instruction.resource,
      matched: instruction.matched,
      annotation: instruction.annotation,
      messageIds: [messageId],
      instruction,
    });
  }
  const sorted = [...groups.values()].sort(
    (a, b) =>
      Date.parse(a.due) - Date.parse(b.due) ||
      (a.firstSeen ?? "").localeCompare(b.firstSeen ?? "") ||
      a.id.localeCompare(b.id),
  );
  return { groups: sorted, invalid };
}
