// Drives the real Lambda entry (handler.ts), with its real client wiring, against mocked AWS clients.
import {
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  PutEvaluationsCommand,
} from "@aws-sdk/client-config-service";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetPublicAccessBlockCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { changeEvent, configEvent } from "../fixtures/events.ts";
import { configItem } from "../fixtures/load.ts";
import { deployedRules, deploymentEnv } from "../remediation/support.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const s3ControlMock = mockClient(S3ControlClient);
const s3Mock = mockClient(S3Client);

const SCAN_ENV = {
  REMEDY_SCAN_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan",
  REMEDY_SCAN_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan-dlq",
  REMEDY_LEDGER_BUCKET: "remedy-ledger-test",
};

async function loadHandler(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries({ ...deploymentEnv(), ...SCAN_ENV, ...env })) vi.stubEnv(name, value);
  return (await import("../../functions/config-rule/handler.ts")).handler;
}

beforeEach(() => {
  configMock.reset();
  sqsMock.reset();
  configMock.on(PutEvaluationsCommand).resolves({});
  s3ControlMock.reset();
  s3Mock.reset();
  // No account-level Block Public Access configured (S3 Control's answer for that).
  s3ControlMock.on(GetPublicAccessBlockCommand).rejects(
    Object.assign(new Error("The public access block configuration was not found"), {
      name: "NoSuchPublicAccessBlockConfiguration",
      $metadata: { httpStatusCode: 404 },
    }),
  );
  sqsMock.on(SendMessageBatchCommand).resolves({});
});
afterEach(() => vi.unstubAllEnvs());

