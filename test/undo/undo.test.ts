import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import {
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  type GetBucketAclCommandOutput,
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
import { describeUndo, kmsRecordVerifier, planUndo, UndoError, undoAction } from "../../cli/undo-runner.ts";
import { integrityMessage, type LedgerRecord, memoryLedger } from "../../contract/ledger.ts";
import type { BucketLive } from "../../problems/s3-public/undo.ts";
import type { SgRulesLive } from "../../problems/sg-open-ingress/undo.ts";
import type { S3FixStrategy } from "../../problems/words.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  ACCOUNT,
  ACTION_ID,
  AUTHENTICATED_GRANT,
  awsError,
  BUCKET,
  DENY_INSECURE,
  DLQ_URL,
  deployedDeps,
  fakeVerifyMac,
  GRANTS,
  GROUP_ID,
  instructionFor,
  LOG_DELIVERY,
  OWNER,
  PARTNER_READ,
  POLICY_TEXT,
  PUBLIC_READ,
  PUBLIC_READ_GRANT,
  PUBLIC_STATEMENT,
  recordingReporter,
  requestFor,
  SG_RULES,
  SSH_V4,
  SSH_V6,
  signRecord,
  T0,
  TEST_MAC_KEY_ID,
  testSigner,
} from "../remediation/support.ts";
import { remediate } from "../support/remediate.ts";

const ec2Mock = mockClient(EC2Client);
const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
const kmsMock = mockClient(KMSClient);
beforeEach(() => {
  ec2Mock.reset();
  s3Mock.reset();
  sqsMock.reset();
  kmsMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
});
afterAll(() => {
  ec2Mock.restore();
  s3Mock.restore();
  sqsMock.restore();
  kmsMock.restore();
});

const UNDO_ID = "act-20261120T120000Z-0000cafe";
const TARGET = { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT };

/** Undo as the operator runs it: verifies with the stack's MAC key, writes its own records unsigned. */
function undoDeps(ledger: ReturnType<typeof memoryLedger> = memoryLedger()) {
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

function runnerDeps(ledger: ReturnType<typeof memoryLedger>) {
  return {
    ...deployedDeps(),
    protectedBuckets: [],
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

/** The group as the SG fix leaves it: without the two revoked rules. */
const SG_LIVE_AFTER: SgRulesLive = {
  kind: "sg-rules",
  groupId: GROUP_ID,
  rules: SG_RULES.filter((rule) => !["sgr-0ssh4", "sgr-0ssh6"].includes(rule.SecurityGroupRuleId!)),
};

/** Runs the real SG remediation into a memory ledger that signs (as the remediation role does), then shows the
 * group without the revoked rules. */
async function fixedSgAction() {
  const ledger = memoryLedger(testSigner());
  ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP_ID, Tags: [] }] });
  ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
  ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4, SSH_V6])), {
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
  options: { policy?: string; changeFails?: Error } = {},
) {
  const ledger = memoryLedger(testSigner());
  s3Mock.reset();
  s3Mock.on(GetBucketTaggingCommand).rejects(awsError("NoSuchTagSet", 404));
  s3Mock.on(GetBucketOwnershipControlsCommand).rejects(awsError("OwnershipControlsNotFoundError", 404));
  s3Mock.on(GetBucketAclCommand).resolves({ Owner: OWNER, Grants: GRANTS });
  s3Mock.on(GetBucketPolicyCommand).resolves({ Policy: options.policy ?? POLICY_TEXT });
  if (block) s3Mock.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: block });
  else s3Mock.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  if (options.changeFails) {
    s3Mock.on(PutBucketAclCommand).rejects(options.changeFails);
    s3Mock.on(PutBucketPolicyCommand).rejects(options.changeFails);
    s3Mock.on(DeleteBucketPolicyCommand).rejects(options.changeFails);
  }
  const result = await remediate("remediate-s3", requestFor(instruction), {
    ...runnerDeps(ledger),
    s3: new S3Client({}),
    strategy,
  });
  expect(result).toMatchObject(options.changeFails ? { status: "failed", changeAttempted: true } : { status: "fixed" });
  s3Mock.reset();
  return ledger;
}

/** The live bucket as S3 answers undo's reads (each only for the record's account, as ExpectedBucketOwner). */
function liveBucket(state: Pick<Bucket, "acl" | "policy" | "publicAccessBlock"> & { aclsDisabled?: boolean }) {
  s3Mock.on(GetBucketOwnershipControlsCommand, TARGET).resolves({
    OwnershipControls: {
      Rules: [{ ObjectOwnership: state.aclsDisabled ? "BucketOwnerEnforced" : "BucketOwnerPreferred" }],
    },
  });
  s3Mock.on(GetBucketAclCommand, TARGET).resolves(structuredClone(state.acl) as GetBucketAclCommandOutput);
  if (state.policy === null) s3Mock.on(GetBucketPolicyCommand, TARGET).rejects(awsError("NoSuchBucketPolicy", 404));
  else s3Mock.on(GetBucketPolicyCommand, TARGET).resolves({ Policy: state.policy });
  if (state.publicAccessBlock === null) {
    s3Mock.on(GetPublicAccessBlockCommand, TARGET).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  } else {
    s3Mock
      .on(GetPublicAccessBlockCommand, TARGET)
      .resolves({ PublicAccessBlockConfiguration: structuredClone(state.publicAccessBlock) });
  }
  s3Mock.on(PutBucketAclCommand).resolves({});
  s3Mock.on(PutBucketPolicyCommand).resolves({});
  s3Mock.on(PutPublicAccessBlockCommand).resolves({});
  s3Mock.on(DeletePublicAccessBlockCommand).resolves({});
}

