// The periodic scan in pages (functions/config-rule/scan.ts): what it reports to Config (only what changed), what
// it queues (every violation), how it hands the rest on when its time runs out (losing nothing), and what it refuses.
import {
  BatchGetResourceConfigCommand,
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  ListDiscoveredResourcesCommand,
  PutEvaluationsCommand,
} from "@aws-sdk/client-config-service";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { parseInstruction } from "../../contract/instruction.ts";
import {
  InvalidScanTaskError,
  parseScanTask,
  runScanBatch,
  runScanTask,
  type ScanDeps,
  type ScanTask,
  startScan,
} from "../../functions/config-rule/scan.ts";
import { configItem } from "../fixtures/load.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { testDeployment } from "../remediation/support.ts";
import { asBaseItem, driveScan, type MemoryScanQueue, memoryScanQueue, memoryScanStore } from "./scan-support.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const RULE = "remedy-sg-open-ingress";
const NOW = new Date("2026-11-20T10:00:00.000Z");
const SG = "AWS::EC2::SecurityGroup";

/** Group ids sg-000…0 to sg-…n−1; every 10th is open to the world, the rest allow only the office. */
const groupId = (n: number) => `sg-${n.toString(16).padStart(17, "0")}`;
const isOpen = (id: string) => Number.parseInt(id.slice(3), 16) % 10 === 0;
function groupItem(id: string) {
  const item = configItem<Record<string, any>>(
    "AWS_EC2_SecurityGroup",
    isOpen(id) ? "ssh-open-to-world" : "compliant-private-only",
  );
  return asBaseItem({ ...item, resourceId: id, configuration: { ...item.configuration, groupId: id, tags: [] } });
}

/** Config with `count` groups, listed `pageSize` at a time, holding `recorded` results for the rule. */
function configWith(count: number, recorded: [string, string][] = [], pageSize = 100) {
  const ids = Array.from({ length: count }, (_, n) => groupId(n));
  configMock.on(ListDiscoveredResourcesCommand).callsFake((input: { nextToken?: string }) => {
    const start = Number(input.nextToken ?? 0);
    const next = start + pageSize;
    return {
      resourceIdentifiers: ids.slice(start, next).map((resourceId) => ({ resourceType: SG, resourceId })),
      nextToken: next < ids.length ? String(next) : undefined,
    };
  });
  configMock.on(GetComplianceDetailsByConfigRuleCommand).callsFake((input: { NextToken?: string }) => {
    const start = Number(input.NextToken ?? 0);
    const next = start + 100;
    return {
      EvaluationResults: recorded.slice(start, next).map(([id, type]) => ({
        EvaluationResultIdentifier: {
          EvaluationResultQualifier: { ConfigRuleName: RULE, ResourceType: SG, ResourceId: id },
        },
        ComplianceType: type,
      })),
      NextToken: next < recorded.length ? String(next) : undefined,
    };
  });
  configMock.on(BatchGetResourceConfigCommand).callsFake((input: { resourceKeys: { resourceId: string }[] }) => ({
    baseConfigurationItems: input.resourceKeys.map(({ resourceId }) => groupItem(resourceId)),
  }));
  return ids;
}

function scanDeps(overrides: Partial<ScanDeps> = {}) {
  const log = recordingLog();
  const metrics = recordingMetrics();
  const queue = memoryScanQueue();
  const deps = {
    configService: new ConfigServiceClient({}),
    sqs: new SQSClient({}),
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    deployment: testDeployment(),
    accountFacts: async () => ({ s3PublicAccessBlock: null }),
    allowlist: [],
    gracePeriodMs: 0,
    now: () => NOW,
    log,
    metrics,
    scanQueue: queue,
    scanStore: memoryScanStore(),
    safetyMarginMs: 30_000,
    ...overrides,
  } satisfies Omit<ScanDeps, "remainingTimeMs">;
  return { deps, queue, log, metrics };
}

async function scan(resultToken = "token", deps = scanDeps(), budgetFor?: (invocation: number) => () => number) {
  await startScan(deps.deps, { configRuleName: RULE, resultToken });
  return { ...(await driveScan(deps.queue, deps.deps, { budgetFor })), ...deps };
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
  sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
});

