// The real-time path's core (functions/realtime/core.ts) with its AWS clients mocked: what each event leads to,
// that the instruction is the Config path's, the loop guard, claims outside the deployment, undo's exemptions,
// account-level changes, and one bad or failing message never costing the others.

import { readdirSync, readFileSync } from "node:fs";
import { ConfigServiceClient, StartConfigRulesEvaluationCommand } from "@aws-sdk/client-config-service";
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type SecurityGroup,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import {
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Instruction, matchedEntryKey, parseInstruction } from "../../contract/instruction.ts";
import type { UndoExemptionRecord } from "../../contract/undo-exemption.ts";
import { normalizeConfigItem } from "../../detection/config-item.ts";
import { judgeItem } from "../../detection/judge.ts";
import { ownAccountAccess } from "../../functions/realtime/access.ts";
import { ownChange, type RealtimeDeps, runRealtime } from "../../functions/realtime/core.ts";
import { readRealtimeEvent } from "../../functions/realtime/events.ts";
import { deployedRuleFor } from "../../platform/deployment.ts";
import { securityGroupConfigItem } from "../../problems/sg-open-ingress/example.ts";
import { ACCOUNT, awsError, REGION, registryRules, testDeployment } from "../remediation/support.ts";

const T0 = new Date("2026-11-20T10:28:19.000Z");
const GROUP = "sg-0a1b2c3d4e5f60718";
const BUCKET = "acme-public-site";
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
const OWN_ROLE = "arn:aws:iam::123456789012:role/remedy-remediate-sg-us-east-1";
const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);
const s3control = mockClient(S3ControlClient);
const sqs = mockClient(SQSClient);
const config = mockClient(ConfigServiceClient);
const rds = mockClient(RDSClient);

function silent() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, fields: Object.assign({}, ...extra) });
  return { lines, log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } };
}

/** What EventBridge delivers to the queue for a successful call, as CloudTrail records it. */
function cloudTrail(
  eventName: string,
  eventSource: string,
  requestParameters: Record<string, unknown>,
  options: { account?: string; region?: string; roleArn?: string; responseElements?: unknown; eventID?: string } = {},
): string {
  const account = options.account ?? ACCOUNT;
  const region = options.region ?? REGION;
  const roleArn = options.roleArn ?? `arn:aws:iam::${account}:role/developer`;
  return JSON.stringify({
    version: "0",
    id: "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "AWS API Call via CloudTrail",
    source: eventSource === "ec2.amazonaws.com" ? "aws.ec2" : "aws.s3",
    account,
    time: "2026-11-20T10:27:50Z",
    region,
    resources: [],
    detail: {
      eventVersion: "1.09",
      userIdentity: {
        type: "AssumedRole",
        principalId: "AROAEXAMPLEID:alice",
        arn: `${roleArn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")}/alice`,
        accountId: account,
        accessKeyId: "ASIAEXAMPLE",
        sessionContext: {
          sessionIssuer: {
            type: "Role",
            principalId: "AROAEXAMPLEID",
            arn: roleArn,
            accountId: account,
            userName: roleArn.split("/").pop(),
          },
          attributes: { creationDate: "2026-11-20T10:00:00Z", mfaAuthenticated: "false" },
        },
      },
      eventTime: "2026-11-20T10:27:50Z",
      eventSource,
      eventName,
      awsRegion: region,
      sourceIPAddress: "203.0.113.10",
      userAgent: "aws-cli/2.15.0",
      requestParameters,
      responseElements: options.responseElements ?? null,
      requestID: "b1c2d3e4-0000-4000-8000-000000000001",
      eventID: options.eventID ?? "e1f2a3b4-0000-4000-8000-000000000001",
      readOnly: false,
      eventType: "AwsApiCall",
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: "Management",
    },
  });
}

const authorizeSsh = (options: Parameters<typeof cloudTrail>[3] = {}) =>
  cloudTrail(
    "AuthorizeSecurityGroupIngress",
    "ec2.amazonaws.com",
    {
      groupId: GROUP,
      ipPermissions: {
        items: [{ ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] } }],
      },
    },
    options,
  );

