// `remedy plan`: offline, on the shipped example snapshot and on snapshots with malformed items.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";

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
  for (const path of created) rmSync(path, { force: true });
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
    expect(text).toContain("Judged 12 resources from 13 configuration items: 7 non-compliant, 5 compliant.");
    expect(text).toContain("7 fixes in 6 fix instructions (7 due now, 0 in their grace period); 2 findings exempt.");
    for (const line of [
      /sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22 from 0\.0\.0\.0\/0\s+next tick/,
      /sg-0deb060000000004\s+sg-open-ingress\s+revoke ingress all traffic from ::\/0/,
      /sg-0a1de00000000006\s+sg-open-ingress\s+revoke ingress tcp 8443 from 52\.0\.0\.0\/6/,
      /acme-public-assets\s+s3-public-acl\s+remove ACL grant AllUsers READ\s/,
      /acme-partner-drop\s+s3-public-acl\s+remove ACL grant AuthenticatedUsers WRITE/,
      /acme-partner-drop\s+s3-public-acl\s+remove ACL grant AllUsers READ_ACP/,
      /acme-ml-datasets\s+s3-public-policy\s+remove policy statement Sid AnyoneCanList/,
      /sg-0feed0000000003\s+sg-open-ingress\s+tcp 3389 from 0\.0\.0\.0\/0\s+tag until 2027-03-31: vendor remote support/,
      /acme-public-assets\s+s3-public-policy\s+Sid PublicRead .*allowlist until 2027-06-30: static website/,
    ]) {
      expect(text).toMatch(line);
    }
    // Compliant and neutralised resources are not actions.
    expect(text).not.toMatch(/acme-audit-logs|acme-reports-vpce|acme-old-site/);
  });

  it("--json gives the exact instructions the deployed rule would queue", async () => {
    const { out, io: cliIo } = io();
    await runCli(["plan", "--json"], cliIo, offlineDeps());
    const result = JSON.parse(out.join(""));
    expect(result.instructions).toHaveLength(6);
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
    expect(out.join("")).toContain("(0 due now, 7 in their grace period)");
    expect(out.join("")).toMatch(/after 2026-11-23 12:30 UTC/);
  });
});

describe("remedy plan on bad input", () => {
  it("reports malformed items with their reason and still judges the good ones", async () => {
    const snapshot = JSON.parse(readFileSync(SNAPSHOT, "utf8"));
    const items = snapshot.configurationItems;
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
    expect(text).toContain("Could not judge 3 configuration item(s):");
    expect(text).toMatch(
      /item 13 \(broken-acl\): InvalidConfigItemError: supplementaryConfiguration\.AccessControlList is not valid JSON/,
    );
    expect(text).toMatch(/item 14: InvalidConfigItemError: configuration item has no resourceId/);
    expect(text).toMatch(/item 15: InvalidConfigItemError: configuration item is not an object/);
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
