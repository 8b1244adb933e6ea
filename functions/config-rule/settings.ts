// Everything the rule runtime reads from its environment, read once at cold start.

import { type AllowlistEntry, type ExemptionProblem, parseAllowlist } from "../../detection/exemptions.ts";
import { type Deployment, readDeployment } from "../../platform/deployment.ts";
import { integerEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";

export interface RuleRuntimeSettings {
  /** REMEDY_ACCOUNT_ID, REMEDY_REGION, REMEDY_RULES (platform/deployment.ts). */
  deployment: Deployment;
  queueUrl: string;
  gracePeriodMs: number;
  allowlist: AllowlistEntry[];
  /** Malformed allowlist entries: reported at cold start, exempting nothing. */
  allowlistProblems: ExemptionProblem[];
}

export function readRuleRuntimeSettings(env: Record<string, string | undefined> = process.env): RuleRuntimeSettings {
  const allowlist = parseAllowlist(optionalEnv("REMEDY_ALLOWLIST", "[]", env));
  return {
    deployment: readDeployment(env),
    queueUrl: requiredEnv("REMEDY_QUEUE_URL", env),
    gracePeriodMs: integerEnv("REMEDY_GRACE_PERIOD_MINUTES", 0, { min: 0, max: 43_200 }, env) * 60_000,
    allowlist: allowlist.entries,
    allowlistProblems: allowlist.errors,
  };
}
