// The periodic scan of a type Config does not record (EBS snapshots): the list task lists it through its inventory
// (EC2's recorded answers, test/fixtures/ec2-snapshots/, through the SDK's deserializer), judges each page there,
// reports to Config only what differs from what it holds (ComplianceResourceType AWS::EC2::Snapshot, the snapshot's
// id) and queues every violation's instruction, exactly as a judge task does for Config's items; bounded by pages and
// the task's time budget, as the rest of the scan is.
import {
  BatchGetResourceConfigCommand,
  type ComplianceType,
  ConfigServiceClient,
  GetComplianceDetailsByConfigRuleCommand,
  ListDiscoveredResourcesCommand,
  PutEvaluationsCommand,
} from "@aws-sdk/client-config-service";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { parseInstruction } from "../../contract/instruction.ts";
import { type AllowlistEntry, parseAllowlist } from "../../detection/exemptions.ts";
import { inventoryAccess } from "../../functions/config-rule/inventory-access.ts";
import { type MemberClientFactory, memberDetection } from "../../functions/config-rule/organization.ts";
import { runScanTask, type ScanDeps, type ScanTask, startScan } from "../../functions/config-rule/scan.ts";
import { deploymentFrom } from "../../platform/deployment.ts";
import { organizationsDirectory } from "../../platform/organization.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { ec2OnWire, fixtureAccount, type WireAnswer } from "../problems/ebs-snapshot-public/wire.ts";
import { driveScan, memoryScanQueue, memoryScanStore } from "./scan-support.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const stsMock = mockClient(STSClient);
const organizationsMock = mockClient(OrganizationsClient);
const RULE = "remedy-ebs-snapshot-public";
const NOW = new Date("2026-11-20T10:00:00.000Z");
const SNAPSHOT = "AWS::EC2::Snapshot";

function scanDeps(options: { attribute?: Partial<Record<string, WireAnswer>>; listing?: WireAnswer } = {}) {
  const wire = ec2OnWire((request) =>
    request.Action === "DescribeSnapshots" && options.listing
      ? options.listing
      : fixtureAccount(options.attribute)(request),
  );
  const log = recordingLog();
  const metrics = recordingMetrics();
  const queue = memoryScanQueue();
  const deps = {
    configService: new ConfigServiceClient({}),
    sqs: new SQSClient({}),
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    deployment: deploymentFrom({
      accountId: "123456789012",
      region: "us-east-1",
      rules: [{ id: "ebs-snapshot-public", configRuleName: RULE }],
    }),
    accountFacts: async () => ({}),
    allowlist: [] as readonly AllowlistEntry[],
    gracePeriodMs: 0,
    now: () => NOW,
    log,
    metrics,
    scanQueue: queue,
    scanStore: memoryScanStore(),
    safetyMarginMs: 30_000,
    inventories: inventoryAccess({ client: () => wire.ec2 as never, now: () => NOW, log }),
  } satisfies Omit<ScanDeps, "remainingTimeMs">;
  return { deps, queue, log, metrics, wire };
}

async function scan(resultToken = "token", setup = scanDeps(), budgetFor?: (invocation: number) => () => number) {
  await startScan(setup.deps, { configRuleName: RULE, resultToken });
  return { ...(await driveScan(setup.queue, setup.deps, { budgetFor })), ...setup };
}

