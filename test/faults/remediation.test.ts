// Fault injection on every AWS call a remediation makes. For each function (security group; S3 surgical ACL,
// surgical policy rewrite, surgical policy delete, Block Public Access for ACL and policy findings) a clean run
// records the exact sequence of AWS calls; then, for each call position × each fault kind, the same request runs
// with that one call failing, and again (the redelivery) with the fault gone, against the stateful fake of the group,
// the bucket, the ledger bucket, the queues and the topic (test/support/aws-world.ts, set up by ./support.ts), its
// fault injection on. Asserted, from functions/remediation/runner.ts:
// - the remediation queue's DeleteMessage is sent only after a confirmed change and its `fixed` ledger record, after
//   a `skipped` record, or after the DLQ accepted the message (permanent failure, nothing changed);
// - a transient fault before the final record leaves the message; a permanent one before the change dead-letters it;
//   a fault after the final record (DeleteMessage, Publish) still counts as fixed;
// - across both deliveries each offending rule is revoked exactly once and the bucket is written exactly once, with
//   the right content; the redelivery of an already fixed resource is a skip that changes nothing.
import { afterAll, describe, expect, it } from "vitest";
import { type Instruction, serializeInstruction } from "../../contract/instruction.ts";
import type { RemediationResult } from "../../functions/remediation/runner.ts";
import type { S3FixStrategy } from "../../problems/words.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  ACCOUNT,
  AUTHENTICATED_GRANT,
  BUCKET,
  DENY_INSECURE,
  DLQ_URL,
  GRANTS,
  GROUP_ID,
  instructionFor,
  OWNER,
  PARTNER_READ,
  POLICY_TEXT,
  PUBLIC_READ,
  PUBLIC_READ_GRANT,
  PUBLIC_STATEMENT,
  QUEUE_URL,
  requestFor,
  SG_RULES,
  SSH_V4,
  SSH_V6,
} from "../remediation/support.ts";
import { callAt, restoreAwsWorld } from "../support/aws-world.ts";
import { remediate } from "../support/remediate.ts";
import {
  actionIdFor,
  awsDeps,
  type Call,
  CLIENTS,
  createWorld,
  type DeleteCheck,
  deadLetters,
  deletedHandles,
  FAULTS,
  type Fault,
  type FaultWorld,
  LEDGER_BUCKET,
  type Role,
  revokedIds,
} from "./support.ts";

afterAll(restoreAwsWorld);

const TARGET = { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT };
/** What block-public-access turns on for each problem (the world's bucket starts with none configured). */
const ACLS_BLOCKED = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
};
const POLICY_BLOCKED = {
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};

interface Scenario {
  name: string;
  fn: "sg" | "s3";
  strategy?: S3FixStrategy;
  instruction: Instruction;
  policy?: string | null;
  /** The one change the fix must make, exactly. */
  change: { command: string; input: Record<string, unknown> };
  /** The live resource after the fix. */
  assertFixed(world: FaultWorld): void;
}

const POLICY_ONLY_PUBLIC = JSON.stringify({ Version: "2012-10-17", Statement: [PUBLIC_READ] });

