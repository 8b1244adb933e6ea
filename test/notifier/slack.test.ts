// Delivery over real HTTP: a local node:http server on 127.0.0.1 stands in for Slack's webhook endpoint.
import { afterEach, describe, expect, it } from "vitest";
import type { SlackMessage } from "../../functions/notifier/message.ts";
import { parseRetryAfter, SlackDeliveryError, slackSender } from "../../functions/notifier/slack.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { type FakeSlack, fakeSlack, recordingSleep, type ScriptedResponse } from "./helpers.ts";

const SECRET_PATH = "/services/T0001/B0002/sEcReTtOkEn";
const message: SlackMessage = {
  text: "✅ Fixed: security group open to the internet",
  blocks: [{ type: "header", text: { type: "plain_text", text: "✅ Fixed", emoji: true } }],
  attachments: [{ color: "#2eb67d", blocks: [{ type: "section", text: { type: "mrkdwn", text: "*Undo*" } }] }],
};

let slack: FakeSlack | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

async function setup(script: ScriptedResponse[], options: Parameters<typeof slackSender>[0] = {}) {
  slack = await fakeSlack(script);
  const sleep = recordingSleep();
  const log = recordingLog();
  const sender = slackSender({ sleep, log, ...options });
  const destination = { webhookUrl: `${slack.url}${SECRET_PATH}`, channel: "#sec-alerts" };
  return { slack, sleep, log, send: () => sender.send(destination, message) };
}

async function failure(promise: Promise<unknown>): Promise<SlackDeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SlackDeliveryError);
  return error as SlackDeliveryError;
}

