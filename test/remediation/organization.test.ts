// Organisation mode in the remediation runner: the account's standing from the organisation (Organizations mocked in
// AWS's shapes), its settings (off, problems, grace, notify), the member fix role assumed for the one action (STS
// mocked), and every EC2/S3 call made with the assumed credentials in the instruction's region.
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import {
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { Instruction } from "../../contract/instruction.ts";
import type { MatchedEntry, Problem } from "../../detection/types.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { memberFixes } from "../../functions/remediation/member.ts";
import { DLQ_REASON_ATTRIBUTE, type RemediationDeps, runRemediation } from "../../functions/remediation/runner.ts";
import { type OrganizationSettings, organizationsDirectory } from "../../platform/organization.ts";
import { problemsFixedBy } from "../../problems/index.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { testInstruction } from "../support/instructions.ts";
import { FIX_MODULES } from "../support/remediate.ts";
import {
  ACCOUNT,
  ACTION_ID,
  awsError,
  DEPLOYED_SG_PARAMETERS,
  DLQ_URL,
  deployedDeps,
  GRANTS,
  GROUP_ID,
  OWNER,
  PUBLIC_READ_GRANT,
  RUNNING,
  recordingReporter,
  requestFor,
  S3_CONFIG_RULE,
  SG_CONFIG_RULE,
  SG_RULES,
  SSH_V4,
  T0,
  testDeployment,
  testLedger,
} from "./support.ts";

const ec2Mock = mockClient(EC2Client);
const s3Mock = mockClient(S3Client);
const s3ControlMock = mockClient(S3ControlClient);
const sqsMock = mockClient(SQSClient);
const stsMock = mockClient(STSClient);
const organizationsMock = mockClient(OrganizationsClient);
afterAll(() => {
  for (const mock of [ec2Mock, s3Mock, s3ControlMock, sqsMock, stsMock, organizationsMock]) mock.restore();
});

/** The hub is ACCOUNT (123456789012, us-east-1); these are members, each in its own place in the organisation. */
const MEMBER = "210987654321";
const NOTIFY_MEMBER = "333344445555";
const OFF_MEMBER = "444455556666";
const SUSPENDED = "555566667777";
const EXCLUDED = "666677778888";
const OUTSIDER = "999988887777";
const MEMBER_REGION = "eu-west-1";
const ROOT = "r-a1b2";
const WORKLOADS_OU = "ou-a1b2-workload1";
const SANDBOX_OU = "ou-a1b2-sandbox01";
const EXTERNAL_ID = "remedy-hub-7f3a9c";

const SETTINGS: OrganizationSettings = {
  regions: ["us-east-1", MEMBER_REGION],
  excludedAccounts: [EXCLUDED],
  externalId: EXTERNAL_ID,
  default: { mode: "notify" },
  organizationalUnits: {
    [WORKLOADS_OU]: { mode: "enforce" },
    [SANDBOX_OU]: { mode: "off" },
  },
  accounts: {},
};

/** Organizations as ListAccounts and ListParents answer (State is the newer field, Status the deprecated one). */
function organization(parents: Record<string, string> = {}) {
  const account = (Id: string, State: "ACTIVE" | "SUSPENDED" = "ACTIVE") => ({
    Id,
    Arn: `arn:aws:organizations::${ACCOUNT}:account/o-a1b2c3d4e5/${Id}`,
    Email: `aws+${Id}@example.com`,
    Name: `account-${Id}`,
    Status: State,
    State,
    JoinedMethod: "CREATED" as const,
    JoinedTimestamp: new Date("2025-01-01T00:00:00.000Z"),
  });
  organizationsMock.on(ListAccountsCommand).resolves({
    Accounts: [
      account(ACCOUNT),
      account(MEMBER),
      account(NOTIFY_MEMBER),
      account(OFF_MEMBER),
      account(SUSPENDED, "SUSPENDED"),
      account(EXCLUDED),
    ],
  });
  const placed: Record<string, string> = {
    [MEMBER]: WORKLOADS_OU,
    [OFF_MEMBER]: SANDBOX_OU,
    [WORKLOADS_OU]: ROOT,
    [SANDBOX_OU]: ROOT,
    ...parents,
  };
  organizationsMock.on(ListParentsCommand).callsFake((input: { ChildId: string }) => {
    const parent = placed[input.ChildId] ?? ROOT;
    return { Parents: [{ Id: parent, Type: parent.startsWith("ou-") ? "ORGANIZATIONAL_UNIT" : "ROOT" }] };
  });
}

const CREDENTIALS = {
  AccessKeyId: "ASIAMEMBERFIXEXAMPLE",
  SecretAccessKey: "member/fix/secret/access/key/EXAMPLE0000",
  SessionToken: "IQoJb3JpZ2luX2VjEMEMBER//////////session-token-EXAMPLE",
  Expiration: new Date("2026-11-20T10:43:19.000Z"),
};

function assumeRoleAnswers() {
  stsMock.on(AssumeRoleCommand).callsFake((input: { RoleArn: string; RoleSessionName: string }) => ({
    Credentials: CREDENTIALS,
    AssumedRoleUser: {
      AssumedRoleId: `AROAMEMBERFIXROLEID:${input.RoleSessionName}`,
      Arn: `${input.RoleArn.replace(":iam::", ":sts::").replace(":role/remedy/", ":assumed-role/")}/${input.RoleSessionName}`,
    },
    SourceIdentity: input.RoleSessionName,
  }));
}

function securityGroup() {
  const memberRules = SG_RULES.map((rule) => ({ ...rule, GroupOwnerId: MEMBER }));
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({
    SecurityGroups: [{ GroupId: GROUP_ID, GroupName: "web", OwnerId: MEMBER, Tags: [] }],
  });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: memberRules });
  ec2Mock.on(RevokeSecurityGroupIngressCommand).callsFake((input: { SecurityGroupRuleIds: string[] }) => ({
    Return: true,
    RevokedSecurityGroupRules: input.SecurityGroupRuleIds.map((id) => ({ SecurityGroupRuleId: id })),
  }));
}

