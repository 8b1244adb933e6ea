// `remedy plan`: offline, on the shipped example snapshot, on snapshots with malformed items, gzip-compressed
// snapshots, settings errors, --strict, auto-response and the terminal (in process; bin: plan-bin.test.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { RULE_IDS } from "../../problems/index.ts";

const SNAPSHOT = new URL("../../examples/config-snapshot.json", import.meta.url);

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

/** Plan touches no AWS client: every client factory throws. */
function offlineDeps(now = "2026-11-23T12:00:00Z"): CliDeps {
  const noAws = () => {
    throw new Error("plan must not create an AWS client");
  };
  return {
    sqs: noAws,
    ssm: noAws,
    s3: noAws,
    ec2: noAws,
    eventBridge: noAws,
    now: () => new Date(now),
    user: () => "alice",
    confirm: async () => false,
    env: {},
  } as unknown as CliDeps;
}

const created: string[] = [];
afterAll(() => {
  for (const path of created) rmSync(path, { recursive: true, force: true });
});

function tempFile(name: string, content: unknown): string {
  const path = join(tmpdir(), `remedy-plan-${process.pid}-${name}`);
  created.push(path);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("remedy plan on the shipped example", () => {
  it("names every would-be action, what is exempt and until when, and exits 0", async () => {
    const { out, io: cliIo } = io();
    expect(await runCli(["plan"], cliIo, offlineDeps())).toBe(0);
    const text = out.join("");
    expect(text).toContain("Judged 17 resources from 18 configuration items: 11 non-compliant, 6 compliant.");
    expect(text).toContain(
      "11 fixes in 10 fix instructions (11 due now, 0 in their grace period); 2 findings exempt; 2 fixes held back.",
    );
    for (const line of [
      /sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22 from 0\.0\.0\.0\/0\s+when enabled/,
      /sg-0deb060000000004\s+sg-open-ingress\s+revoke ingress all traffic from ::\/0/,
      /sg-0a1de00000000006\s+sg-open-ingress\s+revoke ingress tcp 8443 from 52\.0\.0\.0\/6/,
      /sg-0defa170000000007\s+sg-default-rules\s+revoke ingress all traffic from 111122223333\/sg-0defa170000000007\s/,
      /sg-0defa170000000007\s+sg-default-rules\s+revoke egress all traffic to 0\.0\.0\.0\/0\s/,
      /acme-public-assets\s+s3-public-acl\s+remove ACL grant AllUsers READ\s/,
      /acme-partner-drop\s+s3-public-acl\s+remove ACL grant AuthenticatedUsers WRITE/,
      /acme-partner-drop\s+s3-public-acl\s+remove ACL grant AllUsers READ_ACP/,
      /acme-ml-datasets\s+s3-public-policy\s+remove policy statement Sid AnyoneCanList/,
      // The account's flags wait while a bucket is public on purpose (the fix would skip them, naming it).
      /111122223333\s+s3-account-public-access\s+turn on Block Public Access IgnorePublicAcls for the account\s+held back while a bucket of the account is public on purpose: acme-public-assets\n/,
      /111122223333\s+s3-account-public-access\s+turn on Block Public Access RestrictPublicBuckets for the account\s+held back while a bucket of the account is public on purpose: acme-public-assets\n/,
      /acme-orders-nightly-2026-11-19\s+rds-snapshot-public\s+remove restore access for every AWS account \("all"\)\s/,
      /acme-ledger-pre-migration\s+rds-cluster-snapshot-public\s+remove restore access for every AWS account \("all"\)\s/,
      /sg-0feed0000000003\s+sg-open-ingress\s+tcp 3389 from 0\.0\.0\.0\/0\s+tag until 2027-03-31: vendor remote support/,
      /acme-public-assets\s+s3-public-policy\s+Sid PublicRead .*allowlist until 2027-06-30: static website/,
    ]) {
      expect(text).toMatch(line);
    }
    // Compliant and neutralised resources are not actions.
    expect(text).not.toMatch(/acme-audit-logs|acme-reports-vpce|acme-old-site|acme-orders-for-analytics/);
  });

  it("holds the account's Block Public Access fixes back only while a bucket of the account is public on purpose", async () => {
    const settings = JSON.parse(readFileSync(new URL("../../examples/settings.json", import.meta.url), "utf8"));
    const plan = async (file?: string) => {
      const { out, io: cliIo } = io();
      expect(await runCli(["plan", ...(file ? ["--settings", file] : []), "--json"], cliIo, offlineDeps())).toBe(0);
      const report = JSON.parse(out.join(""));
      return report.findings.filter((f: { problem: string }) => f.problem === "s3-account-public-access");
    };
    const held = await plan();
    expect(held.map((f: { status: string; heldBack: string }) => [f.status, f.heldBack])).toEqual([
      ["held", "held back while a bucket of the account is public on purpose: acme-public-assets"],
      ["held", "held back while a bucket of the account is public on purpose: acme-public-assets"],
    ]);
    // Without the allowlist entry nothing is public on purpose: every public bucket is fixed, the account flags too.
    const due = await plan(tempFile("no-allowlist.json", { ...settings, allowlist: [] }));
    expect(due.map((f: { status: string; heldBack?: string }) => [f.status, f.heldBack])).toEqual([
      ["due", undefined],
      ["due", undefined],
    ]);
  });

  it("--json gives the exact instructions the deployed rule would queue", async () => {
    const { out, io: cliIo } = io();
    await runCli(["plan", "--json"], cliIo, offlineDeps());
    const result = JSON.parse(out.join(""));
    expect(result.instructions).toHaveLength(10);
    const partnerDrop = result.instructions.find(
      (instruction: { resource: { id: string } }) => instruction.resource.id === "acme-partner-drop",
    );
    expect(partnerDrop).toMatchObject({
      problem: "s3-public-acl",
      matched: [{ kind: "acl-grant" }, { kind: "acl-grant" }],
    });
    expect(result.malformed).toEqual([]);
  });

  it("shows the grace period when the snapshot is recent", async () => {
    const snapshot = JSON.parse(readFileSync(SNAPSHOT, "utf8"));
    for (const item of snapshot.configurationItems) item.configurationItemCaptureTime = "2026-11-23T11:30:00.000Z";
    const { out, io: cliIo } = io();
    await runCli(
      [
        "plan",
        "--snapshot",
        tempFile("recent.json", snapshot),
        "--settings",
        new URL("../../examples/settings.json", import.meta.url).pathname,
      ],
      cliIo,
      offlineDeps(),
    );
    expect(out.join("")).toContain("(0 due now, 11 in their grace period)");
    expect(out.join("")).toMatch(/after 2026-11-23 12:30 UTC/);
  });
});

describe("remedy plan on bad input", () => {
  it("reports malformed items with their reason and still judges the good ones", async () => {
    const snapshot = JSON.parse(readFileSync(SNAPSHOT, "utf8"));
    const items = snapshot.configurationItems;
    // The bad items go after the example's: their indexes follow its.
    const example = items.length;
    const at = (offset: number) => example + offset;
    items.push(
      {
        ...items.find((item: { resourceType: string }) => item.resourceType === "AWS::S3::Bucket"),
        resourceId: "broken-acl",
        supplementaryConfiguration: { AccessControlList: "{oops" },
      },
      { resourceType: "AWS::EC2::SecurityGroup" },
      "not an item",
    );
    const { out, io: cliIo } = io();
    expect(await runCli(["plan", "--snapshot", tempFile("malformed.json", snapshot)], cliIo, offlineDeps())).toBe(0);
    const text = out.join("");
    expect(text).toContain("Could not judge 3 configuration items:");
    expect(text).toContain(
      `item ${at(0)} (broken-acl): InvalidConfigItemError: supplementaryConfiguration.AccessControlList is not valid JSON`,
    );
    expect(text).toContain(`item ${at(1)}: InvalidConfigItemError: configuration item has no resourceId`);
    expect(text).toContain(`item ${at(2)}: InvalidConfigItemError: configuration item is not an object`);
    expect(text).toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22/);
  });

  it("a file that is not a snapshot is one clear sentence and a usage exit code", async () => {
    const { err, io: cliIo } = io();
    expect(
      await runCli(["plan", "--snapshot", tempFile("not-snapshot.json", { hello: 1 })], cliIo, offlineDeps()),
    ).toBe(2);
    expect(err.join("")).toMatch(/is not an AWS Config snapshot: it has no configurationItems list\n$/);
    const missing = io();
    expect(await runCli(["plan", "--snapshot", "/nonexistent/snapshot.json"], missing.io, offlineDeps())).toBe(2);
    expect(missing.err.join("")).toMatch(/cannot read snapshot \/nonexistent\/snapshot\.json: ENOENT/);
  });

  it("names a bad settings file's problem", async () => {
    const settings = tempFile("settings.json", { rules: { "sg-open-ingress": { authorizedPorts: "tcp:99999" } } });
    const { err, io: cliIo } = io();
    expect(await runCli(["plan", "--settings", settings], cliIo, offlineDeps())).not.toBe(0);
    expect(err.join("")).toMatch(/authorizedPorts/);
  });
});

