// Rule "security groups open to the internet". The same entry builders and judgement serve Config items
// (detection) and live DescribeSecurityGroupRules output (the remediation function's re-check before revoking).

import {
  DEFAULT_OPEN_THRESHOLDS,
  isOpenCidr,
  type OpenThresholds,
  type ParsedCidr,
  parseCidr,
} from "../../detection/cidr.ts";
import { InvalidConfigItemError } from "../../detection/config-item.ts";
import { coversRange, formatRange, overlappingRanges, type PortSpec, parsePortSpec } from "../../detection/ports.ts";
import {
  type ConfigItem,
  type Finding,
  notRecordedVerdict,
  type RemedyRule,
  RuleParameterError,
  type SgRuleEntry,
  type Verdict,
} from "../../detection/types.ts";
import { PermanentError } from "../../platform/errors.ts";
import { sgRuleIdentity } from "./contract.ts";
import { describeValue, EntryProblem, integerIn, isRecord, listOf, normalizeProtocol } from "./entry-parts.ts";

export const SG_OPEN_INGRESS_RULE_ID = "sg-open-ingress";
export const DEFAULT_AUTHORIZED_PORTS = "tcp:80,tcp:443";

/** Parsed parameters: plain data with the parameters' own names, so parsing them again gives the same result. */
export type SgOpenIngressParams = OpenThresholds & (AuthorizedPortsMode | ProhibitedPortsMode);

export interface AuthorizedPortsMode {
  /** Canonical port spec; "" authorizes nothing. */
  authorizedPorts: string;
  prohibitedPorts?: undefined;
}

export interface ProhibitedPortsMode {
  /** Canonical, non-empty port spec. */
  prohibitedPorts: string;
  authorizedPorts?: undefined;
}

/** One item of EC2 DescribeSecurityGroupRules output (structurally the SDK's SecurityGroupRule). */
export interface DescribedSecurityGroupRule {
  SecurityGroupRuleId?: string;
  GroupId?: string;
  GroupOwnerId?: string;
  IsEgress?: boolean;
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupInfo?: {
    GroupId?: string;
    UserId?: string;
    VpcId?: string;
    PeeringStatus?: string;
    VpcPeeringConnectionId?: string;
  };
  Description?: string;
}

/** A live security-group rule that cannot be judged (the Config-item counterpart is InvalidConfigItemError). */
export class InvalidSecurityGroupRuleError extends PermanentError {
  override name = "InvalidSecurityGroupRuleError";
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters

const PARAMETER_NAMES: readonly string[] = ["authorizedPorts", "prohibitedPorts", "ipv4MinPrefix", "ipv6MinPrefix"];

interface CompiledParams {
  spec: PortSpec;
  prohibited: boolean;
  thresholds: OpenThresholds;
  /** compliantAnnotation's text, written at its first use. */
  compliant?: string;
  /** portViolation's text for traffic the authorized ports do not cover, written at its first use. */
  uncovered?: string;
}

// Judgement needs the compiled port spec; parsed params stay plain data (they travel in fix instructions).
const compiledParams = new WeakMap<object, CompiledParams>();

export function parseSgOpenIngressParameters(raw: Record<string, unknown>): SgOpenIngressParams {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new RuleParameterError("ruleParameters", "must be an object of parameter names to values");
  }
  for (const name of Object.keys(raw)) {
    if (!PARAMETER_NAMES.includes(name)) {
      throw new RuleParameterError(name, `unknown parameter (expected one of ${PARAMETER_NAMES.join(", ")})`);
    }
  }
  const thresholds: OpenThresholds = {
    ipv4MinPrefix: prefixParameter(raw, "ipv4MinPrefix", DEFAULT_OPEN_THRESHOLDS.ipv4MinPrefix, 32),
    ipv6MinPrefix: prefixParameter(raw, "ipv6MinPrefix", DEFAULT_OPEN_THRESHOLDS.ipv6MinPrefix, 128),
  };
  const authorizedText = portsParameter(raw, "authorizedPorts");
  const prohibitedText = portsParameter(raw, "prohibitedPorts");
  let params: SgOpenIngressParams;
  let compiled: CompiledParams;
  if (prohibitedText !== undefined) {
    if (authorizedText !== undefined) {
      throw new RuleParameterError("prohibitedPorts", 'cannot be given together with "authorizedPorts"; give one');
    }
    const spec = parsePortSpec(prohibitedText, "prohibitedPorts", { allowIcmp: false });
    if (spec.text === "") {
      throw new RuleParameterError("prohibitedPorts", "must list at least one port (omit it to use authorizedPorts)");
    }
    params = { prohibitedPorts: spec.text, ...thresholds };
    compiled = { spec, prohibited: true, thresholds };
  } else {
    const spec = parsePortSpec(authorizedText ?? DEFAULT_AUTHORIZED_PORTS, "authorizedPorts", { allowIcmp: true });
    params = { authorizedPorts: spec.text, ...thresholds };
    compiled = { spec, prohibited: false, thresholds };
  }
  // Frozen so the compiled form can never go stale.
  Object.freeze(params);
  compiledParams.set(params, compiled);
  return params;
}

