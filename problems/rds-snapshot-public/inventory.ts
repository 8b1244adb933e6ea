// Listing the account's manual RDS DB snapshots in one region, as AWS Config records them, for `remedy plan --live`
// where Config does not record the type (resource.ts `inventory: true`; the periodic scan never lists it):
// DescribeDBSnapshots (SnapshotType manual, a page at a time by Marker) gives each snapshot and its tags,
// DescribeDBSnapshotAttributes (a few at once) its attributes; each becomes the item the rule judges (detect.ts reads
// supplementaryConfiguration.DBSnapshotAttributes). Only manual snapshots can be shared at all. A snapshot deleted
// between the listing and its attribute read is skipped (gone); one whose attributes cannot be read or judged is
// listed as unread. A DB cluster snapshot's lister is built the same way (problems/rds-cluster-snapshot-public/
// inventory.ts), with its own calls.
import {
  type DBSnapshot,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  type Tag,
} from "@aws-sdk/client-rds";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import { mapLimit } from "../../platform/concurrency.ts";
import {
  failedRead,
  type InventoryModule,
  type InventoryPage,
  type InventoryPlace,
  inventoryPage,
  listedArn,
  type ResourceInventory,
  type ResourceRead,
} from "../inventory.ts";
import type { ResourceSpec } from "../types.ts";
import { DB_SNAPSHOT, type SnapshotFlavor } from "./flavor.ts";
import { restoreOf } from "./live.ts";
import { dbSnapshot } from "./resource.ts";

/** Attribute reads in flight at once, within one page. */
export const ATTRIBUTE_READS_IN_FLIGHT = 8;

/** An attribute as the RDS API answers it (DescribeDB(Cluster)SnapshotAttributes). */
export interface ApiAttribute {
  AttributeName?: string;
  AttributeValues?: string[];
}

/** One snapshot listed, whatever its kind: its id and the API's answer for it. */
export interface ListedSnapshot {
  id: string | undefined;
  snapshot: object & { TagList?: Tag[] };
}

/** How one kind of snapshot is listed and read, and how its item names what it is associated with. */
export interface SnapshotListing {
  flavor: SnapshotFlavor;
  resource: ResourceSpec;
  /** One page of the account's manual snapshots (Marker from the page before). */
  list(rds: RDSClient, marker: string | undefined): Promise<{ snapshots: ListedSnapshot[]; marker?: string }>;
  /** The snapshot's attributes as answered (a snapshot that is gone throws its not-found fault). */
  attributes(rds: RDSClient, id: string): Promise<unknown>;
  /** The item's extra fields of this kind: its relationships and availability zone. */
  itemFields(snapshot: ListedSnapshot["snapshot"]): { relationships: unknown[]; availabilityZone: string };
}

/**
 * An RDS API field name as Config spells it in a snapshot's configuration: the leading capitals lower-cased, with
 * the first letter of the word they begin ("DBSnapshotIdentifier" → "dBSnapshotIdentifier" is Config's DB snapshot
 * spelling, "DBClusterIdentifier" → "dbclusterIdentifier" its cluster snapshot's).
 */
export type ConfigCase = (name: string) => string;

/** The first letter lower-cased (a DB snapshot's configuration: dBSnapshotIdentifier, iAMDatabaseAuthenticationEnabled). */
export const firstLetterLower: ConfigCase = (name) => name.charAt(0).toLowerCase() + name.slice(1);

/** The snapshot as plain JSON in Config's spelling: times as ISO text, absent fields and the tag list left out. */
export function plainConfiguration(snapshot: object, configCase: ConfigCase): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(snapshot)) {
    if (value === undefined || key === "TagList") continue;
    plain[configCase(key)] = value instanceof Date ? value.toISOString() : value;
  }
  return plain;
}

export function tagsOf(list: readonly Tag[] | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const tag of list ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  return tags;
}

/** API attributes as Config records them (supplementaryConfiguration: attributeName, attributeValues). */
export function configAttributes(attributes: unknown): Record<string, unknown>[] {
  if (!Array.isArray(attributes)) return [];
  return (attributes as ApiAttribute[]).map((attribute) => ({
    attributeName: attribute.AttributeName ?? null,
    attributeValues: attribute.AttributeValues ?? [],
  }));
}

