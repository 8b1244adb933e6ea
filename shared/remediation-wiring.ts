// The real clients behind every remediation function's shared dependencies, built from its settings: wiring only,
// used by the handlers (tests pass their own dependencies to the cores).

import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { kmsClient, s3Client, snsClient, sqsClient, ssmClient } from "./clients.ts";
import { kmsRecordSigner, s3Ledger } from "./ledger.ts";
import { metricSink } from "./logging.ts";
import { readPauseState } from "./pause.ts";
import type { RemediationDeps, RemediationSettings } from "./remediation.ts";
import { snsReporter } from "./report.ts";

export function liveRemediationDeps(
  settings: RemediationSettings,
  logger: Logger,
  metrics: Metrics,
): RemediationDeps & { allowlist: RemediationSettings["allowlist"] } {
  return {
    deployment: settings.deployment,
    queueUrl: settings.queueUrl,
    sqs: sqsClient(),
    ledger: s3Ledger(s3Client(), {
      bucket: settings.ledgerBucket,
      // Every record is signed, so undo can tell it from one written by anyone else with access to the bucket.
      signer: kmsRecordSigner(kmsClient(), settings.ledgerMacKeyId),
    }),
    reporter: snsReporter(snsClient(), settings.reportTopicArn),
    deadLetterQueueUrl: settings.deadLetterQueueUrl,
    readPause: () => readPauseState(ssmClient(), settings.pauseParameter),
    maxDispatchAgeMs: settings.maxDispatchAgeSeconds * 1000,
    allowlist: settings.allowlist,
    now: () => new Date(),
    log: logger,
    metrics: metricSink(metrics),
  };
}
