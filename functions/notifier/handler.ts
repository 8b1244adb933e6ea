// Lambda entry for the notifier (subscribed to Remedy's report topic): wiring only.
import type { Context } from "aws-lambda";
import { cloudTrailClient, organizationsClient, secretsManagerClient, ssmClient } from "../../platform/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../platform/logging.ts";
import { organizationsDirectory } from "../../platform/organization.ts";
import { runNotifier } from "./core.ts";
import { describeReference, slackRoutingLoader } from "./destinations.ts";
import { readNotifierSettings } from "./settings.ts";
import { slackSender } from "./slack.ts";

const logger = createLogger("remedy-notifier");
const metrics = createMetrics("remedy-notifier");

const settings = readNotifierSettings();
for (const problem of settings.slackUsersProblems) logger.error("Slack user mapping entry ignored", { problem });
const slackSecret = settings.slackSecret;
if (settings.slackSecretProblem) {
  logger.error("REMEDY_SLACK_SECRET ignored: messages are logged, not sent to Slack", {
    problem: settings.slackSecretProblem,
  });
} else if (slackSecret) logger.info("Slack webhooks come from a secret", { secret: describeReference(slackSecret) });
else logger.warn("REMEDY_SLACK_SECRET is not set: messages are logged, not sent to Slack");

// Read on the first message; a malformed or unreadable secret is logged as an error in one sentence.
const routing = slackRoutingLoader(slackSecret, { secretsManager: secretsManagerClient, ssm: ssmClient }, logger);
const slack = slackSender({ log: logger });
// Organisation mode: one directory per container, so who is who is cached across warm invocations.
const organization = settings.organization
  ? { directory: organizationsDirectory(organizationsClient(), settings.organization) }
  : undefined;

export async function handler(event: unknown, context?: Pick<Context, "invokedFunctionArn">) {
  const accountId = context?.invokedFunctionArn?.split(":")[4];
  try {
    return await runNotifier(event, {
      relay: settings.relay,
      ...(settings.attribution.enabled
        ? {
            attribution: {
              cloudTrail: cloudTrailClient(),
              home: { region: settings.region, ...(accountId ? { accountId } : {}) },
              lookbackDays: settings.attribution.lookbackDays,
              slackUsers: settings.slackUsers,
              now: () => new Date(),
              log: logger,
            },
          }
        : {}),
      routing,
      slack,
      log: logger,
      metrics: metricSink(metrics),
      ...(organization ? { organization } : {}),
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}
