// `remedy plan`: runs the deployed rules, exemptions and instruction building over Config items (from a snapshot,
// or read live by live-plan.ts) and says exactly what Remedy would do. Pure: nothing here reads or writes AWS.

import { gunzipSync } from "node:zlib";
import { type Instruction, matchedEntryKey } from "../contract/instruction.ts";
import {
  activeUndoExemption,
  describeUndoExemption,
  type UndoExemptionRecord,
  undoExemptionKey,
} from "../contract/undo-exemption.ts";
import { normalizeConfigItem } from "../detection/config-item.ts";
import { type AnyRule, judgeItem } from "../detection/judge.ts";
import type { ComplianceType, PublicAccessBlockFlags } from "../detection/types.ts";
import { PermanentError } from "../platform/errors.ts";
import { PROBLEM_SPECS } from "../problems/index.ts";
import type { ProblemSpec } from "../problems/types.ts";
import { describeAction, describeMatched } from "../problems/words.ts";
import { compareAccountRegion } from "./accounts.ts";
import type { UndoExemptionsView } from "./exemptions-view.ts";
import { plural } from "./format.ts";
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
  /**
   * "undone": an undo put it back and its exemption keeps it so (the instruction is queued, the fix skips it).
   * "held": its fix holds back while another resource of the account is left as it is on purpose (`heldBack` says
   * which: the problem spec's heldBackBy); the instruction is queued, the fix skips it and says why.
   */
  status: "due" | "grace" | "exempt" | "undone" | "held";
  heldBack?: string;
  notBefore?: string;
  exemption?: string;
  /** Status "undone": who undid it, when, and until when it is left as restored. */
  undoExemption?: string;
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
  /**
   * The counts per account and region, accounts in id order (the items' own accountId and region). plan() always
   * counts them; the report carries them only when it is grouped (organisation mode, or items of several accounts or
   * regions), so a single account's report is what it always was.
   */
  accountRegions?: PlanAccountRegion[];
}

/** One account and region of a plan: what was judged there, and what would be done. */
export interface PlanAccountRegion {
  accountId: string;
  region: string;
  itemsJudged: number;
  compliant: number;
  nonCompliant: number;
  /** Fixes (matched entries) due now, in their grace period, and exempt findings. */
  due: number;
  grace: number;
  exempt: number;
  /** Findings an undo left as restored (only when there are some). */
  undone?: number;
  /** Fixes held back (only when there are some). */
  held?: number;
  instructions: number;
}

export class SnapshotError extends PermanentError {
  override name = "SnapshotError";
}

/** The first two bytes of every gzip stream (RFC 1952). */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

/**
 * Parses Config's snapshot file (`{fileVersion, configSnapshotId, configurationItems: [...]}`), gzip-compressed as
 * Config delivers it (`.json.gz`: recognised by its first bytes, whatever the file is called) or not.
 */