function compile(params: SgOpenIngressParams): CompiledParams {
  const cached = compiledParams.get(params);
  if (cached) return cached;
  // Params built by hand or read back from an instruction get the same validation.
  const compiled = compiledParams.get(parseSgOpenIngressParameters(params as unknown as Record<string, unknown>))!;
  if (Object.isFrozen(params)) compiledParams.set(params, compiled);
  return compiled;
}

function portsParameter(raw: Record<string, unknown>, name: string): string | undefined {
  const value = raw[name];
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isInteger(value)) return String(value);
  throw new RuleParameterError(name, `must be a string of ports like "tcp:80,tcp:443", got ${describeValue(value)}`);
}

function prefixParameter(raw: Record<string, unknown>, name: string, fallback: number, max: number): number {
  const value = raw[name];
  if (value === undefined) return fallback;
  const number =
    typeof value === "number" ? value : typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(number) || number < 0 || number > max) {
    throw new RuleParameterError(name, `must be an integer prefix length 0-${max}, got ${describeValue(value)}`);
  }
  return number;
}

// ---------------------------------------------------------------------------------------------------------------
// Entries

// No closures on this path: bundlers that keep function names wrap each one, which costs per call.

/** portsOf's toPort (its fromPort is what it returns): read at once by the caller, so no pair is allocated. */
let portsTo = -1;

/**
 * Normalised fromPort (returned) and toPort (in portsTo): ports for tcp/udp, type/code for ICMP, -1/-1 for protocols
 * without ports.
 */
function portsOf(protocol: string, from: unknown, to: unknown, fromName: string, toName: string): number {
  if (protocol === "tcp" || protocol === "udp") {
    const fromPort = integerIn(from, 0, 65_535, fromName);
    const toPort = integerIn(to, 0, 65_535, toName);
    if (fromPort > toPort) throw new EntryProblem(`${fromName} ${fromPort} is after ${toName} ${toPort}`);
    portsTo = toPort;
    return fromPort;
  }
  if (protocol === "icmp" || protocol === "icmpv6") {
    const type = from === undefined || from === null ? -1 : integerIn(from, -1, 255, fromName);
    const code = to === undefined || to === null ? -1 : integerIn(to, -1, 255, toName);
    // All types means all codes.
    portsTo = type === -1 ? -1 : code;
    return type;
  }
  // "-1" and e.g. ESP ("50") have no ports; Config omits them and EC2 reports -1.
  portsTo = -1;
  return -1;
}

interface CidrInfo {
  /** Canonical text: host bits cleared, IPv6 compressed as in RFC 5952. */
  text: string;
  parsed: ParsedCidr;
  /** parsed.family, read without going through parsed. */
  family: 4 | 6;
}

// Real accounts reuse a few hundred CIDRs; parsing them once keeps judgement fast. Bounded: cleared when full.
const cidrCache = new Map<string, CidrInfo>();
const CIDR_CACHE_LIMIT = 10_000;

function cidrInfo(text: string): CidrInfo {
  let info = cidrCache.get(text);
  if (info === undefined) {
    const parsed = parseCidr(text);
    info = { text: formatCidr(parsed), parsed, family: parsed.family };
    if (cidrCache.size >= CIDR_CACHE_LIMIT) cidrCache.clear();
    cidrCache.set(text, info);
    // Judgement looks entries up by their canonical text.
    cidrCache.set(info.text, info);
  }
  return info;
}

