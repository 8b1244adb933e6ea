// The coordinator's gates as a pure function of (instruction, what is known about it, clock): every gate and its
// boundary, with a fake clock and no queue. The SQS side of each decision is covered by queue.test.ts.
import { describe, expect, it } from "vitest";
import {
  breakerTrips,
  countedSightings,
  type DecideInput,
  decide,
  firstSighting,
  pauseGate,
  SQS_MAX_VISIBILITY_SECONDS,
  validityGate,
} from "../../functions/coordinator/gates.ts";
import type { InstructionRecord } from "../../shared/coordinator-state.ts";
import { FUNCTIONS, instruction, T0 } from "./support.ts";

const CONFIG = { dispatchVisibilitySeconds: 300, maxAttempts: 3 };
const minutes = (n: number) => n * 60_000;
const at = (ms: number) => new Date(T0.getTime() + ms);

function fresh(): InstructionRecord {
  return { firstSeenAt: T0.toISOString(), lastSeenAt: T0.toISOString(), attempts: 0, graceNotified: false };
}

function input(overrides: Partial<DecideInput> = {}): DecideInput {
  return { instruction: instruction(1), messageId: "m-1", record: fresh(), prior: undefined, budget: 5, ...overrides };
}

describe("pause gate", () => {
  it("runs only when not paused, and remembers the last resume", () => {
    const base = { by: "alice", reason: "r", at: T0.toISOString() };
    expect(pauseGate({ ...base, paused: true })).toEqual({ run: false });
    expect(pauseGate({ ...base, paused: false })).toEqual({ run: true });
    expect(pauseGate({ ...base, paused: false, resumedAt: T0.toISOString() })).toEqual({
      run: true,
      resumedAtMs: T0.getTime(),
    });
    // An unusable switch reads as paused (shared/pause.ts): the gate then stops everything.
    expect(pauseGate({ ...base, paused: true, failSafe: "no parameter" })).toEqual({ run: false });
  });
});

describe("validity gate", () => {
  const config = { deployment: { accountId: "123456789012", region: "us-east-1" }, remediationFunctions: FUNCTIONS };

  it("names the remediation function of a valid instruction", () => {
    expect(validityGate(instruction(1), config, T0)).toEqual({ valid: true, functionName: "remedy-remediate-sg" });
  });

  it("refuses another account or region, a capture from the future, and a problem without a function", () => {
    const elsewhere = (deployment: { accountId: string; region: string }) =>
      validityGate(instruction(1), { ...config, deployment }, T0);
    expect(elsewhere({ accountId: "999999999999", region: "us-east-1" })).toEqual({
      valid: false,
      reason: "refused: instruction names account 123456789012, but this deployment acts only in account 999999999999",
    });
    expect(elsewhere({ accountId: "123456789012", region: "eu-west-1" })).toEqual({
      valid: false,
      reason: "refused: instruction names region us-east-1, but this deployment acts only in region eu-west-1",
    });
    const future = instruction(1, { capturedAt: at(minutes(30)) });
    expect(validityGate(future, config, T0)).toEqual({
      valid: false,
      reason: `refused: instruction capturedAt ${future.capturedAt} is in the future`,
    });
    expect(validityGate(instruction(1), { ...config, remediationFunctions: {} }, T0)).toEqual({
      valid: false,
      reason: "no remediation function registered for problem sg-open-ingress",
    });
  });
});

describe("first sighting", () => {
  it("counts as fresh for the breaker only when captured within its window", () => {
    const recent = firstSighting(instruction(1, { capturedAt: at(-minutes(5)) }), T0, 10);
    expect(recent.record).toEqual(fresh());
    expect(recent.fresh).toEqual({
      id: instruction(1, { capturedAt: at(-minutes(5)) }).id,
      at: T0.toISOString(),
      label: "sg-open-ingress sg-00000000000000001",
    });
    expect(firstSighting(instruction(1, { capturedAt: at(-minutes(10)) }), T0, 10).fresh).toBeDefined();
    expect(firstSighting(instruction(1, { capturedAt: at(-minutes(10) - 1) }), T0, 10).fresh).toBeUndefined();
  });
});

