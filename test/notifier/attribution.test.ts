// Who made the change, from recorded-shape CloudTrail LookupEvents responses.
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type AttributionDeps,
  type AttributionTarget,
  attribute,
  opensHole,
  principalOf,
  shortUserAgent,
} from "../../functions/notifier/attribution.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { cloudTrailError, lookupResponse } from "./helpers.ts";

const cloudTrailMock = mockClient(CloudTrailClient);
const NOW = new Date("2026-11-20T10:30:00.000Z");

const sg: AttributionTarget = {
  resourceType: "AWS::EC2::SecurityGroup",
  resourceId: "sg-0f1e2d3c4b5a69788",
  accountId: "123456789012",
  region: "us-east-1",
};
const bucket: AttributionTarget = { ...sg, resourceType: "AWS::S3::Bucket", resourceId: "acme-analytics-exports" };

function deps(overrides: Partial<AttributionDeps> = {}): AttributionDeps & { log: ReturnType<typeof recordingLog> } {
  return {
    cloudTrail: new CloudTrailClient({}),
    home: { region: "us-east-1", accountId: "123456789012" },
    lookbackDays: 7,
    slackUsers: {},
    now: () => NOW,
    log: recordingLog(),
    ...overrides,
  } as AttributionDeps & { log: ReturnType<typeof recordingLog> };
}

beforeEach(() => cloudTrailMock.reset());

