// Each `remedy` invocation loads only what it runs (runCli in cli/remedy.ts, CommandDeps in cli/deps.ts): help,
// --version, bad usage and an offline plan load no AWS SDK module (over a second to load) and no command's
// implementation. The cases run one after another in one child process, as bin/remedy.js runs the CLI (tsx, then
// cli/remedy.ts's main, each with pipes for stdout and stderr), with test/helpers/module-log.ts recording every module
// URL the ESM loader loads; after each case the driver notes how much of the log there is. Loading only grows, so
// what the log holds up to the end of a case is a superset of what that case alone would load in a fresh process:
// none of it an AWS SDK module means the case loads none (and each module a later case needs but no earlier one
// loaded is in that case's part). The one case that loads the SDK (plan --live) runs last. No timings:
// bench/startup.bench.ts prints those.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PAUSE_REASON } from "../../cli/operate.ts";
import { COMMANDS } from "../../cli/remedy.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const url = (path: string) => pathToFileURL(join(ROOT, path)).href;

/** No AWS setting at all (nor shared files, nor instance metadata), as on a fresh machine. */
const ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_"))),
  AWS_CONFIG_FILE: join(ROOT, "no-such-aws-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(ROOT, "no-such-aws-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

/**
 * bin/remedy.js, with the module log registered between tsx and the CLI, running each command line of a JSON list in
 * turn through main() (its own pipes for stdout and stderr) and writing what each did to a JSON file. Arguments: log
 * file, cases file, results file.
 */
const DRIVER = `
import { readFileSync, writeFileSync } from "node:fs";
import { register } from "node:module";
import { Writable } from "node:stream";
import { register as registerTsx } from "tsx/esm/api";
const [logFile, casesFile, resultsFile] = process.argv.slice(1);
registerTsx({ tsconfig: ${JSON.stringify(join(ROOT, "tsconfig.json"))} });
register(${JSON.stringify(url("test/helpers/module-log.ts"))}, { data: { logFile } });
const { main } = await import(${JSON.stringify(url("cli/remedy.ts"))});
const pipe = () => {
  const stream = new Writable({ write(chunk, _encoding, done) { stream.text += chunk; done(); } });
  stream.text = "";
  return stream;
};
const logLength = () => { try { return readFileSync(logFile, "utf8").split("\\n").filter(Boolean).length; } catch { return 0; } };
const results = [];
for (const argv of JSON.parse(readFileSync(casesFile, "utf8"))) {
  const stdout = pipe();
  const stderr = pipe();
  const host = { stdout, stderr, stdin: process.stdin, env: process.env, cwd: () => process.cwd() };
  const code = await main(argv, host);
  results.push({ argv, code, stdout: stdout.text, stderr: stderr.text, logged: logLength() });
}
writeFileSync(resultsFile, JSON.stringify(results));
`;

const logs = mkdtempSync(join(tmpdir(), "remedy-startup-"));
afterAll(() => rmSync(logs, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every module URL loaded, in order, from the process's start to the end of this case. */
  loaded: string[];
}

const OFFLINE_CASES: [string[], number][] = [
  [["--version"], 0],
  [["help"], 0],
  [["help", "undo"], 0],
  [["status", "--help"], 0],
  [["plan", "-h"], 0],
  [[], 2],
  [["bogus"], 2],
  [["plan", "--bogus"], 2],
  [["plan", "--region", "eu-west-1"], 2],
  [["peek", "--max", "0"], 2],
  [["undo", "not-an-action-id"], 2],
  [["pause", "--profile", "no-such-profile"], 2],
];
const PLAN_JSON = ["plan", "--json"];
const PLAN_LIVE = ["plan", "--live", "--region", "eu-west-1"];
/** In this order: the SDK-loading case last. */
const CASES = [...OFFLINE_CASES.map(([argv]) => argv), PLAN_JSON, PLAN_LIVE];

const ran = new Map<string, Ran>();
const key = (argv: readonly string[]) => JSON.stringify(argv);
function result(argv: readonly string[]): Ran {
  const found = ran.get(key(argv));
  if (!found) throw new Error(`${key(argv)} did not run`);
  return found;
}

beforeAll(async () => {
  const logFile = join(logs, "modules.log");
  const casesFile = join(logs, "cases.json");
  const resultsFile = join(logs, "results.json");
  writeFileSync(casesFile, JSON.stringify(CASES));
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", DRIVER, logFile, casesFile, resultsFile],
      { cwd: ROOT, env: ENV, timeout: 60_000 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`the driver failed: ${error.message}\n${stderr}`)) : resolve(),
    );
  });
  const loaded = readFileSync(logFile, "utf8").split("\n").filter(Boolean);
  const results = JSON.parse(readFileSync(resultsFile, "utf8")) as (Omit<Ran, "loaded"> & {
    argv: string[];
    logged: number;
  })[];
  expect(results.map((r) => r.argv)).toEqual(CASES);
  for (const { argv, logged, ...rest } of results) ran.set(key(argv), { ...rest, loaded: loaded.slice(0, logged) });
}, 90_000);

const awsSdk = (loaded: readonly string[]) => loaded.filter((module) => module.includes("/node_modules/@aws-sdk/"));
const IMPLEMENTATIONS = ["cli/operate.ts", "cli/status.ts", "cli/undo.ts", "cli/live-plan.ts", "cli/plan.ts"].map(url);

describe("what each remedy invocation loads", () => {
  it.each(OFFLINE_CASES)("%j: no AWS SDK module and no command's implementation, exit %i", (argv, exitCode) => {
    const { code, loaded } = result(argv);
    expect(code).toBe(exitCode);
    // The log saw the CLI itself load: an empty log would prove nothing.
    expect(loaded).toContain(url("cli/remedy.ts"));
    expect(awsSdk(loaded)).toEqual([]);
    expect(loaded.filter((module) => IMPLEMENTATIONS.includes(module))).toEqual([]);
  });

  it("plan --json (offline, the example snapshot): the plan, and no AWS SDK module", () => {
    const { code, stdout, stderr, loaded } = result(PLAN_JSON);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout)).toMatchObject({ mode: "offline", findings: expect.any(Array) });
    expect(loaded).toContain(url("cli/plan.ts"));
    expect(awsSdk(loaded)).toEqual([]);
    expect(loaded).not.toContain(url("cli/live-plan.ts"));
  });

  it("plan --live (no credentials): the SDK is loaded, and the log sees it", () => {
    const { code, stderr, loaded } = result(PLAN_LIVE);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^remedy plan: No AWS credentials found/);
    expect(awsSdk(loaded)).toContain(url("node_modules/@aws-sdk/client-sts/dist-cjs/index.js"));
  });
});

it("pause's help states operate.ts's default reason (cli/operate-commands.ts repeats it, not to import operate.ts)", () => {
  const reason = COMMANDS.pause!.options.find(([flag]) => flag === "--reason TEXT");
  expect(reason?.[1]).toContain(`else "${DEFAULT_PAUSE_REASON}")`);
});
