// The undo of every resource type, by the ledger before-state kind its fixes record (RESOURCES stateKind): the
// runner (cli/undo-runner.ts) finds a record's undo here. Each is loaded from the registry: the `undo` export of
// problems/<folder>/undo.ts, the folder its RESOURCES entry names, so a resource type's undo is used by being
// registered (problems/undo-modules.ts loads them). Only the CLI and the interactions worker reach this module: the
// registry and the remediation functions never import an undo.
// The interface each implements: problems/undo-kit.ts.
import { PROBLEM_SPECS, RESOURCES } from "./index.ts";
import type { LiveState } from "./undo-check.ts";
import type { ResourceUndo, StateKind } from "./undo-kit.ts";
import { UNDO_MODULES } from "./undo-modules.ts";

export type { LiveState } from "./undo-check.ts";
export * from "./undo-kit.ts";

/**
 * Every resource type's undo, in the registry's order (each imports only problems/undo-kit.ts and its own folder's
 * code, so no import cycle runs through here).
 */
const UNDOS: readonly ResourceUndo<StateKind, LiveState>[] = UNDO_MODULES;

/** Each before-state kind's undo, the resource type that records it and the problems found on that type. */
export interface StateUndo {
  undo: ResourceUndo<StateKind, LiveState>;
  resourceType: string;
  problems: readonly string[];
}

/** The undo of a before-state kind, found through the registry's resource types. */
export function undoFor(kind: StateKind): StateUndo {
  const resource = RESOURCES.find((candidate) => candidate.stateKind === kind);
  const undo = UNDOS.find((candidate) => candidate.kind === kind);
  if (!resource || !undo) throw new Error(`no resource type in the registry records a ${kind} before-state to undo`);
  return {
    undo,
    resourceType: resource.type,
    problems: PROBLEM_SPECS.filter((spec) => spec.resourceType === resource.type).map((spec) => spec.id),
  };
}

/** Every resource type's undo with its resource type, in the registry's order (the permissions they need). */
export function resourceUndos(): StateUndo[] {
  return RESOURCES.map((resource) => undoFor(resource.stateKind));
}
