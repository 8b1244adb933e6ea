// The remediate-rds function (both public-snapshot problems) with RDS mocked: the exact API inputs (only "all" is
// ever removed, never an account id, never ValuesToAdd), the ledger's before and after, live exemptions, a snapshot
// that stopped being public or is gone, an answer that does not confirm the change, and forged entries.
import {
  DBClusterSnapshotNotFoundFault,
  DBSnapshotNotFoundFault,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBClusterSnapshotAttributeCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Instruction, parseInstruction } from "../../contract/instruction.ts";
import { parseAllowlist } from "../../detection/exemptions.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { classifyAwsError } from "../../platform/aws-errors.ts";
import { type Problem, problemsFixedBy } from "../../problems/index.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  CLUSTER_SNAPSHOT_ID,
  DB_SNAPSHOT_ID,
  PARTNER,
  RDS_CONFIG_RULE,
  rdsDeployment,
} from "../problems/rds-snapshot-public/support.ts";
import { testInstruction } from "../support/instructions.ts";
import { remediate, type TestRemediationDeps } from "../support/remediate.ts";
import {
  ACCOUNT,
  ACTION_ID,
  DLQ_URL,
  deployedDeps,
  REGION,
  recordingReporter,
  requestFor,
  T0,
  testLedger,
} from "./support.ts";

const rdsMock = mockClient(RDSClient);
const sqsMock = mockClient(SQSClient);
const sent = new Set<string>();
const OTHER = "345678901234";

function collectSent() {
  for (const call of [...rdsMock.calls(), ...sqsMock.calls()]) sent.add(call.args[0].constructor.name);
}

/** A not-found fault as the SDK throws it off the wire: its class, and RDS's error code. */
function notFound(cluster: boolean, id: string) {
  const options = {
    message: `${cluster ? "DBClusterSnapshot" : "DBSnapshot"} ${id} not found.`,
    $metadata: { httpStatusCode: 404 },
  };
  return cluster
    ? Object.assign(new DBClusterSnapshotNotFoundFault(options), { Code: "DBClusterSnapshotNotFoundFault" })
    : Object.assign(new DBSnapshotNotFoundFault(options), { Code: "DBSnapshotNotFound" });
}

/** One of the two kinds of snapshot, with its commands and its entry's, change's and state's kinds. */
/** A kind's command, as the mock types one (it takes one command class at a time). */
const command = (Command: unknown) => Command as typeof DescribeDBSnapshotsCommand;