/** A Security Hub control finding (ASFF) as EventBridge delivers it. */
function securityHub(controlId: string, resource: { Type: string; Id: string }): string {
  return JSON.stringify({
    version: "0",
    id: "8e5622f9-0000-4000-8000-000000000002",
    "detail-type": "Security Hub Findings - Imported",
    source: "aws.securityhub",
    account: ACCOUNT,
    time: "2026-11-20T10:27:55Z",
    region: REGION,
    resources: [`arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/${controlId}/finding/f-1`],
    detail: {
      findings: [
        {
          SchemaVersion: "2018-10-08",
          Id: `arn:aws:securityhub:${REGION}:${ACCOUNT}:security-control/${controlId}/finding/f-1`,
          ProductArn: `arn:aws:securityhub:${REGION}::product/aws/securityhub`,
          ProductName: "Security Hub",
          CompanyName: "AWS",
          Region: REGION,
          GeneratorId: `security-control/${controlId}`,
          AwsAccountId: ACCOUNT,
          Types: ["Software and Configuration Checks/Industry and Regulatory Standards"],
          FirstObservedAt: "2026-11-20T10:27:00.000Z",
          LastObservedAt: "2026-11-20T10:27:50.000Z",
          CreatedAt: "2026-11-20T10:27:00.000Z",
          UpdatedAt: "2026-11-20T10:27:50.000Z",
          Severity: { Label: "HIGH", Normalized: 70, Original: "HIGH" },
          Title: "finding",
          Description: "finding",
          ProductFields: { "aws/securityhub/ProductName": "Security Hub" },
          Resources: [{ ...resource, Partition: "aws", Region: REGION }],
          Compliance: { Status: "FAILED", SecurityControlId: controlId },
          WorkflowState: "NEW",
          Workflow: { Status: "NEW" },
          RecordState: "ACTIVE",
        },
      ],
    },
  });
}

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body, n) => ({
      messageId: `m-${n + 1}`,
      receiptHandle: `rh-${n + 1}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1763634490000",
        SenderId: "AIDAEVENTBRIDGE",
        ApproximateFirstReceiveTimestamp: "1763634510000",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:remedy-realtime`,
      awsRegion: REGION,
    })),
  };
}

const rule = (id: string, port: number, cidr: string): SecurityGroupRule => ({
  SecurityGroupRuleId: id,
  GroupId: GROUP,
  GroupOwnerId: ACCOUNT,
  IsEgress: false,
  IpProtocol: "tcp",
  FromPort: port,
  ToPort: port,
  CidrIpv4: cidr,
});

function liveGroup(rules: SecurityGroupRule[], tags: { Key: string; Value: string }[] = []) {
  const group: SecurityGroup = {
    GroupId: GROUP,
    GroupName: "bastion",
    Description: "bastion",
    OwnerId: ACCOUNT,
    VpcId: "vpc-0abc",
    Tags: tags,
    IpPermissions: rules.map((r) => ({
      IpProtocol: r.IpProtocol,
      FromPort: r.FromPort,
      ToPort: r.ToPort,
      IpRanges: [{ CidrIp: r.CidrIpv4 }],
    })),
    IpPermissionsEgress: [],
  };
  ec2.on(DescribeSecurityGroupsCommand, { GroupIds: [GROUP] }).resolves({ SecurityGroups: [group] });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: rules });
  return group;
}

/** A DB snapshot or DB cluster snapshot live, its restore attribute `values`. */
function liveSnapshot(type: string, id: string, values: string[]) {
  const AttributeValues = values;
  if (type === "AWS::RDS::DBClusterSnapshot") {
    rds
      .on(DescribeDBClusterSnapshotsCommand)
      .resolves({ DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: id, TagList: [] }] });
    rds.on(DescribeDBClusterSnapshotAttributesCommand).resolves({
      DBClusterSnapshotAttributesResult: {
        DBClusterSnapshotAttributes: [{ AttributeName: "restore", AttributeValues }],
      },
    });
  } else {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ DBSnapshotIdentifier: id, TagList: [] }] });
    rds.on(DescribeDBSnapshotAttributesCommand).resolves({
      DBSnapshotAttributesResult: { DBSnapshotAttributes: [{ AttributeName: "restore", AttributeValues }] },
    });
  }
}

