// The notifier posting through the Slack app: chat.postMessage (real HTTP to a local stand-in for slack.com) for
// destinations that name a channelId, with buttons; the webhook, unchanged and without buttons, everywhere else.
import { afterEach, describe, expect, it } from "vitest";
import { type NotifierDeps, runNotifier } from "../../functions/notifier/core.ts";
import type { SlackRouting } from "../../functions/notifier/destinations.ts";
import type { SlackMessage } from "../../functions/notifier/message.ts";
import { SlackDeliveryError, slackSender } from "../../functions/notifier/slack.ts";
import { type SlackApp, SlackAppSecretError } from "../../platform/slack-app.ts";
import { slackWebApi } from "../../platform/slack-web-api.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { type SlackServer, startSlackServer } from "../helpers/slack-server.ts";
import { type FakeSlack, fakeSlack, recordingSleep, snsBatch, snsMessageId } from "./helpers.ts";

const APP: SlackApp = {
  botToken: "xoxb-1111-2222-BotTokenSecret",
  signingSecret: "0123456789abcdef0123456789abcdef",
  teamId: "T0123ABCD",
  appId: "A0456EFGH",
};

let api: SlackServer | undefined;
let hooks: FakeSlack | undefined;
afterEach(async () => {
  await api?.close();
  await hooks?.close();
  api = undefined;
  hooks = undefined;
});

type Routing = (hooksUrl: string) => SlackRouting;
const appAndWebhook: Routing = (base) => ({
  default: { webhookUrl: `${base}/default/secret-default`, channelId: "C0DEFAULT00", channel: "#sec-alerts" },
  accounts: { "123456789012": { channelId: "C0TEAMA0000", channel: "#team-a" } },
});

async function setup(
  options: { routing?: Routing; app?: SlackApp | "none" | Error; withApp?: boolean; snoozeMinutes?: number } = {},
) {
  api = await startSlackServer();
  hooks = await fakeSlack();
  const log = recordingLog();
  const metrics = recordingMetrics();
  const sleep = recordingSleep();
  const routing = (options.routing ?? appAndWebhook)(hooks.url);
  const app = options.app ?? APP;
  let loads = 0;
  const server = api;
  const deps: NotifierDeps = {
    relay: { ruleSuffixes: ["sg-open-ingress"], relayAllRules: false },
    routing: async () => routing,
    slack: slackSender({ sleep, log }),
    ...(options.withApp === false
      ? {}
      : {
          slackApp: {
            load: async () => {
              loads++;
              if (app instanceof Error) throw app;
              return app === "none" ? undefined : app;
            },
            api: (loaded) => slackWebApi({ token: loaded.botToken, fetch: server.fetch, sleep, log }),
            snoozeMinutes: options.snoozeMinutes ?? 1_440,
          },
        }),
    log,
    metrics,
  };
  return { api: server, hooks, log, metrics, sleep, deps, loads: () => loads };
}

const postedWithApi = (server: SlackServer) =>
  server.calls
    .filter((call) => call.method === "chat.postMessage")
    .map((call) => call.body as SlackMessage & { channel: string });
const actionIds = (message: { blocks?: unknown[] }) =>
  (message.blocks ?? [])
    .filter((block) => (block as { type: string }).type === "actions")
    .flatMap((block) => (block as { elements: { action_id: string; value: string }[] }).elements)
    .map((element) => `${element.action_id}=${element.value}`);

