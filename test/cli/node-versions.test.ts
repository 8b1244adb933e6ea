// The `remedy` command on every Node it supports (package.json engines: >=20.19; 22 and 24 pinned by
// scripts/node-runtime.ts, fetched once into .cache/node): bin/remedy.js run by each, with no AWS settings, as
// test/cli/bin.test.ts runs it on this machine's Node (--version and plan --json there, the same checks as here).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeMajor, nodeBinary, PINNED } from "../../scripts/node-runtime.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = join(ROOT, "bin/remedy.js");
const PACKAGE = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };

/** This process's environment without any AWS setting, and with no shared AWS config or credentials files. */
const ENV: Record<string, string | undefined> = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_"))),
  AWS_CONFIG_FILE: join(ROOT, "no-such-aws-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(ROOT, "no-such-aws-credentials"),
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Runtime {
  label: string;
  binary: string;
  /** What `<binary> --version` says. */
  version: string;
}

function run(binary: string, args: readonly string[]): Promise<Ran> {
  // That Node first on PATH too, so anything started as `node` (a shebang, a child) is the same one.
  const env = { ...ENV, PATH: `${dirname(binary)}:${ENV.PATH ?? ""}` };
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

const MAJORS: readonly NodeMajor[] = [22, 24];
const runtimes = new Map<string, Runtime>();
/** The runtimes each CLI check passed on. */
const passed = new Map<string, number>();

beforeAll(async () => {
  // The first run downloads each pinned Node (~50 MB apiece); later runs reuse .cache/node.
  const pinned = await Promise.all(MAJORS.map((major) => nodeBinary(major)));
  const all = [
    { label: "this machine's", binary: process.execPath },
    ...MAJORS.map((major, i) => ({ label: `pinned ${major}`, binary: pinned[i]! })),
  ];
  for (const { label, binary } of all) {
    const { stdout } = await run(binary, ["--version"]);
    runtimes.set(label, { label, binary, version: stdout.trim() });
  }
}, 180_000);

afterAll(() => {
  const ran = [...runtimes.values()]
    .filter((runtime) => passed.get(runtime.label) === 2)
    .map((runtime) => `${runtime.version} (${runtime.label})`);
  console.log(
    `cli: bin/remedy.js ran on Node ${ran.join(", ") || "(none)"}; on this machine's ${process.version}: bin.test.ts`,
  );
});

// This machine's Node runs the same two checks in test/cli/bin.test.ts (--version through the npm-link symlink).
const LABELS = MAJORS.map((major) => `pinned ${major}`);

describe.concurrent("bin/remedy.js on each supported Node (no AWS credentials)", { timeout: 60_000 }, () => {
  it("the pinned binaries are the pinned versions", () => {
    for (const major of MAJORS) {
      expect(runtimes.get(`pinned ${major}`)?.version).toBe(`v${PINNED[major].version}`);
    }
    expect(runtimes.get("this machine's")?.version).toBe(process.version);
  });

  for (const label of LABELS) {
    it(`${label} Node: --version prints package.json's version, exit 0`, async () => {
      const runtime = runtimes.get(label)!;
      expect(await run(runtime.binary, [BIN, "--version"])).toEqual({
        code: 0,
        stdout: `${PACKAGE.version}\n`,
        stderr: "",
      });
      passed.set(label, (passed.get(label) ?? 0) + 1);
    });

    it(`${label} Node: plan --json prints the JSON alone, exit 0`, async () => {
      const runtime = runtimes.get(label)!;
      const { code, stdout, stderr } = await run(runtime.binary, [BIN, "plan", "--json"]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(JSON.parse(stdout)).toMatchObject({ itemsRead: expect.any(Number), findings: expect.any(Array) });
      passed.set(label, (passed.get(label) ?? 0) + 1);
    });
  }
});
