// Rule "a VPC's default security group has rules" (Security Hub EC2.2, CIS "the default security group of every VPC
// restricts all traffic"): every ingress and egress rule of a group named "default" (EC2 reserves the name for the
// default group of each VPC) is a finding, whatever its source or destination. Revoking the rules of a group that
// network interfaces use cuts their traffic, so when the item shows interfaces using the group, the verdict is
// NON_COMPLIANT with no finding to fix: the annotation names them. The same entry builders serve Config items
// (detection) and live DescribeSecurityGroupRules output (the fix's re-check and the real-time path). Pure: no SDK.
import { parseCidr } from "../../detection/cidr.ts";
import { InvalidConfigItemError } from "../../detection/config-item.ts";
import {
  type ConfigItem,
  type Finding,
  notRecordedVerdict,
  type RemedyRule,
  RuleParameterError,
  type Verdict,
} from "../../detection/types.ts";
import {
  type DescribedSecurityGroupRule,
  formatCidr,
  InvalidSecurityGroupRuleError,
} from "../sg-open-ingress/detect.ts";
import {
  describeValue,
  EntryProblem,
  integerIn,
  isRecord,
  listOf,
  normalizeProtocol,
} from "../sg-open-ingress/entry-parts.ts";
import { type SgDefaultRuleEntry, sgDefaultRuleIdentity } from "./contract.ts";
import { describeDefaultRuleTraffic } from "./words.ts";

export const SG_DEFAULT_RULES_RULE_ID = "sg-default-rules";
/** The name EC2 gives every VPC's default group, and lets no other group take. */
export const DEFAULT_GROUP_NAME = "default";
const NETWORK_INTERFACE = "AWS::EC2::NetworkInterface";

/** The rule takes no parameters: a default group should have no rule at all. */
export type SgDefaultRulesParams = Readonly<Record<string, never>>;

export function parseSgDefaultRulesParameters(raw: Record<string, unknown>): SgDefaultRulesParams {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new RuleParameterError("ruleParameters", "must be an object of parameter names to values");
  }
  const [name] = Object.keys(raw);
  if (name !== undefined) throw new RuleParameterError(name, "unknown parameter (sg-default-rules takes none)");
  return Object.freeze({});
}

// ---------------------------------------------------------------------------------------------------------------
// Entries

/** Ports for tcp/udp, type/code for ICMP (all types: all codes), -1/-1 for protocols without ports. */
function portsOf(protocol: string, from: unknown, to: unknown, names: [string, string]): [number, number] {
  if (protocol === "tcp" || protocol === "udp") {
    const fromPort = integerIn(from, 0, 65_535, names[0]);
    const toPort = integerIn(to, 0, 65_535, names[1]);
    if (fromPort > toPort) throw new EntryProblem(`${names[0]} ${fromPort} is after ${names[1]} ${toPort}`);
    return [fromPort, toPort];
  }
  if (protocol === "icmp" || protocol === "icmpv6") {
    const type = from === undefined || from === null ? -1 : integerIn(from, -1, 255, names[0]);
    const code = to === undefined || to === null ? -1 : integerIn(to, -1, 255, names[1]);
    return [type, type === -1 ? -1 : code];
  }
  // "-1" and e.g. ESP ("50") have no ports; Config omits them and EC2 reports -1.
  return [-1, -1];
}

/** Canonical CIDR text (host bits cleared, IPv6 compressed) of a CIDR that must be of `family`. */
function canonicalCidr(value: unknown, family: 4 | 6, field: string): string {
  if (typeof value !== "string") throw new EntryProblem(`${field} is ${describeValue(value)}, expected a CIDR string`);
  let parsed: ReturnType<typeof parseCidr>;
  try {
    parsed = parseCidr(value);
  } catch (error) {
    throw new EntryProblem(`${field} ${(error as Error).message}`);
  }
  if (parsed.family !== family) throw new EntryProblem(`${field} "${value}" is not an IPv${family} CIDR`);
  return formatCidr(parsed);
}

function idOf(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw new EntryProblem(`${field} is ${describeValue(value)}`);
  return value;
}

/** The identity as one readable line ("egress -1 -1 -1 0.0.0.0/0"): equal lines, equal entries. */
export function sgDefaultRuleKey(entry: SgDefaultRuleEntry): string {
  const { direction, ipProtocol, fromPort, toPort, cidrIpv4, cidrIpv6, prefixListId, groupId } =
    sgDefaultRuleIdentity(entry);
  return `${direction} ${ipProtocol} ${fromPort} ${toPort} ${cidrIpv4 ?? cidrIpv6 ?? prefixListId ?? groupId}`;
}

