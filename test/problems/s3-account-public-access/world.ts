// One account as S3 and S3 Control answer for it (aws-sdk-client-mock), for the account Block Public Access fix and
// its undo: the account's flags (read and written back, so a fix's confirming read sees its write) and its buckets,
// each answering the reads the S3 rule's judgement makes, and the ledger bucket's undo exemptions of those buckets
// (none unless a bucket says). Shapes as the SDK returns them (the S3 API's names).
import {
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  type Grant,
  ListBucketsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  DeletePublicAccessBlockCommand as DeleteAccountBlockCommand,
  GetPublicAccessBlockCommand as GetAccountBlockCommand,
  PutPublicAccessBlockCommand as PutAccountBlockCommand,
  S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { mockClient } from "aws-sdk-client-mock";
import type { Instruction } from "../../../contract/instruction.ts";
import { type UndoExemptionRecord, undoExemptionKey } from "../../../contract/undo-exemption.ts";
import type { AllowlistEntry } from "../../../detection/exemptions.ts";
import type { PublicAccessBlockFlags } from "../../../detection/types.ts";
import { undoExemptionReader } from "../../../platform/undo-exemptions.ts";
import type { ProblemFix } from "../../../problems/fix.ts";
import { deployedRules, testDeployment } from "../../remediation/support.ts";
import { testInstruction } from "../../support/instructions.ts";
import { awsError } from "../../support/kit.ts";
import { FIX_MODULES } from "../../support/remediate.ts";

export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const PROBLEM = "s3-account-public-access";
export const CONFIG_RULE = "remedy-s3-account-public-access";
export const OWNER = { ID: "owner-canonical-id-0123456789abcdef", DisplayName: "acme-prod" };
export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
/** The deployment's ledger bucket (REMEDY_LEDGER_BUCKET): undo's exemptions are under its `exemptions/`. */
export const LEDGER_BUCKET = "remedy-ledger-123456789012";

export const s3Mock = mockClient(S3Client);
export const s3ControlMock = mockClient(S3ControlClient);

export type Flag = keyof PublicAccessBlockFlags;

/** Three flags on, RestrictPublicBuckets off: public policies still grant access. */
export const RESTRICT_OFF: Required<PublicAccessBlockFlags> = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: false,
};
export const ALL_ON: Required<PublicAccessBlockFlags> = { ...RESTRICT_OFF, RestrictPublicBuckets: true };

export interface TestBucket {
  name: string;
  /** ListBuckets' BucketRegion. */
  region?: string;
  grants?: Grant[];
  policy?: string | null;
  block?: PublicAccessBlockFlags | null;
  tags?: Record<string, string>;
  /** GetBucketAcl fails with this. */
  aclError?: Error;
  /** The ledger's object under the bucket's undo exemption key (absent: NoSuchKey); an Error: GetObject fails so. */
  undoExemption?: UndoExemptionRecord | Error;
}

const OWNER_GRANT: Grant = { Grantee: { Type: "CanonicalUser", ID: OWNER.ID }, Permission: "FULL_CONTROL" };

export function privateBucket(name: string): TestBucket {
  return { name, grants: [OWNER_GRANT], policy: null, block: ALL_ON };
}

/** AllUsers READ by ACL, no bucket-level flag on. */
export function publicAclBucket(name: string, tags: Record<string, string> = {}): TestBucket {
  return {
    name,
    grants: [OWNER_GRANT, { Grantee: { Type: "Group", URI: ALL_USERS }, Permission: "READ" }],
    policy: null,
    block: null,
    tags,
  };
}

/** A policy letting anyone read its objects, no bucket-level flag on. */
export function publicPolicyBucket(name: string, tags: Record<string, string> = {}): TestBucket {
  const statement = {
    Sid: "PublicRead",
    Effect: "Allow",
    Principal: "*",
    Action: "s3:GetObject",
    Resource: `arn:aws:s3:::${name}/*`,
  };
  return {
    name,
    grants: [OWNER_GRANT],
    policy: JSON.stringify({ Version: "2012-10-17", Statement: [statement] }),
    block: null,
    tags,
  };
}

export interface World {
  /** The account's flags as S3 Control holds them now (null: none configured). */
  flags: PublicAccessBlockFlags | null;
  /** Calls in order: "put-account", "delete-account", "list-buckets". */
  events: string[];
}

/**
 * Resets both mocks and answers as `flags` and `buckets` say (ListBuckets in pages of `pageSize`). Put and Delete
 * change the world's flags unless `sticky` (S3 Control then keeps answering the old flags).
 */
