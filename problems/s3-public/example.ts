// What both S3 problems' examples (problems/s3-public-acl/example.ts, problems/s3-public-policy/example.ts) share:
// creating a bucket with ACLs enabled, reading back everything about its access that Remedy reads or changes, and
// how Config records a live bucket (bucketConfigItem: both examples' configItem, and the end-to-end tests' for
// buckets of their own). Not a problem's example itself (s3-public is the rule both problems share).
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  type Grant,
  ListBucketsCommand,
  type PublicAccessBlockConfiguration,
  PutBucketTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { type ConfigScope, configScope, type ExampleClients } from "../example.ts";
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

// ---------------------------------------------------------------------------------------------------------------
// A live bucket as Config records it.

/** What a bucket's Config item is built from: the answers of S3's Get* calls for it. */
export interface LiveBucket {
  name: string;
  owner: { ID?: string; DisplayName?: string };
  grants: Grant[];
  /** GetBucketPolicy's text, or null without a policy. */
  policy: string | null;
  objectOwnership: string | null;
  publicAccessBlock: PublicAccessBlockConfiguration | null;
  tags: Record<string, string>;
  createdAt: Date;
}

/** Everything bucketConfigItem needs about a live bucket, straight from S3's Get* calls. */
export async function describeBucket(s3: S3Client, name: string): Promise<LiveBucket> {
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: name }));
  const policy = await orNull(s3.send(new GetBucketPolicyCommand({ Bucket: name })), "NoSuchBucketPolicy");
  const ownership = await orNull(
    s3.send(new GetBucketOwnershipControlsCommand({ Bucket: name })),
    "OwnershipControlsNotFoundError",
  );
  const block = await orNull(
    s3.send(new GetPublicAccessBlockCommand({ Bucket: name })),
    "NoSuchPublicAccessBlockConfiguration",
  );
  const tagging = await orNull(s3.send(new GetBucketTaggingCommand({ Bucket: name })), "NoSuchTagSet");
  const { Buckets = [] } = await s3.send(new ListBucketsCommand({}));
  const createdAt = Buckets.find((bucket) => bucket.Name === name)?.CreationDate;
  if (!createdAt) throw new Error(`ListBuckets gives no CreationDate for ${name}`);
  return {
    name,
    owner: {
      ...(acl.Owner?.ID ? { ID: acl.Owner.ID } : {}),
      ...(acl.Owner?.DisplayName ? { DisplayName: acl.Owner.DisplayName } : {}),
    },
    grants: acl.Grants ?? [],
    policy: policy?.Policy ?? null,
    objectOwnership: ownership?.OwnershipControls?.Rules?.[0]?.ObjectOwnership ?? null,
    publicAccessBlock: block?.PublicAccessBlockConfiguration ?? null,
    tags: Object.fromEntries((tagging?.TagSet ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
    createdAt,
  };
}

/** Group grantees as Config names them in a bucket's AccessControlList. */
const CONFIG_GROUPS: Record<string, string> = {
  [ALL_USERS]: "AllUsers",
  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
  "http://acs.amazonaws.com/groups/s3/LogDelivery": "LogDelivery",
};
/** ACL permissions as Config spells them. */
const CONFIG_PERMISSIONS: Record<string, string> = {
  FULL_CONTROL: "FullControl",
  READ: "Read",
  WRITE: "Write",
  READ_ACP: "ReadAcp",
  WRITE_ACP: "WriteAcp",
};

/**
 * A live bucket as Config records it: the ACL as a JSON string in supplementaryConfiguration (group grantees by
 * name, canonical users as {id, displayName}, permissions in PascalCase), the policy text in BucketPolicy.policyText,
 * ownership controls, Block Public Access flags in camelCase, tags both at the top and in BucketTaggingConfiguration.
 */
export function bucketConfigItem(bucket: LiveBucket, capturedAt: Date, scope: ConfigScope): Record<string, unknown> {
  const grantee = (grant: Grant) => {
    const { Grantee } = grant;
    if (Grantee?.Type === "Group") {
      const name = CONFIG_GROUPS[Grantee.URI ?? ""];
      if (!name) throw new Error(`bucketConfigItem: unknown group ${Grantee.URI}`);
      return name;
    }
    if (Grantee?.Type === "CanonicalUser") return { id: Grantee.ID, displayName: Grantee.DisplayName ?? null };
    throw new Error(`bucketConfigItem: grantee ${JSON.stringify(Grantee)} is not modelled`);
  };
  const owner = { displayName: bucket.owner.DisplayName ?? null, id: bucket.owner.ID };
  const acl = {
    grantSet: null,
    grantList: bucket.grants.map((grant) => ({
      grantee: grantee(grant),
      permission: CONFIG_PERMISSIONS[grant.Permission ?? ""],
      referencedInBucketPolicy: null,
    })),
    owner,
    isRequesterCharged: false,
  };
  const block = bucket.publicAccessBlock;
  return {
    relatedEvents: [],
    relationships: [],
    configuration: { name: bucket.name, owner, creationDate: bucket.createdAt.toISOString() },
    supplementaryConfiguration: {
      AccessControlList: JSON.stringify(acl),
      BucketAccelerateConfiguration: { status: null },
      BucketLoggingConfiguration: { destinationBucketName: null, logFilePrefix: null },
      BucketNotificationConfiguration: { configurations: {} },
      ...(bucket.objectOwnership
        ? {
            BucketOwnershipControls: {
              bucketName: bucket.name,
              ownershipControls: { rules: [{ objectOwnership: bucket.objectOwnership }] },
            },
          }
        : {}),
      BucketPolicy: { policyText: bucket.policy },
      ...(Object.keys(bucket.tags).length > 0
        ? { BucketTaggingConfiguration: { tagSets: [{ tags: bucket.tags }] } }
        : {}),
      BucketVersioningConfiguration: { status: "Off", isMfaDeleteEnabled: null },
      IsRequesterPaysEnabled: false,
      ...(block
        ? {
            PublicAccessBlockConfiguration: {
              blockPublicAcls: block.BlockPublicAcls ?? false,
              ignorePublicAcls: block.IgnorePublicAcls ?? false,
              blockPublicPolicy: block.BlockPublicPolicy ?? false,
              restrictPublicBuckets: block.RestrictPublicBuckets ?? false,
            },
          }
        : {}),
    },
    tags: bucket.tags,
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationStateId: capturedAt.getTime(),
    awsAccountId: scope.accountId,
    configurationItemStatus: "ResourceDiscovered",
    resourceType: "AWS::S3::Bucket",
    resourceId: bucket.name,
    resourceName: bucket.name,
    ARN: `arn:aws:s3:::${bucket.name}`,
    awsRegion: scope.region,
    availabilityZone: "Regional",
    configurationStateMd5Hash: "",
    resourceCreationTime: bucket.createdAt.toISOString(),
  };
}

/** Both S3 examples' `configItem`: the live bucket's item, read through S3 (and STS for the account). */
export async function liveBucketConfigItem(
  clients: ExampleClients,
  bucket: string,
  capturedAt: Date,
): Promise<Record<string, unknown>> {
  const s3 = clients.client(S3Client);
  return bucketConfigItem(await describeBucket(s3, bucket), capturedAt, await configScope(clients, s3));
}
