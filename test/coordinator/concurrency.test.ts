// The coordinator's concurrency and time budget, against a real SQS-protocol server (local-aws-sqs, in this
// process): how many receives and Invokes are in flight at once, that copies of one instruction returned by
// concurrent receives are still decided one after another (one dispatch per id), that the rate limit stays exact
// with Invokes in flight, and that a tick whose time runs out — while receiving, dispatching or releasing — leaves
// each message dispatched once and recorded, or not acted on and released (or left to reappear).
// Time: the coordinator reads `now` from a fake clock and its remaining time from a function each test controls
// (driven by the calls made, never by a real clock); the server's timers run on vitest's fake timers (see
// test/helpers/local-sqs.ts). The Lambda here is gated: each Invoke waits until the test lets it go, so "in flight"

// is something the test holds, not a timing.
import type { InvokeCommand } from "@aws-sdk/client-lambda";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { PutParameterCommand } from "@aws-sdk/client-ssm";
import { describe, expect, it, vi } from "vitest";
import { parseRemediationRequest, type RemediationRequest } from "../../contract/dispatch.ts";
import type { Instruction } from "../../contract/instruction.ts";
import type { Reporter } from "../../contract/report.ts";
import { tripBreaker } from "../../functions/coordinator/breaker.ts";
import { type CoordinatorState, emptyState, memoryStateStore } from "../../functions/coordinator/state.ts";
import { type CoordinatorConfig, type CoordinatorSummary, runCoordinator } from "../../functions/coordinator/tick.ts";
import type { LocalSqs } from "../helpers/local-sqs.ts";
import { localSqsPerTest } from "../helpers/local-sqs-per-test.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  enqueue,
  enqueueRaw,
  fakeClock,
  fakePauseParameter,
  instruction,
  PAUSE_PARAMETER,
  recordingReporter,
  T0,
  testConfig,
  testDeps,
} from "./support.ts";

let local: LocalSqs;
localSqsPerTest((server) => {
  local = server;
});

const MARGIN = 15_000;

/** One turn of the event loop (not a timer): lets every answer that has arrived be handled. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

type Outcome = "accept" | "throw";

interface Parked {
  request: RemediationRequest;
  release: () => void;
}

/**
 * A Lambda whose Invokes each wait until the test releases them (`parked`), counting how many are in flight at once.
 * `outcome` decides, when released, whether the Invoke is accepted (202) or refused (throttled). With `honourAbort`,
 * an Invoke still parked when the tick's abort signal fires fails with the SDK's AbortError.
 */
function gatedLambda(outcome: (request: RemediationRequest, call: number) => Outcome = () => "accept") {
  const lambda = {
    calls: 0,
    inFlight: 0,
    maxInFlight: 0,
    parked: [] as Parked[],
    accepted: [] as RemediationRequest[],
    /** The remaining time the tick would have read when each Invoke was sent. */
    remainingAtCall: [] as number[],
    remaining: (): number => 60_000,
    honourAbort: false,
    async send(command: InvokeCommand, options?: { abortSignal?: AbortSignal }) {
      const request = parseRemediationRequest(command.input.Payload);
      lambda.remainingAtCall.push(lambda.remaining());
      const call = ++lambda.calls;
      lambda.inFlight++;
      lambda.maxInFlight = Math.max(lambda.maxInFlight, lambda.inFlight);
      try {
        await new Promise<void>((resolve, reject) => {
          lambda.parked.push({ request, release: resolve });
          const signal = options?.abortSignal;
          if (lambda.honourAbort && signal) {
            signal.addEventListener("abort", () =>
              reject(Object.assign(new Error("Request aborted"), { name: "AbortError" })),
            );
          }
        });
      } finally {
        lambda.inFlight--;
      }
      if (outcome(request, call) === "throw") {
        throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
      }
      lambda.accepted.push(request);
      return { StatusCode: 202 };
    },
  };
  return lambda;
}
type GatedLambda = ReturnType<typeof gatedLambda>;

/** Counts the ReceiveMessage calls a client sends, and how many are in flight at once (synchronously, at send). */
function countReceives(sqs: SQSClient) {
  const counts = { sent: 0, inFlight: 0, maxInFlight: 0 };
  const send = sqs.send.bind(sqs) as (...args: unknown[]) => Promise<unknown>;
  (sqs as unknown as { send: (...args: unknown[]) => Promise<unknown> }).send = (command, ...rest) => {
    if (!(command instanceof ReceiveMessageCommand)) return send(command, ...rest);
    counts.sent++;
    counts.inFlight++;
    counts.maxInFlight = Math.max(counts.maxInFlight, counts.inFlight);
    return send(command, ...rest).finally(() => counts.inFlight--);
  };
  return counts;
}

