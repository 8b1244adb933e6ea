// Where messages go: the Slack secret (Secrets Manager or SSM), its validation, routing and caching.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  cachedOnce,
  parseSecretReference,
  parseSlackRouting,
  readSlackRouting,
  routeFor,
  SlackSecretError,
} from "../../functions/notifier/destinations.ts";

const secretsMock = mockClient(SecretsManagerClient);
const ssmMock = mockClient(SSMClient);
const clients = { secretsManager: () => new SecretsManagerClient({}), ssm: () => new SSMClient({}) };

const DEFAULT_URL = "https://hooks.slack.com/services/T0001/B0DEFAULT/defaultsecret";
const TEAM_A_URL = "https://hooks.slack.com/services/T0001/B0TEAMA/teamasecret";
const secret = JSON.stringify({
  default: { webhookUrl: DEFAULT_URL, channel: "#sec-alerts" },
  accounts: { "123456789012": { webhookUrl: TEAM_A_URL, channel: "#team-a" } },
});

beforeEach(() => {
  secretsMock.reset();
  ssmMock.reset();
});

describe("secret reference", () => {
  it("reads ssm:<name> as an SSM parameter and anything else as a Secrets Manager id", () => {
    expect(parseSecretReference("ssm:/remedy/slack")).toEqual({ store: "ssm", name: "/remedy/slack" });
    expect(parseSecretReference("arn:aws:secretsmanager:us-east-1:123456789012:secret:remedy/slack-AbCdEf")).toEqual({
      store: "secretsmanager",
      secretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:remedy/slack-AbCdEf",
    });
    expect(parseSecretReference("remedy/slack")).toEqual({ store: "secretsmanager", secretId: "remedy/slack" });
  });
});

describe("readSlackRouting", () => {
  it("reads a Secrets Manager secret", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: secret });
    const routing = await readSlackRouting({ store: "secretsmanager", secretId: "remedy/slack" }, clients);
    expect(routing).toEqual({
      default: { webhookUrl: DEFAULT_URL, channel: "#sec-alerts" },
      accounts: { "123456789012": { webhookUrl: TEAM_A_URL, channel: "#team-a" } },
    });
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: "remedy/slack" });
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it("reads an SSM SecureString with decryption", async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolves({ Parameter: { Name: "/remedy/slack", Type: "SecureString", Value: secret } });
    const routing = await readSlackRouting({ store: "ssm", name: "/remedy/slack" }, clients);
    expect(routing.default?.channel).toBe("#sec-alerts");
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: "/remedy/slack", WithDecryption: true });
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it("turns an unreadable secret into SlackSecretError naming the reference, not the value", async () => {
    const denied = Object.assign(new Error("User is not authorized to perform secretsmanager:GetSecretValue"), {
      name: "AccessDeniedException",
    });
    secretsMock.on(GetSecretValueCommand).rejects(denied);
    await expect(readSlackRouting({ store: "secretsmanager", secretId: "remedy/slack" }, clients)).rejects.toThrow(
      new SlackSecretError("cannot read the Slack secret remedy/slack: AccessDeniedException"),
    );
    secretsMock.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1]) });
    await expect(readSlackRouting({ store: "secretsmanager", secretId: "remedy/slack" }, clients)).rejects.toThrow(
      "has no string value",
    );
  });
});

describe("parseSlackRouting", () => {
  it("accepts a default alone, accounts alone, or nothing", () => {
    expect(parseSlackRouting(JSON.stringify({ default: { webhookUrl: DEFAULT_URL } }))).toEqual({
      default: { webhookUrl: DEFAULT_URL },
      accounts: {},
    });
    expect(parseSlackRouting(JSON.stringify({ accounts: { "123456789012": { webhookUrl: TEAM_A_URL } } }))).toEqual({
      accounts: { "123456789012": { webhookUrl: TEAM_A_URL } },
    });
    expect(parseSlackRouting("{}")).toEqual({ accounts: {} });
  });

  it.each([
    ["not json", "the Slack secret is not JSON"],
    ["[]", "the Slack secret must be a JSON object"],
    [JSON.stringify({ default: "x" }), "default must be an object with a webhookUrl"],
    [JSON.stringify({ default: { webhookUrl: 42 } }), "default.webhookUrl must be a string"],
    [
      JSON.stringify({ default: { webhookUrl: "hooks.slack.com/services/T/B/secret" } }),
      "default.webhookUrl is not a URL",
    ],
    [
      JSON.stringify({ default: { webhookUrl: "http://hooks.slack.com/services/T/B/secret" } }),
      "default.webhookUrl must be an https URL",
    ],
    [JSON.stringify({ accounts: [] }), "accounts must be an object keyed by account id"],
    [JSON.stringify({ accounts: { "team-a": { webhookUrl: TEAM_A_URL } } }), "not a 12-digit account id"],
    [
      JSON.stringify({ accounts: { "123456789012": { webhookUrl: TEAM_A_URL, channel: 7 } } }),
      "accounts.123456789012.channel must be a string",
    ],
  ])("rejects %s without echoing it", (json, message) => {
    let error: unknown;
    try {
      parseSlackRouting(json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SlackSecretError);
    expect((error as Error).message).toContain(message);
    expect((error as Error).message).not.toContain("secret/");
    expect((error as Error).message).not.toMatch(/services\/T/);
  });

  it("allows plain http only to this machine", () => {
    expect(
      parseSlackRouting(JSON.stringify({ default: { webhookUrl: "http://127.0.0.1:8080/hook" } })).default,
    ).toEqual({
      webhookUrl: "http://127.0.0.1:8080/hook",
    });
  });
});

describe("routeFor", () => {
  const routing = parseSlackRouting(secret);

  it("picks the account's own webhook, else the default", () => {
    expect(routeFor(routing, "123456789012")).toEqual({ webhookUrl: TEAM_A_URL, channel: "#team-a", via: "account" });
    expect(routeFor(routing, "210987654321")).toEqual({
      webhookUrl: DEFAULT_URL,
      channel: "#sec-alerts",
      via: "default",
    });
    expect(routeFor(routing, undefined)).toMatchObject({ via: "default" });
  });

  it("routes a forged account id named like an object member to the default", () => {
    for (const accountId of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      expect(routeFor(routing, accountId)).toEqual({ webhookUrl: DEFAULT_URL, channel: "#sec-alerts", via: "default" });
    }
  });

  it("has nowhere to send without a default or a matching account", () => {
    const accountsOnly = parseSlackRouting(
      JSON.stringify({ accounts: { "123456789012": { webhookUrl: TEAM_A_URL } } }),
    );
    expect(routeFor(accountsOnly, "210987654321")).toBeUndefined();
    expect(routeFor(accountsOnly, undefined)).toBeUndefined();
  });
});

describe("cachedOnce", () => {
  it("loads once and keeps the result", async () => {
    const load = vi.fn(async () => "routing");
    const cached = cachedOnce(load);
    expect(await Promise.all([cached(), cached()])).toEqual(["routing", "routing"]);
    expect(await cached()).toBe("routing");
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("does not keep a failure: the next call tries again", async () => {
    const load = vi.fn().mockRejectedValueOnce(new SlackSecretError("throttled")).mockResolvedValue("routing");
    const cached = cachedOnce(load);
    await expect(cached()).rejects.toThrow("throttled");
    expect(await cached()).toBe("routing");
    expect(load).toHaveBeenCalledTimes(2);
  });
});