describe("remedy plan with the account's Block Public Access", () => {
  it("judges buckets with the account-level setting the settings file gives, as the rule and the fix do", async () => {
    const settings = JSON.parse(readFileSync(new URL("../../examples/settings.json", import.meta.url), "utf8"));
    const path = tempFile("account-bpa.json", { ...settings, accountPublicAccessBlock: { IgnorePublicAcls: true } });
    const { out, io: cliIo } = io();
    expect(
      await runCli(["plan", "--snapshot", SNAPSHOT.pathname, "--settings", path, "--json"], cliIo, offlineDeps()),
    ).toBe(0);
    const result = JSON.parse(out.join(""));
    const problems = result.findings.map((finding: { problem: string }) => finding.problem);
    // Every public ACL is neutralised by the account; the public policy is not.
    expect(problems).not.toContain("s3-public-acl");
    expect(problems).toContain("s3-public-policy");
  });

  it("the block-public-access strategy names exactly the flags it turns on", async () => {
    const path = tempFile("bpa-strategy.json", { s3FixStrategy: "block-public-access" });
    const { out, io: cliIo } = io();
    expect(await runCli(["plan", "--snapshot", SNAPSHOT.pathname, "--settings", path], cliIo, offlineDeps())).toBe(0);
    const text = out.join("");
    expect(text).toMatch(/s3-public-acl\s+turn on Block Public Access IgnorePublicAcls \+ BlockPublicAcls\s/);
    expect(text).toMatch(/s3-public-policy\s+turn on Block Public Access RestrictPublicBuckets \+ BlockPublicPolicy\s/);
  });

  it("rejects an account setting that is not Block Public Access flags, naming the field", async () => {
    const path = tempFile("bad-account-bpa.json", { accountPublicAccessBlock: { IgnorePublicAcl: true } });
    const { err, io: cliIo } = io();
    expect(await runCli(["plan", "--settings", path], cliIo, offlineDeps())).toBe(2);
    expect(err.join("")).toMatch(/accountPublicAccessBlock/);
  });
});

