// Is this request from Slack, for this app in this workspace? Slack's v0 signing scheme ("Verifying requests from
// Slack"): HMAC-SHA256 over `v0:<X-Slack-Request-Timestamp>:<raw body>` with the app's signing secret, hex, sent as
// `X-Slack-Signature: v0=<hex>`; a timestamp more than five minutes from now is a replay. Only a request whose
// signature holds is parsed at all: its `payload` form field (block_actions or view_submission JSON) is validated and
// must name the expected workspace and app. Pure (`now` is passed in); refuses, never throws.
//
// `genuine` says whether Slack sent it: false (bad or missing signature, stale timestamp) — answer nothing useful,
// it may be anyone; true (signed, but another workspace or app, or a payload Remedy cannot read) — a real person
// pressed something, so the handler may tell them why nothing happened.
import { createHmac, timingSafeEqual } from "node:crypto";
import * as v from "valibot";
import { SLACK_USER_ID } from "../notifier/ids.ts";

/** Slack's documented replay window, either direction. */
export const SLACK_TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

export const SIGNATURE_HEADER = "x-slack-signature";
export const TIMESTAMP_HEADER = "x-slack-request-timestamp";

const SIGNATURE_SHAPE = /^v0=([0-9a-f]{64})$/;
/** Seconds since the epoch; 15 digits is far beyond any real time and keeps Number() exact. */
const TIMESTAMP_SHAPE = /^\d{1,15}$/;

export interface BlockAction {
  actionId: string;
  blockId?: string;
  value?: string;
}

export interface ViewInput {
  type: string;
  value?: string;
  selectedOption?: string;
  selectedDate?: string;
}

interface InteractionBase {
  teamId: string;
  appId: string;
  userId: string;
  triggerId?: string;
}

/** A button press on a message. */
export interface BlockActionsInteraction extends InteractionBase {
  type: "block_actions";
  actions: BlockAction[];
  /** Where to answer; always https://hooks.slack.com/…. */
  responseUrl?: string;
  /** The message the button was on (channel and ts), when Slack says; its blocks as Slack echoes them. */
  message?: { channelId?: string; ts: string; blocks?: unknown[] };
}

/** A modal's submit (the exemption form). */
export interface ViewSubmissionInteraction extends InteractionBase {
  type: "view_submission";
  view: {
    id: string;
    callbackId: string;
    privateMetadata: string;
    /** block_id → action_id → what was entered. */
    values: Record<string, Record<string, ViewInput>>;
  };
}

export type SlackInteraction = BlockActionsInteraction | ViewSubmissionInteraction;

export type VerifyResult =
  | { ok: true; payload: SlackInteraction }
  | {
      ok: false;
      reason: string;
      genuine: boolean;
      /** Another workspace or app sent it (signed with this app's secret): the caller answers 403. */
      foreign?: true;
      /** Where to tell the person why (genuine refusals only, when the payload has a valid one). */
      responseUrl?: string;
    };

export interface VerifyInput {
  /** As received; names are matched without regard to case. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received (after any base64 decoding of the transport, before any parsing). */
  rawBody: string;
  signingSecret: string;
  now: Date;
  expected: { teamId: string; appId: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Payload schema: only the fields Remedy reads; Slack's others are dropped (v.object strips unknown keys).

const NonEmpty = v.pipe(v.string(), v.minLength(1));

const ResponseUrl = v.pipe(
  v.string(),
  v.check((url) => {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "https:" && parsed.hostname === "hooks.slack.com" && parsed.port === "";
    } catch {
      return false;
    }
  }, "must be an https://hooks.slack.com/ URL"),
);

const Base = {
  team: v.object({ id: NonEmpty }),
  api_app_id: NonEmpty,
  user: v.object({ id: v.pipe(v.string(), v.regex(SLACK_USER_ID, "must be a Slack user id")) }),
  trigger_id: v.optional(v.string()),
};

const BlockActionsSchema = v.object({
  type: v.literal("block_actions"),
  ...Base,
  actions: v.pipe(
    v.array(v.object({ action_id: NonEmpty, block_id: v.optional(v.string()), value: v.optional(v.string()) })),
    v.minLength(1, "must hold at least one action"),
  ),
  response_url: v.optional(ResponseUrl),
  container: v.optional(v.object({ channel_id: v.optional(v.string()), message_ts: v.optional(v.string()) })),
  message: v.optional(v.object({ blocks: v.optional(v.array(v.unknown())) })),
});

const ViewInputSchema = v.object({
  type: v.string(),
  value: v.optional(v.nullable(v.string())),
  selected_option: v.optional(v.nullable(v.object({ value: v.string() }))),
  selected_date: v.optional(v.nullable(v.string())),
});

const ViewSubmissionSchema = v.object({
  type: v.literal("view_submission"),
  ...Base,
  view: v.object({
    id: NonEmpty,
    callback_id: v.string(),
    private_metadata: v.optional(v.string(), ""),
    state: v.optional(v.object({ values: v.record(v.string(), v.record(v.string(), ViewInputSchema)) }), {
      values: {},
    }),
  }),
});

const PayloadSchema = v.variant("type", [BlockActionsSchema, ViewSubmissionSchema]);

// ---------------------------------------------------------------------------------------------------------------

/** The header's value, its name matched without regard to case; two different values under one name are refused. */
function header(headers: Record<string, string | undefined>, name: string): string | undefined | "ambiguous" {
  let found: string | undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    if (found !== undefined && found !== value) return "ambiguous";
    found = value;
  }
  return found;
}

