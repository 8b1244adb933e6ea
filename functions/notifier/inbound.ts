// What arrives on the topic, sorted: Remedy reports, AWS Config compliance changes, CloudWatch alarms — and the
// rest of Config's chatter, which is ignored. Pure: no AWS calls, no logging.
import * as v from "valibot";
import { InvalidReportError, parseReport, type Report } from "../../contract/report.ts";
import { PermanentError } from "../../platform/errors.ts";

/** A record or message the notifier cannot read. Logged with its reason and dropped; never retried. */
export class InvalidNotificationError extends PermanentError {
  override name = "InvalidNotificationError";
}

export interface SnsRecord {
  messageId: string;
  topicArn?: string;
  subject?: string;
  message: string;
}

export interface ComplianceChange {
  accountId: string;
  region: string;
  configRuleName: string;
  configRuleArn?: string;
  resourceType: string;
  resourceId: string;
  /** COMPLIANT | NON_COMPLIANT | NOT_APPLICABLE | INSUFFICIENT_DATA */
  newType: string;
  /** null on the first evaluation of the resource by the rule. */
  oldType: string | null;
  annotation?: string;
  /** When Config recorded the new result (ISO-8601). */
  recordedAt: string;
  /** The rule is one of Remedy's (its name ends with a configured suffix). */
  isRemedyRule: boolean;
}

export interface AlarmNotice {
  name: string;
  description?: string;
  /** ALARM or OK. */
  state: "ALARM" | "OK";
  previousState?: string;
  reason: string;
  /** ISO-8601 */
  at: string;
  accountId: string;
  /** The region slot of the alarm ARN, as sent: shown escaped, put in a link or command only if it is a region code. */
  region?: string;
  metricName?: string;
  namespace?: string;
  queueName?: string;
  /** The metric value that caused the transition, read from the reason ("[3.0 (20/11/26 10:25:00)]"). */
  value?: number;
}

export type Notice =
  | { kind: "report"; report: Report }
  | { kind: "compliance"; change: ComplianceChange }
  | { kind: "alarm"; alarm: AlarmNotice };

export type Classified = { outcome: "notice"; notice: Notice } | { outcome: "ignored"; reason: string };

export interface RelaySettings {
  /** A Config rule is Remedy's when its name ends with one of these. */
  ruleSuffixes: readonly string[];
  /** Relay compliance changes of every rule, not only Remedy's. */
  relayAllRules: boolean;
}

// -- The Lambda event -------------------------------------------------------------------------------------------

const SnsEventSchema = v.object({ Records: v.array(v.unknown()) });
const SnsRecordSchema = v.object({
  EventSource: v.literal("aws:sns"),
  Sns: v.object({
    MessageId: v.string(),
    Message: v.string(),
    TopicArn: v.optional(v.string()),
    Subject: v.nullish(v.string()),
  }),
});

/** The event's records, unread. Throws InvalidNotificationError when the event is not an SNS event at all. */
export function snsRecords(event: unknown): unknown[] {
  const result = v.safeParse(SnsEventSchema, event);
  if (!result.success) throw new InvalidNotificationError("event is not an SNS event (no Records array)");
  return result.output.Records;
}

/** Reads one record. Throws InvalidNotificationError naming what is wrong. */
export function readSnsRecord(record: unknown): SnsRecord {
  const result = v.safeParse(SnsRecordSchema, record, { abortEarly: true });
  if (!result.success) throw new InvalidNotificationError(`not an SNS record: ${describeIssue(result.issues[0])}`);
  const sns = result.output.Sns;
  return {
    messageId: sns.MessageId,
    message: sns.Message,
    ...(sns.TopicArn ? { topicArn: sns.TopicArn } : {}),
    ...(sns.Subject ? { subject: sns.Subject } : {}),
  };
}

/** Best-effort MessageId of a record that may not parse, for the log line that reports it. */
export function messageIdOf(record: unknown): string | undefined {
  const sns = (record as { Sns?: { MessageId?: unknown } } | null)?.Sns;
  return typeof sns?.MessageId === "string" ? sns.MessageId : undefined;
}

function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (!issue) return "invalid";
  const path = v.getDotPath(issue);
  return path ? `${path}: ${issue.message}` : issue.message;
}

// -- Messages ---------------------------------------------------------------------------------------------------

const EvaluationResultSchema = v.object({
  complianceType: v.pipe(v.string(), v.minLength(1)),
  resultRecordedTime: v.optional(v.string()),
  configRuleInvokedTime: v.optional(v.string()),
  annotation: v.nullish(v.string()),
});

const ComplianceChangeSchema = v.object({
  messageType: v.literal("ComplianceChangeNotification"),
  awsAccountId: v.string(),
  awsRegion: v.string(),
  configRuleName: v.string(),
  configRuleARN: v.optional(v.string()),
  resourceType: v.string(),
  resourceId: v.string(),
  newEvaluationResult: EvaluationResultSchema,
  oldEvaluationResult: v.nullish(EvaluationResultSchema),
  notificationCreationTime: v.optional(v.string()),
});

const AlarmSchema = v.object({
  AlarmName: v.string(),
  AlarmDescription: v.nullish(v.string()),
  AWSAccountId: v.string(),
  NewStateValue: v.string(),
  NewStateReason: v.string(),
  OldStateValue: v.nullish(v.string()),
  StateChangeTime: v.string(),
  AlarmArn: v.nullish(v.string()),
  Trigger: v.nullish(
    v.object({
      MetricName: v.nullish(v.string()),
      Namespace: v.nullish(v.string()),
      Dimensions: v.nullish(v.array(v.object({ name: v.string(), value: v.string() }))),
    }),
  ),
});

