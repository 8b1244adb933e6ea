// Where messages go: webhook URLs (and the channel ids the Slack app posts to) live in a secret (Secrets Manager, or an SSM SecureString when the reference
// starts with "ssm:"), read once per container and routed by account. The secret holds either one bare webhook URL
// (every message goes there) or the JSON routing (a default, per-account webhooks and, for organisation mode, named
// routes that the organisation settings' `slackRoute` picks). URLs never appear in logs or errors: a problem with the
// secret is one sentence naming the secret and what is wrong, never its value.
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import { PermanentError } from "../../platform/errors.ts";
import type { Log } from "../../platform/logging.ts";
import type { AccountStanding } from "../../platform/organization.ts";
import { cachedOnce, cachedOnceReported } from "../../platform/slack-app.ts";
import { isAccountId, ownValue } from "./ids.ts";
import type { Destination } from "./slack.ts";

// Moved to platform (the Slack app loader shares it); re-exported for existing imports.
export { cachedOnce };

/** The Slack secret cannot be read (denied, missing, throttled). Messages are logged and the invocation fails. */
export class SlackSecretError extends PermanentError {
  override name = "SlackSecretError";
}

/** The Slack secret was read but is not a Slack routing: only fixing the secret helps. */
export class MalformedSlackSecretError extends SlackSecretError {
  override name = "MalformedSlackSecretError";
}

export type SecretReference = { store: "ssm"; name: string } | { store: "secretsmanager"; secretId: string };

export interface SlackRouting {
  default?: Destination;
  accounts: Record<string, Destination>;
  /** Named routes (organisation mode): an account's or OU's `slackRoute` in the organisation settings names one. */
  routes?: Record<string, Destination>;
}

export interface RoutedDestination extends Destination {
  /** How the destination was chosen, for the logs. */
  via: "route" | "account" | "default";
  /** The route's name, when chosen by the organisation settings. */
  route?: string;
}

/** A route name as the organisation settings spell a `slackRoute` (platform/organization.ts). */
const ROUTE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export interface SecretClients {
  secretsManager: () => SecretsManagerClient;
  ssm: () => SSMClient;
}

/** Slack's incoming-webhook hosts (commercial and GovSlack). A webhook anywhere else would hand reports to that host. */
export const SLACK_WEBHOOK_HOSTS = ["hooks.slack.com", "hooks.slack-gov.com"] as const;

/** "ssm:/remedy/slack" → SSM parameter "/remedy/slack"; anything else is a Secrets Manager ARN or name. */
export function parseSecretReference(reference: string): SecretReference {
  if (reference.startsWith("ssm:")) return { store: "ssm", name: reference.slice("ssm:".length) };
  return { store: "secretsmanager", secretId: reference };
}

/**
 * Why a REMEDY_SLACK_SECRET-style reference cannot name a secret, or undefined when it can. The webhook URL itself
 * in its place is refused (it would be a credential in the function's configuration); the sentence does not echo it.
 */
export function secretReferenceProblem(reference: string, source: string): string | undefined {
  if (/^https?:\/\//i.test(reference.trim())) {
    return `${source} holds a URL: it must name the secret that holds the webhook (a Secrets Manager ARN or name, or ssm:<parameter name>), not the webhook itself`;
  }
  if (reference.trim() === "ssm:") return `${source} is "ssm:" without a parameter name`;
  return undefined;
}

export function describeReference(reference: SecretReference): string {
  return reference.store === "ssm" ? `SSM parameter ${reference.name}` : `secret ${reference.secretId}`;
}

/** The secret's string value (undefined for a binary secret); the SDK's error as it came when it cannot be read. */
export async function fetchSecretString(
  reference: SecretReference,
  clients: SecretClients,
): Promise<string | undefined> {
  if (reference.store === "ssm") {
    const response = await clients.ssm().send(new GetParameterCommand({ Name: reference.name, WithDecryption: true }));
    return response.Parameter?.Value;
  }
  const response = await clients.secretsManager().send(new GetSecretValueCommand({ SecretId: reference.secretId }));
  return response.SecretString;
}

