// The notifier core end to end: SNS batches in, real HTTP to a local stand-in for Slack, CloudTrail mocked.
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type NotifierDeps, runNotifier } from "../../functions/notifier/core.ts";
import { type SlackRouting, SlackSecretError } from "../../functions/notifier/destinations.ts";
import type { SlackMessage } from "../../functions/notifier/message.ts";
import { SlackDeliveryError, slackSender } from "../../functions/notifier/slack.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import {
  cloudTrailError,
  type FakeSlack,
  fakeSlack,
  lookupResponse,
  recordingSleep,
  type ScriptedResponse,
  snsBatch,
  snsEventWith,
  snsMessageId,
} from "./helpers.ts";

const cloudTrailMock = mockClient(CloudTrailClient);
const NOW = new Date("2026-11-20T10:30:00.000Z");

let slack: FakeSlack | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});
beforeEach(() => {
  cloudTrailMock.reset();
  cloudTrailMock
    .on(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "sg-0f1e2d3c4b5a69788" }],
    })
    .resolves(lookupResponse("sg-iam-user"))
    .on(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "acme-analytics-exports" }],
    })
    .resolves(lookupResponse("bucket-sso-role"));
});

const routingTo = (base: string): SlackRouting => ({
  default: { webhookUrl: `${base}/default/secret-default`, channel: "#sec-alerts" },
  accounts: { "123456789012": { webhookUrl: `${base}/team-a/secret-team-a`, channel: "#team-a" } },
});

async function setup(options: { script?: ScriptedResponse[]; routing?: SlackRouting | "none" | Error } = {}) {
  slack = await fakeSlack(options.script ?? []);
  const log = recordingLog();
  const metrics = recordingMetrics();
  const sleep = recordingSleep();
  const routing = options.routing ?? routingTo(slack.url);
  const deps: NotifierDeps = {
    relay: { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: false },
    attribution: {
      cloudTrail: new CloudTrailClient({}),
      home: { region: "us-east-1", accountId: "123456789012" },
      lookbackDays: 7,
      slackUsers: { alice: "U012ALICE" },
      now: () => NOW,
      log,
    },
    routing: async () => {
      if (routing instanceof Error) throw routing;
      return routing === "none" ? undefined : routing;
    },
    slack: slackSender({ sleep, log }),
    log,
    metrics,
  };
  return { slack, log, metrics, sleep, deps };
}

const posted = (server: FakeSlack) => server.requests.map((request) => request.body as SlackMessage);
const header = (message: SlackMessage) => (message.blocks[0] as { text: { text: string } }).text.text;

