// The check every loaded list of undos passes (problems/undo-modules.ts, and the static list the build writes in its
// place): one undo per registered resource type, in the registry's order, each for that type's before-state kind.
import { RESOURCES } from "./index.ts";
import { checkedRegistryModules } from "./registry-modules.ts";
import type { ResourceUndo, StateKind } from "./undo-kit.ts";

/** What an undo reads of a live resource, whichever resource it is: the runner passes it on without looking in it. */
export interface LiveState {
  kind: StateKind;
}

export function checkedUndoModules(
  modules: readonly (ResourceUndo<StateKind, LiveState> | undefined)[],
): readonly ResourceUndo<StateKind, LiveState>[] {
  return checkedRegistryModules(modules, RESOURCES, {
    file: "undo.ts",
    exportName: "undo",
    what: (resource) => `undo of ${resource.type}'s ${resource.stateKind} before-state`,
    keyOf: (undo) => undo.kind,
    expected: (resource) => resource.stateKind,
  });
}
