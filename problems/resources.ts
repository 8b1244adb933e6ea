// The resource types Remedy judges: how each is named, linked, identified and opened. One entry per type.
import { S3BucketStateSchema } from "./s3-public/contract.ts";
import { S3_BLOCK_PUBLIC_TERRAFORM } from "./s3-public-acl/spec.ts";
import { SgRulesStateSchema } from "./sg-open-ingress/contract.ts";
import { sgOpenIngress } from "./sg-open-ingress/spec.ts";
import type { ResourceSpec } from "./types.ts";

export const RESOURCES = [
  {
    type: "AWS::EC2::SecurityGroup",
    label: "EC2 security group",
    arn: ({ partition, region, accountId }, id) => `arn:${partition}:ec2:${region}:${accountId}:security-group/${id}`,
    iamScope: ({ partition, region, account }) => ({
      resources: [`arn:${partition}:ec2:${region}:${account}:security-group/*`],
    }),
    consoleUrl: (id, region) => {
      const r = encodeURIComponent(region);
      return `https://${r}.console.aws.amazon.com/ec2/home?region=${r}#SecurityGroup:groupId=${encodeURIComponent(id)}`;
    },
    openingEvents: ["AuthorizeSecurityGroupIngress", "ModifySecurityGroupRules", "CreateSecurityGroup"],
    // One problem per rule on this type: a compliance change means that problem.
    training: sgOpenIngress.training,
    stateKind: "sg-rules",
    state: SgRulesStateSchema,
  },
  {
    type: "AWS::S3::Bucket",
    label: "S3 bucket",
    arn: ({ partition }, id) => `arn:${partition}:s3:::${id}`,
    // Any bucket of the account (a bucket ARN names no account: the condition does).
    iamScope: ({ partition, account }) => ({
      resources: [`arn:${partition}:s3:::*`],
      conditions: [{ test: "StringEquals", variable: "s3:ResourceAccount", values: [account] }],
    }),
    consoleUrl: (id, region) =>
      `https://s3.console.aws.amazon.com/s3/buckets/${encodeURIComponent(id)}?region=${encodeURIComponent(region)}`,
    openingEvents: [
      "PutBucketAcl",
      "PutBucketPolicy",
      "DeletePublicAccessBlock",
      "PutPublicAccessBlock",
      "DeleteBucketPublicAccessBlock",
      "PutBucketPublicAccessBlock",
      "CreateBucket",
    ],
    training: {
      title: "Secure pattern: private buckets",
      advice:
        "Turn on all four Block Public Access settings and disable ACLs. To share, use a policy statement with a condition on aws:PrincipalOrgID or aws:SourceVpce.",
      terraform: S3_BLOCK_PUBLIC_TERRAFORM,
    },
    stateKind: "s3-bucket",
    state: S3BucketStateSchema,
  },
] as const satisfies readonly ResourceSpec[];
