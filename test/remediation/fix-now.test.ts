// Fix now pressed in Slack, on the remediation's side: an instruction the coordinator dispatched before its grace
// period ended (an approver pressed Fix now) is fixed; a direct invoke without such a decision is still refused until
// due. The decision is read from the ledger bucket and re-checked (functions/remediation/fix-now.ts).
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { DecisionRecord } from "../../contract/decisions.ts";
import { type Instruction, instructionId } from "../../contract/instruction.ts";
import { memoryLedger } from "../../contract/ledger.ts";
import { fixNowPressedAt } from "../../functions/remediation/fix-now.ts";
import type { RemediationDeps } from "../../functions/remediation/runner.ts";
import { parseApproverSettingsJson } from "../../platform/approvers.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { memoryBucket } from "../interactions/support.ts";
import { remediate } from "../support/remediate.ts";
import {
  ACCOUNT,
  ACTION_ID,
  DLQ_URL,
  deployedDeps,
  GROUP_ID,
  instructionFor,
  REGION,
  recordingReporter,
  requestFor,
  SG_RULES,
  SSH_V4,
  T0,
  testSigner,
} from "./support.ts";

const s3Mock = mockClient(S3Client);
const ec2Mock = mockClient(EC2Client);
const sqsMock = mockClient(SQSClient);
afterAll(() => {
  for (const mock of [s3Mock, ec2Mock, sqsMock]) mock.restore();
});

const ALICE = "U0ALICE001";
const MALLORY = "U0MALLORY1";
const BUCKET = "remedy-ledger-test";
const APPROVERS = parseApproverSettingsJson(
  JSON.stringify({ approvers: { fixNow: [{ users: [ALICE] }], snooze: [{ users: [ALICE] }] } }),
);
/** In its grace period at T0 (10:28:19): captured at 10:00, due at 11:00. */
const INSTRUCTION: Instruction = {
  ...instructionFor("sg-open-ingress", [SSH_V4]),
  notBefore: "2026-11-20T11:00:00.000Z",
};

function decision(action: "fix-now" | "snooze", at: string, user = ALICE): DecisionRecord {
  return {
    version: 1,
    decisionId: (action === "fix-now" ? "a" : "b").repeat(64),
    action,
    target: { instructionId: INSTRUCTION.id },
    by: { slackUserId: user, teamId: "T0TEAM0001" },
    at,
  };
}

describe("fixNowPressedAt: the decision as the coordinator honours it", () => {
  let bucket: ReturnType<typeof memoryBucket>;
  beforeEach(() => {
    s3Mock.reset();
    bucket = memoryBucket(s3Mock);
  });
  const pressedAt = () => fixNowPressedAt(new S3Client({ region: REGION }), BUCKET, APPROVERS, INSTRUCTION);
  const put = (record: DecisionRecord) => bucket.put(`decisions/${INSTRUCTION.id}/${record.action}.json`, record);

  it("an approver's Fix now about this detection: when it was pressed", async () => {
    put(decision("fix-now", "2026-11-20T10:20:00.000Z"));
    expect(await pressedAt()).toBe(Date.parse("2026-11-20T10:20:00.000Z"));
  });

  it("none, not an approver's, an earlier detection's, or followed by a Snooze: none stands", async () => {
    expect(await pressedAt()).toBeUndefined();
    put(decision("fix-now", "2026-11-20T10:20:00.000Z", MALLORY));
    expect(await pressedAt()).toBeUndefined();
    put(decision("fix-now", "2026-11-20T09:59:59.000Z"));
    expect(await pressedAt()).toBeUndefined();
    put(decision("fix-now", "2026-11-20T10:20:00.000Z"));
    put(decision("snooze", "2026-11-20T10:21:00.000Z"));
    expect(await pressedAt()).toBeUndefined();
  });
});

