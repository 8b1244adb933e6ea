// The check every loaded list of undos passes (problems/undo-modules.ts, and the static list the build writes in its
// place): one undo per registered resource type, in the registry's order, each for that type's before-state kind.
import { RESOURCES } from "./index.ts";
import type { ResourceUndo, StateKind } from "./undo-kit.ts";

/** What an undo reads of a live resource, whichever resource it is: the runner passes it on without looking in it. */
export interface LiveState {
  kind: StateKind;
}

export function checkedUndoModules(
  modules: readonly (ResourceUndo<StateKind, LiveState> | undefined)[],
): readonly ResourceUndo<StateKind, LiveState>[] {
  return RESOURCES.map((resource, index) => {
    const undo = modules[index];
    if (undo?.kind !== resource.stateKind) {
      throw new Error(
        `problems/${resource.folder}/undo.ts must export the undo of ${resource.type}'s ${resource.stateKind} before-state as \`undo\` (found ${undo ? `one of ${undo.kind}` : "none"})`,
      );
    }
    return undo;
  });
}
