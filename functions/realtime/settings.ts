// Everything the real-time function reads from its environment, read once at cold start.
import { type AllowlistEntry, type ExemptionProblem, parseAllowlist } from "../../detection/exemptions.ts";
import { type Deployment, readDeployment } from "../../platform/deployment.ts";
import { ConfigurationError, integerEnv, oneOfEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";

export interface RealtimeSettings {
  deployment: Deployment;
  queueUrl: string;
  gracePeriodMs: number;
  allowlist: AllowlistEntry[];
  allowlistProblems: ExemptionProblem[];
  /** Where undo's temporary exemptions are (exemptions/ in the ledger bucket). */
  ledgerBucket: string;
  coordinatorFunction: string;
  /** The stack's enable_auto_response: off, the real-time path queues and asks nothing to run. */
  autoResponse: boolean;
  /** Remedy's own roles (the remediation functions'): a change made with one is Remedy's, never answered. */
  ownRoleArns: readonly string[];
}

export function readRealtimeSettings(env: Record<string, string | undefined> = process.env): RealtimeSettings {
  const allowlist = parseAllowlist(optionalEnv("REMEDY_ALLOWLIST", "[]", env));
  return {
    deployment: readDeployment(env),
    queueUrl: requiredEnv("REMEDY_QUEUE_URL", env),
    gracePeriodMs: integerEnv("REMEDY_GRACE_PERIOD_MINUTES", 0, { min: 0, max: 43_200 }, env) * 60_000,
    allowlist: allowlist.entries,
    allowlistProblems: allowlist.errors,
    ledgerBucket: requiredEnv("REMEDY_LEDGER_BUCKET", env),
    coordinatorFunction: requiredEnv("REMEDY_COORDINATOR_FUNCTION", env),
    autoResponse: oneOfEnv("REMEDY_AUTO_RESPONSE", ["true", "false"] as const, "false", env) === "true",
    ownRoleArns: parseRoleArns(optionalEnv("REMEDY_OWN_ROLE_ARNS", "[]", env)),
  };
}

function parseRoleArns(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`REMEDY_OWN_ROLE_ARNS is not JSON: ${(error as Error).message}`);
  }
  if (
    !Array.isArray(value) ||
    !value.every((arn) => typeof arn === "string" && /^arn:[\w-]+:iam::\d{12}:role\//.test(arn))
  ) {
    throw new ConfigurationError("REMEDY_OWN_ROLE_ARNS must be a JSON list of IAM role ARNs");
  }
  return value as string[];
}