function bucket() {
  s3Mock.on(GetBucketTaggingCommand).rejects(awsError("NoSuchTagSet", 404));
  s3Mock.on(GetBucketOwnershipControlsCommand).rejects(awsError("OwnershipControlsNotFoundError", 404));
  s3Mock.on(GetBucketAclCommand).resolves({ Owner: OWNER, Grants: GRANTS });
  s3Mock.on(GetBucketPolicyCommand).rejects(awsError("NoSuchBucketPolicy", 404));
  s3Mock.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  s3Mock.on(PutBucketAclCommand).resolves({});
  s3ControlMock.on(GetAccountPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
}

interface Setup {
  settings?: OrganizationSettings;
  /** Leave the organisation deps out (a wiring mistake): nothing may be acted on. */
  withoutOrganization?: boolean;
  now?: Date;
}

function setup(options: Setup = {}) {
  for (const mock of [ec2Mock, s3Mock, s3ControlMock, sqsMock, stsMock, organizationsMock]) mock.reset();
  organization();
  assumeRoleAnswers();
  securityGroup();
  bucket();
  const events: string[] = [];
  sqsMock.on(DeleteMessageCommand).callsFake(() => {
    events.push("delete");
    return {};
  });
  sqsMock.on(SendMessageCommand).callsFake(() => {
    events.push("dlq");
    return { MessageId: "dlq-1" };
  });
  const settings = options.settings ?? SETTINGS;
  const log = recordingLog();
  const ledger = testLedger(events);
  const reporter = recordingReporter();
  let pauseReads = 0;
  const now = () => options.now ?? T0;
  const deps: RemediationDeps = {
    ...deployedDeps({ deployment: testDeployment({ organization: settings }) }),
    readPause: async () => {
      pauseReads++;
      return RUNNING;
    },
    sqs: new SQSClient({ region: "us-east-1" }),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: [],
    now,
    log,
    newActionId: () => ACTION_ID,
    ...(options.withoutOrganization
      ? {}
      : {
          organization: {
            directory: organizationsDirectory(new OrganizationsClient({ region: "us-east-1" }), settings, {
              now: () => now().getTime(),
            }),
            sts: new STSClient({ region: "us-east-1" }),
          },
        }),
  };
  const env = { REMEDY_LEDGER_BUCKET: "remedy-ledger-hub", REMEDY_S3_FIX_STRATEGY: "surgical" };
  const fixesOf = (name: string) =>
    memberFixes(
      problemsFixedBy(name).map((problem) => FIX_MODULES.get(problem)!),
      { env, log, now, undoExemptions: deps.undoExemptions },
    );
  return {
    deps,
    events,
    ledger,
    reporter,
    log,
    pauseReads: () => pauseReads,
    remediate: (name: string, payload: unknown) => runRemediation(payload, deps, fixesOf(name)),
  };
}

function memberInstruction(
  problem: Problem,
  matched: MatchedEntry[],
  where: { accountId?: string; region?: string; detectedAt?: string } = {},
): Instruction {
  const isSg = problem === "sg-open-ingress";
  const detectedAt = where.detectedAt ?? "2026-11-20T10:00:05.000Z";
  return testInstruction({
    problem,
    matched,
    resourceId: isSg ? GROUP_ID : "acme-member-data",
    accountId: where.accountId ?? MEMBER,
    region: where.region ?? MEMBER_REGION,
    withArn: !isSg,
    configRuleName: isSg ? SG_CONFIG_RULE : S3_CONFIG_RULE,
    parameters: isSg ? { ...DEPLOYED_SG_PARAMETERS, ipv4MinPrefix: 8, ipv6MinPrefix: 16 } : {},
    capturedAt: "2026-11-20T10:00:00.000Z",
    detectedAt,
    notBefore: detectedAt,
  });
}

/** What every call a mocked client received was signed with, and where it went. */
async function whereCallsWent(mock: { calls(): { thisValue: unknown; args: readonly unknown[] }[] }) {
  return Promise.all(
    mock.calls().map(async (call) => {
      const client = call.thisValue as {
        config: { credentials: () => Promise<unknown>; region: () => Promise<string> };
      };
      return {
        command: (call.args[0] as object).constructor.name,
        credentials: await client.config.credentials(),
        region: await client.config.region(),
      };
    }),
  );
}

const ASSUMED = {
  accessKeyId: CREDENTIALS.AccessKeyId,
  secretAccessKey: CREDENTIALS.SecretAccessKey,
  sessionToken: CREDENTIALS.SessionToken,
};

beforeEach(() => {
  for (const mock of [ec2Mock, s3Mock, s3ControlMock, sqsMock, stsMock, organizationsMock]) mock.reset();
});

describe("organisation mode: a member account is fixed through its fix role", () => {
  it("assumes remedy-member-fix-<problem> in the member account for the one action, and acts with it", async () => {
    const t = setup();
    const result = await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(result).toMatchObject({ status: "fixed", actionId: ACTION_ID, messageDeleted: true });

    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({
      RoleArn: `arn:aws:iam::${MEMBER}:role/remedy/remedy-member-fix-sg-open-ingress`,
      RoleSessionName: ACTION_ID,
      SourceIdentity: ACTION_ID,
      DurationSeconds: 900,
      ExternalId: EXTERNAL_ID,
    });
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input).toEqual({
      GroupId: GROUP_ID,
      SecurityGroupRuleIds: ["sgr-0ssh4"],
    });
    const calls = await whereCallsWent(ec2Mock);
    expect(calls.map((call) => call.command)).toEqual([
      "DescribeSecurityGroupsCommand",
      "DescribeSecurityGroupRulesCommand",
      "RevokeSecurityGroupIngressCommand",
    ]);
    for (const call of calls) {
      expect(call.credentials, call.command).toMatchObject(ASSUMED);
      expect(call.region, call.command).toBe(MEMBER_REGION);
    }
  });

  it("records and reports the member account and region, so undo finds where the change was made", async () => {
    const t = setup();
    await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    const where = { accountId: MEMBER, region: MEMBER_REGION };
    expect(t.ledger.writes.map((record) => record.outcome)).toEqual(["pending", "fixed"]);
    for (const record of t.ledger.writes) expect(record.resource).toMatchObject({ id: GROUP_ID, ...where });
    expect(t.reporter.of("fixed")).toEqual([
      expect.objectContaining({ resource: expect.objectContaining(where), undoCommand: `remedy undo ${ACTION_ID}` }),
    ]);
  });

  it("sends no ExternalId when the settings have none", async () => {
    const { externalId: _none, ...withoutExternalId } = SETTINGS;
    const t = setup({ settings: withoutExternalId });
    await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input).not.toHaveProperty("ExternalId");
  });

  it("acts in the hub account too, as a member, through its own fix role", async () => {
    const t = setup({ settings: { ...SETTINGS, accounts: { [ACCOUNT]: { mode: "enforce" } } } });
    const result = await t.remediate(
      "remediate-sg",
      requestFor(memberInstruction("sg-open-ingress", [SSH_V4], { accountId: ACCOUNT, region: "us-east-1" })),
    );
    expect(result).toMatchObject({ status: "fixed" });
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input.RoleArn).toBe(
      `arn:aws:iam::${ACCOUNT}:role/remedy/remedy-member-fix-sg-open-ingress`,
    );
    for (const call of await whereCallsWent(ec2Mock)) expect(call.region).toBe("us-east-1");
  });

  it("fixes a member's bucket with the member's clients: ExpectedBucketOwner and the account's BPA are the member's", async () => {
    const t = setup();
    const result = await t.remediate(
      "remediate-s3",
      requestFor(memberInstruction("s3-public-acl", [PUBLIC_READ_GRANT])),
    );
    expect(result).toMatchObject({ status: "fixed" });
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input.RoleArn).toBe(
      `arn:aws:iam::${MEMBER}:role/remedy/remedy-member-fix-s3-public-acl`,
    );
    for (const call of s3Mock.calls()) {
      expect(call.args[0]!.input).toMatchObject({ Bucket: "acme-member-data", ExpectedBucketOwner: MEMBER });
    }
    expect(s3ControlMock.commandCalls(GetAccountPublicAccessBlockCommand)[0]!.args[0].input).toEqual({
      AccountId: MEMBER,
    });
    for (const call of [...(await whereCallsWent(s3Mock)), ...(await whereCallsWent(s3ControlMock))]) {
      expect(call.credentials, call.command).toMatchObject(ASSUMED);
      expect(call.region, call.command).toBe(MEMBER_REGION);
    }
  });

  it("assumes the role once per run: a duplicate delivery of the dispatch assumes nothing", async () => {
    const t = setup();
    const request = requestFor(memberInstruction("sg-open-ingress", [SSH_V4]));
    await t.remediate("remediate-sg", request);
    expect(await t.remediate("remediate-sg", request)).toMatchObject({ status: "duplicate" });
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
  });

  it("sends only commands its registry entry declares (organisation-only ones among its organisationPermissions)", async () => {
    const t = setup();
    await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    const spec = FUNCTIONS["remediate-sg"];
    for (const call of [...stsMock.calls(), ...organizationsMock.calls()]) {
      expect(Object.keys(spec.organizationPermissions)).toContain(call.args[0]!.constructor.name);
    }
    for (const call of [...ec2Mock.calls(), ...sqsMock.calls()]) {
      expect(Object.keys(spec.permissions)).toContain(call.args[0]!.constructor.name);
    }
  });
});

