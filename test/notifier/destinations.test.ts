// Where messages go: the Slack secret (Secrets Manager or SSM), its validation, routing and caching.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import {
  cachedOnce,
  MalformedSlackSecretError,
  parseSecretReference,
  parseSlackRouting,
  readSlackRouting,
  routeFor,
  routeInOrganization,
  SlackSecretError,
  secretReferenceProblem,
  slackRoutingLoader,
} from "../../functions/notifier/destinations.ts";
import type { AccountStanding } from "../../platform/organization.ts";
import { accountSettings, parseOrganizationSettings } from "../../platform/organization.ts";
import { recordingLog } from "../helpers/recording-log.ts";

const secretsMock = mockClient(SecretsManagerClient);
const ssmMock = mockClient(SSMClient);
const clients = { secretsManager: () => new SecretsManagerClient({}), ssm: () => new SSMClient({}) };

const SM_REF = { store: "secretsmanager", secretId: "remedy/slack" } as const;
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

  it("keeps the JSON routing form as it was", () => {
    expect(parseSlackRouting(secret)).toEqual({
      default: { webhookUrl: DEFAULT_URL, channel: "#sec-alerts" },
      accounts: { "123456789012": { webhookUrl: TEAM_A_URL, channel: "#team-a" } },
    });
    expect(parseSlackRouting(JSON.stringify({ default: null, accounts: null }))).toEqual({ accounts: {} });
  });

  it("takes a bare webhook URL, with surrounding whitespace, as the default route with no account routes", () => {
    for (const text of [DEFAULT_URL, `${DEFAULT_URL}\n`, `  ${DEFAULT_URL}\r\n`, `\t${DEFAULT_URL} `]) {
      const routing = parseSlackRouting(text, SM_REF);
      expect(routing).toEqual({ default: { webhookUrl: DEFAULT_URL }, accounts: {} });
      expect(routeFor(routing, "123456789012")).toEqual({ webhookUrl: DEFAULT_URL, via: "default" });
      expect(routeFor(routing, undefined)).toEqual({ webhookUrl: DEFAULT_URL, via: "default" });
    }
    const gov = "https://hooks.slack-gov.com/services/T0001/B0GOV/govsecret";
    expect(parseSlackRouting(gov).default).toEqual({ webhookUrl: gov });
    expect(parseSlackRouting("https://HOOKS.slack.com/workflows/T0001/A0001/1/wfsecret").default).toBeDefined();
  });

  // Each value holds a credential-looking part ("xsecretx") that must never be echoed.
  const BARE_ON = (host: string) => `https://${host}/services/T0001/B0001/xsecretx`;
  it.each([
    [
      "not JSON and not a URL",
      "not json xsecretx",
      "is neither a webhook URL (https://hooks.slack.com/services/…) nor JSON routing",
    ],
    ["a URL without its scheme", "hooks.slack.com/services/T0001/B0001/xsecretx", "is neither a webhook URL"],
    ["empty", " \n", "it is empty"],
    ["a bare http URL", "http://hooks.slack.com/services/T0001/B0001/xsecretx", "its URL must be an https URL"],
    [
      "a bare URL on another host",
      BARE_ON("example.com"),
      "its URL is not a Slack incoming webhook (its host must be hooks.slack.com or hooks.slack-gov.com)",
    ],
    ["a look-alike host", BARE_ON("hooks.slack.com.example.net"), "its URL is not a Slack incoming webhook"],
    ["Slack's host on another port", BARE_ON("hooks.slack.com:8443"), "its URL is not a Slack incoming webhook"],
    ["loopback (no exception for it)", BARE_ON("127.0.0.1"), "its URL is not a Slack incoming webhook"],
    [
      "two URLs pasted together",
      `${BARE_ON("hooks.slack.com")}\n${BARE_ON("hooks.slack.com")}`,
      "its URL has whitespace inside it",
    ],
    ["a JSON array", '["xsecretx"]', "it is JSON but not an object with default and accounts"],
    ["a JSON string", '"https://hooks.slack.com/services/T0001/B0001/xsecretx"', "it is JSON but not an object"],
    [
      "a flat webhookUrl",
      JSON.stringify({ webhookUrl: BARE_ON("hooks.slack.com") }),
      'webhookUrl belongs under "default"',
    ],
    [
      "an unknown top-level key",
      JSON.stringify({ defualt: { webhookUrl: BARE_ON("hooks.slack.com") } }),
      "it has a key other than default, accounts and routes",
    ],
    [
      "a default that is not an object",
      JSON.stringify({ default: "xsecretx" }),
      "default must be an object with a webhookUrl",
    ],
    [
      "a webhookUrl that is not a string",
      JSON.stringify({ default: { webhookUrl: 42, channel: "#xsecretx" } }),
      "default.webhookUrl must be a string",
    ],
    [
      "a webhookUrl that is not a URL",
      JSON.stringify({ default: { webhookUrl: "hooks.slack.com/services/T/B/xsecretx" } }),
      "default.webhookUrl is not a URL",
    ],
    [
      "an http webhookUrl",
      JSON.stringify({ default: { webhookUrl: "http://hooks.slack.com/services/T/B/xsecretx" } }),
      "default.webhookUrl must be an https URL",
    ],
    [
      "a webhookUrl on another host",
      JSON.stringify({ default: { webhookUrl: BARE_ON("reports.example.com") } }),
      "default.webhookUrl is not a Slack incoming webhook",
    ],
    [
      "a destination with an unknown key",
      JSON.stringify({ default: { url: BARE_ON("hooks.slack.com"), webhookUrl: DEFAULT_URL } }),
      "default has a key other than webhookUrl, channelId and channel",
    ],
    [
      "accounts that are not an object",
      JSON.stringify({ accounts: ["xsecretx"] }),
      "accounts must be an object keyed by account id",
    ],
    [
      "an account key that is not 12 digits",
      JSON.stringify({ accounts: { "team-xsecretx": { webhookUrl: TEAM_A_URL } } }),
      "accounts has a key that is not a 12-digit account id",
    ],
    [
      "an 11-digit account key",
      JSON.stringify({ accounts: { "12345678901": { webhookUrl: BARE_ON("hooks.slack.com") } } }),
      "not a 12-digit account id",
    ],
    [
      "an account webhook on another host",
      JSON.stringify({ accounts: { "123456789012": { webhookUrl: BARE_ON("evil.example") } } }),
      "accounts.123456789012.webhookUrl is not a Slack incoming webhook",
    ],
    ["routes that are not an object", JSON.stringify({ routes: ["xsecretx"] }), "routes must be an object"],
    [
      "a route name that no settings could give",
      JSON.stringify({ routes: { "team a/xsecretx": { webhookUrl: BARE_ON("hooks.slack.com") } } }),
      "routes has a key that is not a route name",
    ],
    [
      "a route webhook on another host",
      JSON.stringify({ routes: { "team-a": { webhookUrl: BARE_ON("evil.example") } } }),
      "routes.team-a.webhookUrl is not a Slack incoming webhook",
    ],
    [
      "a channel that is not a string",
      JSON.stringify({ accounts: { "123456789012": { webhookUrl: BARE_ON("hooks.slack.com"), channel: 7 } } }),
      "accounts.123456789012.channel must be a string",
    ],
  ])("refuses %s in one sentence naming the secret, never its value", (_what, value, problem) => {
    let error: unknown;
    try {
      parseSlackRouting(value, SM_REF);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedSlackSecretError);
    expect(error).toBeInstanceOf(SlackSecretError);
    const message = (error as Error).message;
    expect(message).toMatch(/^the Slack secret remedy\/slack is malformed: /);
    expect(message).toContain(problem);
    expect(message).not.toContain("\n");
    expect(message).not.toContain("xsecretx");
    expect(message).not.toMatch(/services\/T/);
    if (value.trim() !== "") expect(message).not.toContain(value.trim());
  });

  it("takes a channel id for the Slack app, alone or beside a webhook", () => {
    const routing = parseSlackRouting(
      JSON.stringify({
        default: { channelId: "C0123ABCDEF", channel: "#sec-alerts" },
        accounts: { "123456789012": { webhookUrl: TEAM_A_URL, channelId: "G0123ABCDEF", channel: "#team-a" } },
        routes: { dm: { channelId: "D0123ABCDEF" } },
      }),
      SM_REF,
    );
    expect(routing).toEqual({
      default: { channelId: "C0123ABCDEF", channel: "#sec-alerts" },
      accounts: { "123456789012": { webhookUrl: TEAM_A_URL, channelId: "G0123ABCDEF", channel: "#team-a" } },
      routes: { dm: { channelId: "D0123ABCDEF" } },
    });
    expect(routeFor(routing, "123456789012")).toEqual({
      webhookUrl: TEAM_A_URL,
      channelId: "G0123ABCDEF",
      channel: "#team-a",
      via: "account",
    });
  });

  it.each([
    ["a user id", "U0123ABCDEF"],
    ["a channel name", "#sec-alerts"],
    ["lower case", "c0123abcdef"],
    ["too short", "C0123456"],
    ["a number", 12345678901],
    ["surrounding space", " C0123ABCDEF"],
  ])("refuses a channelId that is %s, without echoing it", (_what, channelId) => {
    let error: unknown;
    try {
      parseSlackRouting(JSON.stringify({ default: { channelId, channel: "#a" } }), SM_REF);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedSlackSecretError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /^the Slack secret remedy\/slack is malformed: default\.channelId is not a Slack channel id/,
    );
    expect(message).not.toContain(String(channelId).trim());
  });

  it("refuses a destination with neither a webhook nor a channel id", () => {
    expect(() => parseSlackRouting(JSON.stringify({ default: { channel: "#sec-alerts" } }), SM_REF)).toThrow(
      new MalformedSlackSecretError(
        "the Slack secret remedy/slack is malformed: default has neither a webhookUrl nor a channelId",
      ),
    );
  });

  it("names an SSM parameter as such, and a secret without a string value", () => {
    expect(() => parseSlackRouting("nope", { store: "ssm", name: "/remedy/slack" })).toThrow(
      "the Slack SSM parameter /remedy/slack is malformed: it is neither",
    );
    expect(() => parseSlackRouting(undefined, SM_REF)).toThrow(
      new MalformedSlackSecretError(
        "the Slack secret remedy/slack is malformed: it has no string value (a binary secret?)",
      ),
    );
  });
});

