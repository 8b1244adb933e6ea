import { describe, expect, it } from "vitest";
import {
  cidrContains,
  cidrRange,
  DEFAULT_OPEN_THRESHOLDS,
  InvalidCidrError,
  isOpenCidr,
  isOpenCidrUnion,
  isWhollyPrivate,
  mergeCidrs,
  type ParsedCidr,
  parseCidr,
  rangeToCidrs,
  summarizeCidrs,
} from "../../detection/cidr.ts";

const v6 = (hex: string) => BigInt(`0x${hex.replaceAll(":", "")}`);

describe("parseCidr, IPv4", () => {
  it("parses a CIDR", () => {
    expect(parseCidr("203.0.113.0/24")).toEqual({ family: 4, network: 0xcb007100n, prefix: 24 });
    expect(parseCidr("0.0.0.0/0")).toEqual({ family: 4, network: 0n, prefix: 0 });
    expect(parseCidr("255.255.255.255/32")).toEqual({ family: 4, network: 0xffffffffn, prefix: 32 });
  });

  it("reads a bare address as a /32 and tolerates surrounding whitespace", () => {
    expect(parseCidr("198.51.100.7")).toEqual({ family: 4, network: 0xc6336407n, prefix: 32 });
    expect(parseCidr(" 10.0.0.0/8 ")).toEqual({ family: 4, network: 0x0a000000n, prefix: 8 });
  });

  it("clears host bits", () => {
    expect(parseCidr("10.1.2.3/8")).toEqual(parseCidr("10.0.0.0/8"));
    expect(parseCidr("1.2.3.4/0")).toEqual(parseCidr("0.0.0.0/0"));
    expect(parseCidr("192.168.1.77/31").network).toBe(parseCidr("192.168.1.76/31").network);
  });

  it.each([
    "",
    "10.0.0/8",
    "10.0.0.0.0/8",
    "256.0.0.0/8",
    "10.0.0.-1/8",
    "10.0.0.0/33",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0.0/8/8",
    "10.0.0.0/ 8",
    "10.0.0.0/x",
    "a.b.c.d/8",
    "1234.0.0.0/8",
  ])("rejects %j with InvalidCidrError", (text) => {
    expect(() => parseCidr(text)).toThrow(InvalidCidrError);
  });
});

describe("parseCidr, IPv6", () => {
  it("parses full, compressed and mixed-case forms", () => {
    expect(parseCidr("2001:0db8:0000:0000:0000:0000:0000:0000/32")).toEqual({
      family: 6,
      network: v6("20010db8000000000000000000000000"),
      prefix: 32,
    });
    expect(parseCidr("2001:DB8::/32")).toEqual(parseCidr("2001:db8:0:0:0:0:0:0/32"));
    expect(parseCidr("fe80::1:2/128").network).toBe(v6("fe800000000000000000000000010002"));
    expect(parseCidr("1:2:3:4:5:6:7::/128").network).toBe(v6("00010002000300040005000600070000"));
    expect(parseCidr("::1:2:3:4:5:6:7/128").network).toBe(v6("00000001000200030004000500060007"));
  });

  it("parses :: (all zeros) and ::/0", () => {
    expect(parseCidr("::/0")).toEqual({ family: 6, network: 0n, prefix: 0 });
    expect(parseCidr("::")).toEqual({ family: 6, network: 0n, prefix: 128 });
    expect(parseCidr("::1/128").network).toBe(1n);
  });

  it("parses an embedded IPv4 tail", () => {
    expect(parseCidr("::ffff:192.0.2.1/128").network).toBe(v6("00000000000000000000ffffc0000201"));
    expect(parseCidr("::ffff:192.0.2.1")).toEqual(parseCidr("::ffff:c000:201/128"));
    expect(parseCidr("64:ff9b::10.0.0.1/96")).toEqual(parseCidr("64:ff9b::/96"));
    expect(parseCidr("1:2:3:4:5:6:1.2.3.4").network).toBe(v6("00010002000300040005000601020304"));
  });

  it("clears host bits", () => {
    expect(parseCidr("2001:db8::1/32")).toEqual(parseCidr("2001:db8::/32"));
    expect(parseCidr("2001:db8:ffff::/16")).toEqual(parseCidr("2001::/16"));
  });

  it.each([
    ":::/0",
    "1::2::3/64",
    "1:2:3:4:5:6:7:8:9/64",
    "1:2:3:4:5:6:7/64",
    "1:2:3:4:5:6:7:8::/64",
    ":1:2:3:4:5:6:7/64",
    "12345::/16",
    "g::/16",
    "::/129",
    "::ffff:1.2.3/128",
    "::ffff:256.1.1.1/128",
    "1:2:3:4:5:6:7:1.2.3.4/128",
  ])("rejects %j with InvalidCidrError", (text) => {
    expect(() => parseCidr(text)).toThrow(InvalidCidrError);
  });
});

