// The coordinator's gates as a pure function of (instruction, what is known about it, clock): every gate and its
// boundary, with a fake clock and no queue. The SQS side of each decision is covered by queue.test.ts.
import { describe, expect, it } from "vitest";
import { serializeInstruction } from "../../contract/instruction.ts";
import { BREAKER_SAMPLE_SIZE, breakerNotice, RESUME_COMMAND } from "../../functions/coordinator/breaker.ts";
import {
  afterReceive,
  baseDueMs,
  breakerGate,
  breakerTrips,
  COVERED_COPY_MS,
  countedSightings,
  type DecideInput,
  decide,
  decisionsFrom,
  dueWithDecisions,
  firstSighting,
  GRACE_NOTICE_RETRY_SECONDS,
  graceHideSeconds,
  hasTimeFor,
  LOOK_VISIBILITY_SECONDS,
  lookAhead,
  nextReceive,
  type Outcome,
  parseGate,
  pauseGate,
  rateBudget,
  rememberOutcome,
  SQS_MAX_VISIBILITY_SECONDS,
  staleDecision,
  validityGate,
  wantsReceive,
} from "../../functions/coordinator/gates.ts";
import type { InstructionRecord } from "../../functions/coordinator/state.ts";
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
    // An unusable switch reads as paused (platform/pause.ts): the gate then stops everything.
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

    it("a copy captured before that dispatch is a duplicate for an hour (the remediation read the resource later)", () => {
      for (const msAgo of [10_000, 299_999, 300_000, COVERED_COPY_MS - 1]) {
        expect(decide(input({ record: dispatched(msAgo) }), T0, CONFIG).decision).toEqual({ gate: "duplicate" });
      }
      // Later, a re-detection (the daily scan) is dispatched again: a skip whose reason has gone is not final.
      expect(decide(input({ record: dispatched(COVERED_COPY_MS) }), T0, CONFIG).decision).toEqual({
        gate: "dispatch",
        attempt: 2,
      });
    });

    it("Config's copy of a violation the real-time path already had fixed is a duplicate, not a second fix", () => {
      // The real-time instruction was read and dispatched 10 s after the call; Config captured the same violating
      // state 2 s after the call and its instruction (the same id) arrives 10 minutes later.
      const call = at(-minutes(10));
      const realtimeRead = new Date(call.getTime() + 20_000).toISOString();
      const record: InstructionRecord = {
        ...fresh(),
        attempts: 1,
        lastDispatch: {
          at: new Date(call.getTime() + 21_000).toISOString(),
          messageId: "m-rt",
          capturedAt: realtimeRead,
        },
      };
      const fromConfig = instruction(1, { capturedAt: new Date(call.getTime() + 2_000) });
      expect(decide(input({ instruction: fromConfig, record }), T0, CONFIG).decision).toEqual({ gate: "duplicate" });
      // A capture after the fix is a new state: judged on its own.
      const changedAgain = instruction(1, { capturedAt: at(-minutes(1)) });
      expect(decide(input({ instruction: changedAgain, record }), T0, CONFIG).decision).toEqual({
        gate: "dispatch",
        attempt: 1,
      });
    });

    it("a copy re-detected while the remediation runs (10 s into a 30 s visibility) is a duplicate", () => {
      const config = { ...CONFIG, dispatchVisibilitySeconds: 30 };
      expect(decide(input({ record: dispatched(10_000) }), T0, config).decision).toEqual({ gate: "duplicate" });
    });

    it("a capture newer than the dispatch waits for the running attempt to end, then starts its own count", () => {
      const older = new Date(Date.parse(captured) - minutes(1)).toISOString();
      const newer = instruction(1, { capturedAt: at(-100_000) });
      expect(decide(input({ instruction: newer, record: dispatched(200_000, older) }), T0, CONFIG)).toEqual({
        decision: { gate: "in-flight", hideSeconds: 100 },
        attempts: 1,
      });
      const over = { ...dispatched(400_000, older), attempts: 3 };
      expect(decide(input({ instruction: newer, record: over }), T0, CONFIG)).toEqual({
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
      lastDispatch: { at: at(-1_000).toISOString(), messageId: "m-0", capturedAt: older },
    };
    const newer = instruction(1, { capturedAt: at(-500) });
    const long = decide(input({ instruction: newer, record }), T0, { ...CONFIG, dispatchVisibilitySeconds: 50_000 });
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

describe("parse gate", () => {
  it("reads a valid body as its instruction", () => {
    expect(parseGate(serializeInstruction(instruction(1)))).toEqual({ valid: true, instruction: instruction(1) });
  });

  it("refuses a body that is not an instruction, saying why", () => {
    expect(parseGate("not json at all")).toEqual({
      valid: false,
      reason: expect.stringMatching(/^invalid instruction: message body is not JSON/),
    });
    const tampered = { ...instruction(9), annotation: "x", id: "0".repeat(32) };
    expect(parseGate(JSON.stringify(tampered))).toEqual({
      valid: false,
      reason: expect.stringMatching(/^invalid instruction: id does not match/),
    });
    expect(parseGate("")).toMatchObject({ valid: false, reason: expect.stringMatching(/^invalid instruction: /) });
  });
});

describe("duplicates within a tick", () => {
  it("a hold or a duplicate never overwrites what an earlier copy's handling recorded", () => {
    expect(rememberOutcome(undefined, "held")).toBe("held");
    expect(rememberOutcome(undefined, "duplicate")).toBe("duplicate");
    for (const prior of ["dispatched", "grace", "deferred", "dead-lettered", "duplicate", "held"] as const) {
      expect(rememberOutcome(prior, "held")).toBe(prior);
      expect(rememberOutcome(prior, "duplicate")).toBe(prior);
    }
    expect(rememberOutcome("held", "dispatched")).toBe("dispatched");
    expect(rememberOutcome(undefined, "grace")).toBe("grace");
  });

  it("dispatches each id once in a batch; its later copies are duplicates, a held one's copies are held", () => {
    const one = instruction(1);
    const two = instruction(2);
    const outcomes = new Map<string, Outcome>();
    const records = new Map([
      [one.id, fresh()],
      [two.id, fresh()],
    ]);
    const gates = [one, one, two, one].map((each, index) => {
      const prior = outcomes.get(each.id);
      const { decision } = decide(
        { instruction: each, messageId: `m-${index}`, record: records.get(each.id)!, prior, budget: 5 },
        T0,
        CONFIG,
      );
      if (decision.gate === "dispatch") outcomes.set(each.id, rememberOutcome(prior, "dispatched"));
      if (decision.gate === "duplicate") outcomes.set(each.id, rememberOutcome(prior, "duplicate"));
      return decision.gate;
    });
    expect(gates).toEqual(["dispatch", "duplicate", "dispatch", "duplicate"]);

    // Over the rate budget the first copy is held: the copies after it are held too, not deleted.
    const held = new Map<string, Outcome>();
    const first = decide(input({ budget: 0 }), T0, CONFIG).decision;
    expect(first).toEqual({ gate: "rate-limit" });
    held.set(instruction(1).id, rememberOutcome(undefined, "held"));
    expect(decide(input({ budget: 0, prior: held.get(instruction(1).id) }), T0, CONFIG).decision).toEqual({
      gate: "held-before",
    });
  });
});

describe("grace period hide", () => {
  it("hides until due, in whole seconds rounded up", () => {
    expect(graceHideSeconds(2_000, true)).toBe(2);
    expect(graceHideSeconds(1_001, true)).toBe(2);
    expect(graceHideSeconds(minutes(14), true)).toBe(14 * 60);
  });

  it("hides at most SQS's 12 hours at a time", () => {
    expect(graceHideSeconds(minutes(30 * 60), true)).toBe(43_200);
    expect(SQS_MAX_VISIBILITY_SECONDS).toBe(43_200);
  });

  it("looks again next tick while the grace notice is unsent", () => {
    expect(graceHideSeconds(minutes(14), false)).toBe(GRACE_NOTICE_RETRY_SECONDS);
    expect(graceHideSeconds(30_000, false)).toBe(30);
  });
});

describe("rate limit", () => {
  const rateLimit = { count: 20, windowMinutes: 10 };

  it("the budget is the limit less the dispatches within the window", () => {
    expect(rateBudget([], T0, rateLimit)).toBe(20);
    const times = [at(-minutes(10)), at(-minutes(10) + 1), at(-minutes(1)), T0].map((each) => each.toISOString());
    expect(rateBudget(times, T0, rateLimit)).toBe(17);
    expect(rateBudget(Array(25).fill(T0.toISOString()), T0, rateLimit)).toBe(-5);
  });
});

describe("receiving", () => {
  const config = { safetyMarginMs: 15_000, dispatchVisibilitySeconds: 300, breaker: { freshLimit: 50 } };
  const progress = { remainingMs: 60_000, budget: 5, overBudget: 0 };

  it("receives for the dispatch visibility while there is budget", () => {
    expect(nextReceive(progress, config)).toEqual({ receive: true, visibilitySeconds: 300 });
  });

  it("stops when less than the safety margin of the invocation is left", () => {
    expect(nextReceive({ ...progress, remainingMs: 14_999 }, config)).toEqual({ receive: false, stop: "time-budget" });
    expect(nextReceive({ ...progress, remainingMs: 15_000 }, config).receive).toBe(true);
  });

  it("past the rate budget, looks at one more than the breaker's limit (briefly hidden), then stops", () => {
    expect(lookAhead(config.breaker)).toBe(51);
    expect(nextReceive({ ...progress, budget: 0, overBudget: 50 }, config)).toEqual({
      receive: true,
      visibilitySeconds: LOOK_VISIBILITY_SECONDS,
    });
    expect(nextReceive({ ...progress, budget: 0, overBudget: 51 }, config)).toEqual({
      receive: false,
      stop: "rate-limit",
    });
    // A look never hides longer than a dispatch would.
    expect(nextReceive({ ...progress, budget: 0 }, { ...config, dispatchVisibilitySeconds: 30 })).toEqual({
      receive: true,
      visibilitySeconds: 30,
    });
  });

  it("the time budget is checked first", () => {
    expect(nextReceive({ remainingMs: 0, budget: 0, overBudget: 51 }, config)).toEqual({
      receive: false,
      stop: "time-budget",
    });
  });
});

describe("receives in flight", () => {
  const config = { breaker: { freshLimit: 50 }, concurrency: { receives: 10, invokes: 24 } };
  const looking = { looking: true, seen: 0, waiting: 0, inFlight: 0, budget: 20, overBudget: 0 };
  const acting = { ...looking, looking: false };

  it("while looking, starts only the receives the look-ahead still needs, counting those in flight", () => {
    // 51 to look at: six receives of ten, not more.
    expect(wantsReceive({ ...looking, inFlight: 5 }, config)).toBe(true);
    expect(wantsReceive({ ...looking, inFlight: 6 }, config)).toBe(false);
    expect(wantsReceive({ ...looking, seen: 41, inFlight: 0 }, config)).toBe(true);
    expect(wantsReceive({ ...looking, seen: 41, inFlight: 1 }, config)).toBe(false);
    expect(wantsReceive({ ...looking, seen: 51 }, config)).toBe(false);
  });

  it("past the look-ahead, reads for the budget and the look past it, and no more than can be taken at once", () => {
    // Budget 20 plus 51 past it: 71 wanted.
    expect(wantsReceive({ ...acting, waiting: 60 }, config)).toBe(true);
    expect(wantsReceive({ ...acting, waiting: 61, inFlight: 1 }, config)).toBe(false);
    expect(wantsReceive({ ...acting, budget: 0, overBudget: 41, waiting: 9 }, config)).toBe(true);
    expect(wantsReceive({ ...acting, budget: 0, overBudget: 41, waiting: 10 }, config)).toBe(false);
    expect(wantsReceive({ ...acting, budget: 0, overBudget: 51 }, config)).toBe(false);
    // A budget of a million still waits on no more than 10 receives' worth plus the Invokes in flight: 124.
    expect(wantsReceive({ ...acting, budget: 1_000_000, waiting: 113, inFlight: 1 }, config)).toBe(true);
    expect(wantsReceive({ ...acting, budget: 1_000_000, waiting: 114, inFlight: 1 }, config)).toBe(false);
  });

  it("starts with one receive and doubles with each full batch, up to the bound", () => {
    const concurrency = { receives: 10, invokes: 24 };
    expect(afterReceive(1, 10, 1, concurrency)).toEqual({ window: 2, dry: false });
    expect(afterReceive(8, 10, 8, concurrency)).toEqual({ window: 10, dry: false });
    expect(afterReceive(10, 10, 10, concurrency)).toEqual({ window: 10, dry: false });
    expect(afterReceive(4, 9, 4, concurrency)).toEqual({ window: 4, dry: false });
  });

  it("takes an empty answer as the end of the queue only from a lone receive; among several, it probes again", () => {
    const concurrency = { receives: 10, invokes: 24 };
    expect(afterReceive(1, 0, 1, concurrency)).toEqual({ window: 1, dry: true });
    expect(afterReceive(10, 0, 10, concurrency)).toEqual({ window: 1, dry: false });
    // Started among several, answered after the window came back to one: still not the lone receive's answer.
    expect(afterReceive(1, 0, 4, concurrency)).toEqual({ window: 1, dry: false });
  });
});

describe("time budget per phase", () => {
  const config = { safetyMarginMs: 15_000, saveMarginMs: 5_000 };

  it("receives and actions start only with the safety margin left; releases with the save margin", () => {
    for (const phase of ["receive", "act"] as const) {
      expect(hasTimeFor(phase, 15_000, config)).toBe(true);
      expect(hasTimeFor(phase, 14_999, config)).toBe(false);
    }
    expect(hasTimeFor("release", 14_999, config)).toBe(true);
    expect(hasTimeFor("release", 5_000, config)).toBe(true);
    expect(hasTimeFor("release", 4_999, config)).toBe(false);
  });
});

describe("circuit breaker gate and trip", () => {
  const breaker = { freshLimit: 2, windowMinutes: 10 };
  const sighting = (n: number, msAgo: number) => ({
    id: `i-${n}`,
    at: at(-msAgo).toISOString(),
    label: `sg-open-ingress sg-${n}`,
  });

  it("trips on more than the limit of counted sightings and names them", () => {
    const two = [sighting(1, 1), sighting(2, 2)];
    expect(breakerGate(two, T0, breaker, undefined)).toEqual({ trips: false });
    const three = [...two, sighting(3, 3)];
    expect(breakerGate(three, T0, breaker, undefined)).toEqual({ trips: true, counted: three });
    // Outside the window or before the last resume: not counted.
    expect(breakerGate([...two, sighting(3, minutes(10))], T0, breaker, undefined)).toEqual({ trips: false });
    expect(breakerGate(three, T0, breaker, at(-2).getTime())).toEqual({ trips: false });
  });

  it("says why it paused and reports a sample and the resume command", () => {
    const counted = Array.from({ length: 12 }, (_, n) => sighting(n, n));
    const notice = breakerNotice(counted, { freshLimit: 11, windowMinutes: 10 });
    expect(notice.reason).toBe("circuit breaker: 12 fresh instructions within 10 minutes (limit 11)");
    expect(notice.report).toEqual({
      kind: "breaker-tripped",
      freshInstructions: 12,
      limit: 11,
      windowMinutes: 10,
      sample: counted.slice(0, BREAKER_SAMPLE_SIZE).map((each) => each.label),
      resumeCommand: RESUME_COMMAND,
    });
    expect(notice.report.sample).toHaveLength(10);
    expect(RESUME_COMMAND).toBe("remedy resume");
  });
});

describe("the due time once Slack has spoken (Fix now, Snooze)", () => {
  const base = T0.getTime() + minutes(30);
  const fixNow = (ms: number) => ({ action: "fix-now" as const, atMs: T0.getTime() + ms });
  const snooze = (ms: number) => ({ action: "snooze" as const, atMs: T0.getTime() + ms });

  it("without decisions is the base due: the later of notBefore and the account's grace", () => {
    expect(dueWithDecisions(base, [], 60)).toEqual({ dueMs: base });
    const one = instruction(1, { notBefore: at(minutes(10)) });
    expect(baseDueMs(one)).toBe(T0.getTime() + minutes(10));
    expect(baseDueMs(one, T0.getTime() + minutes(20))).toBe(T0.getTime() + minutes(20));
    expect(baseDueMs(one, T0.getTime() + minutes(5))).toBe(T0.getTime() + minutes(10));
  });

  it("Fix now: due when it was pressed, never later than without it", () => {
    expect(dueWithDecisions(base, [fixNow(minutes(2))], 60)).toEqual({
      dueMs: T0.getTime() + minutes(2),
      by: "fix-now",
    });
    expect(dueWithDecisions(base, [fixNow(minutes(40))], 60)).toEqual({ dueMs: base, by: "fix-now" });
  });

  it("Snooze: the base due plus the deployed snooze, whenever it was pressed", () => {
    expect(dueWithDecisions(base, [snooze(minutes(1))], 60)).toEqual({ dueMs: base + minutes(60), by: "snooze" });
    expect(dueWithDecisions(base, [snooze(minutes(45))], 1_440)).toEqual({
      dueMs: base + minutes(1_440),
      by: "snooze",
    });
  });

  it("the later decision wins; a tie goes to Snooze (towards the grace)", () => {
    expect(dueWithDecisions(base, [snooze(minutes(1)), fixNow(minutes(2))], 60).by).toBe("fix-now");
    expect(dueWithDecisions(base, [fixNow(minutes(1)), snooze(minutes(2))], 60).by).toBe("snooze");
    expect(dueWithDecisions(base, [fixNow(minutes(1)), snooze(minutes(1))], 60).by).toBe("snooze");
    expect(dueWithDecisions(base, [snooze(minutes(1)), fixNow(minutes(1))], 60).by).toBe("snooze");
  });

  it("decide follows the decided due and nothing else: attempts and the rate limit still apply", () => {
    const graced = instruction(1, { notBefore: at(minutes(30)) });
    const due = T0.getTime();
    expect(decide(input({ instruction: graced }), T0, CONFIG).decision.gate).toBe("grace");
    expect(decide(input({ instruction: graced, decidedDueMs: due }), T0, CONFIG).decision).toEqual({
      gate: "dispatch",
      attempt: 1,
    });
    expect(decide(input({ instruction: graced, decidedDueMs: due, budget: 0 }), T0, CONFIG).decision.gate).toBe(
      "rate-limit",
    );
    const spent = { ...fresh(), attempts: 3 };
    expect(decide(input({ instruction: graced, decidedDueMs: due, record: spent }), T0, CONFIG).decision.gate).toBe(
      "attempts",
    );
    expect(decide(input({ instruction: graced, decidedDueMs: due, prior: "dispatched" }), T0, CONFIG).decision).toEqual(
      { gate: "duplicate" },
    );
    expect(
      decide(input({ instruction: instruction(1), decidedDueMs: T0.getTime() + minutes(90) }), T0, CONFIG).decision,
    ).toEqual({ gate: "grace", remainingMs: minutes(90) });
  });
});

describe("stale decisions (ids repeat when a problem comes back)", () => {
  const captured = at(minutes(-20)).toISOString();
  const record = { ...fresh(), firstSeenAt: at(minutes(-10)).toISOString() };
  const dispatched = {
    ...record,
    lastDispatch: { at: at(minutes(-5)).toISOString(), messageId: "m-1", capturedAt: captured },
  };

  it("a decision counts only if taken since the coordinator first saw the instruction", () => {
    expect(staleDecision(T0.getTime(), record, captured)).toBeUndefined();
    expect(staleDecision(T0.getTime() - minutes(10), record, captured)).toBeUndefined();
    expect(staleDecision(T0.getTime() - minutes(11), record, captured)).toMatch(/before the coordinator first saw/);
  });

  it("for a new detection, only if taken after the last dispatch; a retry of the same capture keeps it", () => {
    // Captured before the last dispatch ended, delivered after it: the dispatch decides.
    const newer = at(minutes(-8)).toISOString();
    expect(staleDecision(T0.getTime() - minutes(6), dispatched, newer)).toMatch(/about an earlier detection/);
    expect(staleDecision(T0.getTime() - minutes(5), dispatched, newer)).toMatch(/about an earlier detection/);
    expect(staleDecision(T0.getTime() - minutes(4), dispatched, newer)).toBeUndefined();
    expect(staleDecision(T0.getTime() - minutes(6), dispatched, captured)).toBeUndefined();
  });

  it("only if taken after this capture (all the remediation knows when it re-reads the decision)", () => {
    const recaptured = at(minutes(-2)).toISOString();
    expect(staleDecision(T0.getTime() - minutes(3), record, recaptured)).toMatch(/before this capture/);
    expect(staleDecision(T0.getTime() - minutes(2), record, recaptured)).toBeUndefined();
  });

  it("decisionsFrom (in the pending record, for the Slack endpoint) is exactly where staleness ends", () => {
    expect(decisionsFrom(record, captured)).toBe(record.firstSeenAt);
    expect(decisionsFrom(dispatched, captured)).toBe(record.firstSeenAt);
    for (const [capture, expected] of [
      [at(minutes(-8)).toISOString(), Date.parse(dispatched.lastDispatch.at) + 1],
      [at(minutes(-1)).toISOString(), T0.getTime() - minutes(1)],
    ] as const) {
      const from = Date.parse(decisionsFrom(dispatched, capture));
      expect(from).toBe(expected);
      expect(staleDecision(from, dispatched, capture)).toBeUndefined();
      expect(staleDecision(from - 1, dispatched, capture)).toBeDefined();
    }
  });
});
