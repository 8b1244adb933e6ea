// The CLI declares the IAM action of every AWS command it can send (README "Operator permissions" lists them): its
// own, and those of the undos it loads by registry (problems/<folder>/undo.ts, a dynamic import the scan of relative
// imports does not follow, so they are added here from the registry).
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { cliImpliedActions, cliPermissions } from "../../cli/permissions.ts";
import { RESOURCES } from "../../problems/index.ts";
import { LISTED_RESOURCES } from "../../problems/inventory.ts";
import { commandsIn, ROOT, reachableFrom, tsFiles } from "../helpers/source-scan.ts";

/** Commands in modules the CLI imports that it never sends, each reviewed. */
const NOT_SENT: Record<string, string> = {
  GenerateMacCommand:
    "contract/ledger.ts: only the remediations sign (kmsRecordSigner); the CLI verifies, and undo's own records are unsigned",
  ListAccountsCommand:
    "platform/organization.ts: the CLI only parses an organisation stack's settings (parseOrganizationSettings); it never reads the organisation",
  ListParentsCommand: "platform/organization.ts: as ListAccountsCommand",
};

/**
 * Every command the CLI's code sends: cli/ and all it imports, with every registered resource type's undo and (plan
 * --live) every type's inventory (cli/inventories.ts): both loaded from the registry by dynamic imports.
 */
function commandsSentByCli(): Map<string, string[]> {
  const undos = RESOURCES.map((resource) => join(ROOT, "problems", resource.folder, "undo.ts"));
  const inventories = LISTED_RESOURCES.map((resource) => join(ROOT, "problems", resource.folder, "inventory.ts"));
  const sent = new Map<string, string[]>();
  for (const file of reachableFrom([...tsFiles(join(ROOT, "cli")), ...undos, ...inventories])) {
    for (const command of commandsIn(readFileSync(file, "utf8"))) {
      sent.set(command, [...(sent.get(command) ?? []), relative(ROOT, file)]);
    }
  }
  return sent;
}

describe("remedy CLI permissions", () => {
  const sent = commandsSentByCli();

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
    for (const action of cliImpliedActions) expect(section).toContain(`\`${action}\``);
    expect(section).toContain("`ec2:CreateTags`");
  });
});

describe("remedy undo permissions", () => {
  it("verifies ledger records with kms:VerifyMac and can never sign one (no kms:GenerateMac)", () => {
    expect(cliPermissions.VerifyMacCommand).toBe("kms:VerifyMac");
    expect(Object.values(cliPermissions)).not.toContain("kms:GenerateMac");
  });
});
