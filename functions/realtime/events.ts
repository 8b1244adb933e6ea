// One real-time queue message (an EventBridge event, delivered whole to SQS) → what it asks Remedy to look at. Pure:
// no SDK. A CloudTrail call or a Security Hub finding is a claim, never a verdict: this only finds which resources
// (or accounts) it names and which problems it hints at; functions/realtime/core.ts checks the place, ignores
// Remedy's own changes, re-reads the resource live and judges it. Never throws: anything it cannot use is dropped with
// one clear reason.
import * as v from "valibot";
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from "../../contract/ids.ts";
import { PROBLEM_SPECS, type Problem, RESOURCES } from "../../problems/index.ts";
import type { CloudTrailTrigger, ProblemSpec } from "../../problems/types.ts";

/** Who made a CloudTrail call (its `userIdentity`), kept for the caller's loop guard. */
export interface Actor {
  type?: string;
  arn?: string;
  /** `sessionContext.sessionIssuer.arn`: the role an assumed-role session belongs to. */
  roleArn?: string;
  /** `sessionContext.sourceIdentity`. */
  sourceIdentity?: string;
  invokedBy?: string;
}

export type Sighting =
  | {
      kind: "resource";
      source: "cloudtrail" | "securityhub";
      /** The CloudTrail eventID, or the finding's Id. */
      ref: string;
      /** The eventName, or the control id or generator id the finding was mapped by. */
      trigger: string;
      problems: Problem[];
      resourceType: string;
      resourceId: string;
      accountId: string;
      region: string;
      /** ISO time of the call (eventTime) or of the finding (UpdatedAt). */
      at: string;
      actor?: Actor;
    }
  | {
      kind: "account";
      source: "cloudtrail";
      ref: string;
      trigger: string;
      problems: Problem[];
      /** The Remedy rules to re-evaluate for the whole account (spec.ruleId). */
      ruleIds: string[];
      accountId: string;
      region: string;
      at: string;
      actor?: Actor;
    };

export type ReadEvent = { sightings: Sighting[] } | { dropped: string };

export const CLOUDTRAIL_DETAIL_TYPE = "AWS API Call via CloudTrail";
export const SECURITY_HUB_DETAIL_TYPE = "Security Hub Findings - Imported";
/** SQS's and EventBridge's largest message / event. */
export const MAX_BODY_BYTES = 256 * 1024;
/** Security Hub puts at most 100 findings in one event; more is not one of its events. */
export const MAX_FINDINGS = 100;
const MAX_ID_LENGTH = 255;
const MAX_TEXT_LENGTH = 2048;
// C0 and C1 control characters: never part of an AWS id, and dangerous in logs and shells.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find them.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** Workflow states in which a finding is no longer a hint: someone decided about it. */
const CLOSED_WORKFLOW = new Set(["SUPPRESSED", "RESOLVED"]);

