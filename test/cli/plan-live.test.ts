// `remedy plan --live` in process, on mocked clients: through AWS Config (answers recorded as AWS sends them, run
// through the SDK's own deserializer), directly where Config does not record, and the account's Block Public Access
// and the stack's schedule. Read-only throughout. Against a real emulator: plan-moto.test.ts.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  BatchGetResourceConfigCommand,
  type BatchGetResourceConfigCommandOutput,
  ConfigServiceClient,
  DescribeConfigurationRecorderStatusCommand,
  type DescribeConfigurationRecorderStatusCommandOutput,
  DescribeConfigurationRecordersCommand,
  type DescribeConfigurationRecordersCommandOutput,
  ListDiscoveredResourcesCommand,
  type ListDiscoveredResourcesCommandOutput,
  type ResourceKey,
} from "@aws-sdk/client-config-service";
import {
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type IpPermission,
  type SecurityGroup,
} from "@aws-sdk/client-ec2";
import { DescribeRuleCommand, EventBridgeClient, ResourceNotFoundException } from "@aws-sdk/client-eventbridge";
import {
  type DBClusterSnapshot,
  type DBSnapshot,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import {
  type Bucket,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlClient,
  S3ControlServiceException,
} from "@aws-sdk/client-s3-control";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import {
  bucketItem,
  fromBaseConfigurationItem,
  recordsType,
  regionOfLocation,
  securityGroupItem,
} from "../../cli/live-plan.ts";
import { runCli } from "../../cli/remedy.ts";
import type { S3BucketState } from "../../contract/ledger.ts";
import { undoExemptionKey } from "../../contract/undo-exemption.ts";
import { normalizeConfigItem } from "../../detection/config-item.ts";
import { judgeItem } from "../../detection/judge.ts";
import { RULES } from "../../detection/rules.ts";
import type { PublicAccessBlockFlags } from "../../detection/types.ts";
import { S3ControlAtEndpoint } from "../../platform/clients.ts";
import { RESOURCE_TYPES } from "../../problems/index.ts";
import { listedByInventory, UNRECORDED_RESOURCES } from "../../problems/inventory.ts";
import { aclFromConfig, aclGrantToApi } from "../../problems/s3-public/detect.ts";
import { listText } from "../../problems/words.ts";
import { fixture } from "../fixtures/load.ts";
import { exemptionRecord } from "../undo/exemption-fixtures.ts";

const ACCOUNT = "111122223333";
const REGION = "eu-west-1";
const NOW = "2026-11-23T12:00:00.000Z";
const CLIENT = { region: REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const SNAPSHOT = new URL("../../examples/config-snapshot.json", import.meta.url).pathname;
const EXAMPLE: Record<string, any>[] = JSON.parse(readFileSync(SNAPSHOT, "utf8")).configurationItems;
const SG = "AWS::EC2::SecurityGroup";
const BUCKET = "AWS::S3::Bucket";
const DB_SNAPSHOT = "AWS::RDS::DBSnapshot";
const CLUSTER_SNAPSHOT = "AWS::RDS::DBClusterSnapshot";
const ACCOUNT_BPA = "AWS::S3::AccountPublicAccessBlock";
/** The recorded types read without Config through their inventory (their spec says `inventory: true`). */
const LISTED_WITHOUT_CONFIG = [DB_SNAPSHOT, CLUSTER_SNAPSHOT, ACCOUNT_BPA];
/** The example's items of those types: a direct reading reads them too. */
const EXAMPLE_LISTED = EXAMPLE.filter((item) => LISTED_WITHOUT_CONFIG.includes(item.resourceType)).length;
/** The example's items of the types Remedy judges (what a plan reads of the account; not its VPC). */
const EXAMPLE_JUDGED = EXAMPLE.filter((item) => RESOURCE_TYPES.includes(item.resourceType)).length;
/** How the live line names the types Config never records (their inventory reads them): "; Config never records …". */
const NEVER_RECORDED = UNRECORDED_RESOURCES.map((resource) => `; Config never records ${resource.type}`).join("");
/** What the live line adds when Config records every other type: those types, and the ones read directly. */
const UNLISTED_BY_CONFIG =
  UNRECORDED_RESOURCES.length === 0
    ? ""
    : ` for ${RESOURCE_TYPES.filter((type) => !listedByInventory(type)).join(", ")}; read directly for ${UNRECORDED_RESOURCES.map((resource) => resource.type).join(", ")} (${NEVER_RECORDED.slice(2)})`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const directories: string[] = [];
afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
});
function directory(): string {
  const dir = mkdtempSync(join(tmpdir(), "remedy-live-"));
  directories.push(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// Config's answers exactly as the SDK makes them from the recorded bodies.

const wireClient = new ConfigServiceClient({
  ...CLIENT,
  maxAttempts: 1,
  requestHandler: {
    async handle(request: { headers: Record<string, string> }) {
      const { status, body } = wireAnswer!;
      return {
        response: {
          statusCode: status,
          headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "f1d0c0de" },
          body: Readable.from([Buffer.from(JSON.stringify(body))]),
        },
        request,
      };
    },
  } as never,
});
let wireAnswer: { status: number; body: unknown } | undefined;

/** The SDK's output for a recorded body (dates as Date, as the real client gives them), or its error. */
async function fromWire<T>(command: object, name: string, status = 200): Promise<T> {
  wireAnswer = { status, body: fixture(`live-plan/config/${name}.json`) };
  return (await wireClient.send(command as never)) as T;
}
async function wireError(name: string): Promise<Error> {
  try {
    await fromWire(new ListDiscoveredResourcesCommand({ resourceType: BUCKET }), name, 400);
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

const recorders = () =>
  fromWire<DescribeConfigurationRecordersCommandOutput>(
    new DescribeConfigurationRecordersCommand({}),
    "describe-configuration-recorders",
  );
const recorderStatus = () =>
  fromWire<DescribeConfigurationRecorderStatusCommandOutput>(
    new DescribeConfigurationRecorderStatusCommand({}),
    "describe-configuration-recorder-status",
  );
const discovered = (name: string) =>
  fromWire<ListDiscoveredResourcesCommandOutput>(new ListDiscoveredResourcesCommand({ resourceType: SG }), name);
const batchItems = async () =>
  (
    await fromWire<BatchGetResourceConfigCommandOutput>(
      new BatchGetResourceConfigCommand({ resourceKeys: [] }),
      "batch-get-resource-config",
    )
  ).baseConfigurationItems!;

// ---------------------------------------------------------------------------------------------------------------
// The example account's resources in the EC2 and S3 APIs' own shapes (the snapshot read back through the rules'
// own Config parsers), for the direct path.

function describedGroup(item: Record<string, any>): SecurityGroup {
  const permission = (p: Record<string, any>): IpPermission => ({
    IpProtocol: p.ipProtocol,
    ...(p.fromPort !== undefined ? { FromPort: p.fromPort, ToPort: p.toPort } : {}),
    IpRanges: (p.ipv4Ranges ?? []).map((r: any) => ({
      CidrIp: r.cidrIp,
      ...(r.description ? { Description: r.description } : {}),
    })),
    Ipv6Ranges: (p.ipv6Ranges ?? []).map((r: any) => ({
      CidrIpv6: r.cidrIpv6,
      ...(r.description ? { Description: r.description } : {}),
    })),
    PrefixListIds: (p.prefixListIds ?? []).map((r: any) => ({ PrefixListId: r.prefixListId })),
    UserIdGroupPairs: (p.userIdGroupPairs ?? []).map((r: any) => ({ GroupId: r.groupId, UserId: r.userId })),
  });
  const c = item.configuration;
  return {
    GroupId: c.groupId,
    GroupName: c.groupName,
    Description: c.description,
    OwnerId: c.ownerId,
    VpcId: c.vpcId,
    SecurityGroupArn: item.ARN,
    IpPermissions: c.ipPermissions.map(permission),
    IpPermissionsEgress: (c.ipPermissionsEgress ?? []).map(permission),
    Tags: Object.entries(item.tags as Record<string, string>).map(([Key, Value]) => ({ Key, Value })),
  };
}

function bucketState(item: Record<string, any>): S3BucketState {
  const normalized = normalizeConfigItem(item);
  const supplementary = normalized.supplementaryConfiguration as Record<string, any>;
  const { ownerId, grants } = aclFromConfig(supplementary.AccessControlList);
  const block = supplementary.PublicAccessBlockConfiguration;
  return {
    kind: "s3-bucket",
    bucket: item.resourceId,
    aclsDisabled: JSON.stringify(supplementary.BucketOwnershipControls ?? {}).includes("BucketOwnerEnforced"),
    acl: { ...(ownerId ? { Owner: { ID: ownerId } } : {}), Grants: grants.map(aclGrantToApi) },
    policy: supplementary.BucketPolicy?.policyText ?? null,
    publicAccessBlock: block
      ? {
          BlockPublicAcls: block.blockPublicAcls,
          IgnorePublicAcls: block.ignorePublicAcls,
          BlockPublicPolicy: block.blockPublicPolicy,
          RestrictPublicBuckets: block.restrictPublicBuckets,
        }
      : null,
  };
}

function s3Error(name: string, status: number, message: string) {
  return new S3ServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status }, message });
}

