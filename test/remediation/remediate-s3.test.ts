import {
  DeleteBucketPolicyCommand,
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
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { FUNCTIONS } from "../../functions/registry.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { readS3FixSettings } from "../../problems/s3-public/fix.ts";
import type { S3FixStrategy } from "../../problems/words.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { remediate, type TestRemediationDeps } from "../support/remediate.ts";
import {
  ACCOUNT,
  ACTION_ID,
  AUTHENTICATED_GRANT,
  awsError,
  BUCKET,
  DENY_INSECURE,
  DLQ_URL,
  deployedDeps,
  deploymentEnv,
  GRANTS,
  instructionFor,
  OWNER,
  PARTNER_READ,
  POLICY_TEXT,
  PUBLIC_READ,
  PUBLIC_READ_GRANT,
  PUBLIC_STATEMENT,
  QUEUE_URL,
  recordingReporter,
  requestFor,
  SSH_V4,
  T0,
  testLedger,
} from "./support.ts";

const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
// The commands the current test sent (setup() resets the mocks, so it collects first): each test's own, checked
// against permissions.ts after it (expectDeclared), whatever ran before it.
const sent = new Set<string>();
function collectSent() {
  for (const call of [...s3Mock.calls(), ...sqsMock.calls()]) sent.add(call.args[0].constructor.name);
}
function expectDeclared() {
  collectSent();
  for (const command of sent)
    expect(Object.keys(FUNCTIONS["remediate-s3"].permissions), "declared (the runner's and the fix specs')").toContain(
      command,
    );
}
beforeEach(() => sent.clear());
afterEach(expectDeclared);
afterAll(() => {
  s3Mock.restore();
  sqsMock.restore();
});

const TARGET = { Bucket: BUCKET, ExpectedBucketOwner: ACCOUNT };

interface BucketOptions {
  tags?: { Key: string; Value: string }[] | null;
  enforced?: boolean | null;
  grants?: typeof GRANTS;
  policy?: string | null;
  block?: Record<string, boolean> | null;
  strategy?: S3FixStrategy;
}

function setup(options: BucketOptions = {}) {
  collectSent();
  s3Mock.reset();
  sqsMock.reset();
  const events: string[] = [];
  if (options.tags === null || options.tags === undefined) {
    s3Mock.on(GetBucketTaggingCommand).rejects(awsError("NoSuchTagSet", 404));
  } else s3Mock.on(GetBucketTaggingCommand).resolves({ TagSet: options.tags });
  if (options.enforced === null || options.enforced === undefined) {
    s3Mock.on(GetBucketOwnershipControlsCommand).rejects(awsError("OwnershipControlsNotFoundError", 404));
  } else {
    s3Mock.on(GetBucketOwnershipControlsCommand).resolves({
      OwnershipControls: { Rules: [{ ObjectOwnership: options.enforced ? "BucketOwnerEnforced" : "ObjectWriter" }] },
    });
  }
  s3Mock.on(GetBucketAclCommand).resolves({ Owner: OWNER, Grants: options.grants ?? GRANTS });
  const policy = options.policy === undefined ? POLICY_TEXT : options.policy;
  if (policy === null) s3Mock.on(GetBucketPolicyCommand).rejects(awsError("NoSuchBucketPolicy", 404));
  else s3Mock.on(GetBucketPolicyCommand).resolves({ Policy: policy });
  if (options.block === null || options.block === undefined) {
    s3Mock.on(GetPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
  } else s3Mock.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: options.block });
  for (const command of [PutBucketAclCommand, PutBucketPolicyCommand, DeleteBucketPolicyCommand] as const) {
    s3Mock.on(command as typeof PutBucketAclCommand).callsFake(() => {
      events.push(command.name);
      return {};
    });
  }
  s3Mock.on(PutPublicAccessBlockCommand).callsFake(() => {
    events.push("PutPublicAccessBlockCommand");
    return {};
  });
  sqsMock.on(DeleteMessageCommand).callsFake(() => {
    events.push("delete");
    return {};
  });
  sqsMock.on(SendMessageCommand).callsFake(() => {
    events.push("dlq");
    return {};
  });
  const ledger = testLedger(events);
  const reporter = recordingReporter();
  const log = recordingLog();
  const deps: TestRemediationDeps = {
    ...deployedDeps(),
    protectedBuckets: ["remedy-ledger-0001"],
    s3: new S3Client({}),
    sqs: new SQSClient({}),
    ledger,
    reporter,
    deadLetterQueueUrl: DLQ_URL,
    allowlist: [],
    strategy: options.strategy ?? "surgical",
    now: () => T0,
    log,
    newActionId: () => ACTION_ID,
  };
  return { deps, ledger, reporter, log, events };
}