/** Entries without repeats (Config's ipRanges repeats ipv4Ranges), in the order first read. */
class EntryList {
  readonly entries: SgDefaultRuleEntry[] = [];
  private readonly keys = new Set<string>();

  add(entry: SgDefaultRuleEntry): void {
    const key = sgDefaultRuleKey(entry);
    if (this.keys.has(key)) return;
    this.keys.add(key);
    this.entries.push(entry);
  }
}

type Traffic = Pick<SgDefaultRuleEntry, "direction" | "ipProtocol" | "fromPort" | "toPort">;

function withDescription(entry: SgDefaultRuleEntry, description: unknown): SgDefaultRuleEntry {
  if (typeof description === "string" && description !== "") entry.description = description;
  return entry;
}

function recordAt(list: readonly unknown[], at: number, field: string): Record<string, unknown> {
  const value = list[at];
  if (!isRecord(value)) throw new EntryProblem(`${field}[${at}] is ${describeValue(value)}, expected an object`);
  return value;
}

/** Adds the entries of one Config permission: one per CIDR, prefix list and group pair; throws EntryProblem. */
function addPermission(list: EntryList, permission: unknown, direction: Traffic["direction"]): void {
  if (!isRecord(permission)) throw new EntryProblem(`is ${describeValue(permission)}, expected an object`);
  const ipProtocol = normalizeProtocol(permission.ipProtocol);
  const [fromPort, toPort] = portsOf(ipProtocol, permission.fromPort, permission.toPort, ["fromPort", "toPort"]);
  const traffic: Traffic = { direction, ipProtocol, fromPort, toPort };
  // ipv4Ranges first: they carry the descriptions.
  const ipv4Ranges = listOf(permission.ipv4Ranges, "ipv4Ranges");
  for (let at = 0; at < ipv4Ranges.length; at++) {
    const range = recordAt(ipv4Ranges, at, "ipv4Ranges");
    const cidrIpv4 = canonicalCidr(range.cidrIp, 4, `ipv4Ranges[${at}].cidrIp`);
    list.add(withDescription({ ...traffic, cidrIpv4 }, range.description));
  }
  // The legacy list repeats ipv4Ranges as plain strings (the object form is tolerated).
  const ipRanges = listOf(permission.ipRanges, "ipRanges");
  for (let at = 0; at < ipRanges.length; at++) {
    const range = ipRanges[at];
    list.add({ ...traffic, cidrIpv4: canonicalCidr(isRecord(range) ? range.cidrIp : range, 4, `ipRanges[${at}]`) });
  }
  const ipv6Ranges = listOf(permission.ipv6Ranges, "ipv6Ranges");
  for (let at = 0; at < ipv6Ranges.length; at++) {
    const range = recordAt(ipv6Ranges, at, "ipv6Ranges");
    const cidrIpv6 = canonicalCidr(range.cidrIpv6, 6, `ipv6Ranges[${at}].cidrIpv6`);
    list.add(withDescription({ ...traffic, cidrIpv6 }, range.description));
  }
  const prefixLists = listOf(permission.prefixListIds, "prefixListIds");
  for (let at = 0; at < prefixLists.length; at++) {
    const prefixList = recordAt(prefixLists, at, "prefixListIds");
    const prefixListId = idOf(prefixList.prefixListId, `prefixListIds[${at}].prefixListId`);
    list.add(withDescription({ ...traffic, prefixListId }, prefixList.description));
  }
  const pairs = listOf(permission.userIdGroupPairs, "userIdGroupPairs");
  for (let at = 0; at < pairs.length; at++) {
    const pair = recordAt(pairs, at, "userIdGroupPairs");
    const groupId = idOf(pair.groupId, `userIdGroupPairs[${at}].groupId`);
    const userId = typeof pair.userId === "string" && pair.userId !== "" ? pair.userId : undefined;
    list.add(
      withDescription({ ...traffic, referencedGroup: userId ? { groupId, userId } : { groupId } }, pair.description),
    );
  }
}

function permissionsOf(configuration: Record<string, unknown>, key: string): readonly unknown[] {
  const permissions = configuration[key];
  if (!Array.isArray(permissions)) {
    throw new InvalidConfigItemError(
      `configuration.${key} is ${describeValue(permissions)}, expected an array of permissions`,
    );
  }
  return permissions;
}

/**
 * One entry per distinct (direction, permission, single source or destination) of a Config item's configuration:
 * ipPermissions are ingress, ipPermissionsEgress egress; CIDRs (ipv4Ranges and the legacy ipRanges unioned),
 * prefix lists and security-group pairs alike. Throws InvalidConfigItemError naming the permission and field.
 */
