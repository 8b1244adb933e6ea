// remediate-s3-account: the account's Block Public Access, through the one runner with the problem's fix. The exact
// S3 Control and S3 calls (aws-sdk-client-mock), the ledger's before-state, and the safety condition: the flags are
// turned on only when no bucket of the account is public on purpose (exempt by its live tag or the allowlist, or made
// public again by an undo whose exemption is still running).
import {
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  ListBucketsCommand,
} from "@aws-sdk/client-s3";
import {
  GetPublicAccessBlockCommand as GetAccountBlockCommand,
  PutPublicAccessBlockCommand as PutAccountBlockCommand,
} from "@aws-sdk/client-s3-control";
import { DeleteMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MatchedEntry } from "../../contract/instruction.ts";
import { mergeUndoExemption, type UndoExemptionRecord } from "../../contract/undo-exemption.ts";
import { parseAllowlist } from "../../detection/exemptions.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { runRemediation } from "../../functions/remediation/runner.ts";
import type { Problem } from "../../problems/index.ts";
import {
  type ApiGrant,
  aclGrantsFromApi,
  isPublicGrant,
  isPublicStatement,
  parsePolicyDocument,
} from "../../problems/s3-public/detect.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  ACCOUNT,
  ALL_ON,
  accountDeployment,
  accountFix,
  accountInstruction,
  type Flag,
  LEDGER_BUCKET,
  mockAccount,
  privateBucket,
  publicAclBucket,
  publicPolicyBucket,
  REGION,
  RESTRICT_OFF,
  s3ControlMock,
  s3Mock,
  type TestBucket,
} from "../problems/s3-account-public-access/world.ts";
import {
  ACTION_ID,
  awsError,
  DLQ_URL,
  deployedDeps,
  recordingReporter,
  requestFor,
  T0,
  testLedger,
} from "./support.ts";

const sqsMock = mockClient(SQSClient);
const sent = new Set<string>();
function collectSent() {
  for (const call of [...s3Mock.calls(), ...s3ControlMock.calls(), ...sqsMock.calls()]) {
    sent.add(call.args[0].constructor.name);
  }
}
beforeEach(() => {
  sent.clear();
  sqsMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
  sqsMock.on(SendMessageCommand).resolves({});
});
// Every command a test sent is one its function declares (S3 Control's aliased as the spec names them).
afterEach(() => {
  collectSent();
  const declared = Object.keys(FUNCTIONS["remediate-s3-account"].permissions);
  const alias: Record<string, string> = {
    GetPublicAccessBlockCommand: "GetPublicAccessBlockCommand",
    PutPublicAccessBlockCommand: "PutAccountPublicAccessBlockCommand",
  };
  for (const command of sent) expect(declared).toContain(alias[command] ?? command);
});
afterAll(() => {
  s3Mock.restore();
  s3ControlMock.restore();
  sqsMock.restore();
});

const ALLOWLIST_ENTRY = {
  resource: "arn:aws:s3:::acme-site",
  problems: ["s3-public-policy"],
  reason: "static website behind CloudFront",
  owner: "web-team@acme.example",
  expires: "2027-06-30",
};

interface RunOptions {
  flags: Parameters<typeof mockAccount>[0]["flags"];
  buckets?: TestBucket[];
  instructed?: Flag[];
  /** REMEDY_ALLOWLIST (the fix's and the runner's, as deployed). */
  allowlist?: unknown[];
  sticky?: boolean;
  pageSize?: number;
  resourceId?: string;
  /** The allowlist as the fix reads it at run time (the deployed entries and those granted in Slack). */
  currentAllowlist?: unknown[] | Error;
}

async function run(options: RunOptions) {
  const world = mockAccount({
    flags: options.flags,
    buckets: options.buckets ?? [],
    ...(options.sticky ? { sticky: true } : {}),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
  });
  const events: string[] = [];
  const ledger = testLedger(events);
  const reporter = recordingReporter();
  const allowlistText = JSON.stringify(options.allowlist ?? []);
  const result = await runRemediation(
    requestFor(
      accountInstruction(
        options.instructed ?? ["RestrictPublicBuckets"],
        options.resourceId ? { resourceId: options.resourceId } : {},
      ),
    ),
    {
      ...deployedDeps({ deployment: accountDeployment() }),
      sqs: new SQSClient({}),
      ledger,
      reporter,
      deadLetterQueueUrl: DLQ_URL,
      allowlist: parseAllowlist(allowlistText).entries,
      now: () => T0,
      log: recordingLog(),
      newActionId: () => ACTION_ID,
    },
    [
      accountFix(
        { REMEDY_ALLOWLIST: allowlistText },
        () => T0,
        options.currentAllowlist instanceof Error
          ? async () => Promise.reject(options.currentAllowlist)
          : options.currentAllowlist
            ? async () => parseAllowlist(JSON.stringify(options.currentAllowlist)).entries
            : undefined,
      ),
    ],
  );
  return { result, world, ledger, reporter, events };
}

