// The real-time path for public EBS snapshots: the recorded CloudTrail call (ModifySnapshotAttribute) and Prowler's
// finding are hints; the snapshot is re-read live through its observer (EC2's recorded answers, through the SDK's
// deserializer), judged with the deployed rule, and the instruction queued is the very one the periodic scan queues
// for the same snapshot. Security Hub's own EC2.1 names the account, not a snapshot: dropped.
import { readFileSync } from "node:fs";
import {
  DescribeSnapshotAttributeCommand,
  type DescribeSnapshotAttributeCommandOutput,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandOutput,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { type Instruction, parseInstruction } from "../../../contract/instruction.ts";
import { normalizeConfigItem } from "../../../detection/config-item.ts";
import { judgeItem } from "../../../detection/judge.ts";
import { ownAccountAccess } from "../../../functions/realtime/access.ts";
import { type RealtimeDeps, runRealtime } from "../../../functions/realtime/core.ts";
import { deploymentFrom } from "../../../platform/deployment.ts";
import { snapshotInventory } from "../../../problems/ebs-snapshot-public/inventory.ts";
import { ec2OnWire, fixtureAccount } from "./wire.ts";

const T0 = new Date("2026-11-20T10:16:53.000Z");
const SNAPSHOT = "snap-0a1b2c3d4e5f60718";
const PLACE = { accountId: "123456789012", region: "us-east-1" };
const RULE = "remedy-ebs-snapshot-public";
const OWN_ROLE = "arn:aws:iam::123456789012:role/remedy-remediate-ebs-us-east-1";
const deployment = deploymentFrom({ ...PLACE, rules: [{ id: "ebs-snapshot-public", configRuleName: RULE }] });

// EC2's recorded answers as the SDK makes them, read before EC2Client is mocked below.
const wire = ec2OnWire(fixtureAccount());
const LISTED: DescribeSnapshotsCommandOutput = await wire.ec2.send(new DescribeSnapshotsCommand({}));
const PERMISSIONS: DescribeSnapshotAttributeCommandOutput = await wire.ec2.send(
  new DescribeSnapshotAttributeCommand({ SnapshotId: SNAPSHOT, Attribute: "createVolumePermission" }),
);
const PRIVATE: DescribeSnapshotAttributeCommandOutput = await wire.ec2.send(
  new DescribeSnapshotAttributeCommand({ SnapshotId: "snap-0b2c3d4e5f6071829", Attribute: "createVolumePermission" }),
);
/** The instruction the periodic scan queues for the snapshot (its inventory item judged, as a scan page does). */
const [SCAN_INSTRUCTION] = judgeItem(
  normalizeConfigItem((await snapshotInventory({ ec2: wire.ec2, now: () => T0 }).page(PLACE, undefined)).items[0]),
  deployment.rules[0]!.rule,
  deployment.rules[0]!.parameters,
  { allowlist: [], now: T0, gracePeriodMs: 0, configRuleName: RULE },
).instructions as [Instruction];

const ec2 = mockClient(EC2Client);
const sqs = mockClient(SQSClient);

function body(file: string): string {
  return readFileSync(new URL(`../../fixtures/realtime/${file}`, import.meta.url), "utf8");
}

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((text, n) => ({
      messageId: `m-${n + 1}`,
      receiptHandle: `rh-${n + 1}`,
      body: text,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1763634490000",
        SenderId: "AIDAEVENTBRIDGE",
        ApproximateFirstReceiveTimestamp: "1763634510000",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:remedy-realtime",
      awsRegion: "us-east-1",
    })),
  };
}

function deps(): RealtimeDeps & { metrics: { count(name: string, value?: number): void; seen: Map<string, number> } } {
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const seen = new Map<string, number>();
  return {
    deployment,
    access: ownAccountAccess(deployment, log, () => T0),
    sqs: new SQSClient({ region: "us-east-1" }),
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    allowlist: [],
    gracePeriodMs: 0,
    undoExemptions: async () => undefined,
    ownRoleArns: [OWN_ROLE],
    autoResponse: false,
    runCoordinator: async () => {},
    now: () => T0,
    log,
    metrics: { seen, count: (name, value = 1) => seen.set(name, (seen.get(name) ?? 0) + value) },
  };
}

