// Undoing a removal of public sharing: ModifySnapshotAttribute adding back exactly the group `all`, only when it is
// missing live; no account id is ever added or removed. A record is consistent when its before-state is its own
// snapshot's and holds `all`, its one change removed exactly `all`, and (when `fixed`) its after-state is that
// snapshot without `all`.
import { ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { hasErrorCode } from "../../platform/aws-errors.ts";
import {
  inconsistent,
  onlyChange,
  type ResourcePlan,
  type ResourceUndo,
  type UndoableRecordOf,
  UndoError,
} from "../undo-kit.ts";
import type { CreateVolumePermissionState } from "./contract.ts";
import { isPublic, PUBLIC_GROUP } from "./detect.ts";
import { readPermissions } from "./live.ts";
import { describePermissions, PUBLIC_PERMISSION } from "./words.ts";

/** The snapshot's permission list as DescribeSnapshotAttribute returns it now. */
export interface SnapshotPermissionsLive {
  kind: "ebs-snapshot-permissions";
  snapshotId: string;
  createVolumePermissions: CreateVolumePermissionState[];
}

/** What an undo put back (`remedy undo --json` reAdded): the public group. */
export interface SnapshotPermissionsReAdded {
  kind: "ebs-snapshot-permissions";
  snapshotId: string;
  groups: "all"[];
}

/** The one write an undo makes: add the group `all` back. */
export interface AddPublicGroupWrite {
  kind: "add-group";
  snapshotId: string;
  group: "all";
}

type SnapshotRecord = UndoableRecordOf<"ebs-snapshot-permissions">;

function assertSnapshotConsistent(record: SnapshotRecord): void {
  const { before } = record;
  if (before.snapshotId !== record.resource.id) {
    throw inconsistent(
      record,
      `its before-state is for snapshot ${before.snapshotId}, not its resource ${record.resource.id}`,
    );
  }
  if (!isPublic(before.createVolumePermissions)) {
    throw inconsistent(record, "its before-state does not hold the group all, yet a fix removes only that");
  }
  const change = onlyChange(record, "ebs-snapshot-permissions-removed");
  if (change.snapshotId !== before.snapshotId) {
    throw inconsistent(record, `its change is of snapshot ${change.snapshotId}, not of ${before.snapshotId}`);
  }
  if (change.groups.length !== 1 || change.groups[0] !== PUBLIC_GROUP) {
    throw inconsistent(record, `its change removed ${JSON.stringify(change.groups)}, not exactly the group all`);
  }
  const { after } = record;
  if (
    record.outcome === "fixed" &&
    (after?.kind !== "ebs-snapshot-permissions" ||
      after.snapshotId !== before.snapshotId ||
      isPublic(after.createVolumePermissions))
  ) {
    throw inconsistent(
      record,
      `its after-state is not ${before.snapshotId} without the group all (before − changes ≠ after)`,
    );
  }
}

function planSnapshot(record: SnapshotRecord, live: SnapshotPermissionsLive): ResourcePlan<AddPublicGroupWrite> {
  const { snapshotId } = record.before;
  if (live.kind !== "ebs-snapshot-permissions" || live.snapshotId !== snapshotId) {
    throw new Error(`planUndo: the live state given is not snapshot ${snapshotId}'s`);
  }
  const state = (permissions: CreateVolumePermissionState[]) => ({
    kind: "ebs-snapshot-permissions" as const,
    snapshotId,
    createVolumePermissions: permissions,
  });
  const before = state(live.createVolumePermissions);
  if (isPublic(live.createVolumePermissions)) {
    return {
      lines: [`  nothing to add back: ${snapshotId} is public again (${PUBLIC_PERMISSION} is there)`],
      steps: [`already present: ${PUBLIC_PERMISSION}`],
      refused: [],
      writes: [],
      before,
      after: before,
    };
  }
  return {
    lines: [
      `  add back ${PUBLIC_PERMISSION} on ${snapshotId}: anyone can create a volume from it again`,
      `  (it is shared now with ${describePermissions(live.createVolumePermissions)}; those stay as they are)`,
    ],
    steps: [`added back: ${PUBLIC_PERMISSION}`],
    refused: [],
    writes: [{ kind: "add-group", snapshotId, group: PUBLIC_GROUP }],
    before,
    after: state([...live.createVolumePermissions, { Group: PUBLIC_GROUP }]),
  };
}

/** The undo of the ebs-snapshot-permissions before-state (problems/undo.ts loads it as this folder's `undo`). */
export const undo: ResourceUndo<
  "ebs-snapshot-permissions",
  SnapshotPermissionsLive,
  AddPublicGroupWrite,
  SnapshotPermissionsReAdded
> = {
  kind: "ebs-snapshot-permissions",
  what: "snapshot permissions",
  permissions: {
    DescribeSnapshotAttributeCommand: "ec2:DescribeSnapshotAttribute",
    ModifySnapshotAttributeCommand: "ec2:ModifySnapshotAttribute",
  },
  impliedActions: [],

  async readLive(record, clients) {
    const { snapshotId } = record.before;
    try {
      return {
        kind: "ebs-snapshot-permissions",
        snapshotId,
        createVolumePermissions: await readPermissions(clients.ec2, snapshotId),
      };
    } catch (error) {
      if (hasErrorCode(error, "InvalidSnapshot.NotFound")) {
        throw new UndoError(
          `${record.actionId} is not undone: snapshot ${snapshotId} no longer exists (InvalidSnapshot.NotFound)`,
        );
      }
      throw error;
    }
  },

  assertConsistent: assertSnapshotConsistent,

  plan: planSnapshot,

  async apply(write, clients, _record, log) {
    await clients.ec2.send(
      new ModifySnapshotAttributeCommand({
        SnapshotId: write.snapshotId,
        Attribute: "createVolumePermission",
        OperationType: "add",
        GroupNames: [write.group],
      }),
    );
    log.info("added back public sharing", { snapshotId: write.snapshotId });
  },

  reAdded(before, after) {
    return !isPublic(before.createVolumePermissions) && isPublic(after.createVolumePermissions)
      ? [{ kind: "ebs-snapshot-permissions", snapshotId: after.snapshotId, groups: [PUBLIC_GROUP] }]
      : [];
  },

  // The group put back, as the rule's finding names it: undo's temporary exemption keeps it as restored.
  restoredEntries: (added) =>
    added.groups.map((group) => ({
      problem: "ebs-snapshot-public",
      entry: { kind: "ebs-snapshot-permission", group },
    })),
};
