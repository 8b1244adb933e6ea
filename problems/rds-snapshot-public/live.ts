// Reading a snapshot through the RDS API, for a DB snapshot and for a DB cluster snapshot (the same reads, each with
// its own commands): its tags and type, and its restore attribute. One reader for the observer (the fix and the
// real-time path) and the undo. A snapshot that is gone throws RDS's not-found fault (DBSnapshotNotFound,
// DBClusterSnapshotNotFoundFault), which platform/aws-errors.ts classifies "gone".
import {
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
  type Tag,
} from "@aws-sdk/client-rds";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import { API_ATTRIBUTE_KEYS, restoreValuesOf, SnapshotAttributeProblem } from "./detect.ts";
import { CLUSTER_SNAPSHOT, DB_SNAPSHOT, type SnapshotFlavor } from "./flavor.ts";

/** What DescribeDB(Cluster)Snapshots says of the snapshot besides its attributes. */
export interface SnapshotFacts {
  tags: Record<string, string>;
  /** "manual", "automated", "shared", "public", "awsbackup". */
  snapshotType?: string;
}

/** The live reads of one kind of snapshot (the writes: write.ts, so the real-time path carries none). */
export interface SnapshotReads {
  flavor: SnapshotFlavor;
  /** Its tags and type; undefined when the answer names no such snapshot. */
  describe(rds: RDSClient, id: string): Promise<SnapshotFacts | undefined>;
  /** The restore attribute's values, as listed. */
  readRestore(rds: RDSClient, id: string): Promise<string[]>;
}

function tagsOf(list: readonly Tag[] | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of list ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  return tags;
}

/** The restore values of an API answer, or a PermanentRemediationError: what cannot be read could be "all". */
export function restoreOf(attributes: unknown, id: string, where: string): string[] {
  try {
    return restoreValuesOf(attributes, API_ATTRIBUTE_KEYS, where);
  } catch (error) {
    if (!(error instanceof SnapshotAttributeProblem)) throw error;
    throw new PermanentRemediationError(`the attributes of snapshot ${id} cannot be judged: ${error.message}`, {
      cause: error,
    });
  }
}

export const dbSnapshotReads: SnapshotReads = {
  flavor: DB_SNAPSHOT,

  async describe(rds, id) {
    const { DBSnapshots = [] } = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    const snapshot = DBSnapshots.find((candidate) => candidate.DBSnapshotIdentifier === id);
    if (!snapshot) return undefined;
    return {
      tags: tagsOf(snapshot.TagList),
      ...(snapshot.SnapshotType ? { snapshotType: snapshot.SnapshotType } : {}),
    };
  },

  async readRestore(rds, id) {
    const { DBSnapshotAttributesResult } = await rds.send(
      new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: id }),
    );
    return restoreOf(DBSnapshotAttributesResult?.DBSnapshotAttributes, id, "DBSnapshotAttributes");
  },
};

export const clusterSnapshotReads: SnapshotReads = {
  flavor: CLUSTER_SNAPSHOT,

  async describe(rds, id) {
    const { DBClusterSnapshots = [] } = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }),
    );
    const snapshot = DBClusterSnapshots.find((candidate) => candidate.DBClusterSnapshotIdentifier === id);
    if (!snapshot) return undefined;
    return {
      tags: tagsOf(snapshot.TagList),
      ...(snapshot.SnapshotType ? { snapshotType: snapshot.SnapshotType } : {}),
    };
  },

  async readRestore(rds, id) {
    const { DBClusterSnapshotAttributesResult } = await rds.send(
      new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: id }),
    );
    return restoreOf(DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes, id, "DBClusterSnapshotAttributes");
  },
};
