// The real-time path for sg-default-rules (functions/realtime/core.ts, EC2 and SQS mocked): a security group is
// judged by every deployed rule of its type, so one CloudTrail call on a default group can queue this problem's
// instruction and sg-open-ingress' — each the instruction the Config path would queue — and a default group that
// network interfaces use (read live) queues nothing. EC2.2 findings and AuthorizeSecurityGroupEgress are its hints.
import { EC2Client, type SecurityGroup, type SecurityGroupRule } from "@aws-sdk/client-ec2";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type Instruction, parseInstruction } from "../../../contract/instruction.ts";
import { normalizeConfigItem } from "../../../detection/config-item.ts";
import { judgeItem } from "../../../detection/judge.ts";
import { ownAccountAccess } from "../../../functions/realtime/access.ts";
import { type RealtimeDeps, runRealtime } from "../../../functions/realtime/core.ts";
import { readRealtimeEvent } from "../../../functions/realtime/events.ts";
import { cloudTrailPattern, securityHubPattern } from "../../../functions/realtime/patterns.ts";
import { type Deployment, deployedRuleFor } from "../../../platform/deployment.ts";
import { securityGroupConfigItem } from "../../../problems/sg-open-ingress/example.ts";
import { observe } from "../../../problems/sg-open-ingress/observe.ts";
import { fixture } from "../../fixtures/load.ts";
import { ACCOUNT, REGION, testDeployment } from "../../remediation/support.ts";
import {
  defaultRulesDeployment,
  GROUP,
  type LiveDefaultGroup,
  mockDefaultGroup,
  OUT_V4,
  SELF,
  VPC,
} from "./support.ts";

const T0 = new Date("2026-11-20T10:15:00.000Z");
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
const ec2 = mockClient(EC2Client);
const sqs = mockClient(SQSClient);

const egressEvent = () => JSON.stringify(fixture("realtime/cloudtrail/authorize-sg-egress-default-group.json"));
const ec2Dot2 = () => JSON.stringify(fixture("realtime/securityhub/ec2-2-failed.json"));

/** What the last call opened: https out to anywhere, on top of AWS's default rules. */
const HTTPS_OUT: SecurityGroupRule = {
  ...OUT_V4,
  SecurityGroupRuleId: "sgr-0e4d5c6b7a8f90123",
  IpProtocol: "tcp",
  FromPort: 443,
  ToPort: 443,
  Description: "https out for the build agents",
};
const SSH_IN: SecurityGroupRule = {
  ...SELF,
  SecurityGroupRuleId: "sgr-0e4d5c6b7a8f90124",
  IpProtocol: "tcp",
  FromPort: 22,
  ToPort: 22,
  ReferencedGroupInfo: undefined,
  CidrIpv4: "0.0.0.0/0",
};

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

function deps(deployment: Deployment = defaultRulesDeployment()): RealtimeDeps {
  const log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  return {
    deployment,
    access: ownAccountAccess(deployment, log, () => T0),
    sqs: new SQSClient({ region: REGION }),
    queueUrl: QUEUE_URL,
    allowlist: [],
    gracePeriodMs: 0,
    undoExemptions: async () => undefined,
    ownRoleArns: [],
    autoResponse: false,
    runCoordinator: async () => {},
    now: () => T0,
    log,
    metrics: { count: () => {} },
  };
}

function queued(): Instruction[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody ?? ""));
}

/** What the Config path queues for the same group as the live rules describe it, with the deployed rule. */
function fromConfig(
  deployment: Deployment,
  problem: "sg-default-rules" | "sg-open-ingress",
  rules: SecurityGroupRule[],
) {
  const permission = (rule: SecurityGroupRule) => ({
    IpProtocol: rule.IpProtocol,
    ...(rule.IpProtocol === "-1" ? {} : { FromPort: rule.FromPort, ToPort: rule.ToPort }),
    IpRanges: rule.CidrIpv4 ? [{ CidrIp: rule.CidrIpv4, Description: rule.Description }] : [],
    Ipv6Ranges: rule.CidrIpv6 ? [{ CidrIpv6: rule.CidrIpv6 }] : [],
    UserIdGroupPairs: rule.ReferencedGroupInfo ? [rule.ReferencedGroupInfo] : [],
  });
  const group: SecurityGroup = {
    GroupId: GROUP,
    GroupName: "default",
    Description: "default VPC security group",
    OwnerId: ACCOUNT,
    VpcId: VPC,
    IpPermissions: rules.filter((rule) => !rule.IsEgress).map(permission),
    IpPermissionsEgress: rules.filter((rule) => rule.IsEgress).map(permission),
    Tags: [],
  };
  const deployed = deployedRuleFor(deployment, problem)!;
  const item = normalizeConfigItem(securityGroupConfigItem(group, T0, { accountId: ACCOUNT, region: REGION }));
  return judgeItem(item, deployed.rule, deployed.parameters, {
    allowlist: [],
    now: T0,
    gracePeriodMs: 0,
    configRuleName: deployed.configRuleName,
  }).instructions;
}

function live(group: LiveDefaultGroup) {
  mockDefaultGroup(ec2, group);
}

beforeEach(() => {
  ec2.reset();
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `q-${entry.Id}`, MD5OfMessageBody: "" })),
    Failed: [],
  }));
});
afterAll(() => {
  ec2.restore();
  sqs.restore();
});

