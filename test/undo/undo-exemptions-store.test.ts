// The undo exemptions' S3 store (platform/undo-exemptions.ts reads, undo-exemptions-store.ts writes): reading one resource's object (absent, malformed,
// another resource's, unreadable), adding with conditional writes, listing and lifting.
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
import { matchedEntryKey } from "../../contract/instruction.ts";
import { undoExemptionKey } from "../../contract/undo-exemption.ts";
import { undoExemptionReader } from "../../platform/undo-exemptions.ts";
import {
  addUndoExemption,
  liftUndoExemption,
  listUndoExemptions,
  UndoExemptionConflictError,
} from "../../platform/undo-exemptions-store.ts";
import {
  EXEMPT_AT,
  EXEMPT_UNTIL,
  exemptionRecord,
  FIX_ACTION,
  GROUP,
  OPERATOR,
  RDP_ENTRY,
  SSH_ENTRY,
  UNDO_ACTION,
} from "./exemption-fixtures.ts";

const s3Mock = mockClient(S3Client);
const BUCKET = "remedy-ledger-123456789012";
const KEY = undoExemptionKey(GROUP);

/** What S3 answers GetObject with: the body, its ETag. */
function stored(text: string, etag = '"etag-1"') {
  return { Body: { transformToString: async () => text } as never, ETag: etag, ContentLength: text.length };
}

const noSuchKey = () =>
  new NoSuchKey({ message: "The specified key does not exist.", $metadata: { httpStatusCode: 404 } });
const preconditionFailed = () =>
  new S3ServiceException({
    name: "PreconditionFailed",
    message: "At least one of the pre-conditions you specified did not hold",
    $fault: "client",
    $metadata: { httpStatusCode: 412 },
  });

const addition = (entries = [SSH_ENTRY]) => ({
  resource: GROUP,
  entries: entries.map((entry) => ({ problem: "sg-open-ingress", entry })),
  undoActionId: UNDO_ACTION,
  undoes: FIX_ACTION,
  by: OPERATOR,
  at: EXEMPT_AT,
  until: EXEMPT_UNTIL,
});

beforeEach(() => s3Mock.reset());

describe("undoExemptionReader", () => {
  const s3 = new S3Client({ region: "us-east-1" });

  it("reads the resource's own object, by its key", async () => {
    s3Mock.on(GetObjectCommand, { Bucket: BUCKET, Key: KEY }).resolves(stored(JSON.stringify(exemptionRecord())));
    expect(await undoExemptionReader(s3, BUCKET)(GROUP)).toEqual(exemptionRecord());
  });

  it("no object: no exemption", async () => {
    s3Mock.on(GetObjectCommand).rejects(noSuchKey());
    const invalid: string[] = [];
    expect(await undoExemptionReader(s3, BUCKET, (reason) => invalid.push(reason))(GROUP)).toBeUndefined();
    expect(invalid).toEqual([]);
  });

  it.each([
    ["not JSON", "{not json"],
    ["a forged field", JSON.stringify({ ...exemptionRecord(), exemptAll: true })],
    [
      "another resource's record",
      JSON.stringify(exemptionRecord([SSH_ENTRY], { resource: { ...GROUP, id: "sg-0other0000000000" } })),
    ],
    ["an empty body", ""],
  ])("%s: no exemption, and the reader is told why", async (_what, text) => {
    s3Mock.on(GetObjectCommand).resolves(stored(text));
    const invalid: string[] = [];
    expect(await undoExemptionReader(s3, BUCKET, (reason) => invalid.push(reason))(GROUP)).toBeUndefined();
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toContain(KEY);
  });

  it("any other error is thrown (the runner retries: it never fixes on an unreadable exemption)", async () => {
    const denied = new S3ServiceException({
      name: "AccessDenied",
      message: "Access Denied",
      $fault: "client",
      $metadata: { httpStatusCode: 403 },
    });
    s3Mock.on(GetObjectCommand).rejects(denied);
    await expect(undoExemptionReader(s3, BUCKET)(GROUP)).rejects.toBe(denied);
  });
});

