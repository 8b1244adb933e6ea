// Undo exemptions, the pure part: the record's strict schema (a claim that can only stop a fix), its key layout, the
// matching the runner and the real-time path use, the merge an undo writes, and --exempt-for lengths.
import { describe, expect, it } from "vitest";
import { matchedEntryKey } from "../../contract/instruction.ts";
import {
  activeUndoExemption,
  activeUndoExemptionEntries,
  describeUndoExemption,
  InvalidExemptionLengthError,
  InvalidUndoExemptionError,
  MAX_UNDO_EXEMPTION_MS,
  mergeUndoExemption,
  parseExemptionLength,
  parseUndoExemptionRecord,
  undoExemptionKey,
} from "../../contract/undo-exemption.ts";
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
} from "../undo/exemption-fixtures.ts";

const HOUR = 3_600_000;
const during = new Date(EXEMPT_AT.getTime() + HOUR);
const SSH_KEY = matchedEntryKey(SSH_ENTRY);

// biome-ignore lint/suspicious/noExplicitAny: a forged object may be of any shape.
type Forged = Record<string, any>;

/** A stored record as JSON, changed by `change` (a forged or broken object). */
function storedWith(change: (record: Forged) => void): string {
  const record = JSON.parse(JSON.stringify(exemptionRecord()));
  change(record);
  return JSON.stringify(record);
}

