// `remedy plan` and undo's temporary exemptions: a finding an undo left as restored is shown as such, not as a
// would-be fix (offline from --undo-exemptions FILE, as `remedy exemptions --json` prints it; live from the ledger).
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CliDeps } from "../../cli/deps.ts";
import { runCli } from "../../cli/remedy.ts";
import { exemptionRecord } from "../undo/exemption-fixtures.ts";

const NOW = "2026-11-23T12:00:00Z";
const SSH_OPEN = {
  kind: "sg-rule" as const,
  rule: { direction: "ingress" as const, ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
};
/** The example snapshot's group open on tcp 22, undone two hours ago for a day. */
const record = exemptionRecord([SSH_OPEN], {
  resource: {
    accountId: "111122223333",
    region: "eu-west-1",
    type: "AWS::EC2::SecurityGroup",
    id: "sg-0ba5710000000002",
  },
  at: new Date("2026-11-23T10:00:00Z"),
  until: new Date("2026-11-24T10:00:00Z"),
  undoActionId: "act-20261123T100000Z-0000dddd",
  by: "arn:aws:sts::111122223333:assumed-role/Ops/bob\u202eevil",
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

function offlineDeps(): CliDeps {
  const noAws = () => {
    throw new Error("plan must not create an AWS client");
  };
  return {
    sqs: noAws,
    ssm: noAws,
    s3: noAws,
    ec2: noAws,
    eventBridge: noAws,
    now: () => new Date(NOW),
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
  const path = join(tmpdir(), `remedy-plan-undo-${process.pid}-${name}`);
  created.push(path);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

describe("remedy plan --undo-exemptions FILE (offline)", () => {
  it("shows the undone finding as left as restored, not as a would-be fix, with who and until when", async () => {
    const file = tempFile("ok.json", { active: [], records: [record] });
    const t = io();
    expect(await runCli(["plan", "--undo-exemptions", file], t.io, offlineDeps())).toBe(0);
    const text = t.out.join("");
    // The counts follow the example snapshot (every registered problem has items there): the undone finding is one
    // fix fewer than the plan without the file, in the same instructions (the group has other open rules).
    const plain = io();
    expect(await runCli(["plan"], plain.io, offlineDeps())).toBe(0);
    const counts = plain.out
      .join("")
      .match(
        /(\d+) fixes in (\d+) fix instructions \((\d+) due now, 0 in their grace period\); 2 findings exempt; (\d+) fixes held back\./,
      );
    expect(counts).not.toBeNull();
    const [fixes, instructions] = [Number(counts?.[1]), Number(counts?.[2])];
    expect(text).toContain(
      `${fixes - 1} fixes in ${instructions} fix instructions (${fixes - 1} due now, 0 in their grace period); 2 findings exempt; 1 finding left as restored by undo; ${counts?.[4]} fixes held back.`,
    );
    expect(text).not.toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22/);
    expect(text).toContain("Left as restored by undo (instructions are still queued;");
    expect(text).toMatch(
      /sg-0ba5710000000002\s+sg-open-ingress\s+tcp 22 from 0\.0\.0\.0\/0\s+undone by arn:aws:sts::111122223333:assumed-role\/Ops\/bob\\u202eevil at 2026-11-23T10:00:00\.000Z \(act-20261123T100000Z-0000dddd\): left as restored until 2026-11-24T10:00:00\.000Z/,
    );
    expect(text).not.toContain("\u202e");

    const json = io();
    expect(await runCli(["plan", "--undo-exemptions", file, "--json"], json.io, offlineDeps())).toBe(0);
    const report = JSON.parse(json.out.join(""));
    expect(report.findings.filter((finding: { status: string }) => finding.status === "undone")).toEqual([
      expect.objectContaining({
        resourceId: "sg-0ba5710000000002",
        action: "none (left as restored by undo act-20261123T100000Z-0000dddd until 2026-11-24T10:00:00.000Z)",
        instructionId: expect.any(String),
      }),
    ]);
    expect(report.undoExemptions.active).toHaveLength(1);
  });

  it("an exemption that has run out changes nothing", async () => {
    const file = tempFile("expired.json", [
      exemptionRecord([SSH_OPEN], {
        resource: record.resource,
        at: new Date("2026-11-20T10:00:00Z"),
        until: new Date("2026-11-21T10:00:00Z"),
      }),
    ]);
    const t = io();
    expect(await runCli(["plan", "--undo-exemptions", file], t.io, offlineDeps())).toBe(0);
    expect(t.out.join("")).toMatch(/sg-0ba5710000000002\s+sg-open-ingress\s+revoke ingress tcp 22 from 0\.0\.0\.0\/0/);
    expect(t.out.join("")).toContain("Left as restored by undo: none (1 entry ran out).");
  });

  it("a file that is not exemptions is bad input (exit 2), and --live takes none", async () => {
    const bad = io();
    const file = tempFile("bad.json", [{ ...record, entries: [] }]);
    expect(await runCli(["plan", "--undo-exemptions", file], bad.io, offlineDeps())).toBe(2);
    expect(bad.err.join("")).toContain("exemption 1: entries: must list at least one entry");
    const live = io();
    expect(await runCli(["plan", "--live", "--undo-exemptions", file], live.io, offlineDeps())).toBe(2);
  });
});
