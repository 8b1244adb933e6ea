// Listing the account's manual RDS DB cluster snapshots in one region, as AWS Config records them, for `remedy plan
// --live` where Config does not record the type (resource.ts `inventory: true`): as DB snapshots are listed
// (problems/rds-snapshot-public/inventory.ts), with the cluster snapshot's own calls, DescribeDBClusterSnapshots
// (SnapshotType manual, paged by Marker) and DescribeDBClusterSnapshotAttributes, into the item the rule judges
// (supplementaryConfiguration.DBClusterSnapshotAttributes).
import {
  type DBClusterSnapshot,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import type { InventoryModule } from "../inventory.ts";
import { CLUSTER_SNAPSHOT } from "../rds-snapshot-public/flavor.ts";
import { type ConfigCase, rdsSnapshotInventory, type SnapshotListing } from "../rds-snapshot-public/inventory.ts";
import { dbClusterSnapshot } from "./resource.ts";

/**
 * Config's spelling of a cluster snapshot's fields: the leading capitals and the word they begin lower-cased
 * ("DBClusterSnapshotIdentifier" → "dbclusterSnapshotIdentifier", "IAMDatabaseAuthenticationEnabled" →
 * "iamdatabaseAuthenticationEnabled", "SnapshotType" → "snapshotType").
 */
export const leadingWordLower: ConfigCase = (name) => {
  const capitals = /^[A-Z]+/.exec(name)?.[0] ?? "";
  if (capitals.length <= 1) return name.charAt(0).toLowerCase() + name.slice(1);
  const rest = name.slice(capitals.length);
  const word = /^[a-z0-9]*/.exec(rest)?.[0] ?? "";
  return (capitals + word).toLowerCase() + rest.slice(word.length);
};

export const clusterSnapshotListing: SnapshotListing = {
  flavor: CLUSTER_SNAPSHOT,
  resource: dbClusterSnapshot,

  async list(rds, marker) {
    const output = await rds.send(
      new DescribeDBClusterSnapshotsCommand({ SnapshotType: "manual", ...(marker ? { Marker: marker } : {}) }),
    );
    return {
      snapshots: (output.DBClusterSnapshots ?? []).map((snapshot: DBClusterSnapshot) => ({
        id: snapshot.DBClusterSnapshotIdentifier,
        snapshot,
      })),
      ...(output.Marker ? { marker: output.Marker } : {}),
    };
  },

  async attributes(rds, id) {
    const { DBClusterSnapshotAttributesResult } = await rds.send(
      new DescribeDBClusterSnapshotAttributesCommand({ DBClusterSnapshotIdentifier: id }),
    );
    return DBClusterSnapshotAttributesResult?.DBClusterSnapshotAttributes;
  },

  itemFields(snapshot) {
    const { DBClusterIdentifier } = snapshot as DBClusterSnapshot;
    return {
      relationships: DBClusterIdentifier
        ? [
            {
              resourceType: "AWS::RDS::DBCluster",
              resourceName: DBClusterIdentifier,
              name: "Is associated with DBCluster",
            },
          ]
        : [],
      availabilityZone: "Multiple Availability Zones",
    };
  },
};

/** A DB cluster snapshot's lister. */
export const clusterSnapshotInventory = (deps: { rds: RDSClient; now: () => Date }) =>
  rdsSnapshotInventory(clusterSnapshotListing, leadingWordLower, deps);

export const inventory: InventoryModule = {
  resourceType: dbClusterSnapshot.type,
  create: ({ client, now }) => clusterSnapshotInventory({ rds: client(RDSClient), now }),
};
