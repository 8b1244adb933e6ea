// The payload the coordinator sends (asynchronous Lambda invoke) to a remediation function. The remediation
// deletes the queue message with `receiptHandle` when it succeeded; when it fails it leaves the message alone, and
// the queue brings it back to the coordinator after the dispatch visibility timeout for the next attempt.
import * as v from "valibot";
import { PermanentError } from "../platform/errors.ts";
import { InstructionSchema } from "./instruction.ts";
import { boundedJson } from "./json.ts";

const positiveInteger = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonEmpty = v.pipe(v.string(), v.minLength(1, "must not be empty"));

export const RemediationRequestSchema = v.strictObject({
  /** The remediation queue the message is on (delete it there on success). */
  queueUrl: v.pipe(v.string(), v.url("must be a queue URL")),
  /** Receipt handle of this delivery: valid while the message is invisible (the dispatch visibility). */
  receiptHandle: nonEmpty,
  messageId: nonEmpty,
  instruction: InstructionSchema,
  /** 1 for the first real dispatch of this instruction id, 2 for the next, ... (queue peeks do not count). */
  attempt: positiveInteger,
  /** After this many failed attempts the coordinator dead-letters the instruction: `failed` reports can say
   * `willRetry: attempt < maxAttempts`. Optional so hand-written requests stay short. */
  maxAttempts: v.optional(positiveInteger),
  dispatchedAt: v.pipe(v.string(), v.isoTimestamp("must be an ISO-8601 timestamp")),
});

export type RemediationRequest = v.InferOutput<typeof RemediationRequestSchema>;

/** An invocation payload that is not a RemediationRequest. Permanent: retrying the same payload cannot help. */
export class InvalidRemediationRequestError extends PermanentError {
  override name = "InvalidRemediationRequestError";
}

/** Validates an invocation payload (object, JSON text or bytes); throws naming the first problem found. */
export function parseRemediationRequest(payload: unknown): RemediationRequest {
  let result: v.SafeParseResult<typeof RemediationRequestSchema>;
  try {
    const value = boundedJson(
      payload instanceof Uint8Array ? new TextDecoder().decode(payload) : payload,
      "remediation request",
    );
    result = v.safeParse(RemediationRequestSchema, value, { abortEarly: true });
  } catch (error) {
    throw new InvalidRemediationRequestError((error as Error).message);
  }
  if (result.success) return result.output;
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  throw new InvalidRemediationRequestError(path ? `${path}: ${issue.message}` : issue.message);
}

/** The bytes of an InvokeCommand's Payload. */
export function encodeRemediationRequest(request: RemediationRequest): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(request));
}

/** Whether a failed attempt will be retried by the coordinator (for `failed` reports). */
export function willRetry(request: Pick<RemediationRequest, "attempt" | "maxAttempts">): boolean {
  return request.maxAttempts === undefined || request.attempt < request.maxAttempts;
}