const KINDS = [
  {
    problem: "rds-snapshot-public",
    type: "AWS::RDS::DBSnapshot",
    id: DB_SNAPSHOT_ID,
    cluster: false,
    matchedKind: "rds-snapshot-restore",
    changeKind: "rds-snapshot-restore-removed",
    stateKind: "rds-snapshot",
    Describe: command(DescribeDBSnapshotsCommand),
    Attributes: command(DescribeDBSnapshotAttributesCommand),
    Modify: command(ModifyDBSnapshotAttributeCommand),
    idField: "DBSnapshotIdentifier",
    arn: `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:${DB_SNAPSHOT_ID}`,
  },
  {
    problem: "rds-cluster-snapshot-public",
    type: "AWS::RDS::DBClusterSnapshot",
    id: CLUSTER_SNAPSHOT_ID,
    cluster: true,
    matchedKind: "rds-cluster-snapshot-restore",
    changeKind: "rds-cluster-snapshot-restore-removed",
    stateKind: "rds-cluster-snapshot",
    Describe: command(DescribeDBClusterSnapshotsCommand),
    Attributes: command(DescribeDBClusterSnapshotAttributesCommand),
    Modify: command(ModifyDBClusterSnapshotAttributeCommand),
    idField: "DBClusterSnapshotIdentifier",
    arn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster-snapshot:${CLUSTER_SNAPSHOT_ID}`,
  },
] as const;
type Kind = (typeof KINDS)[number];

/** The snapshot as DescribeDB(Cluster)Snapshots answers. */
function described(kind: Kind, tags: { Key: string; Value: string }[]): never {
  const snapshot = { SnapshotType: "manual", Status: "available", TagList: tags };
  return (
    kind.cluster
      ? { DBClusterSnapshots: [{ DBClusterSnapshotIdentifier: kind.id, ...snapshot }] }
      : { DBSnapshots: [{ DBSnapshotIdentifier: kind.id, ...snapshot }] }
  ) as never;
}

/** The restore attribute as Describe/Modify*SnapshotAttribute(s) answer. */
function attributes(kind: Kind, values: string[]): never {
  const list = [{ AttributeName: "restore", AttributeValues: values }];
  return (
    kind.cluster
      ? {
          DBClusterSnapshotAttributesResult: {
            DBClusterSnapshotIdentifier: kind.id,
            DBClusterSnapshotAttributes: list,
          },
        }
      : { DBSnapshotAttributesResult: { DBSnapshotIdentifier: kind.id, DBSnapshotAttributes: list } }
  ) as never;
}

interface SetupOptions {
  restore?: string[];
  tags?: { Key: string; Value: string }[];
  allowlist?: unknown[];
  /** The Modify call's answer: what the attribute lists after it (absent: the answer carries no list). */
  after?: string[] | null;
}

function setup(kind: Kind, options: SetupOptions = {}) {
  collectSent();
  rdsMock.reset();
  sqsMock.reset();
  const events: string[] = [];
  rdsMock.on(kind.Describe).resolves(described(kind, options.tags ?? [{ Key: "team", Value: "orders" }]));
  rdsMock.on(kind.Attributes).resolves(attributes(kind, options.restore ?? ["all", PARTNER]));
  rdsMock.on(kind.Modify).callsFake(() => {
    events.push("modify");
    if (options.after === null) return {};
    return attributes(kind, options.after ?? [PARTNER]);
  });
  sqsMock.on(DeleteMessageCommand).callsFake(() => {
    events.push("delete");
    return {};
  });
  sqsMock.on(SendMessageCommand).resolves({ MessageId: "dlq-1" });
  const ledger = testLedger(events);
  const reporter = recordingReporter();
  const deps: TestRemediationDeps = {
    ...deployedDeps({ deployment: rdsDeployment() }),
    sqs: new SQSClient({}),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: parseAllowlist(options.allowlist ?? []).entries,
    now: () => T0,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  };
  return { deps, ledger, reporter, events };
}

function instructionOf(kind: Kind, matched = [{ kind: kind.matchedKind, value: "all" }]): Instruction {
  return testInstruction({
    problem: kind.problem as Problem,
    matched: matched as never,
    resourceId: kind.id,
    withArn: true,
    configRuleName: RDS_CONFIG_RULE,
    parameters: {},
    capturedAt: "2026-11-20T10:00:00.000Z",
    detectedAt: "2026-11-20T10:00:05.000Z",
  });
}

beforeEach(() => sent.clear());
afterEach(() => {
  collectSent();
  for (const command of sent) {
    expect(Object.keys(FUNCTIONS["remediate-rds"].permissions), "declared (the runner's and the fix specs'").toContain(
      command,
    );
  }
});
afterAll(() => {
  rdsMock.restore();
  sqsMock.restore();
});

describe("remediate-rds", () => {
  it("fixes both public-snapshot problems, and only those", () => {
    expect(problemsFixedBy("remediate-rds")).toEqual(["rds-snapshot-public", "rds-cluster-snapshot-public"]);
  });
});

describe.each(KINDS.map((kind) => [kind.type, kind] as const))("remediate-rds on a %s", (_type, kind) => {
  it("removes exactly all (ValuesToRemove, never ValuesToAdd), ledgers the attribute before and after, deletes, reports", async () => {
    const t = setup(kind);
    const instruction = instructionOf(kind);
    const result = await remediate("remediate-rds", requestFor(instruction), t.deps);

    expect(result).toMatchObject({ status: "fixed", actionId: ACTION_ID, messageDeleted: true });
    expect(rdsMock).toHaveReceivedCommandWith(kind.Describe, { [kind.idField]: kind.id });
    expect(rdsMock).toHaveReceivedCommandWith(kind.Attributes, { [kind.idField]: kind.id });
    expect(rdsMock).toHaveReceivedCommandTimes(kind.Modify, 1);
    expect(rdsMock.commandCalls(kind.Modify)[0]!.args[0].input).toEqual({
      [kind.idField]: kind.id,
      AttributeName: "restore",
      ValuesToRemove: ["all"],
    });
    expect(t.events).toEqual(["ledger:pending", "modify", "ledger:fixed", "delete"]);

    const change = { kind: kind.changeKind, snapshot: kind.id, values: ["all"], kept: [PARTNER] };
    const [pending, fixed] = t.ledger.writes;
    expect(pending).toMatchObject({
      outcome: "pending",
      before: { kind: kind.stateKind, snapshot: kind.id, restore: ["all", PARTNER] },
      after: null,
      changes: [change],
    });
    expect(fixed).toMatchObject({
      outcome: "fixed",
      problem: kind.problem,
      resource: { type: kind.type, id: kind.id, accountId: ACCOUNT, region: REGION },
      ruleId: "rds-snapshot-public",
      before: { kind: kind.stateKind, snapshot: kind.id, restore: ["all", PARTNER] },
      after: { kind: kind.stateKind, snapshot: kind.id, restore: [PARTNER] },
      changes: [change],
    });
    expect(t.reporter.reports).toEqual([
      {
        kind: "fixed",
        instructionId: instruction.id,
        problem: kind.problem,
        resource: { type: kind.type, id: kind.id, arn: kind.arn, accountId: ACCOUNT, region: REGION },
        ruleId: "rds-snapshot-public",
        actionId: ACTION_ID,
        changes: [change],
        undoCommand: `remedy undo ${ACTION_ID}`,
      },
    ]);
  });

  it("public to no one by id: removes all, keeps none, the after-state empty", async () => {
    const t = setup(kind, { restore: ["all"], after: [] });
    await remediate("remediate-rds", requestFor(instructionOf(kind)), t.deps);
    expect(t.ledger.writes.at(-1)).toMatchObject({
      outcome: "fixed",
      after: { restore: [] },
      changes: [{ values: ["all"], kept: [] }],
    });
  });

  it("an answer without the attribute list: the attribute is read again to confirm the change", async () => {
    const t = setup(kind, { after: null });
    rdsMock
      .on(kind.Attributes)
      .resolvesOnce(attributes(kind, ["all", PARTNER, OTHER]))
      .resolves(attributes(kind, [PARTNER, OTHER]));
    const result = await remediate("remediate-rds", requestFor(instructionOf(kind)), t.deps);
    expect(result.status).toBe("fixed");
    expect(rdsMock).toHaveReceivedCommandTimes(kind.Attributes, 2);
    expect(t.ledger.writes.at(-1)).toMatchObject({ after: { restore: [PARTNER, OTHER] } });
  });

  it("an answer that still lists all: failed and retried, the pending record keeps the before-state", async () => {
    const t = setup(kind, { after: ["all", PARTNER] });
    const result = await remediate("remediate-rds", requestFor(instructionOf(kind)), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "transient" });
    expect(t.events).not.toContain("delete");
    expect(t.ledger.writes.map((record) => record.outcome)).toEqual(["pending", "failed"]);
    expect(t.ledger.writes[0]!.before).toEqual({ kind: kind.stateKind, snapshot: kind.id, restore: ["all", PARTNER] });
  });

  it("exempt by its live remedy:exempt tag: skipped, nothing changed", async () => {
    const t = setup(kind, { tags: [{ Key: "remedy:exempt", Value: "public sample data, DATA-88 until=2027-01-31" }] });
    const result = await remediate("remediate-rds", requestFor(instructionOf(kind)), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/remedy:exempt/) });
    expect(rdsMock).not.toHaveReceivedCommand(kind.Modify);
  });

  it("exempt by an allowlist entry on its derived ARN: skipped, nothing changed", async () => {
    const t = setup(kind, {
      allowlist: [
        {
          resource: kind.arn,
          problems: [kind.problem],
          reason: "benchmark data",
          owner: "data@example.com",
          expires: "2027-06-30",
        },
      ],
    });
    const result = await remediate("remediate-rds", requestFor(instructionOf(kind)), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/allowlist/) });
    expect(rdsMock).not.toHaveReceivedCommand(kind.Modify);
  });

  it("no longer public live (shared by id only): nothing to do, the sharing untouched", async () => {
    const t = setup(kind, { restore: [PARTNER] });
    const result = await remediate("remediate-rds", requestFor(instructionOf(kind)), t.deps);
    expect(result).toMatchObject({
      status: "skipped",
      reason: `nothing to do: none of the 1 instructed entries is still public on ${kind.id}`,
    });
    expect(rdsMock).not.toHaveReceivedCommand(kind.Modify);
  });

  it("gone (its not-found fault): skipped, nothing changed", async () => {
    const t = setup(kind);
    const fault = notFound(kind.cluster, kind.id);
    expect(classifyAwsError(fault)).toBe("gone");
    rdsMock.on(kind.Describe).rejects(fault);
    const result = await remediate("remediate-rds", requestFor(instructionOf(kind)), t.deps);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/no longer exists/) });
    expect(rdsMock).not.toHaveReceivedCommand(kind.Modify);
    expect(t.events).toEqual(["ledger:skipped", "delete"]);
  });

  it("an instruction can name only the value all: an account id is not an entry of it", () => {
    const forged = { ...instructionOf(kind), matched: [{ kind: kind.matchedKind, value: PARTNER }] };
    expect(() => parseInstruction(forged)).toThrow();
  });
});
