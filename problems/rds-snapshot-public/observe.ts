// Reading a snapshot live and judging it as the rule does: its tags and type (DescribeDB(Cluster)Snapshots) and its
// restore attribute (DescribeDB(Cluster)SnapshotAttributes), judged by detect.ts restoreVerdict. The fixes and the
// real-time path read a snapshot only through here; a DB cluster snapshot's observer is built the same way
// (problems/rds-cluster-snapshot-public/observe.ts).
import { RDSClient } from "@aws-sdk/client-rds";
import type { ObserveModule, ResourceObserver } from "../observe.ts";
import { restoreVerdict } from "./detect.ts";
import { dbSnapshotReads, type SnapshotReads } from "./live.ts";

/** The snapshot as read: its restore attribute's values (what the ledger keeps) and its type. */
export interface LiveSnapshot {
  snapshot: string;
  restore: string[];
  snapshotType?: string;
}

export function snapshotObserver(reads: SnapshotReads, deps: { rds: RDSClient }): ResourceObserver<LiveSnapshot> {
  const { flavor } = reads;
  return {
    resourceType: flavor.resourceType,

    async readLive(resource) {
      const id = resource.id;
      // A snapshot that is gone throws its not-found fault, classified "gone" by the callers.
      const facts = await reads.describe(deps.rds, id);
      if (!facts) return undefined;
      const restore = await reads.readRestore(deps.rds, id);
      const judged: LiveSnapshot = {
        snapshot: id,
        restore,
        ...(facts.snapshotType ? { snapshotType: facts.snapshotType } : {}),
      };
      return { tags: facts.tags, judged };
    },

    verdict: (live) => restoreVerdict(flavor, live.judged.restore),
  };
}

/** The observe module of a flavor's snapshots (each resource folder exports its own as `observe`). */
export function snapshotObserveModule(reads: SnapshotReads): ObserveModule {
  return {
    resourceType: reads.flavor.resourceType,
    create: ({ client }) => snapshotObserver(reads, { rds: client(RDSClient) }) as ResourceObserver,
  };
}

/** A DB snapshot's observer (the fix reads through it too). */
export const dbSnapshotObserver = (deps: { rds: RDSClient }) => snapshotObserver(dbSnapshotReads, deps);

export const observe: ObserveModule = snapshotObserveModule(dbSnapshotReads);
