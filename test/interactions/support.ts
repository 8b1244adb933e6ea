// What the interactions tests share: an in-memory ledger bucket behind aws-sdk-client-mock (conditional writes as S3
// does them), Slack requests signed here with node:crypto over the exact body sent, and a pending instruction.
import { createHmac } from "node:crypto";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { AwsClientStub } from "aws-sdk-client-mock";
import type { PendingInstruction } from "../../contract/pending.ts";
import type { FunctionUrlEvent } from "../../functions/interactions/endpoint/core.ts";
import { approversFrom } from "../../functions/interactions/settings.ts";
import { ACCOUNT, instructionFor, SSH_V4 } from "../remediation/support.ts";

export const SIGNING_SECRET = "0123456789abcdef0123456789abcdef";
export const TEAM = "T0TEAM0001";
export const APP = "A0APP00001";
export const ALICE = "U0ALICE001";
export const BOB = "U0BOB00001";
export const MALLORY = "U0MALLORY1";
export const CHANNEL = "C0CHAN0001";
export const MESSAGE_TS = "1763634499.000100";
export const LEDGER = "remedy-ledger-test";
export const QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
export const RESPONSE_URL = "https://hooks.slack.com/actions/T0TEAM0001/1/abc";
export const NOW = new Date("2026-11-20T10:30:00.000Z");
export const NOW_S = String(NOW.getTime() / 1000);
export const APP_SECRETS = { botToken: "xoxb-test-token", signingSecret: SIGNING_SECRET, teamId: TEAM, appId: APP };

/** Alice may press everything in the account; Bob may only snooze. */
export const APPROVERS = approversFrom(
  JSON.stringify({
    approvers: {
      fixNow: [{ users: [ALICE] }],
      snooze: [{ users: [ALICE, BOB] }],
      exempt: [{ users: [ALICE], accounts: [ACCOUNT] }],
      undo: [{ users: [ALICE], accounts: [ACCOUNT] }],
    },
  }),
);

export const INSTRUCTION = instructionFor("sg-open-ingress", [SSH_V4]);

export function pendingRecord(): PendingInstruction {
  return {
    version: 1,
    instruction: INSTRUCTION,
    messageId: "msg-1",
    receiptHandle: "receipt-1",
    dueAt: "2026-11-20T11:00:00.000Z",
    hiddenUntil: "2026-11-20T11:00:00.000Z",
    decisionsFrom: "2026-11-20T10:00:00.000Z",
    at: "2026-11-20T10:00:00.000Z",
  };
}

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, Code: name, $metadata: { httpStatusCode: status } });
}

/**
 * The ledger bucket in memory: GetObject, PutObject (If-None-Match: * and If-Match as S3 does them), DeleteObject
 * (If-Match too), listing.
 */
export function memoryBucket(mock: AwsClientStub<S3Client>) {
  const objects = new Map<string, { body: string; etag: string }>();
  let version = 0;
  mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const object = objects.get(input.Key);
    if (!object) throw s3Error("NoSuchKey", 404);
    return { Body: { transformToString: async () => object.body }, ETag: object.etag };
  });
  mock
    .on(PutObjectCommand)
    .callsFake((input: { Key: string; Body: unknown; IfNoneMatch?: string; IfMatch?: string }) => {
      const existing = objects.get(input.Key);
      if (input.IfNoneMatch === "*" && existing) throw s3Error("PreconditionFailed", 412);
      if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch) throw s3Error("PreconditionFailed", 412);
      const etag = `"v${++version}"`;
      objects.set(input.Key, { body: String(input.Body), etag });
      return { ETag: etag };
    });
  mock.on(DeleteObjectCommand).callsFake((input: { Key: string; IfMatch?: string }) => {
    const existing = objects.get(input.Key);
    if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch) {
      throw existing ? s3Error("PreconditionFailed", 412) : s3Error("NoSuchKey", 404);
    }
    objects.delete(input.Key);
    return {};
  });
  mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
    Contents: [...objects.keys()].filter((key) => key.startsWith(input.Prefix ?? "")).map((Key) => ({ Key })),
  }));
  return {
    objects,
    put: (key: string, value: unknown) => objects.set(key, { body: JSON.stringify(value), etag: `"v${++version}"` }),
    json: (key: string) => {
      const object = objects.get(key);
      return object ? (JSON.parse(object.body) as Record<string, unknown>) : undefined;
    },
    keys: (prefix: string) => [...objects.keys()].filter((key) => key.startsWith(prefix)),
  };
}

