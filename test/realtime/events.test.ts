// Reading one real-time queue message (functions/realtime/events.ts): every recorded shape in
// test/fixtures/realtime/ gives the sightings it should, everything unrelated, failed, passed, archived, suppressed
// or malformed is dropped with a clear reason, and no mutation of a fixture makes it throw.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, readRealtimeEvent, type Sighting } from "../../functions/realtime/events.ts";
import { PROBLEM_SPECS } from "../../problems/index.ts";
import { fixture } from "../fixtures/load.ts";

// biome-ignore lint/suspicious/noExplicitAny: fixtures are mutated freely, by any path.
type Json = Record<string, any>;

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const GROUP = "sg-0f1e2d3c4b5a69788";
const BUCKET = "acme-analytics-exports";
const SSO_ROLE =
  "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_4f3c2b1a0d9e8f7a";
const BOTH_S3 = ["s3-public-acl", "s3-public-policy"];

const cloudTrail = (name: string): Json => fixture(`realtime/cloudtrail/${name}.json`);
const securityHub = (name: string): Json => fixture(`realtime/securityhub/${name}.json`);
const read = (event: unknown) => readRealtimeEvent(JSON.stringify(event));

function sightings(event: unknown): Sighting[] {
  const result = read(event);
  if ("dropped" in result) throw new Error(`dropped: ${result.dropped}`);
  return result.sightings;
}

function dropped(event: unknown): string {
  const result = read(event);
  if (!("dropped" in result)) throw new Error(`not dropped: ${JSON.stringify(result)}`);
  return result.dropped;
}

