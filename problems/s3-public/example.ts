// What both S3 problems' examples (problems/s3-public-acl/example.ts, problems/s3-public-policy/example.ts) share:
// creating a bucket with ACLs enabled, and reading back everything about its access that Remedy reads or changes.
// Not a problem's example itself (s3-public is the rule both problems share).
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  type Grant,
  type PublicAccessBlockConfiguration,
  PutBucketTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { ExampleClients } from "../example.ts";
import { orNull } from "./live.ts";

export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
/** Another account's canonical user: a grant that is not public. */
export const PARTNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
/** An ordinary tag (no exemption): the fix and undo leave tags alone. */
const TAGS = [{ Key: "team", Value: "web" }];

/** A bucket's access as the examples compare it. */
export interface BucketAccess {
  /** `Type:URI-or-ID:Permission`, sorted: what the API may or may not echo (display names) left out. */
  grants: string[];
  /** The policy's statements in their order, or null without a policy. */
  statements: Record<string, unknown>[] | null;
  objectOwnership: string | null;
  publicAccessBlock: PublicAccessBlockConfiguration | null;
  tags: Record<string, string>;
}

export const grantKey = (grant: Grant) =>
  `${grant.Grantee?.Type}:${grant.Grantee?.URI ?? grant.Grantee?.ID ?? grant.Grantee?.EmailAddress}:${grant.Permission}`;

/** A bucket in the client's region, ACLs enabled (as on a bucket created before April 2023), tagged. */
export async function createBucket(clients: ExampleClients, bucket: string): Promise<S3Client> {
  const s3 = clients.client(S3Client);
  const region = await s3.config.region();
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === "us-east-1"
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
      ObjectOwnership: "BucketOwnerPreferred",
    }),
  );
  await s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: TAGS } }));
  return s3;
}

export async function readBucketAccess(clients: ExampleClients, bucket: string): Promise<BucketAccess> {
  const s3 = clients.client(S3Client);
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
  const policy = await orNull(s3.send(new GetBucketPolicyCommand({ Bucket: bucket })), "NoSuchBucketPolicy");
  const ownership = await orNull(
    s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket })),
    "OwnershipControlsNotFoundError",
  );
  const block = await orNull(
    s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })),
    "NoSuchPublicAccessBlockConfiguration",
  );
  const tagging = await orNull(s3.send(new GetBucketTaggingCommand({ Bucket: bucket })), "NoSuchTagSet");
  return {
    grants: (acl.Grants ?? []).map(grantKey).sort(),
    statements: policy?.Policy ? (JSON.parse(policy.Policy).Statement as Record<string, unknown>[]) : null,
    objectOwnership: ownership?.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? null,
    publicAccessBlock: block?.PublicAccessBlockConfiguration ?? null,
    tags: Object.fromEntries((tagging?.TagSet ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
  };
}
