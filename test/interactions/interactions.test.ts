// The interactions endpoint and its worker end to end: real signed requests (v0 signatures computed here over the
// exact body sent), a local Slack server for views.open, chat.update, conversations.history and response_urls, the
// ledger bucket in memory behind aws-sdk-client-mock, Lambda and SQS mocked. The endpoint records and hands over; the
// worker's item is taken from the endpoint's Invoke exactly as Lambda would deliver it.
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { instructionId } from "../../contract/instruction.ts";
import { ledgerKey, memoryLedger } from "../../contract/ledger.ts";
import { pendingKey } from "../../contract/pending.ts";
import { type EndpointDeps, handleRequest } from "../../functions/interactions/endpoint/core.ts";
import { ledgerObjectKey } from "../../functions/interactions/ledger-target.ts";
import { approversFrom } from "../../functions/interactions/settings.ts";
import { workItemSha256 } from "../../functions/interactions/work-item.ts";
import { runWorkItem, type WorkerDeps } from "../../functions/interactions/worker/core.ts";
import { sharedUndo } from "../../functions/interactions/worker/undo.ts";
import { addSlackAllowlistEntry, SLACK_ALLOWLIST_KEY } from "../../platform/slack-allowlist.ts";
import { slackWebApi } from "../../platform/slack-web-api.ts";
import { recordingLog } from "../helpers/recording-log.ts";
import { type SlackServer, startSlackServer } from "../helpers/slack-server.ts";
import {
  ACCOUNT,
  ACTION_ID,
  DLQ_URL,
  deployedDeps,
  GROUP_ID,
  instructionFor,
  REGION,
  recordingReporter,
  requestFor,
  SG_RULES,
  SSH_V4,
  T0,
  TEST_MAC_KEY_ID,
  testSigner,
} from "../remediation/support.ts";
import { remediate } from "../support/remediate.ts";
import {
  ALICE,
  APP_SECRETS,
  APPROVERS,
  BOB,
  CHANNEL,
  formBody,
  INSTRUCTION,
  LEDGER,
  MALLORY,
  MESSAGE_TS,
  memoryBucket,
  NOTICE_BLOCKS,
  NOW,
  NOW_S,
  pendingRecord,
  press,
  QUEUE,
  RESPONSE_URL,
  signedEvent,
  submission,
} from "./support.ts";

const s3Mock = mockClient(S3Client);
const lambdaMock = mockClient(LambdaClient);
const sqsMock = mockClient(SQSClient);
const ec2Mock = mockClient(EC2Client);
let slack: SlackServer;
let bucket: ReturnType<typeof memoryBucket>;
let log: ReturnType<typeof recordingLog>;
let reporter: ReturnType<typeof recordingReporter>;

beforeAll(async () => {
  slack = await startSlackServer();
});
afterAll(async () => {
  await slack.close();
  for (const mock of [s3Mock, lambdaMock, sqsMock, ec2Mock]) mock.restore();
});
beforeEach(() => {
  for (const mock of [s3Mock, lambdaMock, sqsMock, ec2Mock]) mock.reset();
  slack.calls.length = 0;
  slack.answer("conversations.history", { json: { ok: false, error: "missing_scope" } });
  slack.answer("chat.update", (call) => ({
    json: { ok: true, channel: (call.body as { channel: string }).channel, ts: MESSAGE_TS },
  }));
  bucket = memoryBucket(s3Mock);
  bucket.put(pendingKey(INSTRUCTION.id), pendingRecord());
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(DeleteMessageCommand).resolves({});
  log = recordingLog();
  reporter = recordingReporter();
});

const s3 = () => new S3Client({ region: REGION });
const quickSlack = (token: string) =>
  slackWebApi({ token, fetch: slack.fetch, sleep: async () => {}, maxAttempts: 1, waitBudgetMs: 0 });

function endpointDeps(overrides: Partial<EndpointDeps> = {}): EndpointDeps {
  return {
    slackApp: async () => APP_SECRETS,
    slack: quickSlack,
    approvers: APPROVERS,
    snoozeMinutes: 1_440,
    organizationMode: false,
    deployment: { accountId: ACCOUNT, region: REGION },
    s3: s3(),
    bucket: LEDGER,
    lambda: new LambdaClient({ region: REGION }),
    workerFunction: "remedy-interactions-worker",
    now: () => NOW,
    log,
    ...overrides,
  };
}

const UNDO_ID = "act-20261120T103000Z-0000cafe";

function workerDeps(overrides: Partial<WorkerDeps> = {}): WorkerDeps {
  return {
    s3: s3(),
    bucket: LEDGER,
    approvers: APPROVERS,
    sqs: new SQSClient({ region: REGION }),
    queueUrl: QUEUE,
    slack: async () => quickSlack(APP_SECRETS.botToken),
    addAllowlistEntry: (addition, now) => addSlackAllowlistEntry(s3(), LEDGER, addition, now),
    undo: sharedUndo({
      s3: s3(),
      ec2: new EC2Client({ region: REGION }),
      client: (Client) => new Client({ region: REGION }),
      bucket: LEDGER,
      verifier: testSigner(),
      macKeyId: TEST_MAC_KEY_ID,
      reporter,
      now: () => NOW,
      log,
      newActionId: () => UNDO_ID,
    }),
    deployment: { accountId: ACCOUNT, region: REGION },
    organizationMode: false,
    now: () => NOW,
    log,
    ...overrides,
  };
}

/** What the endpoint invoked the worker with, as Lambda hands it over (the payload's JSON). */
function invokedItems(): unknown[] {
  return lambdaMock
    .commandCalls(InvokeCommand)
    .map((call) => JSON.parse(Buffer.from(call.args[0].input.Payload as Uint8Array).toString("utf8")));
}

