// Rule s3-account-public-access: the account's four Block Public Access flags, from the Config item of
// AWS::S3::AccountPublicAccessBlock (its id the account id) — on its own, and through the Config rule's runtime
// (change, deletion, oversized item, periodic scan, exemptions).
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
import { InvalidConfigItemError, normalizeConfigItem } from "../../../detection/config-item.ts";
import { parseAllowlist } from "../../../detection/exemptions.ts";
import { judgeItem } from "../../../detection/judge.ts";
import { RULES } from "../../../detection/rules.ts";
import { RuleParameterError } from "../../../detection/types.ts";
import { type RuleRuntimeDeps, runConfigRule } from "../../../functions/config-rule/core.ts";
import { rule } from "../../../problems/s3-account-public-access/detect.ts";
import {
  asBaseItem,
  driveScan,
  type MemoryScanQueue,
  memoryScanQueue,
  memoryScanStore,
} from "../../config-rule/scan-support.ts";
import { changeEvent, configEvent } from "../../fixtures/events.ts";
import { configItem, fixture } from "../../fixtures/load.ts";
import { recordingLog, recordingMetrics } from "../../helpers/recording-log.ts";
import { ACCOUNT, accountDeployment, CONFIG_RULE } from "./world.ts";

/** An item fixture as Config delivers it, to change one field of. */
type RawItem = Record<string, unknown> & { configuration: Record<string, unknown> };

const item = (variant: string) => normalizeConfigItem(configItem("AWS_S3_AccountPublicAccessBlock", variant));
const NOW = new Date("2026-11-20T10:00:00.000Z");
const judge = (variant: string, allowlist: unknown[] = []) =>
  judgeItem(item(variant), rule, {}, { allowlist: parseAllowlist(allowlist).entries, now: NOW, gracePeriodMs: 0 });

const ACCOUNT_ALLOWED = {
  resource: ACCOUNT,
  problems: ["s3-account-public-access"],
  reason: "sandbox account, public demo buckets",
  owner: "platform@acme.example",
  expires: "2027-01-31",
};

describe("the rule", () => {
  it("is s3-account-public-access, loaded from its folder, for the account's Block Public Access", () => {
    expect(RULES.find((candidate) => candidate.id === "s3-account-public-access")).toBe(rule);
    expect(rule.problems).toEqual(["s3-account-public-access"]);
    expect(rule.resourceTypes).toEqual(["AWS::S3::AccountPublicAccessBlock"]);
    expect(rule.facts).toBeUndefined();
  });

  it("takes no parameters", () => {
    expect(rule.parseParameters({})).toEqual({});
    expect(() => rule.parseParameters({ BlockPublicAcls: "True" })).toThrow(RuleParameterError);
  });
});

