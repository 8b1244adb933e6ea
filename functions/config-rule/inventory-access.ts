// The listers of the resource types Config does not record (inventories.ts), made with one set of clients: the rule
// function's own (single-account mode) or a member account's detect session in one region (organization.ts).
import type { InventoryContext, ResourceInventory } from "../../problems/inventory.ts";
import { inventoryModuleFor } from "./inventories.ts";

/** A type's lister in one account and region; undefined for a type Config records (or one Remedy does not judge). */
export type InventoryAccess = (resourceType: string) => ResourceInventory | undefined;

/** Each unrecorded type's lister, made with these clients at its first use, then kept. */
export function inventoryAccess(context: InventoryContext): InventoryAccess {
  const made = new Map<string, ResourceInventory | undefined>();
  return (resourceType) => {
    if (!made.has(resourceType)) made.set(resourceType, inventoryModuleFor(resourceType)?.create(context));
    return made.get(resourceType);
  };
}
