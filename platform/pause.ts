// The pause switch: one SSM String parameter holding JSON. The coordinator reads it first on every tick and does
// nothing while it says paused; the circuit breaker sets it; only a person (the CLI's `remedy resume`) clears it.
// A missing or unreadable parameter counts as PAUSED: when in doubt, Remedy does not act.
// Organisation mode adds account pauses in the same value (`accounts`): the per-account breaker pauses one member
// account, the others keep being fixed, and only a person clears it (`resumeAccount`). Pausing or resuming the
// whole switch keeps every account's entry: an account pause is never lifted as a side effect.
import { GetParameterCommand, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import * as v from "valibot";
import { ACCOUNT_ID_PATTERN } from "../contract/ids.ts";
import { PermanentError } from "./errors.ts";

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp("must be an ISO-8601 timestamp"));

const AccountPauseSchema = v.object({
  paused: v.boolean(),
  /** Who set it last: "circuit-breaker" when it paused, the person when they resumed. */
  by: v.string(),
  reason: v.string(),
  at: isoTimestamp,
  /** When a person last resumed this account: its breaker ignores what it saw before this. */
  resumedAt: v.optional(isoTimestamp),
});
export type AccountPause = v.InferOutput<typeof AccountPauseSchema>;

export const PauseStateSchema = v.object({
  paused: v.boolean(),
  /** Who set it: a person, "circuit-breaker", or the stack that created the parameter. */
  by: v.string(),
  reason: v.string(),
  at: isoTimestamp,
  /** When a person last resumed: the breaker ignores what it saw before this. */
  resumedAt: v.optional(isoTimestamp),
  /** Organisation mode: member accounts paused (or once paused, then resumed) on their own. */
  accounts: v.optional(
    v.record(v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id")), AccountPauseSchema),
  ),
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
export async function readPauseState(
  ssm: SSMClient,
  name: string,
  now: Date = new Date(),
  abortSignal?: AbortSignal,
): Promise<PauseReading> {
  let value: string | undefined;
  try {
    const output = await ssm.send(new GetParameterCommand({ Name: name }), abortSignal ? { abortSignal } : {});
    // (An answer without a body reads as a parameter without a value.)
    value = output?.Parameter?.Value;
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

/**
 * Writes the whole value. SSM has no conditional write: callers that change one part (an account) read the value
 * right before and change only that part, so a concurrent change is lost only within that short window.
 */
export async function writePauseState(
  ssm: SSMClient,
  name: string,
  state: PauseState,
  abortSignal?: AbortSignal,
): Promise<PauseState> {
  await ssm.send(
    new PutParameterCommand({ Name: name, Value: JSON.stringify(state), Type: "String", Overwrite: true }),
    abortSignal ? { abortSignal } : {},
  );
  return state;
}

/** The account entries of `previous`, to carry into a new value (none when absent or empty). */
function keptAccounts(previous: PauseState | undefined): Pick<PauseState, "accounts"> {
  const accounts = previous?.accounts;
  return accounts && Object.keys(accounts).length > 0 ? { accounts } : {};
}

/** The value as it stands, for a write that keeps its account entries; a fail-safe reading has none to keep. */
async function currentState(ssm: SSMClient, name: string, now: Date): Promise<PauseState | undefined> {
  const reading = await readPauseState(ssm, name, now);
  if (reading.failSafe !== undefined) return undefined;
  const { failSafe: _failSafe, ...state } = reading;
  return state;
}

/**
 * Pauses auto-response (the breaker uses `by: "circuit-breaker"`), keeping the account pauses of `previous`, or, without
 * it, of the value read first. Pausing matters more than that read: when it fails, the pause is written without them.
 */
export async function setPaused(
  ssm: SSMClient,
  name: string,
  options: { by: string; reason: string; now: Date; abortSignal?: AbortSignal; previous?: PauseState },
): Promise<PauseState> {
  const previous = options.previous ?? (await currentState(ssm, name, options.now).catch(() => undefined));
  const state: PauseState = {
    paused: true,
    by: options.by,
    reason: options.reason,
    at: options.now.toISOString(),
    ...keptAccounts(previous),
  };
  return writePauseState(ssm, name, state, options.abortSignal);
}

/**
 * Resumes auto-response and records when, so the breaker forgets what it saw before. Account pauses stay (each is
 * resumed on its own): they are taken from `previous`, or from the value read first, and a failed read fails the
 * resume rather than lift them.
 */
export async function resume(
  ssm: SSMClient,
  name: string,
  options: { by: string; now: Date; previous?: PauseState },
): Promise<PauseState> {
  const previous = options.previous ?? (await currentState(ssm, name, options.now));
  const at = options.now.toISOString();
  return writePauseState(ssm, name, {
    paused: false,
    by: options.by,
    reason: `resumed by ${options.by}`,
    at,
    resumedAt: at,
    ...keptAccounts(previous),
  });
}

/** The account's pause, when it is paused on its own (the whole switch aside). */
export function accountPause(state: PauseState, accountId: string): AccountPause | undefined {
  const entry = state.accounts?.[accountId];
  return entry?.paused ? entry : undefined;
}

/** The accounts paused on their own. */
export function pausedAccounts(state: PauseState): string[] {
  return Object.entries(state.accounts ?? {})
    .filter(([, entry]) => entry.paused)
    .map(([accountId]) => accountId);
}

/** When a person last resumed the account, in ms (its breaker counts only what it saw since). */
export function accountResumedAtMs(state: PauseState, accountId: string): number | undefined {
  const resumedAt = state.accounts?.[accountId]?.resumedAt;
  return resumedAt === undefined ? undefined : Date.parse(resumedAt);
}

/** `state` with one account paused (the per-account breaker): everything else as it is. */
export function pauseAccount(
  state: PauseState,
  accountId: string,
  options: { by: string; reason: string; now: Date },
): PauseState {
  const previous = state.accounts?.[accountId];
  const entry: AccountPause = {
    paused: true,
    by: options.by,
    reason: options.reason,
    at: options.now.toISOString(),
    ...(previous?.resumedAt ? { resumedAt: previous.resumedAt } : {}),
  };
  return { ...state, accounts: { ...state.accounts, [accountId]: entry } };
}

/** The account is not paused on its own: nothing to resume. */
export class AccountNotPausedError extends PermanentError {
  override name = "AccountNotPausedError";
}

/**
 * `state` with one account resumed by a person (`remedy resume --account`), recording when so its breaker forgets
 * what it saw before; everything else as it is (a paused switch stays paused). Throws AccountNotPausedError when the
 * account is not paused, and InvalidPauseStateError for something that is not an account id.
 */
export function resumeAccount(state: PauseState, accountId: string, by: string, now: Date): PauseState {
  if (!ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new InvalidPauseStateError(`"${accountId}" is not a 12-digit account id`);
  }
  if (!accountPause(state, accountId)) {
    throw new AccountNotPausedError(`account ${accountId} is not paused`);
  }
  const at = now.toISOString();
  const entry: AccountPause = { paused: false, by, reason: `resumed by ${by}`, at, resumedAt: at };
  return { ...state, accounts: { ...state.accounts, [accountId]: entry } };
}
