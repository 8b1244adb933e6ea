// `remedy plan` as users run it: the real entry (cli/remedy.ts's main, what bin/remedy.js calls, with the process's
// own dependencies), from the repo root as npm run does (the caller's directory in INIT_CWD), with no AWS
// credentials; stdout, stderr (pipes, no terminal) and the exit code, in this process (test/helpers/remedy-process.ts;
// the real process: bin.test.ts, node-versions.test.ts). (With test dependencies: plan.test.ts; --live against moto:
// plan-moto.test.ts.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { remedyInProcess } from "../helpers/remedy-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** No AWS setting at all (nor shared files, nor instance metadata), as on a fresh machine. */
const ENV = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_"))),
  AWS_CONFIG_FILE: join(ROOT, "no-such-aws-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(ROOT, "no-such-aws-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

let caller: string;
beforeAll(() => {
  caller = mkdtempSync(join(tmpdir(), "remedy-plan-bin-"));
  const items: Record<string, unknown>[] = JSON.parse(
    readFileSync(join(ROOT, "examples/config-snapshot.json"), "utf8"),
  ).configurationItems;
  const ssh = items.find((item) => item.resourceId === "sg-0ba5710000000002")!;
  // As Config delivers it: gzip-compressed JSON.
  writeFileSync(join(caller, "one.json.gz"), gzipSync(JSON.stringify({ configurationItems: [ssh] })));
  writeFileSync(join(caller, "with-bad-item.json"), JSON.stringify({ configurationItems: [ssh, { resourceType: 7 }] }));
  writeFileSync(join(caller, "bad-settings.json"), JSON.stringify({ gracePeriodMinutes: "5" }));
  writeFileSync(join(caller, "on.json"), JSON.stringify({ enableAutoResponse: true }));
  // Big enough that judging takes more than the first second, when a terminal would get progress lines.
  const web = { ...ssh, configuration: { ...(ssh.configuration as object), ipPermissions: [] } };
  writeFileSync(
    join(caller, "big.json"),
    JSON.stringify({
      configurationItems: Array.from({ length: 25_000 }, (_, index) =>
        index === 0 ? ssh : { ...web, resourceId: `sg-${index}` },
      ),
    }),
  );
});
afterAll(() => rmSync(caller, { recursive: true, force: true }));

async function remedy(...args: string[]): Promise<Ran> {
  // npm run / npm start: the package root is the working directory, the user's directory is INIT_CWD.
  const { code, stdout, stderr } = await remedyInProcess(args, { cwd: ROOT, env: { ...ENV, INIT_CWD: caller } });
  return { code, stdout, stderr };
}

describe.concurrent("remedy plan (main, the entry bin/remedy.js runs)", { timeout: 90_000 }, () => {
  it("a .json.gz snapshot given relative to the caller's directory: 1 resource, when enabled, exit 0", async () => {
    const { code, stdout, stderr } = await remedy("plan", "--snapshot", "one.json.gz");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain(
      "\nsnapshot: one.json.gz\nsettings: (defaults)\nauto-response: off (settings: enableAutoResponse is false)\n",
    );
    expect(stdout).toContain("\nJudged 1 resource from 1 configuration item: 1 non-compliant, 0 compliant.\n");
    expect(stdout).toContain("\n1 fix in 1 fix instruction (1 due now, 0 in their grace period); 0 findings exempt.\n");
    expect(stdout).toMatch(
      /\nsg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22 from 0\.0\.0\.0\/0\s+when enabled\s/,
    );
  });

  it("--strict exits 1 when an item could not be judged, saying why on stderr; without it, 0", async () => {
    const [strict, lenient] = await Promise.all([
      remedy("plan", "--snapshot", "with-bad-item.json", "--strict", "--json"),
      remedy("plan", "--snapshot", "with-bad-item.json", "--json"),
    ]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toBe("remedy plan: --strict: 1 configuration item could not be judged\n");
    expect(JSON.parse(strict.stdout).malformed).toHaveLength(1);
    expect({ code: lenient.code, stderr: lenient.stderr }).toEqual({ code: 0, stderr: "" });
    // The same plan either way (detectedAt aside: each run is its own now).
    const { instructions: _, ...plan } = JSON.parse(strict.stdout);
    expect(JSON.parse(lenient.stdout)).toMatchObject(plan);
  });

  it("a settings error is one plain sentence on stderr, nothing on stdout, exit 2", async () => {
    expect(await remedy("plan", "--settings", "bad-settings.json")).toEqual({
      code: 2,
      stdout: "",
      stderr:
        'remedy plan: bad-settings.json: gracePeriodMinutes must be a whole number of minutes from 0 to 43200 (it is "5")\n',
    });
  });

  it('a big snapshot in a pipe: no progress on stderr; with enableAutoResponse, "next tick"', async () => {
    const { code, stdout, stderr } = await remedy("plan", "--snapshot", "big.json", "--settings", "on.json");
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("\nauto-response: on (settings: enableAutoResponse is true)\n");
    expect(stdout).toContain(
      "Would-be actions (auto-response is on: due fixes are made at the coordinator's next tick):",
    );
    expect(stdout).toMatch(
      /\nsg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22 from 0\.0\.0\.0\/0\s+next tick\s/,
    );
    expect(stdout).toContain("Judged 25000 resources from 25000 configuration items");
  });

  it("--live without credentials: the SDK's error explained in one sentence, exit 1", async () => {
    expect(await remedy("plan", "--live", "--region", "eu-west-1")).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "remedy plan: No AWS credentials found: set AWS_PROFILE (or run `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.\n",
    });
  });
});
