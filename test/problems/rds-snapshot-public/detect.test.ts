// The public-snapshot rule (problems/rds-snapshot-public/detect.ts) on Config items as AWS delivers them, for DB
// snapshots and DB cluster snapshots: compliant, violating, partly violating (shared by id as well), deleted,
// oversized (read back from Config), exempt by tag and by allowlist, and in the scan's BatchGetResourceConfig form.
import {
  ConfigServiceClient,
  GetComplianceDetailsByResourceCommand,
  GetResourceConfigHistoryCommand,
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
import { type ConfigItem, RuleParameterError } from "../../../detection/types.ts";
import { runConfigRule } from "../../../functions/config-rule/core.ts";
import {
  API_ATTRIBUTE_KEYS,
  parseRdsSnapshotParameters,
  rdsSnapshotPublicRule,
  restoreValuesOf,
  restoreVerdict,
} from "../../../problems/rds-snapshot-public/detect.ts";
import { CLUSTER_SNAPSHOT, DB_SNAPSHOT } from "../../../problems/rds-snapshot-public/flavor.ts";
import { memoryScanQueue } from "../../config-rule/scan-support.ts";
import { changeEvent, configEvent } from "../../fixtures/events.ts";
import { configItem, fixture } from "../../fixtures/load.ts";
import { recordingLog, recordingMetrics } from "../../helpers/recording-log.ts";
import {
  CLUSTER_FOLDER,
  CLUSTER_SNAPSHOT_ID,
  DB_FOLDER,
  DB_SNAPSHOT_ID,
  RDS_CONFIG_RULE,
  rdsDeployment,
  snapshotItem,
} from "./support.ts";

const NOW = new Date("2026-11-20T10:00:00.000Z");
const PARAMS = parseRdsSnapshotParameters({});

function evaluate(item: ConfigItem) {
  return rdsSnapshotPublicRule.evaluate(item, PARAMS);
}

function judge(item: ConfigItem, allowlist: unknown[] = []) {
  return judgeItem(item, rdsSnapshotPublicRule, PARAMS, {
    allowlist: parseAllowlist(allowlist).entries,
    now: NOW,
    gracePeriodMs: 0,
    configRuleName: RDS_CONFIG_RULE,
  });
}

describe("the public-snapshot rule", () => {
  it("is loaded from the registry, judging both snapshot types for both problems", () => {
    expect(RULES).toContain(rdsSnapshotPublicRule);
    expect(rdsSnapshotPublicRule.resourceTypes).toEqual(["AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot"]);
    expect(rdsSnapshotPublicRule.problems).toEqual(["rds-snapshot-public", "rds-cluster-snapshot-public"]);
  });

  it("takes no parameters and names an unknown one", () => {
    expect(parseRdsSnapshotParameters({})).toEqual({});
    expect(() => parseRdsSnapshotParameters({ allowedAccounts: "1" })).toThrow(RuleParameterError);
    expect(() => parseRdsSnapshotParameters({ allowedAccounts: "1" })).toThrow(/allowedAccounts/);
  });
});

describe.each([
  ["DB snapshot", DB_FOLDER, DB_SNAPSHOT, DB_SNAPSHOT_ID],
  ["DB cluster snapshot", CLUSTER_FOLDER, CLUSTER_SNAPSHOT, CLUSTER_SNAPSHOT_ID],
] as const)("a %s's Config item", (noun, folder, flavor, publicId) => {
  it("shared with every AWS account and an account by id: one finding, the value all, never the account", () => {
    const item = snapshotItem(folder, "public-and-shared");
    expect(item.resourceId).toBe(publicId);
    const verdict = evaluate(item);
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(verdict.findings).toEqual([
      {
        problem: flavor.problem,
        matched: { kind: flavor.matchedKind, value: "all" },
        reason: `"all" in its restore attribute: any AWS account can copy or restore this ${noun}`,
      },
    ]);
    expect(verdict.annotation).toBe(
      `public: "all" in its restore attribute lets any AWS account copy or restore this ${noun} (also shared with 1 account by id, which stays)`,
    );
  });

  it("shared by account id only: compliant (sharing on purpose is no finding)", () => {
    const verdict = evaluate(snapshotItem(folder, "shared-by-id"));
    expect(verdict).toEqual({
      compliance: "COMPLIANT",
      annotation: expect.stringMatching(/^not public: shared with \d accounts? by id only$/),
      findings: [],
    });
  });

  it("an automated snapshot (it cannot be shared) with an empty restore attribute: compliant", () => {
    expect(evaluate(snapshotItem(folder, "automated"))).toEqual({
      compliance: "COMPLIANT",
      annotation: "not public: shared with no other account",
      findings: [],
    });
  });

  it("one instruction naming exactly the value all, with the snapshot's ARN", () => {
    const judgement = judge(snapshotItem(folder, "public-and-shared"));
    expect(judgement.instructions).toHaveLength(1);
    expect(judgement.instructions[0]).toMatchObject({
      problem: flavor.problem,
      resource: { type: flavor.resourceType, id: publicId, accountId: "123456789012", region: "us-east-1" },
      matched: [{ kind: flavor.matchedKind, value: "all" }],
      rule: { id: "rds-snapshot-public", configRuleName: RDS_CONFIG_RULE, parameters: {} },
    });
    expect(judgement.instructions[0]!.resource.arn).toMatch(
      new RegExp(`^arn:aws:rds:us-east-1:123456789012:(snapshot|cluster-snapshot):${publicId}$`),
    );
  });

  it("exempt by its remedy:exempt tag: NON_COMPLIANT with the reason, nothing to fix", () => {
    const raw = configItem<Record<string, any>>(folder, "public-and-shared");
    raw.tags = { ...raw.tags, "remedy:exempt": "public sample dataset, ticket DATA-88 until=2027-01-31" };
    const judgement = judge(normalizeConfigItem(raw));
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.instructions).toEqual([]);
    expect(judgement.findings[0]!.exemption).toMatchObject({ source: "tag", until: "2027-01-31" });
    expect(judgement.annotation).toMatch(/exempt by tag remedy:exempt until 2027-01-31: public sample dataset/);
  });

  it("exempt by an allowlist entry on its ARN for its problem, and not by one for the other problem", () => {
    const item = snapshotItem(folder, "public-and-shared");
    const entry = (problems: string[]) => ({
      resource: "arn:aws:rds:us-east-1:123456789012:*snapshot:*",
      problems,
      reason: "published benchmark data",
      owner: "data@example.com",
      expires: "2027-06-30",
    });
    const exempt = judge(item, [entry([flavor.problem])]);
    expect(exempt.instructions).toEqual([]);
    expect(exempt.findings[0]!.exemption).toMatchObject({ source: "allowlist", until: "2027-06-30" });
    const other = flavor === DB_SNAPSHOT ? CLUSTER_SNAPSHOT : DB_SNAPSHOT;
    expect(judge(item, [entry([other.problem])]).instructions).toHaveLength(1);
  });

  it("an attribute list that cannot be read is a clear error naming where, never a false COMPLIANT", () => {
    const raw = configItem<Record<string, any>>(folder, "public-and-shared");
    raw.supplementaryConfiguration[flavor.configAttributes] = [
      { attributeName: "restore", attributeValues: ["all", 7] },
    ];
    expect(() => evaluate(normalizeConfigItem(raw))).toThrow(InvalidConfigItemError);
    expect(() => evaluate(normalizeConfigItem(raw))).toThrow(
      `supplementaryConfiguration.${flavor.configAttributes}[0].attributeValues[1] is 7`,
    );
    raw.supplementaryConfiguration[flavor.configAttributes] = { attributeName: "restore" };
    expect(() => evaluate(normalizeConfigItem(raw))).toThrow(/is an object, not a list/);
  });
});

