// Drives the real Lambda entry (handler.ts), with its real client wiring, against mocked AWS clients and a local
// stand-in for Slack. Secrets hold real Slack webhook URLs (the only hosts the notifier accepts); fetch is pointed
// at the stand-in for them.
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SlackMessage } from "../../functions/notifier/message.ts";
import { startSlackServer } from "../helpers/slack-server.ts";
import { type FakeSlack, fakeSlack, lookupResponse, snsBatch, snsEvent } from "./helpers.ts";

const ssmMock = mockClient(SSMClient);
const secretsMock = mockClient(SecretsManagerClient);
const cloudTrailMock = mockClient(CloudTrailClient);
const organizationsMock = mockClient(OrganizationsClient);
const context = { invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:remedy-notifier" };

let slack: FakeSlack | undefined;
const realFetch = globalThis.fetch;

/** A webhook URL on Slack's host; requests to it reach the local stand-in, at the same path. */
function hook(path: string): string {
  return `https://hooks.slack.com/services/T0001/${path}`;
}

/** Everything the handler's Powertools logger prints, parsed (dev mode: it prints through the global console). */
function captureLogs(): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  vi.stubEnv("POWERTOOLS_DEV", "true");
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "INFO");
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, method).mockImplementation((text: unknown) => {
      lines.push(JSON.parse(String(text)));
    });
  }
  return lines;
}

async function loadHandler(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import("../../functions/notifier/handler.ts")).handler;
}

beforeEach(async () => {
  ssmMock.reset();
  secretsMock.reset();
  cloudTrailMock.reset();
  organizationsMock.reset();
  cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("sg-iam-user"));
  slack = await fakeSlack();
  const base = slack.url;
  vi.stubGlobal("fetch", (url: string | URL | Request, init?: RequestInit) => {
    const target = String(url instanceof Request ? url.url : url);
    const local = target.startsWith("https://hooks.slack.com/") ? `${base}/${target.slice(24)}` : target;
    return realFetch(local, init);
  });
});
afterEach(async () => {
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  await slack?.close();
});

