// Judging one normalised item: rule verdict, then exemptions per finding, then the fix instructions.
// Shared by the Config rule runtime and the offline `remedy plan`, so both say exactly the same thing.

import {
  buildInstructions,
  type Instruction,
  type InstructionSource,
  InstructionTooLargeError,
} from "../contract/instruction.ts";
import { isCanonicalIsoTime, isDeleted } from "./config-item.ts";
import { type AllowlistEntry, describeExemption, type Exemption, findExemption } from "./exemptions.ts";
import type { AccountFacts, ComplianceType, ConfigItem, Finding, RemedyRule, Verdict } from "./types.ts";

// biome-ignore lint/suspicious/noExplicitAny: a registry holds rules of different parameter types.
export type AnyRule = RemedyRule<any>;

export interface JudgedFinding extends Finding {
  exemption?: Exemption;
}

export interface Judgement {
  compliance: ComplianceType;
  /** Full annotation; Config's 256-character cut happens where it is sent. */
  annotation: string;
  findings: JudgedFinding[];
  /** Fix instructions for the findings that are not exempt. */
  instructions: Instruction[];
  /** Why an exemption did not apply (expired, malformed), for logs and annotations. */
  notes: string[];
}

export interface JudgeContext {
  allowlist: readonly AllowlistEntry[];
  now: Date;
  gracePeriodMs: number;
  configRuleName?: string;
  /** What the runtime knows about the item's account (account-level Block Public Access, ...). */
  facts?: AccountFacts;
}

export function judgeItem(item: ConfigItem, rule: AnyRule, parameters: unknown, context: JudgeContext): Judgement {
  if (isDeleted(item) && !rule.judgesDeleted) return notApplicable(`resource deleted (${item.status})`);
  if (!rule.resourceTypes.includes(item.resourceType)) {
    return notApplicable(`${item.resourceType} is not judged by ${rule.id}`);
  }
  return judgeVerdict(item, rule, parameters, rule.evaluate(item, parameters, context.facts), context);
}

/**
 * What a judgement is made of besides the rule's verdict: which resource, where and when it was seen, and its tags.
 * A Config item is one; the real-time path builds one from the live resource it read (functions/realtime/).
 */
export type JudgedSubject = Pick<
  ConfigItem,
  "resourceType" | "resourceId" | "arn" | "accountId" | "region" | "captureTime" | "tags"
>;

/**
 * A rule's verdict on a subject, judged on: exemptions per finding, then the fix instructions. The one place both
 * the Config path (judgeItem) and the real-time path turn findings into instructions, so both queue the same ones.
 */
export function judgeVerdict(
  item: JudgedSubject,
  rule: AnyRule,
  parameters: unknown,
  verdict: Verdict,
  context: JudgeContext,
): Judgement {
  // Notes in the order first given, each once (a Set's order, without the Set or its copy): made at the first.
  let notes: string[] | undefined;
  // Each problem's exemption, checked at its first finding: the first problem's kept as is, a Map only for others.
  let firstProblem: string | undefined;
  let firstExemption: Exemption | undefined;
  let exemptionByProblem: Map<string, Exemption | undefined> | undefined;
  let exempt = 0;
  const ruleFindings = verdict.findings;
  const findings: JudgedFinding[] = [];
  for (let index = 0; index < ruleFindings.length; index++) {
    const finding = ruleFindings[index]!;
    const problem = finding.problem;
    let exemption: Exemption | undefined;
    if (index > 0 && problem === firstProblem) exemption = firstExemption;
    else if (exemptionByProblem?.has(problem)) exemption = exemptionByProblem.get(problem);
    else {
      const check = findExemption(
        { resourceId: item.resourceId, arn: item.arn, tags: item.tags, problem },
        context.allowlist,
        context.now,
      );
      for (const note of check.notes) notes = addNote(notes, note);
      exemption = check.exemption;
      if (index === 0) {
        firstProblem = problem;
        firstExemption = exemption;
      } else {
        exemptionByProblem ??= new Map();
        exemptionByProblem.set(problem, exemption);
      }
    }
    const judged: JudgedFinding = exemption ? { ...finding, exemption } : finding;
    if (judged.exemption) exempt++;
    findings.push(judged);
  }

  // Without an exemption every finding is actionable: the same list, not a filtered copy.
  const actionable = exempt === 0 ? findings : findings.filter((finding) => !finding.exemption);
  let instructions: Instruction[];
  if (actionable.length > 0) {
    notes ??= [];
    instructions = instructionsFor(instructionSource(item, rule, parameters, context), actionable, notes);
  } else instructions = checkTimes(item, context);

  // One array for both: annotate only reads it.
  const noteList = notes ?? [];
  return {
    compliance: verdict.compliance,
    annotation: annotate(verdict.annotation, findings, noteList, exempt),
    findings,
    instructions,
    notes: noteList,
  };
}