describe("organisation mode: the account's settings decide, before anything is read", () => {
  async function expectNothingDone(t: ReturnType<typeof setup>, reason: RegExp) {
    expect(stsMock).not.toHaveReceivedCommand(AssumeRoleCommand);
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(t.reporter.of("skipped")).toEqual([expect.objectContaining({ reason: expect.stringMatching(reason) })]);
    expect(t.ledger.writes.map((record) => record.outcome)).toEqual(["skipped"]);
    expect(t.events).toContain("delete");
  }

  it("an account that is off (its OU's setting) is neither fixed nor read", async () => {
    const t = setup();
    const result = await t.remediate(
      "remediate-sg",
      requestFor(memberInstruction("sg-open-ingress", [SSH_V4], { accountId: OFF_MEMBER })),
    );
    expect(result).toMatchObject({
      status: "skipped",
      reason: `not acted on: account ${OFF_MEMBER} is off in the organisation settings`,
    });
    await expectNothingDone(t, /is off in the organisation settings/);
  });

  it("a problem the account does not enable is skipped (the account's entry over its OU's)", async () => {
    const t = setup({
      settings: { ...SETTINGS, accounts: { [MEMBER]: { problems: ["s3-public-acl", "s3-public-policy"] } } },
    });
    const result = await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(result).toMatchObject({
      status: "skipped",
      reason: `not acted on: problem sg-open-ingress is not enabled for account ${MEMBER}`,
    });
    await expectNothingDone(t, /not enabled for account/);
  });

  it("an account's grace period holds a fix until it is over", async () => {
    const settings = { ...SETTINGS, accounts: { [MEMBER]: { gracePeriodMinutes: 60 } } };
    const early = setup({ settings });
    const instruction = memberInstruction("sg-open-ingress", [SSH_V4]);
    expect(await early.remediate("remediate-sg", requestFor(instruction))).toMatchObject({
      status: "skipped",
      reason: expect.stringContaining(
        `account ${MEMBER} has a 60-minute grace period: not due until 2026-11-20T11:00:05.000Z`,
      ),
    });
    await expectNothingDone(early, /grace period/);

    const later = new Date("2026-11-20T11:00:06.000Z");
    const due = setup({ settings, now: later });
    const result = await due.remediate(
      "remediate-sg",
      requestFor(instruction, { dispatchedAt: "2026-11-20T11:00:05.500Z" }),
    );
    expect(result).toMatchObject({ status: "fixed" });
  });

  it.each([
    [OUTSIDER, `account ${OUTSIDER} is not an account of this organisation`],
    [SUSPENDED, `account ${SUSPENDED} is suspended in the organisation`],
    [EXCLUDED, `account ${EXCLUDED} is excluded in the organisation settings`],
  ])("account %s is refused: %s", async (accountId, reason) => {
    const t = setup();
    const result = await t.remediate(
      "remediate-sg",
      requestFor(memberInstruction("sg-open-ingress", [SSH_V4], { accountId })),
    );
    expect(result).toMatchObject({ status: "skipped", reason: `refused: ${reason}` });
    await expectNothingDone(t, /^refused: /);
  });

  it("a region the settings do not name is refused", async () => {
    const t = setup();
    const result = await t.remediate(
      "remediate-sg",
      requestFor(memberInstruction("sg-open-ingress", [SSH_V4], { region: "ap-south-1" })),
    );
    expect(result).toMatchObject({
      status: "skipped",
      reason: "refused: instruction names region ap-south-1, but this deployment acts only in us-east-1, eu-west-1",
    });
    await expectNothingDone(t, /acts only in/);
  });

  it("without the organisation's directory wired, nothing is acted on (fail closed)", async () => {
    const t = setup({ withoutOrganization: true });
    const result = await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(result).toMatchObject({
      status: "skipped",
      reason: `refused: account ${MEMBER} was not checked against the organisation`,
    });
    await expectNothingDone(t, /not checked against the organisation/);
  });

  it("fixes made with the hub's own clients are never used in organisation mode", async () => {
    const t = setup();
    const hubFix = FIX_MODULES.get("sg-open-ingress")!.create({
      env: {},
      log: t.log,
      now: () => T0,
      client: <C>(Client: new (config: object) => C) => new Client({ region: "us-east-1" }),
      undoExemptions: t.deps.undoExemptions,
    });
    const result = await runRemediation(requestFor(memberInstruction("sg-open-ingress", [SSH_V4])), t.deps, [hubFix]);
    expect(result).toMatchObject({ status: "failed", kind: "permanent", changeAttempted: false });
    expect(ec2Mock.calls()).toHaveLength(0);
  });
});

