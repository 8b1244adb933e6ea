// Undoing a fix of a public snapshot: the value "all" goes back into its restore attribute (ModifyDB(Cluster)Snapshot
// Attribute, ValuesToAdd ["all"]) when it is missing live, and only that: the accounts it is shared with now stay as
// they are, whatever changed since. A snapshot that is gone is refused. A record is consistent when its before-state
// is its own snapshot's and holds "all", its one change removed exactly "all" and kept the before-state's accounts,
// and (when `fixed`) its after-state is the before-state without "all". A DB cluster snapshot's undo is built the same
// way (problems/rds-cluster-snapshot-public/undo.ts).
import { RDSClient } from "@aws-sdk/client-rds";
import type { ResourceState } from "../../contract/ledger.ts";
import type { Change } from "../../contract/report.ts";
import { classifyAwsError, errorCode } from "../../platform/aws-errors.ts";
import type { CommandPermissions } from "../../platform/permissions.ts";
import {
  inconsistent,
  onlyChange,
  type ResourcePlan,
  type ResourceUndo,
  type UndoableRecordOf,
  UndoError,
} from "../undo-kit.ts";
import { PUBLIC_RESTORE_VALUE } from "./contract.ts";
import { publicRestoreEntry, sharedAccounts } from "./detect.ts";
import type { SnapshotFlavor } from "./flavor.ts";
import { describeSharing, PUBLIC_RESTORE_WORDS } from "./words.ts";
import { dbSnapshotCalls, type SnapshotCalls } from "./write.ts";

type SnapshotStateKind = SnapshotFlavor["stateKind"];

/** A snapshot's restore attribute as RDS lists it now (and as the ledger records it). */
export interface SnapshotLive<K extends SnapshotStateKind = SnapshotStateKind> {
  kind: K;
  snapshot: string;
  restore: string[];
}

/** What an undo put back on the snapshot (`remedy undo --json` reAdded): values of its restore attribute. */
export interface SnapshotReAdded {
  kind: SnapshotFlavor["matchedKind"];
  snapshot: string;
  values: string[];
}

/** The one write an undo makes: "all" back into the restore attribute. */
export interface AddPublicWrite {
  kind: "add-public";
  snapshot: string;
}

type Removed = Extract<Change, { kind: SnapshotFlavor["changeKind"] }>;

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value)) && new Set(a).size === a.length;
}

