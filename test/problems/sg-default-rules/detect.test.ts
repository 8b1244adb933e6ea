// The sg-default-rules rule (problems/sg-default-rules/detect.ts) on Config items as Config delivers them and on live
// DescribeSecurityGroupRules output: every rule of a VPC's default group, ingress or egress, to or from a CIDR, a
// prefix list or a group, is a finding — unless the item shows network interfaces using the group, which makes it
// non-compliant with nothing queued. Exemptions (tag, allowlist) apply as to any rule; deleted, oversized (the API's
// item shape) and malformed items are judged as the other rules judge them. And the matched-entry schemas: this
// problem's accepts egress and group references, sg-open-ingress' still refuses them.
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { matchedEntryKey, parseInstruction, serializeInstruction } from "../../../contract/instruction.ts";
import { InvalidConfigItemError, normalizeConfigItem } from "../../../detection/config-item.ts";
import { parseAllowlist } from "../../../detection/exemptions.ts";
import { judgeItem } from "../../../detection/judge.ts";
import { RULES } from "../../../detection/rules.ts";
import { type ConfigItem, type Finding, RuleParameterError } from "../../../detection/types.ts";
import { sgDefaultRulesContract } from "../../../problems/sg-default-rules/contract.ts";
import {
  DEFAULT_GROUP_NAME,
  defaultGroupOfLive,
  defaultRuleEntriesFromConfiguration,
  defaultRuleEntriesFromDescribedRules,
  interfacesOfItem,
  judgeDefaultGroupEntries,
  parseSgDefaultRulesParameters,
  sgDefaultRuleKey,
  sgDefaultRulesRule,
  sgDefaultRulesVerdict,
} from "../../../problems/sg-default-rules/detect.ts";
import { sgOpenIngressContract } from "../../../problems/sg-open-ingress/contract.ts";
import { InvalidSecurityGroupRuleError } from "../../../problems/sg-open-ingress/detect.ts";
import { configItem, fixture } from "../../fixtures/load.ts";
import { testInstruction } from "../../support/instructions.ts";

// biome-ignore lint/suspicious/noExplicitAny: fixtures and records are changed freely, by any path.
type Json = Record<string, any>;

const FOLDER = "AWS_EC2_SecurityGroup";
const GROUP = "sg-0d3fa017e5c6b8a21";
const NOW = new Date("2026-11-20T12:00:00.000Z");
const PARAMS = parseSgDefaultRulesParameters({});

function raw(variant: string): Json {
  return configItem<Json>(FOLDER, variant);
}

function item(variant: string | Record<string, unknown>): ConfigItem {
  return normalizeConfigItem(typeof variant === "string" ? raw(variant) : variant);
}

function evaluate(variant: string | Record<string, unknown>) {
  return sgDefaultRulesRule.evaluate(item(variant), PARAMS);
}

function keysOf(findings: readonly Finding[]): string[] {
  return findings.map((finding) => {
    if (finding.matched.kind !== "sg-default-rule") throw new Error(`unexpected ${finding.matched.kind}`);
    return sgDefaultRuleKey(finding.matched.rule);
  });
}

/** The item as GetResourceConfigHistory returns it (an oversized item's door): JSON strings, relationshipName. */
function asApiItem(rawItem: Json): Record<string, unknown> {
  const { awsAccountId, ARN, configurationItemVersion, configurationStateMd5Hash, relationships, ...rest } = rawItem;
  return {
    ...rest,
    version: configurationItemVersion,
    accountId: awsAccountId,
    arn: ARN,
    configurationItemMD5Hash: configurationStateMd5Hash,
    configurationStateId: String(rawItem.configurationStateId),
    configuration: JSON.stringify(rawItem.configuration),
    relationships: (relationships as Record<string, unknown>[]).map(({ name, ...relationship }) => ({
      ...relationship,
      relationshipName: name,
    })),
  };
}

function judge(variant: string | Record<string, unknown>, allowlist: unknown[] = []) {
  return judgeItem(item(variant), sgDefaultRulesRule, PARAMS, {
    allowlist: parseAllowlist(allowlist).entries,
    now: NOW,
    gracePeriodMs: 0,
    configRuleName: "remedy-sg-default-rules",
  });
}

