import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  claimObject,
  InvalidLedgerRecordError,
  type LedgerRecord,
  LedgerRecordNotFoundError,
  ledgerKey,
  listRecentRecords,
  memoryLedger,
  newActionId,
  parseLedgerRecord,
  readLedgerRecord,
  s3Ledger,
  writeLedgerRecord,
} from "../../shared/ledger.ts";
import { ACCOUNT, ACTION_ID, awsError, GROUP_ID, SG_RULES } from "../remediation/support.ts";

const s3Mock = mockClient(S3Client);
beforeEach(() => s3Mock.reset());
afterAll(() => s3Mock.restore());

function record(overrides: Partial<LedgerRecord> = {}): LedgerRecord {
  return {
    version: 1,
    actionId: ACTION_ID,
    instructionId: "0123456789abcdef0123456789abcdef",
    problem: "sg-open-ingress",
    resource: { type: "AWS::EC2::SecurityGroup", id: GROUP_ID, accountId: ACCOUNT, region: "us-east-1" },
    ruleId: "sg-open-ingress",
    outcome: "fixed",
    changes: [
      {
        kind: "sg-rules-revoked",
        groupId: GROUP_ID,
        rules: [{ ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" }],
      },
    ],
    before: { kind: "sg-rules", groupId: GROUP_ID, rules: [SG_RULES[0]!] as never },
    after: { kind: "sg-rules", groupId: GROUP_ID, rules: [] },
    startedAt: "2026-11-20T10:28:19.000Z",
    finishedAt: "2026-11-20T10:28:20.000Z",
    ...overrides,
  };
}

function body(text: string) {
  return { Body: { transformToString: async () => text } } as never;
}

describe("action ids and keys", () => {
  it("are time-sortable and carry their date", () => {
    const id = newActionId(new Date("2026-11-20T10:28:19.456Z"), () => "7c1d9e2f");
    expect(id).toBe("act-20261120T102819Z-7c1d9e2f");
    expect(ledgerKey(id)).toBe("actions/2026-11-20/act-20261120T102819Z-7c1d9e2f.json");
    expect(newActionId(new Date())).toMatch(/^act-\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(() => ledgerKey("../../etc/passwd")).toThrow(InvalidLedgerRecordError);
  });
});

describe("parseLedgerRecord", () => {
  it("accepts a record and its JSON text", () => {
    expect(parseLedgerRecord(record())).toEqual(record());
    expect(parseLedgerRecord(JSON.stringify(record()))).toEqual(record());
  });
  it.each([
    [{ version: 2 }, /unsupported ledger record version 2/],
    [{ outcome: "done" }, /^outcome: /],
    [{ actionId: "nope" }, /^actionId: must be an action id/],
    [{ before: { kind: "vpc" } }, /^before/],
  ])("rejects %j", (change, message) => {
    expect(() => parseLedgerRecord({ ...record(), ...change })).toThrow(message);
    expect(() => parseLedgerRecord({ ...record(), ...change })).toThrow(InvalidLedgerRecordError);
  });
  it("rejects text that is not JSON", () => {
    expect(() => parseLedgerRecord("{")).toThrow(/not JSON/);
  });
});

describe("S3 ledger", () => {
  it("writes one encrypted JSON object per action (AES256 by default)", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await writeLedgerRecord(new S3Client({}), { bucket: "remedy-ledger" }, record());
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: "remedy-ledger",
      Key: "actions/2026-11-20/act-20261120T102819Z-0000beef.json",
      Body: `${JSON.stringify(record(), null, 2)}\n`,
      ContentType: "application/json",
      ServerSideEncryption: "AES256",
    });
  });

  it("uses SSE-KMS with the configured key", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    await s3Ledger(new S3Client({}), { bucket: "remedy-ledger", kmsKeyId: "alias/remedy" }).write(record());
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      ServerSideEncryption: "aws:kms",
      SSEKMSKeyId: "alias/remedy",
    });
  });

  it("refuses to write an invalid record", async () => {
    await expect(
      writeLedgerRecord(new S3Client({}), { bucket: "b" }, { ...record(), outcome: "meh" as never }),
    ).rejects.toThrow(InvalidLedgerRecordError);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it("reads a record by id from its dated key", async () => {
    s3Mock.on(GetObjectCommand).resolves(body(JSON.stringify(record())));
    expect(await readLedgerRecord(new S3Client({}), { bucket: "remedy-ledger" }, ACTION_ID)).toEqual(record());
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: "remedy-ledger",
      Key: "actions/2026-11-20/act-20261120T102819Z-0000beef.json",
    });
  });

  it("says clearly when a record does not exist or is not a record", async () => {
    s3Mock.on(GetObjectCommand).rejects(awsError("NoSuchKey", 404));
    await expect(readLedgerRecord(new S3Client({}), { bucket: "b" }, ACTION_ID)).rejects.toThrow(
      LedgerRecordNotFoundError,
    );
    s3Mock.on(GetObjectCommand).resolves(body("[]"));
    await expect(readLedgerRecord(new S3Client({}), { bucket: "b" }, ACTION_ID)).rejects.toThrow(
      InvalidLedgerRecordError,
    );
  });

  it("lists the newest records first across days, reading only what it returns", async () => {
    const ids = {
      today1: "act-20261120T080000Z-00000001",
      today2: "act-20261120T090000Z-00000002",
      yesterday: "act-20261119T230000Z-00000003",
      older: "act-20261118T120000Z-00000004",
    };
    const install = () => {
      s3Mock.reset();
      s3Mock
        .on(ListObjectsV2Command, { Prefix: "actions/2026-11-20/" })
        .resolves({ Contents: [{ Key: ledgerKey(ids.today1) }, { Key: ledgerKey(ids.today2) }] });
      s3Mock
        .on(ListObjectsV2Command, { Prefix: "actions/2026-11-19/" })
        .resolvesOnce({
          Contents: [{ Key: "actions/2026-11-19/aaa-junk.json" }],
          IsTruncated: true,
          NextContinuationToken: "t",
        })
        .resolvesOnce({ Contents: [{ Key: ledgerKey(ids.yesterday) }] });
      s3Mock
        .on(ListObjectsV2Command, { Prefix: "actions/2026-11-18/" })
        .resolves({ Contents: [{ Key: ledgerKey(ids.older) }] });
      for (const id of Object.values(ids)) {
        s3Mock.on(GetObjectCommand, { Key: ledgerKey(id) }).resolves(body(JSON.stringify(record({ actionId: id }))));
      }
      s3Mock.on(GetObjectCommand, { Key: "actions/2026-11-19/aaa-junk.json" }).resolves(body("{}"));
    };
    install();

    const listing = await listRecentRecords(new S3Client({}), { bucket: "b" }, 3, {
      now: new Date("2026-11-20T10:00:00Z"),
    });
    expect(listing.records.map((r) => r.actionId)).toEqual([ids.today2, ids.today1, ids.yesterday]);
    expect(listing.invalid).toEqual([]);
    expect(s3Mock).not.toHaveReceivedCommandWith(ListObjectsV2Command, { Prefix: "actions/2026-11-18/" });

    install();
    const withJunk = await listRecentRecords(new S3Client({}), { bucket: "b" }, 10, {
      now: new Date("2026-11-20T10:00:00Z"),
      days: 3,
    });
    expect(withJunk.records.map((r) => r.actionId)).toEqual([ids.today2, ids.today1, ids.yesterday, ids.older]);
    expect(withJunk.invalid).toEqual([{ key: "actions/2026-11-19/aaa-junk.json", error: expect.any(String) }]);
  });
});

