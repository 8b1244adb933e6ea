// The allowlist's Slack part (platform/slack-allowlist.ts) against an in-memory bucket with S3's conditional writes.
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { findExemption } from "../../detection/exemptions.ts";
import {
  addSlackAllowlistEntry,
  cachedAllowlist,
  InvalidSlackAllowlistEntryError,
  MAX_SLACK_ALLOWLIST_ENTRIES,
  readSlackAllowlist,
  removeSlackAllowlistEntry,
  SLACK_ALLOWLIST_KEY,
  type SlackAllowlistAddition,
  SlackAllowlistConflictError,
  SlackAllowlistFullError,
} from "../../platform/slack-allowlist.ts";
import { recordingLog } from "../helpers/recording-log.ts";

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: "us-east-1" });
const BUCKET = "remedy-ledger-test";
const NOW = new Date("2026-11-20T12:00:00.000Z");

let objects: Map<string, { text: string; etag: string }>;
let version = 0;

function awsError(name: string, status: number) {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

beforeEach(() => {
  s3Mock.reset();
  objects = new Map();
  version = 0;
  s3Mock.on(GetObjectCommand).callsFake((input) => {
    const object = objects.get(input.Key);
    if (!object) throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} });
    return { Body: { transformToString: async () => object.text }, ETag: object.etag };
  });
  s3Mock.on(PutObjectCommand).callsFake((input) => {
    const current = objects.get(input.Key);
    if (input.IfNoneMatch === "*" && current) throw awsError("PreconditionFailed", 412);
    if (input.IfMatch !== undefined && current?.etag !== input.IfMatch) throw awsError("PreconditionFailed", 412);
    objects.set(input.Key, { text: String(input.Body), etag: `"${++version}"` });
    return {};
  });
});

const grant = (overrides: Partial<SlackAllowlistAddition> = {}): SlackAllowlistAddition => ({
  resource: "sg-0123456789abcdef0",
  problems: ["sg-open-ingress"],
  reason: "vendor VPN cut-over this week",
  owner: "slack:U012ABCDEF",
  expires: "2026-11-27",
  decisionId: "dec-1",
  ...overrides,
});

const stored = () => JSON.parse(objects.get(SLACK_ALLOWLIST_KEY)!.text);
const putStored = (value: unknown) =>
  objects.set(SLACK_ALLOWLIST_KEY, { text: typeof value === "string" ? value : JSON.stringify(value), etag: '"0"' });

