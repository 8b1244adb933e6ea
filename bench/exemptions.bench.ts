// Allowlist pattern matching per finding: pathological patterns (8 stars) versus a plain one, against 63-character
// bucket names (target: pathological ≤ 2× plain). As a regex (`.*` per star) a pathological pattern backtracked for
// seconds per name; the wildcard match is linear in practice. The first pathological pattern ends in a literal, so
// the matcher's literal-end check turns the names away; the second has no literal start or end, so the full
// wildcard match runs on both the resource id and the ARN of every finding.
// Run: npx tsx bench/exemptions.bench.ts [findings]
import { pathToFileURL } from "node:url";
import { type ExemptionTarget, findExemption, parseAllowlist } from "../detection/exemptions.ts";
import { random } from "./generate.ts";

export const PLAIN_PATTERN = "arn:aws:s3:::backup-*";
export const PATHOLOGICAL_PATTERNS = ["*a*a*a*a*a*a*a*a*b", "*a*a*a*a*a*a*a*z*"] as const;

export interface PatternFigure {
  pattern: string;
  microsPerFinding: number;
}

export interface ExemptionsBenchResult {
  findings: number;
  nameLength: number;
  plain: PatternFigure;
  pathological: PatternFigure[];
  slowest: PatternFigure;
  /** Slowest pathological pattern / plain pattern. */
  ratio: number;
  /** Findings any pattern exempted; 0 expected (no name starts with "backup-" or contains a "b" or "z"). */
  exempt: number;
}

const NAME_LENGTH = 63;
const DISTINCT_NAMES = 1_000;
const RUNS = 7;

/** 63-character bucket names, mostly "a" so the pathological patterns' stars have the most places to try. */
function bucketNames(rand: () => number): string[] {
  return Array.from({ length: DISTINCT_NAMES }, (_, n) => {
    const id = `-${n}`;
    let name = "a";
    while (name.length < NAME_LENGTH - id.length) name += rand() < 0.8 ? "a" : "0123456789-"[Math.floor(rand() * 11)];
    return `${name}${id}`;
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function main(findings = 200_000): ExemptionsBenchResult {
  // Through JSON, as Config items and the allowlist parameter arrive: flat strings, as in production.
  const targets: ExemptionTarget[] = JSON.parse(
    JSON.stringify(
      bucketNames(random(7)).map((name) => ({
        resourceId: name,
        arn: `arn:aws:s3:::${name}`,
        tags: { Name: name, team: "data" },
        problem: "s3-public-acl",
      })),
    ),
  );
  const now = new Date("2026-11-20T10:00:00Z");
  const patterns = [PLAIN_PATTERN, ...PATHOLOGICAL_PATTERNS];
  const allowlists = patterns.map(
    (resource) =>
      parseAllowlist(
        JSON.stringify([{ resource, problems: ["*"], reason: "bench", owner: "bench", expires: "2099-01-01" }]),
      ).entries,
  );

  let exempt = 0;
  const run = (allowlist: (typeof allowlists)[number]): number => {
    const start = performance.now();
    for (let n = 0; n < findings; n++) {
      if (findExemption(targets[n % targets.length]!, allowlist, now).exemption) exempt++;
    }
    return performance.now() - start;
  };

  // Warm up every path so the JIT has compiled them, then interleave runs so machine noise hits all alike.
  for (const allowlist of allowlists) run(allowlist);
  exempt = 0;
  const times = patterns.map((): number[] => []);
  for (let r = 0; r < RUNS; r++) {
    for (const [index, allowlist] of allowlists.entries()) times[index]!.push(run(allowlist));
  }

  const figures = patterns.map((pattern, index) => ({
    pattern,
    microsPerFinding: (median(times[index]!) * 1_000) / findings,
  }));
  const [plain, ...pathological] = figures;
  const slowest = pathological.reduce((max, figure) => (figure.microsPerFinding > max.microsPerFinding ? figure : max));
  return {
    findings,
    nameLength: NAME_LENGTH,
    plain: plain!,
    pathological,
    slowest,
    ratio: slowest.microsPerFinding / plain!.microsPerFinding,
    exempt,
  };
}

export function print(result: ExemptionsBenchResult): void {
  console.log(
    `Allowlist pattern per finding, ${result.findings.toLocaleString("en-US")} findings × ${RUNS} runs (median), ` +
      `${result.nameLength}-character bucket names, resource id and ARN both tried`,
  );
  const row = (figure: PatternFigure) => ({
    "µs/finding": figure.microsPerFinding.toFixed(3),
    "× plain": (figure.microsPerFinding / result.plain.microsPerFinding).toFixed(2),
  });
  console.table({
    [`plain ${result.plain.pattern}`]: row(result.plain),
    ...Object.fromEntries(result.pathological.map((figure) => [`pathological ${figure.pattern}`, row(figure)])),
  });
  console.log(
    `slowest pathological / plain = ${result.ratio.toFixed(2)}× (target ≤ 2×: ${result.ratio <= 2 ? "met" : "NOT met"}); ${result.exempt.toLocaleString("en-US")} findings exempt`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) print(main(Number(process.argv[2] ?? 200_000)));
