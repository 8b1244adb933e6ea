// End to end on moto: Slack messages answered, in the harness of test/e2e/pipeline-moto.test.ts (moto on a free
// port, the stack's resources under the synthesized names: test/e2e/moto-stack.ts; the real handlers with the
// environment the stack gives each; a local stand-in for Lambda's Invoke API recording every asynchronous invoke).
// The stack is deployed with a grace period, a Slack app (its secret and the routing secret, which names a channel
// id, in moto's Secrets Manager) and approvers; Slack's Web API and response_urls are a local server
// (test/helpers/slack-server.ts) that global fetch is pointed at for Slack's hosts only.
//
// Two security groups open on 22 are judged by the rule and queued; one coordinator tick holds both in their grace
// period and publishes a grace notice for each; the notifier posts them with chat.postMessage, buttons on.
//   A: Exempt… pressed (a real signed block_actions request to the endpoint) → the modal opens (views.open) → its
//      signed submission records the decision and invokes the worker → the worker (run with the recorded invoke's
//      payload) writes allowlist/slack.json and updates the message → `remedy plan --live` shows A exempt (Slack,
//      owner slack:U…) → dispatched as the coordinator would dispatch it after its grace, the remediation skips it:
//      A's rule is never revoked.
//   B: a press by someone not on the approvers list does nothing and is told why; Fix now by an approver → the
//      worker makes the hidden message visible now → the next tick dispatches it (its grace not over) → the
//      remediation revokes the rule live → the message says so; the fix report (SNS → notifier) carries Undo with
//      B's action id → Undo pressed → the worker puts the rule back through the shared undo core, the ledger holds
//      the undo with requestedBy slack:U…, and the report's message is updated.
// moto gaps worked around as in pipeline-moto: PutEvaluations (stubbed on the rule's client), GenerateMac's bare key
// id (kmsKeyArnsAsAws), S3 Control's account-in-host URLs (quietS3ControlUrlErrors).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IpPermission, SecurityGroupRule } from "@aws-sdk/client-ec2";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_OUTPUTS_FILE } from "../../cli/stack.ts";
import { BUTTON_ACTION_IDS, DECISIONS_BLOCK_ID } from "../../contract/decision-actions.ts";
import type { RemediationRequest } from "../../contract/dispatch.ts";
import type { Instruction } from "../../contract/instruction.ts";
import { readLedgerRecord } from "../../contract/ledger.ts";
import { pendingKey } from "../../contract/pending.ts";
import { parseReport, type Report } from "../../contract/report.ts";
import { kmsClient } from "../../platform/clients.ts";
import { SLACK_ALLOWLIST_KEY } from "../../platform/slack-allowlist.ts";
import {
  isolatedEnv,
  kmsKeyArnsAsAws,
  MOTO_ACCOUNT_ID,
  type Moto,
  skipWithoutMoto,
  startMoto,
} from "../helpers/moto.ts";
import { type SlackCall, type SlackServer, startSlackServer } from "../helpers/slack-server.ts";
import { formBody, signedEvent } from "../interactions/support.ts";
import {
  type CliRun,
  configRuleRun,
  coordinatorTickRun,
  createGroup,
  type Deployed,
  deployToMoto,
  describeGroup,
  functionEnv,
  groupRules,
  type Invocation,
  type LambdaStandIn,
  lambdaStandIn,
  ledgerKeys,
  MOTO_CONFIG_SCOPE,
  queueDepth,
  quietS3ControlUrlErrors,
  runCli,
  securityGroupConfigItem,
  shown,
  withEnv,
} from "./moto-stack.ts";

const GRACE_MINUTES = 60;
const CHANNEL_ID = "C0E2ESEC01";
const TEAM_ID = "T0E2ETEAM1";
const APP_ID = "A0E2EAPP01";
const BOT_TOKEN = "xoxb-e2e-0001-botbotbot";
const SIGNING_SECRET = randomBytes(16).toString("hex");
const ALICE = "U0E2EALICE";
const MALLORY = "U0E2EMALLO";
const APPROVERS = {
  approvers: {
    fixNow: [{ users: [ALICE] }],
    snooze: [{ users: [ALICE] }],
    exempt: [{ users: [ALICE], accounts: [MOTO_ACCOUNT_ID] }],
    undo: [{ users: [ALICE], accounts: [MOTO_ACCOUNT_ID] }],
  },
};

