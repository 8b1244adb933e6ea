// The build's own pieces: the schema-key rewrite keeps objects identical; the zip is readable and reproducible.
import { inflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32, inlineSchemaKeys, zipFiles } from "../../scripts/build.ts";

describe("inlineSchemaKeys", () => {
  it("writes known string constants in place of computed keys, and nothing else", () => {
    const source = [
      'const _xN = "xmlName";',
      'const _m = "Min";',
      "export var A$ = [3, n0, _m, 0, [_m], [[1, { [_xN]: `Min`, [other]: 1 }]]];",
    ].join("\n");
    const out = inlineSchemaKeys(source);
    expect(out).toContain('{ "xmlName": `Min`, [other]: 1 }');
    // The same objects either way.
    const evaluate = (text: string) =>
      new Function("n0", "other", `${text.replace("export var", "var")}; return A$;`)("ns", "k");
    expect(evaluate(out)).toEqual(evaluate(source));
  });
});

describe("zipFiles", () => {
  it("writes a stored entry that inflates back to the input, byte for byte, reproducibly", () => {
    const data = Buffer.from("export const handler = async () => 42;\n".repeat(50));
    const zip = zipFiles([{ name: "index.mjs", data }]);
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    const nameLength = zip.readUInt16LE(26);
    const size = zip.readUInt32LE(18);
    expect(zip.subarray(30, 30 + nameLength).toString()).toBe("index.mjs");
    const inflated = inflateRawSync(zip.subarray(30 + nameLength, 30 + nameLength + size));
    expect(inflated.equals(data)).toBe(true);
    expect(zip.readUInt32LE(14)).toBe(crc32(data));
    expect(zip.readUInt32LE(zip.length - 22)).toBe(0x06054b50);
    expect(zipFiles([{ name: "index.mjs", data }]).equals(zip)).toBe(true);
  });

  it("computes the standard CRC-32", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
  });
});
