import {
  BatchGetResourceConfigCommand,
  type ComplianceType,
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  GetComplianceDetailsByResourceCommand,
  GetResourceConfigHistoryCommand,
  ListDiscoveredResourcesCommand,
  PutEvaluationsCommand,
} from "@aws-sdk/client-config-service";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { parseInstruction } from "../../contract/instruction.ts";
import { parseAllowlist } from "../../detection/exemptions.ts";
import { type RuleRuntimeDeps, runConfigRule } from "../../functions/config-rule/core.ts";
import { MessageSendError } from "../../platform/queue.ts";
import { changeEvent, configEvent } from "../fixtures/events.ts";
import { configItem, fixture } from "../fixtures/load.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { testDeployment } from "../remediation/support.ts";
import { asBaseItem, driveScan, type MemoryScanQueue, memoryScanQueue, memoryScanStore } from "./scan-support.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
const NOW = new Date("2026-11-20T10:00:00.000Z");

function deps(overrides: Partial<RuleRuntimeDeps> = {}) {
  const log = recordingLog();
  const metrics = recordingMetrics();
  return {
    log,
    metrics,
    deps: {
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
      ...overrides,
    } satisfies RuleRuntimeDeps,
  };
}

function evaluationsSent() {
  return configMock.commandCalls(PutEvaluationsCommand).flatMap((call) => call.args[0].input.Evaluations ?? []);
}
function instructionsSent() {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody));
}

beforeEach(() => {
  configMock.reset();
  sqsMock.reset();
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  // Config holds no result for the rule yet: a scan reports every verdict.
  configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
  sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
});