describe("sg-default-rules in real time", () => {
  it("AuthorizeSecurityGroupEgress and EC2.2 are its hints, in the registry's EventBridge patterns", () => {
    expect(cloudTrailPattern().detail.eventName).toContain("AuthorizeSecurityGroupEgress");
    expect(JSON.stringify(securityHubPattern())).toContain('"EC2.2"');
    expect(JSON.stringify(securityHubPattern())).toContain("prowler-ec2_securitygroup_default_restrict_traffic");
    const read = readRealtimeEvent(egressEvent());
    expect(read).toEqual({
      sightings: [
        expect.objectContaining({
          kind: "resource",
          trigger: "AuthorizeSecurityGroupEgress",
          problems: ["sg-default-rules"],
          resourceType: "AWS::EC2::SecurityGroup",
          resourceId: GROUP,
          actor: expect.objectContaining({ type: "AssumedRole" }),
        }),
      ],
    });
    expect(readRealtimeEvent(ec2Dot2())).toEqual({
      sightings: [expect.objectContaining({ source: "securityhub", trigger: "EC2.2", problems: ["sg-default-rules"] })],
    });
  });

  it("queues exactly the instruction the Config path would, after reading which interfaces use the group", async () => {
    const rules = [SELF, OUT_V4, HTTPS_OUT];
    live({ rules });
    const d = deps();
    const result = await runRealtime(sqsEvent(egressEvent()), d);
    expect(result.batchItemFailures).toEqual([]);
    const [instruction, ...rest] = queued();
    expect(rest).toEqual([]);
    expect(instruction).toMatchObject({
      problem: "sg-default-rules",
      resource: { type: "AWS::EC2::SecurityGroup", id: GROUP },
      rule: { id: "sg-default-rules", configRuleName: "remedy-sg-default-rules", parameters: {} },
    });
    expect(instruction!.matched).toHaveLength(3);
    expect([instruction!.id]).toEqual(fromConfig(d.deployment, "sg-default-rules", rules).map((i) => i.id));
    expect(ec2.calls().map((call) => call.args[0].constructor.name)).toEqual([
      "DescribeSecurityGroupsCommand",
      "DescribeSecurityGroupRulesCommand",
      "DescribeNetworkInterfacesCommand",
    ]);
  });

  it("judges with every rule of the type: ssh from anywhere on a default group queues both problems", async () => {
    const rules = [SSH_IN, OUT_V4];
    live({ rules });
    const d = deps();
    await runRealtime(sqsEvent(egressEvent()), d);
    const instructions = queued();
    expect(instructions.map((instruction) => instruction.problem).sort()).toEqual([
      "sg-default-rules",
      "sg-open-ingress",
    ]);
    for (const problem of ["sg-default-rules", "sg-open-ingress"] as const) {
      expect(instructions.find((instruction) => instruction.problem === problem)!.id).toBe(
        fromConfig(d.deployment, problem, rules)[0]!.id,
      );
    }
  });

  it("queues nothing for a default group that network interfaces use, and says which", async () => {
    live({ interfacePages: [["eni-0a7c3e9f1b2d4c6e8"]] });
    const result = await runRealtime(sqsEvent(ec2Dot2()), deps());
    expect(queued()).toEqual([]);
    expect(result.outcomes["m-1"]).toEqual([
      {
        outcome: "nothing-to-fix",
        reason: expect.stringMatching(
          /^sg-open-ingress: Remedy's judgement: no open ingress outside tcp:80,tcp:443; sg-default-rules: Remedy's judgement: 4 rules on the default group of vpc-0a1b2c3d4e5f60718, which 1 network interface uses: not fixed automatically .*: eni-0a7c3e9f1b2d4c6e8$/,
        ),
      },
    ]);
  });

  it("another group is not this rule's, which then says nothing; a deployment without it judges as before", async () => {
    live({ groupName: "build-agents", rules: [HTTPS_OUT] });
    const result = await runRealtime(sqsEvent(egressEvent()), deps());
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "nothing-to-fix", reason: "Remedy's judgement: no open ingress outside tcp:80,tcp:443" },
    ]);
    // No interface read for a group that is not a default one.
    expect(ec2.calls().map((call) => call.args[0].constructor.name)).not.toContain("DescribeNetworkInterfacesCommand");

    ec2.reset();
    live({ rules: [SELF, OUT_V4] });
    const without = await runRealtime(sqsEvent(egressEvent()), deps(testDeployment()));
    expect(without.outcomes["m-1"]).toEqual([
      { outcome: "nothing-to-fix", reason: "Remedy's judgement: no open ingress outside tcp:80,tcp:443" },
    ]);
  });

  it("the resource type's observer judges with the rule it is asked for, and refuses a rule of another type", async () => {
    live({ rules: [SELF] });
    const observer = observe.create({
      client: <C>(Client: new (config: object) => C) => new Client({ region: REGION }),
      now: () => T0,
      log: console,
    });
    const read = await observer.readLive(
      { type: "AWS::EC2::SecurityGroup", id: GROUP, accountId: ACCOUNT, region: REGION },
      console,
    );
    expect(observer.verdict(read!, {}, "sg-default-rules").findings).toHaveLength(1);
    expect(() => observer.verdict(read!, {}, "s3-public")).toThrow("rule s3-public does not judge EC2 security groups");
  });
});