describe("CloudTrail calls", () => {
  it("AuthorizeSecurityGroupIngress names the group by requestParameters.groupId, with who made it", () => {
    expect(sightings(cloudTrail("authorize-sg-ingress"))).toEqual([
      {
        kind: "resource",
        source: "cloudtrail",
        ref: "5b3c9f21-8a7d-4e6f-b1c2-d3e4f5a6b7c8",
        trigger: "AuthorizeSecurityGroupIngress",
        // An ingress rule can open either problem of a group: both rules judge it.
        problems: ["sg-open-ingress", "sg-default-rules"],
        resourceType: "AWS::EC2::SecurityGroup",
        resourceId: GROUP,
        accountId: ACCOUNT,
        region: REGION,
        at: "2026-11-20T10:12:04.000Z",
        actor: { type: "IAMUser", arn: "arn:aws:iam::123456789012:user/dana.ops" },
      },
    ]);
  });

  it("a default-VPC call naming only groupName: the id comes from the rules it added", () => {
    const [sighting] = sightings(cloudTrail("authorize-sg-ingress-default-vpc"));
    expect(sighting).toMatchObject({ kind: "resource", resourceId: "sg-0a9b8c7d6e5f40312" });
  });

  it("a default-VPC call whose response lists no rule names no group: dropped", () => {
    const event = cloudTrail("authorize-sg-ingress-default-vpc");
    event.detail.responseElements = { requestId: "4a3b2c1d-0e9f-4876-9543-21fedcba0987", _return: true };
    expect(dropped(event)).toBe(
      "AuthorizeSecurityGroupIngress 6c4daf32-9b8e-4f70-c2d3-e4f5a6b7c8d9 names no plausible id of EC2 security group " +
        "(requestParameters.groupId, responseElements.securityGroupRuleSet.items.*.groupId)",
    );
  });

  it("rules added to one group are one sighting; ids are deduped", () => {
    const event = cloudTrail("authorize-sg-ingress-default-vpc");
    const items = event.detail.responseElements.securityGroupRuleSet.items;
    items.push({ ...items[0], securityGroupRuleId: "sgr-0ffff0000aaaa1111" });
    expect(sightings(event).map((s) => (s.kind === "resource" ? s.resourceId : s.kind))).toEqual([
      "sg-0a9b8c7d6e5f40312",
    ]);
  });

  it("ModifySecurityGroupRules names the group inside its wrapped request", () => {
    expect(sightings(cloudTrail("modify-sg-rules"))).toEqual([
      expect.objectContaining({
        trigger: "ModifySecurityGroupRules",
        resourceId: GROUP,
        problems: ["sg-open-ingress"],
        actor: {
          type: "AssumedRole",
          arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_4f3c2b1a0d9e8f7a/jo.dev@example.com",
          roleArn: SSO_ROLE,
        },
      }),
    ]);
  });

  it.each([
    ["create-bucket", "CreateBucket", "acme-public-site-2026", ["s3-public-acl"]],
    ["put-bucket-acl", "PutBucketAcl", BUCKET, ["s3-public-acl"]],
    ["put-bucket-policy", "PutBucketPolicy", BUCKET, ["s3-public-policy"]],
    ["put-bucket-ownership-controls", "PutBucketOwnershipControls", BUCKET, ["s3-public-acl"]],
    ["delete-bucket-ownership-controls", "DeleteBucketOwnershipControls", BUCKET, ["s3-public-acl"]],
    ["put-bucket-public-access-block", "PutBucketPublicAccessBlock", BUCKET, BOTH_S3],
    ["delete-bucket-public-access-block", "DeleteBucketPublicAccessBlock", BUCKET, BOTH_S3],
  ])("%s names the bucket, for the problems it can open", (name, eventName, bucket, problems) => {
    expect(sightings(cloudTrail(name))).toEqual([
      expect.objectContaining({
        kind: "resource",
        source: "cloudtrail",
        trigger: eventName,
        resourceType: "AWS::S3::Bucket",
        resourceId: bucket,
        problems,
        accountId: ACCOUNT,
        region: REGION,
        actor: expect.objectContaining({ roleArn: SSO_ROLE }),
      }),
    ]);
  });

  it.each([
    ["put-account-public-access-block", "PutAccountPublicAccessBlock", "391a7c0f-68b5-4c4d-3f40-5162738495a6"],
    ["delete-account-public-access-block", "DeleteAccountPublicAccessBlock", "4a2b8d10-79c6-4d5e-4051-62738495a6b7"],
  ])(
    "%s is an account-level change: the S3 rule is to be re-evaluated, and the setting read",
    (name, eventName, eventId) => {
      const at = expect.stringMatching(/^2026-11-20T10:3\d:\d\d\.000Z$/);
      const actor = expect.objectContaining({ type: "AssumedRole", roleArn: SSO_ROLE });
      expect(sightings(cloudTrail(name))).toEqual([
        {
          kind: "account",
          source: "cloudtrail",
          ref: eventId,
          trigger: eventName,
          problems: BOTH_S3,
          ruleIds: ["s3-public"],
          accountId: ACCOUNT,
          region: REGION,
          at,
          actor,
        },
        // The account's own Block Public Access, named by the account that received the call.
        {
          kind: "resource",
          source: "cloudtrail",
          ref: eventId,
          trigger: eventName,
          problems: ["s3-account-public-access"],
          resourceType: "AWS::S3::AccountPublicAccessBlock",
          resourceId: ACCOUNT,
          accountId: ACCOUNT,
          region: REGION,
          at,
          actor,
        },
      ]);
    },
  );

  it("keeps the actor of Remedy's own role as it is, for the caller's loop guard", () => {
    expect(sightings(cloudTrail("authorize-sg-ingress-remedy-role"))[0]?.actor).toEqual({
      type: "AssumedRole",
      arn: "arn:aws:sts::123456789012:assumed-role/remedy-remediate-sg-us-east-1/remedy-remediate-sg-us-east-1",
      roleArn: "arn:aws:iam::123456789012:role/remedy-remediate-sg-us-east-1",
    });
  });

  it("keeps a member fix role's session with its source identity, in the member's account", () => {
    expect(sightings(cloudTrail("authorize-sg-ingress-member-fix-role"))).toEqual([
      expect.objectContaining({
        accountId: "222222222222",
        resourceId: "sg-0b1c2d3e4f5a60789",
        actor: {
          type: "AssumedRole",
          arn: "arn:aws:sts::222222222222:assumed-role/remedy-member-fix-sg-open-ingress/act-20261120T102130Z-7c1d9e2f",
          roleArn: "arn:aws:iam::222222222222:role/remedy/remedy-member-fix-sg-open-ingress",
          sourceIdentity: "act-20261120T102130Z-7c1d9e2f",
        },
      }),
    ]);
  });

  it("an AWS service's call keeps invokedBy", () => {
    const event = cloudTrail("put-bucket-policy");
    event.detail.userIdentity = { type: "AWSService", invokedBy: "cloudformation.amazonaws.com" };
    expect(sightings(event)[0]?.actor).toEqual({ type: "AWSService", invokedBy: "cloudformation.amazonaws.com" });
  });

  it("a call without userIdentity has no actor", () => {
    const event = cloudTrail("put-bucket-policy");
    delete event.detail.userIdentity;
    expect(sightings(event)[0]).not.toHaveProperty("actor");
  });

  it("every CloudTrail trigger in the registry has a fixture read as a sighting of its problems", () => {
    const dir = fileURLToPath(new URL("../fixtures/realtime/cloudtrail/", import.meta.url));
    const read = readdirSync(dir)
      .filter((file) => file.endsWith(".json"))
      .flatMap((file) => {
        const result = readRealtimeEvent(JSON.stringify(fixture(`realtime/cloudtrail/${file}`)));
        return "sightings" in result ? result.sightings : [];
      });
    for (const spec of PROBLEM_SPECS) {
      for (const trigger of spec.realtime.cloudTrail) {
        const found = read.filter((s) => s.trigger === trigger.eventName && s.problems.includes(spec.id));
        expect(found.length, `${spec.id} ${trigger.eventName}`).toBeGreaterThan(0);
        expect(found.every((s) => s.kind === (trigger.resourceIds === "account" ? "account" : "resource"))).toBe(true);
      }
    }
  });

  describe("dropped", () => {
    it("a failed call (errorCode) changed nothing", () => {
      expect(dropped(cloudTrail("authorize-sg-ingress-failed"))).toBe(
        'the call failed (errorCode "Client.InvalidPermission.Duplicate"): it changed nothing',
      );
    });

    it("an event no problem lists", () => {
      expect(dropped(cloudTrail("revoke-sg-ingress"))).toBe(
        '"RevokeSecurityGroupIngress" from "ec2.amazonaws.com" opens no problem Remedy fixes',
      );
    });

    it("a listed event name from another service is not the pair the registry lists", () => {
      const event = cloudTrail("put-bucket-acl");
      event.source = "aws.ec2";
      event.detail.eventSource = "ec2.amazonaws.com";
      expect(dropped(event)).toBe('"PutBucketAcl" from "ec2.amazonaws.com" opens no problem Remedy fixes');
    });

    it("a source that is not the event source's", () => {
      const event = cloudTrail("authorize-sg-ingress");
      event.source = "aws.s3";
      expect(dropped(event)).toBe('its source "aws.s3" is not aws.ec2, the source of ec2.amazonaws.com');
    });

    it("a recipient account other than the envelope's", () => {
      const event = cloudTrail("authorize-sg-ingress");
      event.detail.recipientAccountId = "999999999999";
      expect(dropped(event)).toBe("its recipientAccountId 999999999999 is not the event's account 123456789012");
    });

    it("a region other than the envelope's", () => {
      const event = cloudTrail("authorize-sg-ingress");
      event.detail.awsRegion = "eu-west-1";
      expect(dropped(event)).toBe("its awsRegion eu-west-1 is not the event's region us-east-1");
    });

    it.each([
      ["an account that is not 12 digits", (e: Json) => (e.detail.recipientAccountId = "12345"), "recipientAccountId"],
      ["a region that is not one", (e: Json) => (e.detail.awsRegion = "moon-base"), "awsRegion must be an AWS region"],
      ["an eventTime that is not a time", (e: Json) => (e.detail.eventTime = "yesterday"), "eventTime"],
      ["a missing eventID", (e: Json) => delete e.detail.eventID, "eventID"],
      ["an eventName with a control character", (e: Json) => (e.detail.eventName = "Authorize\u0007"), "eventName"],
      [
        "a role ARN that is not a string",
        (e: Json) => (e.detail.userIdentity = { sessionContext: { sessionIssuer: { arn: 7 } } }),
        "userIdentity.sessionContext.sessionIssuer.arn",
      ],
    ])("a malformed record: %s", (_, mutate, where) => {
      const event = cloudTrail("authorize-sg-ingress");
      mutate(event);
      const reason = dropped(event);
      expect(reason).toMatch(/^the CloudTrail event is malformed: /);
      expect(reason).toContain(where);
    });

    it.each([
      ["an empty id", ""],
      ["an id with a control character", "sg-0f1e\n2d3c"],
      ["an id longer than 255 characters", `sg-${"a".repeat(253)}`],
      ["an id that is not a string", 42],
    ])("%s is no id; with no other it is dropped", (_, id) => {
      const event = cloudTrail("put-bucket-policy");
      event.detail.requestParameters.bucketName = id;
      expect(dropped(event)).toBe(
        "PutBucketPolicy e4c527ba-1360-47f8-eafb-0c1d2e3f4051 names no plausible id of S3 bucket (requestParameters.bucketName)",
      );
    });

    it("an id of exactly 255 characters is still plausible", () => {
      const event = cloudTrail("put-bucket-policy");
      event.detail.requestParameters.bucketName = "b".repeat(255);
      expect(sightings(event)).toHaveLength(1);
    });
  });
});

