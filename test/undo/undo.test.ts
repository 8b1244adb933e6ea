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
import { integrityMessage, type LedgerRecord, memoryLedger } from "../../shared/ledger.ts";
import { describeUndo, kmsRecordVerifier, UndoError, undoAction } from "../../shared/undo.ts";
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

/** Runs the real SG remediation into a memory ledger that signs (as the remediation role does), then shows the
 * group without the revoked rules. */
async function fixedSgAction() {
  const ledger = memoryLedger(testSigner());
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
  const ledger = memoryLedger(testSigner());
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
    expect(() => describeUndo(record)).toThrow(UndoError);
    expectNothingSent();
    expect(ledger.writes).toHaveLength(1);
  });
});

describe("undo: describeUndo shows exactly what is added back", () => {
  it("ACL: written back whole, and every grant it re-adds by grantee and permission", async () => {
    const ledger = await fixedS3Action(
      instructionFor("s3-public-acl", [PUBLIC_READ_GRANT, AUTHENTICATED_GRANT]),
      "surgical",
      null,
    );
    const text = describeUndo(await ledger.read(ACTION_ID));
    expect(text).toContain(
      "  put back the ACL of acme-data exactly as it was (5 grants): the whole ACL is written back as it was before the fix.\n" +
        "  The 2 grants Remedy removed, which this re-adds:\n" +
        "    + AllUsers READ\n" +
        "    + AuthenticatedUsers READ_ACP\n",
    );
  });

  it("policy: written back whole, and the statements it re-adds themselves", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "surgical", null);
    const text = describeUndo(await ledger.read(ACTION_ID));
    expect(text).toContain(
      [
        "  put back the bucket policy of acme-data exactly as it was (3 statements): the whole policy is written back as it was before the fix.",
        "  The 1 statement Remedy removed, which this re-adds:",
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
  });

  it("Block Public Access: the flags it turns off", async () => {
    const ledger = await fixedS3Action(instructionFor("s3-public-policy", [PUBLIC_STATEMENT]), "block-public-access", {
      BlockPublicAcls: true,
    });
    const text = describeUndo(await ledger.read(ACTION_ID));
    expect(text).toContain(
      "  set Block Public Access of acme-data back to BlockPublicAcls=true, IgnorePublicAcls=false",
    );
    expect(text).toContain(
      "  This turns Block Public Access off for: IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets",
    );
  });
});
