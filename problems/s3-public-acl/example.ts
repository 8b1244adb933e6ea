// One bucket public through its ACL once: READ for everyone (AllUsers), next to the owner's FULL_CONTROL and READ
// for another account (not public), with no policy: so it violates s3-public-acl and not s3-public-policy.
import { GetBucketAclCommand, PutBucketAclCommand } from "@aws-sdk/client-s3";
import type { ProblemExample } from "../example.ts";
import { ALL_USERS, createBucket, liveBucketConfigItem, PARTNER_ID, readBucketAccess } from "../s3-public/example.ts";
import { s3PublicAcl } from "./spec.ts";

const PUBLIC_GRANT = `Group:${ALL_USERS}:READ`;

export const example: ProblemExample<string> = {
  problem: s3PublicAcl.id,

  async create(clients, bucket) {
    const s3 = await createBucket(clients, bucket);
    const { Owner } = await s3.send(new GetBucketAclCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketAclCommand({
        Bucket: bucket,
        AccessControlPolicy: {
          Owner,
          Grants: [
            { Grantee: { Type: "CanonicalUser", ID: Owner?.ID }, Permission: "FULL_CONTROL" },
            { Grantee: { Type: "Group", URI: ALL_USERS }, Permission: "READ" },
            { Grantee: { Type: "CanonicalUser", ID: PARTNER_ID }, Permission: "READ" },
          ],
        },
      }),
    );
    return bucket;
  },

  violation: () => ({ kind: "acl-grant", grant: { grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" } }),

  recordedChange: (bucket) => ({
    kind: "acl-grants-removed",
    bucket,
    grants: [{ grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" }],
  }),

  pinnedInstructionId: "61439019eaf1dba5fa0eab8168404a74",

  configItem: liveBucketConfigItem,

  async read(clients, bucket) {
    const { grants, ...rest } = await readBucketAccess(clients, bucket);
    return { entries: grants, rest };
  },

  isViolation: (grant) => grant === PUBLIC_GRANT,
};
