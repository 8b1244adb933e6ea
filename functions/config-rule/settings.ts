// Everything the rule runtime reads from its environment, read once at cold start.

import { type AllowlistEntry, type ExemptionProblem, parseAllowlist } from "../../detection/exemptions.ts";
import { type Deployment, readDeployment } from "../../platform/deployment.ts";
import { integerEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";

export interface RuleRuntimeSettings {
  /** REMEDY_ACCOUNT_ID, REMEDY_REGION, REMEDY_RULES (platform/deployment.ts). */
  deployment: Deployment;
  queueUrl: string;
  /** The periodic scan's task queue, its dead-letter queue and the bucket its parts wait in (scans/). */
  scanQueueUrl: string;
  scanDeadLetterUrl: string;
  scanBucket: string;
  gracePeriodMs: number;
  allowlist: AllowlistEntry[];
  /** Malformed allowlist entries: reported at cold start, exempting nothing. */
  allowlistProblems: ExemptionProblem[];
  /**
   * The region of the queues and the bucket: the hub's (REMEDY_HUB_REGION, which the stack sets; absent: this
   * function's own). Organisation mode deploys a copy of this function in every region of the settings, each with
   * its own REMEDY_REGION; the SDK signs for the client's region, so the hub's queues need hub-region clients.
   */
  hubRegion: string;
}

export function readRuleRuntimeSettings(env: Record<string, string | undefined> = process.env): RuleRuntimeSettings {
  const allowlist = parseAllowlist(optionalEnv("REMEDY_ALLOWLIST", "[]", env));
  const deployment = readDeployment(env);
  const queueUrl = requiredEnv("REMEDY_QUEUE_URL", env);
  return {
    deployment,
    queueUrl,
    scanQueueUrl: requiredEnv("REMEDY_SCAN_QUEUE_URL", env),
    scanDeadLetterUrl: requiredEnv("REMEDY_SCAN_DLQ_URL", env),
    scanBucket: requiredEnv("REMEDY_LEDGER_BUCKET", env),
    gracePeriodMs: integerEnv("REMEDY_GRACE_PERIOD_MINUTES", 0, { min: 0, max: 43_200 }, env) * 60_000,
    allowlist: allowlist.entries,
    allowlistProblems: allowlist.errors,
    hubRegion: optionalEnv("REMEDY_HUB_REGION", deployment.region, env),
  };
}
