// `remedy status` checks the notifier's Slack routing when given its secret (--slack-secret, else
// REMEDY_SLACK_SECRET): OK with what it routes, or the one sentence saying what is wrong — never the secret's value.
import { DescribeRuleCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { statusCommand } from "../../cli/status.ts";

const sqsMock = mockClient(SQSClient);
const ssmMock = mockClient(SSMClient);
const s3Mock = mockClient(S3Client);
const eventsMock = mockClient(EventBridgeClient);
const secretsMock = mockClient(SecretsManagerClient);

const URL_DEFAULT = "https://hooks.slack.com/services/T0001/B0DEFAULT/defaultsecret";
const URL_TEAM_A = "https://hooks.slack.com/services/T0001/B0TEAMA/teamasecret";
const STACK = [
  "--queue-url",
  "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-queue",
  "--dlq-url",
  "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-dlq",
  "--pause-parameter",
  "/remedy/pause",
  "--ledger-bucket",
  "remedy-ledger-123456789012",
  "--schedule-rule",
  "remedy-coordinator-schedule",
];

function deps(env: Record<string, string> = {}): CliDeps {
  return {
    sqs: () => new SQSClient({ region: "us-east-1" }),
    ssm: () => new SSMClient({ region: "us-east-1" }),
    s3: () => new S3Client({ region: "us-east-1" }),
    ec2: () => {
      throw new Error("status does not use EC2");
    },
    eventBridge: () => new EventBridgeClient({ region: "us-east-1" }),
    secretsManager: () => new SecretsManagerClient({ region: "us-east-1" }),
    kms: () => {
      throw new Error("status does not use KMS");
    },
    configService: () => {
      throw new Error("status does not use Config");
    },
    s3Control: () => {
      throw new Error("status does not use S3 Control");
    },
    now: () => new Date("2026-11-20T12:00:00Z"),
    user: () => "alice",
    confirm: async () => false,
    env,
  };
}

async function status(env: Record<string, string>, ...flags: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(
    ["status", ...STACK, ...flags],
    { out: (t) => out.push(t), err: (t) => err.push(t) },
    deps(env),
  );
  const text = out.join("");
  return { code, text, all: text + err.join(""), line: text.split("\n").find((l) => l.startsWith("Slack routing:")) };
}

beforeEach(() => {
  // One by one: an array of the five mocks makes the type checker compare their huge types with each other.
  sqsMock.reset();
  ssmMock.reset();
  s3Mock.reset();
  eventsMock.reset();
  secretsMock.reset();
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { ApproximateNumberOfMessages: "0" } });
  eventsMock.on(DescribeRuleCommand).resolves({ State: "DISABLED" });
  ssmMock.on(GetParameterCommand, { Name: "/remedy/pause" }).resolves({
    Parameter: {
      Value: JSON.stringify({ paused: false, by: "alice", reason: "", at: "2026-11-20T09:00:00.000Z" }),
    },
  });
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
});