describe("a DB snapshot's other Config items", () => {
  it("public to every account with no one shared by id", () => {
    const verdict = evaluate(snapshotItem(DB_FOLDER, "public-only"));
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(verdict.annotation).toBe(
      'public: "all" in its restore attribute lets any AWS account copy or restore this DB snapshot',
    );
  });

  it("encrypted and shared with no one: compliant", () => {
    expect(evaluate(snapshotItem(DB_FOLDER, "private")).compliance).toBe("COMPLIANT");
  });

  it("deleted: NOT_APPLICABLE, nothing to fix", () => {
    const judgement = judge(snapshotItem(DB_FOLDER, "deleted"));
    expect(judgement).toMatchObject({ compliance: "NOT_APPLICABLE", instructions: [], findings: [] });
  });

  it("no attributes recorded, or an attribute other than restore: not shared", () => {
    const item = snapshotItem(DB_FOLDER, "public-only");
    expect(evaluate({ ...item, supplementaryConfiguration: {} }).compliance).toBe("COMPLIANT");
    const other = { DBSnapshotAttributes: [{ attributeName: "copy", attributeValues: ["all"] }] };
    expect(evaluate({ ...item, supplementaryConfiguration: other }).compliance).toBe("COMPLIANT");
  });

  it("reads the same item from BatchGetResourceConfig, every supplementary value a JSON string", () => {
    const batch = normalizeConfigItem(configItem(DB_FOLDER, "public-and-shared.batch-get"));
    const event = snapshotItem(DB_FOLDER, "public-and-shared");
    expect(batch.supplementaryConfiguration).toEqual(event.supplementaryConfiguration);
    expect(evaluate(batch)).toEqual(evaluate(event));
  });
});

