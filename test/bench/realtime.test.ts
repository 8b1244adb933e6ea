// The real-time benchmark's parts (bench/realtime.bench.ts) and its cost section (bench/cost.bench.ts): the run-now's
// start against a running tick, Lambda's throttle retries and maximum age, the simulation's arithmetic, what the
// function and the remediation are measured doing, and the cost lines' quantities.
import { afterAll, describe, expect, it } from "vitest";
import {
  DEFAULT_ASSUMPTIONS,
  DEFAULT_REALTIME_COST,
  REALTIME_CALLS_PER_CHANGE,
  type RealtimeCostInputs,
  realtimeCost,
  realtimeLines,
  total,
} from "../../bench/cost.bench.ts";
import {
  coordinatorStart,
  distribution,
  measureRealtimeFunction,
  measureRemediation,
  type PathModel,
  percentile,
  REALTIME_STAGES,
  restoreMocks,
  simulateConfig,
  simulateRealtime,
} from "../../bench/realtime.bench.ts";

afterAll(restoreMocks);

describe("the run-now's start (coordinatorStart)", () => {
  it("starts at once when no tick is running", () => {
    // The current tick started 30 s before the instruction was queued and lasted 1.2 s.
    expect(coordinatorStart(0.3, 30, 1.2)).toEqual({ start: 0.3, throttled: false, dropped: false });
  });

  it("a run-now that meets a running tick is retried 1 s later, then at doubling intervals", () => {
    // The tick started 0.2 s before: running until 1.0 s; the run-now at 0.3 s is throttled, retried at 1.3 s.
    expect(coordinatorStart(0.3, 0.2, 1.2)).toEqual({ start: 1.3, throttled: true, dropped: false });
    // Running until 3.8 s: retried at 1.3 (running), 3.3 (running), 7.3.
    expect(coordinatorStart(0.3, 0.2, 4)).toEqual({ start: 7.3, throttled: true, dropped: false });
  });

  it("past its maximum age (60 s) the run-now is dropped and the schedule's next tick takes the message", () => {
    // A tick that runs its whole minute: every retry meets it.
    expect(coordinatorStart(0.3, 0.2, 59.9)).toEqual({ start: 59.8, throttled: true, dropped: true });
  });

  it("the schedule's next tick wins when it starts before the run-now", () => {
    // The next tick starts 0.1 s after the instruction is queued; the run-now arrives at 0.4 s.
    const start = coordinatorStart(0.4, 59.9, 1);
    expect(start.start).toBeCloseTo(0.1, 9);
    expect(start.dropped).toBe(false);
  });
});

describe("percentiles", () => {
  it("nearest rank: p50 and p99 of 1..100 are 50 and 99, max 100", () => {
    const values = Array.from({ length: 100 }, (_, n) => 100 - n);
    expect(
      percentile(
        [...values].sort((a, b) => a - b),
        50,
      ),
    ).toBe(50);
    expect(distribution(values)).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(percentile([], 50)).toBeNaN();
  });
});

const model: PathModel = {
  realtime: {
    name: "stub",
    ownMs: 2,
    calls: { DescribeSecurityGroupsCommand: 1, SendMessageBatchCommand: 1, "InvokeCommand (run now)": 1 },
    callCount: 3,
    outcome: "queued",
  },
  tick: {
    runs: 1,
    toDispatchMs: 100,
    toDispatchOwnMs: 20,
    tickMs: 101,
    tickOwnMs: 21,
    callsToDispatch: 5,
    receivesToDispatch: 2,
    tickCalls: 6,
    tickSqsCalls: 2,
    stateLoads: 1,
    stateSaves: 1,
  },
  remediation: { status: "fixed", callsToFix: 8, callsAfterFix: 4, order: [], ownMs: 10 },
  stages: REALTIME_STAGES,
};

describe("the simulation", () => {
  it("the queue's delay adds exactly itself to every simulated call (same seed, same draws)", () => {
    const none = simulateRealtime(model, 0, 2_000);
    const twenty = simulateRealtime(model, 20, 2_000);
    expect(twenty.total.p50 - none.total.p50).toBeCloseTo(20, 9);
    expect(twenty.total.p99 - none.total.p99).toBeCloseTo(20, 9);
    expect(twenty.stages["queue delay (realtime_delay_seconds)"]).toEqual({ p50: 20, p99: 20, max: 20 });
  });

  it("the median call takes at least the delay plus the dry receive, and a few run-nows meet a running tick", () => {
    const result = simulateRealtime(model, 20, 2_000);
    expect(result.total.p50).toBeGreaterThan(21);
    expect(result.throttledShare).toBeGreaterThan(0);
    expect(result.throttledShare).toBeLessThan(0.1);
  });

  it("the Config-driven anchor keeps timeline.bench's stated range: a median of about 3 minutes, at most 15 + a few", () => {
    const config = simulateConfig(model, 4_000);
    expect(config.stages["change → rule invoked (Config, assumed)"]!.p50).toBeGreaterThan(170);
    expect(config.stages["change → rule invoked (Config, assumed)"]!.p50).toBeLessThan(190);
    expect(config.stages["change → rule invoked (Config, assumed)"]!.max).toBeLessThanOrEqual(900);
    expect(config.total.p50).toBeGreaterThan(simulateRealtime(model, 20, 4_000).total.p99);
  });
});

