// Organisation mode of the rule function (functions/config-rule/organization.ts): events in Config's shape for an
// organisation rule (the member's accountId, OrgConfigRule-<rule>-<suffix>, its result token), Organizations and STS
// mocked in AWS's shapes. What is checked: whose credentials every Config call is made with (the client that
// received it), what STS was asked, what reaches the hub queue, and what is refused before anything is assumed.
import {
  BatchGetResourceConfigCommand,
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  GetComplianceDetailsByResourceCommand,
  GetResourceConfigHistoryCommand,
  ListDiscoveredResourcesCommand,
  PutEvaluationsCommand,
} from "@aws-sdk/client-config-service";
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseInstruction } from "../../contract/instruction.ts";
import type { RuleRuntimeDeps } from "../../functions/config-rule/core.ts";
import {
  detectSessionName,
  type MemberDetection,
  memberDetection,
  placeProblem,
} from "../../functions/config-rule/organization.ts";
import {
  InvalidScanTaskError,
  parseScanTask,
  runScanBatch,
  runScanTask,
  type ScanDeps,
  type ScanTask,
} from "../../functions/config-rule/scan.ts";
import { type OrganizationSettings, organizationsDirectory } from "../../platform/organization.ts";
import { configEvent } from "../fixtures/events.ts";
import { configItem, fixture } from "../fixtures/load.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { awsError, testDeployment } from "../remediation/support.ts";
import { asBaseItem, memoryScanQueue, memoryScanStore } from "./scan-support.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const s3ControlMock = mockClient(S3ControlClient);
const stsMock = mockClient(STSClient);
const organizationsMock = mockClient(OrganizationsClient);
const MOCKS = [configMock, sqsMock, s3ControlMock, stsMock, organizationsMock];
afterAll(() => {
  for (const mock of MOCKS) mock.restore();
});

/** The hub (123456789012, us-east-1: this rule function's region) and the organisation's accounts. */
const HUB = "123456789012";
const REGION = "us-east-1";
const OTHER_REGION = "eu-west-1";
const MEMBER = "210987654321";
const SECOND_MEMBER = "222233334444";
const OFF_MEMBER = "444455556666";
const ACL_ONLY_MEMBER = "777788889999";
const SUSPENDED = "555566667777";
const EXCLUDED = "666677778888";
const OUTSIDER = "999988887777";
const ROOT = "r-a1b2";
const EXTERNAL_ID = "remedy-hub-7f3a9c";
const QUEUE_URL = `https://sqs.us-east-1.amazonaws.com/${HUB}/remedy-remediation`;
const NOW = new Date("2026-11-20T10:00:00.000Z");
const SG_RULE = "OrgConfigRule-remedy-sg-open-ingress-ab12cd34";
const S3_RULE = "OrgConfigRule-remedy-s3-public-ef56gh78";
const DETECT_ARN = (account: string) => `arn:aws:iam::${account}:role/remedy/remedy-member-detect`;

const SETTINGS: OrganizationSettings = {
  regions: [REGION, OTHER_REGION],
  excludedAccounts: [EXCLUDED],
  externalId: EXTERNAL_ID,
  default: { mode: "enforce" },
  organizationalUnits: {},
  accounts: {
    [OFF_MEMBER]: { mode: "off" },
    [ACL_ONLY_MEMBER]: { mode: "notify", problems: ["s3-public-acl"] },
  },
};

/** Organizations as ListAccounts and ListParents answer (every account directly under the root). */
function organization() {
  const account = (Id: string, State: "ACTIVE" | "SUSPENDED" = "ACTIVE") => ({
    Id,
    Arn: `arn:aws:organizations::${HUB}:account/o-a1b2c3d4e5/${Id}`,
    Email: `aws+${Id}@example.com`,
    Name: `account-${Id}`,
    Status: State,
    State,
    JoinedMethod: "CREATED" as const,
    JoinedTimestamp: new Date("2025-01-01T00:00:00.000Z"),
  });
  organizationsMock.on(ListAccountsCommand).resolves({
    Accounts: [
      account(HUB),
      account(MEMBER),
      account(SECOND_MEMBER),
      account(OFF_MEMBER),
      account(ACL_ONLY_MEMBER),
      account(SUSPENDED, "SUSPENDED"),
      account(EXCLUDED),
    ],
  });
  organizationsMock.on(ListParentsCommand).resolves({ Parents: [{ Id: ROOT, Type: "ROOT" }] });
}

