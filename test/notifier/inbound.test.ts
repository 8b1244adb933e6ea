// Sorting what arrives on the topic: every fixture, as AWS (or Remedy) sends it.
import { describe, expect, it } from "vitest";
import {
  accountOf,
  classifyMessage,
  InvalidNotificationError,
  type Notice,
  type RelaySettings,
  readSnsRecord,
  snsRecords,
} from "../../functions/notifier/inbound.ts";
import { snsEvent, snsMessage } from "./helpers.ts";

const relay: RelaySettings = { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: false };

function noticeOf(variant: string, settings = relay): Notice {
  const classified = classifyMessage(snsMessage(variant), settings);
  if (classified.outcome !== "notice") throw new Error(`${variant} ignored: ${classified.reason}`);
  return classified.notice;
}

describe("SNS records", () => {
  it("reads MessageId, Message, TopicArn and Subject of a Lambda SNS record", () => {
    const record = readSnsRecord(snsEvent("config/compliance-non-compliant").Records[0]);
    expect(record).toMatchObject({
      messageId: "944c5a6d-de21-5b79-903d-97716cbdbf45",
      topicArn: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
      subject: expect.stringMatching(/^\[AWS Config:us-east-1\]/),
      message: expect.stringMatching(/^\{"awsAccountId"/),
    });
  });

  it("accepts a null Subject (Remedy publishes without one)", () => {
    expect(readSnsRecord(snsEvent("remedy/fixed-sg").Records[0]).subject).toBeUndefined();
  });

  it("rejects records that are not from SNS and events without Records", () => {
    const sqsRecord = { eventSource: "aws:sqs", messageId: "x", body: "{}" };
    expect(() => readSnsRecord(sqsRecord)).toThrow(InvalidNotificationError);
    expect(() => snsRecords({ detail: {} })).toThrow(/not an SNS event/);
    expect(() => snsRecords(null)).toThrow(InvalidNotificationError);
  });
});

describe("Remedy reports", () => {
  it.each([
    ["remedy/fixed-sg", "fixed"],
    ["remedy/fixed-s3-acl", "fixed"],
    ["remedy/fixed-s3-policy", "fixed"],
    ["remedy/skipped", "skipped"],
    ["remedy/would-fix", "would-fix"],
    ["remedy/failed", "failed"],
    ["remedy/grace", "grace"],
    ["remedy/dead-lettered", "dead-lettered"],
    ["remedy/breaker-tripped", "breaker-tripped"],
    ["remedy/breaker-resumed", "breaker-resumed"],
  ])("%s is a %s report", (variant, kind) => {
    const notice = noticeOf(variant);
    expect(notice).toMatchObject({ kind: "report", report: { source: "remedy", kind } });
    // The SNS attribute Remedy sets agrees with the report.
    const attributes = (snsEvent(variant).Records[0]!.Sns as unknown as { MessageAttributes: Record<string, unknown> })
      .MessageAttributes;
    expect(attributes.kind).toEqual({ Type: "String", Value: kind });
  });

  it("routes reports by their resource's account, an account's own breaker trip by its account; Remedy-wide reports have none", () => {
    expect(accountOf(noticeOf("remedy/fixed-sg"))).toBe("123456789012");
    const tripped = noticeOf("remedy/breaker-tripped");
    expect(accountOf(tripped)).toBeUndefined();
    if (tripped.kind !== "report" || tripped.report.kind !== "breaker-tripped") throw new Error("not a breaker trip");
    expect(accountOf({ ...tripped, report: { ...tripped.report, accountId: "222222222222" } })).toBe("222222222222");
  });
});

describe("AWS Config compliance changes", () => {
  it.each([
    ["config/compliance-non-compliant", "NON_COMPLIANT", "COMPLIANT"],
    ["config/compliance-compliant", "COMPLIANT", "NON_COMPLIANT"],
    ["config/compliance-first-evaluation", "NON_COMPLIANT", null],
    ["config/compliance-not-applicable", "NOT_APPLICABLE", "NON_COMPLIANT"],
    ["config/compliance-insufficient-data", "INSUFFICIENT_DATA", "COMPLIANT"],
  ])("%s is relayed (%s, was %s)", (variant, newType, oldType) => {
    expect(noticeOf(variant)).toMatchObject({ kind: "compliance", change: { newType, oldType, isRemedyRule: true } });
  });

  it("reads the fields a message needs", () => {
    expect(noticeOf("config/compliance-non-compliant")).toEqual({
      kind: "compliance",
      change: {
        accountId: "123456789012",
        region: "us-east-1",
        configRuleName: "remedy-sg-open-ingress",
        configRuleArn: "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-285625",
        resourceType: "AWS::EC2::SecurityGroup",
        resourceId: "sg-0f1e2d3c4b5a69788",
        newType: "NON_COMPLIANT",
        oldType: "COMPLIANT",
        annotation: expect.stringMatching(/^tcp 22 open to 0.0.0.0\/0/),
        recordedAt: "2026-11-20T09:58:15.241Z",
        isRemedyRule: true,
      },
    });
  });

  it("treats a missing oldEvaluationResult like a null one: a first evaluation", () => {
    const message = JSON.parse(snsMessage("config/compliance-non-compliant"));
    delete message.oldEvaluationResult;
    expect(classifyMessage(JSON.stringify(message), relay)).toMatchObject({
      outcome: "notice",
      notice: { change: { oldType: null } },
    });
  });

  it("ignores an unchanged compliance type", () => {
    expect(classifyMessage(snsMessage("config/compliance-unchanged"), relay)).toEqual({
      outcome: "ignored",
      reason: "compliance unchanged (NON_COMPLIANT) for sg-0f1e2d3c4b5a69788",
    });
  });

  it("ignores other rules unless told to relay all of them", () => {
    expect(classifyMessage(snsMessage("config/compliance-other-rule"), relay)).toEqual({
      outcome: "ignored",
      reason: "config rule s3-bucket-versioning-enabled is not a Remedy rule",
    });
    expect(noticeOf("config/compliance-other-rule", { ...relay, relayAllRules: true })).toMatchObject({
      change: { configRuleName: "s3-bucket-versioning-enabled", isRemedyRule: false },
    });
  });

  it("uses the configured rule suffixes", () => {
    const only = { ruleSuffixes: ["s3-public"], relayAllRules: false };
    expect(classifyMessage(snsMessage("config/compliance-non-compliant"), only).outcome).toBe("ignored");
    expect(classifyMessage(snsMessage("config/compliance-compliant"), only).outcome).toBe("notice");
  });

  it.each([
    ["config/configuration-item-change", "AWS Config ConfigurationItemChangeNotification is not relayed"],
    ["config/snapshot-delivery-completed", "AWS Config ConfigurationSnapshotDeliveryCompleted is not relayed"],
  ])("ignores %s quietly", (variant, reason) => {
    expect(classifyMessage(snsMessage(variant), relay)).toEqual({ outcome: "ignored", reason });
  });
});

describe("CloudWatch alarms", () => {
  it("relays ALARM with the queue depth read from the reason", () => {
    expect(noticeOf("alarm/dlq-alarm")).toEqual({
      kind: "alarm",
      alarm: {
        name: "remedy-dlq-depth",
        description: "Messages in Remedy's dead-letter queue: fixes or reports that could not be processed.",
        state: "ALARM",
        previousState: "OK",
        reason: expect.stringMatching(/^Threshold Crossed/),
        at: "2026-11-20T10:54:25.116Z",
        accountId: "123456789012",
        region: "us-east-1",
        metricName: "ApproximateNumberOfMessagesVisible",
        namespace: "AWS/SQS",
        queueName: "remedy-dlq",
        value: 3,
      },
    });
  });

  it("relays OK and ignores INSUFFICIENT_DATA", () => {
    expect(noticeOf("alarm/dlq-ok")).toMatchObject({ alarm: { state: "OK", value: 0 } });
    expect(classifyMessage(snsMessage("alarm/dlq-insufficient-data"), relay)).toEqual({
      outcome: "ignored",
      reason: "alarm remedy-dlq-depth went to INSUFFICIENT_DATA",
    });
  });
});

describe("malformed messages", () => {
  it.each([
    ["malformed/not-json", /^Message is not JSON/],
    ["malformed/unknown-shape", /^unknown message shape \(keys: version, detail-type, source, detail\)$/],
    ["malformed/invalid-report", /^invalid Remedy report: /],
    ["malformed/invalid-compliance", /^invalid ComplianceChangeNotification: /],
  ])("%s throws InvalidNotificationError naming the problem", (variant, reason) => {
    expect(() => classifyMessage(snsMessage(variant), relay)).toThrow(InvalidNotificationError);
    expect(() => classifyMessage(snsMessage(variant), relay)).toThrow(reason);
  });

  it("rejects JSON that is not an object", () => {
    expect(() => classifyMessage("[1,2]", relay)).toThrow("Message is JSON but not an object");
    expect(() => classifyMessage("null", relay)).toThrow(InvalidNotificationError);
  });

  it("rejects an alarm notification missing its state reason", () => {
    const message = JSON.parse(snsMessage("alarm/dlq-alarm"));
    delete message.NewStateReason;
    expect(() => classifyMessage(JSON.stringify(message), relay)).toThrow(/invalid CloudWatch alarm notification/);
  });
});
