// The cost model's pure parts (bench/cost.bench.ts): Config's tiered evaluation price and its inverse, the hourly
// proration of metrics, the scan's task count, the anchor, the organisation scenario against one account of the same
// total, and the metric inventory against the code that sends it.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  accountRegions,
  activeHourShare,
  affordableEvaluations,
  type CostAssumptions,
  cacheRefreshes,
  configEvaluationCost,
  configEvaluationUsd,
  costReport,
  DEFAULT_ASSUMPTIONS,
  DEFAULT_ORGANIZATION,
  estimate,
  type IdleTick,
  type LineItem,
  measureIdleTick,
  metricInventory,
  organizationReport,
  PERIOD_HOURS,
  previousModelTotal,
  REMEDIATION_SERVICES,
  scanRun,
  total,
  usage,
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

describe("the organisation scenario (100 accounts × 4 regions)", () => {
  const org = (resources: number, organization = DEFAULT_ORGANIZATION): CostAssumptions => ({
    ...DEFAULT_ASSUMPTIONS,
    resources,
    organization,
  });
  const one = (resources: number): CostAssumptions => ({ ...DEFAULT_ASSUMPTIONS, resources });
  const key = (line: LineItem) => `${line.service}|${line.item}`;
  const byKey = (lines: LineItem[]) => new Map(lines.map((line) => [key(line), line]));
  /** The lines a scan, a region or a member session adds to (everything else follows the resources). */
  const PER_ACCOUNT_REGION = new Set([
    "AWS Config|read API calls (scans)",
    "Lambda|requests",
    "Lambda|compute (arm64)",
    "SQS|requests",
    "S3|PUT requests",
    "S3|GET requests",
    "CloudWatch|custom metrics (EMF)",
    "CloudWatch Logs|ingestion",
    "CloudWatch Logs|storage",
  ]);

  it("is one account and region by default: today's totals, exactly", () => {
    expect(accountRegions(DEFAULT_ASSUMPTIONS)).toBe(1);
    expect(accountRegions(org(10_000))).toBe(400);
    // The totals of one account and region (this idle tick, 0.1 SQS calls per fix): the registry's 6 rules and 8
    // problems (the rules' periodic scans, the functions' custom metrics).
    const scales = costReport(idle, 0.1).report.scales;
    expect(scales.map((scale) => scale.total)).toEqual([3.9501092313881734, 8.967750761920986, 54.368823790310536]);
    expect(scales.map((scale) => scale.withStackRecorder)).toEqual([
      8.18512738415917, 51.29093228963095, 477.57363906741006,
    ]);
    expect(scales.map((scale) => scale.withZeroCounts)).toEqual([
      4.797742462632757, 9.663466403961632, 54.61333099722314,
    ]);
    for (const scale of scales) expect(scale.usage.organization).toBeUndefined();
  });

  it("prices every line, with its source; Config's lines are the member accounts'", () => {
    const report = organizationReport(idle, 0.1);
    expect(report.scenarios.map((s) => s.resources)).toEqual([10_000, 100_000]);
    for (const scenario of report.scenarios) {
      const single = byKey(scenario.singleAccount);
      for (const line of scenario.lines) {
        expect(Number.isFinite(line.usd) && line.usd >= 0).toBe(true);
        expect(Number.isFinite(line.quantity) && line.quantity >= 0).toBe(true);
        expect(line.unitPrice.length).toBeGreaterThan(0);
        expect(line.source).toMatch(/^https:\/\//);
        expect(line.billedTo === "members").toBe(line.service === "AWS Config");
      }
      // Every line of the single-account bill is in the organisation's, which adds STS, Organizations, IAM,
      // CloudFormation (all free) and the inter-region transfer.
      for (const line of scenario.singleAccount) expect(byKey(scenario.lines).has(key(line))).toBe(true);
      const added = scenario.lines.filter((line) => !single.has(key(line)));
      expect(added.map((line) => line.service)).toEqual([
        "STS",
        "Organizations",
        "IAM",
        "CloudFormation",
        "Data transfer",
      ]);
      expect(added.filter((line) => line.unitPrice === "free").every((line) => line.usd === 0)).toBe(true);
      expect(scenario.members + scenario.hub).toBeCloseTo(scenario.total, 9);
    }
  });

  it("grows by the per-account-region costs only: what follows the resources is unchanged", () => {
    for (const resources of [10_000, 100_000]) {
      const orgLines = estimate(org(resources), idle, 0.1);
      const singleLines = estimate(one(resources), idle, 0.1);
      const single = byKey(singleLines);
      let grown = 0;
      for (const line of orgLines) {
        const before = single.get(key(line));
        if (!before) {
          grown += line.usd; // a line only organisation mode has
        } else if (PER_ACCOUNT_REGION.has(key(line))) {
          expect(line.quantity).toBeGreaterThan(before.quantity);
          grown += line.usd - before.usd;
        } else if (line.item.startsWith("rule evaluations")) {
          // The same evaluations; the price differs only by how the tiers are counted (here: not at all).
          expect(line.quantity).toBe(before.quantity);
          expect(line.usd).toBeCloseTo(before.usd, 9);
        } else {
          expect([line.quantity, line.usd]).toEqual([before.quantity, before.usd]);
        }
      }
      expect(total(orgLines) - total(singleLines)).toBeCloseTo(grown, 9);
      expect(grown).toBeGreaterThan(0);

      // The invocations added are exactly the scans': one per rule per account-region, each its own tasks.
      const u = usage(org(resources), idle);
      const v = usage(one(resources), idle);
      expect(u.scans).toBe(v.scans * 400);
      expect(u.periodicEvaluations).toBeCloseTo(v.periodicEvaluations, 9);
      const requests = (lines: LineItem[]) => lines.find((line) => key(line) === "Lambda|requests")!.quantity;
      expect(requests(orgLines) - requests(singleLines)).toBeCloseTo(
        u.scans * u.scan.invocations - v.scans * v.scan.invocations,
        6,
      );
    }
  });

  it("is one account's bill but for the member sessions' and directory's time, at 1 account × 1 region", () => {
    const tiny = { ...DEFAULT_ORGANIZATION, accounts: 1, regions: 1 };
    const orgLines = byKey(estimate(org(10_000, tiny), idle, 0.1));
    for (const line of estimate(one(10_000), idle, 0.1)) {
      const same = orgLines.get(key(line))!;
      if (key(line) === "Lambda|compute (arm64)") expect(same.usd).toBeGreaterThan(line.usd);
      else expect([same.quantity, same.usd]).toEqual([line.quantity, line.usd]);
    }
    expect(
      orgLines.get("Data transfer|inter-region (scan reads of member Config, copies' sends to the hub)")!.usd,
    ).toBe(0);
  });

  it("counts Config's tiers per region over every account (consolidated billing), or per account-region", () => {
    const evaluations = 1_000_000;
    expect(configEvaluationUsd(DEFAULT_ASSUMPTIONS, evaluations)).toBeCloseTo(100 + 320 + 250, 6);
    // 250,000 per region: 100,000 at $0.001, 150,000 at $0.0008.
    expect(configEvaluationUsd(org(0), evaluations)).toBeCloseTo(4 * (100 + 120), 6);
    // 2,500 per account-region: all in the first tier.
    const apart = { ...DEFAULT_ORGANIZATION, configTiers: "account-region" as const };
    expect(configEvaluationUsd(org(0, apart), evaluations)).toBeCloseTo(1000, 6);
  });

  it("refreshes a cache at most once per lifetime per stream, and at every event when events are rare", () => {
    expect(cacheRefreshes(0, 1, 15)).toBe(0);
    expect(cacheRefreshes(10, 400, 15)).toBeCloseTo(10, 2);
    expect(cacheRefreshes(1e9, 1, 5)).toBeLessThanOrEqual((30 * 24 * 60) / 5);
    expect(cacheRefreshes(1e9, 4, 5)).toBeLessThanOrEqual((4 * 30 * 24 * 60) / 5);
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
