// Lambda entry for the coordinator (EventBridge schedule, every 60 s): wiring only.
import type { Context } from "aws-lambda";
import { snsReporter } from "../../contract/report.ts";
import { PROBLEMS } from "../../detection/types.ts";
import {
  lambdaClient,
  organizationsClient,
  s3Client,
  snsClient,
  sqsClient,
  ssmClient,
} from "../../platform/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../platform/logging.ts";
import { organizationsDirectory } from "../../platform/organization.ts";
import { readCoordinatorSettings } from "./settings.ts";
import { s3StateStore } from "./state.ts";
import { runCoordinator } from "./tick.ts";

const logger = createLogger("remedy-coordinator");
const metrics = createMetrics("remedy-coordinator");
const settings = readCoordinatorSettings();
const unregistered = PROBLEMS.filter((problem) => !settings.remediationFunctions[problem]);
if (unregistered.length > 0) {
  logger.warn("problems without a remediation function: their instructions are dead-lettered", { unregistered });
}
// Organisation mode: built once per container, so its cache (accounts, OU paths) outlives a tick.
const organization = settings.deployment.organization;
const directory = organization ? organizationsDirectory(organizationsClient(), organization) : undefined;

export async function handler(_event: unknown, context: Pick<Context, "getRemainingTimeInMillis">) {
  try {
    return await runCoordinator({
      sqs: sqsClient(),
      lambda: lambdaClient(),
      ssm: ssmClient(),
      store: s3StateStore(s3Client(), { bucket: settings.stateBucket, key: settings.stateKey }),
      // Slack buttons: decisions and pending records, in the same (ledger) bucket.
      ...(settings.interactive ? { s3: s3Client() } : {}),
      reporter: snsReporter(snsClient(), settings.reportTopicArn),
      config: settings,
      ...(directory ? { directory } : {}),
      now: () => new Date(),
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
      log: logger,
      metrics: metricSink(metrics),
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
