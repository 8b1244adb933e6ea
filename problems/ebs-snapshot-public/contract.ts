// What this problem adds to the contract (contract/ builds its variants from the registry's): its matched entry (the
// public group of a snapshot's createVolumePermission) and the identity its key is built from, the change its fix
// records (the group removed) and the ledger state of an EBS snapshot (its whole permission list). Pure: valibot
// only, so the registry stays SDK-free.
import * as v from "valibot";
import type { KindSchema } from "../../contract/schema-kit.ts";
import type { ProblemContract } from "../types.ts";

/**
 * The one entry a public snapshot's createVolumePermission holds: the group `all` (every AWS account), the only group
 * EC2 knows. An account id is never an entry, so no instruction can name one and no fix can remove one.
 */
const SnapshotPermissionMatchedSchema = v.object({
  kind: v.literal("ebs-snapshot-permission"),
  group: v.literal("all"),
});
export type SnapshotPermissionEntry = v.InferOutput<typeof SnapshotPermissionMatchedSchema>;

/** The public group removed, as the change records it: the snapshot and the group(s). */
const SnapshotPermissionsRemovedSchema = v.object({
  kind: v.literal("ebs-snapshot-permissions-removed"),
  snapshotId: v.string(),
  groups: v.array(v.literal("all")),
});

export const ebsSnapshotPublicContract = {
  matched: SnapshotPermissionMatchedSchema,
  identity: (entry: SnapshotPermissionEntry) => ({ group: entry.group }),
  change: SnapshotPermissionsRemovedSchema,
} as const satisfies ProblemContract;

/** One createVolumePermission entry as DescribeSnapshotAttribute returns it: a group or an account id. */
const CreateVolumePermissionSchema = v.object({
  Group: v.optional(v.string()),
  UserId: v.optional(v.string()),
});
export type CreateVolumePermissionState = v.InferOutput<typeof CreateVolumePermissionSchema>;

/**
 * The ledger state of an EBS snapshot (its resource.ts): its whole createVolumePermission list, exactly as read.
 * Before a fix it holds `all` and every account it is shared with; after it, the same accounts without `all`.
 */
export const EbsSnapshotPermissionsStateSchema = v.object({
  kind: v.literal("ebs-snapshot-permissions"),
  snapshotId: v.string(),
  createVolumePermissions: v.array(CreateVolumePermissionSchema),
}) satisfies KindSchema;
export type EbsSnapshotPermissionsState = v.InferOutput<typeof EbsSnapshotPermissionsStateSchema>;
