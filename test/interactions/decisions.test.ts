// The decision record: its schema and key, and the put-if-absent write (a double click acts once).
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type DecisionRecord,
  DecisionStoreError,
  DecisionStoreUnavailableError,
  decisionKey,
  InvalidDecisionError,
  parseDecisionRecord,
  readDecisions,
  recordDecision,
} from "../../contract/decisions.ts";
import { withdrawDecision } from "../../functions/interactions/withdraw.ts";
import { awsError } from "../support/kit.ts";

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({});
const BUCKET = "remedy-ledger-123456789012-us-east-1";
const INSTRUCTION_ID = "0123456789abcdef0123456789abcdef";
const ACTION_ID = "act-20261120T102819Z-7c1d9e2f";
const body = (text: string) => ({ transformToString: async () => text }) as never;

function decision(overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    version: 1,
    decisionId: "dec-1",
    action: "fix-now",
    target: { instructionId: INSTRUCTION_ID },
    by: { slackUserId: "U012ALICE0", teamId: "T0TEAM0001" },
    at: "2026-11-20T10:30:00.000Z",
    ...overrides,
  };
}

function precondition(): S3ServiceException {
  return new S3ServiceException({
    name: "PreconditionFailed",
    $fault: "client",
    message: "At least one of the pre-conditions you specified did not hold",
    $metadata: { httpStatusCode: 412 },
  });
}

beforeEach(() => s3Mock.reset());

describe("decisionKey", () => {
  it("is decisions/<instructionId or actionId>/<action>.json", () => {
    expect(decisionKey({ instructionId: INSTRUCTION_ID }, "snooze")).toBe(`decisions/${INSTRUCTION_ID}/snooze.json`);
    expect(decisionKey({ actionId: ACTION_ID }, "undo")).toBe(`decisions/${ACTION_ID}/undo.json`);
  });

  it("refuses ids that are not of their shape (no path from a claim)", () => {
    expect(() => decisionKey({ instructionId: "../../exemptions/x" }, "snooze")).toThrow(InvalidDecisionError);
    expect(() => decisionKey({ actionId: "act-1/../x" }, "undo")).toThrow(InvalidDecisionError);
    expect(() => decisionKey({ instructionId: INSTRUCTION_ID }, "delete" as never)).toThrow(InvalidDecisionError);
  });
});

describe("parseDecisionRecord", () => {
  it("accepts a record, with details", () => {
    const record = decision({ action: "exempt", details: { reason: "vendor feed", until: "2026-12-01" } });
    expect(parseDecisionRecord(record)).toEqual(record);
    expect(parseDecisionRecord(decision({ action: "undo", target: { actionId: ACTION_ID } }))).toMatchObject({
      action: "undo",
    });
  });

  it("refuses a malformed record, naming the field", () => {
    const cases: [unknown, RegExp][] = [
      [{ ...decision(), version: 2 }, /version/],
      [{ ...decision(), action: "delete" }, /action/],
      [{ ...decision(), extra: true }, /extra/],
      [decision({ target: { instructionId: "abc" } }), /target/],
      [decision({ target: { instructionId: INSTRUCTION_ID, actionId: ACTION_ID } as never }), /target/],
      [decision({ by: { slackUserId: "alice", teamId: "T0TEAM0001" } }), /by\.slackUserId/],
      [decision({ by: { slackUserId: "U012ALICE0", teamId: "acme" } }), /by\.teamId/],
      [decision({ at: "yesterday" }), /at/],
      [decision({ at: "2026-13-45T10:30:00Z" }), /at: must be a real instant/],
      [decision({ decisionId: "a/b" }), /decisionId/],
      [decision({ action: "undo" }), /undo targets an action id/],
      [decision({ action: "fix-now", target: { actionId: ACTION_ID } }), /undo targets an action id/],
      [null, /record/],
    ];
    for (const [value, message] of cases) {
      expect(() => parseDecisionRecord(value)).toThrow(InvalidDecisionError);
      expect(() => parseDecisionRecord(value)).toThrow(message);
    }
  });
});