const forged = (reason: string): VerifyResult => ({ ok: false, reason, genuine: false });
const refused = (reason: string, more: { foreign?: true; responseUrl?: string } = {}): VerifyResult => ({
  ok: false,
  reason,
  genuine: true,
  ...more,
});

/** The payload's response_url when it has a valid one: a refused genuine request can still be told why. */
function responseUrlOf(json: unknown): string | undefined {
  const url = (json as { response_url?: unknown } | null)?.response_url;
  return typeof url === "string" && v.is(ResponseUrl, url) ? url : undefined;
}

export function verifySlackRequest(input: VerifyInput): VerifyResult {
  if (input.signingSecret === "") return forged("no signing secret is configured");
  const signature = header(input.headers, SIGNATURE_HEADER);
  const timestamp = header(input.headers, TIMESTAMP_HEADER);
  if (signature === undefined) return forged("no X-Slack-Signature header");
  if (timestamp === undefined) return forged("no X-Slack-Request-Timestamp header");
  if (signature === "ambiguous") return forged("more than one X-Slack-Signature header");
  if (timestamp === "ambiguous") return forged("more than one X-Slack-Request-Timestamp header");
  if (!TIMESTAMP_SHAPE.test(timestamp)) return forged("X-Slack-Request-Timestamp is not a number of seconds");
  const skew = Number(timestamp) - input.now.getTime() / 1000;
  if (!(Math.abs(skew) <= SLACK_TIMESTAMP_TOLERANCE_SECONDS)) {
    return forged(
      `X-Slack-Request-Timestamp is ${Math.round(Math.abs(skew))} s in the ${skew < 0 ? "past" : "future"} (more than ${SLACK_TIMESTAMP_TOLERANCE_SECONDS} s)`,
    );
  }
  const match = SIGNATURE_SHAPE.exec(signature.toLowerCase());
  if (!match?.[1]) return forged("X-Slack-Signature is not v0= and 64 hex digits");
  const given = Buffer.from(match[1], "hex");
  const computed = createHmac("sha256", input.signingSecret)
    .update(`v0:${timestamp}:${input.rawBody}`, "utf8")
    .digest();
  if (given.length !== computed.length || !timingSafeEqual(given, computed)) {
    return forged("X-Slack-Signature does not match the body");
  }
  return readPayload(input.rawBody, input.expected);
}

/** The signed body's `payload` field, validated; another workspace or app is refused. */
function readPayload(rawBody: string, expected: VerifyInput["expected"]): VerifyResult {
  const fields = new URLSearchParams(rawBody).getAll("payload");
  if (fields.length !== 1) return refused(`the body has ${fields.length} payload fields, not one`);
  let json: unknown;
  try {
    json = JSON.parse(fields[0] as string);
  } catch (error) {
    return refused(`the payload is not JSON: ${(error as Error).message}`);
  }
  const responseUrl = responseUrlOf(json);
  const answer = responseUrl !== undefined ? { responseUrl } : {};
  const parsed = v.safeParse(PayloadSchema, json);
  if (!parsed.success) {
    const [issue] = parsed.issues;
    return refused(
      `the payload is not one Remedy reads: ${v.getDotPath(issue) ?? "payload"}: ${issue.message}`,
      answer,
    );
  }
  const payload = parsed.output;
  if (payload.team.id !== expected.teamId) {
    return refused(`the request is from Slack workspace ${payload.team.id}, not ${expected.teamId}`, {
      foreign: true,
      ...answer,
    });
  }
  if (payload.api_app_id !== expected.appId) {
    return refused(`the request is for Slack app ${payload.api_app_id}, not ${expected.appId}`, {
      foreign: true,
      ...answer,
    });
  }
  const base = {
    teamId: payload.team.id,
    appId: payload.api_app_id,
    userId: payload.user.id,
    ...(payload.trigger_id !== undefined ? { triggerId: payload.trigger_id } : {}),
  };
  if (payload.type === "block_actions") {
    const ts = payload.container?.message_ts;
    const channelId = payload.container?.channel_id;
    const blocks = payload.message?.blocks;
    return {
      ok: true,
      payload: {
        type: "block_actions",
        ...base,
        actions: payload.actions.map((action) => ({
          actionId: action.action_id,
          ...(action.block_id !== undefined ? { blockId: action.block_id } : {}),
          ...(action.value !== undefined ? { value: action.value } : {}),
        })),
        ...(payload.response_url !== undefined ? { responseUrl: payload.response_url } : {}),
        ...(ts !== undefined
          ? {
              message: {
                ts,
                ...(channelId !== undefined ? { channelId } : {}),
                ...(blocks !== undefined ? { blocks } : {}),
              },
            }
          : {}),
      },
    };
  }
  // Object.fromEntries, not assignment: a block or action id of "__proto__" stays a plain key.
  const values = Object.fromEntries(
    Object.entries(payload.view.state.values).map(([blockId, inputs]) => [
      blockId,
      Object.fromEntries(
        Object.entries(inputs).map(([actionId, entered]): [string, ViewInput] => [
          actionId,
          {
            type: entered.type,
            ...(typeof entered.value === "string" ? { value: entered.value } : {}),
            ...(entered.selected_option ? { selectedOption: entered.selected_option.value } : {}),
            ...(typeof entered.selected_date === "string" ? { selectedDate: entered.selected_date } : {}),
          },
        ]),
      ),
    ]),
  );
  return {
    ok: true,
    payload: {
      type: "view_submission",
      ...base,
      view: {
        id: payload.view.id,
        callbackId: payload.view.callback_id,
        privateMetadata: payload.view.private_metadata,
        values,
      },
    },
  };
}
