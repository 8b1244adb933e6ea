// The sg-default-rules fix against moto's EC2 (real wire protocol; SQS mocked, as nothing here is queued): a VPC's
// default group that a network interface uses is left exactly as it is, the skip naming the interface; once the
// interface is gone, the same instruction revokes the rule. The whole pipeline, undo included, is
// test/e2e/problems-moto.test.ts's (from problems/sg-default-rules/example.ts).
import {
  CreateNetworkInterfaceCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memoryLedger } from "../../../contract/ledger.ts";
import { MOTO_ACCOUNT_ID, MOTO_REGION, type Moto, skipWithoutMoto, startMoto } from "../../helpers/moto.ts";
import { recordingLog } from "../../helpers/recording-log.ts";
import {
  DLQ_URL,
  deployedDeps,
  deployedRules,
  QUEUE_URL,
  recordingReporter,
  requestFor,
  testDeployment,
} from "../../remediation/support.ts";
import { testInstruction } from "../../support/instructions.ts";
import { remediate } from "../../support/remediate.ts";
import { CONFIG_RULE } from "./support.ts";

describe.skipIf(skipWithoutMoto("sg-default-rules on moto's EC2"))("sg-default-rules on moto", () => {
  let moto: Moto | undefined;
  let ec2: EC2Client;
  const sqs = mockClient(SQSClient);

  beforeAll(async () => {
    moto = await startMoto();
    ec2 = new EC2Client({ ...moto.clientConfig, maxAttempts: 2 });
    sqs.on(DeleteMessageCommand).resolves({});
  }, 60_000);

  afterAll(async () => {
    sqs.restore();
    await moto?.stop();
  });

  const rulesOf = async (groupId: string) =>
    (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] })))
      .SecurityGroupRules ?? [];

  function run(groupId: string) {
    const deployment = testDeployment({
      region: MOTO_REGION,
      rules: [...deployedRules(), { id: "sg-default-rules", configRuleName: CONFIG_RULE }],
    });
    const instruction = testInstruction({
      problem: "sg-default-rules",
      resourceId: groupId,
      region: MOTO_REGION,
      accountId: MOTO_ACCOUNT_ID,
      matched: [
        {
          kind: "sg-default-rule",
          rule: { direction: "egress", ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" },
        },
      ],
      configRuleName: CONFIG_RULE,
      capturedAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const ledger = memoryLedger();
    const reporter = recordingReporter();
    const now = () => new Date();
    return {
      ledger,
      reporter,
      result: remediate(
        "remediate-sg",
        requestFor(instruction, { queueUrl: QUEUE_URL, dispatchedAt: new Date().toISOString() }),
        {
          ...deployedDeps({ deployment }),
          ec2,
          sqs: new SQSClient({ region: MOTO_REGION }),
          ledger,
          reporter,
          deadLetterQueueUrl: DLQ_URL,
          allowlist: [],
          now,
          log: recordingLog(),
        },
      ),
    };
  }

  it("leaves a default group that an interface uses as it is, naming the interface; revokes once it is gone", async () => {
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.43.0.0/16" }));
    const { Subnet } = await ec2.send(new CreateSubnetCommand({ VpcId: Vpc!.VpcId!, CidrBlock: "10.43.1.0/24" }));
    // An interface created without groups gets its VPC's default group, as on AWS.
    const { NetworkInterface } = await ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: Subnet!.SubnetId! }));
    const eni = NetworkInterface!.NetworkInterfaceId!;
    const { SecurityGroups = [] } = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [Vpc!.VpcId!] },
          { Name: "group-name", Values: ["default"] },
        ],
      }),
    );
    const groupId = SecurityGroups[0]!.GroupId!;
    expect(NetworkInterface!.Groups?.map((group) => group.GroupId)).toEqual([groupId]);
    const before = await rulesOf(groupId);
    expect(before.map((rule) => [rule.IsEgress, rule.IpProtocol, rule.CidrIpv4])).toEqual([[true, "-1", "0.0.0.0/0"]]);

    const inUse = run(groupId);
    const skipped = await inUse.result;
    expect(skipped).toMatchObject({
      status: "skipped",
      reason: `not revoked: 1 network interface uses default group ${groupId} (${eni}), and revoking its rules would cut their traffic. Move them to security groups of their own; the group's next evaluation then fixes it`,
    });
    expect(await rulesOf(groupId)).toEqual(before);
    expect(inUse.reporter.reports).toEqual([
      expect.objectContaining({ kind: "skipped", reason: expect.stringContaining(eni) }),
    ]);

    await ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }));
    const free = run(groupId);
    expect(await free.result).toMatchObject({ status: "fixed" });
    expect(await rulesOf(groupId)).toEqual([]);
    expect(free.ledger.writes.map((record) => record.outcome)).toEqual(["pending", "fixed"]);
  });
});
