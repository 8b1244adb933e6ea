// Lambda entry for every Remedy Config rule, and for the periodic scan's task queue: wiring only.
import { accountFactsReader } from "../../detection/account-facts.ts";
import { configServiceClient, s3Client, s3ControlClient, sqsClient } from "../../platform/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../platform/logging.ts";
import { runConfigRule } from "./core.ts";
import { isScanQueueEvent, runScanBatch, scanQueueOnSqs, scanStoreOnS3 } from "./scan.ts";
import { readRuleRuntimeSettings } from "./settings.ts";

const logger = createLogger("remedy-config-rule");
const metrics = createMetrics("remedy-config-rule");
const settings = readRuleRuntimeSettings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}
// Module scope: the reading is reused by warm invocations for a few minutes.
const accountFacts = accountFactsReader({ s3control: s3ControlClient, now: () => new Date(), log: logger });
/** A scan task hands the rest on with this much of its invocation left (a page call can take seconds). */
const SCAN_SAFETY_MARGIN_MS = 60_000;

export async function handler(event: unknown, context?: { getRemainingTimeInMillis(): number }) {
  const common = {
    configService: configServiceClient(),
    sqs: sqsClient(),
    queueUrl: settings.queueUrl,
    deployment: settings.deployment,
    accountFacts,
    allowlist: settings.allowlist,
    gracePeriodMs: settings.gracePeriodMs,
    now: () => new Date(),
    log: logger,
    metrics: metricSink(metrics),
    scanQueue: scanQueueOnSqs(sqsClient(), settings.scanQueueUrl),
  };
  try {
    if (isScanQueueEvent(event)) {
      return await runScanBatch(event, {
        ...common,
        scanStore: scanStoreOnS3(s3Client(), settings.scanBucket),
        scanDeadLetterUrl: settings.scanDeadLetterUrl,
        remainingTimeMs: () => context?.getRemainingTimeInMillis() ?? 0,
        safetyMarginMs: SCAN_SAFETY_MARGIN_MS,
      });
    }
    return await runConfigRule(event, common);
  } finally {
    metrics.publishStoredMetrics();
  }
}