const callsTo = (method: string) => slack.calls.filter((call) => call.method === method);
const responses = () => slack.calls.filter((call) => call.host === "hooks.slack.com");
const decisionKeys = () => bucket.keys("decisions/");

async function pressAndWork(actionId: string, value: string, timestamp = NOW_S) {
  const answer = await handleRequest(signedEvent(formBody(press(actionId, value)), { timestamp }), endpointDeps());
  expect(answer).toEqual({ statusCode: 200, body: "" });
  const [item] = invokedItems();
  return runWorkItem(item, workerDeps());
}

function updatedMessage() {
  const [update] = callsTo("chat.update");
  return update?.body as { channel: string; ts: string; text: string; blocks: Record<string, unknown>[] };
}

describe("Fix now", () => {
  it("by an approver: recorded once, handed to the worker, made visible now, and the message says so", async () => {
    const answer = await handleRequest(signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id))), endpointDeps());
    expect(answer).toEqual({ statusCode: 200, body: "" });
    expect(decisionKeys()).toEqual([`decisions/${INSTRUCTION.id}/fix-now.json`]);
    const decision = bucket.json(`decisions/${INSTRUCTION.id}/fix-now.json`)!;
    expect(decision).toMatchObject({
      action: "fix-now",
      target: { instructionId: INSTRUCTION.id },
      by: { slackUserId: ALICE, teamId: "T0TEAM0001" },
      at: NOW.toISOString(),
      details: { channelId: CHANNEL, ts: MESSAGE_TS },
    });
    expect(decision.decisionId).toMatch(/^[0-9a-f]{64}$/);
    // The endpoint answers Slack itself: no Slack call, one asynchronous invoke.
    expect(slack.calls).toEqual([]);
    const invoke = lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(invoke).toMatchObject({ FunctionName: "remedy-interactions-worker", InvocationType: "Event" });
    const [item] = invokedItems();
    expect(item).toMatchObject({
      kind: "remedy-interaction",
      version: 1,
      decisionKey: `decisions/${INSTRUCTION.id}/fix-now.json`,
      responseUrl: RESPONSE_URL,
      message: { channelId: CHANNEL, ts: MESSAGE_TS },
    });

    const result = await runWorkItem(item, workerDeps());
    expect(result).toMatchObject({ status: "done", announced: "updated" });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input)).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: "receipt-1", VisibilityTimeout: 0 },
    ]);
    const update = updatedMessage();
    expect(update).toMatchObject({ channel: CHANNEL, ts: MESSAGE_TS });
    expect(slack.calls.find((call) => call.method === "chat.update")!.headers.authorization).toBe(
      "Bearer xoxb-test-token",
    );
    // Buttons gone, the notice kept, one line saying who did what and when.
    expect(update.blocks.map((block) => block.block_id ?? block.type)).toEqual(["summary", "context"]);
    expect(update.blocks[0]).toEqual(NOTICE_BLOCKS[0]);
    expect((update.blocks[1]!.elements as { text: string }[])[0]!.text).toBe(
      ":zap: Fix now by <@U0ALICE001> at 2026-11-20 10:30:00 UTC: due now: Remedy fixes it at its next run (pause, circuit breaker and rate limit still apply)",
    );
  });

  it("a receipt that no longer holds the message is fine: the coordinator reads the decision anyway", async () => {
    sqsMock
      .on(ChangeMessageVisibilityCommand)
      .rejects(
        Object.assign(new Error("gone"), { name: "ReceiptHandleIsInvalid", $metadata: { httpStatusCode: 400 } }),
      );
    expect(await pressAndWork("remedy:fix-now", INSTRUCTION.id)).toMatchObject({ status: "done" });
    expect(callsTo("chat.update")).toHaveLength(1);
  });

  it("an SQS outage is retried by Lambda (the worker throws; nothing is announced)", async () => {
    sqsMock
      .on(ChangeMessageVisibilityCommand)
      .rejects(Object.assign(new Error("down"), { name: "ServiceUnavailable", $metadata: { httpStatusCode: 503 } }));
    await expect(pressAndWork("remedy:fix-now", INSTRUCTION.id)).rejects.toThrow("down");
    expect(callsTo("chat.update")).toEqual([]);
  });

  it("when chat.update fails, the message is replaced through the response_url", async () => {
    slack.answer("chat.update", { json: { ok: false, error: "channel_not_found" } });
    expect(await pressAndWork("remedy:fix-now", INSTRUCTION.id)).toMatchObject({ announced: "response_url" });
    const [answer] = responses();
    expect(answer!.path).toBe("/actions/T0TEAM0001/1/abc");
    expect(answer!.body).toMatchObject({ replace_original: true });
    expect(JSON.stringify(answer!.body)).not.toContain("remedy:decisions");
  });
});

