// What the S3 problems share in the contract (contract/ builds its variants from the registry's): the change the
// block-public-access strategy records, listed by each S3 problem's contract, and the ledger state of a bucket
// (its resource.ts). Each problem's own entry and change are in its folder's contract.ts. Pure: valibot only,
// so the registry stays SDK-free.
import * as v from "valibot";
import type { KindSchema } from "../../contract/schema-kit.ts";

/** S3 Block Public Access flags, in the S3 API's shape (GetPublicAccessBlock). */
const PublicAccessBlockSchema = v.object({
  BlockPublicAcls: v.optional(v.boolean()),
  IgnorePublicAcls: v.optional(v.boolean()),
  BlockPublicPolicy: v.optional(v.boolean()),
  RestrictPublicBuckets: v.optional(v.boolean()),
});

/** The block-public-access strategy's change: the bucket's flags before (null: none) and after. */
export const PublicAccessBlockEnabledSchema = v.object({
  kind: v.literal("public-access-block-enabled"),
  bucket: v.string(),
  before: v.nullable(PublicAccessBlockSchema),
  after: PublicAccessBlockSchema,
}) satisfies KindSchema;

const ApiGrantSchema = v.object({
  Grantee: v.optional(
    v.object({
      Type: v.optional(v.string()),
      URI: v.optional(v.string()),
      ID: v.optional(v.string()),
      DisplayName: v.optional(v.string()),
      EmailAddress: v.optional(v.string()),
    }),
  ),
  Permission: v.optional(v.string()),
});

/** The ledger state of a bucket: its whole access state, exactly as read: the ACL, the policy TEXT, the flags. */
export const S3BucketStateSchema = v.object({
  kind: v.literal("s3-bucket"),
  bucket: v.string(),
  aclsDisabled: v.boolean(),
  acl: v.object({
    Owner: v.optional(v.object({ ID: v.optional(v.string()), DisplayName: v.optional(v.string()) })),
    Grants: v.array(ApiGrantSchema),
  }),
  policy: v.nullable(v.string()),
  publicAccessBlock: v.nullable(PublicAccessBlockSchema),
}) satisfies KindSchema;
export type S3BucketState = v.InferOutput<typeof S3BucketStateSchema>;
