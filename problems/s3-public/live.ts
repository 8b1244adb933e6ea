// Reading a bucket's access state exactly as the ledger records it (ownership controls, ACL, policy text, Block
// Public Access): one reader for the remediation that records the before-state and the undo that compares it with
// the live bucket, so both always have the same shape. (Security groups: problems/sg-open-ingress/live.ts; separate modules, so
// each function's permission scan sees only the calls it makes.)
import {
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  type Grant,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { S3BucketState } from "../../contract/ledger.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS } from "../../detection/types.ts";
import { hasErrorCode } from "../../platform/aws-errors.ts";

/** The call's answer, or null when S3 says the thing is simply not configured. */
export async function orNull<T>(call: Promise<T>, ...absent: string[]): Promise<T | null> {
  try {
    return await call;
  } catch (error) {
    if (hasErrorCode(error, ...absent)) return null;
    throw error;
  }
}

function definedOnly<T extends object>(value: T, keys: readonly (keyof T)[]): Partial<T> {
  return Object.fromEntries(
    keys.filter((key) => value[key] !== undefined).map((key) => [key, value[key]]),
  ) as Partial<T>;
}

function stateGrant(grant: Grant): S3BucketState["acl"]["Grants"][number] {
  return {
    ...(grant.Grantee
      ? { Grantee: definedOnly(grant.Grantee, ["Type", "URI", "ID", "DisplayName", "EmailAddress"] as const) }
      : {}),
    ...(grant.Permission !== undefined ? { Permission: grant.Permission } : {}),
  };
}

/**
 * The bucket's access state as the ledger holds it. Every call names `expectedOwner` as ExpectedBucketOwner, so a
 * bucket name re-created in another account is never read (or, by the caller, changed). NoSuchBucket propagates.
 */
export async function readBucketState(s3: S3Client, bucket: string, expectedOwner: string): Promise<S3BucketState> {
  const target = { Bucket: bucket, ExpectedBucketOwner: expectedOwner };
  const ownership = await orNull(
    s3.send(new GetBucketOwnershipControlsCommand(target)),
    "OwnershipControlsNotFoundError",
  );
  const acl = await s3.send(new GetBucketAclCommand(target));
  const policy = await orNull(s3.send(new GetBucketPolicyCommand(target)), "NoSuchBucketPolicy");
  const block = await orNull(s3.send(new GetPublicAccessBlockCommand(target)), "NoSuchPublicAccessBlockConfiguration");
  const owner = acl.Owner ? definedOnly(acl.Owner, ["ID", "DisplayName"] as const) : undefined;
  const config = block?.PublicAccessBlockConfiguration;
  return {
    kind: "s3-bucket",
    bucket,
    aclsDisabled: (ownership?.OwnershipControls?.Rules ?? []).some(
      (rule) => rule.ObjectOwnership === "BucketOwnerEnforced",
    ),
    acl: { ...(owner ? { Owner: owner } : {}), Grants: (acl.Grants ?? []).map(stateGrant) },
    policy: policy?.Policy ?? null,
    publicAccessBlock: config ? definedOnly(config, BLOCK_PUBLIC_ACCESS_FLAGS) : null,
  };
}

/** What was read from the live bucket: the ledger's exact state plus the tags. */
export interface LiveBucket {
  state: S3BucketState;
  tags: Record<string, string>;
}

/** Reads everything the judgement and the ledger need. NoSuchBucket propagates (classified "gone"). */
export async function readLiveBucket(s3: S3Client, bucket: string, expectedOwner: string): Promise<LiveBucket> {
  const tagging = await orNull(
    s3.send(new GetBucketTaggingCommand({ Bucket: bucket, ExpectedBucketOwner: expectedOwner })),
    "NoSuchTagSet",
  );
  const tags: Record<string, string> = {};
  for (const tag of tagging?.TagSet ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  return { tags, state: await readBucketState(s3, bucket, expectedOwner) };
}