describe("what a scan reports and queues", () => {
  it("reports every verdict when Config holds none (the first scan), and queues every violation", async () => {
    const ids = configWith(250);
    const run = await scan();
    expect(run.failures).toEqual([]);
    expect(evaluationsSent().map((e) => e.ComplianceResourceId)).toEqual(ids);
    expect(evaluationsSent().filter((e) => e.ComplianceType === "NON_COMPLIANT")).toHaveLength(25);
    expect(instructionsSent().map((i) => i.resource.id)).toEqual(ids.filter(isOpen));
    expect(run.tasks.map((t) => t.kind)).toEqual(["verdicts", "list", "judge", "judge", "judge"]);
  });

  it("reports only verdicts that differ from what Config holds; still queues every violation", async () => {
    const ids = Array.from({ length: 100 }, (_, n) => groupId(n));
    // Held as judged now, except: sg 0 held COMPLIANT (it is open now), sg 1 held NON_COMPLIANT (closed now), sg 2
    // held nothing.
    const held: [string, string][] = ids
      .filter((id) => id !== groupId(2))
      .map((id) => [id, isOpen(id) ? "NON_COMPLIANT" : "COMPLIANT"]);
    held[0] = [groupId(0), "COMPLIANT"];
    held[1] = [groupId(1), "NON_COMPLIANT"];
    configWith(100, held);
    const run = await scan();
    expect(run.failures).toEqual([]);
    expect(evaluationsSent().map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      [groupId(0), "NON_COMPLIANT"],
      [groupId(1), "COMPLIANT"],
      [groupId(2), "COMPLIANT"],
    ]);
    expect(instructionsSent().map((i) => i.resource.id)).toEqual(ids.filter(isOpen));
    expect(run.results.filter((r) => r.kind === "judge")).toMatchObject([
      { judged: 100, reported: 3, unchanged: 97, queued: 10 },
    ]);
    expect(run.metrics.counts.UnchangedVerdicts).toBe(97);
  });

  it("queues violations before reporting, so a result token Config no longer honours loses no fix", async () => {
    configWith(30);
    configMock
      .on(PutEvaluationsCommand)
      .rejects(
        Object.assign(new Error("The resultToken provided is invalid"), { name: "InvalidResultTokenException" }),
      );
    const run = await scan();
    expect(run.failures).toEqual([]);
    expect(instructionsSent().map((i) => i.resource.id)).toEqual([groupId(0), groupId(10), groupId(20)]);
    expect(run.results.filter((r) => r.kind === "judge")).toMatchObject([{ judged: 30, reported: 0, queued: 3 }]);
    expect(run.metrics.counts.ExpiredScanTokens).toBe(1);
    expect(run.log.errors()).toMatchObject([{ fields: { step: "token-refused", unreported: 30 } }]);
  });

  it("any other failure to report fails the task (the queue retries it)", async () => {
    configWith(30);
    configMock
      .on(PutEvaluationsCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    const run = await scan();
    expect(run.failures).toEqual(["judge: Rate exceeded"]);
  });

  it("a test-mode scan (TESTMODE token) reports in test mode and queues nothing", async () => {
    configWith(20);
    await scan("TESTMODE");
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, { TestMode: true });
    expect(instructionsSent()).toEqual([]);
  });
});

describe("time budget", () => {
  /** An invocation whose time runs out after `calls` Config calls (each call counts down the clock). */
  const budgetOfCalls = (calls: number) => () => {
    const start = configMock.calls().length;
    return () => (configMock.calls().length - start < calls ? 200_000 : 10_000);
  };

  it("a task out of time hands the rest on, and the scan loses nothing", async () => {
    const ids = Array.from({ length: 1_000 }, (_, n) => groupId(n));
    const held: [string, string][] = ids.slice(0, 450).map((id) => [id, isOpen(id) ? "NON_COMPLIANT" : "COMPLIANT"]);
    configWith(1_000, held, 100);
    const run = await scan("token", scanDeps(), budgetOfCalls(2));
    expect(run.failures).toEqual([]);
    const kinds = run.tasks.map((t) => t.kind);
    // 5 pages of recorded verdicts, two per invocation: three verdicts tasks (three parts); ten pages of resources,
    // two per list task: five list tasks; one judge task per page.
    expect(kinds.filter((k) => k === "verdicts")).toHaveLength(3);
    expect(kinds.filter((k) => k === "list")).toHaveLength(5);
    expect(kinds.filter((k) => k === "judge")).toHaveLength(10);
    // The same outcome as a scan with all the time in the world: the 550 resources Config held nothing for.
    expect(evaluationsSent().map((e) => e.ComplianceResourceId)).toEqual(ids.slice(450));
    expect(instructionsSent()).toHaveLength(100);
  });

  it("hands on where the listing stopped (type, token and parts), after at least one page", async () => {
    configWith(300, [], 100);
    const { deps, queue } = scanDeps();
    const task: ScanTask = {
      kind: "list",
      version: 1,
      scanId: "0b7e6a52-3f0e-4a8e-9c1d-2f4b5a6c7d8e",
      configRuleName: RULE,
      resultToken: "token",
      startedAt: NOW.toISOString(),
      parts: 1,
      typeIndex: 0,
    };
    await deps.scanStore.putPart(task.scanId, 0, new Uint8Array());
    // Out of time from the start: still one page (a chain of tasks always gets somewhere), then the rest handed on.
    const result = await runScanTask(task, { ...deps, remainingTimeMs: () => 1_000 });
    expect(result).toMatchObject({ kind: "list", listed: 100, judgeTasks: 1, handedOn: true });
    expect(queue.sent.at(-1)).toEqual({ ...task, nextToken: "100" });
  });
});