describe("the rule", () => {
  it("is sg-default-rules, for security groups, loaded from the registry", () => {
    expect(sgDefaultRulesRule).toMatchObject({
      id: "sg-default-rules",
      problems: ["sg-default-rules"],
      resourceTypes: ["AWS::EC2::SecurityGroup"],
    });
    expect(RULES).toContain(sgDefaultRulesRule);
  });

  it("takes no parameters, and refuses any", () => {
    expect(parseSgDefaultRulesParameters({})).toEqual({});
    expect(Object.isFrozen(parseSgDefaultRulesParameters({}))).toBe(true);
    expect(() => parseSgDefaultRulesParameters({ authorizedPorts: "tcp:443" })).toThrow(RuleParameterError);
    expect(() => parseSgDefaultRulesParameters({ authorizedPorts: "tcp:443" })).toThrow(
      'Rule parameter "authorizedPorts": unknown parameter (sg-default-rules takes none)',
    );
    expect(() => parseSgDefaultRulesParameters([] as unknown as Record<string, unknown>)).toThrow(RuleParameterError);
  });
});

describe("evaluate", () => {
  it("flags both rules AWS gives every default group: all traffic in from itself and out to 0.0.0.0/0", () => {
    const verdict = evaluate("default-aws-defaults");
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(verdict.findings).toEqual([
      {
        problem: "sg-default-rules",
        matched: {
          kind: "sg-default-rule",
          rule: {
            direction: "ingress",
            ipProtocol: "-1",
            fromPort: -1,
            toPort: -1,
            referencedGroup: { groupId: GROUP, userId: "123456789012" },
          },
        },
        reason: `ingress all traffic from 123456789012/${GROUP} on a VPC's default group (it should have no rules)`,
      },
      {
        problem: "sg-default-rules",
        matched: {
          kind: "sg-default-rule",
          rule: { direction: "egress", ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" },
        },
        reason: "egress all traffic to 0.0.0.0/0 on a VPC's default group (it should have no rules)",
      },
    ]);
    expect(verdict.annotation).toBe(
      `2 rules on the default group of vpc-0a1b2c3d4e5f60718: ingress all traffic from 123456789012/${GROUP}; egress all traffic to 0.0.0.0/0`,
    );
  });

  it("queues one instruction naming every rule, from the deployed rule", () => {
    const judgement = judge("default-aws-defaults");
    expect(judgement.instructions).toHaveLength(1);
    const [instruction] = judgement.instructions;
    expect(instruction).toMatchObject({
      problem: "sg-default-rules",
      resource: { type: "AWS::EC2::SecurityGroup", id: GROUP, accountId: "123456789012", region: "us-east-1" },
      rule: { id: "sg-default-rules", configRuleName: "remedy-sg-default-rules", parameters: {} },
    });
    expect(instruction!.matched.map((entry) => entry.kind)).toEqual(["sg-default-rule", "sg-default-rule"]);
    expect(parseInstruction(serializeInstruction(instruction!))).toEqual(instruction);
  });

  it("flags every rule of a default group, whatever its source or destination: CIDRs, prefix lists, groups", () => {
    const verdict = evaluate("default-mixed");
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(keysOf(verdict.findings)).toEqual([
      "ingress tcp 22 22 0.0.0.0/0",
      // A private range too: a default group should have no rule at all.
      "ingress tcp 22 22 10.20.0.0/16",
      "ingress tcp 443 443 pl-02cd2c6b",
      "ingress icmpv6 128 -1 2001:db8::/32",
      "egress -1 -1 -1 0.0.0.0/0",
      "egress -1 -1 -1 ::/0",
      "egress tcp 5432 5432 sg-0c1d2e3f4a5b6c7d8",
    ]);
    const rules = verdict.findings.map((finding) => (finding.matched as { rule: unknown }).rule);
    // ipRanges repeats ipv4Ranges: read once, with ipv4Ranges' description.
    expect(rules[0]).toEqual({
      direction: "ingress",
      ipProtocol: "tcp",
      fromPort: 22,
      toPort: 22,
      cidrIpv4: "0.0.0.0/0",
      description: "temporary ssh",
    });
    expect(rules[3]).toMatchObject({ cidrIpv6: "2001:db8::/32", description: "ping from the lab" });
    expect(rules[6]).toEqual({
      direction: "egress",
      ipProtocol: "tcp",
      fromPort: 5432,
      toPort: 5432,
      referencedGroup: { groupId: "sg-0c1d2e3f4a5b6c7d8", userId: "210987654321" },
      description: "postgres in the data account",
    });
  });

  it("finds a default group without rules compliant", () => {
    expect(evaluate("default-closed")).toEqual({
      compliance: "COMPLIANT",
      annotation: "the default group of vpc-0a1b2c3d4e5f60718 has no rules",
      findings: [],
    });
  });

  it("does not apply to any other group, whatever its rules (EC2 lets no other group be named default)", () => {
    const verdict = evaluate("ssh-open-to-world");
    expect(verdict).toEqual({
      compliance: "NOT_APPLICABLE",
      annotation: 'not a VPC\'s default group (group name "bastion")',
      findings: [],
    });
    // Another group's rules are not even read: an unreadable one is no error of this rule.
    const broken = raw("ssh-open-to-world");
    broken.configuration.ipPermissions[0].ipProtocol = { weird: true };
    expect(evaluate(broken).compliance).toBe("NOT_APPLICABLE");
  });

  it("in use by network interfaces: non-compliant, naming them, with no finding and so no instruction", () => {
    const verdict = evaluate("default-in-use");
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(verdict.findings).toEqual([]);
    expect(verdict.annotation).toBe(
      "2 rules on the default group of vpc-0a1b2c3d4e5f60718, which 2 network interfaces use: not fixed " +
        "automatically (revoking them would cut their traffic); move them to groups of their own: " +
        "eni-05d2b8f4a6c1e3079, eni-0a7c3e9f1b2d4c6e8",
    );
    const judgement = judge("default-in-use");
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.instructions).toEqual([]);
  });

  it("reads the interfaces from the item's relationships only (an instance, a VPC use no group of their own)", () => {
    expect(interfacesOfItem(item("default-in-use"))).toEqual(["eni-05d2b8f4a6c1e3079", "eni-0a7c3e9f1b2d4c6e8"]);
    // None listed is not "none": Config may not record them, and the fix checks live.
    expect(interfacesOfItem(item("default-aws-defaults"))).toBeUndefined();
    expect(interfacesOfItem({})).toBeUndefined();
  });

  it("reads a deleted item without judging anything, and the runtime leaves it not applicable", () => {
    expect(evaluate("deleted")).toEqual({
      compliance: "NOT_APPLICABLE",
      annotation: "no configuration recorded (ResourceDeleted)",
      findings: [],
    });
    expect(judge("deleted")).toMatchObject({ compliance: "NOT_APPLICABLE", instructions: [] });
  });

  it("judges an oversized item (GetResourceConfigHistory's shape) as the event's", () => {
    for (const variant of ["default-aws-defaults", "default-in-use", "default-mixed", "default-closed"]) {
      const api = asApiItem(raw(variant));
      expect(typeof api.configuration, variant).toBe("string");
      expect(evaluate(api), variant).toEqual(evaluate(variant));
    }
  });

  it("exempts by the remedy:exempt tag: found, reported, never queued", () => {
    const tagged = raw("default-aws-defaults");
    tagged.tags = { "remedy:exempt": "legacy lab VPC until=2099-12-31" };
    const judgement = judge(tagged);
    expect(judgement.compliance).toBe("NON_COMPLIANT");
    expect(judgement.findings).toHaveLength(2);
    expect(judgement.findings.every((finding) => finding.exemption?.source === "tag")).toBe(true);
    expect(judgement.instructions).toEqual([]);
    expect(judgement.annotation).toMatch(/^sg-default-rules exempt by tag remedy:exempt until 2099-12-31/);
  });

  it("exempts by the allowlist, for this problem only", () => {
    const entry = {
      resource: GROUP,
      problems: ["sg-default-rules"],
      reason: "shared services VPC",
      owner: "network-team",
      expires: "2099-12-31",
    };
    const exempt = judge("default-aws-defaults", [entry]);
    expect(exempt.instructions).toEqual([]);
    expect(exempt.findings.every((finding) => finding.exemption?.source === "allowlist")).toBe(true);
    // An entry for another problem exempts nothing here.
    expect(judge("default-aws-defaults", [{ ...entry, problems: ["sg-open-ingress"] }]).instructions).toHaveLength(1);
  });

  it.each<[string, (item: Json) => void, RegExp]>([
    [
      "egress that is not a list",
      (i) => {
        i.configuration.ipPermissionsEgress = "all";
      },
      /^configuration\.ipPermissionsEgress is "all", expected an array of permissions$/,
    ],
    [
      "a group pair without a group id",
      (i) => {
        i.configuration.ipPermissions[0].userIdGroupPairs[0].groupId = null;
      },
      /^configuration\.ipPermissions\[0\]: userIdGroupPairs\[0\]\.groupId is null$/,
    ],
    [
      "a bad CIDR",
      (i) => {
        i.configuration.ipPermissionsEgress[0].ipv4Ranges[0].cidrIp = "0.0.0.0/33";
      },
      /^configuration\.ipPermissionsEgress\[0\]: ipv4Ranges\[0\]\.cidrIp /,
    ],
    [
      "an unknown protocol",
      (i) => {
        i.configuration.ipPermissions[0].ipProtocol = "tcpx";
      },
      /^configuration\.ipPermissions\[0\]: unknown protocol "tcpx"$/,
    ],
  ])("throws InvalidConfigItemError for %s, naming where", (_, breakIt, message) => {
    const broken = raw("default-aws-defaults");
    breakIt(broken);
    expect(() => evaluate(broken)).toThrow(InvalidConfigItemError);
    expect(() => evaluate(broken)).toThrow(message);
  });
});