function queued(): Instruction[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody ?? ""));
}

beforeEach(() => {
  ec2.reset();
  sqs.reset();
  ec2.on(DescribeSnapshotsCommand).resolves(LISTED);
  ec2.on(DescribeSnapshotAttributeCommand).resolves(PERMISSIONS);
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `q-${entry.Id}`, MD5OfMessageBody: "" })),
    Failed: [],
  }));
});

describe("ebs-snapshot-public in real time", () => {
  it("ModifySnapshotAttribute (group all added): re-read live, judged, and the scan's own instruction queued", async () => {
    const result = await runRealtime(sqsEvent(body("cloudtrail/modify-snapshot-attribute.json")), deps());
    expect(result.outcomes["m-1"]).toMatchObject([{ outcome: "queued" }]);
    expect(queued()).toHaveLength(1);
    const [instruction] = queued() as [Instruction];
    // The same instruction as the periodic scan's: one id, so whichever comes second is a duplicate.
    expect(instruction.id).toBe(SCAN_INSTRUCTION.id);
    expect(instruction).toMatchObject({
      problem: "ebs-snapshot-public",
      resource: { type: "AWS::EC2::Snapshot", id: SNAPSHOT, arn: `arn:aws:ec2:us-east-1::snapshot/${SNAPSHOT}` },
      matched: [{ kind: "ebs-snapshot-permission", group: "all" }],
      rule: { id: "ebs-snapshot-public", configRuleName: RULE },
    });
    // The live read: only the account's own snapshot of that id, then its createVolumePermission.
    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotsCommand, { SnapshotIds: [SNAPSHOT], OwnerIds: ["self"] });
    expect(ec2).toHaveReceivedCommandWith(DescribeSnapshotAttributeCommand, {
      SnapshotId: SNAPSHOT,
      Attribute: "createVolumePermission",
    });
  });

  it("Prowler's ec2_ebs_public_snapshot finding leads to the same instruction", async () => {
    const result = await runRealtime(sqsEvent(body("securityhub/prowler-ebs-public-snapshot-failed.json")), deps());
    expect(result.outcomes["m-1"]).toMatchObject([{ outcome: "queued" }]);
    expect(queued().map((instruction) => instruction.id)).toEqual([SCAN_INSTRUCTION.id]);
  });

  it("a hint the live snapshot does not bear out queues nothing (it is private again)", async () => {
    ec2.on(DescribeSnapshotAttributeCommand).resolves(PRIVATE);
    const h = deps();
    const result = await runRealtime(sqsEvent(body("cloudtrail/modify-snapshot-attribute.json")), h);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "nothing-to-fix", reason: "Remedy's judgement: not public (not shared)" },
    ]);
    expect(queued()).toEqual([]);
  });

  it("Remedy's own removal (its remediate-ebs role) is never answered", async () => {
    const result = await runRealtime(sqsEvent(body("cloudtrail/modify-snapshot-attribute-remedy-role.json")), deps());
    expect(result.outcomes["m-1"]).toEqual([{ outcome: "ignored", reason: `made by Remedy's own role ${OWN_ROLE}` }]);
    expect(ec2.calls()).toEqual([]);
  });

  it("a claimed id that is no snapshot id is never sent to EC2", async () => {
    const forged = JSON.parse(body("cloudtrail/modify-snapshot-attribute.json"));
    forged.detail.requestParameters.snapshotId = "snap-0a1b2c3d4e5f60718 --group-names all";
    const result = await runRealtime(sqsEvent(JSON.stringify(forged)), deps());
    expect(result.outcomes["m-1"]).toEqual([
      {
        outcome: "ignored",
        reason: expect.stringMatching(
          /^EBS snapshot snap-0a1b2c3d4e5f60718 --group-names all could not be read: .* is not an EBS snapshot id$/,
        ),
      },
    ]);
    expect(ec2.calls()).toEqual([]);
  });

  it("Security Hub's EC2.1 names the account, not a snapshot: dropped, nothing read", async () => {
    const result = await runRealtime(sqsEvent(body("securityhub/ec2-1-failed.json")), deps());
    expect(result.outcomes["m-1"]).toEqual({ dropped: expect.stringContaining('names control "EC2.1"') });
    expect(ec2.calls()).toEqual([]);
  });
});
