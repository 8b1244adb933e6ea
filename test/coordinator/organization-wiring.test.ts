// Organisation mode's wiring in the coordinator: the settings it reads from its environment (the organisation, the
// per-account breaker limit) and the Lambda entry asking Organizations (through the clients of platform/clients.ts).
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { serializeInstruction } from "../../contract/instruction.ts";
import { ACCOUNT_FRESH_LIMIT, readCoordinatorSettings } from "../../functions/coordinator/settings.ts";
import { deploymentEnv } from "../remediation/support.ts";
import { instruction, running } from "./support.ts";

const MEMBER = "111111111111";
const STRANGER = "999999999999";
const ORGANIZATION = JSON.stringify({ regions: ["us-east-1"], default: { mode: "enforce" } });

const env = {
  ...deploymentEnv(),
  REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
  REMEDY_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation-dlq",
  REMEDY_PAUSE_PARAMETER: "/remedy/pause",
  REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
  REMEDY_STATE_BUCKET: "remedy-state",
  REMEDY_REMEDIATION_FUNCTIONS: JSON.stringify({ "sg-open-ingress": "remedy-remediate-sg" }),
};

describe("readCoordinatorSettings in organisation mode", () => {
  it("carries the organisation settings and the per-account limit (default 20)", () => {
    const settings = readCoordinatorSettings({ ...env, REMEDY_ORGANIZATION: ORGANIZATION });
    expect(settings.deployment).toEqual({
      accountId: "123456789012",
      region: "us-east-1",
      organization: expect.objectContaining({ regions: ["us-east-1"], default: { mode: "enforce" } }),
    });
    expect(settings.breaker).toEqual({ freshLimit: 50, windowMinutes: 10, accountFreshLimit: ACCOUNT_FRESH_LIMIT });
    expect(ACCOUNT_FRESH_LIMIT).toBe(20);
    const tuned = readCoordinatorSettings({
      ...env,
      REMEDY_ORGANIZATION: ORGANIZATION,
      REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT: "7",
    });
    expect(tuned.breaker.accountFreshLimit).toBe(7);
  });

  it("has no per-account limit in single-account mode, yet refuses a bad value there too", () => {
    const single = readCoordinatorSettings({ ...env, REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT: "7" });
    expect(single.breaker).toEqual({ freshLimit: 50, windowMinutes: 10 });
    expect(single.deployment).toEqual({ accountId: "123456789012", region: "us-east-1" });
    expect(() => readCoordinatorSettings({ ...env, REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT: "0" })).toThrow(
      /REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT must be a whole number from 1 to 100000, got "0"/,
    );
  });
});

describe("coordinator handler in organisation mode", () => {
  const sqsMock = mockClient(SQSClient);
  const ssmMock = mockClient(SSMClient);
  const s3Mock = mockClient(S3Client);
  const lambdaMock = mockClient(LambdaClient);
  const snsMock = mockClient(SNSClient);
  const organizationsMock = mockClient(OrganizationsClient);
  const context = { getRemainingTimeInMillis: () => 50_000 };

  beforeEach(() => {
    for (const mock of [sqsMock, ssmMock, s3Mock, lambdaMock, snsMock, organizationsMock]) mock.reset();
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: "no", $metadata: {} }));
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"1"' });
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
    snsMock.on(PublishCommand).resolves({});
    sqsMock.on(SendMessageCommand).resolves({ MessageId: "dlq-1" });
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(running()) } });
    organizationsMock
      .on(ListAccountsCommand)
      .resolves({ Accounts: [{ Id: MEMBER, State: "ACTIVE", Status: "ACTIVE" }] });
    organizationsMock.on(ListParentsCommand).resolves({ Parents: [{ Id: "r-ab12", Type: "ROOT" }] });
  });
  afterEach(() => vi.unstubAllEnvs());

  it("asks Organizations about each account: dispatches the member's instruction, dead-letters the stranger's", async () => {
    vi.resetModules();
    for (const [name, value] of Object.entries({ ...env, REMEDY_ORGANIZATION: ORGANIZATION })) vi.stubEnv(name, value);
    const handler = (await import("../../functions/coordinator/handler.ts")).handler;
    const ours = instruction(1, { accountId: MEMBER });
    const theirs = instruction(2, { accountId: STRANGER });
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: "m-1", ReceiptHandle: "r-1", Body: serializeInstruction(ours) },
          { MessageId: "m-2", ReceiptHandle: "r-2", Body: serializeInstruction(theirs) },
        ],
      })
      .resolves({ Messages: [] });

    expect(await handler({}, context)).toMatchObject({ received: 2, dispatched: 1, deadLettered: 1 });
    expect(organizationsMock).toHaveReceivedCommand(ListAccountsCommand);
    expect(organizationsMock).toHaveReceivedCommandWith(ListParentsCommand, { ChildId: MEMBER });
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageCommand, { QueueUrl: env.REMEDY_DLQ_URL });
    expect(lambdaMock).toHaveReceivedCommandTimes(InvokeCommand, 1);
  });

  it("asks nothing of Organizations in single-account mode", async () => {
    vi.resetModules();
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const handler = (await import("../../functions/coordinator/handler.ts")).handler;
    sqsMock
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [{ MessageId: "m-1", ReceiptHandle: "r-1", Body: serializeInstruction(instruction(1)) }],
      })
      .resolves({ Messages: [] });
    expect(await handler({}, context)).toMatchObject({ received: 1, dispatched: 1 });
    expect(organizationsMock.calls()).toHaveLength(0);
  });
});