const GROUP_A = "remedy-e2e-slack-demo";
const GROUP_B = "remedy-e2e-slack-bastion";
const OPEN_SSH: IpPermission = {
  IpProtocol: "tcp",
  FromPort: 22,
  ToPort: 22,
  IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "ssh from anywhere (temporary)" }],
};
const EXEMPT_REASON = "demo stand for the trade fair, ticket EXPO-4";
const exemptUntil = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------------------------

/** A message the notifier posted with the app, as Slack holds it (and echoes it in a press). */
interface Posted {
  channel: string;
  ts: string;
  text: string;
  blocks: Record<string, unknown>[];
}

interface World extends Deployed {
  dir: string;
  lambda: LambdaStandIn;
  slack: SlackServer;
  /** Every message chat.postMessage answered, by ts. */
  posted: Map<string, Posted>;
  groupA: string;
  groupB: string;
  tapQueueUrl: string;
  tapSubscriptionArn: string;
  /** The instruction queued for each group. */
  queued: Map<string, Instruction>;
  /** The grace notice's message of each group. */
  notices: Map<string, Posted>;
  /** Reports published on the report topic, in order. */
  reports: Report[];
  fixB?: { actionId: string };
  runs: CliRun[];
  /** Slack requests signed so far: each gets a later timestamp, as Slack's would. */
  signed: number;
}

const isOpenSsh = (rule: SecurityGroupRule) =>
  rule.IsEgress === false &&
  rule.IpProtocol === "tcp" &&
  rule.FromPort === 22 &&
  rule.ToPort === 22 &&
  rule.CidrIpv4 === "0.0.0.0/0";

async function openSsh(w: World, groupId: string): Promise<SecurityGroupRule[]> {
  return (await groupRules(w.clients.ec2, groupId)).filter(isOpenSsh);
}

async function objectJson(w: Deployed, key: string): Promise<Record<string, unknown> | undefined> {
  try {
    const { Body } = await w.clients.s3.send(new GetObjectCommand({ Bucket: w.stack.ledgerBucket, Key: key }));
    return JSON.parse((await Body?.transformToString("utf-8")) ?? "") as Record<string, unknown>;
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw error;
  }
}

async function keysUnder(w: Deployed, prefix: string): Promise<string[]> {
  const { Contents = [] } = await w.clients.s3.send(
    new ListObjectsV2Command({ Bucket: w.stack.ledgerBucket, Prefix: prefix }),
  );
  return Contents.map((object) => object.Key!).sort();
}

