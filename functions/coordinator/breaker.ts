// Tripping the circuit breaker: what it writes (the pause switch, set by "circuit-breaker") and what it tells people
// (how many fresh instructions, a sample of them, how to resume). Whether it trips is decided by gates.ts
// (countedSightings, breakerTrips, breakerGate); this is what happens once it has, kept apart from the tick so the
// pause reason and the report can be checked on their own.
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { ReportBody } from "../../contract/report.ts";
import { errorFields, type Log } from "../../platform/logging.ts";
import { setPaused } from "../../platform/pause.ts";
import type { FreshSighting } from "./state.ts";

/** How many of the fresh instructions the report names. */
export const BREAKER_SAMPLE_SIZE = 10;
/** What a person runs once the burst is understood. */
export const RESUME_COMMAND = "remedy resume";

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
      by: "circuit-breaker",
      reason,
      now: deps.now(),
      ...(deps.abortSignal ? { abortSignal: deps.abortSignal } : {}),
    });
  } catch (error) {
    // Next tick sees the same sightings and trips again.
    deps.log.error("could not set the pause switch", { parameter: deps.pauseParameter, ...errorFields(error) });
  }
  await deps.report(report);
}
