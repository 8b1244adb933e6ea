// Undoing a fix of a public DB cluster snapshot: "all" back into its restore attribute when it is missing live, as a
// DB snapshot's undo does (problems/rds-snapshot-public/undo.ts).
import { snapshotUndo } from "../rds-snapshot-public/undo.ts";
import { clusterSnapshotCalls } from "../rds-snapshot-public/write.ts";

/** The undo of the rds-cluster-snapshot before-state (problems/undo.ts loads it as this folder's `undo`). */
export const undo = snapshotUndo("rds-cluster-snapshot", clusterSnapshotCalls, {
  DescribeDBClusterSnapshotsCommand: "rds:DescribeDBClusterSnapshots",
  DescribeDBClusterSnapshotAttributesCommand: "rds:DescribeDBClusterSnapshotAttributes",
  ModifyDBClusterSnapshotAttributeCommand: "rds:ModifyDBClusterSnapshotAttribute",
});