describe("remediate-s3: the account's Block Public Access", () => {
  it("a public ACL the account already ignores (IgnorePublicAcls) needs no fix: nothing is written", async () => {
    const t = setup();
    const asked: string[] = [];
    const deps = {
      ...t.deps,
      accountFacts: async (accountId: string) => {
        asked.push(accountId);
        return { s3PublicAccessBlock: { IgnorePublicAcls: true } };
      },
    };
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])),
      deps,
    );
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/^nothing to do/) });
    expect(asked).toEqual([ACCOUNT]);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
  });

  it("an account setting that does not cover the problem changes nothing about the fix", async () => {
    const t = setup();
    const deps = { ...t.deps, accountFacts: async () => ({ s3PublicAccessBlock: { RestrictPublicBuckets: true } }) };
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])),
      deps,
    );
    expect(result).toMatchObject({ status: "fixed" });
  });
});

describe("remediate-s3: surgical ACL", () => {
  it("rewrites the ACL without the public grants: owner FULL_CONTROL and every other grant kept, in order", async () => {
    const t = setup();
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT, AUTHENTICATED_GRANT])),
      t.deps,
    );
    expect(result).toMatchObject({ status: "fixed", messageDeleted: true });
    expect(s3Mock).toHaveReceivedCommandTimes(PutBucketAclCommand, 1);
    expect(s3Mock.commandCalls(PutBucketAclCommand)[0]!.args[0].input).toEqual({
      ...TARGET,
      AccessControlPolicy: { Owner: OWNER, Grants: [GRANTS[0], GRANTS[2], GRANTS[4]] },
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutPublicAccessBlockCommand);
    expect(t.events).toEqual(["ledger:pending", "PutBucketAclCommand", "ledger:fixed", "delete"]);

    const fixed = t.ledger.writes[1]!;
    expect(fixed.before).toEqual({
      kind: "s3-bucket",
      bucket: BUCKET,
      aclsDisabled: false,
      acl: { Owner: OWNER, Grants: GRANTS },
      policy: POLICY_TEXT,
      publicAccessBlock: null,
    });
    expect(fixed.after).toEqual({ ...fixed.before, acl: { Owner: OWNER, Grants: [GRANTS[0], GRANTS[2], GRANTS[4]] } });
    expect(fixed.changes).toEqual([
      {
        kind: "acl-grants-removed",
        bucket: BUCKET,
        grants: [
          { grantee: { type: "Group", uri: GRANTS[1]!.Grantee.URI }, permission: "READ" },
          { grantee: { type: "Group", uri: GRANTS[3]!.Grantee.URI }, permission: "READ_ACP" },
        ],
      },
    ]);
  });

  it("removes only the instructed grant when another public grant was not instructed", async () => {
    const t = setup();
    await remediate("remediate-s3", requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])), t.deps);
    expect(s3Mock).toHaveReceivedCommandWith(PutBucketAclCommand, {
      AccessControlPolicy: { Owner: OWNER, Grants: [GRANTS[0]!, GRANTS[2]!, GRANTS[3]!, GRANTS[4]!] },
    });
  });

  it("BucketOwnerEnforced: an ACL instruction is skipped and PutBucketAcl never called", async () => {
    const t = setup({ enforced: true });
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])),
      t.deps,
    );
    expect(result.status).toBe("skipped");
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
  });

  it("IgnorePublicAcls now set ⇒ neutralised ⇒ skipped", async () => {
    const t = setup({ block: { IgnorePublicAcls: true } });
    expect(
      (await remediate("remediate-s3", requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])), t.deps))
        .status,
    ).toBe("skipped");
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
  });
});

