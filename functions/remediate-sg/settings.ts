// Everything the security-group remediation reads from its environment, read once at cold start:
// REMEDY_LEDGER_BUCKET, REMEDY_REPORT_TOPIC_ARN, REMEDY_DLQ_URL,
// REMEDY_ALLOWLIST (optional JSON, the same format the Config rules read).
import { type RemediationSettings, readRemediationSettings } from "../../shared/remediation.ts";

export type RemediateSgSettings = RemediationSettings;

export function readRemediateSgSettings(env: Record<string, string | undefined> = process.env): RemediateSgSettings {
  return readRemediationSettings(env);
}
