// Reports: what the coordinator and remediation functions tell the notifier. They travel as the Message of an
// SNS notification on Remedy's report topic, beside AWS Config's own notices, so every report says
// `source: "remedy"`. One schema here, used by producers and by the notifier that renders them.
import type { PublishCommandInput, SNSClient } from "@aws-sdk/client-sns";
import { PublishCommand } from "@aws-sdk/client-sns";
import * as v from "valibot";
import { PROBLEMS } from "../detection/types.ts";
import { PermanentError } from "../platform/errors.ts";

export const REPORT_VERSION = 1;

const ResourceRefSchema = v.object({
  type: v.string(),
  id: v.string(),
  arn: v.optional(v.string()),
  accountId: v.string(),
  region: v.string(),
});

const SgRuleSchema = v.object({
  securityGroupRuleId: v.optional(v.string()),
  ipProtocol: v.string(),
  fromPort: v.number(),
  toPort: v.number(),
  cidrIpv4: v.optional(v.string()),
  cidrIpv6: v.optional(v.string()),
  description: v.optional(v.string()),
});

const GrantSchema = v.object({
  grantee: v.record(v.string(), v.unknown()),
  permission: v.string(),
});

const PublicAccessBlockSchema = v.object({
  BlockPublicAcls: v.optional(v.boolean()),
  IgnorePublicAcls: v.optional(v.boolean()),
  BlockPublicPolicy: v.optional(v.boolean()),
  RestrictPublicBuckets: v.optional(v.boolean()),
});

/** The exact change a remediation made (or would make). */
export const ChangeSchema = v.variant("kind", [
  v.object({ kind: v.literal("sg-rules-revoked"), groupId: v.string(), rules: v.array(SgRuleSchema) }),
  v.object({ kind: v.literal("acl-grants-removed"), bucket: v.string(), grants: v.array(GrantSchema) }),
  v.object({
    kind: v.literal("policy-statements-removed"),
    bucket: v.string(),
    statements: v.array(v.record(v.string(), v.unknown())),
    /** True when no statement remained, so the policy was deleted. */
    policyDeleted: v.boolean(),
  }),
  v.object({
    kind: v.literal("public-access-block-enabled"),
    bucket: v.string(),
    before: v.nullable(PublicAccessBlockSchema),
    after: PublicAccessBlockSchema,
  }),
  v.object({ kind: v.literal("restored"), summary: v.string() }),
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
    freshInstructions: v.number(),
    limit: v.number(),
    windowMinutes: v.number(),
    /** A sample of what arrived in the burst: "problem resource-id" lines. */
    sample: v.array(v.string()),
    resumeCommand: v.string(),
  }),
  v.object({ ...base, kind: v.literal("breaker-resumed"), by: v.string() }),
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
  report(body: ReportBody): Promise<void>;
}

/** Publishes reports to the SNS topic the notifier subscribes to. */
export function snsReporter(sns: SNSClient, topicArn: string, now: () => Date = () => new Date()): Reporter {
  return {
    async report(body) {
      const report = makeReport(body, now());
      const input: PublishCommandInput = {
        TopicArn: topicArn,
        Message: JSON.stringify(report),
        MessageAttributes: { kind: { DataType: "String", StringValue: report.kind } },
      };
      await sns.send(new PublishCommand(input));
    },
  };
}
