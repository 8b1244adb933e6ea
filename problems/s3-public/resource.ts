// The resource type both S3 problems are found on: how a bucket is named, linked, identified and opened, the secure
// pattern for it, and its ledger state (this folder holds its undo). Registered through the problems found on it
// (problems/index.ts RESOURCES).
import type { ResourceSpec } from "../types.ts";
import { S3BucketStateSchema } from "./contract.ts";

export const S3_BLOCK_PUBLIC_TERRAFORM = `resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced" # ACLs off
  }
}`;

export const bucket = {
  type: "AWS::S3::Bucket",
  label: "S3 bucket",
  arn: ({ partition }, id) => `arn:${partition}:s3:::${id}`,
  // Any bucket of the account (a bucket ARN names no account: the condition does).
  iamScope: ({ partition, account }) => ({
    resources: [`arn:${partition}:s3:::*`],
    conditions: [{ test: "StringEquals", variable: "s3:ResourceAccount", values: [account] }],
  }),
  consoleUrl: (id, region) =>
    `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(id)}?region=${encodeURIComponent(region)}`,
  openingEvents: [
    "PutBucketAcl",
    "PutBucketPolicy",
    "DeletePublicAccessBlock",
    "PutPublicAccessBlock",
    "DeleteBucketPublicAccessBlock",
    "PutBucketPublicAccessBlock",
    "CreateBucket",
  ],
  securityHub: {
    type: "AwsS3Bucket",
    // arn:<partition>:s3:::<bucket> (a bucket name: 3–63 lowercase letters, digits, dots and hyphens)
    idFrom: (asffId) => /^arn:[\w-]+:s3:::([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])$/.exec(asffId)?.[1],
  },
  reads: {
    permissions: {
      GetBucketTaggingCommand: "s3:GetBucketTagging",
      GetBucketOwnershipControlsCommand: "s3:GetBucketOwnershipControls",
      GetBucketAclCommand: "s3:GetBucketAcl",
      GetBucketPolicyCommand: "s3:GetBucketPolicy",
      GetPublicAccessBlockCommand: "s3:GetBucketPublicAccessBlock",
      // S3 Control: the account-level Block Public Access, judged with the bucket as the rule does.
      GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
    },
    unscopedActions: ["s3:GetAccountPublicAccessBlock"],
  },
  training: {
    title: "Secure pattern: private buckets",
    advice:
      "Turn on all four Block Public Access settings and disable ACLs. To share, use a policy statement with a condition on aws:PrincipalOrgID or aws:SourceVpce.",
    terraform: S3_BLOCK_PUBLIC_TERRAFORM,
  },
  stateKind: "s3-bucket",
  state: S3BucketStateSchema,
  folder: "s3-public",
} as const satisfies ResourceSpec;