describe("secretReferenceProblem", () => {
  it("refuses the webhook itself in place of the secret's name, without echoing it", () => {
    const problem = secretReferenceProblem(` ${DEFAULT_URL}`, "REMEDY_SLACK_SECRET");
    expect(problem).toMatch(/^REMEDY_SLACK_SECRET holds a URL: it must name the secret/);
    expect(problem).not.toContain("defaultsecret");
    expect(secretReferenceProblem("ssm:", "--slack-secret")).toBe('--slack-secret is "ssm:" without a parameter name');
    expect(secretReferenceProblem("ssm:/remedy/slack", "REMEDY_SLACK_SECRET")).toBeUndefined();
    expect(secretReferenceProblem("remedy/slack", "REMEDY_SLACK_SECRET")).toBeUndefined();
  });
});

describe("slackRoutingLoader", () => {
  it("reads a bare URL secret once and routes everything to it", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: `${DEFAULT_URL}\n` });
    const log = recordingLog();
    const load = slackRoutingLoader(SM_REF, clients, log);
    expect(await load()).toEqual({ default: { webhookUrl: DEFAULT_URL }, accounts: {} });
    expect(await load()).toEqual({ default: { webhookUrl: DEFAULT_URL }, accounts: {} });
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(log.lines.find((line) => line.message === "Slack routing loaded")?.fields).toEqual({
      secret: "secret remedy/slack",
      defaultRoute: true,
      accountRoutes: 0,
    });
    expect(JSON.stringify(log.lines)).not.toContain("defaultsecret");
  });

  it("logs a malformed secret once as an error in its sentence, keeps failing, and picks up the fix", async () => {
    const bad = "https://reports.example.com/services/T0001/B0001/xsecretx";
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: bad });
    const log = recordingLog();
    const load = slackRoutingLoader(SM_REF, clients, log);
    await expect(load()).rejects.toThrow(MalformedSlackSecretError);
    await expect(load()).rejects.toThrow(MalformedSlackSecretError);
    expect(log.errors()).toHaveLength(1);
    expect(log.errors()[0]!.fields).toEqual({
      problem:
        "the Slack secret remedy/slack is malformed: its URL is not a Slack incoming webhook (its host must be hooks.slack.com or hooks.slack-gov.com)",
      errorName: "MalformedSlackSecretError",
    });
    expect(JSON.stringify(log.lines)).not.toContain("xsecretx");
    expect(JSON.stringify(log.lines)).not.toContain("reports.example.com");

    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: DEFAULT_URL });
    expect(await load()).toMatchObject({ default: { webhookUrl: DEFAULT_URL } });
  });

  it("has no routing without a reference, and reads nothing", async () => {
    const load = slackRoutingLoader(undefined, clients, recordingLog());
    expect(await load()).toBeUndefined();
    expect(secretsMock.calls()).toHaveLength(0);
    expect(ssmMock.calls()).toHaveLength(0);
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

describe("named routes (organisation mode)", () => {
  const TEAM_B_URL = "https://hooks.slack.com/services/T0001/B0TEAMB/teambsecret";
  const PAYMENTS_URL = "https://hooks.slack.com/services/T0001/B0PAY/paymentssecret";
  const routing = parseSlackRouting(
    JSON.stringify({
      default: { webhookUrl: DEFAULT_URL, channel: "#sec-alerts" },
      accounts: { "123456789012": { webhookUrl: TEAM_A_URL, channel: "#team-a" } },
      routes: { "team-b": { webhookUrl: TEAM_B_URL, channel: "#team-b" }, payments: { webhookUrl: PAYMENTS_URL } },
    }),
  );
  const settings = parseOrganizationSettings({
    regions: ["us-east-1"],
    organizationalUnits: { "ou-a1b2-workload1": { slackRoute: "team-b" }, "ou-a1b2-sandbox01": { slackRoute: "gone" } },
    accounts: { "210987654321": { slackRoute: "payments" } },
  });
  const member = (accountId: string, parents: string[] = []): AccountStanding => ({
    member: true,
    accountId,
    parents,
    settings: accountSettings(settings, accountId, parents),
  });

  it("parses routes beside default and accounts; a secret without them has none", () => {
    expect(routing.routes).toEqual({
      "team-b": { webhookUrl: TEAM_B_URL, channel: "#team-b" },
      payments: { webhookUrl: PAYMENTS_URL },
    });
    expect(parseSlackRouting(secret)).not.toHaveProperty("routes");
  });

  it("routes by the OU's slackRoute, and by the account's over its OU's", () => {
    expect(routeInOrganization(routing, "333344445555", member("333344445555", ["ou-a1b2-workload1"]))).toEqual({
      destination: { webhookUrl: TEAM_B_URL, channel: "#team-b", via: "route", route: "team-b" },
    });
    expect(routeInOrganization(routing, "210987654321", member("210987654321", ["ou-a1b2-workload1"]))).toEqual({
      destination: { webhookUrl: PAYMENTS_URL, via: "route", route: "payments" },
    });
  });

  it("a member without a slackRoute keeps the per-account route, else the default", () => {
    expect(routeInOrganization(routing, "123456789012", member("123456789012")).destination).toEqual({
      webhookUrl: TEAM_A_URL,
      channel: "#team-a",
      via: "account",
    });
    expect(routeInOrganization(routing, "444455556666", member("444455556666")).destination).toMatchObject({
      via: "default",
    });
  });

  it("a route name the secret does not have goes to the default, and says which", () => {
    expect(routeInOrganization(routing, "444455556666", member("444455556666", ["ou-a1b2-sandbox01"]))).toEqual({
      destination: { webhookUrl: DEFAULT_URL, channel: "#sec-alerts", via: "default" },
      unknownRoute: "gone",
    });
  });

  it("an account outside the organisation goes to the default, even with a per-account route", () => {
    const outside: AccountStanding = { member: false, accountId: "123456789012", reason: "not an account" };
    expect(routeInOrganization(routing, "123456789012", outside)).toEqual({
      destination: { webhookUrl: DEFAULT_URL, channel: "#sec-alerts", via: "default" },
    });
  });

  it("a route named like an object member finds nothing but the default", () => {
    const forgedSettings = parseOrganizationSettings({
      regions: ["us-east-1"],
      default: { slackRoute: "constructor" },
    });
    const standing: AccountStanding = {
      member: true,
      accountId: "444455556666",
      parents: [],
      settings: accountSettings(forgedSettings, "444455556666", []),
    };
    expect(routeInOrganization(routing, "444455556666", standing)).toMatchObject({
      destination: { via: "default" },
      unknownRoute: "constructor",
    });
  });

  it("without a standing (no account, or the organisation unreadable): routed as in single-account mode", () => {
    expect(routeInOrganization(routing, "123456789012", undefined).destination).toMatchObject({ via: "account" });
    expect(routeInOrganization(routing, undefined, undefined).destination).toMatchObject({ via: "default" });
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