describe("undo exemption records", () => {
  it("round-trips what an undo writes, one entry per restored entry, with the undo's provenance", () => {
    const record = exemptionRecord([SSH_ENTRY, RDP_ENTRY]);
    expect(parseUndoExemptionRecord(JSON.stringify(record))).toEqual(record);
    expect(record).toMatchObject({
      version: 1,
      resource: GROUP,
      undoActionId: UNDO_ACTION,
      undoes: FIX_ACTION,
      by: OPERATOR,
      at: EXEMPT_AT.toISOString(),
      until: EXEMPT_UNTIL.toISOString(),
    });
    expect(record.entries.map((entry) => entry.key)).toEqual([SSH_KEY, matchedEntryKey(RDP_ENTRY)]);
    expect(record.entries[0]).toMatchObject({
      problem: "sg-open-ingress",
      entry: SSH_ENTRY,
      undoActionId: UNDO_ACTION,
    });
  });

  it.each<[string, (record: Forged) => void, RegExp]>([
    ["an unknown field", (r) => (r.exemptEverything = true), /exemptEverything/],
    ["another version", (r) => (r.version = 2), /unsupported exemption version 2/],
    ["a key that is not its entry's", (r) => (r.entries[0].key = matchedEntryKey(RDP_ENTRY)), /key is not the entry's/],
    ["an entry of another problem's kind", (r) => (r.entries[0].problem = "s3-public-acl"), /does not fit its problem/],
    ["an unknown problem", (r) => (r.entries[0].problem = "everything"), /unknown problem/],
    [
      "longer than 30 days",
      (r) => (r.entries[0].until = new Date(EXEMPT_AT.getTime() + MAX_UNDO_EXEMPTION_MS + 1).toISOString()),
      /at most 30 days/,
    ],
    ["until before at", (r) => (r.until = "2026-11-19T00:00:00.000Z"), /until must be after at/],
    ["no entries", (r) => (r.entries = []), /at least one entry/],
    ["an account id that is not one", (r) => (r.resource.accountId = "*"), /12-digit account id/],
    ["the same entry twice", (r) => r.entries.push(r.entries[0]), /lists an entry twice/],
    ["an action id that is not one", (r) => (r.undoActionId = "act-1; rm -rf /"), /must be an action id/],
  ])("refuses %s", (_what, change, message) => {
    expect(() => parseUndoExemptionRecord(storedWith(change))).toThrow(message);
    expect(() => parseUndoExemptionRecord(storedWith(change))).toThrow(InvalidUndoExemptionError);
  });

  it("refuses text that is not JSON, or nests too deep, as invalid (never a crash)", () => {
    expect(() => parseUndoExemptionRecord("{")).toThrow(InvalidUndoExemptionError);
    expect(() => parseUndoExemptionRecord("[".repeat(100) + "]".repeat(100))).toThrow(/deeper than 64/);
  });

  it("keys one object per resource, every part encoded so an id cannot make another path", () => {
    expect(undoExemptionKey(GROUP)).toBe(
      "exemptions/123456789012/us-east-1/AWS%3A%3AEC2%3A%3ASecurityGroup/sg-0123456789abcdef0.json",
    );
    expect(undoExemptionKey({ ...GROUP, type: "AWS::S3::Bucket", id: "../../actions/x" })).toBe(
      "exemptions/123456789012/us-east-1/AWS%3A%3AS3%3A%3ABucket/..%2F..%2Factions%2Fx.json",
    );
  });
});

describe("activeUndoExemption", () => {
  const record = exemptionRecord();

  it("finds exactly the listed entry of the listed problem, until `until`", () => {
    expect(activeUndoExemption(record, "sg-open-ingress", SSH_KEY, during)).toMatchObject({
      key: SSH_KEY,
      resource: GROUP,
      undoActionId: UNDO_ACTION,
      until: EXEMPT_UNTIL.toISOString(),
    });
    // Another entry, the same entry for another problem, no record, and the end of the exemption: nothing.
    expect(activeUndoExemption(record, "sg-open-ingress", matchedEntryKey(RDP_ENTRY), during)).toBeUndefined();
    expect(activeUndoExemption(record, "s3-public-acl", SSH_KEY, during)).toBeUndefined();
    expect(activeUndoExemption(undefined, "sg-open-ingress", SSH_KEY, during)).toBeUndefined();
    expect(activeUndoExemption(record, "sg-open-ingress", SSH_KEY, EXEMPT_UNTIL)).toBeUndefined();
    expect(activeUndoExemption(record, "sg-open-ingress", SSH_KEY, new Date(EXEMPT_UNTIL.getTime() - 1))).toBeDefined();
  });

  it("does not apply an exemption written in the future (beyond clock skew): it cannot be stretched past 30 days from now", () => {
    const future = exemptionRecord([SSH_ENTRY], {
      at: new Date(EXEMPT_AT.getTime() + 10 * 24 * HOUR),
      until: new Date(EXEMPT_AT.getTime() + 20 * 24 * HOUR),
    });
    expect(activeUndoExemption(future, "sg-open-ingress", SSH_KEY, during)).toBeUndefined();
    // Within five minutes of skew it counts.
    const skewed = exemptionRecord([SSH_ENTRY], { at: new Date(during.getTime() + 4 * 60_000) });
    expect(activeUndoExemption(skewed, "sg-open-ingress", SSH_KEY, during)).toBeDefined();
  });

  it("says why in one sentence: who undid it, when, which undo, until when", () => {
    const active = activeUndoExemption(record, "sg-open-ingress", SSH_KEY, during)!;
    expect(describeUndoExemption(active)).toBe(
      `undone by ${OPERATOR} at 2026-11-20T12:00:00.000Z (${UNDO_ACTION}): left as restored until 2026-11-21T12:00:00.000Z`,
    );
  });
});

describe("mergeUndoExemption", () => {
  it("adds to what is there, drops what ran out, and keeps the later until of an entry listed twice", () => {
    const first = exemptionRecord([SSH_ENTRY, RDP_ENTRY], { until: new Date(EXEMPT_AT.getTime() + 2 * HOUR) });
    const later = new Date(EXEMPT_AT.getTime() + 3 * HOUR);
    const merged = mergeUndoExemption(
      first,
      {
        resource: GROUP,
        entries: [{ problem: "sg-open-ingress", entry: SSH_ENTRY }],
        undoActionId: "act-20261120T150000Z-0000bbbb",
        undoes: FIX_ACTION,
        by: OPERATOR,
        at: later,
        until: new Date(later.getTime() + HOUR),
      },
      later,
    );
    // RDP ran out at +2 h: dropped. SSH is the second undo's now.
    expect(merged.entries.map((entry) => [entry.key, entry.undoActionId, entry.until])).toEqual([
      [SSH_KEY, "act-20261120T150000Z-0000bbbb", new Date(later.getTime() + HOUR).toISOString()],
    ]);
    expect(merged.undoActionId).toBe("act-20261120T150000Z-0000bbbb");
  });

  it("keeps an entry's later until when a shorter exemption is added for it", () => {
    const long = exemptionRecord([SSH_ENTRY], { until: new Date(EXEMPT_AT.getTime() + 48 * HOUR) });
    const merged = mergeUndoExemption(
      long,
      {
        resource: GROUP,
        entries: [
          { problem: "sg-open-ingress", entry: SSH_ENTRY },
          { problem: "sg-open-ingress", entry: RDP_ENTRY },
        ],
        undoActionId: "act-20261120T130000Z-0000cccc",
        undoes: FIX_ACTION,
        by: OPERATOR,
        at: during,
        until: new Date(during.getTime() + HOUR),
      },
      during,
    );
    expect(merged.entries.find((entry) => entry.key === SSH_KEY)).toMatchObject({
      undoActionId: UNDO_ACTION,
      until: new Date(EXEMPT_AT.getTime() + 48 * HOUR).toISOString(),
    });
    expect(activeUndoExemptionEntries(merged, during)).toHaveLength(2);
  });

  it("never carries entries of another resource's object over", () => {
    const other = exemptionRecord([RDP_ENTRY], { resource: { ...GROUP, id: "sg-0fffffffffffffff0" } });
    const merged = mergeUndoExemption(
      other,
      {
        resource: GROUP,
        entries: [{ problem: "sg-open-ingress", entry: SSH_ENTRY }],
        undoActionId: UNDO_ACTION,
        undoes: FIX_ACTION,
        by: OPERATOR,
        at: EXEMPT_AT,
        until: EXEMPT_UNTIL,
      },
      EXEMPT_AT,
    );
    expect(merged.entries.map((entry) => entry.key)).toEqual([SSH_KEY]);
  });

  it("refuses to build an exemption longer than 30 days", () => {
    expect(() =>
      exemptionRecord([SSH_ENTRY], { until: new Date(EXEMPT_AT.getTime() + MAX_UNDO_EXEMPTION_MS + 1) }),
    ).toThrow(/at most 30 days/);
  });
});

describe("parseExemptionLength (--exempt-for)", () => {
  it.each([
    ["24h", 24 * HOUR],
    ["90m", 90 * 60_000],
    ["7d", 7 * 24 * HOUR],
    ["30d", MAX_UNDO_EXEMPTION_MS],
    ["0", 0],
    ["0h", 0],
  ])("%s", (text, ms) => expect(parseExemptionLength(text)).toBe(ms));

  it.each([["31d"], ["721h"], ["1w"], ["-1h"], ["1.5h"], ["12"], [""], ["24 h; rm"]])("refuses %j", (text) => {
    expect(() => parseExemptionLength(text)).toThrow(InvalidExemptionLengthError);
  });
});