export function defaultRuleEntriesFromConfiguration(configuration: Record<string, unknown>): SgDefaultRuleEntry[] {
  const list = new EntryList();
  for (const [key, direction] of [
    ["ipPermissions", "ingress"],
    ["ipPermissionsEgress", "egress"],
  ] as const) {
    const permissions = permissionsOf(configuration, key);
    for (let index = 0; index < permissions.length; index++) {
      try {
        addPermission(list, permissions[index], direction);
      } catch (error) {
        if (!(error instanceof EntryProblem)) throw error;
        throw new InvalidConfigItemError(`configuration.${key}[${index}]: ${error.message}`);
      }
    }
  }
  return list.entries;
}

/** The entry of one live rule; throws EntryProblem. */
function describedEntry(rule: DescribedSecurityGroupRule): SgDefaultRuleEntry {
  // Guessing the direction could revoke with the wrong call.
  if (typeof rule.IsEgress !== "boolean") {
    throw new EntryProblem(`IsEgress is ${describeValue(rule.IsEgress)}, expected a boolean`);
  }
  const ipProtocol = normalizeProtocol(rule.IpProtocol);
  const [fromPort, toPort] = portsOf(ipProtocol, rule.FromPort, rule.ToPort, ["FromPort", "ToPort"]);
  const traffic: Traffic = { direction: rule.IsEgress ? "egress" : "ingress", ipProtocol, fromPort, toPort };
  const { CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupInfo } = rule;
  const peers = [CidrIpv4, CidrIpv6, PrefixListId, ReferencedGroupInfo].filter((peer) => peer !== undefined);
  if (peers.length !== 1) {
    throw new EntryProblem(
      `names ${peers.length} of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupInfo, expected exactly one`,
    );
  }
  let entry: SgDefaultRuleEntry;
  if (CidrIpv4 !== undefined) entry = { ...traffic, cidrIpv4: canonicalCidr(CidrIpv4, 4, "CidrIpv4") };
  else if (CidrIpv6 !== undefined) entry = { ...traffic, cidrIpv6: canonicalCidr(CidrIpv6, 6, "CidrIpv6") };
  else if (PrefixListId !== undefined) entry = { ...traffic, prefixListId: idOf(PrefixListId, "PrefixListId") };
  else {
    const groupId = idOf(ReferencedGroupInfo?.GroupId, "ReferencedGroupInfo.GroupId");
    const userId = ReferencedGroupInfo?.UserId;
    entry = { ...traffic, referencedGroup: userId ? { groupId, userId } : { groupId } };
  }
  withDescription(entry, rule.Description);
  if (rule.SecurityGroupRuleId !== undefined) entry.securityGroupRuleId = rule.SecurityGroupRuleId;
  return entry;
}

/**
 * Entries of live DescribeSecurityGroupRules output: every rule, ingress and egress, with its rule id. Throws
 * InvalidSecurityGroupRuleError naming the rule.
 */
export function defaultRuleEntriesFromDescribedRules(
  rules: readonly DescribedSecurityGroupRule[],
): SgDefaultRuleEntry[] {
  return rules.map((rule, index) => {
    try {
      return describedEntry(rule);
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      const where = rule.SecurityGroupRuleId ?? `security group rule [${index}]`;
      throw new InvalidSecurityGroupRuleError(`${where}: ${error.message}`);
    }
  });
}

/**
 * The network interfaces a Config item says use the group (its "Is associated with NetworkInterface"
 * relationships), or undefined when the item lists none: Config may not record them, so none listed is not "none".
 */
