// Lambda entry for the interactions worker (invoked asynchronously by the endpoint only): wiring only.
import { kmsRecordVerifier } from "../../../cli/undo-runner.ts";
import { snsReporter } from "../../../contract/report.ts";
import {
  ec2Client,
  kmsClient,
  s3Client,
  secretsManagerClient,
  sharedClient,
  snsClient,
  sqsClient,
} from "../../../platform/clients.ts";
import { createLogger } from "../../../platform/logging.ts";
import { addSlackAllowlistEntry } from "../../../platform/slack-allowlist.ts";
import { SlackAppSecretError, slackAppLoader } from "../../../platform/slack-app.ts";
import { slackWebApi } from "../../../platform/slack-web-api.ts";
import { runWorkItem } from "./core.ts";
import { readWorkerSettings } from "./settings.ts";
import { sharedUndo } from "./undo.ts";

const logger = createLogger("remedy-interactions-worker");
const settings = readWorkerSettings();
if (!settings.approvers.ok)
  logger.error("approvers settings refused: every decision is denied", { reason: settings.approvers.reason });
const loadApp = slackAppLoader(settings.slackAppSecret, { secretsManager: secretsManagerClient }, logger);

export async function handler(event: unknown) {
  const now = () => new Date();
  return runWorkItem(event, {
    s3: s3Client(),
    bucket: settings.ledgerBucket,
    approvers: settings.approvers,
    sqs: sqsClient(),
    queueUrl: settings.queueUrl,
    slack: async () => {
      const app = await loadApp();
      if (!app) throw new SlackAppSecretError("REMEDY_SLACK_APP_SECRET names no Slack app");
      return slackWebApi({ token: app.botToken, waitBudgetMs: 10_000, log: logger });
    },
    addAllowlistEntry: (addition, at) => addSlackAllowlistEntry(s3Client(), settings.ledgerBucket, addition, at),
    undo: sharedUndo({
      s3: s3Client(),
      ec2: ec2Client(),
      client: (Client) => sharedClient(Client),
      bucket: settings.ledgerBucket,
      verifier: kmsRecordVerifier(kmsClient()),
      macKeyId: settings.ledgerMacKeyId,
      reporter: snsReporter(snsClient(), settings.reportTopicArn, now),
      now,
      log: logger,
    }),
    deployment: {
      accountId: settings.accountId,
      region: settings.region,
      ...(settings.organization ? { organization: settings.organization } : {}),
    },
    organizationMode: settings.organizationMode,
    now,
    log: logger,
  });
}