describe("live rules (DescribeSecurityGroupRules)", () => {
  const described = fixture<{ SecurityGroupRules: SecurityGroupRule[] }>(
    `config-items/${FOLDER}/default-mixed.describe-rules.json`,
  ).SecurityGroupRules;

  it("give the same entries as the Config item of the same group, with their rule ids", () => {
    const live = defaultRuleEntriesFromDescribedRules(described);
    const fromConfig = defaultRuleEntriesFromConfiguration(item("default-mixed").configuration!);
    expect(live.map(sgDefaultRuleKey)).toEqual(fromConfig.map(sgDefaultRuleKey));
    expect(live.map((entry) => entry.securityGroupRuleId)).toEqual(described.map((rule) => rule.SecurityGroupRuleId));
    // The same entries but for the rule id: a live finding matches the instruction's entry by its key.
    expect(live.map(({ securityGroupRuleId: _id, ...entry }) => entry)).toEqual(fromConfig);
  });

  it("are judged as the item is: every rule a finding, with the same reasons", () => {
    const verdict = sgDefaultRulesVerdict(
      defaultGroupOfLive({ groupName: DEFAULT_GROUP_NAME, vpcId: "vpc-0a1b2c3d4e5f60718", rules: described }),
    );
    const fromItem = evaluate("default-mixed");
    expect(verdict.annotation).toBe(fromItem.annotation);
    expect(verdict.findings.map((finding) => finding.reason)).toEqual(
      fromItem.findings.map((finding) => finding.reason),
    );
    expect(verdict.findings.map((finding) => matchedEntryKey(finding.matched))).toEqual(
      fromItem.findings.map((finding) => matchedEntryKey(finding.matched)),
    );
  });

  it("with interfaces read live using the group: no finding; read as none: every rule a finding", () => {
    const group = { groupName: DEFAULT_GROUP_NAME, rules: described };
    expect(
      sgDefaultRulesVerdict(defaultGroupOfLive({ ...group, interfaces: ["eni-0a7c3e9f1b2d4c6e8"] })),
    ).toMatchObject({ compliance: "NON_COMPLIANT", findings: [] });
    expect(sgDefaultRulesVerdict(defaultGroupOfLive({ ...group, interfaces: [] })).findings).toHaveLength(7);
    // The fix's judgement names the rules whether or not the group is in use: its plan decides.
    expect(judgeDefaultGroupEntries(defaultGroupOfLive({ ...group, interfaces: ["eni-1"] }))).toHaveLength(7);
    expect(judgeDefaultGroupEntries(defaultGroupOfLive({ groupName: "web", rules: described }))).toEqual([]);
  });

  it.each<[string, SecurityGroupRule, RegExp]>([
    [
      "no direction",
      { SecurityGroupRuleId: "sgr-9", IpProtocol: "-1", CidrIpv4: "0.0.0.0/0" },
      /sgr-9: IsEgress is missing/,
    ],
    [
      "two peers",
      { IsEgress: true, IpProtocol: "-1", CidrIpv4: "0.0.0.0/0", PrefixListId: "pl-1" },
      /names 2 of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupInfo, expected exactly one/,
    ],
    ["no peer", { IsEgress: true, IpProtocol: "-1" }, /names 0 of/],
    [
      "a group reference without a group",
      { IsEgress: false, IpProtocol: "-1", ReferencedGroupInfo: {} },
      /GroupId is missing/,
    ],
  ])("throw InvalidSecurityGroupRuleError for %s", (_, rule, message) => {
    expect(() => defaultRuleEntriesFromDescribedRules([rule])).toThrow(InvalidSecurityGroupRuleError);
    expect(() => defaultRuleEntriesFromDescribedRules([rule])).toThrow(message);
  });
});

