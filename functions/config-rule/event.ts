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

export const RuleEventSchema = v.object({
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

export const InvokingEventSchema = v.variant(
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

type Depth = (value: unknown, limit: number) => boolean;

/**
 * `jsonDepth(value, limit) > limit` (contract/json.ts) without its stack of [node, depth] pairs: a recursion, but one
 * that stops `limit` levels down, so however deep the document it never goes deeper than that.
 */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") return false;
  return inheritsEnumerable() ? deeperThan(value, limit - 1) : ownDeeperThan(value, limit - 1);
}

/** Whether a plain object inherits enumerable properties (a polluted Object.prototype), which for-in would visit. */
function inheritsEnumerable(): boolean {
  for (const _ in EMPTY) return true;
  return false;
}
const EMPTY = {};

/**
 * deeperThan by for-in, without an array of values per object: the same children when objects inherit nothing
 * enumerable (JSON.parse's objects are plain: inherited keys could only come from Object.prototype).
 */
function ownDeeperThan(node: object, levels: number): boolean {
  if (levels < 0) return true;
  if (Array.isArray(node)) {
    for (let index = 0; index < node.length; index++) {
      const child: unknown = node[index];
      if (child !== null && typeof child === "object" && ownDeeperThan(child, levels - 1)) return true;
    }
    return false;
  }
  if (Object.getPrototypeOf(node) !== Object.prototype) return deeperThan(node, levels);
  for (const key in node) {
    const child: unknown = (node as Record<string, unknown>)[key];
    if (child !== null && typeof child === "object" && ownDeeperThan(child, levels - 1)) return true;
  }
  return false;
}

/** Whether `node` (an object or array) has descendants more than `levels` levels below it. */
function deeperThan(node: object, levels: number): boolean {
  if (levels < 0) return true;
  // The same children jsonDepth visits: an array's items, an object's own enumerable values.
  const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
  for (let index = 0; index < children.length; index++) {
    const child = children[index];
    if (child !== null && typeof child === "object" && deeperThan(child, levels - 1)) return true;
  }
  return false;
}

const byJsonDepth: Depth = (value, limit) => jsonDepth(value, limit) > limit;

function parseJsonField(text: string, field: string, deeper: Depth = nestsDeeperThan): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidEventError(`${field} is not valid JSON: ${(error as Error).message}`);
  }
  // Judging and hashing recurse: refuse a pathologically deep document here, with its name.
  if (deeper(value, MAX_JSON_DEPTH)) {
    throw new InvalidEventError(`${field} nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}

type EventFields = v.InferOutput<typeof RuleEventSchema>;
type ChangeNotification = Extract<InvokingEvent, { messageType: "ConfigurationItemChangeNotification" }>;

const isText = (value: unknown): value is string => typeof value === "string" && value.length > 0;

/**
 * RuleEventSchema's output for an event it plainly accepts (every field of the type it asks for), read without
 * valibot; undefined for anything else, which the schema then judges (and names the first problem of). Field by field
 * what v.object does: only the schema's keys, in its order, an optional one present (even as undefined) when `in` the
 * event. test/config-rule/event-fast-path.test.ts holds it to the schema.
 */
function plainEventFields(input: unknown): EventFields | undefined {
  if (!input || typeof input !== "object") return undefined;
  const event = input as Record<string, unknown>;
  const { invokingEvent, resultToken, configRuleName } = event;
  if (!isText(invokingEvent) || !isText(resultToken) || !isText(configRuleName)) return undefined;
  const fields: Record<string, unknown> = { invokingEvent };
  if ("ruleParameters" in event) {
    if (!optionalString(event.ruleParameters)) return undefined;
    fields.ruleParameters = event.ruleParameters;
  }
  fields.resultToken = resultToken;
  if ("eventLeftScope" in event) {
    const left = event.eventLeftScope;
    if (left !== undefined && typeof left !== "boolean") return undefined;
    fields.eventLeftScope = left;
  }
  fields.configRuleName = configRuleName;
  for (const key of OPTIONAL_TEXT_FIELDS) {
    if (key in event) {
      if (!optionalString(event[key])) return undefined;
      fields[key] = event[key];
    }
  }
  return fields as EventFields;
}

/** The schema's optional string fields after configRuleName, in its order. */
const OPTIONAL_TEXT_FIELDS = ["accountId", "configRuleArn", "executionRoleArn", "version"] as const;

function optionalString(value: unknown): boolean {
  return value === undefined || typeof value === "string";
}

/**
 * InvokingEventSchema's output for a change notification it plainly accepts (what nearly every invocation is), read
 * without valibot; undefined for anything else, which the schema then judges.
 */
function plainChangeNotification(input: unknown): ChangeNotification | undefined {
  if (!input || typeof input !== "object") return undefined;
  const invoking = input as Record<string, unknown>;
  if (invoking.messageType !== "ConfigurationItemChangeNotification") return undefined;
  const item = invoking.configurationItem;
  if (typeof item !== "object" || item === null || Array.isArray(item)) return undefined;
  const notification: Record<string, unknown> = { messageType: invoking.messageType, configurationItem: item };
  if ("notificationCreationTime" in invoking) {
    if (!optionalString(invoking.notificationCreationTime)) return undefined;
    notification.notificationCreationTime = invoking.notificationCreationTime;
  }
  return notification as ChangeNotification;
}

function schemaEventFields(event: unknown): EventFields {
  const outer = v.safeParse(RuleEventSchema, event, { abortEarly: true });
  if (!outer.success) throw firstIssue("event ", outer.issues);
  return outer.output;
}

function schemaInvokingEvent(value: unknown): InvokingEvent {
  const invoking = v.safeParse(InvokingEventSchema, value, { abortEarly: true });
  if (!invoking.success) throw firstIssue("invokingEvent ", invoking.issues);
  return invoking.output;
}

/** Validates the whole event up front; throws InvalidEventError naming the first problem. */
export function parseRuleEvent(event: unknown): RuleEvent {
  const fields = plainEventFields(event) ?? schemaEventFields(event);
  const value = parseJsonField(fields.invokingEvent, "invokingEvent");
  return ruleEvent(fields, plainChangeNotification(value) ?? schemaInvokingEvent(value), nestsDeeperThan);
}

/**
 * parseRuleEvent by the schemas (and jsonDepth) alone, as it was before its fast paths: what they must agree with
 * (test/config-rule/event-fast-path.test.ts).
 */
export function parseRuleEventBySchema(event: unknown): RuleEvent {
  const fields = schemaEventFields(event);
  return ruleEvent(
    fields,
    schemaInvokingEvent(parseJsonField(fields.invokingEvent, "invokingEvent", byJsonDepth)),
    byJsonDepth,
  );
}

/** The event's fields (a fresh object of the parse's own: completed in place, not copied), then invoking, parameters. */
function ruleEvent(fields: EventFields, invoking: InvokingEvent, deeper: Depth): RuleEvent {
  // "{}" (what Config passes for a rule without parameters) parses to a new empty object: made without the parse.
  const text = fields.ruleParameters;
  const rawParameters = text === "{}" ? {} : text?.trim() ? parseJsonField(text, "ruleParameters", deeper) : {};
  if (typeof rawParameters !== "object" || rawParameters === null || Array.isArray(rawParameters)) {
    throw new InvalidEventError("ruleParameters must be a JSON object");
  }
  const event = fields as RuleEvent;
  event.invoking = invoking;
  event.parameters = rawParameters as Record<string, unknown>;
  return event;
}