/** The bucket as the fix left it (its after-state, else its before-state), changed by `change`. */
async function liveAsLeft(ledger: ReturnType<typeof memoryLedger>, change: (state: Bucket) => void = () => {}) {
  const record = await ledger.read(ACTION_ID);
  const state = structuredClone((record.after ?? record.before) as Bucket);
  change(state);
  liveBucket(state);
  return { kind: "s3-bucket", state } satisfies BucketLive;
}

/** The policy text a fix of POLICY_TEXT leaves (PublicRead removed, as remediate-s3 writes it). */
const POLICY_AFTER = { Version: "2012-10-17", Id: "acme-data-policy", Statement: [DENY_INSECURE, PARTNER_READ] };
const ALL_USERS_READ = GRANTS[1]!;
const AUTHENTICATED_READ_ACP = GRANTS[3]!;
/** The grants a fix of GRANTS leaves when it removes AllUsers READ. */
const GRANTS_AFTER = GRANTS.filter((_, index) => index !== 1);

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
    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), SG_LIVE_AFTER));
    expect(text).toContain(`Undo ${ACTION_ID} (sg-open-ingress`);
    expect(text).toContain(`re-authorize 2 ingress rules on ${GROUP_ID}`);
    expect(text).toContain('+ tcp 22 from 0.0.0.0/0 "ssh from anywhere (temporary)"');
    expect(text).toContain('+ tcp 22 from ::/0 "ssh v6"');
  });
});

describe("undo: buckets", () => {
  // Formerly "puts back the exact ACL" (the whole before-state ACL): now the removed grant is appended to the live ACL.
  it("re-adds the removed grant to the live ACL, keeping its owner and every grant in it", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null);
    await liveAsLeft(ledger);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result).toMatchObject({ outcome: "fixed", steps: ["re-added grant: AllUsers READ"] });
    expect(s3Mock).toHaveReceivedCommandWith(GetBucketAclCommand, TARGET);
    expect(s3Mock.commandCalls(PutBucketAclCommand).map((call) => call.args[0].input)).toEqual([
      { ...TARGET, AccessControlPolicy: { Owner: OWNER, Grants: [...GRANTS_AFTER, ALL_USERS_READ] } },
    ]);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
    expect(s3Mock).not.toHaveReceivedCommand(DeletePublicAccessBlockCommand);
  });

  // Formerly "restores the parts its planned changes name": it still touches only that part, and only what is gone.
  it("an unfinished fix (no after-state) re-adds only what is gone live, in the part its planned change names", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null);
    const original = await ledger.read(ACTION_ID);
    await ledger.write({ ...original, outcome: "failed", after: null, reason: "transient: InternalError" });
    // The change did not happen: the grant is still there, nothing is written.
    await liveAsLeft(ledger);
    const untouched = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(untouched).toMatchObject({ outcome: "skipped", steps: ["already present: AllUsers READ"] });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    // It did happen: the grant goes back on the ACL as it is live.
    s3Mock.reset();
    await liveAsLeft(ledger, (state) => {
      state.acl.Grants = GRANTS_AFTER;
    });
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketAclCommand)[0]!.args[0].input).toEqual({
      ...TARGET,
      AccessControlPolicy: { Owner: OWNER, Grants: [...GRANTS_AFTER, ALL_USERS_READ] },
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
  });

  // Formerly "puts back the exact policy text (whitespace and all)": the removed statement is appended to the live
  // policy instead, as remediate-s3 writes policies (compact JSON, every other key kept).
  it("re-adds the removed statement to the live policy, keeping its Version, Id and every statement", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null);
    await liveAsLeft(ledger);
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketPolicyCommand).map((call) => call.args[0].input)).toEqual([
      { ...TARGET, Policy: JSON.stringify({ ...POLICY_AFTER, Statement: [DENY_INSECURE, PARTNER_READ, PUBLIC_READ] }) },
    ]);
    expect(s3Mock).toHaveReceivedCommandWith(GetBucketPolicyCommand, TARGET);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
  });

  it("turns off only the Block Public Access flags the fix turned on, or removes the configuration it created", async () => {
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
    await liveAsLeft(ledger);
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
    const live = await liveAsLeft(none);
    expect(describeUndo(planUndo(await none.read(ACTION_ID), live))).toContain(
      "remove the Block Public Access configuration of acme-data: it had none before the fix",
    );
    await undoAction(ACTION_ID, undoDeps(none));
    expect(s3Mock).toHaveReceivedCommandWith(DeletePublicAccessBlockCommand, TARGET);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
  });

  it("refuses a record whose fix would have added a policy where there was none (before − changes ≠ after)", async () => {
    // Formerly undone by deleting the policy: no remediation adds a policy, so such a record is not Remedy's.
    const ledger = memoryLedger(testSigner());
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
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(
      /is inconsistent, so it is not undone: its changes \(none\) are not the one bucket change a fix makes/,
    );
    expect(s3Mock.calls()).toHaveLength(0);
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
    "undoes a %s fix (its change may have happened) against the live state, and says so first",
    async (outcome) => {
      const ledger = await fixedSgAction();
      const original = await ledger.read(ACTION_ID);
      const unfinished = { ...original, outcome, after: null, reason: "TimeoutError: answer lost" };
      await ledger.write(unfinished);
      expect(describeUndo(planUndo(unfinished, SG_LIVE_AFTER))).toMatch(
        /did not finish: its change may or may not have happened/,
      );
      const result = await undoAction(ACTION_ID, undoDeps(ledger));
      expect(result).toMatchObject({ undoes: ACTION_ID });
      expect(ec2Mock).toHaveReceivedCommand(AuthorizeSecurityGroupIngressCommand);
      // Formerly before: null (unknown); the undo's before-state is now what it read: none of the rules there.
      expect(await ledger.read(result.actionId)).toMatchObject({
        undoes: ACTION_ID,
        before: { kind: "sg-rules", groupId: GROUP_ID, rules: [] },
      });
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

// ---------------------------------------------------------------------------------------------------------------
// Tampered ledger: whoever can write to the ledger bucket must not be able to make undo open anything.

type Base = "sg" | "acl" | "policy" | "block";

/** A genuine record of each kind, produced by the real remediation run into a signing memory ledger. */
async function genuine(base: Base): Promise<LedgerRecord> {
  const ledger =
    base === "sg"
      ? await fixedSgAction()
      : base === "acl"
        ? await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null)
        : base === "policy"
          ? await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null)
          : await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "block-public-access", {
              BlockPublicAcls: true,
            });
  ec2Mock.reset();
  s3Mock.reset();
  return ledger.read(ACTION_ID);
}

