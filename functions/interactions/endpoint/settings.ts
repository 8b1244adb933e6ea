// Everything the interactions endpoint reads from its environment, once at cold start. Bad approvers do not fail the
// function: every press is refused with the reason, so people are told instead of seeing errors.
import { integerEnv, optionalEnv, requiredEnv } from "../../../platform/env.ts";
import { type Approvers, approversFrom, SNOOZE_MINUTES } from "../settings.ts";

export interface EndpointSettings {
  slackAppSecret: string;
  approvers: Approvers;
  snoozeMinutes: number;
  workerFunction: string;
  ledgerBucket: string;
  organizationMode: boolean;
}

type Env = Record<string, string | undefined>;

export function readEndpointSettings(env: Env = process.env): EndpointSettings {
  return {
    slackAppSecret: requiredEnv("REMEDY_SLACK_APP_SECRET", env),
    approvers: approversFrom(optionalEnv("REMEDY_SLACK_APPROVERS", "", env)),
    snoozeMinutes: integerEnv("REMEDY_SNOOZE_MINUTES", SNOOZE_MINUTES.fallback, SNOOZE_MINUTES, env),
    workerFunction: requiredEnv("REMEDY_INTERACTIONS_WORKER", env),
    ledgerBucket: requiredEnv("REMEDY_LEDGER_BUCKET", env),
    organizationMode: optionalEnv("REMEDY_ORGANIZATION", "", env) !== "",
  };
}
