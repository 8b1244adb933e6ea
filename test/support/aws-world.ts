// The one stateful stand-in for the AWS that Remedy talks to, behind aws-sdk-client-mock: security groups with their
// rules and tags; buckets with ACL, policy text, Block Public Access, ownership and tags; the ledger bucket's objects;
// and, when a deployment is given, the remediation queue and its DLQ, the report topic, SSM parameters and the
// account's Block Public Access (S3 Control). EC2 and S3 answer as the services do, once, here: their error codes,
// pages, what Revoke returns, ExpectedBucketOwner. Resources are added from the Config items the rules judge
// (detection and the live state agree) or given as they are.
//
// Every call is logged, numbered within its delivery (`run`); fault injection is off unless a test adds rules to
// `world.faults`: the first rule matching a call fails it with that fault instead of an answer (after applying it
// first, when the fault is a lost answer). The latest world created answers; a command it does not model fails
// loudly. The mocks are installed once per test file and restored by `world.restore()` (test/setup.ts restores
// whatever is left once the file is done).
import { AsyncLocalStorage } from "node:async_hooks";
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
  type ObjectOwnership,
  type PublicAccessBlockConfiguration,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { type LedgerRecord, ledgerKey } from "../../contract/ledger.ts";
import type { Report } from "../../contract/report.ts";
import { normalizeConfigItem } from "../../detection/config-item.ts";
import { aclGrantToApi, s3StateFromConfigItem } from "../../problems/s3-public/detect.ts";

// ---------------------------------------------------------------------------------------------------------------
// The model

export interface Group {
  /** The account that owns it (DescribeSecurityGroups' OwnerId). */
  ownerId: string;
  name?: string;
  tags: Record<string, string>;
  rules: SecurityGroupRule[];
}

export interface Bucket {
  /** The account that owns it: every bucket call must name it as ExpectedBucketOwner (as Remedy's calls all do). */
  accountId: string;
  acl: AccessControlPolicy;
  policy: string | null;
  publicAccessBlock: PublicAccessBlockConfiguration | null;
  /** null: no ownership controls (OwnershipControlsNotFoundError). BucketOwnerEnforced: ACLs disabled. */
  ownership: ObjectOwnership | null;
  tags: Record<string, string>;
}

/** Where a remediation function runs: the queue it deletes from, its DLQ, its topic, SSM parameters, S3 Control. */
export interface WorldDeployment {
  queueUrl: string;
  deadLetterQueueUrl: string;
  topicArn: string;
  /** SSM parameters by name (the pause switch's value is JSON text). */
  parameters: Record<string, string>;
  /** The account's Block Public Access (S3 Control); null: none configured. */
  accountPublicAccessBlock: PublicAccessBlockConfiguration | null;
}

export type Service = "EC2" | "S3" | "S3Control" | "SQS" | "SNS" | "SSM";

export interface AwsCall {
  /** The delivery it belongs to: the one it runs inside (world.inRun), else world.run. */
  run: number;
  /** Its position among the calls of its run, from 0. */
  index: number;
  service: Service;
  command: string;
  input: Record<string, unknown>;
  /** Whether it changes a security group or bucket (what a remediation means by its change). */
  change: boolean;
  /** The fault it failed with, if one was injected. */
  fault?: string;
}

/** A fault to inject: `make` builds what the caller gets; `applied`: the service applied the call, the answer was lost. */
export interface InjectedFault {
  name: string;
  applied: boolean;
  make(): Error;
}

export interface FaultRule<C extends AwsCall = AwsCall> {
  when(call: C): boolean;
  fault: InjectedFault;
}

/** A write that took effect. */
export interface Mutation {
  run: number;
  command: string;
  input: Record<string, unknown>;
  /** The caller got a success answer (false: applied, but the answer was lost to a fault). */
  confirmed: boolean;
  /** What changed, in words ("revoke sg-… sgr-…", "put-acl bucket", ...): one per rule for EC2, one per call for S3. */
  changes: string[];
}

export interface AwsWorldOptions<Note extends object> {
  /** The ledger bucket: the only bucket with objects (the functions write nothing else). */
  ledgerBucket: string;
  /** Model SQS, SNS, SSM and S3 Control too (the deployment's); otherwise those clients are not mocked. */
  deployment?: WorldDeployment;
  /** What else each call carries (e.g. the fault suite's role of a call), worked out when it arrives. */
  note?: (call: AwsCall) => Note;
  /** Told of each call when it arrives, before it is answered or faulted. */
  onCall?: (call: AwsCall & Note) => void;
}