describe("runNotifier through the Slack app", () => {
  it("posts with chat.postMessage and the bot token, with buttons, and logs the channel and ts", async () => {
    const { api, hooks, log, metrics, deps } = await setup();
    const result = await runNotifier(snsBatch("remedy/grace", "remedy/fixed-sg", "alarm/dlq-alarm"), deps);
    expect(result).toMatchObject({ delivered: 3, failed: 0 });
    expect(hooks.requests).toEqual([]);

    const posted = postedWithApi(api);
    expect(posted.map((message) => message.channel)).toEqual(["C0TEAMA0000", "C0TEAMA0000", "C0TEAMA0000"]);
    expect(api.calls[0]!.headers.authorization).toBe(`Bearer ${APP.botToken}`);
    expect(posted.map(actionIds)).toEqual([
      [
        "remedy:fix-now=3f9a1c2e4b5d6f708192a3b4c5d6e7f8",
        "remedy:snooze=3f9a1c2e4b5d6f708192a3b4c5d6e7f8",
        "remedy:exempt=3f9a1c2e4b5d6f708192a3b4c5d6e7f8",
      ],
      ["remedy:undo=act-20261120T102819Z-7c1d9e2f"],
      [],
    ]);
    expect(posted[0]!.text).not.toMatch(/Fix now|Snooze/);
    expect(posted[0]!.attachments).toHaveLength(1);

    const delivered = log.lines.filter((line) => line.message === "notification delivered");
    expect(delivered).toHaveLength(3);
    expect(delivered[0]!.fields).toMatchObject({
      messageId: snsMessageId("remedy/grace"),
      channel: "#team-a",
      channelId: "C0TEAMA0000",
      ts: expect.stringMatching(/^\d+\.\d{6}$/),
      via: "account",
      postedWith: "app",
      textOnly: false,
    });
    expect(new Set(delivered.map((line) => line.fields.ts)).size).toBe(3);
    expect(metrics.counts).toMatchObject({ NotificationsDelivered: 3 });
    expect(JSON.stringify(log.lines)).not.toContain("BotTokenSecret");
  });

  it("organisation mode: fixes carry no Undo (the member undo role trusts operators only); grace notices keep theirs", async () => {
    const { api, deps } = await setup();
    // The directory cannot be read: routed by account, as without the organisation; the mode is what counts here.
    const directory = { standing: async () => Promise.reject(new Error("organisation unreadable")) };
    await runNotifier(snsBatch("remedy/grace", "remedy/fixed-sg"), {
      ...deps,
      organization: { directory: directory as unknown as NonNullable<NotifierDeps["organization"]>["directory"] },
    });
    expect(postedWithApi(api).map(actionIds)).toEqual([
      [
        "remedy:fix-now=3f9a1c2e4b5d6f708192a3b4c5d6e7f8",
        "remedy:snooze=3f9a1c2e4b5d6f708192a3b4c5d6e7f8",
        "remedy:exempt=3f9a1c2e4b5d6f708192a3b4c5d6e7f8",
      ],
      [],
    ]);
  });

  it("shows the deployed snooze on the button", async () => {
    const { api, deps } = await setup({ snoozeMinutes: 90 });
    await runNotifier(snsBatch("remedy/grace"), deps);
    const blocks = postedWithApi(api)[0]!.blocks as unknown as {
      type: string;
      elements?: { text: { text: string } }[];
    }[];
    const labels = blocks.find((block) => block.type === "actions")?.elements?.map((element) => element.text.text);
    expect(labels).toEqual(["Fix now", "Snooze 90 min", "Exempt…"]);
  });

  it("sends the plain text when Slack refuses the blocks, as the webhook path does", async () => {
    const { api, log, deps } = await setup();
    api.answer("chat.postMessage", [{ json: { ok: false, error: "invalid_blocks" } }]);
    expect(await runNotifier(snsBatch("remedy/grace"), deps)).toMatchObject({ delivered: 1 });
    const [first, second] = postedWithApi(api);
    expect(first!.blocks).toBeDefined();
    expect(second).toEqual({ channel: "C0TEAMA0000", text: first!.text });
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "Slack rejected the blocks; sending the plain-text fallback instead",
        fields: expect.objectContaining({ code: "invalid_blocks", channelId: "C0TEAMA0000" }),
      }),
    );
    expect(log.lines.find((line) => line.message === "notification delivered")?.fields).toMatchObject({
      textOnly: true,
    });
  });

  it("waits out a rate limit, then delivers", async () => {
    const { api, sleep, deps } = await setup();
    api.answer("chat.postMessage", [{ json: { ok: false, error: "ratelimited" }, headers: { "Retry-After": "2" } }]);
    expect(await runNotifier(snsBatch("remedy/fixed-sg"), deps)).toMatchObject({ delivered: 1 });
    expect(sleep.waits).toEqual([2_000]);
  });

  it("fails the invocation when Slack refuses the message, logging the payload, and delivers the rest", async () => {
    const { api, log, metrics, deps } = await setup();
    api.answer("chat.postMessage", [{ json: { ok: false, error: "not_in_channel" } }]);
    const run = runNotifier(snsBatch("remedy/grace", "remedy/fixed-sg"), deps);
    await expect(run).rejects.toThrow(SlackDeliveryError);
    await expect(run).rejects.toThrow(/not_in_channel/);
    const failure = log.errors().find((line) => line.message.startsWith("Slack delivery failed"));
    expect(failure?.fields).toMatchObject({
      messageId: snsMessageId("remedy/grace"),
      channelId: "C0TEAMA0000",
      errorName: "SlackDeliveryError",
      delivery: { body: "not_in_channel", attempts: 1, permanent: true, status: 200 },
      payload: { text: expect.stringMatching(/^🕒 Will fix at/) },
    });
    expect(metrics.counts).toMatchObject({ NotificationsDelivered: 1, NotificationsFailed: 1 });
    expect(JSON.stringify(log.lines)).not.toContain("BotTokenSecret");
  });

  it("fails the notice when the app secret cannot be read, logging the payload, without falling back to the webhook", async () => {
    const { api, hooks, log, deps } = await setup({
      routing: (base) => ({ default: { webhookUrl: `${base}/d/s`, channelId: "C0DEFAULT00" }, accounts: {} }),
      app: new SlackAppSecretError("cannot read the Slack app secret remedy/slack-app: AccessDeniedException"),
    });
    await expect(runNotifier(snsBatch("remedy/grace"), deps)).rejects.toThrow(SlackAppSecretError);
    const failure = log
      .errors()
      .find((line) => line.message === "Slack app unavailable; undeliverable message follows");
    expect(failure?.fields).toMatchObject({
      errorName: "SlackAppSecretError",
      payload: { text: expect.any(String) },
    });
    // Logged as it would have been posted by webhook: no buttons in a payload nobody can press.
    expect(actionIds(failure!.fields.payload as SlackMessage)).toEqual([]);
    expect(api.calls).toEqual([]);
    expect(hooks.requests).toEqual([]);
  });

  it("reads the app only for destinations that name a channel", async () => {
    const { api, hooks, deps, loads } = await setup({
      routing: (base) => ({ default: { webhookUrl: `${base}/d/s`, channel: "#sec-alerts" }, accounts: {} }),
    });
    expect(await runNotifier(snsBatch("remedy/grace"), deps)).toMatchObject({ delivered: 1 });
    expect(loads()).toBe(0);
    expect(api.calls).toEqual([]);
    expect(actionIds(hooks.requests[0]!.body as SlackMessage)).toEqual([]);
  });
});