describe("attribute", () => {
  it("names an IAM user, with source IP and a short user agent, and looks up a bounded window", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("sg-iam-user"));
    const result = await attribute(sg, deps({ slackUsers: { alice: "U012ALICE" } }));
    expect(result).toEqual({
      found: true,
      event: {
        eventName: "AuthorizeSecurityGroupIngress",
        eventTime: "2026-11-20T09:57:41.000Z",
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        principal: {
          type: "IAMUser",
          description: "IAM user alice",
          arn: "arn:aws:iam::123456789012:user/alice",
          keys: ["arn:aws:iam::123456789012:user/alice", "alice"],
        },
        sourceIp: "203.0.113.7",
        userAgent: "aws-cli/2.15.30",
        slackUserId: "U012ALICE",
      },
    });
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 1);
    expect(cloudTrailMock).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: "sg-0f1e2d3c4b5a69788" }],
      StartTime: new Date("2026-11-13T10:30:00.000Z"),
      EndTime: NOW,
      MaxResults: 50,
    });
  });

  it("names an SSO user by role and session, skipping Remedy's own closing calls and reads", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("bucket-sso-role"));
    const result = await attribute(bucket, deps({ slackUsers: { "bob@example.com": "U034BOB" } }));
    expect(result).toMatchObject({
      found: true,
      event: {
        eventName: "PutBucketAcl",
        eventTime: "2026-11-20T10:04:10.000Z",
        principal: {
          type: "AssumedRole",
          description: "bob@example.com (role AWSReservedSSO_PowerUserAccess_4f1b2c3d5e6a7b8c)",
          arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_PowerUserAccess_4f1b2c3d5e6a7b8c/bob@example.com",
        },
        sourceIp: "198.51.100.23",
        userAgent: "AWS console",
        slackUserId: "U034BOB",
      },
    });
  });

  it("maps a principal to a Slack user by its full ARN too", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("sg-iam-user"));
    const result = await attribute(
      sg,
      deps({ slackUsers: { "arn:aws:iam::123456789012:user/alice": "U012ALICE", alice: "U999OTHER" } }),
    );
    expect(result).toMatchObject({ event: { slackUserId: "U012ALICE" } });
  });

  it("says unknown when no event opened anything (only Remedy's own calls and a failed attempt)", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("sg-none-found"));
    expect(await attribute(sg, deps())).toEqual({
      found: false,
      reason:
        "no change event for sg-0f1e2d3c4b5a69788 in CloudTrail of the last 7 days (new events can take up to 15 minutes to appear)",
    });
  });

  it("says unknown when CloudTrail has no events at all", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("empty"));
    expect(await attribute(sg, deps())).toMatchObject({ found: false });
  });

  it("reads a second page, and never a third", async () => {
    const page1 = lookupResponse("sg-two-pages/page-1");
    cloudTrailMock
      .on(LookupEventsCommand)
      .resolvesOnce(page1)
      .resolvesOnce(lookupResponse("sg-two-pages/page-2"))
      .resolves(page1);
    const result = await attribute(sg, deps());
    expect(result).toMatchObject({
      found: true,
      event: {
        eventName: "ModifySecurityGroupRules",
        principal: { description: "GitHubActions (role github-deploy)" },
      },
    });
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 2);
    expect(cloudTrailMock).toHaveReceivedNthCommandWith(LookupEventsCommand, 2, { NextToken: page1.NextToken });

    cloudTrailMock.reset();
    cloudTrailMock.on(LookupEventsCommand).resolves(page1);
    expect(await attribute(sg, deps())).toEqual({
      found: false,
      reason: expect.stringContaining("in the latest 100 events of the last 7 days"),
    });
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 2);
  });

  it.each([
    ["access-denied", "AccessDeniedException"],
    ["throttling", "ThrottlingException"],
  ])("degrades a %s error to unknown and warns", async (variant, name) => {
    const error = cloudTrailError(variant);
    cloudTrailMock.on(LookupEventsCommand).rejects(error);
    const d = deps();
    expect(await attribute(sg, d)).toEqual({
      found: false,
      reason: `CloudTrail lookup failed (${name}, HTTP ${error.$metadata.httpStatusCode})`,
    });
    expect(d.log.lines).toContainEqual(
      expect.objectContaining({ level: "warn", fields: expect.objectContaining({ errorName: name }) }),
    );
  });

  it("degrades a network failure to unknown", async () => {
    cloudTrailMock.on(LookupEventsCommand).rejects(new Error("socket hang up"));
    expect(await attribute(sg, deps())).toEqual({ found: false, reason: "CloudTrail lookup failed (Error)" });
  });

  it("says the HTTP status when the answer could not be read (an HTML error page, as moto sends for LookupEvents)", async () => {
    // The SDK's deserialization failure: a SyntaxError carrying the raw response.
    const unreadable = Object.assign(new SyntaxError(`Unexpected token '<', "<!doctype "... is not valid JSON`), {
      $response: { statusCode: 500 },
    });
    cloudTrailMock.on(LookupEventsCommand).rejects(unreadable);
    expect(await attribute(sg, deps())).toEqual({
      found: false,
      reason: "CloudTrail lookup failed (SyntaxError, HTTP 500)",
    });
  });

  it("does not look outside its own region and account, nor at other resource types", async () => {
    expect(await attribute({ ...sg, region: "eu-west-1" }, deps())).toEqual({
      found: false,
      reason: "the resource is in eu-west-1; CloudTrail is looked up in us-east-1 only",
    });
    expect(await attribute({ ...sg, accountId: "210987654321" }, deps())).toMatchObject({
      reason: "the resource is in account 210987654321; CloudTrail is looked up in 123456789012 only",
    });
    expect(await attribute({ ...sg, resourceType: "AWS::RDS::DBInstance" }, deps())).toMatchObject({ found: false });
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
  });

  it("treats a forged resource type named like an object member as any other unknown type", async () => {
    for (const resourceType of ["constructor", "toString", "__proto__"]) {
      expect(await attribute({ ...sg, resourceType }, deps())).toEqual({
        found: false,
        reason: `no CloudTrail lookup for ${resourceType}`,
      });
    }
    expect(cloudTrailMock).toHaveReceivedCommandTimes(LookupEventsCommand, 0);
  });

  it("maps only configured principals: a session named like an object member mentions no one", async () => {
    // Anyone allowed to assume a role chooses the session name.
    const response = lookupResponse("sg-iam-user");
    for (const event of response.Events ?? []) {
      if (event.EventName !== "AuthorizeSecurityGroupIngress") continue;
      const detail = JSON.parse(event.CloudTrailEvent!);
      detail.userIdentity = {
        type: "AssumedRole",
        arn: "arn:aws:sts::123456789012:assumed-role/dev/toString",
        sessionContext: { sessionIssuer: { userName: "dev", arn: "arn:aws:iam::123456789012:role/dev" } },
      };
      event.CloudTrailEvent = JSON.stringify(detail);
    }
    cloudTrailMock.on(LookupEventsCommand).resolves(response);
    const result = await attribute(sg, deps({ slackUsers: { alice: "U012ALICE" } }));
    expect(result).toMatchObject({ found: true, event: { principal: { description: "toString (role dev)" } } });
    expect(result.found && result.event.slackUserId).toBeUndefined();
  });

  it("looks up when its own account is not known", async () => {
    cloudTrailMock.on(LookupEventsCommand).resolves(lookupResponse("sg-iam-user"));
    expect(await attribute(sg, deps({ home: { region: "us-east-1" } }))).toMatchObject({ found: true });
  });
});

