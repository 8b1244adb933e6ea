// Everything the interactions endpoint reads from its environment, once at cold start. Bad approvers do not fail the
// function: every press is refused with the reason, so people are told instead of seeing errors.
import { integerEnv, requiredEnv } from "../../../platform/env.ts";
import { type CommonSettings, readCommonSettings, SNOOZE_MINUTES } from "../settings.ts";

export interface EndpointSettings extends CommonSettings {
  snoozeMinutes: number;
  workerFunction: string;
}

type Env = Record<string, string | undefined>;

export function readEndpointSettings(env: Env = process.env): EndpointSettings {
  return {
    ...readCommonSettings(env),
    snoozeMinutes: integerEnv("REMEDY_SNOOZE_MINUTES", SNOOZE_MINUTES.fallback, SNOOZE_MINUTES, env),
    workerFunction: requiredEnv("REMEDY_INTERACTIONS_WORKER", env),
  };
}
