// Sending to Slack: a thin wrapper around @slack/webhook's IncomingWebhook that owns the retry policy.
// @slack/webhook 8 posts with global fetch and retries only through its `retryConfig` (p-retry, default none):
// it retries 5xx and network errors but fails 429 at once and never exposes Retry-After. So the library is used
// for single attempts (retries: 0, a per-request timeout, a fetch that notes Retry-After) and the policy is here:
// 429 waits as long as Slack asks (within a budget), 5xx and network errors back off, other 4xx are permanent.
import {
  IncomingWebhook,
  IncomingWebhookHTTPError,
  IncomingWebhookRequestError,
  type IncomingWebhookSendArguments,
} from "@slack/webhook";
import { type FailureKind, RemedyError } from "../../platform/errors.ts";
import type { Log } from "../../platform/logging.ts";
import {
  parseRetryAfter,
  SLACK_WEB_API_DEFAULTS,
  SlackApiError,
  type SlackRetryOptions,
  type SlackWebApi,
} from "../../platform/slack-web-api.ts";
import type { SlackMessage } from "./message.ts";

// Moved to the Web API client, which shares it; re-exported for existing imports.
export { parseRetryAfter };

/**
 * Where a notice goes: an incoming webhook, a channel the Slack app posts to (with buttons), or both (the app when it
 * is configured, else the webhook). At least one of webhookUrl and channelId (destinations.ts checks).
 */
export interface Destination {
  webhookUrl?: string;
  /** A Slack channel id (C…, G…, D…) for chat.postMessage. */
  channelId?: string;
  /** Display name of the channel, for the message footer and the logs. */
  channel?: string;
}

export interface WebhookDestination {
  webhookUrl: string;
  channel?: string;
}

export interface SlackDeliveryDetails {
  /** HTTP status of the last attempt; absent when Slack was not reached. */
  status?: number;
  /** Slack's error text (e.g. "no_service"), cut to 200 characters. */
  body?: string;
  attempts: number;
  /** True when retrying cannot help (4xx other than 429). */
  permanent: boolean;
}

