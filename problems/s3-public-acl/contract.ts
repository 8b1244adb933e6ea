// What this problem adds to the contract (contract/ builds its variants from the registry's): its matched entry (an
// ACL grant) and the identity its key is built from, and the change its fix records (the grants removed); the
// block-public-access change it shares with the other S3 problem is problems/s3-public/contract.ts's. Pure: valibot
// only, so the registry stays SDK-free.
import * as v from "valibot";
import { PublicAccessBlockEnabledSchema } from "../s3-public/contract.ts";
import type { ProblemContract } from "../types.ts";

/** The S3 API's permissions (GetBucketAcl); an entry's is typed as the API's own field, a string. */
const ACL_PERMISSIONS: readonly string[] = ["FULL_CONTROL", "READ", "WRITE", "READ_ACP", "WRITE_ACP"];

const AclGranteeSchema = v.variant("type", [
  v.object({ type: v.literal("Group"), uri: v.pipe(v.string(), v.url()) }),
  v.object({
    type: v.literal("CanonicalUser"),
    id: v.pipe(v.string(), v.minLength(1)),
    displayName: v.optional(v.string()),
  }),
  v.object({ type: v.literal("AmazonCustomerByEmail"), emailAddress: v.pipe(v.string(), v.minLength(3)) }),
]);

/** One S3 ACL grant, in the S3 API's shape (GetBucketAcl), whatever shape Config used. */
const AclGrantSchema = v.object({
  grantee: AclGranteeSchema,
  /** "FULL_CONTROL" | "READ" | "WRITE" | "READ_ACP" | "WRITE_ACP" */
  permission: v.picklist(ACL_PERMISSIONS),
});
export type AclGrant = v.InferOutput<typeof AclGrantSchema>;

const AclGrantMatchedSchema = v.object({ kind: v.literal("acl-grant"), grant: AclGrantSchema });

/**
 * What makes a grant the same grant, the one definition: who (by type and id, URI or email; not the display name)
 * and the permission. A matched entry's key (contract/instruction.ts matchedEntryKey) is built from it.
 */
export function aclGrantIdentity(grant: AclGrant) {
  const grantee = grant.grantee;
  const who =
    grantee.type === "Group" ? grantee.uri : grantee.type === "CanonicalUser" ? grantee.id : grantee.emailAddress;
  return { grantee: `${grantee.type}:${who}`, permission: grant.permission };
}

/** A removed grant as the change records it (its grantee any record, as the ACL held it). */
const RemovedGrantSchema = v.object({
  grantee: v.record(v.string(), v.unknown()),
  permission: v.string(),
});

const AclGrantsRemovedSchema = v.object({
  kind: v.literal("acl-grants-removed"),
  bucket: v.string(),
  grants: v.array(RemovedGrantSchema),
});

export const s3PublicAclContract = {
  matched: AclGrantMatchedSchema,
  identity: (entry: v.InferOutput<typeof AclGrantMatchedSchema>) => aclGrantIdentity(entry.grant),
  change: AclGrantsRemovedSchema,
  otherChanges: [PublicAccessBlockEnabledSchema],
} as const satisfies ProblemContract;