describe("cidrContains and isWhollyPrivate", () => {
  it("contains narrower ranges of the same family only", () => {
    expect(cidrContains(parseCidr("10.0.0.0/8"), parseCidr("10.20.0.0/16"))).toBe(true);
    expect(cidrContains(parseCidr("10.0.0.0/8"), parseCidr("10.0.0.0/8"))).toBe(true);
    expect(cidrContains(parseCidr("10.0.0.0/8"), parseCidr("10.0.0.0/7"))).toBe(false);
    expect(cidrContains(parseCidr("10.0.0.0/8"), parseCidr("11.0.0.0/16"))).toBe(false);
    expect(cidrContains(parseCidr("0.0.0.0/0"), parseCidr("::/128"))).toBe(false);
    expect(cidrContains(parseCidr("::/0"), parseCidr("2001:db8::/32"))).toBe(true);
  });

  it.each([
    ["10.0.0.0/8", true],
    ["10.255.0.0/16", true],
    ["172.16.0.0/12", true],
    ["172.31.255.0/24", true],
    ["192.168.0.0/16", true],
    ["fc00::/7", true],
    ["fd12:3456::/32", true],
    ["8.0.0.0/7", false],
    ["172.0.0.0/8", false],
    ["172.32.0.0/16", false],
    ["192.0.0.0/8", false],
    ["0.0.0.0/0", false],
    ["fe80::/10", false],
    ["fc00::/6", false],
    ["::/0", false],
  ])("%s wholly private: %s", (cidr, expected) => {
    expect(isWhollyPrivate(parseCidr(cidr))).toBe(expected);
  });
});

describe("isOpenCidr", () => {
  it.each([
    ["0.0.0.0/0", true],
    ["::/0", true],
    ["1.2.3.4/0", true],
    ["8.0.0.0/7", true],
    ["128.0.0.0/1", true],
    ["52.0.0.0/8", false],
    ["203.0.113.10/32", false],
    ["10.0.0.0/8", false],
    ["2400::/12", true],
    ["2001:db8::/16", false],
    ["2001:db8::/32", false],
    ["fc00::/7", false],
    ["fd00::/8", false],
  ])("%s open with default thresholds: %s", (cidr, expected) => {
    expect(isOpenCidr(cidr)).toBe(expected);
    expect(isOpenCidr(parseCidr(cidr), DEFAULT_OPEN_THRESHOLDS)).toBe(expected);
  });

  it("applies the thresholds: a prefix shorter than the minimum is open unless wholly private", () => {
    const strict = { ipv4MinPrefix: 24, ipv6MinPrefix: 64 };
    expect(isOpenCidr("203.0.113.0/23", strict)).toBe(true);
    expect(isOpenCidr("203.0.113.0/24", strict)).toBe(false);
    expect(isOpenCidr("10.0.0.0/8", strict)).toBe(false);
    expect(isOpenCidr("172.16.0.0/12", strict)).toBe(false);
    expect(isOpenCidr("2001:db8::/48", strict)).toBe(true);
    expect(isOpenCidr("2001:db8::/64", strict)).toBe(false);
    expect(isOpenCidr("fc00::/7", strict)).toBe(false);
  });

  it("still treats /0 as open with a zero threshold, and nothing else", () => {
    const lax = { ipv4MinPrefix: 0, ipv6MinPrefix: 0 };
    expect(isOpenCidr("0.0.0.0/0", lax)).toBe(true);
    expect(isOpenCidr("::/0", lax)).toBe(true);
    expect(isOpenCidr("0.0.0.0/1", lax)).toBe(false);
    expect(isOpenCidr("::/1", lax)).toBe(false);
  });

  it("throws InvalidCidrError for text that is not a CIDR", () => {
    expect(() => isOpenCidr("anywhere")).toThrow(InvalidCidrError);
  });
});