describe("addUndoExemption", () => {
  const s3 = new S3Client({ region: "us-east-1" });

  it("creates the object with If-None-Match when there is none", async () => {
    s3Mock.on(GetObjectCommand).rejects(noSuchKey());
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"new"' });
    const added = await addUndoExemption(s3, BUCKET, addition(), EXEMPT_AT);
    expect(added).toEqual({ record: exemptionRecord(), key: KEY });
    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Bucket: BUCKET, Key: KEY, IfNoneMatch: "*", ContentType: "application/json" });
    expect(put.IfMatch).toBeUndefined();
    expect(JSON.parse(String(put.Body))).toEqual(exemptionRecord());
  });

  it("merges with the object there, written only if it is still that object (If-Match)", async () => {
    s3Mock.on(GetObjectCommand).resolves(stored(JSON.stringify(exemptionRecord([RDP_ENTRY])), '"etag-rdp"'));
    s3Mock.on(PutObjectCommand).resolves({});
    const added = await addUndoExemption(s3, BUCKET, addition(), EXEMPT_AT);
    expect(added.record.entries.map((entry) => entry.key).sort()).toEqual(
      [matchedEntryKey(RDP_ENTRY), matchedEntryKey(SSH_ENTRY)].sort(),
    );
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ IfMatch: '"etag-rdp"' });
  });

  it("a write that lost a race reads again and keeps the other undo's entries", async () => {
    s3Mock
      .on(GetObjectCommand)
      .rejectsOnce(noSuchKey())
      .resolves(stored(JSON.stringify(exemptionRecord([RDP_ENTRY])), '"etag-theirs"'));
    s3Mock.on(PutObjectCommand).rejectsOnce(preconditionFailed()).resolves({});
    const added = await addUndoExemption(s3, BUCKET, addition(), EXEMPT_AT);
    expect(added.record.entries).toHaveLength(2);
    const puts = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts.map((put) => [put.IfNoneMatch, put.IfMatch])).toEqual([
      ["*", undefined],
      [undefined, '"etag-theirs"'],
    ]);
  });

  it("gives up after repeated races, retryable", async () => {
    s3Mock.on(GetObjectCommand).rejects(noSuchKey());
    s3Mock.on(PutObjectCommand).rejects(preconditionFailed());
    await expect(addUndoExemption(s3, BUCKET, addition(), EXEMPT_AT)).rejects.toThrow(UndoExemptionConflictError);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(4);
  });

  it("replaces an object that is not valid, and says so", async () => {
    s3Mock.on(GetObjectCommand).resolves(stored('{"version":1,"exemptAll":true}', '"etag-bad"'));
    s3Mock.on(PutObjectCommand).resolves({});
    const added = await addUndoExemption(s3, BUCKET, addition(), EXEMPT_AT);
    expect(added.replacedInvalid).toMatch(/exemptAll|resource/);
    expect(added.record).toEqual(exemptionRecord());
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.IfMatch).toBe('"etag-bad"');
  });
});

describe("listUndoExemptions and liftUndoExemption", () => {
  const s3 = new S3Client({ region: "us-east-1" });
  const OTHER = { ...GROUP, id: "sg-0fffffffffffffff0" };
  const otherKey = undoExemptionKey(OTHER);

  it("lists every object under exemptions/, page by page; an invalid one is listed with why", async () => {
    s3Mock
      .on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: "exemptions/", ContinuationToken: undefined })
      .resolves({ Contents: [{ Key: KEY }], IsTruncated: true, NextContinuationToken: "page-2" })
      .on(ListObjectsV2Command, { Bucket: BUCKET, Prefix: "exemptions/", ContinuationToken: "page-2" })
      .resolves({ Contents: [{ Key: otherKey }, { Key: "exemptions/stray.json" }], IsTruncated: false });
    s3Mock
      .on(GetObjectCommand, { Key: KEY })
      .resolves(stored(JSON.stringify(exemptionRecord())))
      .on(GetObjectCommand, { Key: otherKey })
      .resolves(stored(JSON.stringify(exemptionRecord([RDP_ENTRY], { resource: OTHER }))))
      // A valid record under a key that is not its resource's: it exempts nothing.
      .on(GetObjectCommand, { Key: "exemptions/stray.json" })
      .resolves(stored(JSON.stringify(exemptionRecord())));
    const listing = await listUndoExemptions(s3, BUCKET);
    expect(listing.records.map((record) => record.resource.id)).toEqual([GROUP.id, OTHER.id]);
    expect(listing.invalid).toEqual([
      { key: "exemptions/stray.json", reason: expect.stringContaining("names another resource") },
    ]);
  });

  it("lift deletes the resource's object, and says whether there was one", async () => {
    s3Mock
      .on(GetObjectCommand)
      .resolvesOnce(stored(JSON.stringify(exemptionRecord())))
      .rejects(noSuchKey());
    s3Mock.on(DeleteObjectCommand).resolves({});
    expect(await liftUndoExemption(s3, BUCKET, GROUP)).toBe(true);
    expect(s3Mock).toHaveReceivedCommandWith(DeleteObjectCommand, { Bucket: BUCKET, Key: KEY });
    expect(await liftUndoExemption(s3, BUCKET, GROUP)).toBe(false);
    expect(s3Mock.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });
});
