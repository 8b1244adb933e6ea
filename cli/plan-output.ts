// The words of `remedy plan`: the report as text (tables fit the terminal; --json has everything), and the
// throttled progress lines a terminal gets while a big snapshot is judged or an account is read.
import { BLOCK_PUBLIC_ACCESS_FLAGS, PROBLEMS } from "../detection/types.ts";
import { listText } from "../problems/words.ts";
import { accountRegionHeading, spanText } from "./accounts.ts";
import type { Io } from "./deps.ts";
import { undoExemptionsText } from "./exemptions-view.ts";
import { plural, table, utc } from "./format.ts";
import type { AccountBlockState, AutoResponseState, LiveSource, PlanFinding, PlanReport } from "./plan.ts";
import { terminalText } from "./terminal.ts";

/** The problem column fits every registered problem's id whole (a table cuts a wider cell). */
const PROBLEM_WIDTH = Math.max(18, ...PROBLEMS.map((problem) => problem.length));

/** "live: AWS Config in 123456789012 eu-west-1", or which types were read directly and why. */
export function describeLiveSource(source: LiveSource): string {
  const where = `${source.accountId} ${source.region}`;
  const viaConfig = source.types.filter((type) => type.via === "config");
  const direct = source.types.filter((type) => type.via === "direct");
  if (direct.length === 0) return `live: AWS Config in ${where}`;
  const reasons = [...new Set(direct.map((type) => type.why ?? "Config is not recording them"))];
  if (viaConfig.length === 0) return `live: read directly in ${where} (${reasons.join("; ")})`;
  const names = (types: typeof direct) => types.map((type) => type.resourceType).join(", ");
  return `live: AWS Config in ${where} for ${names(viaConfig)}; read directly for ${names(direct)} (${reasons.join("; ")})`;
}

export function describeAutoResponse(state: AutoResponseState): string {
  const onOff = state.enabled ? "on" : "off";
  if (state.from === "schedule")
    return `auto-response: ${onOff} (schedule rule ${state.scheduleRule} is ${state.state})`;
  const fromSettings = `settings: enableAutoResponse is ${state.enabled}`;
  return state.scheduleError
    ? `auto-response: ${onOff} (${fromSettings}; schedule rule ${state.scheduleRule} cannot be read: ${state.scheduleError})`
    : `auto-response: ${onOff} (${fromSettings})`;
}

function describeFlags(flags: AccountBlockState["flags"]): string {
  if (flags === null || flags === undefined) return "none configured";
  const on = BLOCK_PUBLIC_ACCESS_FLAGS.filter((flag) => flags[flag] === true);
  return on.length === 0 ? "every flag off" : `${on.join(", ")} on`;
}

export function describeAccountBlock(state: AccountBlockState): string {
  const what = "account Block Public Access";
  if (state.from === "s3-control") return `${what}: ${describeFlags(state.flags)} (S3 Control)`;
  if (state.from === "settings") {
    return `${what}: ${describeFlags(state.flags)} (settings${state.error ? `; S3 Control cannot be read: ${state.error}` : ""})`;
  }
  return `${what}: unknown (S3 Control cannot be read: ${state.error ?? "?"}): buckets are judged with their own flags only`;
}

