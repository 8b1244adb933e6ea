// Drives the real Lambda entry (handler.ts), with its real client wiring, against mocked AWS clients and a local
// stand-in for Slack.
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SlackMessage } from "../../functions/notifier/message.ts";
import { type FakeSlack, fakeSlack, lookupResponse, snsBatch, snsEvent } from "./helpers.ts";

const ssmMock = mockClient(SSMClient);
const secretsMock = mockClient(SecretsManagerClient);
const cloudTrailMock = mockClient(CloudTrailClient);
const context = { invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:remedy-notifier" };

let slack: FakeSlack | undefined;

async function loadHandler(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import("../../functions/notifier/handler.ts")).handler;
}

beforeEach(async () => {
  ssmMock.reset();
  secretsMock.reset();
  cloudTrailMock.reset();
  cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("sg-iam-user"));
  slack = await fakeSlack();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await slack?.close();
});

describe("notifier handler", () => {
  it("reads the webhook from SSM once per container and delivers", async () => {
    ssmMock.on(GetParameterCommand).resolves({
      Parameter: { Value: JSON.stringify({ default: { webhookUrl: `${slack!.url}/hook`, channel: "#sec-alerts" } }) },
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
    expect(slack!.requests.map((request) => request.path)).toEqual(["/hook", "/hook"]);
    expect((slack!.requests[0]!.body as SlackMessage).text).toContain("<@U012ALICE>");
  });

  it("reads the webhook from Secrets Manager", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ accounts: { "123456789012": { webhookUrl: `${slack!.url}/team-a` } } }),
    });
    const handler = await loadHandler({
      REMEDY_SLACK_SECRET: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
    });
    expect(await handler(snsEvent("remedy/fixed-sg"), context)).toMatchObject({ delivered: 1 });
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:s",
    });
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
});