function setup(
  overrides: Partial<CoordinatorConfig> = {},
  lambda: GatedLambda = gatedLambda(),
  state?: CoordinatorState,
) {
  const clock = fakeClock();
  const pause = fakePauseParameter();
  const store = memoryStateStore(state);
  const log = recordingLog();
  const config = testConfig(local, overrides);
  const sqs = local.client();
  const receives = countReceives(sqs);
  const abort = new AbortController();
  const tick = (remainingTimeMs: () => number = () => 60_000) => {
    lambda.remaining = remainingTimeMs;
    return runCoordinator(
      testDeps({
        sqs,
        lambda,
        ssm: pause.ssm,
        config,
        now: clock.now,
        store,
        reporter: recordingReporter(),
        log,
        remainingTimeMs,
        // The tick's deadline is the test's to fire, never a real timer's.
        abortSignal: abort.signal,
      }),
    );
  };
  return { clock, lambda, store, log, config, sqs, receives, abort, tick };
}

/**
 * Runs a tick to its end, letting parked Invokes go as `release` picks them (default: all of them, each turn).
 * `onTurn` sees every turn in which something is parked, before the release.
 */
async function drive(
  tick: Promise<CoordinatorSummary>,
  lambda: GatedLambda,
  options: { release?: (parked: Parked[]) => Parked[]; onTurn?: () => void } = {},
): Promise<CoordinatorSummary> {
  let done = false;
  const result = tick.finally(() => {
    done = true;
  });
  const release = options.release ?? ((parked) => parked.splice(0));
  for (let turns = 0; !done; turns++) {
    if (turns > 200_000) throw new Error("tick did not finish");
    await turn();
    if (lambda.parked.length === 0) continue;
    options.onTurn?.();
    for (const each of release(lambda.parked)) each.release();
  }
  return result;
}

const ids = (requests: readonly RemediationRequest[]) => requests.map((request) => request.instruction.id);
const backlog = (count: number, from = 0): Instruction[] =>
  Array.from({ length: count }, (_, n) => instruction(from + n));

describe("concurrency bounds", () => {
  it("keeps at most concurrency.invokes Invokes and concurrency.receives receives in flight, and fills both", async () => {
    const t = setup({ concurrency: { receives: 3, invokes: 4 } });
    await enqueue(local.sqs, local.queueUrl, backlog(60));
    const inFlightSeen: number[] = [];

    const summary = await drive(t.tick(), t.lambda, {
      // One at a time: the tick refills the slot it frees before the next one goes.
      release: (parked) => parked.splice(0, 1),
      onTurn: () => inFlightSeen.push(t.lambda.inFlight),
    });

    expect(summary).toMatchObject({ received: 60, dispatched: 60, invokeFailures: 0, released: 0 });
    expect(t.lambda.maxInFlight).toBe(4);
    expect(Math.max(...inFlightSeen)).toBe(4);
    expect(t.receives.maxInFlight).toBe(3);
    expect(new Set(ids(t.lambda.accepted)).size).toBe(60);
    expect(t.store.saves).toBe(1);
  });

  it("starts with one receive: an idle queue costs one SQS call a tick", async () => {
    const t = setup();
    expect(await drive(t.tick(), t.lambda)).toMatchObject({ received: 0, dispatched: 0, sqsCalls: 1 });
    expect(t.receives.sent).toBe(1);
  });

  it("ramps receives up to its bound only while full batches come back", async () => {
    const t = setup({ concurrency: { receives: 8, invokes: 24 } });
    await enqueue(local.sqs, local.queueUrl, backlog(200));
    const summary = await drive(t.tick(), t.lambda);
    expect(summary).toMatchObject({ received: 200, dispatched: 200 });
    expect(t.receives.maxInFlight).toBe(8);
    expect(t.lambda.maxInFlight).toBeLessThanOrEqual(24);
  });
});

