// Bad input at the Config rule runtime: every malformed event is rejected with its reason and nothing reaches
// Config or the queue; malformed items in a scheduled run are skipped and reported while the good ones beside them
// are evaluated and queued exactly as usual.

import {
  BatchGetResourceConfigCommand,
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  GetResourceConfigHistoryCommand,
  ListDiscoveredResourcesCommand,
  PutEvaluationsCommand,
} from "@aws-sdk/client-config-service";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { parseInstruction } from "../../contract/instruction.ts";
import { type RuleRuntimeDeps, runConfigRule } from "../../functions/config-rule/core.ts";
import { driveScan, type MemoryScanQueue, memoryScanQueue, memoryScanStore } from "../config-rule/scan-support.ts";
import { configEvent } from "../fixtures/events.ts";
import { configItem } from "../fixtures/load.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { testDeployment } from "../remediation/support.ts";
import { eventCases, type ItemMutation, s3ItemMutations, sgItemMutations } from "./config-cases.ts";
import { clone, seededRandom } from "./generate.ts";

const CONFIG_SEED = 0x5eed_c0f1;

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
const NOW = new Date("2026-11-20T10:00:00.000Z");

type Json = Record<string, unknown>;

function deps() {
  const log = recordingLog();
  const metrics = recordingMetrics();
  const d: RuleRuntimeDeps = {
    configService: new ConfigServiceClient({}),
    sqs: new SQSClient({}),
    queueUrl: QUEUE_URL,
    deployment: testDeployment(),
    accountFacts: async () => ({ s3PublicAccessBlock: null }),
    allowlist: [],
    gracePeriodMs: 0,
    now: () => NOW,
    log,
    metrics,
    scanQueue: memoryScanQueue(),
  };
  return { log, metrics, deps: d };
}

const evaluationsSent = () =>
  configMock.commandCalls(PutEvaluationsCommand).flatMap((call) => call.args[0].input.Evaluations ?? []);
const instructionsSent = () =>
  sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody));

beforeEach(() => {
  configMock.reset();
  sqsMock.reset();
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
  sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
});

/** Config's BatchGetResourceConfig / GetResourceConfigHistory shape, keeping whatever a mutation broke. */
function asBaseItem(item: Json): Json {
  const capture = item.configurationItemCaptureTime;
  const supplementary = item.supplementaryConfiguration;
  const base: Json = {
    version: item.configurationItemVersion,
    accountId: item.awsAccountId,
    configurationItemCaptureTime:
      typeof capture === "string" && /^\d{4}-\d\d-\d\dT/.test(capture) && !Number.isNaN(Date.parse(capture))
        ? new Date(capture)
        : capture,
    configurationItemStatus: item.configurationItemStatus,
    arn: item.ARN,
    resourceType: item.resourceType,
    resourceId: item.resourceId,
    resourceName: item.resourceName,
    awsRegion: item.awsRegion,
    configuration: typeof item.configuration === "string" ? item.configuration : JSON.stringify(item.configuration),
    supplementaryConfiguration:
      typeof supplementary === "object" && supplementary !== null && !Array.isArray(supplementary)
        ? Object.fromEntries(
            Object.entries(supplementary).map(([key, value]) => [
              key,
              typeof value === "string" ? value : JSON.stringify(value),
            ]),
          )
        : supplementary,
  };
  for (const key of Object.keys(base)) if (!(key in item) && key !== "accountId" && key !== "arn") delete base[key];
  if (!("awsAccountId" in item)) delete base.accountId;
  return base;
}

const EVENT_CASES = eventCases(seededRandom(CONFIG_SEED));