describe("ConfigurationItemChangeNotification", () => {
  it("reports NON_COMPLIANT with the result token and capture time, and queues exactly the offending entry", async () => {
    const event = configEvent("ConfigurationItemChangeNotification", "sg-ssh-open");
    const { deps: d } = deps();
    const result = await runConfigRule(event, d);

    expect(result.outcome).toBe("evaluated");
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, {
      ResultToken: event.resultToken as string,
      TestMode: false,
    });
    const [evaluation] = evaluationsSent();
    expect(evaluation).toMatchObject({
      ComplianceResourceType: "AWS::EC2::SecurityGroup",
      ComplianceResourceId: "sg-0f1e2d3c4b5a69788",
      ComplianceType: "NON_COMPLIANT",
      OrderingTimestamp: new Date("2026-11-20T09:58:12.412Z"),
    });
    expect(evaluation!.Annotation).toContain("22");

    const [instruction, ...rest] = instructionsSent();
    expect(rest).toEqual([]);
    expect(instruction).toMatchObject({
      problem: "sg-open-ingress",
      resource: {
        type: "AWS::EC2::SecurityGroup",
        id: "sg-0f1e2d3c4b5a69788",
        arn: "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0f1e2d3c4b5a69788",
        accountId: "123456789012",
        region: "us-east-1",
      },
      rule: {
        id: "sg-open-ingress",
        configRuleName: "remedy-sg-open-ingress",
        parameters: { authorizedPorts: "tcp:80,tcp:443" },
      },
      capturedAt: "2026-11-20T09:58:12.412Z",
      detectedAt: NOW.toISOString(),
      notBefore: "2026-11-20T09:58:12.412Z",
    });
    // The private CIDR in the same permission and the authorized 443 rule are never part of the fix.
    expect(instruction!.matched).toEqual([
      {
        kind: "sg-rule",
        rule: expect.objectContaining({ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }),
      },
    ]);
  });

  it("sets notBefore from the grace period, counted from the capture time", async () => {
    const { deps: d } = deps({ gracePeriodMs: 60 * 60_000 });
    await runConfigRule(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), d);
    expect(instructionsSent()[0]!.notBefore).toBe("2026-11-20T10:58:12.412Z");
  });

  it("reports a deleted resource NOT_APPLICABLE and queues nothing", async () => {
    const { deps: d } = deps();
    await runConfigRule(configEvent("ConfigurationItemChangeNotification", "sg-deleted"), d);
    expect(evaluationsSent()).toMatchObject([
      { ComplianceType: "NOT_APPLICABLE", ComplianceResourceId: "sg-0f1e2d3c4b5a69788" },
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it("reports eventLeftScope NOT_APPLICABLE and queues nothing, even for an open group", async () => {
    const { deps: d } = deps();
    await runConfigRule(configEvent("ConfigurationItemChangeNotification", "sg-left-scope"), d);
    expect(evaluationsSent()).toMatchObject([{ ComplianceType: "NOT_APPLICABLE" }]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it("reports other resource types NOT_APPLICABLE", async () => {
    const { deps: d } = deps();
    await runConfigRule(changeEvent(configItem("AWS_S3_Bucket", "public-read-acl")), d);
    expect(evaluationsSent()).toMatchObject([
      { ComplianceType: "NOT_APPLICABLE", ComplianceResourceType: "AWS::S3::Bucket" },
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  it("judges S3 buckets: two public grants and two public statements are all queued", async () => {
    const { deps: d } = deps();
    await runConfigRule(
      changeEvent(configItem("AWS_S3_Bucket", "two-public-grants"), { configRuleName: "remedy-s3-public" }),
      d,
    );
    await runConfigRule(
      changeEvent(configItem("AWS_S3_Bucket", "two-public-statements"), { configRuleName: "remedy-s3-public" }),
      d,
    );
    const byProblem = Object.fromEntries(instructionsSent().map((i) => [i.problem, i.matched.length]));
    expect(byProblem).toEqual({ "s3-public-acl": 2, "s3-public-policy": 2 });
  });

  it("judges buckets with the account's Block Public Access, read once per invocation for the rules that use it", async () => {
    const asked: [string, readonly string[]][] = [];
    const { deps: d } = deps({
      accountFacts: async (accountId, wanted) => {
        asked.push([accountId, wanted]);
        return { s3PublicAccessBlock: { IgnorePublicAcls: true } };
      },
    });
    await runConfigRule(
      changeEvent(configItem("AWS_S3_Bucket", "two-public-grants"), { configRuleName: "remedy-s3-public" }),
      d,
    );
    expect(asked).toEqual([["123456789012", ["s3PublicAccessBlock"]]]);
    const [evaluation] = evaluationsSent();
    expect(evaluation).toMatchObject({ ComplianceType: "COMPLIANT" });
    expect(evaluation!.Annotation).toMatch(/account's Block Public Access \(IgnorePublicAcls\)/);
    expect(instructionsSent()).toEqual([]);
    // The SG rule uses no account facts: nothing is read for it.
    await runConfigRule(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), d);
    expect(asked).toHaveLength(1);
  });

  it("an account setting that could not be read judges with the bucket's own flags (never a false COMPLIANT)", async () => {
    const { deps: d } = deps({ accountFacts: async () => ({}) });
    await runConfigRule(
      changeEvent(configItem("AWS_S3_Bucket", "two-public-grants"), { configRuleName: "remedy-s3-public" }),
      d,
    );
    expect(evaluationsSent()[0]).toMatchObject({ ComplianceType: "NON_COMPLIANT" });
    expect(instructionsSent().map((instruction) => instruction.problem)).toEqual(["s3-public-acl"]);
  });

  it("cuts annotations to Config's 256-character limit", async () => {
    const item = configItem<Record<string, any>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    item.configuration.ipPermissions = Array.from({ length: 40 }, (_, index) => ({
      ipProtocol: "tcp",
      fromPort: 1000 + index,
      toPort: 1000 + index,
      ipv4Ranges: [{ cidrIp: "0.0.0.0/0" }],
      ipRanges: ["0.0.0.0/0"],
      ipv6Ranges: [],
      prefixListIds: [],
      userIdGroupPairs: [],
    }));
    const { deps: d } = deps();
    await runConfigRule(changeEvent(item), d);
    const [evaluation] = evaluationsSent();
    expect(Array.from(evaluation!.Annotation!).length).toBeLessThanOrEqual(256);
    expect(evaluation!.Annotation!.endsWith("…")).toBe(true);
    expect(instructionsSent()[0]!.matched).toHaveLength(40);
  });

  it("uses TestMode for Config's console test token", async () => {
    const { deps: d } = deps();
    await runConfigRule(
      { ...configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), resultToken: "TESTMODE" },
      d,
    );
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, { TestMode: true });
  });
});

describe("exemptions are checked first", () => {
  it("an exempt violation is NON_COMPLIANT with the exemption and expiry in the annotation, and nothing is queued", async () => {
    const item = configItem<Record<string, any>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    item.tags = { "remedy:exempt": "vendor VPN appliance until=2026-12-31" };
    const { deps: d } = deps();
    const result = await runConfigRule(changeEvent(item), d);
    const [evaluation] = evaluationsSent();
    expect(evaluation!.ComplianceType).toBe("NON_COMPLIANT");
    expect(evaluation!.Annotation).toMatch(/exempt by tag remedy:exempt until 2026-12-31: vendor VPN appliance/);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(result).toMatchObject({ exemptFindings: expect.any(Number) });
  });

  it("an allowlist entry exempts only the problems it names", async () => {
    const item = configItem("AWS_S3_Bucket", "two-public-grants");
    const { deps: d } = deps({
      allowlist: parseAllowlist([
        {
          resource: "arn:aws:s3:::*",
          problems: ["s3-public-policy"],
          reason: "static site",
          owner: "web@example.com",
          expires: "2027-01-31",
        },
      ]).entries,
    });
    await runConfigRule(changeEvent(item, { configRuleName: "remedy-s3-public" }), d);
    expect(instructionsSent().map((i) => i.problem)).toEqual(["s3-public-acl"]);
  });

  it("an expired exemption no longer applies", async () => {
    const item = configItem<Record<string, any>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    item.tags = { "remedy:exempt": "migration until=2026-11-19" };
    const { deps: d, log } = deps();
    await runConfigRule(changeEvent(item), d);
    expect(instructionsSent()).toHaveLength(1);
    expect(evaluationsSent()[0]!.Annotation).toMatch(/expired/);
    expect(log.lines.some((line) => line.level === "warn" && /expired/.test(line.message))).toBe(true);
  });
});

describe("OversizedConfigurationItemChangeNotification", () => {
  it("fetches the item with GetResourceConfigHistory and judges it", async () => {
    configMock
      .on(GetResourceConfigHistoryCommand)
      .resolves(
        fixture("config-events/OversizedConfigurationItemChangeNotification/sg.get-resource-config-history.json"),
      );
    const { deps: d } = deps();
    await runConfigRule(configEvent("OversizedConfigurationItemChangeNotification", "sg"), d);
    expect(configMock).toHaveReceivedCommandWith(GetResourceConfigHistoryCommand, {
      resourceType: "AWS::EC2::SecurityGroup",
      resourceId: "sg-0f1e2d3c4b5a69788",
      limit: 1,
    });
    expect(evaluationsSent()).toMatchObject([{ ComplianceType: "NON_COMPLIANT" }]);
    expect(instructionsSent()).toHaveLength(1);
  });

  it("reports a deleted resource NOT_APPLICABLE without fetching it", async () => {
    const { deps: d } = deps();
    await runConfigRule(configEvent("OversizedConfigurationItemChangeNotification", "sg-deleted"), d);
    expect(configMock.commandCalls(GetResourceConfigHistoryCommand)).toHaveLength(0);
    expect(evaluationsSent()).toMatchObject([{ ComplianceType: "NOT_APPLICABLE" }]);
  });
});

/** GetResourceConfigHistory's shape: a BaseConfigurationItem's fields plus the tags (a map) and relationships. */
function asHistoryItem(item: Record<string, any>) {
  return { ...asBaseItem(item), tags: item.tags ?? {}, relationships: item.relationships ?? [] };
}

/** A ScheduledNotification starts a scan; the scan's tasks then run as the scan queue would hand them out. */
async function scheduledRun(event: Record<string, unknown>, d: RuleRuntimeDeps) {
  const started = await runConfigRule(event, d);
  expect(started).toMatchObject({ outcome: "scan-started" });
  const scan = await driveScan(d.scanQueue as MemoryScanQueue, {
    ...d,
    scanStore: memoryScanStore(),
    safetyMarginMs: 1_000,
  });
  expect(scan.failures).toEqual([]);
  const skippedItems = scan.results.reduce((sum, r) => sum + (r.kind === "judge" ? r.skippedItems : 0), 0);
  return { ...scan, skippedItems };
}

describe("a change that leaves the verdict as Config holds it", () => {
  const held = (ComplianceType: ComplianceType, Annotation?: string, ConfigRuleName = "remedy-sg-open-ingress") => ({
    EvaluationResults: [
      {
        EvaluationResultIdentifier: {
          EvaluationResultQualifier: {
            ConfigRuleName,
            ResourceType: "AWS::EC2::SecurityGroup",
            ResourceId: "sg-0f1e2d3c4b5a69788",
          },
        },
        ComplianceType,
        Annotation,
      },
    ],
  });
  const event = () => configEvent("ConfigurationItemChangeNotification", "sg-ssh-open");
  async function judgedAnnotation() {
    const { deps: d } = deps();
    configMock.on(GetComplianceDetailsByResourceCommand).resolves({ EvaluationResults: [] });
    await runConfigRule(event(), d);
    const annotation = evaluationsSent()[0]!.Annotation!;
    configMock.resetHistory();
    sqsMock.resetHistory();
    return annotation;
  }

  it("is not sent again (each evaluation sent is billed), and its violation is still queued", async () => {
    const annotation = await judgedAnnotation();
    configMock.on(GetComplianceDetailsByResourceCommand).resolves(held("NON_COMPLIANT", annotation));
    const { deps: d, metrics } = deps();
    const result = await runConfigRule(event(), d);
    expect(configMock).not.toHaveReceivedCommand(PutEvaluationsCommand);
    expect(result).toMatchObject({ outcome: "evaluated", unchanged: 1 });
    expect(instructionsSent()).toHaveLength(1);
    expect(metrics.counts.UnchangedVerdicts).toBe(1);
    expect(metrics.counts.Evaluations ?? 0).toBe(0);
  });

  it.each([
    ["another compliance", () => held("COMPLIANT")],
    ["the same compliance with another annotation", () => held("NON_COMPLIANT", "tcp 3389 open")],
    ["another rule's result only", () => held("NON_COMPLIANT", undefined, "someone-elses-rule")],
    ["no result", () => ({ EvaluationResults: [] })],
  ])("is sent when Config holds %s", async (_name, answer) => {
    await judgedAnnotation();
    configMock.on(GetComplianceDetailsByResourceCommand).resolves(answer());
    const { deps: d } = deps();
    await runConfigRule(event(), d);
    expect(evaluationsSent()).toHaveLength(1);
  });

  it("is sent when what Config holds cannot be read, with a warning", async () => {
    configMock
      .on(GetComplianceDetailsByResourceCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    const { deps: d, log } = deps();
    await runConfigRule(event(), d);
    expect(evaluationsSent()).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === "warn")).toMatchObject([{ fields: { step: "held-unread" } }]);
  });

  it("a test-mode run always sends (in test mode): the console's test shows the verdict", async () => {
    const annotation = await judgedAnnotation();
    configMock.on(GetComplianceDetailsByResourceCommand).resolves(held("NON_COMPLIANT", annotation));
    const { deps: d } = deps();
    await runConfigRule({ ...event(), resultToken: "TESTMODE" }, d);
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, { TestMode: true });
  });
});

describe("ScheduledNotification", () => {
  function namedBucket(name: string, variant: string, tags?: Record<string, string>) {
    const item = configItem<Record<string, any>>("AWS_S3_Bucket", variant);
    return { ...item, resourceId: name, resourceName: name, ARN: `arn:aws:s3:::${name}`, ...(tags ? { tags } : {}) };
  }
  function bucketNamed(name: string, variant: string) {
    return asBaseItem(namedBucket(name, variant));
  }
  /** Config's history answers with the same item, tags included (none unless a test says otherwise). */
  function historyAnswers(
    variantOf: (name: string) => string,
    tagsOf: (name: string) => Record<string, string> = () => ({}),
  ) {
    configMock.on(GetResourceConfigHistoryCommand).callsFake((input: { resourceId: string }) => ({
      configurationItems: [
        asHistoryItem(namedBucket(input.resourceId, variantOf(input.resourceId), tagsOf(input.resourceId))),
      ],
    }));
  }

  it("re-evaluates every recorded resource of the rule's types, paging and batching", async () => {
    const names = Array.from({ length: 250 }, (_, index) => `bucket-${String(index).padStart(3, "0")}`);
    configMock
      .on(ListDiscoveredResourcesCommand, { nextToken: undefined })
      .resolves({
        resourceIdentifiers: names.slice(0, 150).map((resourceId) => ({ resourceType: "AWS::S3::Bucket", resourceId })),
        nextToken: "page-2",
      })
      .on(ListDiscoveredResourcesCommand, { nextToken: "page-2" })
      .resolves({
        resourceIdentifiers: names.slice(150).map((resourceId) => ({ resourceType: "AWS::S3::Bucket", resourceId })),
      });
    let leftUnprocessed = false;
    configMock.on(BatchGetResourceConfigCommand).callsFake((input: { resourceKeys: { resourceId: string }[] }) => {
      // Every 10th bucket is public; Config leaves the first key unprocessed once.
      const skipFirst = !leftUnprocessed && input.resourceKeys[0]!.resourceId === "bucket-000";
      leftUnprocessed ||= skipFirst;
      return {
        baseConfigurationItems: input.resourceKeys
          .slice(skipFirst ? 1 : 0)
          .map(({ resourceId }) =>
            bucketNamed(resourceId, Number(resourceId.slice(-3)) % 10 === 0 ? "public-read-acl" : "private"),
          ),
        unprocessedResourceKeys: skipFirst ? [{ resourceType: "AWS::S3::Bucket", resourceId: "bucket-000" }] : [],
      };
    });
    historyAnswers((name) => (Number(name.slice(-3)) % 10 === 0 ? "public-read-acl" : "private"));
    const { deps: d } = deps();
    const result = await scheduledRun(configEvent("ScheduledNotification", "s3"), d);

    expect(configMock.commandCalls(ListDiscoveredResourcesCommand)).toHaveLength(2);
    // Only the 25 violating buckets are read again, for their tags.
    expect(configMock.commandCalls(GetResourceConfigHistoryCommand)).toHaveLength(25);
    for (const call of configMock.commandCalls(BatchGetResourceConfigCommand)) {
      expect(call.args[0].input.resourceKeys!.length).toBeLessThanOrEqual(100);
    }
    const chunks = configMock.commandCalls(PutEvaluationsCommand).map((call) => call.args[0].input.Evaluations!.length);
    // One judge task (and one PutEvaluations) per page of at most 100: the first listing page of 150 makes two.
    expect(chunks).toEqual([100, 50, 100]);
    expect(new Set(evaluationsSent().map((e) => e.ComplianceResourceId)).size).toBe(250);
    expect(evaluationsSent().filter((e) => e.ComplianceType === "NON_COMPLIANT")).toHaveLength(25);
    expect(instructionsSent()).toHaveLength(25);
    for (const call of sqsMock.commandCalls(SendMessageBatchCommand)) {
      expect(call.args[0].input.Entries!.length).toBeLessThanOrEqual(10);
    }
    expect(result.skippedItems).toBe(0);
  });

  it("judges a violation again with its tags (which BatchGetResourceConfig leaves out): a tag exemption holds", async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({
      resourceIdentifiers: [{ resourceId: "exempt-public" }, { resourceId: "plain-public" }],
    });
    configMock.on(BatchGetResourceConfigCommand).resolves({
      baseConfigurationItems: [
        bucketNamed("exempt-public", "public-read-acl"),
        bucketNamed("plain-public", "public-read-acl"),
      ],
    });
    historyAnswers(
      () => "public-read-acl",
      (name): Record<string, string> =>
        name === "exempt-public" ? { "remedy:exempt": "public website, ticket WEB-7 until=2099-01-01" } : {},
    );
    const { deps: d } = deps();
    await scheduledRun(configEvent("ScheduledNotification", "s3"), d);
    const evaluations = evaluationsSent();
    // Exempt resources stay NON_COMPLIANT in Config, with the exemption said; nothing is queued for them.
    expect(evaluations.map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      ["exempt-public", "NON_COMPLIANT"],
      ["plain-public", "NON_COMPLIANT"],
    ]);
    expect(evaluations[0]!.Annotation).toContain("WEB-7");
    expect(instructionsSent().map((i) => i.resource.id)).toEqual(["plain-public"]);
  });

  it("a security group's batch item lists its tags in its configuration: judged from it, not read again", async () => {
    const group = (id: string, tags: { key: string; value: string }[]) => {
      const item = configItem<Record<string, any>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
      return asBaseItem({ ...item, resourceId: id, configuration: { ...item.configuration, groupId: id, tags } });
    };
    configMock.on(ListDiscoveredResourcesCommand).resolves({
      resourceIdentifiers: [{ resourceId: "sg-0000000000000000a" }, { resourceId: "sg-0000000000000000b" }],
    });
    configMock.on(BatchGetResourceConfigCommand).resolves({
      baseConfigurationItems: [
        group("sg-0000000000000000a", [{ key: "remedy:exempt", value: "bastion, ticket OPS-9 until=2099-01-01" }]),
        group("sg-0000000000000000b", []),
      ],
    });
    const { deps: d } = deps();
    await scheduledRun(configEvent("ScheduledNotification", "sg"), d);
    expect(configMock.commandCalls(GetResourceConfigHistoryCommand)).toHaveLength(0);
    expect(evaluationsSent().map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      ["sg-0000000000000000a", "NON_COMPLIANT"],
      ["sg-0000000000000000b", "NON_COMPLIANT"],
    ]);
    expect(evaluationsSent()[0]!.Annotation).toContain("OPS-9");
    expect(instructionsSent().map((i) => i.resource.id)).toEqual(["sg-0000000000000000b"]);
  });

  it("a violation whose tags cannot be read is judged without them, with a warning", async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [{ resourceId: "public" }] });
    configMock
      .on(BatchGetResourceConfigCommand)
      .resolves({ baseConfigurationItems: [bucketNamed("public", "public-read-acl")] });
    configMock
      .on(GetResourceConfigHistoryCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    const { deps: d, log } = deps();
    await scheduledRun(configEvent("ScheduledNotification", "s3"), d);
    expect(instructionsSent().map((i) => i.resource.id)).toEqual(["public"]);
    expect(log.lines.filter((line) => line.level === "warn")).toMatchObject([
      { fields: { resourceId: "public", step: "tags-unread", errorName: "ThrottlingException" } },
    ]);
  });

  it("skips and reports a malformed item without dropping the good ones beside it", async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({
      resourceIdentifiers: [{ resourceId: "good-public" }, { resourceId: "broken" }, { resourceId: "good-private" }],
    });
    configMock.on(BatchGetResourceConfigCommand).resolves({
      baseConfigurationItems: [
        bucketNamed("good-public", "public-read-acl"),
        { ...bucketNamed("broken", "private"), configuration: "{not json" },
        bucketNamed("good-private", "private"),
      ],
    });
    historyAnswers((name) => (name === "good-public" ? "public-read-acl" : "private"));
    const { deps: d, log } = deps();
    const result = await scheduledRun(configEvent("ScheduledNotification", "s3"), d);
    expect(evaluationsSent().map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      ["good-public", "NON_COMPLIANT"],
      ["good-private", "COMPLIANT"],
    ]);
    expect(instructionsSent().map((i) => i.resource.id)).toEqual(["good-public"]);
    expect(result).toMatchObject({ skippedItems: 1 });
    expect(log.errors()).toMatchObject([{ fields: { resourceId: "broken", errorName: "InvalidConfigItemError" } }]);
  });
});