describe("the matched entries", () => {
  const egress = { direction: "egress", ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv4: "0.0.0.0/0" } as const;
  const reference = {
    direction: "ingress",
    ipProtocol: "-1",
    fromPort: -1,
    toPort: -1,
    referencedGroup: { groupId: GROUP, userId: "123456789012" },
  } as const;

  it("of this problem: egress, group references and prefix lists, with exactly one source or destination", () => {
    for (const rule of [egress, reference, { ...egress, cidrIpv4: undefined, prefixListId: "pl-02cd2c6b" }]) {
      expect(v.safeParse(sgDefaultRulesContract.matched, { kind: "sg-default-rule", rule }).success).toBe(true);
    }
    expect(
      v.safeParse(sgDefaultRulesContract.matched, { kind: "sg-default-rule", rule: { ...egress, cidrIpv6: "::/0" } })
        .success,
    ).toBe(false);
    expect(
      v.safeParse(sgDefaultRulesContract.matched, { kind: "sg-default-rule", rule: { ...egress, cidrIpv4: undefined } })
        .success,
    ).toBe(false);
  });

  it("are the same entry whatever their description, live rule id or referenced group's owner", () => {
    const key = (rule: Record<string, unknown>) => matchedEntryKey({ kind: "sg-default-rule", rule } as never);
    expect(key({ ...reference, description: "x", securityGroupRuleId: "sgr-1" })).toBe(key(reference));
    expect(key({ ...reference, referencedGroup: { groupId: GROUP } })).toBe(key(reference));
    expect(key({ ...egress, direction: "ingress" })).not.toBe(key(egress));
  });

  it("leave sg-open-ingress' entries as strict as they were: ingress with exactly one CIDR", () => {
    const sgRule = (rule: Record<string, unknown>) =>
      v.safeParse(sgOpenIngressContract.matched, { kind: "sg-rule", rule });
    expect(sgRule({ ...egress, direction: "ingress" }).success).toBe(true);
    expect(sgRule(egress).success).toBe(false);
    expect(sgRule(reference).success).toBe(false);
    expect(
      sgRule({ ...reference, cidrIpv4: undefined, referencedGroup: undefined, prefixListId: "pl-1" }).success,
    ).toBe(false);
    // Nor does an instruction of sg-open-ingress carry one, in either kind.
    const instruction = testInstruction({
      problem: "sg-open-ingress",
      matched: [{ kind: "sg-rule", rule: { ...egress, direction: "ingress" } }],
      capturedAt: NOW.toISOString(),
    });
    for (const matched of [
      { kind: "sg-rule", rule: egress },
      { kind: "sg-rule", rule: reference },
      { kind: "sg-default-rule", rule: egress },
    ]) {
      expect(() => parseInstruction({ ...instruction, matched: [matched] })).toThrow();
    }
  });
});