describe("organisation mode: notify", () => {
  it("plans as usual, reports what it would change, changes nothing and records no action", async () => {
    const t = setup();
    const result = await t.remediate(
      "remediate-sg",
      requestFor(memberInstruction("sg-open-ingress", [SSH_V4], { accountId: NOTIFY_MEMBER })),
    );
    const reason = `account ${NOTIFY_MEMBER} is in notify mode: Remedy tells, and changes nothing`;
    expect(result).toMatchObject({ status: "would-fix", actionId: ACTION_ID, reason, messageDeleted: true });

    // Re-read live through the member role, re-judged: only the instructed entry that still violates.
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input.RoleArn).toBe(
      `arn:aws:iam::${NOTIFY_MEMBER}:role/remedy/remedy-member-fix-sg-open-ingress`,
    );
    expect(ec2Mock).toHaveReceivedCommand(DescribeSecurityGroupRulesCommand);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
    expect(t.pauseReads()).toBe(0);
    expect(t.ledger.writes).toEqual([]);
    expect(t.events).toEqual(["delete"]);

    const [report] = t.reporter.of("would-fix");
    expect(report).toEqual({
      kind: "would-fix",
      instructionId: expect.any(String),
      problem: "sg-open-ingress",
      resource: expect.objectContaining({ id: GROUP_ID, accountId: NOTIFY_MEMBER, region: MEMBER_REGION }),
      ruleId: "sg-open-ingress",
      actionId: ACTION_ID,
      changes: [
        {
          kind: "sg-rules-revoked",
          groupId: GROUP_ID,
          rules: [
            {
              securityGroupRuleId: "sgr-0ssh4",
              ipProtocol: "tcp",
              fromPort: 22,
              toPort: 22,
              cidrIpv4: "0.0.0.0/0",
              description: "ssh from anywhere (temporary)",
            },
          ],
        },
      ],
      reason,
    });
    expect(t.reporter.reports).toHaveLength(1);
  });

  it("in notify mode too, an entry that no longer violates is not reported as something to fix", async () => {
    const t = setup();
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: SG_RULES.filter((rule) => rule.SecurityGroupRuleId !== "sgr-0ssh4"),
    });
    const result = await t.remediate(
      "remediate-sg",
      requestFor(memberInstruction("sg-open-ingress", [SSH_V4], { accountId: NOTIFY_MEMBER })),
    );
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/^nothing to do/) });
    expect(t.reporter.of("would-fix")).toEqual([]);
  });

  it("a member's bucket in notify mode: the ACL it would write is planned, PutBucketAcl never sent", async () => {
    const t = setup();
    const result = await t.remediate(
      "remediate-s3",
      requestFor(memberInstruction("s3-public-acl", [PUBLIC_READ_GRANT], { accountId: NOTIFY_MEMBER })),
    );
    expect(result).toMatchObject({ status: "would-fix" });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    expect(t.reporter.of("would-fix")[0]!.changes).toEqual([
      expect.objectContaining({ kind: "acl-grants-removed", bucket: "acme-member-data" }),
    ]);
    expect(t.ledger.writes).toEqual([]);
  });
});

