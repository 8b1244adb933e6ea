// One DB cluster snapshot public once: a manual snapshot of an Aurora cluster whose restore attribute holds "all"
// next to one account id (a partner's, kept by the fix), tagged. Made, read and recorded as the DB snapshot's example
// does (problems/rds-snapshot-public/example.ts).
import {
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  DescribeDBClusterSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { configScope, type ProblemExample } from "../example.ts";
import { PUBLIC_RESTORE_VALUE, RESTORE_ATTRIBUTE } from "../rds-snapshot-public/contract.ts";
import { publicRestoreEntry } from "../rds-snapshot-public/detect.ts";
import {
  PARTNER_ACCOUNT,
  readSnapshot,
  removedPublic,
  SNAPSHOT_TAGS,
  snapshotConfigItem,
} from "../rds-snapshot-public/example.ts";
import { CLUSTER_SNAPSHOT } from "../rds-snapshot-public/flavor.ts";
import { clusterSnapshotReads } from "../rds-snapshot-public/live.ts";
import { rdsClusterSnapshotPublic } from "./spec.ts";

export const example: ProblemExample<string> = {
  problem: rdsClusterSnapshotPublic.id,

  async create(clients, name) {
    const rds = clients.client(RDSClient);
    const cluster = `${name}-cluster`;
    await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: cluster,
        Engine: "aurora-postgresql",
        MasterUsername: "remedy",
        MasterUserPassword: "example-password-1",
      }),
    );
    await rds.send(
      new CreateDBClusterSnapshotCommand({
        DBClusterIdentifier: cluster,
        DBClusterSnapshotIdentifier: name,
        Tags: SNAPSHOT_TAGS,
      }),
    );
    await rds.send(
      new ModifyDBClusterSnapshotAttributeCommand({
        DBClusterSnapshotIdentifier: name,
        AttributeName: RESTORE_ATTRIBUTE,
        ValuesToAdd: [PUBLIC_RESTORE_VALUE, PARTNER_ACCOUNT],
      }),
    );
    return name;
  },

  violation: () => publicRestoreEntry(CLUSTER_SNAPSHOT),

  recordedChange: (snapshot) => removedPublic(CLUSTER_SNAPSHOT, snapshot),

  pinnedInstructionId: "ba40c383a9a3b2e2458b8e6fe6f58904",

  async configItem(clients, id, capturedAt) {
    const rds = clients.client(RDSClient);
    const { DBClusterSnapshots = [] } = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ DBClusterSnapshotIdentifier: id }),
    );
    const [snapshot] = DBClusterSnapshots;
    if (!snapshot) throw new Error(`DescribeDBClusterSnapshots ${id} answered no snapshot`);
    const restore = await clusterSnapshotReads.readRestore(rds, id);
    return snapshotConfigItem(CLUSTER_SNAPSHOT, snapshot, restore, capturedAt, await configScope(clients, rds));
  },

  read: (clients, id) => readSnapshot(clients, clusterSnapshotReads, id),

  isViolation: (value) => value === PUBLIC_RESTORE_VALUE,
};
