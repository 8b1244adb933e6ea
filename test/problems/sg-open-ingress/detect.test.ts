import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { InvalidConfigItemError, isDeleted, normalizeConfigItem } from "../../../detection/config-item.ts";
import { type ConfigItem, type Finding, RuleParameterError, type SgRuleEntry } from "../../../detection/types.ts";
import {
  type DescribedSecurityGroupRule,
  InvalidSecurityGroupRuleError,
  judgeSgEntries,
  parseSgOpenIngressParameters,
  type SgOpenIngressParams,
  sgEntriesFromConfiguration,
  sgEntriesFromDescribedRules,
  sgOpenIngressRule,
  sgRuleEntryKey,
} from "../../../problems/sg-open-ingress/detect.ts";
import { configItem, fixture } from "../../fixtures/load.ts";

const FOLDER = "AWS_EC2_SecurityGroup";

function item(variant: string): ConfigItem {
  return normalizeConfigItem(configItem(FOLDER, variant));
}

function evaluate(variant: string | ConfigItem, raw: Record<string, unknown> = {}) {
  const target = typeof variant === "string" ? item(variant) : variant;
  return sgOpenIngressRule.evaluate(target, parseSgOpenIngressParameters(raw));
}

/** "tcp 22 22 0.0.0.0/0" for each finding, in order. */
function keysOf(findings: readonly Finding[]): string[] {
  return findings.map((finding) => sgRuleEntryKey(ruleOf(finding)));
}

function ruleOf(finding: Finding): SgRuleEntry {
  if (finding.matched.kind !== "sg-rule") throw new Error(`unexpected ${finding.matched.kind}`);
  return finding.matched.rule;
}

/** One Config permission in the shape Config delivers it. */
function permission(
  ipProtocol: string,
  ports: [number, number] | undefined,
  cidrs: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const v4 = cidrs.filter((cidr) => !cidr.includes(":"));
  return {
    ...(ports ? { fromPort: ports[0], toPort: ports[1] } : {}),
    ipProtocol,
    ipv6Ranges: cidrs.filter((cidr) => cidr.includes(":")).map((cidrIpv6) => ({ cidrIpv6 })),
    prefixListIds: [],
    userIdGroupPairs: [],
    ipv4Ranges: v4.map((cidrIp) => ({ cidrIp })),
    ipRanges: v4,
    ...extra,
  };
}

function withPermissions(permissions: unknown[]): ConfigItem {
  const base = item("compliant-private-only");
  return { ...base, configuration: { ...base.configuration, ipPermissions: permissions } };
}

function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("sgOpenIngressRule", () => {
  it("is the sg-open-ingress rule for security groups", () => {
    expect(sgOpenIngressRule.id).toBe("sg-open-ingress");
    expect(sgOpenIngressRule.resourceTypes).toEqual(["AWS::EC2::SecurityGroup"]);
    expect(sgOpenIngressRule.parseParameters).toBe(parseSgOpenIngressParameters);
  });
});

