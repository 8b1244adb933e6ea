// What every registered problem's folder must hold for the rest to follow from the registry: a fix module for that
// very problem, a rule under its rule id, a fix spec whose IAM declarations agree with themselves, and the contract
// schemas of its entries and changes (its contract.ts), which the contract's variants are built from.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { parseInstruction, serializeInstruction } from "../../contract/instruction.ts";
import { ResourceStateSchema } from "../../contract/ledger.ts";
import { ChangeSchema } from "../../contract/report.ts";
import { type KindSchema, kindOf } from "../../contract/schema-kit.ts";
import { RULES } from "../../detection/rules.ts";
import { FUNCTIONS, functionSources, REMEDIATION_FUNCTION_NAMES } from "../../functions/registry.ts";
import { PROBLEM_SPECS, RESOURCES } from "../../problems/index.ts";
import type { ProblemContract } from "../../problems/types.ts";
import { remediationEntrySource } from "../../scripts/build.ts";
import { EXAMPLES, testInstruction } from "../support/instructions.ts";
import { FIX_MODULES } from "../support/remediate.ts";

const CAPTURED_AT = "2026-11-20T09:58:12.412Z";

/** The options of a contract variant of that kind (exactly one when the contract holds it). */
function optionsOfKind(variant: { options: readonly KindSchema[] }, kind: string): readonly KindSchema[] {
  return variant.options.filter((option) => kindOf(option) === kind);
}

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

  it("its contract's matched entry is of its matchedKind, and its example's violation is a valid instruction", () => {
    expect(kindOf(spec.contract.matched)).toBe(spec.matchedKind);
    const violation = EXAMPLES.get(id)!.violation("resource-1");
    expect(violation.kind).toBe(spec.matchedKind);
    expect(v.parse(spec.contract.matched, violation)).toEqual(violation);
    const instruction = testInstruction({ problem: id, matched: [violation], capturedAt: CAPTURED_AT });
    expect(parseInstruction(serializeInstruction(instruction))).toEqual(instruction);
    // Another problem's entry does not fit this one's instructions.
    for (const other of PROBLEM_SPECS.filter((candidate) => candidate.matchedKind !== spec.matchedKind)) {
      const foreign = { ...instruction, matched: [EXAMPLES.get(other.id)!.violation("resource-1")] };
      expect(() => parseInstruction(foreign)).toThrow(`matched entries do not fit problem ${id}`);
    }
  });

  it("the change its fix records, and any other, are the contract's (reports and ledger)", () => {
    const contract: ProblemContract = spec.contract;
    expect(kindOf(contract.change)).toBe(spec.words.changes.kind);
    for (const change of [contract.change, ...(contract.otherChanges ?? [])]) {
      expect(optionsOfKind(ChangeSchema, kindOf(change))).toEqual([change]);
    }
  });
});

describe.each(RESOURCES.map((resource) => [resource.type, resource] as const))("resource %s", (_type, resource) => {
  it("its ledger state schema is of its stateKind, and the ledger's", () => {
    expect(kindOf(resource.state)).toBe(resource.stateKind);
    expect(optionsOfKind(ResourceStateSchema, resource.stateKind)).toEqual([resource.state]);
  });
});

describe("the contract's variants", () => {
  it("hold every registered kind once, and nothing else but undo's change", () => {
    const contracts: readonly ProblemContract[] = PROBLEM_SPECS.map((spec) => spec.contract);
    const changeKinds = new Set(contracts.flatMap((c) => [c.change, ...(c.otherChanges ?? [])].map(kindOf)));
    expect(ChangeSchema.options.map(kindOf).sort()).toEqual([...changeKinds, "restored"].sort());
    expect(ResourceStateSchema.options.map(kindOf)).toEqual(RESOURCES.map((resource) => resource.stateKind));
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
      "remediate-sg fixes sg-default-rules, sg-open-ingress, but was built with fixes for s3-public-acl",
    );
  });
});

describe("the S3 fixes of one function", () => {
  it("share one reader of the account's Block Public Access (one read per account per TTL, not one per problem)", async () => {
    const { s3FixDeps } = await import("../../problems/s3-public/fix.ts");
    const client = <C>(Client: new (config: object) => C) => new Client({ region: "us-east-1" });
    const context = {
      env: { REMEDY_LEDGER_BUCKET: "remedy-ledger" },
      log: console,
      now: () => new Date(),
      client,
      undoExemptions: async () => undefined,
    };
    expect(s3FixDeps(context).accountFacts).toBe(s3FixDeps({ ...context }).accountFacts);
    const other = <C>(Client: new (config: object) => C) => new Client({ region: "us-east-1" });
    expect(s3FixDeps({ ...context, client: other }).accountFacts).not.toBe(s3FixDeps(context).accountFacts);
  });
});