function publicBucket() {
  s3.on(GetBucketTaggingCommand).rejects(awsError("NoSuchTagSet", 404));
  s3.on(GetBucketOwnershipControlsCommand).rejects(awsError("OwnershipControlsNotFoundError", 404));
  s3.on(GetBucketAclCommand).resolves({
    Owner: { ID: "owner-canonical-id" },
    Grants: [
      { Grantee: { Type: "CanonicalUser", ID: "owner-canonical-id" }, Permission: "FULL_CONTROL" },
      { Grantee: { Type: "Group", URI: ALL_USERS }, Permission: "READ" },
    ],
  });
  s3.on(GetBucketPolicyCommand).rejects(awsError("NoSuchBucketPolicy", 404));
  s3.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  s3control.on(GetAccountPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
}

interface Harness {
  deps: RealtimeDeps;
  lines: ReturnType<typeof silent>["lines"];
  metrics: Map<string, number>;
  coordinatorAsks: number[];
  undo: { record?: UndoExemptionRecord };
}

function harness(overrides: Partial<RealtimeDeps> = {}): Harness {
  const { lines, log } = silent();
  const metrics = new Map<string, number>();
  const coordinatorAsks: number[] = [];
  const undo: Harness["undo"] = {};
  const deployment = overrides.deployment ?? testDeployment();
  const now = () => T0;
  return {
    lines,
    metrics,
    coordinatorAsks,
    undo,
    deps: {
      deployment,
      access: ownAccountAccess(deployment, log, now),
      sqs: new SQSClient({ region: REGION }),
      queueUrl: QUEUE_URL,
      allowlist: [],
      gracePeriodMs: 0,
      undoExemptions: async () => undo.record,
      ownRoleArns: [OWN_ROLE],
      autoResponse: true,
      runCoordinator: async ({ queued }) => {
        coordinatorAsks.push(queued);
      },
      now,
      log,
      metrics: { count: (name, value = 1) => metrics.set(name, (metrics.get(name) ?? 0) + value) },
      ...overrides,
    },
  };
}

function queuedInstructions(): Instruction[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody ?? ""));
}

beforeEach(() => {
  for (const mock of [ec2, s3, s3control, sqs, config, rds]) mock.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `q-${entry.Id}`, MD5OfMessageBody: "" })),
    Failed: [],
  }));
});
afterEach(() => {
  for (const mock of [ec2, s3, s3control, sqs, config, rds]) mock.reset();
});

