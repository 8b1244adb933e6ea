// Operator commands against the deployed stack: peek, pause, resume, dlq redrive.
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
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
    result.messages.map((message) => [message.MessageId, message.MessageAttributes?.["remedy-dlq-reason"]?.StringValue]),
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
        ["INSTRUCTION", "COUNT", "FIRST SEEN", "DUE", "PROBLEM", "RESOURCE", "EXACT CHANGE", ...(options.dlq ? ["WHY IN DLQ"] : [])],
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

async function queueArn(deps: CliDeps, queueUrl: string): Promise<string> {
  const output = await deps.sqs().send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const arn = output.Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS did not say the ARN of ${queueUrl}`);
  return arn;
}

/** Moves every DLQ message back to the remediation queue (SQS's own message move task), showing progress. */
export async function redriveCommand(
  refs: StackRefs,
  deps: CliDeps,
  io: Io,
  pollMs = 2_000,
): Promise<{ moved: number; status: string }> {
  const { queueUrl, dlqUrl } = requireRefs(refs, "queueUrl", "dlqUrl");
  const [sourceArn, destinationArn] = await Promise.all([queueArn(deps, dlqUrl), queueArn(deps, queueUrl)]);
  await deps.sqs().send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
  for (;;) {
    const { Results = [] } = await deps.sqs().send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
    const task = Results[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const total = task?.ApproximateNumberOfMessagesToMove;
    const status = task?.Status ?? "UNKNOWN";
    io.err(`redrive ${status.toLowerCase()}: ${moved}${total !== undefined ? `/${total}` : ""} messages moved\n`);
    if (status !== "RUNNING") {
      if (status === "FAILED") throw new Error(`the redrive failed: ${task?.FailureReason ?? "no reason given"}`);
      io.out(`Moved ${moved} messages from the dead-letter queue back to the remediation queue.\n`);
      return { moved, status };
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