describe("Snooze", () => {
  it("two presses act once; the second person is told who decided what and when", async () => {
    const first = signedEvent(formBody(press("remedy:snooze", INSTRUCTION.id)));
    expect(await handleRequest(first, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    const second = signedEvent(formBody(press("remedy:snooze", INSTRUCTION.id, { user: BOB })), {
      timestamp: String(Number(NOW_S) + 2),
    });
    expect(await handleRequest(second, endpointDeps())).toEqual({ statusCode: 200, body: "" });

    expect(decisionKeys()).toEqual([`decisions/${INSTRUCTION.id}/snooze.json`]);
    expect(bucket.json(`decisions/${INSTRUCTION.id}/snooze.json`)).toMatchObject({
      by: { slackUserId: ALICE },
      details: { snoozeMinutes: 1_440 },
    });
    expect(invokedItems()).toHaveLength(1);
    expect(responses().map((call) => call.body)).toEqual([
      {
        response_type: "ephemeral",
        replace_original: false,
        text: "<@U0ALICE001> already chose Snooze at 2026-11-20 10:30:00 UTC: nothing more was done.",
      },
    ]);

    const result = await runWorkItem(invokedItems()[0], workerDeps());
    expect(result).toMatchObject({ status: "done", outcome: expect.stringContaining("for 1 day") });
    // Nothing to change in SQS: the coordinator applies the snooze itself.
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(JSON.stringify(updatedMessage().blocks)).toContain(":zzz: Snooze by <@U0ALICE001>");
  });

  it("a decision about an earlier detection (the id came back) is replaced: this press acts", async () => {
    // Snoozed by Bob a month ago, before this detection was first seen (the pending record's decisionsFrom).
    bucket.put(`decisions/${INSTRUCTION.id}/snooze.json`, {
      version: 1,
      decisionId: "dec-earlier",
      action: "snooze",
      target: { instructionId: INSTRUCTION.id },
      by: { slackUserId: BOB, teamId: "T0TEAM0001" },
      at: "2026-10-20T10:30:00.000Z",
    });
    const event = signedEvent(formBody(press("remedy:snooze", INSTRUCTION.id)));
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    expect(bucket.json(`decisions/${INSTRUCTION.id}/snooze.json`)).toMatchObject({
      by: { slackUserId: ALICE },
      at: NOW.toISOString(),
    });
    expect(invokedItems()).toHaveLength(1);
    expect(responses()).toEqual([]);
  });

  it("the same request replayed within the window records and invokes nothing more", async () => {
    const event = signedEvent(formBody(press("remedy:snooze", INSTRUCTION.id)));
    await handleRequest(event, endpointDeps());
    await handleRequest(event, endpointDeps());
    expect(decisionKeys()).toHaveLength(1);
    expect(invokedItems()).toHaveLength(1);
    expect(responses()).toEqual([]);
  });
});

describe("refusals: nothing recorded, no worker, and the person told why where the request was genuine", () => {
  const nothingDone = () => {
    expect(decisionKeys()).toEqual([]);
    expect(lambdaMock.commandCalls(InvokeCommand)).toEqual([]);
  };

  it("a user not on the approvers list", async () => {
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id, { user: MALLORY })));
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    nothingDone();
    expect(responses().map((call) => (call.body as { text: string }).text)).toEqual([
      "You may not Fix now this: U0MALLORY1 is not in approvers.fixNow. Nothing was done.",
    ]);
  });

  it("approvers settings that do not parse deny everyone, saying so", async () => {
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)));
    const approvers = approversFrom('{"approvers":{"fixnow":[]}}');
    expect(await handleRequest(event, endpointDeps({ approvers }))).toEqual({ statusCode: 200, body: "" });
    nothingDone();
    expect((responses()[0]!.body as { text: string }).text).toContain("approvers settings are not valid");
    expect(log.errors()[0]!.fields.reason).toContain('unknown key "fixnow"');
  });

  it("a bad signature: 401, an empty body, nothing said to anyone", async () => {
    const body = formBody(press("remedy:fix-now", INSTRUCTION.id));
    const event = signedEvent(body, { secret: "another-secret-0123456789abcdef00" });
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 401, body: "" });
    nothingDone();
    expect(slack.calls).toEqual([]);
    expect(log.lines.some((line) => line.fields.reason === "X-Slack-Signature does not match the body")).toBe(true);
  });

  it("a body changed after signing (the signature of another body)", async () => {
    const signed = signedEvent(formBody(press("remedy:snooze", INSTRUCTION.id)));
    const event = { ...signed, body: formBody(press("remedy:fix-now", INSTRUCTION.id)) };
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 401, body: "" });
    nothingDone();
  });

  it("an old timestamp (a replay after Slack's five minutes), though correctly signed", async () => {
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)), {
      timestamp: String(Number(NOW_S) - 301),
    });
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 401, body: "" });
    nothingDone();
    expect(slack.calls).toEqual([]);
  });

  it("another workspace: 403, told why through the response_url", async () => {
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id, { team: "T0OTHER001" })));
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 403, body: "" });
    nothingDone();
    expect(responses().map((call) => (call.body as { text: string }).text)).toEqual([
      "Remedy did nothing: the request is from Slack workspace T0OTHER001, not T0TEAM0001.",
    ]);
  });

  it("another app: 403, told why", async () => {
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id, { app: "A0OTHER001" })));
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 403, body: "" });
    nothingDone();
    expect((responses()[0]!.body as { text: string }).text).toContain("Slack app A0OTHER001, not A0APP00001");
  });

  it("an instruction no longer pending", async () => {
    bucket.objects.delete(pendingKey(INSTRUCTION.id));
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)));
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    nothingDone();
    expect((responses()[0]!.body as { text: string }).text).toBe(
      "This is no longer pending (already fixed, exempted or gone): nothing was done.",
    );
  });

  it("the Slack app secret unreadable: 500, nothing read, recorded or said", async () => {
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)));
    const deps = endpointDeps({
      slackApp: async () => {
        throw new Error("AccessDeniedException");
      },
    });
    expect(await handleRequest(event, deps)).toEqual({ statusCode: 500, body: "" });
    nothingDone();
    expect(s3Mock.calls()).toEqual([]);
    expect(slack.calls).toEqual([]);
  });

  it("what is not a Slack interaction, not our button or not an id is answered and ignored; the next one works", async () => {
    const deps = endpointDeps();
    const cases = [
      signedEvent("hello=world"),
      signedEvent(formBody({ type: "shortcut", team: { id: "T0TEAM0001" } })),
      signedEvent(formBody(press("someone-else:button", INSTRUCTION.id))),
      signedEvent(formBody(press("remedy:fix-now", "../../etc/passwd"))),
      signedEvent(formBody(press("remedy:undo", INSTRUCTION.id))),
      signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)), { method: "GET" }),
      { requestContext: { http: { method: "POST" } } },
    ];
    for (const event of cases) {
      const answer = await handleRequest(event, deps);
      expect([200, 401, 405]).toContain(answer.statusCode);
      expect(answer.body).toBe("");
    }
    nothingDone();
    const ok = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)), { timestamp: String(Number(NOW_S) + 9) });
    expect(await handleRequest(ok, deps)).toEqual({ statusCode: 200, body: "" });
    expect(decisionKeys()).toHaveLength(1);
  });
});