describe("remediate-s3: surgical policy", () => {
  it("writes the policy without the public statement: other keys and statements kept, in order", async () => {
    const t = setup();
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result.status).toBe("fixed");
    const expected = JSON.stringify({
      Version: "2012-10-17",
      Id: "acme-data-policy",
      Statement: [DENY_INSECURE, PARTNER_READ],
    });
    expect(s3Mock.commandCalls(PutBucketPolicyCommand)[0]!.args[0].input).toEqual({ ...TARGET, Policy: expected });
    expect(s3Mock).not.toHaveReceivedCommand(DeleteBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    const fixed = t.ledger.writes[1]!;
    expect(fixed.before).toMatchObject({ policy: POLICY_TEXT });
    expect(fixed.after).toMatchObject({ policy: expected });
    expect(fixed.changes).toEqual([
      { kind: "policy-statements-removed", bucket: BUCKET, statements: [PUBLIC_READ], policyDeleted: false },
    ]);
  });

  it("deletes the policy when no statement remains", async () => {
    const only = JSON.stringify({ Version: "2012-10-17", Statement: PUBLIC_READ });
    const t = setup({ policy: only });
    await remediate("remediate-s3", requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])), t.deps);
    expect(s3Mock).toHaveReceivedCommandWith(DeleteBucketPolicyCommand, TARGET);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(t.ledger.writes[1]).toMatchObject({
      before: { policy: only },
      after: { policy: null },
      changes: [{ kind: "policy-statements-removed", policyDeleted: true }],
    });
  });

  it("BucketOwnerEnforced bucket with a public policy: fixes the policy, no ACL call", async () => {
    const t = setup({ enforced: true });
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result.status).toBe("fixed");
    expect(s3Mock).toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    expect(t.ledger.writes[1]!.before).toMatchObject({ aclsDisabled: true });
  });

  it("stale: the statement is already gone ⇒ skipped, message deleted", async () => {
    const t = setup({ policy: JSON.stringify({ Version: "2012-10-17", Statement: [DENY_INSECURE] }) });
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result).toMatchObject({ status: "skipped", messageDeleted: true });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(DeleteBucketPolicyCommand);
  });

  it("no policy any more (NoSuchBucketPolicy) ⇒ skipped", async () => {
    const t = setup({ policy: null });
    expect(
      (await remediate("remediate-s3", requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])), t.deps))
        .status,
    ).toBe("skipped");
  });

  it("forged: names a non-public statement ⇒ nothing changed", async () => {
    const t = setup();
    const forged = instructionFor("s3-public-policy", [{ kind: "policy-statement", statement: PARTNER_READ }]);
    expect((await remediate("remediate-s3", requestFor(forged), t.deps)).status).toBe("skipped");
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
  });

  it("exempt now by a live bucket tag ⇒ skipped with the reason", async () => {
    const t = setup({ tags: [{ Key: "remedy:exempt", Value: "static website behind CloudFront" }] });
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result).toMatchObject({
      status: "skipped",
      reason: "exempt by tag remedy:exempt (no expiry): static website behind CloudFront",
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
  });

  it("bucket gone (NoSuchBucket) ⇒ skipped", async () => {
    const t = setup();
    s3Mock.on(GetBucketTaggingCommand).rejects(awsError("NoSuchBucket", 404));
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/NoSuchBucket/) });
  });
});

describe("remediate-s3: block-public-access strategy", () => {
  it("a public policy: turns on RestrictPublicBuckets and BlockPublicPolicy, keeps the flags already on", async () => {
    const previous = {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    const t = setup({ strategy: "block-public-access", block: previous });
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result.status).toBe("fixed");
    const after = {
      BlockPublicAcls: true,
      IgnorePublicAcls: false,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    };
    expect(s3Mock.commandCalls(PutPublicAccessBlockCommand)[0]!.args[0].input).toEqual({
      ...TARGET,
      PublicAccessBlockConfiguration: after,
    });
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketPolicyCommand);
    expect(s3Mock).not.toHaveReceivedCommand(PutBucketAclCommand);
    expect(t.ledger.writes[1]).toMatchObject({
      before: { publicAccessBlock: previous, policy: POLICY_TEXT },
      after: { publicAccessBlock: after, policy: POLICY_TEXT },
      changes: [{ kind: "public-access-block-enabled", bucket: BUCKET, before: previous, after }],
    });
  });

  it("a public ACL: turns on only IgnorePublicAcls and BlockPublicAcls, so an exempt public policy keeps working", async () => {
    const t = setup({ strategy: "block-public-access" });
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])),
      t.deps,
    );
    expect(result.status).toBe("fixed");
    expect(s3Mock.commandCalls(PutPublicAccessBlockCommand)[0]!.args[0].input.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
  });

  it("records a missing configuration as null", async () => {
    const t = setup({ strategy: "block-public-access" });
    await remediate("remediate-s3", requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])), t.deps);
    expect(t.ledger.writes[1]).toMatchObject({ before: { publicAccessBlock: null } });
  });
});

