// CIDR arithmetic for deciding whether a source is "open to the internet". Pure, IPv4 and IPv6.
import { PermanentError } from "../platform/errors.ts";

export interface OpenThresholds {
  /** An IPv4 range with a prefix shorter than this is open unless wholly private (default 8). */
  ipv4MinPrefix: number;
  /** An IPv6 range with a prefix shorter than this is open unless wholly private (default 16). */
  ipv6MinPrefix: number;
}

export const DEFAULT_OPEN_THRESHOLDS: OpenThresholds = { ipv4MinPrefix: 8, ipv6MinPrefix: 16 };

export interface ParsedCidr {
  family: 4 | 6;
  /** Network address with host bits cleared. */
  network: bigint;
  prefix: number;
}

export class InvalidCidrError extends PermanentError {
  override name = "InvalidCidrError";
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIpv6(text: string): bigint | undefined {
  let address = text;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const lastColon = address.lastIndexOf(":");
  const tail = address.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIpv4(tail);
    if (v4 === undefined) return undefined;
    address = `${address.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return value;
}

/** Parses "a.b.c.d/n" or an IPv6 CIDR; a bare address is a /32 or /128. Throws InvalidCidrError. */
export function parseCidr(cidr: string): ParsedCidr {
  const [address = "", prefixText, extra] = cidr.trim().split("/");
  if (extra !== undefined) throw new InvalidCidrError(`not a CIDR: "${cidr}"`);
  const family: 4 | 6 = address.includes(":") ? 6 : 4;
  const bits = family === 4 ? 32 : 128;
  const value = family === 4 ? parseIpv4(address) : parseIpv6(address);
  if (value === undefined) throw new InvalidCidrError(`not an IPv${family} address: "${cidr}"`);
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) throw new InvalidCidrError(`bad prefix length in "${cidr}"`);
  const hostBits = BigInt(bits - prefix);
  return { family, network: (value >> hostBits) << hostBits, prefix };
}

const PRIVATE_RANGES: readonly ParsedCidr[] = [
  "10.0.0.0/8", // RFC 1918
  "172.16.0.0/12", // RFC 1918
  "192.168.0.0/16", // RFC 1918
  "fc00::/7", // RFC 4193 unique local addresses
].map(parseCidr);

/** True when every address of `inner` lies inside `outer`. */
export function cidrContains(outer: ParsedCidr, inner: ParsedCidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const bits = outer.family === 4 ? 32 : 128;
  const shift = BigInt(bits - outer.prefix);
  return inner.network >> shift === outer.network >> shift;
}

export function isWhollyPrivate(cidr: ParsedCidr): boolean {
  return PRIVATE_RANGES.some((range) => cidrContains(range, cidr));
}

/** A source is open when it is 0.0.0.0/0 or ::/0, or wider than the threshold and not wholly private. */
export function isOpenCidr(cidr: string | ParsedCidr, thresholds: OpenThresholds = DEFAULT_OPEN_THRESHOLDS): boolean {
  const parsed = typeof cidr === "string" ? parseCidr(cidr) : cidr;
  if (parsed.prefix === 0) return true;
  const minPrefix = parsed.family === 4 ? thresholds.ipv4MinPrefix : thresholds.ipv6MinPrefix;
  return parsed.prefix < minPrefix && !isWhollyPrivate(parsed);
}

// ---------------------------------------------------------------------------------------------------------------
// Unions of CIDRs: a list of ranges judged together, as a policy's aws:SourceIp list is.

/** An inclusive range of addresses of one family (what a union of CIDRs is made of). */
export interface AddressRange {
  family: 4 | 6;
  first: bigint;
  last: bigint;
}

function familyBits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** The addresses of one CIDR as an inclusive range. */
export function cidrRange(cidr: string | ParsedCidr): AddressRange {
  const parsed = typeof cidr === "string" ? parseCidr(cidr) : cidr;
  const size = 1n << BigInt(familyBits(parsed.family) - parsed.prefix);
  return { family: parsed.family, first: parsed.network, last: parsed.network + size - 1n };
}

/**
 * The union of CIDRs as disjoint ranges, IPv4 before IPv6, each family in address order; overlapping and adjacent
 * ranges are merged (10.0.0.0/9 and 10.128.0.0/9 are one range). Throws InvalidCidrError for text that is not a CIDR.
 */
export function mergeCidrs(cidrs: readonly (string | ParsedCidr)[]): AddressRange[] {
  const ranges = cidrs
    .map(cidrRange)
    .sort((a, b) => a.family - b.family || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: AddressRange[] = [];
  for (const range of ranges) {
    const previous = merged[merged.length - 1];
    if (previous && previous.family === range.family && range.first <= previous.last + 1n) {
      if (range.last > previous.last) previous.last = range.last;
    } else {
      merged.push({ ...range });
    }
  }
  return merged;
}

/** The fewest CIDRs that cover exactly one range, in address order (each as wide as its alignment allows). */
export function rangeToCidrs(range: AddressRange): ParsedCidr[] {
  const bits = familyBits(range.family);
  const cidrs: ParsedCidr[] = [];
  let first = range.first;
  while (first <= range.last) {
    // The widest block that starts at `first` (aligned) and ends within the range.
    let hostBits = 0;
    while (
      hostBits < bits &&
      (first & ((1n << BigInt(hostBits + 1)) - 1n)) === 0n &&
      first + (1n << BigInt(hostBits + 1)) - 1n <= range.last
    ) {
      hostBits++;
    }
    cidrs.push({ family: range.family, network: first, prefix: bits - hostBits });
    first += 1n << BigInt(hostBits);
  }
  return cidrs;
}

/** The union of CIDRs as the fewest CIDRs covering exactly the same addresses. */
export function summarizeCidrs(cidrs: readonly (string | ParsedCidr)[]): ParsedCidr[] {
  return mergeCidrs(cidrs).flatMap(rangeToCidrs);
}

/**
 * Whether a list of CIDRs, taken together, is open: its union contains a CIDR that `isOpenCidr` calls open (all
 * 256 /8s are 0.0.0.0/0; 0.0.0.0/1 with 128.0.0.0/1 too; 52.0.0.0/8 with 53.0.0.0/8 is 52.0.0.0/7). Each maximal
 * block of the union is checked, which is the same as checking every CIDR inside it. Throws InvalidCidrError.
 */
export function isOpenCidrUnion(
  cidrs: readonly (string | ParsedCidr)[],
  thresholds: OpenThresholds = DEFAULT_OPEN_THRESHOLDS,
): boolean {
  return summarizeCidrs(cidrs).some((cidr) => isOpenCidr(cidr, thresholds));
}
