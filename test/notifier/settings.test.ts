import { describe, expect, it } from "vitest";
import { parseSlackUsers, readNotifierSettings } from "../../functions/notifier/settings.ts";
import { RULE_IDS } from "../../problems/index.ts";

const base = { AWS_REGION: "us-east-1" };

describe("readNotifierSettings", () => {
  it("has safe defaults: no Slack (log only), Remedy's rules only, attribution on for 7 days", () => {
    expect(readNotifierSettings(base)).toEqual({
      // Every rule of the registry (pinned in test/problems/registry.test.ts), and only those.
      relay: { ruleSuffixes: [...RULE_IDS], relayAllRules: false },
      attribution: { enabled: true, lookbackDays: 7 },
      slackUsers: {},
      slackUsersProblems: [],
      region: "us-east-1",
      snoozeMinutes: 1_440,
    });
  });

  it("reads every variable", () => {
    const settings = readNotifierSettings({
      ...base,
      REMEDY_SLACK_SECRET: "ssm:/remedy/slack",
      REMEDY_RELAY_RULE_SUFFIXES: " sg-open-ingress , custom-rule ,",
      REMEDY_RELAY_ALL_RULES: "true",
      REMEDY_ATTRIBUTION_ENABLED: "false",
      REMEDY_ATTRIBUTION_LOOKBACK_DAYS: "30",
      REMEDY_SLACK_USERS: JSON.stringify({ "alice@example.com": "U012ALICE" }),
      REMEDY_SLACK_APP_SECRET: "remedy/slack-app",
      REMEDY_SNOOZE_MINUTES: "90",
    });
    expect(settings).toEqual({
      slackSecret: { store: "ssm", name: "/remedy/slack" },
      relay: { ruleSuffixes: ["sg-open-ingress", "custom-rule"], relayAllRules: true },
      attribution: { enabled: false, lookbackDays: 30 },
      slackUsers: { "alice@example.com": "U012ALICE" },
      slackUsersProblems: [],
      region: "us-east-1",
      slackAppSecret: "remedy/slack-app",
      snoozeMinutes: 90,
    });
  });

  it("reads no Slack app from an empty REMEDY_SLACK_APP_SECRET, and bounds the snooze", () => {
    expect(readNotifierSettings({ ...base, REMEDY_SLACK_APP_SECRET: " " })).not.toHaveProperty("slackAppSecret");
    expect(readNotifierSettings({ ...base, REMEDY_SNOOZE_MINUTES: "10080" }).snoozeMinutes).toBe(10_080);
    for (const bad of ["0", "10081", "1.5", "a day"]) {
      expect(() => readNotifierSettings({ ...base, REMEDY_SNOOZE_MINUTES: bad })).toThrow(
        /REMEDY_SNOOZE_MINUTES must be a whole number from 1 to 10080/,
      );
    }
  });

  it("reads the organisation settings (empty: single-account mode); bad ones fail the cold start", () => {
    expect(readNotifierSettings({ ...base, REMEDY_ORGANIZATION: "" })).not.toHaveProperty("organization");
    const settings = readNotifierSettings({
      ...base,
      REMEDY_ORGANIZATION: JSON.stringify({ regions: ["eu-west-1"], default: { slackRoute: "sec" } }),
    });
    expect(settings.organization).toMatchObject({ regions: ["eu-west-1"], default: { slackRoute: "sec" } });
    expect(() => readNotifierSettings({ ...base, REMEDY_ORGANIZATION: "{" })).toThrow(
      /REMEDY_ORGANIZATION is not JSON/,
    );
    expect(() =>
      readNotifierSettings({
        ...base,
        REMEDY_ORGANIZATION: JSON.stringify({ regions: ["eu-west-1"], default: { slackRoute: "a b" } }),
      }),
    ).toThrow(/REMEDY_ORGANIZATION: default\.slackRoute/);
  });

  it("fails at cold start on a bad value, naming the variable", () => {
    expect(() => readNotifierSettings({ ...base, REMEDY_RELAY_ALL_RULES: "yes" })).toThrow(/REMEDY_RELAY_ALL_RULES/);
    expect(() => readNotifierSettings({ ...base, REMEDY_ATTRIBUTION_LOOKBACK_DAYS: "91" })).toThrow(
      /REMEDY_ATTRIBUTION_LOOKBACK_DAYS must be a whole number from 1 to 90/,
    );
    expect(() => readNotifierSettings({})).toThrow(/AWS_REGION is required/);
  });
});

describe("parseSlackUsers", () => {
  it("keeps good entries and reports bad ones instead of failing", () => {
    expect(
      parseSlackUsers(
        JSON.stringify({ "arn:aws:iam::123456789012:user/alice": "U012ALICE", bob: "@bob", carol: 7, dave: "W0DAVE" }),
      ),
    ).toEqual({
      users: { "arn:aws:iam::123456789012:user/alice": "U012ALICE", dave: "W0DAVE" },
      problems: [
        'REMEDY_SLACK_USERS["bob"] is not a Slack user id like U012ABCDEF',
        'REMEDY_SLACK_USERS["carol"] is not a Slack user id like U012ABCDEF',
      ],
    });
  });

  it("ignores a mapping that is not a JSON object", () => {
    expect(parseSlackUsers("{")).toMatchObject({ users: {}, problems: [expect.stringMatching(/is not JSON/)] });
    expect(parseSlackUsers("[]")).toMatchObject({ users: {}, problems: [expect.stringMatching(/JSON object/)] });
  });
});
