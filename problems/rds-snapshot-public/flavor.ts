// The two kinds of RDS snapshot a public restore attribute is found on, as data: which problem each is, its kinds of
// entry, change and ledger state, and where its Config item keeps the attribute. The one rule (detect.ts), the live
// reads (live.ts), the fixes, undos and words of both problems are built from these, so a DB snapshot and a DB cluster
// snapshot are judged and fixed by the same code. Pure: no SDK.

export interface SnapshotFlavor {
  problem: "rds-snapshot-public" | "rds-cluster-snapshot-public";
  resourceType: "AWS::RDS::DBSnapshot" | "AWS::RDS::DBClusterSnapshot";
  /** What it is, in a sentence: "DB snapshot". */
  noun: string;
  matchedKind: "rds-snapshot-restore" | "rds-cluster-snapshot-restore";
  changeKind: "rds-snapshot-restore-removed" | "rds-cluster-snapshot-restore-removed";
  stateKind: "rds-snapshot" | "rds-cluster-snapshot";
  /** The Config item's supplementaryConfiguration key holding the snapshot's attributes. */
  configAttributes: "DBSnapshotAttributes" | "DBClusterSnapshotAttributes";
}

export const DB_SNAPSHOT = {
  problem: "rds-snapshot-public",
  resourceType: "AWS::RDS::DBSnapshot",
  noun: "DB snapshot",
  matchedKind: "rds-snapshot-restore",
  changeKind: "rds-snapshot-restore-removed",
  stateKind: "rds-snapshot",
  configAttributes: "DBSnapshotAttributes",
} as const satisfies SnapshotFlavor;

export const CLUSTER_SNAPSHOT = {
  problem: "rds-cluster-snapshot-public",
  resourceType: "AWS::RDS::DBClusterSnapshot",
  noun: "DB cluster snapshot",
  matchedKind: "rds-cluster-snapshot-restore",
  changeKind: "rds-cluster-snapshot-restore-removed",
  stateKind: "rds-cluster-snapshot",
  configAttributes: "DBClusterSnapshotAttributes",
} as const satisfies SnapshotFlavor;

export const SNAPSHOT_FLAVORS: readonly SnapshotFlavor[] = [DB_SNAPSHOT, CLUSTER_SNAPSHOT];

export function flavorOfType(resourceType: string): SnapshotFlavor | undefined {
  return SNAPSHOT_FLAVORS.find((flavor) => flavor.resourceType === resourceType);
}
