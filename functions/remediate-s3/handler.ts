// Lambda entry for the S3 bucket remediation (invoked asynchronously by the coordinator): wiring only.
import { s3Client, snsClient, sqsClient } from "../../shared/clients.ts";
import { s3Ledger } from "../../shared/ledger.ts";
import { createLogger, createMetrics, metricSink } from "../../shared/logging.ts";
import { snsReporter } from "../../shared/report.ts";
import { remediateBucket } from "./core.ts";
import { readRemediateS3Settings } from "./settings.ts";

const logger = createLogger("remedy-remediate-s3");
const metrics = createMetrics("remedy-remediate-s3");
const settings = readRemediateS3Settings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}

export async function handler(event: unknown) {
  try {
    return await remediateBucket(event, {
      s3: s3Client(),
      sqs: sqsClient(),
      ledger: s3Ledger(s3Client(), {
        bucket: settings.ledgerBucket,
        ...(settings.ledgerKmsKeyId ? { kmsKeyId: settings.ledgerKmsKeyId } : {}),
      }),
      reporter: snsReporter(snsClient(), settings.reportTopicArn),
      deadLetterQueueUrl: settings.deadLetterQueueUrl,
      allowlist: settings.allowlist,
      strategy: settings.strategy,
      now: () => new Date(),
      log: logger,
      metrics: metricSink(metrics),
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
