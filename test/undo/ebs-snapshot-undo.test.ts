// Undoing a removal of public sharing (problems/ebs-snapshot-public/undo.ts): from a genuine record the remediation
// wrote, `remedy undo` adds back exactly the group all (ModifySnapshotAttribute add, no account named) when it is
// missing live, records the undo, and names the entry its temporary exemption keeps as restored. A record that is not
// what a fix does is refused; a snapshot that is gone cannot be undone.
import {
  DescribeSnapshotAttributeCommand,
  type DescribeSnapshotAttributeCommandOutput,
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandOutput,
  EC2Client,
  ModifySnapshotAttributeCommand,
} from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { describeUndo, planUndo, UndoError, undoAction } from "../../cli/undo-runner.ts";
import { type LedgerRecord, memoryLedger } from "../../contract/ledger.ts";
import { deploymentFrom } from "../../platform/deployment.ts";
import type { SnapshotPermissionsLive } from "../../problems/ebs-snapshot-public/undo.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { ec2OnWire, fixtureAccount } from "../problems/ebs-snapshot-public/wire.ts";
import {
  ACCOUNT,
  ACTION_ID,
  awsError,
  deployedDeps,
  REGION,
  recordingReporter,
  requestFor,
  T0,
  TEST_MAC_KEY_ID,
  testSigner,
} from "../remediation/support.ts";
import { testInstruction } from "../support/instructions.ts";
import { remediate } from "../support/remediate.ts";

const SNAPSHOT = "snap-0a1b2c3d4e5f60718";
const UNDO_ID = "act-20261120T120000Z-0000cafe";

// EC2's recorded answers as the SDK makes them, read before EC2Client is mocked below.
const wire = ec2OnWire(fixtureAccount());
const LISTED: DescribeSnapshotsCommandOutput = await wire.ec2.send(new DescribeSnapshotsCommand({}));
const PUBLIC_AND_SHARED: DescribeSnapshotAttributeCommandOutput = await wire.ec2.send(
  new DescribeSnapshotAttributeCommand({ SnapshotId: SNAPSHOT, Attribute: "createVolumePermission" }),
);
const SHARED: DescribeSnapshotAttributeCommandOutput = {
  ...PUBLIC_AND_SHARED,
  CreateVolumePermissions: [{ UserId: "111122223333" }],
};

const ec2Mock = mockClient(EC2Client);
const sqsMock = mockClient(SQSClient);
afterAll(() => {
  ec2Mock.restore();
  sqsMock.restore();
});

function undoDeps(ledger: ReturnType<typeof memoryLedger>) {
  return {
    ec2: new EC2Client({}),
    s3: new S3Client({}),
    client: <C>(Client: new (config: object) => C) => new Client({}),
    ledger,
    verifier: testSigner(),
    macKeyId: TEST_MAC_KEY_ID,
    now: () => new Date("2026-11-20T12:00:00.000Z"),
    log: recordingLog(),
    newActionId: () => UNDO_ID,
  };
}

/** A genuine, signed record of remediate-ebs removing all from the fixture snapshot; then the snapshot as left. */
async function fixedAction(live: DescribeSnapshotAttributeCommandOutput = SHARED) {
  const ledger = memoryLedger(testSigner());
  let modified = false;
  ec2Mock.on(DescribeSnapshotsCommand).resolves(LISTED);
  ec2Mock.on(DescribeSnapshotAttributeCommand).callsFake(() => (modified ? SHARED : PUBLIC_AND_SHARED));
  ec2Mock.on(ModifySnapshotAttributeCommand).callsFake(() => {
    modified = true;
    return {};
  });
  sqsMock.on(DeleteMessageCommand).resolves({});
  const instruction = testInstruction({
    problem: "ebs-snapshot-public",
    resourceId: SNAPSHOT,
    accountId: ACCOUNT,
    region: REGION,
    withArn: true,
    configRuleName: "remedy-ebs-snapshot-public",
    parameters: {},
    capturedAt: "2026-11-20T10:00:00.000Z",
  });
  const result = await remediate("remediate-ebs", requestFor(instruction), {
    ...deployedDeps({
      deployment: deploymentFrom({
        accountId: ACCOUNT,
        region: REGION,
        rules: [{ id: "ebs-snapshot-public", configRuleName: "remedy-ebs-snapshot-public" }],
      }),
    }),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter: recordingReporter(),
    deadLetterQueueUrl: "dlq",
    allowlist: [],
    now: () => T0,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  });
  expect(result.status).toBe("fixed");
  ec2Mock.reset();
  ec2Mock.on(DescribeSnapshotAttributeCommand).resolves(live);
  ec2Mock.on(ModifySnapshotAttributeCommand).resolves({});
  return ledger;
}

