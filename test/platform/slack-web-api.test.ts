// The Slack Web API client over real HTTP: a local server on 127.0.0.1 answers for slack.com and hooks.slack.com.
import { afterEach, describe, expect, it } from "vitest";
import { parseRetryAfter as reexported } from "../../functions/notifier/slack.ts";
import { parseRetryAfter, SlackApiError, slackWebApi } from "../../platform/slack-web-api.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { type SlackServer, startSlackServer } from "../helpers/slack-server.ts";

const TOKEN = "xoxb-1111-2222-SeCrEtToKeN";
const RESPONSE_URL = "https://hooks.slack.com/actions/T0001/1234/AbCdEf";

let server: SlackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(options: Partial<Parameters<typeof slackWebApi>[0]> = {}) {
  server = await startSlackServer();
  const waits: number[] = [];
  const log = recordingLog();
  const api = slackWebApi({
    token: TOKEN,
    fetch: server.fetch,
    sleep: async (ms) => {
      waits.push(ms);
    },
    log,
    ...options,
  });
  return { server, api, waits, log };
}

async function failure(promise: Promise<unknown>): Promise<SlackApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SlackApiError);
  return error as SlackApiError;
}

describe("slackWebApi.call", () => {
  it("posts JSON with the bot token to https://slack.com/api/<method>", async () => {
    const { server, api, waits } = await setup();
    const posted = await api.postMessage({ channel: "C0123ABCDEF", text: "hello", blocks: [{ type: "divider" }] });
    expect(posted).toEqual({ channel: "C0123ABCDEF", ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    expect(server.calls).toHaveLength(1);
    const [call] = server.calls;
    expect(call).toMatchObject({
      host: "slack.com",
      path: "/api/chat.postMessage",
      method: "chat.postMessage",
      body: { channel: "C0123ABCDEF", text: "hello", blocks: [{ type: "divider" }] },
    });
    expect(call!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(call!.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(waits).toEqual([]);
  });

  it("gives increasing message timestamps, updates and opens views", async () => {
    const { server, api } = await setup();
    const first = await api.postMessage({ channel: "C0123ABCDEF", text: "a" });
    const second = await api.postMessage({ channel: "C0123ABCDEF", text: "b" });
    expect(Number(second.ts)).toBeGreaterThan(Number(first.ts));
    await api.update({ channel: first.channel, ts: first.ts, text: "a2", blocks: [] });
    expect(await api.openView({ triggerId: "123.456.abc", view: { type: "modal" } })).toEqual({
      viewId: expect.stringMatching(/^V/),
    });
    expect(server.calls.map((call) => call.method)).toEqual([
      "chat.postMessage",
      "chat.postMessage",
      "chat.update",
      "views.open",
    ]);
    expect(server.calls[2]!.body).toEqual({ channel: first.channel, ts: first.ts, text: "a2", blocks: [] });
    expect(server.calls[3]!.body).toEqual({ trigger_id: "123.456.abc", view: { type: "modal" } });
  });

  it("waits Retry-After on {ok:false, error:ratelimited} and on HTTP 429, then succeeds", async () => {
    const { server, api, waits, log } = await setup();
    server.answer("chat.update", [
      { json: { ok: false, error: "ratelimited" }, headers: { "Retry-After": "2" } },
      { status: 429, text: "", headers: { "Retry-After": "3" } },
    ]);
    await api.update({ channel: "C0123ABCDEF", ts: "1.000001", text: "x" });
    expect(waits).toEqual([2_000, 3_000]);
    expect(server.calls).toHaveLength(3);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        fields: expect.objectContaining({ method: "chat.update", waitMs: 2_000 }),
      }),
    );
  });

  it("backs off exponentially on 5xx, internal_error and network errors", async () => {
    const { server, api, waits } = await setup();
    server.answer("chat.postMessage", [
      { status: 503, text: "upstream" },
      { json: { ok: false, error: "internal_error" } },
      { hangUp: true },
    ]);
    await api.postMessage({ channel: "C0123ABCDEF", text: "x" });
    expect(waits).toEqual([500, 1_000, 2_000]);
    expect(server.calls).toHaveLength(4);
  });

  it.each(["channel_not_found", "not_in_channel", "invalid_auth", "invalid_blocks", "expired_trigger_id"])(
    "fails permanently at once on %s",
    async (code) => {
      const { server, api, waits } = await setup();
      server.answer("chat.postMessage", { json: { ok: false, error: code } });
      const error = await failure(api.postMessage({ channel: "C0123ABCDEF", text: "x" }));
      expect(error).toMatchObject({
        code,
        method: "chat.postMessage",
        permanent: true,
        attempts: 1,
        kind: "permanent",
      });
      expect(error.message).toContain(code);
      expect(waits).toEqual([]);
      expect(server.calls).toHaveLength(1);
    },
  );

  it("fails retryable after maxAttempts, naming the last problem", async () => {
    const { server, api, waits } = await setup({ maxAttempts: 2 });
    server.answer("chat.postMessage", { status: 500, text: "boom" });
    const error = await failure(api.postMessage({ channel: "C0123ABCDEF", text: "x" }));
    expect(error).toMatchObject({ code: "http_500", permanent: false, attempts: 2, status: 500, kind: "retryable" });
    expect(error.message).toMatch(/failed after 2 attempts/);
    expect(waits).toEqual([500]);
  });

  it("gives up without waiting when Retry-After exceeds the wait budget", async () => {
    const { server, api, waits } = await setup();
    server.answer("chat.postMessage", { status: 429, headers: { "Retry-After": "45" } });
    const error = await failure(api.postMessage({ channel: "C0123ABCDEF", text: "x" }));
    expect(error).toMatchObject({ code: "ratelimited", permanent: false, attempts: 1 });
    expect(error.message).toMatch(/exceed the 30000 ms budget/);
    expect(waits).toEqual([]);
  });

  it("times out a request that does not answer and retries it", async () => {
    const { server, api } = await setup({ timeoutMs: 50, maxAttempts: 2 });
    server.answer("chat.postMessage", (_call, n) => (n === 1 ? { delayMs: 2_000, json: { ok: true } } : undefined));
    await api.postMessage({ channel: "C0123ABCDEF", text: "x" });
    expect(server.calls).toHaveLength(2);
  });

  it("refuses a method name that is not Slack's, without a request", async () => {
    const { server, api } = await setup();
    for (const method of ["chat", "../auth.test", "chat.postMessage?x=1", "https://evil.example/api"]) {
      const error = await failure(api.call(method, {}));
      expect(error).toMatchObject({ code: "invalid_method", permanent: true });
      expect(error.message).not.toContain(method);
    }
    expect(server.calls).toEqual([]);
  });

  it("refuses an ok answer without what the method promises", async () => {
    const { server, api } = await setup();
    server.answer("chat.postMessage", { json: { ok: true } });
    server.answer("views.open", { json: { ok: true } });
    expect(await failure(api.postMessage({ channel: "C0123ABCDEF", text: "x" }))).toMatchObject({
      code: "invalid_response",
    });
    expect(await failure(api.openView({ triggerId: "t", view: {} }))).toMatchObject({ code: "invalid_response" });
  });

  it("treats a non-JSON 200 from the Web API as a permanent invalid_response", async () => {
    const { server, api } = await setup();
    server.answer("chat.update", { text: "<html>proxy</html>" });
    expect(await failure(api.update({ channel: "C1", ts: "1.1", text: "x" }))).toMatchObject({
      code: "invalid_response",
      permanent: true,
    });
  });

  it("keeps the token out of errors and logs, even when Slack's answer echoes it", async () => {
    const { server, api, log } = await setup({ maxAttempts: 2 });
    server.answer("chat.postMessage", (call) => ({ status: 502, text: `bad ${String(call.headers.authorization)}` }));
    server.answer("chat.update", (call) => ({ status: 403, text: `denied ${String(call.headers.authorization)}` }));
    const errors = [
      await failure(api.postMessage({ channel: "C0123ABCDEF", text: "x" })),
      await failure(api.update({ channel: "C0123ABCDEF", ts: "1.1", text: "x" })),
    ];
    for (const error of errors) {
      expect(error.message).toContain("<token>");
      expect(JSON.stringify({ ...error, message: error.message })).not.toContain("SeCrEtToKeN");
    }
    expect(JSON.stringify(log.lines)).not.toContain("SeCrEtToKeN");
  });
});

describe("slackWebApi.respond", () => {
  it("posts JSON to the response_url without the bot token and accepts Slack's ok", async () => {
    const { server, api } = await setup();
    await api.respond(RESPONSE_URL, { replace_original: true, text: "done" });
    expect(server.calls).toHaveLength(1);
    const [call] = server.calls;
    expect(call).toMatchObject({
      host: "hooks.slack.com",
      path: "/actions/T0001/1234/AbCdEf",
      method: undefined,
      body: { replace_original: true, text: "done" },
    });
    expect(call!.headers.authorization).toBeUndefined();
  });

  it("accepts a JSON ok, retries 429 and 5xx, fails other statuses permanently", async () => {
    const { server, api, waits } = await setup();
    const path = "/actions/T0001/1234/AbCdEf";
    server.answer(path, [{ status: 429, headers: { "Retry-After": "1" } }, { status: 500 }, { json: { ok: true } }]);
    await api.respond(RESPONSE_URL, { text: "x" });
    // The backoff doubles per retry, the rate-limited one included (as the webhook sender does).
    expect(waits).toEqual([1_000, 1_000]);

    server.answer(path, { status: 404, text: "expired_url" });
    const error = await failure(api.respond(RESPONSE_URL, { text: "x" }));
    expect(error).toMatchObject({ code: "http_404", method: "response_url", permanent: true });
    expect(error.message).not.toContain("AbCdEf");
  });

  it("fails on a JSON {ok:false} answer", async () => {
    const { server, api } = await setup();
    server.answer("/actions/T0001/1234/AbCdEf", { json: { ok: false, error: "used_url" } });
    expect(await failure(api.respond(RESPONSE_URL, { text: "x" }))).toMatchObject({
      code: "used_url",
      permanent: true,
    });
  });

  it.each([
    "http://hooks.slack.com/actions/T/1/a",
    "https://hooks.slack.com:8443/actions/T/1/a",
    "https://hooks.slack.com.evil.example/actions",
    "https://slack.com/api/chat.postMessage",
    "https://hooks.slack-gov.com/actions/T/1/a",
    "not a url",
  ])("refuses %s without a request", async (url) => {
    const { server, api } = await setup();
    const error = await failure(api.respond(url, { text: "x" }));
    expect(error).toMatchObject({ code: "invalid_response_url", permanent: true });
    expect(error.message).not.toContain(url);
    expect(server.calls).toEqual([]);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and is still exported from the webhook sender", () => {
    expect(parseRetryAfter("2", 0)).toBe(2_000);
    expect(parseRetryAfter("Thu, 01 Jan 1970 00:00:05 GMT", 1_000)).toBe(4_000);
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
    expect(reexported).toBe(parseRetryAfter);
  });
});

describe("startSlackServer", () => {
  it("refuses hosts other than Slack's", async () => {
    server = await startSlackServer();
    await expect(server.fetch("https://example.com/api/x", { method: "POST" })).rejects.toThrow(/refuses/);
    await expect(server.fetch("http://slack.com/api/x", { method: "POST" })).rejects.toThrow(/refuses/);
  });
});
