// `remedy help`, `remedy <command> --help`, `remedy --version` and usage errors, in process: none touches AWS.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { COMMANDS, runCli } from "../../cli/remedy.ts";

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** Any use of a dependency fails the test: help, version and usage errors read nothing. */
const untouchable = new Proxy({} as CliDeps, {
  get(_, key) {
    throw new Error(`help must not use deps.${String(key)}`);
  },
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, untouchable);
  return { code, out: out.join(""), err: err.join("") };
}

describe("remedy help", () => {
  it("lists every command with its synopsis, and documents --json and the exit codes", async () => {
    const { code, out, err } = await cli("help");
    expect({ code, err }).toEqual({ code: 0, err: "" });
    for (const spec of Object.values(COMMANDS)) expect(out).toContain(`\n  ${spec.usage}\n`);
    expect(out).toContain("With --json, stdout carries the JSON alone");
    expect(out).toContain("Exit codes: 0 done; 1 failed");
    expect(out).toContain("2 bad usage or input");
    expect(await cli("--help")).toEqual({ code, out, err });
    expect(await cli("-h")).toEqual({ code, out, err });
  });

  it("without a command prints the help on stderr, nothing on stdout, and exits 2", async () => {
    const { code, out, err } = await cli();
    expect({ code, out }).toEqual({ code: 2, out: "" });
    expect(err).toBe((await cli("help")).out);
  });
});

describe("remedy <command> --help", () => {
  it.each(Object.keys(COMMANDS))("%s: its usage and options, the same with -h and as help %s, exit 0", async (name) => {
    const spec = COMMANDS[name]!;
    const help = await cli(name, "--help");
    expect(help.code).toBe(0);
    expect(help.err).toBe("");
    expect(help.out).toMatch(new RegExp(`^Usage: remedy ${spec.usage.replace(/[[\]]/g, "\\$&")}\n`));
    for (const [flag] of spec.options) expect(help.out).toContain(`  ${flag}  `);
    expect(help.out).toContain("  -h, --help");
    expect(help.out.includes("--outputs FILE")).toBe(spec.stack);
    expect(help.out).toContain("Exit codes:");
    expect(await cli(name, "-h")).toEqual(help);
    expect(await cli("help", name)).toEqual(help);
  });

  it("wins over other arguments, but not after --, where it is an argument", async () => {
    expect((await cli("dlq", "--help")).code).toBe(0);
    expect((await cli("peek", "--max", "0", "-h")).code).toBe(0);
    const argument = await cli("undo", "--", "--help");
    expect(argument.code).toBe(2);
    expect(argument.err).toContain("is not an action id");
  });

  it("help for an unknown command is a usage error", async () => {
    expect(await cli("help", "launch")).toEqual({
      code: 2,
      out: "",
      err: 'remedy help: unknown command "launch". Run "remedy help" for the list.\n',
    });
  });
});

describe("remedy --version", () => {
  it("prints package.json's version, with -v too", async () => {
    expect(await cli("--version")).toEqual({ code: 0, out: `${VERSION}\n`, err: "" });
    expect(await cli("-v")).toEqual({ code: 0, out: `${VERSION}\n`, err: "" });
  });
});

describe("usage errors are one line on stderr, nothing on stdout, exit 2", () => {
  it.each([
    [["launch"], 'remedy: unknown command "launch". Run "remedy help" for the list.\n'],
    [["--bogus"], 'remedy: unknown option "--bogus". Run "remedy help" for the list.\n'],
    [["plan", "--bogus"], `remedy plan: Unknown option '--bogus' (see "remedy plan --help")\n`],
    [["peek", "--max"], `remedy peek: Option '--max <value>' argument missing (see "remedy peek --help")\n`],
    [["dlq", "purge"], "remedy dlq: usage: remedy dlq redrive [--yes] [--json]\n"],
  ])("%j", async (argv, message) => {
    expect(await cli(...argv)).toEqual({ code: 2, out: "", err: message });
  });
});
