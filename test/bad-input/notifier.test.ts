// Bad input at the notifier: SNS batches mixing valid Remedy reports and Config compliance changes with malformed
// records and messages. Good ones are delivered (to a local stand-in for Slack), bad ones are logged with their
// reason and dropped, and the invocation never throws for bad input.
import { afterEach, describe, expect, it } from "vitest";
import { makeReport, type ReportBody } from "../../contract/report.ts";
import { type NotifierDeps, runNotifier } from "../../functions/notifier/core.ts";
import { slackSender } from "../../functions/notifier/slack.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { type FakeSlack, fakeSlack, recordingSleep, snsMessage } from "../notifier/helpers.ts";
import { clone, DELETE, NOT_A_STRING, seededRandom, setPath, describe as show, truncations } from "./generate.ts";

const SNS_SEED = 0x5eed_5a5a;
type Json = Record<string, unknown>;

let slack: FakeSlack | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

const record = (messageId: string, message: unknown): Json => ({
  EventSource: "aws:sns",
  EventVersion: "1.0",
  Sns: {
    Type: "Notification",
    MessageId: messageId,
    TopicArn: "arn:aws:sns:us-east-1:123456789012:remedy",
    Subject: null,
    Message: message,
  },
});

const resource = (id: string) => ({
  type: "AWS::EC2::SecurityGroup",
  id,
  accountId: "123456789012",
  region: "us-east-1",
});
const at = new Date("2026-11-20T10:00:00.000Z");
const actionIdFor = (n: number) => `act-20261120T100000Z-${n.toString(16).padStart(8, "0")}`;
const goodReports = (n: number): ReportBody[] => [
  {
    kind: "skipped",
    instructionId: `i${n}`,
    problem: "sg-open-ingress",
    resource: resource(`sg-good-${n}`),
    ruleId: "sg-open-ingress",
    reason: "already fixed",
  },
  {
    kind: "failed",
    instructionId: `i${n}`,
    problem: "sg-open-ingress",
    resource: resource(`sg-good-${n}`),
    ruleId: "sg-open-ingress",
    error: "boom",
    willRetry: true,
  },
  {
    kind: "grace",
    instructionId: `i${n}`,
    problem: "sg-open-ingress",
    resource: resource(`sg-good-${n}`),
    ruleId: "sg-open-ingress",
    notBefore: at.toISOString(),
    summary: "tcp 22 open",
  },
  {
    kind: "fixed",
    instructionId: `i${n}`,
    problem: "sg-open-ingress",
    resource: resource(`sg-good-${n}`),
    ruleId: "sg-open-ingress",
    actionId: actionIdFor(n),
    changes: [
      {
        kind: "sg-rules-revoked",
        groupId: `sg-good-${n}`,
        rules: [{ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }],
      },
    ],
    undoCommand: `remedy undo ${actionIdFor(n)}`,
  },
];

interface Bad {
  name: string;
  record: unknown;
  outcome: "dropped" | "ignored";
  reason: RegExp;
}

