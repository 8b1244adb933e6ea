// A private, encrypted, versioned bucket: Remedy's ledger (`actions/`) and the coordinator's state (`state/`).

import type { DataAwsIamPolicyDocumentStatement } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";

export interface PrivateBucketProps {
  prefix: string;
  /** Days a replaced or deleted version is kept. */
  noncurrentDays?: number;
  /** Prefixes whose objects expire (e.g. short-lived claims). */
  expirePrefixes?: { prefix: string; days: number }[];
  /** More statements for the bucket policy (besides TLS-only). */
  statements?: DataAwsIamPolicyDocumentStatement[];
  /**
   * Key prefixes only these principals (role/user ARNs, or a Terraform list expression) may write, overwrite or
   * delete: everyone else is denied by the bucket policy, whatever their own IAM policies allow.
   */
  writers?: { prefix: string; principals: string[] }[];
}

export class LedgerBucket extends Construct {
  readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: PrivateBucketProps) {
    super(scope, id);
    this.bucket = new S3Bucket(this, "bucket", { bucketPrefix: props.prefix, forceDestroy: false });
    const bucket = this.bucket.id;
    new S3BucketPublicAccessBlock(this, "public_access_block", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "ownership", {
      bucket,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    });
    new S3BucketVersioningA(this, "versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket,
      rule: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentDays ?? 90 }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
        ...(props.expirePrefixes ?? []).map((rule) => ({
          id: `expire-${rule.prefix.replaceAll("/", "")}`,
          status: "Enabled",
          filter: [{ prefix: rule.prefix }],
          expiration: [{ days: rule.days }],
        })),
      ],
    });
    const policy = new DataAwsIamPolicyDocument(this, "policy_doc", {
      statement: [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["s3:*"],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
        ...(props.writers ?? []).map(
          (writer): DataAwsIamPolicyDocumentStatement => ({
            sid: `OnlyWritersOf${writer.prefix.replace(/[^A-Za-z0-9]/g, "")}`,
            effect: "Deny",
            principals: [{ type: "*", identifiers: ["*"] }],
            actions: ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention"],
            resources: [`${this.bucket.arn}/${writer.prefix}*`],
            condition: [
              {
                test: "ArnNotLike",
                variable: "aws:PrincipalArn",
                values: writer.principals,
              },
            ],
          }),
        ),
        ...(props.statements ?? []),
      ],
    });
    new S3BucketPolicy(this, "policy", { bucket, policy: policy.json });
  }
}