const putInputs = () => s3ControlMock.commandCalls(PutAccountBlockCommand).map((call) => call.args[0].input);

describe("remediate-s3-account: turning the account's flags on", () => {
  it("turns on exactly the instructed flag, keeps the others, confirms by reading back, and ledgers the before-state", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      // Public but not exempt: the S3 path fixes it anyway, so it does not hold the account back.
      buckets: [privateBucket("acme-logs"), publicAclBucket("acme-assets", { team: "web" })],
    });
    expect(t.result).toMatchObject({ status: "fixed", messageDeleted: true });
    expect(putInputs()).toEqual([{ AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_ON }]);
    // Read before (the re-judgement) and after (the confirmation).
    expect(s3ControlMock.commandCalls(GetAccountBlockCommand).map((call) => call.args[0].input)).toEqual([
      { AccountId: ACCOUNT },
      { AccountId: ACCOUNT },
    ]);
    expect(s3Mock.commandCalls(ListBucketsCommand).map((call) => call.args[0].input)).toEqual([{ MaxBuckets: 1000 }]);
    // Every bucket read as the S3 rule reads it, in the account (ExpectedBucketOwner).
    expect(s3Mock.commandCalls(GetBucketAclCommand).map((call) => call.args[0].input)).toEqual(
      expect.arrayContaining([
        { Bucket: "acme-logs", ExpectedBucketOwner: ACCOUNT },
        { Bucket: "acme-assets", ExpectedBucketOwner: ACCOUNT },
      ]),
    );
    expect(t.events).toEqual(["ledger:pending", "ledger:fixed"]);
    const fixed = t.ledger.writes[1]!;
    expect(fixed).toMatchObject({
      outcome: "fixed",
      problem: "s3-account-public-access",
      resource: { type: "AWS::S3::AccountPublicAccessBlock", id: ACCOUNT, accountId: ACCOUNT, region: REGION },
    });
    expect(fixed.before).toEqual({
      kind: "s3-account-public-access-block",
      accountId: ACCOUNT,
      publicAccessBlock: RESTRICT_OFF,
    });
    expect(fixed.after).toEqual({
      kind: "s3-account-public-access-block",
      accountId: ACCOUNT,
      publicAccessBlock: ALL_ON,
    });
    expect(fixed.changes).toEqual([
      { kind: "account-public-access-block-enabled", accountId: ACCOUNT, before: RESTRICT_OFF, after: ALL_ON },
    ]);
    expect(t.reporter.reports.map((report) => report.kind)).toEqual(["fixed"]);
  });

  it("turns on only the named flags: other flags that are off stay off", async () => {
    const before = {
      BlockPublicAcls: false,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    const t = await run({ flags: before, instructed: ["RestrictPublicBuckets"] });
    expect(t.result.status).toBe("fixed");
    expect(putInputs()).toEqual([
      { AccountId: ACCOUNT, PublicAccessBlockConfiguration: { ...before, RestrictPublicBuckets: true } },
    ]);
  });

  it("a named flag turned on since the instruction is left alone: only the one still off is turned on", async () => {
    const t = await run({
      flags: { ...RESTRICT_OFF, BlockPublicAcls: true },
      instructed: ["BlockPublicAcls", "RestrictPublicBuckets"],
    });
    expect(t.result.status).toBe("fixed");
    expect(t.ledger.writes[1]!.changes).toEqual([
      { kind: "account-public-access-block-enabled", accountId: ACCOUNT, before: RESTRICT_OFF, after: ALL_ON },
    ]);
  });

  it("no configuration at all: all four on, the before-state none", async () => {
    const flags: Flag[] = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"];
    const t = await run({ flags: null, instructed: flags });
    expect(t.result.status).toBe("fixed");
    expect(putInputs()).toEqual([{ AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_ON }]);
    expect(t.ledger.writes[1]).toMatchObject({
      before: { kind: "s3-account-public-access-block", accountId: ACCOUNT, publicAccessBlock: null },
      changes: [{ before: null, after: ALL_ON }],
    });
  });

  it("every flag already on: nothing to do, and no bucket is read", async () => {
    const t = await run({ flags: ALL_ON, buckets: [publicAclBucket("acme-assets")] });
    expect(t.result).toMatchObject({
      status: "skipped",
      reason: expect.stringMatching(/^nothing to do: none of the 1 instructed entries is still off/),
    });
    expect(s3Mock).not.toHaveReceivedCommand(ListBucketsCommand);
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
  });

  it("reads every page of the listing and every bucket on it", async () => {
    const buckets = Array.from({ length: 5 }, (_, index) => privateBucket(`acme-${index}`));
    const t = await run({ flags: RESTRICT_OFF, buckets, pageSize: 2 });
    expect(t.result.status).toBe("fixed");
    expect(s3Mock.commandCalls(ListBucketsCommand).map((call) => call.args[0].input)).toEqual([
      { MaxBuckets: 1000 },
      { MaxBuckets: 1000, ContinuationToken: "2" },
      { MaxBuckets: 1000, ContinuationToken: "4" },
    ]);
    expect(s3Mock).toHaveReceivedCommandTimes(GetBucketPolicyCommand, 5);
  });

  it("a bucket deleted since the listing (NoSuchBucket) exposes nothing: the fix goes on", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [{ ...privateBucket("acme-gone"), aclError: awsError("NoSuchBucket", 404) }, privateBucket("acme-logs")],
    });
    expect(t.result.status).toBe("fixed");
  });

  it("S3 Control not reading back what was written: failed (transient), the change recorded as attempted", async () => {
    const t = await run({ flags: RESTRICT_OFF, sticky: true });
    expect(t.result).toMatchObject({ status: "failed", kind: "transient", changeAttempted: true });
    expect(t.ledger.writes.at(-1)).toMatchObject({
      outcome: "failed",
      reason: expect.stringMatching(
        /reads BlockPublicAcls=true, IgnorePublicAcls=true, BlockPublicPolicy=true, RestrictPublicBuckets=false after it was set to/,
      ),
      changes: [{ kind: "account-public-access-block-enabled" }],
    });
  });
});