describe("judging the Config item", () => {
  it("all four flags on: COMPLIANT, nothing found", () => {
    expect(judge("all-on")).toMatchObject({
      compliance: "COMPLIANT",
      annotation: "all four account-level Block Public Access settings are on",
      findings: [],
      instructions: [],
    });
  });

  it("one flag off: NON_COMPLIANT with exactly that flag, one instruction naming it", () => {
    const judgement = judge("restrict-off");
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.findings.map((finding) => finding.matched)).toEqual([
      { kind: "s3-account-bpa-flag", flag: "RestrictPublicBuckets" },
    ]);
    expect(judgement.findings[0]!.reason).toBe(
      "account-level Block Public Access RestrictPublicBuckets is off: public bucket policies grant access in every bucket the bucket's own settings leave open",
    );
    expect(judgement.annotation).toMatch(/^account-level Block Public Access off: RestrictPublicBuckets/);
    expect(judgement.instructions).toHaveLength(1);
    expect(judgement.instructions[0]).toMatchObject({
      problem: "s3-account-public-access",
      resource: { type: "AWS::S3::AccountPublicAccessBlock", id: ACCOUNT, accountId: ACCOUNT, region: "us-east-1" },
      matched: [{ kind: "s3-account-bpa-flag", flag: "RestrictPublicBuckets" }],
    });
  });

  it("every flag off: four findings, in S3's order", () => {
    expect(judge("all-off").findings.map((finding) => (finding.matched as { flag: string }).flag)).toEqual([
      "BlockPublicAcls",
      "IgnorePublicAcls",
      "BlockPublicPolicy",
      "RestrictPublicBuckets",
    ]);
  });

  it("deleted (the configuration removed): judged as none configured, every flag off — not 'not applicable'", () => {
    const judgement = judge("deleted");
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.annotation).toBe("no account-level Block Public Access configuration: all four settings are off");
    expect(judgement.findings).toHaveLength(4);
    expect(judgement.findings[0]!.reason).toMatch(
      /^account-level Block Public Access BlockPublicAcls is not configured/,
    );
  });

  it("a flag Config left out is off; a flag that is not a boolean makes the item unjudgeable", () => {
    const raw = configItem<RawItem>("AWS_S3_AccountPublicAccessBlock", "all-on");
    delete raw.configuration.ignorePublicAcls;
    expect(rule.evaluate(normalizeConfigItem(raw), {}).findings).toHaveLength(1);
    raw.configuration.ignorePublicAcls = "true";
    expect(() => rule.evaluate(normalizeConfigItem(raw), {})).toThrow(InvalidConfigItemError);
  });

  it("an item naming another account than its own is unjudgeable (never an instruction for someone else's setting)", () => {
    const raw = configItem<RawItem>("AWS_S3_AccountPublicAccessBlock", "restrict-off");
    raw.resourceId = "210987654321";
    expect(() => rule.evaluate(normalizeConfigItem(raw), {})).toThrow(/names 210987654321 as its resource/);
  });

  it("judges the API's shape (configuration as a JSON string, GetResourceConfigHistory) the same", () => {
    const history = fixture<{ configurationItems: unknown[] }>(
      "config-events/OversizedConfigurationItemChangeNotification/account-bpa.get-resource-config-history.json",
    );
    const fromApi = rule.evaluate(normalizeConfigItem(history.configurationItems[0]), {});
    expect(fromApi).toEqual(rule.evaluate(item("restrict-off"), {}));
  });

  it("exempt by the allowlist (by account id): the finding is kept as exempt, nothing is queued", () => {
    const judgement = judge("restrict-off", [ACCOUNT_ALLOWED]);
    expect(judgement.findings).toMatchObject([{ exemption: { source: "allowlist", owner: "platform@acme.example" } }]);
    expect(judgement.instructions).toEqual([]);
    expect(judgement.annotation).toMatch(/exempt/);
  });

  it("exempt by the remedy:exempt tag on the item: honoured as on any resource (the setting itself carries none)", () => {
    const raw = configItem<RawItem>("AWS_S3_AccountPublicAccessBlock", "restrict-off");
    raw.tags = { "remedy:exempt": "landing zone owns it" };
    const judgement = judgeItem(normalizeConfigItem(raw), rule, {}, { allowlist: [], now: NOW, gracePeriodMs: 0 });
    expect(judgement.findings).toMatchObject([{ exemption: { source: "tag", reason: "landing zone owns it" } }]);
    expect(judgement.instructions).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Through the Config rule's runtime, as deployed.

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";

function runtimeDeps(allowlist: unknown[] = []): RuleRuntimeDeps {
  const log = recordingLog();
  return {
    configService: new ConfigServiceClient({}),
    sqs: new SQSClient({}),
    queueUrl: QUEUE_URL,
    deployment: accountDeployment(),
    // The rule reads no account facts: were it to, this would say so.
    accountFacts: async () => {
      throw new Error("the account rule needs no account facts");
    },
    allowlist: parseAllowlist(allowlist).entries,
    gracePeriodMs: 0,
    now: () => NOW,
    log,
    metrics: recordingMetrics(),
    scanQueue: memoryScanQueue(),
  };
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
afterAll(() => {
  configMock.restore();
  sqsMock.restore();
});

describe("the Config rule remedy-s3-account-public-access", () => {
  it("a change: NON_COMPLIANT on the account's setting, and the instruction queued", async () => {
    const event = changeEvent(configItem("AWS_S3_AccountPublicAccessBlock", "restrict-off"), {
      configRuleName: CONFIG_RULE,
    });
    expect(await runConfigRule(event, runtimeDeps())).toMatchObject({ outcome: "evaluated" });
    expect(evaluationsSent()).toMatchObject([
      {
        ComplianceResourceType: "AWS::S3::AccountPublicAccessBlock",
        ComplianceResourceId: ACCOUNT,
        ComplianceType: "NON_COMPLIANT",
      },
    ]);
    expect(instructionsSent().map((instruction) => instruction.matched)).toEqual([
      [{ kind: "s3-account-bpa-flag", flag: "RestrictPublicBuckets" }],
    ]);
  });

  it("the configuration deleted: NON_COMPLIANT, one instruction with all four flags", async () => {
    const event = changeEvent(configItem("AWS_S3_AccountPublicAccessBlock", "deleted"), {
      configRuleName: CONFIG_RULE,
    });
    await runConfigRule(event, runtimeDeps());
    expect(evaluationsSent()).toMatchObject([{ ComplianceType: "NON_COMPLIANT" }]);
    expect(instructionsSent().flatMap((instruction) => instruction.matched)).toHaveLength(4);
  });

  it("an oversized notification: the item read with GetResourceConfigHistory and judged", async () => {
    configMock
      .on(GetResourceConfigHistoryCommand)
      .resolves(
        fixture(
          "config-events/OversizedConfigurationItemChangeNotification/account-bpa.get-resource-config-history.json",
        ),
      );
    await runConfigRule(configEvent("OversizedConfigurationItemChangeNotification", "account-bpa"), runtimeDeps());
    expect(configMock).toHaveReceivedCommandWith(GetResourceConfigHistoryCommand, {
      resourceType: "AWS::S3::AccountPublicAccessBlock",
      resourceId: ACCOUNT,
      limit: 1,
    });
    expect(evaluationsSent()).toMatchObject([{ ComplianceType: "NON_COMPLIANT" }]);
    expect(instructionsSent()).toHaveLength(1);
  });

  it("exempt by the allowlist: reported with the exemption said, nothing queued", async () => {
    const event = changeEvent(configItem("AWS_S3_AccountPublicAccessBlock", "restrict-off"), {
      configRuleName: CONFIG_RULE,
    });
    await runConfigRule(event, runtimeDeps([ACCOUNT_ALLOWED]));
    expect(evaluationsSent()[0]!.Annotation).toMatch(/exempt/);
    expect(instructionsSent()).toEqual([]);
  });

  it("the periodic scan lists the account's setting from Config and judges it", async () => {
    configMock.on(ListDiscoveredResourcesCommand).resolves({
      resourceIdentifiers: [{ resourceType: "AWS::S3::AccountPublicAccessBlock", resourceId: ACCOUNT }],
    });
    configMock.on(BatchGetResourceConfigCommand).resolves({
      baseConfigurationItems: [asBaseItem(configItem("AWS_S3_AccountPublicAccessBlock", "restrict-off"))],
    });
    configMock.on(GetResourceConfigHistoryCommand).resolves({
      configurationItems: [
        { ...asBaseItem(configItem("AWS_S3_AccountPublicAccessBlock", "restrict-off")), tags: {}, relationships: [] },
      ],
    });
    const d = runtimeDeps();
    expect(await runConfigRule(configEvent("ScheduledNotification", "account-bpa"), d)).toMatchObject({
      outcome: "scan-started",
    });
    const scan = await driveScan(d.scanQueue as MemoryScanQueue, {
      ...d,
      scanStore: memoryScanStore(),
      safetyMarginMs: 1_000,
    });
    expect(scan.failures).toEqual([]);
    expect(configMock).toHaveReceivedCommandWith(ListDiscoveredResourcesCommand, {
      resourceType: "AWS::S3::AccountPublicAccessBlock",
    });
    expect(evaluationsSent()).toMatchObject([{ ComplianceResourceId: ACCOUNT, ComplianceType: "NON_COMPLIANT" }]);
    expect(instructionsSent()).toHaveLength(1);
  });
});