/** Stores `record` as given (no signer: what someone with write access to the bucket can do). */
async function planted(record: LedgerRecord) {
  const ledger = memoryLedger();
  await ledger.write(record);
  return ledger;
}

function expectNothingSent() {
  expect(ec2Mock.calls()).toHaveLength(0);
  expect(s3Mock.calls()).toHaveLength(0);
}

type Sg = Extract<LedgerRecord["before"] & {}, { kind: "sg-rules" }>;
type Bucket = Extract<LedgerRecord["before"] & {}, { kind: "s3-bucket" }>;
const sgBefore = (record: LedgerRecord) => record.before as Sg;
const bucketAfter = (record: LedgerRecord) => record.after as Bucket;
const change = <K extends LedgerRecord["changes"][number]["kind"]>(record: LedgerRecord, _kind: K) =>
  record.changes[0] as Extract<LedgerRecord["changes"][number], { kind: K }>;
const OTHER_GROUP = "sg-0fffffffffffffff0";

describe("undo: tampered ledger records (integrity)", () => {
  it("refuses a record without integrity, before anything is sent", async () => {
    const { integrity: _integrity, ...unsigned } = await genuine("sg");
    const ledger = await planted(unsigned);
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(
      new UndoError(`${ACTION_ID} carries no integrity MAC, so nothing shows that Remedy wrote it; it is not undone`),
    );
    expectNothingSent();
    expect(ledger.writes).toHaveLength(1);
  });

  it("refuses a record changed after it was signed (FromPort 22 → 3389), before anything is sent", async () => {
    const record = await genuine("sg");
    sgBefore(record).rules[0]!.FromPort = 3389;
    sgBefore(record).rules[0]!.ToPort = 3389;
    // Consistent again, so only the MAC can tell.
    change(record, "sg-rules-revoked").rules[0]!.fromPort = 3389;
    change(record, "sg-rules-revoked").rules[0]!.toPort = 3389;
    const ledger = await planted(record);
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(/does not match its integrity MAC/);
    expectNothingSent();
  });

  it("refuses a record signed with another key than the stack's, or with another secret under the stack's key id", async () => {
    const record = await genuine("sg");
    const otherKey = await planted(await signRecord(record, testSigner("attacker", "arn:aws:kms:us-east-1:999:key/x")));
    await expect(undoAction(ACTION_ID, undoDeps(otherKey))).rejects.toThrow(
      /is signed with key arn:aws:kms:us-east-1:999:key\/x, not the stack's ledger MAC key/,
    );
    const otherSecret = await planted(await signRecord(record, testSigner("attacker")));
    await expect(undoAction(ACTION_ID, undoDeps(otherSecret))).rejects.toThrow(/does not match its integrity MAC/);
    expectNothingSent();
  });

  it("a record's MAC covers its canonical JSON: key order does not matter, every value does", async () => {
    const record = await genuine("policy");
    const signer = testSigner();
    const reverseKeys = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reverseKeys)
        : value !== null && typeof value === "object"
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([key, child]) => [key, reverseKeys(child)]),
            )
          : value;
    const reordered = reverseKeys(record) as LedgerRecord;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(record));
    expect(await signer.verify({ ...record, integrity: record.integrity! })).toBe(true);
    expect(await signer.verify({ ...reordered, integrity: record.integrity! })).toBe(true);
    expect(
      await signer.verify({ ...record, startedAt: "2026-11-20T10:28:18.000Z", integrity: record.integrity! }),
    ).toBe(false);
  });

  it("kmsRecordVerifier asks KMS VerifyMac with the record's key and digest; an invalid MAC is false, an unusable key refuses", async () => {
    const record = await genuine("sg");
    const signed = { ...record, integrity: record.integrity! };
    const verifier = kmsRecordVerifier(new KMSClient({}));
    kmsMock.on(VerifyMacCommand).callsFake(fakeVerifyMac);
    expect(await verifier.verify(signed)).toBe(true);
    expect(kmsMock).toHaveReceivedCommandWith(VerifyMacCommand, {
      KeyId: TEST_MAC_KEY_ID,
      MacAlgorithm: "HMAC_SHA_256",
      Message: integrityMessage(record),
      Mac: Buffer.from(signed.integrity.mac, "base64"),
    });
    expect(await verifier.verify({ ...signed, ruleId: "tampered" })).toBe(false);
    kmsMock.on(VerifyMacCommand).rejects(awsError("KMSInvalidMacException", 400));
    expect(await verifier.verify(signed)).toBe(false);
    kmsMock.on(VerifyMacCommand).rejects(awsError("NotFoundException", 400));
    await expect(verifier.verify(signed)).rejects.toThrow(UndoError);
  });

  it("undo's own records are not signed and can never be undone", async () => {
    const ledger = await fixedSgAction();
    await undoAction(ACTION_ID, undoDeps(ledger));
    const undoLedger = await planted(await ledger.read(UNDO_ID));
    await expect(undoAction(UNDO_ID, undoDeps(undoLedger))).rejects.toThrow(/is itself the undo of/);
  });
});

