// Port specs for rule parameters: "tcp:80,tcp:443", "22,3389", "udp:53", "tcp:8000-8080", "icmp", "icmpv6".
// Pure; compiled once per parameter value, then checked per security-group rule with plain comparisons.
import { RuleParameterError } from "./types.ts";

export interface PortRange {
  from: number;
  to: number;
}

export interface PortSpec {
  /** Canonical text: items as given, lowercased, whitespace removed, "tcp:80-80" written "tcp:80". */
  text: string;
  /** Sorted, merged (adjacent ranges joined), so coverage of a contiguous range is one range lookup. */
  tcp: readonly PortRange[];
  udp: readonly PortRange[];
  /** All ICMP (IPv4) types and codes. */
  icmp: boolean;
  /** All ICMPv6 types and codes. */
  icmpv6: boolean;
}

export interface PortSpecOptions {
  /** Whether "icmp"/"icmpv6" may appear (they authorize; they cannot be prohibited, having no ports). */
  allowIcmp: boolean;
}

export const MAX_PORT = 65_535;

const PORT_ITEM = /^(?:(tcp|udp)\s*:\s*)?(\d{1,5})(?:\s*-\s*(\d{1,5}))?$/;
const ICMP_ITEM = /^icmp(?:v6)?$/;

/** Parses a port spec; throws RuleParameterError naming `parameter` and the bad item. */
export function parsePortSpec(raw: string, parameter: string, options: PortSpecOptions): PortSpec {
  const tcp: PortRange[] = [];
  const udp: PortRange[] = [];
  const items: string[] = [];
  let icmp = false;
  let icmpv6 = false;
  if (raw.trim() !== "") {
    for (const rawItem of raw.split(",")) {
      const item = rawItem.trim().toLowerCase();
      const bad = (why: string) => new RuleParameterError(parameter, `${why}: "${rawItem.trim()}" in "${raw}"`);
      if (item === "") throw bad("empty item");
      if (ICMP_ITEM.test(item)) {
        if (!options.allowIcmp) throw bad(`${item} has no ports and cannot be listed here`);
        if (item === "icmp") icmp = true;
        else icmpv6 = true;
        items.push(item);
        continue;
      }
      const match = PORT_ITEM.exec(item);
      if (!match) throw bad("not a port item (expected tcp:80, udp:53, tcp:8000-8080, 22, 1000-2000, icmp or icmpv6)");
      const [, protocol, fromText = "", toText] = match;
      const from = Number(fromText);
      const to = toText === undefined ? from : Number(toText);
      if (from > MAX_PORT || to > MAX_PORT) throw bad(`port out of range 0-${MAX_PORT}`);
      if (from > to) throw bad("range start is after its end");
      // A bare port means both TCP and UDP.
      if (protocol !== "udp") tcp.push({ from, to });
      if (protocol !== "tcp") udp.push({ from, to });
      items.push(`${protocol ? `${protocol}:` : ""}${formatRange(from, to)}`);
    }
  }
  return { text: items.join(","), tcp: mergeRanges(tcp), udp: mergeRanges(udp), icmp, icmpv6 };
}

export function formatRange(from: number, to: number): string {
  return from === to ? String(from) : `${from}-${to}`;
}

function mergeRanges(ranges: PortRange[]): PortRange[] {
  ranges.sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: PortRange[] = [];
  for (const range of ranges) {
    const last = merged[merged.length - 1];
    if (last && range.from <= last.to + 1) last.to = Math.max(last.to, range.to);
    else merged.push({ ...range });
  }
  return merged;
}

/** True when every port in from..to lies in `ranges` (merged, as in a PortSpec). */
export function coversRange(ranges: readonly PortRange[], from: number, to: number): boolean {
  for (const range of ranges) {
    if (range.from <= from && to <= range.to) return true;
  }
  return false;
}

/** The parts of from..to that lie in `ranges` (merged, as in a PortSpec), in port order. */
export function overlappingRanges(ranges: readonly PortRange[], from: number, to: number): PortRange[] {
  const overlaps: PortRange[] = [];
  for (const range of ranges) {
    if (range.from <= to && from <= range.to) {
      overlaps.push({ from: Math.max(from, range.from), to: Math.min(to, range.to) });
    }
  }
  return overlaps;
}