describe("config-rule handler", () => {
  it("evaluates a change notification and queues to the configured queue", async () => {
    const handler = await loadHandler({
      REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
      REMEDY_GRACE_PERIOD_MINUTES: "30",
    });
    const result = await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    expect(result).toMatchObject({ outcome: "evaluated" });
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    });
    const body = JSON.parse(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries![0]!.MessageBody!);
    expect(body.notBefore).toBe("2026-11-20T10:28:12.412Z");
  });

  it("starts a periodic scan on the scan queue for a ScheduledNotification, judging nothing yet", async () => {
    const handler = await loadHandler({ REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q" });
    const result = await handler(configEvent("ScheduledNotification", "sg"));
    expect(result).toMatchObject({ outcome: "scan-started" });
    expect(configMock).not.toHaveReceivedCommand(PutEvaluationsCommand);
    const [call, ...more] = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(more).toHaveLength(0);
    expect(call!.args[0].input.QueueUrl).toBe(SCAN_ENV.REMEDY_SCAN_QUEUE_URL);
    const task = JSON.parse(call!.args[0].input.Entries![0]!.MessageBody!);
    expect(task).toMatchObject({ kind: "verdicts", part: 0, configRuleName: "remedy-sg-open-ingress" });
  });

  it("takes scan tasks from the scan queue: one that cannot run is dead-lettered with its reason, the next runs", async () => {
    const handler = await loadHandler({ REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q" });
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    s3Mock.on(PutObjectCommand).resolves({});
    const good = {
      kind: "verdicts",
      version: 1,
      scanId: "0b7e6a52-3f0e-4a8e-9c1d-2f4b5a6c7d8e",
      configRuleName: "remedy-sg-open-ingress",
      resultToken: "token",
      startedAt: "2026-11-20T10:00:00.000Z",
      part: 0,
    };
    const record = (messageId: string, body: string) => ({
      messageId,
      receiptHandle: `rh-${messageId}`,
      body,
      attributes: { ApproximateReceiveCount: "1" },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:remedy-scan",
      awsRegion: "us-east-1",
    });
    const result = await handler(
      { Records: [record("bad", '{"kind":"judge"}'), record("good", JSON.stringify(good))] },
      { getRemainingTimeInMillis: () => 290_000 },
    );
    expect(result).toEqual({ batchItemFailures: [] });
    const sends = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input);
    expect(sends.map((input) => input.QueueUrl)).toEqual([
      SCAN_ENV.REMEDY_SCAN_DLQ_URL,
      SCAN_ENV.REMEDY_SCAN_QUEUE_URL,
    ]);
    expect(sends[0]!.Entries![0]!.MessageAttributes!.reason!.StringValue).toMatch(/scan task/);
    expect(JSON.parse(sends[1]!.Entries![0]!.MessageBody!)).toMatchObject({ kind: "list", parts: 1, typeIndex: 0 });
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: SCAN_ENV.REMEDY_LEDGER_BUCKET,
      Key: `scans/${good.scanId}/verdicts-0.bin`,
    });
  });

  it("returns a rejection for a malformed event instead of crashing", async () => {
    const handler = await loadHandler({ REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q" });
    const result = await handler({ invokingEvent: "{", resultToken: "t", configRuleName: "remedy-sg-open-ingress" });
    expect(result).toMatchObject({
      outcome: "rejected",
      reason: expect.stringMatching(/invokingEvent is not valid JSON/),
    });
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("refuses to start without its queue, naming the variable", async () => {
    vi.stubEnv("REMEDY_QUEUE_URL", "");
    await expect(loadHandler({})).rejects.toThrow(/REMEDY_QUEUE_URL is required/);
  });

  it("applies the allowlist from its environment and ignores malformed entries", async () => {
    const handler = await loadHandler({
      REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
      REMEDY_ALLOWLIST: JSON.stringify([
        { resource: "sg-0f1e2d3c4b5a69788", problems: ["*"], reason: "", owner: "x", expires: "2099-01-01" },
        {
          resource: "sg-0f1e2d3c4b5a69788",
          problems: ["sg-open-ingress"],
          reason: "bastion",
          owner: "net@example.com",
          expires: "2099-01-01",
        },
      ]),
    });
    await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    expect(sqsMock.calls()).toHaveLength(0);
    const annotation = configMock.commandCalls(PutEvaluationsCommand)[0]!.args[0].input.Evaluations![0]!.Annotation;
    expect(annotation).toMatch(/exempt by allowlist \(owner net@example.com\) until 2099-01-01: bastion/);
  });

  // Every case the Detect issue names, through the real entry point: compliance sent to Config, and exactly the
  // entries queued (one SG rule entry with its single CIDR, one grant, one statement each).
  const QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
  const SG = "AWS_EC2_SecurityGroup";
  const S3 = "AWS_S3_Bucket";
  const cases: [string, string, string, Record<string, unknown>, string, string[]][] = [
    ["SSH open to the world", SG, "ssh-open-to-world", {}, "NON_COMPLIANT", ["tcp 22-22 0.0.0.0/0"]],
    ["web ports only (authorized)", SG, "web-only", {}, "COMPLIANT", []],
    [
      "a later permission does not inherit an earlier one's ports",
      SG,
      "later-permission-ports",
      {},
      "NON_COMPLIANT",
      ["tcp 22-22 0.0.0.0/0", "tcp 3389-3389 ::/0"],
    ],
    ["private ranges only", SG, "compliant-private-only", {}, "COMPLIANT", []],
    ["prohibitedPorts: only listed ports", SG, "ssh-open-to-world", { prohibitedPorts: "3389" }, "COMPLIANT", []],
    ["public-read ACL", S3, "public-read-acl", {}, "NON_COMPLIANT", ["acl AllUsers READ"]],
    [
      "two public grants yield both",
      S3,
      "two-public-grants",
      {},
      "NON_COMPLIANT",
      ["acl AuthenticatedUsers WRITE", "acl AllUsers READ_ACP"],
    ],
    [
      "two public statements yield both",
      S3,
      "two-public-statements",
      {},
      "NON_COMPLIANT",
      ["policy PublicRead", "policy AnyoneCanList"],
    ],
    ["single-object Statement", S3, "single-statement-object", {}, "NON_COMPLIANT", ["policy AnyoneCanList"]],
    ["Block Public Access neutralises", S3, "neutralised-by-bpa", {}, "COMPLIANT", []],
    ["ACLs disabled: policy only", S3, "owner-enforced-public-policy", {}, "NON_COMPLIANT", ["policy PublicRead"]],
    ["confining conditions", S3, "confined-by-conditions", {}, "COMPLIANT", []],
    ["private bucket", S3, "private", {}, "COMPLIANT", []],
    ["deleted bucket", S3, "deleted", {}, "NOT_APPLICABLE", []],
  ];
  it.each(cases)("%s", async (_name, folder, variant, parameters, compliance, queued) => {
    // The rule judges with what the stack deployed (which Config was given too).
    const deployed = folder === SG ? deploymentEnv({ rules: deployedRules(parameters) }) : {};
    const handler = await loadHandler({ REMEDY_QUEUE_URL: QUEUE, ...deployed });
    const configRuleName = folder === S3 ? "remedy-s3-public" : "remedy-sg-open-ingress";
    await handler(changeEvent(configItem(folder, variant), { configRuleName, parameters }));
    const evaluations = configMock.commandCalls(PutEvaluationsCommand)[0]!.args[0].input.Evaluations!;
    expect(evaluations.map((evaluation) => evaluation.ComplianceType)).toEqual([compliance]);
    const matched = sqsMock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries!)
      .flatMap((entry) => JSON.parse(entry.MessageBody!).matched);
    const described = matched.map((entry: Record<string, any>) =>
      entry.kind === "sg-rule"
        ? `${entry.rule.ipProtocol} ${entry.rule.fromPort}-${entry.rule.toPort} ${entry.rule.cidrIpv4 ?? entry.rule.cidrIpv6}`
        : entry.kind === "acl-grant"
          ? `acl ${entry.grant.grantee.uri.split("/").pop()} ${entry.grant.permission}`
          : `policy ${entry.statement.Sid}`,
    );
    expect(described.sort()).toEqual([...queued].sort());
  });
});