/**
 * Canonical CIDR text of `value`, which must be a CIDR of `family`. The error names it as `list[at].key`
 * (or just `list`), built only on failure: this runs for every CIDR of every item.
 */
function canonicalCidr(value: unknown, family: 4 | 6, list: string, at = -1, key = ""): string {
  return checkedCidr(value, family, list, at, key).text;
}

/** canonicalCidr's CIDR, parsed and canonical text both (its entry is judged by the parsed one). */
function checkedCidr(value: unknown, family: 4 | 6, list: string, at = -1, key = ""): CidrInfo {
  let info: CidrInfo | undefined;
  let problem: string | undefined;
  if (typeof value !== "string") problem = `is ${describeValue(value)}, expected a CIDR string`;
  else {
    try {
      info = cidrInfo(value);
      if (info.family !== family) problem = `"${value}" is not an IPv${family} CIDR`;
    } catch (error) {
      problem = (error as Error).message;
    }
  }
  if (problem !== undefined || info === undefined) {
    throw new EntryProblem(`${list}${at >= 0 ? `[${at}]` : ""}${key ? `.${key}` : ""} ${problem}`);
  }
  return info;
}

/** Canonical text of a parsed CIDR, so equal ranges compare equal as strings. */
export function formatCidr(cidr: ParsedCidr): string {
  if (cidr.family === 4) {
    const n = Number(cidr.network);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${cidr.prefix}`;
  }
  const groups: string[] = [];
  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let index = 0; index < 8; index++) {
    const group = Number((cidr.network >> BigInt(112 - 16 * index)) & 0xffffn);
    groups.push(group.toString(16));
    if (group !== 0) runStart = -1;
    else {
      if (runStart < 0) runStart = index;
      // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
      if (index - runStart + 1 > bestLength) {
        bestStart = runStart;
        bestLength = index - runStart + 1;
      }
    }
  }
  const address =
    bestStart < 0
      ? groups.join(":")
      : `${groups.slice(0, bestStart).join(":")}::${groups.slice(bestStart + bestLength).join(":")}`;
  return `${address}/${cidr.prefix}`;
}

function makeEntry(
  ipProtocol: string,
  fromPort: number,
  toPort: number,
  cidrIpv4: string | undefined,
  cidrIpv6: string | undefined,
  description: unknown,
): SgRuleEntry {
  // Literal objects (no spread) keep entries one shape for the JIT.
  const entry: SgRuleEntry =
    cidrIpv4 !== undefined
      ? { direction: "ingress", ipProtocol, fromPort, toPort, cidrIpv4 }
      : { direction: "ingress", ipProtocol, fromPort, toPort, cidrIpv6 };
  if (typeof description === "string" && description !== "") entry.description = description;
  return entry;
}

/** What makes an entry the same entry (the one definition is this problem's contract, ./contract.ts). */
export { sgRuleIdentity };

/** The identity as one readable line ("tcp 22 22 0.0.0.0/0"): equal lines, equal entries. */
export function sgRuleEntryKey(entry: SgRuleEntry): string {
  const { ipProtocol, fromPort, toPort, cidrIpv4, cidrIpv6 } = sgRuleIdentity(entry);
  return `${ipProtocol} ${fromPort} ${toPort} ${cidrIpv4 ?? cidrIpv6}`;
}

function sameRule(a: SgRuleEntry, b: SgRuleEntry): boolean {
  return (
    a.cidrIpv4 === b.cidrIpv4 &&
    a.cidrIpv6 === b.cidrIpv6 &&
    a.fromPort === b.fromPort &&
    a.toPort === b.toPort &&
    a.ipProtocol === b.ipProtocol
  );
}

/** Entries without repeats (ipRanges repeats ipv4Ranges); scans while small, keys a Set once large. */
class EntryList {
  readonly entries: SgRuleEntry[] = [];
  private keys: Set<string> | undefined;

  /** Whether the entry was added (false: it repeats one already there). */
  add(entry: SgRuleEntry): boolean {
    if (this.keys === undefined && this.entries.length < 32) {
      for (const existing of this.entries) if (sameRule(existing, entry)) return false;
    } else {
      if (this.keys === undefined) this.keys = new Set(this.entries.map(sgRuleEntryKey));
      const key = sgRuleEntryKey(entry);
      if (this.keys.has(key)) return false;
      this.keys.add(key);
    }
    this.entries.push(entry);
    return true;
  }
}

/**
 * The findings of a configuration's entries as they are read (see configurationFindings): an EntryList of the entries
 * that are findings, each finding's parsed CIDR and traffic text at its index (what sorting and the annotation read).
 */
class FindingList {
  readonly list = new EntryList();
  readonly findings: Finding[] = [];
  readonly parsed: ParsedCidr[] = [];
  readonly traffic: string[] = [];

  add(entry: SgRuleEntry, cidr: CidrInfo, traffic: string, why: string): void {
    if (!this.list.add(entry)) return;
    this.findings.push({
      problem: "sg-open-ingress",
      matched: { kind: "sg-rule", rule: entry },
      reason: `${traffic} open to ${cidr.text} (${why})`,
    });
    this.parsed.push(cidr.parsed);
    this.traffic.push(traffic);
  }
}

/** Adds the entries of one Config permission; throws EntryProblem. */
function addPermission(list: EntryList, permission: unknown): void {
  if (!isRecord(permission)) throw new EntryProblem(`is ${describeValue(permission)}, expected an object`);
  const protocol = normalizeProtocol(permission.ipProtocol);
  const fromPort = portsOf(protocol, permission.fromPort, permission.toPort, "fromPort", "toPort");
  const toPort = portsTo;
  // ipv4Ranges first: they carry the descriptions.
  const ipv4Ranges = listOf(permission.ipv4Ranges, "ipv4Ranges");
  for (let at = 0; at < ipv4Ranges.length; at++) {
    const range = ipv4Ranges[at];
    if (!isRecord(range)) throw new EntryProblem(`ipv4Ranges[${at}] is ${describeValue(range)}, expected an object`);
    const cidr = canonicalCidr(range.cidrIp, 4, "ipv4Ranges", at, "cidrIp");
    list.add(makeEntry(protocol, fromPort, toPort, cidr, undefined, range.description));
  }
  const ipRanges = listOf(permission.ipRanges, "ipRanges");
  for (let at = 0; at < ipRanges.length; at++) {
    const range = ipRanges[at];
    // The legacy list repeats ipv4Ranges (as plain strings): the same text at the same place is that range's entry,
    // already in the list (same protocol, ports and CIDR), which add() would skip. Valid, so nothing to report either.
    if (
      typeof range === "string" &&
      at < ipv4Ranges.length &&
      range === (ipv4Ranges[at] as { cidrIp?: unknown }).cidrIp
    )
      continue;
    // The legacy list holds plain strings; tolerate the object form too.
    const cidr = canonicalCidr(isRecord(range) ? range.cidrIp : range, 4, "ipRanges", at);
    list.add(makeEntry(protocol, fromPort, toPort, cidr, undefined, undefined));
  }
  const ipv6Ranges = listOf(permission.ipv6Ranges, "ipv6Ranges");
  for (let at = 0; at < ipv6Ranges.length; at++) {
    const range = ipv6Ranges[at];
    if (!isRecord(range)) throw new EntryProblem(`ipv6Ranges[${at}] is ${describeValue(range)}, expected an object`);
    const cidr = canonicalCidr(range.cidrIpv6, 6, "ipv6Ranges", at, "cidrIpv6");
    list.add(makeEntry(protocol, fromPort, toPort, undefined, cidr, range.description));
  }
}

/**
 * addPermission for configurationFindings: the same reading and the same checks, in the same order, but only the
 * entries that are findings are kept. Every entry of a permission has its traffic, so the port policy's verdict (and
 * the traffic's words) is worked out once for all of them; an entry is a finding when that verdict is a violation and
 * its source is open, as judgeSgEntries judges it.
 */
function addPermissionFindings(found: FindingList, permission: unknown, compiled: CompiledParams): void {
  if (!isRecord(permission)) throw new EntryProblem(`is ${describeValue(permission)}, expected an object`);
  const protocol = normalizeProtocol(permission.ipProtocol);
  const fromPort = portsOf(protocol, permission.fromPort, permission.toPort, "fromPort", "toPort");
  const toPort = portsTo;
  const why = trafficViolation(protocol, fromPort, toPort, compiled);
  // Written at the permission's first finding.
  let traffic: string | undefined;
  const thresholds = compiled.thresholds;
  // ipv4Ranges first: they carry the descriptions.
  const ipv4Ranges = listOf(permission.ipv4Ranges, "ipv4Ranges");
  for (let at = 0; at < ipv4Ranges.length; at++) {
    const range = ipv4Ranges[at];
    if (!isRecord(range)) throw new EntryProblem(`ipv4Ranges[${at}] is ${describeValue(range)}, expected an object`);
    const cidr = checkedCidr(range.cidrIp, 4, "ipv4Ranges", at, "cidrIp");
    if (why === undefined || !isOpenCidr(cidr.parsed, thresholds)) continue;
    traffic ??= describeTraffic(protocol, fromPort, toPort);
    found.add(makeEntry(protocol, fromPort, toPort, cidr.text, undefined, range.description), cidr, traffic, why);
  }
  const ipRanges = listOf(permission.ipRanges, "ipRanges");
  for (let at = 0; at < ipRanges.length; at++) {
    const range = ipRanges[at];
    // As in addPermission: the same text at the same place repeats that ipv4Ranges entry (a finding or not, as it was).
    if (
      typeof range === "string" &&
      at < ipv4Ranges.length &&
      range === (ipv4Ranges[at] as { cidrIp?: unknown }).cidrIp
    )
      continue;
    const cidr = checkedCidr(isRecord(range) ? range.cidrIp : range, 4, "ipRanges", at);
    if (why === undefined || !isOpenCidr(cidr.parsed, thresholds)) continue;
    traffic ??= describeTraffic(protocol, fromPort, toPort);
    found.add(makeEntry(protocol, fromPort, toPort, cidr.text, undefined, undefined), cidr, traffic, why);
  }
  const ipv6Ranges = listOf(permission.ipv6Ranges, "ipv6Ranges");
  for (let at = 0; at < ipv6Ranges.length; at++) {
    const range = ipv6Ranges[at];
    if (!isRecord(range)) throw new EntryProblem(`ipv6Ranges[${at}] is ${describeValue(range)}, expected an object`);
    const cidr = checkedCidr(range.cidrIpv6, 6, "ipv6Ranges", at, "cidrIpv6");
    if (why === undefined || !isOpenCidr(cidr.parsed, thresholds)) continue;
    traffic ??= describeTraffic(protocol, fromPort, toPort);
    found.add(makeEntry(protocol, fromPort, toPort, undefined, cidr.text, range.description), cidr, traffic, why);
  }
}

/**
 * One entry per distinct (ingress permission, single CIDR) of a Config item's configuration. ipv4Ranges and the
 * legacy ipRanges are unioned; prefix lists and security-group pairs are never entries. Throws
 * InvalidConfigItemError naming the permission and field.
 */
export function sgEntriesFromConfiguration(configuration: Record<string, unknown>): SgRuleEntry[] {
  const permissions = configuration.ipPermissions;
  if (!Array.isArray(permissions)) {
    throw new InvalidConfigItemError(
      `configuration.ipPermissions is ${describeValue(permissions)}, expected an array of ingress permissions`,
    );
  }
  const list = new EntryList();
  for (let index = 0; index < permissions.length; index++) {
    try {
      addPermission(list, permissions[index]);
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      throw new InvalidConfigItemError(`configuration.ipPermissions[${index}]: ${error.message}`);
    }
  }
  return list.entries;
}

/**
 * judgeSgEntries(sgEntriesFromConfiguration(configuration), params), each entry judged as it is read: the same
 * findings in the same order (a repeat of an entry has its traffic and source, so its verdict: keeping only findings
 * drops no finding and keeps each one's first occurrence), the same errors, without entries that are not findings.
 * With each finding's traffic text, at its index in `findings`.
 */
function configurationFindings(
  configuration: Record<string, unknown>,
  compiled: CompiledParams,
): { findings: Finding[]; traffic: string[] | undefined } {
  const permissions = configuration.ipPermissions;
  if (!Array.isArray(permissions)) {
    throw new InvalidConfigItemError(
      `configuration.ipPermissions is ${describeValue(permissions)}, expected an array of ingress permissions`,
    );
  }
  const found = new FindingList();
  for (let index = 0; index < permissions.length; index++) {
    try {
      addPermissionFindings(found, permissions[index], compiled);
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      throw new InvalidConfigItemError(`configuration.ipPermissions[${index}]: ${error.message}`);
    }
  }
  const { findings, parsed, traffic } = found;
  if (findings.length <= 1) return { findings, traffic };
  // Over 16: sorted as judgeSgEntries sorts, which leaves the texts behind (the annotation writes its own).
  if (findings.length > 16) return { findings: findings.sort(compareFindings), traffic: undefined };
  // findings.sort(compareFindings) as a stable insertion sort (the same order: the comparison is consistent), moving
  // each finding's CIDR and traffic text along with it.
  for (let index = 1; index < findings.length; index++) {
    const finding = findings[index]!;
    const cidr = parsed[index]!;
    const text = traffic[index]!;
    let at = index - 1;
    while (at >= 0 && compareWith(findings[at]!, parsed[at]!, finding, cidr) > 0) {
      findings[at + 1] = findings[at]!;
      parsed[at + 1] = parsed[at]!;
      traffic[at + 1] = traffic[at]!;
      at--;
    }
    findings[at + 1] = finding;
    parsed[at + 1] = cidr;
    traffic[at + 1] = text;
  }
  return { findings, traffic };
}

/** The entry of one live rule, or undefined when it is egress or has no CIDR; throws EntryProblem. */
function describedEntry(rule: DescribedSecurityGroupRule): SgRuleEntry | undefined {
  if (rule.IsEgress === true) return undefined;
  // Guessing the direction could revoke the wrong rule.
  if (rule.IsEgress !== false)
    throw new EntryProblem(`IsEgress is ${describeValue(rule.IsEgress)}, expected a boolean`);
  const { CidrIpv4, CidrIpv6 } = rule;
  if (CidrIpv4 !== undefined && CidrIpv6 !== undefined) throw new EntryProblem("has both CidrIpv4 and CidrIpv6");
  if (CidrIpv4 === undefined && CidrIpv6 === undefined) return undefined;
  const protocol = normalizeProtocol(rule.IpProtocol);
  const fromPort = portsOf(protocol, rule.FromPort, rule.ToPort, "FromPort", "ToPort");
  const toPort = portsTo;
  const entry =
    CidrIpv4 !== undefined
      ? makeEntry(protocol, fromPort, toPort, canonicalCidr(CidrIpv4, 4, "CidrIpv4"), undefined, rule.Description)
      : makeEntry(protocol, fromPort, toPort, undefined, canonicalCidr(CidrIpv6, 6, "CidrIpv6"), rule.Description);
  if (rule.SecurityGroupRuleId !== undefined) entry.securityGroupRuleId = rule.SecurityGroupRuleId;
  return entry;
}

/**
 * Entries of live DescribeSecurityGroupRules output: ingress rules with a CIDR, keeping their rule ids.
 * Egress rules and rules referencing a prefix list or group are skipped. Throws InvalidSecurityGroupRuleError.
 */
export function sgEntriesFromDescribedRules(rules: readonly DescribedSecurityGroupRule[]): SgRuleEntry[] {
  const entries: SgRuleEntry[] = [];
  for (let index = 0; index < rules.length; index++) {
    const rule = rules[index]!;
    try {
      const entry = describedEntry(rule);
      if (entry !== undefined) entries.push(entry);
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      const where = rule.SecurityGroupRuleId ?? `security group rule [${index}]`;
      throw new InvalidSecurityGroupRuleError(`${where}: ${error.message}`);
    }
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------------------
// Judgement

/** Why this entry's traffic breaks the port policy, or undefined. Ignores the source: see judgeSgEntries. */
function portViolation(entry: SgRuleEntry, compiled: CompiledParams): string | undefined {
  return trafficViolation(entry.ipProtocol, entry.fromPort, entry.toPort, compiled);
}

/** portViolation of traffic given by its protocol and ports. */
function trafficViolation(
  ipProtocol: string,
  fromPort: number,
  toPort: number,
  compiled: CompiledParams,
): string | undefined {
  const { spec, prohibited } = compiled;
  if (prohibited) {
    if (ipProtocol === "-1") return `reaches prohibited ${plural(spec.text)} ${spec.text}`;
    // ICMP type/code values and other protocols are not ports: they cannot reach a prohibited port.
    if (ipProtocol !== "tcp" && ipProtocol !== "udp") return undefined;
    const overlaps = overlappingRanges(ipProtocol === "tcp" ? spec.tcp : spec.udp, fromPort, toPort);
    if (overlaps.length === 0) return undefined;
    const text = overlaps.map((range) => formatRange(range.from, range.to)).join(",");
    return `reaches prohibited ${plural(text)} ${text}`;
  }
  let authorized: boolean;
  if (ipProtocol === "tcp") authorized = coversRange(spec.tcp, fromPort, toPort);
  else if (ipProtocol === "udp") authorized = coversRange(spec.udp, fromPort, toPort);
  else if (ipProtocol === "icmp") authorized = spec.icmp;
  else if (ipProtocol === "icmpv6") authorized = spec.icmpv6;
  // "-1" (all traffic) and port-less protocols are never covered by a port list.
  else authorized = false;
  if (authorized) return undefined;
  compiled.uncovered ??= spec.text === "" ? "no ports authorized" : `not in authorized ports ${spec.text}`;
  return compiled.uncovered;
}

function plural(ports: string): string {
  return ports.includes(",") || ports.includes("-") ? "ports" : "port";
}

function sourceOf(entry: SgRuleEntry): string {
  const cidr = entry.cidrIpv4 ?? entry.cidrIpv6;
  if (cidr === undefined || (entry.cidrIpv4 !== undefined && entry.cidrIpv6 !== undefined)) {
    throw new InvalidSecurityGroupRuleError(`entry ${JSON.stringify(entry)} must have exactly one CIDR`);
  }
  return cidr;
}

/** Human name of the traffic an entry allows, e.g. "tcp 22", "udp 1000-2000", "all traffic", "icmp type 8". */
export function describeSgTraffic(entry: SgRuleEntry): string {
  return describeTraffic(entry.ipProtocol, entry.fromPort, entry.toPort);
}

/** describeSgTraffic of traffic given by its protocol and ports. */
function describeTraffic(ipProtocol: string, fromPort: number, toPort: number): string {
  switch (ipProtocol) {
    case "-1":
      return "all traffic";
    case "tcp":
    case "udp":
      return `${ipProtocol} ${formatRange(fromPort, toPort)}`;
    case "icmp":
    case "icmpv6":
      if (fromPort === -1) return ipProtocol;
      return toPort === -1 ? `${ipProtocol} type ${fromPort}` : `${ipProtocol} type ${fromPort} code ${toPort}`;
    default:
      return `protocol ${ipProtocol}`;
  }
}

/**
 * The single judgement of both paths: one finding per entry whose source is open (isOpenCidr) and whose traffic
 * breaks the port policy. Each entry is judged on its own. Findings are sorted by protocol, ports, then source address.
 */
export function judgeSgEntries(entries: readonly SgRuleEntry[], params: SgOpenIngressParams): Finding[] {
  const compiled = compile(params);
  const findings: Finding[] = [];
  for (const entry of entries) {
    const source = sourceOf(entry);
    if (!isOpenCidr(cidrInfo(source).parsed, compiled.thresholds)) continue;
    const why = portViolation(entry, compiled);
    if (why === undefined) continue;
    findings.push({
      problem: "sg-open-ingress",
      matched: { kind: "sg-rule", rule: entry },
      reason: `${describeSgTraffic(entry)} open to ${source} (${why})`,
    });
  }
  return findings.length > 1 ? findings.sort(compareFindings) : findings;
}

const PROTOCOL_ORDER: Record<string, number> = { "-1": 0, tcp: 1, udp: 2, icmp: 3, icmpv6: 4 };

function compareFindings(a: Finding, b: Finding): number {
  const x = (a.matched as { rule: SgRuleEntry }).rule;
  const y = (b.matched as { rule: SgRuleEntry }).rule;
  return (
    compareTraffic(x, y) ||
    compareCidrs(cidrInfo(sourceOf(x)).parsed, cidrInfo(sourceOf(y)).parsed) ||
    compareText(x.securityGroupRuleId ?? "", y.securityGroupRuleId ?? "")
  );
}

/** compareFindings, given each finding's parsed CIDR. */
function compareWith(a: Finding, aCidr: ParsedCidr, b: Finding, bCidr: ParsedCidr): number {
  const x = (a.matched as { rule: SgRuleEntry }).rule;
  const y = (b.matched as { rule: SgRuleEntry }).rule;
  return (
    compareTraffic(x, y) ||
    compareCidrs(aCidr, bCidr) ||
    compareText(x.securityGroupRuleId ?? "", y.securityGroupRuleId ?? "")
  );
}

/** By protocol, then ports. */
function compareTraffic(x: SgRuleEntry, y: SgRuleEntry): number {
  return (
    (PROTOCOL_ORDER[x.ipProtocol] ?? 5) - (PROTOCOL_ORDER[y.ipProtocol] ?? 5) ||
    compareText(x.ipProtocol, y.ipProtocol) ||
    x.fromPort - y.fromPort ||
    x.toPort - y.toPort
  );
}

/** IPv4 before IPv6, then by address, then wider first. */
function compareCidrs(a: ParsedCidr, b: ParsedCidr): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.network !== b.network) return a.network < b.network ? -1 : 1;
  return a.prefix - b.prefix;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function summarize(findings: readonly Finding[], traffic?: readonly string[]): string {
  let parts = "";
  for (let index = 0; index < findings.length; index++) {
    const rule = (findings[index]!.matched as { rule: SgRuleEntry }).rule;
    // Each finding's traffic text, when the caller has it (the same words describeSgTraffic gives).
    const words = traffic === undefined ? describeSgTraffic(rule) : traffic[index]!;
    parts += `${parts ? "; " : ""}${words} from ${sourceOf(rule)}`;
  }
  return `${findings.length} open ingress ${findings.length === 1 ? "rule" : "rules"}: ${parts}`;
}

function compliantAnnotation(compiled: CompiledParams): string {
  if (compiled.compliant !== undefined) return compiled.compliant;
  const { spec, prohibited } = compiled;
  compiled.compliant = prohibited
    ? `no open ingress to prohibited ports ${spec.text}`
    : spec.text === ""
      ? "no open ingress"
      : `no open ingress outside ${spec.text}`;
  return compiled.compliant;
}

/** The rule's verdict on entries read live (DescribeSecurityGroupRules): the same findings and words as an item's. */
export function sgVerdict(entries: readonly SgRuleEntry[], params: SgOpenIngressParams): Verdict {
  const findings = judgeSgEntries(entries, params);
  if (findings.length > 0) return { compliance: "NON_COMPLIANT", annotation: summarize(findings), findings };
  return { compliance: "COMPLIANT", annotation: compliantAnnotation(compile(params)), findings };
}

export const sgOpenIngressRule: RemedyRule<SgOpenIngressParams> = {
  id: SG_OPEN_INGRESS_RULE_ID,
  problems: ["sg-open-ingress"],
  resourceTypes: ["AWS::EC2::SecurityGroup"],
  parseParameters: parseSgOpenIngressParameters,
  evaluate(item: ConfigItem, params: SgOpenIngressParams): Verdict {
    if (item.configuration === null) {
      return notRecordedVerdict(item);
    }
    // Parameters that do not compile are judged the way they were (entries first, so an unreadable item says so).
    let compiled: CompiledParams | undefined;
    try {
      compiled = compile(params);
    } catch {
      compiled = undefined;
    }
    if (compiled === undefined) {
      const findings = judgeSgEntries(sgEntriesFromConfiguration(item.configuration), params);
      if (findings.length > 0) return { compliance: "NON_COMPLIANT", annotation: summarize(findings), findings };
      return { compliance: "COMPLIANT", annotation: compliantAnnotation(compile(params)), findings };
    }
    const { findings, traffic } = configurationFindings(item.configuration, compiled);
    if (findings.length > 0) return { compliance: "NON_COMPLIANT", annotation: summarize(findings, traffic), findings };
    return { compliance: "COMPLIANT", annotation: compliantAnnotation(compiled), findings };
  },
};

/** This folder's rule (detection/rules.ts loads it by the rule id). */
export const rule = sgOpenIngressRule;
