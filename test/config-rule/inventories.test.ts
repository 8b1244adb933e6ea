// The listers of the types Config does not record (functions/config-rule/inventories.ts): one per such registered
// type, each from that type's folder, sending only commands its resource spec's `reads` declare (what the rule
// function, the member detect role and plan --live's operators are granted for it).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { INVENTORY_MODULES, inventoryModuleFor } from "../../functions/config-rule/inventories.ts";
import { configRuleMemberCommands, configRulePermissions } from "../../functions/config-rule/permissions.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import { grantsFor, type PolicyRefs } from "../../infra/iam.ts";
import { memberRolesModel } from "../../infra/member-roles.ts";
import { parseOrganizationSettings } from "../../platform/organization.ts";
import { RESOURCES } from "../../problems/index.ts";
import { checkedInventoryModules, listedByInventory, UNRECORDED_RESOURCES } from "../../problems/inventory.ts";
import type { ResourceSpec } from "../../problems/types.ts";
import { commandsIn, ROOT, reachableFrom } from "../helpers/source-scan.ts";

describe("inventories", () => {
  it("one per registered type Config does not record, each from that type's folder", async () => {
    expect(UNRECORDED_RESOURCES.map((resource) => resource.type)).toEqual(
      (RESOURCES as readonly ResourceSpec[])
        .filter((resource) => resource.recordedByConfig === false)
        .map((r) => r.type),
    );
    expect(UNRECORDED_RESOURCES.map((resource) => resource.type)).toContain("AWS::EC2::Snapshot");
    expect(INVENTORY_MODULES.map((module) => module.resourceType)).toEqual(UNRECORDED_RESOURCES.map((r) => r.type));
    for (const resource of UNRECORDED_RESOURCES) {
      const { inventory } = await import(`../../problems/${resource.folder}/inventory.ts`);
      expect(inventoryModuleFor(resource.type), resource.type).toBe(inventory);
      expect(listedByInventory(resource.type)).toBe(true);
    }
    // A type Config records is never listed by Remedy itself.
    expect(inventoryModuleFor("AWS::EC2::SecurityGroup")).toBeUndefined();
    expect(listedByInventory("AWS::S3::Bucket")).toBe(false);
  });

  it("a folder whose inventory.ts exports no lister of its type is refused, naming the file", () => {
    const [first] = UNRECORDED_RESOURCES;
    expect(() => checkedInventoryModules([undefined])).toThrow(
      `problems/${first!.folder}/inventory.ts must export the lister of ${first!.type} as \`inventory\` (found none)`,
    );
    expect(() => checkedInventoryModules([{ ...INVENTORY_MODULES[0]!, resourceType: "AWS::S3::Bucket" }])).toThrow(
      /found one of AWS::S3::Bucket/,
    );
  });

  it.each(UNRECORDED_RESOURCES.map((resource) => [resource.type, resource] as const))(
    "%s: its inventory sends only its reads, which the rule function and the member detect role are granted",
    (_type, resource) => {
      const files = reachableFrom([join(ROOT, "problems", resource.folder, "inventory.ts")]);
      const sent = new Set(files.flatMap((file) => commandsIn(readFileSync(file, "utf8"))));
      expect(sent.size).toBeGreaterThan(0);
      for (const command of sent) expect(resource.reads.permissions, command).toHaveProperty(command);
      for (const [command, action] of Object.entries(resource.reads.permissions)) {
        expect(configRulePermissions, command).toHaveProperty(command, action);
        expect(configRuleMemberCommands as readonly string[], command).toContain(command);
      }
    },
  );

  it("the stack grants the rule function and the member detect role the inventories' reads, where their types say", () => {
    const refs = new Proxy({ partition: "aws", region: "us-east-1", account: "123456789012" } as PolicyRefs, {
      get: (target, key) => (key in target ? target[key as keyof PolicyRefs] : `arn:aws:test:::${String(key)}`),
    });
    const grants = grantsFor(FUNCTIONS["config-rule"], refs);
    const detect = memberRolesModel(parseOrganizationSettings({ regions: ["us-east-1"] }, "settings")).roles.find(
      (role) => role.role.kind === "detect",
    )!;
    for (const resource of UNRECORDED_RESOURCES) {
      for (const action of Object.values(resource.reads.permissions)) {
        const granted = grants.find((grant) => grant.actions.includes(action));
        const unscoped = (resource.reads.unscopedActions as readonly string[]).includes(action);
        expect(granted?.resources, action).toEqual(unscoped ? ["*"] : resource.iamScope(refs).resources);
        expect(
          detect.permissions.some((statement) => statement.actions.includes(action)),
          action,
        ).toBe(true);
      }
    }
  });
});