/** STS's AssumeRole answer: credentials whose key names the account, valid 15 minutes from the test's clock. */
function assumeRoleAnswers(clock: () => Date) {
  let issued = 0;
  stsMock.on(AssumeRoleCommand).callsFake((input: { RoleArn: string; RoleSessionName: string }) => {
    const account = input.RoleArn.split(":")[4]!;
    issued++;
    return {
      Credentials: {
        AccessKeyId: `ASIA${account}DETECT${issued}`,
        SecretAccessKey: `secret/${account}/${issued}`,
        SessionToken: `token-${account}-${issued}`,
        Expiration: new Date(clock().getTime() + 900_000),
      },
      AssumedRoleUser: {
        AssumedRoleId: `AROADETECTROLEID:${input.RoleSessionName}`,
        Arn: `arn:aws:sts::${account}:assumed-role/remedy-member-detect/${input.RoleSessionName}`,
      },
      SourceIdentity: input.RoleSessionName,
    };
  });
}

function setup(options: { settings?: OrganizationSettings; region?: string } = {}) {
  for (const mock of MOCKS) mock.reset();
  let clock = NOW;
  const now = () => clock;
  organization();
  assumeRoleAnswers(now);
  configMock.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
  configMock.on(GetComplianceDetailsByResourceCommand).resolves({ EvaluationResults: [] });
  configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
  s3ControlMock
    .on(GetAccountPublicAccessBlockCommand)
    .rejects(
      awsError("NoSuchPublicAccessBlockConfiguration", 404, "The public access block configuration was not found"),
    );
  sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [] });

  const settings = options.settings ?? SETTINGS;
  const deployment = testDeployment({ organization: settings, region: options.region ?? REGION });
  const log = recordingLog();
  const metrics = recordingMetrics();
  const members = memberDetection({
    deployment,
    directory: organizationsDirectory(new OrganizationsClient({ region: REGION }), settings, {
      now: () => clock.getTime(),
    }),
    sts: new STSClient({ region: REGION }),
    now,
    log,
  });
  const queue = memoryScanQueue();
  const deps: RuleRuntimeDeps = {
    configService: new ConfigServiceClient({ region: REGION }),
    sqs: new SQSClient({ region: REGION }),
    queueUrl: QUEUE_URL,
    deployment,
    accountFacts: async () => {
      throw new Error("the hub's own account facts are never read for a member's item");
    },
    allowlist: [],
    gracePeriodMs: 0,
    now,
    log,
    metrics,
    scanQueue: queue,
  };
  return {
    members,
    deps,
    log,
    metrics,
    queue,
    advance: (ms: number) => {
      clock = new Date(clock.getTime() + ms);
    },
  };
}

/** A configuration item of `account` in `region`, in Config's event shape. */
function itemOf(
  folder: "AWS_EC2_SecurityGroup" | "AWS_S3_Bucket",
  variant: string,
  account = MEMBER,
  region = REGION,
): Record<string, unknown> {
  const item = configItem<Record<string, unknown>>(folder, variant);
  const arn = String(item.ARN).replace(":us-east-1:", `:${region}:`).replace(`:${HUB}:`, `:${account}:`);
  return { ...item, awsAccountId: account, awsRegion: region, ARN: arn };
}

/** The invocation an organisation rule sends the hub's rule function for a change in a member account. */
function memberEvent(
  item: Record<string, unknown>,
  options: { accountId?: string; configRuleName?: string; resultToken?: string } = {},
): Record<string, unknown> {
  const accountId = options.accountId ?? String(item.awsAccountId);
  const configRuleName = options.configRuleName ?? (item.resourceType === "AWS::S3::Bucket" ? S3_RULE : SG_RULE);
  return {
    version: "1.0",
    invokingEvent: JSON.stringify({
      configurationItemDiff: null,
      configurationItem: item,
      notificationCreationTime: "2026-11-20T09:58:14.101Z",
      messageType: "ConfigurationItemChangeNotification",
      recordVersion: "1.3",
    }),
    ruleParameters: "{}",
    resultToken: options.resultToken ?? `member-token-${accountId}`,
    eventLeftScope: false,
    executionRoleArn: `arn:aws:iam::${accountId}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig`,
    configRuleArn: `arn:aws:config:${REGION}:${accountId}:config-rule/aws-service-rule/config-multiaccountsetup.amazonaws.com/config-rule-x1y2z3`,
    configRuleName,
    configRuleId: "config-rule-x1y2z3",
    accountId,
  };
}

