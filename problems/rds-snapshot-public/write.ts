// The one write either snapshot problem makes, for a DB snapshot and for a DB cluster snapshot: the value "all" of the
// restore attribute, removed (the fix) or added back (undo), with Modify*SnapshotAttribute. Nothing else is ever named
// in a write (never ValuesToAdd with an account id, never an account id removed), so a write cannot touch the sharing
// with named accounts. Apart from live.ts (reads), so the real-time path, which only reads, carries no write.
import {
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  type RDSClient,
} from "@aws-sdk/client-rds";
import { PUBLIC_RESTORE_VALUE, RESTORE_ATTRIBUTE } from "./contract.ts";
import type { SnapshotFlavor } from "./flavor.ts";
import { clusterSnapshotReads, dbSnapshotReads, restoreOf, type SnapshotReads } from "./live.ts";

/** Adds or removes "all"; resolves with the restore attribute's values as the write left them. */
export type PublicWrite = (rds: RDSClient, id: string, change: "add" | "remove") => Promise<string[]>;

function publicValue(change: "add" | "remove") {
  return change === "add" ? { ValuesToAdd: [PUBLIC_RESTORE_VALUE] } : { ValuesToRemove: [PUBLIC_RESTORE_VALUE] };
}

/** The values a write's answer lists; without a list in it, the attribute as read again. */
function leftBy(listed: unknown, reads: SnapshotReads, rds: RDSClient, id: string, where: string) {
  return listed ? Promise.resolve(restoreOf(listed, id, where)) : reads.readRestore(rds, id);
}

const writeDbSnapshot: PublicWrite = async (rds, id, change) => {
  const { DBSnapshotAttributesResult } = await rds.send(
    new ModifyDBSnapshotAttributeCommand({
      DBSnapshotIdentifier: id,
      AttributeName: RESTORE_ATTRIBUTE,
      ...publicValue(change),
    }),
  );
  return leftBy(DBSnapshotAttributesResult?.DBSnapshotAttributes, dbSnapshotReads, rds, id, "DBSnapshotAttributes");
};

const writeClusterSnapshot: PublicWrite = async (rds, id, change) => {
  const { DBClusterSnapshotAttributesResult } = await rds.send(
    new ModifyDBClusterSnapshotAttributeCommand({
      DBClusterSnapshotIdentifier: id,
      AttributeName: RESTORE_ATTRIBUTE,
      ...publicValue(change),
    }),
  );
  const listed = DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes;
  return leftBy(listed, clusterSnapshotReads, rds, id, "DBClusterSnapshotAttributes");
};

/** The reads and the write of one kind of snapshot. */
export interface SnapshotCalls extends SnapshotReads {
  writePublic: PublicWrite;
}

export const dbSnapshotCalls: SnapshotCalls = { ...dbSnapshotReads, writePublic: writeDbSnapshot };
export const clusterSnapshotCalls: SnapshotCalls = { ...clusterSnapshotReads, writePublic: writeClusterSnapshot };

/** The calls of a flavor's snapshots. */
export function callsOf(flavor: SnapshotFlavor): SnapshotCalls {
  return flavor.resourceType === dbSnapshotCalls.flavor.resourceType ? dbSnapshotCalls : clusterSnapshotCalls;
}