describe("bad input gets a clear error and nothing partial reaches the queue", () => {
  const valid = () => configEvent("ConfigurationItemChangeNotification", "sg-ssh-open");
  const cases: [string, () => unknown, RegExp][] = [
    ["not an object", () => "hello", /InvalidEventError: event/],
    ["missing resultToken", () => ({ ...valid(), resultToken: undefined }), /resultToken/],
    [
      "configurationItem is an array",
      () => {
        const event = valid();
        const invoking = JSON.parse(event.invokingEvent as string);
        invoking.configurationItem = [{}];
        return { ...event, invokingEvent: JSON.stringify(invoking) };
      },
      /configurationItem must be an object/,
    ],
    [
      "invokingEvent is not JSON",
      () => ({ ...valid(), invokingEvent: "{configurationItem:" }),
      /invokingEvent is not valid JSON/,
    ],
    [
      "unknown messageType",
      () => ({ ...valid(), invokingEvent: JSON.stringify({ messageType: "ComplianceChangeNotification" }) }),
      /unknown messageType "ComplianceChangeNotification"/,
    ],
    [
      "ruleParameters is not JSON",
      () => ({ ...valid(), ruleParameters: "{ports:22}" }),
      /ruleParameters is not valid JSON/,
    ],
    [
      "not a Remedy rule",
      () => ({ ...valid(), configRuleName: "restricted-ssh" }),
      /"restricted-ssh" is not one of this deployment's rules \(remedy-sg-open-ingress, remedy-s3-public\)/,
    ],
    [
      "configuration item without resourceId",
      () => {
        const event = valid();
        const invoking = JSON.parse(event.invokingEvent as string);
        delete invoking.configurationItem.resourceId;
        return { ...event, invokingEvent: JSON.stringify(invoking) };
      },
      /no resourceId/,
    ],
    [
      "configuration item with a malformed permission",
      () => {
        const event = valid();
        const invoking = JSON.parse(event.invokingEvent as string);
        invoking.configurationItem.configuration.ipPermissions = "everything";
        return { ...event, invokingEvent: JSON.stringify(invoking) };
      },
      /ipPermissions/,
    ],
  ];
  it.each(cases)("%s", async (_name, makeEvent, reason) => {
    const { deps: d, log, metrics } = deps();
    const result = await runConfigRule(makeEvent(), d);
    expect(result.outcome).toBe("rejected");
    expect(result.outcome === "rejected" && result.reason).toMatch(reason);
    expect(log.errors()).toHaveLength(1);
    const fields = log.errors()[0]!.fields;
    expect(`${fields.errorName}: ${fields.errorMessage}`).toMatch(reason);
    expect(metrics.counts.InvalidEvents).toBe(1);
    expect(configMock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
  });
});

describe("failures are reported, never ignored", () => {
  it("logs evaluations Config did not accept", async () => {
    configMock.on(PutEvaluationsCommand).resolves({
      FailedEvaluations: [
        {
          ComplianceResourceType: "AWS::EC2::SecurityGroup",
          ComplianceResourceId: "sg-0f1e2d3c4b5a69788",
          ComplianceType: "NON_COMPLIANT",
          OrderingTimestamp: new Date(),
        },
      ],
    });
    const { deps: d, log, metrics } = deps();
    await runConfigRule(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), d);
    expect(log.errors()).toMatchObject([
      {
        message: "Config did not accept some evaluations",
        fields: { failed: [{ resourceId: "sg-0f1e2d3c4b5a69788" }] },
      },
    ]);
    expect(metrics.counts.FailedEvaluations).toBe(1);
  });

  it("fails the invocation with the instruction ids when the queue keeps refusing them", async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
      Failed: input.Entries.map((entry) => ({ Id: entry.Id, Code: "InternalError", SenderFault: false })),
    }));
    const { deps: d } = deps();
    const error = await runConfigRule(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), d).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(MessageSendError);
    expect(error.failedIds).toHaveLength(1);
    expect(error.message).toContain(error.failedIds[0]);
  });
});

