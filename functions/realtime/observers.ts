// Every resource type's live reader (problems/<folder>/observe.ts, its `observe` export), loaded from the registry
// (each RESOURCES entry names its folder): the real-time path reads a resource exactly as the remediation that would
// fix it does, and a resource type is read by being registered. The bundle does not run this module's loader: the
// build writes it again with one static import per resource type (scripts/build.ts REGISTRY_MODULE_LISTS), because a
// dynamic import keeps every export of the SDK clients it reaches (the EC2 client alone then weighs 900 KB).

import { RESOURCES } from "../../problems/index.ts";
import type { ObserveModule } from "../../problems/observe.ts";
import { checkedObserveModules } from "./observer-check.ts";

export const OBSERVE_MODULES: readonly ObserveModule[] = checkedObserveModules(
  await Promise.all(
    RESOURCES.map(
      async (resource) =>
        ((await import(`../../problems/${resource.folder}/observe.ts`)) as { observe?: ObserveModule }).observe,
    ),
  ),
);

export function observeModuleFor(resourceType: string): ObserveModule | undefined {
  return OBSERVE_MODULES.find((module) => module.resourceType === resourceType);
}
