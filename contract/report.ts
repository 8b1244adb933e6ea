// Reports: what the coordinator and remediation functions tell the notifier. They travel as the Message of an
// SNS notification on Remedy's report topic, beside AWS Config's own notices, so every report says
// `source: "remedy"`. One schema here, used by producers and by the notifier that renders them.
import type { PublishCommandInput, SNSClient } from "@aws-sdk/client-sns";
import { PublishCommand } from "@aws-sdk/client-sns";
import * as v from "valibot";
import { PROBLEMS } from "../detection/types.ts";
import { PermanentError } from "../platform/errors.ts";
import { PROBLEM_SPECS } from "../problems/index.ts";
import { ACCOUNT_ID_PATTERN } from "./ids.ts";
import { kindVariant } from "./schema-kit.ts";

export const REPORT_VERSION = 1;

const ResourceRefSchema = v.object({
  type: v.string(),
  id: v.string(),
  arn: v.optional(v.string()),
  accountId: v.string(),
  region: v.string(),
});

/** Undo's change: the one kind no problem owns (what it put back, in words). */
const RestoredSchema = v.object({ kind: v.literal("restored"), summary: v.string() });

/**
 * The exact change a remediation made (or would make): each problem's own (its contract.ts), then those several
 * problems' fixes share (listed by each), then undo's.
 */
export const ChangeSchema = kindVariant("change", [
  ...PROBLEM_SPECS.map((spec) => spec.contract.change),
  ...PROBLEM_SPECS.flatMap((spec) => ("otherChanges" in spec.contract ? spec.contract.otherChanges : [])),
  RestoredSchema,
]);
export type Change = v.InferOutput<typeof ChangeSchema>;

const problem = v.picklist(PROBLEMS);
const at = v.pipe(v.string(), v.isoTimestamp());
const base = { source: v.literal("remedy"), version: v.literal(REPORT_VERSION), at };
const aboutInstruction = {
  ...base,
  instructionId: v.string(),
  problem,
  resource: ResourceRefSchema,
  ruleId: v.string(),
};

export const ReportSchema = v.variant("kind", [
  /** A remediation changed the resource. */
  v.object({
    ...aboutInstruction,
    kind: v.literal("fixed"),
    actionId: v.string(),
    changes: v.array(ChangeSchema),
    undoCommand: v.string(),
  }),
  /**
   * Notify mode (organisation settings): a remediation re-read and re-judged the resource and would make these
   * changes, but changed nothing and recorded no action (there is nothing to undo). `reason` says why not.
   */
  v.object({
    ...aboutInstruction,
    kind: v.literal("would-fix"),
    /** The run's id: the session name in the member account's CloudTrail for its reads. Never an undoable action. */
    actionId: v.string(),
    changes: v.array(ChangeSchema),
    reason: v.string(),
  }),
  /** A remediation looked and changed nothing (already fixed, exempt now, resource gone...). */
  v.object({ ...aboutInstruction, kind: v.literal("skipped"), actionId: v.optional(v.string()), reason: v.string() }),
  /** A remediation attempt failed; `willRetry` says whether the queue will bring it back. */
  v.object({
    ...aboutInstruction,
    kind: v.literal("failed"),
    error: v.string(),
    willRetry: v.boolean(),
    attempt: v.optional(v.number()),
  }),
  /** First sight of an instruction still in its grace period. */
  v.object({
    ...aboutInstruction,
    kind: v.literal("grace"),
    notBefore: at,
    /** Human summary of what will be fixed. */
    summary: v.string(),
  }),
  /** A message was moved to the dead-letter queue. */
  v.object({
    ...base,
    kind: v.literal("dead-lettered"),
    reason: v.string(),
    messageId: v.string(),
    instructionId: v.optional(v.string()),
    problem: v.optional(problem),
    resource: v.optional(ResourceRefSchema),
  }),
  v.object({
    ...base,
    kind: v.literal("breaker-tripped"),
    /** Organisation mode: the one member account paused by its own breaker (absent: everything is paused). */
    accountId: v.optional(v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN))),
    freshInstructions: v.number(),
    limit: v.number(),
    windowMinutes: v.number(),
    /** A sample of what arrived in the burst: "problem resource-id" lines. */
    sample: v.array(v.string()),
    resumeCommand: v.string(),
  }),
  v.object({ ...base, kind: v.literal("breaker-resumed"), by: v.string() }),
  /**
   * An operator undid a fix (`remedy undo`): what was put back, and until when Remedy leaves exactly those entries as
   * restored (absent: no exemption, the next detection fixes them again).
   */
  v.object({
    ...base,
    kind: v.literal("undone"),
    /** The undo's own action in the ledger. */
    actionId: v.string(),
    /** The fix it undid. */
    undoes: v.string(),
    /** The fix's problem. */
    problem: v.optional(problem),
    resource: ResourceRefSchema,
    /** The entries put back, in the problems' words ("tcp 22 from 0.0.0.0/0"). */
    reAdded: v.array(v.string()),
    /** The operator's AWS identity. */
    by: v.string(),
    exemptUntil: v.optional(at),
  }),
]);
export type Report = v.InferOutput<typeof ReportSchema>;
export type ReportKind = Report["kind"];

/** Distributive Omit so each report kind keeps its own fields. */
export type ReportBody<R = Report> = R extends Report ? Omit<R, "source" | "version" | "at"> : never;

export class InvalidReportError extends PermanentError {
  override name = "InvalidReportError";
}

export function makeReport(body: ReportBody, now: Date = new Date()): Report {
  return { source: "remedy", version: REPORT_VERSION, at: now.toISOString(), ...body } as Report;
}

export function parseReport(value: unknown): Report {
  const result = v.safeParse(ReportSchema, value, { abortEarly: true });
  if (result.success) return result.output;
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  throw new InvalidReportError(path ? `${path}: ${issue.message}` : issue.message);
}

/** Where reports go. Cores depend on this, not on SNS, so tests can collect reports. */
export interface Reporter {
  /** `abortSignal`: the caller's deadline (the coordinator's time budget); the publish is abandoned when it fires. */
  report(body: ReportBody, options?: { abortSignal?: AbortSignal }): Promise<void>;
}

/** Publishes reports to the SNS topic the notifier subscribes to. */
export function snsReporter(sns: SNSClient, topicArn: string, now: () => Date = () => new Date()): Reporter {
  return {
    async report(body, options) {
      const report = makeReport(body, now());
      const input: PublishCommandInput = {
        TopicArn: topicArn,
        Message: JSON.stringify(report),
        MessageAttributes: { kind: { DataType: "String", StringValue: report.kind } },
      };
      await sns.send(new PublishCommand(input), options?.abortSignal ? { abortSignal: options.abortSignal } : {});
    },
  };
}