describe("trust boundary: a Config event is a claim", () => {
  const openSsh = () => configEvent("ConfigurationItemChangeNotification", "sg-ssh-open");
  const queuedEntries = () =>
    instructionsSent().flatMap((instruction) =>
      instruction.matched.map((entry) =>
        entry.kind === "sg-rule"
          ? `${entry.rule.ipProtocol} ${entry.rule.fromPort} ${entry.rule.cidrIpv4 ?? entry.rule.cidrIpv6}`
          : "?",
      ),
    );

  it.each([
    ["weakening", { authorizedPorts: "", ipv4MinPrefix: "32" }],
    ["invalid", { authorizedPorts: "tcp:99999" }],
    ["unknown", { authorisedPorts: "tcp:22" }],
  ])("judges with the deployed parameters, whatever the event's %s ruleParameters say", async (_kind, parameters) => {
    const { deps: d, log, metrics } = deps();
    const result = await runConfigRule({ ...openSsh(), ruleParameters: JSON.stringify(parameters) }, d);
    expect(result.outcome).toBe("evaluated");
    // Only SSH from anywhere: the authorized 443 and the private range stay out of the fix.
    expect(queuedEntries()).toEqual(["tcp 22 0.0.0.0/0"]);
    expect(instructionsSent()[0]!.rule.parameters).toEqual({
      authorizedPorts: "tcp:80,tcp:443",
      ipv4MinPrefix: 8,
      ipv6MinPrefix: 16,
    });
    expect(metrics.counts.ParameterMismatches).toBe(1);
    expect(log.errors().map((line) => line.message)).toEqual([
      "the Config rule's parameters differ from the deployment's: judging with the deployed ones",
    ]);
  });

  it.each(["evil-sg-open-ingress", "remedy-sg-open-ingress-v2", "sg-open-ingress", "REMEDY-SG-OPEN-INGRESS"])(
    "accepts only the exact deployed rule names: %s is rejected, nothing reported or queued",
    async (configRuleName) => {
      const { deps: d } = deps();
      const result = await runConfigRule({ ...openSsh(), configRuleName }, d);
      expect(result).toMatchObject({
        outcome: "rejected",
        reason: expect.stringMatching(/is not one of this deployment's rules/),
      });
      expect(configMock.calls()).toHaveLength(0);
      expect(sqsMock.calls()).toHaveLength(0);
    },
  );

  it("a TESTMODE run reports in test mode and queues nothing", async () => {
    const { deps: d } = deps();
    const result = await runConfigRule({ ...openSsh(), resultToken: "TESTMODE" }, d);
    expect(result).toMatchObject({ outcome: "evaluated", queued: [], notQueued: 1 });
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, { ResultToken: "TESTMODE", TestMode: true });
    expect(evaluationsSent().map((evaluation) => evaluation.ComplianceType)).toEqual(["NON_COMPLIANT"]);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it.each([
    ["account", { awsAccountId: "999988887777" }, /belongs to 999988887777\/us-east-1/],
    ["region", { awsRegion: "eu-west-1" }, /belongs to 123456789012\/eu-west-1/],
  ])("a configuration item of another %s is rejected: nothing reported or queued", async (_what, change, reason) => {
    const event = openSsh();
    const invoking = JSON.parse(event.invokingEvent as string);
    Object.assign(invoking.configurationItem, change);
    const { deps: d } = deps();
    const result = await runConfigRule({ ...event, invokingEvent: JSON.stringify(invoking) }, d);
    expect(result).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(reason) });
    expect(configMock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("refuses an invoking event nested deeper than the contract allows, by name", async () => {
    const event = openSsh();
    const invoking = JSON.parse(event.invokingEvent as string);
    invoking.configurationItem.tags = "DEEP";
    const deep = `${'{"a":'.repeat(40_000)}1${"}".repeat(40_000)}`;
    const invokingEvent = JSON.stringify(invoking).replace('"DEEP"', deep);
    const { deps: d } = deps();
    const result = await runConfigRule({ ...event, invokingEvent }, d);
    expect(result).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/nests deeper than 64 levels/) });
  });
});

describe("logging", () => {
  it("never passes a reserved Powertools key (message, level, timestamp, service) as a field", async () => {
    const { deps: d, log } = deps();
    await runConfigRule(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), d);
    await scheduledRun(configEvent("ScheduledNotification", "s3"), d).catch(() => undefined);
    expect(log.lines.length).toBeGreaterThan(0);
    for (const line of log.lines) {
      for (const reserved of ["message", "level", "timestamp", "service"]) {
        expect(Object.keys(line.fields), `${line.message}: ${reserved}`).not.toContain(reserved);
      }
    }
  });
});