describe("memory ledger", () => {
  it("overwrites by action id, reads back, lists newest first", async () => {
    const ledger = memoryLedger();
    await ledger.write(record({ outcome: "pending", after: null }));
    await ledger.write(record());
    await ledger.write(record({ actionId: "act-20261121T000000Z-00000009" }));
    expect((await ledger.read(ACTION_ID)).outcome).toBe("fixed");
    expect(ledger.writes.map((r) => r.outcome)).toEqual(["pending", "fixed", "fixed"]);
    expect((await ledger.listRecent(5)).records.map((r) => r.actionId)).toEqual([
      "act-20261121T000000Z-00000009",
      ACTION_ID,
    ]);
    await expect(ledger.read("act-20200101T000000Z-00000000")).rejects.toThrow(LedgerRecordNotFoundError);
  });
});

describe("claims (put-if-absent)", () => {
  it("claims with a conditional write and reports a taken claim as false", async () => {
    s3Mock.on(PutObjectCommand).resolvesOnce({}).rejectsOnce(awsError("PreconditionFailed", 412));
    const config = { bucket: "remedy-ledger" };
    expect(await claimObject(new S3Client({}), config, "m-1-1.json", new Date("2026-11-20T10:00:00Z"))).toBe(true);
    expect(await claimObject(new S3Client({}), config, "m-1-1.json", new Date("2026-11-20T10:00:01Z"))).toBe(false);
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: "remedy-ledger",
      Key: "claims/m-1-1.json",
      IfNoneMatch: "*",
      ServerSideEncryption: "AES256",
    });
  });

  it("a conflicting concurrent write counts as taken; other errors are thrown", async () => {
    s3Mock
      .on(PutObjectCommand)
      .rejectsOnce(awsError("ConditionalRequestConflict", 409))
      .rejectsOnce(awsError("AccessDenied", 403));
    const config = { bucket: "remedy-ledger" };
    expect(await claimObject(new S3Client({}), config, "k", new Date())).toBe(false);
    await expect(claimObject(new S3Client({}), config, "k", new Date())).rejects.toThrow(/AccessDenied/);
  });

  it("the memory ledger claims once", async () => {
    const ledger = memoryLedger();
    expect([await ledger.claim("a"), await ledger.claim("a"), await ledger.claim("b")]).toEqual([true, false, true]);
  });
});