describe("addSlackAllowlistEntry", () => {
  it("writes the object put-if-absent, the entry as today's allowlist entry with its provenance", async () => {
    const added = await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    expect(added.key).toBe(SLACK_ALLOWLIST_KEY);
    expect(added.entry).toMatchObject({ resource: "sg-0123456789abcdef0", owner: "slack:U012ABCDEF", index: 0 });
    expect(stored()).toEqual({ version: 1, entries: [{ ...grant(), at: NOW.toISOString() }] });
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({
      Bucket: BUCKET,
      Key: SLACK_ALLOWLIST_KEY,
      IfNoneMatch: "*",
    });
    // The entry read back exempts the resource, owned by the Slack user.
    const reading = await readSlackAllowlist(s3, BUCKET);
    const check = findExemption(
      { resourceId: "sg-0123456789abcdef0", tags: {}, problem: "sg-open-ingress" },
      reading.entries,
      NOW,
    );
    expect(check.exemption).toMatchObject({ source: "allowlist", owner: "slack:U012ABCDEF", until: "2026-11-27" });
  });

  it("adds to what is there with If-Match on the ETag read", async () => {
    await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    await addSlackAllowlistEntry(s3, BUCKET, grant({ decisionId: "dec-2", resource: "acme-*" }), NOW);
    expect(stored().entries.map((entry: { decisionId: string }) => entry.decisionId)).toEqual(["dec-1", "dec-2"]);
    expect(s3Mock.commandCalls(PutObjectCommand)[1]!.args[0].input.IfMatch).toBe('"1"');
  });

  it("the same decision twice is one entry, the second write none (a retried Lambda)", async () => {
    await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    const again = await addSlackAllowlistEntry(s3, BUCKET, grant({ reason: "a retry" }), NOW);
    expect(again).toMatchObject({ existing: true, entry: { reason: "vendor VPN cut-over this week" } });
    expect(stored().entries).toHaveLength(1);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it("drops the entries that have expired", async () => {
    putStored({
      version: 1,
      entries: [
        { ...grant({ decisionId: "old", expires: "2026-11-19" }), at: "2026-11-01T00:00:00Z" },
        { ...grant({ decisionId: "today", expires: "2026-11-20" }), at: "2026-11-01T00:00:00Z" },
      ],
    });
    await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    expect(stored().entries.map((entry: { decisionId: string }) => entry.decisionId)).toEqual(["today", "dec-1"]);
  });

  it("retries when another write won the race, keeping both entries", async () => {
    let raced = false;
    s3Mock.on(PutObjectCommand).callsFake((input) => {
      if (!raced) {
        raced = true;
        // Another grant lands between this read and this write.
        objects.set(SLACK_ALLOWLIST_KEY, {
          text: JSON.stringify({ version: 1, entries: [{ ...grant({ decisionId: "other" }), at: NOW.toISOString() }] }),
          etag: '"other"',
        });
        throw awsError("PreconditionFailed", 412);
      }
      if (objects.get(input.Key)?.etag !== input.IfMatch) throw awsError("PreconditionFailed", 412);
      objects.set(input.Key, { text: String(input.Body), etag: '"after"' });
      return {};
    });
    await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    expect(stored().entries.map((entry: { decisionId: string }) => entry.decisionId)).toEqual(["other", "dec-1"]);
  });

  it("gives up after a few lost races with a retryable error", async () => {
    s3Mock.on(PutObjectCommand).rejects(awsError("ConditionalRequestConflict", 409));
    await expect(addSlackAllowlistEntry(s3, BUCKET, grant(), NOW)).rejects.toBeInstanceOf(SlackAllowlistConflictError);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(4);
  });

  it.each([
    ["resource", { resource: "  " }, "must not be empty"],
    ["problems", { problems: [] }, "at least one problem"],
    ["problems[0]", { problems: ["sg-wide-open"] as never }, "unknown problem"],
    ["reason", { reason: undefined as never }, "is required"],
    ["expires", { expires: "2026-02-30" }, "not a calendar date"],
    ["expires", { expires: "2026-11-19" }, "has already passed"],
    ["owner", { owner: "alice@example.com" }, "slack:<Slack user id>"],
    ["decisionId", { decisionId: "dec 1" }, "letters, digits"],
  ])("refuses an entry whose %s is not valid, naming the field", async (field, overrides, message) => {
    const error = await addSlackAllowlistEntry(s3, BUCKET, grant(overrides), NOW).catch((caught) => caught);
    expect(error).toBeInstanceOf(InvalidSlackAllowlistEntryError);
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it("refuses an entry past the most the object holds", async () => {
    putStored({
      version: 1,
      entries: Array.from({ length: MAX_SLACK_ALLOWLIST_ENTRIES }, (_, index) => ({
        ...grant({ decisionId: `d${index}` }),
        at: NOW.toISOString(),
      })),
    });
    await expect(addSlackAllowlistEntry(s3, BUCKET, grant(), NOW)).rejects.toBeInstanceOf(SlackAllowlistFullError);
  });

  it("replaces a malformed object (it exempted nothing), saying what it dropped", async () => {
    putStored("{not json");
    const added = await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    expect(added.dropped).toEqual([{ where: SLACK_ALLOWLIST_KEY, message: expect.stringContaining("invalid JSON") }]);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input.IfMatch).toBe('"0"');
    expect(stored().entries).toHaveLength(1);
  });
});

describe("readSlackAllowlist", () => {
  it("no object: no entries", async () => {
    expect(await readSlackAllowlist(s3, BUCKET)).toEqual({ entries: [], problems: [], records: [] });
  });

  it.each([
    ["not JSON", "{", "invalid JSON"],
    ["another version", { version: 2, entries: [] }, "version must be 1"],
    ["no entry list", { version: 1 }, "entries must be a list"],
    ["an array", [], "expected an object"],
  ])("a malformed object (%s) exempts nothing, and says why", async (_, value, message) => {
    putStored(value);
    const reading = await readSlackAllowlist(s3, BUCKET);
    expect(reading.entries).toEqual([]);
    expect(reading.problems).toEqual([{ where: SLACK_ALLOWLIST_KEY, message: expect.stringContaining(message) }]);
  });

  it("a malformed entry exempts nothing; the valid ones beside it do", async () => {
    putStored({
      version: 1,
      entries: [
        { ...grant({ decisionId: "bad", owner: "" }), at: NOW.toISOString() },
        { ...grant({ decisionId: "good" }), at: NOW.toISOString() },
        { ...grant({ decisionId: "good" }), at: NOW.toISOString() },
        { ...grant({ decisionId: "no-at" }) },
      ],
    });
    const reading = await readSlackAllowlist(s3, BUCKET);
    expect(reading.records.map((record) => record.decisionId)).toEqual(["good"]);
    expect(reading.entries.map((entry) => entry.index)).toEqual([1]);
    expect(reading.problems.map((problem) => problem.where)).toEqual([
      `${SLACK_ALLOWLIST_KEY} entries[0].owner`,
      `${SLACK_ALLOWLIST_KEY} entries[2].decisionId`,
      `${SLACK_ALLOWLIST_KEY} entries[3].at`,
    ]);
  });

  it("any other S3 error is thrown: the caller decides", async () => {
    s3Mock.on(GetObjectCommand).rejects(awsError("SlowDown", 503));
    await expect(readSlackAllowlist(s3, BUCKET)).rejects.toMatchObject({ name: "SlowDown" });
  });
});

describe("removeSlackAllowlistEntry", () => {
  it("removes the decision's entry, conditionally; none there: false", async () => {
    await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    await addSlackAllowlistEntry(s3, BUCKET, grant({ decisionId: "dec-2" }), NOW);
    expect(await removeSlackAllowlistEntry(s3, BUCKET, "dec-1")).toBe(true);
    expect(stored().entries.map((entry: { decisionId: string }) => entry.decisionId)).toEqual(["dec-2"]);
    expect(s3Mock.commandCalls(PutObjectCommand)[2]!.args[0].input.IfMatch).toBe('"2"');
    expect(await removeSlackAllowlistEntry(s3, BUCKET, "dec-1")).toBe(false);
  });
});

describe("cachedAllowlist", () => {
  it("appends the Slack entries to the deployed ones, re-read only after the TTL; unreadable: the deployed alone", async () => {
    await addSlackAllowlistEntry(s3, BUCKET, grant(), NOW);
    let clock = 0;
    const log = recordingLog();
    const unreadable = () =>
      log.lines.filter(
        (line) => line.message === "Slack allowlist unreadable: judging with the deployed allowlist only",
      );
    const deployed = [{ index: 0, resource: "deployed" }] as never[];
    const allowlist = cachedAllowlist({ s3, bucket: BUCKET, deployed, now: () => clock, log });
    expect((await allowlist()).map((entry) => entry.resource)).toEqual(["deployed", "sg-0123456789abcdef0"]);
    s3Mock.on(GetObjectCommand).rejects(awsError("SlowDown", 503));
    clock = 59_999;
    expect(await allowlist()).toHaveLength(2);
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(2); // the add's read, then the first read
    clock = 60_000;
    expect((await allowlist()).map((entry) => entry.resource)).toEqual(["deployed"]);
    expect(unreadable()).toHaveLength(1);
  });
});
