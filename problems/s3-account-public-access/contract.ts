// What this problem adds to the contract (contract/ builds its variants from the registry's): its matched entry (one
// account-level Block Public Access flag that is off) and the identity its key is built from, the change its fix
// records (the flags it turned on) and the ledger state of the resource type it is found on (the account's four
// flags, or none configured). Pure: valibot only, so the registry stays SDK-free.
import * as v from "valibot";
import type { KindSchema } from "../../contract/schema-kit.ts";
import type { BlockPublicAccessFlag, ProblemContract } from "../types.ts";

/** The four flags in S3's order (detection/types.ts BLOCK_PUBLIC_ACCESS_FLAGS: not imported, the registry loads this). */
const FLAGS = [
  "BlockPublicAcls",
  "IgnorePublicAcls",
  "BlockPublicPolicy",
  "RestrictPublicBuckets",
] as const satisfies readonly BlockPublicAccessFlag[];

/** The account's Block Public Access in the S3 Control API's shape (GetPublicAccessBlock). */
const AccountFlagsSchema = v.object({
  BlockPublicAcls: v.optional(v.boolean()),
  IgnorePublicAcls: v.optional(v.boolean()),
  BlockPublicPolicy: v.optional(v.boolean()),
  RestrictPublicBuckets: v.optional(v.boolean()),
});

const FlagMatchedSchema = v.object({ kind: v.literal("s3-account-bpa-flag"), flag: v.picklist(FLAGS) });

/** The fix's change: the account's flags before (null: none configured) and as it set them. */
const AccountBlockEnabledSchema = v.object({
  kind: v.literal("account-public-access-block-enabled"),
  accountId: v.string(),
  before: v.nullable(AccountFlagsSchema),
  after: AccountFlagsSchema,
}) satisfies KindSchema;

export const s3AccountPublicAccessContract = {
  matched: FlagMatchedSchema,
  // A flag is the same entry whatever else is on: the flag's name alone.
  identity: (entry: v.InferOutput<typeof FlagMatchedSchema>) => ({ flag: entry.flag }),
  change: AccountBlockEnabledSchema,
} as const satisfies ProblemContract;

/** The ledger state of the account's Block Public Access (its resource.ts): the flags exactly as read, or none. */
export const AccountBlockStateSchema = v.object({
  kind: v.literal("s3-account-public-access-block"),
  accountId: v.string(),
  publicAccessBlock: v.nullable(AccountFlagsSchema),
}) satisfies KindSchema;
export type AccountBlockState = v.InferOutput<typeof AccountBlockStateSchema>;