/** A directory the "user" runs from (INIT_CWD: npm run runs in the package root, the test's cwd). */
function callerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "remedy-plan-caller-"));
  created.push(dir);
  return dir;
}

function deps(env: Record<string, string>, now?: string): CliDeps {
  return { ...offlineDeps(now), env };
}

const EXAMPLE_ITEMS: Record<string, unknown>[] = JSON.parse(readFileSync(SNAPSHOT, "utf8")).configurationItems;
const itemOf = (id: string) => structuredClone(EXAMPLE_ITEMS.find((item) => item.resourceId === id)!);

describe("remedy plan reads snapshots as AWS Config delivers them", () => {
  it("a .json.gz snapshot is gunzipped (gzip recognised by its first bytes, whatever the name)", async () => {
    const dir = callerDir();
    const text = readFileSync(SNAPSHOT, "utf8");
    writeFileSync(join(dir, "snapshot.json.gz"), gzipSync(text));
    writeFileSync(join(dir, "named-like-json.json"), gzipSync(text));
    const plain = io();
    await runCli(["plan", "--snapshot", SNAPSHOT.pathname, "--json"], plain.io, offlineDeps());
    for (const name of ["snapshot.json.gz", "named-like-json.json"]) {
      const zipped = io();
      expect(await runCli(["plan", "--snapshot", name, "--json"], zipped.io, deps({ INIT_CWD: dir }))).toBe(0);
      const { snapshot, ...rest } = JSON.parse(zipped.out.join(""));
      expect(snapshot).toBe(name);
      const { snapshot: _, ...expected } = JSON.parse(plain.out.join(""));
      expect(rest).toEqual(expected);
    }
  });

  it("a corrupt gzip file is one clear usage error", async () => {
    const dir = callerDir();
    writeFileSync(join(dir, "cut.json.gz"), gzipSync(readFileSync(SNAPSHOT)).subarray(0, 200));
    const { out, err, io: cliIo } = io();
    expect(await runCli(["plan", "--snapshot", "cut.json.gz"], cliIo, deps({ INIT_CWD: dir }))).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("")).toBe(
      "remedy plan: cut.json.gz is gzip-compressed but cannot be decompressed (unexpected end of file)\n",
    );
  });

  it("paths are the caller's: --snapshot and --settings resolve from INIT_CWD, and are shown as typed", async () => {
    const dir = callerDir();
    mkdirSync(join(dir, "data"));
    writeFileSync(
      join(dir, "data", "snap.json"),
      JSON.stringify({ configurationItems: [itemOf("sg-0ba5710000000002")] }),
    );
    writeFileSync(join(dir, "mine.json"), JSON.stringify({ gracePeriodMinutes: 5 }));
    const { out, io: cliIo } = io();
    const code = await runCli(
      ["plan", "--snapshot", "data/snap.json", "--settings", "mine.json"],
      cliIo,
      deps({ INIT_CWD: dir }),
    );
    expect(code).toBe(0);
    expect(out.join("")).toMatch(/^Remedy plan \(offline[^\n]*\nsnapshot: data\/snap\.json\nsettings: mine\.json\n/);
    const missing = io();
    expect(await runCli(["plan", "--snapshot", "data/none.json"], missing.io, deps({ INIT_CWD: dir }))).toBe(2);
    expect(missing.err.join("")).toBe("remedy plan: cannot read snapshot data/none.json: ENOENT\n");
  });
});