describe("slackSender", () => {
  it("posts the message as JSON through @slack/webhook", async () => {
    const { slack, send, sleep } = await setup([]);
    expect(await send()).toEqual({ attempts: 1, waitedMs: 0, textOnly: false });
    expect(slack.requests).toHaveLength(1);
    const [request] = slack.requests;
    expect(request).toMatchObject({ method: "POST", path: SECRET_PATH, body: message });
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["user-agent"]).toMatch(/@slack:webhook/);
    expect(sleep.waits).toEqual([]);
  });

  it("honours Retry-After on 429 and then succeeds", async () => {
    const { slack, send, sleep, log } = await setup([
      { status: 429, body: "rate_limited", headers: { "Retry-After": "3" } },
    ]);
    expect(await send()).toEqual({ attempts: 2, waitedMs: 3_000, textOnly: false });
    expect(sleep.waits).toEqual([3_000]);
    expect(slack.requests).toHaveLength(2);
    expect(slack.requests[1]!.body).toEqual(message);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: "warn", fields: expect.objectContaining({ status: 429, waitMs: 3_000 }) }),
    );
  });

  it("waits a second on 429 without Retry-After", async () => {
    const { send, sleep } = await setup([{ status: 429, body: "rate_limited" }]);
    await send();
    expect(sleep.waits).toEqual([1_000]);
  });

  it("gives up at once when Retry-After is beyond the wait budget, without waiting", async () => {
    const { slack, send, sleep } = await setup([
      { status: 429, body: "rate_limited", headers: { "Retry-After": "45" } },
    ]);
    const error = await failure(send());
    expect(error.details).toEqual({ status: 429, body: "rate_limited", attempts: 1, permanent: false });
    expect(error.message).toMatch(/waiting 45000 ms more would exceed the 30000 ms budget/);
    expect(sleep.waits).toEqual([]);
    expect(slack.requests).toHaveLength(1);
  });

  it("keeps the total wait within the budget across several 429s", async () => {
    const { slack, send, sleep } = await setup([
      { status: 429, headers: { "Retry-After": "20" } },
      { status: 429, headers: { "Retry-After": "20" } },
    ]);
    await failure(send());
    expect(sleep.waits).toEqual([20_000]);
    expect(slack.requests).toHaveLength(2);
  });

  it("retries a 500 with backoff and then succeeds", async () => {
    const { slack, send, sleep } = await setup([{ status: 500, body: "internal_error" }]);
    expect(await send()).toMatchObject({ attempts: 2, waitedMs: 500 });
    expect(sleep.waits).toEqual([500]);
    expect(slack.requests).toHaveLength(2);
  });

  it("fails after the last attempt when Slack keeps answering 5xx", async () => {
    const { slack, send, sleep } = await setup([
      { status: 500, body: "internal_error" },
      { status: 502, body: "bad gateway" },
      { status: 503, body: "service_unavailable" },
      { status: 500, body: "internal_error" },
      { status: 200, body: "ok" },
    ]);
    const error = await failure(send());
    expect(error.details).toEqual({ status: 500, body: "internal_error", attempts: 4, permanent: false });
    expect(error.message).toBe("Slack delivery failed after 4 attempts: HTTP 500 internal_error");
    expect(sleep.waits).toEqual([500, 1_000, 2_000]);
    expect(slack.requests).toHaveLength(4);
  });

  it("treats 404 no_service as permanent: one request, no wait", async () => {
    const { slack, send, sleep } = await setup([{ status: 404, body: "no_service" }]);
    const error = await failure(send());
    expect(error.name).toBe("SlackDeliveryError");
    expect(error.details).toEqual({ status: 404, body: "no_service", attempts: 1, permanent: true });
    expect(error.message).toBe("Slack rejected the message: HTTP 404 no_service");
    expect(sleep.waits).toEqual([]);
    expect(slack.requests).toHaveLength(1);
  });

  it("treats 403 invalid_token as permanent", async () => {
    const { send } = await setup([{ status: 403, body: "invalid_token" }]);
    expect((await failure(send())).details.permanent).toBe(true);
  });

  it("sends the plain-text fallback when Slack rejects the blocks", async () => {
    const { slack, send, log } = await setup([{ status: 400, body: "invalid_blocks" }]);
    expect(await send()).toEqual({ attempts: 2, waitedMs: 0, textOnly: true });
    expect(slack.requests[1]!.body).toEqual({ text: message.text });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: "warn", fields: expect.objectContaining({ body: "invalid_blocks" }) }),
    );
  });

  it("fails permanently when even the plain text is rejected", async () => {
    const { slack, send } = await setup([
      { status: 400, body: "invalid_blocks" },
      { status: 400, body: "invalid_payload" },
    ]);
    expect((await failure(send())).details).toEqual({
      status: 400,
      body: "invalid_payload",
      attempts: 2,
      permanent: true,
    });
    expect(slack.requests).toHaveLength(2);
  });

  it("retries a dropped connection", async () => {
    const { slack, send, sleep } = await setup([{ status: 0, hangUp: true }]);
    expect(await send()).toMatchObject({ attempts: 2 });
    expect(sleep.waits).toEqual([500]);
    expect(slack.requests).toHaveLength(2);
  });

  it("retries a request that times out", async () => {
    const { send, sleep } = await setup([{ status: 200, body: "ok", delayMs: 2_000 }], { timeoutMs: 100 });
    expect(await send()).toMatchObject({ attempts: 2 });
    expect(sleep.waits).toEqual([500]);
  });

  it("fails after its attempts when nothing listens, without naming the webhook URL", async () => {
    const { send, sleep, slack: server, log } = await setup([]);
    await server.close();
    slack = undefined;
    const error = await failure(send());
    expect(error.details).toEqual({ attempts: 4, permanent: false });
    expect(error.message).toMatch(/^Slack delivery failed after 4 attempts: request failed: .*ECONNREFUSED/);
    expect(sleep.waits).toEqual([500, 1_000, 2_000]);
    const everything = JSON.stringify({ error: error.message, details: error.details, lines: log.lines });
    expect(everything).not.toContain("sEcReTtOkEn");
  });
});

describe("parseRetryAfter", () => {
  it.each([
    ["3", 3_000],
    ["0", 0],
    ["1.5", 1_500],
    [" 10 ", 10_000],
  ])("%j seconds → %d ms", (value, ms) => {
    expect(parseRetryAfter(value, 0)).toBe(ms);
  });

  it("reads an HTTP date against the clock", () => {
    const now = Date.parse("2026-11-20T10:00:00Z");
    expect(parseRetryAfter("Fri, 20 Nov 2026 10:00:07 GMT", now)).toBe(7_000);
    expect(parseRetryAfter("Fri, 20 Nov 2026 09:00:00 GMT", now)).toBe(0);
  });

  it("returns undefined for nothing or nonsense", () => {
    expect(parseRetryAfter(null, 0)).toBeUndefined();
    expect(parseRetryAfter("", 0)).toBeUndefined();
    expect(parseRetryAfter("soon", 0)).toBeUndefined();
  });
});
