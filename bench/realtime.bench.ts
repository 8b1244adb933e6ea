// Simulated time from an API call that opens a hole to the fix, on the real-time path with auto-response on and no
// grace, beside the Config-driven figure computed the same way. Target: p99 under 60 s at the default delay.
//
// The path: API call → CloudTrail → EventBridge (default bus, rule) → the real-time queue, which holds each event
// for realtime_delay_seconds (SQS DelaySeconds, default 20) → the event source mapping (batch 10, no window) → the
// real-time function (reads the resource live, judges, sends the instruction, async-invokes the coordinator) → the
// coordinator (reserved concurrency 1: a run-now that finds a tick running is throttled, and Lambda retries a
// throttled asynchronous invoke 1 s later, then at growing intervals, until its maximum event age of 60 s drops it;
// the schedule's next tick then takes the message) → an asynchronous Invoke of the remediation → it reads again and
// fixes.
//
// Measured here, on this machine (real code, AWS stubbed):
// - the real-time function: runRealtime on a recorded CloudTrail event (test/fixtures/realtime/), with the SDK
//   clients mocked (aws-sdk-client-mock answers send(): the SDK's serialising and signing are not in the time). Its
//   own time per event, and its AWS calls, counted;
// - the coordinator: one tick of the real runCoordinator against a real SQS-protocol server (local-aws-sqs), from
//   the message visible to its Invoke, and the whole tick; its SQS calls before the dispatch, counted;
// - the remediation: the real runner with the sg fix, clients mocked, its calls counted up to the change (the
//   revoke) and after it.
// Stated (REALTIME_STAGES, each with where it comes from): each AWS call's latency, CloudTrail → EventBridge,
// EventBridge → queue, the mapping's poll, an asynchronous invoke's start, cold starts. The calls are counted as if
// made one after another (an upper bound where the code overlaps them). A Monte Carlo over SIMULATED_CALLS calls
// (seeded, bench/generate.ts random) draws every stage and gives p50 / p99 / max. No timed assertions.
// Run: npx tsx bench/realtime.bench.ts

