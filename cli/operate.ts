// Operator commands against the deployed stack: peek, pause, resume, dlq redrive.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { DLQ_REASON_ATTRIBUTE } from "../shared/dead-letter.ts";
import { describeMatched } from "../shared/describe.ts";
import { readPauseState, resume, setPaused } from "../shared/pause.ts";
import { peekQueue } from "../shared/peek.ts";
import type { CliDeps, Io } from "./deps.ts";
import { table, utc } from "./format.ts";
import { requireRefs, type StackRefs } from "./stack.ts";

export interface PeekOptions {
  dlq: boolean;
  json: boolean;
  max: number;
}

export async function peekCommand(refs: StackRefs, options: PeekOptions, deps: CliDeps, io: Io): Promise<void> {
  const queueUrl = options.dlq ? requireRefs(refs, "dlqUrl").dlqUrl : requireRefs(refs, "queueUrl").queueUrl;
  io.err(`reading ${options.dlq ? "the dead-letter queue" : "the remediation queue"} (nothing is consumed)…\n`);
  const result = await peekQueue(deps.sqs(), queueUrl, { maxMessages: options.max });
  const reasons = new Map(
    result.messages.map((message) => [
      message.MessageId,
      message.MessageAttributes?.["remedy-dlq-reason"]?.StringValue,
    ]),
  );
  if (options.json) {
    io.out(
      `${JSON.stringify(
        {
          queueUrl,
          truncated: result.truncated,
          groups: result.groups.map(({ instruction, ...group }) => ({
            ...group,
            ...(options.dlq ? { reasons: group.messageIds.map((id) => reasons.get(id)).filter(Boolean) } : {}),
            instruction,
          })),
          invalid: result.invalid.map((entry) => ({ ...entry, dlqReason: reasons.get(entry.messageId) })),
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const now = deps.now().getTime();
  const lines: string[] = [];
  lines.push(
    `${result.groups.length} fix instructions in ${result.messages.length} messages${result.truncated ? ` (stopped at ${options.max}: more may be queued)` : ""}.`,
  );
  if (result.groups.length > 0) {
    lines.push(
      table(
        [
          "INSTRUCTION",
          "COUNT",
          "FIRST SEEN",
          "DUE",
          "PROBLEM",
          "RESOURCE",
          "EXACT CHANGE",
          ...(options.dlq ? ["WHY IN DLQ"] : []),
        ],
        result.groups.map((group) => [
          group.id.slice(0, 12),
          String(group.count),
          group.firstSeen ? utc(group.firstSeen) : "?",
          Date.parse(group.due) <= now ? "now" : utc(group.due),
          group.problem,
          `${group.resource.id} (${group.resource.accountId} ${group.resource.region})`,
          group.matched.map(describeMatched).join("; "),
          ...(options.dlq ? [group.messageIds.map((id) => reasons.get(id) ?? "?").join("; ")] : []),
        ]),
        [12, 5, 20, 20, 18, 50, 80, 60],
      ),
    );
  }
  if (result.invalid.length > 0) {
    lines.push("", `${result.invalid.length} messages are not valid fix instructions:`);
    for (const entry of result.invalid) {
      lines.push(`  ${entry.messageId}: ${reasons.get(entry.messageId) ?? entry.reason}`);
    }
  }
  io.out(`${lines.join("\n")}\n`);
}

export async function pauseCommand(refs: StackRefs, reason: string, deps: CliDeps, io: Io): Promise<void> {
  const { pauseParameter } = requireRefs(refs, "pauseParameter");
  const state = await setPaused(deps.ssm(), pauseParameter, { by: deps.user(), reason, now: deps.now() });
  io.out(`Paused by ${state.by}: the coordinator dispatches nothing until "remedy resume".\n`);
}

export async function resumeCommand(refs: StackRefs, deps: CliDeps, io: Io): Promise<void> {
  const { pauseParameter } = requireRefs(refs, "pauseParameter");
  const before = await readPauseState(deps.ssm(), pauseParameter, deps.now());
  if (!before.paused) {
    io.out("Remedy is not paused; nothing to do.\n");
    return;
  }
  const state = await resume(deps.ssm(), pauseParameter, { by: deps.user(), now: deps.now() });
  io.out(
    `Resumed by ${state.by} (was paused by ${before.by}: ${before.reason}). The next tick dispatches again; the breaker only counts what arrives from now on.\n`,
  );
}

/**
 * Moves every DLQ message back to the remediation queue, showing progress. Done by hand (receive, send, delete)
 * rather than with SQS's message move task, which needs the source to be a redrive target: the remediation queue
 * has no redrive policy on purpose, because receive counts include operators' peeks. A message is deleted from
 * the DLQ only after the remediation queue accepted its copy; the DLQ reason attribute is dropped on the way.
 */
export async function redriveCommand(
  refs: StackRefs,
  deps: CliDeps,
  io: Io,
): Promise<{ moved: number; failed: number }> {
  const { queueUrl, dlqUrl } = requireRefs(refs, "queueUrl", "dlqUrl");
  const sqs = deps.sqs();
  let moved = 0;
  let failed = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => {
          const { [DLQ_REASON_ATTRIBUTE]: _reason, ...attributes } = message.MessageAttributes ?? {};
          return {
            Id: String(index),
            MessageBody: message.Body ?? "",
            ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
          };
        }),
      }),
    );
    const accepted = (sent.Successful ?? []).map((entry) => Messages[Number(entry.Id)]!);
    failed += sent.Failed?.length ?? 0;
    for (const entry of sent.Failed ?? []) {
      io.err(`could not move message ${Messages[Number(entry.Id)]?.MessageId}: ${entry.Message ?? entry.Code}\n`);
    }
    if (accepted.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: accepted.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
    }
    moved += accepted.length;
    io.err(`redrive: ${moved} messages moved\n`);
    // Messages SQS refused stay hidden in the DLQ for the visibility above; stop rather than spin on them.
    if (accepted.length === 0) break;
  }
  io.out(`Moved ${moved} messages from the dead-letter queue back to the remediation queue.\n`);
  if (failed > 0) throw new Error(`${failed} messages could not be moved; they stay in the dead-letter queue`);
  return { moved, failed };
}
