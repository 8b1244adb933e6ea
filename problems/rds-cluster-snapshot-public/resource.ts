// The resource type rds-cluster-snapshot-public is found on: how an RDS DB cluster snapshot (Aurora, and the
// DocumentDB and Neptune clusters the RDS API manages) is named, linked, identified and opened, the secure pattern for
// it, and its ledger state (this folder holds its undo). Registered through the problem found on it.
import { rdsConsoleUrl, snapshotIdFromArn } from "../rds-snapshot-public/resource.ts";
import type { ResourceSpec } from "../types.ts";
import { RdsClusterSnapshotStateSchema } from "./contract.ts";

export const RDS_CLUSTER_SNAPSHOT_TERRAFORM = `resource "aws_db_cluster_snapshot" "pre_migration" {
  db_cluster_identifier          = aws_rds_cluster.app.cluster_identifier
  db_cluster_snapshot_identifier = "app-pre-migration"
  shared_accounts                = ["111122223333"] # the accounts that restore it, by id; never "all"
}

resource "aws_rds_cluster" "app" {
  # ...
  storage_encrypted = true # an encrypted cluster snapshot cannot be made public
  kms_key_id        = aws_kms_key.rds.arn
}`;

export const dbClusterSnapshot = {
  type: "AWS::RDS::DBClusterSnapshot",
  label: "RDS DB cluster snapshot",
  arn: ({ partition, region, accountId }, id) => `arn:${partition}:rds:${region}:${accountId}:cluster-snapshot:${id}`,
  iamScope: ({ partition, region, account }) => ({
    resources: [`arn:${partition}:rds:${region}:${account}:cluster-snapshot:*`],
  }),
  consoleUrl: (id, region) => rdsConsoleUrl("db-cluster-snapshot", id, region),
  openingEvents: ["ModifyDBClusterSnapshotAttribute"],
  securityHub: {
    type: "AwsRdsDbClusterSnapshot",
    // arn:<partition>:rds:<region>:<account>:cluster-snapshot:<id>
    idFrom: (asffId) => snapshotIdFromArn("cluster-snapshot", asffId),
  },
  reads: {
    permissions: {
      DescribeDBClusterSnapshotsCommand: "rds:DescribeDBClusterSnapshots",
      DescribeDBClusterSnapshotAttributesCommand: "rds:DescribeDBClusterSnapshotAttributes",
    },
    unscopedActions: [],
  },
  // Where Config does not record it, `remedy plan --live` lists it with inventory.ts (these reads).
  inventory: true,
  training: {
    title: "Secure pattern: share cluster snapshots with named accounts only",
    advice:
      'Never put "all" in a cluster snapshot\'s restore attribute. Share a manual cluster snapshot with the accounts that need it by account id, and encrypt the cluster with a customer managed KMS key: an encrypted snapshot cannot be made public.',
    terraform: RDS_CLUSTER_SNAPSHOT_TERRAFORM,
  },
  stateKind: "rds-cluster-snapshot",
  state: RdsClusterSnapshotStateSchema,
  folder: "rds-cluster-snapshot-public",
} as const satisfies ResourceSpec;
