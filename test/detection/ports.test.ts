import { describe, expect, it } from "vitest";
import { coversRange, overlappingRanges, parsePortSpec } from "../../detection/ports.ts";
import { RuleParameterError } from "../../detection/types.ts";

const authorized = (text: string) => parsePortSpec(text, "authorizedPorts", { allowIcmp: true });
const prohibited = (text: string) => parsePortSpec(text, "prohibitedPorts", { allowIcmp: false });

describe("parsePortSpec", () => {
  it("parses protocol-qualified ports and ranges", () => {
    expect(authorized("tcp:80,tcp:443,udp:53,tcp:8000-8080")).toEqual({
      text: "tcp:80,tcp:443,udp:53,tcp:8000-8080",
      tcp: [
        { from: 80, to: 80 },
        { from: 443, to: 443 },
        { from: 8000, to: 8080 },
      ],
      udp: [{ from: 53, to: 53 }],
      icmp: false,
      icmpv6: false,
    });
  });

  it("reads a bare port or range as both TCP and UDP", () => {
    const spec = prohibited("22,1000-2000");
    expect(spec.tcp).toEqual([
      { from: 22, to: 22 },
      { from: 1000, to: 2000 },
    ]);
    expect(spec.udp).toEqual(spec.tcp);
  });

  it("tolerates whitespace and case, and writes a canonical text", () => {
    const spec = authorized("  TCP : 80 ,\ttcp:443-443 , Udp:53 - 54 , ICMP ,icmpv6 ");
    expect(spec.text).toBe("tcp:80,tcp:443,udp:53-54,icmp,icmpv6");
    expect(spec).toMatchObject({ icmp: true, icmpv6: true });
    expect(authorized(spec.text)).toEqual(spec);
  });

  it("treats an empty or blank spec as no ports", () => {
    for (const text of ["", "   "]) {
      expect(authorized(text)).toEqual({ text: "", tcp: [], udp: [], icmp: false, icmpv6: false });
    }
  });

  it("merges overlapping and adjacent ranges", () => {
    expect(authorized("tcp:80,tcp:81,tcp:79-80,tcp:100-200,tcp:150-160,tcp:90").tcp).toEqual([
      { from: 79, to: 81 },
      { from: 90, to: 90 },
      { from: 100, to: 200 },
    ]);
  });

  it("accepts the whole port range, including port 0", () => {
    expect(authorized("tcp:0-65535").tcp).toEqual([{ from: 0, to: 65535 }]);
  });

  it.each([
    ["tcp:65536", "port out of range"],
    ["tcp:1-70000", "port out of range"],
    ["tcp:2000-1000", "range start is after its end"],
    ["sctp:80", "not a port item"],
    ["tcp:", "not a port item"],
    ["tcp:http", "not a port item"],
    ["80;443", "not a port item"],
    ["-1", "not a port item"],
    ["all", "not a port item"],
    ["tcp:80,,tcp:443", "empty item"],
    ["tcp:80,", "empty item"],
    ["icmp:8", "not a port item"],
    ["tcp:123456", "not a port item"],
  ])("rejects %j naming the parameter and the item (%s)", (text, why) => {
    let error: unknown;
    try {
      authorized(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RuleParameterError);
    expect((error as RuleParameterError).parameter).toBe("authorizedPorts");
    expect((error as Error).message).toContain('"authorizedPorts"');
    expect((error as Error).message).toContain(why);
  });

  it("names the bad item in the message", () => {
    expect(() => authorized("tcp:80, tcp:99999")).toThrow(/"tcp:99999"/);
  });

  it("refuses ICMP where it cannot mean anything (prohibited ports)", () => {
    expect(() => prohibited("22,icmp")).toThrow(/"prohibitedPorts".*icmp has no ports/);
    expect(() => prohibited("icmpv6")).toThrow(RuleParameterError);
  });
});

describe("coversRange", () => {
  const ranges = authorized("tcp:80,tcp:443,tcp:8000-8080").tcp;

  it("is true only when every port of the range is in one authorized range", () => {
    expect(coversRange(ranges, 80, 80)).toBe(true);
    expect(coversRange(ranges, 8000, 8080)).toBe(true);
    expect(coversRange(ranges, 8010, 8020)).toBe(true);
    expect(coversRange(ranges, 80, 443)).toBe(false);
    expect(coversRange(ranges, 7999, 8000)).toBe(false);
    expect(coversRange(ranges, 8080, 8081)).toBe(false);
    expect(coversRange(ranges, 22, 22)).toBe(false);
    expect(coversRange([], 80, 80)).toBe(false);
  });

  it("sees adjacent authorized items as one range", () => {
    expect(coversRange(authorized("tcp:80,tcp:81").tcp, 80, 81)).toBe(true);
  });
});

describe("overlappingRanges", () => {
  const ranges = prohibited("22,3389,1000-2000").tcp;

  it("returns the prohibited parts of a range, in port order", () => {
    expect(overlappingRanges(ranges, 0, 65535)).toEqual([
      { from: 22, to: 22 },
      { from: 1000, to: 2000 },
      { from: 3389, to: 3389 },
    ]);
    expect(overlappingRanges(ranges, 1500, 1600)).toEqual([{ from: 1500, to: 1600 }]);
    expect(overlappingRanges(ranges, 2000, 2100)).toEqual([{ from: 2000, to: 2000 }]);
    expect(overlappingRanges(ranges, 23, 999)).toEqual([]);
  });
});
