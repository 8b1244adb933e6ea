// The real-time path in organisation mode (functions/realtime/access.ts organizationAccess): an event's account and
// region are claims checked against the organisation before anything is assumed or read; a member account is read
// with its remedy-member-detect role (one session per account), its settings decide what is queued, and an
// account-level change re-evaluates the member's own names of Remedy's organisation rules.
import {
  ConfigServiceClient,
  DescribeConfigRulesCommand,
  StartConfigRulesEvaluationCommand,
} from "@aws-sdk/client-config-service";
import { DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { organizationAccess } from "../../functions/realtime/access.ts";
import { type RealtimeDeps, runRealtime } from "../../functions/realtime/core.ts";
import {
  type AccountStanding,
  accountSettings,
  type OrganizationDirectory,
  type OrganizationSettings,
} from "../../platform/organization.ts";
import { testDeployment } from "../remediation/support.ts";

const MEMBER = "210987654321";
const OFF_MEMBER = "444455556666";
const OUTSIDER = "999988887777";
const REGION = "eu-west-1";
const GROUP = "sg-0feedface0000001";
const T0 = new Date("2026-11-20T10:28:19.000Z");

const SETTINGS: OrganizationSettings = {
  regions: ["us-east-1", REGION],
  excludedAccounts: [],
  externalId: "remedy-hub-7f3a9c",
  default: { mode: "enforce" },
  organizationalUnits: {},
  accounts: { [OFF_MEMBER]: { mode: "off" } },
};

const ec2 = mockClient(EC2Client);
const sqs = mockClient(SQSClient);
const sts = mockClient(STSClient);
const config = mockClient(ConfigServiceClient);

function directory(): OrganizationDirectory & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    async standing(accountId): Promise<AccountStanding> {
      asked.push(accountId);
      if (accountId === OUTSIDER)
        return { member: false, accountId, reason: `account ${accountId} is not in the organisation` };
      return {
        member: true,
        accountId,
        parents: ["r-a1b2"],
        settings: accountSettings(SETTINGS, accountId, ["r-a1b2"]),
      };
    },
  };
}

function authorizeSsh(account: string, region = REGION, eventID = "e-1"): string {
  return JSON.stringify({
    version: "0",
    id: `id-${eventID}`,
    "detail-type": "AWS API Call via CloudTrail",
    source: "aws.ec2",
    account,
    time: "2026-11-20T10:27:50Z",
    region,
    resources: [],
    detail: {
      eventVersion: "1.09",
      userIdentity: {
        type: "AssumedRole",
        principalId: "AROAEXAMPLE:dev",
        arn: `arn:aws:sts::${account}:assumed-role/developer/dev`,
        accountId: account,
        sessionContext: {
          sessionIssuer: { type: "Role", arn: `arn:aws:iam::${account}:role/developer`, accountId: account },
        },
      },
      eventTime: "2026-11-20T10:27:50Z",
      eventSource: "ec2.amazonaws.com",
      eventName: "AuthorizeSecurityGroupIngress",
      awsRegion: region,
      sourceIPAddress: "203.0.113.10",
      userAgent: "aws-cli/2",
      requestParameters: { groupId: GROUP },
      responseElements: null,
      requestID: "r-1",
      eventID,
      readOnly: false,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: "Management",
    },
  });
}

function accountCall(account: string): string {
  const body = JSON.parse(authorizeSsh(account));
  body.source = "aws.s3";
  body.detail.eventSource = "s3.amazonaws.com";
  body.detail.eventName = "PutAccountPublicAccessBlock";
  body.detail.requestParameters = { accountId: account };
  return JSON.stringify(body);
}

const event = (...bodies: string[]): SQSEvent =>
  ({
    Records: bodies.map((body, n) => ({ messageId: `m-${n + 1}`, body, receiptHandle: "rh" })),
  }) as unknown as SQSEvent;

function deps(dir: OrganizationDirectory): RealtimeDeps {
  const deployment = testDeployment({ organization: SETTINGS });
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  return {
    deployment,
    access: organizationAccess({
      deployment,
      directory: dir,
      sts: new STSClient({ region: "us-east-1" }),
      log,
      now: () => T0,
    }),
    sqs: new SQSClient({ region: "us-east-1" }),
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    allowlist: [],
    gracePeriodMs: 0,
    undoExemptions: async () => undefined,
    ownRoleArns: [],
    autoResponse: true,
    runCoordinator: async () => {},
    now: () => T0,
    log,
    metrics: { count() {} },
  };
}

