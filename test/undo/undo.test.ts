import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import {
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { remediateBucket } from "../../functions/remediate-s3/core.ts";
import { remediateSecurityGroup } from "../../functions/remediate-sg/core.ts";
import type { S3FixStrategy } from "../../shared/describe.ts";
import { type LedgerRecord, memoryLedger } from "../../shared/ledger.ts";
import { describeUndo, UndoError, undoAction } from "../../shared/undo.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  ACCOUNT,
  ACTION_ID,
  awsError,
  BUCKET,
  DLQ_URL,
  GRANTS,
  GROUP_ID,
  instructionFor,
  OWNER,
  POLICY_TEXT,
  PUBLIC_READ,
  PUBLIC_READ_GRANT,
  PUBLIC_STATEMENT,
  recordingReporter,
  requestFor,
  SG_RULES,
  SSH_V4,
  SSH_V6,
  T0,
} from "../remediation/support.ts";

const ec2Mock = mockClient(EC2Client);
const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
beforeEach(() => {
  ec2Mock.reset();
  s3Mock.reset();
  sqsMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
});
afterAll(() => {
  ec2Mock.restore();
  s3Mock.restore();
  sqsMock.restore();
});

const UNDO_ID = "act-20261120T120000Z-0000cafe";
const TARGET = { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT };

function undoDeps(ledger = memoryLedger()) {
  return {
    ec2: new EC2Client({}),
    s3: new S3Client({}),
    ledger,
    now: () => new Date("2026-11-20T12:00:00.000Z"),
    log: recordingLog(),
    newActionId: () => UNDO_ID,
  };
}

function runnerDeps(ledger: ReturnType<typeof memoryLedger>) {
  return {
    sqs: new SQSClient({}),
    ledger,
    reporter: recordingReporter(),
    deadLetterQueueUrl: DLQ_URL,
    allowlist: [],
    now: () => T0,
    log: recordingLog(),
    newActionId: () => ACTION_ID,
  };
}

/** Runs the real SG remediation into a memory ledger, then shows the group without the revoked rules. */
async function fixedSgAction() {
  const ledger = memoryLedger();
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP_ID, Tags: [] }] });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
  ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  const result = await remediateSecurityGroup(requestFor(instructionFor("sg-open-ingress", [SSH_V4, SSH_V6])), {
    ...runnerDeps(ledger),
    ec2: new EC2Client({}),
  });
  expect(result.status).toBe("fixed");
  ec2Mock.reset();
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
    SecurityGroupRules: SG_RULES.filter((rule) => !["sgr-0ssh4", "sgr-0ssh6"].includes(rule.SecurityGroupRuleId!)),
  });
  ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  return ledger;
}

async function fixedS3Action(
  instruction: ReturnType<typeof instructionFor>,
  strategy: S3FixStrategy,
  block: object | null,
) {
  const ledger = memoryLedger();
  s3Mock.on(GetBucketTaggingCommand).rejects(awsError("NoSuchTagSet", 404));
  s3Mock.on(GetBucketOwnershipControlsCommand).rejects(awsError("OwnershipControlsNotFoundError", 404));
  s3Mock.on(GetBucketAclCommand).resolves({ Owner: OWNER, Grants: GRANTS });
  s3Mock.on(GetBucketPolicyCommand).resolves({ Policy: POLICY_TEXT });
  if (block) s3Mock.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: block });
  else s3Mock.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  const result = await remediateBucket(requestFor(instruction), {
    ...runnerDeps(ledger),
    s3: new S3Client({}),
    strategy,
  });
  expect(result.status).toBe("fixed");
  s3Mock.reset();
  return ledger;
}

describe("undo: security groups", () => {
  it("re-authorizes exactly the revoked entries with their descriptions and tags, and ledgers the undo", async () => {
    const ledger = await fixedSgAction();
    const result = await undoAction(ACTION_ID, undoDeps(ledger));

    expect(result).toMatchObject({ actionId: UNDO_ID, undoes: ACTION_ID, outcome: "fixed" });
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 2);
    const inputs = ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      {
        GroupId: GROUP_ID,
        IpPermissions: [
          {
            IpProtocol: "tcp",
            FromPort: 22,
            ToPort: 22,
            IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "ssh from anywhere (temporary)" }],
          },
        ],
      },
      {
        GroupId: GROUP_ID,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: "::/0", Description: "ssh v6" }] },
        ],
        TagSpecifications: [{ ResourceType: "security-group-rule", Tags: [{ Key: "ticket", Value: "OPS-1" }] }],
      },
    ]);
    const undo = await ledger.read(UNDO_ID);
    expect(undo).toMatchObject({
      outcome: "fixed",
      undoes: ACTION_ID,
      before: { kind: "sg-rules", rules: [] },
      after: { kind: "sg-rules", groupId: GROUP_ID },
      changes: [{ kind: "restored" }],
    });
    // The original record is left as it was.
    expect((await ledger.read(ACTION_ID)).outcome).toBe("fixed");
    expect((await ledger.read(ACTION_ID)).undoneBy).toBeUndefined();
  });

  it("undo twice does not fail: entries that exist live again are skipped", async () => {
    const ledger = await fixedSgAction();
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: [
        ...SG_RULES.map((rule) => ({ ...rule, SecurityGroupRuleId: `${rule.SecurityGroupRuleId}-new` })),
      ],
    });
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.outcome).toBe("skipped");
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
    expect((await ledger.read(UNDO_ID)).reason).toMatch(/^already restored/);
  });

  it("describeUndo lists what will be re-opened", async () => {
    const ledger = await fixedSgAction();
    const text = describeUndo(await ledger.read(ACTION_ID));
    expect(text).toContain(`Undo ${ACTION_ID} (sg-open-ingress`);
    expect(text).toContain(`re-authorize 2 ingress rules on ${GROUP_ID}`);
    expect(text).toContain('+ tcp 22 from 0.0.0.0/0 "ssh from anywhere (temporary)"');
    expect(text).toContain('+ tcp 22 from ::/0 "ssh v6"');
  });
});

