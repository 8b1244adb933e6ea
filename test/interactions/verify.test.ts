// Slack's v0 request signing, checked against Slack's published example and against vectors signed here with
// node:crypto directly (not with the module's own code), then the payload checks that follow a valid signature.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { verifySlackRequest } from "../../functions/interactions/verify.ts";

// The worked example in Slack's "Verifying requests from Slack" (api.slack.com/authentication/
// verifying-requests-from-slack). Note the token is "xyzz0Wbap…": that body gives the published signature.
const DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const DOC_TIMESTAMP = "1531420618";
const DOC_BODY =
  "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
const DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

const SECRET = "test-signing-secret-0123456789abcdef";
const TEAM = "T0TEAM0001";
const APP = "A0APP00001";
const NOW = new Date("2026-11-20T10:28:19.000Z");
const TS = String(NOW.getTime() / 1000);

/** Signed independently of the module: the scheme as Slack documents it. */
const sign = (timestamp: string, body: string, secret = SECRET) =>
  `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;

function blockActions(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: "block_actions",
    team: { id: TEAM, domain: "acme" },
    api_app_id: APP,
    user: { id: "U012ABCDEF", name: "alice", team_id: TEAM },
    token: "deprecated-verification-token",
    trigger_id: "123.456.abc",
    container: { type: "message", channel_id: "C012ABCDEF", message_ts: "1763634499.000100" },
    actions: [
      { action_id: "remedy.fix-now", block_id: "b1", value: "0123456789abcdef0123456789abcdef", type: "button" },
    ],
    response_url: "https://hooks.slack.com/actions/T0TEAM0001/1/abc",
    ...overrides,
  };
}

const form = (payload: unknown) =>
  new URLSearchParams({ payload: typeof payload === "string" ? payload : JSON.stringify(payload) }).toString();

function request(
  body: string,
  options: { timestamp?: string; signature?: string; headers?: Record<string, string | undefined>; now?: Date } = {},
) {
  const timestamp = options.timestamp ?? TS;
  return verifySlackRequest({
    headers: options.headers ?? {
      "X-Slack-Request-Timestamp": timestamp,
      "X-Slack-Signature": options.signature ?? sign(timestamp, body),
      "Content-Type": "application/x-www-form-urlencoded",
    },
    rawBody: body,
    signingSecret: SECRET,
    now: options.now ?? NOW,
    expected: { teamId: TEAM, appId: APP },
  });
}

describe("the signature", () => {
  it("holds for Slack's published example (then the slash-command body is refused: no payload field)", () => {
    expect(sign(DOC_TIMESTAMP, DOC_BODY, DOC_SECRET)).toBe(DOC_SIGNATURE);
    const result = verifySlackRequest({
      headers: { "X-Slack-Request-Timestamp": DOC_TIMESTAMP, "X-Slack-Signature": DOC_SIGNATURE },
      rawBody: DOC_BODY,
      signingSecret: DOC_SECRET,
      now: new Date(Number(DOC_TIMESTAMP) * 1000 + 60_000),
      expected: { teamId: "T1DC2JH3J", appId: APP },
    });
    // genuine: the signature held; refused only because it is not an interaction.
    expect(result).toEqual({ ok: false, genuine: true, reason: "the body has 0 payload fields, not one" });
  });

  it("accepts a validly signed button press and returns what Remedy reads", () => {
    expect(request(form(blockActions()))).toEqual({
      ok: true,
      payload: {
        type: "block_actions",
        teamId: TEAM,
        appId: APP,
        userId: "U012ABCDEF",
        triggerId: "123.456.abc",
        actions: [{ actionId: "remedy.fix-now", blockId: "b1", value: "0123456789abcdef0123456789abcdef" }],
        responseUrl: "https://hooks.slack.com/actions/T0TEAM0001/1/abc",
        message: { ts: "1763634499.000100", channelId: "C012ABCDEF" },
      },
    });
  });

  it("refuses a tampered body", () => {
    const body = form(blockActions());
    const tampered = body.replace("fix-now", "undo");
    expect(tampered).not.toBe(body);
    expect(request(tampered, { signature: sign(TS, body) })).toEqual({
      ok: false,
      genuine: false,
      reason: "X-Slack-Signature does not match the body",
    });
  });

  it("refuses a tampered signature, one signed with another secret, and one over another timestamp", () => {
    const body = form(blockActions());
    const good = sign(TS, body);
    const flipped = `${good.slice(0, -1)}${good.endsWith("0") ? "1" : "0"}`;
    for (const signature of [flipped, sign(TS, body, "another-secret"), sign(String(Number(TS) - 1), body)]) {
      expect(request(body, { signature })).toMatchObject({ ok: false, genuine: false });
    }
  });

  it("refuses signatures of the wrong length or shape without throwing", () => {
    const body = form(blockActions());
    const good = sign(TS, body);
    for (const signature of [
      good.slice(0, -2),
      `${good}00`,
      "v0=",
      "",
      good.slice(3),
      `v1=${good.slice(3)}`,
      `v0=${"z".repeat(64)}`,
      `v0=${good.slice(3)} `,
    ]) {
      expect(request(body, { signature })).toEqual({
        ok: false,
        genuine: false,
        reason: "X-Slack-Signature is not v0= and 64 hex digits",
      });
    }
  });

  it("refuses missing headers", () => {
    const body = form(blockActions());
    expect(request(body, { headers: { "X-Slack-Request-Timestamp": TS } })).toEqual({
      ok: false,
      genuine: false,
      reason: "no X-Slack-Signature header",
    });
    expect(request(body, { headers: { "X-Slack-Signature": sign(TS, body) } })).toEqual({
      ok: false,
      genuine: false,
      reason: "no X-Slack-Request-Timestamp header",
    });
    expect(request(body, { headers: {} })).toMatchObject({ ok: false, genuine: false });
    expect(
      request(body, { headers: { "X-Slack-Request-Timestamp": undefined, "X-Slack-Signature": undefined } }),
    ).toMatchObject({ ok: false, genuine: false });
  });

  it("finds headers whatever their case, and refuses two different values under one name", () => {
    const body = form(blockActions());
    const signature = sign(TS, body);
    for (const headers of [
      { "x-slack-request-timestamp": TS, "x-slack-signature": signature },
      { "X-SLACK-REQUEST-TIMESTAMP": TS, "X-SLACK-SIGNATURE": signature },
      { "x-Slack-Request-timestamp": TS, "X-Slack-Signature": signature, "x-slack-signature": signature },
    ]) {
      expect(request(body, { headers })).toMatchObject({ ok: true });
    }
    expect(
      request(body, {
        headers: { "x-slack-request-timestamp": TS, "X-Slack-Signature": signature, "x-slack-signature": "v0=00" },
      }),
    ).toEqual({ ok: false, genuine: false, reason: "more than one X-Slack-Signature header" });
  });

  it("refuses the secret being empty", () => {
    const body = form(blockActions());
    const result = verifySlackRequest({
      headers: { "X-Slack-Request-Timestamp": TS, "X-Slack-Signature": sign(TS, body, "") },
      rawBody: body,
      signingSecret: "",
      now: NOW,
      expected: { teamId: TEAM, appId: APP },
    });
    expect(result).toMatchObject({ ok: false, genuine: false });
  });
});

describe("the timestamp", () => {
  const body = form(blockActions());
  const at = (offsetSeconds: number) => String(Number(TS) + offsetSeconds);

  it("accepts up to five minutes either way", () => {
    for (const offset of [-300, -299, 0, 299, 300]) {
      expect(request(body, { timestamp: at(offset) })).toMatchObject({ ok: true });
    }
  });

  it("refuses an old timestamp, and a replay of a valid request once the window has passed", () => {
    expect(request(body, { timestamp: at(-301) })).toEqual({
      ok: false,
      genuine: false,
      reason: "X-Slack-Request-Timestamp is 301 s in the past (more than 300 s)",
    });
    // The same signed request, replayed six minutes after it was sent.
    expect(request(body, { now: new Date(NOW.getTime() + 6 * 60_000) })).toMatchObject({ ok: false, genuine: false });
  });

  it("refuses a future timestamp", () => {
    expect(request(body, { timestamp: at(301) })).toEqual({
      ok: false,
      genuine: false,
      reason: "X-Slack-Request-Timestamp is 301 s in the future (more than 300 s)",
    });
  });

  it("refuses a timestamp that is not a whole number of seconds, even when it is signed", () => {
    for (const timestamp of ["", "abc", "1.5e9", `${TS}.0`, ` ${TS}`, "-1", "0x6920", "9".repeat(16)]) {
      expect(request(body, { timestamp })).toMatchObject({ ok: false, genuine: false });
    }
    expect(request(body, { timestamp: "abc" })).toMatchObject({
      reason: "X-Slack-Request-Timestamp is not a number of seconds",
    });
  });
});

describe("the payload, once the signature holds", () => {
  it("refuses another workspace, telling who it came from", () => {
    expect(request(form(blockActions({ team: { id: "T0OTHER001" } })))).toEqual({
      ok: false,
      genuine: true,
      reason: `the request is from Slack workspace T0OTHER001, not ${TEAM}`,
      // A person pressed it: the caller may tell them why, where Slack said.
      foreign: true,
      responseUrl: "https://hooks.slack.com/actions/T0TEAM0001/1/abc",
    });
  });

  it("refuses another app", () => {
    expect(request(form(blockActions({ api_app_id: "A0OTHER001" })))).toEqual({
      ok: false,
      genuine: true,
      reason: `the request is for Slack app A0OTHER001, not ${APP}`,
      foreign: true,
      responseUrl: "https://hooks.slack.com/actions/T0TEAM0001/1/abc",
    });
  });

  it("refuses a payload that is not JSON", () => {
    expect(request(form("{not json"))).toMatchObject({ ok: false, genuine: true });
    expect(request(form("{not json"))).toMatchObject({ reason: expect.stringMatching(/^the payload is not JSON: /) });
  });

  it("refuses a body without exactly one payload field", () => {
    const payload = JSON.stringify(blockActions());
    expect(request("")).toMatchObject({ ok: false, genuine: true });
    expect(request(`${form(payload)}&${form(payload)}`)).toEqual({
      ok: false,
      genuine: true,
      reason: "the body has 2 payload fields, not one",
    });
  });

  it("refuses malformed payloads, naming the field", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [blockActions({ type: "message_action" }), /type/],
      [blockActions({ team: undefined }), /team/],
      [blockActions({ user: { id: "alice" } }), /user\.id/],
      [blockActions({ actions: [] }), /actions/],
      [blockActions({ actions: [{ value: "x" }] }), /actions\.0\.action_id/],
      [blockActions({ response_url: "https://evil.example/hooks.slack.com/" }), /response_url/],
      [blockActions({ response_url: "http://hooks.slack.com/actions/1" }), /response_url/],
      [blockActions({ response_url: "https://hooks.slack.com.evil.example/x" }), /response_url/],
      [blockActions({ api_app_id: 7 }), /api_app_id/],
    ];
    for (const [payload, field] of cases) {
      const result = request(form(payload));
      expect(result).toMatchObject({ ok: false, genuine: true });
      expect(result.ok === false && result.reason).toMatch(field);
    }
    for (const payload of [null, [], 42, "text"]) {
      expect(request(form(JSON.stringify(payload)))).toMatchObject({ ok: false, genuine: true });
    }
  });

  it("reads a modal's submission", () => {
    const payload = {
      type: "view_submission",
      team: { id: TEAM },
      api_app_id: APP,
      user: { id: "W012ABCDEF" },
      trigger_id: "9.9.9",
      view: {
        id: "V012ABCDEF",
        callback_id: "remedy.exempt",
        private_metadata: '{"instructionId":"0123456789abcdef0123456789abcdef"}',
        blocks: [],
        state: {
          values: {
            reason: { text: { type: "plain_text_input", value: "vendor feed" } },
            until: { date: { type: "datepicker", selected_date: "2026-12-01" } },
            scope: { pick: { type: "static_select", selected_option: { value: "this-entry", text: {} } } },
            empty: { text: { type: "plain_text_input", value: null } },
          },
        },
      },
    };
    expect(request(form(payload))).toEqual({
      ok: true,
      payload: {
        type: "view_submission",
        teamId: TEAM,
        appId: APP,
        userId: "W012ABCDEF",
        triggerId: "9.9.9",
        view: {
          id: "V012ABCDEF",
          callbackId: "remedy.exempt",
          privateMetadata: '{"instructionId":"0123456789abcdef0123456789abcdef"}',
          values: {
            reason: { text: { type: "plain_text_input", value: "vendor feed" } },
            until: { date: { type: "datepicker", selectedDate: "2026-12-01" } },
            scope: { pick: { type: "static_select", selectedOption: "this-entry" } },
            empty: { text: { type: "plain_text_input" } },
          },
        },
      },
    });
  });
});
