// Undoing a fix of the account's Block Public Access (problems/s3-account-public-access/undo.ts): the fix runs for real
// (the runner, the problem's fix, mocked S3 Control and S3) into a signing ledger, then undo puts the flags back
// exactly as they were — only while they are still what Remedy set — and names the entries it restored.
import {
  DeletePublicAccessBlockCommand as DeleteAccountBlockCommand,
  PutPublicAccessBlockCommand as PutAccountBlockCommand,
} from "@aws-sdk/client-s3-control";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { describeUndo, planUndo, readLiveState, UndoError, undoAction } from "../../cli/undo-runner.ts";
import { type LedgerRecord, memoryLedger } from "../../contract/ledger.ts";
import { runRemediation } from "../../functions/remediation/runner.ts";
import { undoFor } from "../../problems/undo.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import {
  ACCOUNT,
  ALL_ON,
  accountDeployment,
  accountFix,
  accountInstruction,
  type Flag,
  mockAccount,
  privateBucket,
  RESTRICT_OFF,
  s3ControlMock,
  s3Mock,
} from "../problems/s3-account-public-access/world.ts";
import {
  ACTION_ID,
  DLQ_URL,
  deployedDeps,
  recordingReporter,
  requestFor,
  T0,
  TEST_MAC_KEY_ID,
  testSigner,
} from "../remediation/support.ts";

const sqsMock = mockClient(SQSClient);
beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(DeleteMessageCommand).resolves({});
});
afterAll(() => {
  s3Mock.restore();
  s3ControlMock.restore();
  sqsMock.restore();
});

const UNDO_ID = "act-20261120T120000Z-0000cafe";
const ALL: Flag[] = ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"];

function undoDeps(ledger: ReturnType<typeof memoryLedger>) {
  return {
    ec2: undefined as never,
    s3: undefined as never,
    client: <C>(Client: new (config: object) => C) => new Client({ region: "us-east-1" }),
    ledger,
    verifier: testSigner(),
    macKeyId: TEST_MAC_KEY_ID,
    now: () => new Date("2026-11-20T12:00:00.000Z"),
    log: recordingLog(),
    newActionId: () => UNDO_ID,
  };
}

/** The real fix of `flags` (instructed `instructed`) into a signing ledger; the account then reads as it left it. */
async function fixed(
  flags: Parameters<typeof mockAccount>[0]["flags"],
  instructed: Flag[] = ["RestrictPublicBuckets"],
) {
  const ledger = memoryLedger(testSigner());
  mockAccount({ flags, buckets: [privateBucket("acme-logs")] });
  const result = await runRemediation(
    requestFor(accountInstruction(instructed)),
    {
      ...deployedDeps({ deployment: accountDeployment() }),
      sqs: new SQSClient({}),
      ledger,
      reporter: recordingReporter(),
      deadLetterQueueUrl: DLQ_URL,
      allowlist: [],
      now: () => T0,
      log: recordingLog(),
      newActionId: () => ACTION_ID,
    },
    [accountFix({}, () => T0)],
  );
  expect(result.status).toBe("fixed");
  return ledger;
}

/** The account as S3 Control answers undo now (fresh mocks: the fix's calls forgotten). */
function liveFlags(flags: Parameters<typeof mockAccount>[0]["flags"]) {
  return mockAccount({ flags });
}

