// The Config custom-rule invocation, parsed and validated before anything is judged or sent.
import * as v from "valibot";
import { plainObject } from "../../contract/instruction.ts";
import { jsonDepth, MAX_JSON_DEPTH } from "../../contract/json.ts";
import { PermanentError } from "../../platform/errors.ts";

/** The event or its invokingEvent cannot be understood. Permanent: logged and dropped, never retried. */
export class InvalidEventError extends PermanentError {
  override name = "InvalidEventError";
}

const nonEmpty = v.pipe(v.string(), v.minLength(1));

const RuleEventSchema = v.object({
  invokingEvent: nonEmpty,
  ruleParameters: v.optional(v.string()),
  resultToken: nonEmpty,
  eventLeftScope: v.optional(v.boolean()),
  configRuleName: nonEmpty,
  accountId: v.optional(v.string()),
  configRuleArn: v.optional(v.string()),
  executionRoleArn: v.optional(v.string()),
  version: v.optional(v.string()),
});

const SummarySchema = v.object({
  resourceType: nonEmpty,
  resourceId: nonEmpty,
  configurationItemCaptureTime: v.pipe(v.string(), v.isoTimestamp()),
  configurationItemStatus: nonEmpty,
  awsAccountId: v.optional(v.string()),
  awsRegion: v.optional(v.string()),
});

const InvokingEventSchema = v.variant(
  "messageType",
  [
    v.object({
      messageType: v.literal("ConfigurationItemChangeNotification"),
      configurationItem: plainObject("configurationItem must be an object"),
      notificationCreationTime: v.optional(v.string()),
    }),
    v.object({
      messageType: v.literal("OversizedConfigurationItemChangeNotification"),
      configurationItemSummary: SummarySchema,
      notificationCreationTime: v.optional(v.string()),
    }),
    v.object({
      messageType: v.literal("ScheduledNotification"),
      awsAccountId: v.optional(v.string()),
      notificationCreationTime: v.optional(v.string()),
    }),
  ],
  // valibot hands the discriminator's value (not the whole object) to this message.
  (issue) => `unknown messageType ${JSON.stringify(issue.input) ?? "(missing)"}`,
);

export type InvokingEvent = v.InferOutput<typeof InvokingEventSchema>;

export interface RuleEvent extends v.InferOutput<typeof RuleEventSchema> {
  invoking: InvokingEvent;
  parameters: Record<string, unknown>;
}

function firstIssue(prefix: string, issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]]): InvalidEventError {
  const [issue] = issues;
  const path = v.getDotPath(issue);
  return new InvalidEventError(`${prefix}${path ? `${path}: ` : ""}${issue.message}`);
}

function parseJsonField(text: string, field: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidEventError(`${field} is not valid JSON: ${(error as Error).message}`);
  }
  // Judging and hashing recurse: refuse a pathologically deep document here, with its name.
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new InvalidEventError(`${field} nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}

/** Validates the whole event up front; throws InvalidEventError naming the first problem. */
export function parseRuleEvent(event: unknown): RuleEvent {
  const outer = v.safeParse(RuleEventSchema, event, { abortEarly: true });
  if (!outer.success) throw firstIssue("event ", outer.issues);
  const invoking = v.safeParse(InvokingEventSchema, parseJsonField(outer.output.invokingEvent, "invokingEvent"), {
    abortEarly: true,
  });
  if (!invoking.success) throw firstIssue("invokingEvent ", invoking.issues);
  const rawParameters = outer.output.ruleParameters?.trim()
    ? parseJsonField(outer.output.ruleParameters, "ruleParameters")
    : {};
  if (typeof rawParameters !== "object" || rawParameters === null || Array.isArray(rawParameters)) {
    throw new InvalidEventError("ruleParameters must be a JSON object");
  }
  return { ...outer.output, invoking: invoking.output, parameters: rawParameters as Record<string, unknown> };
}
