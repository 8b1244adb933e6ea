// The contract's variants are built from the registry's schemas (contract/schema-kit.ts kindVariant): one option per
// kind, in the order first listed, so a schema several problems list is checked once and messages keep their order.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { kindOf, kindVariant } from "../../contract/schema-kit.ts";

const a = v.object({ kind: v.literal("a"), n: v.number() });
const b = v.object({ kind: v.literal("b"), s: v.string() });

describe("kindVariant", () => {
  it("holds each schema once, in the order first listed", () => {
    const variant = kindVariant("thing", [b, a, b, a]);
    expect(variant.options).toEqual([b, a]);
    expect(variant.options.map(kindOf)).toEqual(["b", "a"]);
    expect(v.parse(variant, { kind: "a", n: 1 })).toEqual({ kind: "a", n: 1 });
    const result = v.safeParse(variant, { kind: "c" });
    expect(result.success).toBe(false);
    expect(result.issues?.[0]?.message).toBe('Invalid type: Expected ("b" | "a") but received "c"');
  });

  it("refuses two different schemas of one kind, and none at all", () => {
    const otherA = v.object({ kind: v.literal("a"), n: v.string() });
    expect(() => kindVariant("thing", [a, otherA])).toThrow("two different thing schemas of kind a");
    expect(() => kindVariant("thing", [])).toThrow("no thing schema in the registry");
  });
});
