// What the real-time observer list must be, whether loaded (observers.ts) or written by the build: each registered
// resource type's folder exports the observer of that type, in the registry's order.
import { RESOURCES } from "../../problems/index.ts";
import type { ObserveModule } from "../../problems/observe.ts";
import { checkedRegistryModules } from "../../problems/registry-modules.ts";

export function checkedObserveModules(modules: readonly (ObserveModule | undefined)[]): readonly ObserveModule[] {
  return checkedRegistryModules(modules, RESOURCES, {
    file: "observe.ts",
    exportName: "observe",
    what: (resource) => `observer of ${resource.type}`,
    keyOf: (module) => module.resourceType,
    expected: (resource) => resource.type,
  });
}