export function renderPlan(report: PlanReport, options: { columns?: number } = {}): string {
  const out: string[] = [];
  if (report.mode === "live") {
    out.push("Remedy plan (live, read-only: nothing in AWS is changed and nothing is queued)");
    if (report.live) out.push(describeLiveSource(report.live));
  } else {
    out.push("Remedy plan (offline: nothing is read from or changed in AWS)");
    out.push(report.snapshots ? `snapshots: ${report.snapshots.join(", ")}` : `snapshot: ${report.snapshot}`);
  }
  out.push(`settings: ${report.settingsFile}`);
  if (report.accountPublicAccessBlock) out.push(describeAccountBlock(report.accountPublicAccessBlock));
  out.push(describeAutoResponse(report.autoResponse));
  out.push("");
  out.push(
    `Judged ${plural(report.itemsJudged, "resource")} from ${plural(report.itemsRead, "configuration item")}: ` +
      `${report.nonCompliant} non-compliant, ${report.compliant} compliant.`,
  );
  const due = report.findings.filter((finding) => finding.status === "due");
  const grace = report.findings.filter((finding) => finding.status === "grace");
  const exempt = report.findings.filter((finding) => finding.status === "exempt");
  const undone = report.findings.filter((finding) => finding.status === "undone");
  const held = report.findings.filter((finding) => finding.status === "held");
  out.push(
    `${plural(due.length + grace.length, "fix", "fixes")} in ${plural(report.instructions.length, "fix instruction")} ` +
      `(${due.length} due now, ${grace.length} in their grace period); ${plural(exempt.length, "finding")} exempt` +
      `${undone.length > 0 ? `; ${plural(undone.length, "finding")} left as restored by undo` : ""}` +
      `${held.length > 0 ? `; ${plural(held.length, "fix", "fixes")} held back` : ""}.`,
  );

  const on = report.autoResponse.enabled;
  const actionsTable = (findings: readonly PlanFinding[]) =>
    table(
      ["RESOURCE", "PROBLEM", "ACTION", "WHEN", "INSTRUCTION"],
      findings.map((finding) => [
        finding.resourceId,
        finding.problem,
        finding.action,
        finding.status === "due"
          ? on
            ? "next tick"
            : "when enabled"
          : `${on ? "" : "when enabled, "}after ${utc(finding.notBefore!)}`,
        finding.instructionId!.slice(0, 12),
      ]),
      [40, PROBLEM_WIDTH, 70, 44],
      options.columns,
    );
  const exemptTable = (findings: readonly PlanFinding[]) =>
    table(
      ["RESOURCE", "PROBLEM", "MATCHED", "EXEMPTION"],
      findings.map((finding) => [finding.resourceId, finding.problem, finding.matched, finding.exemption!]),
      [40, PROBLEM_WIDTH, 50],
      options.columns,
    );
  const undoneTable = (findings: readonly PlanFinding[]) =>
    table(
      ["RESOURCE", "PROBLEM", "MATCHED", "LEFT AS RESTORED"],
      findings.map((finding) => [finding.resourceId, finding.problem, finding.matched, finding.undoExemption!]),
      [40, PROBLEM_WIDTH, 50],
      options.columns,
    );
  const heldTable = (findings: readonly PlanFinding[]) =>
    table(
      ["RESOURCE", "PROBLEM", "ACTION", "HELD BACK"],
      findings.map((finding) => [finding.resourceId, finding.problem, finding.action, finding.heldBack!]),
      [40, PROBLEM_WIDTH, 70],
      options.columns,
    );
  const HELD_HEADING = "Held back (the instruction is queued; the fix skips it and says why while this holds):";
  const UNDONE_HEADING =
    "Left as restored by undo (instructions are still queued; the fix leaves these entries as they are until then):";
  const wouldBe = on
    ? "auto-response is on: due fixes are made at the coordinator's next tick"
    : "auto-response is off: nothing is changed until it is enabled";
  const EXEMPT_HEADING = "Exempt (reported NON_COMPLIANT to Config, never changed):";
  if (report.accountRegions) {
    out.push("", `By account and region (${spanText(report.accountRegions)}; ${wouldBe}):`);
    for (const group of report.accountRegions) {
      const here = (finding: PlanFinding) => finding.accountId === group.accountId && finding.region === group.region;
      const actionable = report.findings.filter(
        (finding) => here(finding) && (finding.status === "due" || finding.status === "grace"),
      );
      const exemptHere = report.findings.filter((finding) => here(finding) && finding.status === "exempt");
      const undoneHere = report.findings.filter((finding) => here(finding) && finding.status === "undone");
      const heldHere = report.findings.filter((finding) => here(finding) && finding.status === "held");
      out.push(
        "",
        `${accountRegionHeading(group)}: ${plural(group.itemsJudged, "resource")} judged (${group.nonCompliant} non-compliant, ${group.compliant} compliant); ` +
          `${plural(group.due + group.grace, "fix", "fixes")} in ${plural(group.instructions, "fix instruction")} ` +
          `(${group.due} due now, ${group.grace} in their grace period); ${plural(group.exempt, "finding")} exempt` +
          `${group.held ? `; ${plural(group.held, "fix", "fixes")} held back` : ""}.`,
      );
      if (actionable.length > 0) out.push("Would-be actions:", actionsTable(actionable));
      if (exemptHere.length > 0) out.push(EXEMPT_HEADING, exemptTable(exemptHere));
      if (heldHere.length > 0) out.push(HELD_HEADING, heldTable(heldHere));
      if (undoneHere.length > 0) out.push(UNDONE_HEADING, undoneTable(undoneHere));
    }
  } else {
    const actionable = [...due, ...grace];
    if (actionable.length > 0) out.push("", `Would-be actions (${wouldBe}):`, actionsTable(actionable));
    if (held.length > 0) out.push("", HELD_HEADING, heldTable(held));
    if (exempt.length > 0) out.push("", EXEMPT_HEADING, exemptTable(exempt));
    if (undone.length > 0) out.push("", UNDONE_HEADING, undoneTable(undone));
  }
  if (report.undoExemptions) {
    out.push("", ...undoExemptionsText(report.undoExemptions, options.columns));
  } else if (report.undoExemptionsError) {
    out.push("", `Left as restored by undo: unknown (${report.undoExemptionsError}): the plan does not show them`);
  }
  if (report.slackAllowlistError) {
    out.push(
      "",
      `Exemptions granted in Slack: unknown (${report.slackAllowlistError}): the plan is judged without them`,
    );
  }
  if (report.notRead.length > 0) {
    out.push("", `Could not read ${plural(report.notRead.length, "resource")} (not judged):`);
    for (const entry of report.notRead) {
      out.push(
        `  ${entry.resourceId ? `${entry.resourceType} ${entry.resourceId}` : entry.resourceType}: ${entry.reason}`,
      );
    }
  }
  if (report.malformed.length > 0) {
    out.push("", `Could not judge ${plural(report.malformed.length, "configuration item")}:`);
    for (const item of report.malformed) {
      out.push(`  item ${item.index}${item.resourceId ? ` (${item.resourceId})` : ""}: ${item.reason}`);
    }
  }
  if (report.settingsProblems.length > 0) {
    out.push(
      "",
      `Ignored ${plural(report.settingsProblems.length, "allowlist entry", "allowlist entries")} (they exempt nothing until fixed):`,
    );
    for (const problem of report.settingsProblems) out.push(`  ${problem}`);
  }
  // Where Config is not recording, Remedy's rules do not see the resources at all (not where it only could not be asked).
  const direct =
    report.live?.types.filter((type) => type.via === "direct" && type.why?.startsWith("Config is not recording")) ?? [];
  if (direct.length > 0) {
    out.push(
      "",
      `Note: Remedy's Config rules judge only what Config records; until it records ${listText(direct.map((type) => type.resourceType))} here, Remedy neither reports nor fixes them.`,
    );
  }
  // Resource ids, tag values, reasons: AWS data and the user's files reach the terminal with control characters
  // escaped, line by line (the plan's own line breaks stay).
  return `${out
    .flatMap((line) => line.split("\n"))
    .map(terminalText)
    .join("\n")}\n`;
}

/** How often a progress line may be written. */
export const PROGRESS_INTERVAL_MS = 1000;

/**
 * Progress lines on stderr, only when it is a terminal: at most one a second, and none for work that is done
 * within the first second. Never on stdout, so --json stays pure.
 */
export function progressReporter(io: Io, intervalMs = PROGRESS_INTERVAL_MS): (line: string) => void {
  if (!io.interactive) return () => {};
  let last = performance.now();
  return (line) => {
    const now = performance.now();
    if (now - last < intervalMs) return;
    last = now;
    io.err(`remedy plan: ${line}…\n`);
  };
}
