// What the public-snapshot problems add to the contract (contract/ builds its variants from the registry's), for a DB
// snapshot here and, through the same builders, for a DB cluster snapshot (problems/rds-cluster-snapshot-public/
// contract.ts): the matched entry (the public value of the restore attribute), the change its fix records (that value
// removed, the accounts kept) and the ledger state of the snapshot (its restore attribute). Pure: valibot only, so the
// registry stays SDK-free.
import * as v from "valibot";
import type { KindSchema } from "../../contract/schema-kit.ts";
import type { ProblemContract } from "../types.ts";

/** The one value of a snapshot's `restore` attribute that makes it public: every AWS account may copy or restore it. */
export const PUBLIC_RESTORE_VALUE = "all";

/** The only attribute RDS shares snapshots through. */
export const RESTORE_ATTRIBUTE = "restore";

/**
 * The matched entry of a public snapshot: the public value in its restore attribute. Only "all" fits, so no claim can
 * ever name an account id for a fix to remove.
 */
export function restoreEntrySchema<const K extends string>(kind: K) {
  return v.object({ kind: v.literal(kind), value: v.literal(PUBLIC_RESTORE_VALUE) });
}

/** The change a fix records: "all" removed from the snapshot's restore attribute, and the account ids left there. */
export function restoreRemovedSchema<const K extends string>(kind: K) {
  return v.object({
    kind: v.literal(kind),
    snapshot: v.pipe(v.string(), v.minLength(1)),
    values: v.pipe(v.array(v.literal(PUBLIC_RESTORE_VALUE)), v.length(1, "a fix removes exactly the value all")),
    /** The account ids the restore attribute held besides "all": kept, as read before the change. */
    kept: v.array(v.string()),
  });
}

/** The ledger state of a snapshot: its restore attribute's values, exactly as RDS listed them. */
export function snapshotStateSchema<const K extends string>(kind: K) {
  return v.object({
    kind: v.literal(kind),
    snapshot: v.pipe(v.string(), v.minLength(1)),
    restore: v.array(v.string()),
  });
}

/** A problem's contract from its three schemas; an entry's identity is its value (there is one: "all"). */
export function restoreContract<M extends ReturnType<typeof restoreEntrySchema>, C extends KindSchema>(
  matched: M,
  change: C,
) {
  return {
    matched,
    identity: (entry: v.InferOutput<M>) => ({ value: entry.value }),
    change,
  } as const satisfies ProblemContract;
}

const SnapshotRestoreSchema = restoreEntrySchema("rds-snapshot-restore");
const SnapshotRestoreRemovedSchema = restoreRemovedSchema("rds-snapshot-restore-removed");

export const rdsSnapshotPublicContract = restoreContract(SnapshotRestoreSchema, SnapshotRestoreRemovedSchema);

/** The ledger state of a DB snapshot (its resource.ts). */
export const RdsSnapshotStateSchema = snapshotStateSchema("rds-snapshot") satisfies KindSchema;
export type RdsSnapshotState = v.InferOutput<typeof RdsSnapshotStateSchema>;