export async function readSlackRouting(reference: SecretReference, clients: SecretClients): Promise<SlackRouting> {
  let value: string | undefined;
  try {
    value = await fetchSecretString(reference, clients);
  } catch (error) {
    const name = error instanceof Error ? error.name : "Error";
    throw new SlackSecretError(`cannot read the Slack ${describeReference(reference)}: ${name}`);
  }
  return parseSlackRouting(value, reference);
}

type Malformed = (what: string) => MalformedSlackSecretError;

function webhook(value: unknown, path: string, malformed: Malformed): string {
  if (typeof value !== "string") throw malformed(`${path} must be a string`);
  // The URL parser drops tabs and newlines inside a URL; here they mean something else was pasted along.
  if (/\s/.test(value.trim())) throw malformed(`${path} has whitespace inside it`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw malformed(`${path} is not a URL`);
  }
  if (url.protocol !== "https:") throw malformed(`${path} must be an https URL`);
  if (!(SLACK_WEBHOOK_HOSTS as readonly string[]).includes(url.hostname) || url.port !== "") {
    throw malformed(`${path} is not a Slack incoming webhook (its host must be ${SLACK_WEBHOOK_HOSTS.join(" or ")})`);
  }
  return value.trim();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A Slack channel id as chat.postMessage takes it: public (C…), private (G…) or a direct message (D…). */
export const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{8,}$/;

function destination(value: unknown, path: string, malformed: Malformed): Destination {
  if (!isObject(value)) throw malformed(`${path} must be an object with a webhookUrl or a channelId`);
  const { webhookUrl, channelId, channel, ...rest } = value;
  // Key names, not values: an unknown key is probably a typo ("chanel", "url"), but it is still not echoed.
  if (Object.keys(rest).length > 0) throw malformed(`${path} has a key other than webhookUrl, channelId and channel`);
  if (webhookUrl === undefined && channelId === undefined) {
    throw malformed(`${path} has neither a webhookUrl nor a channelId`);
  }
  const url = webhookUrl === undefined ? undefined : webhook(webhookUrl, `${path}.webhookUrl`, malformed);
  if (channelId !== undefined && (typeof channelId !== "string" || !SLACK_CHANNEL_ID.test(channelId))) {
    throw malformed(
      `${path}.channelId is not a Slack channel id (C…, G… or D… and at least 8 more capitals or digits)`,
    );
  }
  if (channel !== undefined && typeof channel !== "string") throw malformed(`${path}.channel must be a string`);
  return {
    ...(url !== undefined ? { webhookUrl: url } : {}),
    ...(channelId !== undefined ? { channelId } : {}),
    ...(channel ? { channel } : {}),
  };
}

/**
 * Parses the secret's value: a bare webhook URL (`https://hooks.slack.com/services/...`, surrounding whitespace
 * ignored) is the default route; otherwise the JSON routing
 * `{"default": {"webhookUrl": "...", "channel": "#sec-alerts"}, "accounts": {"123456789012": {...}}}`. A
 * destination has a webhookUrl, a channelId (the Slack app posts there, with buttons) or both (the webhook is used
 * while no app is configured). Webhooks must be https on Slack's webhook hosts. Errors are one sentence naming the secret and the path, never
 * the value.
 */
export function parseSlackRouting(value: string | undefined, reference?: SecretReference): SlackRouting {
  const secret = reference ? `the Slack ${describeReference(reference)}` : "the Slack secret";
  const malformed: Malformed = (what) => new MalformedSlackSecretError(`${secret} is malformed: ${what}`);
  if (value === undefined) throw malformed("it has no string value (a binary secret?)");
  const text = value.trim();
  if (text === "") throw malformed("it is empty");

  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    if (!URL.canParse(text)) {
      throw malformed("it is neither a webhook URL (https://hooks.slack.com/services/…) nor JSON routing");
    }
    return { default: { webhookUrl: webhook(text, "its URL", malformed) }, accounts: {} };
  }
  if (!isObject(json)) throw malformed("it is JSON but not an object with default and accounts");
  const { default: fallback, accounts, routes, ...rest } = json;
  if ("webhookUrl" in rest) throw malformed('webhookUrl belongs under "default" ({"default": {"webhookUrl": …}})');
  if (Object.keys(rest).length > 0) throw malformed("it has a key other than default, accounts and routes");
  const routing: SlackRouting = { accounts: {} };
  if (fallback !== undefined && fallback !== null) routing.default = destination(fallback, "default", malformed);
  if (accounts !== undefined && accounts !== null) {
    if (!isObject(accounts)) throw malformed("accounts must be an object keyed by account id");
    for (const [accountId, entry] of Object.entries(accounts)) {
      if (!isAccountId(accountId)) throw malformed("accounts has a key that is not a 12-digit account id");
      routing.accounts[accountId] = destination(entry, `accounts.${accountId}`, malformed);
    }
  }
  if (routes !== undefined && routes !== null) {
    if (!isObject(routes)) throw malformed("routes must be an object keyed by route name");
    routing.routes = {};
    for (const [name, entry] of Object.entries(routes)) {
      if (!ROUTE_NAME.test(name)) throw malformed("routes has a key that is not a route name ([A-Za-z0-9_.-], 1–64)");
      routing.routes[name] = destination(entry, `routes.${name}`, malformed);
    }
  }
  return routing;
}

