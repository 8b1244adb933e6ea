// Where messages go: webhook URLs live in a secret (Secrets Manager, or an SSM SecureString when the reference
// starts with "ssm:"), read once per container and routed by account. URLs never appear in logs or errors.
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { ownValue } from "./ids.ts";
import type { Destination } from "./slack.ts";

/** The Slack secret is missing, unreadable or malformed. Messages are logged and the invocation fails. */
export class SlackSecretError extends Error {
  override name = "SlackSecretError";
}

export type SecretReference = { store: "ssm"; name: string } | { store: "secretsmanager"; secretId: string };

export interface SlackRouting {
  default?: Destination;
  accounts: Record<string, Destination>;
}

export interface RoutedDestination extends Destination {
  /** How the destination was chosen, for the logs. */
  via: "account" | "default";
}

export interface SecretClients {
  secretsManager: () => SecretsManagerClient;
  ssm: () => SSMClient;
}

/** "ssm:/remedy/slack" → SSM parameter "/remedy/slack"; anything else is a Secrets Manager ARN or name. */
export function parseSecretReference(reference: string): SecretReference {
  if (reference.startsWith("ssm:")) return { store: "ssm", name: reference.slice("ssm:".length) };
  return { store: "secretsmanager", secretId: reference };
}

export function describeReference(reference: SecretReference): string {
  return reference.store === "ssm" ? `SSM parameter ${reference.name}` : `secret ${reference.secretId}`;
}

export async function readSlackRouting(reference: SecretReference, clients: SecretClients): Promise<SlackRouting> {
  let value: string | undefined;
  try {
    if (reference.store === "ssm") {
      const response = await clients
        .ssm()
        .send(new GetParameterCommand({ Name: reference.name, WithDecryption: true }));
      value = response.Parameter?.Value;
    } else {
      const response = await clients.secretsManager().send(new GetSecretValueCommand({ SecretId: reference.secretId }));
      value = response.SecretString;
    }
  } catch (error) {
    const name = error instanceof Error ? error.name : "Error";
    throw new SlackSecretError(`cannot read the Slack ${describeReference(reference)}: ${name}`);
  }
  if (value === undefined) throw new SlackSecretError(`the Slack ${describeReference(reference)} has no string value`);
  return parseSlackRouting(value);
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function destination(value: unknown, path: string): Destination {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SlackSecretError(`${path} must be an object with a webhookUrl`);
  }
  const { webhookUrl, channel } = value as Record<string, unknown>;
  if (typeof webhookUrl !== "string") throw new SlackSecretError(`${path}.webhookUrl must be a string`);
  let url: URL;
  try {
    url = new URL(webhookUrl);
  } catch {
    throw new SlackSecretError(`${path}.webhookUrl is not a URL`);
  }
  // The URL is the credential: plain http only to this machine (tests, local emulators).
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new SlackSecretError(`${path}.webhookUrl must be an https URL`);
  }
  if (channel !== undefined && typeof channel !== "string") {
    throw new SlackSecretError(`${path}.channel must be a string`);
  }
  return { webhookUrl, ...(channel ? { channel } : {}) };
}

/**
 * Parses `{"default": {"webhookUrl": "...", "channel": "#sec-alerts"}, "accounts": {"123456789012": {...}}}`.
 * Errors name the path, never the value.
 */
export function parseSlackRouting(json: string): SlackRouting {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new SlackSecretError("the Slack secret is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SlackSecretError("the Slack secret must be a JSON object");
  }
  const { default: fallback, accounts } = value as Record<string, unknown>;
  const routing: SlackRouting = { accounts: {} };
  if (fallback !== undefined && fallback !== null) routing.default = destination(fallback, "default");
  if (accounts !== undefined && accounts !== null) {
    if (typeof accounts !== "object" || Array.isArray(accounts)) {
      throw new SlackSecretError("accounts must be an object keyed by account id");
    }
    for (const [accountId, entry] of Object.entries(accounts)) {
      if (!/^\d{12}$/.test(accountId))
        throw new SlackSecretError(`accounts has a key that is not a 12-digit account id`);
      routing.accounts[accountId] = destination(entry, `accounts.${accountId}`);
    }
  }
  return routing;
}

/** The account's own destination, else the default; undefined when neither exists. */
export function routeFor(routing: SlackRouting, accountId: string | undefined): RoutedDestination | undefined {
  const own = accountId === undefined ? undefined : ownValue(routing.accounts, accountId);
  if (own) return { ...own, via: "account" };
  if (routing.default) return { ...routing.default, via: "default" };
  return undefined;
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
