// The real-time path on public snapshots, with RDS mocked: the recorded CloudTrail calls that make a DB snapshot or a
// DB cluster snapshot public, and the Security Hub and Prowler findings that hint at one, each lead to a live read and
// exactly the instruction the Config path queues for the same snapshot (same id, same entry), and to nothing when
// the live snapshot is not public; Remedy's own call is ignored.
import { readFileSync } from "node:fs";
import {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type Instruction, parseInstruction } from "../../contract/instruction.ts";
import { judgeItem } from "../../detection/judge.ts";
import { ownAccountAccess } from "../../functions/realtime/access.ts";
import { type RealtimeDeps, runRealtime } from "../../functions/realtime/core.ts";
import { readRealtimeEvent } from "../../functions/realtime/events.ts";
import { deployedRuleFor } from "../../platform/deployment.ts";
import {
  CLUSTER_FOLDER,
  CLUSTER_SNAPSHOT_ID,
  DB_FOLDER,
  DB_SNAPSHOT_ID,
  PARTNER,
  rdsDeployment,
  snapshotItem,
} from "../problems/rds-snapshot-public/support.ts";
import { ACCOUNT, REGION } from "../remediation/support.ts";

const T0 = new Date("2026-11-20T10:41:00.000Z");
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
const OWN_ROLE = "arn:aws:iam::123456789012:role/remedy-remediate-rds-us-east-1";
const rds = mockClient(RDSClient);
const sqs = mockClient(SQSClient);

const body = (path: string) => readFileSync(`test/fixtures/realtime/${path}.json`, "utf8");

