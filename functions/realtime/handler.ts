// Lambda entry for the real-time path (the real-time queue's event source mapping): wiring only.
import { InvokeCommand } from "@aws-sdk/client-lambda";
import type { SQSEvent } from "aws-lambda";
import { lambdaClient, organizationsClient, s3Client, sqsClient, stsClient } from "../../platform/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../platform/logging.ts";
import { organizationsDirectory } from "../../platform/organization.ts";
import { cachedAllowlist } from "../../platform/slack-allowlist-read.ts";
import { undoExemptionReader } from "../../platform/undo-exemptions.ts";
import { organizationAccess, ownAccountAccess } from "./access.ts";
import { runRealtime } from "./core.ts";
import { readRealtimeSettings } from "./settings.ts";

const logger = createLogger("remedy-realtime");
const metrics = createMetrics("remedy-realtime");
const settings = readRealtimeSettings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}
const now = () => new Date();
const { deployment } = settings;
// Module scope: warm invocations reuse the organisation's directory and each member account's credentials.
const access = deployment.organization
  ? organizationAccess({
      deployment,
      directory: organizationsDirectory(organizationsClient(), deployment.organization),
      sts: stsClient(),
      log: logger,
      now,
    })
  : ownAccountAccess(deployment, logger, now);
const undoExemptions = undoExemptionReader(s3Client(), settings.ledgerBucket, (reason) =>
  logger.warn("undo exemption record ignored: it exempts nothing", { reason }),
);

// The deployed allowlist, then its Slack part, re-read at most once a minute: unreadable, the deployed one alone (the
// remediation reads the Slack part again before it fixes anything).
const allowlist = cachedAllowlist({
  s3: s3Client(),
  bucket: settings.ledgerBucket,
  deployed: settings.allowlist,
  log: logger,
});

export async function handler(event: SQSEvent) {
  try {
    const result = await runRealtime(event, {
      deployment,
      access,
      sqs: sqsClient(),
      queueUrl: settings.queueUrl,
      allowlist: await allowlist(),
      gracePeriodMs: settings.gracePeriodMs,
      undoExemptions,
      ownRoleArns: settings.ownRoleArns,
      autoResponse: settings.autoResponse,
      runCoordinator: async ({ queued }) => {
        await lambdaClient().send(
          new InvokeCommand({
            FunctionName: settings.coordinatorFunction,
            InvocationType: "Event",
            Payload: new TextEncoder().encode(JSON.stringify({ source: "remedy.realtime", queued })),
          }),
        );
      },
      now,
      log: logger,
      metrics: metricSink(metrics),
    });
    // Lambda reads only the failures: the outcomes are in the log lines.
    return { batchItemFailures: result.batchItemFailures };
  } finally {
    metrics.publishStoredMetrics();
  }
}