// ---------------------------------------------------------------------------------------------------------------
// Mocked clients and the CLI's dependencies

function account() {
  const clients = {
    config: new ConfigServiceClient(CLIENT),
    ec2: new EC2Client(CLIENT),
    s3: new S3Client(CLIENT),
    s3control: new S3ControlClient(CLIENT),
    events: new EventBridgeClient(CLIENT),
    // The clients inventories ask for by class (deps.client): RDS, and S3 Control at the SDK's endpoint.
    rds: new RDSClient(CLIENT),
    s3controlAtEndpoint: new S3ControlAtEndpoint(CLIENT),
  };
  const mocks = {
    config: mockClient(clients.config),
    ec2: mockClient(clients.ec2),
    s3: mockClient(clients.s3),
    s3control: mockClient(clients.s3control),
    events: mockClient(clients.events),
    rds: mockClient(clients.rds),
    s3controlAtEndpoint: mockClient(clients.s3controlAtEndpoint),
  };
  for (const s3control of [mocks.s3control, mocks.s3controlAtEndpoint]) {
    s3control.on(GetAccountPublicAccessBlockCommand).rejects(
      new S3ControlServiceException({
        name: "NoSuchPublicAccessBlockConfiguration",
        $fault: "client",
        $metadata: { httpStatusCode: 404 },
        message: "The public access block configuration was not found",
      }),
    );
  }
  // No RDS snapshots unless a test says so (directAccount: the example's).
  mocks.rds
    .on(DescribeDBSnapshotsCommand)
    .resolves({ DBSnapshots: [] })
    .on(DescribeDBClusterSnapshotsCommand)
    .resolves({ DBClusterSnapshots: [] });
  // The example account has no EBS snapshots (a type Config does not record: plan --live lists it through EC2).
  mocks.ec2.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  mocks.s3.on(GetBucketTaggingCommand).callsFake(({ Bucket }: { Bucket: string }) => {
    const tags = EXAMPLE.find((item) => item.resourceId === Bucket)?.tags ?? {};
    if (Object.keys(tags).length === 0) throw s3Error("NoSuchTagSet", 404, "The TagSet does not exist");
    return { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
  });
  const noAws = () => {
    throw new Error("plan --live must not use this client");
  };
  const deps = (
    env: Record<string, string> = {},
    identity = { account: ACCOUNT, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice` },
  ) =>
    ({
      sqs: noAws,
      ssm: noAws,
      kms: noAws,
      secretsManager: noAws,
      ec2: () => clients.ec2,
      s3: () => clients.s3,
      eventBridge: () => clients.events,
      configService: () => clients.config,
      s3Control: () => clients.s3control,
      // Any other class: only the mocked ones (no test reaches the network).
      client: <C>(Client: new (config: object) => C): C => {
        if (Client === (RDSClient as unknown)) return clients.rds as C;
        if (Client === (S3ControlAtEndpoint as unknown)) return clients.s3controlAtEndpoint as C;
        throw new Error(`plan --live must not use a ${Client.name}`);
      },
      callerIdentity: async () => identity,
      now: () => new Date(NOW),
      user: () => "alice",
      confirm: async () => false,
      env: { INIT_CWD: directory(), ...env },
    }) as CliDeps;
  /** Every command sent to any client: plan --live only reads. */
  const sent = () =>
    // Seen as what is used here: the mocks' own types, as one union, cost the type checker most of a second.
    (Object.values(mocks) as { calls(): { args: unknown[] }[] }[]).flatMap((mock) =>
      mock.calls().map((call) => (call.args[0] as object).constructor.name),
    );
  return { clients, mocks, deps, sent };
}

type Account = ReturnType<typeof account>;

async function configRecordsAll(aws: Account) {
  aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves(await recorders());
  aws.mocks.config.on(DescribeConfigurationRecorderStatusCommand).resolves(await recorderStatus());
  const pages = {
    sg1: await discovered("list-discovered-resources.AWS_EC2_SecurityGroup.page-1"),
    sg2: await discovered("list-discovered-resources.AWS_EC2_SecurityGroup.page-2"),
    s3: await discovered("list-discovered-resources.AWS_S3_Bucket"),
  };
  // Every other registered type's one page, where the example account has some (a fixture of its own), else none.
  const others = new Map<string, ListDiscoveredResourcesCommandOutput>();
  for (const type of RESOURCE_TYPES.filter((candidate) => candidate !== SG && candidate !== BUCKET)) {
    const name = `list-discovered-resources.${type.replaceAll("::", "_")}`;
    if (existsSync(new URL(`../fixtures/live-plan/config/${name}.json`, import.meta.url))) {
      others.set(type, await discovered(name));
    }
  }
  aws.mocks.config
    .on(ListDiscoveredResourcesCommand)
    .callsFake((input: { resourceType: string; nextToken?: string }) =>
      input.resourceType === SG
        ? input.nextToken === pages.sg1.nextToken
          ? pages.sg2
          : pages.sg1
        : input.resourceType === BUCKET
          ? pages.s3
          : (others.get(input.resourceType) ?? { resourceIdentifiers: [] }),
    );
  const items = await batchItems();
  aws.mocks.config.on(BatchGetResourceConfigCommand).callsFake((input: { resourceKeys: ResourceKey[] }) => ({
    baseConfigurationItems: items.filter((item) =>
      input.resourceKeys.some((key) => key.resourceId === item.resourceId && key.resourceType === item.resourceType),
    ),
    unprocessedResourceKeys: [],
  }));
}

/** A Config item's restore attributes (camelCase) as the RDS API answers them. */
function apiAttributes(item: Record<string, any>, key: string) {
  return (item.supplementaryConfiguration[key] as { attributeName: string; attributeValues: string[] }[]).map(
    (attribute) => ({ AttributeName: attribute.attributeName, AttributeValues: attribute.attributeValues }),
  );
}

const tagList = (item: Record<string, any>) =>
  Object.entries(item.tags as Record<string, string>).map(([Key, Value]) => ({ Key, Value }));

/** The example's DB snapshots and cluster snapshots in the RDS API (DB snapshots on two pages), and its account flags. */
function directListed(aws: Account) {
  const dbSnapshots = EXAMPLE.filter((item) => item.resourceType === DB_SNAPSHOT);
  const described: DBSnapshot[] = dbSnapshots.map((item) => ({
    DBSnapshotIdentifier: item.configuration.dBSnapshotIdentifier,
    DBInstanceIdentifier: item.configuration.dBInstanceIdentifier,
    SnapshotCreateTime: new Date(item.configuration.snapshotCreateTime),
    Engine: item.configuration.engine,
    AvailabilityZone: item.configuration.availabilityZone,
    SnapshotType: item.configuration.snapshotType,
    DBSnapshotArn: item.configuration.dBSnapshotArn,
    TagList: tagList(item),
  }));
  aws.mocks.rds
    .on(DescribeDBSnapshotsCommand)
    .callsFake((input: { Marker?: string }) =>
      input.Marker === "db-page-2"
        ? { DBSnapshots: described.slice(1) }
        : { DBSnapshots: described.slice(0, 1), Marker: "db-page-2" },
    )
    .on(DescribeDBSnapshotAttributesCommand)
    .callsFake(({ DBSnapshotIdentifier }: { DBSnapshotIdentifier: string }) => {
      const item = dbSnapshots.find((candidate) => candidate.resourceId === DBSnapshotIdentifier)!;
      return {
        DBSnapshotAttributesResult: {
          DBSnapshotIdentifier,
          DBSnapshotAttributes: apiAttributes(item, "DBSnapshotAttributes"),
        },
      };
    });
  const clusterSnapshots = EXAMPLE.filter((item) => item.resourceType === CLUSTER_SNAPSHOT);
  const clusters: DBClusterSnapshot[] = clusterSnapshots.map((item) => ({
    DBClusterSnapshotIdentifier: item.configuration.dbclusterSnapshotIdentifier,
    DBClusterIdentifier: item.configuration.dbclusterIdentifier,
    SnapshotCreateTime: new Date(item.configuration.snapshotCreateTime),
    Engine: item.configuration.engine,
    SnapshotType: item.configuration.snapshotType,
    DBClusterSnapshotArn: item.configuration.dbclusterSnapshotArn,
    TagList: tagList(item),
  }));
  aws.mocks.rds
    .on(DescribeDBClusterSnapshotsCommand)
    .resolves({ DBClusterSnapshots: clusters })
    .on(DescribeDBClusterSnapshotAttributesCommand)
    .callsFake(({ DBClusterSnapshotIdentifier }: { DBClusterSnapshotIdentifier: string }) => {
      const item = clusterSnapshots.find((candidate) => candidate.resourceId === DBClusterSnapshotIdentifier)!;
      return {
        DBClusterSnapshotAttributesResult: {
          DBClusterSnapshotIdentifier,
          DBClusterSnapshotAttributes: apiAttributes(item, "DBClusterSnapshotAttributes"),
        },
      };
    });
  // The account's flags, as its item records them (one account: S3 Control answers every client alike).
  const configuration = EXAMPLE.find((item) => item.resourceType === ACCOUNT_BPA)!.configuration;
  const flags: PublicAccessBlockFlags = {
    BlockPublicAcls: configuration.blockPublicAcls,
    IgnorePublicAcls: configuration.ignorePublicAcls,
    BlockPublicPolicy: configuration.blockPublicPolicy,
    RestrictPublicBuckets: configuration.restrictPublicBuckets,
  };
  for (const s3control of [aws.mocks.s3control, aws.mocks.s3controlAtEndpoint]) {
    s3control.on(GetAccountPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: flags });
  }
}

function directAccount(aws: Account, groups = EXAMPLE.filter((item) => item.resourceType === SG)) {
  directListed(aws);
  const buckets = EXAMPLE.filter((item) => item.resourceType === BUCKET);
  const described = groups.map(describedGroup);
  aws.mocks.ec2
    .on(DescribeSecurityGroupsCommand)
    .callsFake((input: { NextToken?: string }) =>
      input.NextToken === "page-2"
        ? { SecurityGroups: described.slice(3) }
        : { SecurityGroups: described.slice(0, 3), NextToken: "page-2" },
    );
  const listed: Bucket[] = buckets.map((item) => ({
    Name: item.resourceId,
    CreationDate: new Date(item.configuration.creationDate),
    BucketRegion: REGION,
  }));
  listed.push({ Name: "acme-us-archive", CreationDate: new Date("2025-01-01T00:00:00Z"), BucketRegion: "us-east-1" });
  aws.mocks.s3
    .on(ListBucketsCommand)
    .callsFake((input: { ContinuationToken?: string }) =>
      input.ContinuationToken === "next"
        ? { Buckets: listed.slice(4), Owner: { ID: "2a8c7d1e" } }
        : { Buckets: listed.slice(0, 4), Owner: { ID: "2a8c7d1e" }, ContinuationToken: "next" },
    );
  const state = (bucket: string) => bucketState(buckets.find((item) => item.resourceId === bucket)!);
  aws.mocks.s3
    .on(GetBucketAclCommand)
    .callsFake(({ Bucket }: { Bucket: string }) => ({
      Owner: state(Bucket).acl.Owner,
      Grants: state(Bucket).acl.Grants,
    }))
    .on(GetBucketPolicyCommand)
    .callsFake(({ Bucket }: { Bucket: string }) => {
      const policy = state(Bucket).policy;
      if (policy === null) throw s3Error("NoSuchBucketPolicy", 404, "The bucket policy does not exist");
      return { Policy: policy };
    })
    .on(GetPublicAccessBlockCommand)
    .callsFake(({ Bucket }: { Bucket: string }) => {
      const block = state(Bucket).publicAccessBlock;
      if (block === null) throw s3Error("NoSuchPublicAccessBlockConfiguration", 404, "not found");
      return { PublicAccessBlockConfiguration: block };
    })
    .on(GetBucketOwnershipControlsCommand)
    .callsFake(({ Bucket }: { Bucket: string }) => ({
      OwnershipControls: {
        Rules: [{ ObjectOwnership: state(Bucket).aclsDisabled ? "BucketOwnerEnforced" : "BucketOwnerPreferred" }],
      },
    }));
}

async function plan(argv: string[], deps: CliDeps, terminal: { interactive?: boolean; columns?: number } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t), ...terminal }, deps);
  return { code, out: out.join(""), err: err.join("") };
}

/** The snapshot's plan (offline, default settings), to compare a live reading of the same account with. */
async function snapshotPlan() {
  const offline = await plan(["plan", "--snapshot", SNAPSHOT, "--json"], account().deps());
  return JSON.parse(offline.out);
}

const READ_ONLY = /^(Describe|List|Get|BatchGet)\w*Command$/;

// ---------------------------------------------------------------------------------------------------------------

describe("plan --live through AWS Config", () => {
  it("judges the account exactly as its snapshot, from Config's recorded answers, reading only", async () => {
    const aws = account();
    await configRecordsAll(aws);
    const live = await plan(["plan", "--live", "--json"], aws.deps());
    expect(live.err).toBe("");
    expect(live.code).toBe(0);
    const report = JSON.parse(live.out);
    const offline = await snapshotPlan();
    expect(report).toMatchObject({
      mode: "live",
      live: {
        accountId: ACCOUNT,
        region: REGION,
      },
      accountPublicAccessBlock: { from: "s3-control", flags: null },
      autoResponse: { enabled: false, from: "settings" },
      notRead: [],
      malformed: [],
      itemsRead: EXAMPLE_JUDGED,
    });
    // Every type Config records, read through Config.
    expect(report.live.types).toEqual(
      expect.arrayContaining(
        [SG, BUCKET, "AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot"].map((resourceType) => ({
          resourceType,
          via: "config",
        })),
      ),
    );
    for (const key of ["findings", "instructions", "itemsJudged", "compliant", "nonCompliant"]) {
      expect(report[key], key).toEqual(offline[key]);
    }
    // The tag exemption of a group (in its configuration) and the buckets' tags (read from S3) both hold.
    expect(report.findings.find((f: { resourceId: string }) => f.resourceId === "sg-0feed0000000003").status).toBe(
      "exempt",
    );

    // Paged and batched: two pages of groups (the second asked with the first's token), at most 100 keys a batch.
    const lists = aws.mocks.config.commandCalls(ListDiscoveredResourcesCommand).map((call) => call.args[0].input);
    expect(lists.filter((input) => input.resourceType === SG || input.resourceType === BUCKET)).toEqual([
      { resourceType: SG },
      { resourceType: SG, nextToken: "AAEAAf2oR7yZxKv1mQ0example0page0two==" },
      { resourceType: BUCKET },
    ]);
    for (const call of aws.mocks.config.commandCalls(BatchGetResourceConfigCommand)) {
      expect(call.args[0].input.resourceKeys!.length).toBeLessThanOrEqual(100);
    }
    expect(aws.mocks.s3).toHaveReceivedCommandWith(GetBucketTaggingCommand, {
      Bucket: "acme-public-assets",
      ExpectedBucketOwner: ACCOUNT,
    });
    expect(aws.mocks.s3control).toHaveReceivedCommandWith(GetAccountPublicAccessBlockCommand, { AccountId: ACCOUNT });
    expect(aws.mocks.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
    expect(aws.mocks.s3).not.toHaveReceivedCommand(ListBucketsCommand);
    // Where Config records them, the types with an inventory are not listed through it.
    expect(aws.mocks.rds).not.toHaveReceivedAnyCommand();
    expect(aws.mocks.s3controlAtEndpoint).not.toHaveReceivedAnyCommand();
    expect(aws.sent().filter((name) => !READ_ONLY.test(name))).toEqual([]);

    const text = await plan(["plan", "--live"], aws.deps());
    expect(text.out).toMatch(
      new RegExp(
        `^${escapeRegExp(
          "Remedy plan (live, read-only: nothing in AWS is changed and nothing is queued)\n" +
            `live: AWS Config in 111122223333 eu-west-1${UNLISTED_BY_CONFIG}\n` +
            "settings: (defaults)\naccount Block Public Access: none configured (S3 Control)\n" +
            "auto-response: off (settings: enableAutoResponse is false)\n",
        )}`,
      ),
    );
    expect(text.out).not.toContain("Note:");
  });

  it("a bucket's remedy:exempt tag (which Config's batch answer leaves out) exempts it", async () => {
    const aws = account();
    await configRecordsAll(aws);
    aws.mocks.s3
      .on(GetBucketTaggingCommand, { Bucket: "acme-ml-datasets" })
      .resolves({ TagSet: [{ Key: "remedy:exempt", Value: "public dataset, ticket ML-7 until=2027-01-31" }] });
    const report = JSON.parse((await plan(["plan", "--live", "--json"], aws.deps())).out);
    const ml = report.findings.filter((f: { resourceId: string }) => f.resourceId === "acme-ml-datasets");
    expect(ml).toMatchObject([{ status: "exempt", exemption: "tag until 2027-01-31: public dataset, ticket ML-7" }]);
  });

  it("asks again for keys Config leaves unprocessed, and lists the ones it never gives as not read", async () => {
    const aws = account();
    aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves(await recorders());
    aws.mocks.config.on(DescribeConfigurationRecorderStatusCommand).resolves(await recorderStatus());
    const template = (await batchItems()).find((item) => item.resourceId === "acme-audit-logs")!;
    const names = Array.from({ length: 250 }, (_, index) => `bucket-${String(index).padStart(3, "0")}`);
    aws.mocks.config
      .on(ListDiscoveredResourcesCommand)
      .callsFake((input: { resourceType: string; nextToken?: string }) => {
        if (input.resourceType !== BUCKET) return { resourceIdentifiers: [] };
        const start = input.nextToken ? Number(input.nextToken) : 0;
        return {
          resourceIdentifiers: names
            .slice(start, start + 100)
            .map((resourceId) => ({ resourceType: BUCKET, resourceId })),
          ...(start + 100 < names.length ? { nextToken: String(start + 100) } : {}),
        };
      });
    let first = true;
    aws.mocks.config.on(BatchGetResourceConfigCommand).callsFake((input: { resourceKeys: ResourceKey[] }) => {
      const unprocessed = input.resourceKeys.filter(
        (key) => key.resourceId === "bucket-007" || (first && key.resourceId === "bucket-000"),
      );
      first = false;
      return {
        baseConfigurationItems: input.resourceKeys
          .filter((key) => !unprocessed.includes(key))
          .map((key) => ({
            ...template,
            resourceId: key.resourceId,
            resourceName: key.resourceId,
            arn: `arn:aws:s3:::${key.resourceId}`,
          })),
        unprocessedResourceKeys: unprocessed,
      };
    });
    const run = await plan(["plan", "--live", "--json", "--strict"], aws.deps());
    const report = JSON.parse(run.out);
    expect(report.itemsRead).toBe(249);
    expect(report.notRead).toEqual([
      {
        resourceType: BUCKET,
        resourceId: "bucket-007",
        reason: "AWS Config left it unprocessed 4 times (BatchGetResourceConfig); run the plan again",
      },
    ]);
    const bucketLists = aws.mocks.config
      .commandCalls(ListDiscoveredResourcesCommand)
      .filter((call) => call.args[0].input.resourceType === BUCKET);
    expect(bucketLists).toHaveLength(3);
    const batches = aws.mocks.config
      .commandCalls(BatchGetResourceConfigCommand)
      .map((c) => c.args[0].input.resourceKeys!.length);
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
    expect(run.code).toBe(1);
    expect(run.err).toBe("remedy plan: --strict: 1 resource could not be read\n");
  });

  it("keeps an item whose JSON strings are broken as one malformed item, judging the rest", async () => {
    const aws = account();
    await configRecordsAll(aws);
    const items = await batchItems();
    aws.mocks.config.on(BatchGetResourceConfigCommand).callsFake((input: { resourceKeys: ResourceKey[] }) => ({
      baseConfigurationItems: items
        .filter((item) => input.resourceKeys.some((key) => key.resourceId === item.resourceId))
        .map((item) => (item.resourceId === "acme-partner-drop" ? { ...item, configuration: "{not json" } : item)),
    }));
    const report = JSON.parse((await plan(["plan", "--live", "--json"], aws.deps())).out);
    expect(report.malformed).toMatchObject([
      {
        resourceId: "acme-partner-drop",
        reason: expect.stringMatching(/^InvalidConfigItemError: configuration is not valid JSON/),
      },
    ]);
    expect(report.itemsJudged).toBe((await snapshotPlan()).itemsJudged - 1);
  });
});

/** The types read without Config by a reader of Remedy's own: security groups (EC2) and buckets (S3). */
const readByItsOwnApi = (entry: { resourceType?: string }) =>
  entry.resourceType === SG || entry.resourceType === BUCKET;

/** The registered types a plan could not read at all without Config (no reader of their own), as it says. */
function unreadWithoutConfig(report: { notRead: { resourceType: string; resourceId?: string; reason: string }[] }) {
  return new Set(
    report.notRead
      .filter(
        (entry) => entry.resourceId === undefined && entry.reason === "Remedy cannot read this type without Config",
      )
      .map((entry) => entry.resourceType),
  );
}

describe("plan --live where Config does not record: read directly", () => {
  it.each([
    [
      "no recorder",
      async (aws: Account) =>
        aws.mocks.config
          .on(DescribeConfigurationRecordersCommand)
          .resolves(
            await fromWire(new DescribeConfigurationRecordersCommand({}), "describe-configuration-recorders.none"),
          ),
      "Config is not recording here: no configuration recorder",
    ],
    [
      "a stopped recorder",
      async (aws: Account) => {
        aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves(await recorders());
        const status = await recorderStatus();
        status.ConfigurationRecordersStatus![0]!.recording = false;
        aws.mocks.config.on(DescribeConfigurationRecorderStatusCommand).resolves(status);
      },
      "Config is not recording here: its configuration recorder is stopped",
    ],
    [
      "NoAvailableConfigurationRecorderException from ListDiscoveredResources",
      async (aws: Account) => {
        aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves(await recorders());
        aws.mocks.config.on(DescribeConfigurationRecorderStatusCommand).resolves(await recorderStatus());
        aws.mocks.config
          .on(ListDiscoveredResourcesCommand)
          .rejects(await wireError("no-available-configuration-recorder.error"));
      },
      "Config is not recording here: no configuration recorder",
    ],
  ])("%s: the example account read from EC2 and S3 judges as its snapshot", async (_, setUp, why) => {
    const aws = account();
    await setUp(aws);
    directAccount(aws);
    const run = await plan(["plan", "--live", "--json"], aws.deps());
    expect(run.code).toBe(0);
    const report = JSON.parse(run.out);
    expect(report.live.types.filter(readByItsOwnApi)).toEqual([
      { resourceType: SG, via: "direct", why },
      { resourceType: BUCKET, via: "direct", why },
    ]);
    // The recorded types with an inventory (RDS snapshots, the account's Block Public Access) are listed through it.
    expect(report.live.types).toEqual(
      expect.arrayContaining(LISTED_WITHOUT_CONFIG.map((resourceType) => ({ resourceType, via: "direct", why }))),
    );
    // A registered type with no reader of its own would not be read without Config, and said so: today none.
    const unread = unreadWithoutConfig(report);
    expect([...unread]).toEqual([]);
    expect(report.notRead.filter((entry: { resourceType: string }) => !unread.has(entry.resourceType))).toEqual([]);
    // The same findings as the snapshot for what was read; only when they were captured differs (when they were read).
    const offline = await snapshotPlan();
    const comparable = (findings: Record<string, unknown>[]) =>
      findings
        .filter((finding) => !unread.has(finding.resourceType as string))
        .map(({ instructionId, notBefore, ...rest }) => rest);
    expect(comparable(report.findings)).toEqual(comparable(offline.findings));
    expect(report.itemsRead).toBe(
      EXAMPLE.filter((item) => RESOURCE_TYPES.includes(item.resourceType) && !unread.has(item.resourceType)).length,
    );

    // Every bucket call names the account as the expected owner; the other region's bucket is never read.
    for (const command of [GetBucketAclCommand, GetBucketPolicyCommand, GetBucketTaggingCommand]) {
      for (const call of aws.mocks.s3.commandCalls(command as never)) {
        expect((call.args[0] as { input: { ExpectedBucketOwner?: string } }).input.ExpectedBucketOwner).toBe(ACCOUNT);
      }
    }
    expect(aws.mocks.s3).not.toHaveReceivedCommandWith(GetBucketAclCommand, { Bucket: "acme-us-archive" });
    expect(aws.mocks.s3).toHaveReceivedCommandWith(ListBucketsCommand, { BucketRegion: REGION, MaxBuckets: 1000 });
    expect(aws.mocks.s3).toHaveReceivedCommandWith(ListBucketsCommand, { ContinuationToken: "next" });
    expect(aws.mocks.ec2).toHaveReceivedCommandWith(DescribeSecurityGroupsCommand, { NextToken: "page-2" });
    // RDS: the manual snapshots, paged by Marker, each one's attributes; the account's flags from S3 Control.
    expect(aws.mocks.rds.commandCalls(DescribeDBSnapshotsCommand).map((call) => call.args[0].input)).toEqual([
      { SnapshotType: "manual" },
      { SnapshotType: "manual", Marker: "db-page-2" },
    ]);
    expect(aws.mocks.rds.commandCalls(DescribeDBClusterSnapshotsCommand).map((call) => call.args[0].input)).toEqual([
      { SnapshotType: "manual" },
    ]);
    expect(
      aws.mocks.rds
        .commandCalls(DescribeDBSnapshotAttributesCommand)
        .map((call) => call.args[0].input.DBSnapshotIdentifier)
        .sort(),
    ).toEqual(["acme-orders-for-analytics", "acme-orders-nightly-2026-11-19"]);
    expect(aws.mocks.rds).toHaveReceivedCommandWith(DescribeDBClusterSnapshotAttributesCommand, {
      DBClusterSnapshotIdentifier: "acme-ledger-pre-migration",
    });
    expect(aws.mocks.s3controlAtEndpoint).toHaveReceivedCommandWith(GetAccountPublicAccessBlockCommand, {
      AccountId: ACCOUNT,
    });
    expect(
      report.findings
        .filter((finding: { resourceType: string }) => LISTED_WITHOUT_CONFIG.includes(finding.resourceType))
        .map((finding: { resourceId: string; problem: string }) => [finding.resourceId, finding.problem]),
    ).toEqual([
      ["acme-orders-nightly-2026-11-19", "rds-snapshot-public"],
      ["acme-ledger-pre-migration", "rds-cluster-snapshot-public"],
      [ACCOUNT, "s3-account-public-access"],
      [ACCOUNT, "s3-account-public-access"],
    ]);
    expect(aws.sent().filter((name) => !READ_ONLY.test(name))).toEqual([]);

    const text = await plan(["plan", "--live"], aws.deps());
    expect(text.out).toContain(`\nlive: read directly in ${ACCOUNT} ${REGION} (${why}${NEVER_RECORDED})\n`);
    expect(text.out).toContain(
      `\nNote: Remedy's Config rules judge only what Config records; until it records ${listText(RESOURCE_TYPES.filter((type) => !listedByInventory(type)))}`,
    );
    expect(text.out).toContain(" here, Remedy neither reports nor fixes them.\n");
  });

  it("a type outside the recording group is read directly, the others through Config", async () => {
    const aws = account();
    await configRecordsAll(aws);
    const onlyGroups = await recorders();
    onlyGroups.ConfigurationRecorders![0]!.recordingGroup = {
      allSupported: false,
      resourceTypes: RESOURCE_TYPES.filter((type) => type !== BUCKET) as never,
      recordingStrategy: { useOnly: "INCLUSION_BY_RESOURCE_TYPES" },
    };
    aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves(onlyGroups);
    directAccount(aws);
    const text = await plan(["plan", "--live"], aws.deps());
    expect(text.out).toContain(`\nlive: AWS Config in ${ACCOUNT} ${REGION} for AWS::EC2::SecurityGroup, `);
    expect(text.out).toMatch(/; read directly for AWS::S3::Bucket\b.* \(Config is not recording AWS::S3::Bucket\b/);
    expect(aws.mocks.config).not.toHaveReceivedCommandWith(ListDiscoveredResourcesCommand, { resourceType: BUCKET });
    expect(aws.mocks.ec2).not.toHaveReceivedCommand(DescribeSecurityGroupsCommand);
    expect(aws.mocks.s3).toHaveReceivedCommand(ListBucketsCommand);
  });

  it("a bucket that cannot be read (access denied) is listed as not judged; the rest is judged; --strict exits 1", async () => {
    const aws = account();
    aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves({ ConfigurationRecorders: [] });
    directAccount(aws);
    aws.mocks.s3
      .on(GetBucketAclCommand, { Bucket: "acme-partner-drop" })
      .rejects(
        s3Error(
          "AccessDenied",
          403,
          "User: arn:aws:sts::111122223333:assumed-role/ops/alice is not authorized to perform: s3:GetBucketAcl",
        ),
      );
    const run = await plan(["plan", "--live"], aws.deps());
    expect(run.code).toBe(0);
    expect(run.err).toBe("");
    // Besides the types with no reader of their own (not read without Config), the one bucket.
    const report = JSON.parse((await plan(["plan", "--live", "--json"], aws.deps())).out);
    const unread = unreadWithoutConfig(report);
    expect(run.out).toContain(
      "\n  AWS::S3::Bucket acme-partner-drop: cannot be read: AccessDenied: User: arn:aws:sts::111122223333:assumed-role/ops/alice is not authorized to perform: s3:GetBucketAcl\n",
    );
    expect(report.notRead.filter((entry: { resourceType: string }) => !unread.has(entry.resourceType))).toEqual([
      expect.objectContaining({ resourceType: BUCKET, resourceId: "acme-partner-drop" }),
    ]);
    expect(run.out).toContain(
      `from ${EXAMPLE.filter(readByItsOwnApi).length - 1 + EXAMPLE_LISTED} configuration items`,
    );
    expect(run.out).toMatch(/acme-public-assets\s+s3-public-acl/);
    const strict = await plan(["plan", "--live", "--strict"], aws.deps());
    expect(strict.code).toBe(1);
    expect(strict.err).toMatch(/^remedy plan: --strict: \d+ resources? could not be read\n$/);
  });

  it("a listing that is denied is one not-read line for that type; the other type is still judged", async () => {
    const aws = account();
    aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves({ ConfigurationRecorders: [] });
    directAccount(aws);
    aws.mocks.ec2.on(DescribeSecurityGroupsCommand).rejects(
      Object.assign(new Error("You are not authorized to perform this operation."), {
        name: "UnauthorizedOperation",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const report = JSON.parse((await plan(["plan", "--live", "--json"], aws.deps())).out);
    const unread = unreadWithoutConfig(report);
    expect(report.notRead.filter((entry: { resourceType: string }) => !unread.has(entry.resourceType))).toEqual([
      {
        resourceType: SG,
        reason:
          "security groups cannot be listed: UnauthorizedOperation: You are not authorized to perform this operation.",
      },
    ]);
    // The buckets, and the types listed through their inventories.
    expect(report.itemsJudged).toBe(EXAMPLE.filter((item) => item.resourceType === BUCKET).length + EXAMPLE_LISTED);
  });

  it("a bucket listed without its region is located with GetBucketLocation (EU is eu-west-1)", async () => {
    const aws = account();
    aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves({ ConfigurationRecorders: [] });
    directAccount(aws, []);
    aws.mocks.s3
      .on(ListBucketsCommand)
      .resolves({ Buckets: [{ Name: "acme-public-assets" }, { Name: "acme-old-site" }] });
    aws.mocks.s3
      .on(GetBucketLocationCommand, { Bucket: "acme-public-assets" })
      .resolves({ LocationConstraint: "EU" })
      .on(GetBucketLocationCommand, { Bucket: "acme-old-site" })
      .resolves({});
    const report = JSON.parse((await plan(["plan", "--live", "--json"], aws.deps())).out);
    // The one bucket here, and the types listed through their inventories.
    expect(report.itemsRead).toBe(1 + EXAMPLE_LISTED);
    expect(report.findings.map((f: { resourceId: string }) => f.resourceId)).toContain("acme-public-assets");
    expect(aws.mocks.s3).not.toHaveReceivedCommandWith(GetBucketAclCommand, { Bucket: "acme-old-site" });
    expect(regionOfLocation(undefined)).toBe("us-east-1");
    expect(regionOfLocation("ap-south-1")).toBe("ap-south-1");
  });

  it("on a terminal, writes throttled reading progress to stderr; never in a pipe, never on stdout", async () => {
    const aws = account();
    aws.mocks.config.on(DescribeConfigurationRecordersCommand).resolves({ ConfigurationRecorders: [] });
    directAccount(aws);
    let clock = 0;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => (clock += 600));
    try {
      const tty = await plan(["plan", "--live", "--json"], aws.deps(), { interactive: true });
      expect(JSON.parse(tty.out).mode).toBe("live");
      const lines = tty.err.split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(3);
      for (const line of lines) expect(line).toMatch(/^remedy plan: (reading|listing|judging) [^\n]*…$/);
      expect(lines.some((line) => line.startsWith("remedy plan: reading buckets: "))).toBe(true);
      expect(lines.some((line) => line.startsWith("remedy plan: reading security groups: "))).toBe(true);
      const pipe = await plan(["plan", "--live", "--json"], aws.deps(), { interactive: false });
      expect(pipe.err).toBe("");
    } finally {
      spy.mockRestore();
    }
  });
});

describe("plan --live: the account's Block Public Access and the stack's schedule", () => {
  it("judges buckets with the account's flags from S3 Control; unreadable, it says so and uses the bucket's own", async () => {
    const aws = account();
    await configRecordsAll(aws);
    aws.mocks.s3control.on(GetAccountPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: { IgnorePublicAcls: true, BlockPublicAcls: true, BlockPublicPolicy: false },
    });
    const on = await plan(["plan", "--live"], aws.deps());
    expect(on.out).toContain("\naccount Block Public Access: BlockPublicAcls, IgnorePublicAcls on (S3 Control)\n");
    expect(on.out).not.toContain("s3-public-acl");
    expect(on.out).toContain("s3-public-policy");

    aws.mocks.s3control.on(GetAccountPublicAccessBlockCommand).rejects(
      new S3ControlServiceException({
        name: "AccessDenied",
        $fault: "client",
        $metadata: { httpStatusCode: 403 },
        message: "Access Denied",
      }),
    );
    const unknown = await plan(["plan", "--live"], aws.deps());
    expect(unknown.code).toBe(0);
    expect(unknown.out).toContain(
      "\naccount Block Public Access: unknown (S3 Control cannot be read: AccessDenied: Access Denied): buckets are judged with their own flags only\n",
    );
    expect(unknown.out).toContain("s3-public-acl");
    // The settings file's value stands in when S3 Control cannot be read.
    const dir = directory();
    writeFileSync(join(dir, "settings.json"), JSON.stringify({ accountPublicAccessBlock: { IgnorePublicAcls: true } }));
    const fromSettings = await plan(["plan", "--live", "--settings", "settings.json"], aws.deps({ INIT_CWD: dir }));
    expect(fromSettings.out).toContain(
      "\naccount Block Public Access: IgnorePublicAcls on (settings; S3 Control cannot be read: AccessDenied: Access Denied)\n",
    );
    expect(fromSettings.out).not.toContain("s3-public-acl");
  });

  function stackOutputs(dir: string, outputs: Record<string, string>) {
    writeFileSync(
      join(dir, "remedy-outputs.json"),
      JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([key, value]) => [key, { value }]))),
    );
  }

  it.each([
    ["ENABLED", "auto-response: on (schedule rule remedy-coordinator-schedule is ENABLED)", "next tick"],
    ["DISABLED", "auto-response: off (schedule rule remedy-coordinator-schedule is DISABLED)", "when enabled"],
  ])("with the stack known, auto-response is the schedule's real State: %s", async (state, line, when) => {
    const aws = account();
    await configRecordsAll(aws);
    aws.mocks.events
      .on(DescribeRuleCommand)
      .resolves({ Name: "remedy-coordinator-schedule", State: state as never, ScheduleExpression: "rate(1 minute)" });
    const dir = directory();
    stackOutputs(dir, { region: REGION, account_id: ACCOUNT, schedule_rule_name: "remedy-coordinator-schedule" });
    // The settings say the opposite: the live schedule wins.
    writeFileSync(join(dir, "settings.json"), JSON.stringify({ enableAutoResponse: state !== "ENABLED" }));
    const run = await plan(["plan", "--live", "--settings", "settings.json"], aws.deps({ INIT_CWD: dir }));
    expect(run.code).toBe(0);
    expect(run.out).toContain(`\n${line}\n`);
    expect(run.out).toMatch(new RegExp(`sg-0ba5710000000002 .* ${when} `));
    expect(aws.mocks.events).toHaveReceivedCommandWith(DescribeRuleCommand, { Name: "remedy-coordinator-schedule" });
  });

  it("with the stack's ledger known, what undo left as restored is shown as such, not as a would-be fix", async () => {
    const aws = account();
    await configRecordsAll(aws);
    const ledger = "remedy-ledger-111122223333";
    const resource = { accountId: ACCOUNT, region: REGION, type: SG, id: "sg-0ba5710000000002" };
    const ssh = {
      kind: "sg-rule" as const,
      rule: { direction: "ingress" as const, ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
    };
    const record = exemptionRecord([ssh], {
      resource,
      at: new Date("2026-11-23T10:00:00Z"),
      until: new Date("2026-11-24T10:00:00Z"),
    });
    const key = undoExemptionKey(resource);
    aws.mocks.s3
      .on(ListObjectsV2Command, { Bucket: ledger, Prefix: "exemptions/" })
      .resolves({ Contents: [{ Key: key }], IsTruncated: false })
      .on(GetObjectCommand, { Bucket: ledger, Key: key })
      .resolves({ Body: { transformToString: async () => JSON.stringify(record) } as never });
    const dir = directory();
    stackOutputs(dir, { region: REGION, account_id: ACCOUNT, ledger_bucket: ledger });
    const run = await plan(["plan", "--live"], aws.deps({ INIT_CWD: dir }));
    expect(run.code).toBe(0);
    expect(run.out).not.toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22/);
    expect(run.out).toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+tcp 22 from 0\.0\.0\.0\/0\s+undone by /);
    // Reading the ledger is the only extra: still read-only.
    expect(aws.sent().filter((name) => !READ_ONLY.test(name))).toEqual([]);

    // Unreadable: the plan says so and goes on.
    aws.mocks.s3.on(ListObjectsV2Command).rejects(s3Error("AccessDenied", 403, "Access Denied"));
    const denied = await plan(["plan", "--live"], aws.deps({ INIT_CWD: dir }));
    expect(denied.code).toBe(0);
    expect(denied.out).toContain("Left as restored by undo: unknown (AWS denied the request (AccessDenied)");
    expect(denied.out).toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22/);
  });

  it("with the stack's ledger known, an exemption granted in Slack is shown as an allowlist exemption", async () => {
    const aws = account();
    await configRecordsAll(aws);
    const ledger = "remedy-ledger-111122223333";
    const slack = {
      version: 1,
      entries: [
        {
          resource: "sg-0ba5710000000002",
          problems: ["sg-open-ingress"],
          reason: "vendor VPN cut-over",
          owner: "slack:U012ABCDEF",
          expires: "2026-11-30",
          decisionId: "dec-1",
          at: "2026-11-23T10:00:00.000Z",
        },
        {
          resource: "",
          problems: ["*"],
          reason: "x",
          owner: "slack:U012ABCDEF",
          expires: "2026-11-30",
          decisionId: "d",
          at: NOW,
        },
      ],
    };
    aws.mocks.s3
      .on(ListObjectsV2Command, { Bucket: ledger, Prefix: "exemptions/" })
      .resolves({ Contents: [], IsTruncated: false })
      .on(GetObjectCommand, { Bucket: ledger, Key: "allowlist/slack.json" })
      .resolves({ Body: { transformToString: async () => JSON.stringify(slack) } as never, ETag: '"1"' });
    const dir = directory();
    stackOutputs(dir, { region: REGION, account_id: ACCOUNT, ledger_bucket: ledger });
    const run = await plan(["plan", "--live"], aws.deps({ INIT_CWD: dir }));
    expect(run.code).toBe(0);
    expect(run.out).not.toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22/);
    expect(run.out).toMatch(
      /sg-0ba5710000000002\s+sg-open-ingress\s+.*allowlist \(Slack, owner slack:U012ABCDEF\) until 2026-11-30: vendor VPN/,
    );
    // The malformed entry exempts nothing and is named among the ignored allowlist entries.
    expect(run.out).toContain("allowlist/slack.json entries[1].resource: must not be empty");
    expect(aws.sent().filter((name) => !READ_ONLY.test(name))).toEqual([]);

    const json = await plan(["plan", "--live", "--json"], aws.deps({ INIT_CWD: dir }));
    expect(JSON.parse(json.out).findings).toContainEqual(
      expect.objectContaining({ resourceId: "sg-0ba5710000000002", status: "exempt", action: "none (exempt)" }),
    );

    // Unreadable: the plan says so and judges without it.
    aws.mocks.s3.on(GetObjectCommand).rejects(s3Error("AccessDenied", 403, "Access Denied"));
    const denied = await plan(["plan", "--live"], aws.deps({ INIT_CWD: dir }));
    expect(denied.code).toBe(0);
    expect(denied.out).toContain("Exemptions granted in Slack: unknown (AWS denied the request (AccessDenied)");
    expect(denied.out).toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22/);
  });

  it("a schedule rule that cannot be read falls back to the settings, and says why", async () => {
    const aws = account();
    await configRecordsAll(aws);
    aws.mocks.events.on(DescribeRuleCommand).rejects(
      new ResourceNotFoundException({
        $metadata: { httpStatusCode: 400 },
        message: "Rule remedy-tick does not exist on EventBus default.",
      }),
    );
    const run = await plan(["plan", "--live", "--schedule-rule", "remedy-tick"], aws.deps());
    expect(run.out).toContain(
      "\nauto-response: off (settings: enableAutoResponse is false; schedule rule remedy-tick cannot be read: ResourceNotFoundException: Rule remedy-tick does not exist on EventBus default.)\n",
    );
  });

  it("credentials for another account than the stack's are refused in one sentence, before anything is read", async () => {
    const aws = account();
    const dir = directory();
    stackOutputs(dir, { region: REGION, account_id: "999988887777", schedule_rule_name: "remedy-tick" });
    const run = await plan(["plan", "--live"], aws.deps({ INIT_CWD: dir }));
    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `remedy plan: these credentials are for account ${ACCOUNT} (arn:aws:sts::${ACCOUNT}:assumed-role/ops/alice), but Remedy's stack is in account 999988887777: use that account's credentials (--profile), or give the outputs of this account's stack (--outputs FILE).\n`,
    );
    expect(aws.sent()).toEqual([]);
  });

  it("--live with --snapshot, or a stack flag without --live, is a usage error", async () => {
    const aws = account();
    expect(await plan(["plan", "--live", "--snapshot", SNAPSHOT], aws.deps())).toEqual({
      code: 2,
      out: "",
      err: "remedy plan: give --snapshot FILE or --live, not both\n",
    });
    expect(await plan(["plan", "--region", "eu-west-1"], aws.deps())).toEqual({
      code: 2,
      out: "",
      err: "remedy plan: --region is for --live (an offline plan reads no stack)\n",
    });
  });
});

