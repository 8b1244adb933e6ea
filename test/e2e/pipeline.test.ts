// End to end: Config rule handler core fed real-shaped invoking events → real SQS protocol (local-aws-sqs) →
// coordinator (its Lambda client runs the remediation cores in process) → remediations against a stateful EC2/S3
// double → reports through the notifier → a local HTTP server standing in for Slack. The CLI (peek, undo, resume)
// runs against the same queue, ledger and pause switch.
// Time: every part reads the wall clock (`() => new Date()`, as deployed), and the queue's visibility timeouts are
// the SQS server's timers, so both run on vitest's fake timers (Date and the server's timers; see
// test/helpers/local-sqs.ts): fake time moves on with real time, runs fast while a receive waits on the server, and
// "the grace period is over" is vi.advanceTimersByTimeAsync, which moves the clock the code reads and ends the
// visibility timeout together, as real time would.
import { randomUUID } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { ConfigServiceClient, PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import { EC2Client } from "@aws-sdk/client-ec2";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { GenerateMacCommand, KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import type { InvokeCommand } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { kmsRecordSigner, s3Ledger } from "../../contract/ledger.ts";
import { makeReport, type Reporter } from "../../contract/report.ts";
import type { AllowlistEntry } from "../../detection/exemptions.ts";
import { runConfigRule } from "../../functions/config-rule/core.ts";
import { memoryStateStore } from "../../functions/coordinator/state.ts";
import { runCoordinator } from "../../functions/coordinator/tick.ts";
import { runNotifier } from "../../functions/notifier/core.ts";
import { slackSender } from "../../functions/notifier/slack.ts";
import { readPauseState } from "../../platform/pause.ts";
import { memoryScanQueue } from "../config-rule/scan-support.ts";
import { FUNCTIONS, fakePauseParameter, PAUSE_PARAMETER, testConfig } from "../coordinator/support.ts";
import { changeEvent } from "../fixtures/events.ts";
import { configItem } from "../fixtures/load.ts";
import { type LocalSqs, SQS_SERVER_TIMERS, startLocalSqs } from "../helpers/local-sqs.ts";
import { type FakeSlack, fakeSlack } from "../notifier/helpers.ts";
import {
  deployedDeps,
  fakeGenerateMac,
  fakeVerifyMac,
  TEST_MAC_KEY_ID,
  testDeployment,
} from "../remediation/support.ts";
import { type AwsWorld, createAwsWorld } from "../support/aws-world.ts";
import { remediate } from "../support/remediate.ts";

const LEDGER = "remedy-ledger-123456789012";
const REGION = { region: "us-east-1" };
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const noMetrics = { count() {} };

const configMock = mockClient(ConfigServiceClient);
const kmsMock = mockClient(KMSClient);
const cloudTrailMock = mockClient(CloudTrailClient);
mockClient(EventBridgeClient);

let local: LocalSqs;
let world: AwsWorld;
let slack: FakeSlack;
let pause: ReturnType<typeof fakePauseParameter>;
let outputsFile: string;
let store: ReturnType<typeof memoryStateStore>;
let allowlist: AllowlistEntry[];

const reporter: Reporter = {
  async report(body) {
    // What SNS delivers to the notifier: the report as the Message of one record.
    await runNotifier(
      {
        Records: [
          {
            EventSource: "aws:sns",
            EventVersion: "1.0",
            Sns: {
              Type: "Notification",
              MessageId: randomUUID(),
              TopicArn: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
              Subject: null,
              Message: JSON.stringify(makeReport(body)),
              Timestamp: new Date().toISOString(),
            },
          },
        ],
      },
      {
        relay: { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: false },
        attribution: {
          cloudTrail: new CloudTrailClient(REGION),
          home: { region: "us-east-1", accountId: "123456789012" },
          lookbackDays: 7,
          slackUsers: {},
          now: () => new Date(),
          log: silent,
        },
        routing: async () => ({ default: { webhookUrl: `${slack.url}/hooks/remedy`, channel: "#sec" }, accounts: {} }),
        slack: slackSender({ sleep: async () => {}, log: silent }),
        log: silent,
        metrics: noMetrics,
      },
    );
  },
};

/** The Lambda service, for the coordinator's asynchronous invokes: runs the remediation core in process. */
const lambda = {
  async send(command: InvokeCommand) {
    const base = {
      // The remediations read the same pause switch as the coordinator.
      ...deployedDeps({ queueUrl: local.queueUrl, readPause: () => readPauseState(pause.ssm, PAUSE_PARAMETER) }),
      sqs: local.client(),
      // Records are signed through KMS GenerateMac (mocked with the test key), as the deployed functions do.
      ledger: s3Ledger(new S3Client(REGION), {
        bucket: LEDGER,
        signer: kmsRecordSigner(new KMSClient(REGION), TEST_MAC_KEY_ID),
      }),
      reporter,
      deadLetterQueueUrl: local.dlqUrl,
      allowlist,
      now: () => new Date(),
      log: silent,
      metrics: noMetrics,
    };
    if (command.input.FunctionName === FUNCTIONS["sg-open-ingress"]) {
      await remediate("remediate-sg", command.input.Payload, { ...base, ec2: new EC2Client(REGION) });
    } else {
      await remediate("remediate-s3", command.input.Payload, {
        ...base,
        s3: new S3Client(REGION),
        strategy: "surgical",
        protectedBuckets: [LEDGER],
      });
    }
    return { StatusCode: 202 };
  },
};

async function detect(
  folder: string,
  variant: string,
  gracePeriodMs = 0,
  mutate?: (item: Record<string, any>) => void,
) {
  const item = configItem<Record<string, any>>(folder, variant);
  mutate?.(item);
  const configRuleName = folder === "AWS_S3_Bucket" ? "remedy-s3-public" : "remedy-sg-open-ingress";
  return runConfigRule(changeEvent(item, { configRuleName }), {
    configService: new ConfigServiceClient(REGION),
    sqs: local.client(),
    queueUrl: local.queueUrl,
    deployment: testDeployment(),
    accountFacts: async () => ({ s3PublicAccessBlock: null }),
    allowlist,
    gracePeriodMs,
    now: () => new Date(),
    log: silent,
    metrics: noMetrics,
    scanQueue: memoryScanQueue(),
  });
}

/** One coordinator tick (what the EventBridge schedule runs every minute once auto-response is on). */
function tick(overrides: Partial<ReturnType<typeof testConfig>> = {}) {
  return runCoordinator({
    sqs: local.client(),
    lambda,
    ssm: pause.ssm,
    store,
    reporter,
    config: testConfig(local, { dispatchVisibilitySeconds: 60, ...overrides }),
    now: () => new Date(),
    remainingTimeMs: () => 50_000,
    log: silent,
    metrics: noMetrics,
  });
}

const notUsed = () => {
  throw new Error("not used by peek, status or undo here");
};
const notUsedByTheseCommands = { secretsManager: notUsed, configService: notUsed, s3Control: notUsed };

function cliDeps(): CliDeps {
  return {
    sqs: () => local.sqs as SQSClient,
    ssm: () => pause.ssm,
    s3: () => new S3Client(REGION),
    ec2: () => new EC2Client(REGION),
    eventBridge: () => new EventBridgeClient(REGION),
    kms: () => new KMSClient(REGION),
    ...notUsedByTheseCommands,
    now: () => new Date(),
    user: () => "alice",
    confirm: async () => true,
    env: { REMEDY_OUTPUTS: outputsFile },
  };
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, cliDeps());
  return { code, out: out.join(""), err: err.join("") };
}

const slackTexts = () => slack.requests.map((request) => JSON.stringify(request.body));

beforeEach(async () => {
  vi.useFakeTimers({ toFake: [...SQS_SERVER_TIMERS, "Date"], shouldAdvanceTime: true });
  local = await startLocalSqs({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
  slack = await fakeSlack();
  world = createAwsWorld({ ledgerBucket: LEDGER });
  pause = fakePauseParameter();
  store = memoryStateStore();
  allowlist = [];
  configMock.reset();
  configMock.on(PutEvaluationsCommand).resolves({});
  kmsMock.reset();
  kmsMock.on(GenerateMacCommand).callsFake(fakeGenerateMac);
  kmsMock.on(VerifyMacCommand).callsFake(fakeVerifyMac);
  cloudTrailMock.reset();
  cloudTrailMock.on(LookupEventsCommand).resolves({ Events: [] });
  world.addGroupFromItem(configItem("AWS_EC2_SecurityGroup", "ssh-open-to-world"));
  world.addBucketFromItem(configItem("AWS_S3_Bucket", "two-public-grants"));
  world.addBucketFromItem(configItem("AWS_S3_Bucket", "two-public-statements"));
  outputsFile = join(tmpdir(), `remedy-e2e-outputs-${process.pid}-${Date.now()}.json`);
  writeFileSync(
    outputsFile,
    JSON.stringify({
      queue_url: { value: local.queueUrl },
      dlq_url: { value: local.dlqUrl },
      pause_parameter: { value: PAUSE_PARAMETER },
      ledger_bucket: { value: LEDGER },
      ledger_mac_key_id: { value: TEST_MAC_KEY_ID },
    }),
  );
});
afterEach(async () => {
  rmSync(outputsFile, { force: true });
  await local.stop();
  await slack.close();
  vi.useRealTimers();
});

describe("the whole pipeline", () => {
  it("off: nothing changes and peek shows exactly what will happen; on: exactly that happens; undo restores it", async () => {
    const initial = structuredClone({ groups: [...world.groups], buckets: [...world.buckets] });
    await detect("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    await detect("AWS_S3_Bucket", "two-public-grants");
    await detect("AWS_S3_Bucket", "two-public-statements");

    // Auto-response off: the schedule is disabled, so no tick runs. Operators peek, as often as they like.
    let peeked: any;
    for (let round = 0; round < 3; round++) {
      const { code, out } = await cli("peek", "--json");
      expect(code).toBe(0);
      peeked = JSON.parse(out);
    }
    const planned = peeked.groups
      .flatMap((group: any) =>
        group.instruction.matched.map((entry: any) => `${group.resource.id} ${entryText(entry)}`),
      )
      .sort();
    expect(planned).toEqual(
      [
        "acme-partner-drop acl AllUsers READ_ACP",
        "acme-partner-drop acl AuthenticatedUsers WRITE",
        "acme-site policy AnyoneCanList",
        "acme-site policy PublicRead",
        "sg-0f1e2d3c4b5a69788 tcp 22 0.0.0.0/0",
      ].sort(),
    );
    expect(world.changes).toEqual([]);
    expect(await local.counts()).toMatchObject({ stored: 3, visible: 3 });

    // On: one tick dispatches everything (all due, under the rate limit); the remediations fix and delete.
    const summary = await tick();
    expect(summary.dispatched).toBe(3);
    expect(world.changes.sort()).toEqual(
      [
        `revoke sg-0f1e2d3c4b5a69788 ${ruleFor("sg-0f1e2d3c4b5a69788", "0.0.0.0/0", 22, initial)}`,
        "put-acl acme-partner-drop",
        "put-policy acme-site",
      ].sort(),
    );
    expect(await local.counts()).toMatchObject({ stored: 0 });
    expect(await local.counts(local.dlqUrl)).toMatchObject({ stored: 0 });

    // Exactly the offending entries are gone; everything else is as it was.
    const group = world.groups.get("sg-0f1e2d3c4b5a69788")!;
    expect(group.rules.map((rule) => `${rule.FromPort} ${rule.CidrIpv4}`).sort()).toEqual([
      "22 10.20.0.0/16",
      "443 0.0.0.0/0",
    ]);
    expect(
      world.buckets
        .get("acme-partner-drop")!
        .acl.Grants!.map((g) => `${g.Grantee!.ID ?? g.Grantee!.URI} ${g.Permission}`),
    ).toEqual([
      "2a8c7d1e9f3b4a5c6d7e8f901a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b FULL_CONTROL",
      "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be READ",
    ]);
    expect(JSON.parse(world.buckets.get("acme-site")!.policy!).Statement.map((s: any) => s.Sid)).toEqual([
      "DenyInsecureTransport",
      "CloudFrontOnly",
    ]);

    // The ledger holds each fix with its exact before-state; Slack heard about each with its undo command.
    const fixed = world.records().filter((record) => record.outcome === "fixed");
    expect(fixed.map((record) => record.resource.id).sort()).toEqual([
      "acme-partner-drop",
      "acme-site",
      "sg-0f1e2d3c4b5a69788",
    ]);
    for (const record of fixed) {
      expect(slackTexts().some((text) => text.includes(`remedy undo ${record.actionId}`))).toBe(true);
    }

    // A second tick finds nothing; a re-detection of the fixed resources queues nothing new.
    expect((await tick()).dispatched).toBe(0);

    // Undo each fix: the live state is back exactly (rules come back under new ids, as EC2 does).
    for (const record of fixed) {
      const { code, out } = await cli("undo", record.actionId, "--yes");
      expect(code).toBe(0);
      expect(out).toContain("Restored.");
    }
    const withoutIds = (rules: any[]) =>
      rules
        .map(({ SecurityGroupRuleId: _id, ...rest }) => rest)
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(withoutIds(world.groups.get("sg-0f1e2d3c4b5a69788")!.rules)).toEqual(
      withoutIds(new Map(initial.groups).get("sg-0f1e2d3c4b5a69788")!.rules),
    );
    // Undo appends exactly the removed grants and statements to the live ACL and policy (it no longer writes the
    // before-state back whole): the same grants and statements as before, in another order, everything else as it was.
    const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
    type Bucket = AwsWorld["buckets"] extends Map<string, infer B> ? B : never;
    const access = (bucket: Bucket | undefined) => {
      const policy = bucket?.policy ? (JSON.parse(bucket.policy) as { Statement: unknown }) : null;
      return {
        ...bucket,
        acl: { ...bucket?.acl, Grants: [...(bucket?.acl.Grants ?? [])].sort(byJson) },
        policy: policy && { ...policy, Statement: [policy.Statement].flat().sort(byJson) },
      };
    };
    for (const name of ["acme-partner-drop", "acme-site"]) {
      expect(access(world.buckets.get(name))).toEqual(access(new Map(initial.buckets).get(name)));
    }
  }, 60_000);

  it("grace period: notified once, hidden until due; an exemption added meanwhile means no action", async () => {
    // Captured now, with a 2-second grace period: due in 2 s.
    const captured = new Date().toISOString();
    await detect("AWS_EC2_SecurityGroup", "ssh-open-to-world", 2_000, (item) => {
      item.configurationItemCaptureTime = captured;
    });
    const first = await tick();
    expect(first).toMatchObject({ dispatched: 0, graceHidden: 1 });
    expect(slackTexts().filter((text) => text.includes("unless"))).toHaveLength(1);
    expect((await tick()).dispatched).toBe(0); // still hidden, and no second notice
    expect(slackTexts()).toHaveLength(1);

    // During the grace period the owner tags the group exempt.
    world.groups.get("sg-0f1e2d3c4b5a69788")!.tags["remedy:exempt"] = "bastion for the migration until=2099-01-01";
    await vi.advanceTimersByTimeAsync(3_000);
    const due = await tick();
    expect(due.dispatched).toBe(1);
    expect(world.changes).toEqual([]);
    const [skip] = world.records();
    expect(skip).toMatchObject({ outcome: "skipped", reason: expect.stringMatching(/exempt/) });
    expect(await local.counts()).toMatchObject({ stored: 0 });
  }, 30_000);

  it("breaker: a burst of fresh violations pauses everything and tells Slack; only a person resumes", async () => {
    // A bad template opens 51 groups at once.
    const item = configItem<Record<string, any>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    for (let n = 0; n < 51; n++) {
      const copy = structuredClone(item);
      copy.resourceId = `sg-0b00000000000${String(n).padStart(4, "0")}`;
      copy.ARN = `arn:aws:ec2:us-east-1:123456789012:security-group/${copy.resourceId}`;
      copy.configurationItemCaptureTime = new Date().toISOString();
      world.addGroupFromItem(copy);
      await detect("AWS_EC2_SecurityGroup", "ssh-open-to-world", 0, (target) => Object.assign(target, copy));
    }
    const tripped = await tick({
      breaker: { freshLimit: 50, windowMinutes: 10 },
      rateLimit: { count: 20, windowMinutes: 10 },
    });
    expect(tripped.dispatched).toBe(0);
    expect(pause.state()).toMatchObject({ paused: true, by: "circuit-breaker" });
    expect(world.changes).toEqual([]);
    expect(slackTexts().some((text) => /breaker/i.test(text) && text.includes("remedy resume"))).toBe(true);
    expect(await local.counts()).toMatchObject({ stored: 51 });

    // Ticks while paused change nothing.
    expect((await tick()).dispatched).toBe(0);

    // A person resumes: the rate limit spreads the backlog (20 now), nothing trips again.
    const resumed = await cli("resume");
    expect(resumed.code).toBe(0);
    const after = await tick({
      breaker: { freshLimit: 50, windowMinutes: 10 },
      rateLimit: { count: 20, windowMinutes: 10 },
    });
    expect(after.dispatched).toBe(20);
    expect(pause.state()).toMatchObject({ paused: false });
    expect(world.changes.filter((change) => change.startsWith("revoke"))).toHaveLength(20);
  }, 60_000);
});

function entryText(entry: any): string {
  if (entry.kind === "sg-rule")
    return `${entry.rule.ipProtocol} ${entry.rule.fromPort} ${entry.rule.cidrIpv4 ?? entry.rule.cidrIpv6}`;
  if (entry.kind === "acl-grant") return `acl ${entry.grant.grantee.uri.split("/").pop()} ${entry.grant.permission}`;
  return `policy ${entry.statement.Sid}`;
}

function ruleFor(groupId: string, cidr: string, port: number, initial: { groups: [string, any][] }): string {
  return new Map(initial.groups)
    .get(groupId)!
    .rules.find((rule: any) => rule.CidrIpv4 === cidr && rule.FromPort === port).SecurityGroupRuleId;
}
