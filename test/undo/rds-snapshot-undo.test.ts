// Undo of the public-snapshot fixes (problems/rds-snapshot-public/undo.ts, and the cluster snapshot's built the same
// way): a genuine record of the real remediate-rds, undone with RDS mocked. "all" goes back into the restore
// attribute (ValuesToAdd ["all"] only), the accounts the snapshot is shared with now stay; already public is skipped,
// a gone snapshot refused, tampered records refused, and the undo's exemption names exactly the entry it put back.
import { EC2Client } from "@aws-sdk/client-ec2";
import {
  DBSnapshotNotFoundFault,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { describeUndo, planUndo, UndoError, undoAction } from "../../cli/undo-runner.ts";
import { type LedgerRecord, memoryLedger } from "../../contract/ledger.ts";
import type { Problem } from "../../problems/index.ts";
import { undo as clusterSnapshotUndo } from "../../problems/rds-cluster-snapshot-public/undo.ts";
import { undo as dbSnapshotUndo, type SnapshotLive } from "../../problems/rds-snapshot-public/undo.ts";
import { undoFor } from "../../problems/undo.ts";
import { restoredEntries } from "../../problems/undo-entries.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  CLUSTER_SNAPSHOT_ID,
  DB_SNAPSHOT_ID,
  PARTNER,
  RDS_CONFIG_RULE,
  rdsDeployment,
} from "../problems/rds-snapshot-public/support.ts";
import {
  ACTION_ID,
  DLQ_URL,
  deployedDeps,
  recordingReporter,
  requestFor,
  signRecord,
  T0,
  TEST_MAC_KEY_ID,
  testSigner,
} from "../remediation/support.ts";
import { testInstruction } from "../support/instructions.ts";
import { remediate } from "../support/remediate.ts";

const rdsMock = mockClient(RDSClient);
const sqsMock = mockClient(SQSClient);
const UNDO_ID = "act-20261120T120000Z-0000cafe";
const OTHER = "345678901234";

beforeEach(() => {
  rdsMock.reset();
  sqsMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
});
afterAll(() => {
  rdsMock.restore();
  sqsMock.restore();
});

/** A kind's command, as the mock types one (it takes one command class at a time). */
const command = (Command: unknown) => Command as typeof DescribeDBSnapshotsCommand;

const KINDS = [
  {
    problem: "rds-snapshot-public",
    id: DB_SNAPSHOT_ID,
    cluster: false,
    undo: dbSnapshotUndo,
    stateKind: "rds-snapshot",
    matchedKind: "rds-snapshot-restore",
    noun: "DB snapshot",
    Describe: command(DescribeDBSnapshotsCommand),
    Attributes: command(DescribeDBSnapshotAttributesCommand),
    Modify: command(ModifyDBSnapshotAttributeCommand),
    idField: "DBSnapshotIdentifier",
  },
  {
    problem: "rds-cluster-snapshot-public",
    id: CLUSTER_SNAPSHOT_ID,
    cluster: true,
    undo: clusterSnapshotUndo,
    stateKind: "rds-cluster-snapshot",
    matchedKind: "rds-cluster-snapshot-restore",
    noun: "DB cluster snapshot",
    Describe: command(DescribeDBClusterSnapshotsCommand),
    Attributes: command(DescribeDBClusterSnapshotAttributesCommand),
    Modify: command(ModifyDBClusterSnapshotAttributeCommand),
    idField: "DBClusterSnapshotIdentifier",
  },
] as const;
type Kind = (typeof KINDS)[number];

function attributes(kind: Kind, values: string[]): never {
  const list = [{ AttributeName: "restore", AttributeValues: values }];
  return (
    kind.cluster
      ? {
          DBClusterSnapshotAttributesResult: {
            DBClusterSnapshotIdentifier: kind.id,
            DBClusterSnapshotAttributes: list,
          },
        }
      : { DBSnapshotAttributesResult: { DBSnapshotIdentifier: kind.id, DBSnapshotAttributes: list } }
  ) as never;
}