export function interfacesOfItem(item: Pick<ConfigItem, "relationships">): string[] | undefined {
  const ids = (item.relationships ?? [])
    .filter((relationship) => relationship.resourceType === NETWORK_INTERFACE)
    .map((relationship) => relationship.resourceId);
  return ids.length > 0 ? [...new Set(ids)].sort() : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Judgement

/** A group as the rule judges it, from a Config item or read live. */
export interface DefaultGroupView {
  groupName: string | undefined;
  /** Its VPC, for the words. */
  vpcId?: string;
  entries: readonly SgDefaultRuleEntry[];
  /** Interfaces known to use it; undefined: not known. */
  interfaces?: readonly string[];
}

/**
 * Every entry of a default group is a finding, in the order read (ingress, then egress); none of any other group.
 * Whether interfaces use the group is not this judgement's: see sgDefaultRulesVerdict, and the fix's plan.
 */
export function judgeDefaultGroupEntries(group: Pick<DefaultGroupView, "groupName" | "entries">): Finding[] {
  if (group.groupName !== DEFAULT_GROUP_NAME) return [];
  return group.entries.map((entry) => ({
    problem: "sg-default-rules",
    matched: { kind: "sg-default-rule", rule: entry },
    reason: `${describeDefaultRuleTraffic(entry)} on a VPC's default group (it should have no rules)`,
  }));
}

function plural(count: number, one: string): string {
  return `${count} ${count === 1 ? one : `${one}s`}`;
}

/** "the default group of vpc-0a1" (or "the default group" when the VPC is not known). */
function groupWords(group: DefaultGroupView): string {
  return group.vpcId ? `the default group of ${group.vpcId}` : "the default group";
}

/**
 * The rule's verdict on a group: not applicable to any group but a VPC's default one; compliant without rules;
 * otherwise non-compliant, with every rule a finding to fix unless interfaces are known to use the group (then no
 * finding: the annotation names them, and nothing is queued).
 */
export function sgDefaultRulesVerdict(group: DefaultGroupView): Verdict {
  if (group.groupName !== DEFAULT_GROUP_NAME) {
    return {
      compliance: "NOT_APPLICABLE",
      annotation: `not a VPC's default group (group name ${JSON.stringify(group.groupName ?? null)})`,
      findings: [],
    };
  }
  if (group.entries.length === 0) {
    return { compliance: "COMPLIANT", annotation: `${groupWords(group)} has no rules`, findings: [] };
  }
  const rules = `${plural(group.entries.length, "rule")} on ${groupWords(group)}`;
  const interfaces = group.interfaces ?? [];
  if (interfaces.length > 0) {
    return {
      compliance: "NON_COMPLIANT",
      // The interfaces last: Config cuts an annotation at 256 characters, and a long list loses only ids.
      annotation:
        `${rules}, which ${plural(interfaces.length, "network interface")} ${interfaces.length === 1 ? "uses" : "use"}: ` +
        "not fixed automatically (revoking them would cut their traffic); move them to groups of their own: " +
        interfaces.join(", "),
      findings: [],
    };
  }
  const findings = judgeDefaultGroupEntries(group);
  return {
    compliance: "NON_COMPLIANT",
    annotation: `${rules}: ${group.entries.map(describeDefaultRuleTraffic).join("; ")}`,
    findings,
  };
}

/** The group of a Config item's configuration as the rule judges it. */
export function defaultGroupOfItem(item: ConfigItem & { configuration: Record<string, unknown> }): DefaultGroupView {
  const { configuration } = item;
  const groupName = typeof configuration.groupName === "string" ? configuration.groupName : undefined;
  const vpcId = typeof configuration.vpcId === "string" && configuration.vpcId ? configuration.vpcId : undefined;
  // Another group's rules are not read: an unreadable rule of a group this rule does not judge is no error of it.
  const entries = groupName === DEFAULT_GROUP_NAME ? defaultRuleEntriesFromConfiguration(configuration) : [];
  const interfaces = interfacesOfItem(item);
  return { groupName, ...(vpcId ? { vpcId } : {}), entries, ...(interfaces ? { interfaces } : {}) };
}

/** A group read live (problems/sg-open-ingress/observe.ts LiveGroup), as the rule judges it. */
export interface LiveDefaultGroup {
  groupName?: string;
  vpcId?: string;
  rules: readonly DescribedSecurityGroupRule[];
  interfaces?: readonly string[];
}

/** The group read live as the rule judges it: the same entries and words as its Config item's. */
export function defaultGroupOfLive(live: LiveDefaultGroup): DefaultGroupView {
  const entries = live.groupName === DEFAULT_GROUP_NAME ? defaultRuleEntriesFromDescribedRules(live.rules) : [];
  return {
    groupName: live.groupName,
    ...(live.vpcId ? { vpcId: live.vpcId } : {}),
    entries,
    ...(live.interfaces ? { interfaces: live.interfaces } : {}),
  };
}

export const sgDefaultRulesRule: RemedyRule<SgDefaultRulesParams> = {
  id: SG_DEFAULT_RULES_RULE_ID,
  problems: ["sg-default-rules"],
  resourceTypes: ["AWS::EC2::SecurityGroup"],
  parseParameters: parseSgDefaultRulesParameters,
  evaluate(item: ConfigItem): Verdict {
    if (item.configuration === null) {
      return notRecordedVerdict(item);
    }
    return sgDefaultRulesVerdict(defaultGroupOfItem(item as ConfigItem & { configuration: Record<string, unknown> }));
  },
};

/** This folder's rule (detection/rules.ts loads it by the rule id). */
export const rule = sgDefaultRulesRule;
