// The resource type s3-account-public-access is found on: the account's S3 Block Public Access, one per account (its
// id is the account id), how it is named, linked, identified and opened, the secure pattern for it, and its ledger
// state (this folder holds its undo). Registered through the problem found on it (problems/index.ts RESOURCES).
import { bucket } from "../s3-public/resource.ts";
import type { ResourceSpec } from "../types.ts";
import { AccountBlockStateSchema } from "./contract.ts";

export const S3_ACCOUNT_BLOCK_PUBLIC_TERRAFORM = `resource "aws_s3_account_public_access_block" "this" {
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = true
  restrict_public_buckets = true
}`;

export const accountPublicAccessBlock = {
  type: "AWS::S3::AccountPublicAccessBlock",
  label: "S3 account Block Public Access",
  // It has no ARN of its own (Config records none): the form third-party findings name it by (Prowler's), so an
  // allowlist entry written from one of those matches it; its id (the account id) matches as well.
  arn: ({ partition, region, accountId }) => `arn:${partition}:s3:${region}:${accountId}:account`,
  // The fix's scoped actions are its reads of the account's buckets (the setting's own calls have no resource).
  iamScope: bucket.iamScope,
  consoleUrl: (_id, region) => `https://s3.console.aws.amazon.com/s3/settings?region=${encodeURIComponent(region)}`,
  openingEvents: ["PutAccountPublicAccessBlock", "DeleteAccountPublicAccessBlock"],
  // Those calls name no resource in CloudTrail (their `resources` is empty): attribution looks them up by name.
  cloudTrailNamesIt: false,
  securityHub: {
    // Security Hub's S3.1 files the account as AwsAccount "AWS::::Account:<id>"; Prowler's
    // s3_account_level_public_access_blocks as AwsS3Bucket "arn:<partition>:s3:<region>:<id>:account".
    type: "AwsAccount",
    otherTypes: ["AwsS3Bucket"],
    idFrom: (asffId) =>
      /^AWS::::Account:(\d{12})$/.exec(asffId)?.[1] ?? /^arn:[\w-]+:s3:[a-z0-9-]*:(\d{12}):account$/.exec(asffId)?.[1],
  },
  reads: {
    permissions: { GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock" },
    unscopedActions: ["s3:GetAccountPublicAccessBlock"],
  },
  // Where Config does not record it, `remedy plan --live` lists it with inventory.ts (these reads).
  inventory: true,
  training: {
    title: "Secure pattern: Block Public Access for the whole account",
    advice:
      "Turn on all four account-level Block Public Access settings, so no bucket can be made public by an ACL or a policy. Share through CloudFront (origin access control), access points or policies conditioned on aws:PrincipalOrgID instead of public buckets.",
    terraform: S3_ACCOUNT_BLOCK_PUBLIC_TERRAFORM,
  },
  stateKind: "s3-account-public-access-block",
  state: AccountBlockStateSchema,
  folder: "s3-account-public-access",
} as const satisfies ResourceSpec;
