// `remedy plan --live`: reads a live account's security groups and buckets as Config items, read-only (nothing is
// changed, nothing is queued), for plan() to judge exactly as it judges a snapshot.
// - Through AWS Config where it records the type (ListDiscoveredResources per type, paged; BatchGetResourceConfig
//   in batches of 100): the items the deployed rules judge. BatchGetResourceConfig leaves out tags, so a bucket's
//   tags (remedy:exempt) are read from S3, as the remediation reads them.
// - Directly where Config does not record it (no recorder, recorder stopped, type not in the recording group):
//   EC2 DescribeSecurityGroups and S3 ListBuckets (this region's buckets) plus each bucket's ACL, policy, Block
//   Public Access, ownership controls and tags, built into items shaped like a snapshot's; a type whose ResourceSpec
//   says `inventory: true` (RDS snapshots, the account's S3 Block Public Access) through its inventory, as below.
// - A type Config never records (its ResourceSpec says `recordedByConfig: false`, e.g. EBS snapshots) through its
//   inventory (problems/<folder>/inventory.ts), page by page, as the periodic scan lists it: Config is not asked.
// A resource that cannot be read is reported (NotRead) and the rest is still judged.
import {
  type BaseConfigurationItem,
  BatchGetResourceConfigCommand,
  type ConfigServiceClient,
  type ConfigurationRecorder,
  DescribeConfigurationRecorderStatusCommand,
  DescribeConfigurationRecordersCommand,
  ListDiscoveredResourcesCommand,
  type RecordingGroup,
  type ResourceKey,
  type ResourceType,
} from "@aws-sdk/client-config-service";
import {
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { DescribeRuleCommand, type EventBridgeClient } from "@aws-sdk/client-eventbridge";
import {
  type Bucket,
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  ListBucketsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { S3BucketState } from "../contract/ledger.ts";
import { readAccountPublicAccessBlock } from "../detection/account-facts.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "../detection/types.ts";
import { describeAwsError, hasErrorCode } from "../platform/aws-errors.ts";
import { mapLimit } from "../platform/concurrency.ts";
import { resourceSpec } from "../problems/index.ts";
import { hasInventory, listedArn, listedByInventory } from "../problems/inventory.ts";
import { GROUP_URIS } from "../problems/s3-public/detect.ts";
import { orNull, readBucketState } from "../problems/s3-public/live.ts";
import { listedInventoryFor } from "./inventories.ts";
import type { AccountBlockState, LiveSource, LiveTypeSource, NotRead } from "./plan.ts";

export const SECURITY_GROUP = "AWS::EC2::SecurityGroup";
export const BUCKET = "AWS::S3::Bucket";

/** BatchGetResourceConfig takes at most 100 keys. */
export const BATCH_GET_LIMIT = 100;
/** Buckets read at once (each is 5 or 6 calls). */
const BUCKET_CONCURRENCY = 8;
const CONFIG_ATTEMPTS = 4;

export interface LiveClients {
  configService: ConfigServiceClient;
  ec2: EC2Client;
  s3: S3Client;
  s3Control: S3ControlClient;
  /** A client of any other SDK class, for a type's inventory (absent: only the clients above are there to ask). */
  client?<C>(Client: new (config: object) => C): C;
}

export interface LiveOptions {
  accountId: string;
  region: string;
  /** The resource types the rules judge. */
  resourceTypes: readonly string[];
  /** Capture time of directly read items: when they were read. */
  now: Date;
  /** Read the account's S3 Block Public Access (a rule judges with it). */
  accountBlock: boolean;
  /** Progress lines (the caller throttles them and shows them on a terminal only). */
  progress?: (line: string) => void;
}

export interface LiveReading {
  items: unknown[];
  notRead: NotRead[];
  source: LiveSource;
  accountBlock?: AccountBlockState;
}

export async function readLive(clients: LiveClients, options: LiveOptions): Promise<LiveReading> {
  const progress = options.progress ?? (() => {});
  const types: LiveTypeSource[] = [];
  const items: unknown[] = [];
  const notRead: NotRead[] = [];
  const recorded = options.resourceTypes.filter((type) => !listedByInventory(type));
  // Config is asked only about the types it can record.
  const recording = recorded.length > 0 ? await configRecording(clients.configService, recorded) : new Map();
  for (const resourceType of options.resourceTypes) {
    if (!recorded.includes(resourceType)) {
      const listed = await readThroughInventory(clients, resourceType, options, progress);
      items.push(...listed.items);
      notRead.push(...listed.notRead);
      types.push({
        resourceType,
        via: "direct",
        why: `Config never records ${resourceType}`,
      });
      continue;
    }
    let why = recording.get(resourceType);
    if (why === undefined) {
      try {
        const read = await readThroughConfig(clients.configService, resourceType, progress);
        const tagged =
          resourceType === BUCKET
            ? await withBucketTags(clients.s3, read.items, options, progress)
            : { items: read.items, notRead: [] };
        items.push(...tagged.items);
        notRead.push(...read.notRead, ...tagged.notRead);
        types.push({ resourceType, via: "config" });
        continue;
      } catch (error) {
        why = hasErrorCode(error, "NoAvailableConfigurationRecorderException")
          ? "Config is not recording here: no configuration recorder"
          : `Config could not be read: ${describeAwsError(error)}`;
      }
    }
    const direct =
      resourceType === SECURITY_GROUP
        ? await readSecurityGroups(clients.ec2, options, progress)
        : resourceType === BUCKET
          ? await readBuckets(clients.s3, options, progress)
          : hasInventory(resourceType)
            ? await readThroughInventory(clients, resourceType, options, progress)
            : { items: [], notRead: [{ resourceType, reason: "Remedy cannot read this type without Config" }] };
    items.push(...direct.items);
    notRead.push(...direct.notRead);
    types.push({ resourceType, via: "direct", why });
  }
  const reading: LiveReading = {
    items,
    notRead,
    source: { accountId: options.accountId, region: options.region, types },
  };
  if (options.accountBlock) reading.accountBlock = await readAccountBlock(clients.s3Control, options.accountId);
  return reading;
}

// ---------------------------------------------------------------------------------------------------------------
// Is Config recording?

/** Whether the recording group records the type (no group: Config's default, every supported type). */
export function recordsType(group: RecordingGroup | undefined, resourceType: string): boolean {
  if (!group) return true;
  const strategy = group.recordingStrategy?.useOnly;
  if (strategy === "EXCLUSION_BY_RESOURCE_TYPES") {
    return !(group.exclusionByResourceTypes?.resourceTypes ?? []).includes(resourceType as ResourceType);
  }
  if (strategy === "INCLUSION_BY_RESOURCE_TYPES")
    return (group.resourceTypes ?? []).includes(resourceType as ResourceType);
  if (group.allSupported === true || strategy === "ALL_SUPPORTED_RESOURCE_TYPES") return true;
  return (group.resourceTypes ?? []).includes(resourceType as ResourceType);
}

/**
 * Why Config cannot give each type, by type; a type that is absent is recorded. Only the customer managed recorder
 * counts (a service-linked one records for its service, not for Config rules).
 */
export async function configRecording(
  configService: ConfigServiceClient,
  resourceTypes: readonly string[],
): Promise<Map<string, string>> {
  const all = (why: string) => new Map(resourceTypes.map((type) => [type, why]));
  let recorder: ConfigurationRecorder | undefined;
  let recording: boolean | undefined;
  try {
    const recorders = await configService.send(new DescribeConfigurationRecordersCommand({}));
    recorder = (recorders.ConfigurationRecorders ?? []).find((candidate) => !candidate.servicePrincipal);
    if (recorder) {
      const statuses = await configService.send(
        new DescribeConfigurationRecorderStatusCommand(
          recorder.name ? { ConfigurationRecorderNames: [recorder.name] } : {},
        ),
      );
      const status = (statuses.ConfigurationRecordersStatus ?? []).find(
        (candidate) => !candidate.servicePrincipal && (!recorder?.name || candidate.name === recorder.name),
      );
      recording = status?.recording === true;
    }
  } catch (error) {
    if (hasErrorCode(error, "NoSuchConfigurationRecorderException", "NoAvailableConfigurationRecorderException")) {
      return all("Config is not recording here: no configuration recorder");
    }
    return all(`Config could not be asked whether it records: ${describeAwsError(error)}`);
  }
  if (!recorder) return all("Config is not recording here: no configuration recorder");
  if (!recording) return all("Config is not recording here: its configuration recorder is stopped");
  const why = new Map<string, string>();
  for (const type of resourceTypes) {
    if (!recordsType(recorder.recordingGroup, type)) why.set(type, `Config is not recording ${type}`);
  }
  return why;
}

// ---------------------------------------------------------------------------------------------------------------
// Through Config

/** A BatchGetResourceConfig item as a plain object normalizeConfigItem takes: JSON strings stay (it decodes them and
 * reports bad ones per item); the capture time becomes ISO text, as in a snapshot; undefined fields are dropped. */
export function fromBaseConfigurationItem(
  item: BaseConfigurationItem,
  tags?: Record<string, string>,
): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(item)) {
    if (value === undefined) continue;
    plain[key] = value instanceof Date ? value.toISOString() : value;
  }
  if (tags) plain.tags = tags;
  return plain;
}