import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { DeleteMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import type { Ledger } from "../contract/ledger.ts";
import type { Reporter } from "../contract/report.ts";
import { RECEIVE_WAIT_SECONDS } from "../functions/coordinator/settings.ts";
import { type CoordinatorStateStore, memoryStateStore } from "../functions/coordinator/state.ts";
import { runCoordinator } from "../functions/coordinator/tick.ts";
import { ownAccountAccess } from "../functions/realtime/access.ts";
import { type RealtimeDeps, runRealtime } from "../functions/realtime/core.ts";
import type { Log } from "../platform/logging.ts";
import {
  enqueue,
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  instruction,
  recordingReporter,
} from "../test/coordinator/support.ts";
import { fixture } from "../test/fixtures/load.ts";
import { startLocalSqs } from "../test/helpers/local-sqs.ts";
import {
  ACCOUNT,
  DLQ_URL,
  deployedDeps,
  instructionFor,
  REGION,
  requestFor,
  SG_RULES,
  SSH_V4,
  T0,
  testDeployment,
  testLedger,
} from "../test/remediation/support.ts";
import { awsError } from "../test/support/kit.ts";
import { remediate } from "../test/support/remediate.ts";
import {
  DEFAULT_REALTIME_COST,
  measureIdleTick,
  printRealtimeCost,
  type RealtimeCostReport,
  realtimeCost,
} from "./cost.bench.ts";
import { random } from "./generate.ts";
import { DEFAULT_STAGES, deployedCoordinatorConfig } from "./timeline.bench.ts";

/** How many API calls the Monte Carlo simulates per scenario. */
export const SIMULATED_CALLS = 20_000;
/** realtime_delay_seconds (infra/variables.ts): the default, and the other delays printed beside it. */
export const DEFAULT_DELAY_SECONDS = 20;
export const DELAYS_SECONDS = [0, 10, DEFAULT_DELAY_SECONDS, 60] as const;
export const TARGET_P99_SECONDS = 60;
/** The coordinator's schedule, and the run-now's maximum event age (infra/realtime.ts RUN_NOW_MAX_AGE_SECONDS). */
const SCHEDULE_SECONDS = 60;
const RUN_NOW_MAX_AGE_SECONDS = 60;
/** local-aws-sqs answers even a short receive after 40 ms (test/helpers/local-sqs.ts): not SQS's time, taken off. */
const EMULATOR_RECEIVE_MS = 40;

/** The standard normal's 99th percentile. */
const Z_99 = 2.326;

const SILENT: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** A range drawn uniformly, seconds. */
export interface Range {
  low: number;
  high: number;
}

/** The stages this bench does not measure: each an assumption, with where it comes from. */
export interface RealtimeStageAssumptions {
  /** CloudTrail → EventBridge's default bus: lognormal, seconds (median, σ of the log), capped at `max`. */
  cloudTrailToEventBridge: { median: number; sigma: number; max: number };
  /** EventBridge rule match → the message in the queue (the SQS target's SendMessage). */
  eventBridgeToQueue: Range;
  /** The delay over → the real-time function invoked (the mapping's pollers long-poll; a poll answers on arrival). */
  queueToFunction: Range;
  /** An asynchronous Invoke accepted → the function's handler starts (warm). */
  asyncInvokeStart: Range;
  /** A cold start's extra (Lambda's init with the bundle's import: 52–99 ms of it measured, README). */
  coldStart: Range;
  /** Share of invocations that start cold, by function. */
  coldShare: { realtime: number; coordinator: number; remediation: number };
  /** One AWS API call from a function in the region (each call drawn on its own). */
  callLatency: Range;
}

export const REALTIME_STAGES: RealtimeStageAssumptions = {
  // No AWS figure (delivery is "best effort": eb-service-event-cloudtrail). A few seconds typically, a tail of tens.
  cloudTrailToEventBridge: { median: 5, sigma: 0.6, max: 300 },
  // No AWS figure; assumption (rule match and a same-region SQS send).
  eventBridgeToQueue: { low: 0.1, high: 0.5 },
  // No AWS figure; assumption (the pollers' long polls return once a message is visible, then the invoke).
  queueToFunction: { low: 0.05, high: 1 },
  // No AWS figure; assumption (the async queue is internal to Lambda; tens to hundreds of ms).
  asyncInvokeStart: { low: 0.05, high: 0.5 },
  // Runtime start plus the bundle's import (README's 52–99 ms for the import alone); assumption.
  coldStart: { low: 0.3, high: 1 },
  // Events a few an hour find no warm real-time or remediation environment; the coordinator runs every minute.
  coldShare: { realtime: 0.8, coordinator: 0.05, remediation: 0.8 },
  // Same-region API calls, 10–50 ms (bench/coordinator.bench.ts uses 10 ms per SQS call, 20 per Invoke).
  callLatency: { low: 0.01, high: 0.05 },
};

// ---- measured: the real-time function ----

export interface FunctionFigures {
  name: string;
  /** The function's own time per event (mocked AWS answers at once), ms. */
  ownMs: number;
  /** AWS calls per event, by command (an S3 GET of undo's record and the run-now Invoke counted as calls). */
  calls: Record<string, number>;
  callCount: number;
  /** What became of the event ("queued" for a hole). */
  outcome: string;
}

/** The SDK clients the functions read and write with, mocked while the function benches run (never at import). */
function awsMocks() {
  const ec2 = mockClient(EC2Client);
  const s3 = mockClient(S3Client);
  const s3control = mockClient(S3ControlClient);
  const sqs = mockClient(SQSClient);
  return { ec2, s3, s3control, sqs, all: [ec2, s3, s3control, sqs] };
}
let mocks: ReturnType<typeof awsMocks> | undefined;
const mocked = () => {
  mocks ??= awsMocks();
  return mocks;
};

/** Puts the real SDK clients back (the coordinator's talk to local-aws-sqs). */
export function restoreMocks(): void {
  for (const mock of mocks?.all ?? []) mock.restore();
  mocks = undefined;
}

const SG_EVENT = "realtime/cloudtrail/authorize-sg-ingress.json";
const S3_EVENT = "realtime/cloudtrail/put-bucket-acl.json";
const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
const OWNER_ID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

/** The live resources the recorded events name, as AWS answers for them: both open. */
function answerLiveReads(open: boolean): void {
  const { ec2, s3, s3control, sqs, all } = mocked();
  for (const mock of all) mock.reset();
  const groupId = "sg-0f1e2d3c4b5a69788";
  ec2.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [{ GroupId: groupId, GroupName: "bastion", OwnerId: ACCOUNT, VpcId: "vpc-0a1b2c3d", Tags: [] }],
  });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: [
      {
        SecurityGroupRuleId: "sgr-0ssh",
        GroupId: groupId,
        GroupOwnerId: ACCOUNT,
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: open ? "0.0.0.0/0" : "10.0.0.0/8",
      },
    ],
  });
  s3.on(GetBucketTaggingCommand).rejects(awsError("NoSuchTagSet", 404));
  s3.on(GetBucketOwnershipControlsCommand).rejects(awsError("OwnershipControlsNotFoundError", 404));
  s3.on(GetBucketAclCommand).resolves({
    Owner: { ID: OWNER_ID },
    Grants: [
      { Grantee: { Type: "CanonicalUser", ID: OWNER_ID }, Permission: "FULL_CONTROL" },
      ...(open ? [{ Grantee: { Type: "Group" as const, URI: ALL_USERS }, Permission: "READ" as const }] : []),
    ],
  });
  s3.on(GetBucketPolicyCommand).rejects(awsError("NoSuchBucketPolicy", 404));
  s3.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  s3control.on(GetAccountPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `q-${entry.Id}`, MD5OfMessageBody: "" })),
    Failed: [],
  }));
}

