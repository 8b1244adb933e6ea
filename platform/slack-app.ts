// The Slack app's secret: the bot token the notifier posts with and the signing secret the interactions function
// verifies requests with. REMEDY_SLACK_APP_SECRET names a Secrets Manager secret whose SecretString is
// {"botToken":"xoxb-…","signingSecret":"<hex>","teamId":"T…","appId":"A…"}; empty means no app (webhooks only, no
// buttons). Reading fails closed: a denied, missing or malformed secret is one sentence naming the secret id and
// what is wrong, never a value, and the caller's work fails until it is fixed.

import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SLACK_TEAM_ID } from "../contract/ids.ts";
import { PermanentError } from "./errors.ts";
import type { Log } from "./logging.ts";

export interface SlackApp {
  /** xoxb-…: posts and updates messages, opens modals. */
  botToken: string;
  /** Hex: verifies that a request came from Slack (X-Slack-Signature). */
  signingSecret: string;
  /** The workspace (T…, or E… for an Enterprise Grid organisation) the app is installed in. */
  teamId: string;
  appId: string;
}

/** The Slack app's secret cannot be read or is not a Slack app's: only fixing the secret (or its access) helps. */
export class SlackAppSecretError extends PermanentError {
  override name = "SlackAppSecretError";
}

const FIELDS = {
  botToken: { pattern: /^xoxb-[A-Za-z0-9-]+$/, like: "a bot token (xoxb-…)" },
  // Slack's signing secrets are 32 hex characters; a longer one is allowed should Slack lengthen them.
  signingSecret: { pattern: /^[0-9a-f]{32,128}$/, like: "a signing secret (32 to 128 lowercase hex characters)" },
  teamId: { pattern: SLACK_TEAM_ID, like: "a Slack team id (T… or E…)" },
  appId: { pattern: /^A[A-Z0-9]{2,}$/, like: "a Slack app id (A…)" },
} as const satisfies Record<keyof SlackApp, { pattern: RegExp; like: string }>;

/**
 * Parses the secret's string value. `where` names it in errors ("the Slack app secret remedy/slack-app"). Errors
 * name the field at fault, never its value; an unknown key is named (a key is a typo, not a credential).
 */
export function parseSlackAppSecret(text: string | undefined, where: string): SlackApp {
  const malformed = (what: string) => new SlackAppSecretError(`${where} is malformed: ${what}`);
  if (text === undefined) throw malformed("it has no string value (a binary secret?)");
  if (text.trim() === "") throw malformed("it is empty");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('it is not JSON ({"botToken": …, "signingSecret": …, "teamId": …, "appId": …})');
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw malformed("it is not a JSON object with botToken, signingSecret, teamId and appId");
  }
  const record = json as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(FIELDS, key)) {
      throw malformed(
        `it has an unknown key ${JSON.stringify(key.slice(0, 40))} (expected ${Object.keys(FIELDS).join(", ")})`,
      );
    }
  }
  const app: Partial<SlackApp> = {};
  for (const [field, { pattern, like }] of Object.entries(FIELDS) as [
    keyof SlackApp,
    (typeof FIELDS)[keyof SlackApp],
  ][]) {
    const value = record[field];
    if (value === undefined) throw malformed(`${field} is missing`);
    if (typeof value !== "string") throw malformed(`${field} must be a string`);
    if (!pattern.test(value)) throw malformed(`${field} is not ${like}`);
    app[field] = value;
  }
  return app as SlackApp;
}

export function describeSlackAppSecret(secretId: string): string {
  return `the Slack app secret ${secretId}`;
}

/** Reads and parses the secret; any failure is a SlackAppSecretError naming the secret and the SDK error's name. */
export async function readSlackApp(secretsManager: SecretsManagerClient, secretId: string): Promise<SlackApp> {
  const where = describeSlackAppSecret(secretId);
  let text: string | undefined;
  try {
    const response = await secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    text = response.SecretString;
  } catch (error) {
    // The SDK's message can quote the request; its name (AccessDeniedException, ResourceNotFoundException) suffices.
    const name = error instanceof Error ? error.name : "Error";
    throw new SlackAppSecretError(`cannot read ${where}: ${name}`, { cause: error });
  }
  return parseSlackAppSecret(text, where);
}

/**
 * Reads the app's secret once per container (a failure is not kept: the next call reads again, so a fixed secret is
 * picked up without a redeploy). Each new problem is logged once as an error. Without a secret id: undefined (no app).
 */
export function slackAppLoader(
  secretId: string | undefined,
  clients: { secretsManager: () => SecretsManagerClient },
  log: Log,
): () => Promise<SlackApp | undefined> {
  if (!secretId) return async () => undefined;
  return cachedOnceReported(
    async () => {
      const app = await readSlackApp(clients.secretsManager(), secretId);
      log.info("Slack app loaded", { secret: secretId, teamId: app.teamId, appId: app.appId });
      return app;
    },
    (problem) => log.error("Slack app secret unusable: Slack messages through the app fail until it is fixed", problem),
  );
}

/**
 * cachedOnce, telling `report` of a failure once per problem (by its message), not at every retry of the same one:
 * a broken secret is one error in the log, and a different one after it another.
 */
export function cachedOnceReported<T>(
  load: () => Promise<T>,
  report: (problem: { problem: string; errorName: string }) => void,
): () => Promise<T> {
  let reported: string | undefined;
  return cachedOnce(async () => {
    try {
      return await load();
    } catch (error) {
      const problem = (error as Error).message;
      if (problem !== reported) report({ problem, errorName: (error as Error).name });
      reported = problem;
      throw error;
    }
  });
}

/** Loads once and keeps the result for the container's life; a failure is not kept, so the next call retries. */
export function cachedOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