export function mockAccount(options: {
  flags: PublicAccessBlockFlags | null;
  buckets?: TestBucket[];
  pageSize?: number;
  sticky?: boolean;
}): World {
  s3Mock.reset();
  s3ControlMock.reset();
  const world: World = { flags: options.flags === null ? null : { ...options.flags }, events: [] };
  s3ControlMock.on(GetAccountBlockCommand).callsFake(() => {
    if (world.flags === null) throw awsError("NoSuchPublicAccessBlockConfiguration", 404);
    return { PublicAccessBlockConfiguration: { ...world.flags } };
  });
  s3ControlMock.on(PutAccountBlockCommand).callsFake((input) => {
    world.events.push("put-account");
    if (!options.sticky) world.flags = { ...input.PublicAccessBlockConfiguration };
    return {};
  });
  s3ControlMock.on(DeleteAccountBlockCommand).callsFake(() => {
    world.events.push("delete-account");
    if (!options.sticky) world.flags = null;
    return {};
  });
  const buckets = options.buckets ?? [];
  const pageSize = options.pageSize ?? 1_000;
  s3Mock.on(ListBucketsCommand).callsFake((input) => {
    world.events.push("list-buckets");
    const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = buckets.slice(start, start + pageSize);
    const next = start + pageSize < buckets.length ? String(start + pageSize) : undefined;
    return {
      Buckets: page.map((bucket) => ({
        Name: bucket.name,
        CreationDate: new Date("2025-03-01T09:00:00.000Z"),
        BucketRegion: bucket.region ?? REGION,
      })),
      Owner: OWNER,
      ...(next ? { ContinuationToken: next } : {}),
    };
  });
  s3Mock.on(GetBucketOwnershipControlsCommand).rejects(awsError("OwnershipControlsNotFoundError", 404));
  s3Mock.on(GetObjectCommand).rejects(awsError("NoSuchKey", 404));
  for (const bucket of buckets) {
    const target = { Bucket: bucket.name };
    const tags = Object.entries(bucket.tags ?? {});
    if (tags.length === 0) s3Mock.on(GetBucketTaggingCommand, target).rejects(awsError("NoSuchTagSet", 404));
    else s3Mock.on(GetBucketTaggingCommand, target).resolves({ TagSet: tags.map(([Key, Value]) => ({ Key, Value })) });
    if (bucket.aclError) s3Mock.on(GetBucketAclCommand, target).rejects(bucket.aclError);
    else s3Mock.on(GetBucketAclCommand, target).resolves({ Owner: OWNER, Grants: bucket.grants ?? [OWNER_GRANT] });
    if (bucket.policy) s3Mock.on(GetBucketPolicyCommand, target).resolves({ Policy: bucket.policy });
    else s3Mock.on(GetBucketPolicyCommand, target).rejects(awsError("NoSuchBucketPolicy", 404));
    if (bucket.block) {
      s3Mock.on(GetPublicAccessBlockCommand, target).resolves({ PublicAccessBlockConfiguration: bucket.block });
    } else {
      s3Mock.on(GetPublicAccessBlockCommand, target).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
    }
    const exemption = bucket.undoExemption;
    if (exemption) {
      const resource = {
        accountId: ACCOUNT,
        region: bucket.region ?? REGION,
        type: "AWS::S3::Bucket",
        id: bucket.name,
      };
      const object = { Bucket: LEDGER_BUCKET, Key: undoExemptionKey(resource) };
      if (exemption instanceof Error) s3Mock.on(GetObjectCommand, object).rejects(exemption);
      else {
        const text = `${JSON.stringify(exemption, null, 2)}\n`;
        s3Mock.on(GetObjectCommand, object).resolves({
          Body: { transformToString: async () => text } as never,
          ETag: '"etag-1"',
          ContentLength: text.length,
        });
      }
    }
  }
  return world;
}

/** The deployment with this rule deployed beside the two built in. */
export function accountDeployment() {
  return testDeployment({
    rules: [...deployedRules(), { id: PROBLEM, configRuleName: CONFIG_RULE, parameters: {} }],
  });
}

/** The instruction the rule queues for these flags of the account. */
export function accountInstruction(flags: readonly Flag[], options: { resourceId?: string } = {}): Instruction {
  return testInstruction({
    problem: PROBLEM,
    matched: flags.map((flag) => ({ kind: "s3-account-bpa-flag", flag })),
    resourceId: options.resourceId ?? ACCOUNT,
    accountId: ACCOUNT,
    region: REGION,
    withArn: true,
    configRuleName: CONFIG_RULE,
    parameters: {},
    capturedAt: "2026-11-20T10:00:00.000Z",
    detectedAt: "2026-11-20T10:00:05.000Z",
  });
}

/**
 * The problem's fix as its function makes it, with this environment (REMEDY_ALLOWLIST), fresh clients and the
 * runner's reader of undo exemptions in LEDGER_BUCKET.
 */
export function accountFix(
  env: Record<string, string> = {},
  now = () => new Date("2026-11-20T10:28:19.000Z"),
  allowlist?: () => Promise<readonly AllowlistEntry[]>,
) {
  return FIX_MODULES.get(PROBLEM)!.create({
    ...(allowlist ? { allowlist } : {}),
    env,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    now,
    client: <C>(Client: new (config: object) => C) => new Client({ region: REGION }),
    undoExemptions: undoExemptionReader(new S3Client({ region: REGION }), LEDGER_BUCKET),
  }) as ProblemFix;
}