/** What the event source mapping hands the function: one recorded EventBridge event, as SQS delivered it. */
function sqsEventOf(fixturePath: string): SQSEvent {
  return {
    Records: [
      {
        messageId: "b8e7c0d2-5d7f-4b8e-9d38-0a1b2c3d4e5f",
        receiptHandle: "AQEBexample",
        body: JSON.stringify(fixture(fixturePath)),
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: "1763633526000",
          SenderId: "AIDAEVENTBRIDGE",
          ApproximateFirstReceiveTimestamp: "1763633546000",
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:remedy-realtime`,
        awsRegion: REGION,
      },
    ],
  };
}

/** One runRealtime with fresh caches (a cold container's reads: every read made), counting the non-SDK calls. */
async function realtimeOnce(event: SQSEvent, counts: { undoReads: number; invokes: number }) {
  const deployment = testDeployment();
  const now = () => T0;
  const deps: RealtimeDeps = {
    deployment,
    access: ownAccountAccess(deployment, SILENT, now),
    sqs: new SQSClient({ region: REGION }),
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    allowlist: [],
    gracePeriodMs: 0,
    undoExemptions: async () => {
      counts.undoReads++;
      return undefined;
    },
    ownRoleArns: [],
    autoResponse: true,
    runCoordinator: async () => {
      counts.invokes++;
    },
    now,
    log: SILENT,
    metrics: { count() {} },
  };
  return runRealtime(event, deps);
}

export async function measureRealtimeFunction(
  name: string,
  fixturePath: string,
  open: boolean,
  runs = 300,
): Promise<FunctionFigures> {
  answerLiveReads(open);
  const event = sqsEventOf(fixturePath);
  const scratch = { undoReads: 0, invokes: 0 };
  for (let warm = 0; warm < 30; warm++) await realtimeOnce(event, scratch);
  const started = performance.now();
  for (let run = 0; run < runs; run++) await realtimeOnce(event, scratch);
  const ownMs = (performance.now() - started) / runs;

  const { all } = mocked();
  for (const mock of all) mock.resetHistory();
  const counts = { undoReads: 0, invokes: 0 };
  const result = await realtimeOnce(event, counts);
  const calls: Record<string, number> = {};
  for (const mock of all) {
    for (const call of mock.calls()) {
      const command = call.args[0].constructor.name;
      calls[command] = (calls[command] ?? 0) + 1;
    }
  }
  if (counts.undoReads > 0) calls["GetObjectCommand (undo exemption)"] = counts.undoReads;
  if (counts.invokes > 0) calls["InvokeCommand (run now)"] = counts.invokes;
  const outcomes = Object.values(result.outcomes).flatMap((each) => (Array.isArray(each) ? each : []));
  const outcome = outcomes.map((each) => each.outcome).join(", ") || "dropped";
  if (open !== (outcome === "queued"))
    throw new Error(`${name}: expected ${open ? "queued" : "nothing"}, got ${outcome}`);
  return { name, ownMs, calls, callCount: Object.values(calls).reduce((sum, n) => sum + n, 0), outcome };
}

// ---- measured: the coordinator's run now ----

export interface TickFigures {
  runs: number;
  /** Tick start → the dispatch Invoke, local wall time (mean), ms; and with the emulator's receive waits taken off. */
  toDispatchMs: number;
  toDispatchOwnMs: number;
  /** The whole tick (the state saved after), ms, local, and with the emulator's waits taken off. */
  tickMs: number;
  tickOwnMs: number;
  /** Calls before the Invoke: the pause switch (SSM), the state (S3 GET), receives (SQS); the Invoke itself. */
  callsToDispatch: number;
  receivesToDispatch: number;
  /** Calls of the whole tick (the Invoke and the state save included). */
  tickCalls: number;
  tickSqsCalls: number;
  stateLoads: number;
  stateSaves: number;
}

/**
 * One fresh instruction visible in an otherwise empty queue, and one tick (the run-now), with the deployed pace,
 * limits and budget; the receive wait is 0 here (local-aws-sqs waits out any wait on a partial batch, SQS does not:
 * the model adds the deployed RECEIVE_WAIT_SECONDS to the receive that finds the queue dry).
 */
export async function measureRunNow(runs = 20): Promise<TickFigures> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const local = await startLocalSqs();
  const pause = fakePauseParameter();
  try {
    const totals = { toDispatch: 0, tick: 0, receivesToDispatch: 0, callsToDispatch: 0, tickCalls: 0, tickSqs: 0 };
    let stateLoads = 0;
    let stateSaves = 0;
    for (let run = 0; run < runs; run++) {
      const clock = fakeClock(new Date(T0.getTime() + run * 60_000));
      await enqueue(local.sqs, local.queueUrl, [instruction(1_000 + run, { capturedAt: clock.now() })]);
      local.commands.length = 0;
      pause.mock.resetHistory();
      const inner = memoryStateStore();
      const io = { loads: 0, saves: 0 };
      const store: CoordinatorStateStore = {
        load: () => {
          io.loads++;
          return inner.load();
        },
        save: (state, etag) => {
          io.saves++;
          return inner.save(state, etag);
        },
      };
      const lambda = fakeLambda();
      let dispatchedAt: number | undefined;
      let sqsBeforeDispatch = 0;
      let receivesBeforeDispatch = 0;
      let otherBeforeDispatch = 0;
      const send = lambda.send.bind(lambda);
      lambda.send = async (command) => {
        dispatchedAt ??= performance.now();
        sqsBeforeDispatch = local.commands.length;
        receivesBeforeDispatch = local.commands.filter((name) => name === "ReceiveMessageCommand").length;
        otherBeforeDispatch = pause.mock.calls().length + io.loads;
        return send(command);
      };
      const started = performance.now();
      const summary = await runCoordinator({
        sqs: local.client(),
        lambda,
        ssm: pause.ssm,
        store,
        reporter: recordingReporter(),
        config: deployedCoordinatorConfig(local),
        now: clock.now,
        remainingTimeMs: () => 59_000,
        log: SILENT,
        metrics: { count() {} },
      });
      const ended = performance.now();
      if (summary.dispatched !== 1 || dispatchedAt === undefined) {
        throw new Error(`run-now tick ${run}: dispatched ${summary.dispatched}, expected 1`);
      }
      totals.toDispatch += dispatchedAt - started;
      totals.tick += ended - started;
      totals.receivesToDispatch += receivesBeforeDispatch;
      totals.callsToDispatch += sqsBeforeDispatch + otherBeforeDispatch + 1;
      totals.tickSqs += local.commands.length;
      totals.tickCalls +=
        local.commands.length + pause.mock.calls().length + io.loads + io.saves + lambda.invocations.length;
      stateLoads = io.loads;
      stateSaves = io.saves;
    }
    const mean = (value: number) => value / runs;
    const receivesToDispatch = mean(totals.receivesToDispatch);
    const toDispatchMs = mean(totals.toDispatch);
    const tickMs = mean(totals.tick);
    const tickSqsCalls = mean(totals.tickSqs);
    return {
      runs,
      toDispatchMs,
      toDispatchOwnMs: Math.max(0, toDispatchMs - receivesToDispatch * EMULATOR_RECEIVE_MS),
      tickMs,
      // Every receive of the tick waited the emulator's 40 ms; all of them are before the dispatch here.
      tickOwnMs: Math.max(0, tickMs - receivesToDispatch * EMULATOR_RECEIVE_MS),
      callsToDispatch: mean(totals.callsToDispatch),
      receivesToDispatch,
      tickCalls: mean(totals.tickCalls),
      tickSqsCalls,
      stateLoads,
      stateSaves,
    };
  } finally {
    pause.mock.restore();
    await local.stop();
  }
}

// ---- measured: the remediation ----

export interface RemediationFigures {
  status: string;
  /** Calls in order (each an AWS call in the deployed function), up to and including the change. */
  callsToFix: number;
  callsAfterFix: number;
  order: string[];
  ownMs: number;
}

/** The sg remediation of one dispatched instruction, with its clients mocked and its stores counted as calls. */
export async function measureRemediation(runs = 200): Promise<RemediationFigures> {
  const order: string[] = [];
  const runOnce = async () => {
    const { ec2, sqs, all } = mocked();
    for (const mock of all) mock.reset();
    ec2.on(DescribeSecurityGroupsCommand).callsFake(() => {
      order.push("DescribeSecurityGroups");
      return { SecurityGroups: [{ GroupId: "sg-0123456789abcdef0", GroupName: "web", Tags: [] }] };
    });
    ec2.on(DescribeSecurityGroupRulesCommand).callsFake(() => {
      order.push("DescribeSecurityGroupRules");
      return { SecurityGroupRules: SG_RULES };
    });
    ec2.on(RevokeSecurityGroupIngressCommand).callsFake((input: { SecurityGroupRuleIds: string[] }) => {
      order.push("RevokeSecurityGroupIngress (the fix)");
      return {
        Return: true,
        RevokedSecurityGroupRules: input.SecurityGroupRuleIds.map((id) => ({ SecurityGroupRuleId: id })),
      };
    });
    sqs.on(DeleteMessageCommand).callsFake(() => {
      order.push("DeleteMessage");
      return {};
    });
    sqs.on(SendMessageCommand).callsFake(() => {
      order.push("SendMessage (DLQ)");
      return { MessageId: "dlq-1" };
    });
    const ledger = testLedger();
    // The deployed ledger is S3 (each record a PUT, signed with one GenerateMac; the claim a conditional PUT).
    const countedLedger: Ledger = {
      ...ledger,
      claim: (key) => {
        order.push("PutObject (dispatch claim)");
        return ledger.claim(key);
      },
      write: (record) => {
        order.push("GenerateMac", `PutObject (ledger ${record.outcome})`);
        return ledger.write(record);
      },
    };
    const reports = recordingReporter();
    const reporter: Reporter = {
      report: (body, options) => {
        order.push("Publish (SNS report)");
        return reports.report(body, options);
      },
    };
    const base = deployedDeps();
    return remediate(
      "remediate-sg",
      requestFor(instructionFor("sg-open-ingress", [SSH_V4]), { dispatchedAt: T0.toISOString() }),
      {
        ...base,
        readPause: () => {
          order.push("GetParameter (pause switch)");
          return base.readPause();
        },
        undoExemptions: (resource) => {
          order.push("GetObject (undo exemption)");
          return base.undoExemptions(resource);
        },
        ec2: new EC2Client({ region: REGION }),
        sqs: new SQSClient({ region: REGION }),
        ledger: countedLedger,
        reporter,
        deadLetterQueueUrl: DLQ_URL,
        allowlist: [],
        now: () => T0,
        log: SILENT,
        newActionId: () => "act-20261120T102819Z-0000beef",
      },
    );
  };
  for (let warm = 0; warm < 20; warm++) await runOnce();
  const started = performance.now();
  for (let run = 0; run < runs; run++) await runOnce();
  const ownMs = (performance.now() - started) / runs;
  order.length = 0;
  const result = await runOnce();
  if (result.status !== "fixed") throw new Error(`remediation: expected fixed, got ${result.status}`);
  const fixAt = order.findIndex((call) => call.startsWith("RevokeSecurityGroupIngress"));
  return {
    status: result.status,
    callsToFix: fixAt + 1,
    callsAfterFix: order.length - fixAt - 1,
    order: [...order],
    ownMs,
  };
}

// ---- the Monte Carlo ----

/** What the simulation draws from: the measured figures, the stated stages, the deployment's delay. */
export interface PathModel {
  realtime: FunctionFigures;
  tick: TickFigures;
  remediation: RemediationFigures;
  stages: RealtimeStageAssumptions;
}

export interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

export interface PathResult {
  name: string;
  delaySeconds?: number;
  calls: number;
  total: Distribution;
  /** Per stage, seconds. */
  stages: Record<string, Distribution>;
  /** Share of calls whose run-now found a tick running (throttled), and of those the schedule's next tick took. */
  throttledShare: number;
  droppedShare: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN };
}

/** Draws for the simulation, all from one seeded stream. */
export function sampler(seed: number) {
  const rand = random(seed);
  const uniform = (range: Range) => range.low + (range.high - range.low) * rand();
  const normal = () => {
    // Box-Muller; 1 - rand() keeps the log's argument above 0.
    const u = 1 - rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  };
  return {
    rand,
    uniform,
    lognormal: (median: number, sigma: number, max: number) => Math.min(max, median * Math.exp(sigma * normal())),
    /**
     * timeline.bench's "low, typical, high" as a distribution: lognormal with its median at `typical` and its p99 at
     * `high`, kept within [low, high] (the same shape as the CloudTrail stage).
     */
    stated: ({ low, typical, high }: { low: number; typical: number; high: number }) =>
      Math.min(high, Math.max(low, typical * Math.exp((Math.log(high / typical) / Z_99) * normal()))),
    /** `count` AWS calls one after another, each its own latency. */
    calls: (count: number, latency: Range) => {
      let seconds = 0;
      for (let n = 0; n < Math.round(count); n++) seconds += uniform(latency);
      return seconds;
    },
    cold: (share: number, range: Range) => (rand() < share ? uniform(range) : 0),
  };
}

type Sampler = ReturnType<typeof sampler>;

/** A run-now tick: start → dispatch (own time, calls, the dry receive's long poll), and its whole length. */
function drawTick(model: PathModel, draw: Sampler): { toDispatch: number; length: number } {
  const { tick, stages } = model;
  const toDispatch =
    tick.toDispatchOwnMs / 1000 + draw.calls(tick.callsToDispatch, stages.callLatency) + RECEIVE_WAIT_SECONDS;
  const after =
    (tick.tickOwnMs - tick.toDispatchOwnMs) / 1000 +
    draw.calls(tick.tickCalls - tick.callsToDispatch, stages.callLatency);
  return { toDispatch, length: toDispatch + Math.max(0, after) };
}

/** Dispatch → the change made: the async Invoke's start, a cold start at times, the runner's calls up to the change. */
function drawFix(model: PathModel, draw: Sampler): number {
  const { remediation, stages } = model;
  return (
    draw.uniform(stages.asyncInvokeStart) +
    draw.cold(stages.coldShare.remediation, stages.coldStart) +
    remediation.ownMs / 1000 +
    draw.calls(remediation.callsToFix, stages.callLatency)
  );
}

/**
 * When the coordinator starts on the instruction, counted from the moment it is queued (`runNowAt` later its run-now
 * reaches Lambda). The schedule's ticks start every 60 s at a phase drawn at random; one is running from the phase's
 * start for `busy` seconds. A run-now that meets a running tick is throttled and retried by Lambda 1, 2, 4… s later
 * until its maximum age drops it; whichever starts first after the instruction is queued — the run-now or the
 * schedule's next tick — dispatches it. (A tick already running when the instruction lands is assumed not to see it:
 * conservative.)
 */
export function coordinatorStart(
  runNowAt: number,
  phase: number,
  busy: number,
): { start: number; throttled: boolean; dropped: boolean } {
  // Relative to the instruction queued: the current tick runs [-phase, -phase + busy), the next starts then.
  const nextTick = SCHEDULE_SECONDS - phase;
  const running = (at: number) => {
    const since = (((at + phase) % SCHEDULE_SECONDS) + SCHEDULE_SECONDS) % SCHEDULE_SECONDS;
    return since < busy;
  };
  let attempt = runNowAt;
  let wait = 1;
  let throttled = false;
  while (running(attempt)) {
    throttled = true;
    attempt += wait;
    wait = Math.min(wait * 2, 300);
    if (attempt - runNowAt > RUN_NOW_MAX_AGE_SECONDS) return { start: nextTick, throttled, dropped: true };
  }
  return attempt < nextTick
    ? { start: attempt, throttled, dropped: false }
    : { start: nextTick, throttled, dropped: false };
}

/** The real-time path, `calls` simulated API calls with realtime_delay_seconds = `delaySeconds`. */
export function simulateRealtime(
  model: PathModel,
  delaySeconds: number,
  calls = SIMULATED_CALLS,
  seed = 16,
): PathResult {
  const draw = sampler(seed);
  const { stages, realtime } = model;
  const names = [
    "API call → EventBridge (assumed)",
    "EventBridge → queue (assumed)",
    "queue delay (realtime_delay_seconds)",
    "poll → real-time function (assumed; cold start at times)",
    "real-time function: read, judge, queue (measured + calls)",
    "queued → coordinator starts (run-now; throttled at times)",
    "coordinator: start → dispatch (measured + calls + dry receive)",
    "dispatched → fixed (measured calls, assumed start)",
  ];
  const samples = names.map((): number[] => []);
  const totals: number[] = [];
  let throttled = 0;
  let dropped = 0;
  // The function's calls before the instruction is queued: all but the run-now Invoke.
  const callsToQueue = realtime.callCount - (realtime.calls["InvokeCommand (run now)"] ?? 0);
  for (let n = 0; n < calls; n++) {
    const parts = [
      draw.lognormal(
        stages.cloudTrailToEventBridge.median,
        stages.cloudTrailToEventBridge.sigma,
        stages.cloudTrailToEventBridge.max,
      ),
      draw.uniform(stages.eventBridgeToQueue),
      delaySeconds,
      draw.uniform(stages.queueToFunction) + draw.cold(stages.coldShare.realtime, stages.coldStart),
      realtime.ownMs / 1000 + draw.calls(callsToQueue, stages.callLatency),
    ];
    const tick = drawTick(model, draw);
    const runNowAt = draw.uniform(stages.callLatency) + draw.uniform(stages.asyncInvokeStart);
    const busy = drawTick(model, draw).length;
    const start = coordinatorStart(runNowAt, draw.rand() * SCHEDULE_SECONDS, busy);
    if (start.throttled) throttled++;
    if (start.dropped) dropped++;
    parts.push(
      start.start + draw.cold(stages.coldShare.coordinator, stages.coldStart),
      tick.toDispatch,
      drawFix(model, draw),
    );
    for (const [index, value] of parts.entries()) samples[index]!.push(value);
    totals.push(parts.reduce((sum, value) => sum + value, 0));
  }
  return {
    name: `real-time, delay ${delaySeconds} s`,
    delaySeconds,
    calls,
    total: distribution(totals),
    stages: Object.fromEntries(names.map((name, index) => [name, distribution(samples[index]!)])),
    throttledShare: throttled / calls,
    droppedShare: dropped / calls,
  };
}

/**
 * The Config path, computed the same way: timeline.bench's stated Config delay (1–15 min, typically 3) and rule run
 * as distributions (median the typical figure, p99 the high one), the instruction waiting for the schedule's next tick (the Config path asks for no
 * run-now), then the same measured tick and fix.
 */
export function simulateConfig(model: PathModel, calls = SIMULATED_CALLS, seed = 16): PathResult {
  const draw = sampler(seed);
  const names = [
    "change → rule invoked (Config, assumed)",
    "rule run → instruction queued (assumed)",
    "queued → the schedule's next tick",
    "coordinator: start → dispatch (measured + calls + dry receive)",
    "dispatched → fixed (measured calls, assumed start)",
  ];
  const samples = names.map((): number[] => []);
  const totals: number[] = [];
  for (let n = 0; n < calls; n++) {
    const parts = [
      draw.stated(DEFAULT_STAGES.configDelay),
      draw.stated(DEFAULT_STAGES.ruleRun),
      draw.rand() * SCHEDULE_SECONDS + draw.cold(model.stages.coldShare.coordinator, model.stages.coldStart),
      drawTick(model, draw).toDispatch,
      drawFix(model, draw),
    ];
    for (const [index, value] of parts.entries()) samples[index]!.push(value);
    totals.push(parts.reduce((sum, value) => sum + value, 0));
  }
  return {
    name: "Config-driven (no real-time path)",
    calls,
    total: distribution(totals),
    stages: Object.fromEntries(names.map((name, index) => [name, distribution(samples[index]!)])),
    throttledShare: 0,
    droppedShare: 0,
  };
}

// ---- main and print ----

export interface RealtimeBenchResult {
  functions: { sgFix: FunctionFigures; s3Fix: FunctionFigures; sgClean: FunctionFigures };
  tick: TickFigures;
  remediation: RemediationFigures;
  model: PathModel;
  realtime: PathResult[];
  config: PathResult;
  /** The default delay under heavier CloudTrail → EventBridge tails than assumed. */
  sensitivity: { median: number; sigma: number; p99: number }[];
  cost: RealtimeCostReport;
}

/** The function's seconds per event for the cost: its own time and its calls at the stated mean latency. */
function meanSeconds(figures: FunctionFigures, stages: RealtimeStageAssumptions): number {
  return figures.ownMs / 1000 + figures.callCount * ((stages.callLatency.low + stages.callLatency.high) / 2);
}

export async function main(stages: RealtimeStageAssumptions = REALTIME_STAGES): Promise<RealtimeBenchResult> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  try {
    const sgFix = await measureRealtimeFunction("sg: AuthorizeSecurityGroupIngress, tcp 22 open", SG_EVENT, true);
    const s3Fix = await measureRealtimeFunction("s3: PutBucketAcl, READ for everyone", S3_EVENT, true);
    const sgClean = await measureRealtimeFunction("sg: AuthorizeSecurityGroupIngress, 10.0.0.0/8", SG_EVENT, false);
    const remediation = await measureRemediation();
    // The coordinator's clients talk to local-aws-sqs: the SQS mock must be off by then.
    restoreMocks();
    const tick = await measureRunNow();
    // The slower of the two resource types decides the path's figures.
    const realtime = s3Fix.callCount > sgFix.callCount ? s3Fix : sgFix;
    const model: PathModel = { realtime, tick, remediation, stages };
    const results = DELAYS_SECONDS.map((delay) => simulateRealtime(model, delay));
    const config = simulateConfig(model);
    const sensitivity = [
      { median: stages.cloudTrailToEventBridge.median, sigma: stages.cloudTrailToEventBridge.sigma },
      { median: 5, sigma: 1 },
      { median: 10, sigma: 0.8 },
      { median: 15, sigma: 1 },
    ].map(({ median, sigma }) => ({
      median,
      sigma,
      p99: simulateRealtime(
        {
          ...model,
          stages: { ...stages, cloudTrailToEventBridge: { ...stages.cloudTrailToEventBridge, median, sigma } },
        },
        DEFAULT_DELAY_SECONDS,
      ).total.p99,
    }));
    const idle = await measureIdleTick();
    const meanLatency = (stages.callLatency.low + stages.callLatency.high) / 2;
    const cost = realtimeCost(
      {
        fixEventSeconds: meanSeconds(realtime, stages),
        cleanEventSeconds: meanSeconds(sgClean, stages),
        run: {
          seconds: tick.tickOwnMs / 1000 + tick.tickCalls * meanLatency + RECEIVE_WAIT_SECONDS,
          sqsCalls: tick.tickSqsCalls,
          stateLoads: idle.stateLoads,
          stateSaves: idle.stateSaves,
        },
        undoReadsPerFix: realtime.calls["GetObjectCommand (undo exemption)"] ?? 0,
      },
      DEFAULT_REALTIME_COST,
    );
    return {
      functions: { sgFix, s3Fix, sgClean },
      tick,
      remediation,
      model,
      realtime: results,
      config,
      sensitivity,
      cost,
    };
  } finally {
    restoreMocks();
  }
}

const seconds = (value: number) => (value >= 120 ? `${(value / 60).toFixed(1)} min` : `${value.toFixed(1)} s`);

export function print(result: RealtimeBenchResult): void {
  const { stages } = result.model;
  const latency = `${stages.callLatency.low * 1000}–${stages.callLatency.high * 1000} ms`;
  console.log(`Measured (real code, AWS stubbed; each AWS call then costs an assumed ${latency}):`);
  for (const figures of Object.values(result.functions)) {
    console.log(
      `  real-time function, ${figures.name}: ${figures.ownMs.toFixed(2)} ms own time, ${figures.callCount} AWS calls (${Object.entries(
        figures.calls,
      )
        .map(([command, count]) => `${command.replace(/Command\b/, "")} ${count}`)
        .join(", ")}) → ${figures.outcome}`,
    );
  }
  const t = result.tick;
  console.log(
    `  coordinator run-now (${t.runs} ticks, local-aws-sqs): message visible → dispatch ${t.toDispatchMs.toFixed(1)} ms local ` +
      `(${t.toDispatchOwnMs.toFixed(1)} ms less the emulator's ${EMULATOR_RECEIVE_MS} ms per receive), ${t.callsToDispatch.toFixed(0)} calls to it ` +
      `(${t.receivesToDispatch.toFixed(0)} receives: the message, then the dry one that ends the look-ahead; SSM, S3 state, the Invoke); ` +
      `whole tick ${t.tickMs.toFixed(1)} ms local, ${t.tickCalls.toFixed(0)} calls`,
  );
  const r = result.remediation;
  console.log(
    `  remediation (remediate-sg): ${r.ownMs.toFixed(2)} ms own time, ${r.callsToFix} calls up to the change, ${r.callsAfterFix} after: ${r.order.join(" → ")}`,
  );
  console.log(
    `  the deployed dry receive waits RECEIVE_WAIT_SECONDS = ${RECEIVE_WAIT_SECONDS} s on SQS (local-aws-sqs ran with 0): added to every tick`,
  );

  console.log(
    `\nAPI call → fixed, auto-response on, no grace: ${result.config.calls.toLocaleString("en-US")} simulated calls each (seeded)`,
  );
  const row = (path: PathResult) => ({
    p50: seconds(path.total.p50),
    p99: seconds(path.total.p99),
    max: seconds(path.total.max),
    [`p99 < ${TARGET_P99_SECONDS} s`]:
      path.delaySeconds === undefined ? "—" : path.total.p99 < TARGET_P99_SECONDS ? "met" : "NOT met",
    "run-now throttled": path.delaySeconds === undefined ? "—" : `${(path.throttledShare * 100).toFixed(1)}%`,
    "taken by the schedule": path.delaySeconds === undefined ? "—" : `${(path.droppedShare * 100).toFixed(2)}%`,
  });
  console.table(
    Object.fromEntries([
      ...result.realtime.map((path) => [
        path.delaySeconds === DEFAULT_DELAY_SECONDS ? `${path.name} (default)` : path.name,
        row(path),
      ]),
      [`anchor: ${result.config.name}`, row(result.config)],
    ]),
  );
  const headline = result.realtime.find((path) => path.delaySeconds === DEFAULT_DELAY_SECONDS);
  if (headline) {
    console.log(
      `Target p99 < ${TARGET_P99_SECONDS} s at the default delay: ${headline.total.p99 < TARGET_P99_SECONDS ? "met" : "NOT met"} ` +
        `(${seconds(headline.total.p99)}; Config-driven ${seconds(result.config.total.p99)}, ` +
        `${(result.config.total.p50 / headline.total.p50).toFixed(0)}× the real-time p50).`,
    );
    const table = (path: PathResult) =>
      Object.fromEntries(
        Object.entries(path.stages).map(([name, d]) => [
          name,
          { p50: seconds(d.p50), p99: seconds(d.p99), max: seconds(d.max) },
        ]),
      );
    console.log(`By stage, ${headline.name} (a stage's p99s do not add up to the total's):`);
    console.table(table(headline));
    console.log("By stage, Config-driven:");
    console.table(table(result.config));
  }
  console.log(
    `If CloudTrail → EventBridge is slower than assumed (lognormal; the default delay): ${result.sensitivity
      .map((s) => `median ${s.median} s, σ ${s.sigma} → p99 ${seconds(s.p99)}`)
      .join("; ")}`,
  );
  console.log("Assumptions (stated, not measured):");
  for (const text of [
    `CloudTrail → EventBridge: lognormal, median ${stages.cloudTrailToEventBridge.median} s, σ ${stages.cloudTrailToEventBridge.sigma} (p99 ≈ ${seconds(stages.cloudTrailToEventBridge.median * Math.exp(Z_99 * stages.cloudTrailToEventBridge.sigma))}); no AWS figure: delivery is best effort (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html). Check against the first deployment: the real-time function's log has the event time and its own.`,
    `EventBridge → queue ${stages.eventBridgeToQueue.low}–${stages.eventBridgeToQueue.high} s; queue → function ${stages.queueToFunction.low}–${stages.queueToFunction.high} s; async Invoke → handler ${stages.asyncInvokeStart.low}–${stages.asyncInvokeStart.high} s: no AWS figure; assumptions`,
    `cold starts ${stages.coldStart.low}–${stages.coldStart.high} s, for ${stages.coldShare.realtime * 100}% of real-time, ${stages.coldShare.coordinator * 100}% of coordinator and ${stages.coldShare.remediation * 100}% of remediation invocations: assumptions`,
    `each AWS call ${latency}, calls one after another: assumption (an upper bound where the code overlaps them)`,
    `a throttled run-now is retried 1 s later, then at doubling intervals, and dropped at ${RUN_NOW_MAX_AGE_SECONDS} s (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html; infra/realtime.ts); the tick it met is a whole drawn tick long`,
    `Config-driven: timeline.bench's stated Config delay ${DEFAULT_STAGES.configDelay.low}–${DEFAULT_STAGES.configDelay.high} s (typically ${DEFAULT_STAGES.configDelay.typical}) and rule run, as lognormals with the typical figure as median and the high one as p99, within the range; the next scheduled tick (uniform over ${SCHEDULE_SECONDS} s); the same tick and fix`,
    "left out: retries after a failed fix (+ the dispatch visibility, as on the Config path), the rate limit and breaker under bursts (bench/timeline.bench.ts), a delay of 0 s reading a resource before its change is visible",
  ]) {
    console.log(`  - ${text}`);
  }
  console.log("");
  printRealtimeCost(result.cost);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  print(await main());
}
