// What every registered problem's folder must hold for the rest to follow from the registry: a fix module for that
// very problem, a rule under its rule id, and a fix spec whose IAM declarations agree with themselves.
import { describe, expect, it } from "vitest";
import { RULES } from "../../detection/rules.ts";
import { FUNCTIONS, functionSources, REMEDIATION_FUNCTION_NAMES } from "../../functions/registry.ts";
import { PROBLEM_SPECS } from "../../problems/index.ts";
import { remediationEntrySource } from "../../scripts/build.ts";
import { FIX_MODULES } from "../support/remediate.ts";

describe.each(PROBLEM_SPECS.map((spec) => [spec.id, spec] as const))("problems/%s", (id, spec) => {
  it("fix.ts exports the fix of this problem", () => {
    expect(FIX_MODULES.get(id)?.problem).toBe(id);
  });

  it("its rule is loaded from problems/<ruleId>/detect.ts and names it", () => {
    const rule = RULES.find((candidate) => candidate.id === spec.ruleId);
    expect(rule?.problems).toContain(id);
    expect(rule?.resourceTypes).toContain(spec.resourceType);
  });

  it("its unscoped IAM actions are actions its fix declares", () => {
    const declared = Object.values(spec.fix.permissions);
    for (const action of spec.fix.unscopedActions) expect(declared).toContain(action);
  });

  it("its function is granted its fix's actions and environment, and runs its fix module", () => {
    const fn = FUNCTIONS[spec.remediation as keyof typeof FUNCTIONS];
    for (const [command, action] of Object.entries(spec.fix.permissions)) {
      expect(fn.permissions).toHaveProperty(command, action);
    }
    for (const name of spec.fix.env) expect(fn.env).toContain(name);
    expect(functionSources(fn)).toContain(`problems/${id}/fix.ts`);
  });
});

describe("remediation entries", () => {
  it("the build writes each function's entry with exactly its problems' fix modules", () => {
    expect(remediationEntrySource(FUNCTIONS["remediate-s3"])).toBe(
      [
        'import { remediationHandler } from "./functions/remediation/handler.ts";',
        'import { fix as fix0 } from "./problems/s3-public-acl/fix.ts";',
        'import { fix as fix1 } from "./problems/s3-public-policy/fix.ts";',
        'export const handler = remediationHandler("remediate-s3", [fix0, fix1]);',
        "",
      ].join("\n"),
    );
    for (const name of REMEDIATION_FUNCTION_NAMES) {
      const source = remediationEntrySource(FUNCTIONS[name]);
      for (const problem of FUNCTIONS[name].fixes ?? []) expect(source).toContain(`./problems/${problem}/fix.ts`);
    }
  });

  it("a handler built with another function's fixes refuses to start", async () => {
    const { remediationHandler } = await import("../../functions/remediation/handler.ts");
    expect(() => remediationHandler("remediate-sg", [FIX_MODULES.get("s3-public-acl")!], {})).toThrow(
      "remediate-sg fixes sg-open-ingress, but was built with fixes for s3-public-acl",
    );
  });
});