function sqsEvent(...bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((text, n) => ({
      messageId: `m-${n + 1}`,
      receiptHandle: `rh-${n + 1}`,
      body: text,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1763635260000",
        SenderId: "AIDAEVENTBRIDGE",
        ApproximateFirstReceiveTimestamp: "1763635280000",
      },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:remedy-realtime`,
      awsRegion: REGION,
    })),
  };
}

function harness() {
  const deployment = rdsDeployment();
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const metrics = new Map<string, number>();
  const asks: number[] = [];
  const deps: RealtimeDeps = {
    deployment,
    access: ownAccountAccess(deployment, log, () => T0),
    sqs: new SQSClient({ region: REGION }),
    queueUrl: QUEUE_URL,
    allowlist: [],
    gracePeriodMs: 0,
    undoExemptions: async () => undefined,
    ownRoleArns: [OWN_ROLE],
    autoResponse: true,
    runCoordinator: async ({ queued }) => {
      asks.push(queued);
    },
    now: () => T0,
    log,
    metrics: { count: (name, value = 1) => metrics.set(name, (metrics.get(name) ?? 0) + value) },
  };
  return { deps, metrics, asks };
}

/** The snapshot live: its restore attribute `values`, tags as the fixtures' item has them. */
function live(cluster: boolean, id: string, values: string[]) {
  const list = [{ AttributeName: "restore", AttributeValues: values }];
  const TagList = [{ Key: "team", Value: cluster ? "ledger" : "orders" }];
  if (cluster) {
    rds
      .on(DescribeDBClusterSnapshotsCommand, { DBClusterSnapshotIdentifier: id })
      .resolves({ DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: id, SnapshotType: "manual", TagList }] });
    rds.on(DescribeDBClusterSnapshotAttributesCommand, { DBClusterSnapshotIdentifier: id }).resolves({
      DBClusterSnapshotAttributesResult: { DBClusterSnapshotIdentifier: id, DBClusterSnapshotAttributes: list },
    });
  } else {
    rds
      .on(DescribeDBSnapshotsCommand, { DBSnapshotIdentifier: id })
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: id, SnapshotType: "manual", TagList }] });
    rds
      .on(DescribeDBSnapshotAttributesCommand, { DBSnapshotIdentifier: id })
      .resolves({ DBSnapshotAttributesResult: { DBSnapshotIdentifier: id, DBSnapshotAttributes: list } });
  }
}

function queued(): Instruction[] {
  return sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody ?? ""));
}

/** The instruction the Config rule queues for the fixture item of the same snapshot. */
function configPathInstruction(folder: string, problem: string) {
  const deployment = rdsDeployment();
  const deployed = deployedRuleFor(deployment, "rds-snapshot-public")!;
  const judgement = judgeItem(snapshotItem(folder, "public-and-shared"), deployed.rule, deployed.parameters, {
    allowlist: [],
    now: T0,
    gracePeriodMs: 0,
    configRuleName: deployed.configRuleName,
  });
  const [instruction] = judgement.instructions;
  expect(instruction?.problem).toBe(problem);
  return instruction!;
}

beforeEach(() => {
  rds.reset();
  sqs.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `q-${entry.Id}`, MD5OfMessageBody: "" })),
    Failed: [],
  }));
});
afterAll(() => {
  rds.restore();
  sqs.restore();
});

describe("the recorded calls that make a snapshot public", () => {
  it.each([
    ["cloudtrail/modify-db-snapshot-attribute", "rds-snapshot-public", "AWS::RDS::DBSnapshot", DB_SNAPSHOT_ID],
    [
      "cloudtrail/modify-db-cluster-snapshot-attribute",
      "rds-cluster-snapshot-public",
      "AWS::RDS::DBClusterSnapshot",
      CLUSTER_SNAPSHOT_ID,
    ],
  ])("%s names its snapshot by its identifier", (path, problem, type, id) => {
    const read = readRealtimeEvent(body(path));
    if (!("sightings" in read)) throw new Error(read.dropped);
    expect(read.sightings).toMatchObject([
      { kind: "resource", source: "cloudtrail", problems: [problem], resourceType: type, resourceId: id },
    ]);
  });

  it.each([
    ["cloudtrail/modify-db-snapshot-attribute", DB_FOLDER, "rds-snapshot-public", false, DB_SNAPSHOT_ID],
    [
      "cloudtrail/modify-db-cluster-snapshot-attribute",
      CLUSTER_FOLDER,
      "rds-cluster-snapshot-public",
      true,
      CLUSTER_SNAPSHOT_ID,
    ],
  ])(
    "%s: the live snapshot public, exactly the Config path's instruction is queued",
    async (path, folder, problem, cluster, id) => {
      live(cluster, id, ["all", PARTNER]);
      const h = harness();
      const result = await runRealtime(sqsEvent(body(path)), h.deps);
      expect(result.batchItemFailures).toEqual([]);
      const [instruction, ...rest] = queued();
      expect(rest).toEqual([]);
      const fromConfig = configPathInstruction(folder, problem);
      expect(instruction!.id).toBe(fromConfig.id);
      expect(instruction!.matched).toEqual(fromConfig.matched);
      expect(instruction).toMatchObject({ problem, resource: { id }, capturedAt: T0.toISOString() });
      expect(h.asks).toEqual([1]);
    },
  );

  it("the live snapshot already private again: nothing queued, and why", async () => {
    live(false, DB_SNAPSHOT_ID, [PARTNER]);
    const h = harness();
    const result = await runRealtime(sqsEvent(body("cloudtrail/modify-db-snapshot-attribute")), h.deps);
    expect(queued()).toEqual([]);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "nothing-to-fix", reason: "Remedy's judgement: not public: shared with 1 account by id only" },
    ]);
  });

  it("Remedy's own call (its remediate-rds role) is ignored before anything is read", async () => {
    const event = JSON.parse(body("cloudtrail/modify-db-snapshot-attribute"));
    event.detail.userIdentity = {
      type: "AssumedRole",
      arn: "arn:aws:sts::123456789012:assumed-role/remedy-remediate-rds-us-east-1/remedy",
      sessionContext: { sessionIssuer: { type: "Role", arn: OWN_ROLE } },
    };
    const result = await runRealtime(sqsEvent(JSON.stringify(event)), harness().deps);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "ignored", reason: expect.stringMatching(/Remedy's own role/) },
    ]);
    expect(rds.calls()).toEqual([]);
  });
});

describe("the recorded findings that hint at a public snapshot", () => {
  it.each([
    ["securityhub/rds-1-failed", "RDS.1", "AWS::RDS::DBSnapshot", DB_SNAPSHOT_ID],
    ["securityhub/rds-1-standard-failed", "RDS.1", "AWS::RDS::DBSnapshot", DB_SNAPSHOT_ID],
    ["securityhub/neptune-3-failed", "Neptune.3", "AWS::RDS::DBClusterSnapshot", CLUSTER_SNAPSHOT_ID],
    [
      "securityhub/prowler-rds-snapshot-public-failed",
      "prowler-rds_snapshots_public_access",
      "AWS::RDS::DBSnapshot",
      DB_SNAPSHOT_ID,
    ],
  ])("%s: a %s hint at %s %s, queued only when Remedy's judgement agrees", async (path, trigger, type, id) => {
    const read = readRealtimeEvent(body(path));
    if (!("sightings" in read)) throw new Error(read.dropped);
    expect(read.sightings).toMatchObject([
      { kind: "resource", source: "securityhub", trigger, resourceType: type, resourceId: id },
    ]);
    const cluster = type === "AWS::RDS::DBClusterSnapshot";

    live(cluster, id, ["all", PARTNER]);
    await runRealtime(sqsEvent(body(path)), harness().deps);
    expect(queued().map((i) => [i.resource.type, i.resource.id, i.matched])).toEqual([
      [type, id, [{ kind: cluster ? "rds-cluster-snapshot-restore" : "rds-snapshot-restore", value: "all" }]],
    ]);

    rds.reset();
    sqs.resetHistory();
    live(cluster, id, [PARTNER]);
    const h = harness();
    const result = await runRealtime(sqsEvent(body(path)), h.deps);
    expect(queued()).toEqual([]);
    expect(result.outcomes["m-1"]).toEqual([
      { outcome: "nothing-to-fix", reason: expect.stringMatching(/^Remedy's judgement: not public/) },
    ]);
    expect(h.metrics.get("DisagreedFindings")).toBe(1);
  });
});