describe("a call that opens a security group", () => {
  it("queues exactly the instruction the Config path would, and asks the coordinator to run now", async () => {
    const group = liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0"), rule("sgr-0web", 443, "0.0.0.0/0")]);
    const h = harness();
    const result = await runRealtime(sqsEvent(authorizeSsh()), h.deps);

    expect(result.batchItemFailures).toEqual([]);
    const [instruction, ...rest] = queuedInstructions();
    expect(rest).toEqual([]);
    expect(instruction).toMatchObject({
      problem: "sg-open-ingress",
      resource: { type: "AWS::EC2::SecurityGroup", id: GROUP, accountId: ACCOUNT, region: REGION },
      capturedAt: T0.toISOString(),
      notBefore: T0.toISOString(),
      rule: { id: "sg-open-ingress", configRuleName: "remedy-sg-open-ingress" },
    });
    expect(instruction!.matched).toEqual([
      { kind: "sg-rule", rule: expect.objectContaining({ fromPort: 22, cidrIpv4: "0.0.0.0/0" }) },
    ]);

    // The Config path, judging the item Config records for the same group: the same id, the same entries.
    const deployed = deployedRuleFor(h.deps.deployment, "sg-open-ingress")!;
    const item = normalizeConfigItem(
      securityGroupConfigItem(group, new Date(T0.getTime() - 20_000), { accountId: ACCOUNT, region: REGION }),
    );
    const fromConfig = judgeItem(item, deployed.rule, deployed.parameters, {
      allowlist: [],
      now: T0,
      gracePeriodMs: 0,
      configRuleName: deployed.configRuleName,
    }).instructions;
    expect(fromConfig.map((i) => i.id)).toEqual([instruction!.id]);
    expect(fromConfig[0]!.matched.map(matchedEntryKey)).toEqual(instruction!.matched.map(matchedEntryKey));

    expect(h.coordinatorAsks).toEqual([1]);
    expect(result.coordinatorAsked).toBe(true);
    expect(h.metrics.get("InstructionsQueued")).toBe(1);
  });

  it("with auto-response off the instruction waits in the queue: nothing is asked to run", async () => {
    liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0")]);
    const h = harness({ autoResponse: false });
    const result = await runRealtime(sqsEvent(authorizeSsh()), h.deps);
    expect(queuedInstructions()).toHaveLength(1);
    expect(h.coordinatorAsks).toEqual([]);
    expect(result.coordinatorAsked).toBe(false);
  });

  it("a group that is compliant now (the rule on an authorized port) queues nothing and asks nothing", async () => {
    liveGroup([rule("sgr-0web", 443, "0.0.0.0/0")]);
    const h = harness();
    const result = await runRealtime(sqsEvent(authorizeSsh()), h.deps);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "nothing-to-fix", reason: expect.stringContaining("no open ingress") },
    ]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
    expect(h.coordinatorAsks).toEqual([]);
  });

  it("an exemption tag on the live group is honoured: nothing queued, the exemption said", async () => {
    const until = new Date(T0.getTime() + 86_400_000).toISOString().slice(0, 10);
    liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0")], [{ Key: "remedy:exempt", Value: `bastion OPS-9 until=${until}` }]);
    const h = harness();
    const result = await runRealtime(sqsEvent(authorizeSsh()), h.deps);
    expect(result.outcomes["m-1"]).toEqual([{ outcome: "nothing-to-fix", reason: expect.stringContaining("OPS-9") }]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it("a group deleted since the call is nothing to do", async () => {
    ec2.on(DescribeSecurityGroupsCommand).rejects(awsError("InvalidGroup.NotFound", 400));
    const h = harness();
    const result = await runRealtime(sqsEvent(authorizeSsh()), h.deps);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "ignored", reason: expect.stringContaining("no longer exists") },
    ]);
    expect(result.batchItemFailures).toEqual([]);
  });

  it("a burst of calls on one group in a batch reads it once and queues once", async () => {
    liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0")]);
    const h = harness();
    const result = await runRealtime(
      sqsEvent(authorizeSsh({ eventID: "e-1" }), authorizeSsh({ eventID: "e-2" }), authorizeSsh({ eventID: "e-3" })),
      h.deps,
    );
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).toHaveLength(1);
    expect(queuedInstructions()).toHaveLength(1);
    expect(result.outcomes["m-3"]).toEqual([{ outcome: "ignored", reason: "already judged in this batch" }]);
    expect(h.coordinatorAsks).toEqual([1]);
  });
});

