// Lambda entry for the security-group remediation (invoked asynchronously by the coordinator): wiring only.
import { ec2Client, s3Client, snsClient, sqsClient } from "../../shared/clients.ts";
import { s3Ledger } from "../../shared/ledger.ts";
import { createLogger, createMetrics, metricSink } from "../../shared/logging.ts";
import { snsReporter } from "../../shared/report.ts";
import { remediateSecurityGroup } from "./core.ts";
import { readRemediateSgSettings } from "./settings.ts";

const logger = createLogger("remedy-remediate-sg");
const metrics = createMetrics("remedy-remediate-sg");
const settings = readRemediateSgSettings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}

export async function handler(event: unknown) {
  try {
    return await remediateSecurityGroup(event, {
      ec2: ec2Client(),
      sqs: sqsClient(),
      ledger: s3Ledger(s3Client(), {
        bucket: settings.ledgerBucket,
        ...(settings.ledgerKmsKeyId ? { kmsKeyId: settings.ledgerKmsKeyId } : {}),
      }),
      reporter: snsReporter(snsClient(), settings.reportTopicArn),
      deadLetterQueueUrl: settings.deadLetterQueueUrl,
      allowlist: settings.allowlist,
      now: () => new Date(),
      log: logger,
      metrics: metricSink(metrics),
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
