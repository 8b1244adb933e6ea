// Shared test helpers for the notifier: fixtures by source, a local stand-in for Slack, and a reusable deps set.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { CloudTrailServiceException, type LookupEventsCommandOutput } from "@aws-sdk/client-cloudtrail";
import { RESOURCES } from "../../problems/index.ts";
import type { ResourceSpec } from "../../problems/types.ts";
import { fixture } from "../fixtures/load.ts";

export interface SnsEvent {
  Records: { EventSource: string; Sns: { MessageId: string; Message: string; Subject: string | null } }[];
}

/** A Lambda SNS event fixture, e.g. snsEvent("remedy/fixed-sg"). */
export function snsEvent(variant: string): SnsEvent {
  return fixture<SnsEvent>(`sns/${variant}.json`);
}

/** One event holding the records of several fixtures, in order. */
export function snsBatch(...variants: string[]): SnsEvent {
  return { Records: variants.flatMap((variant) => snsEvent(variant).Records) };
}

/** The Message string of a fixture's (first) record. */
export function snsMessage(variant: string): string {
  return snsEvent(variant).Records[0]!.Sns.Message;
}

export function snsMessageId(variant: string): string {
  return snsEvent(variant).Records[0]!.Sns.MessageId;
}

/** A recorded LookupEvents response, with EventTime as the SDK returns it (a Date). */
export function lookupResponse(variant: string): LookupEventsCommandOutput {
  const response = fixture<LookupEventsCommandOutput>(`cloudtrail/${variant}.json`);
  // JSON holds the time as a string; the SDK gives a Date.
  for (const event of response.Events ?? []) event.EventTime = new Date(event.EventTime as unknown as string);
  return response;
}

/** A recorded CloudTrail error, as the SDK throws it. */
export function cloudTrailError(variant: string): CloudTrailServiceException {
  const { name, message, $fault, $metadata } = fixture<{
    name: string;
    message: string;
    $fault: "client" | "server";
    $metadata: Record<string, unknown>;
  }>(`cloudtrail/errors/${variant}.json`);
  return new CloudTrailServiceException({ name, message, $fault, $metadata });
}

export interface SlackRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface ScriptedResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Close the connection without answering (a network error). */
  hangUp?: boolean;
  /** Answer only after this long (to trip the client's timeout). */
  delayMs?: number;
}

export interface FakeSlack {
  /** Base URL, e.g. http://127.0.0.1:54321 — append a path for a webhook URL. */
  url: string;
  requests: SlackRequest[];
  close(): Promise<void>;
}

/**
 * A local HTTP server standing in for Slack's webhook endpoint, on 127.0.0.1 and a random port. It answers from
 * `script` in order, then with `fallback` (Slack's 200 "ok" by default).
 */
export async function fakeSlack(
  script: ScriptedResponse[] = [],
  fallback: ScriptedResponse = { status: 200, body: "ok" },
): Promise<FakeSlack> {
  const requests: SlackRequest[] = [];
  const queue = [...script];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {}
      requests.push({ method: request.method ?? "", path: request.url ?? "", headers: request.headers, body });
      const answer = queue.shift() ?? fallback;
      if (answer.hangUp) {
        request.socket.destroy();
        return;
      }
      const reply = () => {
        if (response.destroyed) return;
        response.writeHead(answer.status, { "content-type": "text/html", ...answer.headers });
        response.end(answer.body ?? "");
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs).unref();
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A sleep that returns at once and remembers what it was asked to wait. */
export function recordingSleep(): ((ms: number) => Promise<void>) & { waits: number[] } {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
  };
  return Object.assign(sleep, { waits });
}

/**
 * A fixture's SNS event with its Message changed by `edit` (parsed, edited, serialised again): the envelope stays
 * exactly as AWS sends it, so a forged message is tested in the shape it really arrives in.
 */
export function snsEventWith(variant: string, edit: (message: Record<string, unknown>) => void): SnsEvent {
  const event = snsEvent(variant);
  const record = event.Records[0]!;
  const message = JSON.parse(record.Sns.Message) as Record<string, unknown>;
  edit(message);
  record.Sns.Message = JSON.stringify(message);
  return event;
}

/** Every text Slack reads in a posted payload: the fallback `text` and each block's text, in order. */
export function slackTexts(payload: unknown): string[] {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === "text" && typeof child === "string") texts.push(child);
        else walk(child);
      }
    }
  };
  walk(payload);
  return texts;
}

const REGION = String.raw`[a-z]{2}(?:-[a-z]+)+-\d`;
/** What encodeURIComponent can output. */
const ENCODED = String.raw`[A-Za-z0-9\-_.!~*'()%]+`;
/** A registered resource type's console link as its spec builds it (problems/<folder>/resource.ts), any id and region. */
function resourceLinkPattern(resource: Pick<ResourceSpec, "consoleUrl">): string {
  const [id, region] = ["RESOURCE-ID-SLOT", "xx-region-slot-9"];
  const url = resource.consoleUrl(id, region).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return url.replaceAll(region, REGION).replaceAll(id, ENCODED);
}
/** The links the renderer builds itself, from validated ids only (each resource type's, an alarm's, a queue's). */
const CONSOLE_LINK = new RegExp(
  String.raw`<(?:${[
    ...RESOURCES.map(resourceLinkPattern),
    String.raw`https://${REGION}\.console\.aws\.amazon\.com/cloudwatch/home\?region=${REGION}#alarmsV2:alarm/${ENCODED}`,
    String.raw`https://${REGION}\.console\.aws\.amazon\.com/sqs/v3/home\?region=${REGION}#/queues/${ENCODED}`,
  ].join("|")})\|[^<>]*>`,
  "g",
);
/** A time Slack shows in the reader's time zone, as `when()` builds it. */
const LOCAL_DATE = /<!date\^-?\d+\^\{date_short_pretty\} \{time_secs\}\|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC>/g;

/**
 * Slack markup (`<...>`: mentions, channel links, links, dates) in a payload that Remedy did not put there itself.
 * Intentional are only: console links built from validated ids, `<!date^…>` times, and mentions of the Slack user
 * ids in `slackUserIds` (the configured principal → Slack user mapping). All else must be escaped (`&lt;`).
 */
export function unintendedMarkup(payload: unknown, slackUserIds: readonly string[]): string[] {
  const mentions = slackUserIds.map((id) => `<@${id}>`);
  return slackTexts(payload).flatMap((text) => {
    let rest = text.replace(CONSOLE_LINK, "").replace(LOCAL_DATE, "");
    for (const mention of mentions) rest = rest.replaceAll(mention, "");
    return [...rest.matchAll(/<[^\n]{0,40}/g)].map((match) => match[0]);
  });
}

/** The contents of every code block and code span in a payload's mrkdwn and fallback text. */
export function codeContents(payload: unknown): string[] {
  return slackTexts(payload).flatMap((text) => [
    ...[...text.matchAll(/```\n?([\s\S]*?)\n?```/g)].map((match) => match[1]!),
    ...[...text.replace(/```[\s\S]*?```/g, "").matchAll(/`([^`\n]*)`/g)].map((match) => match[1]!),
  ]);
}
