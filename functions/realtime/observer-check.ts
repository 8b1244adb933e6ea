// What the real-time observer list must be, whether loaded (observers.ts) or written by the build: each registered
// resource type's folder exports the observer of that type, in the registry's order.
import { RESOURCES } from "../../problems/index.ts";
import type { ObserveModule } from "../../problems/observe.ts";

export function checkedObserveModules(modules: readonly (ObserveModule | undefined)[]): readonly ObserveModule[] {
  return RESOURCES.map((resource, index) => {
    const module = modules[index];
    if (module?.resourceType !== resource.type) {
      throw new Error(
        `problems/${resource.folder}/observe.ts must export the observer of ${resource.type} as \`observe\` (found ${module ? `one of ${module.resourceType}` : "none"})`,
      );
    }
    return module;
  });
}