describe("recordDecision", () => {
  it("writes the record put-if-absent", async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"e1"' });
    const record = decision();
    expect(await recordDecision(s3, BUCKET, record)).toEqual({
      recorded: true,
      key: `decisions/${INSTRUCTION_ID}/fix-now.json`,
    });
    const puts = s3Mock.commandCalls(PutObjectCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]!.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: `decisions/${INSTRUCTION_ID}/fix-now.json`,
      Body: `${JSON.stringify(record, null, 2)}\n`,
      ContentType: "application/json",
      ServerSideEncryption: "AES256",
      IfNoneMatch: "*",
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it("a second press (412) acts once: returns the decision already there", async () => {
    const first = decision({ decisionId: "dec-first", by: { slackUserId: "W012BOB000", teamId: "T0TEAM0001" } });
    s3Mock.on(PutObjectCommand).rejects(precondition());
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(first)) });
    expect(await recordDecision(s3, BUCKET, decision({ decisionId: "dec-second" }))).toEqual({
      recorded: false,
      key: `decisions/${INSTRUCTION_ID}/fix-now.json`,
      existing: first,
    });
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: BUCKET,
      Key: `decisions/${INSTRUCTION_ID}/fix-now.json`,
    });
  });

  it("a concurrent write (409) whose object is not there yet is retryable", async () => {
    s3Mock.on(PutObjectCommand).rejects(awsError("ConditionalRequestConflict", 409));
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }));
    await expect(recordDecision(s3, BUCKET, decision())).rejects.toBeInstanceOf(DecisionStoreUnavailableError);
  });

  it("an existing record that is not valid is a permanent error, never a decision", async () => {
    s3Mock.on(PutObjectCommand).rejects(precondition());
    s3Mock.on(GetObjectCommand).resolves({ Body: body('{"version":1}') });
    await expect(recordDecision(s3, BUCKET, decision())).rejects.toBeInstanceOf(InvalidDecisionError);
    s3Mock.on(GetObjectCommand).resolves({ Body: body("not json") });
    await expect(recordDecision(s3, BUCKET, decision())).rejects.toThrow(/not JSON/);
  });

  it("sorts other failures: throttling and 5xx retryable, denial permanent", async () => {
    s3Mock.on(PutObjectCommand).rejects(awsError("SlowDown", 503));
    await expect(recordDecision(s3, BUCKET, decision())).rejects.toMatchObject({
      name: "DecisionStoreUnavailableError",
      kind: "retryable",
      code: "SlowDown",
    });
    s3Mock.on(PutObjectCommand).rejects(awsError("InternalError", 500));
    await expect(recordDecision(s3, BUCKET, decision())).rejects.toBeInstanceOf(DecisionStoreUnavailableError);
    s3Mock.on(PutObjectCommand).rejects(awsError("AccessDenied", 403, "Access Denied"));
    const denied = recordDecision(s3, BUCKET, decision());
    await expect(denied).rejects.toBeInstanceOf(DecisionStoreError);
    await expect(denied).rejects.toMatchObject({ kind: "permanent", code: "AccessDenied" });
    await expect(denied).rejects.toThrow(`s3://${BUCKET}/decisions/${INSTRUCTION_ID}/fix-now.json`);
  });

  it("a read of the existing record that fails is sorted the same way", async () => {
    s3Mock.on(PutObjectCommand).rejects(precondition());
    s3Mock.on(GetObjectCommand).rejects(awsError("AccessDenied", 403));
    await expect(recordDecision(s3, BUCKET, decision())).rejects.toBeInstanceOf(DecisionStoreError);
  });

  it("writes nothing for an invalid record", async () => {
    await expect(recordDecision(s3, BUCKET, decision({ action: "undo" }))).rejects.toBeInstanceOf(InvalidDecisionError);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
});