describe("undo: the account's Block Public Access", () => {
  it("puts back exactly the flags before the fix, records the undo and names the entry it restored", async () => {
    const ledger = await fixed(RESTRICT_OFF);
    const world = liveFlags(ALL_ON);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));

    expect(result).toMatchObject({ actionId: UNDO_ID, undoes: ACTION_ID, outcome: "fixed" });
    expect(s3ControlMock.commandCalls(PutAccountBlockCommand).map((call) => call.args[0].input)).toEqual([
      { AccountId: ACCOUNT, PublicAccessBlockConfiguration: RESTRICT_OFF },
    ]);
    expect(world.flags).toEqual(RESTRICT_OFF);
    expect(result.steps).toEqual(["turned off again: RestrictPublicBuckets"]);
    // What undo's temporary exemption lists: the flag, as the rule's findings name it.
    expect(result.restored).toEqual({
      entries: [
        { problem: "s3-account-public-access", entry: { kind: "s3-account-bpa-flag", flag: "RestrictPublicBuckets" } },
      ],
      unnamed: [],
    });
    expect(await ledger.read(UNDO_ID)).toMatchObject({
      outcome: "fixed",
      undoes: ACTION_ID,
      before: { kind: "s3-account-public-access-block", accountId: ACCOUNT, publicAccessBlock: ALL_ON },
      after: { kind: "s3-account-public-access-block", accountId: ACCOUNT, publicAccessBlock: RESTRICT_OFF },
      changes: [{ kind: "restored" }],
    });
    // No bucket is read or changed by undo.
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it("no configuration before the fix: the configuration is removed again (DeletePublicAccessBlock)", async () => {
    const ledger = await fixed(null, ALL);
    const world = liveFlags(ALL_ON);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.outcome).toBe("fixed");
    expect(s3ControlMock.commandCalls(DeleteAccountBlockCommand).map((call) => call.args[0].input)).toEqual([
      { AccountId: ACCOUNT },
    ]);
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect(world.flags).toBeNull();
    expect(result.restored.entries.map(({ entry }) => (entry as { flag: string }).flag)).toEqual(ALL);
  });

  it("refuses when the flags changed since Remedy set them, saying how, and changes nothing", async () => {
    const ledger = await fixed(RESTRICT_OFF);
    liveFlags({ ...ALL_ON, IgnorePublicAcls: false });
    const error = await undoAction(ACTION_ID, undoDeps(ledger)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UndoError);
    expect((error as Error).message).toBe(
      `${ACTION_ID} is not undone: account ${ACCOUNT}'s Block Public Access changed since Remedy set it: it is BlockPublicAcls=true, IgnorePublicAcls=false, BlockPublicPolicy=true, RestrictPublicBuckets=true, Remedy left BlockPublicAcls=true, IgnorePublicAcls=true, BlockPublicPolicy=true, RestrictPublicBuckets=true; its flags are left as they are (set them by hand, or undo again once they are back as Remedy left them).`,
    );
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect(s3ControlMock).not.toHaveReceivedCommand(DeleteAccountBlockCommand);
  });

  it("already as before the fix: nothing written, recorded as already restored", async () => {
    const ledger = await fixed(RESTRICT_OFF);
    liveFlags(RESTRICT_OFF);
    const result = await undoAction(ACTION_ID, undoDeps(ledger));
    expect(result.outcome).toBe("skipped");
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect((await ledger.read(UNDO_ID)).reason).toMatch(/^already restored/);
  });

  it("describeUndo says exactly what goes back", async () => {
    const ledger = await fixed(RESTRICT_OFF);
    liveFlags(ALL_ON);
    const record = await ledger.read(ACTION_ID);
    const live = await readLiveState(record as Parameters<typeof readLiveState>[0], undoDeps(ledger));
    expect(describeUndo(planUndo(record, live))).toBe(
      [
        `Undo ${ACTION_ID} (s3-account-public-access, fixed 2026-11-20T10:28:19.000Z)`,
        `on AWS::S3::AccountPublicAccessBlock ${ACCOUNT} in ${ACCOUNT}/us-east-1:`,
        `  set account ${ACCOUNT}'s Block Public Access back to BlockPublicAcls=true, IgnorePublicAcls=true, BlockPublicPolicy=true, RestrictPublicBuckets=false`,
        "  (RestrictPublicBuckets off again; every other flag as it is now)",
        "This re-opens what Remedy closed; the Config rule will report it again unless it is exempted.",
      ].join("\n"),
    );
  });

  it("declares every call it makes (the CLI's IAM list takes these)", () => {
    expect(undoFor("s3-account-public-access-block").undo.permissions).toEqual({
      GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
      PutAccountPublicAccessBlockCommand: "s3:PutAccountPublicAccessBlock",
      DeleteAccountPublicAccessBlockCommand: "s3:PutAccountPublicAccessBlock",
    });
  });
});

describe("undo: tampered account records (consistency)", () => {
  type Enabled = { before: Record<string, boolean> | null; after: Record<string, boolean>; accountId: string };
  const change = (record: LedgerRecord) => record.changes[0] as unknown as Enabled;
  const state = (value: LedgerRecord["before"]) =>
    value as unknown as { accountId: string; publicAccessBlock: unknown };
  const cases: [string, (record: LedgerRecord) => void, RegExp][] = [
    [
      "a change that turned a flag off",
      (record) => {
        change(record).after.BlockPublicAcls = false;
      },
      /its change turned BlockPublicAcls off; a fix only turns flags on/,
    ],
    [
      "a change that turned nothing on",
      (record) => {
        change(record).after.RestrictPublicBuckets = false;
        state(record.after).publicAccessBlock = RESTRICT_OFF;
      },
      /its change turned no flag on/,
    ],
    [
      "before-flags that are not the before-state's",
      (record) => {
        change(record).before = { ...RESTRICT_OFF, BlockPublicAcls: false };
      },
      /its change's before-flags are not its before-state's/,
    ],
    [
      "another account's before-state",
      (record) => {
        state(record.before).accountId = "210987654321";
        change(record).accountId = "210987654321";
      },
      /its before-state is for account 210987654321, its resource is 123456789012 in account 123456789012/,
    ],
    [
      "an after-state that is not the change's flags",
      (record) => {
        state(record.after).publicAccessBlock = RESTRICT_OFF;
      },
      /its after-state is not the flags its change set/,
    ],
    [
      "a second change",
      (record) => {
        record.changes.push({ kind: "restored", summary: "x" });
      },
      /its changes \(account-public-access-block-enabled, restored\) are not the one account-public-access-block-enabled a fix makes/,
    ],
  ];

  it.each(cases)("refuses a signed record with %s, and sends nothing", async (_name, tamper, message) => {
    const record = structuredClone(await (await fixed(RESTRICT_OFF)).read(ACTION_ID));
    tamper(record);
    const ledger = memoryLedger(testSigner());
    await ledger.write(record);
    liveFlags(ALL_ON);
    const error = await undoAction(ACTION_ID, undoDeps(ledger)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UndoError);
    expect((error as Error).message).toMatch(new RegExp(`^${ACTION_ID} is inconsistent, so it is not undone: `));
    expect((error as Error).message).toMatch(message);
    expect(s3ControlMock).not.toHaveReceivedCommand(PutAccountBlockCommand);
    expect(s3ControlMock).not.toHaveReceivedCommand(DeleteAccountBlockCommand);
  });
});