describe("the body as the function URL delivers it", () => {
  it("base64 is undone to the exact bytes Slack signed (UTF-8 included)", async () => {
    const payload = press("remedy:fix-now", INSTRUCTION.id, {
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "Sécurité — ünïcödé ✓" } }, NOTICE_BLOCKS[1]],
    });
    const event = signedEvent(formBody(payload), { base64: true });
    expect(event.body).not.toContain("payload=");
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    expect(decisionKeys()).toHaveLength(1);
    const [item] = invokedItems() as { message: { blocks: { text?: { text: string } }[] } }[];
    expect(item!.message.blocks[0]!.text!.text).toBe("Sécurité — ünïcödé ✓");
  });
});

describe("Exempt…", () => {
  async function openForm() {
    const answer = await handleRequest(signedEvent(formBody(press("remedy:exempt", INSTRUCTION.id))), endpointDeps());
    expect(answer).toEqual({ statusCode: 200, body: "" });
    const [open] = callsTo("views.open");
    return open!.body as { trigger_id: string; view: { callback_id: string; private_metadata: string } };
  }

  it("opens the form at once and records nothing until it is submitted", async () => {
    const open = await openForm();
    expect(open.trigger_id).toBe("123.456.trigger");
    expect(open.view.callback_id).toBe("remedy:exempt");
    expect(JSON.parse(open.view.private_metadata)).toEqual({
      instructionId: INSTRUCTION.id,
      channelId: CHANNEL,
      ts: MESSAGE_TS,
      responseUrl: RESPONSE_URL,
    });
    expect(decisionKeys()).toEqual([]);
    expect(invokedItems()).toEqual([]);
  });

  it("bad input comes back as the form's errors", async () => {
    const { view } = await openForm();
    for (const [values, blocks] of [
      [{ reason: "short", expires: "2026-12-01" }, ["remedy:exempt-reason"]],
      [{ reason: "a good long reason", expires: "2026-11-20" }, ["remedy:exempt-expires"]],
      [{ reason: "a good long reason", expires: "2027-03-01" }, ["remedy:exempt-expires"]],
      [{ reason: "a good long reason", expires: "2026-02-30" }, ["remedy:exempt-expires"]],
      [{}, ["remedy:exempt-reason", "remedy:exempt-expires"]],
    ] as const) {
      const event = signedEvent(formBody(submission(view.private_metadata, values)));
      const answer = await handleRequest(event, endpointDeps());
      expect(answer.statusCode).toBe(200);
      const body = JSON.parse(answer.body);
      expect(body.response_action).toBe("errors");
      expect(Object.keys(body.errors).sort()).toEqual([...blocks].sort());
    }
    // Metadata that is not what Remedy wrote.
    const forged = signedEvent(
      formBody(submission('{"instructionId":"../x"}', { reason: "long enough reason", expires: "2026-12-01" })),
    );
    expect(JSON.parse((await handleRequest(forged, endpointDeps())).body).response_action).toBe("errors");
    expect(decisionKeys()).toEqual([]);
  });

  it("submitted by someone not allowed to exempt: an error in the form, nothing recorded", async () => {
    const { view } = await openForm();
    const event = signedEvent(
      formBody(
        submission(view.private_metadata, { reason: "intended for the demo", expires: "2026-12-01" }, { user: BOB }),
      ),
    );
    const body = JSON.parse((await handleRequest(event, endpointDeps())).body);
    expect(body).toEqual({
      response_action: "errors",
      errors: {
        "remedy:exempt-reason": "You may not exempt this: U0BOB00001 is not in approvers.exempt. Nothing was done.",
      },
    });
    expect(decisionKeys()).toEqual([]);
    expect(invokedItems()).toEqual([]);
  });

  it("a good submission writes the allowlist entry (owner slack:U…) and updates the message, escaped", async () => {
    const { view } = await openForm();
    const reason = "demo stand <!channel> & <@U0BOB00001> until Friday";
    const event = signedEvent(formBody(submission(view.private_metadata, { reason, expires: "2026-12-15" })), {
      timestamp: String(Number(NOW_S) + 30),
    });
    const answer = await handleRequest(event, endpointDeps());
    expect(JSON.parse(answer.body)).toEqual({ response_action: "clear" });
    expect(bucket.json(`decisions/${INSTRUCTION.id}/exempt.json`)).toMatchObject({
      action: "exempt",
      details: { reason, expires: "2026-12-15", channelId: CHANNEL, ts: MESSAGE_TS },
    });
    const [item] = invokedItems();
    expect(item).not.toHaveProperty("message.blocks");

    // A submission carries no message: the worker reads it back.
    slack.answer("conversations.history", {
      json: { ok: true, messages: [{ ts: MESSAGE_TS, blocks: NOTICE_BLOCKS }] },
    });
    expect(await runWorkItem(item, workerDeps())).toMatchObject({ status: "done", announced: "updated" });
    const allowlist = bucket.json(SLACK_ALLOWLIST_KEY) as { entries: Record<string, unknown>[] };
    expect(allowlist.entries).toEqual([
      expect.objectContaining({
        resource: INSTRUCTION.resource.id,
        problems: ["sg-open-ingress"],
        reason,
        owner: `slack:${ALICE}`,
        expires: "2026-12-15",
        decisionId: (bucket.json(`decisions/${INSTRUCTION.id}/exempt.json`) as { decisionId: string }).decisionId,
      }),
    ]);
    const line = (updatedMessage().blocks.at(-1)!.elements as { text: string }[])[0]!.text;
    expect(line).toBe(
      ":no_entry_sign: Exempt by <@U0ALICE001> at 2026-11-20 10:30:00 UTC: exempted through 2026-12-15 (UTC): demo stand &lt;!channel&gt; &amp; &lt;@U0BOB00001&gt; until Friday",
    );
    expect(updatedMessage().blocks.some((block) => block.block_id === "remedy:decisions")).toBe(false);

    // The worker again (a Lambda retry): the same entry, not a second one.
    await runWorkItem(item, workerDeps());
    expect((bucket.json(SLACK_ALLOWLIST_KEY) as { entries: unknown[] }).entries).toHaveLength(1);

    // Someone submitting the form again is told it is done.
    const again = signedEvent(
      formBody(submission(view.private_metadata, { reason: "another good reason", expires: "2026-12-20" })),
      {
        timestamp: String(Number(NOW_S) + 40),
      },
    );
    const body = JSON.parse((await handleRequest(again, endpointDeps())).body);
    expect(body.errors["remedy:exempt-reason"]).toBe(
      "U0ALICE001 already chose Exempt at 2026-11-20 10:30:00 UTC: nothing more was done.",
    );
    expect(invokedItems()).toHaveLength(1);
  });
});