describe("copies of one instruction across concurrent receives", () => {
  it("dispatches the id once: later copies wait for the first copy's Invoke, then are deleted as duplicates", async () => {
    const t = setup({ concurrency: { receives: 10, invokes: 24 } });
    const one = instruction(1);
    const others = backlog(45, 100);
    // Copies spread so that concurrent receives bring them back in different batches.
    const queued = [...others];
    for (const at of [0, 9, 18, 27, 36, 45]) queued.splice(at, 0, one);
    await enqueue(local.sqs, local.queueUrl, queued);

    const summary = await drive(t.tick(), t.lambda, {
      // Hold the first copy's Invoke until nothing else is parked: every other copy is decided meanwhile.
      release: (parked) => {
        const others = parked.filter((each) => each.request.instruction.id !== one.id);
        if (others.length > 0) {
          for (const each of others) parked.splice(parked.indexOf(each), 1);
          return others;
        }
        return parked.splice(0);
      },
    });

    expect(summary).toMatchObject({ received: 51, dispatched: 46, duplicatesDeleted: 5, invokeFailures: 0 });
    expect(ids(t.lambda.accepted).filter((id) => id === one.id)).toHaveLength(1);
    expect(t.lambda.calls).toBe(46);
    expect(t.receives.maxInFlight).toBeGreaterThan(1);
    // The copies were deleted after the dispatch; the dispatched messages stay hidden for their remediations.
    expect(await local.counts()).toEqual({ stored: 46, visible: 0, invisible: 46 });
    expect(t.store.current()!.instructions[one.id]).toMatchObject({ attempts: 1 });
  });

  it("holds the later copies when the first copy's Invoke fails: none of them is dispatched", async () => {
    const one = instruction(1);
    const lambda = gatedLambda((request) => (request.instruction.id === one.id ? "throw" : "accept"));
    const t = setup({ concurrency: { receives: 10, invokes: 24 } }, lambda);
    const queued = [...backlog(25, 100)];
    for (const at of [0, 12, 24]) queued.splice(at, 0, one);
    await enqueue(local.sqs, local.queueUrl, queued);

    const summary = await drive(t.tick(), t.lambda);

    expect(summary).toMatchObject({ received: 28, dispatched: 25, invokeFailures: 1, released: 2 });
    expect(t.lambda.calls).toBe(26);
    expect(t.store.current()!.instructions[one.id]).toMatchObject({ attempts: 0 });
    expect(t.store.current()!.instructions[one.id]?.lastDispatch).toBeUndefined();
  });
});

describe("rate limit with Invokes in flight", () => {
  it("never dispatches more than the budget, however many Invokes could be in flight", async () => {
    const t = setup({ rateLimit: { count: 7, windowMinutes: 10 }, concurrency: { receives: 10, invokes: 24 } });
    await enqueue(local.sqs, local.queueUrl, backlog(50));
    // Nothing is released until every decision this turn allows has been taken.
    const summary = await drive(t.tick(), t.lambda, {
      release: (parked) => (parked.length >= 7 ? parked.splice(0) : []),
    });

    expect(summary).toMatchObject({ dispatched: 7, invokeFailures: 0, released: 43 });
    expect(t.lambda.calls).toBe(7);
    expect(t.lambda.maxInFlight).toBe(7);
    expect(t.store.current()!.dispatches).toHaveLength(7);
    expect(await local.counts()).toEqual({ stored: 50, visible: 43, invisible: 7 });

    t.clock.advance(60_000);
    expect(await drive(t.tick(), t.lambda)).toMatchObject({ dispatched: 0 });
    expect(t.lambda.calls).toBe(7);
  });

  it("gives the budget of a failed Invoke back, and counts the window's earlier dispatches", async () => {
    // Two dispatches already in this window: five left. The first three Invokes are refused.
    const state = emptyState();
    state.dispatches.push(new Date(T0.getTime() - 60_000).toISOString(), new Date(T0.getTime() - 30_000).toISOString());
    const lambda = gatedLambda((_request, call) => (call <= 3 ? "throw" : "accept"));
    const t = setup(
      { rateLimit: { count: 7, windowMinutes: 10 }, concurrency: { receives: 10, invokes: 24 } },
      lambda,
      state,
    );
    await enqueue(local.sqs, local.queueUrl, backlog(30));

    const summary = await drive(t.tick(), t.lambda, { release: (parked) => parked.splice(0, 1) });

    expect(summary).toMatchObject({ dispatched: 5, invokeFailures: 3 });
    expect(t.lambda.calls).toBe(8);
    expect(t.lambda.maxInFlight).toBeLessThanOrEqual(5);
    expect(t.store.current()!.dispatches).toHaveLength(7);
  });
});