describe("the runner: an instruction in its grace period", () => {
  beforeEach(() => {
    for (const mock of [ec2Mock, sqsMock]) mock.reset();
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP_ID, Tags: [] }] });
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    sqsMock.on(DeleteMessageCommand).resolves({});
  });

  async function run(fixNowAt?: RemediationDeps["fixNowAt"], instruction: Instruction = INSTRUCTION) {
    const asked: string[] = [];
    const result = await remediate("remediate-sg", requestFor(instruction), {
      ...deployedDeps(),
      protectedBuckets: [],
      sqs: new SQSClient({ region: REGION }),
      ledger: memoryLedger(testSigner()),
      reporter: recordingReporter(),
      deadLetterQueueUrl: DLQ_URL,
      allowlist: [],
      now: () => T0,
      log: recordingLog(),
      newActionId: () => ACTION_ID,
      ec2: new EC2Client({ region: REGION }),
      ...(fixNowAt
        ? {
            fixNowAt: async (instruction: Instruction) => {
              asked.push(instruction.id);
              return fixNowAt(instruction);
            },
          }
        : {}),
    });
    return { result, asked };
  }

  it("with Fix now pressed: fixed", async () => {
    const { result, asked } = await run(async () => Date.parse("2026-11-20T10:20:00.000Z"));
    expect(result).toMatchObject({ status: "fixed" });
    expect(asked).toEqual([INSTRUCTION.id]);
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
  });

  it("without it (a direct invoke skipping the grace period): refused until due, nothing changed", async () => {
    // Without Slack: refused as ever.
    expect((await run(undefined)).result).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/is not due until/),
    });
    // With Slack and no Fix now standing (a Snooze pressed since the coordinator looked): left alone, the message
    // untouched, so the coordinator hides it until due again instead of the instruction being dropped.
    sqsMock.resetHistory();
    expect((await run(async () => undefined)).result).toMatchObject({
      status: "held",
      reason: expect.stringMatching(/is not due until .* and no Fix now stands/),
    });
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toEqual([]);
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand)).toEqual([]);
  });

  it("refused for another reason than the grace period: no decision is read", async () => {
    const moved = { ...INSTRUCTION, resource: { ...INSTRUCTION.resource, accountId: "999999999999" } };
    const foreign = { ...moved, id: instructionId(moved) };
    const { result, asked } = await run(async () => Date.parse("2026-11-20T10:31:00.000Z"), foreign);
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/^refused: /) });
    expect(asked).toEqual([]);
  });

  it("decisions unreadable for a permanent reason (AccessDenied): still kept for a retry, never dead-lettered", async () => {
    const { result } = await run(async () => {
      throw Object.assign(new Error("denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    });
    expect(result).toMatchObject({ status: "failed", kind: "transient" });
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toEqual([]);
  });

  it("decisions unreadable: nothing changed, the message kept for a retry", async () => {
    const { result } = await run(async () => {
      throw Object.assign(new Error("slow down"), { name: "SlowDown", $metadata: { httpStatusCode: 503 } });
    });
    expect(result).toMatchObject({ status: "failed" });
    expect(ec2Mock.commandCalls(RevokeSecurityGroupIngressCommand)).toEqual([]);
    expect(sqsMock.commandCalls(DeleteMessageCommand)).toEqual([]);
  });

  it("due already: the decisions are not read", async () => {
    const due = { ...INSTRUCTION, notBefore: INSTRUCTION.capturedAt };
    const asked: string[] = [];
    const result = await remediate("remediate-sg", requestFor(due), {
      ...deployedDeps(),
      protectedBuckets: [],
      sqs: new SQSClient({ region: REGION }),
      ledger: memoryLedger(testSigner()),
      reporter: recordingReporter(),
      deadLetterQueueUrl: DLQ_URL,
      allowlist: [],
      now: () => T0,
      log: recordingLog(),
      newActionId: () => ACTION_ID,
      ec2: new EC2Client({ region: REGION }),
      fixNowAt: async (instruction) => {
        asked.push(instruction.id);
        return undefined;
      },
    });
    expect(result).toMatchObject({ status: "fixed" });
    expect(asked).toEqual([]);
    expect(ACCOUNT).toBe(INSTRUCTION.resource.accountId);
  });
});
