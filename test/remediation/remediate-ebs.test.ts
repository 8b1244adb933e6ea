// remediate-ebs: the one runner with the ebs-snapshot-public fix, on EC2's recorded answers (test/fixtures/
// ec2-snapshots/, as the SDK makes them) and mocked writes. The exact API inputs: one ModifySnapshotAttribute that
// removes the group all and names no account; the ledger's before-state is the whole permission list as read, its
// after-state the list read back; stale, exempt, gone and foreign snapshots are left alone.
import {
  DescribeSnapshotAttributeCommand,
  type DescribeSnapshotAttributeCommandOutput,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandOutput,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { Instruction } from "../../contract/instruction.ts";
import { parseAllowlist } from "../../detection/exemptions.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { deploymentFrom } from "../../platform/deployment.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { ec2OnWire, fixtureAccount } from "../problems/ebs-snapshot-public/wire.ts";
import { testInstruction } from "../support/instructions.ts";
import { remediate, type TestRemediationDeps } from "../support/remediate.ts";
import {
  ACCOUNT,
  ACTION_ID,
  awsError,
  DLQ_URL,
  deployedDeps,
  QUEUE_URL,
  REGION,
  recordingReporter,
  requestFor,
  T0,
  testLedger,
} from "./support.ts";

const SNAPSHOT = "snap-0a1b2c3d4e5f60718";
const RULE = "remedy-ebs-snapshot-public";
const deployment = deploymentFrom({
  accountId: ACCOUNT,
  region: REGION,
  rules: [{ id: "ebs-snapshot-public", configRuleName: RULE }],
});

// EC2's recorded answers as the SDK makes them, read before EC2Client is mocked below.
const wire = ec2OnWire(fixtureAccount());
const LISTED: DescribeSnapshotsCommandOutput = await wire.ec2.send(new DescribeSnapshotsCommand({}));
const attribute = (SnapshotId: string): Promise<DescribeSnapshotAttributeCommandOutput> =>
  wire.ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId, Attribute: "createVolumePermission" }));
/** Shared with 111122223333 and public. */
const PUBLIC_AND_SHARED = await attribute(SNAPSHOT);
/** Shared with 444455556666 only (another snapshot's answer, made this one's). */
const SHARED_ONLY = { ...(await attribute("snap-0c3d4e5f607182930")), SnapshotId: SNAPSHOT };

const ec2Mock = mockClient(EC2Client);
const sqsMock = mockClient(SQSClient);
afterAll(() => {
  ec2Mock.restore();
  sqsMock.restore();
});

function instruction(resourceId = SNAPSHOT): Instruction {
  return testInstruction({
    problem: "ebs-snapshot-public",
    resourceId,
    accountId: ACCOUNT,
    region: REGION,
    withArn: true,
    configRuleName: RULE,
    parameters: {},
    capturedAt: "2026-11-20T10:00:00.000Z",
    detectedAt: "2026-11-20T10:00:05.000Z",
  });
}

/** The account's snapshots as listed, the fixture snapshot's permissions before the fix and after it. */
function setup(options: { after?: DescribeSnapshotAttributeCommandOutput; allowlist?: unknown[] } = {}) {
  ec2Mock.reset();
  sqsMock.reset();
  const events: string[] = [];
  let modified = false;
  const after = options.after ?? { ...PUBLIC_AND_SHARED, CreateVolumePermissions: [{ UserId: "111122223333" }] };
  ec2Mock.on(DescribeSnapshotsCommand).resolves(LISTED);
  ec2Mock.on(DescribeSnapshotAttributeCommand).callsFake(() => (modified ? after : PUBLIC_AND_SHARED));
  ec2Mock.on(ModifySnapshotAttributeCommand).callsFake(() => {
    events.push("modify");
    modified = true;
    return { $metadata: {} };
  });
  sqsMock.on(DeleteMessageCommand).callsFake(() => {
    events.push("delete");
    return {};
  });
  sqsMock.on(SendMessageCommand).callsFake(() => {
    events.push("dlq");
    return { MessageId: "dlq-1" };
  });
  const ledger = testLedger(events);
  const reporter = recordingReporter({ fail: false });
  const deps: TestRemediationDeps = {
    ...deployedDeps({ deployment }),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: parseAllowlist(options.allowlist ?? []).entries,
    now: () => T0,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  };
  return { deps, ledger, reporter, events };
}

function sentCommands(): string[] {
  return [...ec2Mock.calls(), ...sqsMock.calls()].map((call) => call.args[0].constructor.name);
}

beforeEach(() => {
  ec2Mock.reset();
  sqsMock.reset();
});

