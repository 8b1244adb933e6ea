import { table, utc } from "./format.ts";
import type { PlanResult } from "./plan.ts";

export function renderPlan(result: PlanResult, sources: { snapshot: string; settings: string }): string {
  const out: string[] = [];
  out.push(`Remedy plan (offline: nothing is read from or changed in AWS)`);
  out.push(`snapshot: ${sources.snapshot}`);
  out.push(`settings: ${sources.settings}`);
  out.push("");
  out.push(
    `Judged ${result.itemsJudged} resources from ${result.itemsRead} configuration items: ` +
      `${result.nonCompliant} non-compliant, ${result.compliant} compliant.`,
  );
  const due = result.findings.filter((finding) => finding.status === "due");
  const grace = result.findings.filter((finding) => finding.status === "grace");
  const exempt = result.findings.filter((finding) => finding.status === "exempt");
  out.push(
    `${due.length + grace.length} fixes in ${result.instructions.length} fix instructions ` +
      `(${due.length} due now, ${grace.length} in their grace period); ${exempt.length} findings exempt.`,
  );

  const actionable = [...due, ...grace];
  if (actionable.length > 0) {
    out.push("", "Would-be actions (once auto-response is enabled):");
    out.push(
      table(
        ["RESOURCE", "PROBLEM", "ACTION", "WHEN", "INSTRUCTION"],
        actionable.map((finding) => [
          finding.resourceId,
          finding.problem,
          finding.action,
          finding.status === "due" ? "next tick" : `after ${utc(finding.notBefore!)}`,
          finding.instructionId!.slice(0, 12),
        ]),
        [40, 18, 70, 30],
      ),
    );
  }
  if (exempt.length > 0) {
    out.push("", "Exempt (reported NON_COMPLIANT to Config, never changed):");
    out.push(
      table(
        ["RESOURCE", "PROBLEM", "MATCHED", "EXEMPTION"],
        exempt.map((finding) => [finding.resourceId, finding.problem, finding.matched, finding.exemption!]),
        [40, 18, 50],
      ),
    );
  }
  if (result.malformed.length > 0) {
    out.push("", `Could not judge ${result.malformed.length} configuration item(s):`);
    for (const item of result.malformed) {
      out.push(`  item ${item.index}${item.resourceId ? ` (${item.resourceId})` : ""}: ${item.reason}`);
    }
  }
  if (result.settingsProblems.length > 0) {
    out.push("", "Allowlist entries ignored (they exempt nothing until fixed):");
    for (const problem of result.settingsProblems) out.push(`  ${problem}`);
  }
  return `${out.join("\n")}\n`;
}
