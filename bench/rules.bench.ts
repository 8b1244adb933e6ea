// Rule evaluation per item versus JSON.parse of the same invoking events (target: evaluation ≤ 2× parse).
import { pathToFileURL } from "node:url";
import { normalizeConfigItem } from "../detection/config-item.ts";
import { parseAllowlist } from "../detection/exemptions.ts";
import { type AnyRule, judgeItem } from "../detection/judge.ts";
import { RULES } from "../detection/rules.ts";
import { bucketItem, changeEventFor, random, securityGroupItem } from "./generate.ts";

export interface RulesBenchResult {
  items: number;
  parseMicrosPerItem: number;
  evaluateMicrosPerItem: number;
  judgeMicrosPerItem: number;
  ratio: number;
  nonCompliant: number;
}

function time(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

export function main(count = 100_000): RulesBenchResult {
  const rand = random(42);
  const events = Array.from({ length: count }, (_, index) =>
    index % 2 === 0
      ? changeEventFor(securityGroupItem(index, rand), "remedy-sg-open-ingress")
      : changeEventFor(bucketItem(index, rand), "remedy-s3-public"),
  );
  const invokingEvents = events.map((event) => event.invokingEvent as string);
  const rules: AnyRule[] = events.map(
    (event) => RULES.find((rule) => (event.configRuleName as string).endsWith(rule.id))!,
  );
  const parameters = rules.map((rule) => rule.parseParameters({}));
  const allowlist = parseAllowlist([
    { resource: "arn:aws:s3:::bucket-1*7", problems: ["*"], reason: "bench", owner: "bench", expires: "2099-01-01" },
  ]).entries;
  const now = new Date("2026-11-20T10:00:00Z");

  // Warm up every path so the JIT has compiled them before timing.
  const parsed = invokingEvents.map((text) => JSON.parse(text));
  const items = parsed.map((event) => event.configurationItem);
  for (let index = 0; index < 2_000; index++) {
    judgeItem(normalizeConfigItem(items[index]), rules[index]!, parameters[index], {
      allowlist,
      now,
      gracePeriodMs: 0,
    });
  }

  const parseMs = time(() => {
    for (const text of invokingEvents) JSON.parse(text);
  });
  let nonCompliant = 0;
  const evaluateMs = time(() => {
    for (let index = 0; index < count; index++) {
      const verdict = rules[index]!.evaluate(normalizeConfigItem(items[index]), parameters[index]);
      if (verdict.compliance === "NON_COMPLIANT") nonCompliant++;
    }
  });
  const judgeMs = time(() => {
    for (let index = 0; index < count; index++) {
      judgeItem(normalizeConfigItem(items[index]), rules[index]!, parameters[index], {
        allowlist,
        now,
        gracePeriodMs: 0,
      });
    }
  });
  const micros = (ms: number) => (ms * 1_000) / count;
  return {
    items: count,
    parseMicrosPerItem: micros(parseMs),
    evaluateMicrosPerItem: micros(evaluateMs),
    judgeMicrosPerItem: micros(judgeMs),
    ratio: evaluateMs / parseMs,
    nonCompliant,
  };
}

export function print(result: RulesBenchResult): void {
  console.log(
    `Rule evaluation, ${result.items.toLocaleString("en-US")} configuration items (half security groups, half buckets)`,
  );
  console.table({
    "JSON.parse of the invoking event": { "µs/item": result.parseMicrosPerItem.toFixed(2) },
    "evaluate (normalise + rule)": { "µs/item": result.evaluateMicrosPerItem.toFixed(2) },
    "judge (+ exemptions + fix instructions)": { "µs/item": result.judgeMicrosPerItem.toFixed(2) },
  });
  console.log(
    `evaluate / parse = ${result.ratio.toFixed(2)}× (target ≤ 2×: ${result.ratio <= 2 ? "met" : "NOT met"}); ${result.nonCompliant.toLocaleString("en-US")} items non-compliant`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) print(main(Number(process.argv[2] ?? 100_000)));
