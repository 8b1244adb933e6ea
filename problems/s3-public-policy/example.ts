// One bucket public through its policy once: s3:GetObject for Principal "*" without a condition, between a Deny for
// everyone (insecure transport) and an Allow for another account, with a private ACL: so it violates
// s3-public-policy and not s3-public-acl. The fix must keep the other statements, in their order.
import { PutBucketPolicyCommand } from "@aws-sdk/client-s3";
import type { ProblemExample } from "../example.ts";
import { createBucket, liveBucketConfigItem, readBucketAccess } from "../s3-public/example.ts";
import { s3PublicPolicy } from "./spec.ts";

const PUBLIC_SID = "PublicRead";

const publicStatement = (bucket: string) => ({
  Sid: PUBLIC_SID,
  Effect: "Allow",
  Principal: "*",
  Action: "s3:GetObject",
  Resource: `arn:aws:s3:::${bucket}/*`,
});

const policy = (bucket: string) => ({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
    publicStatement(bucket),
    {
      Sid: "PartnerList",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::444455556666:root" },
      Action: "s3:ListBucket",
      Resource: `arn:aws:s3:::${bucket}`,
    },
  ],
});

export const example: ProblemExample<Record<string, unknown>> = {
  problem: s3PublicPolicy.id,

  async create(clients, bucket) {
    const s3 = await createBucket(clients, bucket);
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy(bucket)) }));
    return bucket;
  },

  violation: (bucket) => ({ kind: "policy-statement", statement: publicStatement(bucket) }),

  recordedChange: (bucket) => ({
    kind: "policy-statements-removed",
    bucket,
    statements: [publicStatement(bucket)],
    policyDeleted: false,
  }),

  pinnedInstructionId: "217148f8f1eec2ff5804f6963c2d6b63",

  configItem: liveBucketConfigItem,

  async read(clients, bucket) {
    const { statements, ...rest } = await readBucketAccess(clients, bucket);
    return { entries: statements ?? [], rest };
  },

  isViolation: (statement) => statement.Sid === PUBLIC_SID,

  // Undo merges what the fix removed into the live policy (which may have changed since): the statement comes back
  // after the ones that stayed (cli/undo-runner.ts planPolicy). A policy's statements have no order that matters.
  restored: (before) => ({
    entries: [
      ...before.entries.filter((statement) => statement.Sid !== PUBLIC_SID),
      ...before.entries.filter((statement) => statement.Sid === PUBLIC_SID),
    ],
    rest: before.rest,
  }),
};
