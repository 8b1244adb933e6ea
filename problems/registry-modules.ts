// The one check every list of modules loaded from the registry's folders passes (the real-time observers, the
// inventories, the undos), whether loaded with dynamic imports or written as static imports by the build: one module
// per resource type, in the registry's order, each for its own type.
import type { ResourceSpec } from "./types.ts";

export interface RegistryModuleCheck<M> {
  /** The folder's file and its export: `observe.ts` exports `observe`. */
  file: string;
  exportName: string;
  /** What the module must be for the resource ("the observer of AWS::EC2::SecurityGroup"). */
  what: (resource: ResourceSpec) => string;
  /** What it is for, and what it must be for: they must be equal. */
  keyOf: (module: M) => string;
  expected: (resource: ResourceSpec) => string;
}

export function checkedRegistryModules<M>(
  modules: readonly (M | undefined)[],
  resources: readonly ResourceSpec[],
  check: RegistryModuleCheck<M>,
): readonly M[] {
  return resources.map((resource, index) => {
    const module = modules[index];
    if (module === undefined || check.keyOf(module) !== check.expected(resource)) {
      throw new Error(
        `problems/${resource.folder}/${check.file} must export the ${check.what(resource)} as \`${check.exportName}\` (found ${module === undefined ? "none" : `one of ${check.keyOf(module)}`})`,
      );
    }
    return module;
  });
}
