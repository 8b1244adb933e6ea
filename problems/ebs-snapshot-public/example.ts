// One EBS snapshot public once: its createVolumePermission holds the group `all` next to a partner account it is
// shared with by id (kept: only `all` is the hole). Its volume is made for it. Config does not record snapshots, so
// its item is the one the inventory builds from the live snapshot (inventory.ts snapshotItem), and the end-to-end
// test finds it through the periodic scan.
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  ModifySnapshotAttributeCommand,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import { configScope, type ProblemExample } from "../example.ts";
import { snapshotItem } from "./inventory.ts";
import { readPermissions } from "./live.ts";
import { ebsSnapshotPublic } from "./spec.ts";

/** The account the example snapshot is shared with by id: it keeps its access through the fix and the undo. */
export const PARTNER_ACCOUNT = "111122223333";

/** The live snapshot of this id, as DescribeSnapshots answers for it. */
async function describe(ec2: EC2Client, snapshotId: string): Promise<Snapshot & { SnapshotId: string }> {
  const { Snapshots = [] } = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }));
  const [snapshot] = Snapshots;
  if (!snapshot?.SnapshotId) throw new Error(`DescribeSnapshots ${snapshotId} answered no snapshot`);
  return { ...snapshot, SnapshotId: snapshot.SnapshotId };
}

/** A permission as compared: "group:all", "account:111122223333". */
type PermissionShape = string;

export const example: ProblemExample<PermissionShape> = {
  problem: ebsSnapshotPublic.id,

  async create(clients, name) {
    const ec2 = clients.client(EC2Client);
    const region = await ec2.config.region();
    const { VolumeId } = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${region}a`, Size: 1 }));
    if (!VolumeId) throw new Error(`CreateVolume for ${name} answered no VolumeId`);
    const { SnapshotId } = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId,
        Description: `${name} (Remedy example)`,
        TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "Name", Value: name }] }],
      }),
    );
    if (!SnapshotId) throw new Error(`CreateSnapshot for ${name} answered no SnapshotId`);
    // Kept: the partner account. Removed by the fix, put back by undo: everyone.
    for (const share of [{ UserIds: [PARTNER_ACCOUNT] }, { GroupNames: ["all"] }]) {
      await ec2.send(
        new ModifySnapshotAttributeCommand({
          SnapshotId,
          Attribute: "createVolumePermission",
          OperationType: "add",
          ...share,
        }),
      );
    }
    return SnapshotId;
  },

  violation: () => ({ kind: "ebs-snapshot-permission", group: "all" }),

  recordedChange: (snapshotId) => ({ kind: "ebs-snapshot-permissions-removed", snapshotId, groups: ["all"] }),

  pinnedInstructionId: "d4c936f2ca0d43878268bd9c6102cc35",

  async configItem(clients, snapshotId, capturedAt) {
    const ec2 = clients.client(EC2Client);
    const snapshot = await describe(ec2, snapshotId);
    return snapshotItem(snapshot, await readPermissions(ec2, snapshotId), await configScope(clients, ec2), capturedAt);
  },

  async read(clients, snapshotId) {
    const ec2 = clients.client(EC2Client);
    const snapshot = await describe(ec2, snapshotId);
    const entries = (await readPermissions(ec2, snapshotId))
      .map((permission) =>
        permission.Group !== undefined ? `group:${permission.Group}` : `account:${permission.UserId}`,
      )
      .sort();
    const tags = (snapshot.Tags ?? []).map((tag) => `${tag.Key}=${tag.Value}`).sort();
    // The permissions are all that the fix (or undo) can change on a snapshot.
    return { entries, rest: { volumeId: snapshot.VolumeId, description: snapshot.Description, tags } };
  },

  isViolation: (entry) => entry === "group:all",
};