describe("the loop guard", () => {
  it("ignores a change made with one of Remedy's own roles, before reading anything", async () => {
    const h = harness();
    const result = await runRealtime(sqsEvent(authorizeSsh({ roleArn: OWN_ROLE })), h.deps);
    expect(result.outcomes["m-1"]).toEqual([{ outcome: "ignored", reason: `made by Remedy's own role ${OWN_ROLE}` }]);
    expect(ec2.calls()).toEqual([]);
    expect(h.metrics.get("OwnChanges")).toBe(1);
  });

  it("recognises the member fix and undo roles (organisation mode), and nothing that merely looks like them", () => {
    const fix = "arn:aws:iam::222222222222:role/remedy/remedy-member-fix-sg-open-ingress";
    const undo = "arn:aws:iam::222222222222:role/remedy/remedy-member-undo";
    expect(ownChange({ roleArn: fix }, [])).toContain(fix);
    expect(ownChange({ roleArn: undo }, [])).toContain(undo);
    for (const other of [
      "arn:aws:iam::222222222222:role/remedy-member-fix-sg-open-ingress",
      "arn:aws:iam::222222222222:role/remedy/remedy-member-detect",
      "arn:aws:iam::222222222222:role/other/remedy/remedy-member-undo",
      "arn:aws:iam::222222222222:role/remedy/developer",
    ]) {
      expect(ownChange({ roleArn: other }, [OWN_ROLE]), other).toBeUndefined();
    }
    expect(ownChange(undefined, [OWN_ROLE])).toBeUndefined();
  });

  it("an entry undo left as restored is not queued again; other entries of the group are", async () => {
    liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0"), rule("sgr-0rdp", 3389, "0.0.0.0/0")]);
    const h = harness();
    const sshKey = matchedEntryKey({
      kind: "sg-rule",
      rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
    });
    h.undo.record = {
      version: 1,
      resource: { accountId: ACCOUNT, region: REGION, type: "AWS::EC2::SecurityGroup", id: GROUP },
      entries: [
        {
          problem: "sg-open-ingress",
          key: sshKey,
          entry: {
            kind: "sg-rule",
            rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
          },
          undoActionId: "act-20261120T100000Z-0000undo",
          undoes: "act-20261120T090000Z-00000fix",
          by: "arn:aws:iam::123456789012:role/secops",
          at: "2026-11-20T10:00:00.000Z",
          until: "2026-11-21T10:00:00.000Z",
        },
      ],
    } as unknown as UndoExemptionRecord;
    await runRealtime(sqsEvent(authorizeSsh()), h.deps);
    const [instruction, ...rest] = queuedInstructions();
    expect(rest).toEqual([]);
    expect(instruction!.matched).toEqual([{ kind: "sg-rule", rule: expect.objectContaining({ fromPort: 3389 }) }]);
    expect(h.lines.find((line) => line.fields.step === "undone")?.fields.reason).toContain("secops");
  });
});

describe("claims outside the deployment", () => {
  it("another account or region is refused before anything is read", async () => {
    const h = harness();
    const result = await runRealtime(
      sqsEvent(authorizeSsh({ account: "999999999999" }), authorizeSsh({ region: "eu-west-1" })),
      h.deps,
    );
    for (const id of ["m-1", "m-2"]) {
      const outcome = result.outcomes[id];
      // The parser may drop an inconsistent event itself; either way nothing is read or queued.
      if ("dropped" in (outcome as object)) continue;
      expect(outcome).toEqual([{ outcome: "ignored", reason: expect.stringContaining("not this deployment's") }]);
    }
    expect(ec2.calls()).toEqual([]);
    expect(sqs.calls()).toEqual([]);
  });
});

