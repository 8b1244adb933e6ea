// Fixing a public DB cluster snapshot: ModifyDBClusterSnapshotAttribute removing exactly "all" from its restore
// attribute, as a DB snapshot's fix does (problems/rds-snapshot-public/fix.ts).
import type { FixModule } from "../fix.ts";
import { snapshotFixModule } from "../rds-snapshot-public/fix.ts";
import { clusterSnapshotCalls } from "../rds-snapshot-public/write.ts";
import { clusterSnapshotObserver } from "./observe.ts";

export const fix: FixModule = snapshotFixModule(clusterSnapshotCalls, clusterSnapshotObserver);