describe("remediate-s3-account: never while a bucket is public on purpose", () => {
  it("a public bucket exempt by its live remedy:exempt tag: skipped, named with its reason, nothing written", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [
        publicAclBucket("acme-assets"),
        publicPolicyBucket("acme-press-kit", { "remedy:exempt": "press kit downloads, approved by legal" }),
      ],
    });
    expect(t.result).toMatchObject({ status: "skipped", messageDeleted: true });
    const reason = (t.result as { reason: string }).reason;
    expect(reason).toBe(
      "not turned on: 1 bucket of account 123456789012 is public on purpose (exempt), and account-level Block Public Access would close it: acme-press-kit (exempt by tag remedy:exempt (no expiry): press kit downloads, approved by legal). Turn the account's flags on once that bucket is no longer meant to be public.",
    );
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect(t.events).toEqual(["ledger:skipped"]);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "skipped", reason })]);
    // The tag was read live, never taken from a claim.
    expect(s3Mock).toHaveReceivedCommandWith(GetBucketTaggingCommand, {
      Bucket: "acme-press-kit",
      ExpectedBucketOwner: ACCOUNT,
    });
  });

  it("a public bucket exempt by the deployed allowlist (by its ARN, for its problem): skipped and named", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [publicPolicyBucket("acme-site"), privateBucket("acme-logs")],
      allowlist: [ALLOWLIST_ENTRY],
    });
    expect(t.result).toMatchObject({
      status: "skipped",
      reason: expect.stringContaining(
        "acme-site (exempt by allowlist (owner web-team@acme.example) until 2027-06-30: static website behind CloudFront)",
      ),
    });
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
  });

  it("a public bucket exempted in Slack a minute ago (the allowlist read at the fix): skipped and named", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [publicPolicyBucket("acme-site"), privateBucket("acme-logs")],
      currentAllowlist: [{ ...ALLOWLIST_ENTRY, owner: "slack:U012ABCDEF" }],
    });
    expect(t.result).toMatchObject({
      status: "skipped",
      reason: expect.stringContaining("acme-site (exempt by allowlist (owner slack:U012ABCDEF) until 2027-06-30"),
    });
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
  });

  it("the allowlist's Slack part unreadable (even AccessDenied): nothing turned on, transient, the message kept", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [publicPolicyBucket("acme-site")],
      currentAllowlist: Object.assign(new Error("Access Denied"), {
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
      }),
    });
    expect(t.result).toMatchObject({ status: "failed", kind: "transient" });
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
  });

  it("names every exempt bucket, the first few in full", async () => {
    const exempt = Array.from({ length: 8 }, (_, index) =>
      publicAclBucket(`acme-share-${index}`, { "remedy:exempt": "partner downloads" }),
    );
    const t = await run({ flags: RESTRICT_OFF, buckets: exempt });
    const reason = (t.result as { reason: string }).reason;
    expect(reason).toMatch(/^not turned on: 8 buckets of account 123456789012 are public on purpose/);
    for (let index = 0; index < 5; index++) expect(reason).toContain(`acme-share-${index} (exempt by tag`);
    expect(reason).toContain("; and 3 more. Turn the account's flags on once those buckets are no longer meant");
  });

  it("an exemption for another problem than the bucket's is none: the fix goes on (as the S3 path would fix it)", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [publicPolicyBucket("acme-site")],
      allowlist: [{ ...ALLOWLIST_ENTRY, problems: ["s3-public-acl"] }],
    });
    expect(t.result.status).toBe("fixed");
  });

  it("an expired exemption is none", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [publicAclBucket("acme-assets", { "remedy:exempt": "campaign until=2026-10-31" })],
    });
    expect(t.result.status).toBe("fixed");
  });

  it("a bucket that cannot be read: nothing is turned on (transient: retried), the bucket named", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [
        privateBucket("acme-logs"),
        { ...privateBucket("acme-locked"), aclError: awsError("AccessDenied", 403) },
      ],
    });
    expect(t.result).toMatchObject({
      status: "failed",
      kind: "transient",
      changeAttempted: false,
      error: expect.stringContaining("acme-locked (AccessDenied"),
    });
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect(t.ledger.writes.at(-1)).toMatchObject({ outcome: "failed", changes: [] });
  });
});

