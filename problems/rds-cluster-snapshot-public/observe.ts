// Reading a DB cluster snapshot live and judging it as the rule does: as a DB snapshot is read
// (problems/rds-snapshot-public/observe.ts), with the cluster snapshot's own calls.
import type { RDSClient } from "@aws-sdk/client-rds";
import type { ObserveModule } from "../observe.ts";
import { clusterSnapshotReads } from "../rds-snapshot-public/live.ts";
import { snapshotObserveModule, snapshotObserver } from "../rds-snapshot-public/observe.ts";

/** A DB cluster snapshot's observer (its fix reads through it too). */
export const clusterSnapshotObserver = (deps: { rds: RDSClient }) => snapshotObserver(clusterSnapshotReads, deps);

export const observe: ObserveModule = snapshotObserveModule(clusterSnapshotReads);
