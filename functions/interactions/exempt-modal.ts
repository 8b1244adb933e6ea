// The Exempt… modal: what it asks (a reason, an expiry date), what it carries (private_metadata: which instruction
// and which message), and the checks of what comes back. Slack echoes private_metadata as we wrote it, but it
// arrives in a request like any other: it is parsed and validated again, never trusted as written. Pure.

import * as v from "valibot";
import { INSTRUCTION_ID_PATTERN } from "../../contract/ids.ts";
import { isResponseUrl } from "../../platform/slack-web-api.ts";
import type { ViewInput } from "./verify.ts";
import { CHANNEL_ID_PATTERN, MESSAGE_TS_PATTERN } from "./work-item.ts";

export const EXEMPT_CALLBACK_ID = "remedy:exempt";
export const REASON_BLOCK = "remedy:exempt-reason";
export const REASON_ACTION = "reason";
export const EXPIRES_BLOCK = "remedy:exempt-expires";
export const EXPIRES_ACTION = "expires";
export const REASON_LENGTH = { min: 10, max: 500 } as const;
/** An exemption from Slack ends at most this many days after today (UTC); the CLI's allowlist has no such cap. */
export const MAX_EXEMPT_DAYS = 90;
/** Slack's limit on private_metadata. */
export const MAX_PRIVATE_METADATA = 3_000;

const DAY_MS = 86_400_000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface ExemptMetadata {
  instructionId: string;
  channelId?: string;
  ts?: string;
  responseUrl?: string;
}

const MetadataSchema = v.strictObject({
  instructionId: v.pipe(v.string(), v.regex(INSTRUCTION_ID_PATTERN)),
  channelId: v.optional(v.pipe(v.string(), v.regex(CHANNEL_ID_PATTERN))),
  ts: v.optional(v.pipe(v.string(), v.regex(MESSAGE_TS_PATTERN))),
  responseUrl: v.optional(v.pipe(v.string(), v.check(isResponseUrl))),
});

/** The metadata as the modal carries it; undefined when it cannot be carried (a message ts or URL too long). */
export function encodeMetadata(metadata: ExemptMetadata): string | undefined {
  const text = JSON.stringify(metadata);
  if (text.length <= MAX_PRIVATE_METADATA) return text;
  // Without the response_url the worker can still update the message itself.
  const { responseUrl: _dropped, ...rest } = metadata;
  const shorter = JSON.stringify(rest);
  return shorter.length <= MAX_PRIVATE_METADATA ? shorter : undefined;
}

export function parseMetadata(text: string): ExemptMetadata | undefined {
  if (text.length > MAX_PRIVATE_METADATA) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(MetadataSchema, value);
  if (!parsed.success) return undefined;
  const { instructionId, channelId, ts, responseUrl } = parsed.output;
  return {
    instructionId,
    ...(channelId !== undefined ? { channelId } : {}),
    ...(ts !== undefined ? { ts } : {}),
    ...(responseUrl !== undefined ? { responseUrl } : {}),
  };
}

const plain = (text: string, max: number) => ({
  type: "plain_text",
  text: text.length > max ? `${text.slice(0, max - 1)}…` : text,
  emoji: false,
});

/** "YYYY-MM-DD" of a day `days` after `now`'s (UTC). */
export function utcDay(now: Date, days = 0): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + days * DAY_MS)
    .toISOString()
    .slice(0, 10);
}

/**
 * The modal (views.open's `view`). What it names comes from the pending instruction and is shown as plain text, so
 * a resource id cannot format or mention anything.
 */
export function exemptView(input: {
  metadata: string;
  problem: string;
  resource: string;
  accountId: string;
  now: Date;
}): Record<string, unknown> {
  return {
    type: "modal",
    callback_id: EXEMPT_CALLBACK_ID,
    private_metadata: input.metadata,
    title: plain("Exempt from Remedy", 24),
    submit: plain("Exempt", 24),
    close: plain("Cancel", 24),
    blocks: [
      {
        type: "section",
        text: plain(
          `${input.problem} on ${input.resource} (account ${input.accountId}): Remedy will leave it as it is until the date below.`,
          3_000,
        ),
      },
      {
        type: "input",
        block_id: REASON_BLOCK,
        label: plain("Why is this intended?", 2_000),
        element: {
          type: "plain_text_input",
          action_id: REASON_ACTION,
          multiline: true,
          min_length: REASON_LENGTH.min,
          max_length: REASON_LENGTH.max,
        },
      },
      {
        type: "input",
        block_id: EXPIRES_BLOCK,
        label: plain(`Until (at most ${MAX_EXEMPT_DAYS} days)`, 2_000),
        element: { type: "datepicker", action_id: EXPIRES_ACTION, initial_date: utcDay(input.now, 7) },
      },
    ],
  };
}

export type ExemptInput = { ok: true; reason: string; expires: string } | { ok: false; errors: Record<string, string> };

/** Checks the submitted reason and date (Slack checks them too, but a request can say anything). */
export function readExemptInput(values: Record<string, Record<string, ViewInput>>, now: Date): ExemptInput {
  const errors: Record<string, string> = {};
  const reasonInput = Object.hasOwn(values, REASON_BLOCK) ? values[REASON_BLOCK] : undefined;
  const reason =
    (reasonInput && Object.hasOwn(reasonInput, REASON_ACTION)
      ? reasonInput[REASON_ACTION]?.value
      : undefined
    )?.trim() ?? "";
  const reasonError = checkReason(reason);
  if (reasonError) errors[REASON_BLOCK] = reasonError;
  const expiresInput = Object.hasOwn(values, EXPIRES_BLOCK) ? values[EXPIRES_BLOCK] : undefined;
  const expires =
    (expiresInput && Object.hasOwn(expiresInput, EXPIRES_ACTION)
      ? expiresInput[EXPIRES_ACTION]?.selectedDate
      : undefined) ?? "";
  const dateError = checkExpiry(expires, now);
  if (dateError) errors[EXPIRES_BLOCK] = dateError;
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, reason, expires };
}

/**
 * Why an exemption's reason and expiry (as a decision records them) are not what the form accepts, or undefined:
 * the worker checks them again before it writes the allowlist entry (the record is a claim too).
 */
export function exemptInputProblem(reason: unknown, expires: unknown, now: Date): string | undefined {
  if (typeof reason !== "string" || reason !== reason.trim()) return "the reason is not one the form accepts";
  const reasonError = checkReason(reason);
  if (reasonError) return `the reason: ${reasonError}`;
  if (typeof expires !== "string") return "no expiry date";
  const dateError = checkExpiry(expires, now);
  return dateError ? `the expiry ${expires}: ${dateError}` : undefined;
}

function checkReason(reason: string): string | undefined {
  if (reason.length < REASON_LENGTH.min || reason.length > REASON_LENGTH.max) {
    return `Say why in ${REASON_LENGTH.min} to ${REASON_LENGTH.max} characters.`;
  }
  return undefined;
}

function checkExpiry(expires: string, now: Date): string | undefined {
  const match = DATE_PATTERN.exec(expires);
  if (!match) return "Pick the last day of the exemption.";
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return "Pick a real date.";
  }
  if (expires <= utcDay(now)) return "Pick a day after today (UTC).";
  if (expires > utcDay(now, MAX_EXEMPT_DAYS)) return `Pick a day at most ${MAX_EXEMPT_DAYS} days from today.`;
  return undefined;
}