function badRecords(random: ReturnType<typeof seededRandom>): Bad[] {
  const bad: Bad[] = [];
  let n = 0;
  const id = () => `bad-${String(n++).padStart(4, "0")}`;
  const dropped = (name: string, message: unknown, reason: RegExp) =>
    bad.push({ name, record: record(id(), message), outcome: "dropped", reason });
  // Records that are not SNS records.
  for (const value of [null, 42, "record", [], {}, { EventSource: "aws:sqs", Sns: {} }]) {
    bad.push({ name: `record ${show(value)}`, record: value, outcome: "dropped", reason: /^not an SNS record/ });
  }
  for (const [path, values] of [
    [["EventSource"], [DELETE, null, "aws:sqs", 1]],
    [["Sns"], [DELETE, null, "x", 1, []]],
    [
      ["Sns", "MessageId"],
      [DELETE, null, 1, {}],
    ],
    [
      ["Sns", "Message"],
      [DELETE, null, 1, {}, [], true],
    ],
    [
      ["Sns", "Subject"],
      [1, {}, []],
    ],
    [
      ["Sns", "TopicArn"],
      [1, null],
    ],
  ] as [string[], unknown[]][]) {
    for (const value of values) {
      const r = record(id(), snsMessage("remedy/fixed-sg"));
      setPath(r, path, value);
      bad.push({
        name: `${path.join(".")} ${show(value)}`,
        record: r,
        outcome: "dropped",
        reason: /^not an SNS record/,
      });
    }
  }
  // Messages that are not JSON objects.
  for (const text of ["", "not json", "{", "{'a':1}", "Fixed sg-1 {"])
    dropped(`Message ${show(text)}`, text, /^Message is not JSON/);
  for (const base of ["remedy/fixed-sg", "config/compliance-non-compliant", "remedy/grace"]) {
    for (const text of truncations(snsMessage(base), random, 15))
      dropped(`${base} cut at ${text.length}`, text, /^Message is not JSON/);
  }
  for (const text of ["42", "null", "[]", '"text"', "true", "[{}]"])
    dropped(`Message JSON ${text}`, text, /^Message is JSON but not an object/);
  for (const text of ["{}", '{"foo":1}', '{"messageType":1}', '{"source":"Remedy"}'])
    dropped(`Message ${text}`, text, /^unknown message shape/);
  // Remedy reports: every field removed, wrong types, unknown kind, wrong version.
  for (const body of goodReports(0)) {
    const report = makeReport(body, at) as unknown as Json;
    for (const key of Object.keys(report).filter((k) => k !== "source")) {
      for (const value of key === "kind"
        ? [DELETE, null, 1, "exploded", "Fixed"]
        : [...NOT_A_STRING.slice(0, 4), key === "version" ? 2 : {}]) {
        const copy = clone(report);
        setPath(copy, [key], value);
        if (key === "at" && typeof value === "number") continue;
        dropped(`${body.kind}.${key} ${show(value)}`, JSON.stringify(copy), /^invalid Remedy report: /);
      }
    }
    for (const [path, value] of [
      [["resource", "id"], 1],
      [["resource", "accountId"], DELETE],
      [["at"], "yesterday"],
      [["problem"], "rds-public"],
    ] as [string[], unknown][]) {
      const copy = clone(report);
      setPath(copy, path, value);
      dropped(`${body.kind}.${path.join(".")} ${show(value)}`, JSON.stringify(copy), /^invalid Remedy report: /);
    }
  }
  // Config compliance changes: every required field removed or of the wrong type.
  const change = JSON.parse(snsMessage("config/compliance-non-compliant")) as Json;
  for (const key of [
    "awsAccountId",
    "awsRegion",
    "configRuleName",
    "resourceType",
    "resourceId",
    "newEvaluationResult",
  ]) {
    for (const value of [DELETE, null, 1, [], {}].filter(
      (v) => !(key === "newEvaluationResult" && typeof v === "object" && v !== null && !Array.isArray(v)),
    )) {
      const copy = clone(change);
      setPath(copy, [key], value);
      dropped(`compliance.${key} ${show(value)}`, JSON.stringify(copy), /^invalid ComplianceChangeNotification: /);
    }
  }
  for (const value of [DELETE, "", 1, null]) {
    const copy = clone(change);
    setPath(copy, ["newEvaluationResult", "complianceType"], value);
    dropped(
      `compliance.complianceType ${show(value)}`,
      JSON.stringify(copy),
      /^invalid ComplianceChangeNotification: newEvaluationResult/,
    );
  }
  for (const value of [1, "x", []]) {
    const copy = clone(change);
    setPath(copy, ["oldEvaluationResult"], value);
    dropped(
      `compliance.oldEvaluationResult ${show(value)}`,
      JSON.stringify(copy),
      /^invalid ComplianceChangeNotification: oldEvaluationResult/,
    );
  }
  // Another Config message type: not malformed for Config, but never relayed; logged with the reason and not sent.
  for (const value of ["ConfigurationItemChangeNotification", "Bogus", "compliancechangenotification"]) {
    const copy = clone(change);
    copy.messageType = value;
    bad.push({
      name: `messageType ${value}`,
      record: record(id(), JSON.stringify(copy)),
      outcome: "ignored",
      reason: new RegExp(`AWS Config ${value} is not relayed`),
    });
  }
  return bad;
}