describe("undo: buckets", () => {
  it("puts back the exact ACL", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null);
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketAclCommand)[0]!.args[0].input).toEqual({
      ...TARGET,
      AccessControlPolicy: { Owner: OWNER, Grants: GRANTS },
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
    expect(s3Mock).not.toHaveReceivedCommand(DeletePublicAccessBlockCommand);
  });

  it("an unfinished fix (no after-state) restores the parts its planned changes name, and only those", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null);
    const original = await ledger.read(ACTION_ID);
    await ledger.write({ ...original, outcome: "failed", after: null, reason: "transient: InternalError" });
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketAclCommand)[0]!.args[0].input).toEqual({
      ...TARGET,
      AccessControlPolicy: { Owner: OWNER, Grants: GRANTS },
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(DeleteBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
  });

  it("puts back the exact policy text (whitespace and all)", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null);
    expect(describeUndo(await ledger.read(ACTION_ID))).toContain(
      "put back the bucket policy of acme-data exactly as it was (3 statements)",
    );
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketPolicyCommand)[0]!.args[0].input).toEqual({ ...TARGET, Policy: POLICY_TEXT });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
  });

  it("puts back the exact Block Public Access configuration, or removes it when there was none", async () => {
    const previous = {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    const ledger = await fixedS3Action(
      instructionFor("s3-public-policy", [PUBLIC_STATEMENT]),
      "block-public-access",
      previous,
    );
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutPublicAccessBlockCommand)[0]!.args[0].input).toEqual({
      ...TARGET,
      PublicAccessBlockConfiguration: previous,
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);

    const none = await fixedS3Action(
      instructionFor("s3-public-policy", [PUBLIC_STATEMENT]),
      "block-public-access",
      null,
    );
    expect(describeUndo(await none.read(ACTION_ID))).toContain("remove the Block Public Access configuration");
    await undoAction(ACTION_ID, undoDeps(none));
    expect(s3Mock).toHaveReceivedCommandWith(DeletePublicAccessBlockCommand, TARGET);
  });

  it("deletes the policy when there was none before", async () => {
    const ledger = memoryLedger();
    const record: LedgerRecord = {
      version: 1,
      actionId: ACTION_ID,
      instructionId: "0123456789abcdef0123456789abcdef",
      problem: "s3-public-policy",
      resource: { type: "AWS::S3::Bucket", id: BUCKET, accountId: ACCOUNT, region: "us-east-1" },
      ruleId: "s3-public",
      outcome: "fixed",
      changes: [],
      before: {
        kind: "s3-bucket",
        bucket: BUCKET,
        aclsDisabled: true,
        acl: { Grants: [] },
        policy: null,
        publicAccessBlock: null,
      },
      after: {
        kind: "s3-bucket",
        bucket: BUCKET,
        aclsDisabled: true,
        acl: { Grants: [] },
        policy: JSON.stringify({ Statement: [PUBLIC_READ] }),
        publicAccessBlock: null,
      },
      startedAt: T0.toISOString(),
    };
    await ledger.write(record);
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock).toHaveReceivedCommandWith(DeleteBucketPolicyCommand, TARGET);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
  });
});

describe("undo: refusals", () => {
  it("refuses a skip, and a failure that never planned a change", async () => {
    const ledger = await fixedSgAction();
    const original = await ledger.read(ACTION_ID);
    for (const outcome of ["skipped", "failed"] as const) {
      await ledger.write({ ...original, outcome, reason: "because", changes: [], after: null });
      await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(UndoError);
      await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(
        new RegExp(`is ${outcome}: because; it changed nothing to undo`),
      );
    }
    expect(ec2Mock).not.toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
  });

  it.each(["pending", "failed"] as const)(
    "undoes a %s fix (its change may have happened) from the before-state, and says so first",
    async (outcome) => {
      const ledger = await fixedSgAction();
      const original = await ledger.read(ACTION_ID);
      const unfinished = { ...original, outcome, after: null, reason: "TimeoutError: answer lost" };
      await ledger.write(unfinished);
      expect(describeUndo(unfinished)).toMatch(/did not finish: its change may or may not have happened/);
      const result = await undoAction(ACTION_ID, undoDeps(ledger));
      expect(result).toMatchObject({ undoes: ACTION_ID });
      expect(ec2Mock).toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
      expect(await ledger.read(result.actionId)).toMatchObject({ undoes: ACTION_ID, before: null });
    },
  );

  it("refuses an undo record and an unknown action", async () => {
    const ledger = await fixedSgAction();
    await undoAction(ACTION_ID, undoDeps(ledger));
    await expect(undoAction(UNDO_ID, undoDeps(ledger))).rejects.toThrow(/is itself the undo of/);
    await expect(undoAction("act-20200101T000000Z-00000000", undoDeps(ledger))).rejects.toThrow(UndoError);
  });

  it("a failed restore is ledgered as failed and rethrown", async () => {
    const ledger = await fixedSgAction();
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).rejects(awsError("UnauthorizedOperation", 403));
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(/UnauthorizedOperation/);
    expect(await ledger.read(UNDO_ID)).toMatchObject({ outcome: "failed", undoes: ACTION_ID });
  });
});