describe("parseSgOpenIngressParameters", () => {
  it("defaults to authorizing tcp:80,tcp:443 with thresholds /8 and /16", () => {
    expect(parseSgOpenIngressParameters({})).toEqual({
      authorizedPorts: "tcp:80,tcp:443",
      ipv4MinPrefix: 8,
      ipv6MinPrefix: 16,
    });
  });

  it("accepts Config's string values and plain numbers", () => {
    expect(
      parseSgOpenIngressParameters({
        authorizedPorts: " tcp:443 , TCP:80",
        ipv4MinPrefix: "24",
        ipv6MinPrefix: " 64 ",
      }),
    ).toEqual({
      authorizedPorts: "tcp:443,tcp:80",
      ipv4MinPrefix: 24,
      ipv6MinPrefix: 64,
    });
    expect(parseSgOpenIngressParameters({ prohibitedPorts: 22, ipv4MinPrefix: 0, ipv6MinPrefix: 128 })).toEqual({
      prohibitedPorts: "22",
      ipv4MinPrefix: 0,
      ipv6MinPrefix: 128,
    });
  });

  it("keeps an empty authorizedPorts: nothing is authorized", () => {
    expect(parseSgOpenIngressParameters({ authorizedPorts: "" })).toMatchObject({ authorizedPorts: "" });
  });

  it("parses its own output (as carried in a fix instruction) to the same parameters", () => {
    for (const raw of [{}, { prohibitedPorts: "22, 3389", ipv4MinPrefix: "12" }, { authorizedPorts: "" }]) {
      const once = parseSgOpenIngressParameters(raw);
      expect(parseSgOpenIngressParameters({ ...once })).toEqual(once);
      expect(parseSgOpenIngressParameters(JSON.parse(JSON.stringify(once)))).toEqual(once);
    }
  });

  it("returns frozen parameters", () => {
    expect(Object.isFrozen(parseSgOpenIngressParameters({}))).toBe(true);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ["both port lists", { authorizedPorts: "tcp:443", prohibitedPorts: "22" }, "prohibitedPorts", /authorizedPorts/],
    ["an unknown name (typo)", { authorisedPorts: "tcp:443" }, "authorisedPorts", /unknown parameter/],
    ["a differently cased name", { AuthorizedPorts: "tcp:443" }, "AuthorizedPorts", /unknown parameter/],
    ["a port above 65535", { authorizedPorts: "tcp:80,tcp:65536" }, "authorizedPorts", /"tcp:65536"/],
    ["a reversed range", { prohibitedPorts: "3389-22" }, "prohibitedPorts", /after its end: "3389-22"/],
    ["an unknown protocol", { authorizedPorts: "sctp:80" }, "authorizedPorts", /"sctp:80"/],
    ["garbage", { prohibitedPorts: "ssh" }, "prohibitedPorts", /"ssh"/],
    ["icmp as a prohibited port", { prohibitedPorts: "22,icmp" }, "prohibitedPorts", /icmp/],
    ["an empty prohibited list", { prohibitedPorts: " " }, "prohibitedPorts", /at least one port/],
    ["a port list that is not text", { authorizedPorts: ["tcp:80"] }, "authorizedPorts", /must be a string/],
    ["a null port list", { prohibitedPorts: null }, "prohibitedPorts", /must be a string/],
    ["an IPv4 prefix above 32", { ipv4MinPrefix: "33" }, "ipv4MinPrefix", /0-32/],
    ["a negative IPv4 prefix", { ipv4MinPrefix: "-1" }, "ipv4MinPrefix", /0-32/],
    ["a fractional IPv4 prefix", { ipv4MinPrefix: 8.5 }, "ipv4MinPrefix", /integer/],
    ["an empty IPv4 prefix", { ipv4MinPrefix: "" }, "ipv4MinPrefix", /integer/],
    ["an IPv6 prefix above 128", { ipv6MinPrefix: 129 }, "ipv6MinPrefix", /0-128/],
    ["a non-numeric IPv6 prefix", { ipv6MinPrefix: "/16" }, "ipv6MinPrefix", /integer/],
  ])("rejects %s with a RuleParameterError naming the parameter", (_, raw, parameter, message) => {
    const error = caught(() => parseSgOpenIngressParameters(raw));
    expect(error).toBeInstanceOf(RuleParameterError);
    expect((error as RuleParameterError).parameter).toBe(parameter);
    expect(error.message).toContain(`"${parameter}"`);
    expect(error.message).toMatch(message);
  });
});

