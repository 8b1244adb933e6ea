// The real-time path reads every registered resource type, with the same reader its fixes use.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OBSERVE_MODULES } from "../../functions/realtime/observers.ts";
import { PROBLEM_SPECS, RESOURCES } from "../../problems/index.ts";

describe("observers", () => {
  it("one per registered resource type, each from that type's folder", async () => {
    expect(OBSERVE_MODULES.map((module) => module.resourceType)).toEqual(RESOURCES.map((resource) => resource.type));
    for (const resource of RESOURCES) {
      const { observe } = await import(`../../problems/${resource.folder}/observe.ts`);
      expect(OBSERVE_MODULES, resource.type).toContain(observe);
    }
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