describe("Undo", () => {
  /** The SG fix as the remediation makes it (a signed ledger record), put in the ledger bucket. */
  async function fixedSg() {
    const ledger = memoryLedger(testSigner());
    ec2Mock.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP_ID, Tags: [] }] });
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
    ec2Mock.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const result = await remediate("remediate-sg", requestFor(instructionFor("sg-open-ingress", [SSH_V4])), {
      ...deployedDeps(),
      protectedBuckets: [],
      sqs: new SQSClient({ region: REGION }),
      ledger,
      reporter: recordingReporter(),
      deadLetterQueueUrl: DLQ_URL,
      allowlist: [],
      now: () => T0,
      log: recordingLog(),
      newActionId: () => ACTION_ID,
      ec2: new EC2Client({ region: REGION }),
    });
    expect(result.status).toBe("fixed");
    bucket.put(ledgerKey(ACTION_ID), ledger.records.get(ACTION_ID));
    ec2Mock.reset();
    ec2Mock.on(DescribeSecurityGroupRulesCommand).resolves({
      SecurityGroupRules: SG_RULES.filter((rule) => rule.SecurityGroupRuleId !== "sgr-0ssh4"),
    });
    ec2Mock.on(AuthorizeSecurityGroupIngressCommand).resolves({ Return: true });
  }

  const REPORT_BLOCKS = [
    { type: "section", block_id: "fixed", text: { type: "mrkdwn", text: "Fixed sg-open-ingress" } },
    {
      type: "actions",
      block_id: "remedy:decisions",
      elements: [
        { type: "button", action_id: "remedy:undo", value: ACTION_ID, text: { type: "plain_text", text: "Undo" } },
      ],
    },
  ];

  it("through the CLI's own path: re-added, recorded with requestedBy slack:…, exempted, reported, message updated", async () => {
    await fixedSg();
    const event = signedEvent(formBody(press("remedy:undo", ACTION_ID, { blocks: REPORT_BLOCKS })));
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    expect(decisionKeys()).toEqual([`decisions/${ACTION_ID}/undo.json`]);
    // The endpoint read the record only for its account; nothing in EC2 yet.
    expect(ec2Mock.calls()).toEqual([]);

    const result = await runWorkItem(invokedItems()[0], workerDeps());
    expect(result).toMatchObject({ status: "done", announced: "updated" });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)[0]!.args[0].input).toMatchObject({
      GroupId: GROUP_ID,
      IpPermissions: [expect.objectContaining({ IpProtocol: "tcp", FromPort: 22, ToPort: 22 })],
    });
    const undo = bucket.json(ledgerKey(UNDO_ID))!;
    expect(undo).toMatchObject({
      actionId: UNDO_ID,
      undoes: ACTION_ID,
      outcome: "fixed",
      requestedBy: "slack:U0ALICE001 (team T0TEAM0001)",
    });
    expect(undo).not.toHaveProperty("integrity");
    expect(bucket.keys("exemptions/")).toHaveLength(1);
    expect(reporter.reports).toEqual([
      expect.objectContaining({ kind: "undone", undoes: ACTION_ID, by: "slack:U0ALICE001 (team T0TEAM0001)" }),
    ]);
    const line = (updatedMessage().blocks.at(-1)!.elements as { text: string }[])[0]!.text;
    expect(line).toMatch(/^:leftwards_arrow_with_hook: Undo by <@U0ALICE001> at 2026-11-20 10:30:00 UTC: restored \(/);
    expect(line).toContain(`recorded as ${UNDO_ID}; left as restored until 2026-11-21T10:30:00.000Z`);
  });

  it("a record whose MAC does not verify is not undone; the person is told, the buttons stay and work again", async () => {
    await fixedSg();
    const record = bucket.json(ledgerKey(ACTION_ID))!;
    bucket.put(ledgerKey(ACTION_ID), { ...record, ruleId: "tampered" });
    const event = signedEvent(formBody(press("remedy:undo", ACTION_ID, { blocks: REPORT_BLOCKS })));
    await handleRequest(event, endpointDeps());
    const [item] = invokedItems() as { decision: { decisionId: string } }[];
    const result = await runWorkItem(item, workerDeps());
    expect(result).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("does not match its integrity MAC"),
    });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toEqual([]);
    expect(callsTo("chat.update")).toEqual([]);
    const told = (responses()[0]!.body as { text: string }).text;
    expect(told).toContain("Not done");
    expect(told).toContain("press again to retry");
    // The decision is withdrawn (logged with its id), so the button is not answered "already chose Undo".
    expect(decisionKeys()).toEqual([]);
    expect(
      log.lines.find((line) => line.message === "withdrew a decision that could not be carried out"),
    ).toMatchObject({ fields: expect.objectContaining({ decisionId: item!.decision.decisionId }) });

    // Pressed again: recorded and handed to the worker again (and refused again, for the same reason).
    const again = signedEvent(formBody(press("remedy:undo", ACTION_ID, { blocks: REPORT_BLOCKS })), {
      timestamp: String(Number(NOW_S) + 20),
    });
    expect(await handleRequest(again, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    expect(decisionKeys()).toEqual([`decisions/${ACTION_ID}/undo.json`]);
    expect(invokedItems()).toHaveLength(2);
    expect(responses()).toHaveLength(1);
    expect(await runWorkItem(invokedItems()[1], workerDeps())).toMatchObject({ status: "failed" });
    expect(ec2Mock.commandCalls(AuthorizeSecurityGroupIngressCommand)).toEqual([]);
  });

  it("a worker that cannot be started: the decision is withdrawn and a second press records and invokes again", async () => {
    await fixedSg();
    lambdaMock
      .on(InvokeCommand)
      .rejectsOnce(
        Object.assign(new Error("denied"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 403 } }),
      )
      .resolves({ StatusCode: 202 });
    const first = signedEvent(formBody(press("remedy:undo", ACTION_ID, { blocks: REPORT_BLOCKS })));
    expect(await handleRequest(first, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    expect(decisionKeys()).toEqual([]);
    expect((responses()[0]!.body as { text: string }).text).toBe(
      "Remedy could not start carrying this out: nothing was done; press again to retry.",
    );
    const again = signedEvent(formBody(press("remedy:undo", ACTION_ID, { blocks: REPORT_BLOCKS })), {
      timestamp: String(Number(NOW_S) + 20),
    });
    expect(await handleRequest(again, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    expect(decisionKeys()).toEqual([`decisions/${ACTION_ID}/undo.json`]);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(2);
    expect(responses()).toHaveLength(1);
    expect(await runWorkItem(invokedItems()[1], workerDeps())).toMatchObject({ status: "done" });
  });

  it("organisation mode: the worker refuses an Undo item too (the member undo roles trust operators only)", async () => {
    await fixedSg();
    await handleRequest(
      signedEvent(formBody(press("remedy:undo", ACTION_ID, { blocks: REPORT_BLOCKS }))),
      endpointDeps(),
    );
    const organization = { regions: [REGION], excludedAccounts: [] };
    const result = await runWorkItem(
      invokedItems()[0],
      workerDeps({ organizationMode: true, deployment: { accountId: ACCOUNT, region: REGION, organization } }),
    );
    expect(result).toMatchObject({ status: "failed", reason: expect.stringContaining("organisation mode") });
    expect(ec2Mock.calls()).toEqual([]);
    expect(bucket.json(ledgerKey(UNDO_ID))).toBeUndefined();
    expect(callsTo("chat.update")).toEqual([]);
  });

  it("organisation mode: refused at the press, with the CLI command to use", async () => {
    await fixedSg();
    const event = signedEvent(formBody(press("remedy:undo", ACTION_ID)));
    await handleRequest(event, endpointDeps({ organizationMode: true }));
    expect(decisionKeys()).toEqual([]);
    expect((responses()[0]!.body as { text: string }).text).toContain(`run \`remedy undo ${ACTION_ID}\``);
  });

  it("an action with no ledger record", async () => {
    await handleRequest(signedEvent(formBody(press("remedy:undo", "act-20261120T102819Z-0000dead"))), endpointDeps());
    expect(decisionKeys()).toEqual([]);
    expect((responses()[0]!.body as { text: string }).text).toContain("no ledger record");
  });

  it("the endpoint's ledger key is the ledger's own", () => {
    expect(ledgerObjectKey(ACTION_ID)).toBe(ledgerKey(ACTION_ID));
    expect(ledgerObjectKey("act-x")).toBeUndefined();
  });
});

describe("the worker takes its item as a claim", () => {
  async function recordedItem() {
    await handleRequest(signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id))), endpointDeps());
    return invokedItems()[0] as Record<string, unknown> & { decision: Record<string, unknown> };
  }

  it("refuses an item whose decision record is missing", async () => {
    const item = await recordedItem();
    bucket.objects.delete(`decisions/${INSTRUCTION.id}/fix-now.json`);
    expect(await runWorkItem(item, workerDeps())).toMatchObject({ status: "refused" });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(slack.calls).toEqual([]);
  });

  it("refuses an item whose decision differs from the record", async () => {
    const item = await recordedItem();
    const forged = { ...item, decision: { ...item.decision, by: { slackUserId: BOB, teamId: "T0TEAM0001" } } };
    expect(await runWorkItem(forged, workerDeps())).toMatchObject({
      status: "refused",
      reason: expect.stringContaining("is not the one the item carries"),
    });
    const elsewhere = { ...item, decisionKey: `decisions/${INSTRUCTION.id}/snooze.json` };
    expect(await runWorkItem(elsewhere, workerDeps())).toMatchObject({ status: "refused" });
    expect(await runWorkItem({ kind: "something-else" }, workerDeps())).toMatchObject({ status: "refused" });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(slack.calls).toEqual([]);
  });

  it("asks the approvers again: a user removed since is refused and told", async () => {
    const item = await recordedItem();
    const approvers = approversFrom(JSON.stringify({ approvers: { fixNow: [{ users: [BOB] }] } }));
    expect(await runWorkItem(item, workerDeps({ approvers }))).toMatchObject({ status: "denied" });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(callsTo("chat.update")).toEqual([]);
    expect((responses()[0]!.body as { text: string }).text).toContain("U0ALICE001 is not in approvers.fixNow");
  });
});