describe("remedy plan's counts", () => {
  it("says 1 resource, 1 configuration item, 1 fix, 1 fix instruction, 1 finding", async () => {
    const dir = callerDir();
    const exempt = itemOf("sg-0feed0000000003");
    writeFileSync(join(dir, "one.json"), JSON.stringify({ configurationItems: [itemOf("sg-0ba5710000000002")] }));
    writeFileSync(join(dir, "exempt.json"), JSON.stringify({ configurationItems: [exempt, { not: "an item" }] }));
    const one = io();
    await runCli(["plan", "--snapshot", "one.json"], one.io, deps({ INIT_CWD: dir }));
    expect(one.out.join("")).toContain(
      "Judged 1 resource from 1 configuration item: 1 non-compliant, 0 compliant.\n" +
        "1 fix in 1 fix instruction (1 due now, 0 in their grace period); 0 findings exempt.\n",
    );
    const other = io();
    await runCli(["plan", "--snapshot", "exempt.json"], other.io, deps({ INIT_CWD: dir }));
    expect(other.out.join("")).toContain("Judged 1 resource from 2 configuration items");
    expect(other.out.join("")).toContain(
      "0 fixes in 0 fix instructions (0 due now, 0 in their grace period); 1 finding exempt.",
    );
    expect(other.out.join("")).toContain("Could not judge 1 configuration item:\n");
  });
});

describe("remedy plan --strict", () => {
  function withProblems(dir: string) {
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ configurationItems: [itemOf("sg-0ba5710000000002"), 42] }));
    writeFileSync(
      join(dir, "settings.json"),
      JSON.stringify({ allowlist: [{ resource: "sg-*", problems: ["*"], reason: "x", owner: "me" }] }),
    );
  }

  it("exits 1 when items could not be judged or settings entries were ignored, saying which on stderr", async () => {
    const dir = callerDir();
    withProblems(dir);
    const strict = io();
    const args = ["plan", "--snapshot", "bad.json", "--settings", "settings.json"];
    expect(await runCli([...args, "--strict"], strict.io, deps({ INIT_CWD: dir }))).toBe(1);
    expect(strict.err.join("")).toBe(
      "remedy plan: --strict: 1 configuration item could not be judged, 1 allowlist entry ignored\n",
    );
    expect(strict.out.join("")).toContain(
      "Ignored 1 allowlist entry (they exempt nothing until fixed):\n  allowlist[0].expires: is required",
    );
    // The same plan without --strict: exit 0, nothing on stderr, even with findings.
    const lenient = io();
    expect(await runCli(args, lenient.io, deps({ INIT_CWD: dir }))).toBe(0);
    expect(lenient.err).toEqual([]);
    expect(lenient.out.join("")).toBe(strict.out.join(""));
  });

  it("exits 0 with --strict when everything was judged, findings or not", async () => {
    expect(await runCli(["plan", "--strict"], io().io, offlineDeps())).toBe(0);
  });
});

