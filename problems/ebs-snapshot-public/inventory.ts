// Listing the account's EBS snapshots in one region, as AWS Config would if it recorded them: DescribeSnapshots
// (OwnerIds self, a page at a time) gives each snapshot and its tags, DescribeSnapshotAttribute (createVolumePermission,
// a few at once) its permissions; each becomes the item the rule judges (detect.ts). A snapshot deleted between the
// listing and its attribute read is skipped; one whose attribute cannot be read for good is listed as unread.
import { EC2Client, type Snapshot } from "@aws-sdk/client-ec2";
import { classifyAwsError, describeAwsError } from "../../platform/aws-errors.ts";
import type { InventoryModule, InventoryPage, InventoryPlace, ResourceInventory, Unread } from "../inventory.ts";
import type { CreateVolumePermissionState } from "./contract.ts";
import { InvalidSnapshotPermissionsError } from "./detect.ts";
import { listSnapshots, readPermissions, snapshotTags } from "./live.ts";
import { ebsSnapshot } from "./resource.ts";

/** Attribute reads in flight at once, within one page. */
const ATTRIBUTE_READS_IN_FLIGHT = 8;

/** The partition of a region's ARNs. */
function partitionOf(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

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
    ARN: ebsSnapshot.arn(
      { partition: partitionOf(place.region), region: place.region, accountId: place.accountId },
      snapshot.SnapshotId,
    ),
    availabilityZone: "Regional",
    tags,
    relationships: snapshot.VolumeId
      ? [{ resourceType: "AWS::EC2::Volume", resourceId: snapshot.VolumeId, name: "Is associated with Volume" }]
      : [],
    configuration: plainSnapshot(snapshot),
    supplementaryConfiguration: { CreateVolumePermissions: permissions.map((permission) => ({ ...permission })) },
  };
}

/** Maps `inputs` with at most `limit` calls in flight; results keep the inputs' order. */
async function inPool<T, R>(inputs: readonly T[], limit: number, map: (input: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(inputs.length);
  let next = 0;
  const lane = async () => {
    while (next < inputs.length) {
      const index = next++;
      results[index] = await map(inputs[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, lane));
  return results;
}

type Read = { item: Record<string, unknown> } | { unread: Unread } | { gone: true } | { foreign: true };

export function snapshotInventory(deps: { ec2: EC2Client; now: () => Date }): ResourceInventory {
  return {
    resourceType: ebsSnapshot.type,

    async page(place, nextToken): Promise<InventoryPage> {
      const listed = await listSnapshots(deps.ec2, nextToken);
      const reads = await inPool(listed.snapshots, ATTRIBUTE_READS_IN_FLIGHT, async (snapshot): Promise<Read> => {
        const id = snapshot.SnapshotId;
        // OwnerIds self already says so; a listing is a claim too, and only the account's own are judged.
        if (!id || snapshot.OwnerId !== place.accountId) return { foreign: true };
        try {
          const permissions = await readPermissions(deps.ec2, id);
          return { item: snapshotItem({ ...snapshot, SnapshotId: id }, permissions, place, deps.now()) };
        } catch (error) {
          if (error instanceof InvalidSnapshotPermissionsError) {
            return { unread: { resourceId: id, reason: `its permissions cannot be judged: ${error.message}` } };
          }
          const kind = classifyAwsError(error);
          if (kind === "gone") return { gone: true };
          // Throttling and outages: the whole page is read again (nothing of it was reported yet).
          if (kind === "transient") throw error;
          return { unread: { resourceId: id, reason: `its permissions cannot be read: ${describeAwsError(error)}` } };
        }
      });
      const page: InventoryPage = { items: [], unread: [], gone: 0 };
      for (const read of reads) {
        if ("item" in read) page.items.push(read.item);
        else if ("unread" in read) page.unread.push(read.unread);
        else if ("gone" in read) page.gone++;
      }
      if (listed.nextToken) page.nextToken = listed.nextToken;
      return page;
    },
  };
}

export const inventory: InventoryModule = {
  resourceType: ebsSnapshot.type,
  create: ({ client, now }) => snapshotInventory({ ec2: client(EC2Client), now }),
};