const SCENARIOS: Scenario[] = [
  {
    name: "remediate-sg",
    fn: "sg",
    instruction: instructionFor("sg-open-ingress", [SSH_V4, SSH_V6]),
    change: {
      command: "RevokeSecurityGroupIngress",
      input: { GroupId: GROUP_ID, SecurityGroupRuleIds: ["sgr-0ssh4", "sgr-0ssh6"] },
    },
    assertFixed(world) {
      expect(
        world.groups
          .get(GROUP_ID)!
          .rules.map((rule) => rule.SecurityGroupRuleId!)
          .sort(),
      ).toEqual(
        SG_RULES.map((rule) => rule.SecurityGroupRuleId!)
          .filter((id) => id !== "sgr-0ssh4" && id !== "sgr-0ssh6")
          .sort(),
      );
      expect(revokedIds(world).sort()).toEqual(["sgr-0ssh4", "sgr-0ssh6"]);
    },
  },
  {
    name: "remediate-s3 surgical: public ACL grants",
    fn: "s3",
    strategy: "surgical",
    policy: POLICY_TEXT,
    instruction: instructionFor("s3-public-acl", [PUBLIC_READ_GRANT, AUTHENTICATED_GRANT]),
    change: {
      command: "PutBucketAcl",
      input: { ...TARGET, AccessControlPolicy: { Owner: OWNER, Grants: [GRANTS[0], GRANTS[2], GRANTS[4]] } },
    },
    assertFixed(world) {
      expect(world.buckets.get(BUCKET)!.acl).toEqual({ Owner: OWNER, Grants: [GRANTS[0], GRANTS[2], GRANTS[4]] });
      expect(world.buckets.get(BUCKET)!.policy).toBe(POLICY_TEXT);
      expect(world.buckets.get(BUCKET)!.publicAccessBlock).toBeNull();
    },
  },
  {
    name: "remediate-s3 surgical: public policy statement (rewrite)",
    fn: "s3",
    strategy: "surgical",
    policy: POLICY_TEXT,
    instruction: instructionFor("s3-public-policy", [PUBLIC_STATEMENT]),
    change: {
      command: "PutBucketPolicy",
      input: {
        ...TARGET,
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Id: "acme-data-policy",
          Statement: [DENY_INSECURE, PARTNER_READ],
        }),
      },
    },
    assertFixed(world) {
      expect(JSON.parse(world.buckets.get(BUCKET)!.policy!)).toEqual({
        Version: "2012-10-17",
        Id: "acme-data-policy",
        Statement: [DENY_INSECURE, PARTNER_READ],
      });
      expect(world.buckets.get(BUCKET)!.acl.Grants).toEqual(GRANTS);
    },
  },
  {
    name: "remediate-s3 surgical: only public statement (policy deleted)",
    fn: "s3",
    strategy: "surgical",
    policy: POLICY_ONLY_PUBLIC,
    instruction: instructionFor("s3-public-policy", [PUBLIC_STATEMENT]),
    change: { command: "DeleteBucketPolicy", input: { ...TARGET } },
    assertFixed(world) {
      expect(world.buckets.get(BUCKET)!.policy).toBeNull();
      expect(world.buckets.get(BUCKET)!.acl.Grants).toEqual(GRANTS);
    },
  },
  {
    name: "remediate-s3 block-public-access: public ACL grant",
    fn: "s3",
    strategy: "block-public-access",
    policy: POLICY_TEXT,
    instruction: instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]),
    change: { command: "PutPublicAccessBlock", input: { ...TARGET, PublicAccessBlockConfiguration: ACLS_BLOCKED } },
    assertFixed(world) {
      expect(world.buckets.get(BUCKET)!.publicAccessBlock).toEqual(ACLS_BLOCKED);
      expect(world.buckets.get(BUCKET)!.acl.Grants).toEqual(GRANTS);
      expect(world.buckets.get(BUCKET)!.policy).toBe(POLICY_TEXT);
    },
  },
  {
    name: "remediate-s3 block-public-access: public policy statement",
    fn: "s3",
    strategy: "block-public-access",
    policy: POLICY_TEXT,
    instruction: instructionFor("s3-public-policy", [PUBLIC_STATEMENT]),
    change: { command: "PutPublicAccessBlock", input: { ...TARGET, PublicAccessBlockConfiguration: POLICY_BLOCKED } },
    assertFixed(world) {
      expect(world.buckets.get(BUCKET)!.publicAccessBlock).toEqual(POLICY_BLOCKED);
      expect(world.buckets.get(BUCKET)!.policy).toBe(POLICY_TEXT);
    },
  },
];

/** One delivery of the scenario's instruction (run n = delivery n, its own receipt handle and action id). */
function deliver(world: FaultWorld, scenario: Scenario, run: number, attempt = run): Promise<RemediationResult> {
  world.run = run;
  const request = requestFor(scenario.instruction, { attempt, receiptHandle: `receipt-handle-${attempt}` });
  const base = { ...awsDeps(run), log: recordingLog() };
  if (scenario.fn === "sg") {
    return remediate("remediate-sg", request, { ...base, ec2: CLIENTS.ec2, allowlist: [] });
  }
  return remediate("remediate-s3", request, {
    ...base,
    s3: CLIENTS.s3,
    allowlist: [],
    strategy: scenario.strategy!,
    protectedBuckets: [LEDGER_BUCKET],
  });
}

