// What a resource type supplies to undo a fix (the interface and its errors; problems/undo.ts loads each resource
// type's from problems/<folder>/undo.ts, its `undo` export): for the ledger before-state its fixes record, how to
// read the live resource, check that a record is what a fix of it does, plan the re-adds against the live state (and
// say what they are), make them, and say what an undo put back (`remedy undo --json`). Everything else — finding the
// record, its MAC, the checks every record gets, asking, the undo's own ledger records — is the runner's
// (cli/undo-runner.ts), the same for every resource. The runner finds a record's undo by its before-state's kind,
// which the registry's resource types declare (RESOURCES stateKind, with the folder its undo is in).
// Only the CLI reaches this module: the registry and the remediation functions never import an undo.
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";
import type { MatchedEntry } from "../contract/instruction.ts";
import type { LedgerRecord, ResourceState } from "../contract/ledger.ts";
import type { Change } from "../contract/report.ts";
import { PermanentError } from "../platform/errors.ts";
import type { Log } from "../platform/logging.ts";
import type { CommandPermissions } from "../platform/permissions.ts";
import type { Problem } from "./index.ts";

/** An action that cannot be undone (not found, not a fix, an undo itself, not genuine, inconsistent). */
export class UndoError extends PermanentError {
  override name = "UndoError";
}

export type StateKind = ResourceState["kind"];

/** The ledger state of one kind. */
export type StateOf<K extends StateKind> = Extract<ResourceState, { kind: K }>;

/** One kind of entry an undo put back, as `remedy undo --json` reports it (`reAdded`); each undo declares its own. */
export interface ReAdded {
  kind: string;
}

/** A record undo may restore: it has a before-state. */
export type UndoableRecord = LedgerRecord & { before: ResourceState };
export type UndoableRecordOf<K extends StateKind> = LedgerRecord & { before: ResourceState & { kind: K } };

/** The clients an undo reads and writes with (the CLI's). */
export interface UndoClients {
  ec2: EC2Client;
  s3: S3Client;
  /**
   * The client of any other SDK class, aimed where ec2 and s3 are (region, profile, a member account's credentials):
   * a resource type whose undo needs another service asks for it by class, so adding one changes no CLI code.
   */
  client<C>(Client: new (config: object) => C): C;
}

/** Why a record is not what a fix does, as undo refuses it. */
export function inconsistent(record: LedgerRecord, what: string): UndoError {
  return new UndoError(`${record.actionId} is inconsistent, so it is not undone: ${what}`);
}

/** The kinds of a record's changes, for a refusal: "sg-rules-revoked, restored". */
export function changeKinds(record: LedgerRecord): string {
  return record.changes.map((change) => change.kind).join(", ") || "none";
}

/** A record's one change, of `kind` (every fix records exactly one): anything else makes the record inconsistent. */
export function onlyChange<K extends Change["kind"]>(record: LedgerRecord, kind: K): Extract<Change, { kind: K }> {
  const [change, ...more] = record.changes;
  if (change?.kind !== kind || more.length > 0) {
    throw inconsistent(record, `its changes (${changeKinds(record)}) are not the one ${kind} a fix makes`);
  }
  return change as Extract<Change, { kind: K }>;
}

/** What goes back on one resource, decided from the record and the live state alone. */
export interface ResourcePlan<Write = unknown> {
  /** What describeUndo shows about the resource: what is re-added, what is there already, what is refused. */
  lines: string[];
  /** What undo reports once the writes succeeded, one line per entry. */
  steps: string[];
  /** Entries not re-added because they conflict with the live state, one sentence each ("conflict: …"). */
  refused: string[];
  /** The calls that put the missing entries back (made by `apply`, in order); none when nothing is re-added. */
  writes: Write[];
  /** The live state as read (the undo's before-state) and as the writes leave it (its after-state). */
  before: ResourceState;
  after: ResourceState;
}

/**
 * The undo of one ledger before-state kind. Undo adds back only what the record's change removed and is missing
 * live; every check refuses (UndoError) rather than guess.
 */
export interface ResourceUndo<
  K extends StateKind = StateKind,
  Live extends { kind: K } = { kind: K },
  Write = unknown,
  Added extends ReAdded = ReAdded,
> {
  /** The before-state it restores (its resource type's stateKind in the registry). */
  kind: K;
  /** What that state holds, in a refusal: "security-group rules". */
  what: string;
  /** Every AWS command it sends, reads and writes → its IAM action (cli/permissions.ts adds them to the CLI's). */
  permissions: CommandPermissions;
  /** IAM actions its writes need without a command of their own (the CLI's too, cli/permissions.ts). */
  impliedActions: readonly string[];
  /** Reads what the record is compared with (changes nothing); UndoError when the resource is gone. */
  readLive(record: UndoableRecordOf<K>, clients: UndoClients): Promise<Live>;
  /**
   * Throws UndoError (inconsistent) unless the record's before-state is its own resource's, its changes are exactly
   * what a fix removes and (when `fixed`) its after-state is the before-state minus them. The runner has already
   * checked the outcome, the MAC, the resource type and that the problem is found on that type.
   */
  assertConsistent(record: UndoableRecordOf<K>): void;
  /**
   * Decides (pure) what goes back on `live`: exactly the entries the change removed that are missing there, added to
   * the live state with everything else in it kept; `lines` say so. Throws when `live` is not the record's resource.
   */
  plan(record: UndoableRecordOf<K>, live: Live): ResourcePlan<Write>;
  /** Makes one of the plan's writes. */
  apply(write: Write, clients: UndoClients, record: UndoableRecordOf<K>, log: Log): Promise<void>;
  /**
   * What is in `after` and was not in `before` (an undo's own record: the live state it read and the state it left),
   * as `remedy undo --json` reports it; none when nothing was put back.
   */
  reAdded(before: StateOf<K>, after: StateOf<K>): Added[];
  /**
   * What one of its `reAdded` items puts back, as its problems' findings name it: the entries undo's temporary
   * exemption lists, so the next detection leaves them as restored. Absent: problems/undo-entries.ts names them.
   */
  restoredEntries?(added: Added): readonly { problem: Problem; entry: MatchedEntry }[];
}