describe("undo: tampered ledger records (consistency)", () => {
  const cases: [string, Base, (record: LedgerRecord) => void, RegExp][] = [
    [
      "before-state for another security group",
      "sg",
      (record) => {
        sgBefore(record).groupId = OTHER_GROUP;
        for (const rule of sgBefore(record).rules) rule.GroupId = OTHER_GROUP;
        change(record, "sg-rules-revoked").groupId = OTHER_GROUP;
      },
      new RegExp(`its before-state is for security group ${OTHER_GROUP}, not its resource ${GROUP_ID}`),
    ],
    [
      "a before rule of another group",
      "sg",
      (record) => {
        sgBefore(record).rules[0]!.GroupId = OTHER_GROUP;
      },
      new RegExp(`before rule 1 .* belongs to security group ${OTHER_GROUP}`),
    ],
    [
      "an egress rule",
      "sg",
      (record) => {
        sgBefore(record).rules[0]!.IsEgress = true;
      },
      /is an egress rule/,
    ],
    [
      "a private-range rule",
      "sg",
      (record) => {
        sgBefore(record).rules[0]!.CidrIpv4 = "10.0.0.0/8";
        change(record, "sg-rules-revoked").rules[0]!.cidrIpv4 = "10.0.0.0/8";
      },
      /before rule 1 \(tcp 22 from 10\.0\.0\.0\/8 .*\) is not open to the internet/,
    ],
    [
      "a single-address rule",
      "sg",
      (record) => {
        sgBefore(record).rules[0]!.CidrIpv4 = "198.51.100.7/32";
        change(record, "sg-rules-revoked").rules[0]!.cidrIpv4 = "198.51.100.7/32";
      },
      /is not open to the internet/,
    ],
    [
      "a rule with two CIDRs",
      "sg",
      (record) => {
        sgBefore(record).rules[0]!.CidrIpv6 = "::/0";
      },
      /before rule 1 .* does not have exactly one CIDR/,
    ],
    [
      "before rules that are not the revoked ones (3389 re-opened where 22 was revoked)",
      "sg",
      (record) => {
        sgBefore(record).rules[0]!.FromPort = 3389;
        sgBefore(record).rules[0]!.ToPort = 3389;
      },
      /the rules it would re-authorize \(tcp 3389 3389 0\.0\.0\.0\/0; .*\) are not the rules its change revoked/,
    ],
    [
      "a second change",
      "sg",
      (record) => {
        record.changes.push({ kind: "restored", summary: "x" });
      },
      /its changes \(sg-rules-revoked, restored\) are not the one sg-rules-revoked a fix makes/,
    ],
    [
      "an after-state that still holds rules (before − changes ≠ after)",
      "sg",
      (record) => {
        (record.after as Sg).rules = [sgBefore(record).rules[0]!];
      },
      /its after-state is not .* without the revoked rules \(before − changes ≠ after\)/,
    ],
    [
      "a resource type that is not the before-state's kind",
      "sg",
      (record) => {
        record.resource.type = "AWS::S3::Bucket";
      },
      /its resource is an AWS::S3::Bucket, but its before-state holds security-group rules/,
    ],
    [
      "before-state for another bucket",
      "acl",
      (record) => {
        (record.before as Bucket).bucket = "other-bucket";
      },
      /its before-state is for bucket other-bucket, not its resource acme-data/,
    ],
    [
      "a grant that is not public (LogDelivery)",
      "acl",
      (record) => {
        change(record, "acl-grants-removed").grants = [
          { grantee: { type: "Group", uri: LOG_DELIVERY }, permission: "WRITE" },
        ];
      },
      /its change re-adds LogDelivery WRITE, a grant to someone other than AllUsers or AuthenticatedUsers/,
    ],
    [
      "a grant to a canonical user",
      "acl",
      (record) => {
        change(record, "acl-grants-removed").grants = [
          { grantee: { type: "CanonicalUser", id: "attacker-canonical-id" }, permission: "FULL_CONTROL" },
        ];
      },
      /re-adds attacker-canonical-id FULL_CONTROL, a grant to someone other than AllUsers or AuthenticatedUsers/,
    ],
    [
      "a public grant the before ACL did not hold",
      "acl",
      (record) => {
        change(record, "acl-grants-removed").grants.push({
          grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" },
          permission: "WRITE",
        });
      },
      /its change re-adds AllUsers WRITE, which the before ACL does not hold/,
    ],
    [
      "an after ACL missing more than the removed grants (before − changes ≠ after)",
      "acl",
      (record) => {
        bucketAfter(record).acl.Grants = bucketAfter(record).acl.Grants.slice(0, 1);
      },
      /before − changes ≠ after: ACL/,
    ],
    [
      "a Deny statement",
      "policy",
      (record) => {
        change(record, "policy-statements-removed").statements = [DENY_INSECURE];
      },
      /its change re-adds statement DenyInsecureTransport, a Deny statement; Remedy only removes public Allow statements/,
    ],
    [
      "an Allow statement that is not public",
      "policy",
      (record) => {
        change(record, "policy-statements-removed").statements = [PARTNER_READ];
      },
      /its change re-adds statement PartnerRead, which is not public in the before-state/,
    ],
    [
      "a public statement the before policy did not hold",
      "policy",
      (record) => {
        change(record, "policy-statements-removed").statements = [{ ...PUBLIC_READ, Action: "s3:*" }];
      },
      /its change re-adds statement PublicRead, which the before policy does not hold/,
    ],
    [
      "an after policy that is not the before policy without the removed statements",
      "policy",
      (record) => {
        bucketAfter(record).policy = JSON.stringify({ Version: "2012-10-17", Statement: [DENY_INSECURE] });
      },
      /before − changes ≠ after: policy/,
    ],
    [
      "a Block Public Access change that turned a flag off",
      "block",
      (record) => {
        change(record, "public-access-block-enabled").after.BlockPublicAcls = false;
      },
      /its change turned Block Public Access BlockPublicAcls off/,
    ],
    [
      "a Block Public Access after-state that is not the change's",
      "block",
      (record) => {
        bucketAfter(record).publicAccessBlock = { BlockPublicAcls: true };
      },
      /before − changes ≠ after: Block Public Access/,
    ],
  ];

  it.each(cases)("refuses a signed record with %s, and sends nothing", async (_name, base, tamper, message) => {
    const record = await genuine(base);
    tamper(record);
    // Signed after tampering (as by a remediation role gone wrong): only consistency can refuse it.
    const ledger = memoryLedger(testSigner());
    await ledger.write(record);
    const error = await undoAction(ACTION_ID, undoDeps(ledger)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UndoError);
    expect((error as Error).message).toMatch(new RegExp(`^${ACTION_ID} is inconsistent, so it is not undone: `));
    expect((error as Error).message).toMatch(message);
    expect(() => planUndo(record, SG_LIVE_AFTER)).toThrow(UndoError);
    expectNothingSent();
    expect(ledger.writes).toHaveLength(1);
  });
});

