// Each function's bundle size and cold import time (a fresh `node` process importing dist/<name>/index.mjs, as a
// Lambda cold start does before the first invoke). `tsx bench/bundles.bench.ts` builds first and prints a table.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { FUNCTION_LIST } from "../functions/registry.ts";
import { type BundleResult, buildAll } from "../scripts/build.ts";

export interface BundleFigures {
  name: string;
  bundleBytes: number;
  zipBytes: number;
  budgetBytes: number;
  /** Median of `runs` cold imports, milliseconds. */
  coldImportMs: number;
}

/** Dummy values for what handlers read at import time (settings are read once, at cold start). */
const IMPORT_ENV: Record<string, string> = {
  AWS_REGION: "us-east-1",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  POWERTOOLS_LOG_LEVEL: "SILENT",
  POWERTOOLS_METRICS_DISABLED: "true",
  REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
  REMEDY_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation-dlq",
  REMEDY_PAUSE_PARAMETER: "/remedy/paused",
  REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
  REMEDY_STATE_BUCKET: "remedy-ledger-example",
  REMEDY_LEDGER_BUCKET: "remedy-ledger-example",
  REMEDY_REMEDIATION_FUNCTIONS: JSON.stringify({
    "sg-open-ingress": "remedy-remediate-sg",
    "s3-public-acl": "remedy-remediate-s3",
    "s3-public-policy": "remedy-remediate-s3",
  }),
};

export function coldImportMs(bundlePath: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(bundlePath)}); console.log(performance.now() - t);`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH ?? "", ...IMPORT_ENV },
    encoding: "utf8",
  });
  return Number(out.trim().split("\n").at(-1));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function main(runs = 5, built?: BundleResult[]): Promise<BundleFigures[]> {
  const results = built ?? (await buildAll(FUNCTION_LIST));
  return results.map((result) => ({
    name: result.name,
    bundleBytes: result.bundleBytes,
    zipBytes: result.zipBytes,
    budgetBytes: result.budgetBytes,
    coldImportMs: median(Array.from({ length: runs }, () => coldImportMs(result.bundlePath))),
  }));
}

export function print(figures: readonly BundleFigures[]): void {
  console.table(
    Object.fromEntries(
      figures.map((f) => [
        f.name,
        {
          "bundle KB": (f.bundleBytes / 1024).toFixed(1),
          "zip KB": (f.zipBytes / 1024).toFixed(1),
          "budget KB": (f.budgetBytes / 1024).toFixed(0),
          "cold import ms (median)": f.coldImportMs.toFixed(1),
        },
      ]),
    ),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  print(await main());
}
