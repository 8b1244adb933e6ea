// `remedy plan`: offline. Runs the deployed rules, exemptions and instruction building over an AWS Config
// snapshot and says exactly what Remedy would do — nothing is read from or written to AWS.
import { normalizeConfigItem } from "../rules/config-item.ts";
import type { ComplianceType } from "../rules/types.ts";
import { describeAction, describeMatched } from "../shared/describe.ts";
import type { Instruction } from "../shared/instruction.ts";
import { type AnyRule, judgeItem } from "../shared/judge.ts";
import type { PlanSettings } from "./settings.ts";

export interface PlanFinding {
  resourceType: string;
  resourceId: string;
  accountId: string;
  region: string;
  ruleId: string;
  compliance: ComplianceType;
  problem: string;
  matched: string;
  /** What Remedy will do, or why it will not. */
  action: string;
  status: "due" | "grace" | "exempt";
  notBefore?: string;
  exemption?: string;
  instructionId?: string;
}

export interface PlanResult {
  itemsRead: number;
  itemsJudged: number;
  compliant: number;
  nonCompliant: number;
  findings: PlanFinding[];
  instructions: Instruction[];
  malformed: { index: number; resourceId?: string; reason: string }[];
  settingsProblems: string[];
}

export class SnapshotError extends Error {
  override name = "SnapshotError";
}

/** Parses Config's snapshot file (`{fileVersion, configSnapshotId, configurationItems: [...]}`). */
export function snapshotItems(text: string, source: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SnapshotError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const items = (value as { configurationItems?: unknown })?.configurationItems;
  if (!Array.isArray(items)) {
    throw new SnapshotError(`${source} is not an AWS Config snapshot: it has no configurationItems list`);
  }
  return items;
}

export function plan(
  items: readonly unknown[],
  rules: readonly AnyRule[],
  settings: PlanSettings,
  now: Date,
): PlanResult {
  const result: PlanResult = {
    itemsRead: items.length,
    itemsJudged: 0,
    compliant: 0,
    nonCompliant: 0,
    findings: [],
    instructions: [],
    malformed: [],
    settingsProblems: settings.allowlistProblems.map((problem) => `${problem.where}: ${problem.message}`),
  };
  const parameters = new Map<string, unknown>();
  for (const rule of rules) {
    parameters.set(rule.id, rule.parseParameters(settings.ruleParameters[rule.id] ?? {}));
  }

  items.forEach((raw, index) => {
    const resourceId = (raw as { resourceId?: unknown })?.resourceId;
    try {
      const item = normalizeConfigItem(raw);
      for (const rule of rules.filter((candidate) => candidate.resourceTypes.includes(item.resourceType))) {
        const judgement = judgeItem(item, rule, parameters.get(rule.id), {
          allowlist: settings.allowlist,
          now,
          gracePeriodMs: settings.gracePeriodMinutes * 60_000,
          facts: settings.accountFacts,
        });
        if (judgement.compliance === "NOT_APPLICABLE") continue;
        result.itemsJudged++;
        if (judgement.compliance === "COMPLIANT") result.compliant++;
        else result.nonCompliant++;
        result.instructions.push(...judgement.instructions);
        const instructionFor = new Map(
          judgement.instructions.flatMap((instruction) =>
            instruction.matched.map((entry) => [JSON.stringify(entry), instruction] as const),
          ),
        );
        for (const finding of judgement.findings) {
          const instruction = instructionFor.get(JSON.stringify(finding.matched));
          const due = instruction ? Date.parse(instruction.notBefore) <= now.getTime() : false;
          result.findings.push({
            resourceType: item.resourceType,
            resourceId: item.resourceId,
            accountId: item.accountId,
            region: item.region,
            ruleId: rule.id,
            compliance: judgement.compliance,
            problem: finding.problem,
            matched: describeMatched(finding.matched),
            action: finding.exemption
              ? "none (exempt)"
              : describeAction(finding.problem, finding.matched, settings.s3FixStrategy),
            status: finding.exemption ? "exempt" : due ? "due" : "grace",
            ...(instruction && !due ? { notBefore: instruction.notBefore } : {}),
            ...(finding.exemption
              ? {
                  exemption: `${finding.exemption.source}${finding.exemption.until ? ` until ${finding.exemption.until}` : ""}: ${finding.exemption.reason}`,
                }
              : {}),
            ...(instruction ? { instructionId: instruction.id } : {}),
          });
        }
      }
    } catch (error) {
      result.malformed.push({
        index,
        ...(typeof resourceId === "string" ? { resourceId } : {}),
        reason: `${(error as Error).name}: ${(error as Error).message}`,
      });
    }
  });
  return result;
}
