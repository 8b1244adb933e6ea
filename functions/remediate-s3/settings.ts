// Everything the S3 bucket remediation reads from its environment, read once at cold start:
// REMEDY_LEDGER_BUCKET, REMEDY_REPORT_TOPIC_ARN, REMEDY_DLQ_URL,
// REMEDY_ALLOWLIST (optional JSON, the same format the Config rules read), REMEDY_S3_FIX_STRATEGY
// (`surgical`, the default, or `block-public-access`), REMEDY_PROTECTED_BUCKETS (optional, comma-separated), and the
// deployment (shared/deployment.ts).
import type { S3FixStrategy } from "../../shared/describe.ts";
import { oneOfEnv, optionalEnv } from "../../shared/env.ts";
import { type RemediationSettings, readRemediationSettings } from "../../shared/remediation.ts";

export const S3_FIX_STRATEGIES: readonly S3FixStrategy[] = ["surgical", "block-public-access"];

export interface RemediateS3Settings extends RemediationSettings {
  strategy: S3FixStrategy;
  /** The ledger bucket plus REMEDY_PROTECTED_BUCKETS (comma-separated; the stack adds the Config bucket). */
  protectedBuckets: string[];
}

export function readRemediateS3Settings(env: Record<string, string | undefined> = process.env): RemediateS3Settings {
  const common = readRemediationSettings(env);
  const listed = optionalEnv("REMEDY_PROTECTED_BUCKETS", "", env)
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  return {
    ...common,
    strategy: oneOfEnv("REMEDY_S3_FIX_STRATEGY", S3_FIX_STRATEGIES, "surgical", env),
    protectedBuckets: [...new Set([common.ledgerBucket, ...listed])],
  };
}