describe("opensHole", () => {
  it("skips failed calls", () => {
    expect(opensHole("AuthorizeSecurityGroupIngress", { errorCode: "Client.UnauthorizedOperation" })).toBe(false);
  });

  it("counts a call whose parameters are not recorded", () => {
    expect(opensHole("PutBucketAcl", {})).toBe(true);
    expect(opensHole("PutBucketPolicy", { requestParameters: null })).toBe(true);
  });

  it("reads Block Public Access flags", () => {
    const flags = (value: boolean) => ({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: value,
    });
    expect(
      opensHole("PutPublicAccessBlock", { requestParameters: { PublicAccessBlockConfiguration: flags(true) } }),
    ).toBe(false);
    expect(
      opensHole("PutBucketPublicAccessBlock", { requestParameters: { PublicAccessBlockConfiguration: flags(false) } }),
    ).toBe(true);
    expect(opensHole("DeleteBucketPublicAccessBlock", { requestParameters: { bucketName: "b" } })).toBe(true);
  });

  it("counts a policy with an unconditioned public statement only", () => {
    const policy = (statement: Record<string, unknown>) => ({
      requestParameters: { bucketName: "b", bucketPolicy: { Version: "2012-10-17", Statement: [statement] } },
    });
    const allow = { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" };
    expect(opensHole("PutBucketPolicy", policy({ ...allow, Principal: "*" }))).toBe(true);
    expect(opensHole("PutBucketPolicy", policy({ ...allow, Principal: { AWS: ["*"] } }))).toBe(true);
    expect(
      opensHole(
        "PutBucketPolicy",
        policy({ ...allow, Principal: "*", Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc" } } }),
      ),
    ).toBe(false);
    expect(
      opensHole("PutBucketPolicy", policy({ ...allow, Principal: { AWS: "arn:aws:iam::123456789012:root" } })),
    ).toBe(false);
  });
});

describe("principalOf", () => {
  it.each([
    [
      { type: "Root", arn: "arn:aws:iam::123456789012:root", accountId: "123456789012" },
      "root user of account 123456789012",
    ],
    [{ type: "AWSService", invokedBy: "cloudformation.amazonaws.com" }, "AWS service cloudformation.amazonaws.com"],
    [{ type: "FederatedUser", arn: "arn:aws:sts::123456789012:federated-user/carol" }, "federated user carol"],
    [{ type: "AssumedRole", arn: "arn:aws:sts::123456789012:assumed-role/ops/dave" }, "dave (role ops)"],
    [
      { type: "IdentityCenterUser", principalId: "94482488-3041-7026-18f3-be45837cd0e4" },
      "IdentityCenterUser 94482488-3041-7026-18f3-be45837cd0e4",
    ],
    [undefined, "unknown principal"],
  ])("%j → %s", (identity, description) => {
    expect(principalOf(identity).description).toBe(description);
  });

  it("falls back to the event's Username when CloudTrailEvent is unreadable", () => {
    expect(principalOf(undefined, "alice")).toMatchObject({ description: "Unknown alice", keys: ["alice"] });
  });
});

describe("shortUserAgent", () => {
  it.each([
    ["aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/macos#23.4.0", "aws-cli/2.15.30"],
    ["[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.750]", "AWS console"],
    ["console.ec2.amazonaws.com", "AWS console"],
    ["signin.amazonaws.com", "AWS console"],
    ["AWS Internal", "AWS Internal"],
    [
      "APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.76.0",
      "Terraform/1.9.8",
    ],
    ["aws-sdk-js/3.1169.0 ua/2.1 os/linux lang/js md/nodejs#20.18.1", "aws-sdk-js/3.1169.0"],
    ["Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux", "Boto3/1.35.0"],
    ["curl/8.5.0", "curl/8.5.0"],
  ])("%s → %s", (agent, short) => {
    expect(shortUserAgent(agent)).toBe(short);
  });
});
