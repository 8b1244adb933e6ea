// The pieces of reading a security group's permissions and rules that every rule on the type shares (its
// detect.ts and problems/sg-default-rules/detect.ts): the protocol, bounded integers, lists and records, and how a
// bad value is quoted. Pure: no AWS SDK. No closures on this path: bundlers that keep function names wrap each one,
// which costs per call.
import { PermanentError } from "../../platform/errors.ts";

/** What is wrong inside one permission or rule; the caller adds where, in its own error class. */
export class EntryProblem extends PermanentError {}

const PROTOCOLS: ReadonlyMap<string, string> = new Map([
  ["tcp", "tcp"],
  ["6", "tcp"],
  ["udp", "udp"],
  ["17", "udp"],
  ["icmp", "icmp"],
  ["1", "icmp"],
  ["icmpv6", "icmpv6"],
  ["58", "icmpv6"],
  ["-1", "-1"],
  ["all", "-1"],
]);
const PROTOCOL_NUMBER = /^\d{1,3}$/;

/** The protocol as the entries name it: names for the common ones, "-1" for all, else the number as text. */
export function normalizeProtocol(value: unknown): string {
  if (typeof value === "string") {
    const known = PROTOCOLS.get(value);
    if (known !== undefined) return known;
  }
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text !== "string") throw new EntryProblem(`protocol is ${describeValue(value)}`);
  const numeric = PROTOCOL_NUMBER.test(text);
  // "06" and "6" are the same protocol; names are matched case-insensitively.
  const key = numeric ? String(Number(text)) : text.toLowerCase();
  const known = PROTOCOLS.get(key);
  if (known !== undefined) return known;
  if (numeric && Number(key) <= 255) return key;
  throw new EntryProblem(`unknown protocol ${describeValue(value)}`);
}

export function integerIn(value: unknown, min: number, max: number, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new EntryProblem(`${field} is ${describeValue(value)}, expected an integer ${min}..${max}`);
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function listOf(value: unknown, field: string): readonly unknown[] {
  if (Array.isArray(value)) return value;
  if (value === undefined || value === null) return [];
  throw new EntryProblem(`${field} is ${describeValue(value)}, expected an array`);
}

/** A value quoted for an error: short, and never the whole of a long string. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
