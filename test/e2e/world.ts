// A stateful stand-in for the parts of EC2 and S3 Remedy touches, behind aws-sdk-client-mock: security groups with
// their rules and tags; buckets with ACL, policy text, Block Public Access, ownership and tags; and the ledger
// bucket's objects. Built from the same Config items the rules judge, so detection and the live state agree.
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import {
  type AccessControlPolicy,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListObjectsV2Command,
  type PublicAccessBlockConfiguration,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { normalizeConfigItem } from "../../rules/config-item.ts";
import { aclGrantToApi, s3StateFromConfigItem } from "../../rules/s3-public.ts";

export interface Group {
  ownerId: string;
  tags: Record<string, string>;
  rules: SecurityGroupRule[];
}

export interface Bucket {
  acl: AccessControlPolicy;
  policy: string | null;
  publicAccessBlock: PublicAccessBlockConfiguration | null;
  ownerEnforced: boolean;
  tags: Record<string, string>;
}

function awsError(name: string, status: number, message: string): Error {
  return Object.assign(new Error(message), {
    name,
    Code: name,
    $fault: "client",
    $metadata: { httpStatusCode: status },
  });
}

export function createWorld(ledgerBucket: string) {
  const groups = new Map<string, Group>();
  const buckets = new Map<string, Bucket>();
  const ledger = new Map<string, string>();
  const changes: string[] = [];
  let nextRule = 1;
  const ruleId = () => `sgr-${(nextRule++).toString(16).padStart(17, "0")}`;

  /** Adds a group exactly as a Config item describes it: one live rule per CIDR entry. */
  function addGroupFromItem(raw: Record<string, any>): void {
    const rules: SecurityGroupRule[] = [];
    for (const permission of raw.configuration.ipPermissions) {
      const base = {
        GroupId: raw.resourceId,
        GroupOwnerId: raw.awsAccountId,
        IsEgress: false,
        IpProtocol: permission.ipProtocol,
        FromPort: permission.fromPort ?? -1,
        ToPort: permission.toPort ?? -1,
      };
      for (const range of permission.ipv4Ranges ?? []) {
        rules.push({
          ...base,
          SecurityGroupRuleId: ruleId(),
          CidrIpv4: range.cidrIp,
          ...(range.description ? { Description: range.description } : {}),
        });
      }
      for (const range of permission.ipv6Ranges ?? []) {
        rules.push({
          ...base,
          SecurityGroupRuleId: ruleId(),
          CidrIpv6: range.cidrIpv6,
          ...(range.description ? { Description: range.description } : {}),
        });
      }
    }
    groups.set(raw.resourceId, { ownerId: raw.awsAccountId, tags: { ...(raw.tags ?? {}) }, rules });
  }

  /** Adds a bucket exactly as a Config item describes it. */
  function addBucketFromItem(raw: Record<string, any>): void {
    const state = s3StateFromConfigItem(normalizeConfigItem(raw));
    buckets.set(state.bucket, {
      acl: { Owner: { ID: state.ownerId }, Grants: state.grants.map(aclGrantToApi) },
      policy: (raw.supplementaryConfiguration.BucketPolicy?.policyText as string | null) ?? null,
      publicAccessBlock: state.publicAccessBlock,
      ownerEnforced: state.aclsDisabled,
      tags: { ...(raw.tags ?? {}) },
    });
  }

  const ec2 = mockClient(EC2Client);
  ec2.on(DescribeSecurityGroupRulesCommand).callsFake((input) => {
    const id = input.Filters?.find((filter: { Name: string }) => filter.Name === "group-id")?.Values?.[0];
    return { SecurityGroupRules: structuredClone(groups.get(id)?.rules ?? []) };
  });
  ec2.on(DescribeSecurityGroupsCommand).callsFake((input) => {
    const id = input.GroupIds?.[0];
    const group = groups.get(id);
    if (!group) throw awsError("InvalidGroup.NotFound", 400, `The security group '${id}' does not exist`);
    return {
      SecurityGroups: [
        {
          GroupId: id,
          OwnerId: group.ownerId,
          Tags: Object.entries(group.tags).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    };
  });
  ec2.on(RevokeSecurityGroupIngressCommand).callsFake((input) => {
    const group = groups.get(input.GroupId);
    if (!group) throw awsError("InvalidGroup.NotFound", 400, `The security group '${input.GroupId}' does not exist`);
    const unknown = (input.SecurityGroupRuleIds as string[]).filter(
      (id) => !group.rules.some((rule) => rule.SecurityGroupRuleId === id),
    );
    if (unknown.length > 0)
      throw awsError("InvalidSecurityGroupRuleId.NotFound", 400, `unknown rules ${unknown.join(",")}`);
    const revoked = group.rules.filter((rule) => input.SecurityGroupRuleIds.includes(rule.SecurityGroupRuleId));
    group.rules = group.rules.filter((rule) => !input.SecurityGroupRuleIds.includes(rule.SecurityGroupRuleId));
    changes.push(...revoked.map((rule) => `revoke ${input.GroupId} ${rule.SecurityGroupRuleId}`));
    return {
      Return: true,
      RevokedSecurityGroupRules: revoked.map((rule) => ({ SecurityGroupRuleId: rule.SecurityGroupRuleId })),
    };
  });
  ec2.on(AuthorizeSecurityGroupIngressCommand).callsFake((input) => {
    const group = groups.get(input.GroupId)!;
    const added: SecurityGroupRule[] = [];
    for (const permission of input.IpPermissions) {
      const base = {
        GroupId: input.GroupId,
        GroupOwnerId: group.ownerId,
        IsEgress: false,
        IpProtocol: permission.IpProtocol,
        FromPort: permission.FromPort,
        ToPort: permission.ToPort,
      };
      for (const range of permission.IpRanges ?? [])
        added.push({
          ...base,
          SecurityGroupRuleId: ruleId(),
          CidrIpv4: range.CidrIp,
          ...(range.Description ? { Description: range.Description } : {}),
        });
      for (const range of permission.Ipv6Ranges ?? [])
        added.push({
          ...base,
          SecurityGroupRuleId: ruleId(),
          CidrIpv6: range.CidrIpv6,
          ...(range.Description ? { Description: range.Description } : {}),
        });
    }
    group.rules.push(...added);
    changes.push(
      ...added.map((rule) => `authorize ${input.GroupId} ${rule.CidrIpv4 ?? rule.CidrIpv6} ${rule.FromPort}`),
    );
    return { Return: true, SecurityGroupRules: added };
  });

  const s3 = mockClient(S3Client);
  const bucket = (name: string) => {
    const found = buckets.get(name);
    if (!found) throw awsError("NoSuchBucket", 404, "The specified bucket does not exist");
    return found;
  };
  s3.on(GetBucketAclCommand).callsFake((input) => structuredClone(bucket(input.Bucket).acl));
  s3.on(PutBucketAclCommand).callsFake((input) => {
    const target = bucket(input.Bucket);
    if (target.ownerEnforced) throw awsError("AccessControlListNotSupported", 400, "The bucket does not allow ACLs");
    target.acl = structuredClone(input.AccessControlPolicy);
    changes.push(`put-acl ${input.Bucket}`);
    return {};
  });
  s3.on(GetBucketPolicyCommand).callsFake((input) => {
    const policy = bucket(input.Bucket).policy;
    if (policy === null) throw awsError("NoSuchBucketPolicy", 404, "The bucket policy does not exist");
    return { Policy: policy };
  });
  s3.on(PutBucketPolicyCommand).callsFake((input) => {
    bucket(input.Bucket).policy = input.Policy;
    changes.push(`put-policy ${input.Bucket}`);
    return {};
  });
  s3.on(DeleteBucketPolicyCommand).callsFake((input) => {
    bucket(input.Bucket).policy = null;
    changes.push(`delete-policy ${input.Bucket}`);
    return {};
  });
  s3.on(GetPublicAccessBlockCommand).callsFake((input) => {
    const block = bucket(input.Bucket).publicAccessBlock;
    if (block === null)
      throw awsError(
        "NoSuchPublicAccessBlockConfiguration",
        404,
        "The public access block configuration was not found",
      );
    return { PublicAccessBlockConfiguration: structuredClone(block) };
  });
  s3.on(PutPublicAccessBlockCommand).callsFake((input) => {
    bucket(input.Bucket).publicAccessBlock = structuredClone(input.PublicAccessBlockConfiguration);
    changes.push(`put-public-access-block ${input.Bucket}`);
    return {};
  });
  s3.on(DeletePublicAccessBlockCommand).callsFake((input) => {
    bucket(input.Bucket).publicAccessBlock = null;
    changes.push(`delete-public-access-block ${input.Bucket}`);
    return {};
  });
  s3.on(GetBucketOwnershipControlsCommand).callsFake((input) => ({
    OwnershipControls: {
      Rules: [{ ObjectOwnership: bucket(input.Bucket).ownerEnforced ? "BucketOwnerEnforced" : "BucketOwnerPreferred" }],
    },
  }));
  s3.on(GetBucketTaggingCommand).callsFake((input) => {
    const tags = Object.entries(bucket(input.Bucket).tags);
    if (tags.length === 0) throw awsError("NoSuchTagSet", 404, "The TagSet does not exist");
    return { TagSet: tags.map(([Key, Value]) => ({ Key, Value })) };
  });
  // The ledger bucket.
  s3.on(PutObjectCommand).callsFake((input) => {
    if (input.Bucket !== ledgerBucket) throw awsError("AccessDenied", 403, "not the ledger bucket");
    if (input.IfNoneMatch === "*" && ledger.has(input.Key)) {
      throw awsError("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
    }
    ledger.set(input.Key, String(input.Body));
    return {};
  });
  s3.on(GetObjectCommand).callsFake((input) => {
    const text = ledger.get(input.Key);
    if (text === undefined) throw awsError("NoSuchKey", 404, "The specified key does not exist.");
    return { Body: { transformToString: async () => text } };
  });
  s3.on(ListObjectsV2Command).callsFake((input) => ({
    Contents: [...ledger.keys()].filter((key) => key.startsWith(input.Prefix ?? "")).map((Key) => ({ Key })),
    IsTruncated: false,
  }));

  return {
    groups,
    buckets,
    ledger,
    /** Every write to a resource, in order ("revoke sg-… sgr-…", "put-acl bucket", ...). */
    changes,
    addGroupFromItem,
    addBucketFromItem,
    ec2Mock: ec2,
    s3Mock: s3,
    /** Ledger records (claims are not records). */
    records: () =>
      [...ledger.entries()].filter(([key]) => key.startsWith("actions/")).map(([, text]) => JSON.parse(text)),
  };
}

export type World = ReturnType<typeof createWorld>;
