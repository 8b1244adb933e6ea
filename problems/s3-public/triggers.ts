// The CloudTrail events that can make a bucket public, shared by both S3 problems (problems/<id>/spec.ts `realtime`):
// each names the bucket in requestParameters.bucketName; the account-level Block Public Access calls name no bucket,
// so the rule is re-evaluated for the whole account instead.
import type { CloudTrailTrigger } from "../types.ts";

const bucketCall = (eventName: string): CloudTrailTrigger => ({
  eventSource: "s3.amazonaws.com",
  eventName,
  resourceIds: ["requestParameters.bucketName"],
});

/** Calls that can turn on what either problem judges (ACLs back on, Block Public Access off) or make it moot. */
export const S3_SHARED_TRIGGERS: readonly CloudTrailTrigger[] = [
  bucketCall("PutBucketPublicAccessBlock"),
  bucketCall("DeleteBucketPublicAccessBlock"),
  { eventSource: "s3.amazonaws.com", eventName: "PutAccountPublicAccessBlock", resourceIds: "account" },
  { eventSource: "s3.amazonaws.com", eventName: "DeleteAccountPublicAccessBlock", resourceIds: "account" },
];

/** A public ACL: given at creation (x-amz-acl), put later, or made effective again by re-enabling ACLs. */
export const S3_ACL_TRIGGERS: readonly CloudTrailTrigger[] = [
  bucketCall("CreateBucket"),
  bucketCall("PutBucketAcl"),
  bucketCall("PutBucketOwnershipControls"),
  bucketCall("DeleteBucketOwnershipControls"),
  ...S3_SHARED_TRIGGERS,
];

export const S3_POLICY_TRIGGERS: readonly CloudTrailTrigger[] = [bucketCall("PutBucketPolicy"), ...S3_SHARED_TRIGGERS];

/** Security Hub's bucket controls: S3.2 public read, S3.3 public write, S3.8 the bucket's Block Public Access. */
export const S3_SECURITY_HUB_CONTROLS = ["S3.2", "S3.3", "S3.8"] as const;