beforeEach(() => {
  for (const mock of [ec2, sqs, sts, config]) mock.reset();
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: "ASIAMEMBER",
      SecretAccessKey: "secret",
      SessionToken: "token",
      Expiration: new Date(T0.getTime() + 900_000),
    },
  });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP, OwnerId: MEMBER, Tags: [] }] });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: [
      {
        SecurityGroupRuleId: "sgr-1",
        GroupId: GROUP,
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "0.0.0.0/0",
      },
    ],
  });
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: "q", MD5OfMessageBody: "" })),
    Failed: [],
  }));
});

describe("organisation mode", () => {
  it("reads a member's group with its detect role, once per account, and queues the member's instruction", async () => {
    const dir = directory();
    const result = await runRealtime(event(authorizeSsh(MEMBER, REGION, "e-1")), deps(dir));
    expect(result.batchItemFailures).toEqual([]);
    const assumed = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
    expect(assumed).toEqual([
      expect.objectContaining({
        RoleArn: `arn:aws:iam::${MEMBER}:role/remedy/remedy-member-detect`,
        ExternalId: "remedy-hub-7f3a9c",
        DurationSeconds: 900,
      }),
    ]);
    const queued = sqs.commandCalls(SendMessageBatchCommand).flatMap((c) => c.args[0].input.Entries ?? []);
    expect(queued.map((entry) => JSON.parse(entry.MessageBody!).resource)).toEqual([
      expect.objectContaining({ id: GROUP, accountId: MEMBER, region: REGION }),
    ]);
  });

  it("a second batch in the same account reuses the session", async () => {
    const shared = deps(directory());
    await runRealtime(event(authorizeSsh(MEMBER, REGION, "e-1")), shared);
    await runRealtime(event(authorizeSsh(MEMBER, REGION, "e-2")), shared);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it("an account outside the organisation, or a region outside the settings, is refused before anything is assumed", async () => {
    const dir = directory();
    const result = await runRealtime(event(authorizeSsh(OUTSIDER), authorizeSsh(MEMBER, "ap-south-1")), deps(dir));
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "ignored", reason: expect.stringContaining("not in the organisation") },
    ]);
    expect(result.outcomes["m-2"]).toEqual([
      { outcome: "ignored", reason: expect.stringContaining("not one of the organisation settings' regions") },
    ]);
    expect(dir.asked).toEqual([OUTSIDER]);
    expect(sts.calls()).toEqual([]);
    expect(ec2.calls()).toEqual([]);
  });

  it("an account whose settings say off queues nothing", async () => {
    const result = await runRealtime(event(authorizeSsh(OFF_MEMBER)), deps(directory()));
    expect(result.outcomes["m-1"]).toEqual([{ outcome: "ignored", reason: expect.stringContaining("settings") }]);
    expect(sqs.calls()).toEqual([]);
  });

  it("a refused detect role is reported for that event only: nothing read, not retried", async () => {
    sts
      .on(AssumeRoleCommand)
      .rejects(
        Object.assign(new Error("not authorized"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }),
      );
    const result = await runRealtime(event(authorizeSsh(MEMBER)), deps(directory()));
    expect(result.batchItemFailures).toEqual([]);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "ignored", reason: expect.stringContaining("remedy-member-detect") },
    ]);
    expect(ec2.calls()).toEqual([]);
  });

  it("an account-level change re-evaluates the member's own names of Remedy's organisation rules", async () => {
    config.on(DescribeConfigRulesCommand).resolves({
      ConfigRules: [
        { ConfigRuleName: "OrgConfigRule-remedy-s3-public-a1b2c3d4", Source: { Owner: "CUSTOM_LAMBDA" } },
        { ConfigRuleName: "OrgConfigRule-remedy-sg-open-ingress-a1b2c3d4", Source: { Owner: "CUSTOM_LAMBDA" } },
        { ConfigRuleName: "someone-elses-s3-public", Source: { Owner: "AWS" } },
      ],
    });
    config.on(StartConfigRulesEvaluationCommand).resolves({});
    const result = await runRealtime(event(accountCall(MEMBER)), deps(directory()));
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "reevaluated", configRuleNames: ["OrgConfigRule-remedy-s3-public-a1b2c3d4"] },
      // The call also names the account's own setting, which this deployment's rules do not judge.
      { outcome: "ignored", reason: "AWS::S3::AccountPublicAccessBlock is not judged by this deployment" },
    ]);
    expect(config.commandCalls(StartConfigRulesEvaluationCommand).map((c) => c.args[0].input)).toEqual([
      { ConfigRuleNames: ["OrgConfigRule-remedy-s3-public-a1b2c3d4"] },
    ]);
  });
});
