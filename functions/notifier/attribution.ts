// Who made the change: the most recent CloudTrail event that opened the hole on a resource. Best effort — any
// failure becomes "unknown" with a reason, never a failed notification.
import {
  type CloudTrailClient,
  type Event,
  LookupEventsCommand,
  type LookupEventsCommandOutput,
} from "@aws-sdk/client-cloudtrail";
import { errorFields, type Log } from "../../platform/logging.ts";
import { RESOURCES } from "../../problems/index.ts";
import { ownValue } from "./ids.ts";

/** Events that can open the hole, by resource type (CloudTrail eventName): each resource spec's. */
export const OPENING_EVENTS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  RESOURCES.map((resource) => [resource.type, resource.openingEvents]),
);

/** Resource types whose opening events name no resource (an account-level setting's): looked up by event name. */
const LOOKED_UP_BY_EVENT_NAME: ReadonlySet<string> = new Set(
  RESOURCES.filter((resource) => (resource as { cloudTrailNamesIt?: false }).cloudTrailNamesIt === false).map(
    (resource) => resource.type,
  ),
);

/** What LookupEvents is asked for a target: its id as ResourceName, or each opening event by name. */
function lookups(target: AttributionTarget, eventNames: readonly string[]) {
  return LOOKED_UP_BY_EVENT_NAME.has(target.resourceType)
    ? eventNames.map((name) => ({ AttributeKey: "EventName" as const, AttributeValue: name }))
    : [{ AttributeKey: "ResourceName" as const, AttributeValue: target.resourceId }];
}

export const LOOKUP_PAGE_SIZE = 50;
export const LOOKUP_MAX_PAGES = 2;

export interface Principal {
  /** userIdentity.type: IAMUser, AssumedRole, Root, AWSService, FederatedUser, ... */
  type: string;
  /** e.g. "IAM user alice", "alice@example.com (role AWSReservedSSO_Admin_abc)" */
  description: string;
  arn?: string;
  /** Keys tried, in order, against the principal → Slack user mapping. */
  keys: string[];
}

export interface ChangeEvent {
  eventName: string;
  eventTime: string;
  eventId?: string;
  principal: Principal;
  sourceIp?: string;
  /** First word of the user agent, or "AWS console". */
  userAgent?: string;
  slackUserId?: string;
}

export type Attribution = { found: true; event: ChangeEvent } | { found: false; reason: string };

export interface AttributionTarget {
  resourceType: string;
  resourceId: string;
  accountId: string;
  region: string;
}

export interface AttributionDeps {
  cloudTrail: CloudTrailClient;
  /** Where the CloudTrail client looks: the function's own region, and account when known. */
  home: { region: string; accountId?: string };
  lookbackDays: number;
  /** Principal ARN, IAM user name or assumed-role session name → Slack user id. */
  slackUsers: Readonly<Record<string, string>>;
  now: () => Date;
  log: Log;
}

