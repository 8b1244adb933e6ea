// A stateful fake of everything a remediation function talks to (EC2 security group, S3 bucket, the S3 ledger
// bucket, the SQS remediation queue and its DLQ, the SNS report topic) behind aws-sdk-client-mock, with a fault
// injector: every AWS call is numbered in the order it is sent, and the call at `fault.at` fails with the given
// fault instead of answering. The fake keeps live state across runs, so a redelivery sees what the first run did.

import { AsyncLocalStorage } from "node:async_hooks";
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import {
  DeleteBucketPolicyCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
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
import { accountFactsReader } from "../../shared/account-facts.ts";
import { type LedgerRecord, ledgerKey, s3Ledger } from "../../shared/ledger.ts";
import { readPauseState } from "../../shared/pause.ts";
import { type Report, snsReporter } from "../../shared/report.ts";
import {
  ACCOUNT,
  awsError,
  BUCKET,
  DLQ_URL,
  deployedDeps,
  GRANTS,
  GROUP_ID,
  OWNER,
  QUEUE_URL,
  RUNNING,
  SG_RULES,
  T0,
} from "../remediation/support.ts";

export const LEDGER_BUCKET = "remedy-ledger-123456789012";
export const TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:remedy-reports";
export const PAUSE_PARAMETER = "/remedy/paused";
export const REGION_CONFIG = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };

// ---------------------------------------------------------------------------------------------------------------
// Faults

export interface Fault {
  /** Label for test names. */
  name: string;
  /** What the runner must make of it (shared/aws-errors.ts). */
  expected: "transient" | "permanent";
  /** The server applied the request, then the response was lost (a client-side timeout after sending). */
  applied: boolean;
  make(): Error;
}

function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Every fault kind injected at every call position (deterministic: no randomness anywhere). */
export const FAULTS: readonly Fault[] = [
  {
    name: "ThrottlingException",
    expected: "transient",
    applied: false,
    make: () => awsError("ThrottlingException", 400),
  },
  { name: "SlowDown", expected: "transient", applied: false, make: () => awsError("SlowDown", 503) },
  {
    name: "503 ServiceUnavailable",
    expected: "transient",
    applied: false,
    make: () => awsError("ServiceUnavailable", 503),
  },
  { name: "500 InternalError", expected: "transient", applied: false, make: () => awsError("InternalError", 500) },
  {
    // The SDK's request timeout: the request reached the service and took effect; only the answer was lost.
    name: "TimeoutError (applied, response lost)",
    expected: "transient",
    applied: true,
    make: () => Object.assign(new Error("Connection timed out after 3000 ms"), { name: "TimeoutError" }),
  },
  {
    name: "ECONNRESET",
    expected: "transient",
    applied: false,
    make: () => networkError("ECONNRESET", "socket hang up"),
  },
  { name: "AccessDenied", expected: "permanent", applied: false, make: () => awsError("AccessDenied", 403) },
  {
    name: "UnauthorizedOperation",
    expected: "permanent",
    applied: false,
    make: () => awsError("UnauthorizedOperation", 403),
  },
];

// ---------------------------------------------------------------------------------------------------------------
// The world

export type Role =
  | "claim"
  | "read"
  | "facts"
  | "pause"
  | "ledger-pending"
  | "change"
  | "ledger-fixed"
  | "delete"
  | "publish"
  | "other";

export interface Call {
  run: number;
  index: number;
  service: "EC2" | "S3" | "S3Control" | "SQS" | "SNS" | "SSM";
  command: string;
  /** e.g. "ledger pending", "dlq", "report fixed". */
  detail: string;
  role: Role;
  input: Record<string, unknown>;
  fault?: string;
}

export interface Mutation {
  run: number;
  command: string;
  input: Record<string, unknown>;
  /** The caller got a success answer (false: applied, but the answer was lost to a fault). */
  confirmed: boolean;
}

/** What was true at the moment a DeleteMessage for the remediation queue was sent. */
export interface DeleteCheck {
  run: number;
  actionId: string;
  record: LedgerRecord | undefined;
  confirmedChanges: number;
  changes: number;
  dlqSent: boolean;
}

export interface Bucket {
  tags: { Key: string; Value: string }[];
  acl: { Owner: typeof OWNER; Grants: unknown[] };
  policy: string | null;
  block: Record<string, boolean> | null;
}