/** The CIDRs as parseCidr reads them, for comparing with what the union functions return. */
const cidrs = (...texts: string[]): ParsedCidr[] => texts.map((text) => parseCidr(text));
const EVERY_SLASH_8 = Array.from({ length: 256 }, (_, octet) => `${octet}.0.0.0/8`);

describe("cidrRange", () => {
  it("gives the first and last address of a CIDR", () => {
    expect(cidrRange("10.0.0.0/8")).toEqual({ family: 4, first: 0x0a000000n, last: 0x0affffffn });
    expect(cidrRange("0.0.0.0/0")).toEqual({ family: 4, first: 0n, last: 0xffffffffn });
    expect(cidrRange("198.51.100.7")).toEqual({ family: 4, first: 0xc6336407n, last: 0xc6336407n });
    expect(cidrRange(parseCidr("2001:db8::/32"))).toEqual({
      family: 6,
      first: v6("20010db8000000000000000000000000"),
      last: v6("20010db8ffffffffffffffffffffffff"),
    });
    expect(cidrRange("::/0").last).toBe((1n << 128n) - 1n);
  });
});

describe("mergeCidrs", () => {
  it("merges overlapping, contained, duplicated and adjacent CIDRs into disjoint ranges in order", () => {
    expect(mergeCidrs(["10.128.0.0/9", "10.0.0.0/9"])).toEqual([cidrRange("10.0.0.0/8")]);
    expect(mergeCidrs(["10.0.0.0/8", "10.20.0.0/16", "10.0.0.0/8"])).toEqual([cidrRange("10.0.0.0/8")]);
    expect(mergeCidrs(["203.0.113.0/24", "192.0.2.0/24", "198.51.100.0/24"])).toEqual([
      cidrRange("192.0.2.0/24"),
      cidrRange("198.51.100.0/24"),
      cidrRange("203.0.113.0/24"),
    ]);
    // 10.0.0.255 and 10.0.1.0 are neighbours: one range, though not one CIDR.
    expect(mergeCidrs(["10.0.0.0/24", "10.0.1.0/32"])).toEqual([{ family: 4, first: 0x0a000000n, last: 0x0a000100n }]);
  });

  it("keeps the families apart, IPv4 first, and does not join ::/96 to IPv4 space", () => {
    expect(mergeCidrs(["2001:db8::/32", "0.0.0.0/1", "::/96", "128.0.0.0/1"])).toEqual([
      cidrRange("0.0.0.0/0"),
      cidrRange("::/96"),
      cidrRange("2001:db8::/32"),
    ]);
  });

  it("is empty for no CIDRs and throws InvalidCidrError for text that is not one", () => {
    expect(mergeCidrs([])).toEqual([]);
    expect(() => mergeCidrs(["10.0.0.0/8", "203.0.113.*"])).toThrow(InvalidCidrError);
  });
});

describe("rangeToCidrs and summarizeCidrs", () => {
  it("covers a range with the fewest CIDRs, each as wide as its alignment allows", () => {
    expect(rangeToCidrs({ family: 4, first: 0x0a000001n, last: 0x0a000006n })).toEqual(
      cidrs("10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"),
    );
    expect(rangeToCidrs(cidrRange("0.0.0.0/0"))).toEqual(cidrs("0.0.0.0/0"));
    expect(rangeToCidrs(cidrRange("::/0"))).toEqual(cidrs("::/0"));
    expect(rangeToCidrs({ family: 6, first: 1n, last: 3n })).toEqual(cidrs("::1/128", "::2/127"));
  });

  it("all 256 /8 blocks are 0.0.0.0/0; the two halves of each family are the whole family", () => {
    expect(summarizeCidrs(EVERY_SLASH_8)).toEqual(cidrs("0.0.0.0/0"));
    expect(summarizeCidrs(["128.0.0.0/1", "0.0.0.0/1"])).toEqual(cidrs("0.0.0.0/0"));
    expect(summarizeCidrs(["::/1", "8000::/1"])).toEqual(cidrs("::/0"));
  });

  it("joins only what aligns: 52/8 + 53/8 is 52/7, 51/8 + 52/8 stays two /8s", () => {
    expect(summarizeCidrs(["52.0.0.0/8", "53.0.0.0/8"])).toEqual(cidrs("52.0.0.0/7"));
    expect(summarizeCidrs(["51.0.0.0/8", "52.0.0.0/8"])).toEqual(cidrs("51.0.0.0/8", "52.0.0.0/8"));
    expect(summarizeCidrs(["2600::/17", "2600:8000::/17", "2001:db8::/32"])).toEqual(
      cidrs("2001:db8::/32", "2600::/16"),
    );
  });
});

