// What Config already holds for a rule: each resource's last verdict, kept compact (8 bytes a resource) so a
// periodic scan of a million resources can compare against it in a few MB. A resource is named by 56 bits of the
// SHA-256 of its type and id, and the verdict rides in the low byte, so one sorted BigUint64Array is the whole set.
import { createHash } from "node:crypto";
import { PermanentError } from "../../platform/errors.ts";

export const VERDICT_CODES = {
  COMPLIANT: 1,
  NON_COMPLIANT: 2,
  NOT_APPLICABLE: 3,
  INSUFFICIENT_DATA: 4,
} as const;
export type RecordedVerdict = keyof typeof VERDICT_CODES;
const VERDICT_NAMES = Object.fromEntries(Object.entries(VERDICT_CODES).map(([name, code]) => [code, name])) as Record<
  number,
  RecordedVerdict
>;

const LOW_BYTE = 0xffn;

/** The resource's 56-bit key, shifted left one byte (the verdict's place). */
function resourceKey(resourceType: string, resourceId: string): bigint {
  const digest = createHash("sha256").update(resourceType).update("\u0000").update(resourceId).digest();
  return digest.readBigUInt64BE(0) & ~LOW_BYTE;
}

/** One recorded result, packed: the resource's key with its verdict's code in the low byte. */
export function packVerdict(resourceType: string, resourceId: string, verdict: string): bigint | undefined {
  const code = VERDICT_CODES[verdict as RecordedVerdict];
  return code === undefined ? undefined : resourceKey(resourceType, resourceId) | BigInt(code);
}

/** Packed results as bytes (a part of the set, stored between invocations) and back. */
export function encodeVerdicts(packed: readonly bigint[]): Buffer {
  const bytes = Buffer.alloc(packed.length * 8);
  packed.forEach((value, index) => {
    bytes.writeBigUInt64LE(value, index * 8);
  });
  return bytes;
}

/** A stored part that is not whole packed results (it was not written by a scan). */
export class InvalidVerdictPartError extends PermanentError {
  override name = "InvalidVerdictPartError";
}

export function decodeVerdicts(bytes: Uint8Array): BigUint64Array {
  if (bytes.byteLength % 8 !== 0) throw new InvalidVerdictPartError(`a part of ${bytes.byteLength} bytes is not whole`);
  const copy = new Uint8Array(bytes); // aligned, and detached from the caller's buffer
  return new BigUint64Array(copy.buffer, 0, copy.byteLength / 8);
}

/** The set: every part's packed results, sorted once; lookups are binary searches on the key. */
export class RecordedVerdicts {
  private readonly sorted: BigUint64Array;

  constructor(parts: readonly BigUint64Array[]) {
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    this.sorted = new BigUint64Array(total);
    let offset = 0;
    for (const part of parts) {
      this.sorted.set(part, offset);
      offset += part.length;
    }
    this.sorted.sort();
  }

  get size(): number {
    return this.sorted.length;
  }

  /** What Config holds for the resource under the rule; undefined when it holds nothing. */
  verdictOf(resourceType: string, resourceId: string): RecordedVerdict | undefined {
    const key = resourceKey(resourceType, resourceId);
    let low = 0;
    let high = this.sorted.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const value = this.sorted[middle]!;
      const candidate = value & ~LOW_BYTE;
      if (candidate === key) return VERDICT_NAMES[Number(value & LOW_BYTE)];
      if (candidate < key) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }
}
