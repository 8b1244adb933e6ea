// The compact set of what Config holds (functions/config-rule/recorded.ts): every verdict found again, across parts
// and a round trip through bytes; nothing found for a resource it does not hold; a torn part refused.
import { describe, expect, it } from "vitest";
import {
  decodeVerdicts,
  encodeVerdicts,
  InvalidVerdictPartError,
  packVerdict,
  RecordedVerdicts,
} from "../../functions/config-rule/recorded.ts";

const TYPES = ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"] as const;
const SG = "AWS::EC2::SecurityGroup";

describe("RecordedVerdicts", () => {
  it("finds every verdict again, from several parts that went through bytes", () => {
    const held = Array.from(
      { length: 5_000 },
      (_, n) => [`sg-${n.toString(16).padStart(17, "0")}`, TYPES[n % 4]!] as const,
    );
    const parts = [held.slice(0, 1_700), held.slice(1_700, 1_701), held.slice(1_701)].map((part) =>
      decodeVerdicts(encodeVerdicts(part.map(([id, type]) => packVerdict(SG, id, type)!))),
    );
    const verdicts = new RecordedVerdicts(parts);
    expect(verdicts.size).toBe(5_000);
    for (const [id, type] of held) expect(verdicts.verdictOf(SG, id)).toBe(type);
    expect(verdicts.verdictOf(SG, "sg-not-held")).toBeUndefined();
    // The type is part of the name: a bucket called like a held group is not held.
    expect(verdicts.verdictOf("AWS::S3::Bucket", held[0]![0])).toBeUndefined();
  });

  it("holds nothing when Config holds nothing", () => {
    const verdicts = new RecordedVerdicts([decodeVerdicts(encodeVerdicts([]))]);
    expect(verdicts.size).toBe(0);
    expect(verdicts.verdictOf(SG, "sg-1")).toBeUndefined();
  });

  it("packs only the verdicts Config has, and refuses a part that is not whole", () => {
    expect(packVerdict(SG, "sg-1", "FINE")).toBeUndefined();
    expect(() => decodeVerdicts(new Uint8Array(12))).toThrow(InvalidVerdictPartError);
  });

  it("costs 8 bytes a resource", () => {
    expect(
      encodeVerdicts(Array.from({ length: 1_000 }, (_, n) => packVerdict(SG, `sg-${n}`, "COMPLIANT")!)).byteLength,
    ).toBe(8_000);
  });
});