/** The message could not be delivered. The invocation fails so the platform retries it. */
export class SlackDeliveryError extends RemedyError {
  override name = "SlackDeliveryError";
  get kind(): FailureKind {
    return this.details.permanent ? "permanent" : "retryable";
  }
  constructor(
    message: string,
    readonly details: SlackDeliveryDetails,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

export interface SlackSenderOptions extends SlackRetryOptions {
  /** When Slack sends 429 without Retry-After. */
  defaultRetryAfterMs?: number;
}

export interface SendResult {
  attempts: number;
  waitedMs: number;
  /** Slack rejected the blocks and the plain-text fallback was sent instead. */
  textOnly: boolean;
}

export interface SlackSender {
  send(destination: WebhookDestination, message: SlackMessage): Promise<SendResult>;
}

export const SLACK_DEFAULTS = SLACK_WEB_API_DEFAULTS;

type AttemptOutcome =
  | { ok: true }
  | { ok: false; status: number; body: string; retryAfter: string | null }
  | { ok: false; status?: undefined; error: string };

/** Slack's answers meaning "your blocks are wrong": the plain text may still get through (webhook and Web API). */
const BLOCKS_REJECTED = /invalid_blocks|invalid_attachments|invalid_payload|too_many_attachments/;

export function slackSender(options: SlackSenderOptions = {}): SlackSender {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? SLACK_DEFAULTS.maxAttempts;
  const waitBudgetMs = options.waitBudgetMs ?? SLACK_DEFAULTS.waitBudgetMs;
  const timeoutMs = options.timeoutMs ?? SLACK_DEFAULTS.timeoutMs;
  const backoffMs = options.backoffMs ?? SLACK_DEFAULTS.backoffMs;
  const defaultRetryAfterMs = options.defaultRetryAfterMs ?? SLACK_DEFAULTS.defaultRetryAfterMs;

  return {
    async send(destination, message) {
      const redact = (value: string) => value.replaceAll(destination.webhookUrl, "<webhook>");
      let payload: IncomingWebhookSendArguments = message;
      let textOnly = false;
      let waitedMs = 0;
      let retries = 0;
      for (let attempts = 1; ; attempts++) {
        const outcome = await attemptOnce(destination.webhookUrl, payload, timeoutMs);
        if (outcome.ok) return { attempts, waitedMs, textOnly };

        const body = outcome.status === undefined ? undefined : redact(outcome.body.slice(0, 200));
        const what =
          outcome.status === undefined ? `request failed: ${redact(outcome.error)}` : `HTTP ${outcome.status} ${body}`;
        const fail = (reason: string, permanent: boolean) =>
          new SlackDeliveryError(reason, {
            ...(outcome.status === undefined ? {} : { status: outcome.status, body }),
            attempts,
            permanent,
          });

        let waitMs: number;
        if (outcome.status === 429) {
          waitMs = parseRetryAfter(outcome.retryAfter, now()) ?? defaultRetryAfterMs;
        } else if (outcome.status === undefined || outcome.status >= 500) {
          waitMs = backoffMs * 2 ** retries;
        } else if (!textOnly && outcome.status === 400 && BLOCKS_REJECTED.test(outcome.body)) {
          options.log?.warn("Slack rejected the blocks; sending the plain-text fallback instead", {
            status: outcome.status,
            body,
            channel: destination.channel,
            rejectedPayload: message,
          });
          payload = { text: message.text };
          textOnly = true;
          continue;
        } else {
          throw fail(`Slack rejected the message: ${what}`, true);
        }

        if (attempts >= maxAttempts) throw fail(`Slack delivery failed after ${attempts} attempts: ${what}`, false);
        if (waitedMs + waitMs > waitBudgetMs) {
          throw fail(
            `Slack delivery gave up after ${attempts} attempts: ${what}; waiting ${waitMs} ms more would exceed the ${waitBudgetMs} ms budget`,
            false,
          );
        }
        options.log?.warn("Slack delivery failed; retrying", {
          status: outcome.status,
          attempt: attempts,
          waitMs,
          channel: destination.channel,
        });
        await sleep(waitMs);
        waitedMs += waitMs;
        retries++;
      }
    },
  };
}

async function attemptOnce(
  webhookUrl: string,
  payload: IncomingWebhookSendArguments,
  timeoutMs: number,
): Promise<AttemptOutcome> {
  const seen: { retryAfter: string | null } = { retryAfter: null };
  const webhook = new IncomingWebhook(webhookUrl, {
    timeout: timeoutMs,
    retryConfig: { retries: 0 },
    fetch: async (url, init) => {
      const response = await fetch(url, init);
      seen.retryAfter = response.headers.get("retry-after");
      return response;
    },
  });
  try {
    await webhook.send(payload);
    return { ok: true };
  } catch (error) {
    if (error instanceof IncomingWebhookHTTPError) {
      return { ok: false, status: error.statusCode, body: error.body, retryAfter: seen.retryAfter };
    }
    if (error instanceof IncomingWebhookRequestError) {
      const cause = (error.original as { cause?: { code?: unknown } }).cause;
      const code = typeof cause?.code === "string" ? ` (${cause.code})` : "";
      return { ok: false, error: `${error.original.name}: ${error.original.message}${code}` };
    }
    throw error;
  }
}

export interface AppPostResult {
  /** The channel and timestamp Slack gave the message: they identify the message its buttons are on. */
  channel: string;
  ts: string;
  /** Slack rejected the blocks and the plain-text fallback was sent instead. */
  textOnly: boolean;
}

/**
 * Posts through the Slack app (chat.postMessage; the client owns waiting and retrying). As with the webhook, blocks
 * Slack refuses are logged and the plain text is sent instead; any failure is a SlackDeliveryError, so the notifier
 * reports both paths alike.
 */
export async function postWithApp(
  api: SlackWebApi,
  destination: { channelId: string; channel?: string },
  message: SlackMessage,
  log?: Log,
): Promise<AppPostResult> {
  const post = (payload: { text: string; blocks?: unknown[]; attachments?: unknown[] }) =>
    api.postMessage({ channel: destination.channelId, ...payload });
  try {
    try {
      return { ...(await post(message)), textOnly: false };
    } catch (error) {
      if (!(error instanceof SlackApiError) || !BLOCKS_REJECTED.test(error.code)) throw error;
      log?.warn("Slack rejected the blocks; sending the plain-text fallback instead", {
        code: error.code,
        channel: destination.channel,
        channelId: destination.channelId,
        rejectedPayload: message,
      });
      return { ...(await post({ text: message.text })), textOnly: true };
    }
  } catch (error) {
    if (!(error instanceof SlackApiError)) {
      const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SlackDeliveryError(
        `Slack delivery failed: ${text}`,
        { attempts: 1, permanent: false },
        { cause: error },
      );
    }
    throw new SlackDeliveryError(
      error.message,
      {
        ...(error.status === undefined ? {} : { status: error.status }),
        body: error.code,
        attempts: error.attempts,
        permanent: error.permanent,
      },
      { cause: error },
    );
  }
}