describe("findings from other scanners", () => {
  it("a Security Hub finding Remedy's judgement agrees with becomes the same instruction", async () => {
    publicBucket();
    const h = harness();
    await runRealtime(sqsEvent(securityHub("S3.2", { Type: "AwsS3Bucket", Id: `arn:aws:s3:::${BUCKET}` })), h.deps);
    const [instruction, ...rest] = queuedInstructions();
    expect(rest).toEqual([]);
    expect(instruction).toMatchObject({ problem: "s3-public-acl", resource: { id: BUCKET } });
    expect(instruction!.matched).toEqual([
      { kind: "acl-grant", grant: { grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" } },
    ]);
  });

  it("a finding Remedy's judgement disagrees with queues nothing, and says why", async () => {
    liveGroup([rule("sgr-0web", 443, "0.0.0.0/0")]);
    const h = harness();
    const arn = `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/${GROUP}`;
    const result = await runRealtime(sqsEvent(securityHub("EC2.18", { Type: "AwsEc2SecurityGroup", Id: arn })), h.deps);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "nothing-to-fix", reason: expect.stringMatching(/^Remedy's judgement: no open ingress/) },
    ]);
    expect(sqs.calls()).toEqual([]);
    expect(h.metrics.get("DisagreedFindings")).toBe(1);
  });
});

describe("an account-level change", () => {
  it("re-evaluates the problem's Config rule instead of judging one resource", async () => {
    config.on(StartConfigRulesEvaluationCommand).resolves({});
    const h = harness();
    const result = await runRealtime(
      sqsEvent(
        cloudTrail("DeleteAccountPublicAccessBlock", "s3.amazonaws.com", { accountId: ACCOUNT, host: ["s3-control"] }),
      ),
      h.deps,
    );
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "reevaluated", configRuleNames: ["remedy-s3-public"] },
      // The call also names the account's own setting, which this deployment's rules do not judge.
      { outcome: "ignored", reason: "AWS::S3::AccountPublicAccessBlock is not judged by this deployment" },
    ]);
    expect(config.commandCalls(StartConfigRulesEvaluationCommand).map((c) => c.args[0].input)).toEqual([
      { ConfigRuleNames: ["remedy-s3-public"] },
    ]);
    expect(sqs.calls()).toEqual([]);
  });
});

