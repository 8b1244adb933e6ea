// Every AWS command the notifier's code sends is declared in permissions.ts, and nothing more.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { notifierPermissions } from "../../functions/notifier/permissions.ts";
import { declaredActions } from "../../platform/permissions.ts";

const dir = fileURLToPath(new URL("../../functions/notifier/", import.meta.url));

function commandsSent(): string[] {
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith(".ts"))) {
    for (const match of readFileSync(`${dir}${file}`, "utf8").matchAll(/new (\w+Command)\(/g)) names.add(match[1]!);
  }
  return [...names].sort();
}

describe("notifier permissions", () => {
  it("declares exactly the commands the code sends", () => {
    expect(commandsSent()).toEqual(Object.keys(notifierPermissions).sort());
  });

  it("maps them to these IAM actions", () => {
    expect(declaredActions(notifierPermissions)).toEqual([
      "cloudtrail:LookupEvents",
      "secretsmanager:GetSecretValue",
      "ssm:GetParameter",
    ]);
  });
});