describe("the pending instruction is a claim: only this deployment's, only this detection, only one resource", () => {
  /** The instruction as if detected in another region (its id follows, as the contract makes it). */
  function elsewhere(region = "eu-west-1") {
    const resource = { ...INSTRUCTION.resource, region };
    const moved = { ...INSTRUCTION, resource };
    return { ...moved, id: instructionId(moved) };
  }

  it("the endpoint records nothing about an instruction in another region, and says why", async () => {
    const foreign = elsewhere();
    bucket.put(pendingKey(foreign.id), { ...pendingRecord(), instruction: foreign });
    for (const action of ["remedy:fix-now", "remedy:snooze", "remedy:exempt"]) {
      const event = signedEvent(formBody(press(action, foreign.id)));
      expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    }
    expect(decisionKeys()).toEqual([]);
    expect(invokedItems()).toEqual([]);
    expect(callsTo("views.open")).toEqual([]);
    expect(responses().map((call) => (call.body as { text: string }).text)).toEqual(
      Array(3).fill(
        `Remedy does not act on this: ${ACCOUNT}/eu-west-1 is not this deployment's account and region (${ACCOUNT}/${REGION}). Nothing was done.`,
      ),
    );
    // Organisation mode: the settings' regions, and their excluded accounts.
    for (const organization of [
      { regions: ["us-west-2"], excludedAccounts: [] },
      { regions: [REGION, "eu-west-1"], excludedAccounts: [ACCOUNT] },
    ]) {
      const event = signedEvent(formBody(press("remedy:fix-now", foreign.id)), {
        timestamp: String(Number(NOW_S) + 1),
      });
      await handleRequest(event, endpointDeps({ deployment: { accountId: ACCOUNT, region: REGION, organization } }));
    }
    expect(decisionKeys()).toEqual([]);
    expect(
      responses()
        .slice(3)
        .map((call) => (call.body as { text: string }).text),
    ).toEqual([
      "Remedy does not act on this: region eu-west-1 is not one of this deployment's regions (us-west-2). Nothing was done.",
      `Remedy does not act on this: account ${ACCOUNT} is excluded in the organisation settings. Nothing was done.`,
    ]);
  });

  it("the Exempt form's submission about an instruction elsewhere records nothing", async () => {
    const foreign = elsewhere();
    bucket.put(pendingKey(foreign.id), { ...pendingRecord(), instruction: foreign });
    const metadata = JSON.stringify({ instructionId: foreign.id, channelId: CHANNEL, ts: MESSAGE_TS });
    const event = signedEvent(
      formBody(submission(metadata, { reason: "intended for the demo", expires: "2026-12-01" })),
    );
    const body = JSON.parse((await handleRequest(event, endpointDeps())).body);
    expect(body.errors["remedy:exempt-reason"]).toContain("is not this deployment's account and region");
    expect(decisionKeys()).toEqual([]);
  });

  it("the worker acts on no instruction in another account or region (one the endpoint let through)", async () => {
    const foreign = elsewhere();
    bucket.put(pendingKey(foreign.id), { ...pendingRecord(), instruction: foreign });
    // An endpoint that serves eu-west-1 records it; this worker does not act there.
    const organization = { regions: [REGION, "eu-west-1"], excludedAccounts: [] };
    const deps = endpointDeps({ deployment: { accountId: ACCOUNT, region: REGION, organization } });
    await handleRequest(signedEvent(formBody(press("remedy:fix-now", foreign.id))), deps);
    const [item] = invokedItems();
    expect(await runWorkItem(item, workerDeps())).toMatchObject({
      status: "failed",
      reason: expect.stringContaining(`${ACCOUNT}/eu-west-1 is not this deployment's account and region`),
    });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(callsTo("chat.update")).toEqual([]);
    // Withdrawn, as any decision that could not be carried out.
    expect(decisionKeys()).toEqual([]);
  });

  it("the worker in organisation mode refuses an instruction outside the settings' regions, and acts inside them", async () => {
    await handleRequest(signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id))), endpointDeps());
    const [item] = invokedItems();
    const deployment = (regions: string[]) => ({
      accountId: "999999999999",
      region: REGION,
      organization: { regions, excludedAccounts: [] },
    });
    expect(await runWorkItem(item, workerDeps({ deployment: deployment(["eu-west-1"]) }))).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("region us-east-1 is not one of this deployment's regions (eu-west-1)"),
    });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    await handleRequest(
      signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)), { timestamp: String(Number(NOW_S) + 5) }),
      endpointDeps(),
    );
    expect(await runWorkItem(invokedItems()[1], workerDeps({ deployment: deployment([REGION]) }))).toMatchObject({
      status: "done",
    });
  });

  it("the worker refuses a decision taken before this detection began (decisionsFrom)", async () => {
    await handleRequest(signedEvent(formBody(press("remedy:snooze", INSTRUCTION.id))), endpointDeps());
    const [item] = invokedItems();
    // The problem came back since (same id): decisions about the new detection count from 10:45.
    bucket.put(pendingKey(INSTRUCTION.id), { ...pendingRecord(), decisionsFrom: "2026-11-20T10:45:00.000Z" });
    expect(await runWorkItem(item, workerDeps())).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("older than this detection"),
    });
    expect(callsTo("chat.update")).toEqual([]);
  });

  /** An Exempt decision recorded as the endpoint records it (its item's hash in its details), and its item. */
  function exemptItem(details: Record<string, unknown>, id = INSTRUCTION.id) {
    const message = { channelId: CHANNEL, ts: MESSAGE_TS };
    const decision = {
      version: 1,
      decisionId: "a".repeat(64),
      action: "exempt",
      target: { instructionId: id },
      by: { slackUserId: ALICE, teamId: "T0TEAM0001" },
      at: NOW.toISOString(),
      details: { ...message, ...details, itemSha256: workItemSha256({ responseUrl: RESPONSE_URL, message }) },
    };
    bucket.put(`decisions/${id}/exempt.json`, decision);
    return {
      kind: "remedy-interaction",
      version: 1,
      decisionKey: `decisions/${id}/exempt.json`,
      decision,
      responseUrl: RESPONSE_URL,
      message,
    };
  }

  it("the worker exempts no resource with a wildcard in it (the allowlist would read it as a pattern)", async () => {
    for (const resourceId of ["sg-*", "sg-0123?"]) {
      const wildcard = { ...INSTRUCTION, resource: { ...INSTRUCTION.resource, id: resourceId } };
      const id = instructionId(wildcard);
      bucket.put(pendingKey(id), { ...pendingRecord(), instruction: { ...wildcard, id } });
      const result = await runWorkItem(
        exemptItem({ reason: "intended for the demo", expires: "2026-12-01" }, id),
        workerDeps(),
      );
      expect(result).toMatchObject({ status: "failed", reason: expect.stringContaining("contains a wildcard") });
    }
    expect(bucket.json(SLACK_ALLOWLIST_KEY)).toBeUndefined();
    expect((responses().at(-1)!.body as { text: string }).text).toContain("press again to retry");
  });

  it("the worker checks the exemption again as the form does: reason length, a day after today, at most 90 days", async () => {
    for (const details of [
      { reason: "short", expires: "2026-12-01" },
      { reason: "intended for the demo", expires: "2026-11-20" },
      { reason: "intended for the demo", expires: "2027-03-01" },
      { reason: "intended for the demo" },
      { expires: "2026-12-01" },
    ]) {
      expect(await runWorkItem(exemptItem(details), workerDeps()), JSON.stringify(details)).toMatchObject({
        status: "failed",
        reason: expect.stringContaining("not one the form accepts"),
      });
    }
    expect(bucket.json(SLACK_ALLOWLIST_KEY)).toBeUndefined();
    expect(
      await runWorkItem(exemptItem({ reason: "intended for the demo", expires: "2026-12-01" }), workerDeps()),
    ).toMatchObject({
      status: "done",
    });
    expect((bucket.json(SLACK_ALLOWLIST_KEY) as { entries: unknown[] }).entries).toHaveLength(1);
  });
});

