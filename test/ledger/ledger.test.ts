import { createHash } from "node:crypto";
import { GenerateMacCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { canonicalJson } from "../../contract/canonical-json.ts";
import {
  claimObject,
  InvalidLedgerRecordError,
  integrityMessage,
  kmsRecordSigner,
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
} from "../../contract/ledger.ts";
import {
  ACCOUNT,
  ACTION_ID,
  awsError,
  fakeGenerateMac,
  GROUP_ID,
  SG_RULES,
  signRecord,
  TEST_MAC_KEY_ID,
  testSigner,
} from "../remediation/support.ts";

const s3Mock = mockClient(S3Client);
const kmsMock = mockClient(KMSClient);
beforeEach(() => {
  s3Mock.reset();
  kmsMock.reset();
});
afterAll(() => {
  s3Mock.restore();
  kmsMock.restore();
});

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
  it("accepts a record with its integrity MAC, and rejects a malformed one", async () => {
    const signed = await signRecord(record());
    expect(parseLedgerRecord(JSON.stringify(signed))).toEqual(signed);
    const integrity = signed.integrity!;
    expect(() => parseLedgerRecord({ ...signed, integrity: { ...integrity, algorithm: "HMAC_SHA_512" } })).toThrow(
      /^integrity\.algorithm: unsupported MAC algorithm HMAC_SHA_512/,
    );
    expect(() => parseLedgerRecord({ ...signed, integrity: { ...integrity, mac: "not base64!" } })).toThrow(
      /^integrity\.mac: must be base64/,
    );
    expect(() => parseLedgerRecord({ ...signed, integrity: { ...integrity, keyId: "" } })).toThrow(
      InvalidLedgerRecordError,
    );
  });
  it("refuses absurd nesting with a clear error, as text or as an object", () => {
    let deep: unknown = "x";
    for (let level = 0; level < 100_000; level++) deep = [deep];
    const nested = record({
      changes: [{ kind: "policy-statements-removed", bucket: "b", statements: [{ Deep: deep }], policyDeleted: true }],
    });
    expect(() => parseLedgerRecord(nested)).toThrow(
      new InvalidLedgerRecordError("ledger record nests deeper than 64 levels"),
    );
    const text = `{"changes":[${"[".repeat(100_000)}${"]".repeat(100_000)}]}`;
    expect(() => parseLedgerRecord(text)).toThrow(
      new InvalidLedgerRecordError("ledger record nests deeper than 64 levels"),
    );
  });
  it("turns any failure into InvalidLedgerRecordError", () => {
    const hostile = {
      get version(): number {
        throw new RangeError("boom");
      },
    };
    expect(() => parseLedgerRecord(hostile)).toThrow(InvalidLedgerRecordError);
    expect(() => parseLedgerRecord(hostile)).toThrow(/boom/);
    expect(() => parseLedgerRecord(42)).toThrow(InvalidLedgerRecordError);
  });
});

describe("integrity", () => {
  it("the MAC covers the SHA-256 of the record's canonical JSON without its integrity, small enough for KMS", async () => {
    const big = record({
      changes: [
        {
          kind: "policy-statements-removed",
          bucket: "b",
          statements: Array.from({ length: 200 }, (_, index) => ({
            Sid: `S${index}`,
            Effect: "Allow",
            Principal: "*",
          })),
          policyDeleted: true,
        },
      ],
    });
    const message = integrityMessage(big);
    expect(Buffer.from(message)).toEqual(createHash("sha256").update(canonicalJson(big)).digest());
    expect(message.length).toBeLessThanOrEqual(4096);
    expect(integrityMessage(await signRecord(big))).toEqual(message);
  });

  it("the local signer verifies its own MACs only, over the record as signed", async () => {
    const signer = testSigner();
    const signed = await signRecord(record());
    const integrity = signed.integrity!;
    expect(integrity).toEqual({ keyId: TEST_MAC_KEY_ID, algorithm: "HMAC_SHA_256", mac: expect.any(String) });
    expect(await signer.verify({ ...signed, integrity })).toBe(true);
    const tampered = structuredClone(signed);
    (tampered.before as { rules: { FromPort?: number }[] }).rules[0]!.FromPort = 3389;
    expect(await signer.verify({ ...tampered, integrity })).toBe(false);
    expect(await testSigner("other secret").verify({ ...signed, integrity })).toBe(false);
    expect(await signer.verify({ ...signed, integrity: { ...integrity, keyId: "arn:aws:kms:::key/other" } })).toBe(
      false,
    );
  });

  it("the KMS signer asks GenerateMac (HMAC_SHA_256) with the record's digest and records the key KMS used", async () => {
    kmsMock.on(GenerateMacCommand).callsFake(fakeGenerateMac);
    const signer = kmsRecordSigner(new KMSClient({}), "alias/remedy-ledger-mac");
    const integrity = await signer.sign(record());
    expect(kmsMock).toHaveReceivedCommandWith(GenerateMacCommand, {
      KeyId: "alias/remedy-ledger-mac",
      MacAlgorithm: "HMAC_SHA_256",
      Message: integrityMessage(record()),
    });
    // The same MAC the local signer computes with the same secret: one semantics.
    expect(integrity).toEqual((await signRecord(record())).integrity);
    kmsMock.on(GenerateMacCommand).resolves({ KeyId: TEST_MAC_KEY_ID });
    await expect(signer.sign(record())).rejects.toThrow(/returned no MAC/);
  });

  it("the S3 ledger signs every record it writes when given a signer; a failed signature writes nothing", async () => {
    s3Mock.on(PutObjectCommand).resolves({});
    kmsMock.on(GenerateMacCommand).callsFake(fakeGenerateMac);
    const config = { bucket: "remedy-ledger", signer: kmsRecordSigner(new KMSClient({}), TEST_MAC_KEY_ID) };
    await s3Ledger(new S3Client({}), config).write(record());
    const body = String(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.Body);
    const stored = parseLedgerRecord(body);
    expect(stored).toEqual(await signRecord(record()));
    expect(await testSigner().verify({ ...stored, integrity: stored.integrity! })).toBe(true);

    s3Mock.resetHistory();
    kmsMock.on(GenerateMacCommand).rejects(awsError("AccessDeniedException", 400));
    await expect(s3Ledger(new S3Client({}), config).write(record())).rejects.toThrow(/AccessDeniedException/);
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it("the memory ledger signs on write (replacing any earlier MAC) and without a signer stores records as given", async () => {
    const signing = memoryLedger(testSigner());
    const forged = {
      ...record(),
      integrity: { keyId: TEST_MAC_KEY_ID, algorithm: "HMAC_SHA_256" as const, mac: "AAAA" },
    };
    await signing.write(forged);
    expect(await signing.read(ACTION_ID)).toEqual(await signRecord(record()));
    const plain = memoryLedger();
    await plain.write(forged);
    expect((await plain.read(ACTION_ID)).integrity).toEqual(forged.integrity);
    await plain.write(record());
    expect((await plain.read(ACTION_ID)).integrity).toBeUndefined();
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