/** Config holding these results for the rule. */
function configHolds(recorded: [string, string][] = []) {
  configMock.on(GetComplianceDetailsByConfigRuleCommand).resolves({
    EvaluationResults: recorded.map(([id, type]) => ({
      EvaluationResultIdentifier: {
        EvaluationResultQualifier: { ConfigRuleName: RULE, ResourceType: SNAPSHOT, ResourceId: id },
      },
      ComplianceType: type as ComplianceType,
    })),
  });
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

describe("a periodic scan of a type Config does not record", () => {
  it("lists it through EC2 page by page, reports every verdict (none held yet) and queues the violation", async () => {
    configHolds();
    const run = await scan();
    expect(run.failures).toEqual([]);
    // No judge task: the list task judged what it read live. Config's item APIs are never asked about snapshots.
    expect(run.tasks.map((task) => task.kind)).toEqual(["verdicts", "list"]);
    expect(configMock).not.toHaveReceivedCommand(ListDiscoveredResourcesCommand);
    expect(configMock).not.toHaveReceivedCommand(BatchGetResourceConfigCommand);
    expect(evaluationsSent().map((e) => [e.ComplianceResourceType, e.ComplianceResourceId, e.ComplianceType])).toEqual([
      [SNAPSHOT, "snap-0a1b2c3d4e5f60718", "NON_COMPLIANT"],
      [SNAPSHOT, "snap-0b2c3d4e5f6071829", "COMPLIANT"],
      [SNAPSHOT, "snap-0c3d4e5f607182930", "COMPLIANT"],
      // Exempt by its tag: reported as what it is, never queued.
      [SNAPSHOT, "snap-0d4e5f60718293a41", "NON_COMPLIANT"],
    ]);
    expect(evaluationsSent()[0]).toMatchObject({
      Annotation: expect.stringMatching(/^public: createVolumePermission includes group all/),
      OrderingTimestamp: NOW,
    });
    const instructions = instructionsSent();
    expect(instructions.map((i) => [i.problem, i.resource.id, i.resource.arn, i.matched])).toEqual([
      [
        "ebs-snapshot-public",
        "snap-0a1b2c3d4e5f60718",
        "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60718",
        [{ kind: "ebs-snapshot-permission", group: "all" }],
      ],
    ]);
    expect(instructions[0]!.rule).toEqual({ id: "ebs-snapshot-public", configRuleName: RULE, parameters: {} });
    expect(run.results.at(-1)).toMatchObject({
      kind: "list",
      listed: 5,
      judgeTasks: 0,
      handedOn: false,
      inventory: { judged: 4, reported: 4, queued: 1, unread: 0, gone: 1, skippedItems: 0 },
    });
    // Paged: the second page asked with the first's token, only the account's own snapshots, 100 at a time.
    const listings = run.wire.requests.filter((request) => request.Action === "DescribeSnapshots");
    expect(listings).toMatchObject([
      { "Owner.1": "self", MaxResults: "100" },
      { "Owner.1": "self", MaxResults: "100", NextToken: "eyJ2IjoiMiIsImMiOiJzbmFwLTBjM2Q0ZTVmNjA3MTgyOTMwIn0=" },
    ]);
    expect(listings[0]).not.toHaveProperty("NextToken");
    // Only reads: the scan never changes a snapshot.
    expect(run.wire.requests.map((request) => request.Action)).not.toContain("ModifySnapshotAttribute");
    expect(run.metrics.counts).toMatchObject({
      Evaluations: 4,
      NonCompliantResources: 2,
      InstructionsQueued: 1,
      ExemptFindings: 1,
    });
  });

  it("reports only the verdicts that differ from what Config holds; still queues every violation", async () => {
    configHolds([
      ["snap-0a1b2c3d4e5f60718", "NON_COMPLIANT"],
      ["snap-0b2c3d4e5f6071829", "COMPLIANT"],
      // Held as public; the snapshot is shared with one account only now.
      ["snap-0c3d4e5f607182930", "NON_COMPLIANT"],
    ]);
    const run = await scan();
    expect(evaluationsSent().map((e) => [e.ComplianceResourceId, e.ComplianceType])).toEqual([
      ["snap-0c3d4e5f607182930", "COMPLIANT"],
      ["snap-0d4e5f60718293a41", "NON_COMPLIANT"],
    ]);
    expect(instructionsSent().map((i) => i.resource.id)).toEqual(["snap-0a1b2c3d4e5f60718"]);
    expect(run.metrics.counts.UnchangedVerdicts).toBe(2);
  });

  it("the allowlist exempts as on every path: the violation is reported, not queued", async () => {
    configHolds();
    const setup = scanDeps();
    const allowlist = parseAllowlist([
      {
        resource: "arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60718",
        problems: ["ebs-snapshot-public"],
        reason: "restored by the DR drill",
        owner: "platform",
        expires: "2027-01-31",
      },
    ]).entries;
    await scan("token", { ...setup, deps: { ...setup.deps, allowlist } });
    expect(evaluationsSent().filter((e) => e.ComplianceType === "NON_COMPLIANT")).toHaveLength(2);
    expect(instructionsSent()).toEqual([]);
  });

  it("a snapshot whose attribute cannot be read for good is logged and skipped; the rest is judged", async () => {
    configHolds();
    const run = await scan(
      "token",
      scanDeps({ attribute: { "snap-0c3d4e5f607182930": { file: "unauthorized-operation.error.xml", status: 403 } } }),
    );
    expect(run.failures).toEqual([]);
    expect(evaluationsSent().map((e) => e.ComplianceResourceId)).not.toContain("snap-0c3d4e5f607182930");
    expect(evaluationsSent()).toHaveLength(3);
    expect(run.metrics.counts.UnreadResources).toBe(1);
    expect(run.log.errors()).toMatchObject([
      {
        fields: {
          step: "unread",
          resourceType: SNAPSHOT,
          resourceId: "snap-0c3d4e5f607182930",
          reason: expect.stringMatching(
            /^its permissions cannot be read: UnauthorizedOperation: You are not authorized/,
          ),
        },
      },
    ]);
  });

  it("a listing that fails for a transient reason fails the task (the queue retries it); nothing half-judged is reported", async () => {
    configHolds();
    const run = await scan("token", scanDeps({ listing: { file: "request-limit-exceeded.error.xml", status: 503 } }));
    expect(run.failures).toEqual([expect.stringMatching(/^list: /)]);
    expect(evaluationsSent()).toEqual([]);
    expect(instructionsSent()).toEqual([]);
  });

  it("a test-mode scan (TESTMODE token) reports in test mode and queues nothing", async () => {
    configHolds();
    await scan("TESTMODE");
    expect(configMock).toHaveReceivedCommandWith(PutEvaluationsCommand, { TestMode: true });
    expect(instructionsSent()).toEqual([]);
  });
});

describe("time budget", () => {
  const task = (over: Partial<ScanTask> = {}): ScanTask =>
    ({
      kind: "list",
      version: 1,
      scanId: "0b7e6a52-3f0e-4a8e-9c1d-2f4b5a6c7d8e",
      configRuleName: RULE,
      resultToken: "token",
      startedAt: NOW.toISOString(),
      parts: 1,
      typeIndex: 0,
      ...over,
    }) as ScanTask;

  it("out of time, a list task judges one page, then hands the rest of the listing on; the next task goes on from there", async () => {
    configHolds();
    const { deps, queue } = scanDeps();
    await deps.scanStore.putPart(task().scanId, 0, new Uint8Array());
    const first = await runScanTask(task(), { ...deps, remainingTimeMs: () => 1_000 });
    expect(first).toMatchObject({ kind: "list", listed: 3, handedOn: true, inventory: { judged: 3, queued: 1 } });
    const next = queue.sent.at(-1)!;
    expect(next).toEqual(task({ nextToken: "eyJ2IjoiMiIsImMiOiJzbmFwLTBjM2Q0ZTVmNjA3MTgyOTMwIn0=" }));
    const second = await runScanTask(next, { ...deps, remainingTimeMs: () => 1_000 });
    expect(second).toMatchObject({ kind: "list", listed: 2, handedOn: false, inventory: { judged: 1, gone: 1 } });
    expect(evaluationsSent().map((e) => e.ComplianceResourceId)).toEqual([
      "snap-0a1b2c3d4e5f60718",
      "snap-0b2c3d4e5f6071829",
      "snap-0c3d4e5f607182930",
      "snap-0d4e5f60718293a41",
    ]);
  });

  it("a scan without the type's lister refuses to judge it instead of skipping it", async () => {
    configHolds();
    const { deps } = scanDeps();
    await deps.scanStore.putPart(task().scanId, 0, new Uint8Array());
    const { inventories: _none, ...without } = deps;
    await expect(runScanTask(task(), { ...without, remainingTimeMs: () => 1e6 })).rejects.toThrow(
      "AWS::EC2::Snapshot is not recorded by Config and this scan has no inventory of it",
    );
  });
});

describe("organisation mode", () => {
  const MEMBER = "210987654321";

  it("a member's scan lists its snapshots in the member account, with its detect session, and queues for it", async () => {
    stsMock.reset();
    organizationsMock.reset();
    organizationsMock.on(ListAccountsCommand).resolves({
      Accounts: ["123456789012", MEMBER].map((Id) => ({ Id, Status: "ACTIVE", State: "ACTIVE" })),
    });
    organizationsMock.on(ListParentsCommand).resolves({ Parents: [{ Id: "r-a1b2", Type: "ROOT" }] });
    stsMock.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: `ASIA${MEMBER}DETECT`,
        SecretAccessKey: "secret",
        SessionToken: "token",
        Expiration: new Date(NOW.getTime() + 900_000),
      },
    });
    configHolds();
    const settings = { regions: ["us-east-1"], default: { mode: "enforce" as const } };
    const deployment = deploymentFrom({
      accountId: "123456789012",
      region: "us-east-1",
      rules: [{ id: "ebs-snapshot-public", configRuleName: RULE }],
      organization: settings,
    });
    // Every member client as the factory makes it: the EC2 one answers with the fixture account (made the member's).
    const wire = ec2OnWire((request) => fixtureAccount()(request));
    const targets: Parameters<MemberClientFactory>[0][] = [];
    const memberClients: MemberClientFactory = (target) => {
      targets.push(target);
      return {
        configService: new ConfigServiceClient({ region: target.region, credentials: target.credentials }),
        s3control: new S3ControlClient({ region: target.region, credentials: target.credentials }),
        client: (Client) => (Client === (EC2Client as unknown) ? (wire.ec2 as never) : new Client({})),
      };
    };
    const members = memberDetection({
      deployment,
      directory: organizationsDirectory(new OrganizationsClient({ region: "us-east-1" }), deployment.organization!, {
        now: () => NOW.getTime(),
      }),
      sts: new STSClient({ region: "us-east-1" }),
      now: () => NOW,
      log: recordingLog(),
      memberClients,
    });
    const { deps, queue } = scanDeps();
    const hubDeps = { ...deps, deployment, inventories: undefined };
    const task: ScanTask = {
      kind: "list",
      version: 1,
      scanId: "0b7e6a52-3f0e-4a8e-9c1d-2f4b5a6c7d8e",
      configRuleName: RULE,
      resultToken: "token",
      startedAt: NOW.toISOString(),
      accountId: MEMBER,
      region: "us-east-1",
      parts: 1,
      typeIndex: 0,
    };
    await deps.scanStore.putPart(task.scanId, 0, new Uint8Array());
    await members.runScanTask(task, { ...hubDeps, remainingTimeMs: () => 1_000 });
    expect(targets).toMatchObject([
      { accountId: MEMBER, region: "us-east-1", credentials: { accessKeyId: `ASIA${MEMBER}DETECT` } },
    ]);
    // The fixture's snapshots are owned by 123456789012: in the member's account they are not its own, so none is judged.
    expect(wire.requests.map((request) => request.Action)).toEqual(["DescribeSnapshots"]);
    expect(evaluationsSent()).toEqual([]);
    expect(queue.sent.at(-1)).toMatchObject({ kind: "list", accountId: MEMBER, nextToken: expect.any(String) });
  });
});