describe("undo: describeUndo shows exactly what is added to the live resource", () => {
  // Formerly "written back whole": the text now names what is appended to the live ACL, policy or configuration.
  it("ACL: every grant it re-adds by grantee and permission, and that the live ACL stays", async () => {
    const ledger = await fixedS3Action(
      instructionFor("s3-public-acl", [PUBLIC_READ_GRANT, AUTHENTICATED_GRANT]),
      "surgical",
      null,
    );
    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), await liveAsLeft(ledger)));
    expect(text).toContain(
      "  add to the live ACL of acme-data the 2 grants Remedy removed (its owner and its 3 grants stay as they are):\n" +
        "    + AllUsers READ\n" +
        "    + AuthenticatedUsers READ_ACP\n" +
        "This re-opens what Remedy closed",
    );
    expect(text).not.toContain("whole");
  });

  it("policy: the statements it re-adds themselves, as JSON, and that the live policy stays", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null);
    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), await liveAsLeft(ledger)));
    expect(text).toContain(
      [
        "  add to the live bucket policy of acme-data the 1 statement Remedy removed (its 2 statements, Version and Id stay as they are):",
        "    + {",
        '    +   "Sid": "PublicRead",',
        '    +   "Effect": "Allow",',
        '    +   "Principal": "*",',
        '    +   "Action": "s3:GetObject",',
        '    +   "Resource": "arn:aws:s3:::acme-data/*"',
        "    + }",
      ].join("\n"),
    );
    expect(text).not.toContain("DenyInsecureTransport");
    expect(text).not.toContain("whole");
  });

  it("Block Public Access: the flags it turns off, and what the configuration is left as", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "block-public-access", {
      BlockPublicAcls: true,
    });
    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), await liveAsLeft(ledger)));
    expect(text).toContain(
      "  turn off in the live Block Public Access of acme-data the 2 flags Remedy turned on: BlockPublicPolicy, RestrictPublicBuckets\n" +
        "  (every other flag stays as it is now), leaving BlockPublicAcls=true, IgnorePublicAcls=false, BlockPublicPolicy=false, RestrictPublicBuckets=false",
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Exactness: undo re-adds only what Remedy removed, against the live state; every later change stays.

const DENY_DELETE = {
  Sid: "DenyBucketDelete",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:DeleteBucket",
  Resource: "arn:aws:s3:::acme-data",
};
const PUBLIC_LIST = {
  Sid: "PublicList",
  Effect: "Allow",
  Principal: "*",
  Action: "s3:ListBucket",
  Resource: "arn:aws:s3:::acme-data",
};
const AUDITOR_GRANT = { Grantee: { Type: "CanonicalUser", ID: "auditor-canonical-id" }, Permission: "READ_ACP" };
const timeout = () =>
  Object.assign(new Error("Socket timed out without establishing a connection"), { name: "TimeoutError" });

describe("undo: re-adds only what Remedy removed; the owner's later changes stay", () => {
  it("policy: a Deny statement added since stays; the removed statement is appended after it", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null);
    await liveAsLeft(ledger, (state) => {
      state.policy = JSON.stringify({ ...POLICY_AFTER, Statement: [...POLICY_AFTER.Statement, DENY_DELETE] });
    });
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result).toMatchObject({
      outcome: "fixed",
      steps: ["re-added statement PublicRead to the live bucket policy"],
    });
    expect(s3Mock.commandCalls(PutBucketPolicyCommand).map((call) => call.args[0].input)).toEqual([
      {
        ...TARGET,
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Id: "acme-data-policy",
          Statement: [DENY_INSECURE, PARTNER_READ, DENY_DELETE, PUBLIC_READ],
        }),
      },
    ]);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
  });

  it("ACL: a grant added since stays, and so does the live owner; the removed grant is appended", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null);
    const newOwner = { ID: OWNER.ID, DisplayName: "acme-prod-renamed" };
    await liveAsLeft(ledger, (state) => {
      state.acl = { Owner: newOwner, Grants: [...GRANTS_AFTER, AUDITOR_GRANT] };
    });
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketAclCommand).map((call) => call.args[0].input)).toEqual([
      { ...TARGET, AccessControlPolicy: { Owner: newOwner, Grants: [...GRANTS_AFTER, AUDITOR_GRANT, ALL_USERS_READ] } },
    ]);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
  });

  it("security group: a rule added since stays, and a revoked rule that exists again is reported, not re-added", async () => {
    const ledger = await fixedSgAction();
    const added = {
      SecurityGroupRuleId: "sgr-0new8443",
      GroupId: GROUP_ID,
      IsEgress: false,
      IpProtocol: "tcp",
      FromPort: 8443,
      ToPort: 8443,
      CidrIpv4: "198.51.100.0/24",
    };
    const ssh6Again = { ...SG_RULES[1]!, SecurityGroupRuleId: "sgr-0ssh6-again" };
    const live: SgRulesLive = {
      kind: "sg-rules",
      groupId: GROUP_ID,
      rules: [...SG_LIVE_AFTER.rules, ssh6Again, added],
    };
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: live.rules });

    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), live));
    expect(text).toContain(
      `  re-authorize 1 ingress rule on ${GROUP_ID} (every other rule of the group stays as it is):\n` +
        '    + tcp 22 from 0.0.0.0/0 "ssh from anywhere (temporary)"\n' +
        '  already present: tcp 22 from ::/0 "ssh v6"',
    );
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.steps).toEqual([
      're-authorized: tcp 22 from 0.0.0.0/0 "ssh from anywhere (temporary)"',
      'already present: tcp 22 from ::/0 "ssh v6"',
    ]);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand).map((call) => call.args[0].input)).toEqual([
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
    ]);
    expect(ec2Mock).not.toHaveReceivedCommand(RevokeSecurityGroupIngressCommand);
  });

  it("Block Public Access: only the flags Remedy turned on go off; flags the owner turned on or off since stay", async () => {
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
    const change = (await ledger.read(ACTION_ID)).changes[0];
    expect(change).toMatchObject({ after: { BlockPublicPolicy: true, RestrictPublicBuckets: true } });
    // Since the fix the owner turned BlockPublicAcls off and IgnorePublicAcls on (neither is Remedy's), and one of
    // Remedy's flags, RestrictPublicBuckets, off already.
    await liveAsLeft(ledger, (state) => {
      state.publicAccessBlock = {
        BlockPublicAcls: false,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: false,
      };
    });
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result).toMatchObject({
      outcome: "fixed",
      steps: ["turned off again: BlockPublicPolicy", "already off: RestrictPublicBuckets"],
    });
    expect(s3Mock.commandCalls(PutPublicAccessBlockCommand).map((call) => call.args[0].input)).toEqual([
      {
        ...TARGET,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: false,
          IgnorePublicAcls: true,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
      },
    ]);
    expect(s3Mock).not.toHaveReceivedCommand(DeletePublicAccessBlockCommand);
  });

  it("an entry that is there again is reported and not duplicated; the rest goes back", async () => {
    const ledger = await fixedS3Action(
      instructionFor("s3-public-acl", [PUBLIC_READ_GRANT, AUTHENTICATED_GRANT]),
      "surgical",
      null,
    );
    const leftByFix = GRANTS.filter((_, index) => index !== 1 && index !== 3);
    // The owner put AllUsers READ back by hand (S3 spells the group's URI the same).
    await liveAsLeft(ledger, (state) => {
      state.acl.Grants = [...leftByFix, ALL_USERS_READ];
    });
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.steps).toEqual(["re-added grant: AuthenticatedUsers READ_ACP", "already present: AllUsers READ"]);
    expect(s3Mock.commandCalls(PutBucketAclCommand).map((call) => call.args[0].input)).toEqual([
      {
        ...TARGET,
        AccessControlPolicy: { Owner: OWNER, Grants: [...leftByFix, ALL_USERS_READ, AUTHENTICATED_READ_ACP] },
      },
    ]);
  });

  it("everything there again: said so, nothing written, recorded as already restored", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null);
    const live = await liveAsLeft(ledger, (state) => {
      state.policy = POLICY_TEXT;
    });
    const text = describeUndo(planUndo(await ledger.read(ACTION_ID), live));
    expect(text).toContain(
      "  nothing to re-add: every statement Remedy removed is in the live policy of acme-data again\n" +
        "  already present: statement PublicRead",
    );
    expect(text).not.toContain("This re-opens");
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result).toMatchObject({ outcome: "skipped", steps: ["already present: statement PublicRead"] });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect((await ledger.read(UNDO_ID)).reason).toBe(
      `already restored: undo of ${ACTION_ID}: already present: statement PublicRead`,
    );
  });

  it("no live policy: a policy of just the removed statements, with the Version and Id it had before", async () => {
    const onlyPublic = JSON.stringify({ Version: "2012-10-17", Id: "only-public", Statement: [PUBLIC_READ] }, null, 2);
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null, {
      policy: onlyPublic,
    });
    expect((await ledger.read(ACTION_ID)).changes[0]).toMatchObject({ policyDeleted: true });
    const live = await liveAsLeft(ledger);
    expect(describeUndo(planUndo(await ledger.read(ACTION_ID), live))).toContain(
      "  create a bucket policy on acme-data (it has none now) of just the 1 statement Remedy removed, with the Version 2012-10-17 and Id only-public it had before the fix:",
    );
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketPolicyCommand).map((call) => call.args[0].input)).toEqual([
      { ...TARGET, Policy: JSON.stringify({ Version: "2012-10-17", Id: "only-public", Statement: [PUBLIC_READ] }) },
    ]);

    // A policy the owner wrote since: the statement is added to it, its own Version (and no Id) kept.
    s3Mock.reset();
    const ownerPolicy = { Version: "2008-10-17", Statement: [DENY_DELETE] };
    await liveAsLeft(ledger, (state) => {
      state.policy = JSON.stringify(ownerPolicy);
    });
    await undoAction(ACTION_ID, undoDeps(ledger));
    expect(s3Mock.commandCalls(PutBucketPolicyCommand)[0]!.args[0].input).toEqual({
      ...TARGET,
      Policy: JSON.stringify({ Version: "2008-10-17", Statement: [DENY_DELETE, PUBLIC_READ] }),
    });
  });
});