/** The undo of a flavor's ledger state (each resource folder exports its own as `undo`). */
export function snapshotUndo<K extends SnapshotStateKind>(
  kind: K,
  calls: SnapshotCalls,
  permissions: CommandPermissions,
): ResourceUndo<K, SnapshotLive<K>, AddPublicWrite, SnapshotReAdded> {
  const { flavor } = calls;
  const what = `${flavor.noun}`;

  function assertConsistent(record: UndoableRecordOf<K>): void {
    const before = record.before as unknown as SnapshotLive<K>;
    if (record.problem !== flavor.problem) {
      throw inconsistent(record, `a ${record.problem} fix changes no ${what}'s restore attribute`);
    }
    if (before.snapshot !== record.resource.id) {
      throw inconsistent(
        record,
        `its before-state is for ${what} ${before.snapshot}, not its resource ${record.resource.id}`,
      );
    }
    if (!before.restore.includes(PUBLIC_RESTORE_VALUE)) {
      throw inconsistent(
        record,
        `its before-state is not public (no "all" in its restore attribute), so Remedy never changed it`,
      );
    }
    const removed: Removed = onlyChange(record, flavor.changeKind);
    if (removed.snapshot !== before.snapshot) {
      throw inconsistent(record, `its change is for ${what} ${removed.snapshot}, not ${before.snapshot}`);
    }
    if (!sameSet(removed.values, [PUBLIC_RESTORE_VALUE])) {
      throw inconsistent(
        record,
        `its change removed ${removed.values.join(", ") || "nothing"}; a fix removes only "all"`,
      );
    }
    if (!sameSet(removed.kept, sharedAccounts(before.restore))) {
      throw inconsistent(record, "the accounts its change kept are not those of its before-state");
    }
    const after = record.after as SnapshotLive | null | undefined;
    if (
      record.outcome === "fixed" &&
      (after?.kind !== kind ||
        after.snapshot !== before.snapshot ||
        !sameSet(after.restore, sharedAccounts(before.restore)))
    ) {
      throw inconsistent(
        record,
        `its after-state is not ${before.snapshot}'s restore attribute without "all" (before − changes ≠ after)`,
      );
    }
  }

  function plan(record: UndoableRecordOf<K>, live: SnapshotLive<K>): ResourcePlan<AddPublicWrite> {
    const before = record.before as unknown as SnapshotLive<K>;
    if (live.kind !== kind || live.snapshot !== before.snapshot) {
      throw new Error(`planUndo: the live state given is not ${what} ${before.snapshot}'s`);
    }
    const { snapshot } = live;
    // The ledger's state of this kind: what was read, and what the write leaves.
    const state = (restore: string[]) => ({ ...live, restore }) as unknown as ResourceState;
    const sharing = describeSharing(sharedAccounts(live.restore));
    if (live.restore.includes(PUBLIC_RESTORE_VALUE)) {
      return {
        lines: [`  nothing to re-add: "all" is in the restore attribute of ${snapshot} again`],
        steps: [`already present: ${PUBLIC_RESTORE_WORDS}`],
        refused: [],
        writes: [],
        before: state(live.restore),
        after: state(live.restore),
      };
    }
    return {
      lines: [
        `  add "all" back to the restore attribute of ${what} ${snapshot}, making it public again (${
          sharing ? `it stays ${sharing}` : "it is shared with no account by id"
        }, as it is now):`,
        `    + ${PUBLIC_RESTORE_WORDS}`,
      ],
      steps: [`re-added: ${PUBLIC_RESTORE_WORDS}`],
      refused: [],
      writes: [{ kind: "add-public", snapshot }],
      before: state(live.restore),
      after: state([...live.restore, PUBLIC_RESTORE_VALUE]),
    };
  }

  return {
    kind,
    what: `a ${what}'s restore attribute`,
    permissions,
    impliedActions: [],

    async readLive(record, clients) {
      const { snapshot } = record.before as unknown as SnapshotLive<K>;
      const rds = clients.client(RDSClient);
      try {
        const facts = await calls.describe(rds, snapshot);
        if (facts) return { kind, snapshot, restore: await calls.readRestore(rds, snapshot) };
      } catch (error) {
        if (classifyAwsError(error) !== "gone") throw error;
        throw new UndoError(
          `${record.actionId} is not undone: ${what} ${snapshot} no longer exists (${errorCode(error) ?? "not found"})`,
        );
      }
      throw new UndoError(`${record.actionId} is not undone: ${what} ${snapshot} no longer exists`);
    },

    assertConsistent,

    plan,

    async apply(write, clients, _record, log) {
      const after = await calls.writePublic(clients.client(RDSClient), write.snapshot, "add");
      if (!after.includes(PUBLIC_RESTORE_VALUE)) {
        throw new UndoError(
          `${what} ${write.snapshot} does not list "all" after putting it back (its restore attribute lists ${after.join(", ") || "nothing"})`,
        );
      }
      log.info("re-added public restore access", { snapshot: write.snapshot });
    },

    reAdded(before, after) {
      const had = (before as unknown as SnapshotLive).restore;
      const { snapshot, restore } = after as unknown as SnapshotLive;
      const values = restore.filter((value) => !had.includes(value));
      return values.length > 0 ? [{ kind: flavor.matchedKind, snapshot, values }] : [];
    },

    restoredEntries: (added) =>
      added.values.includes(PUBLIC_RESTORE_VALUE)
        ? [{ problem: flavor.problem, entry: publicRestoreEntry(flavor) }]
        : [],
  };
}

/** The undo of the rds-snapshot before-state (problems/undo.ts loads it as this folder's `undo`). */
export const undo = snapshotUndo("rds-snapshot", dbSnapshotCalls, {
  DescribeDBSnapshotsCommand: "rds:DescribeDBSnapshots",
  DescribeDBSnapshotAttributesCommand: "rds:DescribeDBSnapshotAttributes",
  ModifyDBSnapshotAttributeCommand: "rds:ModifyDBSnapshotAttribute",
});
