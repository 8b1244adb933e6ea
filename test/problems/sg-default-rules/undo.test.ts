// Undoing an sg-default-rules fix: the security group's undo (problems/sg-open-ingress/undo.ts, extended for egress,
// prefix lists and group references) re-authorizes exactly the revoked rules that are missing live — ingress with
// AuthorizeSecurityGroupIngress, egress with AuthorizeSecurityGroupEgress, each with its peer, description and tags —
// refuses records no fix of this problem writes, and names what it put back as both problems' entries.
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { describeUndo, planUndo, UndoError, undoAction } from "../../../cli/undo-runner.ts";
import { matchedEntryKey } from "../../../contract/instruction.ts";
import { type LedgerRecord, memoryLedger } from "../../../contract/ledger.ts";
import { undo as sgRulesUndo } from "../../../problems/sg-open-ingress/undo.ts";
import { undoFor } from "../../../problems/undo.ts";
import { recordingLog } from "../../helpers/recording-log.ts";
import {
  ACTION_ID,
  DLQ_URL,
  deployedDeps,
  recordingReporter,
  requestFor,
  T0,
  TEST_MAC_KEY_ID,
  testSigner,
} from "../../remediation/support.ts";
import { remediate } from "../../support/remediate.ts";
import {
  defaultRulesDeployment,
  defaultRulesInstruction,
  entryOf,
  GROUP,
  LIVE_RULES,
  mockDefaultGroup,
  OUT_V4,
  OUT_V6,
  PREFIX_LIST,
  SELF,
} from "./support.ts";

// biome-ignore lint/suspicious/noExplicitAny: fixtures and records are changed freely, by any path.
type Json = Record<string, any>;

const ec2 = mockClient(EC2Client);
const sqs = mockClient(SQSClient);
const UNDO_ID = "act-20261120T120000Z-0000cafe";

beforeEach(() => {
  ec2.reset();
  sqs.reset();
  sqs.on(DeleteMessageCommand).resolves({});
});
afterAll(() => {
  ec2.restore();
  sqs.restore();
});

const REVOKED = [SELF, OUT_V4, PREFIX_LIST];

/** Runs the real fix of REVOKED into a signing ledger, then leaves EC2 answering with the group as the fix left it. */
async function fixedAction() {
  const ledger = memoryLedger(testSigner());
  mockDefaultGroup(ec2);
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  ec2.on(RevokeSecurityGroupEgressCommand).resolves({ Return: true });
  const result = await remediate("remediate-sg", requestFor(defaultRulesInstruction(REVOKED)), {
    ...deployedDeps({ deployment: defaultRulesDeployment() }),
    ec2: new EC2Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter: recordingReporter(),
    deadLetterQueueUrl: DLQ_URL,
    allowlist: [],
    now: () => T0,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  });
  expect(result.status).toBe("fixed");
  ec2.reset();
  liveRules(LIVE_RULES.filter((rule) => !REVOKED.includes(rule)));
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({ Return: true });
  return ledger;
}

function liveRules(rules: typeof LIVE_RULES) {
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: rules });
}

function undoDeps(ledger: ReturnType<typeof memoryLedger>) {
  return {
    ec2: new EC2Client({}),
    s3: new S3Client({}),
    client: <C>(Client: new (config: object) => C) => new Client({}),
    ledger,
    verifier: testSigner(),
    macKeyId: TEST_MAC_KEY_ID,
    now: () => new Date("2026-11-20T12:00:00.000Z"),
    log: recordingLog(),
    newActionId: () => UNDO_ID,
  };
}

const live = (rules: typeof LIVE_RULES) => ({ kind: "sg-rules" as const, groupId: GROUP, rules });

