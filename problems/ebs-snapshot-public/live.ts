// Reading EBS snapshots exactly as the ledger records them and the rule judges them: one reader for the inventory
// (every snapshot of the account, page by page), the observer (one snapshot, for the fix and the real-time path) and
// the undo. A snapshot's permissions are its createVolumePermission attribute (DescribeSnapshotAttribute); its tags
// come with DescribeSnapshots. Only the account's own snapshots are read (OwnerIds self): a public snapshot of another
// account with a claimed id is never one of Remedy's.
import {
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  type Snapshot,
} from "@aws-sdk/client-ec2";
import type { CreateVolumePermissionState } from "./contract.ts";
import { checkedPermissions } from "./detect.ts";

/** A page of DescribeSnapshots: EC2's maximum is 1000; 100 keeps a page's attribute reads within a task's budget. */
export const SNAPSHOT_PAGE_SIZE = 100;

/** The snapshot's tags as a map (DescribeSnapshots' Tags). */
export function snapshotTags(snapshot: Snapshot): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of snapshot.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  return tags;
}

/** One page of the account's own snapshots in the client's region. */
export async function listSnapshots(
  ec2: EC2Client,
  nextToken: string | undefined,
): Promise<{ snapshots: Snapshot[]; nextToken?: string }> {
  const page = await ec2.send(
    new DescribeSnapshotsCommand({
      OwnerIds: ["self"],
      MaxResults: SNAPSHOT_PAGE_SIZE,
      ...(nextToken ? { NextToken: nextToken } : {}),
    }),
  );
  const next = page.NextToken || undefined;
  return { snapshots: page.Snapshots ?? [], ...(next ? { nextToken: next } : {}) };
}

/** The account's own snapshot of this id, or undefined when there is none (deleted, or another account's). */
export async function describeSnapshot(
  ec2: EC2Client,
  snapshotId: string,
  accountId: string,
): Promise<Snapshot | undefined> {
  // InvalidSnapshot.NotFound is classified "gone" by the callers.
  const { Snapshots = [] } = await ec2.send(
    new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId], OwnerIds: ["self"] }),
  );
  return Snapshots.find((snapshot) => snapshot.SnapshotId === snapshotId && snapshot.OwnerId === accountId);
}

/**
 * The snapshot's createVolumePermission list exactly as EC2 returns it (entries with only the fields EC2 set),
 * checked (throws InvalidSnapshotPermissionsError); InvalidSnapshot.NotFound is thrown as EC2 threw it.
 */
export async function readPermissions(ec2: EC2Client, snapshotId: string): Promise<CreateVolumePermissionState[]> {
  const output = await ec2.send(
    new DescribeSnapshotAttributeCommand({ SnapshotId: snapshotId, Attribute: "createVolumePermission" }),
  );
  return checkedPermissions(output.CreateVolumePermissions ?? []);
}
