// The pause switch: one SSM String parameter holding JSON. The coordinator reads it first on every tick and does
// nothing while it says paused; the circuit breaker sets it; only a person (the CLI's `remedy resume`) clears it.
// A missing or unreadable parameter counts as PAUSED: when in doubt, Remedy does not act.
import { GetParameterCommand, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import * as v from "valibot";
import { PermanentError } from "./errors.ts";

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp("must be an ISO-8601 timestamp"));

export const PauseStateSchema = v.object({
  paused: v.boolean(),
  /** Who set it: a person, "circuit-breaker", or the stack that created the parameter. */
  by: v.string(),
  reason: v.string(),
  at: isoTimestamp,
  /** When a person last resumed: the breaker ignores what it saw before this. */
  resumedAt: v.optional(isoTimestamp),
});
export type PauseState = v.InferOutput<typeof PauseStateSchema>;

/** What readPauseState returns: the state, and when it had to fail safe, why. */
export interface PauseReading extends PauseState {
  /** Set when the parameter was missing or its value unusable; the reading is then "paused". */
  failSafe?: string;
}

/** The parameter's value is not the JSON this module writes. */
export class InvalidPauseStateError extends PermanentError {
  override name = "InvalidPauseStateError";
}

/** The value the stack creates the parameter with: running (the schedule is the deploy-time gate). */
export function initialPauseValue(at: string): string {
  return JSON.stringify({ paused: false, by: "terraform", reason: "created with the stack", at });
}

export function parsePauseState(text: string): PauseState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidPauseStateError(`pause parameter is not JSON: ${(error as Error).message}`);
  }
  const result = v.safeParse(PauseStateSchema, value, { abortEarly: true });
  if (result.success) return result.output;
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  throw new InvalidPauseStateError(`pause parameter ${path ? `${path}: ` : ""}${issue.message}`);
}

function failSafe(reason: string, now: Date): PauseReading {
  return { paused: true, by: "remedy", reason, at: now.toISOString(), failSafe: reason };
}

/**
 * Reads the switch. ParameterNotFound or a value that does not parse ⇒ paused, with `failSafe` saying why (the
 * caller logs it as an error). Other errors (access denied, throttling after retries) are thrown: the caller then
 * does nothing either.
 */
export async function readPauseState(ssm: SSMClient, name: string, now: Date = new Date()): Promise<PauseReading> {
  let value: string | undefined;
  try {
    const output = await ssm.send(new GetParameterCommand({ Name: name }));
    value = output.Parameter?.Value;
  } catch (error) {
    if ((error as Error).name === "ParameterNotFound") {
      return failSafe(`pause parameter ${name} does not exist: treated as paused`, now);
    }
    throw error;
  }
  if (value === undefined) return failSafe(`pause parameter ${name} has no value: treated as paused`, now);
  try {
    return parsePauseState(value);
  } catch (error) {
    return failSafe(`${(error as Error).message}: treated as paused`, now);
  }
}

async function write(ssm: SSMClient, name: string, state: PauseState, abortSignal?: AbortSignal): Promise<PauseState> {
  await ssm.send(
    new PutParameterCommand({ Name: name, Value: JSON.stringify(state), Type: "String", Overwrite: true }),
    abortSignal ? { abortSignal } : {},
  );
  return state;
}

/** Pauses auto-response (the breaker uses `by: "circuit-breaker"`). */
export function setPaused(
  ssm: SSMClient,
  name: string,
  options: { by: string; reason: string; now: Date; abortSignal?: AbortSignal },
): Promise<PauseState> {
  const state: PauseState = { paused: true, by: options.by, reason: options.reason, at: options.now.toISOString() };
  return write(ssm, name, state, options.abortSignal);
}

/** Resumes auto-response and records when, so the breaker forgets what it saw before. */
export function resume(ssm: SSMClient, name: string, options: { by: string; now: Date }): Promise<PauseState> {
  const at = options.now.toISOString();
  return write(ssm, name, { paused: false, by: options.by, reason: `resumed by ${options.by}`, at, resumedAt: at });
}