const describeCall = (call: Call) => `#${call.index} ${call.service} ${call.command} (${call.detail})`;

// The clean runs, recorded before the tests are generated: the fault table comes from what they actually sent.
const clean = new Map<string, { calls: Call[]; result: RemediationResult; mocked: number }>();
for (const scenario of SCENARIOS) {
  const world = createWorld({ policy: scenario.policy ?? null });
  const result = await deliver(world, scenario, 1);
  clean.set(scenario.name, { calls: world.callsOf(1), result, mocked: world.mockedCalls() });
}

/** Whether a DeleteMessage on the remediation queue was allowed when it was sent. */
function deleteAllowed(check: DeleteCheck): boolean {
  const record = check.record;
  if (check.dlqSent) return check.changes === 0 && record?.outcome === "failed";
  if (record?.outcome === "fixed") return check.confirmedChanges === 1 && check.changes === 1 && record.after !== null;
  if (record?.outcome === "skipped") return check.changes === 0;
  return false;
}

interface Expectation {
  result: Record<string, unknown>;
  /** Run 1 changed the live resource. */
  changed: boolean;
  /** Run 1's message is gone from the remediation queue. */
  deleted: boolean;
  deadLettered: boolean;
  /** The ledger record of run 1's action after run 1 (none when it stopped before writing one). */
  ledgerOutcome: "failed" | "pending" | "fixed" | undefined;
  /** Kind of run 1's report to the topic, if one reached it. */
  report: "failed" | "fixed" | null;
}

/** What functions/remediation/runner.ts promises for a fault of `fault` at a call of `role`. */
function expectationFor(role: Role, fault: Fault): Expectation {
  const permanent = fault.expected === "permanent";
  switch (role) {
    case "claim":
    case "read":
    case "ledger-pending":
    case "change": {
      const attempted = role === "change";
      return {
        result: {
          status: "failed",
          kind: fault.expected,
          deadLettered: permanent,
          changeAttempted: attempted,
        },
        changed: attempted && fault.applied,
        deleted: permanent,
        deadLettered: permanent,
        ledgerOutcome: "failed",
        report: "failed",
      };
    }
    case "facts":
      // The account's Block Public Access cannot be read: judged with the bucket's own flags, fixed as usual.
      return {
        result: { status: "fixed", messageDeleted: true },
        changed: true,
        deleted: true,
        deadLettered: false,
        ledgerOutcome: "fixed",
        report: "fixed",
      };
    case "pause":
      // The pause switch cannot be read: fail closed. Nothing changes, nothing is recorded, the message stays.
      return {
        result: { status: "held", reason: expect.stringMatching(/^pause switch unreadable/) },
        changed: false,
        deleted: false,
        deadLettered: false,
        ledgerOutcome: undefined,
        report: null,
      };
    case "ledger-fixed":
      // Changed but not recorded: always transient (even AccessDenied), the message stays, no `failed` record
      // overwrites the pending one (which holds the before-state).
      return {
        result: { status: "failed", kind: "transient", deadLettered: false, changeAttempted: true },
        changed: true,
        deleted: false,
        deadLettered: false,
        ledgerOutcome: fault.applied ? "fixed" : "pending",
        report: "failed",
      };
    case "delete":
      return {
        result: { status: "fixed", messageDeleted: false },
        changed: true,
        deleted: fault.applied,
        deadLettered: false,
        ledgerOutcome: "fixed",
        report: "fixed",
      };
    case "publish":
      return {
        result: { status: "fixed", messageDeleted: true },
        changed: true,
        deleted: true,
        deadLettered: false,
        ledgerOutcome: "fixed",
        report: fault.applied ? "fixed" : null,
      };
    default:
      throw new Error(`no fault expectation for a call of role ${role}`);
  }
}