describe("malformed Config rule events are rejected with their reason, and nothing partial is sent", () => {
  it("generates enough cases", () => {
    expect(EVENT_CASES.length).toBeGreaterThanOrEqual(700);
    expect(new Set(EVENT_CASES.map((c) => c.name)).size).toBe(EVENT_CASES.length);
  });

  it.each(EVENT_CASES.map((c) => [c.name, c] as const))("%s", async (_name, testCase) => {
    const { deps: d, log, metrics } = deps();
    const result = await runConfigRule(clone(testCase.event), d);
    expect(result.outcome).toBe("rejected");
    const reason = result.outcome === "rejected" ? result.reason : "";
    expect(reason).toMatch(/^(InvalidEventError|RuleParameterError): /);
    expect(reason).toMatch(testCase.reason);
    expect(log.errors()).toHaveLength(1);
    expect(log.errors()[0]!.message).toBe("rejected Config rule event");
    expect(`${log.errors()[0]!.fields.errorName}: ${log.errors()[0]!.fields.errorMessage}`).toBe(reason);
    expect(metrics.counts.InvalidEvents).toBe(1);
    expect(configMock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
  });
});

describe("an oversized notification whose fetched item is malformed is rejected", () => {
  const oversized = () => configEvent("OversizedConfigurationItemChangeNotification", "sg");
  const open = () => {
    const item = configItem<Json>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    item.resourceId = "sg-0f1e2d3c4b5a69788";
    return item;
  };
  const cases: [string, ItemMutation][] = sgItemMutations().map((m) => [m.name, m]);
  it("generates enough cases", () => expect(cases.length).toBeGreaterThanOrEqual(200));

  it.each(cases)("%s", async (_name, mutation) => {
    const item = open();
    mutation.apply(item);
    configMock.on(GetResourceConfigHistoryCommand).resolves({ configurationItems: [asBaseItem(item) as never] });
    const { deps: d, log } = deps();
    const result = await runConfigRule(oversized(), d);
    expect(result).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(mutation.reason) });
    expect(log.errors()).toHaveLength(1);
    expect(configMock.commandCalls(GetResourceConfigHistoryCommand)).toHaveLength(1);
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("a history with no item is rejected too", async () => {
    configMock.on(GetResourceConfigHistoryCommand).resolves({ configurationItems: [] });
    const { deps: d } = deps();
    expect(await runConfigRule(oversized(), d)).toMatchObject({
      outcome: "rejected",
      reason: expect.stringMatching(/GetResourceConfigHistory returned no item/),
    });
    expect(sqsMock.calls()).toHaveLength(0);
  });
});

interface Scheduled {
  rule: string;
  variant: "sg" | "s3";
  folder: string;
  /** [fixture, expected compliance] of the good items. */
  good: [string, "COMPLIANT" | "NON_COMPLIANT"][];
  /** A non-compliant fixture the bad items are made from: a mutation that went unnoticed would queue a fix. */
  badFrom: string;
  mutations: ItemMutation[];
  idPrefix: string;
  arn: (id: string) => string;
}

const SCHEDULED: Scheduled[] = [
  {
    rule: "remedy-sg-open-ingress",
    variant: "sg",
    folder: "AWS_EC2_SecurityGroup",
    good: [
      ["ssh-open-to-world", "NON_COMPLIANT"],
      ["web-only", "COMPLIANT"],
      ["compliant-private-only", "COMPLIANT"],
      ["port-range-open", "NON_COMPLIANT"],
    ],
    badFrom: "ssh-open-to-world",
    mutations: sgItemMutations(),
    idPrefix: "sg-",
    arn: (id) => `arn:aws:ec2:us-east-1:123456789012:security-group/${id}`,
  },
  {
    rule: "remedy-s3-public",
    variant: "s3",
    folder: "AWS_S3_Bucket",
    good: [
      ["public-read-acl", "NON_COMPLIANT"],
      ["private", "COMPLIANT"],
      ["two-public-statements", "NON_COMPLIANT"],
    ],
    badFrom: "public-read-acl",
    mutations: s3ItemMutations(),
    idPrefix: "bucket-",
    arn: (id) => `arn:aws:s3:::${id}`,
  },
];

describe.each(SCHEDULED.map((s) => [s.variant, s] as const))(
  "a scheduled %s run with malformed items beside good ones",
  (_variant, s) => {
    it("evaluates and queues every good item, and skips and reports every bad one with its reason", async () => {
      const random = seededRandom(CONFIG_SEED + (s.variant === "sg" ? 1 : 2));
      const good = Array.from({ length: 60 }, (_, n) => {
        const [variant, compliance] = s.good[n % s.good.length]!;
        const id = `${s.idPrefix}good-${String(n).padStart(3, "0")}`;
        const item = configItem<Json>(s.folder, variant);
        Object.assign(item, { resourceId: id, resourceName: id, ARN: s.arn(id) });
        if (s.variant === "s3") (item.configuration as Json).name = id;
        return { id, compliance, bad: false as const, raw: asBaseItem(item) };
      });
      const bad = s.mutations.map((mutation, n) => {
        const id = `${s.idPrefix}bad-${String(n).padStart(3, "0")}`;
        const item = configItem<Json>(s.folder, s.badFrom);
        Object.assign(item, { resourceId: id, resourceName: id, ARN: s.arn(id) });
        mutation.apply(item);
        return { id, mutation, bad: true as const, raw: asBaseItem(item) };
      });
      expect(bad.length).toBeGreaterThanOrEqual(s.variant === "sg" ? 200 : 80);
      const all = random.shuffle([...good, ...bad]);
      const byId = new Map(all.map((entry) => [entry.id, entry.raw]));
      const pageSize = 150;
      configMock.on(ListDiscoveredResourcesCommand).callsFake((input: { nextToken?: string }) => {
        const start = Number(input.nextToken ?? 0);
        const next = start + pageSize;
        return {
          resourceIdentifiers: all.slice(start, next).map((entry) => ({ resourceId: entry.id })),
          ...(next < all.length ? { nextToken: String(next) } : {}),
        };
      });
      configMock.on(BatchGetResourceConfigCommand).callsFake((input: { resourceKeys: { resourceId: string }[] }) => ({
        baseConfigurationItems: input.resourceKeys.map((key) => clone(byId.get(key.resourceId)!)),
        unprocessedResourceKeys: [],
      }));

      const { deps: d, log, metrics } = deps();
      const event = configEvent("ScheduledNotification", s.variant);
      await runConfigRule({ ...event, configRuleName: s.rule }, d);
      const scan = await driveScan(d.scanQueue as MemoryScanQueue, {
        ...d,
        scanStore: memoryScanStore(),
        safetyMarginMs: 1_000,
      });
      expect(scan.failures).toEqual([]);
      const skippedItems = scan.results.reduce((sum, r) => sum + (r.kind === "judge" ? r.skippedItems : 0), 0);

      const goodInOrder = all.filter((entry) => !entry.bad) as typeof good;
      const badInOrder = all.filter((entry) => entry.bad) as typeof bad;
      expect(skippedItems).toBe(bad.length);
      expect(evaluationsSent().map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual(
        goodInOrder.map((entry) => [entry.id, entry.compliance]),
      );
      const nonCompliant = goodInOrder.filter((entry) => entry.compliance === "NON_COMPLIANT").map((e) => e.id);
      expect([...new Set(instructionsSent().map((i) => i.resource.id))]).toEqual(nonCompliant);
      expect(metrics.counts.InvalidConfigurationItems).toBe(bad.length);

      const skipped = log.errors();
      expect(skipped.map((line) => line.message)).toEqual(
        bad.map(() => "skipped a configuration item that cannot be judged"),
      );
      skipped.forEach((line, index) => {
        const entry = badInOrder[index]!;
        expect(line.fields, entry.mutation.name).toMatchObject({ errorName: "InvalidConfigItemError" });
        expect(line.fields.resourceId, entry.mutation.name).toEqual(entry.raw.resourceId);
        expect(line.fields.errorMessage, entry.mutation.name).toMatch(entry.mutation.reason);
      });
    });
  },
);