describe("undo of sg-default-rules", () => {
  it("re-authorizes exactly the revoked rules: ingress from the group and the prefix list, egress to 0.0.0.0/0", async () => {
    const ledger = await fixedAction();
    const result = await undoAction(ACTION_ID, undoDeps(ledger));

    expect(result).toMatchObject({
      actionId: UNDO_ID,
      undoes: ACTION_ID,
      outcome: "fixed",
      problem: "sg-default-rules",
    });
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input)).toEqual([
      {
        GroupId: GROUP,
        IpPermissions: [
          {
            IpProtocol: "-1",
            FromPort: -1,
            ToPort: -1,
            UserIdGroupPairs: [{ GroupId: GROUP, UserId: "123456789012" }],
          },
        ],
      },
      {
        GroupId: GROUP,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 443,
            ToPort: 443,
            PrefixListIds: [{ PrefixListId: "pl-02cd2c6b", Description: "https from the corporate prefix list" }],
          },
        ],
        TagSpecifications: [{ ResourceType: "security-group-rule", Tags: [{ Key: "ticket", Value: "NET-7" }] }],
      },
    ]);
    expect(ec2.commandCalls(AuthorizeSecurityGroupEgressCommand).map((call) => call.args[0].input)).toEqual([
      {
        GroupId: GROUP,
        IpPermissions: [{ IpProtocol: "-1", FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      },
    ]);
    // The IPv6 egress rule the fix left was never touched.
    expect(JSON.stringify(ec2.calls().map((call) => call.args[0].input))).not.toContain("::/0");

    const undo = await ledger.read(UNDO_ID);
    expect(undo).toMatchObject({
      outcome: "fixed",
      undoes: ACTION_ID,
      before: { kind: "sg-rules", groupId: GROUP, groupName: "default", rules: [] },
      after: {
        kind: "sg-rules",
        groupId: GROUP,
        groupName: "default",
        rules: ((await ledger.read(ACTION_ID)).before as { rules: unknown[] }).rules,
      },
      changes: [{ kind: "restored" }],
    });
    // What the undo's temporary exemption lists: the rules as this problem's findings name them.
    expect(result.restored.unnamed).toEqual([]);
    expect(result.restored.entries.map(({ problem, entry }) => `${problem} ${matchedEntryKey(entry)}`).sort()).toEqual(
      REVOKED.map(
        (rule) => `sg-default-rules ${matchedEntryKey({ kind: "sg-default-rule", rule: entryOf(rule) })}`,
      ).sort(),
    );
  });

  it("says what it re-opens, each rule with its direction and peer", async () => {
    const ledger = await fixedAction();
    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), live([OUT_V6])));
    expect(text).toContain(`Undo ${ACTION_ID} (sg-default-rules`);
    expect(text).toContain(`re-authorize 3 rules on ${GROUP} (every other rule of the group stays as it is):`);
    expect(text).toContain(`+ all traffic from 123456789012/${GROUP}`);
    expect(text).toContain("+ egress all traffic to 0.0.0.0/0");
    expect(text).toContain('+ tcp 443 from pl-02cd2c6b "https from the corporate prefix list"');
  });

  it("re-adds only what is missing live: a revoked rule that is back is reported, not duplicated", async () => {
    const ledger = await fixedAction();
    // The owner put the egress rule back (with a new id) and added one of their own since.
    const back = { ...OUT_V4, SecurityGroupRuleId: "sgr-0ffffffffffff0002" };
    liveRules([OUT_V6, back]);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.steps).toContain("already present: egress all traffic to 0.0.0.0/0");
    expect(ec2.commandCalls(AuthorizeSecurityGroupEgressCommand)).toEqual([]);
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(2);
  });

  it("everything back already: nothing written, recorded as already restored", async () => {
    const ledger = await fixedAction();
    liveRules(LIVE_RULES.map((rule) => ({ ...rule, SecurityGroupRuleId: `${rule.SecurityGroupRuleId}f` })));
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.outcome).toBe("skipped");
    expect(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)).toEqual([]);
    expect(ec2.commandCalls(AuthorizeSecurityGroupEgressCommand)).toEqual([]);
  });

  describe("refuses a record no fix of this problem writes", () => {
    async function recorded(): Promise<LedgerRecord & { before: NonNullable<LedgerRecord["before"]> }> {
      const ledger = await fixedAction();
      return (await ledger.read(ACTION_ID)) as LedgerRecord & { before: NonNullable<LedgerRecord["before"]> };
    }
    type Tamper = (record: Json) => void;

    it.each<[string, Tamper, string]>([
      [
        "a group that is not a default group",
        (r) => {
          r.before.groupName = "web";
        },
        'its before-state is of group "web", not a VPC\'s default group',
      ],
      [
        "a before-state that does not say which group",
        (r) => {
          delete r.before.groupName;
        },
        "its before-state is of group null, not a VPC's default group",
      ],
      [
        "a rule of another group",
        (r) => {
          r.before.rules[0].GroupId = "sg-0ffffffffffffffff";
        },
        "belongs to security group sg-0ffffffffffffffff",
      ],
      [
        "a rule with two peers",
        (r) => {
          r.before.rules[1].CidrIpv6 = "::/0";
        },
        "cannot be read as one rule",
      ],
      [
        "rules re-authorized that the change did not revoke",
        (r) => {
          r.changes[0].rules.pop();
        },
        "are not the rules its change revoked",
      ],
      [
        "a change of the other problem",
        (r) => {
          r.changes[0].kind = "sg-rules-revoked";
        },
        "are not the one sg-default-rules-revoked a fix makes",
      ],
      [
        "an after-state that still holds rules",
        (r) => {
          r.after.rules = [r.before.rules[0]];
        },
        "before − changes ≠ after",
      ],
    ])("%s", async (_, tamper, message) => {
      const record = structuredClone(await recorded()) as Json;
      tamper(record);
      expect(() => planUndo(record as LedgerRecord, live([]))).toThrow(UndoError);
      expect(() => planUndo(record as LedgerRecord, live([]))).toThrow(message);
    });
  });

  it("is the resource type's undo, which declares the egress call it now sends", () => {
    expect(undoFor("sg-rules").undo).toBe(sgRulesUndo);
    expect(undoFor("sg-rules").problems).toContain("sg-default-rules");
    expect(sgRulesUndo.permissions).toMatchObject({
      AuthorizeSecurityGroupIngressCommand: "ec2:AuthorizeSecurityGroupIngress",
      AuthorizeSecurityGroupEgressCommand: "ec2:AuthorizeSecurityGroupEgress",
    });
  });

  it("names restored ingress CIDR rules of a default group as sg-open-ingress entries too", () => {
    const restored = sgRulesUndo.restoredEntries!({
      kind: "sg-rules",
      groupId: GROUP,
      groupName: "default",
      rules: [{ ...OUT_V4, IsEgress: false, CidrIpv4: "0.0.0.0/0", IpProtocol: "tcp", FromPort: 22, ToPort: 22 }],
    });
    expect(restored.map((entry) => entry.problem)).toEqual(["sg-open-ingress", "sg-default-rules"]);
    // Of another group: only sg-open-ingress' (egress rules never are).
    expect(
      sgRulesUndo.restoredEntries!({ kind: "sg-rules", groupId: GROUP, rules: [OUT_V4] }).map((entry) => entry.problem),
    ).toEqual([]);
  });
});