describe("the work item's response_url and message are bound to its decision", () => {
  it("the endpoint records their hash; an item whose response_url or blocks were changed, or with no hash, is refused", async () => {
    await handleRequest(signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id))), endpointDeps());
    const [item] = invokedItems() as (Record<string, unknown> & {
      decision: { details: Record<string, unknown> };
      message: Record<string, unknown>;
    })[];
    expect(item!.decision.details.itemSha256).toBe(
      workItemSha256({ responseUrl: RESPONSE_URL, message: item!.message as never }),
    );
    const forgedUrl = { ...item, responseUrl: "https://hooks.slack.com/actions/T0TEAM0001/9/evil" };
    const forgedBlocks = {
      ...item,
      message: { ...item!.message, blocks: [{ type: "section", text: { type: "mrkdwn", text: "<!channel> pwned" } }] },
    };
    const dropped = { ...item, message: undefined };
    for (const forged of [forgedUrl, forgedBlocks, dropped]) {
      expect(await runWorkItem(forged, workerDeps())).toMatchObject({
        status: "refused",
        reason: expect.stringContaining("are not the ones the decision"),
      });
    }
    // A record with no hash (not the endpoint's) is refused too.
    const key = `decisions/${INSTRUCTION.id}/fix-now.json`;
    const { itemSha256: _hash, ...details } = item!.decision.details;
    const unbound = { ...item!.decision, details };
    bucket.put(key, unbound);
    expect(await runWorkItem({ ...item, decision: unbound }, workerDeps())).toMatchObject({ status: "refused" });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)).toEqual([]);
    expect(slack.calls).toEqual([]);
    // The item as sent works.
    bucket.put(key, item!.decision);
    expect(await runWorkItem(item, workerDeps())).toMatchObject({ status: "done" });
  });
});

describe("a record that cannot be read", () => {
  it("is not described to whoever pressed: a fixed sentence, the detail in the log only", async () => {
    s3Mock.on(GetObjectCommand).rejects(
      Object.assign(new Error(`Access Denied to s3://${LEDGER}/pending/${INSTRUCTION.id}.json`), {
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)));
    expect(await handleRequest(event, endpointDeps())).toEqual({ statusCode: 200, body: "" });
    expect(responses().map((call) => (call.body as { text: string }).text)).toEqual([
      "Remedy could not check this: nothing was done; try again.",
    ]);
    expect(JSON.stringify(log.errors())).toContain("AccessDenied");
    expect(decisionKeys()).toEqual([]);
  });
});