export interface WorldOptions {
  policy?: string | null;
}

const ec2Mock = mockClient(EC2Client);
const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
const snsMock = mockClient(SNSClient);
const ssmMock = mockClient(SSMClient);
const s3ControlMock = mockClient(S3ControlClient);
const MOCKS = [ec2Mock, s3Mock, sqsMock, snsMock, ssmMock, s3ControlMock] as const;
type Mock = (typeof MOCKS)[number];

// Each mocked client answers through the handlers of the current world, looked up by command class. They are
// installed once: re-stubbing six clients with ~25 `on(Command)` matchers for every world (one per case, ~800 cases)
// was most of this suite's time, and matching each call against those matchers most of the rest. A command with no
// handler in the current world fails loudly (it would escape the fault table).
// biome-ignore lint/suspicious/noExplicitAny: a command's input, as aws-sdk-client-mock's callsFake gives it
type Handler = (input: any) => unknown;
let answering = new Map<Mock, Map<unknown, Handler>>();
for (const mock of MOCKS) {
  (mock.send as unknown as { callsFake(fake: (command: object) => Promise<unknown>): void }).callsFake(
    async (command) => {
      const handler = answering.get(mock)?.get(command.constructor);
      if (!handler) throw new Error("command not modelled by the fault world");
      return handler((command as { input: unknown }).input);
    },
  );
}

/** SDK clients for the runs: one each (the mocks replace their send(); a client per delivery only cost time). */
export const CLIENTS = {
  ec2: new EC2Client(REGION_CONFIG),
  s3: new S3Client(REGION_CONFIG),
  sqs: new SQSClient(REGION_CONFIG),
  sns: new SNSClient(REGION_CONFIG),
  ssm: new SSMClient(REGION_CONFIG),
  s3control: new S3ControlClient(REGION_CONFIG),
};

export function restoreMocks(): void {
  ec2Mock.restore();
  s3Mock.restore();
  sqsMock.restore();
  snsMock.restore();
  ssmMock.restore();
  s3ControlMock.restore();
}

/** Total number of commands the mocks received (to prove every one went through the world). */
export function mockedCallCount(): number {
  return (
    ec2Mock.calls().length +
    s3Mock.calls().length +
    sqsMock.calls().length +
    snsMock.calls().length +
    ssmMock.calls().length +
    s3ControlMock.calls().length
  );
}

const MUTATING = new Set([
  "RevokeSecurityGroupIngress",
  "PutBucketAcl",
  "PutBucketPolicy",
  "DeleteBucketPolicy",
  "PutPublicAccessBlock",
]);

const runContext = new AsyncLocalStorage<number>();

/** Runs `body` as delivery `run` (so deliveries can overlap in one world). */
export function inRun<T>(run: number, body: () => Promise<T>): Promise<T> {
  return runContext.run(run, body);
}

export function actionIdFor(run: number): string {
  return `act-20261120T102819Z-${run.toString(16).padStart(8, "0")}`;
}

