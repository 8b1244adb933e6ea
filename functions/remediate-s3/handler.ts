// Lambda entry for the S3 bucket remediation (invoked asynchronously by the coordinator): wiring only.
import { accountFactsReader } from "../../shared/account-facts.ts";
import { s3Client, s3ControlClient } from "../../shared/clients.ts";
import { createLogger, createMetrics } from "../../shared/logging.ts";
import { liveRemediationDeps } from "../../shared/remediation-wiring.ts";
import { remediateBucket } from "./core.ts";
import { readRemediateS3Settings } from "./settings.ts";

const logger = createLogger("remedy-remediate-s3");
const metrics = createMetrics("remedy-remediate-s3");
const settings = readRemediateS3Settings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}
const accountFacts = accountFactsReader({ s3control: s3ControlClient, now: () => new Date(), log: logger });

export async function handler(event: unknown) {
  try {
    return await remediateBucket(event, {
      ...liveRemediationDeps(settings, logger, metrics),
      s3: s3Client(),
      strategy: settings.strategy,
      protectedBuckets: settings.protectedBuckets,
      accountFacts,
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