describe("Security Hub findings", () => {
  it.each([
    ["ec2-18-failed", "EC2.18", "AWS::EC2::SecurityGroup", GROUP, ["sg-open-ingress"]],
    ["ec2-19-failed", "EC2.19", "AWS::EC2::SecurityGroup", GROUP, ["sg-open-ingress"]],
    ["s3-2-failed", "S3.2", "AWS::S3::Bucket", BUCKET, BOTH_S3],
    ["s3-3-failed", "S3.3", "AWS::S3::Bucket", BUCKET, BOTH_S3],
    ["s3-8-failed", "S3.8", "AWS::S3::Bucket", BUCKET, BOTH_S3],
  ])("Security Hub's control finding %s names its resource", (name, control, type, id, problems) => {
    const event = securityHub(name);
    expect(sightings(event)).toEqual([
      {
        kind: "resource",
        source: "securityhub",
        ref: event.detail.findings[0].Id,
        trigger: control,
        problems,
        resourceType: type,
        resourceId: id,
        accountId: ACCOUNT,
        region: REGION,
        at: "2026-11-20T10:41:17.412Z",
      },
    ]);
    expect(event.detail.findings[0].Id).toContain(`security-control/${control}/finding/`);
  });

  it("an older, not consolidated finding names its control in ProductFields.ControlId", () => {
    expect(sightings(securityHub("s3-8-standard-failed"))).toEqual([
      expect.objectContaining({ trigger: "S3.8", resourceId: BUCKET, problems: BOTH_S3 }),
    ]);
  });

  it("Prowler's finding is mapped by its generator id", () => {
    expect(sightings(securityHub("prowler-sg-all-ports-failed"))).toEqual([
      {
        kind: "resource",
        source: "securityhub",
        ref: "prowler-ec2_securitygroup_allow_ingress_from_internet_to_all_ports-123456789012-us-east-1-6f1e2d3c4",
        trigger: "prowler-ec2_securitygroup_allow_ingress_from_internet_to_all_ports",
        problems: ["sg-open-ingress"],
        resourceType: "AWS::EC2::SecurityGroup",
        resourceId: GROUP,
        accountId: ACCOUNT,
        region: REGION,
        at: "2026-11-20T10:45:00.000Z",
      },
    ]);
  });

  it("the finding's account is the resource's, not the envelope's (an aggregating administrator account)", () => {
    const event = securityHub("s3-2-failed");
    event.account = "333333333333";
    expect(sightings(event)[0]).toMatchObject({ accountId: ACCOUNT });
  });

  it("without a resource Region, the finding's Region", () => {
    const event = securityHub("s3-2-failed");
    delete event.detail.findings[0].Resources[0].Region;
    event.detail.findings[0].Region = "eu-west-1";
    expect(sightings(event)[0]).toMatchObject({ region: "eu-west-1" });
  });

  it("each resource of a finding is one sighting", () => {
    const event = securityHub("ec2-18-failed");
    const [resource] = event.detail.findings[0].Resources;
    event.detail.findings[0].Resources.push({ ...resource, Id: resource.Id.replace(GROUP, "sg-0123456789abcdef0") });
    expect(sightings(event).map((s) => (s.kind === "resource" ? s.resourceId : ""))).toEqual([
      GROUP,
      "sg-0123456789abcdef0",
    ]);
  });

  it("two findings on one resource are one sighting, with their problems together", () => {
    const controlFinding = securityHub("ec2-18-failed").detail.findings[0];
    const prowlerFinding = securityHub("prowler-sg-all-ports-failed").detail.findings[0];
    const event = securityHub("ec2-18-failed");
    event.detail.findings = [controlFinding, prowlerFinding];
    expect(sightings(event)).toEqual([
      expect.objectContaining({ ref: controlFinding.Id, trigger: "EC2.18", problems: ["sg-open-ingress"] }),
    ]);
  });

  it("returns the findings that name something, and leaves out the others", () => {
    const event = securityHub("s3-2-failed");
    event.detail.findings.push(securityHub("ec2-18-passed").detail.findings[0]);
    expect(sightings(event)).toEqual([expect.objectContaining({ trigger: "S3.2" })]);
  });

  describe("dropped", () => {
    const S3_2 =
      '"arn:aws:securityhub:us-east-1:123456789012:security-control/S3.2/finding/c9d83a24-2b1e-4a5d-af7c-83e4b5a6c7d8"';
    const EC2_18 =
      '"arn:aws:securityhub:us-east-1:123456789012:security-control/EC2.18/finding/a7b61e02-0f9c-4e3b-8d5a-61c2f3e4a5b6"';

    it("a PASSED finding", () => {
      expect(dropped(securityHub("ec2-18-passed"))).toBe(`finding ${EC2_18} is "PASSED", not FAILED`);
    });

    it("an ARCHIVED finding", () => {
      expect(dropped(securityHub("s3-2-archived"))).toBe(`finding ${S3_2} is "ARCHIVED", not ACTIVE`);
    });

    it("a SUPPRESSED finding", () => {
      expect(dropped(securityHub("ec2-19-suppressed"))).toMatch(/^finding ".*EC2\.19.*" is SUPPRESSED$/);
    });

    it("a RESOLVED finding that still says FAILED", () => {
      const event = securityHub("s3-2-failed");
      event.detail.findings[0].Workflow.Status = "RESOLVED";
      expect(dropped(event)).toBe(`finding ${S3_2} is RESOLVED`);
    });

    it("a finding without a compliance status (not a control, not a check)", () => {
      const event = securityHub("s3-2-failed");
      delete event.detail.findings[0].Compliance;
      expect(dropped(event)).toBe(`finding ${S3_2} is without a compliance status, not FAILED`);
    });

    it("a control no problem maps", () => {
      expect(dropped(securityHub("iam-4-failed"))).toBe(
        'finding "arn:aws:securityhub:us-east-1:123456789012:security-control/IAM.4/finding/5b0c1d72-0d4f-4338-b5b7-c2d3e4f5a6b7" ' +
          'names control "IAM.4" and generator "security-control/IAM.4", which no problem Remedy fixes maps',
      );
    });

    it("a third-party check no problem maps", () => {
      const event = securityHub("prowler-sg-all-ports-failed");
      event.detail.findings[0].GeneratorId = "prowler-ec2_instance_imdsv2_enabled";
      expect(dropped(event)).toMatch(/names generator "prowler-ec2_instance_imdsv2_enabled", which no problem/);
    });

    it("a mapped control on a resource type it does not map to", () => {
      const event = securityHub("s3-2-failed");
      event.detail.findings[0].Resources[0].Type = "AwsEc2SecurityGroup";
      event.detail.findings[0].Resources[0].Id = `arn:aws:ec2:us-east-1:123456789012:security-group/${GROUP}`;
      expect(dropped(event)).toBe(`finding ${S3_2}: resource type "AwsEc2SecurityGroup" is not one S3.2 is mapped to`);
    });

    it("a resource id that is not its type's ARN", () => {
      const event = securityHub("ec2-18-failed");
      event.detail.findings[0].Resources[0].Id = "sg-0f1e2d3c4b5a69788";
      expect(dropped(event)).toBe(`finding ${EC2_18}: "sg-0f1e2d3c4b5a69788" is not a EC2 security group id`);
    });

    it("a resource ARN in another account than the finding's", () => {
      const event = securityHub("ec2-18-failed");
      event.detail.findings[0].Resources[0].Id = `arn:aws:ec2:us-east-1:999999999999:security-group/${GROUP}`;
      expect(dropped(event)).toBe(
        `finding ${EC2_18}: EC2 security group ${GROUP} is in account 999999999999, not the finding's 123456789012`,
      );
    });

    it("a resource ARN in another region than the resource's", () => {
      const event = securityHub("ec2-18-failed");
      event.detail.findings[0].Resources[0].Id = `arn:aws:ec2:eu-west-1:123456789012:security-group/${GROUP}`;
      expect(dropped(event)).toBe(
        `finding ${EC2_18}: EC2 security group ${GROUP} is in region eu-west-1, not us-east-1`,
      );
    });

    it("a resource with no region anywhere", () => {
      const event = securityHub("s3-2-failed");
      delete event.detail.findings[0].Resources[0].Region;
      delete event.detail.findings[0].Region;
      expect(dropped(event)).toBe(`finding ${S3_2}: S3 bucket ${BUCKET} names no region`);
    });

    it("a finding without resources", () => {
      const event = securityHub("s3-2-failed");
      event.detail.findings[0].Resources = [];
      expect(dropped(event)).toBe(`finding ${S3_2} names no resource`);
    });

    it.each([
      ["no Resources", (f: Json) => delete f.Resources, "Resources"],
      ["an account that is not 12 digits", (f: Json) => (f.AwsAccountId = "abc"), "AwsAccountId"],
      ["an UpdatedAt that is not a time", (f: Json) => (f.UpdatedAt = 1), "UpdatedAt"],
      ["a resource without a Type", (f: Json) => delete f.Resources[0].Type, "Resources.0.Type"],
    ])("a malformed finding: %s", (_, mutate, where) => {
      const event = securityHub("s3-2-failed");
      mutate(event.detail.findings[0]);
      const reason = dropped(event);
      expect(reason).toMatch(/^finding 1 is malformed: /);
      expect(reason).toContain(where);
    });

    it("every finding's reason, joined", () => {
      const event = securityHub("ec2-18-passed");
      event.detail.findings.push(securityHub("s3-2-archived").detail.findings[0]);
      expect(dropped(event)).toBe(
        `finding ${EC2_18} is "PASSED", not FAILED; finding ${S3_2} is "ARCHIVED", not ACTIVE`,
      );
    });

    it("no findings", () => {
      const event = securityHub("s3-2-failed");
      event.detail.findings = [];
      expect(dropped(event)).toBe("it carries no findings");
    });

    it("more than 100 findings", () => {
      const event = securityHub("s3-2-failed");
      event.detail.findings = Array.from({ length: 101 }, () => event.detail.findings[0]);
      expect(dropped(event)).toBe("it carries 101 findings, more than 100");
    });

    it("100 findings are read", () => {
      const event = securityHub("s3-2-failed");
      event.detail.findings = Array.from({ length: 100 }, () => event.detail.findings[0]);
      expect(sightings(event)).toHaveLength(1);
    });
  });
});