describe("sgEntriesFromConfiguration", () => {
  it("makes one entry per ingress permission and single CIDR, ignoring egress", () => {
    expect(sgEntriesFromConfiguration(item("ssh-open-to-world").configuration!)).toEqual([
      { direction: "ingress", ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
      {
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "0.0.0.0/0",
        description: "temporary ssh",
      },
      { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "10.20.0.0/16" },
    ]);
  });

  it("never makes entries of prefix lists or security-group pairs", () => {
    expect(sgEntriesFromConfiguration(item("mixed-permission").configuration!).map(sgRuleEntryKey)).toEqual([
      "tcp 22 22 0.0.0.0/0",
      "tcp 22 22 10.0.0.0/8",
    ]);
    expect(sgEntriesFromConfiguration(item("compliant-private-only").configuration!).map(sgRuleEntryKey)).toEqual([
      "tcp 5432 5432 10.20.0.0/16",
      "tcp 22 22 203.0.113.10/32",
    ]);
  });

  it("unions ipv4Ranges with the legacy ipRanges without duplicates, keeping ipv4Ranges' descriptions", () => {
    const entries = sgEntriesFromConfiguration({
      ipPermissions: [
        permission("tcp", [22, 22], [], {
          ipv4Ranges: [{ cidrIp: "198.51.100.0/24", description: "office" }],
          ipRanges: ["198.51.100.0/24", "203.0.113.0/24"],
        }),
        permission("tcp", [25, 25], [], { ipv4Ranges: [], ipRanges: ["192.0.2.0/24"] }),
        permission("tcp", [26, 26], [], { ipv4Ranges: [{ cidrIp: "192.0.2.0/24" }], ipRanges: [] }),
      ],
    });
    expect(entries).toEqual([
      {
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "198.51.100.0/24",
        description: "office",
      },
      { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "203.0.113.0/24" },
      { direction: "ingress", ipProtocol: "tcp", fromPort: 25, toPort: 25, cidrIpv4: "192.0.2.0/24" },
      { direction: "ingress", ipProtocol: "tcp", fromPort: 26, toPort: 26, cidrIpv4: "192.0.2.0/24" },
    ]);
  });

  it("makes one entry per distinct rule, also across permissions and in large groups", () => {
    const many = Array.from({ length: 40 }, (_, index) => `198.51.100.${index}/32`);
    const entries = sgEntriesFromConfiguration({
      ipPermissions: [
        permission("tcp", [22, 22], ["0.0.0.0/0", "::/0", ...many]),
        permission("6", [22, 22], ["0.0.0.0/0", "::/0", "10.1.0.0/8", "10.0.0.0/8"]),
        permission("tcp", [22, 22], [...many].reverse()),
      ],
    });
    expect(entries.map(sgRuleEntryKey)).toEqual([
      "tcp 22 22 0.0.0.0/0",
      ...many.map((cidr) => `tcp 22 22 ${cidr}`),
      "tcp 22 22 ::/0",
      "tcp 22 22 10.0.0.0/8",
    ]);
  });

  it("reads IPv6 ranges with their descriptions", () => {
    expect(sgEntriesFromConfiguration(item("all-traffic-ipv6").configuration!)).toContainEqual({
      direction: "ingress",
      ipProtocol: "-1",
      fromPort: -1,
      toPort: -1,
      cidrIpv6: "::/0",
      description: "debugging, remove me",
    });
  });

  it.each([
    ["tcp", "tcp"],
    ["TCP", "tcp"],
    ["6", "tcp"],
    ["06", "tcp"],
    ["udp", "udp"],
    ["17", "udp"],
  ])("normalises protocol %j to %j", (ipProtocol, expected) => {
    const [entry] = sgEntriesFromConfiguration({ ipPermissions: [permission(ipProtocol, [53, 53], ["0.0.0.0/0"])] });
    expect(entry).toMatchObject({ ipProtocol: expected, fromPort: 53, toPort: 53 });
  });

  it.each([
    ["icmp", [8, 0], "icmp", 8, 0],
    ["1", [-1, -1], "icmp", -1, -1],
    ["icmpv6", [128, -1], "icmpv6", 128, -1],
    ["58", [-1, -1], "icmpv6", -1, -1],
    ["-1", undefined, "-1", -1, -1],
    ["all", undefined, "-1", -1, -1],
    ["-1", [0, 65535], "-1", -1, -1],
    ["50", undefined, "50", -1, -1],
    ["050", [-1, -1], "50", -1, -1],
  ] as const)("normalises protocol %j with ports %j", (ipProtocol, ports, protocol, fromPort, toPort) => {
    const [entry] = sgEntriesFromConfiguration({
      ipPermissions: [permission(ipProtocol, ports as [number, number] | undefined, ["0.0.0.0/0"])],
    });
    expect(entry).toMatchObject({ ipProtocol: protocol, fromPort, toPort });
  });

  it("treats all ICMP types as all codes", () => {
    const [entry] = sgEntriesFromConfiguration({ ipPermissions: [permission("icmp", [-1, 4], ["0.0.0.0/0"])] });
    expect(entry).toMatchObject({ fromPort: -1, toPort: -1 });
  });

  it("normalises CIDRs: host bits cleared, IPv6 compressed and lowercased, bare addresses given a prefix", () => {
    const entries = sgEntriesFromConfiguration({
      ipPermissions: [
        permission(
          "tcp",
          [22, 22],
          ["10.1.2.3/8", "203.0.113.5", "2001:DB8:0:0:0:0:0:1/32", "2001:db8:0:1:0:0:0:0/64"],
        ),
        permission(
          "tcp",
          [23, 23],
          ["fd00:0:0:1::/64", "::ffff:192.0.2.1/128", "0:0:0:0:0:0:0:0/0", "1:0:0:2:0:0:0:3", "1:0:0:2:0:0:3:4"],
        ),
      ],
    });
    expect(entries.map((entry) => entry.cidrIpv4 ?? entry.cidrIpv6)).toEqual([
      "10.0.0.0/8",
      "203.0.113.5/32",
      "2001:db8::/32",
      "2001:db8:0:1::/64",
      "fd00:0:0:1::/64",
      "::ffff:c000:201/128",
      "::/0",
      "1:0:0:2::3/128",
      "1::2:0:0:3:4/128",
    ]);
  });

  it("returns no entries for a group without ingress", () => {
    expect(sgEntriesFromConfiguration({ ipPermissions: [] })).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["missing ipPermissions", { groupId: "sg-1" }, /configuration\.ipPermissions is missing/],
    ["ipPermissions as an object", { ipPermissions: {} }, /ipPermissions is an object, expected an array/],
    ["ipPermissions as a string", { ipPermissions: "[]" }, /ipPermissions is "\[\]"/],
    ["a permission that is not an object", { ipPermissions: [null] }, /ipPermissions\[0\]: is null/],
    [
      "a CIDR that does not parse",
      { ipPermissions: [permission("tcp", [22, 22], ["0.0.0.0/0"]), permission("tcp", [22, 22], ["10.0.0.300/8"])] },
      /ipPermissions\[1\]: ipv4Ranges\[0\]\.cidrIp .*10\.0\.0\.300\/8/,
    ],
    [
      "an IPv6 CIDR in cidrIp",
      { ipPermissions: [permission("tcp", [22, 22], [], { ipv4Ranges: [{ cidrIp: "::/0" }] })] },
      /ipv4Ranges\[0\]\.cidrIp "::\/0" is not an IPv4 CIDR/,
    ],
    [
      "an IPv4 CIDR in cidrIpv6",
      { ipPermissions: [permission("tcp", [22, 22], [], { ipv6Ranges: [{ cidrIpv6: "0.0.0.0/0" }] })] },
      /ipv6Ranges\[0\]\.cidrIpv6 "0\.0\.0\.0\/0" is not an IPv6 CIDR/,
    ],
    [
      "a missing cidrIp",
      { ipPermissions: [permission("tcp", [22, 22], [], { ipv4Ranges: [{ description: "x" }] })] },
      /ipv4Ranges\[0\]\.cidrIp is missing/,
    ],
    [
      "a legacy ipRanges item that is not a CIDR",
      { ipPermissions: [permission("tcp", [22, 22], [], { ipRanges: [42] })] },
      /ipRanges\[0\] is 42/,
    ],
    [
      "ipv6Ranges that is not a list",
      { ipPermissions: [permission("tcp", [22, 22], [], { ipv6Ranges: "::/0" })] },
      /ipPermissions\[0\]: ipv6Ranges is "::\/0", expected an array/,
    ],
    [
      "a tcp permission without ports",
      { ipPermissions: [permission("tcp", undefined, ["0.0.0.0/0"])] },
      /fromPort is missing/,
    ],
    ["a port above 65535", { ipPermissions: [permission("udp", [53, 70000], ["0.0.0.0/0"])] }, /toPort is 70000/],
    [
      "a port range backwards",
      { ipPermissions: [permission("tcp", [443, 80], ["0.0.0.0/0"])] },
      /fromPort 443 is after toPort 80/,
    ],
    ["an unknown protocol", { ipPermissions: [permission("sctp", [1, 1], ["0.0.0.0/0"])] }, /unknown protocol "sctp"/],
    [
      "a protocol number above 255",
      { ipPermissions: [permission("256", undefined, ["0.0.0.0/0"])] },
      /unknown protocol "256"/,
    ],
    ["a missing protocol", { ipPermissions: [{ ipv4Ranges: [{ cidrIp: "0.0.0.0/0" }] }] }, /protocol is missing/],
  ])("throws InvalidConfigItemError for %s", (_, configuration, message) => {
    const error = caught(() => sgEntriesFromConfiguration(configuration));
    expect(error).toBeInstanceOf(InvalidConfigItemError);
    expect(error.message).toMatch(message);
  });

  it("makes evaluate throw for a malformed item rather than skip it", () => {
    const broken = withPermissions([
      permission("tcp", [22, 22], ["0.0.0.0/0"]),
      permission("tcp", [3389, 3389], ["nowhere"]),
    ]);
    expect(() => evaluate(broken)).toThrow(InvalidConfigItemError);
  });
});

describe("sgEntriesFromDescribedRules", () => {
  const described = fixture<{ SecurityGroupRules: SecurityGroupRule[] }>(
    `config-items/${FOLDER}/varied-rules.describe-rules.json`,
  ).SecurityGroupRules;

  it("takes the SDK's SecurityGroupRule type as it is", () => {
    const rules: readonly DescribedSecurityGroupRule[] = described;
    expect(sgEntriesFromDescribedRules(rules).length).toBeGreaterThan(0);
  });

  it("keeps ingress rules with a CIDR, with their rule ids; skips egress, prefix lists and group references", () => {
    const entries = sgEntriesFromDescribedRules(described);
    expect(entries).toHaveLength(8);
    expect(entries.every((entry) => /^sgr-0[0-9a-f]{16}$/.test(entry.securityGroupRuleId ?? ""))).toBe(true);
    expect(entries).toContainEqual({
      direction: "ingress",
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrIpv4: "0.0.0.0/0",
      description: "anyone",
      securityGroupRuleId: "sgr-00000000000000001",
    });
    const egress = described.find((rule) => rule.IsEgress)!;
    expect(entries.some((entry) => entry.securityGroupRuleId === egress.SecurityGroupRuleId)).toBe(false);
  });

  it("gives the same keys as the Config item of the same group", () => {
    const fromConfig = sgEntriesFromConfiguration(item("varied-rules").configuration!).map(sgRuleEntryKey);
    const fromLive = sgEntriesFromDescribedRules(described).map(sgRuleEntryKey);
    expect(fromConfig).toHaveLength(8);
    expect(new Set(fromConfig).size).toBe(fromConfig.length);
    expect([...fromLive].sort()).toEqual([...fromConfig].sort());
  });

  it("judges both descriptions of a group the same way", () => {
    const params = parseSgOpenIngressParameters({});
    const fromConfig = judgeSgEntries(sgEntriesFromConfiguration(item("varied-rules").configuration!), params);
    const fromLive = judgeSgEntries(sgEntriesFromDescribedRules(described), params);
    expect(keysOf(fromLive)).toEqual(keysOf(fromConfig));
    expect(fromLive.map((finding) => finding.reason)).toEqual(fromConfig.map((finding) => finding.reason));
    expect(keysOf(fromConfig)).toEqual([
      "-1 -1 -1 ::/0",
      "tcp 22 22 0.0.0.0/0",
      "icmp 8 -1 0.0.0.0/0",
      "icmpv6 -1 -1 ::/0",
    ]);
  });

  it("normalises live rules like Config ones (protocol numbers, host bits, -1 ports)", () => {
    const entries = sgEntriesFromDescribedRules([
      {
        SecurityGroupRuleId: "sgr-1",
        IsEgress: false,
        IpProtocol: "6",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "10.9.9.9/8",
      },
      {
        SecurityGroupRuleId: "sgr-2",
        IsEgress: false,
        IpProtocol: "-1",
        FromPort: -1,
        ToPort: -1,
        CidrIpv6: "2001:DB8::1/32",
      },
      { SecurityGroupRuleId: "sgr-3", IsEgress: false, IpProtocol: "50", CidrIpv4: "0.0.0.0/0" },
    ]);
    expect(entries.map(sgRuleEntryKey)).toEqual([
      "tcp 22 22 10.0.0.0/8",
      "-1 -1 -1 2001:db8::/32",
      "50 -1 -1 0.0.0.0/0",
    ]);
  });

  it.each<[string, DescribedSecurityGroupRule, RegExp]>([
    [
      "no direction",
      { SecurityGroupRuleId: "sgr-9", IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "0.0.0.0/0" },
      /sgr-9: IsEgress is missing/,
    ],
    [
      "two CIDRs",
      { IsEgress: false, IpProtocol: "-1", CidrIpv4: "0.0.0.0/0", CidrIpv6: "::/0" },
      /both CidrIpv4 and CidrIpv6/,
    ],
    ["no protocol", { IsEgress: false, CidrIpv4: "0.0.0.0/0" }, /protocol is missing/],
    [
      "a bad CIDR",
      { IsEgress: false, IpProtocol: "tcp", FromPort: 1, ToPort: 1, CidrIpv4: "0.0.0.0/33" },
      /CidrIpv4 .*0\.0\.0\.0\/33/,
    ],
    ["tcp without ports", { IsEgress: false, IpProtocol: "tcp", CidrIpv4: "0.0.0.0/0" }, /FromPort is missing/],
  ])("throws InvalidSecurityGroupRuleError for %s", (_, rule, message) => {
    const error = caught(() => sgEntriesFromDescribedRules([rule]));
    expect(error).toBeInstanceOf(InvalidSecurityGroupRuleError);
    expect(error.message).toMatch(message);
  });
});

describe("sgRuleEntryKey", () => {
  const entry = (rule: Partial<SgRuleEntry>): SgRuleEntry => ({
    direction: "ingress",
    ipProtocol: "tcp",
    fromPort: 22,
    toPort: 22,
    ...rule,
  });

  it("ignores description and rule id", () => {
    expect(sgRuleEntryKey(entry({ cidrIpv4: "0.0.0.0/0", description: "a", securityGroupRuleId: "sgr-1" }))).toBe(
      sgRuleEntryKey(entry({ cidrIpv4: "0.0.0.0/0" })),
    );
  });

  it("distinguishes protocol, ports and CIDR", () => {
    const keys = [
      entry({ cidrIpv4: "0.0.0.0/0" }),
      entry({ cidrIpv4: "0.0.0.0/0", ipProtocol: "udp" }),
      entry({ cidrIpv4: "0.0.0.0/0", toPort: 23 }),
      entry({ cidrIpv4: "0.0.0.0/0", fromPort: 21 }),
      entry({ cidrIpv4: "0.0.0.0/1" }),
      entry({ cidrIpv6: "::/0" }),
    ].map(sgRuleEntryKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("is the same for a Config entry and a live entry that mean the same thing", () => {
    const [config] = sgEntriesFromConfiguration({
      ipPermissions: [permission("6", [22, 22], [], { ipv4Ranges: [{ cidrIp: "203.0.113.77/24", description: "x" }] })],
    });
    const [live] = sgEntriesFromDescribedRules([
      {
        SecurityGroupRuleId: "sgr-1",
        IsEgress: false,
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        CidrIpv4: "203.0.113.0/24",
      },
    ]);
    expect(sgRuleEntryKey(config!)).toBe(sgRuleEntryKey(live!));
    expect(sgRuleEntryKey(live!)).toBe("tcp 22 22 203.0.113.0/24");
  });
});

describe("evaluate", () => {
  it("flags ssh open to the world: exactly one finding, the 0.0.0.0/0 entry of port 22", () => {
    const verdict = evaluate("ssh-open-to-world");
    expect(verdict).toEqual({
      compliance: "NON_COMPLIANT",
      annotation: "1 open ingress rule: tcp 22 from 0.0.0.0/0",
      findings: [
        {
          problem: "sg-open-ingress",
          matched: {
            kind: "sg-rule",
            rule: {
              direction: "ingress",
              ipProtocol: "tcp",
              fromPort: 22,
              toPort: 22,
              cidrIpv4: "0.0.0.0/0",
              description: "temporary ssh",
            },
          },
          reason: "tcp 22 open to 0.0.0.0/0 (not in authorized ports tcp:80,tcp:443)",
        },
      ],
    });
  });

  it("passes a web tier open only on 80 and 443", () => {
    expect(evaluate("web-only")).toEqual({
      compliance: "COMPLIANT",
      annotation: "no open ingress outside tcp:80,tcp:443",
      findings: [],
    });
  });

  it("flags all traffic open to ::/0, which no port list authorizes", () => {
    const expected = "all traffic open to ::/0 (not in authorized ports tcp:80,tcp:443)";
    expect(evaluate("all-traffic-ipv6").findings.map((finding) => finding.reason)).toEqual([expected]);
    const everything = evaluate("all-traffic-ipv6", { authorizedPorts: "tcp:0-65535,udp:0-65535,icmp,icmpv6" });
    expect(keysOf(everything.findings)).toEqual(["-1 -1 -1 ::/0"]);
  });

  it("flags all traffic when it reaches a prohibited port", () => {
    const verdict = evaluate("all-traffic-ipv6", { prohibitedPorts: "22" });
    expect(verdict.findings.map((finding) => finding.reason)).toEqual([
      "all traffic open to ::/0 (reaches prohibited port 22)",
    ]);
    expect(verdict.annotation).toBe("1 open ingress rule: all traffic from ::/0");
    expect(evaluate("all-traffic-ipv6", { prohibitedPorts: "22,3389" }).findings[0]!.reason).toBe(
      "all traffic open to ::/0 (reaches prohibited ports 22,3389)",
    );
  });

  it("in a mixed permission, flags only the open CIDR — never the private one, the group pair or the prefix list", () => {
    const verdict = evaluate("mixed-permission");
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(verdict.findings.map(ruleOf)).toEqual([
      {
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "0.0.0.0/0",
        description: "anyone",
      },
    ]);
  });

  describe("judges each permission on its own", () => {
    it("flags the later ports even after an authorized permission, in either order", () => {
      const verdict = evaluate("later-permission-ports");
      expect(verdict.annotation).toBe("2 open ingress rules: tcp 22 from 0.0.0.0/0; tcp 3389 from ::/0");
      expect(keysOf(verdict.findings)).toEqual(["tcp 22 22 0.0.0.0/0", "tcp 3389 3389 ::/0"]);

      const reversed = item("later-permission-ports");
      reversed.configuration!.ipPermissions = [...(reversed.configuration!.ipPermissions as unknown[])].reverse();
      expect(evaluate(reversed)).toEqual(verdict);
    });

    it.each([
      ["443 then 22", [443, 22]],
      ["22 then 443", [22, 443]],
    ])("authorized ports: %s", (_, ports) => {
      const group = withPermissions(ports.map((port) => permission("tcp", [port, port], ["0.0.0.0/0"])));
      expect(keysOf(evaluate(group).findings)).toEqual(["tcp 22 22 0.0.0.0/0"]);
    });

    it.each([
      ["prohibited first", [22, 443]],
      ["prohibited last", [443, 22]],
    ])("prohibited ports: %s", (_, ports) => {
      const group = withPermissions(ports.map((port) => permission("tcp", [port, port], ["0.0.0.0/0"])));
      expect(keysOf(evaluate(group, { prohibitedPorts: "22" }).findings)).toEqual(["tcp 22 22 0.0.0.0/0"]);
    });

    it("does not carry a private source or all-protocols into the next permission", () => {
      const group = withPermissions([
        permission("tcp", [22, 22], ["10.0.0.0/8"]),
        permission("tcp", [443, 443], ["0.0.0.0/0"]),
        permission("-1", undefined, ["10.0.0.0/8"]),
        permission("tcp", [80, 80], ["0.0.0.0/0"]),
      ]);
      expect(evaluate(group, { prohibitedPorts: "22" }).compliance).toBe("COMPLIANT");
      expect(evaluate(group).compliance).toBe("COMPLIANT");
      expect(sgEntriesFromConfiguration(group.configuration!).map(sgRuleEntryKey)).toEqual([
        "tcp 22 22 10.0.0.0/8",
        "tcp 443 443 0.0.0.0/0",
        "-1 -1 -1 10.0.0.0/8",
        "tcp 80 80 0.0.0.0/0",
      ]);
    });

    it("prohibited ports flag each matching permission and nothing else", () => {
      expect(keysOf(evaluate("later-permission-ports", { prohibitedPorts: "443" }).findings)).toEqual([
        "tcp 443 443 0.0.0.0/0",
        "tcp 443 443 ::/0",
      ]);
      expect(keysOf(evaluate("later-permission-ports", { prohibitedPorts: "22,3389" }).findings)).toEqual([
        "tcp 22 22 0.0.0.0/0",
        "tcp 3389 3389 ::/0",
      ]);
    });
  });

  describe("ICMP", () => {
    it("is a violation when open to the world and not authorized", () => {
      const verdict = evaluate("icmp-open");
      expect(verdict.findings.map((finding) => finding.reason)).toEqual([
        "icmp open to 0.0.0.0/0 (not in authorized ports tcp:80,tcp:443)",
        "icmpv6 open to ::/0 (not in authorized ports tcp:80,tcp:443)",
      ]);
    });

    it("is authorized per family by icmp / icmpv6", () => {
      expect(keysOf(evaluate("icmp-open", { authorizedPorts: "tcp:80,tcp:443,icmp" }).findings)).toEqual([
        "icmpv6 -1 -1 ::/0",
      ]);
      expect(evaluate("icmp-open", { authorizedPorts: "icmp, icmpv6" })).toEqual({
        compliance: "COMPLIANT",
        annotation: "no open ingress outside icmp,icmpv6",
        findings: [],
      });
    });

    it("never reaches a prohibited port: type and code are not ports", () => {
      expect(evaluate("icmp-open", { prohibitedPorts: "22" })).toEqual({
        compliance: "COMPLIANT",
        annotation: "no open ingress to prohibited ports 22",
        findings: [],
      });
      const typeThree = withPermissions([permission("icmp", [3, 4], ["0.0.0.0/0"])]);
      expect(evaluate(typeThree, { prohibitedPorts: "0-65535" }).compliance).toBe("COMPLIANT");
      expect(evaluate(typeThree).findings[0]!.reason).toBe(
        "icmp type 3 code 4 open to 0.0.0.0/0 (not in authorized ports tcp:80,tcp:443)",
      );
    });
  });

  describe("port ranges", () => {
    it("under authorizedPorts, is a violation unless every port is authorized for the protocol", () => {
      expect(evaluate("port-range-open").findings.map((finding) => finding.reason)).toEqual([
        "tcp 80-443 open to 0.0.0.0/0 (not in authorized ports tcp:80,tcp:443)",
      ]);
      expect(evaluate("port-range-open", { authorizedPorts: "tcp:80-443" }).compliance).toBe("COMPLIANT");
      expect(evaluate("port-range-open", { authorizedPorts: "tcp:80-200,tcp:201-443" }).compliance).toBe("COMPLIANT");
      expect(evaluate("port-range-open", { authorizedPorts: "80-443" }).compliance).toBe("COMPLIANT");
      expect(evaluate("port-range-open", { authorizedPorts: "udp:80-443" }).compliance).toBe("NON_COMPLIANT");
      expect(evaluate("port-range-open", { authorizedPorts: "tcp:80-442" }).compliance).toBe("NON_COMPLIANT");
    });

    it("under prohibitedPorts, is a violation if any port is prohibited for the protocol", () => {
      const reasons = (prohibitedPorts: string) =>
        evaluate("port-range-open", { prohibitedPorts }).findings.map((finding) => finding.reason);
      expect(reasons("22")).toEqual([]);
      expect(reasons("udp:100")).toEqual([]);
      expect(reasons("443")).toEqual(["tcp 80-443 open to 0.0.0.0/0 (reaches prohibited port 443)"]);
      expect(reasons("tcp:100,tcp:200,22")).toEqual([
        "tcp 80-443 open to 0.0.0.0/0 (reaches prohibited ports 100,200)",
      ]);
      expect(reasons("400-500")).toEqual(["tcp 80-443 open to 0.0.0.0/0 (reaches prohibited ports 400-443)"]);
    });
  });

  describe("other protocols", () => {
    it("have no ports: a violation under authorizedPorts, never under prohibitedPorts", () => {
      expect(evaluate("other-protocol-open").findings.map((finding) => finding.reason)).toEqual([
        "udp 500 open to 0.0.0.0/0 (not in authorized ports tcp:80,tcp:443)",
        "protocol 50 open to 0.0.0.0/0 (not in authorized ports tcp:80,tcp:443)",
      ]);
      expect(keysOf(evaluate("other-protocol-open", { authorizedPorts: "udp:500" }).findings)).toEqual([
        "50 -1 -1 0.0.0.0/0",
      ]);
      expect(keysOf(evaluate("other-protocol-open", { prohibitedPorts: "0-65535" }).findings)).toEqual([
        "udp 500 500 0.0.0.0/0",
      ]);
    });
  });

  describe("wide ranges", () => {
    it("flags public ranges wider than the thresholds, not those at the threshold", () => {
      expect(keysOf(evaluate("wide-public-range").findings)).toEqual([
        "tcp 22 22 8.0.0.0/7",
        "tcp 5432 5432 2400::/12",
      ]);
    });

    it("follows ipv4MinPrefix and ipv6MinPrefix", () => {
      expect(evaluate("wide-public-range", { ipv4MinPrefix: "7", ipv6MinPrefix: "12" }).compliance).toBe("COMPLIANT");
      expect(keysOf(evaluate("wide-public-range", { ipv4MinPrefix: "9", ipv6MinPrefix: "33" }).findings)).toEqual([
        "tcp 22 22 8.0.0.0/7",
        "tcp 22 22 52.0.0.0/8",
        "tcp 5432 5432 2001:db8::/32",
        "tcp 5432 5432 2400::/12",
      ]);
    });

    it("never flags wholly private ranges, however wide and whatever the thresholds", () => {
      expect(evaluate("wide-private-range").compliance).toBe("COMPLIANT");
      expect(evaluate("wide-private-range", { ipv4MinPrefix: 32, ipv6MinPrefix: 128, authorizedPorts: "" })).toEqual({
        compliance: "COMPLIANT",
        annotation: "no open ingress",
        findings: [],
      });
    });
  });

  it("passes a group open only to private and narrow sources", () => {
    expect(evaluate("compliant-private-only", { authorizedPorts: "" }).compliance).toBe("COMPLIANT");
    expect(evaluate("compliant-private-only", { prohibitedPorts: "22,5432" }).compliance).toBe("COMPLIANT");
  });

  it("with nothing authorized, flags every open entry", () => {
    const verdict = evaluate("web-only", { authorizedPorts: "" });
    expect(verdict.findings.map((finding) => finding.reason)).toEqual([
      "tcp 80 open to 0.0.0.0/0 (no ports authorized)",
      "tcp 80 open to ::/0 (no ports authorized)",
      "tcp 443 open to 0.0.0.0/0 (no ports authorized)",
      "tcp 443 open to ::/0 (no ports authorized)",
    ]);
  });

  it("reads a deleted item (left to the runtime) without judging anything", () => {
    const deleted = item("deleted");
    expect(isDeleted(deleted)).toBe(true);
    expect(deleted.configuration).toBeNull();
    expect(evaluate(deleted)).toMatchObject({ compliance: "NOT_APPLICABLE", findings: [] });
  });

  it("judges the API's item shape (configuration as a JSON string) the same", () => {
    const raw = configItem<Record<string, unknown>>(FOLDER, "later-permission-ports");
    const asApi = normalizeConfigItem({ ...raw, configuration: JSON.stringify(raw.configuration) });
    expect(evaluate(asApi)).toEqual(evaluate("later-permission-ports"));
  });
});

describe("judgeSgEntries", () => {
  const params = parseSgOpenIngressParameters({});
  const entries = sgEntriesFromConfiguration(item("varied-rules").configuration!);

  it("orders findings the same whatever the order of the entries", () => {
    const expected = keysOf(judgeSgEntries(entries, params));
    for (let shift = 1; shift < entries.length; shift++) {
      const rotated = [...entries.slice(shift), ...entries.slice(0, shift)];
      expect(keysOf(judgeSgEntries(rotated, params))).toEqual(expected);
      expect(keysOf(judgeSgEntries([...rotated].reverse(), params))).toEqual(expected);
    }
  });

  it("returns the entry objects it was given as the matched rules", () => {
    const [finding] = judgeSgEntries(entries, params);
    expect(entries).toContain(ruleOf(finding!));
  });

  it("accepts parameters built by hand or read back from an instruction, validating them", () => {
    const byHand: SgOpenIngressParams = { prohibitedPorts: "22", ipv4MinPrefix: 8, ipv6MinPrefix: 16 };
    expect(keysOf(judgeSgEntries(entries, byHand))).toEqual(["-1 -1 -1 ::/0", "tcp 22 22 0.0.0.0/0"]);
    const bad = { prohibitedPorts: "ssh", ipv4MinPrefix: 8, ipv6MinPrefix: 16 } as SgOpenIngressParams;
    expect(() => judgeSgEntries(entries, bad)).toThrow(RuleParameterError);
  });

  it("rejects an entry without exactly one CIDR", () => {
    const noCidr: SgRuleEntry = { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22 };
    expect(() => judgeSgEntries([noCidr], params)).toThrow(InvalidSecurityGroupRuleError);
  });
});
