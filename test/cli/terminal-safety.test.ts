// What AWS or a user wrote (tag values, resource names, reasons, file names) reaches the terminal with control
// characters escaped: in tables, in the plan's sentences, in error sentences and in --json. An attacker who can tag a
// resource must not be able to rewrite an operator's screen (ANSI escapes) or reorder what they read (bidi controls).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { table } from "../../cli/format.ts";
import { runCli } from "../../cli/remedy.ts";

const HOSTILE = "ok\u001b[2J\u001b[31mFAKE\u202etxt.exe\u0007";
const dir = mkdtempSync(join(tmpdir(), "remedy-terminal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const deps = { env: { INIT_CWD: dir }, now: () => new Date("2026-12-01T12:00:00Z") } as unknown as CliDeps;
  return runCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) }, deps).then((code) => ({
    code,
    out: out.join(""),
    err: err.join(""),
  }));
}

/** No ESC, BEL, bidi override or other C0/C1 control except the line breaks the output itself makes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters being looked for
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe("terminal safety", () => {
  it("a table escapes every cell, however it was built", () => {
    const shown = table(["A", "B"], [[HOSTILE, "plain"]]);
    expect(shown).not.toMatch(UNSAFE);
    expect(shown).toContain("ok\\x1b[2J\\x1b[31mFAKE\\u202etxt.exe\\x07");
  });

  it("plan: a hostile exemption tag value is shown escaped, as text and as JSON", async () => {
    const snapshot = JSON.parse(readFileSync(new URL("../../examples/config-snapshot.json", import.meta.url), "utf8"));
    // Escaped in the file, as JSON requires; the parsed tag value holds the raw characters.
    const text = JSON.stringify(snapshot).replaceAll(
      "vendor remote support",
      JSON.stringify(`vendor ${HOSTILE}`).slice(1, -1),
    );
    writeFileSync(join(dir, "hostile.json"), text);
    const plain = await run(["plan", "--snapshot", "hostile.json"]);
    expect(plain.err).toBe("");
    expect(plain.code).toBe(0);
    expect(plain.out).toContain("vendor ok\\x1b[2J");
    expect(plain.out).not.toMatch(UNSAFE);
    const json = await run(["plan", "--snapshot", "hostile.json", "--json"]);
    expect(json.out).not.toMatch(UNSAFE);
    // The same value, only written with escapes.
    expect(JSON.stringify(JSON.parse(json.out))).toContain(JSON.stringify(`vendor ${HOSTILE}`).slice(1, -1));
  });

  it("an error sentence carrying the user's input is escaped", async () => {
    const ran = await run(["plan", "--snapshot", `missing${HOSTILE}.json`]);
    expect(ran.code).toBe(2);
    expect(ran.err).toMatch(/^remedy plan: cannot read snapshot .*missingok\\x1b\[2J/);
    expect(ran.err.slice(0, -1)).not.toMatch(UNSAFE);
  });
});
