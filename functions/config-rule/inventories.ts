// Every resource type Config does not record, with its lister (problems/<folder>/inventory.ts, its `inventory`
// export), loaded from the registry (each such RESOURCES entry names its folder): the periodic scan and `remedy plan
// --live` list such a type through its own service's API, and a type is listed by being registered with
// `recordedByConfig: false`. Bundled, this module's loader would keep every export of the SDK clients it reaches (a
// dynamic import does): the build writes it again with one static import per such type, as it does the real-time
// observers (scripts/build.ts).
import type { InventoryModule } from "../../problems/inventory.ts";
import { checkedInventoryModules, UNRECORDED_RESOURCES } from "../../problems/inventory.ts";

export const INVENTORY_MODULES: readonly InventoryModule[] = checkedInventoryModules(
  await Promise.all(
    UNRECORDED_RESOURCES.map(
      async (resource) =>
        ((await import(`../../problems/${resource.folder}/inventory.ts`)) as { inventory?: InventoryModule }).inventory,
    ),
  ),
);

export function inventoryModuleFor(resourceType: string): InventoryModule | undefined {
  return INVENTORY_MODULES.find((module) => module.resourceType === resourceType);
}
