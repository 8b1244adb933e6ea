// The account-level S3 Block Public Access with a flag off: found by problems/s3-account-public-access/detect.ts, fixed
// by turning on exactly the named flags still off — only when no bucket of the account is public on purpose (exempt);
// otherwise Remedy tells and names those buckets. Its own function: the S3 bucket function's role is scoped to buckets,
// and this fix's write (s3:PutAccountPublicAccessBlock) is account-wide.
import { s3PublicAcl } from "../s3-public-acl/spec.ts";
import { s3PublicPolicy } from "../s3-public-policy/spec.ts";
import type { ProblemSpec } from "../types.ts";
import { s3AccountPublicAccessContract } from "./contract.ts";
import { accountPublicAccessBlock } from "./resource.ts";
import { s3AccountPublicAccessWords } from "./words.ts";

/** The calls that set or remove the account's flags: S3 logs them as s3.amazonaws.com, the account as recipient. */
const accountCall = (eventName: string) => ({
  eventSource: "s3.amazonaws.com",
  eventName,
  resourceIds: ["recipientAccountId"],
});

export const s3AccountPublicAccess = {
  id: "s3-account-public-access",
  resource: accountPublicAccessBlock,
  resourceType: accountPublicAccessBlock.type,
  ruleId: "s3-account-public-access",
  matchedKind: "s3-account-bpa-flag",
  contract: s3AccountPublicAccessContract,
  remediation: "remediate-s3-account",
  // What the fix's survey finds live (survey.ts), as a plan sees it: a public bucket exempt or left public by an undo.
  heldBackBy: {
    problems: [s3PublicAcl.id, s3PublicPolicy.id],
    reason: "held back while a bucket of the account is public on purpose",
  },
  fix: {
    permissions: {
      // The account's flags (S3 Control; aliased where the bucket-level call has the same class name).
      GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
      PutAccountPublicAccessBlockCommand: "s3:PutAccountPublicAccessBlock",
      // The safety condition: every bucket, read and judged as the S3 rule does (problems/s3-public/observe.ts).
      ListBucketsCommand: "s3:ListAllMyBuckets",
      GetBucketTaggingCommand: "s3:GetBucketTagging",
      GetBucketOwnershipControlsCommand: "s3:GetBucketOwnershipControls",
      GetBucketAclCommand: "s3:GetBucketAcl",
      GetBucketPolicyCommand: "s3:GetBucketPolicy",
      GetPublicAccessBlockCommand: "s3:GetBucketPublicAccessBlock",
    },
    // The deployed allowlist, checked against every public bucket; the partition names their ARNs. The public buckets'
    // undo exemptions are read through the runner's reader (FixContext undoExemptions: its s3:GetObject on the
    // ledger's exemptions/*, its REMEDY_LEDGER_BUCKET, hub credentials in organisation mode), not declared here: a fix
    // permission is granted on the resource type's scope (here every object of the account's buckets) and to the
    // member fix role, whose credentials never reach the hub's ledger.
    env: ["REMEDY_ALLOWLIST", "REMEDY_PARTITION"],
    // The account-level calls and the bucket listing have no resource-level permissions; the bucket reads are
    // granted on the account's buckets (the resource type's iamScope).
    unscopedActions: ["s3:GetAccountPublicAccessBlock", "s3:PutAccountPublicAccessBlock", "s3:ListAllMyBuckets"],
  },
  violatingWord: "off",
  title: "account-level S3 Block Public Access off",
  training: accountPublicAccessBlock.training,
  realtime: {
    cloudTrail: [accountCall("PutAccountPublicAccessBlock"), accountCall("DeleteAccountPublicAccessBlock")],
    securityHub: {
      // S3.1: "S3 general purpose buckets should have block public access settings enabled" (the account's).
      controls: ["S3.1"],
      generatorIds: ["prowler-s3_account_level_public_access_blocks"],
    },
  },
  words: s3AccountPublicAccessWords,
} as const satisfies ProblemSpec<"s3-account-public-access">;
