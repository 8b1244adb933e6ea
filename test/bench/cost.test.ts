// The cost model's pure parts (bench/cost.bench.ts): Config's tiered evaluation price and its inverse, the hourly
// proration of metrics, the scan's task count, the anchor, and the metric inventory against the code that sends it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  activeHourShare,
  affordableEvaluations,
  configEvaluationCost,
  costReport,
  DEFAULT_ASSUMPTIONS,
  type IdleTick,
  measureIdleTick,
  metricInventory,
  PERIOD_HOURS,
  previousModelTotal,
  REMEDIATION_SERVICES,
  scanRun,
  total,
} from "../../bench/cost.bench.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { RULE_FREQUENCIES } from "../../infra/variables.ts";

const idle: IdleTick = { sqsCalls: 1, stateLoads: 1, stateSaves: 1, metrics: [{ name: "SqsCalls", value: 1 }] };

describe("Config's tiered evaluation price", () => {
  it("charges $0.001 for the first 100,000, $0.0008 for the next 400,000 and $0.0005 after", () => {
    expect(configEvaluationCost(0)).toBe(0);
    expect(configEvaluationCost(100_000)).toBeCloseTo(100, 6);
    expect(configEvaluationCost(150_000)).toBeCloseTo(100 + 40, 6);
    expect(configEvaluationCost(600_000)).toBeCloseTo(100 + 320 + 50, 6);
  });

  it("prices more evaluations from where the month's count already is", () => {
    expect(configEvaluationCost(20_000, 90_000)).toBeCloseTo(10 + 8, 6);
    expect(configEvaluationCost(10, 1_000_000)).toBeCloseTo(0.005, 9);
  });

  it("inverts: a budget buys back the evaluations it priced, across tiers", () => {
    for (const [count, already] of [
      [0, 0],
      [481, 15_300],
      [50_000, 80_000],
      [700_000, 0],
    ] as const) {
      expect(affordableEvaluations(configEvaluationCost(count, already), already)).toBeGreaterThanOrEqual(count - 1);
      expect(affordableEvaluations(configEvaluationCost(count, already), already)).toBeLessThanOrEqual(count);
    }
    expect(affordableEvaluations(-1)).toBe(0);
  });
});

describe("the model", () => {
  it("knows every rule_evaluation_frequency the stack accepts", () => {
    expect(Object.keys(PERIOD_HOURS).sort()).toEqual([...RULE_FREQUENCIES].sort());
  });

  it("prorates a metric by the hours it is sent in", () => {
    expect(activeHourShare(0)).toBe(0);
    expect(activeHourShare(720)).toBeCloseTo(1 - Math.exp(-1), 9);
    expect(activeHourShare(1e6)).toBeCloseTo(1, 9);
  });

  it("splits a scan into one judge task a page, with the verdicts and list tasks chained when one runs out of time", () => {
    const small = scanRun(5_000, 8, DEFAULT_ASSUMPTIONS.periodic);
    expect(small.pages).toBe(50);
    expect(small.tasks).toBe(52);
    expect(small.invocations).toBe(53);
    expect(small.taskBudgetSeconds).toBe(FUNCTIONS["config-rule"].timeoutSeconds - 60);
    expect(small.longestTaskSeconds).toBeLessThanOrEqual(small.taskBudgetSeconds + 1);
    const huge = scanRun(2_000_000, 8, DEFAULT_ASSUMPTIONS.periodic);
    expect(huge.tasks).toBeGreaterThan(2 + huge.pages); // 20,000 pages × 0.3 s do not fit one 240 s task
    expect(huge.longestTaskSeconds).toBeLessThanOrEqual(huge.taskBudgetSeconds + 1);
  });

  it("sends a periodic verdict only where Config's differs: not every resource at every scan", () => {
    const lines = costReport(idle, 0.1);
    const periodic = lines.find((line) => line.item === "rule evaluations, periodic")!;
    expect(periodic.quantity).toBeLessThan(DEFAULT_ASSUMPTIONS.resources);
    const hourly = costReport(idle, 0.1, { ...DEFAULT_ASSUMPTIONS, ruleFrequency: "One_Hour" });
    const periodicHourly = hourly.find((line) => line.item === "rule evaluations, periodic")!;
    expect(periodicHourly.quantity).toBeGreaterThan(periodic.quantity);
    expect(periodicHourly.quantity).toBeLessThan(24 * periodic.quantity);
  });

  it("keeps the previous model's total as the anchor (≈ $274 for 10,000 resources)", () => {
    expect(previousModelTotal(idle, 0.1, 10_000)).toBeGreaterThan(270);
    expect(previousModelTotal(idle, 0.1, 10_000)).toBeLessThan(280);
  });

  it("gives every line at every scale, the headline's `usd` what bench/run.ts sums", () => {
    const lines = costReport(idle, 0.1);
    for (const line of lines) {
      expect(line.byScale.map((scale) => scale.resources)).toEqual([1_000, 10_000, 100_000]);
      expect(line.byScale.find((scale) => scale.resources === 10_000)!.usd).toBeCloseTo(line.usd, 9);
      expect(line.source).toMatch(/^https:\/\//);
    }
    expect(lines.report.scales.find((scale) => scale.resources === 10_000)!.total).toBeCloseTo(total(lines), 9);
  });
});

/** Metric names a folder's code sends: `metrics.count("X"` / `metrics?.count(c ? "X" : "Y"`, and tick.ts's table. */
function namesSentIn(folder: string): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(folder).filter((name) => name.endsWith(".ts"))) {
    const source = readFileSync(join(folder, file), "utf8");
    for (const call of source.matchAll(/metrics\??\.count\(([^)]*)\)/g)) {
      // The names: string literals that are not the right side of a comparison (`kind === "permanent" ? …`).
      for (const literal of call[1]!.matchAll(/(?<![=!]==\s*)"(\w+)"/g)) names.add(literal[1]!);
    }
    for (const entry of source.matchAll(/\["(\w+)", summary\./g)) names.add(entry[1]!);
  }
  return names;
}

describe("the metric inventory", () => {
  it("is every metric the code sends, by service (a new metric must be priced in bench/cost.bench.ts)", async () => {
    const measured = await measureIdleTick();
    const inventory = metricInventory(measured);
    const of = (service: string) =>
      new Set(inventory.filter((metric) => metric.service === service).map((metric) => metric.name));
    expect(of("remedy-coordinator")).toEqual(namesSentIn("functions/coordinator"));
    expect(of("remedy-config-rule")).toEqual(namesSentIn("functions/config-rule"));
    expect(of("remedy-notifier")).toEqual(namesSentIn("functions/notifier"));
    for (const service of REMEDIATION_SERVICES) expect(of(service)).toEqual(namesSentIn("functions/remediation"));
  });

  it("takes the coordinator's per-tick counts from a measured idle tick: all of them sent, zeros included", async () => {
    const measured = await measureIdleTick();
    const tickTable = [...readFileSync("functions/coordinator/tick.ts", "utf8").matchAll(/\["(\w+)", summary\./g)].map(
      (entry) => entry[1]!,
    );
    expect(measured.metrics.map((metric) => metric.name).sort()).toEqual([...tickTable].sort());
    expect(measured.metrics.filter((metric) => metric.value === 0).length).toBeGreaterThan(0);
  });
});
