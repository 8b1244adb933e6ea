// A small Slack Web API client over global fetch: chat.postMessage, chat.update, views.open and response_url
// answers are all Remedy needs, and @slack/web-api would add ~1 MB of dependencies (axios among them) for them.
// Slack answers most failures with HTTP 200 and {ok:false, error}; the retry policy matches the webhook sender
// (functions/notifier/slack.ts): rate limits wait as long as Slack asks (within a budget), server trouble backs off,
// everything else fails at once. The bot token travels only in the Authorization header: it is never logged and is
// cut out of every error message.
import { type FailureKind, RemedyError } from "./errors.ts";
import type { Log } from "./logging.ts";

export const SLACK_API_BASE = "https://slack.com/api/";

/** Where a response_url may point: commercial Slack's hooks host (functions/interactions/verify.ts checks the same). */
export const RESPONSE_URL_HOST = "hooks.slack.com";

/** `chat.postMessage`, `views.open`: a family, then camel-cased parts. Anything else is not a Slack method. */
export const SLACK_METHOD_PATTERN = /^[a-z]+(\.[a-zA-Z]+)+$/;

/** How a Slack call is retried (the Web API's and the notifier's webhook sender alike). */
export interface SlackRetryOptions {
  /** Waits between attempts (tests inject a recorder). */
  sleep?: (ms: number) => Promise<void>;
  /** Clock for Retry-After given as an HTTP date. */
  now?: () => number;
  /** Attempts in all, the first included. */
  maxAttempts?: number;
  /** Total time spent waiting between attempts, at most. */
  waitBudgetMs?: number;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** First backoff after server trouble or a network error; doubles each time. */
  backoffMs?: number;
  log?: Log;
}

export interface SlackWebApiOptions extends SlackRetryOptions {
  token: string;
  /** Tests inject one that points slack.com at a local server. */
  fetch?: typeof fetch;
}

export const SLACK_WEB_API_DEFAULTS = {
  maxAttempts: 4,
  waitBudgetMs: 30_000,
  timeoutMs: 5_000,
  backoffMs: 500,
  /** When Slack rate-limits without Retry-After. */
  defaultRetryAfterMs: 1_000,
} as const;

export interface SlackApiErrorDetails {
  /** Slack's `error` string (`channel_not_found`), or `http_<status>`, `request_failed`, `invalid_response`... */
  code: string;
  /** The API method, or "response_url". */
  method: string;
  /** True when retrying cannot help. */
  permanent: boolean;
  attempts: number;
  /** HTTP status of the last attempt; absent when Slack was not reached. */
  status?: number;
}

/** A Slack call failed. `code` says how, in Slack's words where Slack gave them. */
export class SlackApiError extends RemedyError {
  override name = "SlackApiError";
  readonly code: string;
  readonly method: string;
  readonly permanent: boolean;
  readonly attempts: number;
  readonly status: number | undefined;
  get kind(): FailureKind {
    return this.permanent ? "permanent" : "retryable";
  }
  constructor(message: string, details: SlackApiErrorDetails) {
    super(message);
    this.code = details.code;
    this.method = details.method;
    this.permanent = details.permanent;
    this.attempts = details.attempts;
    this.status = details.status;
  }
}

export interface PostMessageArgs {
  channel: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
}

export interface UpdateArgs extends PostMessageArgs {
  ts: string;
}

export interface SlackWebApi {
  /** Any Web API method; the parsed answer when Slack says ok. */
  call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  postMessage(args: PostMessageArgs): Promise<{ channel: string; ts: string }>;
  update(args: UpdateArgs): Promise<void>;
  openView(args: { triggerId: string; view: Record<string, unknown> }): Promise<{ viewId: string }>;
  /** Answers an interaction through its response_url (https://hooks.slack.com/... only). */
  respond(responseUrl: string, body: Record<string, unknown>): Promise<void>;
}

/** Slack's `error` strings that mean "try again later" rather than "your request is wrong". */
const SERVER_TROUBLE = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout"]);

type Outcome =
  | { ok: true; value: Record<string, unknown> }
  | {
      ok: false;
      code: string;
      detail: string;
      status?: number;
      retry: "after" | "backoff" | "never";
      retryAfterMs?: number;
    };

