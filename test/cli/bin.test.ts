// The real `remedy` command in a child process: bin/remedy.js (package.json "bin"), run by node from the repo root,
// with no AWS credentials. Few and concurrent: each spawn costs about a second for tsx. What needs no real process
// (help, usage errors) runs through the same entry (cli/remedy.ts's main) in this process.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../cli/remedy.ts";
import { remedyInProcess } from "../helpers/remedy-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin/remedy.js");
const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  bin: Record<string, string>;
};

/** This process's environment without any AWS setting, and with no shared AWS config or credentials files. */
const ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_"))),
  AWS_CONFIG_FILE: join(ROOT, "no-such-aws-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(ROOT, "no-such-aws-credentials"),
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: readonly string[], cwd = ROOT): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: ENV, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const remedy = (...args: string[]) => run(process.execPath, [BIN, ...args]);

/** main(), what bin/remedy.js calls, in this process: the same argv parsing, streams as pipes. */
async function entry(...args: string[]): Promise<Ran> {
  const { code, stdout, stderr } = await remedyInProcess(args, { cwd: ROOT, env: ENV });
  return { code, stdout, stderr };
}

const temporary: string[] = [];
afterAll(() => {
  for (const path of temporary) rmSync(path, { recursive: true, force: true });
});

// Each spawn starts Node and tsx from cold (seconds on a fresh clone or a busy 2-core machine): a generous timeout.
describe.concurrent("the remedy command (bin/remedy.js, no AWS credentials)", { timeout: 60_000 }, () => {
  it("package.json's bin runs bin/remedy.js", () => {
    expect(PACKAGE.bin).toEqual({ remedy: "bin/remedy.js" });
    expect(readFileSync(BIN, "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it("plan --json: stdout is the JSON alone, stderr is empty, exit 0", async () => {
    const { code, stdout, stderr } = await remedy("plan", "--json");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ itemsRead: expect.any(Number), findings: expect.any(Array) });
  });

  it("plan --help prints plan's usage and options, exit 0", async () => {
    const { code, stdout, stderr } = await entry("plan", "--help");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toMatch(/^Usage: remedy plan /);
    expect(stdout).toContain("--snapshot FILE");
  });

  it("an unknown option exits 2 with one line on stderr and nothing on stdout", async () => {
    const { code, stdout, stderr } = await entry("plan", "--bogus");
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toBe(`remedy plan: Unknown option '--bogus' (see "remedy plan --help")\n`);
  });

  it("help lists every command, exit 0", async () => {
    const { code, stdout, stderr } = await entry("help");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    for (const spec of Object.values(COMMANDS)) expect(stdout).toContain(`\n  ${spec.usage}\n`);
    expect(stdout).toContain("Exit codes: 0 done");
  });

  it("--version prints package.json's version, run through a symlink from another directory (npm link)", async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), "remedy-bin-"));
    temporary.push(elsewhere);
    const linked = join(elsewhere, "remedy");
    symlinkSync(BIN, linked);
    // Executed as a program: the shebang runs node, and tsx is found from the link's target, not from the cwd.
    expect(await run(linked, ["--version"], elsewhere)).toEqual({
      code: 0,
      stdout: `${PACKAGE.version}\n`,
      stderr: "",
    });
  });

  it("cli/remedy.ts run directly by tsx (npm run remedy) still runs the command, once", async () => {
    const ran = await run(process.execPath, ["--import", "tsx", "cli/remedy.ts", "-v"]);
    expect(ran).toEqual({ code: 0, stdout: `${PACKAGE.version}\n`, stderr: "" });
  });
});
