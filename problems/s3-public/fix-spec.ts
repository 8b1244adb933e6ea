// What every S3 problem's fix declares (problems/s3-public/fix.ts): its strategies, and what it needs: reading the whole bucket state the rule judges and
// the ledger records, the account's Block Public Access, and the block-public-access strategy's one write. Pure data,
// read by each S3 problem's spec. S3 bucket subresource actions are not named like their API calls:
// GetPublicAccessBlock needs s3:GetBucketPublicAccessBlock.
import type { EnvName } from "../../platform/env.ts";

export const S3_BUCKET_FIX_PERMISSIONS = {
  GetBucketTaggingCommand: "s3:GetBucketTagging",
  GetBucketOwnershipControlsCommand: "s3:GetBucketOwnershipControls",
  GetBucketAclCommand: "s3:GetBucketAcl",
  GetBucketPolicyCommand: "s3:GetBucketPolicy",
  GetPublicAccessBlockCommand: "s3:GetBucketPublicAccessBlock",
  PutPublicAccessBlockCommand: "s3:PutBucketPublicAccessBlock",
  // S3 Control: the account-level Block Public Access, judged with the bucket as the rule does.
  GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
} as const;

/** The account-level Block Public Access read has no resource-level permission. */
export const S3_BUCKET_FIX_UNSCOPED = ["s3:GetAccountPublicAccessBlock"] as const;

/** The fix strategy and the buckets never changed (problems/s3-public/fix.ts readS3FixSettings). */
export const S3_BUCKET_FIX_ENV = [
  "REMEDY_S3_FIX_STRATEGY",
  "REMEDY_PROTECTED_BUCKETS",
] as const satisfies readonly EnvName[];

/** `surgical` removes exactly the public grants or statements; `block-public-access` turns on the bucket's flags. */
export type S3FixStrategy = "surgical" | "block-public-access";
export const S3_FIX_STRATEGIES: readonly S3FixStrategy[] = ["surgical", "block-public-access"];
