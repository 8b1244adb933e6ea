// The inventories `remedy plan --live` lists with (problems/<folder>/inventory.ts, each `inventory` export), loaded
// from the registry: every type Config does not record, and every type it records whose ResourceSpec says `inventory:
// true` (LISTED_RESOURCES), read so where Config does not record it. The CLI is not bundled, so a dynamic import is
// fine here; the periodic scan's list (functions/config-rule/inventories.ts, written statically by the build) stays
// the unrecorded types'. Loaded on first use, once: only plan --live needs the SDK clients these reach.
import { checkedInventoryModules, type InventoryModule, LISTED_RESOURCES } from "../problems/inventory.ts";

let loading: Promise<readonly InventoryModule[]> | undefined;

/** Every listed type's inventory, in the registry's order, each checked to be its folder's lister of its type. */
export function listedInventoryModules(): Promise<readonly InventoryModule[]> {
  loading ??= Promise.all(
    LISTED_RESOURCES.map(
      async (resource) =>
        ((await import(`../problems/${resource.folder}/inventory.ts`)) as { inventory?: InventoryModule }).inventory,
    ),
  ).then((modules) => checkedInventoryModules(modules, LISTED_RESOURCES));
  return loading;
}

/** The inventory of a type (undefined: it has none). */
export async function listedInventoryFor(resourceType: string): Promise<InventoryModule | undefined> {
  return (await listedInventoryModules()).find((module) => module.resourceType === resourceType);
}
