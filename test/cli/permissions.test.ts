// The CLI declares the IAM action of every AWS command it can send (README "Operator permissions" lists them).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliPermissions } from "../../cli/permissions.ts";
import { commandsSent, ROOT } from "../helpers/source-scan.ts";

/** Commands in modules the CLI imports that it never sends, each reviewed. */
const NOT_SENT: Record<string, string> = {
  PublishCommand: "contract/report.ts: the CLI uses report types only, never snsReporter",
  GenerateMacCommand:
    "contract/ledger.ts: only the remediations sign (kmsRecordSigner); the CLI verifies, and undo's own records are unsigned",
};

describe("remedy CLI permissions", () => {
  const sent = commandsSent(join(ROOT, "cli"));

  it("declares every command the CLI can send, and nothing it does not send", () => {
    for (const command of Object.keys(NOT_SENT)) expect(sent.has(command), `stale NOT_SENT ${command}`).toBe(true);
    const undeclared = [...sent.keys()].filter((command) => !(command in cliPermissions) && !(command in NOT_SENT));
    expect(undeclared, "add these to cli/permissions.ts").toEqual([]);
    expect(Object.keys(cliPermissions).filter((command) => !sent.has(command))).toEqual([]);
  });

  it("the README lists every operator action", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Operator permissions"));
    for (const action of new Set(Object.values(cliPermissions))) expect(section).toContain(`\`${action}\``);
    expect(section).toContain("`ec2:CreateTags`");
  });
});

describe("remedy undo permissions", () => {
  it("verifies ledger records with kms:VerifyMac and can never sign one (no kms:GenerateMac)", () => {
    expect(cliPermissions.VerifyMacCommand).toBe("kms:VerifyMac");
    expect(Object.values(cliPermissions)).not.toContain("kms:GenerateMac");
  });
});