/** `notes` with `note` added at the end unless it is there already (made when there were none). */
function addNote(notes: string[] | undefined, note: string): string[] {
  if (notes === undefined) return [note];
  if (!notes.includes(note)) notes.push(note);
  return notes;
}

/** What every fix instruction for this item says about where it comes from. */
function instructionSource(
  item: JudgedSubject,
  rule: AnyRule,
  parameters: unknown,
  context: JudgeContext,
): InstructionSource {
  // Literals in the key order the spreads they replaced gave (arn, configRuleName only when there is one).
  const { resourceType: type, resourceId: id, arn, accountId, region } = item;
  const configRuleName = context.configRuleName;
  return {
    resource: arn ? { type, id, arn, accountId, region } : { type, id, accountId, region },
    rule: configRuleName
      ? { id: rule.id, configRuleName, parameters: parametersRecord(parameters) }
      : { id: rule.id, parameters: parametersRecord(parameters) },
    capturedAt: item.captureTime,
    detectedAt: isoTime(context.now),
    // Grace counts from when Config recorded the change, so re-detections agree on the due time.
    notBefore: notBefore(item.captureTime, context.gracePeriodMs),
  };
}

let lastTime = Number.NaN;
let lastIso = "";

/** `now.toISOString()`, written once per clock value (every item of a run shares one): an invalid one still throws. */
function isoTime(now: Date): string {
  const time = now.getTime();
  if (time !== lastTime) {
    lastIso = now.toISOString();
    lastTime = time;
  }
  return lastIso;
}

/**
 * Nothing to fix, so no instruction source to build; but the two times it reads are still checked the way building it
 * would check them: an invalid clock, or a capture time that gives no valid due time, throws the same RangeError.
 */
function checkTimes(item: JudgedSubject, context: JudgeContext): Instruction[] {
  if (Number.isNaN(context.now.getTime())) context.now.toISOString();
  notBefore(item.captureTime, context.gracePeriodMs);
  return [];
}

/**
 * Fix instructions for the actionable findings. A finding too large for any SQS message (one entry over 256 KiB)
 * cannot be queued: it stays a finding (Config still hears NON_COMPLIANT) and a note says to fix it by hand.
 */
function instructionsFor(source: InstructionSource, actionable: readonly Finding[], notes: string[]): Instruction[] {
  if (actionable.length === 0) return [];
  try {
    return buildInstructions(source, actionable);
  } catch (error) {
    if (!(error instanceof InstructionTooLargeError)) throw error;
  }
  const fitting: Finding[] = [];
  for (const finding of actionable) {
    try {
      buildInstructions(source, [finding]);
      fitting.push(finding);
    } catch (error) {
      if (!(error instanceof InstructionTooLargeError)) throw error;
      addNote(notes, `a ${finding.problem} finding is too large for a fix instruction: fix it by hand`);
    }
  }
  return fitting.length > 0 ? buildInstructions(source, fitting) : [];
}

/** When a fix may start: `gracePeriodMs` after the capture time (the capture time itself, as written, without one). */
function notBefore(captureTime: string, gracePeriodMs: number): string {
  if (gracePeriodMs === 0 && isCanonicalIsoTime(captureTime)) return captureTime;
  return new Date(Date.parse(captureTime) + gracePeriodMs).toISOString();
}

function notApplicable(annotation: string): Judgement {
  return { compliance: "NOT_APPLICABLE", annotation, findings: [], instructions: [], notes: [] };
}

function parametersRecord(parameters: unknown): Record<string, unknown> {
  return typeof parameters === "object" && parameters !== null ? { ...(parameters as Record<string, unknown>) } : {};
}

/** Puts the exemption first when it covers everything: that is what a reader of Config needs to see. */
function annotate(
  base: string,
  findings: readonly JudgedFinding[],
  notes: readonly string[],
  exemptCount: number,
): string {
  let text = base;
  if (exemptCount > 0) {
    const exempt = findings.filter((finding) => finding.exemption);
    const described = [
      ...new Set(exempt.map((finding) => `${finding.problem} ${describeExemption(finding.exemption!)}`)),
    ];
    text =
      exempt.length === findings.length ? `${described.join("; ")} | ${base}` : `${base} | ${described.join("; ")}`;
  }
  return notes.length > 0 ? `${text} | ${notes.join("; ")}` : text;
}

export const CONFIG_ANNOTATION_LIMIT = 256;

/** Config rejects annotations over 256 characters; cut with a visible marker. */
export function cutAnnotation(text: string, limit = CONFIG_ANNOTATION_LIMIT): string {
  // No more UTF-16 units than the limit is no more characters either: nothing to count.
  if (text.length <= limit) return text;
  const chars = Array.from(text);
  return chars.length <= limit ? text : `${chars.slice(0, limit - 1).join("")}…`;
}
