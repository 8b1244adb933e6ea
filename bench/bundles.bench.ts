// Each function's bundle size and cold import time (a fresh `node` process importing dist/<name>/index.mjs, as a
// Lambda cold start does before the first invoke). `tsx bench/bundles.bench.ts` builds first and prints a table.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type EnvName, FUNCTION_LIST, FUNCTIONS } from "../functions/registry.ts";
import { byProblem, RULE_IDS } from "../problems/index.ts";
import { type BundleResult, buildAll } from "../scripts/build.ts";

export interface BundleFigures {
  name: string;
  bundleBytes: number;
  zipBytes: number;
  budgetBytes: number;
  /** Median of `runs` cold imports, milliseconds. */
  coldImportMs: number;
}

/**
 * Example values for everything the stack puts into a function's environment (settings are read once, at cold
 * start, and a missing one fails the import). Typed by the registry's names, so a new variable cannot be forgotten.
 */
export const EXAMPLE_ENV: Record<EnvName, string> = {
  REMEDY_ACCOUNT_ID: "123456789012",
  REMEDY_REGION: "us-east-1",
  REMEDY_PARTITION: "aws",
  REMEDY_ORGANIZATION: "",
  REMEDY_HUB_REGION: "us-east-1",
  REMEDY_COORDINATOR_FUNCTION: "remedy-coordinator",
  REMEDY_AUTO_RESPONSE: "true",
  REMEDY_SLACK_APP_SECRET: "arn:aws:secretsmanager:us-east-1:123456789012:secret:remedy/slack-app-AbCdEf",
  REMEDY_SLACK_APPROVERS: JSON.stringify({ approvers: { fixNow: [{ users: ["U012ABCDEF"] }] } }),
  REMEDY_SNOOZE_MINUTES: "1440",
  REMEDY_INTERACTIONS_WORKER: "remedy-interactions-worker",
  REMEDY_OWN_ROLE_ARNS: JSON.stringify(["arn:aws:iam::123456789012:role/remedy-remediate-sg-us-east-1"]),
  // Every rule in the registry, as the stack deploys it (the security-group rule with its default parameters).
  REMEDY_RULES: JSON.stringify(
    RULE_IDS.map((id) => ({
      id,
      configRuleName: `remedy-${id}`,
      parameters:
        id === "sg-open-ingress" ? { authorizedPorts: "tcp:80,tcp:443", ipv4MinPrefix: "8", ipv6MinPrefix: "16" } : {},
    })),
  ),
  REMEDY_MAX_DISPATCH_AGE_SECONDS: "150",
  REMEDY_LEDGER_MAC_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/0c0ffee0-0000-4000-8000-00000000a11c",
  REMEDY_PROTECTED_BUCKETS: "remedy-ledger-*,remedy-config-*",
  REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
  REMEDY_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation-dlq",
  REMEDY_SCAN_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan",
  REMEDY_SCAN_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan-dlq",
  REMEDY_GRACE_PERIOD_MINUTES: "0",
  REMEDY_ALLOWLIST: "[]",
  REMEDY_PAUSE_PARAMETER: "/remedy/paused",
  REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
  REMEDY_STATE_BUCKET: "remedy-ledger-example",
  REMEDY_STATE_KEY: "state/coordinator.json",
  REMEDY_REMEDIATION_FUNCTIONS: JSON.stringify(byProblem((spec) => `remedy-${spec.remediation}`)),
  REMEDY_DISPATCH_VISIBILITY_SECONDS: "300",
  REMEDY_MAX_ATTEMPTS: "3",
  REMEDY_RATE_LIMIT_COUNT: "20",
  REMEDY_RATE_LIMIT_WINDOW_MINUTES: "10",
  REMEDY_BREAKER_FRESH_LIMIT: "50",
  REMEDY_BREAKER_WINDOW_MINUTES: "10",
  REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT: "20",
  REMEDY_RECEIVE_CONCURRENCY: "10",
  REMEDY_INVOKE_CONCURRENCY: "24",
  REMEDY_SLACK_SECRET: "",
  REMEDY_RELAY_RULE_SUFFIXES: RULE_IDS.join(","),
  REMEDY_RELAY_ALL_RULES: "false",
  REMEDY_SLACK_USERS: "{}",
  REMEDY_ATTRIBUTION_ENABLED: "true",
  REMEDY_ATTRIBUTION_LOOKBACK_DAYS: "7",
  REMEDY_LEDGER_BUCKET: "remedy-ledger-example",
  REMEDY_S3_FIX_STRATEGY: "surgical",
};

/** What a Lambda would have: only the function's own variables (as the stack sets them), plus the runtime's. */
export function importEnv(names: readonly EnvName[] = Object.keys(EXAMPLE_ENV) as EnvName[]): Record<string, string> {
  return {
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    POWERTOOLS_LOG_LEVEL: "SILENT",
    POWERTOOLS_METRICS_DISABLED: "true",
    ...Object.fromEntries(names.map((name) => [name, EXAMPLE_ENV[name]])),
  };
}

export function coldImportMs(bundlePath: string, env: Record<string, string> = importEnv()): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(bundlePath)}); console.log(performance.now() - t);`;
  try {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    return Number(out.trim().split("\n").at(-1));
  } catch (error) {
    // The bundle's own error is the last line of its stderr (minified source comes before it).
    const stderr = String((error as { stderr?: unknown }).stderr ?? "");
    const reason =
      stderr
        .trim()
        .split("\n")
        .findLast((line) => /Error/.test(line)) ?? (error as Error).message;
    throw new Error(`${bundlePath} does not start: ${reason.slice(0, 500)}`);
  }
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
    coldImportMs: median(
      Array.from({ length: runs }, () => coldImportMs(result.bundlePath, importEnv(FUNCTIONS[result.name].env))),
    ),
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