/** A function URL event carrying `body`, signed as Slack signs (v0, HMAC-SHA256), over exactly that body. */
export function signedEvent(
  body: string,
  options: { timestamp?: string; secret?: string; base64?: boolean; signature?: string; method?: string } = {},
): FunctionUrlEvent {
  const timestamp = options.timestamp ?? NOW_S;
  const signature =
    options.signature ??
    `v0=${createHmac("sha256", options.secret ?? SIGNING_SECRET)
      .update(`v0:${timestamp}:${body}`)
      .digest("hex")}`;
  return {
    body: options.base64 ? Buffer.from(body, "utf8").toString("base64") : body,
    isBase64Encoded: options.base64 ?? false,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      "x-slack-signature": signature,
      "x-slack-request-timestamp": timestamp,
    },
    requestContext: { http: { method: options.method ?? "POST" } },
  };
}

export const formBody = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

/** The notice's blocks as the notifier posts them: a section (with text that must stay inert) and the buttons. */
export const NOTICE_BLOCKS = [
  {
    type: "section",
    block_id: "summary",
    text: { type: "mrkdwn", text: "*sg-open-ingress* on sg-0123 &lt;!channel&gt;" },
  },
  {
    type: "actions",
    block_id: "remedy:decisions",
    elements: [
      {
        type: "button",
        action_id: "remedy:fix-now",
        value: INSTRUCTION.id,
        text: { type: "plain_text", text: "Fix now" },
      },
      {
        type: "button",
        action_id: "remedy:snooze",
        value: INSTRUCTION.id,
        text: { type: "plain_text", text: "Snooze" },
      },
      {
        type: "button",
        action_id: "remedy:exempt",
        value: INSTRUCTION.id,
        text: { type: "plain_text", text: "Exempt…" },
      },
    ],
  },
];

export function press(
  actionId: string,
  value: string,
  overrides: { user?: string; team?: string; app?: string; blocks?: unknown[] } = {},
): Record<string, unknown> {
  return {
    type: "block_actions",
    team: { id: overrides.team ?? TEAM, domain: "acme" },
    api_app_id: overrides.app ?? APP,
    user: { id: overrides.user ?? ALICE, team_id: TEAM },
    trigger_id: "123.456.trigger",
    container: { type: "message", channel_id: CHANNEL, message_ts: MESSAGE_TS },
    message: { ts: MESSAGE_TS, blocks: overrides.blocks ?? NOTICE_BLOCKS },
    actions: [{ action_id: actionId, block_id: "remedy:decisions", value, type: "button" }],
    response_url: RESPONSE_URL,
  };
}

export function submission(
  metadata: string,
  values: { reason?: string; expires?: string },
  overrides: { user?: string; callbackId?: string } = {},
): Record<string, unknown> {
  return {
    type: "view_submission",
    team: { id: TEAM },
    api_app_id: APP,
    user: { id: overrides.user ?? ALICE },
    view: {
      id: "V0000000001",
      callback_id: overrides.callbackId ?? "remedy:exempt",
      private_metadata: metadata,
      state: {
        values: {
          "remedy:exempt-reason": { reason: { type: "plain_text_input", value: values.reason ?? null } },
          "remedy:exempt-expires": { expires: { type: "datepicker", selected_date: values.expires ?? null } },
        },
      },
    },
  };
}