/** The snapshot live: described, its restore attribute `values`; a write answers with what it leaves. */
function liveSnapshot(kind: Kind, values: string[]) {
  rdsMock
    .on(kind.Describe)
    .resolves(
      (kind.cluster
        ? { DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: kind.id, SnapshotType: "manual", TagList: [] }] }
        : { DBSnapshots: [{ DBSnapshotIdentifier: kind.id, SnapshotType: "manual", TagList: [] }] }) as never,
    );
  rdsMock.on(kind.Attributes).resolves(attributes(kind, values));
  rdsMock.on(kind.Modify).callsFake((input: { ValuesToAdd?: string[]; ValuesToRemove?: string[] }) => {
    const after = [
      ...values.filter((value) => !(input.ValuesToRemove ?? []).includes(value)),
      ...(input.ValuesToAdd ?? []),
    ];
    return attributes(kind, after);
  });
}

/** The real remediate-rds, into a ledger that signs as the remediation role does; then the snapshot as it left it. */
async function fixedAction(kind: Kind) {
  const ledger = memoryLedger(testSigner());
  liveSnapshot(kind, ["all", PARTNER]);
  const instruction = testInstruction({
    problem: kind.problem as Problem,
    resourceId: kind.id,
    withArn: true,
    configRuleName: RDS_CONFIG_RULE,
    parameters: {},
    capturedAt: "2026-11-20T10:00:00.000Z",
  });
  const result = await remediate("remediate-rds", requestFor(instruction), {
    ...deployedDeps({ deployment: rdsDeployment() }),
    sqs: new SQSClient({}),
    ledger,
    reporter: recordingReporter(),
    deadLetterQueueUrl: DLQ_URL,
    allowlist: [],
    now: () => T0,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  });
  expect(result.status).toBe("fixed");
  rdsMock.reset();
  liveSnapshot(kind, [PARTNER]);
  return ledger;
}

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