describe("organisation mode: the member role cannot be assumed", () => {
  it("AccessDenied: permanent, dead-lettered with a reason naming the role, nothing read", async () => {
    const t = setup();
    stsMock
      .on(AssumeRoleCommand)
      .rejects(
        awsError(
          "AccessDenied",
          403,
          `User: arn:aws:sts::${ACCOUNT}:assumed-role/remedy-remediate-sg/remedy-remediate-sg is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${MEMBER}:role/remedy/remedy-member-fix-sg-open-ingress`,
        ),
      );
    const result = await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(result).toMatchObject({ status: "failed", kind: "permanent", deadLettered: true, changeAttempted: false });
    expect(ec2Mock.calls()).toHaveLength(0);
    const attributes = sqsMock.commandCalls(SendMessageCommand)[0]!.args[0].input.MessageAttributes;
    const reason = attributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue;
    expect(reason).toContain(
      `cannot assume arn:aws:iam::${MEMBER}:role/remedy/remedy-member-fix-sg-open-ingress: the member role is missing in account ${MEMBER} or does not trust the hub`,
    );
    expect(t.reporter.of("failed")[0]).toMatchObject({
      willRetry: false,
      error: expect.stringContaining("does not trust the hub"),
    });
    expect(t.ledger.writes.map((record) => record.outcome)).toEqual(["failed"]);
  });

  it("throttling: transient, the message stays for the next attempt", async () => {
    const t = setup();
    stsMock.on(AssumeRoleCommand).rejects(awsError("Throttling", 400, "Rate exceeded"));
    const result = await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(result).toMatchObject({ status: "failed", kind: "transient", deadLettered: false });
    expect(t.reporter.of("failed")[0]).toMatchObject({ willRetry: true });
    expect(t.events).not.toContain("delete");
    expect(t.events).not.toContain("dlq");
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  it("STS not activated in the hub's region: permanent, with STS's reason", async () => {
    const t = setup();
    stsMock
      .on(AssumeRoleCommand)
      .rejects(awsError("RegionDisabledException", 403, "STS is not activated in this region for account"));
    const result = await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(result).toMatchObject({ status: "failed", kind: "permanent", deadLettered: true });
    expect(result).toMatchObject({ error: expect.stringContaining("RegionDisabledException") });
  });

  it("an organisation that cannot be read: transient, nothing read, assumed or changed", async () => {
    const t = setup();
    organizationsMock.on(ListAccountsCommand).rejects(awsError("TooManyRequestsException", 400, "Rate exceeded"));
    const result = await t.remediate("remediate-sg", requestFor(memberInstruction("sg-open-ingress", [SSH_V4])));
    expect(result).toMatchObject({ status: "failed", kind: "transient", deadLettered: false });
    expect(stsMock).not.toHaveReceivedCommand(AssumeRoleCommand);
    expect(ec2Mock.calls()).toHaveLength(0);
    expect(t.events).not.toContain("delete");
  });
});
