// Drives the real Lambda entry (handler.ts), with its real client wiring, against mocked AWS clients.
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { serializeInstruction } from "../../contract/instruction.ts";
import { deploymentEnv } from "../remediation/support.ts";
import { instruction, pausedBy, running } from "./support.ts";

const sqsMock = mockClient(SQSClient);
const ssmMock = mockClient(SSMClient);
const s3Mock = mockClient(S3Client);
const lambdaMock = mockClient(LambdaClient);
const snsMock = mockClient(SNSClient);

const env = {
  ...deploymentEnv(),
  REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
  REMEDY_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation-dlq",
  REMEDY_PAUSE_PARAMETER: "/remedy/pause",
  REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
  REMEDY_STATE_BUCKET: "remedy-state",
  REMEDY_REMEDIATION_FUNCTIONS: JSON.stringify({ "sg-open-ingress": "remedy-remediate-sg" }),
};
const context = { getRemainingTimeInMillis: () => 50_000 };

async function loadHandler(values: Record<string, string> = env) {
  vi.resetModules();
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
  return (await import("../../functions/coordinator/handler.ts")).handler;
}

beforeEach(() => {
  for (const mock of [sqsMock, ssmMock, s3Mock, lambdaMock, snsMock]) mock.reset();
  s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: "no", $metadata: {} }));
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"1"' });
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  snsMock.on(PublishCommand).resolves({});
});
afterEach(() => vi.unstubAllEnvs());

describe("coordinator handler", () => {
  it("does nothing while paused", async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(pausedBy("alice")) } });
    const handler = await loadHandler();
    expect(await handler({}, context)).toMatchObject({ paused: true, sqsCalls: 0 });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: "/remedy/pause" });
  });

  it("drains the configured queue and dispatches to the configured function", async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(running()) } });
    const one = instruction(1);
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [{ MessageId: "m-1", ReceiptHandle: "r-1", Body: serializeInstruction(one) }] })
      .resolves({ Messages: [] });
    const handler = await loadHandler();

    expect(await handler({}, context)).toMatchObject({ paused: false, received: 1, dispatched: 1 });
    expect(sqsMock).toHaveReceivedCommandWith(ReceiveMessageCommand, {
      QueueUrl: env.REMEDY_QUEUE_URL,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 300,
      MessageSystemAttributeNames: ["All"],
    });
    expect(lambdaMock).toHaveReceivedCommandWith(InvokeCommand, {
      FunctionName: "remedy-remediate-sg",
      InvocationType: "Event",
    });
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: "remedy-state",
      Key: "state/coordinator.json",
      IfNoneMatch: "*",
    });
  });

  it("refuses to start without its settings, naming the variable", async () => {
    const { REMEDY_DLQ_URL: _omit, ...rest } = env;
    vi.stubEnv("REMEDY_DLQ_URL", "");
    await expect(loadHandler(rest)).rejects.toThrow(/REMEDY_DLQ_URL is required/);
  });
});