describe("the time budget", () => {
  it("runs out mid-dispatch: no Invoke starts past it, what was invoked is recorded, the rest is released", async () => {
    const t = setup({ safetyMarginMs: MARGIN, concurrency: { receives: 10, invokes: 4 } });
    const queued = backlog(60);
    await enqueue(local.sqs, local.queueUrl, queued);
    // Each Invoke uses a second of the invocation: 20 s left at first, the safety margin reached after the fifth.
    const summary = await drive(
      t.tick(() => 20_000 - 1_000 * t.lambda.calls),
      t.lambda,
      { release: (parked) => parked.splice(0, 1) },
    );

    expect(t.lambda.calls).toBe(6);
    expect(t.lambda.remainingAtCall.every((ms) => ms >= MARGIN)).toBe(true);
    expect(summary).toMatchObject({
      received: 60,
      dispatched: 6,
      released: 54,
      unreleased: 0,
      timeBudgetReached: true,
    });
    // The Invokes in flight when the time ran out finished and were recorded, like the others.
    const state = t.store.current()!;
    expect(t.store.saves).toBe(1);
    const invoked = new Set(ids(t.lambda.accepted));
    expect(invoked.size).toBe(6);
    expect(state.dispatches).toHaveLength(6);
    for (const each of queued) {
      const record = state.instructions[each.id]!;
      if (invoked.has(each.id)) expect(record).toMatchObject({ attempts: 1, lastDispatch: expect.any(Object) });
      else expect(record).toMatchObject({ attempts: 0 });
      if (!invoked.has(each.id)) expect(record.lastDispatch).toBeUndefined();
    }
    expect(await local.counts()).toEqual({ stored: 60, visible: 54, invisible: 6 });
  });

  it("runs out while reading the look-ahead: nothing is dispatched, everything received is released", async () => {
    const t = setup({ safetyMarginMs: MARGIN, breaker: { freshLimit: 1_000, windowMinutes: 10 } });
    await enqueue(local.sqs, local.queueUrl, backlog(100));
    const summary = await drive(
      t.tick(() => (t.receives.sent >= 3 ? MARGIN - 1 : 60_000)),
      t.lambda,
    );

    expect(t.lambda.calls).toBe(0);
    expect(summary.received).toBeGreaterThan(0);
    expect(summary.received).toBeLessThan(100);
    expect(summary).toMatchObject({ dispatched: 0, released: summary.received, timeBudgetReached: true });
    expect(await local.counts()).toEqual({ stored: 100, visible: 100, invisible: 0 });
    expect(t.store.current()!.dispatches).toEqual([]);
    expect(t.store.saves).toBe(1);
  });

  it("runs out while receiving past the look-ahead: no Invoke starts past it, nothing is left hidden", async () => {
    const t = setup({ safetyMarginMs: MARGIN, breaker: { freshLimit: 5, windowMinutes: 10 } });
    await enqueue(local.sqs, local.queueUrl, backlog(100));
    const summary = await drive(
      t.tick(() => (t.receives.sent >= 4 ? MARGIN - 1 : 60_000)),
      t.lambda,
    );

    expect(t.lambda.remainingAtCall.every((ms) => ms >= MARGIN)).toBe(true);
    expect(summary.timeBudgetReached).toBe(true);
    expect(summary.received).toBeLessThan(100);
    expect(summary.dispatched).toBe(t.lambda.calls);
    expect(summary.dispatched + summary.released).toBe(summary.received);
    expect(summary.unreleased).toBe(0);
    expect(t.store.current()!.dispatches).toHaveLength(summary.dispatched);
    expect(await local.counts()).toEqual({
      stored: 100,
      visible: 100 - summary.dispatched,
      invisible: summary.dispatched,
    });
  });

  it("runs out before the release: held messages are left to reappear, and the state is still saved", async () => {
    const t = setup({ safetyMarginMs: MARGIN, saveMarginMs: 5_000, rateLimit: { count: 3, windowMinutes: 10 } });
    await enqueue(local.sqs, local.queueUrl, backlog(20));
    // Once three are invoked, less than the save margin is left: no release batch may start.
    const summary = await drive(
      t.tick(() => (t.lambda.calls >= 3 ? 4_000 : 60_000)),
      t.lambda,
    );

    expect(summary).toMatchObject({ dispatched: 3, released: 0, unreleased: 17, timeBudgetReached: true });
    expect(t.store.saves).toBe(1);
    expect(t.store.current()!.dispatches).toHaveLength(3);
    expect(await local.counts()).toEqual({ stored: 20, visible: 0, invisible: 20 });
    // Not lost: they come back when their visibility (30 s here) ends, as do the three dispatched ones, whose (fake)
    // remediations did not delete them.
    await vi.advanceTimersByTimeAsync(31_000);
    expect(await local.counts()).toEqual({ stored: 20, visible: 20, invisible: 0 });
  });

  it("abandons Invokes still in flight when the tick's time is up, and records them as dispatched", async () => {
    const t = setup({ safetyMarginMs: MARGIN, concurrency: { receives: 10, invokes: 4 } });
    t.lambda.honourAbort = true;
    await enqueue(local.sqs, local.queueUrl, backlog(20));
    // The deadline fires once four Invokes are parked; from then on only the save margin is left.
    const summary = await drive(
      t.tick(() => (t.abort.signal.aborted ? 4_000 : 60_000)),
      t.lambda,
      {
        release: (parked) => {
          if (parked.length === 4 && !t.abort.signal.aborted) t.abort.abort();
          return [];
        },
      },
    );

    expect(t.lambda.calls).toBe(4);
    expect(summary).toMatchObject({
      dispatched: 4,
      invokeFailures: 0,
      timeBudgetReached: true,
      released: 0,
      unreleased: 16,
    });
    const state = t.store.current()!;
    expect(state.dispatches).toHaveLength(4);
    const abandoned = t.log.lines.filter(
      (line) => line.message === "invoke abandoned at the time budget: counted as dispatched",
    );
    expect(abandoned).toHaveLength(4);
    for (const line of abandoned) {
      expect(state.instructions[line.fields.instructionId as string]).toMatchObject({ attempts: 1 });
    }
    expect(t.store.saves).toBe(1);
  });
});