describe("readDecisions", () => {
  const OTHER_ID = "fedcba9876543210fedcba9876543210";
  const key = (action: string, id = INSTRUCTION_ID) => `decisions/${id}/${action}.json`;

  /** The bucket as a map of key → body, listed under the asked prefix, two keys a page. */
  function bucket(objects: Record<string, string>) {
    s3Mock
      .on(ListObjectsV2Command)
      .callsFake((input: { Prefix: string; ContinuationToken?: string; MaxKeys?: number }) => {
        const keys = Object.keys(objects).filter((each) => each.startsWith(input.Prefix));
        const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
        const size = input.MaxKeys ?? 1_000;
        const page = keys.slice(start, start + size);
        const more = start + size < keys.length;
        return {
          Contents: page.map((Key) => ({ Key })),
          IsTruncated: more,
          ...(more ? { NextContinuationToken: String(start + 2) } : {}),
        };
      });
    s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const text = objects[input.Key];
      if (text === undefined) throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} });
      return { Body: body(text) };
    });
  }

  it("lists the instruction's prefix (one bounded page) and returns its valid records", async () => {
    const fixNow = decision();
    const snooze = decision({ decisionId: "dec-2", action: "snooze", at: "2026-11-20T10:31:00.000Z" });
    const exempt = decision({ decisionId: "dec-3", action: "exempt", details: { reason: "vendor" } });
    bucket({
      [key("fix-now")]: JSON.stringify(fixNow),
      [key("snooze")]: JSON.stringify(snooze),
      [key("exempt")]: JSON.stringify(exempt),
      [key("fix-now", OTHER_ID)]: JSON.stringify(decision({ target: { instructionId: OTHER_ID } })),
    });
    expect(await readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID })).toEqual({
      records: [fixNow, snooze, exempt],
      invalid: [],
    });
    const lists = s3Mock.commandCalls(ListObjectsV2Command).map((call) => call.args[0].input);
    expect(lists).toEqual([{ Bucket: BUCKET, Prefix: `decisions/${INSTRUCTION_ID}/`, MaxKeys: 20 }]);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(3);
  });

  it("stops at one page however much is stored under the prefix, and says so", async () => {
    const junk = Object.fromEntries(
      Array.from({ length: 30 }, (_, index) => [
        `decisions/${INSTRUCTION_ID}/junk-${String(index).padStart(2, "0")}.json`,
        "{}",
      ]),
    );
    bucket(junk);
    const reading = await readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID });
    expect(s3Mock.commandCalls(ListObjectsV2Command)).toHaveLength(1);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(reading.records).toEqual([]);
    expect(reading.invalid[0]).toEqual({
      key: `decisions/${INSTRUCTION_ID}/`,
      reason: "more than 20 objects: only the first 20 were looked at",
    });
    expect(reading.invalid).toHaveLength(21);
  });

  it("an empty prefix is no decision", async () => {
    bucket({});
    expect(await readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID })).toEqual({ records: [], invalid: [] });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it("a record that lies about its key, its target or its shape is invalid, never a decision", async () => {
    bucket({
      // A fix-now stored as a snooze.
      [key("snooze")]: JSON.stringify(decision()),
      // Another instruction's record under this one's prefix.
      [key("fix-now")]: JSON.stringify(decision({ target: { instructionId: OTHER_ID } })),
      [key("exempt")]: "not json",
      [key("undo")]: JSON.stringify({ version: 1 }),
      // No decision can have these keys: not even read.
      [`decisions/${INSTRUCTION_ID}/fix-now/../snooze.json`]: JSON.stringify(decision({ action: "snooze" })),
      [`decisions/${INSTRUCTION_ID}/notes.txt`]: "ignored",
    });
    const reading = await readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID });
    expect(reading.records).toEqual([]);
    const reasons = Object.fromEntries(reading.invalid.map((each) => [each.key, each.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      [
        key("snooze"),
        key("fix-now"),
        key("exempt"),
        key("undo"),
        `decisions/${INSTRUCTION_ID}/fix-now/../snooze.json`,
      ].sort(),
    );
    expect(reasons[key("snooze")]).toMatch(/a fix-now record under another action's key/);
    expect(reasons[key("fix-now")]).toMatch(/another instruction/);
    expect(reasons[key("exempt")]).toMatch(/not JSON/);
    expect(reasons[key("undo")]).toMatch(/decisionId|action|record/);
    expect(reasons[`decisions/${INSTRUCTION_ID}/fix-now/../snooze.json`]).toBe("not a decision key");
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(4);
  });

  it("a record deleted between the listing and the read is skipped", async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: key("fix-now") }], IsTruncated: false });
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: "gone", $metadata: {} }));
    expect(await readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID })).toEqual({ records: [], invalid: [] });
  });

  it("sorts store failures as the write does: throttling and 5xx retryable, denial permanent", async () => {
    s3Mock.on(ListObjectsV2Command).rejects(awsError("SlowDown", 503));
    await expect(readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID })).rejects.toBeInstanceOf(
      DecisionStoreUnavailableError,
    );
    s3Mock.on(ListObjectsV2Command).rejects(awsError("AccessDenied", 403));
    await expect(readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID })).rejects.toMatchObject({
      name: "DecisionStoreError",
      code: "AccessDenied",
    });
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: key("fix-now") }] });
    s3Mock.on(GetObjectCommand).rejects(awsError("InternalError", 500));
    await expect(readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID })).rejects.toBeInstanceOf(
      DecisionStoreUnavailableError,
    );
    s3Mock.on(GetObjectCommand).rejects(awsError("AccessDenied", 403));
    await expect(readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID })).rejects.toThrow(
      `s3://${BUCKET}/${key("fix-now")}`,
    );
  });

  it("refuses an id that is not an instruction's (no prefix from a claim)", async () => {
    await expect(readDecisions(s3, BUCKET, { instructionId: "../pending" })).rejects.toBeInstanceOf(
      InvalidDecisionError,
    );
    expect(s3Mock.calls()).toHaveLength(0);
  });

  it("passes the abort signal to every call", async () => {
    bucket({ [key("fix-now")]: JSON.stringify(decision()) });
    const controller = new AbortController();
    await readDecisions(s3, BUCKET, { instructionId: INSTRUCTION_ID }, { abortSignal: controller.signal });
    // The listing and the record's read, both with the signal.
    expect(s3Mock.commandCalls(ListObjectsV2Command).length).toBeGreaterThan(0);
    expect(s3Mock.commandCalls(GetObjectCommand).length).toBeGreaterThan(0);
    for (const call of s3Mock.calls()) expect((call.args as unknown[])[1]).toEqual({ abortSignal: controller.signal });
  });
});