describe("any message", () => {
  it.each([
    ["", "the message body is empty"],
    ["{not json", "the message body is not JSON"],
    ["[]", "the message body is not a JSON object"],
    ["null", "the message body is not a JSON object"],
    ['"AWS API Call via CloudTrail"', "the message body is not a JSON object"],
    [
      "{}",
      'the message is not an EventBridge event: detail-type Invalid key: Expected "detail-type" but received undefined',
    ],
  ])("%j is dropped: %s", (body, reason) => {
    expect(readRealtimeEvent(body)).toEqual({ dropped: reason });
  });

  it("a body over 256 KiB is dropped before it is parsed", () => {
    const event = cloudTrail("authorize-sg-ingress");
    event.detail.padding = "x".repeat(MAX_BODY_BYTES);
    expect(dropped(event)).toMatch(/^the message body is \d+ bytes, more than 262144$/);
  });

  it("an envelope without detail", () => {
    const event = cloudTrail("authorize-sg-ingress");
    delete event.detail;
    expect(dropped(event)).toMatch(/^the message is not an EventBridge event: detail /);
  });

  it("an envelope account that is not one", () => {
    const event = securityHub("s3-2-failed");
    event.account = "me";
    expect(dropped(event)).toBe("the message is not an EventBridge event: account must be a 12-digit account id");
  });

  it("another detail-type", () => {
    const event = cloudTrail("authorize-sg-ingress");
    event["detail-type"] = "EC2 Instance State-change Notification";
    expect(dropped(event)).toBe(
      'its detail-type "EC2 Instance State-change Notification" is neither "AWS API Call via CloudTrail" nor "Security Hub Findings - Imported"',
    );
  });

  it("a claimed string in a reason is quoted and cut, never raw", () => {
    const event = cloudTrail("authorize-sg-ingress");
    event["detail-type"] = `<!channel>\n${"y".repeat(500)}`;
    const reason = dropped(event);
    expect(reason).not.toContain("\n");
    expect(reason.length).toBeLessThan(400);
  });
});