describe("bad input and failures", () => {
  it("a malformed or unrelated message is dropped; the good one beside it is handled", async () => {
    liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0")]);
    const h = harness();
    const unrelated = cloudTrail("DescribeInstances", "ec2.amazonaws.com", {});
    const result = await runRealtime(sqsEvent("{not json", unrelated, authorizeSsh()), h.deps);
    expect(result.outcomes["m-1"]).toEqual({ dropped: expect.any(String) });
    expect(result.outcomes["m-2"]).toEqual({ dropped: expect.any(String) });
    expect(result.batchItemFailures).toEqual([]);
    expect(queuedInstructions()).toHaveLength(1);
    expect(h.metrics.get("DroppedEvents")).toBe(2);
  });

  it("a transient failure retries only its own message", async () => {
    ec2.on(DescribeSecurityGroupsCommand).rejects(awsError("RequestLimitExceeded", 503));
    publicBucket();
    const h = harness();
    const bucketCall = cloudTrail("PutBucketAcl", "s3.amazonaws.com", { bucketName: BUCKET, acl: [""] });
    const result = await runRealtime(sqsEvent(authorizeSsh(), bucketCall), h.deps);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect(queuedInstructions().map((i) => i.resource.id)).toEqual([BUCKET]);
  });

  it("a queue send that fails retries the message; the coordinator is not asked for what was not queued", async () => {
    liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0")]);
    sqs.on(SendMessageBatchCommand).rejects(awsError("ServiceUnavailable", 503));
    const h = harness();
    const result = await runRealtime(sqsEvent(authorizeSsh()), h.deps);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect(h.coordinatorAsks).toEqual([]);
  });

  it("a coordinator that cannot be asked is a warning: the schedule runs it within a minute", async () => {
    liveGroup([rule("sgr-0ssh", 22, "0.0.0.0/0")]);
    const h = harness({
      runCoordinator: async () => {
        throw awsError("TooManyRequestsException", 429);
      },
    });
    const result = await runRealtime(sqsEvent(authorizeSsh()), h.deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(result.coordinatorAsked).toBe(false);
    expect(h.lines.some((line) => line.fields.step === "coordinator-not-asked")).toBe(true);
  });
});

describe("Security Hub's recorded findings (test/fixtures/realtime/securityhub), own controls and a third party's", () => {
  const dir = "test/fixtures/realtime/securityhub";
  const fixtures = readdirSync(dir).filter((name) => name.endsWith(".json"));
  // Every rule of the registry deployed, so each recorded finding's resource type is judged.
  const everyRule = () => harness({ deployment: testDeployment({ rules: registryRules() }) });

  function liveResource(type: string, id: string, violating: boolean) {
    if (type === "AWS::RDS::DBSnapshot" || type === "AWS::RDS::DBClusterSnapshot") {
      liveSnapshot(type, id, violating ? ["all", "210987654321"] : ["210987654321"]);
    } else if (type === "AWS::EC2::Snapshot") {
      ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [{ SnapshotId: id, OwnerId: ACCOUNT, Tags: [] }] });
      ec2.on(DescribeSnapshotAttributeCommand).resolves({
        SnapshotId: id,
        CreateVolumePermissions: violating
          ? [{ Group: "all" }, { UserId: "210987654321" }]
          : [{ UserId: "210987654321" }],
      });
    } else if (type === "AWS::S3::AccountPublicAccessBlock") {
      const flags = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true };
      s3control
        .on(GetAccountPublicAccessBlockCommand, { AccountId: id })
        .resolves({ PublicAccessBlockConfiguration: { ...flags, RestrictPublicBuckets: !violating } });
    } else if (type === "AWS::EC2::SecurityGroup") {
      const rules = [violating ? rule("sgr-0ssh", 22, "0.0.0.0/0") : rule("sgr-0web", 443, "0.0.0.0/0")];
      ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: id, OwnerId: ACCOUNT, Tags: [] }] });
      ec2.on(DescribeSecurityGroupRulesCommand).resolves({
        SecurityGroupRules: rules.map((r) => ({ ...r, GroupId: id })),
      });
    } else {
      publicBucket();
      if (!violating) s3.on(GetBucketAclCommand).resolves({ Owner: { ID: "owner-canonical-id" }, Grants: [] });
    }
  }

  it("covers every mapped control the issue names and a third-party product", () => {
    const triggers = fixtures.flatMap((name) => {
      const read = readRealtimeEvent(readFileSync(`${dir}/${name}`, "utf8"));
      return "sightings" in read ? read.sightings.map((s) => s.trigger) : [];
    });
    for (const control of ["EC2.18", "EC2.19", "S3.2", "S3.3", "S3.8"]) expect(triggers).toContain(control);
    expect(triggers.some((trigger) => trigger.startsWith("prowler-"))).toBe(true);
  });

  for (const name of fixtures) {
    it(`${name}: an instruction only when Remedy's own judgement agrees`, async () => {
      const body = readFileSync(`${dir}/${name}`, "utf8");
      const read = readRealtimeEvent(body);
      if ("dropped" in read) {
        // Not a finding Remedy answers (passed, archived, suppressed, unmapped): nothing read, nothing queued.
        const result = await runRealtime(sqsEvent(body), everyRule().deps);
        expect(result.outcomes["m-1"]).toEqual({ dropped: read.dropped });
        expect([...ec2.calls(), ...s3.calls(), ...sqs.calls()]).toEqual([]);
        return;
      }
      const resources = read.sightings.flatMap((s) => (s.kind === "resource" ? [[s.resourceType, s.resourceId]] : []));
      expect(resources.length).toBeGreaterThan(0);

      for (const [type, id] of resources) liveResource(type!, id!, true);
      await runRealtime(sqsEvent(body), everyRule().deps);
      expect(
        queuedInstructions()
          .map((i) => i.resource.id)
          .sort(),
        "agrees: queued",
      ).toEqual(resources.map(([, id]) => id).sort());

      for (const mock of [ec2, s3, s3control, sqs, rds]) mock.reset();
      for (const [type, id] of resources) liveResource(type!, id!, false);
      const h = everyRule();
      const result = await runRealtime(sqsEvent(body), h.deps);
      expect(sqs.commandCalls(SendMessageBatchCommand), "disagrees: nothing queued").toEqual([]);
      expect(result.outcomes["m-1"]).toEqual(
        resources.map(() => ({ outcome: "nothing-to-fix", reason: expect.stringMatching(/^Remedy's judgement: /) })),
      );
      expect(h.metrics.get("DisagreedFindings")).toBe(resources.length);
    });
  }
});