describe("remediate-ebs: fixing a public snapshot", () => {
  it("removes exactly the group all (no account named), records the whole list before and after, deletes and reports", async () => {
    const t = setup();
    const request = requestFor(instruction());
    const result = await remediate("remediate-ebs", request, t.deps);

    expect(result).toMatchObject({ status: "fixed", actionId: ACTION_ID, messageDeleted: true });
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 1);
    expect(ec2Mock.commandCalls(ModifySnapshotAttributeCommand)[0]!.args[0].input).toEqual({
      SnapshotId: SNAPSHOT,
      Attribute: "createVolumePermission",
      OperationType: "remove",
      GroupNames: ["all"],
    });
    // Read live first: the account's own snapshot of that id (its tags), then its permissions; read back after.
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      SnapshotIds: [SNAPSHOT],
      OwnerIds: ["self"],
    });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSnapshotAttributeCommand, 2);
    expect(t.events).toEqual(["ledger:pending", "modify", "ledger:fixed", "delete"]);

    const [pending, fixed] = t.ledger.writes;
    expect(pending).toMatchObject({ outcome: "pending", instructionId: request.instruction.id, after: null });
    expect(pending!.before).toEqual({
      kind: "ebs-snapshot-permissions",
      snapshotId: SNAPSHOT,
      createVolumePermissions: [{ UserId: "111122223333" }, { Group: "all" }],
    });
    expect(fixed).toMatchObject({
      outcome: "fixed",
      problem: "ebs-snapshot-public",
      resource: { type: "AWS::EC2::Snapshot", id: SNAPSHOT, accountId: ACCOUNT },
      ruleId: "ebs-snapshot-public",
      before: pending!.before,
      after: {
        kind: "ebs-snapshot-permissions",
        snapshotId: SNAPSHOT,
        createVolumePermissions: [{ UserId: "111122223333" }],
      },
    });
    const change = { kind: "ebs-snapshot-permissions-removed", snapshotId: SNAPSHOT, groups: ["all"] };
    expect(fixed!.changes).toEqual([change]);
    expect(t.reporter.reports).toMatchObject([{ kind: "fixed", problem: "ebs-snapshot-public", changes: [change] }]);
    expect(sqsMock).toHaveReceivedCommandWith(DeleteMessageCommand, {
      QueueUrl: QUEUE_URL,
      ReceiptHandle: "receipt-handle-1",
    });
  });

  it("a stale instruction changes nothing: the snapshot is no longer public (the shared account stays as it is)", async () => {
    const t = setup();
    ec2Mock.on(DescribeSnapshotAttributeCommand).resolves(SHARED_ONLY);
    const result = await remediate("remediate-ebs", requestFor(instruction()), t.deps);
    expect(result).toMatchObject({
      status: "skipped",
      reason: `nothing to do: none of the 1 instructed entries is still public on ${SNAPSHOT}`,
    });
    expect(ec2Mock).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
  });

  it("an exemption is checked against the live tags (DescribeSnapshots) and the allowlist before anything changes", async () => {
    const tagged = {
      ...LISTED,
      Snapshots: LISTED.Snapshots!.map((snapshot) =>
        snapshot.SnapshotId === SNAPSHOT
          ? {
              ...snapshot,
              Tags: [
                ...(snapshot.Tags ?? []),
                { Key: "remedy:exempt", Value: "DR drill, ticket OPS-12 until=2027-01-31" },
              ],
            }
          : snapshot,
      ),
    };
    const byTag = setup();
    ec2Mock.on(DescribeSnapshotsCommand).resolves(tagged);
    expect(await remediate("remediate-ebs", requestFor(instruction()), byTag.deps)).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/DR drill, ticket OPS-12/),
    });
    const byAllowlist = setup({
      allowlist: [
        {
          resource: `arn:aws:ec2:${REGION}::snapshot/${SNAPSHOT}`,
          problems: ["ebs-snapshot-public"],
          reason: "public AMI source",
          owner: "platform",
          expires: "2027-06-30",
        },
      ],
    });
    expect(await remediate("remediate-ebs", requestFor(instruction()), byAllowlist.deps)).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/public AMI source/),
    });
    expect(ec2Mock).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
  });

  it("a snapshot that is gone (InvalidSnapshot.NotFound), or that is not the account's, is skipped", async () => {
    const gone = setup();
    ec2Mock
      .on(DescribeSnapshotsCommand)
      .rejects(awsError("InvalidSnapshot.NotFound", 400, `The snapshot '${SNAPSHOT}' does not exist.`));
    expect(await remediate("remediate-ebs", requestFor(instruction()), gone.deps)).toMatchObject({
      status: "skipped",
      reason: "nothing to do: the resource no longer exists (InvalidSnapshot.NotFound)",
    });
    const foreign = setup();
    ec2Mock.on(DescribeSnapshotsCommand).resolves({
      Snapshots: LISTED.Snapshots!.map((snapshot) => ({ ...snapshot, OwnerId: "999988887777" })),
    });
    expect(await remediate("remediate-ebs", requestFor(instruction()), foreign.deps)).toMatchObject({
      status: "skipped",
      reason: `nothing to do: EBS snapshot ${SNAPSHOT} no longer exists`,
    });
    expect(ec2Mock).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
  });

  it("a resource id that is no snapshot id is refused before EC2 is asked (dead-lettered)", async () => {
    const t = setup();
    const result = await remediate("remediate-ebs", requestFor(instruction("snap-0a1b2c3d4e5f60718;all")), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "permanent" });
    expect(ec2Mock.calls()).toEqual([]);
    expect(t.events).toContain("dlq");
  });

  it("an after-state that still lists all (read three times) is a transient failure: the message comes back", async () => {
    const t = setup({ after: PUBLIC_AND_SHARED });
    const result = await remediate("remediate-ebs", requestFor(instruction()), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient" });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSnapshotAttributeCommand, 4);
    const failed = t.ledger.writes.at(-1)!;
    expect(failed).toMatchObject({
      outcome: "failed",
      before: { kind: "ebs-snapshot-permissions", snapshotId: SNAPSHOT },
    });
    expect(t.events).not.toContain("delete");
  });

  it("sends only commands its function declares", async () => {
    const t = setup();
    await remediate("remediate-ebs", requestFor(instruction()), t.deps);
    for (const command of sentCommands())
      expect(Object.keys(FUNCTIONS["remediate-ebs"].permissions)).toContain(command);
  });
});