export function readRealtimeEvent(body: string): ReadEvent {
  try {
    return readBody(body);
  } catch (error) {
    // Nothing below is meant to throw; if something does, the message is still only dropped, never the batch.
    return { dropped: `the event could not be read: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function readBody(body: string): ReadEvent {
  if (typeof body !== "string" || body.length === 0) return { dropped: "the message body is empty" };
  const bytes = Buffer.byteLength(body, "utf8");
  if (bytes > MAX_BODY_BYTES) return { dropped: `the message body is ${bytes} bytes, more than ${MAX_BODY_BYTES}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { dropped: "the message body is not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { dropped: "the message body is not a JSON object" };
  }
  const envelope = v.safeParse(EnvelopeSchema, parsed);
  if (!envelope.success) return { dropped: `the message is not an EventBridge event: ${issueText(envelope.issues)}` };
  const event = envelope.output;
  if (event["detail-type"] === CLOUDTRAIL_DETAIL_TYPE) return readCloudTrail(event);
  if (event["detail-type"] === SECURITY_HUB_DETAIL_TYPE) return readSecurityHub(event);
  return {
    dropped: `its detail-type ${quote(event["detail-type"])} is neither "${CLOUDTRAIL_DETAIL_TYPE}" nor "${SECURITY_HUB_DETAIL_TYPE}"`,
  };
}

// ---- schemas: only what is used ----

const text = (max = MAX_TEXT_LENGTH) =>
  v.pipe(
    v.string(),
    v.minLength(1, "must not be empty"),
    v.maxLength(max, `must be at most ${max} characters`),
    v.check((value) => !CONTROL_CHARACTERS.test(value), "must not contain control characters"),
  );
const accountId = v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id"));
const region = v.pipe(v.string(), v.regex(REGION_PATTERN, "must be an AWS region"));
const isoTime = v.pipe(
  v.string(),
  v.regex(ISO_TIME, "must be an ISO 8601 time"),
  v.check((value) => !Number.isNaN(Date.parse(value)), "must be a real time"),
  v.transform((value) => new Date(value).toISOString()),
);
const plainObject = v.custom<Record<string, unknown>>(
  (value) => typeof value === "object" && value !== null && !Array.isArray(value),
  "must be an object",
);

const EnvelopeSchema = v.object({
  "detail-type": v.string("detail-type must be a string"),
  source: v.string("source must be a string"),
  account: accountId,
  region,
  detail: plainObject,
});
type Envelope = v.InferOutput<typeof EnvelopeSchema>;

const ActorSchema = v.object({
  type: v.optional(text()),
  arn: v.optional(text()),
  invokedBy: v.optional(text()),
  sessionContext: v.optional(
    v.object({
      sourceIdentity: v.optional(text()),
      sessionIssuer: v.optional(v.object({ arn: v.optional(text()) })),
    }),
  ),
});

const CloudTrailDetailSchema = v.object({
  eventID: text(128),
  eventSource: text(128),
  eventName: text(128),
  eventTime: isoTime,
  awsRegion: region,
  recipientAccountId: accountId,
  userIdentity: v.optional(ActorSchema),
});

const FindingSchema = v.object({
  Id: text(512),
  GeneratorId: v.optional(text(512)),
  AwsAccountId: accountId,
  Region: v.optional(region),
  UpdatedAt: isoTime,
  RecordState: text(32),
  Compliance: v.optional(v.object({ Status: v.optional(text(32)), SecurityControlId: v.optional(text(64)) })),
  Workflow: v.optional(v.object({ Status: v.optional(text(32)) })),
  // Older (not consolidated) control findings name their control only here.
  ProductFields: v.optional(v.object({ ControlId: v.optional(text(64)) })),
  Resources: v.pipe(
    v.array(
      v.object({
        Type: text(256),
        Id: text(MAX_TEXT_LENGTH),
        Region: v.optional(region),
      }),
    ),
    v.maxLength(MAX_FINDINGS, `must list at most ${MAX_FINDINGS} resources`),
  ),
});
type Finding = v.InferOutput<typeof FindingSchema>;

// ---- CloudTrail ----

interface TriggerOf {
  spec: ProblemSpec<Problem>;
  trigger: CloudTrailTrigger;
}

/** Every problem's CloudTrail triggers by `eventSource eventName`: the union over problems. */
const TRIGGERS = new Map<string, TriggerOf[]>();
for (const spec of PROBLEM_SPECS as readonly ProblemSpec<Problem>[]) {
  for (const trigger of spec.realtime.cloudTrail) {
    const key = `${trigger.eventSource} ${trigger.eventName}`;
    TRIGGERS.set(key, [...(TRIGGERS.get(key) ?? []), { spec, trigger }]);
  }
}

function readCloudTrail(event: Envelope): ReadEvent {
  const { detail } = event;
  // A failed call changed nothing (the rule's pattern already leaves them out: this is the check, not the filter).
  if (detail.errorCode !== undefined) {
    return { dropped: `the call failed (errorCode ${quote(String(detail.errorCode))}): it changed nothing` };
  }
  const parsed = v.safeParse(CloudTrailDetailSchema, detail);
  if (!parsed.success) return { dropped: `the CloudTrail event is malformed: ${issueText(parsed.issues)}` };
  const call = parsed.output;
  const name = `${call.eventSource} ${call.eventName}`;
  const triggers = TRIGGERS.get(name);
  if (!triggers)
    return { dropped: `${quote(call.eventName)} from ${quote(call.eventSource)} opens no problem Remedy fixes` };
  const expectedSource = eventBridgeSource(call.eventSource);
  if (event.source !== expectedSource) {
    return { dropped: `its source ${quote(event.source)} is not ${expectedSource}, the source of ${call.eventSource}` };
  }
  if (call.recipientAccountId !== event.account) {
    return {
      dropped: `its recipientAccountId ${call.recipientAccountId} is not the event's account ${event.account}`,
    };
  }
  if (call.awsRegion !== event.region) {
    return { dropped: `its awsRegion ${call.awsRegion} is not the event's region ${event.region}` };
  }

  const base = {
    source: "cloudtrail" as const,
    ref: call.eventID,
    trigger: call.eventName,
    accountId: call.recipientAccountId,
    region: call.awsRegion,
    at: call.eventTime,
    ...(call.userIdentity ? { actor: actorOf(call.userIdentity) } : {}),
  };
  const sightings: Sighting[] = [];
  const accountTriggers = triggers.filter(({ trigger }) => trigger.resourceIds === "account");
  if (accountTriggers.length > 0) {
    sightings.push({
      kind: "account",
      ...base,
      problems: unique(accountTriggers.map(({ spec }) => spec.id)),
      ruleIds: unique(accountTriggers.map(({ spec }) => spec.ruleId)),
    });
  }
  const byResource = new Map<string, Extract<Sighting, { kind: "resource" }>>();
  const unnamed: string[] = [];
  for (const { spec, trigger } of triggers) {
    if (trigger.resourceIds === "account") continue;
    const ids = idsAt(detail, trigger.resourceIds);
    if (ids.length === 0) unnamed.push(`${spec.resource.label} (${trigger.resourceIds.join(", ")})`);
    for (const id of ids) {
      const key = `${spec.resourceType}\u0000${id}`;
      const sighting = byResource.get(key);
      if (sighting) {
        if (!sighting.problems.includes(spec.id)) sighting.problems.push(spec.id);
      } else {
        byResource.set(key, {
          kind: "resource",
          ...base,
          problems: [spec.id],
          resourceType: spec.resourceType,
          resourceId: id,
        });
      }
    }
  }
  sightings.push(...byResource.values());
  if (sightings.length === 0) {
    return { dropped: `${call.eventName} ${call.eventID} names no plausible id of ${unique(unnamed).join(" or ")}` };
  }
  return { sightings };
}

function actorOf(identity: v.InferOutput<typeof ActorSchema>): Actor {
  const actor: Actor = {};
  if (identity.type !== undefined) actor.type = identity.type;
  if (identity.arn !== undefined) actor.arn = identity.arn;
  const roleArn = identity.sessionContext?.sessionIssuer?.arn;
  if (roleArn !== undefined) actor.roleArn = roleArn;
  const sourceIdentity = identity.sessionContext?.sourceIdentity;
  if (sourceIdentity !== undefined) actor.sourceIdentity = sourceIdentity;
  if (identity.invokedBy !== undefined) actor.invokedBy = identity.invokedBy;
  return actor;
}

/** The plausible ids at the first path that gives any (deduped, in order). */
export function idsAt(detail: unknown, paths: readonly string[]): string[] {
  for (const path of paths) {
    const ids = unique(valuesAt(detail, path.split(".")).filter(isPlausibleId));
    if (ids.length > 0) return ids;
  }
  return [];
}

function valuesAt(node: unknown, steps: readonly string[]): unknown[] {
  if (steps.length === 0) return [node];
  const [step, ...rest] = steps;
  if (step === "*") return Array.isArray(node) ? node.flatMap((element) => valuesAt(element, rest)) : [];
  if (typeof node !== "object" || node === null || Array.isArray(node)) return [];
  if (!Object.hasOwn(node, step!)) return [];
  return valuesAt((node as Record<string, unknown>)[step!], rest);
}

function isPlausibleId(value: unknown): value is string {
  return (
    typeof value === "string" && value.length > 0 && value.length <= MAX_ID_LENGTH && !CONTROL_CHARACTERS.test(value)
  );
}

// ---- Security Hub ----

type Resource = (typeof RESOURCES)[number];

/** The resource types Security Hub files under each ASFF type (its own, and those some products use as well). */
const SECURITY_HUB_TYPES = new Map<string, Resource[]>();
for (const resource of RESOURCES as readonly Resource[]) {
  const securityHub: Resource["securityHub"] & { otherTypes?: readonly string[] } = resource.securityHub;
  for (const type of [securityHub.type, ...(securityHub.otherTypes ?? [])]) {
    SECURITY_HUB_TYPES.set(type, [...(SECURITY_HUB_TYPES.get(type) ?? []), resource]);
  }
}

function readSecurityHub(event: Envelope): ReadEvent {
  const findings = event.detail.findings;
  if (!Array.isArray(findings) || findings.length === 0) return { dropped: "it carries no findings" };
  if (findings.length > MAX_FINDINGS) {
    return { dropped: `it carries ${findings.length} findings, more than ${MAX_FINDINGS}` };
  }
  const byResource = new Map<string, Extract<Sighting, { kind: "resource" }>>();
  const skipped: string[] = [];
  findings.forEach((raw, index) => {
    const parsed = v.safeParse(FindingSchema, raw);
    if (!parsed.success) {
      skipped.push(`finding ${index + 1} is malformed: ${issueText(parsed.issues)}`);
      return;
    }
    const result = readFinding(parsed.output);
    skipped.push(...result.skipped);
    for (const sighting of result.sightings) {
      const key = `${sighting.accountId}/${sighting.region}/${sighting.resourceType}/${sighting.resourceId}`;
      const seen = byResource.get(key);
      // Two findings on one resource are one reason to look at it: their problems together.
      if (seen) seen.problems = unique([...seen.problems, ...sighting.problems]);
      else byResource.set(key, sighting);
    }
  });
  if (byResource.size === 0) return { dropped: skipped.join("; ") };
  return { sightings: [...byResource.values()] };
}

function readFinding(finding: Finding): { sightings: Extract<Sighting, { kind: "resource" }>[]; skipped: string[] } {
  const name = `finding ${quote(finding.Id)}`;
  const skip = (reason: string) => ({ sightings: [], skipped: [`${name} ${reason}`] });
  if (finding.RecordState !== "ACTIVE") return skip(`is ${quote(finding.RecordState)}, not ACTIVE`);
  const compliance = finding.Compliance?.Status;
  if (compliance !== "FAILED")
    return skip(`is ${compliance === undefined ? "without a compliance status" : quote(compliance)}, not FAILED`);

  const workflow = finding.Workflow?.Status;
  if (workflow !== undefined && CLOSED_WORKFLOW.has(workflow)) return skip(`is ${workflow}`);

  const controlId = finding.Compliance?.SecurityControlId ?? finding.ProductFields?.ControlId;
  const byControl =
    controlId === undefined ? [] : specs().filter((spec) => spec.realtime.securityHub.controls.includes(controlId));
  const generatorId = finding.GeneratorId;
  const byGenerator =
    generatorId === undefined
      ? []
      : specs().filter((spec) => spec.realtime.securityHub.generatorIds.includes(generatorId));
  const matched = byControl.length > 0 ? byControl : byGenerator;
  if (matched.length === 0) {
    const named = [controlId && `control ${quote(controlId)}`, generatorId && `generator ${quote(generatorId)}`]
      .filter(Boolean)
      .join(" and ");
    return skip(`names ${named || "no control or generator"}, which no problem Remedy fixes maps`);
  }
  const trigger = byControl.length > 0 ? controlId! : generatorId!;

  const sightings: Extract<Sighting, { kind: "resource" }>[] = [];
  const skipped: string[] = [];
  for (const resource of finding.Resources) {
    // Of the types filed under this ASFF type, the one the finding's control or check is mapped to.
    const spec = SECURITY_HUB_TYPES.get(resource.Type)?.find((candidate) =>
      matched.some((problem) => problem.resourceType === candidate.type),
    );
    const problems = matched.filter((problem) => problem.resourceType === spec?.type).map((problem) => problem.id);
    if (!spec || problems.length === 0) {
      skipped.push(`${name}: resource type ${quote(resource.Type)} is not one ${trigger} is mapped to`);
      continue;
    }
    const id = spec.securityHub.idFrom(resource.Id);
    if (id === undefined || !isPlausibleId(id)) {
      skipped.push(`${name}: ${quote(resource.Id)} is not a ${spec.label} id`);
      continue;
    }
    const place = resource.Region ?? finding.Region;
    if (place === undefined) {
      skipped.push(`${name}: ${spec.label} ${id} names no region`);
      continue;
    }
    const mismatch = arnMismatch(resource.Id, finding.AwsAccountId, place);
    if (mismatch) {
      skipped.push(`${name}: ${spec.label} ${id} ${mismatch}`);
      continue;
    }
    sightings.push({
      kind: "resource",
      source: "securityhub",
      ref: finding.Id,
      trigger,
      problems,
      resourceType: spec.type,
      resourceId: id,
      accountId: finding.AwsAccountId,
      region: place,
      at: finding.UpdatedAt,
    });
  }
  if (finding.Resources.length === 0) skipped.push(`${name} names no resource`);
  return { sightings, skipped };
}

/**
 * An ARN that names an account or region (an S3 bucket's names neither) must name the finding's. An id that is no ARN
 * (Security Hub's `AWS::::Account:<id>`) is its resource type's to check.
 */
function arnMismatch(arn: string, account: string, region: string): string | undefined {
  if (!arn.startsWith("arn:")) return undefined;
  const [, , , arnRegion, arnAccount] = arn.split(":");
  if (arnAccount && arnAccount !== account) return `is in account ${arnAccount}, not the finding's ${account}`;
  if (arnRegion && arnRegion !== region) return `is in region ${arnRegion}, not ${region}`;
  return undefined;
}

function specs(): readonly ProblemSpec<Problem>[] {
  return PROBLEM_SPECS as readonly ProblemSpec<Problem>[];
}

/** The EventBridge source of a CloudTrail event source: "ec2.amazonaws.com" → "aws.ec2". */
export function eventBridgeSource(eventSource: string): string {
  return `aws.${eventSource.split(".")[0]}`;
}

// ---- words ----

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** A claimed string in a reason: quoted, escaped (JSON) and cut, so a log line shows it without acting on it. */
function quote(value: string): string {
  return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
}

function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0]!;
  const path = issue.path?.map((item) => String(item.key)).join(".");
  return path ? `${path} ${issue.message}` : issue.message;
}
