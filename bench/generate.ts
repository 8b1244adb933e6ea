// Realistic Config items for benchmarks and load tests: security groups and buckets in the shapes Config
// delivers, with the variety seen in real accounts (web tiers, bastions, internal services, public sites...).

/** Small deterministic PRNG so every run judges the same items. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACCOUNT = "123456789012";

function permission(rand: () => number) {
  const roll = rand();
  const cidrs =
    roll < 0.25
      ? ["0.0.0.0/0"]
      : roll < 0.35
        ? ["0.0.0.0/0", "10.0.0.0/8"]
        : roll < 0.7
          ? [`10.${Math.floor(rand() * 255)}.0.0/16`]
          : [`203.0.113.${Math.floor(rand() * 255)}/32`];
  const protocolRoll = rand();
  const base =
    protocolRoll < 0.05
      ? { ipProtocol: "-1" }
      : protocolRoll < 0.1
        ? { ipProtocol: "icmp", fromPort: 8, toPort: -1 }
        : (() => {
            const port = [22, 80, 443, 3389, 5432, 8080, 6379][Math.floor(rand() * 7)]!;
            return {
              ipProtocol: rand() < 0.9 ? "tcp" : "udp",
              fromPort: port,
              toPort: rand() < 0.9 ? port : port + 100,
            };
          })();
  return {
    ...base,
    ipv4Ranges: cidrs.map((cidrIp) => ({ cidrIp, ...(rand() < 0.3 ? { description: "added by terraform" } : {}) })),
    ipRanges: cidrs,
    ipv6Ranges: rand() < 0.1 ? [{ cidrIpv6: "::/0" }] : [],
    prefixListIds: rand() < 0.05 ? [{ prefixListId: "pl-0123456789abcdef0" }] : [],
    userIdGroupPairs: rand() < 0.2 ? [{ groupId: "sg-0aaaabbbbccccdddd", userId: ACCOUNT }] : [],
  };
}

export function securityGroupItem(index: number, rand: () => number): Record<string, unknown> {
  const groupId = `sg-${index.toString(16).padStart(17, "0")}`;
  const ipPermissions = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => permission(rand));
  return {
    relatedEvents: [],
    relationships: [
      { resourceId: "vpc-0a1b2c3d4e5f60718", resourceType: "AWS::EC2::VPC", name: "Is contained in Vpc" },
    ],
    configuration: {
      description: `group ${index}`,
      groupName: `group-${index}`,
      ipPermissions,
      ownerId: ACCOUNT,
      groupId,
      ipPermissionsEgress: [
        {
          ipProtocol: "-1",
          ipv4Ranges: [{ cidrIp: "0.0.0.0/0" }],
          ipRanges: ["0.0.0.0/0"],
          ipv6Ranges: [],
          prefixListIds: [],
          userIdGroupPairs: [],
        },
      ],
      tags: [{ key: "team", value: `team-${index % 17}` }],
      vpcId: "vpc-0a1b2c3d4e5f60718",
    },
    supplementaryConfiguration: {},
    tags: rand() < 0.02 ? { "remedy:exempt": "legacy appliance until=2099-12-31" } : { team: `team-${index % 17}` },
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: "2026-11-20T09:58:12.412Z",
    configurationStateId: 1763632692412 + index,
    awsAccountId: ACCOUNT,
    configurationItemStatus: "OK",
    resourceType: "AWS::EC2::SecurityGroup",
    resourceId: groupId,
    resourceName: `group-${index}`,
    ARN: `arn:aws:ec2:us-east-1:${ACCOUNT}:security-group/${groupId}`,
    awsRegion: "us-east-1",
    availabilityZone: "Not Applicable",
    configurationStateMd5Hash: "",
  };
}

export function bucketItem(index: number, rand: () => number): Record<string, unknown> {
  const name = `bucket-${index}`;
  const owner = { id: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", displayName: null };
  const grantList: unknown[] = [{ grantee: owner, permission: "FullControl", referencedInBucketPolicy: null }];
  if (rand() < 0.1) grantList.push({ grantee: "AllUsers", permission: "Read", referencedInBucketPolicy: null });
  if (rand() < 0.05) grantList.push({ grantee: "LogDelivery", permission: "Write", referencedInBucketPolicy: null });
  const statements: unknown[] = [
    {
      Sid: "DenyInsecureTransport",
      Effect: "Deny",
      Principal: "*",
      Action: "s3:*",
      Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`],
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    },
  ];
  const policyRoll = rand();
  if (policyRoll < 0.1) {
    statements.push({
      Sid: "PublicRead",
      Effect: "Allow",
      Principal: "*",
      Action: "s3:GetObject",
      Resource: `arn:aws:s3:::${name}/*`,
    });
  } else if (policyRoll < 0.3) {
    statements.push({
      Sid: "FromVpce",
      Effect: "Allow",
      Principal: "*",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: `arn:aws:s3:::${name}/*`,
      Condition: { StringEquals: { "aws:SourceVpce": "vpce-0123456789abcdef0" } },
    });
  }
  const hasPolicy = rand() < 0.6;
  const blocked = rand() < 0.4;
  return {
    relatedEvents: [],
    relationships: [],
    configuration: { name, owner: { displayName: null, id: owner.id }, creationDate: "2024-03-01T10:00:00.000Z" },
    supplementaryConfiguration: {
      AccessControlList: JSON.stringify({ grantSet: null, grantList, owner, isRequesterCharged: false }),
      BucketPolicy: { policyText: hasPolicy ? JSON.stringify({ Version: "2012-10-17", Statement: statements }) : null },
      PublicAccessBlockConfiguration: {
        blockPublicAcls: blocked,
        ignorePublicAcls: blocked,
        blockPublicPolicy: blocked,
        restrictPublicBuckets: blocked,
      },
      BucketOwnershipControls: {
        bucketName: name,
        ownershipControls: { rules: [{ objectOwnership: rand() < 0.3 ? "BucketOwnerEnforced" : "ObjectWriter" }] },
      },
      BucketVersioningConfiguration: { status: "Enabled", isMfaDeleteEnabled: null },
      ServerSideEncryptionConfiguration: {
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256", kmsMasterKeyID: null },
            bucketKeyEnabled: true,
          },
        ],
      },
    },
    tags: {},
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: "2026-11-20T09:58:12.412Z",
    configurationStateId: 1763632692412 + index,
    awsAccountId: ACCOUNT,
    configurationItemStatus: "OK",
    resourceType: "AWS::S3::Bucket",
    resourceId: name,
    resourceName: name,
    ARN: `arn:aws:s3:::${name}`,
    awsRegion: "us-east-1",
    availabilityZone: "Regional",
    configurationStateMd5Hash: "",
  };
}

/** A Config rule invocation (what Lambda hands the function) around one item. */
export function changeEventFor(item: Record<string, unknown>, configRuleName: string): Record<string, unknown> {
  return {
    version: "1.0",
    invokingEvent: JSON.stringify({
      configurationItemDiff: null,
      configurationItem: item,
      notificationCreationTime: "2026-11-20T09:58:14.101Z",
      messageType: "ConfigurationItemChangeNotification",
      recordVersion: "1.3",
    }),
    ruleParameters: "{}",
    resultToken: "token",
    eventLeftScope: false,
    configRuleName,
    accountId: ACCOUNT,
  };
}