describe("recordDecision: a decision about an earlier detection of the problem", () => {
  const earlier = decision({ decisionId: "dec-old", at: "2026-11-01T09:00:00.000Z" });
  const pressed = decision({ decisionId: "dec-new", at: "2026-11-20T10:30:00.000Z" });
  const put = (input: Record<string, unknown>) =>
    s3Mock
      .commandCalls(PutObjectCommand)
      .filter((call) => JSON.stringify(call.args[0].input).includes(JSON.stringify(input).slice(1, -1)));

  it("is replaced (If-Match on the one read) when taken before this detection's decisions begin", async () => {
    s3Mock
      .on(PutObjectCommand, { IfNoneMatch: "*" })
      .rejects(precondition())
      .on(PutObjectCommand, { IfMatch: '"old"' })
      .resolves({});
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(earlier)), ETag: '"old"' });
    const outcome = await recordDecision(s3, BUCKET, pressed, { supersedeBefore: "2026-11-20T10:00:00.000Z" });
    expect(outcome).toEqual({ recorded: true, key: `decisions/${INSTRUCTION_ID}/fix-now.json`, superseded: earlier });
    expect(put({ IfMatch: '"old"' })).toHaveLength(1);
  });

  it("wins when it is about this detection: the press acts once, the earlier decider is named", async () => {
    const same = decision({ decisionId: "dec-first", at: "2026-11-20T10:20:00.000Z" });
    s3Mock.on(PutObjectCommand).rejects(precondition());
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(same)), ETag: '"first"' });
    const outcome = await recordDecision(s3, BUCKET, pressed, { supersedeBefore: "2026-11-20T10:00:00.000Z" });
    expect(outcome).toEqual({ recorded: false, key: `decisions/${INSTRUCTION_ID}/fix-now.json`, existing: same });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it("two presses replacing it at once: the second's If-Match fails and it gets the first's decision", async () => {
    const first = decision({ decisionId: "dec-first", at: "2026-11-20T10:29:00.000Z" });
    s3Mock.on(PutObjectCommand).rejects(precondition());
    s3Mock
      .on(GetObjectCommand)
      .resolvesOnce({ Body: body(JSON.stringify(earlier)), ETag: '"old"' })
      .resolves({ Body: body(JSON.stringify(first)), ETag: '"first"' });
    const outcome = await recordDecision(s3, BUCKET, pressed, { supersedeBefore: "2026-11-20T10:00:00.000Z" });
    expect(outcome).toEqual({ recorded: false, key: `decisions/${INSTRUCTION_ID}/fix-now.json`, existing: first });
  });

  it("is kept without supersedeBefore (undo's targets are action ids: they never repeat)", async () => {
    s3Mock.on(PutObjectCommand).rejects(precondition());
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(earlier)), ETag: '"old"' });
    expect(await recordDecision(s3, BUCKET, pressed)).toMatchObject({ recorded: false, existing: earlier });
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });
});