function good(count: number) {
  const change = JSON.parse(snsMessage("config/compliance-non-compliant")) as Json;
  return Array.from({ length: count }, (_, n) => {
    const messageId = `good-${String(n).padStart(4, "0")}`;
    const resourceId = `sg-good-${n}`;
    let message: Json;
    if (n % 5 === 4) {
      message = clone(change);
      message.resourceId = resourceId;
    } else {
      message = makeReport(goodReports(n)[n % 4]!, at) as unknown as Json;
    }
    return { messageId, resourceId, record: record(messageId, JSON.stringify(message)) };
  });
}

describe("the notifier with malformed records beside good ones", () => {
  it("delivers every good record, drops or ignores every bad one with its reason, and does not throw", async () => {
    const random = seededRandom(SNS_SEED);
    const bad = badRecords(random);
    expect(bad.length).toBeGreaterThanOrEqual(200);
    const goods = good(40);
    type Entry = { good: (typeof goods)[number] } | { bad: Bad };
    const entries: Entry[] = random.shuffle([...goods.map((g) => ({ good: g })), ...bad.map((b) => ({ bad: b }))]);

    slack = await fakeSlack();
    const log = recordingLog();
    const metrics = recordingMetrics();
    const deps: NotifierDeps = {
      relay: { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: false },
      routing: async () => ({ default: { webhookUrl: `${slack!.url}/default/secret`, channel: "#sec" }, accounts: {} }),
      slack: slackSender({ sleep: recordingSleep(), log }),
      log,
      metrics,
    };
    const event = { Records: entries.map((entry) => ("good" in entry ? entry.good.record : entry.bad.record)) };
    const result = await runNotifier(event, deps);

    const dropped = bad.filter((b) => b.outcome === "dropped").length;
    expect(result).toEqual({
      records: entries.length,
      delivered: goods.length,
      logged: 0,
      ignored: bad.length - dropped,
      dropped,
      failed: 0,
    });
    const goodInOrder = entries.flatMap((entry) => ("good" in entry ? [entry.good] : []));
    expect(log.lines.filter((l) => l.message === "notification delivered").map((l) => l.fields.messageId)).toEqual(
      goodInOrder.map((g) => g.messageId),
    );
    const texts = slack.requests.map((request) => JSON.stringify(request.body));
    expect(texts).toHaveLength(goods.length);
    for (const [index, g] of goodInOrder.entries()) expect(texts[index]).toContain(g.resourceId);

    const reported = log.lines.filter((l) => /^notification (dropped|ignored)/.test(l.message));
    const badInOrder = entries.flatMap((entry) => ("bad" in entry ? [entry.bad] : []));
    expect(reported).toHaveLength(badInOrder.length);
    reported.forEach((line, index) => {
      const expected = badInOrder[index]!;
      expect(line.message, expected.name).toBe(
        expected.outcome === "dropped" ? "notification dropped: unreadable message" : "notification ignored",
      );
      expect(line.fields.reason, expected.name).toMatch(expected.reason);
      const messageId = (expected.record as { Sns?: { MessageId?: unknown } } | null)?.Sns?.MessageId;
      expect(line.fields.messageId, expected.name).toBe(typeof messageId === "string" ? messageId : undefined);
    });
    expect(metrics.counts.NotificationsDropped).toBe(dropped);
  });

  it.each([
    ["no Records", {}],
    ["Records a string", { Records: "x" }],
    ["Records an object", { Records: {} }],
    ["Records null", { Records: null }],
    ["event null", null],
    ["event a string", "not json"],
    ["event a number", 42],
    ["event an array", [record("a", "{}")]],
  ])("an event with %s is dropped with its reason, without throwing", async (_name, event) => {
    const log = recordingLog();
    const metrics = recordingMetrics();
    const deps: NotifierDeps = {
      relay: { ruleSuffixes: ["sg-open-ingress"], relayAllRules: false },
      routing: async () => undefined,
      slack: { send: async () => ({ attempts: 1, waitedMs: 0, textOnly: false }) },
      log,
      metrics,
    };
    expect(await runNotifier(event, deps)).toEqual({
      records: 0,
      delivered: 0,
      logged: 0,
      ignored: 0,
      dropped: 1,
      failed: 0,
    });
    expect(log.errors()).toMatchObject([
      {
        message: "notification dropped: the event is not an SNS event",
        fields: { reason: expect.stringMatching(/no Records array/) },
      },
    ]);
  });
});