/** An AWS SDK-shaped service error. */
export function awsError(name: string, status: number, message = `${name} (test)`): Error {
  return Object.assign(new Error(message), {
    name,
    Code: name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

/** Whether a call is the `index`th of delivery `run` (a fault rule's `when`). */
export const callAt =
  (run: number, index: number) =>
  (call: AwsCall): boolean =>
    call.run === run && call.index === index;

// ---------------------------------------------------------------------------------------------------------------
// The mocks: installed once per test file (re-stubbing every client for each of the fault suite's ~800 worlds was
// most of its time); each answers through the handlers of the latest world, by command class.

const CLIENTS = {
  EC2: EC2Client,
  S3: S3Client,
  S3Control: S3ControlClient,
  SQS: SQSClient,
  SNS: SNSClient,
  SSM: SSMClient,
} as const;

// biome-ignore lint/suspicious/noExplicitAny: a command's input, as the SDK gives it to send()
type Input = any;
type Handler = (input: Input) => Promise<unknown>;
interface Stub {
  send: { callsFake(fake: (command: { input: unknown }) => Promise<unknown>): void };
  calls(): unknown[];
  resetHistory(): void;
  restore(): void;
}

const stubs = new Map<Service, Stub>();
let answering = new Map<Service, Map<unknown, Handler>>();

function installed(service: Service): Stub {
  const prototype = CLIENTS[service].prototype as { send: unknown };
  let stub = stubs.get(service);
  // Installed again if something restored or replaced it since.
  if (!stub || prototype.send !== stub.send) {
    // (one client class stands for all six: mockClient's types take one service at a time)
    stub = mockClient(CLIENTS[service] as typeof EC2Client) as unknown as Stub;
    stub.send.callsFake(async (command) => {
      const handler = answering.get(service)?.get(command.constructor);
      if (!handler) throw new Error(`${service} ${command.constructor.name} is not modelled by the AWS world`);
      return handler(command.input);
    });
    stubs.set(service, stub);
  }
  return stub;
}

/** Restores every client the AWS world mocked. */
export function restoreAwsWorld(): void {
  for (const stub of stubs.values()) stub.restore();
  stubs.clear();
  answering = new Map();
}

const runContext = new AsyncLocalStorage<number>();

// ---------------------------------------------------------------------------------------------------------------
// The world

export function createAwsWorld<Note extends object = object>(options: AwsWorldOptions<Note>) {
  type Call = AwsCall & Note;
  const { ledgerBucket, deployment } = options;
  const services: Service[] = deployment ? ["EC2", "S3", "S3Control", "SQS", "SNS", "SSM"] : ["EC2", "S3"];
  for (const [service, stub] of stubs) {
    if (!services.includes(service)) {
      stub.restore();
      stubs.delete(service);
    }
  }
  const mocks = services.map(installed);
  for (const mock of mocks) mock.resetHistory();
  answering = new Map(services.map((service) => [service, new Map()]));

  const groups = new Map<string, Group>();
  const buckets = new Map<string, Bucket>();
  /** The ledger bucket's objects: key → body text (records under actions/, dispatch claims under claims/). */
  const ledger = new Map<string, string>();
  const queues = new Map<string, { sent: { run: number; input: Record<string, unknown> }[]; deleted: string[] }>(
    deployment
      ? [deployment.queueUrl, deployment.deadLetterQueueUrl].map((url) => [url, { sent: [], deleted: [] }])
      : [],
  );
  const mutations: Mutation[] = [];
  let nextRule = 1;
  /** A new rule id, as EC2 makes them. */
  const ruleId = () => `sgr-${(nextRule++).toString(16).padStart(17, "0")}`;

  const world = {
    groups,
    buckets,
    ledger,
    /** The deployment's queues by URL: what was sent to each, the receipt handles deleted from each. */
    queues,
    /** Reports published on the deployment's topic. */
    published: [] as { run: number; report: Report }[],
    /** Every write that took effect, in order. */
    mutations,
    /** Every change to a resource, in words, in order ("revoke sg-… sgr-…", "put-acl bucket", ...). */
    get changes(): string[] {
      return mutations.flatMap((mutation) => mutation.changes);
    },
    /** Every call, in order. */
    calls: [] as Call[],
    /** The delivery calls belong to outside world.inRun. */
    run: 0,
    /** Fault injection: the first rule whose `when` matches a call fails it. None by default. */
    faults: [] as FaultRule<Call>[],
    faultFired: false,
    /** Awaited before each call is answered (to interleave concurrent deliveries deterministically). */
    beforeCall: undefined as ((call: Call) => Promise<void>) | undefined,

    /** Runs `body` as delivery `run` (so deliveries can overlap in one world). */
    inRun<T>(run: number, body: () => Promise<T>): Promise<T> {
      return runContext.run(run, body);
    },
    callsOf(run: number): Call[] {
      return world.calls.filter((call) => call.run === run);
    },
    /** Commands the mocked clients received since the world was made (every one of them should be in `calls`). */
    mockedCalls(): number {
      return mocks.reduce((sum, mock) => sum + mock.calls().length, 0);
    },
    /** Ledger records (claims are not records). */
    records(): LedgerRecord[] {
      return [...ledger.entries()]
        .filter(([key]) => key.startsWith("actions/"))
        .map(([, text]) => JSON.parse(text) as LedgerRecord);
    },
    ledgerRecord(actionId: string): LedgerRecord | undefined {
      const text = ledger.get(ledgerKey(actionId));
      return text === undefined ? undefined : (JSON.parse(text) as LedgerRecord);
    },

    addGroup(id: string, group: Group): void {
      groups.set(id, structuredClone(group));
    },
    /** Adds a group exactly as a Config item describes it: one live ingress rule per CIDR entry. */
    addGroupFromItem(raw: object): void {
      const item = raw as SgConfigItem;
      const rules: SecurityGroupRule[] = [];
      for (const permission of item.configuration.ipPermissions) {
        const base = {
          GroupId: item.resourceId,
          GroupOwnerId: item.awsAccountId,
          IsEgress: false,
          IpProtocol: permission.ipProtocol,
          FromPort: permission.fromPort ?? -1,
          ToPort: permission.toPort ?? -1,
        };
        for (const range of permission.ipv4Ranges ?? []) {
          rules.push({ ...base, SecurityGroupRuleId: ruleId(), CidrIpv4: range.cidrIp, ...described(range) });
        }
        for (const range of permission.ipv6Ranges ?? []) {
          rules.push({ ...base, SecurityGroupRuleId: ruleId(), CidrIpv6: range.cidrIpv6, ...described(range) });
        }
      }
      groups.set(item.resourceId, { ownerId: item.awsAccountId, tags: { ...(item.tags ?? {}) }, rules });
    },
    addBucket(name: string, bucket: Bucket): void {
      buckets.set(name, structuredClone(bucket));
    },
    /** Adds a bucket exactly as a Config item describes it. */
    addBucketFromItem(raw: object): void {
      const item = raw as BucketConfigItem;
      const state = s3StateFromConfigItem(normalizeConfigItem(raw));
      buckets.set(state.bucket, {
        accountId: item.awsAccountId,
        acl: { Owner: { ID: state.ownerId }, Grants: state.grants.map(aclGrantToApi) },
        policy: item.supplementaryConfiguration.BucketPolicy?.policyText ?? null,
        publicAccessBlock: state.publicAccessBlock,
        ownership: state.aclsDisabled ? "BucketOwnerEnforced" : "BucketOwnerPreferred",
        tags: { ...(item.tags ?? {}) },
      });
    },
    restore: restoreAwsWorld,
  };

  const currentRun = () => runContext.getStore() ?? world.run;

  /**
   * How this world answers `Command` on `service`: each call is logged, maybe faulted, then answered by `effect`
   * (the service's behaviour: it may throw the service's own error; a write records what it changed with `changed`).
   */
  function on(
    service: Service,
    Command: abstract new (...args: never[]) => object,
    effect: (input: Input) => unknown,
    kind: "change" | "other" = "other",
  ): void {
    const command = Command.name.replace(/Command$/, "");
    answering.get(service)!.set(Command, async (input) => {
      const run = currentRun();
      const arrived: AwsCall = {
        run,
        index: world.calls.filter((each) => each.run === run).length,
        service,
        command,
        input,
        change: kind === "change",
      };
      const call = Object.assign(arrived, options.note?.(arrived)) as Call;
      world.calls.push(call);
      options.onCall?.(call);
      await world.beforeCall?.(call);
      const rule = world.faults.find((each) => each.when(call));
      if (!rule) return effect(input);
      call.fault = rule.fault.name;
      world.faultFired = true;
      if (rule.fault.applied) {
        const before = mutations.length;
        try {
          effect(input);
        } catch {
          // the service's own error is lost with the answer
        }
        for (const mutation of mutations.slice(before)) mutation.confirmed = false;
      }
      throw rule.fault.make();
    });
  }

  /** A command that changes a security group or bucket. */
  const onChange = (
    service: Service,
    Command: abstract new (...args: never[]) => object,
    effect: (input: Input) => unknown,
  ) => on(service, Command, effect, "change");

  function changed(command: string, input: Record<string, unknown>, changes: string[]): void {
    mutations.push({ run: currentRun(), command, input: structuredClone(input), confirmed: true, changes });
  }

  // EC2 -----------------------------------------------------------------------------------------------------------
  const group = (id: string): Group => {
    const found = groups.get(id);
    if (!found) throw awsError("InvalidGroup.NotFound", 400, `The security group '${id}' does not exist`);
    return found;
  };

  on("EC2", DescribeSecurityGroupsCommand, (input) => {
    const ids: string[] | undefined = input.GroupIds;
    if (!ids?.length) throw new Error("DescribeSecurityGroups without GroupIds is not modelled by the AWS world");
    return {
      SecurityGroups: ids.map((id) => {
        const found = group(id);
        return {
          GroupId: id,
          ...(found.name ? { GroupName: found.name } : {}),
          OwnerId: found.ownerId,
          Tags: Object.entries(found.tags).map(([Key, Value]) => ({ Key, Value })),
        };
      }),
    };
  });
  on("EC2", DescribeSecurityGroupRulesCommand, (input) => {
    let rules = [...groups.values()].flatMap((each) => each.rules);
    for (const filter of (input.Filters ?? []) as { Name: string; Values: string[] }[]) {
      if (filter.Name !== "group-id") throw new Error(`filter ${filter.Name} is not modelled by the AWS world`);
      rules = rules.filter((rule) => filter.Values.includes(rule.GroupId!));
    }
    if (input.SecurityGroupRuleIds) {
      rules = rules.filter((rule) => input.SecurityGroupRuleIds.includes(rule.SecurityGroupRuleId));
    }
    const { items, next } = page(rules, input.MaxResults ?? 1000, input.NextToken);
    return { SecurityGroupRules: structuredClone(items), ...(next ? { NextToken: next } : {}) };
  });
  onChange("EC2", RevokeSecurityGroupIngressCommand, (input) => {
    const target = group(input.GroupId);
    const ids: string[] | undefined = input.SecurityGroupRuleIds;
    if (!ids) throw new Error("RevokeSecurityGroupIngress by IpPermissions is not modelled by the AWS world");
    // All or nothing: an id that is not an ingress rule of the group fails the whole call.
    const unknown = ids.filter((id) => !target.rules.some((rule) => rule.SecurityGroupRuleId === id && !rule.IsEgress));
    if (unknown.length > 0) {
      throw awsError("InvalidSecurityGroupRuleId.NotFound", 400, `unknown rules ${unknown.join(",")}`);
    }
    target.rules = target.rules.filter((rule) => !ids.includes(rule.SecurityGroupRuleId!));
    changed(
      "RevokeSecurityGroupIngress",
      input,
      ids.map((id) => `revoke ${input.GroupId} ${id}`),
    );
    return { Return: true, RevokedSecurityGroupRules: ids.map((id) => ({ SecurityGroupRuleId: id })) };
  });
  onChange("EC2", AuthorizeSecurityGroupIngressCommand, (input) => {
    const target = group(input.GroupId);
    const added: SecurityGroupRule[] = [];
    for (const permission of input.IpPermissions ?? []) {
      const base = {
        GroupId: input.GroupId,
        GroupOwnerId: target.ownerId,
        IsEgress: false,
        IpProtocol: permission.IpProtocol,
        FromPort: permission.FromPort,
        ToPort: permission.ToPort,
      };
      for (const range of permission.IpRanges ?? []) {
        added.push({ ...base, SecurityGroupRuleId: ruleId(), CidrIpv4: range.CidrIp, ...described(range) });
      }
      for (const range of permission.Ipv6Ranges ?? []) {
        added.push({ ...base, SecurityGroupRuleId: ruleId(), CidrIpv6: range.CidrIpv6, ...described(range) });
      }
    }
    target.rules.push(...added);
    changed(
      "AuthorizeSecurityGroupIngress",
      input,
      added.map((rule) => `authorize ${input.GroupId} ${rule.CidrIpv4 ?? rule.CidrIpv6} ${rule.FromPort}`),
    );
    return { Return: true, SecurityGroupRules: structuredClone(added) };
  });

  // S3: the buckets -------------------------------------------------------------------------------------------------
  const bucket = (input: { Bucket?: string; ExpectedBucketOwner?: string }): Bucket => {
    const found = buckets.get(input.Bucket ?? "");
    if (!found) throw awsError("NoSuchBucket", 404, "The specified bucket does not exist");
    if (input.ExpectedBucketOwner !== found.accountId) {
      throw awsError("AccessDenied", 403, `ExpectedBucketOwner ${input.ExpectedBucketOwner} is not the owner`);
    }
    return found;
  };

  on("S3", GetBucketTaggingCommand, (input) => {
    const tags = Object.entries(bucket(input).tags);
    if (tags.length === 0) throw awsError("NoSuchTagSet", 404, "The TagSet does not exist");
    return { TagSet: tags.map(([Key, Value]) => ({ Key, Value })) };
  });
  on("S3", GetBucketOwnershipControlsCommand, (input) => {
    const ownership = bucket(input).ownership;
    if (ownership === null) {
      throw awsError("OwnershipControlsNotFoundError", 404, "The bucket ownership controls were not found");
    }
    return { OwnershipControls: { Rules: [{ ObjectOwnership: ownership }] } };
  });
  on("S3", GetBucketAclCommand, (input) => structuredClone(bucket(input).acl));
  onChange("S3", PutBucketAclCommand, (input) => {
    const target = bucket(input);
    if (target.ownership === "BucketOwnerEnforced") {
      throw awsError("AccessControlListNotSupported", 400, "The bucket does not allow ACLs");
    }
    const { Owner, Grants } = structuredClone(input.AccessControlPolicy as AccessControlPolicy);
    target.acl = { Owner, Grants };
    changed("PutBucketAcl", input, [`put-acl ${input.Bucket}`]);
    return {};
  });
  on("S3", GetBucketPolicyCommand, (input) => {
    const policy = bucket(input).policy;
    if (policy === null) throw awsError("NoSuchBucketPolicy", 404, "The bucket policy does not exist");
    return { Policy: policy };
  });
  onChange("S3", PutBucketPolicyCommand, (input) => {
    bucket(input).policy = String(input.Policy);
    changed("PutBucketPolicy", input, [`put-policy ${input.Bucket}`]);
    return {};
  });
  onChange("S3", DeleteBucketPolicyCommand, (input) => {
    bucket(input).policy = null;
    changed("DeleteBucketPolicy", input, [`delete-policy ${input.Bucket}`]);
    return {};
  });
  on("S3", GetPublicAccessBlockCommand, (input) => {
    const block = bucket(input).publicAccessBlock;
    if (block === null) {
      throw awsError(
        "NoSuchPublicAccessBlockConfiguration",
        404,
        "The public access block configuration was not found",
      );
    }
    return { PublicAccessBlockConfiguration: structuredClone(block) };
  });
  onChange("S3", PutPublicAccessBlockCommand, (input) => {
    bucket(input).publicAccessBlock = structuredClone(input.PublicAccessBlockConfiguration);
    changed("PutPublicAccessBlock", input, [`put-public-access-block ${input.Bucket}`]);
    return {};
  });
  onChange("S3", DeletePublicAccessBlockCommand, (input) => {
    bucket(input).publicAccessBlock = null;
    changed("DeletePublicAccessBlock", input, [`delete-public-access-block ${input.Bucket}`]);
    return {};
  });

  // S3: the ledger bucket -------------------------------------------------------------------------------------------
  const ledgerObjects = (input: { Bucket?: string }) => {
    if (input.Bucket !== ledgerBucket) throw awsError("AccessDenied", 403, "not the ledger bucket");
    return ledger;
  };
  on("S3", PutObjectCommand, (input) => {
    const objects = ledgerObjects(input);
    // Put-if-absent, as S3 answers a conditional write (If-None-Match: *) on an existing key.
    if (input.IfNoneMatch === "*" && objects.has(input.Key)) {
      throw awsError("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
    }
    objects.set(input.Key, String(input.Body));
    return { ETag: `"${objects.size}"` };
  });
  on("S3", GetObjectCommand, (input) => {
    const text = ledgerObjects(input).get(input.Key);
    if (text === undefined) throw awsError("NoSuchKey", 404, "The specified key does not exist.");
    return { Body: { transformToString: async () => text } };
  });
  on("S3", ListObjectsV2Command, (input) => {
    const keys = [...ledgerObjects(input).keys()].filter((key) => key.startsWith(input.Prefix ?? "")).sort();
    const { items, next } = page(keys, input.MaxKeys ?? 1000, input.ContinuationToken);
    return {
      ...(items.length > 0 ? { Contents: items.map((Key) => ({ Key })) } : {}),
      KeyCount: items.length,
      IsTruncated: next !== undefined,
      ...(next ? { NextContinuationToken: next } : {}),
    };
  });

  if (!deployment) return world;

  // SQS: the remediation queue and its DLQ --------------------------------------------------------------------------
  const queue = (url: string) => {
    const found = queues.get(url);
    if (!found) throw awsError("AWS.SimpleQueueService.NonExistentQueue", 400, "The specified queue does not exist");
    return found;
  };
  on("SQS", DeleteMessageCommand, (input) => {
    queue(input.QueueUrl).deleted.push(String(input.ReceiptHandle));
    return {};
  });
  on("SQS", SendMessageCommand, (input) => {
    const sent = queue(input.QueueUrl).sent;
    sent.push({ run: currentRun(), input: structuredClone(input) });
    return { MessageId: `message-${sent.length}` };
  });

  // SNS: the report topic -------------------------------------------------------------------------------------------
  on("SNS", PublishCommand, (input) => {
    if (input.TopicArn !== deployment.topicArn) throw awsError("NotFound", 404, "Topic does not exist");
    world.published.push({ run: currentRun(), report: JSON.parse(String(input.Message)) as Report });
    return { MessageId: `sns-${world.published.length}` };
  });

  // SSM: the parameters (the pause switch) ------------------------------------------------------------------------
  on("SSM", GetParameterCommand, (input) => {
    const value = deployment.parameters[input.Name];
    if (value === undefined) throw awsError("ParameterNotFound", 400, `parameter ${input.Name} not found`);
    return { Parameter: { Name: input.Name, Type: "String", Value: value } };
  });

  // S3 Control: the account's Block Public Access -------------------------------------------------------------------
  on("S3Control", GetAccountPublicAccessBlockCommand, () => {
    const block = deployment.accountPublicAccessBlock;
    if (block === null) {
      throw awsError(
        "NoSuchPublicAccessBlockConfiguration",
        404,
        "The public access block configuration was not found",
      );
    }
    return { PublicAccessBlockConfiguration: structuredClone(block) };
  });

  return world;
}

export type AwsWorld<Note extends object = object> = ReturnType<typeof createAwsWorld<Note>>;

// ---------------------------------------------------------------------------------------------------------------

/** One page of `items` from the position `token` names (tokens are positions, as opaque to callers as AWS's). */
function page<T>(items: T[], size: number, token: string | undefined): { items: T[]; next?: string } {
  const start = token ? Number(token) : 0;
  const end = start + size;
  return { items: items.slice(start, end), ...(end < items.length ? { next: String(end) } : {}) };
}

const described = (range: { description?: string; Description?: string }) => {
  const text = range.description ?? range.Description;
  return text ? { Description: text } : {};
};

/** The parts of a security group's Config item the world reads. */
interface SgConfigItem {
  resourceId: string;
  awsAccountId: string;
  tags?: Record<string, string>;
  configuration: {
    ipPermissions: {
      ipProtocol: string;
      fromPort?: number;
      toPort?: number;
      ipv4Ranges?: { cidrIp: string; description?: string }[];
      ipv6Ranges?: { cidrIpv6: string; description?: string }[];
    }[];
  };
}

/** The parts of a bucket's Config item the world reads besides what s3StateFromConfigItem does. */
interface BucketConfigItem {
  awsAccountId: string;
  tags?: Record<string, string>;
  supplementaryConfiguration: { BucketPolicy?: { policyText?: string | null } };
}