async function readThroughConfig(
  configService: ConfigServiceClient,
  resourceType: string,
  progress: (line: string) => void,
): Promise<{ items: Record<string, unknown>[]; notRead: NotRead[] }> {
  const keys: ResourceKey[] = [];
  let nextToken: string | undefined;
  do {
    const page = await configService.send(
      new ListDiscoveredResourcesCommand({
        resourceType: resourceType as ResourceType,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    for (const identifier of page.resourceIdentifiers ?? []) {
      if (identifier.resourceId)
        keys.push({ resourceType: resourceType as ResourceType, resourceId: identifier.resourceId });
    }
    nextToken = page.nextToken || undefined;
    progress(`listing ${resourceType} in AWS Config: ${keys.length} so far`);
  } while (nextToken);

  const items: Record<string, unknown>[] = [];
  const notRead: NotRead[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    let pending = keys.slice(start, start + BATCH_GET_LIMIT);
    // Config may leave keys unprocessed under load: ask again a few times, then say which.
    for (let attempt = 0; attempt < CONFIG_ATTEMPTS && pending.length > 0; attempt++) {
      const output = await configService.send(new BatchGetResourceConfigCommand({ resourceKeys: pending }));
      for (const item of output.baseConfigurationItems ?? []) items.push(fromBaseConfigurationItem(item));
      pending = output.unprocessedResourceKeys ?? [];
    }
    for (const key of pending) {
      notRead.push({
        resourceType,
        ...(key.resourceId ? { resourceId: key.resourceId } : {}),
        reason: `AWS Config left it unprocessed ${CONFIG_ATTEMPTS} times (BatchGetResourceConfig); run the plan again`,
      });
    }
    progress(
      `reading ${resourceType} from AWS Config: ${Math.min(start + BATCH_GET_LIMIT, keys.length)} of ${keys.length}`,
    );
  }
  return { items, notRead };
}

/** Adds each bucket's tags (BatchGetResourceConfig leaves them out), read from S3 as the remediation reads them. */
async function withBucketTags(
  s3: S3Client,
  items: Record<string, unknown>[],
  options: LiveOptions,
  progress: (line: string) => void,
): Promise<{ items: Record<string, unknown>[]; notRead: NotRead[] }> {
  const notRead: NotRead[] = [];
  const tagged = await mapLimit(items, BUCKET_CONCURRENCY, async (item, index) => {
    progress(`reading bucket tags: ${index + 1} of ${items.length}`);
    const name = item.resourceId;
    if (typeof name !== "string" || !name) return item; // plan() reports the item as malformed
    try {
      return { ...item, tags: await bucketTags(s3, name, options.accountId) };
    } catch (error) {
      if (hasErrorCode(error, "NoSuchBucket")) return undefined; // deleted since Config recorded it
      notRead.push({
        resourceType: BUCKET,
        resourceId: name,
        reason: `its tags cannot be read: ${describeAwsError(error)}`,
      });
      return undefined;
    }
  });
  return { items: tagged.filter((item): item is Record<string, unknown> => item !== undefined), notRead };
}

// ---------------------------------------------------------------------------------------------------------------
// Through the type's inventory (a type Config never records, or one it does not record here that has one)

/** The client of an SDK class among the plan's, or the one `clients.client` makes. */
function clientOf(clients: LiveClients) {
  const made: object[] = [clients.configService, clients.ec2, clients.s3, clients.s3Control];
  return <C>(Client: new (config: object) => C): C => {
    const found = made.find((client) => client instanceof Client) as C | undefined;
    if (found) return found;
    if (!clients.client) throw new Error(`plan --live has no ${Client.name} to list with`);
    return clients.client(Client);
  };
}

/**
 * Every resource of a type Config does not record (never, or not here), page by page through its inventory. Half a
 * listing would judge some and silently miss others: a listing that fails (or has no client to list with) leaves
 * none judged, and says why; a resource that cannot be read is listed as not read, the rest is judged.
 */
async function readThroughInventory(
  clients: LiveClients,
  resourceType: string,
  options: LiveOptions,
  progress: (line: string) => void,
): Promise<{ items: unknown[]; notRead: NotRead[] }> {
  const module = await listedInventoryFor(resourceType);
  const one = resourceSpec(resourceType)?.label ?? resourceType;
  // "RDS DB snapshots"; "S3 account Block Public Access" (one per account) as it is.
  const label = one.endsWith("s") ? one : `${one}s`;
  if (!module) return { items: [], notRead: [{ resourceType, reason: `Remedy has no inventory of ${label}` }] };
  const items: unknown[] = [];
  const notRead: NotRead[] = [];
  let nextToken: string | undefined;
  try {
    const inventory = module.create({ client: clientOf(clients), now: () => options.now, log: silentLog });
    do {
      const page = await inventory.page({ accountId: options.accountId, region: options.region }, nextToken);
      items.push(...page.items);
      for (const unread of page.unread)
        notRead.push({ resourceType, resourceId: unread.resourceId, reason: unread.reason });
      nextToken = page.nextToken;
      progress(`reading ${label}: ${items.length} so far`);
    } while (nextToken);
  } catch (error) {
    return { items: [], notRead: [{ resourceType, reason: `${label} cannot be listed: ${describeAwsError(error)}` }] };
  }
  return { items, notRead };
}

/** The inventory's log: what plan --live cannot read it reports as not read, not as log lines. */
const silentLog = { debug() {}, info() {}, warn() {}, error() {} };

// ---------------------------------------------------------------------------------------------------------------
// Directly: security groups

function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

/** An EC2 IpPermission in Config's spelling (ipv4Ranges, plus the legacy ipRanges list of CIDR strings). */
function configPermission(permission: IpPermission): Record<string, unknown> {
  const ipv4 = permission.IpRanges ?? [];
  return defined({
    ipProtocol: permission.IpProtocol,
    fromPort: permission.FromPort,
    toPort: permission.ToPort,
    ipv4Ranges: ipv4.map((range) => defined({ cidrIp: range.CidrIp, description: range.Description })),
    ipRanges: ipv4.map((range) => range.CidrIp).filter((cidr) => cidr !== undefined),
    ipv6Ranges: (permission.Ipv6Ranges ?? []).map((range) =>
      defined({ cidrIpv6: range.CidrIpv6, description: range.Description }),
    ),
    prefixListIds: (permission.PrefixListIds ?? []).map((prefix) =>
      defined({ prefixListId: prefix.PrefixListId, description: prefix.Description }),
    ),
    userIdGroupPairs: (permission.UserIdGroupPairs ?? []).map((pair) =>
      defined({
        groupId: pair.GroupId,
        groupName: pair.GroupName,
        userId: pair.UserId,
        vpcId: pair.VpcId,
        vpcPeeringConnectionId: pair.VpcPeeringConnectionId,
        peeringStatus: pair.PeeringStatus,
        description: pair.Description,
      }),
    ),
  });
}

/** The resource's ARN as the registry derives it (its resource.ts in problems/): one ARN builder for every reader. */
function arnOf(type: typeof SECURITY_GROUP | typeof BUCKET, id: string, accountId: string, region: string): string {
  return listedArn(resourceSpec(type)!, { accountId, region }, id);
}

/** A DescribeSecurityGroups group as the Config item a snapshot holds for it. */
export function securityGroupItem(group: SecurityGroup, context: { accountId: string; region: string; now: Date }) {
  const accountId = group.OwnerId ?? context.accountId;
  const tags = Object.fromEntries(
    (group.Tags ?? []).filter((tag) => tag.Key !== undefined).map((tag) => [tag.Key!, tag.Value ?? ""]),
  );
  return defined({
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: context.now.toISOString(),
    configurationItemStatus: "OK",
    awsAccountId: accountId,
    resourceType: SECURITY_GROUP,
    resourceId: group.GroupId,
    resourceName: group.GroupName,
    ARN: group.SecurityGroupArn ?? arnOf(SECURITY_GROUP, group.GroupId ?? "", accountId, context.region),
    awsRegion: context.region,
    availabilityZone: "Not Applicable",
    tags,
    relationships: group.VpcId
      ? [{ resourceId: group.VpcId, resourceType: "AWS::EC2::VPC", name: "Is contained in Vpc" }]
      : [],
    configuration: defined({
      description: group.Description,
      groupName: group.GroupName,
      ipPermissions: (group.IpPermissions ?? []).map(configPermission),
      ownerId: group.OwnerId,
      groupId: group.GroupId,
      ipPermissionsEgress: (group.IpPermissionsEgress ?? []).map(configPermission),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      vpcId: group.VpcId,
    }),
    supplementaryConfiguration: {},
  });
}

async function readSecurityGroups(
  ec2: EC2Client,
  options: LiveOptions,
  progress: (line: string) => void,
): Promise<{ items: unknown[]; notRead: NotRead[] }> {
  const items: unknown[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await ec2.send(
        new DescribeSecurityGroupsCommand({ MaxResults: 1000, ...(token ? { NextToken: token } : {}) }),
      );
      for (const group of page.SecurityGroups ?? []) items.push(securityGroupItem(group, options));
      token = page.NextToken || undefined;
      progress(`reading security groups: ${items.length} so far`);
    } while (token);
  } catch (error) {
    // Half a listing would judge some groups and silently miss others: none is judged, and the plan says why.
    return {
      items: [],
      notRead: [
        { resourceType: SECURITY_GROUP, reason: `security groups cannot be listed: ${describeAwsError(error)}` },
      ],
    };
  }
  return { items, notRead: [] };
}

// ---------------------------------------------------------------------------------------------------------------
// Directly: buckets

// Config spells ACL permissions in PascalCase and group grantees by name.
const CONFIG_PERMISSIONS: Record<string, string> = {
  FULL_CONTROL: "FullControl",
  READ: "Read",
  WRITE: "Write",
  READ_ACP: "ReadAcp",
  WRITE_ACP: "WriteAcp",
};
const GROUP_NAMES: Record<string, string> = Object.fromEntries(
  Object.entries(GROUP_URIS).map(([name, uri]) => [uri, name]),
);

type StateGrant = S3BucketState["acl"]["Grants"][number];

function configGrantee(grantee: StateGrant["Grantee"]): unknown {
  if (!grantee) return null;
  if (grantee.Type === "Group") return grantee.URI ? (GROUP_NAMES[grantee.URI] ?? grantee.URI) : null;
  if (grantee.Type === "AmazonCustomerByEmail") return { emailAddress: grantee.EmailAddress ?? null };
  return { id: grantee.ID ?? null, displayName: grantee.DisplayName ?? null };
}

/** GetBucketAcl's answer as Config's AccessControlList (a JSON string in the item). */
export function configAccessControlList(acl: S3BucketState["acl"]): string {
  return JSON.stringify({
    grantSet: null,
    grantList: acl.Grants.map((grant) => ({
      grantee: configGrantee(grant.Grantee),
      permission: grant.Permission === undefined ? null : (CONFIG_PERMISSIONS[grant.Permission] ?? grant.Permission),
      referencedInBucketPolicy: null,
    })),
    owner: acl.Owner ? { id: acl.Owner.ID ?? null, displayName: acl.Owner.DisplayName ?? null } : null,
    isRequesterCharged: false,
  });
}

function configPublicAccessBlock(flags: PublicAccessBlockFlags): Record<string, boolean> {
  const config: Record<string, boolean> = {};
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) {
    const value = flags[flag];
    if (value !== undefined) config[`${flag[0]!.toLowerCase()}${flag.slice(1)}`] = value;
  }
  return config;
}

/** A bucket's live state and tags as the Config item a snapshot holds for it. */
export function bucketItem(
  bucket: { name: string; region: string; creationDate?: Date },
  state: S3BucketState,
  tags: Record<string, string>,
  context: { accountId: string; now: Date },
) {
  const supplementaryConfiguration: Record<string, unknown> = {
    AccessControlList: configAccessControlList(state.acl),
    BucketPolicy: { policyText: state.policy },
  };
  if (state.publicAccessBlock) {
    supplementaryConfiguration.PublicAccessBlockConfiguration = configPublicAccessBlock(state.publicAccessBlock);
  }
  if (state.aclsDisabled) {
    supplementaryConfiguration.BucketOwnershipControls = {
      bucketName: bucket.name,
      ownershipControls: { rules: [{ objectOwnership: "BucketOwnerEnforced" }] },
    };
  }
  if (Object.keys(tags).length > 0) supplementaryConfiguration.BucketTaggingConfiguration = { tagSets: [{ tags }] };
  return {
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: context.now.toISOString(),
    configurationItemStatus: "OK",
    awsAccountId: context.accountId,
    resourceType: BUCKET,
    resourceId: bucket.name,
    resourceName: bucket.name,
    ARN: arnOf(BUCKET, bucket.name, context.accountId, bucket.region),
    awsRegion: bucket.region,
    availabilityZone: "Regional",
    tags,
    relationships: [],
    configuration: defined({
      name: bucket.name,
      owner: { displayName: state.acl.Owner?.DisplayName ?? null, id: state.acl.Owner?.ID ?? null },
      creationDate: bucket.creationDate?.toISOString(),
    }),
    supplementaryConfiguration,
  };
}

async function bucketTags(s3: S3Client, bucket: string, expectedOwner: string): Promise<Record<string, string>> {
  const tagging = await orNull(
    s3.send(new GetBucketTaggingCommand({ Bucket: bucket, ExpectedBucketOwner: expectedOwner })),
    "NoSuchTagSet",
  );
  const tags: Record<string, string> = {};
  for (const tag of tagging?.TagSet ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  return tags;
}

/** GetBucketLocation's LocationConstraint as a region: none is us-east-1, "EU" is eu-west-1. */
export function regionOfLocation(constraint: string | undefined | null): string {
  if (!constraint) return "us-east-1";
  return constraint === "EU" ? "eu-west-1" : constraint;
}

async function bucketRegion(s3: S3Client, bucket: Bucket, expectedOwner: string): Promise<string> {
  if (bucket.BucketRegion) return bucket.BucketRegion;
  const location = await s3.send(
    new GetBucketLocationCommand({ Bucket: bucket.Name, ExpectedBucketOwner: expectedOwner }),
  );
  return regionOfLocation(location.LocationConstraint);
}

async function readBuckets(
  s3: S3Client,
  options: LiveOptions,
  progress: (line: string) => void,
): Promise<{ items: unknown[]; notRead: NotRead[] }> {
  const buckets: Bucket[] = [];
  let token: string | undefined;
  try {
    do {
      // BucketRegion limits the answer to this region's buckets (and makes S3 say each bucket's region).
      const page = await s3.send(
        new ListBucketsCommand({
          MaxBuckets: 1000,
          BucketRegion: options.region,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      buckets.push(...(page.Buckets ?? []).filter((bucket) => bucket.Name));
      token = page.ContinuationToken || undefined;
      progress(`listing buckets: ${buckets.length} so far`);
    } while (token);
  } catch (error) {
    return {
      items: [],
      notRead: [{ resourceType: BUCKET, reason: `buckets cannot be listed: ${describeAwsError(error)}` }],
    };
  }

  const notRead: NotRead[] = [];
  const items = await mapLimit(buckets, BUCKET_CONCURRENCY, async (bucket, index) => {
    progress(`reading buckets: ${index + 1} of ${buckets.length}`);
    const name = bucket.Name!;
    try {
      const region = await bucketRegion(s3, bucket, options.accountId);
      if (region !== options.region) return undefined; // another region's bucket: not this plan's
      const tags = await bucketTags(s3, name, options.accountId);
      const state = await readBucketState(s3, name, options.accountId);
      return bucketItem(
        { name, region, ...(bucket.CreationDate ? { creationDate: bucket.CreationDate } : {}) },
        state,
        tags,
        options,
      );
    } catch (error) {
      if (hasErrorCode(error, "NoSuchBucket")) return undefined; // deleted since it was listed
      notRead.push({ resourceType: BUCKET, resourceId: name, reason: `cannot be read: ${describeAwsError(error)}` });
      return undefined;
    }
  });
  return { items: items.filter((item) => item !== undefined), notRead: sortedNotRead(notRead, buckets) };
}

/** In listing order, whichever finished first. */
function sortedNotRead(notRead: NotRead[], buckets: readonly Bucket[]): NotRead[] {
  const order = new Map(buckets.map((bucket, index) => [bucket.Name, index]));
  return notRead.sort((a, b) => (order.get(a.resourceId) ?? 0) - (order.get(b.resourceId) ?? 0));
}

// ---------------------------------------------------------------------------------------------------------------
// The account's Block Public Access and the coordinator's schedule

async function readAccountBlock(s3Control: S3ControlClient, accountId: string): Promise<AccountBlockState> {
  try {
    return { from: "s3-control", flags: await readAccountPublicAccessBlock(s3Control, accountId) };
  } catch (error) {
    return { from: "unknown", error: describeAwsError(error) };
  }
}

/** The coordinator's schedule rule: State ENABLED means auto-response is on. */
export async function readSchedule(
  eventBridge: EventBridgeClient,
  rule: string,
): Promise<{ enabled: boolean; state: string } | { error: string }> {
  try {
    const output = await eventBridge.send(new DescribeRuleCommand({ Name: rule }));
    const state = output.State ?? "unknown";
    return { enabled: state === "ENABLED", state };
  } catch (error) {
    return { error: describeAwsError(error) };
  }
}
