// The resource type ebs-snapshot-public is found on: how an EBS snapshot is named, linked, identified and opened, the
// secure pattern for it, and its ledger state (this folder holds its undo). AWS Config does not record EBS snapshots
// (its own ebs-snapshot-public-restorable-check is a periodic rule without a resource type), so Remedy lists them
// itself (inventory.ts). Registered through the problem found on it (problems/index.ts RESOURCES).
import type { ResourceSpec } from "../types.ts";
import { EbsSnapshotPermissionsStateSchema } from "./contract.ts";

export const EBS_SNAPSHOT_TERRAFORM = `resource "aws_ebs_snapshot_block_public_access" "this" {
  state = "block-all-sharing" # this region: no snapshot can be public, whatever its permissions say
}

resource "aws_snapshot_create_volume_permission" "to_backup_account" {
  snapshot_id = aws_ebs_snapshot.db.id
  account_id  = "111122223333" # share with an account you name, never with everyone
}`;

/** An EBS snapshot id: "snap-" and 8 (older) or 17 hexadecimal digits. */
export const SNAPSHOT_ID = /^snap-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

export const ebsSnapshot = {
  type: "AWS::EC2::Snapshot",
  label: "EBS snapshot",
  // EC2 writes a snapshot's ARN without an account (snapshots are shared across accounts): IAM, SCPs and EC2's own
  // tag APIs all use arn:<partition>:ec2:<region>::snapshot/<id>.
  arn: ({ partition, region }, id) => `arn:${partition}:ec2:${region}::snapshot/${id}`,
  // Any snapshot in the region: ModifySnapshotAttribute only ever succeeds on the caller's own.
  iamScope: ({ partition, region }) => ({ resources: [`arn:${partition}:ec2:${region}::snapshot/*`] }),
  consoleUrl: (id, region) => {
    const r = encodeURIComponent(region);
    return `https://${r}.console.aws.amazon.com/ec2/home?region=${r}#SnapshotDetails:snapshotId=${encodeURIComponent(id)}`;
  },
  openingEvents: ["ModifySnapshotAttribute"],
  securityHub: {
    // Security Hub's own EC2.1 names the account, not a snapshot; Prowler's ec2_ebs_public_snapshot names the
    // snapshot's ARN (with the account, as Prowler writes it) under its check's resource type AwsEc2Volume.
    type: "AwsEc2Volume",
    idFrom: (asffId) => /^arn:[\w-]+:ec2:[a-z0-9-]+:(?:\d{12})?:snapshot\/(snap-[0-9a-f]{8,17})$/.exec(asffId)?.[1],
  },
  reads: {
    permissions: {
      DescribeSnapshotsCommand: "ec2:DescribeSnapshots",
      DescribeSnapshotAttributeCommand: "ec2:DescribeSnapshotAttribute",
    },
    // EC2 Describe* calls are granted on "*" (DescribeSnapshots has no resource-level permissions).
    unscopedActions: ["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
  },
  recordedByConfig: false,
  training: {
    title: "Secure pattern: snapshots shared by name, public sharing blocked",
    advice:
      "Share a snapshot only with the accounts that need it, and turn on Block public access for EBS snapshots (block-all-sharing) in every region.",
    terraform: EBS_SNAPSHOT_TERRAFORM,
  },
  stateKind: "ebs-snapshot-permissions",
  state: EbsSnapshotPermissionsStateSchema,
  folder: "ebs-snapshot-public",
} as const satisfies ResourceSpec;