for (const scenario of SCENARIOS)
  describe(scenario.name, () => {
    const { calls, result, mocked } = clean.get(scenario.name)!;

    it("clean run: fixed, in the documented order, and every call went through the fault world", () => {
      expect(result).toMatchObject({ status: "fixed", actionId: actionIdFor(1), messageDeleted: true });
      expect(mocked).toBe(calls.length);
      const roles = calls.map((call) => call.role);
      // The dispatch is claimed before anything else; then only reads until the pause switch is read again,
      // right before the pending record.
      expect(roles[0]).toBe("claim");
      const firstWrite = roles.indexOf("ledger-pending");
      expect(firstWrite).toBeGreaterThan(2);
      expect(roles.slice(1, firstWrite - 1).every((role) => role === "read" || role === "facts")).toBe(true);
      // The S3 remediation judges with the account's Block Public Access too, read once.
      expect(roles.filter((role) => role === "facts")).toHaveLength(scenario.fn === "s3" ? 1 : 0);
      expect(roles[firstWrite - 1]).toBe("pause");
      expect(roles.slice(firstWrite)).toEqual(["ledger-pending", "change", "ledger-fixed", "delete", "publish"]);
      const change = calls.find((call) => call.role === "change")!;
      expect(change.command).toBe(scenario.change.command);
      expect(change.input).toEqual(scenario.change.input);
      expect(calls.find((call) => call.role === "delete")!.input).toEqual({
        QueueUrl: QUEUE_URL,
        ReceiptHandle: "receipt-handle-1",
      });
      expect(calls.filter((call) => call.command === "PutObject")).toHaveLength(3);
      expect(calls.filter((call) => call.command === "Publish")).toHaveLength(1);
    });

    const cases = calls.flatMap((call) => FAULTS.map((fault) => ({ call, fault })));

    it(`the fault table covers every call of the clean run × ${FAULTS.length} fault kinds (${cases.length} cases)`, () => {
      expect(cases).toHaveLength(calls.length * FAULTS.length);
      for (const call of calls) {
        expect(cases.filter((each) => each.call.index === call.index).map((each) => each.fault.name)).toEqual(
          FAULTS.map((fault) => fault.name),
        );
      }
    });

    for (const { call, fault } of cases) {
      it(`${describeCall(call)} ← ${fault.name}`, async () => {
        const world = createWorld({ policy: scenario.policy ?? null });
        world.faults = [{ when: callAt(1, call.index), fault }];
        const expected = expectationFor(call.role, fault);

        // Delivery 1, with the fault.
        const first = await deliver(world, scenario, 1);
        expect(world.faultFired).toBe(true);
        const faulted = world.callsOf(1)[call.index]!;
        expect(`${faulted.service} ${faulted.command} (${faulted.detail})`).toBe(
          `${call.service} ${call.command} (${call.detail})`,
        );
        expect(first).toMatchObject({ ...expected.result, actionId: actionIdFor(1) });
        expect(world.mutations.some((mutation) => mutation.run === 1)).toBe(expected.changed);
        expect(deletedHandles(world).includes("receipt-handle-1")).toBe(expected.deleted);
        expect(world.ledgerRecord(actionIdFor(1))?.outcome).toBe(expected.ledgerOutcome);
        const reports = world.published.filter((each) => each.run === 1).map((each) => each.report);
        expect(reports.map((report) => report.kind)).toEqual(expected.report ? [expected.report] : []);
        if (expected.report === "failed") {
          expect(reports[0]).toMatchObject({ willRetry: expected.result.kind === "transient", attempt: 1 });
        }

        const run1 = world.callsOf(1);
        const dlqSends = run1.filter((each) => each.command === "SendMessage");
        if (expected.deadLettered) {
          // Send to the DLQ first, then delete from the remediation queue; nothing changed.
          expect(dlqSends.map((each) => each.input.QueueUrl)).toEqual([DLQ_URL]);
          expect(dlqSends[0]!.input.MessageBody).toBe(serializeInstruction(scenario.instruction));
          const deletes = run1.filter((each) => each.command === "DeleteMessage");
          expect(deletes).toHaveLength(1);
          expect(deletes[0]!.index).toBeGreaterThan(dlqSends[0]!.index);
          expect(world.mutations).toEqual([]);
        } else {
          expect(dlqSends).toEqual([]);
        }
        if (fault.expected === "transient" && expected.result.status === "failed") {
          expect(run1.some((each) => each.command === "DeleteMessage")).toBe(false);
        }

        // Delivery 2 (the redelivery, or a duplicate delivery / DLQ redrive of a deleted message), without the fault.
        const second = await deliver(world, scenario, 2);
        const changedBefore = expected.changed;
        expect(second).toMatchObject({
          status: changedBefore ? "skipped" : "fixed",
          actionId: actionIdFor(2),
          messageDeleted: true,
        });
        if (changedBefore) {
          expect(second).toMatchObject({ reason: expect.stringMatching(/^nothing to do/) });
          expect(world.callsOf(2).some((each) => each.role === "change")).toBe(false);
        }
        expect(world.ledgerRecord(actionIdFor(2))?.outcome).toBe(changedBefore ? "skipped" : "fixed");

        // Never revoked or rewritten twice: one applied change, with the right content, across both deliveries.
        expect(world.mutations.map(({ command, input }) => ({ command, input }))).toEqual([scenario.change]);
        scenario.assertFixed(world);

        // Every DeleteMessage on the remediation queue was sent only when it was allowed.
        expect(world.deleteChecks.length).toBeGreaterThan(0);
        for (const check of world.deleteChecks)
          expect({ check, allowed: deleteAllowed(check) }).toMatchObject({ allowed: true });
      });
    }
  });

