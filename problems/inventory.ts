// What listing a resource type means where AWS Config does not record it (its ResourceSpec says
// `recordedByConfig: false`): no configuration item of it ever exists, so the periodic scan (functions/config-rule/
// scan.ts) and `remedy plan --live` list the account's resources of the type in one region through the service's own
// API, page by page, each resource built into the item the type's rule judges. One lister per such type
// (problems/<folder>/inventory.ts, its `inventory` export), sending only commands of the type's `reads`. A type Config
// does record may have one too (its ResourceSpec says `inventory: true`): `remedy plan --live` alone lists it so, where
// Config does not record it (LISTED_RESOURCES); the periodic scan lists only the unrecorded types.
import { classifyAwsError, describeAwsError } from "../platform/aws-errors.ts";
import type { Log } from "../platform/logging.ts";
import { RESOURCES } from "./index.ts";
import { checkedRegistryModules } from "./registry-modules.ts";
import type { ResourceSpec } from "./types.ts";

/** What a lister is made from: clients (asked by class, one per class, in the account and region listed). */
export interface InventoryContext {
  client<C>(Client: new (config: object) => C): C;
  /** The capture time of the items a page builds: when they were read. */
  now: () => Date;
  log: Log;
}

/** Where a lister lists: the account its clients speak for, and their region. */
export interface InventoryPlace {
  accountId: string;
  region: string;
}

/** The partition of a region's ARNs (China, GovCloud, else the commercial one). */
export function partitionOfRegion(region: string): string {
  return region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
}

/** A listed resource's ARN as its resource spec derives it, in the place it was listed. */
export function listedArn(resource: Pick<ResourceSpec, "arn">, place: InventoryPlace, id: string): string {
  return resource.arn(
    { partition: partitionOfRegion(place.region), region: place.region, accountId: place.accountId },
    id,
  );
}

/** A resource listed that could not be read (it is not judged; the next listing tries it again). */
export interface Unread {
  resourceId: string;
  reason: string;
}

export interface InventoryPage {
  /** The page's resources as the items the rule judges (normalizeConfigItem reads them as it reads Config's). */
  items: Record<string, unknown>[];
  /** Where the listing goes on; absent on its last page. */
  nextToken?: string;
  /** Resources listed whose reading failed for good (access denied, unjudgeable): neither judged nor reported. */
  unread: Unread[];
  /** Resources listed that were gone when read (deleted between the listing and the read): skipped. */
  gone: number;
}

export interface ResourceInventory {
  resourceType: string;
  /**
   * One page of the account's resources of the type (`nextToken` from the page before; none for the first). Throws
   * what the listing itself threw (a transient error: the caller tries the page again).
   */
  page(place: InventoryPlace, nextToken: string | undefined): Promise<InventoryPage>;
}

/** A resource folder's inventory.ts exports `inventory`. */
export interface InventoryModule {
  resourceType: string;
  create(context: InventoryContext): ResourceInventory;
}

/** The registry's resource types that Config does not record, each listed by its folder's inventory.ts. */
export const UNRECORDED_RESOURCES: readonly ResourceSpec[] = (RESOURCES as readonly ResourceSpec[]).filter(
  (resource) => resource.recordedByConfig === false,
);

/** Whether Remedy lists the type itself (Config does not record it). */
export function listedByInventory(resourceType: string): boolean {
  return UNRECORDED_RESOURCES.some((resource) => resource.type === resourceType);
}

/**
 * The registry's resource types with an inventory (problems/<folder>/inventory.ts), in the registry's order: those
 * Config does not record, and those it records that say `inventory: true` (`remedy plan --live` lists these where
 * Config does not record them).
 */
export const LISTED_RESOURCES: readonly ResourceSpec[] = (RESOURCES as readonly ResourceSpec[]).filter(
  (resource) => resource.recordedByConfig === false || resource.inventory === true,
);

/** Whether the type has an inventory (LISTED_RESOURCES), whether or not Config records it. */
export function hasInventory(resourceType: string): boolean {
  return LISTED_RESOURCES.some((resource) => resource.type === resourceType);
}

/**
 * What an inventory list must be, whether loaded from the registry or written by the build: each listed type's folder
 * exports the lister of that type, in the registry's order. The list is of `resources`: the unrecorded types (the
 * periodic scan's) unless told otherwise (`remedy plan --live` loads LISTED_RESOURCES').
 */
export function checkedInventoryModules(
  modules: readonly (InventoryModule | undefined)[],
  resources: readonly ResourceSpec[] = UNRECORDED_RESOURCES,
): readonly InventoryModule[] {
  return checkedRegistryModules(modules, resources, {
    file: "inventory.ts",
    exportName: "inventory",
    what: (resource) => `lister of ${resource.type}`,
    keyOf: (module) => module.resourceType,
    expected: (resource) => resource.type,
  });
}

/** What reading one listed resource came to; `skipped`: not the account's own, or nothing to name it by. */
export type ResourceRead = { item: Record<string, unknown> } | { unread: Unread } | { gone: true } | { skipped: true };

/**
 * A read of one listed resource that failed: gone since the listing → skipped; throttling and outages → thrown (the
 * whole page is read again: nothing of it was reported yet); anything else → not read, saying what and why.
 */
export function failedRead(error: unknown, resourceId: string, what: string): ResourceRead {
  const kind = classifyAwsError(error);
  if (kind === "gone") return { gone: true };
  if (kind === "transient") throw error;
  return { unread: { resourceId, reason: `${what} cannot be read: ${describeAwsError(error)}` } };
}

/** A page from its resources' reads, in listing order, and where the listing goes on. */
export function inventoryPage(reads: readonly ResourceRead[], nextToken: string | undefined): InventoryPage {
  const page: InventoryPage = { items: [], unread: [], gone: 0 };
  for (const read of reads) {
    if ("item" in read) page.items.push(read.item);
    else if ("unread" in read) page.unread.push(read.unread);
    else if ("gone" in read) page.gone++;
  }
  if (nextToken) page.nextToken = nextToken;
  return page;
}