describe.each(KINDS.map((kind) => [kind.noun, kind] as const))("undo of a %s fix", (noun, kind) => {
  it("is the undo of its resource type's before-state, found through the registry", () => {
    expect(undoFor(kind.stateKind).undo).toBe(kind.undo);
    expect(undoFor(kind.stateKind).problems).toEqual([kind.problem]);
  });

  it("puts back exactly all (ValuesToAdd, never an account id), keeping the accounts shared now", async () => {
    const ledger = await fixedAction(kind);
    // Shared with one more account since the fix: that stays.
    liveSnapshot(kind, [PARTNER, OTHER]);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));

    expect(result).toMatchObject({
      actionId: UNDO_ID,
      undoes: ACTION_ID,
      outcome: "fixed",
      steps: ['re-added: restore access for every AWS account ("all")'],
      restored: { entries: [{ problem: kind.problem, entry: { kind: kind.matchedKind, value: "all" } }], unnamed: [] },
    });
    expect(rdsMock.commandCalls(kind.Modify).map((call) => call.args[0].input)).toEqual([
      { [kind.idField]: kind.id, AttributeName: "restore", ValuesToAdd: ["all"] },
    ]);
    expect(await ledger.read(UNDO_ID)).toMatchObject({
      outcome: "fixed",
      undoes: ACTION_ID,
      before: { kind: kind.stateKind, snapshot: kind.id, restore: [PARTNER, OTHER] },
      after: { kind: kind.stateKind, snapshot: kind.id, restore: [PARTNER, OTHER, "all"] },
      changes: [{ kind: "restored" }],
    });
    // The fix's record stays as it was.
    expect((await ledger.read(ACTION_ID)).outcome).toBe("fixed");
  });

  it("already public again: skipped, nothing written", async () => {
    const ledger = await fixedAction(kind);
    liveSnapshot(kind, ["all", PARTNER]);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result).toMatchObject({
      outcome: "skipped",
      steps: ['already present: restore access for every AWS account ("all")'],
    });
    expect(rdsMock).not.toHaveReceivedCommand(kind.Modify);
  });

  it("a snapshot that is gone is refused, nothing written", async () => {
    const ledger = await fixedAction(kind);
    rdsMock.on(kind.Describe).rejects(
      Object.assign(
        new DBSnapshotNotFoundFault({ message: `${kind.id} not found.`, $metadata: { httpStatusCode: 404 } }),
        {
          Code: kind.cluster ? "DBClusterSnapshotNotFoundFault" : "DBSnapshotNotFound",
        },
      ),
    );
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(
      new RegExp(`${ACTION_ID} is not undone: ${noun} ${kind.id} no longer exists`),
    );
    expect(rdsMock).not.toHaveReceivedCommand(kind.Modify);
  });

  it("a write whose answer does not list all is a failed undo", async () => {
    const ledger = await fixedAction(kind);
    rdsMock.on(kind.Modify).resolves(attributes(kind, [PARTNER]));
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(UndoError);
    expect((await ledger.read(UNDO_ID)).outcome).toBe("failed");
  });

  it("says what it will do before asking", async () => {
    const ledger = await fixedAction(kind);
    const live: SnapshotLive = { kind: kind.stateKind, snapshot: kind.id, restore: [PARTNER] };
    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), live));
    expect(text).toContain(`Undo ${ACTION_ID} (${kind.problem}`);
    expect(text).toContain(
      `add "all" back to the restore attribute of ${noun} ${kind.id}, making it public again (it stays shared with 1 account: ${PARTNER}, as it is now)`,
    );
    expect(text).toContain('+ restore access for every AWS account ("all")');
  });

  it("names what it put back as the finding's entry, so its exemption covers exactly that", async () => {
    const ledger = await fixedAction(kind);
    const record = await ledger.read(ACTION_ID);
    const before = { kind: kind.stateKind, snapshot: kind.id, restore: [PARTNER] };
    const after = { ...before, restore: [PARTNER, "all"] };
    expect(kind.undo.reAdded(before as never, after as never)).toEqual([
      { kind: kind.matchedKind, snapshot: kind.id, values: ["all"] },
    ]);
    expect(restoredEntries(record as never, before as never, after as never)).toEqual({
      entries: [{ problem: kind.problem, entry: { kind: kind.matchedKind, value: "all" } }],
      unnamed: [],
    });
  });

  describe("refuses a record that is not what a fix does", () => {
    const tampered: [string, (record: Record<string, any>) => void, RegExp][] = [
      [
        "a before-state of another snapshot",
        (r) => (r.before.snapshot = "someone-elses"),
        /its before-state is for .* someone-elses/,
      ],
      ["a before-state that was not public", (r) => (r.before.restore = [PARTNER]), /its before-state is not public/],
      [
        "a change kept other accounts",
        (r) => (r.changes[0].kept = [OTHER]),
        /the accounts its change kept are not those/,
      ],
      ["a change on another snapshot", (r) => (r.changes[0].snapshot = "other"), /its change is for .* other/],
      ["two changes", (r) => r.changes.push(r.changes[0]), /are not the one .*-restore-removed a fix makes/],
      ["an after-state still public", (r) => (r.after.restore = ["all", PARTNER]), /before − changes ≠ after/],
      ["an after-state without the kept account", (r) => (r.after.restore = []), /before − changes ≠ after/],
      ["another problem", (r) => (r.problem = "s3-public-acl"), /fix changes no/],
    ];
    it.each(tampered)("%s", async (_what, tamper, message) => {
      const ledger = await fixedAction(kind);
      const record = structuredClone(await ledger.read(ACTION_ID)) as Record<string, any>;
      tamper(record);
      expect(() => kind.undo.assertConsistent(record as never)).toThrow(message);
      // Re-signed (as a key holder could): undo still refuses, before anything is written.
      const planted = memoryLedger(testSigner());
      await planted.write(await signRecord(record as LedgerRecord));
      await expect(undoAction(ACTION_ID, undoDeps(planted))).rejects.toThrow(UndoError);
      expect(rdsMock).not.toHaveReceivedCommand(kind.Modify);
    });
  });
});