describe("remedy status: Slack routing", () => {
  it("says it is not checked, and how to check it, without a secret reference (exit 0)", async () => {
    const { code, line } = await status({});
    expect(line).toBe(
      "Slack routing: not checked (give --slack-secret or set REMEDY_SLACK_SECRET to the notifier's slack_secret: a Secrets Manager ARN or name, or ssm:<parameter name>)",
    );
    expect(code).toBe(0);
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it("shows OK for a secret holding a bare webhook URL, without the URL", async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: `${URL_DEFAULT}\n` });
    const { code, line, all } = await status({ REMEDY_SLACK_SECRET: "remedy/slack" });
    expect(line).toBe("Slack routing: OK (secret remedy/slack: default webhook, 0 account webhooks)");
    expect(code).toBe(0);
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: "remedy/slack" });
    expect(all).not.toContain(URL_DEFAULT);
    expect(all).not.toContain("defaultsecret");
  });

  it("shows OK for the JSON routing in an SSM SecureString, read with decryption", async () => {
    const routing = {
      default: { webhookUrl: URL_DEFAULT, channel: "#sec-alerts" },
      accounts: { "123456789012": { webhookUrl: URL_TEAM_A }, "210987654321": { webhookUrl: URL_TEAM_A } },
    };
    ssmMock
      .on(GetParameterCommand, { Name: "/remedy/slack" })
      .resolves({ Parameter: { Value: JSON.stringify(routing) } });
    const { code, line, all } = await status({ REMEDY_SLACK_SECRET: "ssm:/remedy/slack" });
    expect(line).toBe("Slack routing: OK (SSM parameter /remedy/slack: default webhook, 2 account webhooks)");
    expect(code).toBe(0);
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: "/remedy/slack", WithDecryption: true });
    expect(all).not.toMatch(/defaultsecret|teamasecret/);
  });

  it.each([
    [
      "not JSON and not a URL",
      "xoxb-leakedsecret",
      "it is neither a webhook URL (https://hooks.slack.com/services/…) nor JSON routing",
    ],
    [
      "a non-Slack URL",
      "https://reports.example.com/services/T0001/B0001/leakedsecret",
      "its URL is not a Slack incoming webhook (its host must be hooks.slack.com or hooks.slack-gov.com)",
    ],
    [
      "JSON of the wrong shape",
      JSON.stringify({ webhookUrl: "https://hooks.slack.com/services/T0001/B0001/leakedsecret" }),
      'webhookUrl belongs under "default" ({"default": {"webhookUrl": …}})',
    ],
    [
      "an account key that is not 12 digits",
      JSON.stringify({
        accounts: { prod: { webhookUrl: "https://hooks.slack.com/services/T0001/B0001/leakedsecret" } },
      }),
      "accounts has a key that is not a 12-digit account id",
    ],
  ])("shows %s as BROKEN in one sentence without the value, and exits 1", async (_what, value, problem) => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: value });
    const { code, line, all } = await status({ REMEDY_SLACK_SECRET: "remedy/slack" });
    expect(line).toBe(
      `Slack routing: BROKEN — the Slack secret remedy/slack is malformed: ${problem}; the notifier logs messages instead of sending them`,
    );
    expect(code).toBe(1);
    expect(all).not.toContain(value);
    expect(all).not.toContain("leakedsecret");

    const json = await status({ REMEDY_SLACK_SECRET: "remedy/slack" }, "--json");
    expect(JSON.parse(json.text).slackRouting).toEqual({
      ok: true,
      value: {
        checked: true,
        secret: "secret remedy/slack",
        valid: false,
        problem: `the Slack secret remedy/slack is malformed: ${problem}`,
      },
    });
    expect(json.all).not.toContain("leakedsecret");
  });

  it("shows an unreadable or missing secret as unknown and exits 1", async () => {
    secretsMock.on(GetSecretValueCommand).rejects(
      Object.assign(new Error("User is not authorized to perform: secretsmanager:GetSecretValue"), {
        name: "AccessDeniedException",
      }),
    );
    const denied = await status({ REMEDY_SLACK_SECRET: "remedy/slack" });
    expect(denied.line).toMatch(/^Slack routing: unknown \(AWS denied the request \(AccessDeniedException\)/);
    expect(denied.code).toBe(1);

    ssmMock
      .on(GetParameterCommand, { Name: "/remedy/slack" })
      .rejects(Object.assign(new Error("Parameter not found"), { name: "ParameterNotFound" }));
    const missing = await status({ REMEDY_SLACK_SECRET: "ssm:/remedy/slack" });
    expect(missing.line).toBe(
      "Slack routing: unknown (the Slack SSM parameter /remedy/slack does not exist in this account and region)",
    );
    expect(missing.code).toBe(1);
  });

  it("refuses a webhook URL given in place of the secret's name, without showing it or asking AWS", async () => {
    const { code, line, all } = await status({ REMEDY_SLACK_SECRET: URL_DEFAULT });
    expect(line).toMatch(/^Slack routing: unknown \(REMEDY_SLACK_SECRET holds a URL: it must name the secret/);
    expect(code).toBe(1);
    expect(all).not.toContain("defaultsecret");
    expect(secretsMock.calls()).toHaveLength(0);
  });

  it("remedy status --slack-secret REF checks that secret (the flag through the real CLI entry)", async () => {
    secretsMock.on(GetSecretValueCommand, { SecretId: "remedy/slack-flag" }).resolves({ SecretString: URL_DEFAULT });
    const out: string[] = [];
    const err: string[] = [];
    const { runCli } = await import("../../cli/remedy.ts");
    const stack = [
      "--queue-url",
      "q",
      "--dlq-url",
      "d",
      "--pause-parameter",
      "/remedy/pause",
      "--ledger-bucket",
      "b",
      "--schedule-rule",
      "r",
    ];
    await runCli(
      ["status", ...stack, "--slack-secret", "remedy/slack-flag"],
      { out: (t) => out.push(t), err: (t) => err.push(t) },
      deps({}),
    );
    expect(err.join("")).not.toMatch(/Unknown option/);
    expect(out.join("")).toContain("Slack routing: OK (secret remedy/slack-flag: default webhook, 0 account webhooks)");
  });

  it("takes the reference given as --slack-secret over REMEDY_SLACK_SECRET", async () => {
    secretsMock.on(GetSecretValueCommand, { SecretId: "remedy/slack-flag" }).resolves({ SecretString: URL_DEFAULT });
    const out: string[] = [];
    const complete = await statusCommand(
      { queueUrl: "q", dlqUrl: "d", pauseParameter: "/remedy/pause", ledgerBucket: "b", scheduleRule: "r" },
      false,
      deps({ REMEDY_SLACK_SECRET: "remedy/slack-env" }),
      { out: (t) => out.push(t), err: () => {} },
      { slackSecret: "remedy/slack-flag" },
    );
    expect(out.join("")).toContain("Slack routing: OK (secret remedy/slack-flag: default webhook, 0 account webhooks)");
    expect(complete).toBe(true);
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });
});
