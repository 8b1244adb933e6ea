// Tripping the circuit breaker: what it writes (the pause switch, set by "circuit-breaker") and what it tells people
// (how many fresh instructions, a sample of them, how to resume). Whether it trips is decided by gates.ts
// (countedSightings, breakerTrips, breakerGate, accountBreakerGate); this is what happens once it has, kept apart from
// the tick so the pause reason and the report can be checked on their own. Organisation mode adds the account's own
// breaker: it pauses one member account in the same switch (platform/pause.ts `accounts`), never the others.
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { ReportBody } from "../../contract/report.ts";
import { errorFields, type Log } from "../../platform/logging.ts";
import { type PauseState, pauseAccount, readPauseState, setPaused, writePauseState } from "../../platform/pause.ts";
import type { FreshSighting } from "./state.ts";

/** How many of the fresh instructions the report names. */
export const BREAKER_SAMPLE_SIZE = 10;
/** What a person runs once the burst is understood. */
export const RESUME_COMMAND = "remedy resume";
/** Who the breaker is in the pause switch. */
export const BREAKER_IDENTITY = "circuit-breaker";

/** What a person runs once one account's burst is understood (the account id is the breaker's own, 12 digits). */
export function accountResumeCommand(accountId: string): string {
  return `${RESUME_COMMAND} --account ${accountId}`;
}

export type BreakerReport = Extract<ReportBody, { kind: "breaker-tripped" }>;

/** The pause reason and the report for a trip on `counted` (the sightings that tripped it). */
export function breakerNotice(
  counted: readonly FreshSighting[],
  breaker: { freshLimit: number; windowMinutes: number },
): { reason: string; report: BreakerReport } {
  const { freshLimit: limit, windowMinutes } = breaker;
  const sample = counted.slice(0, BREAKER_SAMPLE_SIZE).map((sighting) => sighting.label);
  return {
    reason: `circuit breaker: ${counted.length} fresh instructions within ${windowMinutes} minutes (limit ${limit})`,
    report: {
      kind: "breaker-tripped",
      freshInstructions: counted.length,
      limit,
      windowMinutes,
      sample,
      resumeCommand: RESUME_COMMAND,
    },
  };
}

/** The account pause's reason and the report for one account's trip on `counted`. */
export function accountBreakerNotice(
  accountId: string,
  counted: readonly FreshSighting[],
  breaker: { accountFreshLimit: number; windowMinutes: number },
): { reason: string; report: BreakerReport } {
  const { accountFreshLimit: limit, windowMinutes } = breaker;
  return {
    reason: `circuit breaker: ${counted.length} fresh instructions in account ${accountId} within ${windowMinutes} minutes (limit ${limit} per account)`,
    report: {
      kind: "breaker-tripped",
      accountId,
      freshInstructions: counted.length,
      limit,
      windowMinutes,
      sample: counted.slice(0, BREAKER_SAMPLE_SIZE).map((sighting) => sighting.label),
      resumeCommand: accountResumeCommand(accountId),
    },
  };
}

export interface BreakerDeps {
  ssm: SSMClient;
  pauseParameter: string;
  breaker: { freshLimit: number; windowMinutes: number };
  now: () => Date;
  log: Log;
  /** Sends a report; logs rather than throws when it cannot. */
  report: (body: BreakerReport) => Promise<boolean>;
  /** The tick's deadline: a pause write still in flight then is abandoned (logged; the next tick trips again). */
  abortSignal?: AbortSignal;
  /** The switch as the tick knows it: its account pauses are kept in the pause written. */
  previous?: PauseState;
}

/** Pauses auto-response and reports why. A pause switch that cannot be set is logged: the next tick trips again. */
export async function tripBreaker(counted: readonly FreshSighting[], deps: BreakerDeps): Promise<void> {
  const { reason, report } = breakerNotice(counted, deps.breaker);
  deps.log.error("circuit breaker tripped: pausing auto-response", {
    freshInstructions: report.freshInstructions,
    limit: report.limit,
    windowMinutes: report.windowMinutes,
    sample: report.sample,
  });
  try {
    await setPaused(deps.ssm, deps.pauseParameter, {
      by: BREAKER_IDENTITY,
      reason,
      now: deps.now(),
      ...(deps.abortSignal ? { abortSignal: deps.abortSignal } : {}),
      // Without it setPaused reads the switch first; the tick already has it.
      ...(deps.previous ? { previous: deps.previous } : {}),
    });
  } catch (error) {
    // Next tick sees the same sightings and trips again.
    deps.log.error("could not set the pause switch", { parameter: deps.pauseParameter, ...errorFields(error) });
  }
  await deps.report(report);
}

export interface AccountBreakerDeps extends Omit<BreakerDeps, "breaker" | "previous"> {
  breaker: { accountFreshLimit: number; windowMinutes: number };
}

/**
 * Pauses one account and reports why; returns the switch as written, or undefined when it was not. The switch is
 * read again right before, and only the account's entry changes: a pause a person set during the tick is kept. When
 * it cannot be read, or reads fail-safe (missing, unparseable: a rewrite could turn that "paused" into running),
 * nothing is written; the tick holds the account anyway and the next tick trips again on the same sightings.
 */
export async function tripAccountBreaker(
  accountId: string,
  counted: readonly FreshSighting[],
  deps: AccountBreakerDeps,
): Promise<PauseState | undefined> {
  const { reason, report } = accountBreakerNotice(accountId, counted, deps.breaker);
  deps.log.error("account circuit breaker tripped: pausing the account", {
    accountId,
    freshInstructions: report.freshInstructions,
    limit: report.limit,
    windowMinutes: report.windowMinutes,
    sample: report.sample,
  });
  let written: PauseState | undefined;
  try {
    const { failSafe, ...current } = await readPauseState(deps.ssm, deps.pauseParameter, deps.now(), deps.abortSignal);
    if (failSafe === undefined) {
      const state = pauseAccount(current, accountId, { by: BREAKER_IDENTITY, reason, now: deps.now() });
      written = await writePauseState(deps.ssm, deps.pauseParameter, state, deps.abortSignal);
    } else {
      deps.log.error("pause switch unusable: account pause not written", {
        parameter: deps.pauseParameter,
        accountId,
        problem: failSafe,
      });
    }
  } catch (error) {
    deps.log.error("could not set the account pause", {
      parameter: deps.pauseParameter,
      accountId,
      ...errorFields(error),
    });
  }
  await deps.report(report);
  return written;
}
