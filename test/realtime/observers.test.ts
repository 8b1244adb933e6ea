// The real-time path reads every registered resource type, with the same reader its fixes use.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkedObserveModules } from "../../functions/realtime/observer-check.ts";
import { OBSERVE_MODULES } from "../../functions/realtime/observers.ts";
import { PROBLEM_SPECS, RESOURCES } from "../../problems/index.ts";
import { UNRECORDED_RESOURCES } from "../../problems/inventory.ts";
import { registryModuleListSource } from "../../scripts/build.ts";

describe("observers", () => {
  it("one per registered resource type, each from that type's folder", async () => {
    expect(OBSERVE_MODULES.map((module) => module.resourceType)).toEqual(RESOURCES.map((resource) => resource.type));
    for (const resource of RESOURCES) {
      const { observe } = await import(`../../problems/${resource.folder}/observe.ts`);
      expect(OBSERVE_MODULES, resource.type).toContain(observe);
    }
  });

  it("the bundle's lists import each registered folder's module statically, and nothing else", () => {
    const observers = registryModuleListSource("functions/realtime/observers.ts");
    const imported = [...observers.matchAll(/from "\.\.\/\.\.\/problems\/([\w-]+)\/observe\.ts"/g)].map((m) => m[1]);
    expect(imported).toEqual(RESOURCES.map((resource) => resource.folder));
    expect(observers).not.toContain("import(");
    const inventories = registryModuleListSource("functions/config-rule/inventories.ts");
    const listed = [...inventories.matchAll(/from "\.\.\/\.\.\/problems\/([\w-]+)\/inventory\.ts"/g)].map((m) => m[1]);
    expect(listed).toEqual(UNRECORDED_RESOURCES.map((resource) => resource.folder));
    expect(listed.length).toBeGreaterThan(0);
    expect(inventories).not.toContain("import(");
  });

  it("a folder whose observe.ts exports no observer of its type is refused, naming the file", () => {
    const [first, second] = OBSERVE_MODULES;
    expect(() => checkedObserveModules([first, undefined, ...OBSERVE_MODULES.slice(2)])).toThrow(
      `problems/${RESOURCES[1]!.folder}/observe.ts must export the observer of ${RESOURCES[1]!.type} as \`observe\` (found none)`,
    );
    expect(() => checkedObserveModules([second, first, ...OBSERVE_MODULES.slice(2)])).toThrow(/found one of/);
  });

  it("every fix reads its live resource through its resource type's observer, not a reader of its own", () => {
    for (const spec of PROBLEM_SPECS) {
      const fixSource = readFileSync(`problems/${spec.id}/fix.ts`, "utf8");
      const sharedSource = readFileSync(`problems/${spec.resource.folder}/fix.ts`, "utf8");
      const usesObserver = /from "\.\/observe\.ts"|from "\.\.\/[\w-]+\/fix\.ts"/.test(fixSource);
      expect(usesObserver, `problems/${spec.id}/fix.ts`).toBe(true);
      expect(sharedSource, `problems/${spec.resource.folder}/fix.ts`).toMatch(/from "\.\/observe\.ts"/);
    }
  });
});
