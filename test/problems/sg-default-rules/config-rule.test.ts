// The sg-default-rules Config rule as the config-rule function runs it (Config and SQS mocked): on a change, on an
// oversized change (the item read with GetResourceConfigHistory, relationships named `relationshipName`), and on the
// periodic scan (BatchGetResourceConfig, whose items carry no relationships: a group in use is then queued, and the
// fix's live check skips it).
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
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseInstruction } from "../../../contract/instruction.ts";
import { type RuleRuntimeDeps, runConfigRule } from "../../../functions/config-rule/core.ts";
import {
  asBaseItem,
  driveScan,
  type MemoryScanQueue,
  memoryScanQueue,
  memoryScanStore,
} from "../../config-rule/scan-support.ts";
import { changeEvent, configEvent } from "../../fixtures/events.ts";
import { configItem } from "../../fixtures/load.ts";
import { recordingLog, recordingMetrics } from "../../helpers/recording-log.ts";
import { CONFIG_RULE, defaultRulesDeployment, GROUP } from "./support.ts";

const config = mockClient(ConfigServiceClient);
const sqs = mockClient(SQSClient);
const NOW = new Date("2026-11-20T10:00:00.000Z");

// biome-ignore lint/suspicious/noExplicitAny: fixture items are changed freely, by any path.
type Json = Record<string, any>;
const item = (variant: string) => configItem<Json>("AWS_EC2_SecurityGroup", variant);

function deps(): RuleRuntimeDeps {
  return {
    configService: new ConfigServiceClient({}),
    sqs: new SQSClient({}),
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    deployment: defaultRulesDeployment(),
    accountFacts: async () => ({ s3PublicAccessBlock: null }),
    allowlist: [],
    gracePeriodMs: 0,
    now: () => NOW,
    log: recordingLog(),
    metrics: recordingMetrics(),
    scanQueue: memoryScanQueue(),
  };
}

const evaluations = () =>
  config.commandCalls(PutEvaluationsCommand).flatMap((call) => call.args[0].input.Evaluations ?? []);
const instructions = () =>
  sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody));

beforeEach(() => {
  config.reset();
  sqs.reset();
  config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  config.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
  sqs.on(SendMessageBatchCommand).resolves({ Failed: [] });
});
afterAll(() => {
  config.restore();
  sqs.restore();
});

describe("the sg-default-rules Config rule", () => {
  it("on a change: NON_COMPLIANT, and one instruction naming both of AWS's default rules", async () => {
    const result = await runConfigRule(
      changeEvent(item("default-aws-defaults"), { configRuleName: CONFIG_RULE }),
      deps(),
    );
    expect(result).toMatchObject({ outcome: "evaluated" });
    expect(evaluations()).toMatchObject([
      {
        ComplianceResourceId: GROUP,
        ComplianceType: "NON_COMPLIANT",
        Annotation: expect.stringMatching(/^2 rules on the default group/),
      },
    ]);
    const [instruction, ...rest] = instructions();
    expect(rest).toEqual([]);
    expect(instruction).toMatchObject({
      problem: "sg-default-rules",
      rule: { id: "sg-default-rules", configRuleName: CONFIG_RULE, parameters: {} },
      resource: { id: GROUP },
    });
    // Both rules, in the instruction's own (key) order.
    expect(
      instruction!.matched.map((entry) => entry.kind === "sg-default-rule" && entry.rule.direction).sort(),
    ).toEqual(["egress", "ingress"]);
  });

  it("on a change of a group network interfaces use: NON_COMPLIANT naming them, and nothing queued", async () => {
    await runConfigRule(changeEvent(item("default-in-use"), { configRuleName: CONFIG_RULE }), deps());
    expect(evaluations()).toMatchObject([
      {
        ComplianceType: "NON_COMPLIANT",
        Annotation: expect.stringContaining("groups of their own: eni-05d2b8f4a6c1e3079, eni-0a7c3e9f1b2d4c6e8"),
      },
    ]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it("on an oversized change: the item read from the history, its relationships under their API name", async () => {
    const inUse = item("default-in-use");
    config.on(GetResourceConfigHistoryCommand).resolves({
      configurationItems: [
        {
          ...asBaseItem(inUse),
          tags: inUse.tags,
          relationships: inUse.relationships.map(({ name, ...relationship }: Json) => ({
            ...relationship,
            relationshipName: name,
          })),
        },
      ],
    });
    const event = configEvent("OversizedConfigurationItemChangeNotification", "sg");
    const invoking = JSON.parse(event.invokingEvent as string);
    Object.assign(invoking.configurationItemSummary, { resourceId: GROUP, resourceName: "default" });
    await runConfigRule({ ...event, invokingEvent: JSON.stringify(invoking), configRuleName: CONFIG_RULE }, deps());
    expect(config).toHaveReceivedCommandWith(GetResourceConfigHistoryCommand, { resourceId: GROUP, limit: 1 });
    expect(evaluations()).toMatchObject([
      { ComplianceType: "NON_COMPLIANT", Annotation: expect.stringContaining("network interfaces use") },
    ]);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toEqual([]);
  });

  it("on the periodic scan: every group judged; a batch item says nothing of interfaces, so the fix checks live", async () => {
    const groups = [
      { ...item("default-aws-defaults"), resourceId: "sg-0000000000000000a" },
      { ...item("default-in-use"), resourceId: "sg-0000000000000000b" },
      { ...item("ssh-open-to-world"), resourceId: "sg-0000000000000000c" },
    ];
    config.on(ListDiscoveredResourcesCommand).resolves({
      resourceIdentifiers: groups.map(({ resourceId }) => ({ resourceType: "AWS::EC2::SecurityGroup", resourceId })),
    });
    config.on(BatchGetResourceConfigCommand).resolves({ baseConfigurationItems: groups.map(asBaseItem) });
    const event = { ...configEvent("ScheduledNotification", "sg"), configRuleName: CONFIG_RULE };
    const d = deps();
    expect(await runConfigRule(event, d)).toMatchObject({ outcome: "scan-started" });
    const scan = await driveScan(d.scanQueue as MemoryScanQueue, {
      ...d,
      scanStore: memoryScanStore(),
      safetyMarginMs: 1_000,
    });
    expect(scan.failures).toEqual([]);
    expect(evaluations().map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      ["sg-0000000000000000a", "NON_COMPLIANT"],
      ["sg-0000000000000000b", "NON_COMPLIANT"],
      ["sg-0000000000000000c", "NOT_APPLICABLE"],
    ]);
    expect(instructions().map((instruction) => instruction.resource.id)).toEqual([
      "sg-0000000000000000a",
      "sg-0000000000000000b",
    ]);
  });
});