export function snapshotItems(content: string | Uint8Array, source: string): unknown[] {
  let text: string;
  if (typeof content === "string") {
    text = content;
  } else if (isGzip(content)) {
    try {
      text = gunzipSync(content).toString("utf8");
    } catch (error) {
      throw new SnapshotError(`${source} is gzip-compressed but cannot be decompressed (${(error as Error).message})`);
    }
  } else {
    text = Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString("utf8");
  }
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
  /** Called after each item (judged or not), for progress over a big snapshot; it must not throw. */
  onProgress?: (done: number, total: number) => void,
  /** Undo's temporary exemptions (the ledger's, or a file's offline): the entries they list are left as restored. */
  undoExemptions: readonly UndoExemptionRecord[] = [],
): PlanResult {
  const undoneOn = new Map(undoExemptions.map((record) => [undoExemptionKey(record.resource), record]));
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
  const tallies = new Map<string, PlanAccountRegion>();
  const tallyOf = (accountId: string, region: string) => {
    const key = JSON.stringify([accountId, region]);
    let tally = tallies.get(key);
    if (!tally) {
      tally = {
        accountId,
        region,
        itemsJudged: 0,
        compliant: 0,
        nonCompliant: 0,
        due: 0,
        grace: 0,
        exempt: 0,
        instructions: 0,
      };
      tallies.set(key, tally);
    }
    return tally;
  };
  const parameters = new Map<string, unknown>();
  for (const rule of rules) {
    parameters.set(rule.id, rule.parseParameters(settings.ruleParameters[rule.id] ?? {}));
  }

  items.forEach((raw, index) => {
    const resourceId = (raw as { resourceId?: unknown })?.resourceId;
    try {
      const item = normalizeConfigItem(raw);
      // A resource is counted once, whichever of its type's rules judge it: non-compliant when any of them says so.
      let judged: "COMPLIANT" | "NON_COMPLIANT" | undefined;
      for (const rule of rules.filter((candidate) => candidate.resourceTypes.includes(item.resourceType))) {
        const judgement = judgeItem(item, rule, parameters.get(rule.id), {
          allowlist: settings.allowlist,
          now,
          gracePeriodMs: settings.gracePeriodMinutes * 60_000,
          facts: settings.accountFacts,
        });
        if (judgement.compliance === "NOT_APPLICABLE") continue;
        const tally = tallyOf(item.accountId, item.region);
        judged = judged === "NON_COMPLIANT" ? judged : judgement.compliance;
        result.instructions.push(...judgement.instructions);
        tally.instructions += judgement.instructions.length;
        const instructionFor = new Map(
          judgement.instructions.flatMap((instruction) =>
            instruction.matched.map((entry) => [JSON.stringify(entry), instruction] as const),
          ),
        );
        const undoneRecord = undoneOn.get(
          undoExemptionKey({
            accountId: item.accountId,
            region: item.region,
            type: item.resourceType,
            id: item.resourceId,
          }),
        );
        for (const finding of judgement.findings) {
          const instruction = instructionFor.get(JSON.stringify(finding.matched));
          const due = instruction ? Date.parse(instruction.notBefore) <= now.getTime() : false;
          const undone = finding.exemption
            ? undefined
            : activeUndoExemption(undoneRecord, finding.problem, matchedEntryKey(finding.matched), now);
          // What every finding of the plan says of itself, whatever becomes of it.
          const found = {
            resourceType: item.resourceType,
            resourceId: item.resourceId,
            accountId: item.accountId,
            region: item.region,
            ruleId: rule.id,
            compliance: judgement.compliance,
            problem: finding.problem,
            matched: describeMatched(finding.matched),
          };
          if (undone) {
            tally.undone = (tally.undone ?? 0) + 1;
            result.findings.push({
              ...found,
              action: `none (left as restored by undo ${undone.undoActionId} until ${undone.until})`,
              status: "undone",
              undoExemption: describeUndoExemption(undone),
              ...(instruction ? { instructionId: instruction.id } : {}),
            });
            continue;
          }
          tally[finding.exemption ? "exempt" : due ? "due" : "grace"]++;
          result.findings.push({
            ...found,
            action: finding.exemption
              ? "none (exempt)"
              : describeAction(finding.problem, finding.matched, settings.s3FixStrategy),
            status: finding.exemption ? "exempt" : due ? "due" : "grace",
            ...(instruction && !due ? { notBefore: instruction.notBefore } : {}),
            ...(finding.exemption
              ? {
                  exemption: `${finding.exemption.source}${slackOwner(finding.exemption.owner)}${finding.exemption.until ? ` until ${finding.exemption.until}` : ""}: ${finding.exemption.reason}`,
                }
              : {}),
            ...(instruction ? { instructionId: instruction.id } : {}),
          });
        }
      }
      if (judged) {
        const tally = tallyOf(item.accountId, item.region);
        result.itemsJudged++;
        tally.itemsJudged++;
        if (judged === "COMPLIANT") {
          result.compliant++;
          tally.compliant++;
        } else {
          result.nonCompliant++;
          tally.nonCompliant++;
        }
      }
    } catch (error) {
      result.malformed.push({
        index,
        ...(typeof resourceId === "string" ? { resourceId } : {}),
        reason: `${(error as Error).name}: ${(error as Error).message}`,
      });
    }
    onProgress?.(index + 1, items.length);
  });
  holdBack(result.findings, (finding) => tallyOf(finding.accountId, finding.region));
  result.accountRegions = [...tallies.values()].sort(compareAccountRegion);
  return result;
}

/** An exemption granted in Slack says who granted it (its owner is "slack:<user id>"); others as they always were. */
function slackOwner(owner: string | undefined): string {
  return owner?.startsWith("slack:") ? ` (Slack, owner ${owner})` : "";
}