/** Whose credentials (and which region) each call of `command` was made with: the client that received it. */
async function sentWith(command: Parameters<typeof configMock.commandCalls>[0]) {
  return Promise.all(
    configMock.commandCalls(command).map(async (call) => {
      const client = call.thisValue as ConfigServiceClient;
      const credentials = await client.config.credentials();
      return { accessKeyId: credentials.accessKeyId, region: await client.config.region() };
    }),
  );
}

function instructionsQueued() {
  return sqsMock
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => (call.args[0].input.Entries ?? []).map((entry) => ({ call, entry })))
    .map(({ call, entry }) => ({ queueUrl: call.args[0].input.QueueUrl, ...parseInstruction(entry.MessageBody) }));
}

beforeEach(() => {
  for (const mock of MOCKS) mock.reset();
});

describe("a member account's change notification", () => {
  it("assumes the member's detect role, reports to that member's Config with it, and queues on the hub naming the member", async () => {
    const { members, deps, metrics } = setup();
    const result = await members.runRule(
      memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world")),
      deps,
      "7c1d9e2f-0000-4000-8000-00000000abcd",
    );

    expect(result).toMatchObject({ outcome: "evaluated", evaluations: [{ ComplianceType: "NON_COMPLIANT" }] });
    const assumed = stsMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
    expect(assumed).toEqual([
      {
        RoleArn: DETECT_ARN(MEMBER),
        RoleSessionName: "detect-7c1d9e2f",
        SourceIdentity: "detect-7c1d9e2f",
        DurationSeconds: 900,
        ExternalId: EXTERNAL_ID,
      },
    ]);
    // Config is told, and asked, with the member's credentials in this function's region.
    expect(await sentWith(PutEvaluationsCommand)).toEqual([{ accessKeyId: `ASIA${MEMBER}DETECT1`, region: REGION }]);
    expect(await sentWith(GetComplianceDetailsByResourceCommand)).toEqual([
      { accessKeyId: `ASIA${MEMBER}DETECT1`, region: REGION },
    ]);
    expect(configMock.commandCalls(PutEvaluationsCommand)[0]!.args[0].input).toMatchObject({
      ResultToken: `member-token-${MEMBER}`,
      TestMode: false,
    });
    // The instruction goes to the hub's queue, naming the member account and the item's region (from the item).
    const [instruction, ...more] = instructionsQueued();
    expect(more).toEqual([]);
    expect(instruction).toMatchObject({
      queueUrl: QUEUE_URL,
      problem: "sg-open-ingress",
      resource: {
        type: "AWS::EC2::SecurityGroup",
        id: "sg-0f1e2d3c4b5a69788",
        arn: `arn:aws:ec2:${REGION}:${MEMBER}:security-group/sg-0f1e2d3c4b5a69788`,
        accountId: MEMBER,
        region: REGION,
      },
      rule: { id: "sg-open-ingress", configRuleName: SG_RULE },
    });
    expect(metrics.counts).toMatchObject({ Evaluations: 1, InstructionsQueued: 1 });
    expect(metrics.counts.InvalidEvents).toBeUndefined();
  });

  it("reads the account's Block Public Access in the member account, with its credentials", async () => {
    const { members, deps } = setup();
    const result = await members.runRule(memberEvent(itemOf("AWS_S3_Bucket", "public-read-acl")), deps);
    expect(result).toMatchObject({ outcome: "evaluated", queued: [{ problem: "s3-public-acl" }] });
    const [call, ...more] = s3ControlMock.commandCalls(GetAccountPublicAccessBlockCommand);
    expect(more).toEqual([]);
    expect(call!.args[0].input).toEqual({ AccountId: MEMBER });
    const client = call!.thisValue as S3ControlClient;
    expect((await client.config.credentials()).accessKeyId).toBe(`ASIA${MEMBER}DETECT1`);
    expect(await client.config.region()).toBe(REGION);
  });

  it("reads an oversized item from the member's Config, with its credentials", async () => {
    const { members, deps } = setup();
    const history = fixture<{ configurationItems: Record<string, unknown>[] }>(
      "config-events/OversizedConfigurationItemChangeNotification/sg.get-resource-config-history.json",
    );
    const memberItem = {
      ...history.configurationItems[0]!,
      accountId: MEMBER,
      arn: `arn:aws:ec2:${REGION}:${MEMBER}:security-group/sg-0f1e2d3c4b5a69788`,
    };
    configMock.on(GetResourceConfigHistoryCommand).resolves({ configurationItems: [memberItem as never] });
    const event = configEvent("OversizedConfigurationItemChangeNotification", "sg");
    const invoking = JSON.parse(String(event.invokingEvent));
    invoking.configurationItemSummary.awsAccountId = MEMBER;
    const result = await members.runRule(
      { ...event, invokingEvent: JSON.stringify(invoking), accountId: MEMBER, configRuleName: SG_RULE },
      deps,
    );
    expect(result).toMatchObject({ outcome: "evaluated", queued: [{ resource: { accountId: MEMBER } }] });
    expect(await sentWith(GetResourceConfigHistoryCommand)).toEqual([
      { accessKeyId: `ASIA${MEMBER}DETECT1`, region: REGION },
    ]);
  });

  it("reuses an account's credentials in a warm container, and assumes again a minute before they expire", async () => {
    const { members, deps, advance } = setup();
    const event = memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world"));
    await members.runRule(event, deps, "aaaaaaaa-1");
    advance(13 * 60_000);
    await members.runRule(event, deps, "bbbbbbbb-2");
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    // Another account has its own session.
    await members.runRule(memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", SECOND_MEMBER)), deps);
    expect(stsMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn)).toEqual([
      DETECT_ARN(MEMBER),
      DETECT_ARN(SECOND_MEMBER),
    ]);
    // 14 minutes after the first assume: within a minute of its expiry, so a new session, named by this invocation.
    advance(60_000);
    await members.runRule(event, deps, "cccccccc-3");
    const calls = stsMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
    expect(calls.map((input) => [input.RoleArn, input.RoleSessionName])).toEqual([
      [DETECT_ARN(MEMBER), "detect-aaaaaaaa"],
      [DETECT_ARN(SECOND_MEMBER), expect.stringMatching(/^detect-[0-9a-f]{8}$/)],
      [DETECT_ARN(MEMBER), "detect-cccccccc"],
    ]);
    expect((await sentWith(PutEvaluationsCommand)).map((sent) => sent.accessKeyId)).toEqual([
      `ASIA${MEMBER}DETECT1`,
      `ASIA${MEMBER}DETECT1`,
      `ASIA${SECOND_MEMBER}DETECT2`,
      `ASIA${MEMBER}DETECT3`,
    ]);
  });

  it("without an ExternalId in the settings, asks STS for none", async () => {
    const { members, deps } = setup({ settings: { ...SETTINGS, externalId: undefined } });
    await members.runRule(memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world")), deps);
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input).not.toHaveProperty("ExternalId");
  });
});