describe("remediate-s3: failures", () => {
  it("AccessDenied on PutBucketPolicy ⇒ permanent: DLQ then delete", async () => {
    const t = setup();
    s3Mock.on(PutBucketPolicyCommand).rejects(awsError("AccessDenied", 403));
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result).toMatchObject({ status: "failed", kind: "permanent", deadLettered: true });
    expect(t.events).toEqual(["ledger:pending", "ledger:failed", "dlq", "delete"]);
  });

  it("SlowDown 503 ⇒ transient: message left, willRetry", async () => {
    const t = setup();
    s3Mock.on(PutBucketAclCommand).rejects(awsError("SlowDown", 503));
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])),
      t.deps,
    );
    expect(result).toMatchObject({ status: "failed", kind: "transient" });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "failed", willRetry: true })]);
  });

  it("an unparseable live policy ⇒ permanent", async () => {
    const t = setup({ policy: "{not json" });
    const result = await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      t.deps,
    );
    expect(result).toMatchObject({ status: "failed", kind: "permanent" });
  });

  it("misrouted SG instruction ⇒ permanent, nothing read", async () => {
    const t = setup();
    const result = await remediate("remediate-s3", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), t.deps);
    expect(result).toMatchObject({ status: "failed", kind: "permanent" });
    expect(s3Mock.calls()).toHaveLength(0);
  });
});

describe("remediate-s3: settings", () => {
  const env = {
    ...deploymentEnv(),
    REMEDY_QUEUE_URL: QUEUE_URL,
    REMEDY_LEDGER_BUCKET: "remedy-ledger",
    REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
    REMEDY_DLQ_URL: DLQ_URL,
    REMEDY_PAUSE_PARAMETER: "/remedy/paused",
    REMEDY_LEDGER_MAC_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/0c0ffee0-0000-4000-8000-00000000a11c",
  };
  it("protects the ledger bucket and every listed bucket", () => {
    expect(readS3FixSettings(env).protectedBuckets).toEqual(["remedy-ledger"]);
    expect(
      readS3FixSettings({ ...env, REMEDY_PROTECTED_BUCKETS: " acme-config-logs , remedy-ledger,," }).protectedBuckets,
    ).toEqual(["remedy-ledger", "acme-config-logs"]);
  });
  it("defaults to surgical and accepts block-public-access", () => {
    expect(readS3FixSettings(env).strategy).toBe("surgical");
    expect(readS3FixSettings({ ...env, REMEDY_S3_FIX_STRATEGY: "block-public-access" }).strategy).toBe(
      "block-public-access",
    );
  });
  it("names a bad strategy", () => {
    expect(() => readS3FixSettings({ ...env, REMEDY_S3_FIX_STRATEGY: "nuke" })).toThrow(ConfigurationError);
    expect(() => readS3FixSettings({ ...env, REMEDY_S3_FIX_STRATEGY: "nuke" })).toThrow(/REMEDY_S3_FIX_STRATEGY/);
  });
});

describe("remediate-s3: declared permissions", () => {
  it("sends no AWS command that permissions.ts does not declare", async () => {
    // Its own runs, one per kind of write; every other test is checked after it.
    const acl = setup();
    await remediate("remediate-s3", requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])), acl.deps);
    const policy = setup();
    await remediate("remediate-s3", requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])), policy.deps);
    const onlyPublic = setup({ policy: JSON.stringify({ Version: "2012-10-17", Statement: PUBLIC_READ }) });
    await remediate(
      "remediate-s3",
      requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])),
      onlyPublic.deps,
    );
    const block = setup({ strategy: "block-public-access" });
    await remediate("remediate-s3", requestFor(instructionFor("s3-public-acl", [PUBLIC_READ_GRANT])), block.deps);
    const failing = setup();
    s3Mock.on(PutBucketPolicyCommand).rejects(awsError("AccessDenied", 403));
    await remediate("remediate-s3", requestFor(instructionFor("s3-public-policy", [PUBLIC_STATEMENT])), failing.deps);
    collectSent();
    for (const name of [
      "GetBucketAclCommand",
      "PutBucketAclCommand",
      "PutBucketPolicyCommand",
      "DeleteBucketPolicyCommand",
      "PutPublicAccessBlockCommand",
      "SendMessageCommand",
    ]) {
      expect(sent).toContain(name);
    }
    expectDeclared();
  });
});
