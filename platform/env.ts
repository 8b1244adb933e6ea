// Typed environment reading: each function reads its variables once, in one module, and a missing or bad
// value fails at cold start with the variable's name.
import { PermanentError } from "./errors.ts";

export class ConfigurationError extends PermanentError {
  override name = "ConfigurationError";
}

type Env = Record<string, string | undefined>;

/**
 * Every variable the stack puts into a function's environment (each function's list is in functions/registry.ts).
 * Reading any other name does not compile, and test/platform/env-names.test.ts fails when a function's code reads a
 * name its stack entry does not set.
 */
export const ENV_NAMES = [
  "REMEDY_ACCOUNT_ID",
  "REMEDY_REGION",
  "REMEDY_PARTITION",
  "REMEDY_RULES",
  "REMEDY_ORGANIZATION",
  "REMEDY_HUB_REGION",
  "REMEDY_MAX_DISPATCH_AGE_SECONDS",
  "REMEDY_LEDGER_MAC_KEY_ID",
  "REMEDY_PROTECTED_BUCKETS",
  "REMEDY_QUEUE_URL",
  "REMEDY_DLQ_URL",
  "REMEDY_SCAN_QUEUE_URL",
  "REMEDY_SCAN_DLQ_URL",
  "REMEDY_GRACE_PERIOD_MINUTES",
  "REMEDY_ALLOWLIST",
  "REMEDY_PAUSE_PARAMETER",
  "REMEDY_REPORT_TOPIC_ARN",
  "REMEDY_STATE_BUCKET",
  "REMEDY_STATE_KEY",
  "REMEDY_REMEDIATION_FUNCTIONS",
  "REMEDY_DISPATCH_VISIBILITY_SECONDS",
  "REMEDY_MAX_ATTEMPTS",
  "REMEDY_RATE_LIMIT_COUNT",
  "REMEDY_RATE_LIMIT_WINDOW_MINUTES",
  "REMEDY_BREAKER_FRESH_LIMIT",
  "REMEDY_BREAKER_WINDOW_MINUTES",
  "REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT",
  "REMEDY_RECEIVE_CONCURRENCY",
  "REMEDY_INVOKE_CONCURRENCY",
  "REMEDY_SLACK_SECRET",
  "REMEDY_RELAY_RULE_SUFFIXES",
  "REMEDY_RELAY_ALL_RULES",
  "REMEDY_SLACK_USERS",
  "REMEDY_ATTRIBUTION_ENABLED",
  "REMEDY_ATTRIBUTION_LOOKBACK_DAYS",
  "REMEDY_LEDGER_BUCKET",
  "REMEDY_S3_FIX_STRATEGY",
  "REMEDY_COORDINATOR_FUNCTION",
  "REMEDY_AUTO_RESPONSE",
  "REMEDY_OWN_ROLE_ARNS",
  "REMEDY_SLACK_APP_SECRET",
  "REMEDY_SLACK_APPROVERS",
  "REMEDY_SNOOZE_MINUTES",
  "REMEDY_INTERACTIONS_WORKER",
] as const;
export type EnvName = (typeof ENV_NAMES)[number];

/** Set by the Lambda runtime itself, not by the stack. */
export const RUNTIME_ENV_NAMES = ["AWS_REGION"] as const;
export type RuntimeEnvName = (typeof RUNTIME_ENV_NAMES)[number];

type Name = EnvName | RuntimeEnvName;

export function requiredEnv(name: Name, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") {
    throw new ConfigurationError(`environment variable ${name} is required`);
  }
  return value.trim();
}

export function optionalEnv(name: Name, fallback: string, env: Env = process.env): string {
  const value = env[name];
  return value === undefined || value.trim() === "" ? fallback : value.trim();
}

export function integerEnv(
  name: Name,
  fallback: number,
  range: { min: number; max: number },
  env: Env = process.env,
): number {
  const text = optionalEnv(name, String(fallback), env);
  const value = Number(text);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new ConfigurationError(
      `environment variable ${name} must be a whole number from ${range.min} to ${range.max}, got "${text}"`,
    );
  }
  return value;
}

export function booleanEnv(name: Name, fallback: boolean, env: Env = process.env): boolean {
  const text = optionalEnv(name, String(fallback), env).toLowerCase();
  if (text === "true") return true;
  if (text === "false") return false;
  throw new ConfigurationError(`environment variable ${name} must be "true" or "false", got "${text}"`);
}

export function oneOfEnv<T extends string>(name: Name, allowed: readonly T[], fallback: T, env: Env = process.env): T {
  const text = optionalEnv(name, fallback, env);
  if (!(allowed as readonly string[]).includes(text)) {
    throw new ConfigurationError(`environment variable ${name} must be one of ${allowed.join(", ")}, got "${text}"`);
  }
  return text as T;
}