describe("the fault table", () => {
  it("has every kind the issue names, classified as promised", () => {
    expect(FAULTS.map((fault) => [fault.name, fault.expected])).toEqual([
      ["ThrottlingException", "transient"],
      ["SlowDown", "transient"],
      ["503 ServiceUnavailable", "transient"],
      ["500 InternalError", "transient"],
      ["TimeoutError (applied, response lost)", "transient"],
      ["ECONNRESET", "transient"],
      ["AccessDenied", "permanent"],
      ["UnauthorizedOperation", "permanent"],
    ]);
  });

  it("reaches the ledger's PutObject, SQS DeleteMessage and SNS Publish in every function", () => {
    for (const scenario of SCENARIOS) {
      const commands = clean.get(scenario.name)!.calls.map((call) => call.command);
      expect(commands).toEqual(
        expect.arrayContaining(["PutObject", "DeleteMessage", "Publish", scenario.change.command]),
      );
    }
  });

  it("a forbidden DeleteMessage would be caught (the check is not vacuous)", () => {
    const base = { run: 1, actionId: actionIdFor(1), changes: 0, confirmedChanges: 0, dlqSent: false };
    expect(deleteAllowed({ ...base, record: undefined })).toBe(false);
    expect(
      deleteAllowed({
        ...base,
        changes: 1,
        confirmedChanges: 1,
        record: { outcome: "pending" } as DeleteCheck["record"],
      }),
    ).toBe(false);
    expect(
      deleteAllowed({ ...base, changes: 1, confirmedChanges: 0, record: { outcome: "fixed", after: {} } as never }),
    ).toBe(false);
    expect(deleteAllowed({ ...base, dlqSent: true, changes: 1, record: { outcome: "failed" } as never })).toBe(false);
  });
});