describe("reports and the pause write keep to the time budget too", () => {
  it("a report still being published at the deadline is abandoned: the tick ends and saves its state", async () => {
    await enqueueRaw(local.sqs, local.queueUrl, ["not an instruction"]);
    const abort = new AbortController();
    const signals: (AbortSignal | undefined)[] = [];
    // SNS that never answers, unless the call is abandoned.
    const hanging: Reporter = {
      report: (_body, options) =>
        new Promise((_resolve, reject) => {
          signals.push(options?.abortSignal);
          options?.abortSignal?.addEventListener("abort", () => reject(new Error("Request aborted")));
          abort.abort();
        }),
    };
    const store = memoryStateStore();
    const log = recordingLog();
    const summary = await runCoordinator(
      testDeps({
        sqs: local.client(),
        lambda: gatedLambda(),
        ssm: fakePauseParameter().ssm,
        config: testConfig(local),
        now: fakeClock().now,
        store,
        reporter: hanging,
        log,
        remainingTimeMs: () => (abort.signal.aborted ? 4_000 : 60_000),
        abortSignal: abort.signal,
      }),
    );
    expect(signals).toEqual([abort.signal]);
    expect(summary).toMatchObject({ deadLettered: 1, dispatched: 0 });
    expect(log.lines.filter((l) => l.message === "could not send report")).toMatchObject([
      { fields: { kind: "dead-lettered", errorMessage: "Request aborted" } },
    ]);
    expect(store.saves).toBe(1);
  });

  it("the breaker's pause write is sent with the tick's deadline", async () => {
    const pause = fakePauseParameter();
    const abort = new AbortController();
    const sent = vi.spyOn(pause.ssm, "send");
    await tripBreaker([], {
      ssm: pause.ssm,
      pauseParameter: PAUSE_PARAMETER,
      breaker: { freshLimit: 0, windowMinutes: 10 },
      now: () => T0,
      log: recordingLog(),
      report: async () => true,
      abortSignal: abort.signal,
    });
    const put = sent.mock.calls.find(([command]) => command instanceof PutParameterCommand);
    expect(put?.[1]).toEqual({ abortSignal: abort.signal });
    expect(pause.state()).toMatchObject({ paused: true, by: "circuit-breaker" });
  });
});