/** Receives and deletes every message on the report tap until it stays empty (moto delivers SNS as it publishes). */
async function drain(w: World): Promise<Record<string, unknown>[]> {
  const notifications: Record<string, unknown>[] = [];
  for (let emptyReads = 0; emptyReads < 2; ) {
    const { Messages = [] } = await w.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: w.tapQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) emptyReads++;
    for (const message of Messages) {
      notifications.push(JSON.parse(message.Body ?? "{}"));
      await w.clients.sqs.send(
        new DeleteMessageCommand({ QueueUrl: w.tapQueueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
  return notifications;
}

/** What SNS hands the subscribed notifier for one notification. */
function lambdaSnsEvent(notification: Record<string, unknown>, subscriptionArn: string) {
  return {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: notification.Type,
          MessageId: notification.MessageId,
          TopicArn: notification.TopicArn,
          Subject: notification.Subject ?? null,
          Message: notification.Message,
          Timestamp: notification.Timestamp,
          SignatureVersion: notification.SignatureVersion,
          Signature: notification.Signature,
          SigningCertUrl: notification.SigningCertURL,
          UnsubscribeUrl: notification.UnsubscribeURL,
          MessageAttributes: notification.MessageAttributes ?? {},
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The Lambda handlers, each with the environment the stack gives it.

const functionName = (w: Deployed, id: string) => w.stack.refs.values.get(`aws_lambda_function.${id}.function_name`);

async function notifier(w: World, event: unknown) {
  return withEnv({ ...w.moto.env, ...functionEnv(w.tf, w.stack.refs, "notifier") }, async () => {
    const { handler } = await import("../../functions/notifier/handler.ts");
    return handler(event, { invokedFunctionArn: w.stack.refs.values.get("aws_lambda_function.notifier.arn")! });
  });
}

/** What was published on the report topic since the last look, each handed to the notifier as SNS would. */
async function deliverReports(w: World): Promise<Report[]> {
  const reports: Report[] = [];
  for (const notification of await drain(w)) {
    expect(notification).toMatchObject({ Type: "Notification", TopicArn: w.stack.reportTopicArn });
    reports.push(parseReport(JSON.parse(String(notification.Message))));
    const result = await notifier(w, lambdaSnsEvent(notification, w.tapSubscriptionArn));
    expect(result, String(notification.MessageId)).toMatchObject({ records: 1, delivered: 1, failed: 0 });
  }
  w.reports.push(...reports);
  return reports;
}

/** The interactions endpoint behind its HTTP API route; its Lambda client reaches the Invoke stand-in. */
async function endpoint(w: World, event: unknown) {
  const env = {
    ...w.moto.env,
    ...functionEnv(w.tf, w.stack.refs, "interactions"),
    AWS_ENDPOINT_URL_LAMBDA: w.lambda.url,
  };
  return withEnv(env, async () => {
    const { handler } = await import("../../functions/interactions/endpoint/handler.ts");
    return handler(event as Parameters<typeof handler>[0]);
  });
}

/** Lambda running the worker's asynchronous event: the endpoint's invoke, checked to name the stack's worker. */
async function worker(w: World, invocation: Invocation) {
  expect(invocation).toMatchObject({
    functionName: functionName(w, "interactions_worker"),
    invocationType: "Event",
  });
  return withEnv({ ...w.moto.env, ...functionEnv(w.tf, w.stack.refs, "interactions_worker") }, async () => {
    kmsKeyArnsAsAws(kmsClient());
    const { handler } = await import("../../functions/interactions/worker/handler.ts");
    return handler(invocation.payload);
  });
}

/** Lambda running one asynchronous invoke of the SG remediation function. */
async function remediateSg(w: World, payload: unknown) {
  return withEnv({ ...w.moto.env, ...functionEnv(w.tf, w.stack.refs, "remediate_sg") }, async () => {
    kmsKeyArnsAsAws(kmsClient());
    const { deployedHandler } = await import("../support/remediate.ts");
    const { handler } = await deployedHandler("remediate-sg");
    return handler(payload);
  });
}

async function cli(w: World, argv: string[]): Promise<CliRun> {
  const result = await runCli(argv, w.dir, isolatedEnv(w.moto, w.dir));
  w.runs.push(result);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Slack's side: signed requests as Slack sends them to the interactivity URL.

/** A request body signed with the app's signing secret at a timestamp of now (each later than the one before). */
function signed(w: World, body: string) {
  w.signed++;
  const timestamp = String(Math.floor(Date.now() / 1000) + w.signed);
  return signedEvent(body, { secret: SIGNING_SECRET, timestamp });
}

const responseUrl = (n: number) => `https://hooks.slack.com/actions/${TEAM_ID}/${1_000 + n}/e2e${n}`;

/** A button of a posted message pressed, as Slack's block_actions payload says it (the message's blocks echoed). */
function press(w: World, message: Posted, action: keyof typeof BUTTON_ACTION_IDS, value: string, user = ALICE) {
  const n = w.signed + 1;
  return {
    url: responseUrl(n),
    event: signed(
      w,
      formBody({
        type: "block_actions",
        team: { id: TEAM_ID, domain: "acme" },
        api_app_id: APP_ID,
        user: { id: user, team_id: TEAM_ID },
        trigger_id: `${n}.e2e.trigger`,
        container: { type: "message", channel_id: message.channel, message_ts: message.ts },
        channel: { id: message.channel },
        message: { ts: message.ts, text: message.text, blocks: message.blocks },
        actions: [{ action_id: BUTTON_ACTION_IDS[action], block_id: DECISIONS_BLOCK_ID, value, type: "button" }],
        response_url: responseUrl(n),
      }),
    ),
  };
}

/** The Exempt form submitted, as Slack's view_submission payload says it. */
function submission(w: World, view: { id: string; callback_id: string; private_metadata: string }, user = ALICE) {
  return signed(
    w,
    formBody({
      type: "view_submission",
      team: { id: TEAM_ID, domain: "acme" },
      api_app_id: APP_ID,
      user: { id: user, team_id: TEAM_ID },
      view: {
        id: view.id,
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: {
          values: {
            "remedy:exempt-reason": { reason: { type: "plain_text_input", value: EXEMPT_REASON } },
            "remedy:exempt-expires": { expires: { type: "datepicker", selected_date: exemptUntil } },
          },
        },
      },
    }),
  );
}

const callsTo = (w: World, method: string) => w.slack.calls.filter((call) => call.method === method);
const answersAt = (w: World, url: string) =>
  w.slack.calls.filter((call) => call.host === "hooks.slack.com" && call.path === new URL(url).pathname);
/** The buttons of a message: [action_id, value] each. */
const buttonsOf = (blocks: Record<string, unknown>[]) =>
  blocks
    .filter((block) => block.type === "actions")
    .flatMap((block) => (block.elements as { action_id: string; value: string }[]).map((b) => [b.action_id, b.value]));
/** The line the worker put in place of the buttons. */
const decidedLine = (update: SlackCall) => {
  const { blocks } = update.body as { blocks: Record<string, unknown>[] };
  expect(
    blocks.some((block) => block.block_id === DECISIONS_BLOCK_ID),
    "the buttons are gone",
  ).toBe(false);
  return ((blocks.at(-1)!.elements as { text: string }[])[0] ?? { text: "" }).text;
};

// ---------------------------------------------------------------------------------------------------------------

async function setUp(moto: Moto): Promise<World> {
  const lambda = await lambdaStandIn();
  const slack = await startSlackServer();
  const posted = new Map<string, Posted>();
  // Slack keeps what was posted: chat.postMessage answers a new ts, conversations.history reads a message back.
  slack.answer("chat.postMessage", (call) => {
    const body = call.body as { channel: string; text: string; blocks?: Record<string, unknown>[] };
    const ts = `1790000${String(posted.size + 1).padStart(3, "0")}.000100`;
    posted.set(ts, { channel: body.channel, ts, text: body.text, blocks: body.blocks ?? [] });
    return { json: { ok: true, channel: body.channel, ts, message: { text: body.text } } };
  });
  slack.answer("conversations.history", (call) => {
    const { channel, latest } = call.body as { channel: string; latest: string };
    const message = posted.get(latest);
    return {
      json: {
        ok: true,
        messages: message && message.channel === channel ? [{ ts: latest, blocks: message.blocks }] : [],
      },
    };
  });
  // Slack's hosts reach the stand-in; anything else (moto) as it is.
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", (input: string | URL | Request, init?: RequestInit) => {
    const host = new URL(input instanceof Request ? input.url : String(input)).hostname;
    return host === "slack.com" || host === "hooks.slack.com" ? slack.fetch(input, init) : realFetch(input, init);
  });

  // The operator's secrets (not part of the stack: their ARNs are the slack_secret and slack_app_secret variables).
  const secretsManager = new SecretsManagerClient(moto.clientConfig);
  const secret = async (Name: string, value: unknown) =>
    (await secretsManager.send(new CreateSecretCommand({ Name, SecretString: JSON.stringify(value) }))).ARN!;
  const routingArn = await secret("remedy/slack-routing-e2e", {
    default: { channelId: CHANNEL_ID, channel: "#sec-e2e" },
  });
  const appArn = await secret("remedy/slack-app-e2e", {
    botToken: BOT_TOKEN,
    signingSecret: SIGNING_SECRET,
    teamId: TEAM_ID,
    appId: APP_ID,
  });
  const w = await deployToMoto(moto, {
    enable_auto_response: "true",
    grace_period_minutes: String(GRACE_MINUTES),
    slack_secret: routingArn,
    slack_app_secret: appArn,
    slack_approvers: JSON.stringify(APPROVERS),
  });

  // The notifier's subscription to the report topic: an SQS queue listens on it instead.
  const { QueueUrl: tapQueueUrl } = await w.clients.sqs.send(
    new CreateQueueCommand({ QueueName: "remedy-e2e-slack-report-tap" }),
  );
  const { Attributes } = await w.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: tapQueueUrl, AttributeNames: ["QueueArn"] }),
  );
  const { SubscriptionArn } = await w.clients.sns.send(
    new SubscribeCommand({ TopicArn: w.stack.reportTopicArn, Protocol: "sqs", Endpoint: Attributes!.QueueArn }),
  );

  const groupA = await createGroup(w.clients.ec2, GROUP_A, [OPEN_SSH]);
  const groupB = await createGroup(w.clients.ec2, GROUP_B, [OPEN_SSH]);
  const dir = mkdtempSync(join(tmpdir(), "remedy-slack-moto-"));
  writeFileSync(join(dir, DEFAULT_OUTPUTS_FILE), `${JSON.stringify(w.stack.outputs, null, 2)}\n`);
  return {
    ...w,
    dir,
    lambda,
    slack,
    posted,
    groupA,
    groupB,
    tapQueueUrl: tapQueueUrl!,
    tapSubscriptionArn: SubscriptionArn!,
    queued: new Map(),
    notices: new Map(),
    reports: [],
    runs: [],
    signed: 0,
  };
}

// ---------------------------------------------------------------------------------------------------------------

describe.skipIf(skipWithoutMoto("the Slack end-to-end test on moto"))("Slack answers, end to end on moto", () => {
  let moto: Moto | undefined;
  let world: World | undefined;
  const w = () => {
    if (!world) throw new Error("the emulated stack was not set up");
    return world;
  };

  beforeAll(async () => {
    quietS3ControlUrlErrors();
    moto = await startMoto();
    world = await setUp(moto);
  }, 90_000);

  afterAll(async () => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    if (world) {
      rmSync(world.dir, { recursive: true, force: true });
      await world.lambda.close();
      await world.slack.close();
    }
    await moto?.stop();
  });

  it("the rule queues both groups; one tick holds them in their grace period and posts a notice with buttons", async () => {
    const p = w();
    const capturedAt = new Date(Date.now() - 5_000);
    for (const groupId of [p.groupA, p.groupB]) {
      const group = await describeGroup(p.clients.ec2, groupId);
      const result = await configRuleRun(
        p,
        securityGroupConfigItem(group, capturedAt, MOTO_CONFIG_SCOPE),
        "sg-open-ingress",
      );
      expect(result.queued.map((i) => i.problem)).toEqual(["sg-open-ingress"]);
      const [instruction] = result.queued;
      // Due only after the grace period.
      expect(Date.parse(instruction!.notBefore) - capturedAt.getTime()).toBe(GRACE_MINUTES * 60_000);
      p.queued.set(groupId, instruction!);
    }

    const summary = await coordinatorTickRun(p, p.lambda);
    expect(summary).toMatchObject({ received: 2, dispatched: 0, graceHidden: 2, pendingRecordFailures: 0 });
    expect(p.lambda.invocations, "nothing dispatched in the grace period").toEqual([]);
    expect(await queueDepth(p, p.stack.queueUrl)).toEqual({ visible: 0, inFlight: 2 });

    // A pending record per instruction, naming it and the receipt that hides its message.
    for (const [groupId, instruction] of p.queued) {
      const pending = await objectJson(p, pendingKey(instruction.id));
      expect(pending, groupId).toMatchObject({
        version: 1,
        instruction: { id: instruction.id, resource: { id: groupId } },
        receiptHandle: expect.any(String),
      });
      expect(Date.parse(String(pending!.dueAt))).toBe(Date.parse(instruction.notBefore));
    }

    const reports = await deliverReports(p);
    expect(reports.map((r) => r.kind)).toEqual(["grace", "grace"]);
    const posts = callsTo(p, "chat.postMessage");
    expect(posts).toHaveLength(2);
    for (const post of posts) {
      expect(post.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
      expect(post.body).toMatchObject({ channel: CHANNEL_ID });
    }
    for (const [groupId, instruction] of p.queued) {
      const message = [...p.posted.values()].find((m) => buttonsOf(m.blocks).some(([, v]) => v === instruction.id));
      expect(message, `the notice about ${groupId}`).toBeDefined();
      expect(JSON.stringify(message!.blocks)).toContain(groupId);
      expect(buttonsOf(message!.blocks)).toEqual([
        ["remedy:fix-now", instruction.id],
        ["remedy:snooze", instruction.id],
        ["remedy:exempt", instruction.id],
      ]);
      p.notices.set(groupId, message!);
    }
  }, 60_000);

  it("A: Exempt… opens the form; its submission is recorded and the worker writes the allowlist entry", async () => {
    const p = w();
    const notice = p.notices.get(p.groupA)!;
    const instruction = p.queued.get(p.groupA)!;
    const { event } = press(p, notice, "exempt", instruction.id);
    expect(await endpoint(p, event)).toEqual({ statusCode: 200, body: "" });
    const [open] = callsTo(p, "views.open");
    expect(open!.headers.authorization).toBe(`Bearer ${BOT_TOKEN}`);
    const { view, trigger_id } = open!.body as {
      trigger_id: string;
      view: { type: string; callback_id: string; private_metadata: string };
    };
    expect(trigger_id).toMatch(/\.e2e\.trigger$/);
    expect(view).toMatchObject({ type: "modal", callback_id: "remedy:exempt" });
    expect(JSON.stringify(view)).toContain(p.groupA);
    expect(await keysUnder(p, "decisions/"), "nothing recorded until the form is submitted").toEqual([]);
    expect(p.lambda.invocations).toEqual([]);

    const answer = await endpoint(p, submission(p, { id: "V0E2E00001", ...view }));
    expect(JSON.parse(answer.body)).toEqual({ response_action: "clear" });
    const decisionKey = `decisions/${instruction.id}/exempt.json`;
    expect(await keysUnder(p, "decisions/")).toEqual([decisionKey]);
    const decision = await objectJson(p, decisionKey);
    expect(decision).toMatchObject({
      action: "exempt",
      target: { instructionId: instruction.id },
      by: { slackUserId: ALICE, teamId: TEAM_ID },
      details: { reason: EXEMPT_REASON, expires: exemptUntil, channelId: CHANNEL_ID, ts: notice.ts },
    });
    expect(p.lambda.invocations).toHaveLength(1);
    const invocation = p.lambda.invocations[0]!;
    expect(invocation.payload).toMatchObject({ kind: "remedy-interaction", decisionKey });

    expect(await worker(p, invocation)).toMatchObject({ status: "done", announced: "updated" });
    const allowlist = (await objectJson(p, SLACK_ALLOWLIST_KEY)) as { entries: Record<string, unknown>[] };
    expect(allowlist.entries).toEqual([
      expect.objectContaining({
        resource: instruction.resource.arn ?? p.groupA,
        problems: ["sg-open-ingress"],
        reason: EXEMPT_REASON,
        owner: `slack:${ALICE}`,
        expires: exemptUntil,
        decisionId: decision!.decisionId,
      }),
    ]);
    const [update] = callsTo(p, "chat.update");
    expect(update!.body).toMatchObject({ channel: CHANNEL_ID, ts: notice.ts });
    expect(decidedLine(update!)).toMatch(
      new RegExp(`^:no_entry_sign: Exempt by <@${ALICE}> at .* UTC: exempted through ${exemptUntil} \\(UTC\\): `),
    );
    expect(await openSsh(p, p.groupA), "A's rule is still there").toHaveLength(1);
  }, 60_000);

  it("`remedy plan --live` shows A exempt by the Slack allowlist entry (owner slack:U…), B still due", async () => {
    const p = w();
    const run = await cli(p, ["plan", "--live", "--json"]);
    expect(run.code, shown(run)).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.slackAllowlistError, shown(run)).toBeUndefined();
    const finding = (groupId: string) =>
      (report.findings as Record<string, string>[]).filter(
        (f) => f.resourceId === groupId && f.problem === "sg-open-ingress",
      );
    expect(finding(p.groupA)).toEqual([
      expect.objectContaining({
        status: "exempt",
        action: "none (exempt)",
        exemption: expect.stringContaining(`(Slack, owner slack:${ALICE}) until ${exemptUntil}: ${EXEMPT_REASON}`),
      }),
    ]);
    expect(finding(p.groupA)[0]!.exemption).toMatch(/^allowlist/);
    expect(finding(p.groupB)).toEqual([expect.objectContaining({ status: "due" })]);
  }, 60_000);

  it("B: a press by someone not on the approvers list records nothing, and they are told why", async () => {
    const p = w();
    const instruction = p.queued.get(p.groupB)!;
    const decisionsBefore = await keysUnder(p, "decisions/");
    const invokesBefore = p.lambda.invocations.length;
    const { event, url } = press(p, p.notices.get(p.groupB)!, "fix-now", instruction.id, MALLORY);
    expect(await endpoint(p, event)).toEqual({ statusCode: 200, body: "" });
    expect(await keysUnder(p, "decisions/")).toEqual(decisionsBefore);
    expect(p.lambda.invocations).toHaveLength(invokesBefore);
    expect(answersAt(p, url).map((call) => call.body)).toEqual([
      {
        response_type: "ephemeral",
        replace_original: false,
        text: `You may not Fix now this: ${MALLORY} is not in approvers.fixNow. Nothing was done.`,
      },
    ]);
    expect(await queueDepth(p, p.stack.queueUrl)).toEqual({ visible: 0, inFlight: 2 });
  }, 30_000);

  it("B: Fix now makes the message visible; the next tick dispatches it before its grace ends; fixed live", async () => {
    const p = w();
    const instruction = p.queued.get(p.groupB)!;
    const notice = p.notices.get(p.groupB)!;
    const { event } = press(p, notice, "fix-now", instruction.id);
    expect(await endpoint(p, event)).toEqual({ statusCode: 200, body: "" });
    const decisionKey = `decisions/${instruction.id}/fix-now.json`;
    expect(await objectJson(p, decisionKey)).toMatchObject({ action: "fix-now", by: { slackUserId: ALICE } });
    const invocation = p.lambda.invocations.at(-1)!;
    expect(invocation.payload).toMatchObject({ decisionKey, message: { channelId: CHANNEL_ID, ts: notice.ts } });

    const updatesBefore = callsTo(p, "chat.update").length;
    expect(await worker(p, invocation)).toMatchObject({ status: "done", announced: "updated" });
    expect(await queueDepth(p, p.stack.queueUrl), "B visible now, A still hidden").toEqual({
      visible: 1,
      inFlight: 1,
    });
    const fixNowUpdate = callsTo(p, "chat.update")[updatesBefore]!;
    expect(fixNowUpdate.body).toMatchObject({ channel: CHANNEL_ID, ts: notice.ts });
    expect(decidedLine(fixNowUpdate)).toMatch(new RegExp(`^:zap: Fix now by <@${ALICE}> at .* UTC: due now: `));

    // The next coordinator run: B dispatched (its grace period has most of an hour to go), A left hidden.
    expect(Date.now()).toBeLessThan(Date.parse(instruction.notBefore));
    const invokesBefore = p.lambda.invocations.length;
    const summary = await coordinatorTickRun(p, p.lambda);
    expect(summary).toMatchObject({ received: 1, dispatched: 1, deadLettered: 0, invokeFailures: 0 });
    const dispatches = p.lambda.invocations.slice(invokesBefore);
    expect(dispatches).toEqual([
      {
        functionName: functionName(p, "remediate_sg"),
        invocationType: "Event",
        payload: expect.objectContaining({ queueUrl: p.stack.queueUrl, attempt: 1, instruction }),
      },
    ]);
    expect(await objectJson(p, pendingKey(instruction.id)), "no longer pending").toBeUndefined();

    const before = await openSsh(p, p.groupB);
    expect(before).toHaveLength(1);
    const result = await remediateSg(p, dispatches[0]!.payload);
    if (result.status !== "fixed") throw new Error(`B: ${JSON.stringify(result)}`);
    expect(result.messageDeleted).toBe(true);
    p.fixB = { actionId: result.actionId };
    expect(await openSsh(p, p.groupB), "B's open rule revoked, live").toEqual([]);
    expect(await openSsh(p, p.groupA), "A untouched").toHaveLength(1);
    expect(await queueDepth(p, p.stack.queueUrl)).toEqual({ visible: 0, inFlight: 1 });
  }, 60_000);

  it("B: the fix report carries Undo; Undo puts the rule back, recorded as asked from Slack", async () => {
    const p = w();
    const { actionId } = p.fixB!;
    const postsBefore = callsTo(p, "chat.postMessage").length;
    const reports = await deliverReports(p);
    expect(reports).toEqual([expect.objectContaining({ kind: "fixed", actionId, resource: expect.anything() })]);
    const [post] = callsTo(p, "chat.postMessage").slice(postsBefore);
    const fixReport = p.posted.get([...p.posted.keys()].at(-1)!)!;
    expect(post!.body).toMatchObject({ channel: CHANNEL_ID });
    expect(JSON.stringify(fixReport.blocks)).toContain(p.groupB);
    expect(buttonsOf(fixReport.blocks)).toEqual([["remedy:undo", actionId]]);

    const keysBefore = await ledgerKeys(p);
    const { event } = press(p, fixReport, "undo", actionId);
    expect(await endpoint(p, event)).toEqual({ statusCode: 200, body: "" });
    const decisionKey = `decisions/${actionId}/undo.json`;
    expect(await objectJson(p, decisionKey)).toMatchObject({ action: "undo", target: { actionId } });
    expect(await openSsh(p, p.groupB), "nothing changed by the endpoint").toEqual([]);

    const updatesBefore = callsTo(p, "chat.update").length;
    const done = await worker(p, p.lambda.invocations.at(-1)!);
    expect(done).toMatchObject({ status: "done", announced: "updated" });
    expect(await openSsh(p, p.groupB), "B's rule is back, live").toEqual([
      expect.objectContaining({ CidrIpv4: "0.0.0.0/0", Description: OPEN_SSH.IpRanges![0]!.Description }),
    ]);
    const added = (await ledgerKeys(p)).filter((key) => !keysBefore.includes(key));
    expect(added, "the undo is recorded").toHaveLength(1);
    const undoActionId = added[0]!
      .split("/")
      .at(-1)!
      .replace(/\.json$/, "");
    const undo = await readLedgerRecord(p.clients.s3, { bucket: p.stack.ledgerBucket }, undoActionId);
    expect(undo).toMatchObject({ undoes: actionId, requestedBy: `slack:${ALICE} (team ${TEAM_ID})` });
    const update = callsTo(p, "chat.update")[updatesBefore]!;
    expect(update.body).toMatchObject({ channel: CHANNEL_ID, ts: fixReport.ts });
    expect(decidedLine(update)).toMatch(
      new RegExp(
        `^:leftwards_arrow_with_hook: Undo by <@${ALICE}> at .* UTC: restored \\(.*recorded as ${undoActionId}`,
      ),
    );
    // The undo is reported on the topic too.
    expect(await deliverReports(p)).toEqual([expect.objectContaining({ kind: "undone", undoes: actionId })]);
  }, 60_000);

  it("A is never fixed: dispatched once its grace period is over, the remediation skips it as exempt", async () => {
    const p = w();
    const instruction = p.queued.get(p.groupA)!;
    const pending = (await objectJson(p, pendingKey(instruction.id))) as { receiptHandle: string; messageId: string };
    expect(pending, "A is still held in its grace period").toBeDefined();
    // An hour on (this process's clock only: moto keeps its own), the coordinator dispatches A with the receipt of its
    // last receive, and the remediation runs it.
    const later = new Date(Date.parse(instruction.notBefore) + 60_000);
    vi.useFakeTimers({ toFake: ["Date"], now: later });
    let result: Awaited<ReturnType<typeof remediateSg>>;
    try {
      result = await remediateSg(p, {
        queueUrl: p.stack.queueUrl,
        receiptHandle: pending.receiptHandle,
        messageId: pending.messageId,
        instruction,
        attempt: 1,
        maxAttempts: 3,
        dispatchedAt: later.toISOString(),
      } satisfies RemediationRequest);
    } finally {
      vi.useRealTimers();
    }
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringContaining(EXEMPT_REASON) });
    expect(result.status === "skipped" && result.reason).toContain(`slack:${ALICE}`);
    expect(await openSsh(p, p.groupA), "A's rule is still there").toHaveLength(1);
    const fixesOfA = [];
    for (const key of await ledgerKeys(p)) {
      const record = await readLedgerRecord(
        p.clients.s3,
        { bucket: p.stack.ledgerBucket },
        key
          .split("/")
          .at(-1)!
          .replace(/\.json$/, ""),
      );
      if (record.resource.id === p.groupA && record.outcome === "fixed") fixesOfA.push(record.actionId);
    }
    expect(fixesOfA, "no fix of A in the ledger").toEqual([]);
    // The skip is reported like any other.
    expect(await deliverReports(p)).toEqual([expect.objectContaining({ kind: "skipped" })]);
  }, 60_000);
});
