// The real Lambda entry (handler.ts) in organisation mode: REMEDY_ORGANIZATION in its environment wires the
// organisation's directory (Organizations) and the member detect role (STS) from platform/clients.ts; the member's
// Config is called with the assumed credentials. AWS mocked in its shapes.
import { ConfigServiceClient, PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { GetPublicAccessBlockCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { changeEvent } from "../fixtures/events.ts";
import { configItem } from "../fixtures/load.ts";
import { awsError, deploymentEnv } from "../remediation/support.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const s3ControlMock = mockClient(S3ControlClient);
const stsMock = mockClient(STSClient);
const organizationsMock = mockClient(OrganizationsClient);
const MOCKS = [configMock, sqsMock, s3ControlMock, stsMock, organizationsMock];
afterAll(() => {
  for (const mock of MOCKS) mock.restore();
});

const HUB = "123456789012";
const MEMBER = "210987654321";
const OUTSIDER = "999988887777";
const QUEUE = `https://sqs.us-east-1.amazonaws.com/${HUB}/remedy-remediation`;
const SCAN_DLQ = `https://sqs.us-east-1.amazonaws.com/${HUB}/remedy-scan-dlq`;
const ORGANIZATION = { regions: ["us-east-1", "eu-west-1"], externalId: "remedy-hub-7f3a9c" };

async function loadHandler(region = "us-east-1") {
  vi.resetModules();
  const env = {
    ...deploymentEnv({ region }),
    REMEDY_ORGANIZATION: JSON.stringify(ORGANIZATION),
    REMEDY_QUEUE_URL: QUEUE,
    REMEDY_SCAN_QUEUE_URL: `https://sqs.us-east-1.amazonaws.com/${HUB}/remedy-scan`,
    REMEDY_SCAN_DLQ_URL: SCAN_DLQ,
    REMEDY_LEDGER_BUCKET: "remedy-ledger-hub",
    // The stack gives every copy of the rule function the hub's region.
    REMEDY_HUB_REGION: "us-east-1",
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import("../../functions/config-rule/handler.ts")).handler;
}

function memberEvent(account: string, region = "us-east-1") {
  const item = configItem<Record<string, unknown>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
  return {
    ...changeEvent(
      {
        ...item,
        awsAccountId: account,
        awsRegion: region,
        ARN: `arn:aws:ec2:${region}:${account}:security-group/${item.resourceId}`,
      },
      { configRuleName: "OrgConfigRule-remedy-sg-open-ingress-ab12cd34" },
    ),
    accountId: account,
    resultToken: `member-token-${account}`,
  };
}

const context = { getRemainingTimeInMillis: () => 290_000, awsRequestId: "5e1f00d2-9a3b-4c5d-8e7f-001122334455" };

beforeEach(() => {
  for (const mock of MOCKS) mock.reset();
  organizationsMock.on(ListAccountsCommand).resolves({
    Accounts: [HUB, MEMBER].map((Id) => ({
      Id,
      Arn: `arn:aws:organizations::${HUB}:account/o-a1b2c3d4e5/${Id}`,
      Name: `account-${Id}`,
      Email: `aws+${Id}@example.com`,
      Status: "ACTIVE",
      State: "ACTIVE",
    })) as never,
  });
  organizationsMock.on(ListParentsCommand).resolves({ Parents: [{ Id: "r-a1b2", Type: "ROOT" }] });
  stsMock.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: "ASIAMEMBERDETECTEXAMPLE",
      SecretAccessKey: "member/detect/secret",
      SessionToken: "member-detect-session-token",
      Expiration: new Date(Date.now() + 900_000),
    },
  });
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  s3ControlMock.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
});
afterEach(() => vi.unstubAllEnvs());

