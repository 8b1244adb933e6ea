// The undo of every resource type, by the ledger before-state kind its fixes record (RESOURCES stateKind): the
// runner (cli/undo-runner.ts) finds a record's undo here. Only the CLI reaches this module: the registry and the
// remediation functions never import an undo. The interface each implements: problems/undo-kit.ts.
import { PROBLEM_SPECS, RESOURCES } from "./index.ts";
import { s3BucketUndo } from "./s3-public/undo.ts";
import { sgRulesUndo } from "./sg-open-ingress/undo.ts";
import type { ResourceUndo, StateKind } from "./undo-kit.ts";

export * from "./undo-kit.ts";

/** Every resource type's undo (each imports only problems/undo-kit.ts, so no import cycle runs through here). */
const UNDOS = [sgRulesUndo, s3BucketUndo] as const;

/** What an undo reads of a live resource, whichever resource it is. */
export type LiveState = Awaited<ReturnType<(typeof UNDOS)[number]["readLive"]>>;

/** Each before-state kind's undo, the resource type that records it and the problems found on that type. */
export interface StateUndo {
  undo: ResourceUndo<StateKind, LiveState>;
  resourceType: string;
  problems: readonly string[];
}

/** The undo of a before-state kind, found through the registry's resource types. */
export function undoFor(kind: StateKind): StateUndo {
  const resource = RESOURCES.find((candidate) => candidate.stateKind === kind);
  const undo: ResourceUndo<StateKind, LiveState> | undefined = UNDOS.find((candidate) => candidate.kind === kind);
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
