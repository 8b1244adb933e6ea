// Every resource type's undo (problems/<folder>/undo.ts, its `undo` export), loaded from the registry (each RESOURCES
// entry names its folder), so a resource type's undo is used by being registered. A bundle does not run this loader:
// the build writes the module again with one static import per resource type (scripts/build.ts
// REGISTRY_MODULE_LISTS), because a dynamic import keeps every export of the SDK clients it reaches.
import { RESOURCES } from "./index.ts";
import { checkedUndoModules, type LiveState } from "./undo-check.ts";
import type { ResourceUndo, StateKind } from "./undo-kit.ts";

export const UNDO_MODULES: readonly ResourceUndo<StateKind, LiveState>[] = checkedUndoModules(
  await Promise.all(
    RESOURCES.map(
      async (resource) =>
        ((await import(`./${resource.folder}/undo.ts`)) as { undo?: ResourceUndo<StateKind, LiveState> }).undo,
    ),
  ),
);