describe("config-rule handler in organisation mode", () => {
  it("judges a member's event with the member's detect role, named by the invocation, and queues on the hub", async () => {
    const handler = await loadHandler();
    const result = await handler(memberEvent(MEMBER), context);
    expect(result).toMatchObject({ outcome: "evaluated", queued: [{ resource: { accountId: MEMBER } }] });
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${MEMBER}:role/remedy/remedy-member-detect`,
      RoleSessionName: "detect-5e1f00d2",
      SourceIdentity: "detect-5e1f00d2",
      DurationSeconds: 900,
      ExternalId: ORGANIZATION.externalId,
    });
    const [put] = configMock.commandCalls(PutEvaluationsCommand);
    const client = put!.thisValue as ConfigServiceClient;
    expect((await client.config.credentials()).accessKeyId).toBe("ASIAMEMBERDETECTEXAMPLE");
    expect(put!.args[0].input.ResultToken).toBe(`member-token-${MEMBER}`);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.QueueUrl).toBe(QUEUE);
  });

  it("a regional copy judges in its own region and sends to the hub region's queue", async () => {
    // The copy in eu-west-1: the hub's environment (queues in us-east-1) with its own REMEDY_REGION.
    const handler = await loadHandler("eu-west-1");
    const result = await handler(memberEvent(MEMBER, "eu-west-1"), context);
    expect(result).toMatchObject({
      outcome: "evaluated",
      queued: [{ resource: { accountId: MEMBER, region: "eu-west-1" } }],
    });
    const [put] = configMock.commandCalls(PutEvaluationsCommand);
    expect(await (put!.thisValue as ConfigServiceClient).config.region()).toBe("eu-west-1");
    const [send] = sqsMock.commandCalls(SendMessageBatchCommand);
    expect(send!.args[0].input.QueueUrl).toBe(QUEUE);
    expect(await (send!.thisValue as SQSClient).config.region()).toBe("us-east-1");
  });

  it("without REMEDY_HUB_REGION (single-account stacks before it), the hub is the function's own region", async () => {
    const { readRuleRuntimeSettings } = await import("../../functions/config-rule/settings.ts");
    const env = { ...deploymentEnv({ region: "eu-west-1" }), REMEDY_QUEUE_URL: QUEUE, REMEDY_SCAN_QUEUE_URL: QUEUE };
    const base = { ...env, REMEDY_SCAN_DLQ_URL: SCAN_DLQ, REMEDY_LEDGER_BUCKET: "b" };
    expect(readRuleRuntimeSettings(base).hubRegion).toBe("eu-west-1");
    expect(readRuleRuntimeSettings({ ...base, REMEDY_HUB_REGION: "us-east-1" }).hubRegion).toBe("us-east-1");
  });

  it("refuses an account outside the organisation: nothing assumed, reported or queued", async () => {
    const handler = await loadHandler();
    const result = await handler(memberEvent(OUTSIDER), context);
    expect(result).toMatchObject({ outcome: "rejected", reason: expect.stringContaining(OUTSIDER) });
    expect(stsMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("dead-letters a scan task that names no account, with its reason", async () => {
    const handler = await loadHandler();
    const body = JSON.stringify({
      kind: "verdicts",
      version: 1,
      scanId: "0b7e6a52-3f0e-4a8e-9c1d-2f4b5a6c7d8e",
      configRuleName: "OrgConfigRule-remedy-sg-open-ingress-ab12cd34",
      resultToken: "token",
      startedAt: "2026-11-20T10:00:00.000Z",
      part: 0,
    });
    const result = await handler(
      {
        Records: [
          {
            messageId: "m1",
            receiptHandle: "rh-m1",
            body,
            attributes: { ApproximateReceiveCount: "1" },
            messageAttributes: {},
            md5OfBody: "",
            eventSource: "aws:sqs",
            eventSourceARN: `arn:aws:sqs:us-east-1:${HUB}:remedy-scan`,
            awsRegion: "us-east-1",
          },
        ],
      },
      context,
    );
    expect(result).toEqual({ batchItemFailures: [] });
    const [dead] = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(dead!.QueueUrl).toBe(SCAN_DLQ);
    expect(dead!.Entries![0]!.MessageAttributes!.reason!.StringValue).toMatch(/names no account and region/);
    expect(stsMock.calls()).toHaveLength(0);
  });
});
