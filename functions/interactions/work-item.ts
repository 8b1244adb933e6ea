// What the interactions endpoint hands its worker (an asynchronous Lambda invoke): which decision to carry out and
// where to answer. A claim like any message: the worker re-reads the decision it names from the ledger bucket and
// acts only when the two are the same record. Pure.
import { createHash } from "node:crypto";
import * as v from "valibot";
import { canonicalJson } from "../../contract/canonical-json.ts";
import { type DecisionRecord, parseDecisionRecord } from "../../contract/decisions.ts";
import { PermanentError } from "../../platform/errors.ts";
import { isResponseUrl } from "../../platform/slack-web-api.ts";

export const WORK_ITEM_KIND = "remedy-interaction";
export const WORK_ITEM_VERSION = 1;

/** A Slack channel id (C…, G… private, D… direct) and a message ts ("1790000000.000001"). */
export const CHANNEL_ID_PATTERN = /^[CGD][A-Z0-9]{2,}$/;
export const MESSAGE_TS_PATTERN = /^\d{1,12}\.\d{1,9}$/;
/** A message has at most 50 blocks; its echo is kept only while it fits an async invoke comfortably. */
export const MAX_MESSAGE_BLOCKS = 50;
export const MAX_BLOCKS_JSON_CHARS = 96 * 1024;

export class InvalidWorkItemError extends PermanentError {
  override name = "InvalidWorkItemError";
}

const MessageSchema = v.strictObject({
  channelId: v.pipe(v.string(), v.regex(CHANNEL_ID_PATTERN, "must be a Slack channel id")),
  ts: v.pipe(v.string(), v.regex(MESSAGE_TS_PATTERN, "must be a Slack message ts")),
  /** The message's blocks as Slack echoed them with the press (absent for a modal's submission). */
  blocks: v.optional(
    v.pipe(
      v.array(v.record(v.string(), v.unknown())),
      v.maxLength(MAX_MESSAGE_BLOCKS, `must hold at most ${MAX_MESSAGE_BLOCKS} blocks`),
    ),
  ),
});

const WorkItemSchema = v.strictObject({
  kind: v.literal(WORK_ITEM_KIND),
  version: v.literal(WORK_ITEM_VERSION),
  decisionKey: v.pipe(v.string(), v.regex(/^decisions\/[A-Za-z0-9-]+\/[a-z-]+\.json$/, "must be a decision key")),
  decision: v.unknown(),
  responseUrl: v.optional(v.pipe(v.string(), v.check(isResponseUrl, "must be an https://hooks.slack.com/ URL"))),
  message: v.optional(MessageSchema),
});

export interface MessageRef {
  channelId: string;
  ts: string;
  blocks?: Record<string, unknown>[];
}

export interface WorkItem {
  kind: typeof WORK_ITEM_KIND;
  version: typeof WORK_ITEM_VERSION;
  decisionKey: string;
  decision: DecisionRecord;
  responseUrl?: string;
  message?: MessageRef;
}

export function parseWorkItem(value: unknown): WorkItem {
  const parsed = v.safeParse(WorkItemSchema, value);
  if (!parsed.success) {
    const [issue] = parsed.issues;
    throw new InvalidWorkItemError(`work item: ${v.getDotPath(issue) ?? "item"}: ${issue.message}`);
  }
  let decision: DecisionRecord;
  try {
    decision = parseDecisionRecord(parsed.output.decision, "work item: decision");
  } catch (error) {
    throw new InvalidWorkItemError((error as Error).message);
  }
  const { responseUrl, message } = parsed.output;
  return {
    kind: WORK_ITEM_KIND,
    version: WORK_ITEM_VERSION,
    decisionKey: parsed.output.decisionKey,
    decision,
    ...(responseUrl !== undefined ? { responseUrl } : {}),
    ...(message !== undefined ? { message } : {}),
  };
}

/** The decision's `details` field that binds the item's unrecorded parts (its response_url and message) to it. */
export const ITEM_SHA256_DETAIL = "itemSha256";

/**
 * SHA-256 (hex) of the item's parts the decision record does not otherwise hold: where to answer and the message
 * (with the blocks echoed by the press) it updates. The endpoint records it in the decision's details; the worker
 * recomputes it from the item it got and refuses an item whose parts were changed.
 */
export function workItemSha256(item: { responseUrl?: string | undefined; message?: MessageRef | undefined }): string {
  return createHash("sha256")
    .update(canonicalJson({ responseUrl: item.responseUrl, message: item.message }), "utf8")
    .digest("hex");
}

/**
 * The message a press came from, for the work item: only a valid channel and ts, and its blocks only when they are
 * objects and small enough (else the worker reads the message itself).
 */
export function messageRef(
  message: { channelId?: string; ts: string; blocks?: unknown[] } | undefined,
): MessageRef | undefined {
  if (!message?.channelId || !CHANNEL_ID_PATTERN.test(message.channelId) || !MESSAGE_TS_PATTERN.test(message.ts)) {
    return undefined;
  }
  const ref: MessageRef = { channelId: message.channelId, ts: message.ts };
  const blocks = message.blocks;
  if (
    blocks !== undefined &&
    blocks.length <= MAX_MESSAGE_BLOCKS &&
    blocks.every((block) => typeof block === "object" && block !== null && !Array.isArray(block)) &&
    JSON.stringify(blocks).length <= MAX_BLOCKS_JSON_CHARS
  ) {
    ref.blocks = blocks as Record<string, unknown>[];
  }
  return ref;
}
