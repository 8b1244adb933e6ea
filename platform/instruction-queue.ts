// Fix instructions onto the remediation queue, the same way from every producer: the Config rule (a change, a page of
// a periodic scan) and the real-time path. Each message is the serialised instruction under its id; each queued
// instruction gets one log line with its id.
import type { SQSClient } from "@aws-sdk/client-sqs";
import { type Instruction, serializeInstruction } from "../contract/instruction.ts";
import type { Log } from "./logging.ts";
import { type OutgoingMessage, sendMessages } from "./queue.ts";

/** Sends fix instructions to the remediation queue (batched; MessageSendError names what could not be sent), logged. */
export async function queueInstructions(
  deps: { sqs: SQSClient; queueUrl: string; log: Log },
  instructions: readonly Instruction[],
  logFields?: Record<string, unknown>,
): Promise<void> {
  if (instructions.length === 0) return;
  await sendMessages(deps.sqs, deps.queueUrl, instructionMessages(instructions));
  queuedLines(deps, instructions, logFields);
}

/** The queue messages of fix instructions: each serialised, under its id. */
export function instructionMessages(instructions: readonly Instruction[]): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  for (const instruction of instructions)
    messages.push({ id: instruction.id, body: serializeInstruction(instruction) });
  return messages;
}

/** The log line of each queued instruction (with `logFields` after its own, when given). */
export function queuedLines(
  deps: { log: Log },
  instructions: readonly Instruction[],
  logFields?: Record<string, unknown>,
): void {
  for (const instruction of instructions) {
    const line = queuedLine(instruction);
    deps.log.info("queued fix instruction", logFields === undefined ? line : { ...line, ...logFields });
  }
}

function queuedLine(instruction: Instruction): Record<string, unknown> {
  return {
    instructionId: instruction.id,
    problem: instruction.problem,
    resourceId: instruction.resource.id,
    entries: instruction.matched.length,
    notBefore: instruction.notBefore,
  };
}