describe("what the benchmark measures", () => {
  it("the real-time function on a recorded AuthorizeSecurityGroupIngress: reads the group, queues, asks for a run", async () => {
    const open = await measureRealtimeFunction("sg open", "realtime/cloudtrail/authorize-sg-ingress.json", true, 2);
    expect(open.outcome).toBe("queued");
    expect(open.calls).toEqual({
      DescribeSecurityGroupsCommand: 1,
      DescribeSecurityGroupRulesCommand: 1,
      SendMessageBatchCommand: 1,
      "GetObjectCommand (undo exemption)": 1,
      "InvokeCommand (run now)": 1,
    });
    const clean = await measureRealtimeFunction("sg clean", "realtime/cloudtrail/authorize-sg-ingress.json", false, 2);
    expect(clean).toMatchObject({ outcome: "nothing-to-fix", callCount: 2 });
  });

  it("the remediation's calls, in order, up to the revoke and after it", async () => {
    const figures = await measureRemediation(2);
    expect(figures.status).toBe("fixed");
    expect(figures.order[figures.callsToFix - 1]).toMatch(/^RevokeSecurityGroupIngress/);
    expect(figures.order).toContain("PutObject (dispatch claim)");
    expect(figures.callsToFix + figures.callsAfterFix).toBe(figures.order.length);
  });
});

describe("the real-time path's cost per 1,000 events", () => {
  const inputs: RealtimeCostInputs = {
    fixEventSeconds: 0.3,
    cleanEventSeconds: 0.1,
    run: { seconds: 1.2, sqsCalls: 2, stateLoads: 1, stateSaves: 1 },
    undoReadsPerFix: 1,
  };
  const quantity = (lines: ReturnType<typeof realtimeLines>, item: string) =>
    lines.find((line) => line.item === item)!.quantity;

  it("counts every SQS request and Lambda invocation of 1,000 events that all find a hole", () => {
    const lines = realtimeLines(inputs, { ...DEFAULT_REALTIME_COST, fixShare: 1 }, 1_000);
    expect(quantity(lines, "EventBridge's SendMessage to the real-time queue")).toBe(1_000);
    expect(quantity(lines, "the mapping's ReceiveMessage and DeleteMessageBatch")).toBe(2_000);
    expect(quantity(lines, "the instruction's SendMessageBatch")).toBe(1_000);
    expect(quantity(lines, "the coordinator's extra run's calls")).toBe(2_000);
    expect(quantity(lines, "requests (the coordinator's extra run)")).toBe(1_000);
    // 1,000 × (0.3 s + 80% × 0.6 s of init) × 256 MB.
    expect(quantity(lines, "GB-seconds (real-time function)")).toBeCloseTo(1_000 * (0.3 + 0.8 * 0.6) * 0.25, 9);
    // AWS management events on the default bus and the trail's first copy are free.
    const free = lines.filter((line) => line.service === "EventBridge" || line.service === "CloudTrail");
    expect(free.map((line) => [line.quantity, line.usd])).toEqual([
      [1_000, 0],
      [1_000, 0],
    ]);
  });

  it("scales with the events: a month's bill is the per-1,000 figure times the volume, plus the idle polls apart", () => {
    const report = realtimeCost(inputs);
    expect(total(report.monthly)).toBeCloseTo(
      (total(report.perThousand) * DEFAULT_REALTIME_COST.eventsPerMonth) / 1_000,
      9,
    );
    expect(total(report.perThousandAllFixes)).toBeGreaterThan(total(report.perThousand));
    // 5 pollers × 3 long polls a minute × 30 days.
    expect(report.fixedMonthly[0]!.quantity).toBe(5 * 3 * 60 * 24 * 30);
  });

  it("the stated volume is the headline deployment's changes as API calls", () => {
    expect(DEFAULT_REALTIME_COST.eventsPerMonth).toBe(
      DEFAULT_ASSUMPTIONS.resources * DEFAULT_ASSUMPTIONS.dailyChangeRate * 30 * REALTIME_CALLS_PER_CHANGE,
    );
  });
});