/** Resets the mocks and installs a fresh world (the live group and bucket as in test/remediation/support.ts). */
export function createWorld(options: WorldOptions = {}) {
  for (const mock of MOCKS) mock.resetHistory();
  answering = new Map(MOCKS.map((mock) => [mock, new Map()]));
  /** How this world answers `command` on `mock`. */
  const on = (mock: Mock, command: abstract new (...args: never[]) => object, handler: Handler) => {
    answering.get(mock)!.set(command, handler);
  };

  const sgRules = new Map<string, SecurityGroupRule>(
    SG_RULES.map((rule) => [rule.SecurityGroupRuleId!, structuredClone(rule)]),
  );
  const bucket: Bucket = {
    tags: [{ Key: "team", Value: "data" }],
    acl: { Owner: { ...OWNER }, Grants: structuredClone(GRANTS) },
    policy: options.policy === undefined ? null : options.policy,
    block: null,
  };
  const ledger = new Map<string, LedgerRecord>();
  /** Dispatch claims (claims/<messageId>-<attempt>.json): not ledger records. */
  const claims = new Set<string>();
  const world = {
    sgRules,
    bucket,
    ledger,
    /** Every call of every run, in order. */
    calls: [] as Call[],
    mutations: [] as Mutation[],
    /** Rule ids that a RevokeSecurityGroupIngress actually removed. */
    revokedIds: [] as string[],
    deleteChecks: [] as DeleteCheck[],
    dlq: [] as { run: number; input: Record<string, unknown> }[],
    published: [] as { run: number; report: Report }[],
    /** Receipt handles deleted from the remediation queue. */
    deletedHandles: [] as string[],
    run: 0,
    fault: undefined as { run: number; at: number; fault: Fault } | undefined,
    /** A second fault, by what the call is (e.g. the DLQ SendMessage that follows a permanent failure). */
    alsoFail: undefined as { when: (call: Call) => boolean; fault: Fault } | undefined,
    faultFired: false,
    /** Awaited before each call is answered (to interleave concurrent deliveries deterministically). */
    beforeCall: undefined as ((call: Call) => Promise<void>) | undefined,
    ledgerRecord(actionId: string): LedgerRecord | undefined {
      return ledger.get(ledgerKey(actionId));
    },
    callsOf(run: number): Call[] {
      return world.calls.filter((call) => call.run === run);
    },
  };

  /** The delivery a call belongs to: the one it runs inside (inRun), else world.run. */
  const currentRun = () => runContext.getStore() ?? world.run;

  function classify(service: Call["service"], command: string, input: Record<string, unknown>) {
    if (service === "S3" && command === "PutObject" && String(input.Key).startsWith("claims/")) {
      return { detail: "claim", role: "claim" as Role };
    }
    if (service === "S3" && command === "PutObject") {
      const outcome = (JSON.parse(String(input.Body)) as LedgerRecord).outcome;
      const role: Role = outcome === "pending" ? "ledger-pending" : outcome === "fixed" ? "ledger-fixed" : "other";
      return { detail: `ledger ${outcome}`, role };
    }
    if (MUTATING.has(command)) return { detail: "change", role: "change" as Role };
    if (service === "SQS") {
      if (input.QueueUrl === DLQ_URL) return { detail: "dlq", role: "other" as Role };
      return { detail: "queue", role: command === "DeleteMessage" ? ("delete" as Role) : ("other" as Role) };
    }
    if (service === "SSM") return { detail: "pause switch", role: "pause" as Role };
    if (service === "S3Control") return { detail: "account Block Public Access", role: "facts" as Role };
    if (service === "SNS") {
      const kind = (JSON.parse(String(input.Message)) as Report).kind;
      return { detail: `report ${kind}`, role: kind === "fixed" ? ("publish" as Role) : ("other" as Role) };
    }
    return { detail: "read", role: "read" as Role };
  }

  /** One AWS call: numbered, maybe faulted; `effect` is the service's behaviour (it may throw a real error). */
  async function call<T>(
    service: Call["service"],
    command: string,
    input: Record<string, unknown>,
    effect: () => T,
  ): Promise<T> {
    const index = world.calls.filter((each) => each.run === currentRun()).length;
    const entry: Call = { run: currentRun(), index, service, command, input, ...classify(service, command, input) };
    world.calls.push(entry);
    await world.beforeCall?.(entry);
    const fault =
      world.fault && world.fault.run === currentRun() && world.fault.at === index
        ? world.fault
        : world.alsoFail?.when(entry)
          ? world.alsoFail
          : undefined;
    if (fault) {
      entry.fault = fault.fault.name;
      world.faultFired = true;
      if (fault.fault.applied) {
        try {
          effect();
        } catch {
          // the service's own error is lost with the answer
        }
        const last = world.mutations.at(-1);
        if (MUTATING.has(command) && last && last.run === currentRun() && last.command === command)
          last.confirmed = false;
      }
      throw fault.fault.make();
    }
    return effect();
  }

  function mutate(command: string, input: Record<string, unknown>): void {
    world.mutations.push({ run: currentRun(), command, input: structuredClone(input), confirmed: true });
  }

  function assertTarget(input: { Bucket?: string; ExpectedBucketOwner?: string }): void {
    if (input.Bucket !== BUCKET) throw awsError("NoSuchBucket", 404);
    if (input.ExpectedBucketOwner !== ACCOUNT) throw awsError("AccessDenied", 403, "wrong ExpectedBucketOwner");
  }

  // EC2 ---------------------------------------------------------------------------------------------------------
  on(ec2Mock, DescribeSecurityGroupsCommand, (input) =>
    call("EC2", "DescribeSecurityGroups", input, () => {
      if (!input.GroupIds?.includes(GROUP_ID)) throw awsError("InvalidGroup.NotFound", 400);
      return { SecurityGroups: [{ GroupId: GROUP_ID, GroupName: "web", Tags: [] }] };
    }),
  );
  on(ec2Mock, DescribeSecurityGroupRulesCommand, (input) =>
    call("EC2", "DescribeSecurityGroupRules", input, () => ({
      SecurityGroupRules: [...sgRules.values()]
        .filter((rule) => input.Filters?.[0]?.Values?.includes(rule.GroupId))
        .map((rule) => structuredClone(rule)),
    })),
  );
  on(ec2Mock, RevokeSecurityGroupIngressCommand, (input) =>
    call("EC2", "RevokeSecurityGroupIngress", input, () => {
      const ids: string[] = input.SecurityGroupRuleIds ?? [];
      // EC2 revokes all or nothing: an unknown id fails the whole call.
      for (const id of ids) {
        if (!sgRules.has(id) || sgRules.get(id)!.IsEgress) throw awsError("InvalidSecurityGroupRuleId.NotFound", 400);
      }
      for (const id of ids) {
        sgRules.delete(id);
        world.revokedIds.push(id);
      }
      mutate("RevokeSecurityGroupIngress", input);
      return { Return: true, RevokedSecurityGroupRules: ids.map((id) => ({ SecurityGroupRuleId: id })) };
    }),
  );

  // S3: the bucket ----------------------------------------------------------------------------------------------
  on(s3Mock, GetBucketTaggingCommand, (input) =>
    call("S3", "GetBucketTagging", input, () => {
      assertTarget(input);
      if (bucket.tags.length === 0) throw awsError("NoSuchTagSet", 404);
      return { TagSet: structuredClone(bucket.tags) };
    }),
  );
  on(s3Mock, GetBucketOwnershipControlsCommand, (input) =>
    call("S3", "GetBucketOwnershipControls", input, () => {
      assertTarget(input);
      throw awsError("OwnershipControlsNotFoundError", 404);
    }),
  );
  on(s3Mock, GetBucketAclCommand, (input) =>
    call("S3", "GetBucketAcl", input, () => {
      assertTarget(input);
      return structuredClone(bucket.acl);
    }),
  );
  on(s3Mock, GetBucketPolicyCommand, (input) =>
    call("S3", "GetBucketPolicy", input, () => {
      assertTarget(input);
      if (bucket.policy === null) throw awsError("NoSuchBucketPolicy", 404);
      return { Policy: bucket.policy };
    }),
  );
  on(s3Mock, GetPublicAccessBlockCommand, (input) =>
    call("S3", "GetPublicAccessBlock", input, () => {
      assertTarget(input);
      if (bucket.block === null) throw awsError("NoSuchPublicAccessBlockConfiguration", 404);
      return { PublicAccessBlockConfiguration: { ...bucket.block } };
    }),
  );
  on(s3Mock, PutBucketAclCommand, (input) =>
    call("S3", "PutBucketAcl", input, () => {
      assertTarget(input);
      const policy = structuredClone(input.AccessControlPolicy) as Bucket["acl"];
      bucket.acl = { Owner: policy.Owner, Grants: policy.Grants };
      mutate("PutBucketAcl", input);
      return {};
    }),
  );
  on(s3Mock, PutBucketPolicyCommand, (input) =>
    call("S3", "PutBucketPolicy", input, () => {
      assertTarget(input);
      bucket.policy = String(input.Policy);
      mutate("PutBucketPolicy", input);
      return {};
    }),
  );
  on(s3Mock, DeleteBucketPolicyCommand, (input) =>
    call("S3", "DeleteBucketPolicy", input, () => {
      assertTarget(input);
      bucket.policy = null;
      mutate("DeleteBucketPolicy", input);
      return {};
    }),
  );
  on(s3Mock, PutPublicAccessBlockCommand, (input) =>
    call("S3", "PutPublicAccessBlock", input, () => {
      assertTarget(input);
      bucket.block = { ...input.PublicAccessBlockConfiguration };
      mutate("PutPublicAccessBlock", input);
      return {};
    }),
  );

  // S3: the ledger bucket ---------------------------------------------------------------------------------------
  on(s3Mock, PutObjectCommand, (input) =>
    call("S3", "PutObject", input, () => {
      if (input.Bucket !== LEDGER_BUCKET) throw awsError("AccessDenied", 403, "not the ledger bucket");
      if (String(input.Key).startsWith("claims/")) {
        // Put-if-absent, as S3 answers a conditional write (If-None-Match: *) on an existing key.
        if (input.IfNoneMatch === "*" && claims.has(String(input.Key))) {
          throw awsError("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold");
        }
        claims.add(String(input.Key));
        return { ETag: `"claim-${claims.size}"` };
      }
      const record = JSON.parse(String(input.Body)) as LedgerRecord;
      ledger.set(String(input.Key), record);
      return { ETag: `"${ledger.size}"` };
    }),
  );

  // SQS ---------------------------------------------------------------------------------------------------------
  on(sqsMock, DeleteMessageCommand, (input) => {
    if (input.QueueUrl === QUEUE_URL) {
      const actionId = actionIdFor(currentRun());
      const changes = world.mutations.filter((mutation) => mutation.run === currentRun());
      world.deleteChecks.push({
        run: currentRun(),
        actionId,
        record: world.ledgerRecord(actionId),
        changes: changes.length,
        confirmedChanges: changes.filter((mutation) => mutation.confirmed).length,
        dlqSent: world.dlq.some((letter) => letter.run === currentRun()),
      });
    }
    return call("SQS", "DeleteMessage", input, () => {
      if (input.QueueUrl !== QUEUE_URL) throw awsError("AWS.SimpleQueueService.NonExistentQueue", 400);
      world.deletedHandles.push(String(input.ReceiptHandle));
      return {};
    });
  });
  on(sqsMock, SendMessageCommand, (input) =>
    call("SQS", "SendMessage", input, () => {
      if (input.QueueUrl !== DLQ_URL) throw awsError("AWS.SimpleQueueService.NonExistentQueue", 400);
      world.dlq.push({ run: currentRun(), input: structuredClone(input) });
      return { MessageId: `dlq-${world.dlq.length}` };
    }),
  );

  // SNS ---------------------------------------------------------------------------------------------------------
  on(snsMock, PublishCommand, (input) =>
    call("SNS", "Publish", input, () => {
      if (input.TopicArn !== TOPIC_ARN) throw awsError("NotFound", 404);
      world.published.push({ run: currentRun(), report: JSON.parse(String(input.Message)) as Report });
      return { MessageId: `sns-${world.published.length}` };
    }),
  );

  // SSM: the pause switch, running -----------------------------------------------------------------------------
  on(ssmMock, GetParameterCommand, (input) =>
    call("SSM", "GetParameter", input, () => {
      if (input.Name !== PAUSE_PARAMETER) throw awsError("ParameterNotFound", 400);
      return { Parameter: { Name: PAUSE_PARAMETER, Type: "String", Value: JSON.stringify(RUNNING) } };
    }),
  );

  // S3 Control: the account has no Block Public Access configured (S3 Control's real answer for that) -------------
  on(s3ControlMock, GetAccountPublicAccessBlockCommand, (input) =>
    call("S3Control", "GetPublicAccessBlock", input, () => {
      throw awsError("NoSuchPublicAccessBlockConfiguration", 404);
    }),
  );

  return world;
}

export type World = ReturnType<typeof createWorld>;

/**
 * The shared deps of one remediation run, wired to real SDK clients (mocked; CLIENTS) and the real S3 ledger / SNS
 * reporter. The account-facts reader (and so its cache) is new for each run.
 */
export function awsDeps(run: number) {
  return {
    ...deployedDeps({
      readPause: () => readPauseState(CLIENTS.ssm, PAUSE_PARAMETER, T0),
      accountFacts: accountFactsReader({
        s3control: () => CLIENTS.s3control,
        now: () => T0,
        log: { debug() {}, info() {}, warn() {}, error() {} },
      }),
    }),
    sqs: CLIENTS.sqs,
    ledger: s3Ledger(CLIENTS.s3, { bucket: LEDGER_BUCKET }),
    reporter: snsReporter(CLIENTS.sns, TOPIC_ARN, () => T0),
    deadLetterQueueUrl: DLQ_URL,
    now: () => T0,
    newActionId: () => actionIdFor(run),
  };
}