// A permanent fault before (or at) the change, and then the DLQ SendMessage fails too: the message must stay on the
// remediation queue (never deleted without the DLQ holding it), and the next delivery fixes it once.
for (const scenario of SCENARIOS)
  describe(`${scenario.name}: permanent fault, then the DLQ send fails as well`, () => {
    const { calls } = clean.get(scenario.name)!;
    const dlqFaults = FAULTS.filter((fault) => fault.name === "ThrottlingException" || fault.applied);
    const cases = calls
      .filter((call) => ["claim", "read", "ledger-pending", "change"].includes(call.role))
      .flatMap((call) =>
        FAULTS.filter((fault) => fault.expected === "permanent").flatMap((fault) =>
          dlqFaults.map((dlqFault) => ({
            call,
            fault,
            dlqFault,
            label: `${describeCall(call)} ← ${fault.name}; DLQ SendMessage ← ${dlqFault.name}`,
          })),
        ),
      );

    for (const { call, fault, dlqFault, label } of cases)
      it(label, async () => {
        const world = createWorld({ policy: scenario.policy ?? null });
        const atCall = { when: callAt(1, call.index), fault };
        world.faults = [atCall, { when: (each) => each.run === 1 && each.detail === "dlq", fault: dlqFault }];

        const first = await deliver(world, scenario, 1);
        expect(first).toMatchObject({ status: "failed", kind: "permanent", deadLettered: false });
        const run1 = world.callsOf(1);
        expect(run1.filter((each) => each.detail === "dlq").map((each) => each.fault)).toEqual([dlqFault.name]);
        expect(run1.some((each) => each.command === "DeleteMessage")).toBe(false);
        expect(deletedHandles(world)).toEqual([]);
        expect(world.mutations).toEqual([]);
        expect(world.ledgerRecord(actionIdFor(1))?.outcome).toBe("failed");
        // A lost answer means the DLQ may hold a copy while the message also stays: at-least-once, never at-most-once.
        expect(deadLetters(world)).toHaveLength(dlqFault.applied ? 1 : 0);

        world.faults = [atCall];
        const second = await deliver(world, scenario, 2);
        expect(second).toMatchObject({ status: "fixed", messageDeleted: true });
        // A redrive of the DLQ copy (when there is one) finds nothing to do.
        const third = await deliver(world, scenario, 3);
        expect(third).toMatchObject({ status: "skipped", messageDeleted: true });
        expect(world.mutations.map(({ command, input }) => ({ command, input }))).toEqual([scenario.change]);
        scenario.assertFixed(world);
        for (const check of world.deleteChecks)
          expect({ check, allowed: deleteAllowed(check) }).toMatchObject({ allowed: true });
      });
  });

// Two deliveries of the same dispatch that overlap (Lambda delivers asynchronous events at least once; an SDK retry
// after a lost Invoke answer sends the event again): same message, same attempt, running at the same time. The
// dispatch claim lets exactly one of them act.
for (const scenario of SCENARIOS)
  describe(`${scenario.name}: two overlapping deliveries of one dispatch`, () => {
    async function overlap() {
      const world = createWorld({ policy: scenario.policy ?? null });
      const waiting: (() => void)[] = [];
      // Hold each delivery at its claim until both are there, so they truly race.
      world.beforeCall = async (call) => {
        if (call.role !== "claim") return;
        await new Promise<void>((resolve) => {
          waiting.push(resolve);
          if (waiting.length === 2) for (const release of waiting) release();
        });
      };
      const results = await Promise.all([1, 2].map((run) => world.inRun(run, () => deliver(world, scenario, run, 1))));
      world.beforeCall = undefined;
      return { world, results };
    }

    it("the resource is changed exactly once; the duplicate does nothing and deletes nothing", async () => {
      const { world, results } = await overlap();
      expect(results.map((result) => result.status).sort()).toEqual(["duplicate", "fixed"]);
      const loser = results.findIndex((result) => result.status === "duplicate") + 1;
      expect(world.callsOf(loser).map((call) => call.role)).toEqual(["claim"]);
      expect(world.mutations.map(({ command, input }) => ({ command, input }))).toEqual([scenario.change]);
      expect(world.deleteChecks).toHaveLength(1);
      for (const check of world.deleteChecks)
        expect({ check, allowed: deleteAllowed(check) }).toMatchObject({ allowed: true });
      scenario.assertFixed(world);
    });

    it("the next attempt of the same message is a new dispatch: it re-reads and finds nothing to do", async () => {
      const { world } = await overlap();
      const next = await deliver(world, scenario, 3, 2);
      expect(next).toMatchObject({ status: "skipped", reason: expect.stringMatching(/^nothing to do/) });
      expect(world.mutations).toHaveLength(1);
    });
  });