/**
 * The item of one snapshot, shaped as a configuration item (normalizeConfigItem reads it as it reads Config's): the
 * snapshot as listed, in Config's spelling, its attributes as read, its tags.
 */
export function snapshotItem(
  listing: SnapshotListing,
  configCase: ConfigCase,
  listed: ListedSnapshot & { id: string },
  attributes: unknown,
  place: InventoryPlace,
  capturedAt: Date,
): Record<string, unknown> {
  const { snapshot, id } = listed;
  const created = (snapshot as { SnapshotCreateTime?: Date }).SnapshotCreateTime;
  return {
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationItemStatus: "OK",
    awsAccountId: place.accountId,
    awsRegion: place.region,
    resourceType: listing.resource.type,
    resourceId: id,
    resourceName: id,
    ARN: listedArn(listing.resource, place, id),
    ...listing.itemFields(snapshot),
    ...(created instanceof Date ? { resourceCreationTime: created.toISOString() } : {}),
    tags: tagsOf(snapshot.TagList),
    configuration: plainConfiguration(snapshot, configCase),
    supplementaryConfiguration: { [listing.flavor.configAttributes]: configAttributes(attributes) },
  };
}

/** The lister of one kind of snapshot. */
export function rdsSnapshotInventory(
  listing: SnapshotListing,
  configCase: ConfigCase,
  deps: { rds: RDSClient; now: () => Date },
): ResourceInventory {
  return {
    resourceType: listing.resource.type,

    async page(place, nextToken): Promise<InventoryPage> {
      const listed = await listing.list(deps.rds, nextToken);
      const reads = await mapLimit(
        listed.snapshots,
        ATTRIBUTE_READS_IN_FLIGHT,
        async (entry): Promise<ResourceRead> => {
          const id = entry.id;
          if (!id) return { skipped: true };
          try {
            const attributes = await listing.attributes(deps.rds, id);
            // What cannot be read could be "all": such a snapshot is not judged (and not guessed about).
            restoreOf(attributes, id, listing.flavor.configAttributes);
            return { item: snapshotItem(listing, configCase, { ...entry, id }, attributes, place, deps.now()) };
          } catch (error) {
            if (error instanceof PermanentRemediationError)
              return { unread: { resourceId: id, reason: error.message } };
            return failedRead(error, id, "its attributes");
          }
        },
      );
      return inventoryPage(reads, listed.marker);
    },
  };
}

export const dbSnapshotListing: SnapshotListing = {
  flavor: DB_SNAPSHOT,
  resource: dbSnapshot,

  async list(rds, marker) {
    const output = await rds.send(
      new DescribeDBSnapshotsCommand({ SnapshotType: "manual", ...(marker ? { Marker: marker } : {}) }),
    );
    return {
      snapshots: (output.DBSnapshots ?? []).map((snapshot: DBSnapshot) => ({
        id: snapshot.DBSnapshotIdentifier,
        snapshot,
      })),
      ...(output.Marker ? { marker: output.Marker } : {}),
    };
  },

  async attributes(rds, id) {
    const { DBSnapshotAttributesResult } = await rds.send(
      new DescribeDBSnapshotAttributesCommand({ DBSnapshotIdentifier: id }),
    );
    return DBSnapshotAttributesResult?.DBSnapshotAttributes;
  },

  itemFields(snapshot) {
    const { DBInstanceIdentifier, AvailabilityZone } = snapshot as DBSnapshot;
    return {
      relationships: DBInstanceIdentifier
        ? [
            {
              resourceType: "AWS::RDS::DBInstance",
              resourceName: DBInstanceIdentifier,
              name: "Is associated with DBInstance",
            },
          ]
        : [],
      availabilityZone: AvailabilityZone ?? "Not Applicable",
    };
  },
};

/** A DB snapshot's lister. */
export const dbSnapshotInventory = (deps: { rds: RDSClient; now: () => Date }) =>
  rdsSnapshotInventory(dbSnapshotListing, firstLetterLower, deps);

export const inventory: InventoryModule = {
  resourceType: dbSnapshot.type,
  create: ({ client, now }) => dbSnapshotInventory({ rds: client(RDSClient), now }),
};
