// Organisation mode in the CLI (issue 15): the stack's outputs say "organization"; peek, status and plan group by
// account and region; undo assumes the record's member account's undo role; resume --account clears one account's
// pause. Queues from a real SQS-protocol server, the rest from SDK mocks (per instance where the test must tell the
// hub's clients from a member account's). Against moto, across real accounts: organization-moto.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DescribeRuleCommand, EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CliDeps, MemberTarget } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { organizationOutputs, resolveStack, StackError } from "../../cli/stack.ts";
import { serializeInstruction } from "../../contract/instruction.ts";
import { type LedgerRecord, ledgerKey } from "../../contract/ledger.ts";
import type { PauseState } from "../../platform/pause.ts";
import { type LocalSqs, SQS_SERVER_TIMERS, startLocalSqs } from "../helpers/local-sqs.ts";
import { fakeVerifyMac, signRecord, TEST_MAC_KEY_ID } from "../remediation/support.ts";
import { testInstruction } from "../support/instructions.ts";

const HUB = "123456789012";
const MEMBER_A = "222222222222";
const MEMBER_B = "333333333333";
const EXCLUDED = "444444444444";
const REGIONS = ["eu-west-1", "us-east-1"];
const SETTINGS = {
  regions: REGIONS,
  excludedAccounts: [EXCLUDED],
  externalId: "remedy-hub-7f3a",
  default: { mode: "enforce" },
};
const OPERATOR = `arn:aws:sts::${HUB}:assumed-role/SecurityOperator/alice`;
const ACTION = "act-20261120T102819Z-7c1d9e2f";
const GROUP = "sg-0ba5710000000002";
const BUCKET = "remedy-ledger-123456789012";

const ssmMock = mockClient(SSMClient);
const eventsMock = mockClient(EventBridgeClient);
const s3Mock = mockClient(S3Client);
const kmsMock = mockClient(KMSClient);

let sqs: LocalSqs;
let dir: string;
let objects: Map<string, string>;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

const notUsed = () => {
  throw new Error("not used");
};

/** The stack's outputs as `terraform output -json` writes them; `organization: false` for a single-account stack. */
function writeOutputs(options: { organization?: boolean; extra?: Record<string, unknown> } = {}): string {
  const outputs: Record<string, unknown> = {
    region: "eu-west-1",
    account_id: HUB,
    queue_url: sqs.queueUrl,
    dlq_url: sqs.dlqUrl,
    pause_parameter: "/remedy/pause",
    ledger_bucket: BUCKET,
    ledger_mac_key_id: TEST_MAC_KEY_ID,
    schedule_rule_name: "remedy-coordinator-schedule",
    ...(options.organization === false
      ? { mode: "account" }
      : {
          mode: "organization",
          organization_regions: REGIONS,
          organization_settings: JSON.stringify(SETTINGS),
        }),
    ...options.extra,
  };
  const path = join(dir, "remedy-outputs.json");
  writeFileSync(
    path,
    JSON.stringify(
      Object.fromEntries(
        Object.entries(outputs).map(([name, value]) => [
          name,
          { sensitive: false, type: Array.isArray(value) ? ["list", "string"] : "string", value },
        ]),
      ),
    ),
  );
  return path;
}

function deps(overrides: Partial<CliDeps> = {}): CliDeps {
  return {
    sqs: () => sqs.sqs as SQSClient,
    ssm: () => new SSMClient({ region: "eu-west-1" }),
    s3: () => new S3Client({ region: "eu-west-1" }),
    ec2: notUsed,
    eventBridge: () => new EventBridgeClient({ region: "eu-west-1" }),
    kms: () => new KMSClient({ region: "eu-west-1" }),
    secretsManager: notUsed,
    configService: notUsed,
    s3Control: notUsed,
    now: () => new Date("2026-11-20T12:00:00Z"),
    user: () => "alice",
    confirm: async () => false,
    callerIdentity: async () => ({ account: HUB, arn: OPERATOR }),
    env: { REMEDY_OUTPUTS: join(dir, "remedy-outputs.json") },
    ...overrides,
  };
}

