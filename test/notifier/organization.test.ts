// The notifier in organisation mode: each report's account is looked up in the organisation (Organizations mocked in
// AWS's shapes) and routed by its settings' slackRoute to a named route of the Slack secret, over real HTTP to a
// local stand-in for Slack.
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NotifierDeps, runNotifier } from "../../functions/notifier/core.ts";
import type { SlackRouting } from "../../functions/notifier/destinations.ts";
import type { SlackMessage } from "../../functions/notifier/message.ts";
import { slackSender } from "../../functions/notifier/slack.ts";
import { type OrganizationSettings, organizationsDirectory } from "../../platform/organization.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { type FakeSlack, fakeSlack, recordingSleep, snsBatch, snsEventWith } from "./helpers.ts";

const organizations = mockClient(OrganizationsClient);
afterAll(() => organizations.restore());

/** The fixtures' accounts: remedy/fixed-sg is about 123456789012, remedy/would-fix about 333344445555. */
const HUB = "123456789012";
const NOTIFY_MEMBER = "333344445555";
const OU = "ou-a1b2-workload1";

let slack: FakeSlack | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});
beforeEach(() => {
  organizations.reset();
  organizations.on(ListAccountsCommand).resolves({
    Accounts: [HUB, NOTIFY_MEMBER].map((Id) => ({
      Id,
      Arn: `arn:aws:organizations::${HUB}:account/o-a1b2c3d4e5/${Id}`,
      Name: `account-${Id}`,
      Status: "ACTIVE",
      State: "ACTIVE",
    })),
  });
  organizations
    .on(ListParentsCommand)
    .callsFake((input: { ChildId: string }) =>
      input.ChildId === OU || input.ChildId === HUB
        ? { Parents: [{ Id: "r-a1b2", Type: "ROOT" }] }
        : { Parents: [{ Id: OU, Type: "ORGANIZATIONAL_UNIT" }] },
    );
});

const routingTo = (base: string): SlackRouting => ({
  default: { webhookUrl: `${base}/default/secret-default`, channel: "#sec-alerts" },
  accounts: {
    [HUB]: { webhookUrl: `${base}/hub/secret-hub`, channel: "#hub" },
    [NOTIFY_MEMBER]: { webhookUrl: `${base}/own/secret-own`, channel: "#own" },
  },
  routes: {
    "team-b": { webhookUrl: `${base}/team-b/secret-team-b`, channel: "#team-b" },
    payments: { webhookUrl: `${base}/payments/secret-payments`, channel: "#payments" },
  },
});

async function setup(settings: Partial<OrganizationSettings> | "single-account") {
  slack = await fakeSlack();
  const log = recordingLog();
  const metrics = recordingMetrics();
  const routing = routingTo(slack.url);
  const deps: NotifierDeps = {
    relay: { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: false },
    routing: async () => routing,
    slack: slackSender({ sleep: recordingSleep(), log }),
    log,
    metrics,
    ...(settings === "single-account"
      ? {}
      : {
          organization: {
            directory: organizationsDirectory(new OrganizationsClient({ region: "us-east-1" }), {
              regions: ["us-east-1"],
              excludedAccounts: [],
              default: {},
              organizationalUnits: {},
              accounts: {},
              ...settings,
            }),
          },
        }),
  };
  return { slack, log, deps };
}

const paths = (server: FakeSlack) => server.requests.map((request) => request.path.split("/")[1]);
const texts = (server: FakeSlack) => server.requests.map((request) => (request.body as SlackMessage).text);