export async function attribute(target: AttributionTarget, deps: AttributionDeps): Promise<Attribution> {
  const eventNames = ownValue(OPENING_EVENTS, target.resourceType);
  if (!eventNames) return { found: false, reason: `no CloudTrail lookup for ${target.resourceType}` };
  if (target.region !== deps.home.region) {
    return {
      found: false,
      reason: `the resource is in ${target.region}; CloudTrail is looked up in ${deps.home.region} only`,
    };
  }
  if (deps.home.accountId && target.accountId !== deps.home.accountId) {
    return {
      found: false,
      reason: `the resource is in account ${target.accountId}; CloudTrail is looked up in ${deps.home.accountId} only`,
    };
  }
  const now = deps.now();
  const startTime = new Date(now.getTime() - deps.lookbackDays * 86_400_000);
  let nextToken: string | undefined;
  try {
    // Each lookup's pages newest first: the first opening event found in a lookup is its most recent; of several
    // lookups (one per event name), the most recent of theirs.
    const found: ParsedEvent[] = [];
    for (const attribute of lookups(target, eventNames)) {
      nextToken = undefined;
      for (let page = 0; page < LOOKUP_MAX_PAGES; page++) {
        const response: LookupEventsCommandOutput = await deps.cloudTrail.send(
          new LookupEventsCommand({
            LookupAttributes: [attribute],
            StartTime: startTime,
            EndTime: now,
            MaxResults: LOOKUP_PAGE_SIZE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        const match = mostRecentOpening(response.Events ?? [], eventNames);
        nextToken = response.NextToken;
        if (match) {
          found.push(match);
          break;
        }
        if (!nextToken) break;
      }
    }
    const latest = mostRecent(found);
    if (latest) return { found: true, event: describeEvent(latest, deps.slackUsers) };
  } catch (error) {
    deps.log.warn("CloudTrail lookup failed; who made the change is unknown", {
      resourceId: target.resourceId,
      ...errorFields(error),
    });
    const status = httpStatusOf(error);
    return {
      found: false,
      reason: `CloudTrail lookup failed (${errorFields(error).errorName}${status ? `, HTTP ${status}` : ""})`,
    };
  }
  const searched = nextToken ? `the latest ${LOOKUP_PAGE_SIZE * LOOKUP_MAX_PAGES} events` : "CloudTrail";
  return {
    found: false,
    reason: `no change event for ${target.resourceId} in ${searched} of the last ${deps.lookbackDays} days (new events can take up to 15 minutes to appear)`,
  };
}

/**
 * The HTTP status CloudTrail answered with, if it answered: in the SDK's metadata, or on the raw response the SDK
 * keeps when the answer could not be read (a SyntaxError alone would not say that the service sent an error page).
 */
function httpStatusOf(error: unknown): number | undefined {
  const shape = error as { $metadata?: { httpStatusCode?: unknown }; $response?: { statusCode?: unknown } };
  const status = shape?.$metadata?.httpStatusCode ?? shape?.$response?.statusCode;
  return typeof status === "number" ? status : undefined;
}

interface ParsedEvent {
  event: Event;
  detail: Record<string, unknown> | undefined;
}

function parseDetail(event: Event): Record<string, unknown> | undefined {
  if (!event.CloudTrailEvent) return undefined;
  try {
    const value = JSON.parse(event.CloudTrailEvent) as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function mostRecentOpening(events: readonly Event[], eventNames: readonly string[]): ParsedEvent | undefined {
  return mostRecent(
    events
      .filter((event) => event.EventName !== undefined && eventNames.includes(event.EventName))
      .map((event) => ({ event, detail: parseDetail(event) }))
      .filter(({ event, detail }) => opensHole(event.EventName ?? "", detail)),
  );
}

function mostRecent(events: readonly ParsedEvent[]): ParsedEvent | undefined {
  return [...events].sort((a, b) => (b.event.EventTime?.getTime() ?? 0) - (a.event.EventTime?.getTime() ?? 0))[0];
}

const PUBLIC_ACL = /global\/AllUsers|global\/AuthenticatedUsers|public-read|authenticated-read/;

/**
 * Whether an event of an opening kind really opened something. Failed calls did not, and the same API calls close
 * holes too (Remedy's own fixes: all-true Block Public Access, a policy or ACL without the public parts). When the
 * request parameters are missing the event counts: better a likely name than none.
 */
export function opensHole(eventName: string, detail: Record<string, unknown> | undefined): boolean {
  if (detail?.errorCode) return false;
  const request = detail?.requestParameters as Record<string, unknown> | null | undefined;
  if (!request) return true;
  switch (eventName) {
    case "PutPublicAccessBlock":
    case "PutBucketPublicAccessBlock":
    case "PutAccountPublicAccessBlock": {
      const config = request.PublicAccessBlockConfiguration as Record<string, unknown> | undefined;
      if (!config) return true;
      return ["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"].some(
        (flag) => config[flag] !== true,
      );
    }
    case "PutBucketAcl":
      return PUBLIC_ACL.test(JSON.stringify(request));
    case "PutBucketPolicy": {
      const policy = request.bucketPolicy as { Statement?: unknown } | undefined;
      if (!policy || typeof policy !== "object") return true;
      const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
      return statements.some((statement) => isPublicStatement(statement));
    }
    default:
      return true;
  }
}

function isPublicStatement(statement: unknown): boolean {
  if (typeof statement !== "object" || statement === null) return false;
  const { Effect, Principal, Condition } = statement as Record<string, unknown>;
  if (Effect !== "Allow" || Condition !== undefined) return false;
  const everyone = (value: unknown) => value === "*" || (Array.isArray(value) && value.includes("*"));
  return everyone(Principal) || (typeof Principal === "object" && everyone((Principal as { AWS?: unknown })?.AWS));
}

function describeEvent({ event, detail }: ParsedEvent, slackUsers: Readonly<Record<string, string>>): ChangeEvent {
  const principal = principalOf(detail?.userIdentity, event.Username);
  const slackUserId = principal.keys.map((key) => ownValue(slackUsers, key)).find((id) => id !== undefined);
  const sourceIp = typeof detail?.sourceIPAddress === "string" ? detail.sourceIPAddress : undefined;
  const userAgent = typeof detail?.userAgent === "string" ? shortUserAgent(detail.userAgent) : undefined;
  return {
    eventName: event.EventName ?? "unknown",
    eventTime: (event.EventTime ?? new Date(String(detail?.eventTime))).toISOString(),
    ...(event.EventId ? { eventId: event.EventId } : {}),
    principal,
    ...(sourceIp ? { sourceIp } : {}),
    ...(userAgent ? { userAgent } : {}),
    ...(slackUserId ? { slackUserId } : {}),
  };
}

const str = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);

/** Names the principal of a CloudTrail userIdentity in words, and the keys that may map it to a Slack user. */
export function principalOf(userIdentity: unknown, username?: string): Principal {
  const identity = (typeof userIdentity === "object" && userIdentity !== null ? userIdentity : {}) as Record<
    string,
    unknown
  >;
  const type = str(identity.type) ?? "Unknown";
  const arn = str(identity.arn);
  const accountId = str(identity.accountId);
  const withArn = (description: string, keys: (string | undefined)[]): Principal => ({
    type,
    description,
    ...(arn ? { arn } : {}),
    keys: [...new Set([arn, ...keys].filter((key): key is string => key !== undefined))],
  });
  switch (type) {
    case "IAMUser": {
      const name = str(identity.userName) ?? arn?.split("/").pop() ?? username;
      return withArn(`IAM user ${name ?? "(unnamed)"}`, [name]);
    }
    case "AssumedRole": {
      const issuer = (identity.sessionContext as { sessionIssuer?: Record<string, unknown> } | undefined)
        ?.sessionIssuer;
      const parts = arn?.split(":").pop()?.split("/") ?? [];
      const role = str(issuer?.userName) ?? parts[1] ?? "(unknown role)";
      const session = parts.length >= 3 ? parts.slice(2).join("/") : undefined;
      return withArn(session ? `${session} (role ${role})` : `role ${role}`, [session, str(issuer?.arn)]);
    }
    case "Root":
      return withArn(`root user of account ${accountId ?? "(unknown)"}`, []);
    case "AWSService":
      return withArn(`AWS service ${str(identity.invokedBy) ?? "(unknown)"}`, []);
    case "FederatedUser": {
      const name = arn?.split("/").pop();
      return withArn(`federated user ${name ?? "(unknown)"}`, [name]);
    }
    default: {
      const name = arn ?? str(identity.principalId) ?? username;
      return withArn(name ? `${type} ${name}` : "unknown principal", [username]);
    }
  }
}

/** Tools worth naming, found anywhere in a user agent, before its first word. */
const KNOWN_TOOLS = [
  /\bTerraform\/[\w.-]+/,
  /\bPulumi\/[\w.-]+/,
  /\baws-cdk\/[\w.-]+/,
  /\baws-cli\/[\w.-]+/,
  /\bBoto3\/[\w.-]+/,
  /\baws-sdk-[\w-]+\/[\w.-]+/,
];

/** "aws-cli/2.15.30", "Terraform/1.9.5", "AWS console"... */
export function shortUserAgent(userAgent: string): string {
  if (/console|signin\.amazonaws\.com/i.test(userAgent)) return "AWS console";
  if (userAgent === "AWS Internal") return userAgent;
  for (const tool of KNOWN_TOOLS) {
    const match = tool.exec(userAgent);
    if (match) return match[0];
  }
  const first = userAgent.replace(/^\[/, "").split(/[\s,]+/)[0] ?? userAgent;
  return first.length > 60 ? `${first.slice(0, 59)}…` : first;
}
