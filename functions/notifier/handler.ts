// Lambda entry for the notifier (subscribed to Remedy's report topic): wiring only.
import type { Context } from "aws-lambda";
import { cloudTrailClient, organizationsClient, secretsManagerClient, ssmClient } from "../../platform/clients.ts";
import { createLogger, createMetrics, metricSink } from "../../platform/logging.ts";
import { organizationsDirectory } from "../../platform/organization.ts";
import { type SlackApp, slackAppLoader } from "../../platform/slack-app.ts";
import { type SlackWebApi, slackWebApi } from "../../platform/slack-web-api.ts";
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
// The Slack app (REMEDY_SLACK_APP_SECRET): read on the first message for a channel; its bot token posts with buttons.
if (settings.slackAppSecret) logger.info("Slack app secret configured", { secret: settings.slackAppSecret });
const slackApp = settings.slackAppSecret
  ? {
      load: slackAppLoader(settings.slackAppSecret, { secretsManager: secretsManagerClient }, logger),
      api: appClient(),
      snoozeMinutes: settings.snoozeMinutes,
    }
  : undefined;
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
      ...(slackApp ? { slackApp } : {}),
      log: logger,
      metrics: metricSink(metrics),
      ...(organization ? { organization } : {}),
    });
  } finally {
    metrics.publishStoredMetrics();
  }
}

/** One Web API client per bot token: a rotated token (the secret re-read in a new container) gets its own. */
function appClient(): (app: SlackApp) => SlackWebApi {
  let current: { token: string; api: SlackWebApi } | undefined;
  return (app) => {
    if (current?.token !== app.botToken)
      current = { token: app.botToken, api: slackWebApi({ token: app.botToken, log: logger }) };
    return current.api;
  };
}