describe("notifier handler", () => {
  it("reads the webhook from SSM once per container and delivers", async () => {
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: {
        Value: JSON.stringify({ default: { webhookUrl: hook("B0HOOK/hooksecret"), channel: "#sec-alerts" } }),
      },
    });
    const handler = await loadHandler({
      REMEDY_SLACK_SECRET: "ssm:/remedy/slack",
      REMEDY_SLACK_USERS: JSON.stringify({ alice: "U012ALICE" }),
    });
    expect(await handler(snsEvent("remedy/fixed-sg"), context)).toMatchObject({ delivered: 1 });
    expect(await handler(snsBatch("alarm/dlq-alarm", "malformed/not-json"), context)).toMatchObject({
      delivered: 1,
      dropped: 1,
    });
    expect(ssmMock).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: "/remedy/slack", WithDecryption: true });
    expect(slack!.requests.map((request) => request.path)).toEqual([
      "/services/T0001/B0HOOK/hooksecret",
      "/services/T0001/B0HOOK/hooksecret",
    ]);
    expect((slack!.requests[0]!.body as SlackMessage).text).toContain("<@U012ALICE>");
  });

  it("reads the webhook from Secrets Manager", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ accounts: { "123456789012": { webhookUrl: hook("B0TEAMA/teamasecret") } } }),
    });
    const handler = await loadHandler({
      REMEDY_SLACK_SECRET: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
    });
    expect(await handler(snsEvent("remedy/fixed-sg"), context)).toMatchObject({ delivered: 1 });
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
    });
  });

  it("takes a secret holding only a webhook URL as the default route", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: `${hook("B0BARE/baresecret")}\n` });
    const handler = await loadHandler({ REMEDY_SLACK_SECRET: "remedy/slack" });
    expect(await handler(snsBatch("remedy/fixed-sg", "alarm/dlq-alarm"), context)).toMatchObject({ delivered: 2 });
    expect(slack!.requests.map((request) => request.path)).toEqual([
      "/services/T0001/B0BARE/baresecret",
      "/services/T0001/B0BARE/baresecret",
    ]);
  });

  it("logs a malformed secret once at first load, in one sentence without its value, and every message in full", async () => {
    const value = "https://reports.example.com/services/T0001/B0001/leakedsecret";
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: value });
    const logs = captureLogs();
    const handler = await loadHandler({ REMEDY_SLACK_SECRET: "remedy/slack", REMEDY_ATTRIBUTION_ENABLED: "false" });
    await expect(handler(snsBatch("remedy/fixed-sg", "alarm/dlq-alarm"), context)).rejects.toThrow(
      "the Slack secret remedy/slack is malformed: its URL is not a Slack incoming webhook",
    );
    const errors = logs.filter((line) => line.level === "ERROR");
    expect(errors.filter((line) => String(line.message).startsWith("Slack routing unusable"))).toEqual([
      expect.objectContaining({
        problem:
          "the Slack secret remedy/slack is malformed: its URL is not a Slack incoming webhook (its host must be hooks.slack.com or hooks.slack-gov.com)",
      }),
    ]);
    // Nothing dropped silently: each message is logged with its payload, and the invocation fails (retried).
    const undeliverable = errors.filter((line) => String(line.message).startsWith("Slack destinations unavailable"));
    expect(undeliverable).toHaveLength(2);
    for (const line of undeliverable) expect(line.payload).toMatchObject({ text: expect.any(String) });
    expect(JSON.stringify(logs)).not.toContain(value);
    expect(JSON.stringify(logs)).not.toContain("leakedsecret");
    expect(slack!.requests).toHaveLength(0);
  });

  it("refuses a webhook URL given in place of the secret's name, logging it without the URL", async () => {
    const logs = captureLogs();
    const handler = await loadHandler({
      REMEDY_SLACK_SECRET: hook("B0ENV/envsecret"),
      REMEDY_ATTRIBUTION_ENABLED: "false",
    });
    expect(await handler(snsEvent("remedy/fixed-sg"), context)).toMatchObject({ logged: 1, delivered: 0 });
    expect(logs.find((line) => line.level === "ERROR")).toMatchObject({
      message: "REMEDY_SLACK_SECRET ignored: messages are logged, not sent to Slack",
      problem: expect.stringMatching(/^REMEDY_SLACK_SECRET holds a URL: it must name the secret/),
    });
    expect(JSON.stringify(logs)).not.toContain("envsecret");
    expect(secretsMock.calls()).toHaveLength(0);
    expect(slack!.requests).toHaveLength(0);
  });

  it("only logs without a secret reference, and skips CloudTrail when attribution is off", async () => {
    vi.stubEnv("REMEDY_SLACK_SECRET", "");
    const handler = await loadHandler({ REMEDY_ATTRIBUTION_ENABLED: "false" });
    expect(await handler(snsEvent("remedy/fixed-sg"), context)).toMatchObject({ logged: 1, delivered: 0 });
    expect(ssmMock.calls()).toHaveLength(0);
    expect(cloudTrailMock.calls()).toHaveLength(0);
    expect(slack!.requests).toHaveLength(0);
  });

  it("refuses to start with a malformed setting, naming the variable", async () => {
    await expect(loadHandler({ REMEDY_RELAY_ALL_RULES: "sometimes" })).rejects.toThrow(/REMEDY_RELAY_ALL_RULES/);
  });

  it("in organisation mode (REMEDY_ORGANIZATION), routes by the account's OU setting to a named route", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({
        default: { webhookUrl: hook("B0DEFAULT/defaultsecret") },
        routes: { platform: { webhookUrl: hook("B0PLATFORM/platformsecret"), channel: "#platform" } },
      }),
    });
    organizationsMock.on(ListAccountsCommand).resolves({ Accounts: [{ Id: "123456789012", State: "ACTIVE" }] });
    organizationsMock
      .on(ListParentsCommand, { ChildId: "123456789012" })
      .resolves({ Parents: [{ Id: "ou-a1b2-platform1", Type: "ORGANIZATIONAL_UNIT" }] })
      .on(ListParentsCommand, { ChildId: "ou-a1b2-platform1" })
      .resolves({ Parents: [{ Id: "r-a1b2", Type: "ROOT" }] });
    const handler = await loadHandler({
      REMEDY_SLACK_SECRET: "remedy/slack",
      REMEDY_ATTRIBUTION_ENABLED: "false",
      REMEDY_ORGANIZATION: JSON.stringify({
        regions: ["us-east-1"],
        organizationalUnits: { "ou-a1b2-platform1": { slackRoute: "platform" } },
      }),
    });
    expect(await handler(snsBatch("remedy/fixed-sg", "remedy/breaker-tripped"), context)).toMatchObject({
      delivered: 2,
    });
    expect(slack!.requests.map((request) => request.path)).toEqual([
      "/services/T0001/B0PLATFORM/platformsecret",
      "/services/T0001/B0DEFAULT/defaultsecret",
    ]);
  });

  describe("with the Slack app (REMEDY_SLACK_APP_SECRET)", () => {
    const APP = {
      botToken: "xoxb-1111-2222-HandlerBotSecret",
      signingSecret: "0123456789abcdef0123456789abcdef",
      teamId: "T0123ABCD",
      appId: "A0456EFGH",
    };
    const routing = JSON.stringify({
      default: { webhookUrl: hook("B0DEFAULT/defaultsecret"), channelId: "C0123ABCDEF", channel: "#sec-alerts" },
    });

    it("reads the app secret once and posts with chat.postMessage and buttons, logging channel and ts", async () => {
      secretsMock
        .on(GetSecretValueCommand, { SecretId: "remedy/slack" })
        .resolves({ SecretString: routing })
        .on(GetSecretValueCommand, { SecretId: "remedy/slack-app" })
        .resolves({ SecretString: JSON.stringify(APP) });
      const server = await startSlackServer();
      try {
        vi.stubGlobal("fetch", server.fetch);
        const logs = captureLogs();
        const handler = await loadHandler({
          REMEDY_SLACK_SECRET: "remedy/slack",
          REMEDY_SLACK_APP_SECRET: "remedy/slack-app",
          REMEDY_SNOOZE_MINUTES: "60",
          REMEDY_ATTRIBUTION_ENABLED: "false",
        });
        expect(await handler(snsEvent("remedy/grace"), context)).toMatchObject({ delivered: 1 });
        expect(await handler(snsEvent("remedy/fixed-sg"), context)).toMatchObject({ delivered: 1 });
        expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: "remedy/slack-app" });
        expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
        expect(slack!.requests).toHaveLength(0);

        expect(server.calls.map((call) => [call.host, call.method])).toEqual([
          ["slack.com", "chat.postMessage"],
          ["slack.com", "chat.postMessage"],
        ]);
        expect(server.calls[0]!.headers.authorization).toBe(`Bearer ${APP.botToken}`);
        const grace = server.calls[0]!.body as { channel: string; blocks: { type: string; elements?: unknown[] }[] };
        expect(grace.channel).toBe("C0123ABCDEF");
        expect(grace.blocks.find((block) => block.type === "actions")?.elements).toEqual([
          expect.objectContaining({ action_id: "remedy:fix-now" }),
          expect.objectContaining({
            action_id: "remedy:snooze",
            text: expect.objectContaining({ text: "Snooze 1 h" }),
          }),
          expect.objectContaining({ action_id: "remedy:exempt" }),
        ]);
        const delivered = logs.filter((line) => line.message === "notification delivered");
        expect(delivered).toEqual([
          expect.objectContaining({ channelId: "C0123ABCDEF", ts: expect.stringMatching(/^\d+\.\d{6}$/) }),
          expect.objectContaining({ channelId: "C0123ABCDEF", ts: expect.stringMatching(/^\d+\.\d{6}$/) }),
        ]);
        expect(JSON.stringify(logs)).not.toContain("HandlerBotSecret");
        expect(JSON.stringify(logs)).not.toContain(APP.signingSecret);
      } finally {
        await server.close();
      }
    });

    it("fails the invocation while the app secret is unreadable, logging the payload, and picks up the fix", async () => {
      const denied = Object.assign(new Error("not authorized"), { name: "AccessDeniedException" });
      secretsMock
        .on(GetSecretValueCommand, { SecretId: "remedy/slack" })
        .resolves({ SecretString: routing })
        .on(GetSecretValueCommand, { SecretId: "remedy/slack-app" })
        .rejects(denied);
      const server = await startSlackServer();
      try {
        vi.stubGlobal("fetch", server.fetch);
        const logs = captureLogs();
        const handler = await loadHandler({
          REMEDY_SLACK_SECRET: "remedy/slack",
          REMEDY_SLACK_APP_SECRET: "remedy/slack-app",
          REMEDY_ATTRIBUTION_ENABLED: "false",
        });
        await expect(handler(snsEvent("remedy/grace"), context)).rejects.toThrow(
          "cannot read the Slack app secret remedy/slack-app: AccessDeniedException",
        );
        expect(
          logs.find((line) => line.message === "Slack app unavailable; undeliverable message follows"),
        ).toMatchObject({
          payload: { text: expect.any(String) },
        });
        expect(server.calls).toEqual([]);
        expect(slack!.requests).toEqual([]);

        secretsMock
          .on(GetSecretValueCommand, { SecretId: "remedy/slack-app" })
          .resolves({ SecretString: JSON.stringify(APP) });
        expect(await handler(snsEvent("remedy/grace"), context)).toMatchObject({ delivered: 1 });
        expect(server.calls).toHaveLength(1);
      } finally {
        await server.close();
      }
    });
  });
});