describe("restoreValuesOf on the RDS API's answer (what the fix and the real-time path judge)", () => {
  it("reads AttributeName/AttributeValues, each value once, and judges as the item's", () => {
    const live = [{ AttributeName: "restore", AttributeValues: ["all", "210987654321", "all"] }];
    const values = restoreValuesOf(live, API_ATTRIBUTE_KEYS, "DBSnapshotAttributes");
    expect(values).toEqual(["all", "210987654321"]);
    expect(restoreVerdict(DB_SNAPSHOT, values)).toEqual(evaluate(snapshotItem(DB_FOLDER, "public-and-shared")));
    expect(restoreValuesOf([{ AttributeName: "restore" }], API_ATTRIBUTE_KEYS, "x")).toEqual([]);
    expect(() =>
      restoreValuesOf([{ AttributeName: "restore", AttributeValues: "all" }], API_ATTRIBUTE_KEYS, "x"),
    ).toThrow('x[0].AttributeValues is "all", not a list');
  });
});

describe("the Config rule function on public snapshots", () => {
  const configMock = mockClient(ConfigServiceClient);
  const sqsMock = mockClient(SQSClient);
  afterAll(() => {
    configMock.restore();
    sqsMock.restore();
  });

  function runtime() {
    const log = recordingLog();
    const metrics = recordingMetrics();
    return {
      configService: new ConfigServiceClient({}),
      sqs: new SQSClient({}),
      queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
      deployment: rdsDeployment(),
      accountFacts: async () => ({}),
      allowlist: [],
      gracePeriodMs: 0,
      now: () => NOW,
      log,
      metrics,
      scanQueue: memoryScanQueue(),
    };
  }

  const evaluations = () =>
    configMock.commandCalls(PutEvaluationsCommand).flatMap((call) => call.args[0].input.Evaluations ?? []);
  const queued = () =>
    sqsMock
      .commandCalls(SendMessageBatchCommand)
      .flatMap((call) => call.args[0].input.Entries ?? [])
      .map((entry) => parseInstruction(entry.MessageBody));

  beforeEach(() => {
    configMock.reset();
    sqsMock.reset();
    configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    configMock.on(GetComplianceDetailsByResourceCommand).resolves({ EvaluationResults: [] });
    sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });
  });

  it("an oversized change notification: the item read back with GetResourceConfigHistory, judged, queued", async () => {
    configMock
      .on(GetResourceConfigHistoryCommand)
      .resolves(
        fixture(
          "config-events/OversizedConfigurationItemChangeNotification/rds-snapshot.get-resource-config-history.json",
        ),
      );
    const result = await runConfigRule(
      configEvent("OversizedConfigurationItemChangeNotification", "rds-snapshot"),
      runtime(),
    );
    expect(result.outcome).toBe("evaluated");
    expect(configMock).toHaveReceivedCommandWith(GetResourceConfigHistoryCommand, {
      resourceType: "AWS::RDS::DBSnapshot",
      resourceId: DB_SNAPSHOT_ID,
      limit: 1,
    });
    expect(evaluations()).toMatchObject([
      {
        ComplianceResourceType: "AWS::RDS::DBSnapshot",
        ComplianceResourceId: DB_SNAPSHOT_ID,
        ComplianceType: "NON_COMPLIANT",
      },
    ]);
    expect(queued().map((i) => [i.problem, i.resource.id, i.matched])).toEqual([
      ["rds-snapshot-public", DB_SNAPSHOT_ID, [{ kind: "rds-snapshot-restore", value: "all" }]],
    ]);
  });

  it("a change notification of a cluster snapshot: one instruction for the cluster problem", async () => {
    const event = changeEvent(configItem(CLUSTER_FOLDER, "public-and-shared"), { configRuleName: RDS_CONFIG_RULE });
    await runConfigRule(event, runtime());
    expect(evaluations()).toMatchObject([
      { ComplianceResourceType: "AWS::RDS::DBClusterSnapshot", ComplianceType: "NON_COMPLIANT" },
    ]);
    expect(queued().map((i) => [i.problem, i.resource.id])).toEqual([
      ["rds-cluster-snapshot-public", CLUSTER_SNAPSHOT_ID],
    ]);
  });

  it("a deleted snapshot's change notification: NOT_APPLICABLE, nothing queued", async () => {
    await runConfigRule(changeEvent(configItem(DB_FOLDER, "deleted"), { configRuleName: RDS_CONFIG_RULE }), runtime());
    expect(evaluations()).toMatchObject([{ ComplianceType: "NOT_APPLICABLE" }]);
    expect(queued()).toEqual([]);
  });
});