describe("remedy plan's settings errors are one plain sentence, exit 2", () => {
  it.each([
    [{ gracePeriodMinutes: "5" }, 'gracePeriodMinutes must be a whole number of minutes from 0 to 43200 (it is "5")'],
    [{ gracePeriodMinutes: 1.5 }, "gracePeriodMinutes must be a whole number of minutes from 0 to 43200 (it is 1.5)"],
    [
      { gracePeriodMinutes: 50_000 },
      "gracePeriodMinutes must be a whole number of minutes from 0 to 43200 (it is 50000)",
    ],
    [
      { gracePeriod: 5 },
      '"gracePeriod" is not a setting (the settings are rules, gracePeriodMinutes, s3FixStrategy, enableAutoResponse, allowlist, accountPublicAccessBlock)',
    ],
    [{ s3FixStrategy: "delete" }, 's3FixStrategy must be "surgical" or "block-public-access" (it is "delete")'],
    [{ enableAutoResponse: "yes" }, 'enableAutoResponse must be true or false (it is "yes")'],
    [{ allowlist: {} }, "allowlist must be a list of allowlist entries (it is {})"],
    [{ rules: { "sg-open": {} } }, `rules: "sg-open" is not a Remedy rule (the rules are ${RULE_IDS.join(", ")})`],
    [
      { rules: { "sg-open-ingress": { authorizedPort: "tcp:443" } } },
      'rule sg-open-ingress has no parameter "authorizedPort" (expected one of authorizedPorts, prohibitedPorts, ipv4MinPrefix, ipv6MinPrefix)',
    ],
    [
      { rules: { "sg-open-ingress": { authorizedPorts: "tcp:99999" } } },
      'rule sg-open-ingress\'s parameter authorizedPorts is not valid (port out of range 0-65535: "tcp:99999" in "tcp:99999")',
    ],
    [
      { rules: { "sg-open-ingress": { ipv4MinPrefix: "eight" } } },
      'rule sg-open-ingress\'s parameter ipv4MinPrefix must be an integer prefix length 0-32, got "eight"',
    ],
    [{ rules: { "s3-public": { strict: "true" } } }, 'rule s3-public has no parameter "strict" (this rule takes none)'],
    [
      { accountPublicAccessBlock: { IgnorePublicAcl: true } },
      'accountPublicAccessBlock: "IgnorePublicAcl" is not a Block Public Access flag (the flags are BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets)',
    ],
    [
      { accountPublicAccessBlock: { IgnorePublicAcls: "true" } },
      'accountPublicAccessBlock.IgnorePublicAcls must be true or false (it is "true")',
    ],
  ])("%j", async (settings, sentence) => {
    const dir = callerDir();
    writeFileSync(join(dir, "settings.json"), JSON.stringify(settings));
    const { out, err, io: cliIo } = io();
    expect(await runCli(["plan", "--settings", "settings.json"], cliIo, deps({ INIT_CWD: dir }))).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("")).toBe(`remedy plan: settings.json: ${sentence}\n`);
    expect(sentence).not.toMatch(/Invalid (type|key)|Expected|received/);
  });

  it("takes the account setting as aws s3control get-public-access-block prints it", async () => {
    const dir = callerDir();
    writeFileSync(
      join(dir, "settings.json"),
      JSON.stringify({ accountPublicAccessBlock: { PublicAccessBlockConfiguration: { IgnorePublicAcls: true } } }),
    );
    const { out, io: cliIo } = io();
    expect(
      await runCli(
        ["plan", "--snapshot", SNAPSHOT.pathname, "--settings", "settings.json"],
        cliIo,
        deps({ INIT_CWD: dir }),
      ),
    ).toBe(0);
    expect(out.join("")).toContain("account Block Public Access: IgnorePublicAcls on (settings)\n");
    expect(out.join("")).not.toContain("s3-public-acl");
  });
});