/**
 * The fixes that hold back while another resource of their account is left as it is on purpose (a problem spec's
 * heldBackBy): a plan shows them held, naming those resources, as the fix would skip them.
 */
const SPECS: readonly ProblemSpec[] = PROBLEM_SPECS;

function holdBack(findings: PlanFinding[], tallyOf: (finding: PlanFinding) => PlanAccountRegion): void {
  for (const finding of findings) {
    if (finding.status !== "due" && finding.status !== "grace") continue;
    const heldBackBy = SPECS.find((spec) => spec.id === finding.problem)?.heldBackBy;
    if (!heldBackBy) continue;
    const onPurpose = [
      ...new Set(
        findings
          .filter(
            (other) =>
              other.accountId === finding.accountId &&
              (other.status === "exempt" || other.status === "undone") &&
              heldBackBy.problems.includes(other.problem),
          )
          .map((other) => other.resourceId),
      ),
    ];
    if (onPurpose.length === 0) continue;
    const tally = tallyOf(finding);
    tally[finding.status]--;
    tally.held = (tally.held ?? 0) + 1;
    finding.status = "held";
    finding.heldBack = `${heldBackBy.reason}: ${onPurpose.join(", ")}`;
    delete finding.notBefore;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The report around the result: where the items came from, what could not be read, and auto-response.

/** A resource (or a whole kind of resource) that could not be read, so it was not judged. */
export interface NotRead {
  resourceType: string;
  /** Absent: the listing itself failed (none of this type was judged). */
  resourceId?: string;
  reason: string;
}

/** How one resource type was read in --live. */
export interface LiveTypeSource {
  resourceType: string;
  via: "config" | "direct";
  /** Why it was read directly: "Config is not recording here: no configuration recorder", ... */
  why?: string;
}

export interface LiveSource {
  accountId: string;
  region: string;
  types: LiveTypeSource[];
}

/** Whether the coordinator acts on due instructions: from the stack's real schedule, or from the settings. */
export interface AutoResponseState {
  enabled: boolean;
  from: "settings" | "schedule";
  scheduleRule?: string;
  /** The schedule rule's State as EventBridge says it. */
  state?: string;
  /** Why the schedule was not used although the stack is known. */
  scheduleError?: string;
}

/** The account-level Block Public Access the buckets were judged with, and where it came from. */
export interface AccountBlockState {
  from: "settings" | "s3-control" | "unknown";
  /** null: none configured; absent: not known (bucket-level flags only). */
  flags?: PublicAccessBlockFlags | null;
  /** Why it could not be read (S3 Control's error). */
  error?: string;
}

export interface PlanReport extends PlanResult {
  mode: "offline" | "live";
  /** The snapshot (offline) or the account and region and how each type was read (live). */
  snapshot?: string;
  /** Offline on several snapshots (--snapshot given more than once): each, in the order given. */
  snapshots?: string[];
  live?: LiveSource;
  settingsFile: string;
  autoResponse: AutoResponseState;
  accountPublicAccessBlock?: AccountBlockState;
  notRead: NotRead[];
  /**
   * Undo's temporary exemptions in force (live: the ledger's, when the stack is known; offline: --undo-exemptions).
   * Absent: none were given or read.
   */
  undoExemptions?: UndoExemptionsView;
  /** Live: why the ledger's exemptions could not be read. */
  undoExemptionsError?: string;
  /** Live: why the allowlist's Slack part (allowlist/slack.json) could not be read: judged without it. */
  slackAllowlistError?: string;
}

/** What makes --strict fail, in one sentence; undefined when everything was read, judged and used. */
export function strictProblems(
  report: Pick<PlanReport, "malformed" | "notRead" | "settingsProblems">,
): string | undefined {
  const parts: string[] = [];
  if (report.malformed.length > 0)
    parts.push(`${plural(report.malformed.length, "configuration item")} could not be judged`);
  if (report.notRead.length > 0) parts.push(`${plural(report.notRead.length, "resource")} could not be read`);
  if (report.settingsProblems.length > 0)
    parts.push(`${plural(report.settingsProblems.length, "allowlist entry", "allowlist entries")} ignored`);
  return parts.length > 0 ? parts.join(", ") : undefined;
}
