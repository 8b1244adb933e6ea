// Everything the interactions worker reads from its environment, once at cold start.
import { ConfigurationError, optionalEnv, requiredEnv } from "../../../platform/env.ts";
import { type Approvers, approversFrom, type OrganizationScope, organizationFrom } from "../settings.ts";

export interface WorkerSettings {
  slackAppSecret: string;
  approvers: Approvers;
  ledgerBucket: string;
  queueUrl: string;
  ledgerMacKeyId: string;
  reportTopicArn: string;
  accountId: string;
  region: string;
  organizationMode: boolean;
  /** Organisation mode's settings: an instruction's region must be one of theirs, its account not excluded. */
  organization?: OrganizationScope;
}

type Env = Record<string, string | undefined>;

export function readWorkerSettings(env: Env = process.env): WorkerSettings {
  const accountId = requiredEnv("REMEDY_ACCOUNT_ID", env);
  const region = requiredEnv("REMEDY_REGION", env);
  if (!/^\d{12}$/.test(accountId))
    throw new ConfigurationError(`REMEDY_ACCOUNT_ID "${accountId}" is not an account id`);
  const organization = organizationFrom(optionalEnv("REMEDY_ORGANIZATION", "", env));
  return {
    slackAppSecret: requiredEnv("REMEDY_SLACK_APP_SECRET", env),
    approvers: approversFrom(optionalEnv("REMEDY_SLACK_APPROVERS", "", env)),
    ledgerBucket: requiredEnv("REMEDY_LEDGER_BUCKET", env),
    queueUrl: requiredEnv("REMEDY_QUEUE_URL", env),
    ledgerMacKeyId: requiredEnv("REMEDY_LEDGER_MAC_KEY_ID", env),
    reportTopicArn: requiredEnv("REMEDY_REPORT_TOPIC_ARN", env),
    accountId,
    region,
    // Undo refuses organisation mode; Fix now, Snooze and Exempt check the instruction against its regions.
    organizationMode: organization !== undefined,
    ...(organization ? { organization } : {}),
  };
}
