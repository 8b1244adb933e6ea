// Judgement is pure: the rules (problems/<id>/detect.ts) and the generic detection code import no AWS SDK, directly
// or through anything they import, so they run the same in the Config rule, the remediations' re-judgement and the
// offline `remedy plan`, and a bench measures the judgement alone. detection/account-facts.ts is the one reader.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { RULE_IDS } from "../../problems/index.ts";
import { ROOT, reachableFrom, tsFiles } from "../helpers/source-scan.ts";

const READERS = new Set(["detection/account-facts.ts"]);

describe("judgement imports no AWS SDK", () => {
  const detectModules = readdirSync(join(ROOT, "problems"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((entry) => tsFiles(join(ROOT, "problems", entry.name)).filter((file) => file.endsWith("/detect.ts")));
  const roots = [
    ...detectModules,
    ...tsFiles(join(ROOT, "detection")).filter((file) => !READERS.has(relative(ROOT, file))),
  ];

  it("finds every rule's detection: each rule of the registry, in the folder its id names", () => {
    expect(detectModules.map((file) => relative(ROOT, file)).sort()).toEqual(
      RULE_IDS.map((id) => `problems/${id}/detect.ts`).sort(),
    );
  });

  it("no module they reach imports @aws-sdk", () => {
    const impure = reachableFrom(roots)
      .filter((file) => /from\s+"@aws-sdk\//.test(readFileSync(file, "utf8")))
      .map((file) => relative(ROOT, file));
    expect(impure).toEqual([]);
  });
});
