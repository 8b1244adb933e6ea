// Everything the interactions endpoint reads from its environment, once at cold start. Bad approvers do not fail the
// function: every press is refused with the reason, so people are told instead of seeing errors.
import { ConfigurationError, integerEnv, optionalEnv, requiredEnv } from "../../../platform/env.ts";
import {
  type Approvers,
  approversFrom,
  type OrganizationScope,
  organizationFrom,
  SNOOZE_MINUTES,
} from "../settings.ts";

export interface EndpointSettings {
  slackAppSecret: string;
  approvers: Approvers;
  snoozeMinutes: number;
  workerFunction: string;
  ledgerBucket: string;
  organizationMode: boolean;
  /** Where this deployment acts: a press about an instruction elsewhere is refused before anything is recorded. */
  accountId: string;
  region: string;
  organization?: OrganizationScope;
}

type Env = Record<string, string | undefined>;

export function readEndpointSettings(env: Env = process.env): EndpointSettings {
  const accountId = requiredEnv("REMEDY_ACCOUNT_ID", env);
  const region = requiredEnv("REMEDY_REGION", env);
  if (!/^\d{12}$/.test(accountId))
    throw new ConfigurationError(`REMEDY_ACCOUNT_ID "${accountId}" is not an account id`);
  const organization = organizationFrom(optionalEnv("REMEDY_ORGANIZATION", "", env));
  return {
    slackAppSecret: requiredEnv("REMEDY_SLACK_APP_SECRET", env),
    approvers: approversFrom(optionalEnv("REMEDY_SLACK_APPROVERS", "", env)),
    snoozeMinutes: integerEnv("REMEDY_SNOOZE_MINUTES", SNOOZE_MINUTES.fallback, SNOOZE_MINUTES, env),
    workerFunction: requiredEnv("REMEDY_INTERACTIONS_WORKER", env),
    ledgerBucket: requiredEnv("REMEDY_LEDGER_BUCKET", env),
    organizationMode: organization !== undefined,
    accountId,
    region,
    ...(organization ? { organization } : {}),
  };
}