/** Sorts one SNS message. Throws InvalidNotificationError for anything malformed or unknown. */
export function classifyMessage(message: string, relay: RelaySettings): Classified {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch (error) {
    throw new InvalidNotificationError(`Message is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidNotificationError("Message is JSON but not an object");
  }
  const object = value as Record<string, unknown>;

  if (object.source === "remedy") {
    try {
      return { outcome: "notice", notice: { kind: "report", report: parseReport(object) } };
    } catch (error) {
      if (error instanceof InvalidReportError) {
        throw new InvalidNotificationError(`invalid Remedy report: ${error.message}`);
      }
      throw error;
    }
  }

  if (typeof object.messageType === "string") {
    if (object.messageType !== "ComplianceChangeNotification") {
      return { outcome: "ignored", reason: `AWS Config ${object.messageType} is not relayed` };
    }
    return classifyComplianceChange(object, relay);
  }

  if (typeof object.AlarmName === "string" && "NewStateValue" in object) return classifyAlarm(object);

  const keys = Object.keys(object).slice(0, 8).join(", ");
  throw new InvalidNotificationError(`unknown message shape (keys: ${keys || "none"})`);
}

export function isRemedyRule(configRuleName: string, relay: RelaySettings): boolean {
  return relay.ruleSuffixes.some((suffix) => configRuleName.endsWith(suffix));
}

function classifyComplianceChange(object: Record<string, unknown>, relay: RelaySettings): Classified {
  const result = v.safeParse(ComplianceChangeSchema, object, { abortEarly: true });
  if (!result.success) {
    throw new InvalidNotificationError(`invalid ComplianceChangeNotification: ${describeIssue(result.issues[0])}`);
  }
  const notice = result.output;
  const remedyRule = isRemedyRule(notice.configRuleName, relay);
  if (!remedyRule && !relay.relayAllRules) {
    return { outcome: "ignored", reason: `config rule ${notice.configRuleName} is not a Remedy rule` };
  }
  const newType = notice.newEvaluationResult.complianceType;
  const oldType = notice.oldEvaluationResult?.complianceType ?? null;
  if (oldType === newType) {
    return { outcome: "ignored", reason: `compliance unchanged (${newType}) for ${notice.resourceId}` };
  }
  const annotation = notice.newEvaluationResult.annotation;
  return {
    outcome: "notice",
    notice: {
      kind: "compliance",
      change: {
        accountId: notice.awsAccountId,
        region: notice.awsRegion,
        configRuleName: notice.configRuleName,
        ...(notice.configRuleARN ? { configRuleArn: notice.configRuleARN } : {}),
        resourceType: notice.resourceType,
        resourceId: notice.resourceId,
        newType,
        oldType,
        ...(annotation ? { annotation } : {}),
        recordedAt:
          notice.newEvaluationResult.resultRecordedTime ??
          notice.notificationCreationTime ??
          notice.newEvaluationResult.configRuleInvokedTime ??
          "",
        isRemedyRule: remedyRule,
      },
    },
  };
}

function classifyAlarm(object: Record<string, unknown>): Classified {
  const result = v.safeParse(AlarmSchema, object, { abortEarly: true });
  if (!result.success) {
    throw new InvalidNotificationError(`invalid CloudWatch alarm notification: ${describeIssue(result.issues[0])}`);
  }
  const alarm = result.output;
  if (alarm.NewStateValue !== "ALARM" && alarm.NewStateValue !== "OK") {
    return { outcome: "ignored", reason: `alarm ${alarm.AlarmName} went to ${alarm.NewStateValue}` };
  }
  const at = new Date(alarm.StateChangeTime);
  const queueName = alarm.Trigger?.Dimensions?.find((dimension) => dimension.name === "QueueName")?.value;
  const region = alarm.AlarmArn?.split(":")[3];
  const value = /\[(-?\d+(?:\.\d+)?)\s*\(/.exec(alarm.NewStateReason)?.[1];
  return {
    outcome: "notice",
    notice: {
      kind: "alarm",
      alarm: {
        name: alarm.AlarmName,
        ...(alarm.AlarmDescription ? { description: alarm.AlarmDescription } : {}),
        state: alarm.NewStateValue,
        ...(alarm.OldStateValue ? { previousState: alarm.OldStateValue } : {}),
        reason: alarm.NewStateReason,
        at: Number.isNaN(at.getTime()) ? alarm.StateChangeTime : at.toISOString(),
        accountId: alarm.AWSAccountId,
        ...(region ? { region } : {}),
        ...(alarm.Trigger?.MetricName ? { metricName: alarm.Trigger.MetricName } : {}),
        ...(alarm.Trigger?.Namespace ? { namespace: alarm.Trigger.Namespace } : {}),
        ...(queueName ? { queueName } : {}),
        ...(value !== undefined ? { value: Number(value) } : {}),
      },
    },
  };
}

/** The account a notice is about, for routing (undefined: Remedy-wide, goes to the default channel). */
export function accountOf(notice: Notice): string | undefined {
  switch (notice.kind) {
    case "report":
      // A report about a resource is its account's; an account's own breaker trip is that account's too.
      if ("resource" in notice.report) return notice.report.resource?.accountId;
      return "accountId" in notice.report ? notice.report.accountId : undefined;
    case "compliance":
      return notice.change.accountId;
    case "alarm":
      return notice.alarm.accountId;
  }
}