describe("remediate-s3-account: never while an undo keeps a bucket public", () => {
  const UNDO_ACTION = "act-20261120T090000Z-0000aaaa";
  const OPERATOR = "arn:aws:sts::123456789012:assumed-role/Operator/alice";
  const RUNNING = { at: new Date("2026-11-20T09:00:00.000Z"), until: new Date("2026-11-21T09:00:00.000Z") };

  /** The bucket's public entries, as an undo names what it put back (problems/undo-entries.ts). */
  function publicEntries(bucket: TestBucket): { problem: Problem; entry: MatchedEntry }[] {
    const grants = aclGrantsFromApi((bucket.grants ?? []) as ApiGrant[]).filter(isPublicGrant);
    const statements = (parsePolicyDocument(bucket.policy ?? null)?.Statement ?? []).filter(isPublicStatement);
    return [
      ...grants.map((grant) => ({
        problem: "s3-public-acl" as const,
        entry: { kind: "acl-grant", grant } as MatchedEntry,
      })),
      ...statements.map((statement) => ({
        problem: "s3-public-policy" as const,
        entry: { kind: "policy-statement", statement } as MatchedEntry,
      })),
    ];
  }

  /** What `remedy undo` writes on the bucket for `entries` (default: all its public ones), from `at` until `until`. */
  function undone(
    bucket: TestBucket,
    options: { entries?: ReturnType<typeof publicEntries>; at?: Date; until?: Date } = {},
  ) {
    const at = options.at ?? RUNNING.at;
    const record: UndoExemptionRecord = mergeUndoExemption(
      undefined,
      {
        resource: { accountId: ACCOUNT, region: bucket.region ?? REGION, type: "AWS::S3::Bucket", id: bucket.name },
        entries: options.entries ?? publicEntries(bucket),
        undoActionId: UNDO_ACTION,
        undoes: "act-20261120T085000Z-0000beef",
        by: OPERATOR,
        at,
        until: options.until ?? RUNNING.until,
      },
      at,
    );
    return { ...bucket, undoExemption: record };
  }

  const getObjectInputs = () => s3Mock.commandCalls(GetObjectCommand).map((call) => call.args[0].input);

  it("a public bucket whose entries an undo put back, its exemption running: skipped, named with until when and by whom", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [privateBucket("acme-logs"), undone({ ...publicPolicyBucket("acme-site"), region: "eu-west-1" })],
    });
    expect(t.result).toMatchObject({ status: "skipped", messageDeleted: true });
    const reason = (t.result as { reason: string }).reason;
    expect(reason).toBe(
      `not turned on: 1 bucket of account 123456789012 is public on purpose (left public by an undo), and account-level Block Public Access would close it: acme-site (left public by an undo until 2026-11-21T09:00:00.000Z: undone by ${OPERATOR} (${UNDO_ACTION})). Turn the account's flags on once that bucket is no longer meant to be public.`,
    );
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect(t.events).toEqual(["ledger:skipped"]);
    expect(t.reporter.reports).toEqual([expect.objectContaining({ kind: "skipped", reason })]);
    // Read for the public bucket only, under its own region's key, in the ledger bucket.
    expect(getObjectInputs()).toEqual([
      { Bucket: LEDGER_BUCKET, Key: "exemptions/123456789012/eu-west-1/AWS%3A%3AS3%3A%3ABucket/acme-site.json" },
    ]);
  });

  it("names exempt buckets and undone ones together; an exempt bucket's undo exemption is not read", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [
        publicPolicyBucket("acme-press-kit", { "remedy:exempt": "press kit downloads, approved by legal" }),
        undone(publicAclBucket("acme-assets")),
      ],
    });
    expect((t.result as { reason: string }).reason).toBe(
      `not turned on: 2 buckets of account 123456789012 are public on purpose (exempt, or left public by an undo), and account-level Block Public Access would close them: acme-press-kit (exempt by tag remedy:exempt (no expiry): press kit downloads, approved by legal); acme-assets (left public by an undo until 2026-11-21T09:00:00.000Z: undone by ${OPERATOR} (${UNDO_ACTION})). Turn the account's flags on once those buckets are no longer meant to be public.`,
    );
    expect(getObjectInputs().map((input) => input.Key)).toEqual([
      "exemptions/123456789012/us-east-1/AWS%3A%3AS3%3A%3ABucket/acme-assets.json",
    ]);
  });

  it("an undo exemption that has run out holds nothing back: the flags are turned on", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [
        undone(publicPolicyBucket("acme-site"), {
          at: new Date("2026-11-18T09:00:00.000Z"),
          until: new Date("2026-11-19T09:00:00.000Z"),
        }),
      ],
    });
    expect(t.result.status).toBe("fixed");
    expect(putInputs()).toEqual([{ AccountId: ACCOUNT, PublicAccessBlockConfiguration: ALL_ON }]);
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 1);
  });

  it("an undo exemption of another entry than the bucket's public ones holds nothing back", async () => {
    const bucket = publicPolicyBucket("acme-site");
    const entry = publicEntries(bucket)[0]!.entry as Extract<MatchedEntry, { kind: "policy-statement" }>;
    const other: MatchedEntry = {
      ...entry,
      statement: { ...entry.statement, Sid: "PublicList", Action: "s3:ListBucket" },
    };
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [undone(bucket, { entries: [{ problem: "s3-public-policy", entry: other }] })],
    });
    expect(t.result.status).toBe("fixed");
    expect(s3Mock).toHaveReceivedCommandTimes(GetObjectCommand, 1);
  });

  it("an undo exemption that cannot be read: nothing is turned on (transient: retried), the bucket named", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      buckets: [
        privateBucket("acme-logs"),
        { ...publicPolicyBucket("acme-site"), undoExemption: awsError("AccessDenied", 403) },
      ],
    });
    expect(t.result).toMatchObject({
      status: "failed",
      kind: "transient",
      changeAttempted: false,
      error: expect.stringContaining("the undo exemption of acme-site (AccessDenied"),
    });
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect(t.ledger.writes.at(-1)).toMatchObject({ outcome: "failed", changes: [] });
  });
});

describe("remediate-s3-account: the claim", () => {
  it("the account's setting exempt by the allowlist (by account id): skipped before anything is written", async () => {
    const t = await run({
      flags: RESTRICT_OFF,
      allowlist: [
        {
          resource: ACCOUNT,
          problems: ["s3-account-public-access"],
          reason: "sandbox account, public demo buckets",
          owner: "platform@acme.example",
          expires: "2027-01-31",
        },
      ],
    });
    expect(t.result).toMatchObject({
      status: "skipped",
      reason:
        "exempt by allowlist (owner platform@acme.example) until 2027-01-31: sandbox account, public demo buckets",
    });
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
  });

  it("an instruction naming another account's setting is refused (permanent): nothing is read or written", async () => {
    const t = await run({ flags: RESTRICT_OFF, resourceId: "210987654321" });
    expect(t.result).toMatchObject({ status: "failed", kind: "permanent", deadLettered: true });
    expect(s3ControlMock).not.toHaveReceivedCommand(GetAccountBlockCommand);
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
  });
});