describe("remedy plan and auto-response", () => {
  it('off (the default, as deployed): the WHEN column says "when enabled" and the heading says it is off', async () => {
    const { out, io: cliIo } = io();
    await runCli(["plan"], cliIo, offlineDeps());
    const text = out.join("");
    expect(text).toContain("auto-response: off (settings: enableAutoResponse is false)\n");
    expect(text).toContain("Would-be actions (auto-response is off: nothing is changed until it is enabled):");
    expect(text).not.toContain("next tick");
  });

  it('on (enableAutoResponse: true): "next tick", and a grace period says when', async () => {
    const dir = callerDir();
    const recent = itemOf("sg-0deb060000000004");
    recent.configurationItemCaptureTime = "2026-11-23T11:30:00.000Z";
    writeFileSync(
      join(dir, "snap.json"),
      JSON.stringify({ configurationItems: [itemOf("sg-0ba5710000000002"), recent] }),
    );
    writeFileSync(join(dir, "on.json"), JSON.stringify({ enableAutoResponse: true, gracePeriodMinutes: 60 }));
    const { out, io: cliIo } = io();
    await runCli(["plan", "--snapshot", "snap.json", "--settings", "on.json"], cliIo, deps({ INIT_CWD: dir }));
    const text = out.join("");
    expect(text).toContain("auto-response: on (settings: enableAutoResponse is true)\n");
    expect(text).toContain(
      "Would-be actions (auto-response is on: due fixes are made at the coordinator's next tick):",
    );
    expect(text).toMatch(/sg-0ba5710000000002 .* next tick /);
    expect(text).toMatch(/sg-0deb060000000004 .* after 2026-11-23 12:30 UTC /);
    expect(text).not.toContain("when enabled");
    const off = io();
    writeFileSync(join(dir, "off.json"), JSON.stringify({ gracePeriodMinutes: 60 }));
    await runCli(["plan", "--snapshot", "snap.json", "--settings", "off.json"], off.io, deps({ INIT_CWD: dir }));
    expect(off.out.join("")).toMatch(/sg-0deb060000000004 .* when enabled, after 2026-11-23 12:30 UTC /);
    expect(off.out.join("")).toMatch(/sg-0ba5710000000002 .* when enabled /);
  });
});

describe("remedy plan on a terminal", () => {
  it("fits its tables to io.columns; without (a pipe) they are whole; --json always has everything", async () => {
    const narrow = io();
    await runCli(["plan"], { ...narrow.io, columns: 100 }, offlineDeps());
    const lines = narrow.out.join("").split("\n");
    const tableLines = lines.filter((line) => /^(sg-|acme-|RESOURCE|---)/.test(line));
    expect(tableLines.length).toBeGreaterThan(10);
    for (const line of tableLines) expect(line.length).toBeLessThanOrEqual(100);
    expect(narrow.out.join("")).toContain("…");
    const whole = io();
    await runCli(["plan"], whole.io, offlineDeps());
    expect(whole.out.join("")).toContain(
      "allowlist until 2027-06-30: static website behind CloudFront; ACL still to be fixed",
    );
    expect(whole.out.join("")).not.toContain("…");
  });

  it("writes throttled progress to stderr while judging a big snapshot, only when interactive", async () => {
    const dir = callerDir();
    const base = itemOf("sg-0a11ce5web0000001");
    const items = Array.from({ length: 50 }, (_, index) => ({ ...base, resourceId: `sg-${index}` }));
    writeFileSync(join(dir, "big.json"), JSON.stringify({ configurationItems: items }));
    // A clock that moves 300 ms per reading: a line at most every 1000 ms, never in the first second.
    let clock = 0;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => (clock += 300));
    try {
      const tty = io();
      await runCli(
        ["plan", "--snapshot", "big.json", "--json"],
        { ...tty.io, interactive: true },
        deps({ INIT_CWD: dir }),
      );
      expect(JSON.parse(tty.out.join("")).itemsRead).toBe(50);
      expect(tty.err.length).toBeGreaterThanOrEqual(10);
      expect(tty.err.length).toBeLessThanOrEqual(17);
      for (const line of tty.err) expect(line).toMatch(/^remedy plan: judging \d+ of 50 items…\n$/);
      const pipe = io();
      await runCli(["plan", "--snapshot", "big.json"], { ...pipe.io, interactive: false }, deps({ INIT_CWD: dir }));
      expect(pipe.err).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("the README's sample output", () => {
  it("is what npm start prints (remedy plan on the example)", async () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const after = readme.slice(readme.indexOf("`npm start` runs `remedy plan`"));
    const sample = /```\n([\s\S]*?)```/.exec(after)![1];
    const { out, io: cliIo } = io();
    await runCli(["plan"], cliIo, offlineDeps());
    expect(out.join("")).toBe(sample);
  });
});
