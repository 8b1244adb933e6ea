// The coordinator's gates, pure: given one instruction, what the coordinator knows about it and the clock, which
// gate stops it (and how), or that it is dispatched. No SQS, no Lambda, no clock of their own: core.ts does the I/O
// each decision names. Order: pause switch, validity, duplicates, grace period, attempt limit, breaker, rate limit.
import type { Problem } from "../../rules/types.ts";
import type { FreshSighting, InstructionRecord } from "../../shared/coordinator-state.ts";
import { type Deployment, targetProblem } from "../../shared/deployment.ts";
import type { Instruction } from "../../shared/instruction.ts";
import type { PauseReading } from "../../shared/pause.ts";

/** SQS's longest visibility timeout (12 h): longer waits are hidden in several steps. */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/** What happened to an instruction id earlier in this tick: later copies of it follow. */
export type Outcome = "dispatched" | "grace" | "deferred" | "dead-lettered" | "duplicate" | "held";

/** Gate 1: the pause switch (a person, the breaker, or an unusable switch: when in doubt, do nothing). */
export function pauseGate(pause: PauseReading): { run: true; resumedAtMs?: number } | { run: false } {
  if (pause.paused) return { run: false };
  return pause.resumedAt ? { run: true, resumedAtMs: Date.parse(pause.resumedAt) } : { run: true };
}

export type Validity = { valid: true; functionName: string } | { valid: false; reason: string };

/**
 * Gate 2: an instruction is a claim. Another account or region, or a capture from the future, is never legitimate
 * here; nor a problem without a deployed remediation function. Either goes to the DLQ with the reason.
 */
export function validityGate(
  instruction: Instruction,
  config: {
    deployment: Pick<Deployment, "accountId" | "region">;
    remediationFunctions: Readonly<Partial<Record<Problem, string>>>;
  },
  now: Date,
): Validity {
  const refused = targetProblem(instruction, config.deployment, now);
  if (refused) return { valid: false, reason: `refused: ${refused}` };
  const functionName = config.remediationFunctions[instruction.problem];
  if (!functionName) {
    return { valid: false, reason: `no remediation function registered for problem ${instruction.problem}` };
  }
  return { valid: true, functionName };
}

/** A first sighting of an id: its record, and whether it counts as fresh for the breaker. */
export function firstSighting(
  instruction: Instruction,
  now: Date,
  breakerWindowMinutes: number,
): { record: InstructionRecord; fresh?: FreshSighting } {
  const nowIso = now.toISOString();
  const record: InstructionRecord = { firstSeenAt: nowIso, lastSeenAt: nowIso, attempts: 0, graceNotified: false };
  const age = now.getTime() - Date.parse(instruction.capturedAt);
  if (age > breakerWindowMinutes * 60_000) return { record };
  return {
    record,
    fresh: { id: instruction.id, at: nowIso, label: `${instruction.problem} ${instruction.resource.id}` },
  };
}

export type Decision =
  /** An earlier copy this tick was held: hold this one too (made visible again at the end of the tick). */
  | { gate: "held-before" }
  /** Another copy of an instruction handled this tick, or being remediated right now: delete it. */
  | { gate: "duplicate" }
  /** A newer capture of an instruction still in flight: hide it until that attempt is over. */
  | { gate: "in-flight"; hideSeconds: number }
  /** Not due yet: hide it until it is (at most SQS's longest visibility at a time). */
  | { gate: "grace"; remainingMs: number }
  /** Real attempts used up: dead-letter it. */
  | { gate: "attempts"; reason: string }
  /** The rate budget is spent: hold it for a later tick. */
  | { gate: "rate-limit" }
  | { gate: "dispatch"; attempt: number };

export interface DecideInput {
  instruction: Instruction;
  messageId: string | undefined;
  /** What the coordinator remembers about this id (read, never changed here). */
  record: Readonly<InstructionRecord>;
  prior: Outcome | undefined;
  /** Dispatches left in the rate window. */
  budget: number;
}

export interface DecideConfig {
  dispatchVisibilitySeconds: number;
  maxAttempts: number;
}

/**
 * Gates 3–7 for one valid message. `attempts` is the record's attempt count as it stands after the decision: a new
 * capture of the same problem (the problem came back after a dispatch) starts its own count.
 */
export function decide(input: DecideInput, now: Date, config: DecideConfig): { decision: Decision; attempts: number } {
  const { instruction, record, prior } = input;
  let attempts = record.attempts;
  const done = (decision: Decision) => ({ decision, attempts });
  if (prior === "held") return done({ gate: "held-before" });
  if (prior) return done({ gate: "duplicate" });

  const nowMs = now.getTime();
  const capturedAt = Date.parse(instruction.capturedAt);
  const last = record.lastDispatch;
  if (last && last.messageId !== input.messageId) {
    const inFlightUntil = Date.parse(last.at) + config.dispatchVisibilitySeconds * 1000;
    if (nowMs < inFlightUntil) {
      // Another copy of an instruction being remediated right now: that attempt covers it.
      if (capturedAt <= Date.parse(last.capturedAt)) return done({ gate: "duplicate" });
      const seconds = Math.max(1, Math.ceil((inFlightUntil - nowMs) / 1000));
      return done({ gate: "in-flight", hideSeconds: Math.min(seconds, SQS_MAX_VISIBILITY_SECONDS) });
    }
  }
  if (last && capturedAt > Date.parse(last.capturedAt)) attempts = 0;

  const due = Date.parse(instruction.notBefore);
  if (due > nowMs) return done({ gate: "grace", remainingMs: due - nowMs });
  if (attempts >= config.maxAttempts) return done({ gate: "attempts", reason: `remediation failed ${attempts} times` });
  if (input.budget <= 0) return done({ gate: "rate-limit" });
  return done({ gate: "dispatch", attempt: attempts + 1 });
}

/** The fresh sightings the breaker counts: first seen within its window, and since the last resume. */
export function countedSightings(
  sightings: readonly FreshSighting[],
  now: Date,
  windowMinutes: number,
  resumedAtMs: number | undefined,
): FreshSighting[] {
  const nowMs = now.getTime();
  return sightings.filter((sighting) => {
    const at = Date.parse(sighting.at);
    return nowMs - at < windowMinutes * 60_000 && (resumedAtMs === undefined || at >= resumedAtMs);
  });
}

/** Gate 6: MORE than freshLimit fresh instructions within the window trips the breaker (and pauses everything). */
export function breakerTrips(counted: readonly FreshSighting[], freshLimit: number): boolean {
  return counted.length > freshLimit;
}
