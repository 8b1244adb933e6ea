// Everything the notifier reads from its environment, read once at cold start.

import { booleanEnv, integerEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";
import { type OrganizationSettings, readOrganizationSettings } from "../../platform/organization.ts";
import { RULE_IDS } from "../../problems/index.ts";
import { parseSecretReference, type SecretReference, secretReferenceProblem } from "./destinations.ts";
import { SLACK_USER_ID } from "./ids.ts";
import type { RelaySettings } from "./inbound.ts";

export const DEFAULT_RELAY_RULE_SUFFIXES: readonly string[] = RULE_IDS;

export interface NotifierSettings {
  /** Where the webhook URLs are; absent: messages are only logged. */
  slackSecret?: SecretReference;
  /** Why REMEDY_SLACK_SECRET was ignored (it cannot name a secret): reported at cold start, messages only logged. */
  slackSecretProblem?: string;
  relay: RelaySettings;
  attribution: { enabled: boolean; lookbackDays: number };
  /** Principal ARN, IAM user name or assumed-role session name → Slack user id. */
  slackUsers: Record<string, string>;
  /** Why some or all of REMEDY_SLACK_USERS was ignored: reported at cold start, mentions simply missing. */
  slackUsersProblems: string[];
  /** The function's own region: CloudTrail is looked up here. */
  region: string;
  /** Organisation mode (REMEDY_ORGANIZATION, as every hub function gets it): Slack routes by account and OU. */
  organization?: OrganizationSettings;
  /**
   * The Slack app's Secrets Manager secret (REMEDY_SLACK_APP_SECRET; empty: no app). With it, destinations that name
   * a channelId are posted to with chat.postMessage, with buttons.
   */
  slackAppSecret?: string;
  /** How far Snooze pushes a fix back (REMEDY_SNOOZE_MINUTES), shown on the button. */
  snoozeMinutes: number;
}

/** REMEDY_SNOOZE_MINUTES' bounds, as the coordinator and the interactions functions read it: a day, at most a week. */
export const SNOOZE_MINUTES = { fallback: 1_440, min: 1, max: 10_080 } as const;

type Env = Record<string, string | undefined>;

export function readNotifierSettings(env: Env = process.env): NotifierSettings {
  const secret = optionalEnv("REMEDY_SLACK_SECRET", "", env);
  const secretProblem = secret ? secretReferenceProblem(secret, "REMEDY_SLACK_SECRET") : undefined;
  const suffixes = optionalEnv("REMEDY_RELAY_RULE_SUFFIXES", DEFAULT_RELAY_RULE_SUFFIXES.join(","), env)
    .split(",")
    .map((suffix) => suffix.trim())
    .filter((suffix) => suffix !== "");
  const users = parseSlackUsers(optionalEnv("REMEDY_SLACK_USERS", "{}", env));
  const organization = readOrganizationSettings(env);
  const appSecret = optionalEnv("REMEDY_SLACK_APP_SECRET", "", env).trim();
  return {
    ...(secretProblem
      ? { slackSecretProblem: secretProblem }
      : secret
        ? { slackSecret: parseSecretReference(secret) }
        : {}),
    relay: { ruleSuffixes: suffixes, relayAllRules: booleanEnv("REMEDY_RELAY_ALL_RULES", false, env) },
    attribution: {
      enabled: booleanEnv("REMEDY_ATTRIBUTION_ENABLED", true, env),
      lookbackDays: integerEnv("REMEDY_ATTRIBUTION_LOOKBACK_DAYS", 7, { min: 1, max: 90 }, env),
    },
    slackUsers: users.users,
    slackUsersProblems: users.problems,
    region: requiredEnv("AWS_REGION", env),
    ...(organization ? { organization } : {}),
    ...(appSecret ? { slackAppSecret: appSecret } : {}),
    snoozeMinutes: integerEnv("REMEDY_SNOOZE_MINUTES", SNOOZE_MINUTES.fallback, SNOOZE_MINUTES, env),
  };
}

/** `{"arn:aws:iam::123456789012:user/alice": "U012ABCDEF", "alice@example.com": "U012ABCDEF"}` */
export function parseSlackUsers(json: string): { users: Record<string, string>; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { users: {}, problems: [`REMEDY_SLACK_USERS is not JSON: ${(error as Error).message}`] };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { users: {}, problems: ["REMEDY_SLACK_USERS must be a JSON object of principal → Slack user id"] };
  }
  const users: Record<string, string> = {};
  const problems: string[] = [];
  for (const [principal, id] of Object.entries(value)) {
    if (typeof id === "string" && SLACK_USER_ID.test(id)) users[principal] = id;
    else problems.push(`REMEDY_SLACK_USERS["${principal}"] is not a Slack user id like U012ABCDEF`);
  }
  return { users, problems };
}