describe("undo: a fix that failed after its change call", () => {
  it("keeps its planned change in the failed record, and is undone against the live state", async () => {
    // PutBucketPolicy timed out: S3 may or may not have applied it.
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null, {
      changeFails: timeout(),
    });
    const record = await ledger.read(ACTION_ID);
    expect(record).toMatchObject({
      outcome: "failed",
      after: null,
      changes: [{ kind: "policy-statements-removed", statements: [PUBLIC_READ], policyDeleted: false }],
    });

    // It was applied: the statement goes back, exactly.
    const applied = await liveAsLeft(ledger, (state) => {
      state.policy = JSON.stringify(POLICY_AFTER);
    });
    expect(describeUndo(planUndo(record, applied))).toMatch(/did not finish: its change may or may not have happened/);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.outcome).toBe("fixed");
    expect(s3Mock.commandCalls(PutBucketPolicyCommand).map((call) => call.args[0].input)).toEqual([
      { ...TARGET, Policy: JSON.stringify({ ...POLICY_AFTER, Statement: [DENY_INSECURE, PARTNER_READ, PUBLIC_READ] }) },
    ]);

    // It was not: nothing is missing, nothing is written.
    s3Mock.reset();
    await liveAsLeft(ledger);
    const again = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(again).toMatchObject({ outcome: "skipped", steps: ["already present: statement PublicRead"] });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
  });

  it("security group: a revoke that timed out is undone by re-authorizing only the rules that are gone", async () => {
    const ledger = memoryLedger(testSigner());
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP_ID, Tags: [] }] });
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
    ec2Mock.on(RevokeSecurityGroupIngressCommand).rejects(timeout());
    const run = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4, SSH_V6])), {
      ...runnerDeps(ledger),
      ec2: new EC2Client({}),
    });
    expect(run).toMatchObject({ status: "failed", changeAttempted: true });
    expect(await ledger.read(ACTION_ID)).toMatchObject({
      outcome: "failed",
      changes: [{ kind: "sg-rules-revoked", groupId: GROUP_ID }],
    });
    // EC2 revoked the v4 rule only before the answer was lost.
    ec2Mock.reset();
    ec2Mock
      .on(DescribeSecurityGroupRulesCommand)
      .resolves({ SecurityGroupRules: SG_RULES.filter((rule) => rule.SecurityGroupRuleId !== "sgr-0ssh4") });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.steps).toEqual([
      're-authorized: tcp 22 from 0.0.0.0/0 "ssh from anywhere (temporary)"',
      'already present: tcp 22 from ::/0 "ssh v6"',
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(AuthorizeSecurityGroupIngressCommand, 1);
  });
});