describe("withdrawDecision: a decision that could not be carried out is taken back, only while it is still there", () => {
  const withdrawing = decision({ decisionId: "dec-mine", action: "undo", target: { actionId: ACTION_ID } });
  const at = `decisions/${ACTION_ID}/undo.json`;

  it("deletes the record If-Match the ETag read, when it holds this decision", async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(withdrawing)), ETag: '"e1"' });
    s3Mock.on(DeleteObjectCommand).resolves({});
    expect(await withdrawDecision(s3, BUCKET, withdrawing)).toBe(true);
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input)).toEqual([
      { Bucket: BUCKET, Key: at, IfMatch: '"e1"' },
    ]);
  });

  it("leaves another decision, a record not valid, or none, and a record replaced since it was read", async () => {
    s3Mock.on(DeleteObjectCommand).resolves({});
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify({ ...withdrawing, decisionId: "dec-other" })) });
    expect(await withdrawDecision(s3, BUCKET, withdrawing)).toBe(false);
    s3Mock.on(GetObjectCommand).resolves({ Body: body("{") });
    expect(await withdrawDecision(s3, BUCKET, withdrawing)).toBe(false);
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: "gone", $metadata: {} }));
    expect(await withdrawDecision(s3, BUCKET, withdrawing)).toBe(false);
    expect(s3Mock.commandCalls(DeleteObjectCommand)).toEqual([]);
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(withdrawing)), ETag: '"e1"' });
    s3Mock.on(DeleteObjectCommand).rejects(precondition());
    expect(await withdrawDecision(s3, BUCKET, withdrawing)).toBe(false);
  });

  it("a store that refuses throws as the other decision calls do", async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(withdrawing)), ETag: '"e1"' });
    s3Mock.on(DeleteObjectCommand).rejects(awsError("AccessDenied", 403));
    await expect(withdrawDecision(s3, BUCKET, withdrawing)).rejects.toBeInstanceOf(DecisionStoreError);
    s3Mock.on(DeleteObjectCommand).rejects(awsError("SlowDown", 503));
    await expect(withdrawDecision(s3, BUCKET, withdrawing)).rejects.toBeInstanceOf(DecisionStoreUnavailableError);
  });
});
