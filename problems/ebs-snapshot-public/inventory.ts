// Listing the account's EBS snapshots in one region, as AWS Config would if it recorded them: DescribeSnapshots
// (OwnerIds self, a page at a time) gives each snapshot and its tags, DescribeSnapshotAttribute (createVolumePermission,
// a few at once) its permissions; each becomes the item the rule judges (detect.ts). A snapshot deleted between the
// listing and its attribute read is skipped; one whose attribute cannot be read for good is listed as unread.
import { EC2Client, type Snapshot } from "@aws-sdk/client-ec2";
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
import type { CreateVolumePermissionState } from "./contract.ts";
import { InvalidSnapshotPermissionsError } from "./detect.ts";
import { listSnapshots, readPermissions, snapshotTags } from "./live.ts";
import { ebsSnapshot } from "./resource.ts";

/** Attribute reads in flight at once, within one page. */
const ATTRIBUTE_READS_IN_FLIGHT = 8;

/** A snapshot as plain JSON: EC2's own field names, times as ISO text, absent fields left out. */
function plainSnapshot(snapshot: Snapshot): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(snapshot)) {
    if (value === undefined) continue;
    plain[key] = value instanceof Date ? value.toISOString() : value;
  }
  return plain;
}

/**
 * The item of one snapshot, shaped as a configuration item (normalizeConfigItem reads it as it reads Config's): the
 * snapshot as DescribeSnapshots returned it, its permissions as DescribeSnapshotAttribute returned them, its tags.
 */
export function snapshotItem(
  snapshot: Snapshot & { SnapshotId: string },
  permissions: readonly CreateVolumePermissionState[],
  place: InventoryPlace,
  capturedAt: Date,
): Record<string, unknown> {
  const tags = snapshotTags(snapshot);
  return {
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationItemStatus: "OK",
    awsAccountId: place.accountId,
    awsRegion: place.region,
    resourceType: ebsSnapshot.type,
    resourceId: snapshot.SnapshotId,
    ...(tags.Name ? { resourceName: tags.Name } : {}),
    ARN: listedArn(ebsSnapshot, place, snapshot.SnapshotId),
    availabilityZone: "Regional",
    tags,
    relationships: snapshot.VolumeId
      ? [{ resourceType: "AWS::EC2::Volume", resourceId: snapshot.VolumeId, name: "Is associated with Volume" }]
      : [],
    configuration: plainSnapshot(snapshot),
    supplementaryConfiguration: { CreateVolumePermissions: permissions.map((permission) => ({ ...permission })) },
  };
}

export function snapshotInventory(deps: { ec2: EC2Client; now: () => Date }): ResourceInventory {
  return {
    resourceType: ebsSnapshot.type,

    async page(place, nextToken): Promise<InventoryPage> {
      const listed = await listSnapshots(deps.ec2, nextToken);
      const reads = await mapLimit(
        listed.snapshots,
        ATTRIBUTE_READS_IN_FLIGHT,
        async (snapshot): Promise<ResourceRead> => {
          const id = snapshot.SnapshotId;
          // OwnerIds self already says so; a listing is a claim too, and only the account's own are judged.
          if (!id || snapshot.OwnerId !== place.accountId) return { skipped: true };
          try {
            const permissions = await readPermissions(deps.ec2, id);
            return { item: snapshotItem({ ...snapshot, SnapshotId: id }, permissions, place, deps.now()) };
          } catch (error) {
            if (error instanceof InvalidSnapshotPermissionsError) {
              return { unread: { resourceId: id, reason: `its permissions cannot be judged: ${error.message}` } };
            }
            return failedRead(error, id, "its permissions");
          }
        },
      );
      return inventoryPage(reads, listed.nextToken);
    },
  };
}

export const inventory: InventoryModule = {
  resourceType: ebsSnapshot.type,
  create: ({ client, now }) => snapshotInventory({ ec2: client(EC2Client), now }),
};
