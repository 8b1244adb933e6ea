// Everything the interactions worker reads from its environment, once at cold start.
import { requiredEnv } from "../../../platform/env.ts";
import { type CommonSettings, readCommonSettings } from "../settings.ts";

export interface WorkerSettings extends CommonSettings {
  queueUrl: string;
  ledgerMacKeyId: string;
  reportTopicArn: string;
}

type Env = Record<string, string | undefined>;

/** Undo refuses organisation mode; Fix now, Snooze and Exempt check the instruction against its regions. */
export function readWorkerSettings(env: Env = process.env): WorkerSettings {
  return {
    ...readCommonSettings(env),
    queueUrl: requiredEnv("REMEDY_QUEUE_URL", env),
    ledgerMacKeyId: requiredEnv("REMEDY_LEDGER_MAC_KEY_ID", env),
    reportTopicArn: requiredEnv("REMEDY_REPORT_TOPIC_ARN", env),
  };
}
