// The Slack app's secret: strict parsing that never echoes a value, fail-closed reading, once per container.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { cachedOnce as reexported } from "../../functions/notifier/destinations.ts";
import {
  cachedOnce,
  parseSlackAppSecret,
  readSlackApp,
  SlackAppSecretError,
  slackAppLoader,
} from "../../platform/slack-app.ts";
import { recordingLog } from "../helpers/recording-log.ts";

const secretsMock = mockClient(SecretsManagerClient);
const clients = { secretsManager: () => new SecretsManagerClient({}) };
const SECRET_ID = "remedy/slack-app";
const WHERE = "the Slack app secret remedy/slack-app";

const APP = {
  botToken: "xoxb-1111-2222-TopSecretBot",
  signingSecret: "8f742231b10e8888abcd9900000085a5",
  teamId: "T0123ABCD",
  appId: "A0456EFGH",
};
const VALUES = [APP.botToken, APP.signingSecret, "TopSecretBot"];

beforeEach(() => {
  secretsMock.reset();
});

function parseError(text: string | undefined): SlackAppSecretError {
  let caught: unknown;
  try {
    parseSlackAppSecret(text, WHERE);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SlackAppSecretError);
  const error = caught as SlackAppSecretError;
  expect(error.kind).toBe("permanent");
  expect(error.message.startsWith(`${WHERE} is malformed: `)).toBe(true);
  for (const value of VALUES) expect(error.message).not.toContain(value);
  return error;
}

describe("parseSlackAppSecret", () => {
  it("reads the four fields", () => {
    expect(parseSlackAppSecret(JSON.stringify(APP), WHERE)).toEqual(APP);
    expect(parseSlackAppSecret(JSON.stringify({ ...APP, teamId: "E0ORG1" }), WHERE).teamId).toBe("E0ORG1");
  });

  it("refuses a secret that is not a JSON object", () => {
    expect(parseError(undefined).message).toMatch(/no string value/);
    expect(parseError("  ").message).toMatch(/empty/);
    expect(parseError(APP.botToken).message).toMatch(/not JSON/);
    expect(parseError(JSON.stringify([APP])).message).toMatch(/not a JSON object/);
  });

  it("names an unknown key, not its value", () => {
    const error = parseError(JSON.stringify({ ...APP, botTokn: APP.botToken }));
    expect(error.message).toMatch(/unknown key "botTokn"/);
  });

  it.each([
    ["botToken", "xoxp-1111-TopSecretBot", /botToken is not a bot token/],
    ["botToken", `${APP.botToken} `, /botToken is not a bot token/],
    ["signingSecret", APP.signingSecret.toUpperCase(), /signingSecret is not a signing secret/],
    ["signingSecret", APP.signingSecret.slice(0, 31), /signingSecret is not a signing secret/],
    ["teamId", "U0123ABCD", /teamId is not a Slack team id/],
    ["appId", "a0456efgh", /appId is not a Slack app id/],
    ["appId", 42, /appId must be a string/],
  ])("refuses a bad %s without echoing it", (field, value, message) => {
    const error = parseError(JSON.stringify({ ...APP, [field]: value }));
    expect(error.message).toMatch(message);
    if (typeof value === "string") expect(error.message).not.toContain(value.trim());
  });

  it.each(Object.keys(APP))("refuses a secret without %s", (field) => {
    const { [field as keyof typeof APP]: _, ...rest } = APP;
    expect(parseError(JSON.stringify(rest)).message).toMatch(new RegExp(`${field} is missing`));
  });
});

describe("readSlackApp", () => {
  it("reads the secret by id", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(APP) });
    expect(await readSlackApp(clients.secretsManager(), SECRET_ID)).toEqual(APP);
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: SECRET_ID });
  });

  it("fails closed when the secret cannot be read, naming the secret and the error", async () => {
    const denied = Object.assign(new Error(`User is not authorized: ${APP.botToken}`), {
      name: "AccessDeniedException",
    });
    secretsMock.on(GetSecretValueCommand).rejects(denied);
    const error = await readSlackApp(clients.secretsManager(), SECRET_ID).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackAppSecretError);
    expect((error as Error).message).toBe(`cannot read ${WHERE}: AccessDeniedException`);
  });

  it("fails closed on a binary secret", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2]) });
    await expect(readSlackApp(clients.secretsManager(), SECRET_ID)).rejects.toThrow(/no string value/);
  });
});

describe("slackAppLoader", () => {
  it("is undefined without a secret id, and reads nothing", async () => {
    expect(await slackAppLoader(undefined, clients, recordingLog())()).toBeUndefined();
    expect(await slackAppLoader("", clients, recordingLog())()).toBeUndefined();
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it("reads once per container and logs the ids, not the credentials", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(APP) });
    const log = recordingLog();
    const load = slackAppLoader(SECRET_ID, clients, log);
    expect(await load()).toEqual(APP);
    expect(await load()).toEqual(APP);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        message: "Slack app loaded",
        fields: { secret: SECRET_ID, teamId: APP.teamId, appId: APP.appId },
      }),
    );
    for (const value of VALUES) expect(JSON.stringify(log.lines)).not.toContain(value);
  });

  it("does not keep a failure: logs it once, keeps failing, then picks up the fix", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ ...APP, botToken: "nope" }) });
    const log = recordingLog();
    const load = slackAppLoader(SECRET_ID, clients, log);
    await expect(load()).rejects.toThrow(SlackAppSecretError);
    await expect(load()).rejects.toThrow(/botToken is not a bot token/);
    expect(log.errors()).toHaveLength(1);
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(APP) });
    expect(await load()).toEqual(APP);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
  });
});

describe("cachedOnce", () => {
  it("is the one the notifier's destinations re-export", () => {
    expect(reexported).toBe(cachedOnce);
  });
});
