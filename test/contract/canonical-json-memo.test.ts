// canonicalJson reuses the sorted order of a key list it has seen: it must give exactly what sorting every time gives.
import { describe, expect, it } from "vitest";
import { bucketItem, random, securityGroupItem } from "../../bench/generate.ts";
import { canonicalJson } from "../../contract/canonical-json.ts";
import { seededRandom } from "../bad-input/generate.ts";

/** canonicalJson as it was: Object.keys(...).sort() at every object. */
function straightforward(value: unknown): string {
  const sortKeys = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(sortKeys);
    if (node !== null && typeof node === "object") {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(node).sort()) {
        const child = (node as Record<string, unknown>)[key];
        if (child !== undefined) sorted[key] = sortKeys(child);
      }
      return sorted;
    }
    return node;
  };
  return JSON.stringify(sortKeys(value));
}

const same = (value: unknown) => expect(canonicalJson(value)).toBe(straightforward(value));

describe("canonicalJson's memoised key orders", () => {
  it("give the sorted text on the bench's items, parsed and as built", () => {
    const rand = random(7);
    for (let index = 0; index < 400; index++) {
      const item = index % 2 === 0 ? securityGroupItem(index, rand) : bucketItem(index, rand);
      same(item);
      same(JSON.parse(JSON.stringify(item)));
      const supplementary = item.supplementaryConfiguration as Record<string, unknown>;
      for (const value of Object.values(supplementary)) same(typeof value === "string" ? JSON.parse(value) : value);
    }
  });

  it("give the sorted text for the same keys in every order, more shapes than are kept, and odd keys", () => {
    const rand = seededRandom(0xc0ffee);
    const names = ["b", "a", "10", "9", "__proto__", "kind", "Z", "é", "", "toJSON_", "c"];
    for (let round = 0; round < 2_000; round++) {
      const keys = rand.shuffle([...names]).slice(0, 1 + Math.floor(rand.next() * names.length));
      const object: Record<string, unknown> = JSON.parse(
        `{${keys.map((key, at) => `${JSON.stringify(key)}:${at % 3 === 0 ? `{"y":${at},"x":[${at}]}` : at}`).join(",")}}`,
      );
      if (round % 5 === 0) object[keys[0]!] = undefined;
      same(object);
      same([object, { ...object }]);
    }
  });
});
