// A bucket policy statement that allows anyone (Principal "*") without a condition that limits who: found by
// rules/s3-public.ts, fixed by removing exactly that statement (or, with block-public-access, by the flags below).
import type { ProblemSpec } from "../types.ts";

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
  resourceType: "AWS::S3::Bucket",
  ruleId: "s3-public",
  matchedKind: "policy-statement",
  remediation: "remediate-s3",
  title: "bucket public through its policy",
  training: {
    title: "Secure pattern: policy statements with a condition",
    advice:
      'Never allow Principal "*" without a condition: limit it to your organization or VPC endpoint. For public websites, serve through CloudFront with origin access control.',
    terraform: S3_POLICY_CONDITION_TERRAFORM,
  },
  blockFlags: ["RestrictPublicBuckets", "BlockPublicPolicy"],
} as const satisfies ProblemSpec<"s3-public-policy">;