export function slackWebApi(options: SlackWebApiOptions): SlackWebApi {
  // Looked up per request, not at creation, so a fetch installed later (a test's) is the one used.
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const maxAttempts = options.maxAttempts ?? SLACK_WEB_API_DEFAULTS.maxAttempts;
  const waitBudgetMs = options.waitBudgetMs ?? SLACK_WEB_API_DEFAULTS.waitBudgetMs;
  const timeoutMs = options.timeoutMs ?? SLACK_WEB_API_DEFAULTS.timeoutMs;
  const backoffMs = options.backoffMs ?? SLACK_WEB_API_DEFAULTS.backoffMs;
  const token = options.token;
  // Slack echoes nothing of the token, but a proxy's error page or a fetch error might: cut it out regardless.
  const redact = (text: string) => (token === "" ? text : text.replaceAll(token, "<token>"));

  async function attempt(url: string, headers: Record<string, string>, body: unknown, api: boolean): Promise<Outcome> {
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: unknown } }).cause;
      const code = typeof cause?.code === "string" ? ` (${cause.code})` : "";
      const detail = error instanceof Error ? `${error.name}: ${error.message}${code}` : String(error);
      return { ok: false, code: "request_failed", detail: `request failed: ${detail}`, retry: "backoff" };
    }
    const status = response.status;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {}
    const slackError =
      isRecord(json) && json.ok === false && typeof json.error === "string" ? json.error.slice(0, 100) : undefined;
    if (status === 429 || slackError === "ratelimited") {
      const retryAfterMs =
        parseRetryAfter(response.headers.get("retry-after"), now()) ?? SLACK_WEB_API_DEFAULTS.defaultRetryAfterMs;
      return {
        ok: false,
        code: slackError ?? "ratelimited",
        detail: `HTTP ${status} rate limited`,
        status,
        retry: "after",
        retryAfterMs,
      };
    }
    if (status >= 500) {
      return {
        ok: false,
        code: `http_${status}`,
        detail: `HTTP ${status} ${text.slice(0, 200)}`,
        status,
        retry: "backoff",
      };
    }
    if (status < 200 || status >= 300) {
      const code = slackError ?? `http_${status}`;
      return { ok: false, code, detail: `HTTP ${status} ${text.slice(0, 200)}`, status, retry: "never" };
    }
    if (slackError !== undefined) {
      return {
        ok: false,
        code: slackError,
        detail: `Slack answered ${slackError}`,
        status,
        retry: SERVER_TROUBLE.has(slackError) ? "backoff" : "never",
      };
    }
    if (isRecord(json) && (json.ok === true || !api)) return { ok: true, value: json };
    // A response_url answers with the plain text "ok"; the Web API always with JSON.
    if (!api) return { ok: true, value: {} };
    return {
      ok: false,
      code: "invalid_response",
      detail: `HTTP ${status} with no ok in the answer`,
      status,
      retry: "never",
    };
  }

  async function withRetries(method: string, send: () => Promise<Outcome>): Promise<Record<string, unknown>> {
    let waitedMs = 0;
    let retries = 0;
    for (let attempts = 1; ; attempts++) {
      const outcome = await send();
      if (outcome.ok) return outcome.value;
      const what = redact(outcome.detail);
      const fail = (reason: string, permanent: boolean) =>
        new SlackApiError(redact(reason), {
          code: outcome.code,
          method,
          permanent,
          attempts,
          ...(outcome.status === undefined ? {} : { status: outcome.status }),
        });
      if (outcome.retry === "never") throw fail(`Slack ${method} failed: ${outcome.code} (${what})`, true);
      const waitMs = outcome.retry === "after" ? (outcome.retryAfterMs ?? 0) : backoffMs * 2 ** retries;
      if (attempts >= maxAttempts) {
        throw fail(`Slack ${method} failed after ${attempts} attempts: ${outcome.code} (${what})`, false);
      }
      if (waitedMs + waitMs > waitBudgetMs) {
        throw fail(
          `Slack ${method} gave up after ${attempts} attempts: ${outcome.code} (${what}); waiting ${waitMs} ms more would exceed the ${waitBudgetMs} ms budget`,
          false,
        );
      }
      options.log?.warn("Slack call failed; retrying", { method, code: outcome.code, attempt: attempts, waitMs });
      await sleep(waitMs);
      waitedMs += waitMs;
      retries++;
    }
  }

  const call: SlackWebApi["call"] = (method, args) => {
    if (!SLACK_METHOD_PATTERN.test(method)) {
      return Promise.reject(
        new SlackApiError("not a Slack API method name", {
          code: "invalid_method",
          method: "unknown",
          permanent: true,
          attempts: 0,
        }),
      );
    }
    return withRetries(method, () =>
      attempt(`${SLACK_API_BASE}${method}`, { Authorization: `Bearer ${token}` }, args, true),
    );
  };

  const malformedAnswer = (method: string, what: string) =>
    new SlackApiError(`Slack ${method} answered ok without ${what}`, {
      code: "invalid_response",
      method,
      permanent: true,
      attempts: 1,
    });

  return {
    call,
    async postMessage(args) {
      const answer = await call("chat.postMessage", { ...args });
      if (typeof answer.channel !== "string" || typeof answer.ts !== "string") {
        throw malformedAnswer("chat.postMessage", "a channel and ts");
      }
      return { channel: answer.channel, ts: answer.ts };
    },
    async update(args) {
      await call("chat.update", { ...args });
    },
    async openView({ triggerId, view }) {
      const answer = await call("views.open", { trigger_id: triggerId, view });
      const id = isRecord(answer.view) ? answer.view.id : undefined;
      if (typeof id !== "string") throw malformedAnswer("views.open", "a view id");
      return { viewId: id };
    },
    async respond(responseUrl, body) {
      if (!isResponseUrl(responseUrl)) {
        throw new SlackApiError(`a response_url must be an https://${RESPONSE_URL_HOST}/ URL`, {
          code: "invalid_response_url",
          method: "response_url",
          permanent: true,
          attempts: 0,
        });
      }
      // No Authorization: the response_url is its own credential (and is kept out of logs and errors).
      await withRetries("response_url", () => attempt(responseUrl, {}, body, false));
    },
  };
}

/** https://hooks.slack.com/... on the default port. */
export function isResponseUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" && parsed.hostname === RESPONSE_URL_HOST && parsed.port === "";
  } catch {
    return false;
  }
}

/** Retry-After in milliseconds: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