describe("tasks are claims", () => {
  const task = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      kind: "judge",
      version: 1,
      scanId: "0b7e6a52-3f0e-4a8e-9c1d-2f4b5a6c7d8e",
      configRuleName: RULE,
      resultToken: "token",
      startedAt: NOW.toISOString(),
      resourceType: SG,
      resources: [{ id: groupId(10), recorded: "NON_COMPLIANT" }],
      ...over,
    });

  it.each([
    ["not JSON", "{", /scan task is not JSON/],
    ["another version", task({ version: 2 }), /version/],
    ["an unknown kind", task({ kind: "delete" }), /kind/],
    ["more than a page", task({ resources: Array.from({ length: 101 }, (_, n) => ({ id: groupId(n) })) }), /resources/],
    ["an unknown field", task({ extra: 1 }), /extra/],
    ["a made-up verdict", task({ resources: [{ id: "sg-1", recorded: "FINE" }] }), /recorded/],
  ])("refuses %s with a clear error", (_name, body, message) => {
    expect(() => parseScanTask(body)).toThrow(InvalidScanTaskError);
    expect(() => parseScanTask(body)).toThrow(message);
  });

  it("refuses a rule this stack did not deploy, before reading anything", async () => {
    const { deps } = scanDeps();
    await expect(
      runScanTask(parseScanTask(task({ configRuleName: "someone-elses-rule" })), {
        ...deps,
        remainingTimeMs: () => 1e6,
      }),
    ).rejects.toThrow(/not one of this deployment's rules/);
    expect(configMock.calls()).toHaveLength(0);
  });

  it("a task's recorded verdict only decides what is re-sent: a violation is queued whatever it claims", async () => {
    configWith(20);
    const { deps } = scanDeps();
    const claim = parseScanTask(task({ resources: [{ id: groupId(10), recorded: "NON_COMPLIANT" }] }));
    const result = await runScanTask(claim, { ...deps, remainingTimeMs: () => 1e6 });
    expect(result).toMatchObject({ judged: 1, reported: 0, queued: 1 });
    expect(instructionsSent().map((i) => i.resource.id)).toEqual([groupId(10)]);
  });

  it("one bad message in a batch is dead-lettered with its reason; the good one beside it runs", async () => {
    configWith(20);
    const { deps } = scanDeps();
    const outcome = await runScanBatch(
      {
        Records: [
          { messageId: "bad", body: task({ version: 9 }) },
          { messageId: "good", body: task() },
        ],
      },
      { ...deps, remainingTimeMs: () => 1e6, scanDeadLetterUrl: "https://sqs.example/remedy-scan-dlq" },
    );
    expect(outcome).toEqual({ batchItemFailures: [] });
    const [dead, instruction] = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(dead!.QueueUrl).toBe("https://sqs.example/remedy-scan-dlq");
    expect(dead!.Entries![0]!.MessageAttributes!.reason!.StringValue).toMatch(/version/);
    expect(parseInstruction(instruction!.Entries![0]!.MessageBody!).resource.id).toBe(groupId(10));
  });

  it("a task that fails for a transient reason is left to the queue to retry", async () => {
    configMock
      .on(BatchGetResourceConfigCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    const { deps, log } = scanDeps();
    const outcome = await runScanBatch(
      { Records: [{ messageId: "m1", body: task(), attributes: { ApproximateReceiveCount: "2" } }] },
      { ...deps, remainingTimeMs: () => 1e6, scanDeadLetterUrl: "dlq" },
    );
    expect(outcome).toEqual({ batchItemFailures: [{ itemIdentifier: "m1" }] });
    expect(log.errors()).toMatchObject([
      { fields: { messageId: "m1", receiveCount: "2", errorName: "ThrottlingException" } },
    ]);
  });
});
