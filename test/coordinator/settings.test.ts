import { describe, expect, it } from "vitest";
import {
  CONCURRENCY,
  checkCoordinatorConfig,
  parseRemediationFunctions,
  readCoordinatorSettings,
  SAFETY_MARGIN_MS,
  SAVE_MARGIN_MS,
} from "../../functions/coordinator/settings.ts";
import { type CoordinatorDeps, runCoordinator } from "../../functions/coordinator/tick.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { deploymentEnv } from "../remediation/support.ts";

const required = {
  ...deploymentEnv(),
  REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
  REMEDY_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
  REMEDY_PAUSE_PARAMETER: "/remedy/pause",
  REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
  REMEDY_STATE_BUCKET: "remedy-state",
  REMEDY_REMEDIATION_FUNCTIONS:
    '{"sg-open-ingress":"remedy-remediate-sg","s3-public-acl":"arn:aws:lambda:us-east-1:123456789012:function:remedy-remediate-s3"}',
};

describe("readCoordinatorSettings", () => {
  it("applies the documented defaults", () => {
    expect(readCoordinatorSettings(required)).toEqual({
      deployment: { accountId: "123456789012", region: "us-east-1" },
      queueUrl: required.REMEDY_QUEUE_URL,
      deadLetterQueueUrl: required.REMEDY_DLQ_URL,
      pauseParameter: "/remedy/pause",
      reportTopicArn: required.REMEDY_REPORT_TOPIC_ARN,
      stateBucket: "remedy-state",
      stateKey: "state/coordinator.json",
      remediationFunctions: {
        "sg-open-ingress": "remedy-remediate-sg",
        "s3-public-acl": "arn:aws:lambda:us-east-1:123456789012:function:remedy-remediate-s3",
      },
      dispatchVisibilitySeconds: 300,
      maxAttempts: 3,
      rateLimit: { count: 20, windowMinutes: 10 },
      breaker: { freshLimit: 50, windowMinutes: 10 },
      safetyMarginMs: 15_000,
      saveMarginMs: 5_000,
      receiveWaitSeconds: 1,
      invokeRetryDelaySeconds: 30,
      concurrency: { receives: 10, invokes: 24 },
    });
  });

  it("reads every tunable", () => {
    const settings = readCoordinatorSettings({
      ...required,
      REMEDY_STATE_KEY: "x.json",
      REMEDY_DISPATCH_VISIBILITY_SECONDS: "600",
      REMEDY_MAX_ATTEMPTS: "5",
      REMEDY_RATE_LIMIT_COUNT: "40",
      REMEDY_RATE_LIMIT_WINDOW_MINUTES: "5",
      REMEDY_BREAKER_FRESH_LIMIT: "100",
      REMEDY_BREAKER_WINDOW_MINUTES: "15",
      REMEDY_RECEIVE_CONCURRENCY: "4",
      REMEDY_INVOKE_CONCURRENCY: "6",
    });
    expect(settings).toMatchObject({
      stateKey: "x.json",
      dispatchVisibilitySeconds: 600,
      maxAttempts: 5,
      rateLimit: { count: 40, windowMinutes: 5 },
      breaker: { freshLimit: 100, windowMinutes: 15 },
      concurrency: { receives: 4, invokes: 6 },
    });
  });

  it("rejects out-of-range values naming the variable", () => {
    expect(() => readCoordinatorSettings({ ...required, REMEDY_DISPATCH_VISIBILITY_SECONDS: "5" })).toThrow(
      /REMEDY_DISPATCH_VISIBILITY_SECONDS must be a whole number from 30 to 43200/,
    );
    expect(() => readCoordinatorSettings({ ...required, REMEDY_RATE_LIMIT_COUNT: "0" })).toThrow(
      /REMEDY_RATE_LIMIT_COUNT/,
    );
    expect(() => readCoordinatorSettings({ ...required, REMEDY_INVOKE_CONCURRENCY: "0" })).toThrow(
      /REMEDY_INVOKE_CONCURRENCY must be a whole number from 1 to 200/,
    );
    expect(() => readCoordinatorSettings({ ...required, REMEDY_RECEIVE_CONCURRENCY: "51" })).toThrow(
      /REMEDY_RECEIVE_CONCURRENCY must be a whole number from 1 to 50/,
    );
  });
});