describe("the account's settings decide what is queued, never what Config is told", () => {
  it("an account that is off: the verdict reported to its Config, nothing queued", async () => {
    const { members, deps, metrics, log } = setup();
    const result = await members.runRule(
      memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", OFF_MEMBER)),
      deps,
    );
    expect(result).toMatchObject({ outcome: "evaluated", queued: [], notQueued: 1 });
    expect(await sentWith(PutEvaluationsCommand)).toEqual([
      { accessKeyId: `ASIA${OFF_MEMBER}DETECT1`, region: REGION },
    ]);
    expect(configMock.commandCalls(PutEvaluationsCommand)[0]!.args[0].input.Evaluations).toMatchObject([
      { ComplianceType: "NON_COMPLIANT" },
    ]);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
    expect(metrics.counts.InstructionsQueued).toBe(0);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ fields: expect.objectContaining({ accountId: OFF_MEMBER, mode: "off", held: 1 }) }),
    );
  });

  it("a problem not enabled for the account: only the enabled problem's instruction is queued", async () => {
    const { members, deps } = setup();
    const result = await members.runRule(
      memberEvent(itemOf("AWS_S3_Bucket", "public-acl-and-policy", ACL_ONLY_MEMBER)),
      deps,
    );
    expect(result).toMatchObject({ outcome: "evaluated", notQueued: 1 });
    expect(instructionsQueued().map((instruction) => [instruction.problem, instruction.resource.accountId])).toEqual([
      ["s3-public-acl", ACL_ONLY_MEMBER],
    ]);
    expect(configMock.commandCalls(PutEvaluationsCommand)).toHaveLength(1);
  });
});