describe("runNotifier", () => {
  it("delivers the good records of a mixed batch and logs the bad ones, without throwing", async () => {
    const { slack, log, metrics, deps } = await setup();
    const event = snsBatch(
      "remedy/fixed-sg",
      "malformed/not-json",
      "config/compliance-non-compliant",
      "config/configuration-item-change",
      "malformed/invalid-report",
      "alarm/dlq-alarm",
      "config/compliance-unchanged",
      "malformed/unknown-shape",
      "remedy/breaker-tripped",
      "config/snapshot-delivery-completed",
      "malformed/invalid-compliance",
    );
    const result = await runNotifier(event, deps);

    expect(result).toEqual({ records: 11, delivered: 4, logged: 0, ignored: 3, dropped: 4, failed: 0 });
    expect(posted(slack).map(header)).toEqual([
      "✅ Fixed: security group open to the internet",
      "🔴 Non-compliant: EC2 security group sg-0f1e2d3c4b5a69788",
      "🔴 Dead-letter queue remedy-dlq has 3 messages",
      "🛑 Remedy paused: circuit breaker tripped",
    ]);
    // Routed by account; Remedy-wide messages go to the default channel.
    expect(slack.requests.map((request) => request.path)).toEqual([
      "/team-a/secret-team-a",
      "/team-a/secret-team-a",
      "/team-a/secret-team-a",
      "/default/secret-default",
    ]);
    // Who made the change, with a mention, on the fix and the non-compliant change.
    expect(posted(slack)[0]!.text).toContain("Changed by <@U012ALICE> (IAM user alice)");
    expect(posted(slack)[1]!.text).toContain("Changed by <@U012ALICE> (IAM user alice)");
    expect(posted(slack)[0]!.text).toContain("to #team-a");

    const dropped = log.errors().map((line) => [line.message, line.fields.messageId, line.fields.reason]);
    expect(dropped).toEqual([
      [
        "notification dropped: unreadable message",
        snsMessageId("malformed/not-json"),
        expect.stringMatching(/^Message is not JSON/),
      ],
      [
        "notification dropped: unreadable message",
        snsMessageId("malformed/invalid-report"),
        expect.stringMatching(/^invalid Remedy report: actionId: /),
      ],
      [
        "notification dropped: unreadable message",
        snsMessageId("malformed/unknown-shape"),
        expect.stringMatching(/^unknown message shape/),
      ],
      [
        "notification dropped: unreadable message",
        snsMessageId("malformed/invalid-compliance"),
        expect.stringMatching(/^invalid ComplianceChangeNotification: /),
      ],
    ]);
    expect(log.errors()[0]!.fields.message).toBe("Fixed sg-0f1e2d3c4b5a69788 {");
    const ignored = log.lines.filter((line) => line.message === "notification ignored");
    expect(ignored.map((line) => line.level)).toEqual(["debug", "debug", "debug"]);
    expect(metrics.counts).toEqual({ NotificationsDelivered: 4, NotificationsDropped: 4, NotificationsIgnored: 3 });
  });

  it("drops every forged report that breaks the report contract, with its reason, and delivers the rest", async () => {
    const { slack, log, metrics, deps } = await setup();
    const forged = (name: string, edit: (message: Record<string, unknown>) => void) => {
      const record = snsEventWith("remedy/fixed-sg", edit).Records[0]!;
      record.Sns.MessageId = `forged-${name}`;
      return record;
    };
    const forgeries = [
      forged("no-undo-command", (m) => {
        delete m.undoCommand;
      }),
      forged("action-id-number", (m) => {
        m.actionId = 42;
      }),
      forged("unknown-kind", (m) => {
        m.kind = "fixed-everything";
      }),
      forged("version-2", (m) => {
        m.version = 2;
      }),
      forged("no-resource", (m) => {
        delete m.resource;
      }),
      forged("changes-not-a-list", (m) => {
        m.changes = "<!channel> removed everything";
      }),
      forged("unknown-problem", (m) => {
        m.problem = "<!channel>";
      }),
    ];
    const event = snsBatch("remedy/fixed-sg", "alarm/dlq-alarm");
    event.Records.splice(1, 0, ...forgeries);
    const result = await runNotifier(event, deps);

    expect(result).toEqual({ records: 9, delivered: 2, logged: 0, ignored: 0, dropped: 7, failed: 0 });
    expect(posted(slack).map(header)).toEqual([
      "✅ Fixed: security group open to the internet",
      "🔴 Dead-letter queue remedy-dlq has 3 messages",
    ]);
    expect(JSON.stringify(posted(slack))).not.toContain("channel>");
    expect(log.errors().map((line) => [line.message, line.fields.messageId])).toEqual(
      forgeries.map((record) => ["notification dropped: unreadable message", record.Sns.MessageId]),
    );
    for (const line of log.errors()) expect(line.fields.reason).toMatch(/^invalid Remedy report: \w/);
    expect(metrics.counts).toMatchObject({ NotificationsDelivered: 2, NotificationsDropped: 7 });
  });

  it.each(["constructor", "toString"])(
    "routes a forged account id %j to the default channel, not to a failure",
    async (accountId) => {
      const { slack, deps } = await setup();
      const event = snsEventWith("alarm/dlq-alarm", (message) => {
        message.AWSAccountId = accountId;
      });
      expect(await runNotifier(event, deps)).toMatchObject({ delivered: 1, failed: 0 });
      expect(slack.requests.map((request) => request.path)).toEqual(["/default/secret-default"]);
    },
  );

  it("does not look up who changed what for kinds that do not need it", async () => {
    const { deps } = await setup();
    await runNotifier(
      snsBatch(
        "remedy/skipped",
        "remedy/dead-lettered",
        "remedy/breaker-resumed",
        "config/compliance-compliant",
        "config/compliance-not-applicable",
        "alarm/dlq-ok",
      ),
      deps,
    );
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
  });

  it("looks up who changed what for fixes, grace notices, failures and Remedy rules turning non-compliant", async () => {
    const { deps } = await setup();
    await runNotifier(
      snsBatch(
        "remedy/fixed-sg",
        "remedy/grace",
        "remedy/failed",
        "config/compliance-first-evaluation",
        "config/compliance-non-compliant",
      ),
      deps,
    );
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 5);
  });

  it("does not look up a non-Remedy rule's change even when relaying all rules", async () => {
    const { slack, deps } = await setup();
    deps.relay = { ...deps.relay, relayAllRules: true };
    expect(await runNotifier(snsBatch("config/compliance-other-rule"), deps)).toMatchObject({ delivered: 1 });
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
    expect(posted(slack)[0]!.text).not.toContain("Changed by");
  });

  it("still delivers when the CloudTrail lookup fails: the change is by someone unknown", async () => {
    const { slack, deps } = await setup();
    cloudTrailMock.reset();
    cloudTrailMock.on(LookupEventsCommand).rejects(cloudTrailError("access-denied"));
    expect(await runNotifier(snsBatch("remedy/fixed-sg"), deps)).toMatchObject({ delivered: 1 });
    expect(posted(slack)[0]!.text).toContain(
      "Changed by: unknown — CloudTrail lookup failed (AccessDeniedException, HTTP 400)",
    );
  });

  it("leaves out who made the change when attribution is turned off", async () => {
    const { slack, deps } = await setup();
    delete deps.attribution;
    await runNotifier(snsBatch("remedy/fixed-sg"), deps);
    expect(posted(slack)[0]!.text).not.toContain("Changed by");
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
  });

  it("only logs messages when no Slack secret is configured", async () => {
    const { slack, log, metrics, deps } = await setup({ routing: "none" });
    const result = await runNotifier(snsBatch("remedy/fixed-sg", "alarm/dlq-alarm"), deps);
    expect(result).toMatchObject({ delivered: 0, logged: 2, failed: 0 });
    expect(slack.requests).toHaveLength(0);
    const logged = log.lines.filter((line) => line.message.startsWith("no Slack webhook configured"));
    expect(logged.map((line) => line.level)).toEqual(["info", "info"]);
    expect(logged[0]!.fields).toMatchObject({
      messageId: snsMessageId("remedy/fixed-sg"),
      notice: "fixed",
      resourceId: "sg-0f1e2d3c4b5a69788",
      payload: { text: expect.stringMatching(/^✅ Fixed/), blocks: expect.any(Array) },
    });
    expect(metrics.counts).toEqual({ NotificationsLoggedOnly: 2 });
  });

  it("only logs messages for an account without a webhook when there is no default", async () => {
    const { slack, deps } = await setup({
      routing: { accounts: { "210987654321": { webhookUrl: "http://127.0.0.1:1/never" } } },
    });
    expect(await runNotifier(snsBatch("remedy/fixed-sg", "remedy/breaker-tripped"), deps)).toMatchObject({ logged: 2 });
    expect(slack.requests).toHaveLength(0);
  });

  it("fails the invocation after the other records when one cannot be delivered, logging its full payload", async () => {
    const { slack, log, metrics, deps } = await setup({
      script: [
        { status: 200, body: "ok" },
        { status: 404, body: "no_service" },
      ],
    });
    const run = runNotifier(snsBatch("remedy/fixed-sg", "remedy/grace", "malformed/not-json", "alarm/dlq-ok"), deps);
    await expect(run).rejects.toThrow(SlackDeliveryError);
    await expect(run).rejects.toThrow("Slack rejected the message: HTTP 404 no_service");
    // The record after the failure was still delivered.
    expect(posted(slack).map(header)).toEqual([
      "✅ Fixed: security group open to the internet",
      "🕒 Will fix at 2026-11-20 10:28 UTC: security group open to the internet",
      "✅ Dead-letter queue remedy-dlq is empty again",
    ]);
    const failure = log.errors().find((line) => line.message.startsWith("Slack delivery failed"));
    expect(failure?.fields).toMatchObject({
      messageId: snsMessageId("remedy/grace"),
      channel: "#team-a",
      errorName: "SlackDeliveryError",
      delivery: { status: 404, body: "no_service", attempts: 1, permanent: true },
      payload: {
        text: expect.stringMatching(/^🕒 Will fix at/),
        blocks: expect.any(Array),
        attachments: expect.any(Array),
      },
    });
    expect(JSON.stringify(log.lines)).not.toContain("secret-team-a");
    expect(metrics.counts).toMatchObject({
      NotificationsDelivered: 2,
      NotificationsFailed: 1,
      NotificationsDropped: 1,
    });
  });

  it("retries a rate-limited delivery as Slack asks", async () => {
    const { slack, sleep, deps } = await setup({
      script: [{ status: 429, body: "rate_limited", headers: { "Retry-After": "2" } }],
    });
    expect(await runNotifier(snsBatch("remedy/fixed-sg"), deps)).toMatchObject({ delivered: 1 });
    expect(sleep.waits).toEqual([2_000]);
    expect(slack.requests).toHaveLength(2);
  });

  it("fails the invocation when the Slack secret cannot be read, logging what could not be sent", async () => {
    const { log, deps } = await setup({ routing: new SlackSecretError("cannot read the Slack secret x: Throttling") });
    await expect(runNotifier(snsBatch("remedy/fixed-sg", "malformed/not-json"), deps)).rejects.toThrow(
      SlackSecretError,
    );
    const failure = log.errors().find((line) => line.message.startsWith("Slack destinations unavailable"));
    expect(failure?.fields).toMatchObject({ errorName: "SlackSecretError", payload: { text: expect.any(String) } });
  });

  it("logs the full text when a message had to be cut for Slack", async () => {
    const { log, deps } = await setup();
    const event = snsBatch("remedy/breaker-tripped");
    const report = JSON.parse(event.Records[0]!.Sns.Message);
    report.sample = Array.from({ length: 300 }, (_, index) => `sg-open-ingress sg-${String(index).padStart(17, "0")}`);
    event.Records[0]!.Sns.Message = JSON.stringify(report);
    await runNotifier(event, deps);
    const cut = log.lines.find((line) => line.message.startsWith("message cut to fit"));
    expect(cut?.fields.fullText).toContain("sg-00000000000000299");
  });

  it("drops an event that is not from SNS, and records that are not SNS records, without throwing", async () => {
    const { log, deps } = await setup();
    expect(await runNotifier({ hello: "world" }, deps)).toMatchObject({ records: 0, dropped: 1 });
    const event = snsBatch("remedy/fixed-sg") as { Records: unknown[] };
    event.Records.unshift({ eventSource: "aws:sqs", messageId: "abc", body: "{}" });
    expect(await runNotifier(event, deps)).toMatchObject({ records: 2, dropped: 1, delivered: 1 });
    expect(log.errors().map((line) => line.fields.reason)).toEqual([
      "event is not an SNS event (no Records array)",
      expect.stringMatching(/^not an SNS record: /),
    ]);
  });
});