describe("live items have the shape of a snapshot's (one normaliser, both sources judged alike)", () => {
  const judge = (raw: unknown) => {
    const item = normalizeConfigItem(raw);
    const rule = RULES.find((candidate) => candidate.resourceTypes.includes(item.resourceType))!;
    const judgement = judgeItem(item, rule, rule.parseParameters({}), {
      allowlist: [],
      now: new Date(NOW),
      gracePeriodMs: 0,
    });
    return { compliance: judgement.compliance, findings: judgement.findings, tags: item.tags };
  };

  it("BatchGetResourceConfig items (JSON strings, Date capture times) normalise as the snapshot's items", async () => {
    for (const base of await batchItems()) {
      expect(base.configurationItemCaptureTime).toBeInstanceOf(Date);
      expect(typeof base.configuration).toBe("string");
      const snapshotItem = EXAMPLE.find((item) => item.resourceId === base.resourceId)!;
      const live = normalizeConfigItem(fromBaseConfigurationItem(base, snapshotItem.tags));
      // BatchGetResourceConfig never carries the relationships a snapshot lists.
      const { relationships: _relationships, ...snapshotWithoutRelationships } = normalizeConfigItem(snapshotItem);
      expect(live).toEqual(snapshotWithoutRelationships);
    }
  });

  it.each(EXAMPLE.filter((item) => item.resourceType === SG).map((item) => [item.resourceId, item]))(
    "DescribeSecurityGroups → item: %s",
    (_, item) => {
      const built = securityGroupItem(describedGroup(item), { accountId: ACCOUNT, region: REGION, now: new Date(NOW) });
      expect(judge(built)).toEqual(judge(item));
      expect(normalizeConfigItem(built).configuration).toEqual(normalizeConfigItem(item).configuration);
    },
  );

  it("DescribeSecurityGroups → item, for the group Cloud Custodian recorded in a Config rule event", () => {
    const peer = JSON.parse(
      readFileSync(new URL("../fixtures/live-plan/cloud-custodian-security-group.json", import.meta.url), "utf8"),
    );
    const recorded = peer.configurationItem;
    const built = securityGroupItem(describedGroup(recorded), {
      accountId: "123456789012",
      region: "eu-west-1",
      now: new Date(NOW),
    });
    expect(judge(built).findings).toEqual(judge(recorded).findings);
    expect(judge(built).compliance).toBe("NON_COMPLIANT");
  });

  it.each(EXAMPLE.filter((item) => item.resourceType === BUCKET).map((item) => [item.resourceId, item]))(
    "GetBucketAcl/Policy/PublicAccessBlock/OwnershipControls/Tagging → item: %s",
    (_, item) => {
      const built = bucketItem(
        { name: item.resourceId, region: REGION, creationDate: new Date(item.configuration.creationDate) },
        bucketState(item),
        item.tags,
        { accountId: ACCOUNT, now: new Date(NOW) },
      );
      expect(judge(built)).toEqual(judge(item));
    },
  );

  it("reads the recording group as Config documents it", () => {
    expect(recordsType(undefined, BUCKET)).toBe(true);
    expect(recordsType({ allSupported: true }, BUCKET)).toBe(true);
    expect(recordsType({ allSupported: false, resourceTypes: [SG] }, BUCKET)).toBe(false);
    expect(
      recordsType(
        {
          recordingStrategy: { useOnly: "EXCLUSION_BY_RESOURCE_TYPES" },
          exclusionByResourceTypes: { resourceTypes: [BUCKET] },
        },
        BUCKET,
      ),
    ).toBe(false);
    expect(
      recordsType(
        {
          recordingStrategy: { useOnly: "EXCLUSION_BY_RESOURCE_TYPES" },
          exclusionByResourceTypes: { resourceTypes: [BUCKET] },
        },
        SG,
      ),
    ).toBe(true);
  });
});
