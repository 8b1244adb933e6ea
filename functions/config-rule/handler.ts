// Lambda entry for every Remedy Config rule, and for the periodic scan's task queue: wiring only.
import { randomUUID } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { accountFactsReader } from "../../detection/account-facts.ts";
import {
  clientInRegion,
  configServiceClient,
  organizationsClient,
  s3Client,
  s3ControlClient,
  sharedClient,
  sqsClient,
  stsClient,
} from "../../platform/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../platform/logging.ts";
import { organizationsDirectory } from "../../platform/organization.ts";
import { cachedAllowlist } from "../../platform/slack-allowlist-read.ts";
import { runConfigRule } from "./core.ts";
import { inventoryAccess } from "./inventory-access.ts";
import { memberDetection } from "./organization.ts";
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
// Organisation mode: events come from member accounts, judged there with each one's detect role (organization.ts);
// module scope, so warm invocations reuse the organisation's directory and each account's credentials.
const organization = settings.deployment.organization;
const members = organization
  ? memberDetection({
      deployment: settings.deployment,
      directory: organizationsDirectory(organizationsClient(), organization),
      sts: stsClient(),
      now: () => new Date(),
      log: logger,
    })
  : undefined;
// A regional copy (organisation mode, a region other than the hub's) sends to the queues and bucket of the hub's region.
const remoteHub = organization !== undefined && settings.hubRegion !== settings.deployment.region;
const hubSqs = remoteHub ? () => clientInRegion(SQSClient, settings.hubRegion) : sqsClient;
const hubS3 = remoteHub ? () => clientInRegion(S3Client, settings.hubRegion) : s3Client;
// The deployed allowlist, then its Slack part (the ledger bucket's allowlist/slack.json), re-read at most once a
// minute: unreadable, the deployed one alone (the remediation reads the Slack part again before it fixes anything).
const allowlist = cachedAllowlist({
  s3: hubS3(),
  bucket: settings.scanBucket,
  deployed: settings.allowlist,
  log: logger,
});
/** A scan task hands the rest on with this much of its invocation left (a page call can take seconds). */
const SCAN_SAFETY_MARGIN_MS = 60_000;
// The types Config does not record are listed with the function's own clients, in its own region (organisation mode:
// organization.ts lists them in the member account with its detect session instead).
const inventories = inventoryAccess({
  client: (Client) => sharedClient(Client as never) as never,
  now: () => new Date(),
  log: logger,
});

export async function handler(event: unknown, context?: { getRemainingTimeInMillis(): number; awsRequestId?: string }) {
  const common = {
    configService: configServiceClient(),
    sqs: hubSqs(),
    queueUrl: settings.queueUrl,
    deployment: settings.deployment,
    accountFacts,
    allowlist: await allowlist(),
    gracePeriodMs: settings.gracePeriodMs,
    now: () => new Date(),
    log: logger,
    metrics: metricSink(metrics),
    scanQueue: scanQueueOnSqs(hubSqs(), settings.scanQueueUrl),
  };
  // Names the member sessions this invocation opens (their CloudTrail shows "detect-<id>").
  const invocationId = members ? (context?.awsRequestId ?? randomUUID()) : "";
  try {
    if (isScanQueueEvent(event)) {
      return await runScanBatch(event, {
        ...common,
        scanStore: scanStoreOnS3(hubS3(), settings.scanBucket),
        inventories,
        scanDeadLetterUrl: settings.scanDeadLetterUrl,
        remainingTimeMs: () => context?.getRemainingTimeInMillis() ?? 0,
        safetyMarginMs: SCAN_SAFETY_MARGIN_MS,
        ...(members ? { runTask: (task, deps) => members.runScanTask(task, deps, invocationId) } : {}),
      });
    }
    return await (members ? members.runRule(event, common, invocationId) : runConfigRule(event, common));
  } finally {
    metrics.publishStoredMetrics();
  }
}
