// Every Remedy rule: the one each problem names (its spec's ruleId), whose code is problems/<ruleId>/detect.ts (its
// `rule` export; problems found on the same resource type may share one). Loaded from the registry, so a rule is
// deployed, evaluated, re-judged and planned by being named there. (The bundler includes every such detect.ts.)
import { RULE_IDS } from "../problems/index.ts";
import type { RemedyRule } from "./types.ts";

export const RULES: readonly RemedyRule<unknown>[] = await Promise.all(
  RULE_IDS.map(async (id) => ((await import(`../problems/${id}/detect.ts`)) as { rule: RemedyRule<unknown> }).rule),
);
