// A bucket ACL grant to everyone (AllUsers) or to any AWS account (AuthenticatedUsers): found by problems/s3-public/detect.ts,
// fixed by removing exactly that grant (or, with the block-public-access strategy, by the flags below).
import { S3_BUCKET_FIX_ENV, S3_BUCKET_FIX_PERMISSIONS, S3_BUCKET_FIX_UNSCOPED } from "../s3-public/fix-spec.ts";
import { bucket, S3_BLOCK_PUBLIC_TERRAFORM } from "../s3-public/resource.ts";
import { S3_ACL_TRIGGERS, S3_SECURITY_HUB_CONTROLS } from "../s3-public/triggers.ts";
import type { ProblemSpec } from "../types.ts";
import { s3PublicAclContract } from "./contract.ts";
import { s3PublicAclWords } from "./words.ts";

export const s3PublicAcl = {
  id: "s3-public-acl",
  resource: bucket,
  resourceType: bucket.type,
  ruleId: "s3-public",
  matchedKind: "acl-grant",
  contract: s3PublicAclContract,
  remediation: "remediate-s3",
  fix: {
    permissions: {
      ...S3_BUCKET_FIX_PERMISSIONS,
      PutBucketAclCommand: "s3:PutBucketAcl",
    },
    env: S3_BUCKET_FIX_ENV,
    unscopedActions: S3_BUCKET_FIX_UNSCOPED,
  },
  violatingWord: "public",
  title: "bucket public through its ACL",
  training: {
    title: "Secure pattern: no public ACLs",
    advice: "Turn on all four Block Public Access settings and disable ACLs; grant access with IAM or bucket policies.",
    terraform: S3_BLOCK_PUBLIC_TERRAFORM,
  },
  blockFlags: ["IgnorePublicAcls", "BlockPublicAcls"],
  realtime: {
    cloudTrail: S3_ACL_TRIGGERS,
    securityHub: {
      controls: S3_SECURITY_HUB_CONTROLS,
      generatorIds: [
        "prowler-s3_bucket_public_access",
        "prowler-s3_bucket_public_list_acl",
        "prowler-s3_bucket_public_write_acl",
        "prowler-s3_bucket_level_public_access_block",
      ],
    },
  },
  words: s3PublicAclWords,
} as const satisfies ProblemSpec<"s3-public-acl">;
