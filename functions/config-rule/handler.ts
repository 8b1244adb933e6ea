// Lambda entry for every Remedy Config rule: wiring only.
import { accountFactsReader } from "../../detection/account-facts.ts";
import { configServiceClient, s3ControlClient, sqsClient } from "../../platform/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../platform/logging.ts";
import { runConfigRule } from "./core.ts";
import { readRuleRuntimeSettings } from "./settings.ts";

const logger = createLogger("remedy-config-rule");
const metrics = createMetrics("remedy-config-rule");
const settings = readRuleRuntimeSettings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}
// Module scope: the reading is reused by warm invocations for a few minutes.
const accountFacts = accountFactsReader({ s3control: s3ControlClient, now: () => new Date(), log: logger });

export async function handler(event: unknown) {
  try {
    return await runConfigRule(event, {
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
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
