// What this problem adds to the contract: a DB cluster snapshot's matched entry, change and ledger state, built as a
// DB snapshot's are (problems/rds-snapshot-public/contract.ts), each of its own kind. Pure: valibot only.
import type * as v from "valibot";
import type { KindSchema } from "../../contract/schema-kit.ts";
import {
  restoreContract,
  restoreEntrySchema,
  restoreRemovedSchema,
  snapshotStateSchema,
} from "../rds-snapshot-public/contract.ts";

export const rdsClusterSnapshotPublicContract = restoreContract(
  restoreEntrySchema("rds-cluster-snapshot-restore"),
  restoreRemovedSchema("rds-cluster-snapshot-restore-removed"),
);

/** The ledger state of a DB cluster snapshot (its resource.ts). */
export const RdsClusterSnapshotStateSchema = snapshotStateSchema("rds-cluster-snapshot") satisfies KindSchema;
export type RdsClusterSnapshotState = v.InferOutput<typeof RdsClusterSnapshotStateSchema>;
