// Everything the S3 bucket remediation reads from its environment, read once at cold start:
// REMEDY_LEDGER_BUCKET, REMEDY_LEDGER_KMS_KEY_ID (optional), REMEDY_REPORT_TOPIC_ARN, REMEDY_DLQ_URL,
// REMEDY_ALLOWLIST (optional JSON, the same format the Config rules read), REMEDY_S3_FIX_STRATEGY
// (`surgical`, the default, or `block-public-access`).
import type { S3FixStrategy } from "../../shared/describe.ts";
import { oneOfEnv } from "../../shared/env.ts";
import { type RemediationSettings, readRemediationSettings } from "../../shared/remediation.ts";

export const S3_FIX_STRATEGIES: readonly S3FixStrategy[] = ["surgical", "block-public-access"];

export interface RemediateS3Settings extends RemediationSettings {
  strategy: S3FixStrategy;
}

export function readRemediateS3Settings(env: Record<string, string | undefined> = process.env): RemediateS3Settings {
  return {
    ...readRemediationSettings(env),
    strategy: oneOfEnv("REMEDY_S3_FIX_STRATEGY", S3_FIX_STRATEGIES, "surgical", env),
  };
}