describe("claims the function does not serve are refused before anything is assumed, reported or queued", () => {
  const refusals: [string, () => Record<string, unknown>, RegExp][] = [
    [
      "an account outside the organisation",
      () => memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", OUTSIDER)),
      new RegExp(`account ${OUTSIDER} is not an account of this organisation`),
    ],
    [
      "an excluded account",
      () => memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", EXCLUDED)),
      /excluded in the organisation settings/,
    ],
    [
      "a suspended account",
      () => memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", SUSPENDED)),
      /is suspended in the organisation/,
    ],
    [
      "an item of another region the organisation serves",
      () => memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", MEMBER, OTHER_REGION)),
      /item is in region eu-west-1, but this rule function serves us-east-1 \(its own region's rule function/,
    ],
    [
      "an item of a region not in the settings",
      () => memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", MEMBER, "ap-south-1")),
      /item is in region ap-south-1, .*a region not in the organisation settings/,
    ],
    [
      "an item of another account than the event's",
      () => memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", SECOND_MEMBER), { accountId: MEMBER }),
      new RegExp(`item is of account ${SECOND_MEMBER}, but the event comes from account ${MEMBER}`),
    ],
    [
      "an event without an account",
      () => {
        const { accountId: _, ...event } = memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world"));
        return event;
      },
      /names no account/,
    ],
  ];

  it.each(refusals)("%s", async (_name, event, reason) => {
    const { members, deps, metrics, log } = setup();
    const result = await members.runRule(event(), deps);
    expect(result).toEqual({ outcome: "rejected", reason: expect.stringMatching(reason) });
    expect((result as { reason: string }).reason).toMatch(/^OutsideOrganizationError: /);
    expect(stsMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
    expect(s3ControlMock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
    expect(metrics.counts.InvalidEvents).toBe(1);
    expect(log.errors()).toMatchObject([
      { message: "refused a member account's Config rule event", fields: { step: "member-refused" } },
    ]);
  });

  it("a rule function in a region the settings do not list refuses every event", async () => {
    const { members, deps } = setup({ region: "ap-south-1" });
    const result = await members.runRule(
      memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", MEMBER, "ap-south-1")),
      deps,
    );
    expect(result).toMatchObject({
      outcome: "rejected",
      reason: expect.stringMatching(/region ap-south-1 is not one/),
    });
    expect(stsMock.calls()).toHaveLength(0);
    expect(organizationsMock.calls()).toHaveLength(0);
  });

  it("a rule this stack did not deploy, or an event that cannot be parsed: refused by the core, asking nothing", async () => {
    const { members, deps, metrics } = setup();
    const foreign = await members.runRule(
      memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world"), {
        configRuleName: "OrgConfigRule-someone-elses-rule-ab12cd34",
      }),
      deps,
    );
    expect(foreign).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/not one of this deployment/) });
    const broken = await members.runRule({ invokingEvent: "{", resultToken: "t", configRuleName: SG_RULE }, deps);
    expect(broken).toMatchObject({ outcome: "rejected", reason: expect.stringMatching(/not valid JSON/) });
    for (const mock of MOCKS) expect(mock.calls()).toHaveLength(0);
    expect(metrics.counts.InvalidEvents).toBe(2);
  });

  it("Organizations unreadable: the event fails (retried), nothing assumed", async () => {
    const { members, deps } = setup();
    organizationsMock.on(ListAccountsCommand).rejects(awsError("TooManyRequestsException", 400, "Rate exceeded"));
    await expect(
      members.runRule(memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world")), deps),
    ).rejects.toMatchObject({ name: "TooManyRequestsException" });
    expect(stsMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
  });
});