beforeEach(async () => {
  // peek long-polls for a second per receive: on fake timers (test/helpers/local-sqs.ts) that costs no real second.
  vi.useFakeTimers({ toFake: [...SQS_SERVER_TIMERS], shouldAdvanceTime: true });
  sqs = await startLocalSqs({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
  dir = mkdtempSync(join(tmpdir(), "remedy-org-cli-"));
  ssmMock.reset();
  eventsMock.reset();
  s3Mock.reset();
  kmsMock.reset();
  kmsMock.on(VerifyMacCommand).callsFake(fakeVerifyMac);
  eventsMock.on(DescribeRuleCommand).resolves({ Name: "remedy-coordinator-schedule", State: "ENABLED" });
  objects = new Map();
  s3Mock.on(PutObjectCommand).callsFake((input) => {
    objects.set(input.Key, String(input.Body));
    return {};
  });
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    const text = objects.get(input.Key);
    if (text === undefined) throw Object.assign(new Error("The specified key does not exist."), { name: "NoSuchKey" });
    return { Body: { transformToString: async () => text } };
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input) => ({
    Contents: [...objects.keys()].filter((key) => key.startsWith(input.Prefix ?? "")).map((Key) => ({ Key })),
    IsTruncated: false,
  }));
  writeOutputs();
});
afterEach(async () => {
  await sqs.stop();
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------

describe("organisation mode from the stack's outputs", () => {
  const file = "remedy-outputs.json";

  it("is off without a mode output, or with mode = account: the single-account stack, unchanged", () => {
    expect(organizationOutputs({ region: "eu-west-1" }, file)).toBeUndefined();
    expect(organizationOutputs({ mode: "account", organization_regions: REGIONS }, file)).toBeUndefined();
    // An output terraform cannot know yet is written as null.
    expect(organizationOutputs({ mode: null }, file)).toBeUndefined();
    writeOutputs({ organization: false });
    expect(resolveStack({}, {}, dir).organization).toBeUndefined();
  });

  it("takes the regions as a list or as its JSON, and keeps the settings for openStack to parse", () => {
    expect(organizationOutputs({ mode: "organization", organization_regions: REGIONS }, file)).toEqual({
      regions: REGIONS,
    });
    expect(
      organizationOutputs(
        { mode: "organization", organization_regions: JSON.stringify(REGIONS), organization_settings: SETTINGS },
        file,
      ),
    ).toEqual({ regions: REGIONS, settingsOutput: SETTINGS });
    // Only the settings: their regions.
    expect(
      organizationOutputs({ mode: "organization", organization_settings: JSON.stringify(SETTINGS) }, file),
    ).toEqual({ regions: REGIONS, settingsOutput: SETTINGS });
    expect(resolveStack({}, {}, dir).organization).toEqual({ regions: REGIONS, settingsOutput: SETTINGS });
  });

  it("reads cdktf's outputs file too ({stack: {name: value}}, a list output as a list)", () => {
    writeFileSync(
      join(dir, "remedy-outputs.json"),
      JSON.stringify({
        remedy: { region: "eu-west-1", account_id: HUB, mode: "organization", organization_regions: REGIONS },
      }),
    );
    expect(resolveStack({}, {}, dir)).toMatchObject({
      region: "eu-west-1",
      accountId: HUB,
      organization: { regions: REGIONS },
    });
  });

  it("refuses outputs it cannot read as organisation mode, in one sentence", () => {
    const refused = (outputs: Record<string, unknown>) => () => organizationOutputs(outputs, file);
    expect(refused({ mode: "organisation" })).toThrow(StackError);
    expect(refused({ mode: "organisation" })).toThrow(
      /output "mode" is "organisation", not "account" or "organization"/,
    );
    expect(refused({ mode: "organization" })).toThrow(/organisation mode, but its outputs name no regions/);
    expect(refused({ mode: "organization", organization_regions: ["Europe"] })).toThrow(/not a list of AWS regions/);
    expect(refused({ mode: "organization", organization_regions: "[eu-west-1" })).toThrow(
      /output "organization_regions" is not JSON/,
    );
    expect(
      refused({ mode: "organization", organization_regions: ["eu-west-1"], organization_settings: SETTINGS }),
    ).toThrow(/name different regions/);
  });

  it("settings the functions' parser refuses are bad input (exit 2) naming the field, before any AWS call", async () => {
    writeOutputs({ extra: { organization_settings: JSON.stringify({ ...SETTINGS, default: { mode: "fix" } }) } });
    const sqsCalls = vi.fn();
    const { out, err, io: cliIo } = io();
    expect(await runCli(["peek"], cliIo, deps({ sqs: sqsCalls as never }))).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("")).toMatch(/^remedy peek: output "organization_settings": default\.mode: /);
    expect(sqsCalls).not.toHaveBeenCalled();
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** An instruction for an open SSH port on a group of `accountId` in `region`. */
function sshIn(accountId: string, region: string, port = 22, group = GROUP) {
  return testInstruction({
    problem: "sg-open-ingress",
    resourceId: group,
    accountId,
    region,
    matched: [
      {
        kind: "sg-rule",
        rule: { direction: "ingress", ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0" },
      },
    ],
    capturedAt: "2026-11-20T09:00:00.000Z",
    detectedAt: "2026-11-20T09:01:00.000Z",
    notBefore: "2026-11-20T10:00:00.000Z",
  });
}

async function queue(...bodies: string[]) {
  for (const body of bodies) await sqs.sqs.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
}

describe("remedy peek in organisation mode", () => {
  /** 2 accounts × 2 regions, one of them twice (2 copies), plus a region the stack did not deploy. */
  async function queueFour() {
    const instructions = {
      aWest: sshIn(MEMBER_A, "eu-west-1"),
      aEast: sshIn(MEMBER_A, "us-east-1", 3389),
      bWest: sshIn(MEMBER_B, "eu-west-1", 5432),
      bEast: sshIn(MEMBER_B, "us-east-1", 23),
      bOther: sshIn(MEMBER_B, "ap-south-1", 25),
    };
    await queue(
      ...[instructions.aWest, instructions.aWest, instructions.aEast, instructions.bWest, instructions.bEast].map(
        serializeInstruction,
      ),
      serializeInstruction(instructions.bOther),
    );
    return instructions;
  }

  it("a heading per account and region, with its counts; the resource column without them", async () => {
    const instructions = await queueFour();
    const { out, io: cliIo } = io();
    expect(await runCli(["peek"], cliIo, deps())).toBe(0);
    const text = out.join("");
    expect(text).toContain("5 fix instructions in 6 messages (2 accounts, 3 regions).");
    const headings = text.split("\n").filter((line) => line.startsWith("Account "));
    expect(headings).toEqual([
      `Account ${MEMBER_A}, eu-west-1: 1 fix instruction in 2 messages`,
      `Account ${MEMBER_A}, us-east-1: 1 fix instruction in 1 message`,
      `Account ${MEMBER_B}, ap-south-1: 1 fix instruction in 1 message — region ap-south-1 is not one of the stack's regions (eu-west-1, us-east-1): Remedy does not act there`,
      `Account ${MEMBER_B}, eu-west-1: 1 fix instruction in 1 message`,
      `Account ${MEMBER_B}, us-east-1: 1 fix instruction in 1 message`,
    ]);
    // Each instruction under its own heading, its resource without the account and region.
    const section = (heading: string) => text.slice(text.indexOf(heading)).split("\n\n")[0]!;
    expect(section(`Account ${MEMBER_A}, us-east-1`)).toMatch(
      new RegExp(
        `${instructions.aEast.id.slice(0, 12)}\\s+1\\s+.*sg-open-ingress\\s+${GROUP}\\s+revoke ingress tcp 3389`,
      ),
    );
    expect(section(`Account ${MEMBER_A}, us-east-1`)).not.toContain(instructions.aWest.id.slice(0, 12));
    expect(text).not.toContain(`${GROUP} (`);
    expect(await sqs.counts()).toEqual({ stored: 6, visible: 6, invisible: 0 });
  }, 30_000);

  it("--json: each group says its account and region, and accountRegions counts per account and region", async () => {
    const instructions = await queueFour();
    const { out, io: cliIo } = io();
    expect(await runCli(["peek", "--json"], cliIo, deps())).toBe(0);
    const parsed = JSON.parse(out.join(""));
    expect(parsed.accountRegions).toEqual([
      { accountId: MEMBER_A, region: "eu-west-1", instructions: 1, messages: 2 },
      { accountId: MEMBER_A, region: "us-east-1", instructions: 1, messages: 1 },
      {
        accountId: MEMBER_B,
        region: "ap-south-1",
        instructions: 1,
        messages: 1,
        skipReason: expect.stringContaining("is not one of the stack's regions"),
      },
      { accountId: MEMBER_B, region: "eu-west-1", instructions: 1, messages: 1 },
      { accountId: MEMBER_B, region: "us-east-1", instructions: 1, messages: 1 },
    ]);
    const group = parsed.groups.find((entry: { id: string }) => entry.id === instructions.bEast.id);
    expect(group).toMatchObject({ accountId: MEMBER_B, region: "us-east-1", count: 1 });
  }, 30_000);

  it("an account the settings exclude is said so", async () => {
    await queue(serializeInstruction(sshIn(EXCLUDED, "eu-west-1")));
    const { out, io: cliIo } = io();
    expect(await runCli(["peek"], cliIo, deps())).toBe(0);
    expect(out.join("")).toContain(
      `Account ${EXCLUDED}, eu-west-1: 1 fix instruction in 1 message — account ${EXCLUDED} is excluded in the organisation settings: Remedy does not act there`,
    );
  }, 30_000);

  it("single-account mode: no headings, the account and region in the resource column, no accountRegions", async () => {
    writeOutputs({ organization: false });
    const instruction = sshIn(HUB, "eu-west-1");
    await queue(serializeInstruction(instruction));
    const text = io();
    expect(await runCli(["peek"], text.io, deps())).toBe(0);
    expect(text.out.join("")).toContain("1 fix instruction in 1 message.\n");
    expect(text.out.join("")).toContain(`${GROUP} (${HUB} eu-west-1)`);
    expect(text.out.join("")).not.toMatch(/^Account /m);
    const json = io();
    expect(await runCli(["peek", "--json"], json.io, deps())).toBe(0);
    const parsed = JSON.parse(json.out.join(""));
    expect(parsed).not.toHaveProperty("accountRegions");
    expect(parsed.groups[0]).not.toHaveProperty("accountId");
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------------------------

function sgRecord(overrides: Partial<LedgerRecord> & { accountId?: string; region?: string } = {}): LedgerRecord {
  const { accountId = MEMBER_A, region = "eu-west-1", ...rest } = overrides;
  return {
    version: 1,
    actionId: ACTION,
    instructionId: "0123456789abcdef0123456789abcdef",
    problem: "sg-open-ingress",
    resource: { type: "AWS::EC2::SecurityGroup", id: GROUP, accountId, region },
    ruleId: "sg-open-ingress",
    outcome: "fixed",
    changes: [
      {
        kind: "sg-rules-revoked",
        groupId: GROUP,
        rules: [
          {
            securityGroupRuleId: "sgr-0a1b2c3d4e5f60001",
            ipProtocol: "tcp",
            fromPort: 22,
            toPort: 22,
            cidrIpv4: "0.0.0.0/0",
            description: "temporary debug",
          },
        ],
      },
    ],
    before: {
      kind: "sg-rules",
      groupId: GROUP,
      rules: [
        {
          SecurityGroupRuleId: "sgr-0a1b2c3d4e5f60001",
          GroupId: GROUP,
          IsEgress: false,
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          CidrIpv4: "0.0.0.0/0",
          Description: "temporary debug",
        },
      ],
    },
    after: { kind: "sg-rules", groupId: GROUP, rules: [] },
    startedAt: "2026-11-20T10:28:19.000Z",
    finishedAt: "2026-11-20T10:28:20.000Z",
    attempt: 1,
    ...rest,
  };
}

const RUNNING: PauseState = {
  paused: false,
  by: "terraform",
  reason: "created with the stack",
  at: "2026-11-20T08:00:00.000Z",
};

function pauseValue(state: PauseState) {
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(state) } });
}

describe("remedy status in organisation mode", () => {
  beforeEach(() => {
    const records = [
      sgRecord({ actionId: "act-20261120T101000Z-00000001", accountId: MEMBER_A, region: "eu-west-1" }),
      sgRecord({ actionId: "act-20261120T102000Z-00000002", accountId: MEMBER_A, region: "us-east-1" }),
      sgRecord({
        actionId: "act-20261120T103000Z-00000003",
        accountId: MEMBER_B,
        region: "eu-west-1",
        outcome: "skipped",
        reason: "nothing to do",
        after: null,
      }),
      sgRecord({ actionId: "act-20261120T104000Z-00000004", accountId: MEMBER_B, region: "us-east-1" }),
      sgRecord({ actionId: "act-20261120T105000Z-00000005", accountId: MEMBER_B, region: "eu-west-1" }),
    ];
    for (const record of records) objects.set(ledgerKey(record.actionId), JSON.stringify(record));
    pauseValue({
      ...RUNNING,
      accounts: {
        [MEMBER_B]: {
          paused: true,
          by: "circuit-breaker",
          reason: "12 fixes in 10 minutes in account 333333333333",
          at: "2026-11-20T10:55:00.000Z",
        },
        // Paused once, resumed since: not listed.
        [MEMBER_A]: {
          paused: false,
          by: OPERATOR,
          reason: `resumed by ${OPERATOR}`,
          at: "2026-11-20T09:00:00.000Z",
          resumedAt: "2026-11-20T09:00:00.000Z",
        },
      },
    });
  });

  it("shows paused accounts, the stack's regions, and recent actions under a heading per account and region", async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(["status"], cliIo, deps())).toBe(0);
    const text = out.join("");
    expect(text).toContain(
      `Paused accounts: 1 — ${MEMBER_B} by circuit-breaker at 2026-11-20 10:55 UTC: 12 fixes in 10 minutes in account ${MEMBER_B} ("remedy resume --account ID" after review)`,
    );
    expect(text).toContain(`Organisation:  2 regions (eu-west-1, us-east-1); excluded accounts: ${EXCLUDED}`);
    expect(text).toContain("Recent actions (newest first), by account and region:");
    const headings = text.split("\n").filter((line) => line.startsWith("Account "));
    expect(headings).toEqual([
      `Account ${MEMBER_A}, eu-west-1: 1 action (1 fixed)`,
      `Account ${MEMBER_A}, us-east-1: 1 action (1 fixed)`,
      `Account ${MEMBER_B}, eu-west-1: 2 actions (1 fixed, 1 skipped)`,
      `Account ${MEMBER_B}, us-east-1: 1 action (1 fixed)`,
    ]);
    // Newest first within a group.
    const bWest = text.slice(text.indexOf(`Account ${MEMBER_B}, eu-west-1`));
    expect(bWest.indexOf("act-20261120T105000Z-00000005")).toBeLessThan(bWest.indexOf("act-20261120T103000Z-00000003"));
  });

  it("--json: the report as before, with organization (regions, paused accounts, actions per account and region)", async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(["status", "--json"], cliIo, deps())).toBe(0);
    const report = JSON.parse(out.join(""));
    expect(report.pause.value.accounts[MEMBER_B].paused).toBe(true);
    expect(report.organization).toEqual({
      regions: REGIONS,
      excludedAccounts: [EXCLUDED],
      pausedAccounts: [
        {
          accountId: MEMBER_B,
          by: "circuit-breaker",
          at: "2026-11-20T10:55:00.000Z",
          reason: `12 fixes in 10 minutes in account ${MEMBER_B}`,
        },
      ],
      accountRegions: [
        { accountId: MEMBER_A, region: "eu-west-1", actions: 1, outcomes: { fixed: 1 } },
        { accountId: MEMBER_A, region: "us-east-1", actions: 1, outcomes: { fixed: 1 } },
        { accountId: MEMBER_B, region: "eu-west-1", actions: 2, outcomes: { fixed: 1, skipped: 1 } },
        { accountId: MEMBER_B, region: "us-east-1", actions: 1, outcomes: { fixed: 1 } },
      ],
    });
  });

  it("a record's account and a pause's reason reach the terminal with control characters escaped", async () => {
    // A ledger record's account is a string as written (the ledger is a claim); the heading is made inert.
    const hostile = sgRecord({ actionId: "act-20261120T110000Z-00000006", accountId: "2222\u001b[2J\u202e" });
    objects.set(ledgerKey(hostile.actionId), JSON.stringify(hostile));
    pauseValue({
      ...RUNNING,
      accounts: {
        [MEMBER_B]: { paused: true, by: "circuit-breaker", reason: "burst\n\u001b[31mfake line", at: RUNNING.at },
      },
    });
    const { out, io: cliIo } = io();
    expect(await runCli(["status"], cliIo, deps())).toBe(0);
    const text = out.join("");
    expect(text).toContain("Account 2222\\x1b[2J\\u202e, eu-west-1: 1 action (1 fixed)");
    expect(text).toContain("burst\\n\\x1b[31mfake line");
    expect(text).not.toContain("\u001b");
    expect(text).not.toContain("\u202e");
  });

  it("single-account mode: no paused-accounts or organisation line, no headings, no organization in --json", async () => {
    writeOutputs({ organization: false });
    const text = io();
    expect(await runCli(["status"], text.io, deps())).toBe(0);
    expect(text.out.join("")).not.toMatch(/Paused accounts|Organisation:|^Account /m);
    expect(text.out.join("")).toContain("Recent actions (newest first):\n");
    const json = io();
    expect(await runCli(["status", "--json"], json.io, deps())).toBe(0);
    expect(JSON.parse(json.out.join(""))).not.toHaveProperty("organization");
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("remedy plan by account and region", () => {
  const example = readFileSync(new URL("../../examples/config-snapshot.json", import.meta.url), "utf8");
  const settings = new URL("../../examples/settings.json", import.meta.url).pathname;
  const offline = () => deps({ sqs: notUsed, ssm: notUsed, s3: notUsed, kms: notUsed, eventBridge: notUsed });
  const created: string[] = [];
  afterAll(() => {
    for (const path of created) rmSync(path, { recursive: true, force: true });
  });

  /** The example snapshot as Config would deliver it for another account and region. */
  function snapshotOf(accountId: string, region: string): string {
    const path = join(mkdtempSync(join(tmpdir(), "remedy-org-plan-")), `${accountId}-${region}.json`);
    created.push(path);
    writeFileSync(path, example.replaceAll("111122223333", accountId).replaceAll("eu-west-1", region));
    return path;
  }
  const fourSnapshots = () =>
    [MEMBER_A, MEMBER_B].flatMap((account) => REGIONS.map((region) => snapshotOf(account, region)));

  /** The example's own plan (one account and region, --json): each of the four groups counts exactly as it does. */
  async function examplePlan() {
    const { out, io: cliIo } = io();
    expect(await runCli(["plan", "--settings", settings, "--json"], cliIo, offline())).toBe(0);
    const one = JSON.parse(out.join(""));
    const count = (status: string) => one.findings.filter((finding: { status: string }) => finding.status === status);
    return { ...one, due: count("due").length, exempt: count("exempt").length, held: count("held").length };
  }

  it("several snapshots: the totals, then a heading per account and region with its counts and its actions", async () => {
    const args = fourSnapshots().flatMap((path) => ["--snapshot", path]);
    const { out, io: cliIo } = io();
    expect(await runCli(["plan", ...args, "--settings", settings], cliIo, offline())).toBe(0);
    const text = out.join("");
    expect(text).toMatch(/^snapshots: .*222222222222-eu-west-1\.json, .*333333333333-us-east-1\.json$/m);
    const one = await examplePlan();
    expect(text).toContain(
      `Judged ${4 * one.itemsJudged} resources from ${4 * one.itemsRead} configuration items: ${4 * one.nonCompliant} non-compliant, ${4 * one.compliant} compliant.`,
    );
    expect(text).toContain(
      "By account and region (2 accounts, 2 regions; auto-response is off: nothing is changed until it is enabled):",
    );
    const headings = text.split("\n").filter((line) => line.startsWith("Account "));
    expect(headings).toEqual(
      [MEMBER_A, MEMBER_B].flatMap((account) =>
        REGIONS.map(
          (region) =>
            `Account ${account}, ${region}: ${one.itemsJudged} resources judged (${one.nonCompliant} non-compliant, ${one.compliant} compliant); ${one.due} fixes in ${one.instructions.length} fix instructions (${one.due} due now, 0 in their grace period); ${one.exempt} findings exempt; ${one.held} fixes held back.`,
        ),
      ),
    );
    // Each group lists its own actions once: the example's actions and exempt findings, per group.
    const group = text.slice(text.indexOf(`Account ${MEMBER_B}, eu-west-1`)).split("\n\nAccount ")[0]!;
    expect(group.match(/when enabled/g)).toHaveLength(one.due);
    expect(group).toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22 from 0\.0\.0\.0\/0/);
    expect(group).toContain("Exempt (reported NON_COMPLIANT to Config, never changed):");
    expect(group).toContain("Held back (the instruction is queued; the fix skips it and says why while this holds):");
  });

  it("--json: accountRegions counts per account and region; findings carry their account and region", async () => {
    const paths = fourSnapshots();
    const { out, io: cliIo } = io();
    const args = paths.flatMap((path) => ["--snapshot", path]);
    expect(await runCli(["plan", ...args, "--settings", settings, "--json"], cliIo, offline())).toBe(0);
    const report = JSON.parse(out.join(""));
    expect(report.snapshots).toHaveLength(4);
    expect(report).not.toHaveProperty("snapshot");
    expect(report.accountRegions).toHaveLength(4);
    const one = await examplePlan();
    expect(report.accountRegions[3]).toEqual({
      accountId: MEMBER_B,
      region: "us-east-1",
      itemsJudged: one.itemsJudged,
      compliant: one.compliant,
      nonCompliant: one.nonCompliant,
      due: one.due,
      grace: 0,
      exempt: one.exempt,
      // The account's Block Public Access fixes, held back while the example's exempt public bucket is public.
      held: one.held,
      instructions: one.instructions.length,
    });
    expect(one.held).toBeGreaterThan(0);
    expect(report.instructions).toHaveLength(4 * one.instructions.length);
    // Instruction ids include the account and region: no two groups share one.
    expect(new Set(report.instructions.map((instruction: { id: string }) => instruction.id)).size).toBe(
      4 * one.instructions.length,
    );
    expect(report.findings.filter((finding: { accountId: string }) => finding.accountId === MEMBER_A)).toHaveLength(
      2 * one.findings.length,
    );
  });

  it("one account and region (the example): as it always was, no headings and no accountRegions", async () => {
    const text = io();
    expect(await runCli(["plan"], text.io, offline())).toBe(0);
    expect(text.out.join("")).not.toMatch(/^Account |By account and region/m);
    expect(text.out.join("")).toContain(
      "Would-be actions (auto-response is off: nothing is changed until it is enabled):",
    );
    const json = io();
    expect(await runCli(["plan", "--json"], json.io, offline())).toBe(0);
    const report = JSON.parse(json.out.join(""));
    expect(report).not.toHaveProperty("accountRegions");
    expect(report.snapshot).toBeDefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("remedy resume --account", () => {
  const paused = (): PauseState => ({
    ...RUNNING,
    accounts: {
      [MEMBER_A]: {
        paused: true,
        by: "circuit-breaker",
        reason: "burst in 222222222222",
        at: "2026-11-20T11:00:00.000Z",
      },
      [MEMBER_B]: {
        paused: true,
        by: "circuit-breaker",
        reason: "burst in 333333333333",
        at: "2026-11-20T11:05:00.000Z",
      },
    },
  });
  const written = () =>
    ssmMock.commandCalls(PutParameterCommand).map((call) => JSON.parse(call.args[0].input.Value!) as PauseState);

  it("clears that account's pause only, recording who, and says what still holds", async () => {
    pauseValue(paused());
    ssmMock.on(PutParameterCommand).resolves({});
    const { out, io: cliIo } = io();
    expect(await runCli(["resume", "--account", MEMBER_A], cliIo, deps())).toBe(0);
    const [state] = written();
    expect(written()).toHaveLength(1);
    expect(state).toEqual({
      ...paused(),
      accounts: {
        [MEMBER_A]: {
          paused: false,
          by: OPERATOR,
          reason: `resumed by ${OPERATOR}`,
          at: "2026-11-20T12:00:00.000Z",
          resumedAt: "2026-11-20T12:00:00.000Z",
        },
        [MEMBER_B]: paused().accounts![MEMBER_B],
      },
    });
    expect(ssmMock).toHaveReceivedCommandWith(PutParameterCommand, { Name: "/remedy/pause", Overwrite: true });
    const text = out.join("");
    expect(text).toContain(
      `Resumed account ${MEMBER_A} by ${OPERATOR} (was paused by circuit-breaker at 2026-11-20 11:00 UTC: burst in ${MEMBER_A}).`,
    );
    expect(text).toContain("Auto-response is on (schedule remedy-coordinator-schedule enabled)");
    expect(text).toContain(`1 account is still paused on its own (${MEMBER_B})`);
  });

  it("--json: the outcome, the account, who, the switch as written and the pause cleared", async () => {
    pauseValue(paused());
    ssmMock.on(PutParameterCommand).resolves({});
    const { out, io: cliIo } = io();
    expect(await runCli(["resume", "--account", MEMBER_B, "--json"], cliIo, deps())).toBe(0);
    expect(JSON.parse(out.join(""))).toMatchObject({
      outcome: "resumed",
      account: MEMBER_B,
      by: OPERATOR,
      previous: { paused: true, by: "circuit-breaker" },
      state: { paused: false, accounts: { [MEMBER_B]: { paused: false, by: OPERATOR } } },
    });
  });

  it("an account that is not paused: nothing is written; a paused switch is said to hold", async () => {
    pauseValue({ ...paused(), paused: true, by: "circuit-breaker", reason: "burst across accounts" });
    const { out, io: cliIo } = io();
    expect(await runCli(["resume", "--account", MEMBER_B.replace(/3/g, "5")], cliIo, deps())).toBe(0);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    expect(out.join("")).toContain(
      'Account 555555555555 is not paused on its own; nothing to do. The whole switch is still PAUSED (by circuit-breaker: burst across accounts): nothing runs until "remedy resume".',
    );
  });

  it("a switch that cannot be read as a pause state is not overwritten: exit 1", async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: "{not json" } });
    const { err, io: cliIo } = io();
    expect(await runCli(["resume", "--account", MEMBER_A], cliIo, deps())).toBe(1);
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
    expect(err.join("")).toMatch(/^remedy resume: the pause switch cannot be read .* nothing was changed/);
  });

  it("credentials for another account are refused before anything is read", async () => {
    const { err, io: cliIo } = io();
    const other = deps({ callerIdentity: async () => ({ account: MEMBER_A, arn: `arn:aws:iam::${MEMBER_A}:user/x` }) });
    expect(await runCli(["resume", "--account", MEMBER_A], cliIo, other)).toBe(1);
    expect(ssmMock).not.toHaveReceivedCommand(GetParameterCommand);
    expect(err.join("")).toContain(`but Remedy's stack is in account ${HUB}`);
  });

  it("is bad usage on a single-account stack, or with something that is not an account id (exit 2)", async () => {
    writeOutputs({ organization: false });
    const single = io();
    expect(await runCli(["resume", "--account", MEMBER_A], single.io, deps())).toBe(2);
    expect(single.err.join("")).toContain("--account is for a stack in organisation mode");
    const bad = io();
    expect(await runCli(["resume", "--account", "2222\u001b[2J"], bad.io, deps())).toBe(2);
    expect(bad.err.join("")).toBe('remedy resume: --account "2222\\x1b[2J" is not a 12-digit account id\n');
    expect(ssmMock).not.toHaveReceivedCommand(PutParameterCommand);
  });

  it("a plain resume of the whole switch keeps every account's pause, and says which stay paused", async () => {
    pauseValue({ ...paused(), paused: true, by: "circuit-breaker", reason: "burst across accounts" });
    ssmMock.on(PutParameterCommand).resolves({});
    const { out, io: cliIo } = io();
    expect(await runCli(["resume"], cliIo, deps())).toBe(0);
    const [state] = written();
    expect(state).toMatchObject({ paused: false, by: OPERATOR, accounts: paused().accounts });
    expect(out.join("")).toContain(`2 accounts are still paused on their own (${MEMBER_A}, ${MEMBER_B})`);
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("remedy undo in organisation mode", () => {
  /** The hub's EC2 (must not be used) and the member account's, told apart by instance. */
  function aimed() {
    const hubEc2 = new EC2Client({ region: "eu-west-1" });
    const memberEc2 = new EC2Client({ region: "us-east-1" });
    const memberS3 = new S3Client({ region: "us-east-1" });
    const sts = new STSClient({ region: "eu-west-1" });
    const hub = mockClient(hubEc2);
    const member = mockClient(memberEc2);
    const stsMock = mockClient(sts);
    const targets: MemberTarget[] = [];
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: "ASIAMEMBER",
        SecretAccessKey: "secret",
        SessionToken: "token",
        Expiration: new Date("2026-11-20T12:15:00Z"),
      },
    });
    member.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    member.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const cliDeps = deps({
      ec2: () => hubEc2,
      sts: () => sts,
      memberClients: (target) => {
        targets.push(target);
        return { ec2: memberEc2, s3: memberS3 };
      },
    });
    return { hub, member, stsMock, targets, deps: cliDeps };
  }

  it("assumes remedy-member-undo in the record's account (session undo-<action>, the stack's ExternalId) and re-adds there", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(sgRecord({ region: "us-east-1" }))));
    const { hub, member, stsMock, targets, deps: cliDeps } = aimed();
    const { out, io: cliIo } = io();
    expect(await runCli(["undo", ACTION, "--yes"], cliIo, cliDeps)).toBe(0);
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(stsMock).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: `arn:aws:iam::${MEMBER_A}:role/remedy/remedy-member-undo`,
      RoleSessionName: `undo-${ACTION}`,
      SourceIdentity: `undo-${ACTION}`,
      DurationSeconds: 900,
      ExternalId: SETTINGS.externalId,
    });
    // The member account's clients, in the record's region, with the assumed credentials.
    expect(targets).toEqual([
      {
        region: "us-east-1",
        credentials: {
          accessKeyId: "ASIAMEMBER",
          secretAccessKey: "secret",
          sessionToken: "token",
          expiration: new Date("2026-11-20T12:15:00Z"),
        },
      },
    ]);
    expect(member).toHaveReceivedCommandWith(AuthorizeSecurityGroupIngressCommand, { GroupId: GROUP });
    expect(hub.calls()).toEqual([]);
    const text = out.join("");
    expect(text).toContain(
      `Acting in account ${MEMBER_A} (us-east-1) as arn:aws:iam::${MEMBER_A}:role/remedy/remedy-member-undo, session undo-${ACTION}.`,
    );
    // The undo is recorded in the hub's ledger, for the member account's resource, with who asked.
    const undoRecord = [...objects.values()].map((body) => JSON.parse(body)).find((record) => record.undoes);
    expect(undoRecord).toMatchObject({
      undoes: ACTION,
      outcome: "fixed",
      requestedBy: OPERATOR,
      resource: { accountId: MEMBER_A, region: "us-east-1" },
    });
  });

  it("AccessDenied on AssumeRole: one sentence (the member undo role is missing or does not trust you), exit 1, nothing changed", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(sgRecord())));
    const { member, stsMock, deps: cliDeps } = aimed();
    stsMock
      .on(AssumeRoleCommand)
      .rejects(
        Object.assign(
          new Error(
            `User: ${OPERATOR} is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${MEMBER_A}:role/remedy/remedy-member-undo`,
          ),
          { name: "AccessDenied", $metadata: { httpStatusCode: 403 } },
        ),
      );
    const { out, err, io: cliIo } = io();
    expect(await runCli(["undo", ACTION, "--yes"], cliIo, cliDeps)).toBe(1);
    expect(err.join("")).toBe(
      `remedy undo: cannot assume arn:aws:iam::${MEMBER_A}:role/remedy/remedy-member-undo: the member undo role is missing in account ${MEMBER_A}, or its trust does not list you (${OPERATOR}) among the operators who may undo; nothing was changed.\n`,
    );
    expect(out).toEqual([]);
    expect(member.calls()).toEqual([]);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it("a record for a region the stack does not act in, or an excluded account, is refused before anything is assumed", async () => {
    for (const [record, reason] of [
      [
        sgRecord({ region: "ap-south-1" }),
        "region ap-south-1 is not one of the stack's regions (eu-west-1, us-east-1)",
      ],
      [sgRecord({ accountId: EXCLUDED }), `account ${EXCLUDED} is excluded in the organisation settings`],
    ] as const) {
      objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(record)));
      const { stsMock, member, deps: cliDeps } = aimed();
      const { err, io: cliIo } = io();
      expect(await runCli(["undo", ACTION, "--yes"], cliIo, cliDeps)).toBe(1);
      expect(err.join("")).toContain(`${ACTION} is not undone: ${reason}`);
      expect(stsMock.calls()).toEqual([]);
      expect(member.calls()).toEqual([]);
    }
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it("a record that is not genuine is refused before anything is assumed", async () => {
    const signed = await signRecord(sgRecord());
    // Moved to another account after signing: its MAC no longer verifies.
    const moved = { ...signed, resource: { ...signed.resource, accountId: MEMBER_B } };
    objects.set(ledgerKey(ACTION), JSON.stringify(moved));
    const { stsMock, deps: cliDeps } = aimed();
    const { err, io: cliIo } = io();
    expect(await runCli(["undo", ACTION, "--yes"], cliIo, cliDeps)).toBe(1);
    expect(err.join("")).toContain("does not match its integrity MAC");
    expect(stsMock.calls()).toEqual([]);
  });

  it("a session about to end after the question is assumed again for the writes", async () => {
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(sgRecord())));
    const { member, stsMock, targets, deps: cliDeps } = aimed();
    const ends = ["2026-11-20T12:15:00Z", "2026-11-20T12:30:00Z"];
    stsMock.on(AssumeRoleCommand).callsFake(() => ({
      Credentials: {
        AccessKeyId: `ASIA${targets.length}`,
        SecretAccessKey: "secret",
        SessionToken: "token",
        Expiration: new Date(ends[targets.length]!),
      },
    }));
    // The operator answers 14 minutes later.
    let now = new Date("2026-11-20T12:00:00Z");
    const answered = deps({
      ...cliDeps,
      now: () => now,
      confirm: async () => {
        now = new Date("2026-11-20T12:14:00Z");
        return true;
      },
    });
    expect(await runCli(["undo", ACTION], io().io, answered)).toBe(0);
    expect(stsMock).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(targets.map((target) => target.credentials.accessKeyId)).toEqual(["ASIA0", "ASIA1"]);
    expect(member).toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
  });

  it("without an ExternalId in the settings, none is sent", async () => {
    const { externalId: _none, ...withoutExternalId } = SETTINGS;
    writeOutputs({ extra: { organization_settings: JSON.stringify(withoutExternalId) } });
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(sgRecord())));
    const { stsMock, deps: cliDeps } = aimed();
    expect(await runCli(["undo", ACTION, "--yes"], io().io, cliDeps)).toBe(0);
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]!.args[0].input).not.toHaveProperty("ExternalId");
  });

  it("single-account mode: the stack's own clients, no AssumeRole", async () => {
    writeOutputs({ organization: false });
    objects.set(ledgerKey(ACTION), JSON.stringify(await signRecord(sgRecord({ accountId: HUB }))));
    const { hub, stsMock, targets, deps: cliDeps } = aimed();
    hub.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: [] });
    hub.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    expect(await runCli(["undo", ACTION, "--yes"], io().io, cliDeps)).toBe(0);
    expect(hub).toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
    expect(stsMock.calls()).toEqual([]);
    expect(targets).toEqual([]);
  });
});
