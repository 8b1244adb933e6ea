// A bucket policy statement that allows anyone (Principal "*") without a condition that limits who: found by
// problems/s3-public/detect.ts, fixed by removing exactly that statement (or, with block-public-access, by the flags below).
import { S3_BUCKET_FIX_ENV, S3_BUCKET_FIX_PERMISSIONS, S3_BUCKET_FIX_UNSCOPED } from "../s3-public/fix-spec.ts";
import { bucket } from "../s3-public/resource.ts";
import { S3_POLICY_TRIGGERS, S3_SECURITY_HUB_CONTROLS } from "../s3-public/triggers.ts";
import type { ProblemSpec } from "../types.ts";
import { s3PublicPolicyContract } from "./contract.ts";
import { s3PublicPolicyWords } from "./words.ts";

const S3_POLICY_CONDITION_TERRAFORM = `data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "ReadFromOurOrganizationOnly"
    actions   = ["s3:GetObject"]
    resources = ["\${aws_s3_bucket.this.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID" # or "aws:SourceVpce" with your VPC endpoint id
      values   = ["o-exampleorgid"]
    }
  }
}`;

export const s3PublicPolicy = {
  id: "s3-public-policy",
  resource: bucket,
  resourceType: bucket.type,
  ruleId: "s3-public",
  matchedKind: "policy-statement",
  contract: s3PublicPolicyContract,
  remediation: "remediate-s3",
  fix: {
    permissions: {
      ...S3_BUCKET_FIX_PERMISSIONS,
      PutBucketPolicyCommand: "s3:PutBucketPolicy",
      DeleteBucketPolicyCommand: "s3:DeleteBucketPolicy",
    },
    env: S3_BUCKET_FIX_ENV,
    unscopedActions: S3_BUCKET_FIX_UNSCOPED,
  },
  violatingWord: "public",
  title: "bucket public through its policy",
  training: {
    title: "Secure pattern: policy statements with a condition",
    advice:
      'Never allow Principal "*" without a condition: limit it to your organization or VPC endpoint. For public websites, serve through CloudFront with origin access control.',
    terraform: S3_POLICY_CONDITION_TERRAFORM,
  },
  blockFlags: ["RestrictPublicBuckets", "BlockPublicPolicy"],
  realtime: {
    cloudTrail: S3_POLICY_TRIGGERS,
    securityHub: {
      controls: S3_SECURITY_HUB_CONTROLS,
      generatorIds: [
        "prowler-s3_bucket_public_access",
        "prowler-s3_bucket_policy_public_write_access",
        "prowler-s3_bucket_level_public_access_block",
      ],
    },
  },
  words: s3PublicPolicyWords,
} as const satisfies ProblemSpec<"s3-public-policy">;
