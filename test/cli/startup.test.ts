// Each `remedy` invocation loads only what it runs (runCli in cli/remedy.ts, CommandDeps in cli/deps.ts): help,
// --version, bad usage and an offline plan load no AWS SDK module (over a second to load) and no command's
// implementation. Each case runs in a child process as bin/remedy.js runs the CLI (tsx, then cli/remedy.ts's main),
// with test/helpers/module-log.ts recording every module URL the ESM loader loads. No timings: bench/startup.bench.ts
// prints those.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
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

/** bin/remedy.js, with the module log registered between tsx and the CLI. Arguments: log file, then the command line. */
const DRIVER = `
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";
const [logFile, ...argv] = process.argv.slice(1);
registerTsx({ tsconfig: ${JSON.stringify(join(ROOT, "tsconfig.json"))} });
register(${JSON.stringify(url("test/helpers/module-log.ts"))}, { data: { logFile } });
const { main } = await import(${JSON.stringify(url("cli/remedy.ts"))});
await main(argv);
`;

const logs = mkdtempSync(join(tmpdir(), "remedy-startup-"));
afterAll(() => rmSync(logs, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Every module URL loaded, in order. */
  loaded: string[];
}

let runs = 0;
function remedy(...argv: string[]): Promise<Ran> {
  const logFile = join(logs, `${++runs}.log`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", DRIVER, logFile, ...argv],
      { cwd: ROOT, env: ENV, timeout: 30_000 },
      (error, stdout, stderr) => {
        let loaded: string[] = [];
        try {
          loaded = readFileSync(logFile, "utf8").split("\n").filter(Boolean);
        } catch {}
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr, loaded });
      },
    );
  });
}

const awsSdk = (loaded: readonly string[]) => loaded.filter((module) => module.includes("/node_modules/@aws-sdk/"));
const IMPLEMENTATIONS = ["cli/operate.ts", "cli/status.ts", "cli/undo.ts", "cli/live-plan.ts", "cli/plan.ts"].map(url);

// Each spawn starts Node and tsx from cold (seconds on a busy 2-core machine): a generous timeout.
describe.concurrent("what each remedy invocation loads", { timeout: 60_000 }, () => {
  it.each([
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
  ])("%j: no AWS SDK module and no command's implementation, exit %i", async (argv, exitCode) => {
    const { code, loaded } = await remedy(...argv);
    expect(code).toBe(exitCode);
    // The log saw the CLI itself load: an empty log would prove nothing.
    expect(loaded).toContain(url("cli/remedy.ts"));
    expect(awsSdk(loaded)).toEqual([]);
    expect(loaded.filter((module) => IMPLEMENTATIONS.includes(module))).toEqual([]);
  });

  it("plan --json (offline, the example snapshot): the plan, and no AWS SDK module", async () => {
    const { code, stdout, stderr, loaded } = await remedy("plan", "--json");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout)).toMatchObject({ mode: "offline", findings: expect.any(Array) });
    expect(loaded).toContain(url("cli/plan.ts"));
    expect(awsSdk(loaded)).toEqual([]);
    expect(loaded).not.toContain(url("cli/live-plan.ts"));
  });

  it("plan --live (no credentials): the SDK is loaded, and the log sees it", async () => {
    const { code, stderr, loaded } = await remedy("plan", "--live", "--region", "eu-west-1");
    expect(code).toBe(1);
    expect(stderr).toMatch(/^remedy plan: No AWS credentials found/);
    expect(awsSdk(loaded)).toContain(url("node_modules/@aws-sdk/client-sts/dist-cjs/index.js"));
  });
});

it("pause's help states operate.ts's default reason (cli/operate-commands.ts repeats it, not to import operate.ts)", () => {
  const reason = COMMANDS.pause!.options.find(([flag]) => flag === "--reason TEXT");
  expect(reason?.[1]).toContain(`else "${DEFAULT_PAUSE_REASON}")`);
});