describe("the member detect role", () => {
  it("AccessDenied: a clear error naming the role and the account; nothing reported or queued; asked again next time", async () => {
    const { members, deps, metrics, log } = setup();
    stsMock
      .on(AssumeRoleCommand)
      .rejectsOnce(
        awsError(
          "AccessDenied",
          403,
          `User: arn:aws:sts::${HUB}:assumed-role/remedy-config-rule/remedy-config-rule is not authorized to perform: sts:AssumeRole on resource: ${DETECT_ARN(MEMBER)}`,
        ),
      );
    const event = memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world"));
    const result = await members.runRule(event, deps);
    expect(result).toEqual({
      outcome: "rejected",
      reason: expect.stringMatching(
        new RegExp(
          `^MemberDetectRoleError: cannot assume ${DETECT_ARN(MEMBER)}: the member detect role is missing in account ${MEMBER} or does not trust`,
        ),
      ),
    });
    expect(configMock.calls()).toHaveLength(0);
    expect(sqsMock.calls()).toHaveLength(0);
    expect(metrics.counts.InvalidEvents).toBe(1);
    expect(log.errors()).toMatchObject([{ fields: { accountId: MEMBER, errorName: "MemberDetectRoleError" } }]);

    // A refusal is not cached: the role deployed since, the next event gets it.
    assumeRoleAnswers(() => NOW);
    expect(await members.runRule(event, deps)).toMatchObject({ outcome: "evaluated" });
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it("throttled: thrown as it came (transient: the invocation is retried)", async () => {
    const { members, deps } = setup();
    stsMock.on(AssumeRoleCommand).rejects(awsError("Throttling", 400, "Rate exceeded"));
    await expect(
      members.runRule(memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world")), deps),
    ).rejects.toMatchObject({ name: "Throttling" });
    expect(configMock.calls()).toHaveLength(0);
  });

  it("session names: detect- and 8 characters of the invocation id, valid for STS", () => {
    expect(detectSessionName("7c1d9e2f-0000-4000-8000-00000000abcd")).toBe("detect-7c1d9e2f");
    expect(detectSessionName("")).toBe("detect-remedy");
  });
});

describe("the periodic scan in organisation mode", () => {
  const groupIds = ["sg-00000000000000010", "sg-00000000000000011"];
  /** The member's Config: two open groups, listed and read in Config's shapes. */
  function memberConfig(account = MEMBER) {
    configMock.on(ListDiscoveredResourcesCommand).resolves({
      resourceIdentifiers: groupIds.map((resourceId) => ({ resourceType: "AWS::EC2::SecurityGroup", resourceId })),
    });
    configMock.on(BatchGetResourceConfigCommand).callsFake((input: { resourceKeys: { resourceId: string }[] }) => ({
      baseConfigurationItems: input.resourceKeys.map(({ resourceId }) => {
        const item = itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world", account);
        const configuration = { ...(item.configuration as object), groupId: resourceId };
        return asBaseItem({ ...item, resourceId, configuration });
      }),
    }));
  }

  function scheduledEvent(account: string) {
    const event = configEvent("ScheduledNotification", "sg");
    const invoking = JSON.parse(String(event.invokingEvent));
    invoking.awsAccountId = account;
    return {
      ...event,
      invokingEvent: JSON.stringify(invoking),
      accountId: account,
      configRuleName: SG_RULE,
      resultToken: `scan-token-${account}`,
    };
  }

  /** Runs every task on the queue through `members` (as the handler does), each its own invocation. */
  async function drive(members: MemberDetection, deps: RuleRuntimeDeps, queue: ReturnType<typeof memoryScanQueue>) {
    const store = memoryScanStore();
    const tasks: ScanTask[] = [];
    for (let index = 0; index < queue.bodies.length; index++) {
      const task = parseScanTask(queue.bodies[index]!);
      tasks.push(task);
      await members.runScanTask(
        task,
        { ...deps, scanStore: store, remainingTimeMs: () => 250_000, safetyMarginMs: 60_000 },
        `0000000${index}-invocation`,
      );
    }
    return tasks;
  }

  it("starts per member account and region, every task carries both, and each runs with the member's credentials", async () => {
    const { members, deps, queue } = setup();
    memberConfig();
    const started = await members.runRule(scheduledEvent(MEMBER), deps);
    expect(started).toMatchObject({ outcome: "scan-started" });
    expect(queue.sent).toMatchObject([{ kind: "verdicts", accountId: MEMBER, region: REGION, part: 0 }]);

    const tasks = await drive(members, deps, queue);
    expect(tasks.map((task) => [task.kind, task.accountId, task.region])).toEqual([
      ["verdicts", MEMBER, REGION],
      ["list", MEMBER, REGION],
      ["judge", MEMBER, REGION],
    ]);
    // Every Config call of the scan, in the member account, with the member's detect credentials.
    const memberKey = { accessKeyId: `ASIA${MEMBER}DETECT1`, region: REGION };
    for (const command of [
      GetComplianceDetailsByConfigRuleCommand,
      ListDiscoveredResourcesCommand,
      BatchGetResourceConfigCommand,
      PutEvaluationsCommand,
    ]) {
      expect(await sentWith(command), command.name).toEqual([memberKey]);
    }
    expect(configMock.commandCalls(PutEvaluationsCommand)[0]!.args[0].input.ResultToken).toBe(`scan-token-${MEMBER}`);
    expect(instructionsQueued().map((instruction) => [instruction.queueUrl, instruction.resource.accountId])).toEqual(
      groupIds.map(() => [QUEUE_URL, MEMBER]),
    );
    // The detect role of the member, assumed once and reused by each task of the warm container.
    expect(stsMock.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.RoleArn)).toEqual([
      DETECT_ARN(MEMBER),
    ]);
  });

  it("a task of another of the settings' regions (the hub region's function takes them all) runs in that region", async () => {
    const { members, deps, queue } = setup();
    configMock.on(ListDiscoveredResourcesCommand).resolves({ resourceIdentifiers: [] });
    const first = parseScanTask(task({ accountId: MEMBER, region: OTHER_REGION }));
    const store = memoryScanStore();
    const scanDeps = { ...deps, scanStore: store, remainingTimeMs: () => 250_000, safetyMarginMs: 60_000 };
    await members.runScanTask(first, scanDeps);
    await members.runScanTask(queue.sent[0]!, scanDeps);
    expect(queue.sent).toMatchObject([{ kind: "list", accountId: MEMBER, region: OTHER_REGION }]);
    const memberThere = { accessKeyId: `ASIA${MEMBER}DETECT1`, region: OTHER_REGION };
    expect(await sentWith(GetComplianceDetailsByConfigRuleCommand)).toEqual([memberThere]);
    expect(await sentWith(ListDiscoveredResourcesCommand)).toEqual([memberThere]);
    // Credentials are the account's, in every region: one session, clients per region.
    await members.runRule(memberEvent(itemOf("AWS_EC2_SecurityGroup", "ssh-open-to-world")), deps);
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    expect(await sentWith(PutEvaluationsCommand)).toEqual([{ accessKeyId: `ASIA${MEMBER}DETECT1`, region: REGION }]);
  });

  it("each task checks the account again: one excluded since the scan started is refused, nothing read", async () => {
    const { members, deps, queue } = setup();
    await members.runRule(scheduledEvent(MEMBER), deps);
    const [task] = queue.sent;
    const later = setup({ settings: { ...SETTINGS, excludedAccounts: [EXCLUDED, MEMBER] } });
    const run = later.members.runScanTask(task!, {
      ...later.deps,
      scanStore: memoryScanStore(),
      remainingTimeMs: () => 250_000,
      safetyMarginMs: 60_000,
    });
    await expect(run).rejects.toThrow(InvalidScanTaskError);
    await expect(run).rejects.toThrow(new RegExp(`account ${MEMBER} is excluded`));
    expect(stsMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
  });

  it("an off account's scan reports its verdicts and queues nothing", async () => {
    const { members, deps, queue } = setup();
    memberConfig(OFF_MEMBER);
    await members.runRule(scheduledEvent(OFF_MEMBER), deps);
    await drive(members, deps, queue);
    expect(configMock.commandCalls(PutEvaluationsCommand)[0]!.args[0].input.Evaluations).toHaveLength(2);
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });

  const task = (over: Record<string, unknown>) =>
    JSON.stringify({
      kind: "verdicts",
      version: 1,
      scanId: "0b7e6a52-3f0e-4a8e-9c1d-2f4b5a6c7d8e",
      configRuleName: SG_RULE,
      resultToken: "token",
      startedAt: NOW.toISOString(),
      part: 0,
      ...over,
    });

  it.each([
    ["without an account", {}, /names no account and region/],
    ["of an account outside the organisation", { accountId: OUTSIDER, region: REGION }, /not an account of this/],
    ["of a region not in the settings", { accountId: MEMBER, region: "ap-south-1" }, /region ap-south-1 is not one/],
  ])("a task %s is dead-lettered with its reason, nothing assumed or read", async (_name, where, reason) => {
    const { members, deps } = setup();
    const dlq = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan-dlq";
    const outcome = await runScanBatch(
      { Records: [{ messageId: "m1", body: task(where) }] },
      {
        ...deps,
        scanStore: memoryScanStore(),
        remainingTimeMs: () => 250_000,
        safetyMarginMs: 60_000,
        scanDeadLetterUrl: dlq,
        runTask: (parsed, taskDeps) => members.runScanTask(parsed, taskDeps),
      },
    );
    expect(outcome).toEqual({ batchItemFailures: [] });
    const [dead, ...more] = sqsMock.commandCalls(SendMessageBatchCommand).map((call) => call.args[0].input);
    expect(more).toEqual([]);
    expect(dead!.QueueUrl).toBe(dlq);
    expect(dead!.Entries![0]!.MessageAttributes!.reason!.StringValue).toMatch(reason);
    expect(stsMock.calls()).toHaveLength(0);
    expect(configMock.calls()).toHaveLength(0);
  });

  it("a task whose member refuses the detect role is dead-lettered with the clear reason", async () => {
    const { members, deps } = setup();
    stsMock.on(AssumeRoleCommand).rejects(awsError("AccessDenied", 403, "not authorized to perform: sts:AssumeRole"));
    const run = members.runScanTask(parseScanTask(task({ accountId: MEMBER, region: REGION })), {
      ...deps,
      scanStore: memoryScanStore(),
      remainingTimeMs: () => 250_000,
      safetyMarginMs: 60_000,
    });
    await expect(run).rejects.toThrow(InvalidScanTaskError);
    await expect(run).rejects.toThrow(`cannot assume ${DETECT_ARN(MEMBER)}`);
    expect(configMock.calls()).toHaveLength(0);
  });

  it("a task must name both an account and a region, or neither", () => {
    expect(() => parseScanTask(task({ accountId: MEMBER }))).toThrow(/both an account and a region/);
    expect(() => parseScanTask(task({ accountId: "12345", region: REGION }))).toThrow(/accountId/);
  });

  it("run with the hub's own deps, a member's task is refused (only a member deployment may read a member)", async () => {
    const { deps } = setup();
    const scanDeps: ScanDeps = {
      ...deps,
      scanStore: memoryScanStore(),
      remainingTimeMs: () => 250_000,
      safetyMarginMs: 60_000,
    };
    await expect(runScanTask(parseScanTask(task({ accountId: MEMBER, region: REGION })), scanDeps)).rejects.toThrow(
      /not of 123456789012\/us-east-1/,
    );
    expect(configMock.calls()).toHaveLength(0);
  });

  it("single-account mode: a task naming an account is refused; one without runs as before", async () => {
    for (const mock of MOCKS) mock.reset();
    configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    const queue = memoryScanQueue();
    const scanDeps: ScanDeps = {
      configService: new ConfigServiceClient({ region: REGION }),
      sqs: new SQSClient({ region: REGION }),
      queueUrl: QUEUE_URL,
      deployment: testDeployment(),
      accountFacts: async () => ({}),
      allowlist: [],
      gracePeriodMs: 0,
      now: () => NOW,
      log: recordingLog(),
      metrics: recordingMetrics(),
      scanQueue: queue,
      scanStore: memoryScanStore(),
      remainingTimeMs: () => 250_000,
      safetyMarginMs: 60_000,
    };
    const single = (over: Record<string, unknown>) => task({ configRuleName: "remedy-sg-open-ingress", ...over });
    await expect(runScanTask(parseScanTask(single({ accountId: HUB, region: REGION })), scanDeps)).rejects.toThrow(
      /single-account/,
    );
    await runScanTask(parseScanTask(single({})), scanDeps);
    // The next task is exactly what it always was: no account or region keys.
    expect(Object.keys(queue.sent[0]!)).toEqual([
      "kind",
      "version",
      "scanId",
      "configRuleName",
      "resultToken",
      "startedAt",
      "parts",
      "typeIndex",
    ]);
  });
});

describe("placeProblem", () => {
  const deployment = { region: REGION, organization: SETTINGS };
  it("accepts a scheduled notification naming only the account, and an oversized one without a region", () => {
    expect(placeProblem(deployment, { accountId: MEMBER, itemAccountId: MEMBER })).toBeUndefined();
    expect(placeProblem(deployment, { accountId: MEMBER })).toBeUndefined();
  });
  it("refuses a change notification whose item does not say where it is", () => {
    expect(placeProblem(deployment, { accountId: MEMBER, carriesItem: true, itemAccountId: MEMBER })).toMatch(
      /does not name its account and region/,
    );
  });
});
