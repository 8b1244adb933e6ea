// Lambda entry for every Remedy Config rule: wiring only.
import { configServiceClient, sqsClient } from "../../shared/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../shared/logging.ts";
import { runConfigRule } from "./core.ts";
import { readRuleRuntimeSettings } from "./settings.ts";

const logger = createLogger("remedy-config-rule");
const metrics = createMetrics("remedy-config-rule");
const settings = readRuleRuntimeSettings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}

export async function handler(event: unknown) {
  try {
    return await runConfigRule(event, {
      configService: configServiceClient(),
      sqs: sqsClient(),
      queueUrl: settings.queueUrl,
      deployment: settings.deployment,
      allowlist: settings.allowlist,
      gracePeriodMs: settings.gracePeriodMs,
      now: () => new Date(),
      log: logger,
      metrics: metricSink(metrics),
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