describe("undo: entries that conflict with the live state", () => {
  it("ACLs disabled on the bucket since: the grants are refused in one sentence, nothing is written", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null);
    const live = await liveAsLeft(ledger, (state) => {
      state.aclsDisabled = true;
      state.acl.Grants = [GRANTS[0]!];
    });
    const sentence =
      "ACLs are disabled on acme-data now (Object Ownership BucketOwnerEnforced), so the 1 grant Remedy removed (AllUsers READ) cannot be re-added; its ACL is left as it is.";
    expect(describeUndo(planUndo(await ledger.read(ACTION_ID), live))).toContain(`  conflict: ${sentence}`);
    await expect(undoAction(ACTION_ID, undoDeps(ledger))).rejects.toThrow(
      new UndoError(`${ACTION_ID} is not undone: ${sentence}`),
    );
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    expect(ledger.records.has(UNDO_ID)).toBe(false);
  });

  it("BlockPublicAcls or BlockPublicPolicy turned on since: S3 would reject the entries, so they are refused", async () => {
    const acl = await fixedS3Action(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT]), "surgical", null);
    await liveAsLeft(acl, (state) => {
      state.publicAccessBlock = { BlockPublicAcls: true };
    });
    await expect(undoAction(ACTION_ID, undoDeps(acl))).rejects.toThrow(
      /is not undone: Block Public Access BlockPublicAcls is on for acme-data now, so S3 would reject an ACL with the 1 public grant Remedy removed \(AllUsers READ\); they are not re-added/,
    );
    const policy = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null);
    await liveAsLeft(policy, (state) => {
      state.publicAccessBlock = { BlockPublicPolicy: true };
    });
    await expect(undoAction(ACTION_ID, undoDeps(policy))).rejects.toThrow(
      /is not undone: Block Public Access BlockPublicPolicy is on for acme-data now, so S3 would reject a policy with the 1 public statement Remedy removed \(statement PublicRead\)/,
    );
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
  });

  it("a different statement with the same Sid live: that statement is refused, not duplicated; the rest goes back", async () => {
    const twoPublic = JSON.stringify({ Version: "2012-10-17", Statement: [DENY_INSECURE, PUBLIC_READ, PUBLIC_LIST] });
    const ledger = await fixedS3Action(
      instructionFor("s3-public-policy", [PUBLIC_STATEMENT, { kind: "policy-statement", statement: PUBLIC_LIST }]),
      "surgical",
      null,
      { policy: twoPublic },
    );
    // The owner wrote their own "PublicRead" since: read for the partner account only.
    const ownRead = { ...PARTNER_READ, Sid: "PublicRead" };
    const live = await liveAsLeft(ledger, (state) => {
      state.policy = JSON.stringify({ Version: "2012-10-17", Statement: [DENY_INSECURE, ownRead] });
    });
    const sentence =
      "statement PublicRead is not re-added: the live policy of acme-data now holds a different statement with Sid PublicRead, and a policy cannot hold two statements with one Sid; that statement is left as it is.";
    expect(describeUndo(planUndo(await ledger.read(ACTION_ID), live))).toContain(`  conflict: ${sentence}`);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result).toMatchObject({
      outcome: "fixed",
      steps: ["re-added statement PublicList to the live bucket policy", `conflict: ${sentence}`],
    });
    expect(s3Mock.commandCalls(PutBucketPolicyCommand).map((call) => call.args[0].input)).toEqual([
      {
        ...TARGET,
        Policy: JSON.stringify({ Version: "2012-10-17", Statement: [DENY_INSECURE, ownRead, PUBLIC_LIST] }),
      },
    ]);
  });
});