describe("mutations of every fixture never throw", () => {
  const dirs = ["cloudtrail", "securityhub"] as const;
  const files = dirs.flatMap((dir) =>
    readdirSync(fileURLToPath(new URL(`../fixtures/realtime/${dir}/`, import.meta.url)))
      .filter((file) => file.endsWith(".json"))
      .map((file) => `${dir}/${file}`),
  );
  const replacements: unknown[] = [undefined, null, 0, -1, true, "", "\u0000", "x".repeat(300), [], {}, [{}]];

  /** Every path to a value in the event (objects and arrays included). */
  function paths(node: unknown, prefix: (string | number)[] = []): (string | number)[][] {
    if (typeof node !== "object" || node === null) return [prefix];
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    return [prefix, ...keys.flatMap((key) => paths((node as Json)[key], [...prefix, key]))];
  }

  function mutated(event: Json, path: (string | number)[], value: unknown): Json {
    const copy = structuredClone(event);
    if (path.length === 0) return value as Json;
    let node: Json = copy;
    for (const step of path.slice(0, -1)) node = node[step];
    const last = path.at(-1)!;
    if (value === undefined) delete node[last];
    else node[last] = value;
    return copy;
  }

  it.each(files)("%s", (file) => {
    const event = fixture<Json>(`realtime/${file}`);
    let count = 0;
    for (const path of paths(event)) {
      for (const value of replacements) {
        const result = readRealtimeEvent(JSON.stringify(mutated(event, path, value)) ?? "");
        count++;
        if ("dropped" in result) {
          expect(result.dropped.length, path.join(".")).toBeGreaterThan(0);
          continue;
        }
        for (const sighting of result.sightings) {
          expect(sighting.accountId).toMatch(/^\d{12}$/);
          expect(sighting.region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
          expect(sighting.problems.length).toBeGreaterThan(0);
          if (sighting.kind === "resource") {
            // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is that there are none.
            expect(sighting.resourceId).toMatch(/^[^\u0000-\u001f]{1,255}$/);
          }
        }
      }
    }
    expect(count).toBeGreaterThan(100);
  });
});
