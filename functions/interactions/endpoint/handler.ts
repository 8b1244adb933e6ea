// Lambda entry for the interactions endpoint (behind an unauthenticated HTTP API route: Slack signs its requests, it
// cannot sign SigV4): wiring only. Its Slack client is quick to give up, since Slack waits 3 seconds for the answer.
import { lambdaClient, s3Client, secretsManagerClient } from "../../../platform/clients.ts";
import { createLogger } from "../../../platform/logging.ts";
import { SlackAppSecretError, slackAppLoader } from "../../../platform/slack-app.ts";
import { slackWebApi } from "../../../platform/slack-web-api.ts";
import { type FunctionUrlEvent, handleRequest } from "./core.ts";
import { readEndpointSettings } from "./settings.ts";

const logger = createLogger("remedy-interactions");
const settings = readEndpointSettings();
if (!settings.approvers.ok)
  logger.error("approvers settings refused: every press is denied", { reason: settings.approvers.reason });
const loadApp = slackAppLoader(settings.slackAppSecret, { secretsManager: secretsManagerClient }, logger);

export async function handler(event: FunctionUrlEvent) {
  return handleRequest(event, {
    slackApp: async () => {
      const app = await loadApp();
      if (!app) throw new SlackAppSecretError("REMEDY_SLACK_APP_SECRET names no Slack app");
      return app;
    },
    slack: (token) =>
      slackWebApi({ token, maxAttempts: 2, waitBudgetMs: 0, timeoutMs: 1_500, backoffMs: 0, log: logger }),
    approvers: settings.approvers,
    snoozeMinutes: settings.snoozeMinutes,
    organizationMode: settings.organizationMode,
    deployment: {
      accountId: settings.accountId,
      region: settings.region,
      ...(settings.organization ? { organization: settings.organization } : {}),
    },
    s3: s3Client(),
    bucket: settings.ledgerBucket,
    lambda: lambdaClient(),
    workerFunction: settings.workerFunction,
    now: () => new Date(),
    log: logger,
  });
}
