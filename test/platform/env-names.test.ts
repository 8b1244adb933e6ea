// Every environment variable a function's code reads is one its stack entry sets (functions/registry.ts, checked
// against the synthesized stack in test/infra/stack.test.ts), and every one it is given is read. Found by scanning
// the function's source tree (its files and every module they import), as the permission checks do.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { FUNCTION_LIST, FUNCTIONS, type FunctionName } from "../../functions/registry.ts";
import { ENV_NAMES, RUNTIME_ENV_NAMES } from "../../platform/env.ts";
import { functionTree, ROOT } from "../helpers/source-scan.ts";

const READERS = /\b(?:requiredEnv|optionalEnv|integerEnv|booleanEnv|oneOfEnv)\(\s*"([A-Z0-9_]+)"/g;
/** Direct reads that bypass platform/env.ts: process.env.X, env.X, env["X"]. */
const DIRECT = /\b(?:process\.env|env)(?:\.([A-Z][A-Z0-9_]+)\b|\[\s*"([A-Z][A-Z0-9_]+)"\s*\])/g;

function envReadsIn(source: string): { viaEnvModule: string[]; direct: string[] } {
  return {
    viaEnvModule: [...source.matchAll(READERS)].map((match) => match[1]!),
    direct: [...source.matchAll(DIRECT)].map((match) => (match[1] ?? match[2])!),
  };
}

function readsOf(functionName: string): Map<string, string[]> {
  const reads = new Map<string, string[]>();
  for (const file of functionTree(FUNCTIONS[functionName as FunctionName])) {
    const { viaEnvModule, direct } = envReadsIn(readFileSync(file, "utf8"));
    for (const name of [...viaEnvModule, ...direct])
      reads.set(name, [...(reads.get(name) ?? []), relative(ROOT, file)]);
  }
  return reads;
}

describe("environment variables", () => {
  it("finds reads through platform/env.ts and direct ones", () => {
    expect(
      envReadsIn(
        'requiredEnv("REMEDY_A", env); integerEnv(\n "REMEDY_B", 1); process.env.REMEDY_C; env["REMEDY_D"]; env.x',
      ),
    ).toEqual({ viaEnvModule: ["REMEDY_A", "REMEDY_B"], direct: ["REMEDY_C", "REMEDY_D"] });
  });

  for (const spec of FUNCTION_LIST) {
    it(`${spec.name}: reads exactly the variables its stack entry sets (plus the runtime's own)`, () => {
      const reads = readsOf(spec.name);
      const set = new Set<string>([...spec.env, ...RUNTIME_ENV_NAMES]);
      const unset = [...reads.entries()].filter(([name]) => !set.has(name));
      expect(unset, "read but never set by the stack").toEqual([]);
      const unread = spec.env.filter((name) => !reads.has(name));
      expect(unread, "set by the stack but never read").toEqual([]);
    });
  }

  it("every typed name is given to some function", () => {
    const given = new Set(FUNCTION_LIST.flatMap((spec) => spec.env));
    expect(ENV_NAMES.filter((name) => !given.has(name))).toEqual([]);
  });
});