describe("isOpenCidrUnion", () => {
  it.each([
    ["every /8", EVERY_SLASH_8, true],
    ["every /8 but one", EVERY_SLASH_8.slice(1), true],
    ["0.0.0.0/1 + 128.0.0.0/1", ["0.0.0.0/1", "128.0.0.0/1"], true],
    ["two /8s forming a /7", ["52.0.0.0/8", "53.0.0.0/8"], true],
    ["two /9s and a /8 forming a /7", ["8.0.0.0/9", "8.128.0.0/9", "9.0.0.0/8"], true],
    ["10/8 + 11/8 (10.0.0.0/7 is open, as alone)", ["10.0.0.0/8", "11.0.0.0/8"], true],
    ["one open CIDR among narrow ones", ["203.0.113.0/24", "0.0.0.0/0"], true],
    ["::/1 + 8000::/1", ["::/1", "8000::/1"], true],
    ["two IPv6 /16s forming a /15", ["2600::/16", "2601::/16"], true],
    ["an open IPv6 list beside a narrow IPv4 one", ["203.0.113.0/24", "2400::/13", "2408::/13"], true],
    ["offices", ["203.0.113.0/24", "198.51.100.7", "2001:db8:1234::/48"], false],
    ["two /9s forming a /8 (a /8 is not wider than /8)", ["52.0.0.0/9", "52.128.0.0/9"], false],
    ["two /8s with a gap", ["52.0.0.0/8", "54.0.0.0/8"], false],
    ["two adjacent /8s that do not align into a /7", ["51.0.0.0/8", "52.0.0.0/8"], false],
    ["the RFC 1918 ranges", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"], false],
    ["two IPv6 /17s forming a /16", ["2600::/17", "2600:8000::/17"], false],
    ["unique local IPv6", ["fc00::/7"], false],
    ["nothing", [], false],
  ])("%s ⇒ open: %s", (_name, list, expected) => {
    expect(isOpenCidrUnion(list)).toBe(expected);
    expect(
      isOpenCidrUnion(
        list.map((text) => parseCidr(text)),
        DEFAULT_OPEN_THRESHOLDS,
      ),
    ).toBe(expected);
  });

  it("agrees with isOpenCidr on a single CIDR", () => {
    for (const cidr of ["0.0.0.0/0", "8.0.0.0/7", "10.0.0.0/7", "52.0.0.0/8", "2400::/12", "2001:db8::/16"]) {
      expect(isOpenCidrUnion([cidr])).toBe(isOpenCidr(cidr));
    }
  });

  it("applies the thresholds to the union", () => {
    const strict = { ipv4MinPrefix: 24, ipv6MinPrefix: 64 };
    expect(isOpenCidrUnion(["203.0.112.0/24", "203.0.113.0/24"], strict)).toBe(true);
    expect(isOpenCidrUnion(["203.0.113.0/25", "203.0.113.128/25"], strict)).toBe(false);
    expect(isOpenCidrUnion(["2001:db8::/65", "2001:db8:0:0:8000::/65"], strict)).toBe(false);
    expect(isOpenCidrUnion(["2001:db8::/64", "2001:db8:0:1::/64"], strict)).toBe(true);
  });

  it("throws InvalidCidrError for text that is not a CIDR", () => {
    expect(() => isOpenCidrUnion(["203.0.113.0/24", "anywhere"])).toThrow(InvalidCidrError);
  });
});