describe("Slack buttons (interactive)", () => {
  const app = { ...required, REMEDY_SLACK_APP_SECRET: "arn:aws:secretsmanager:us-east-1:123456789012:secret:app" };
  const approvers = { approvers: { fixNow: [{ users: ["U012ABCDEF"], accounts: ["123456789012"] }] } };

  it("are off without a Slack app, whatever the other variables say", () => {
    const settings = readCoordinatorSettings({ ...required, REMEDY_SLACK_APPROVERS: "{", REMEDY_SNOOZE_MINUTES: "0" });
    expect(settings.interactive).toBeUndefined();
    expect(readCoordinatorSettings({ ...required, REMEDY_SLACK_APP_SECRET: " " }).interactive).toBeUndefined();
  });

  it("with a Slack app: the ledger bucket, the approvers and the snooze (a day by default)", () => {
    expect(readCoordinatorSettings({ ...app, REMEDY_SLACK_APPROVERS: JSON.stringify(approvers) }).interactive).toEqual({
      bucket: "remedy-state",
      approvers,
      snoozeMinutes: 1_440,
    });
    expect(readCoordinatorSettings({ ...app, REMEDY_SNOOZE_MINUTES: "90" }).interactive).toEqual({
      bucket: "remedy-state",
      approvers: { approvers: {} },
      snoozeMinutes: 90,
    });
  });

  it("rejects bad approvers and snooze at cold start, naming the variable", () => {
    for (const text of ["{", '{"approvers":{"fixnow":[]}}', '{"approvers":{"fixNow":[{"users":["alice"]}]}}']) {
      expect(() => readCoordinatorSettings({ ...app, REMEDY_SLACK_APPROVERS: text })).toThrow(ConfigurationError);
      expect(() => readCoordinatorSettings({ ...app, REMEDY_SLACK_APPROVERS: text })).toThrow(/REMEDY_SLACK_APPROVERS/);
    }
    for (const text of ["0", "10081", "1.5", "day"]) {
      expect(() => readCoordinatorSettings({ ...app, REMEDY_SNOOZE_MINUTES: text })).toThrow(
        /REMEDY_SNOOZE_MINUTES must be a whole number from 1 to 10080/,
      );
    }
  });

  it("checkCoordinatorConfig checks a snooze given directly", () => {
    const base = { concurrency: { ...CONCURRENCY }, safetyMarginMs: 15_000, saveMarginMs: 5_000 };
    const interactive = { bucket: "b", approvers: { approvers: {} }, snoozeMinutes: 0 };
    expect(() => checkCoordinatorConfig({ ...base, interactive })).toThrow(/interactive\.snoozeMinutes/);
    expect(() => checkCoordinatorConfig({ ...base, interactive: { ...interactive, snoozeMinutes: 60 } })).not.toThrow();
  });
});

describe("checkCoordinatorConfig (the pace and time budget the environment does not set)", () => {
  const base = { concurrency: { ...CONCURRENCY }, safetyMarginMs: 15_000, saveMarginMs: 5_000 };

  it("accepts the defaults, which are within 8–16 receives and 16–32 invokes in flight", () => {
    expect(() => checkCoordinatorConfig(base)).not.toThrow();
    expect(CONCURRENCY.receives).toBeGreaterThanOrEqual(8);
    expect(CONCURRENCY.receives).toBeLessThanOrEqual(16);
    expect(CONCURRENCY.invokes).toBeGreaterThanOrEqual(16);
    expect(CONCURRENCY.invokes).toBeLessThanOrEqual(32);
    expect(SAVE_MARGIN_MS).toBeLessThan(SAFETY_MARGIN_MS);
  });

  it.each([
    ["no receives", { receives: 0, invokes: 24 }, /concurrency\.receives must be a whole number from 1 to 50, got 0/],
    ["a fraction of an invoke", { receives: 10, invokes: 2.5 }, /concurrency\.invokes must be a whole number/],
    ["too many invokes", { receives: 10, invokes: 201 }, /concurrency\.invokes .* to 200, got 201/],
    ["NaN receives", { receives: Number.NaN, invokes: 24 }, /concurrency\.receives/],
  ])("rejects %s, naming the field", (_what, concurrency, message) => {
    expect(() => checkCoordinatorConfig({ ...base, concurrency })).toThrow(ConfigurationError);
    expect(() => checkCoordinatorConfig({ ...base, concurrency })).toThrow(message);
  });

  it("rejects a save margin that is not inside the safety margin", () => {
    expect(() => checkCoordinatorConfig({ ...base, saveMarginMs: 15_000 })).toThrow(/saveMarginMs .* got 15000/);
    expect(() => checkCoordinatorConfig({ ...base, saveMarginMs: -1 })).toThrow(/saveMarginMs/);
  });

  it("is what runCoordinator checks first: a bad value fails before the pause switch is read", async () => {
    const deps = {
      config: { ...base, concurrency: { receives: 10, invokes: 0 } },
      ssm: {
        send: () => {
          throw new Error("read the pause switch");
        },
      },
    } as unknown as CoordinatorDeps;
    await expect(runCoordinator(deps)).rejects.toThrow(/concurrency\.invokes/);
  });
});

describe("parseRemediationFunctions", () => {
  it.each([
    ["not JSON", "{", /is not JSON/],
    ["an array", "[]", /must be a JSON object/],
    ["an unknown problem", '{"ec2-public-ip":"f"}', /unknown problem "ec2-public-ip"/],
    ["an empty name", '{"sg-open-ingress":" "}', /"sg-open-ingress" must name a function/],
  ])("rejects %s", (_what, text, message) => {
    expect(() => parseRemediationFunctions(text)).toThrow(message);
  });
});