beforeEach(() => {
  ec2Mock.reset();
  sqsMock.reset();
});

describe("undo: EBS snapshots", () => {
  it("adds back exactly the group all, names no account, ledgers the undo and names the entry it restored", async () => {
    const ledger = await fixedAction();
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result).toMatchObject({ actionId: UNDO_ID, undoes: ACTION_ID, outcome: "fixed" });
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifySnapshotAttributeCommand, 1);
    expect(ec2Mock.commandCalls(ModifySnapshotAttributeCommand)[0]!.args[0].input).toEqual({
      SnapshotId: SNAPSHOT,
      Attribute: "createVolumePermission",
      OperationType: "add",
      GroupNames: ["all"],
    });
    expect(await ledger.read(UNDO_ID)).toMatchObject({
      outcome: "fixed",
      undoes: ACTION_ID,
      before: {
        kind: "ebs-snapshot-permissions",
        snapshotId: SNAPSHOT,
        createVolumePermissions: [{ UserId: "111122223333" }],
      },
      after: {
        kind: "ebs-snapshot-permissions",
        snapshotId: SNAPSHOT,
        createVolumePermissions: [{ UserId: "111122223333" }, { Group: "all" }],
      },
      changes: [{ kind: "restored", summary: expect.stringContaining("added back: createVolumePermission group all") }],
    });
    // What undo's temporary exemption lists, so the next scan leaves the snapshot as restored.
    expect(result.restored).toEqual({
      entries: [{ problem: "ebs-snapshot-public", entry: { kind: "ebs-snapshot-permission", group: "all" } }],
      unnamed: [],
    });
  });

  it("undo twice changes nothing: the snapshot is public again already", async () => {
    const ledger = await fixedAction(PUBLIC_AND_SHARED);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.outcome).toBe("skipped");
    expect(ec2Mock).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
  });

  it("shows what it will add back, and that the accounts it is shared with stay", async () => {
    const ledger = await fixedAction();
    const record = await ledger.read(ACTION_ID);
    const live: SnapshotPermissionsLive = {
      kind: "ebs-snapshot-permissions",
      snapshotId: SNAPSHOT,
      createVolumePermissions: [{ UserId: "111122223333" }, { UserId: "444455556666" }],
    };
    const text = describeUndo(planUndo(record, live));
    expect(text).toContain(`add back createVolumePermission group all (every AWS account) on ${SNAPSHOT}`);
    expect(text).toContain("account 111122223333, account 444455556666; those stay as they are");
  });

  it("a snapshot that is gone cannot be undone", async () => {
    const ledger = await fixedAction();
    ec2Mock
      .on(DescribeSnapshotAttributeCommand)
      .rejects(awsError("InvalidSnapshot.NotFound", 400, `The snapshot '${SNAPSHOT}' does not exist.`));
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(
      `${ACTION_ID} is not undone: snapshot ${SNAPSHOT} no longer exists (InvalidSnapshot.NotFound)`,
    );
    expect(ec2Mock).not.toHaveReceivedCommand(ModifySnapshotAttributeCommand);
  });

  it("refuses a record that is not what a fix does (before − changes ≠ after, another snapshot, an account)", async () => {
    const ledger = await fixedAction();
    const record = await ledger.read(ACTION_ID);
    const live: SnapshotPermissionsLive = {
      kind: "ebs-snapshot-permissions",
      snapshotId: SNAPSHOT,
      createVolumePermissions: [],
    };
    const state = (createVolumePermissions: { Group?: string; UserId?: string }[], snapshotId = SNAPSHOT) => ({
      kind: "ebs-snapshot-permissions" as const,
      snapshotId,
      createVolumePermissions,
    });
    const cases: [Partial<LedgerRecord>, string][] = [
      [{ before: state([{ UserId: "111122223333" }]) }, "its before-state does not hold the group all"],
      [
        { before: state([{ Group: "all" }], "snap-0b2c3d4e5f6071829") },
        "its before-state is for snapshot snap-0b2c3d4e5f6071829",
      ],
      [{ after: state([{ Group: "all" }]) }, "its after-state is not snap-0a1b2c3d4e5f60718 without the group all"],
      [
        {
          changes: [
            { kind: "ebs-snapshot-permissions-removed", snapshotId: "snap-0b2c3d4e5f6071829", groups: ["all"] },
          ],
        },
        "its change is of snapshot snap-0b2c3d4e5f6071829",
      ],
      [{ changes: [] }, "its changes (none) are not the one ebs-snapshot-permissions-removed a fix makes"],
    ];
    for (const [change, message] of cases) {
      expect(() => planUndo({ ...record, ...change } as LedgerRecord, live), message).toThrow(UndoError);
      expect(() => planUndo({ ...record, ...change } as LedgerRecord, live)).toThrow(message);
    }
  });
});