describe("notifier in organisation mode: routes by the organisation settings", () => {
  it("routes by the OU's slackRoute", async () => {
    const { slack, log, deps } = await setup({ organizationalUnits: { [OU]: { slackRoute: "team-b" } } });
    expect(await runNotifier(snsBatch("remedy/would-fix"), deps)).toMatchObject({ delivered: 1 });
    expect(paths(slack)).toEqual(["team-b"]);
    expect(log.lines.find((line) => line.message === "notification delivered")?.fields).toMatchObject({
      channel: "#team-b",
      via: "route",
      route: "team-b",
    });
  });

  it("routes by the account's slackRoute over its OU's", async () => {
    const { slack, deps } = await setup({
      organizationalUnits: { [OU]: { slackRoute: "team-b" } },
      accounts: { [NOTIFY_MEMBER]: { slackRoute: "payments" } },
    });
    await runNotifier(snsBatch("remedy/would-fix"), deps);
    expect(paths(slack)).toEqual(["payments"]);
  });

  it("a member without a slackRoute keeps its per-account route", async () => {
    const { slack, deps } = await setup({ organizationalUnits: { [OU]: { slackRoute: "team-b" } } });
    await runNotifier(snsBatch("remedy/fixed-sg"), deps);
    expect(paths(slack)).toEqual(["hub"]);
  });

  it("an unknown route name falls back to the default, with a warning naming it", async () => {
    const { slack, log, deps } = await setup({ default: { slackRoute: "no-such-route" } });
    expect(await runNotifier(snsBatch("remedy/would-fix"), deps)).toMatchObject({ delivered: 1 });
    expect(paths(slack)).toEqual(["default"]);
    expect(log.lines.filter((line) => line.level === "warn")).toEqual([
      expect.objectContaining({
        message: "Slack route of the organisation settings is not in the Slack secret: sent to the default",
        fields: expect.objectContaining({ route: "no-such-route" }),
      }),
    ]);
  });

  it("a report about an account outside the organisation goes to the default, marked as such", async () => {
    const { slack, deps } = await setup({ default: { slackRoute: "team-b" } });
    const outside = snsEventWith("remedy/skipped", (message) => {
      (message.resource as Record<string, unknown>).accountId = "999988887777";
      (message.resource as Record<string, unknown>).arn =
        "arn:aws:ec2:us-east-1:999988887777:security-group/sg-0f1e2d3c4b5a69788";
    });
    expect(await runNotifier(outside, deps)).toMatchObject({ delivered: 1 });
    expect(paths(slack)).toEqual(["default"]);
    expect(texts(slack)[0]).toContain(
      "Not an account of this organisation (account 999988887777 is not an account of this organisation): sent to the default route.",
    );
  });

  it("an excluded account's report is marked too; a member's is not", async () => {
    const { slack, deps } = await setup({ excludedAccounts: [NOTIFY_MEMBER] });
    await runNotifier(snsBatch("remedy/would-fix", "remedy/fixed-sg"), deps);
    expect(paths(slack)).toEqual(["default", "hub"]);
    expect(texts(slack)[0]).toContain("is excluded in the organisation settings): sent to the default route.");
    expect(texts(slack)[1]).not.toContain("Not an account of this organisation");
  });

  it("reads the organisation once for a batch, and reports without an account go to the default", async () => {
    const { slack, deps } = await setup({ organizationalUnits: { [OU]: { slackRoute: "team-b" } } });
    await runNotifier(snsBatch("remedy/would-fix", "remedy/fixed-sg", "remedy/breaker-tripped"), deps);
    expect(paths(slack)).toEqual(["team-b", "hub", "default"]);
    expect(organizations.commandCalls(ListAccountsCommand)).toHaveLength(1);
  });

  it("an unreadable organisation: routed by account (never lost), with a warning", async () => {
    organizations.on(ListAccountsCommand).rejects(
      Object.assign(new Error("Rate exceeded"), {
        name: "TooManyRequestsException",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const { slack, log, deps } = await setup({ default: { slackRoute: "team-b" } });
    expect(await runNotifier(snsBatch("remedy/would-fix"), deps)).toMatchObject({ delivered: 1 });
    expect(paths(slack)).toEqual(["own"]);
    expect(texts(slack)[0]).not.toContain("Not an account of this organisation");
    expect(log.lines.some((line) => line.level === "warn" && /organisation unreadable/.test(line.message))).toBe(true);
  });
});

describe("notifier in single-account mode: unchanged", () => {
  it("routes by account, else default; named routes are not used and Organizations is never asked", async () => {
    const { slack, deps } = await setup("single-account");
    await runNotifier(snsBatch("remedy/would-fix", "remedy/fixed-sg", "remedy/breaker-tripped"), deps);
    expect(paths(slack)).toEqual(["own", "hub", "default"]);
    expect(organizations.calls()).toHaveLength(0);
  });
});