/**
 * The notifier's routing loader: reads the secret once per container (a failure is not kept: the next message
 * reads it again, so a fixed secret is picked up without a redeploy). Each new problem is logged once as an error,
 * in its one sentence; undefined without a reference (messages are logged only).
 */
export function slackRoutingLoader(
  reference: SecretReference | undefined,
  clients: SecretClients,
  log: Log,
): () => Promise<SlackRouting | undefined> {
  if (!reference) return async () => undefined;
  return cachedOnceReported(
    async () => {
      const routing = await readSlackRouting(reference, clients);
      log.info("Slack routing loaded", {
        secret: describeReference(reference),
        defaultRoute: routing.default !== undefined,
        accountRoutes: Object.keys(routing.accounts).length,
        ...(routing.routes ? { namedRoutes: Object.keys(routing.routes).length } : {}),
        ...(appChannelCount(routing) > 0 ? { appChannels: appChannelCount(routing) } : {}),
      });
      return routing;
    },
    (problem) =>
      log.error(
        "Slack routing unusable: messages are logged in full and their invocation fails until it is fixed",
        problem,
      ),
  );
}

/** How many destinations name a channel for the Slack app. */
function appChannelCount(routing: SlackRouting): number {
  const all = [routing.default, ...Object.values(routing.accounts), ...Object.values(routing.routes ?? {})];
  return all.filter((entry) => entry?.channelId !== undefined).length;
}

/** The account's own destination, else the default; undefined when neither exists. */
export function routeFor(routing: SlackRouting, accountId: string | undefined): RoutedDestination | undefined {
  const own = accountId === undefined ? undefined : ownValue(routing.accounts, accountId);
  if (own) return { ...own, via: "account" };
  if (routing.default) return { ...routing.default, via: "default" };
  return undefined;
}

/** Where a notice goes in organisation mode, and the route name the settings gave that the secret does not have. */
export interface OrganizationRoute {
  destination: RoutedDestination | undefined;
  unknownRoute?: string;
}

/**
 * Organisation mode: a member's `slackRoute` (its account's or OU's, from the settings) picks a route of the secret;
 * a member without one is routed as in single-account mode (its account's webhook, else the default). A route name
 * the secret does not have, and an account outside the organisation, go to the default. Without a standing (no
 * account on the notice, or the organisation unreadable): routed as in single-account mode.
 */
export function routeInOrganization(
  routing: SlackRouting,
  accountId: string | undefined,
  standing: AccountStanding | undefined,
): OrganizationRoute {
  const fallback: RoutedDestination | undefined = routing.default ? { ...routing.default, via: "default" } : undefined;
  if (!standing) return { destination: routeFor(routing, accountId) };
  if (!standing.member) return { destination: fallback };
  const route = standing.settings.slackRoute;
  if (route === undefined) return { destination: routeFor(routing, accountId) };
  const named = ownValue(routing.routes ?? {}, route);
  if (named) return { destination: { ...named, via: "route", route } };
  return { destination: fallback, unknownRoute: route };
}