describe("decide", () => {
  it("dispatches a due, valid, first-time instruction as attempt 1", () => {
    expect(decide(input(), T0, CONFIG)).toEqual({ decision: { gate: "dispatch", attempt: 1 }, attempts: 0 });
  });

  it("follows what happened to an earlier copy this tick", () => {
    expect(decide(input({ prior: "held" }), T0, CONFIG).decision).toEqual({ gate: "held-before" });
    for (const prior of ["dispatched", "grace", "deferred", "dead-lettered", "duplicate"] as const) {
      expect(decide(input({ prior }), T0, CONFIG).decision).toEqual({ gate: "duplicate" });
    }
  });

  describe("an instruction dispatched from another message", () => {
    const captured = instruction(1).capturedAt;
    const dispatched = (msAgo: number, capturedAt = captured): InstructionRecord => ({
      ...fresh(),
      attempts: 1,
      lastDispatch: { at: at(-msAgo).toISOString(), messageId: "m-0", capturedAt },
    });

    it("is a duplicate while that attempt is in flight (the dispatch visibility), not after", () => {
      expect(decide(input({ record: dispatched(299_999) }), T0, CONFIG).decision).toEqual({ gate: "duplicate" });
      expect(decide(input({ record: dispatched(300_000) }), T0, CONFIG).decision).toEqual({
        gate: "dispatch",
        attempt: 2,
      });
    });

    it("a newer capture waits for the running attempt to end, then starts its own count of attempts", () => {
      const older = new Date(Date.parse(captured) - minutes(1)).toISOString();
      expect(decide(input({ record: dispatched(200_000, older) }), T0, CONFIG)).toEqual({
        decision: { gate: "in-flight", hideSeconds: 100 },
        attempts: 1,
      });
      expect(decide(input({ record: { ...dispatched(400_000, older), attempts: 3 } }), T0, CONFIG)).toEqual({
        decision: { gate: "dispatch", attempt: 1 },
        attempts: 0,
      });
    });

    it("the same message coming back (its remediation did not delete it) is the next attempt", () => {
      const record = { ...dispatched(10_000), lastDispatch: { ...dispatched(10_000).lastDispatch!, messageId: "m-1" } };
      expect(decide(input({ record }), T0, CONFIG).decision).toEqual({ gate: "dispatch", attempt: 2 });
    });
  });

  it("hides an instruction in its grace period until it is due, to the millisecond", () => {
    const notDue = instruction(1, { capturedAt: at(-minutes(1)), notBefore: at(minutes(14)) });
    expect(decide(input({ instruction: notDue }), T0, CONFIG).decision).toEqual({
      gate: "grace",
      remainingMs: minutes(14),
    });
    const dueNow = instruction(1, { capturedAt: at(-minutes(1)), notBefore: T0 });
    expect(decide(input({ instruction: dueNow }), T0, CONFIG).decision.gate).toBe("dispatch");
  });

  it("dead-letters after the last real attempt", () => {
    expect(decide(input({ record: { ...fresh(), attempts: 2 } }), T0, CONFIG).decision).toEqual({
      gate: "dispatch",
      attempt: 3,
    });
    expect(decide(input({ record: { ...fresh(), attempts: 3 } }), T0, CONFIG).decision).toEqual({
      gate: "attempts",
      reason: "remediation failed 3 times",
    });
  });

  it("holds a due instruction when the rate budget is spent", () => {
    expect(decide(input({ budget: 0 }), T0, CONFIG).decision).toEqual({ gate: "rate-limit" });
    expect(decide(input({ budget: 1 }), T0, CONFIG).decision.gate).toBe("dispatch");
  });

  it("gates in order: grace before attempts before the rate limit", () => {
    const notDue = instruction(1, { capturedAt: at(-minutes(1)), notBefore: at(minutes(1)) });
    const exhausted = { ...fresh(), attempts: 3 };
    expect(decide(input({ instruction: notDue, record: exhausted, budget: 0 }), T0, CONFIG).decision.gate).toBe(
      "grace",
    );
    expect(decide(input({ record: exhausted, budget: 0 }), T0, CONFIG).decision.gate).toBe("attempts");
  });

  it("never hides longer than SQS allows", () => {
    const older = new Date(Date.parse(instruction(1).capturedAt) - 1).toISOString();
    const record: InstructionRecord = {
      ...fresh(),
      lastDispatch: { at: T0.toISOString(), messageId: "m-0", capturedAt: older },
    };
    const long = decide(input({ record }), T0, { ...CONFIG, dispatchVisibilitySeconds: 50_000 });
    expect(long.decision).toEqual({ gate: "in-flight", hideSeconds: SQS_MAX_VISIBILITY_SECONDS });
  });
});

describe("circuit breaker", () => {
  const sighting = (msAgo: number, id = `i-${msAgo}`) => ({ id, at: at(-msAgo).toISOString(), label: id });

  it("counts sightings within its window and since the last resume", () => {
    const sightings = [sighting(minutes(11)), sighting(minutes(10)), sighting(minutes(9)), sighting(minutes(1))];
    expect(countedSightings(sightings, T0, 10, undefined).map((s) => s.id)).toEqual([
      `i-${minutes(9)}`,
      `i-${minutes(1)}`,
    ]);
    expect(countedSightings(sightings, T0, 10, at(-minutes(5)).getTime()).map((s) => s.id)).toEqual([
      `i-${minutes(1)}`,
    ]);
  });

  it("trips on MORE than the limit", () => {
    const three = [sighting(1), sighting(2), sighting(3)];
    expect(breakerTrips(three, 3)).toBe(false);
    expect(breakerTrips(three, 2)).toBe(true);
  });
});
