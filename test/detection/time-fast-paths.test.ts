// The fast paths of normalising and judging an item: a capture time already written as toISOString writes it is kept
// as it is (no Date), a due time without grace is the capture time, an annotation short enough is not counted in
// characters, and a compliant item builds no instruction source. Each must give exactly what the long way gives.
import { describe, expect, it } from "vitest";
import { random } from "../../bench/generate.ts";
import { isCanonicalIsoTime, normalizeConfigItem } from "../../detection/config-item.ts";
import { CONFIG_ANNOTATION_LIMIT, cutAnnotation, judgeItem } from "../../detection/judge.ts";
import type { ConfigItem } from "../../detection/types.ts";
import { sgOpenIngressRule } from "../../problems/sg-open-ingress/detect.ts";
import { configItem } from "../fixtures/load.ts";

const pad = (value: number, width: number) => String(value).padStart(width, "0");

/** What the fast path claims: the text is what Date gives back for it. */
function expectCanonicalOnlyIfRoundTrips(text: string): void {
  if (isCanonicalIsoTime(text)) expect(new Date(text).toISOString()).toBe(text);
}

describe("isCanonicalIsoTime", () => {
  it("holds only for times Date writes back unchanged, on every date of the calendar's edge cases", () => {
    let canonical = 0;
    for (const year of [0, 1, 4, 100, 400, 1582, 1900, 1970, 2000, 2024, 2026, 2100, 2400, 9999]) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T12:34:56.789Z`;
          expectCanonicalOnlyIfRoundTrips(text);
          if (isCanonicalIsoTime(text)) canonical++;
        }
      }
    }
    // Every real day of those years (leap years by the Gregorian rule, year 0 included) and no other.
    const leapYears = [0, 4, 400, 2000, 2024, 2400].length;
    expect(canonical).toBe(14 * 365 + leapYears);
  });

  it("holds only for times Date writes back unchanged, at every hour, minute and second around the edges", () => {
    for (const hour of [0, 1, 9, 12, 22, 23, 24, 25]) {
      for (const minute of [0, 1, 9, 10, 30, 58, 59, 60, 61]) {
        for (const second of [0, 1, 30, 58, 59, 60, 61, 99]) {
          for (const millis of ["000", "999"]) {
            const text = `2026-11-20T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}.${millis}Z`;
            expectCanonicalOnlyIfRoundTrips(text);
            expect(isCanonicalIsoTime(text)).toBe(hour <= 23 && minute <= 59 && second <= 59);
          }
        }
      }
    }
  });

  it("holds for whatever toISOString writes, from year 0 to 9999", () => {
    const rand = random(11);
    const earliest = Date.parse("0000-01-01T00:00:00.000Z");
    const latest = Date.parse("9999-12-31T23:59:59.999Z");
    for (let round = 0; round < 2_000; round++) {
      const time = Math.floor(earliest + rand() * (latest - earliest));
      expect(isCanonicalIsoTime(new Date(time).toISOString())).toBe(true);
    }
  });

  it("does not hold for anything written another way (Date is asked)", () => {
    for (const text of [
      "2026-11-20T09:58:12Z",
      "2026-11-20T09:58:12.41Z",
      "2026-11-20T09:58:12.4120Z",
      "2026-11-20T09:58:12.412+00:00",
      "2026-11-20t09:58:12.412z",
      "2026-11-20 09:58:12.412Z",
      "2026/11/20T09:58:12.412Z",
      "+002026-11-20T09:58:12.412Z",
      " 2026-11-20T09:58:12.412Z",
      "2026-11-20T09:58:12.412Z ",
      "2026-1a-20T09:58:12.412Z",
      "2026-11-20T09:58:12.41aZ",
      "２０２６-11-20T09:58:12.412Z",
      "2026-11-20T09:58:12,412Z",
      "",
    ]) {
      expect(isCanonicalIsoTime(text)).toBe(false);
    }
  });
});

describe("normalizeConfigItem", () => {
  const raw = () => configItem<Record<string, unknown>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");

  it("gives every capture time as Date would write it", () => {
    for (const value of [
      "2026-11-20T09:58:12.412Z",
      "2026-11-20T09:58:12Z",
      "2026-11-20T10:58:12.412+01:00",
      "2026-02-30T00:00:00.000Z",
      "2026-11-20T24:00:00.000Z",
      new Date("2026-11-20T09:58:12.412Z"),
    ]) {
      expect(normalizeConfigItem({ ...raw(), configurationItemCaptureTime: value }).captureTime).toBe(
        new Date(value).toISOString(),
      );
    }
    expect(() => normalizeConfigItem({ ...raw(), configurationItemCaptureTime: "2026-13-01T00:00:00.000Z" })).toThrow(
      "configuration item has no valid configurationItemCaptureTime",
    );
  });

  it("keeps its fields in their order, resourceName, arn and relationships only when there is one", () => {
    const withBoth = normalizeConfigItem(raw());
    expect(Object.keys(withBoth)).toEqual([
      "resourceType",
      "resourceId",
      "resourceName",
      "arn",
      "accountId",
      "region",
      "captureTime",
      "status",
      "configuration",
      "supplementaryConfiguration",
      "tags",
      "relationships",
    ]);
    const bare = normalizeConfigItem({ ...raw(), resourceName: "", ARN: undefined, arn: 7, relationships: [] });
    expect(Object.keys(bare)).toEqual(
      Object.keys(withBoth).filter((key) => key !== "resourceName" && key !== "arn" && key !== "relationships"),
    );
    expect(Object.keys(normalizeConfigItem({ ...raw(), resourceName: undefined }))).not.toContain("resourceName");
  });

  it("names the missing field, and its alias, as before", () => {
    const item = raw();
    delete item.awsAccountId;
    expect(() => normalizeConfigItem(item)).toThrow(/^configuration item has no awsAccountId\/accountId$/);
    expect(normalizeConfigItem({ ...item, accountId: "123456789012" }).accountId).toBe("123456789012");
    expect(() => normalizeConfigItem({ ...raw(), awsRegion: "" })).toThrow(/^configuration item has no awsRegion$/);
    expect(() => normalizeConfigItem({ ...raw(), supplementaryConfiguration: { Ok: "{}", Broken: '{"a":' } })).toThrow(
      /^supplementaryConfiguration\.Broken is not valid JSON: /,
    );
    expect(() => normalizeConfigItem({ ...raw(), configuration: '{"a":' })).toThrow(
      /^configuration is not valid JSON: /,
    );
  });
});

describe("judgeItem", () => {
  const context = { allowlist: [], now: new Date("2026-11-20T12:00:00Z"), gracePeriodMs: 0 };
  const parameters = sgOpenIngressRule.parseParameters({});
  const open = () => normalizeConfigItem(configItem("AWS_EC2_SecurityGroup", "ssh-open-to-world"));
  const closed = () => {
    const item = open();
    return { ...item, configuration: { ...item.configuration, ipPermissions: [] } } as ConfigItem;
  };

  it("is due at the capture time without grace, written as Date writes it", () => {
    for (const captureTime of ["2026-11-20T09:58:12.412Z", "2026-11-20T09:58:12Z", "2026-11-20T10:58:12+01:00"]) {
      const [instruction] = judgeItem({ ...open(), captureTime }, sgOpenIngressRule, parameters, context).instructions;
      expect(instruction!.notBefore).toBe(new Date(captureTime).toISOString());
      expect(instruction!.capturedAt).toBe(captureTime);
    }
  });

  it("still refuses an invalid clock or capture time when there is nothing to fix", () => {
    expect(judgeItem(closed(), sgOpenIngressRule, parameters, context).compliance).toBe("COMPLIANT");
    for (const item of [open(), closed()]) {
      expect(() => judgeItem(item, sgOpenIngressRule, parameters, { ...context, now: new Date(Number.NaN) })).toThrow(
        RangeError,
      );
      expect(() => judgeItem({ ...item, captureTime: "not a time" }, sgOpenIngressRule, parameters, context)).toThrow(
        RangeError,
      );
      expect(() =>
        judgeItem({ ...item, captureTime: "+275760-09-13T00:00:00.000Z" }, sgOpenIngressRule, parameters, {
          ...context,
          gracePeriodMs: 1,
        }),
      ).toThrow(RangeError);
    }
  });
});

describe("cutAnnotation", () => {
  it("cuts at the limit in characters, not UTF-16 units", () => {
    const limit = CONFIG_ANNOTATION_LIMIT;
    for (const unit of ["a", "é", "😀"]) {
      for (const count of [0, 1, limit - 1, limit, limit + 1, 2 * limit]) {
        const text = unit.repeat(count);
        const chars = Array.from(text);
        expect(cutAnnotation(text)).toBe(chars.length <= limit ? text : `${chars.slice(0, limit - 1).join("")}…`);
      }
    }
    // Half the characters astral: more UTF-16 units than the limit, no more characters.
    const mixed = "a😀".repeat(limit / 2);
    expect(mixed.length).toBeGreaterThan(limit);
    expect(cutAnnotation(mixed)).toBe(mixed);
  });
});