describe("runNotifier by webhook when the app cannot post", () => {
  it("posts by webhook, unchanged and without buttons, when no app is configured", async () => {
    for (const withApp of [false, true]) {
      const { api, hooks, log, deps } = await setup({
        withApp,
        app: "none",
        routing: (base) => ({
          default: { webhookUrl: `${base}/default/secret-default`, channelId: "C0DEFAULT00", channel: "#sec-alerts" },
          accounts: {},
        }),
      });
      expect(await runNotifier(snsBatch("remedy/grace", "remedy/fixed-sg"), deps)).toMatchObject({ delivered: 2 });
      expect(api.calls).toEqual([]);
      expect(hooks.requests.map((request) => request.path)).toEqual([
        "/default/secret-default",
        "/default/secret-default",
      ]);
      for (const request of hooks.requests) {
        const body = request.body as SlackMessage;
        expect(actionIds(body)).toEqual([]);
        expect(Object.keys(body).sort()).toEqual(["attachments", "blocks", "text"]);
        expect(JSON.stringify(body)).not.toContain("remedy:");
      }
      const delivered = log.lines.find((line) => line.message === "notification delivered");
      expect(delivered?.fields).toMatchObject({ attempts: 1, textOnly: false });
      expect(delivered?.fields).not.toHaveProperty("ts");
      await api.close();
      await hooks.close();
    }
    api = undefined;
    hooks = undefined;
  });

  it("logs (as an error) a notice whose destination names only a channel when there is no app", async () => {
    const { api, log, metrics, deps } = await setup({
      withApp: false,
      routing: () => ({ default: { channelId: "C0DEFAULT00", channel: "#sec-alerts" }, accounts: {} }),
    });
    expect(await runNotifier(snsBatch("remedy/grace"), deps)).toMatchObject({ logged: 1, delivered: 0 });
    expect(log.errors()).toEqual([
      expect.objectContaining({
        message: "Slack destination names only a channelId and no Slack app is configured; logged only",
        fields: expect.objectContaining({ channelId: "C0DEFAULT00", payload: expect.any(Object) }),
      }),
    ]);
    expect(metrics.counts).toMatchObject({ NotificationsLoggedOnly: 1 });
    expect(api.calls).toEqual([]);
  });
});
