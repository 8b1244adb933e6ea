// The interactions endpoint: Slack's signed requests in (an HTTP API route or a function URL, payload format 2.0),
// a decision recorded and handed to the worker out, within Slack's 3 seconds. It changes no resource and holds no
// power to: it reads the pending instruction or ledger record only to know whose it is, asks the approvers list,
// records the decision put-if-absent (a double click, a replay or a second approver acts once) and invokes the worker
// asynchronously. What it cannot check (a forged signature, a stale timestamp) gets a bare 401; a real person who may
// not press, or pressed too late, is told why where Slack lets us answer. One bad request never breaks a later one:
// every path answers.
import { InvokeCommand, type LambdaClient } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import { type DecisionAction, decisionActionOf } from "../../../contract/decision-actions.ts";
import { type DecisionRecord, type DecisionTarget, recordDecision } from "../../../contract/decisions.ts";
import { ACTION_ID_PATTERN, INSTRUCTION_ID_PATTERN } from "../../../contract/ids.ts";
import { readPending } from "../../../contract/pending.ts";
import { mayPress } from "../../../platform/approvers.ts";
import { errorFields, type Log } from "../../../platform/logging.ts";
import type { SlackWebApi } from "../../../platform/slack-web-api.ts";
import { escapeText, utc } from "../../notifier/message.ts";
import {
  EXEMPT_CALLBACK_ID,
  encodeMetadata,
  exemptView,
  parseMetadata,
  REASON_BLOCK,
  readExemptInput,
} from "../exempt-modal.ts";
import { readLedgerTarget } from "../ledger-target.ts";
import { type Approvers, decisionIdFor, type InteractionDeployment, placeProblem } from "../settings.ts";
import {
  type BlockActionsInteraction,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  type ViewSubmissionInteraction,
  verifySlackRequest,
} from "../verify.ts";
import { withdrawLogged } from "../withdraw.ts";
import {
  ITEM_SHA256_DETAIL,
  type MessageRef,
  messageRef,
  WORK_ITEM_KIND,
  WORK_ITEM_VERSION,
  type WorkItem,
  workItemSha256,
} from "../work-item.ts";

/** What Secrets Manager holds for the Slack app (platform/slack-app.ts). */
export interface SlackAppSecrets {
  botToken: string;
  signingSecret: string;
  teamId: string;
  appId: string;
}

/** The parts of the event the endpoint reads: API Gateway HTTP API / function URL payload format 2.0. */
export interface FunctionUrlEvent {
  body?: string | null;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined> | null;
  requestContext?: { http?: { method?: string } };
}

export interface HttpAnswer {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

export interface EndpointDeps {
  /** The Slack app's secrets (cached by the loader); a failure is answered 500, nothing done. */
  slackApp: () => Promise<SlackAppSecrets>;
  /** A Slack client with the bot token, for views.open and response_url answers (quick: Slack waits 3 s). */
  slack: (token: string) => Pick<SlackWebApi, "openView" | "respond">;
  approvers: Approvers;
  snoozeMinutes: number;
  /** Organisation mode: Undo from Slack is refused (the member undo roles trust operators only). */
  organizationMode: boolean;
  /** Where this deployment acts: a press about an instruction elsewhere is refused before anything is recorded. */
  deployment: InteractionDeployment;
  s3: Pick<S3Client, "send">;
  bucket: string;
  lambda: Pick<LambdaClient, "send">;
  workerFunction: string;
  now: () => Date;
  log: Log;
}

const LABELS: Readonly<Record<DecisionAction, string>> = {
  "fix-now": "Fix now",
  snooze: "Snooze",
  exempt: "Exempt",
  undo: "Undo",
};

const empty = (statusCode: number): HttpAnswer => ({ statusCode, body: "" });
const json = (body: unknown): HttpAnswer => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});
const modalErrors = (errors: Record<string, string>) => json({ response_action: "errors", errors });
/** What a person is told when the record a press is about cannot be read (the detail is logged, never shown). */
const CANNOT_CHECK = "Remedy could not check this: nothing was done; try again.";

/** The body exactly as sent: base64 undone to its bytes, read as UTF-8 (what Slack signed). */
export function rawBodyOf(event: FunctionUrlEvent): string {
  const body = event.body ?? "";
  return event.isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body;
}

export async function handleRequest(event: FunctionUrlEvent, deps: EndpointDeps): Promise<HttpAnswer> {
  try {
    return await handle(event, deps);
  } catch (error) {
    // Never an exception page: log it and answer as a failed request.
    deps.log.error("interaction failed", errorFields(error));
    return empty(500);
  }
}

async function handle(event: FunctionUrlEvent, deps: EndpointDeps): Promise<HttpAnswer> {
  const method = event.requestContext?.http?.method;
  if (method !== "POST") {
    deps.log.warn("refused a request that is not a POST", { method: String(method) });
    return { statusCode: 405, headers: { allow: "POST" }, body: "" };
  }
  let app: SlackAppSecrets;
  try {
    app = await deps.slackApp();
  } catch (error) {
    // Fail closed: without the signing secret nothing can be told from a forgery.
    deps.log.error("the Slack app secret cannot be read: refusing every request", errorFields(error));
    return empty(500);
  }
  const headers = event.headers ?? {};
  const verified = verifySlackRequest({
    headers,
    rawBody: rawBodyOf(event),
    signingSecret: app.signingSecret,
    now: deps.now(),
    expected: { teamId: app.teamId, appId: app.appId },
  });
  if (!verified.ok) {
    if (!verified.genuine) {
      deps.log.warn("refused a request not signed by Slack", { reason: verified.reason });
      return empty(401);
    }
    deps.log.warn("refused a signed request", { reason: verified.reason });
    if (verified.responseUrl) {
      await tell(deps, app, verified.responseUrl, `Remedy did nothing: ${escapeText(verified.reason)}.`);
    }
    return empty(verified.foreign ? 403 : 200);
  }
  // Present and well-formed: verifySlackRequest checked both.
  const decisionId = decisionIdFor(headerOf(headers, TIMESTAMP_HEADER), headerOf(headers, SIGNATURE_HEADER));
  const payload = verified.payload;
  if (payload.type === "block_actions") return pressed(payload, decisionId, app, deps);
  return submitted(payload, decisionId, app, deps);
}

function headerOf(headers: Record<string, string | undefined>, name: string): string {
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name && value) return value;
  return "";
}

// ---------------------------------------------------------------------------------------------------------------
// A button

async function pressed(
  payload: BlockActionsInteraction,
  decisionId: string,
  app: SlackAppSecrets,
  deps: EndpointDeps,
): Promise<HttpAnswer> {
  const [button, ...more] = payload.actions;
  const action = button ? decisionActionOf(button.actionId) : undefined;
  if (!button || more.length > 0 || !action) {
    deps.log.info("ignored a press that is not one of Remedy's buttons", {
      actions: payload.actions.map((each) => each.actionId.slice(0, 64)),
    });
    return empty(200);
  }
  const value = button.value ?? "";
  const validId = action === "undo" ? ACTION_ID_PATTERN.test(value) : INSTRUCTION_ID_PATTERN.test(value);
  const say = (text: string) => (payload.responseUrl ? tell(deps, app, payload.responseUrl, text) : Promise.resolve());
  if (!validId) {
    deps.log.warn("ignored a press whose value is not an id", { action, value: value.slice(0, 64) });
    return empty(200);
  }
  const log = { action, target: value, user: payload.userId };

  // Whose is it? The button carries only an id: everything else is read here.
  let accountId: string;
  let instruction: { problem: string; resource: string } | undefined;
  /** When decisions about this detection begin (an older one, about an earlier detection, may be replaced). */
  let decisionsFrom: string | undefined;
  try {
    if (action === "undo") {
      if (deps.organizationMode) {
        deps.log.info("refused Undo from Slack in organisation mode", log);
        await say(
          `Undo from Slack is not available in organisation mode (the member accounts' undo roles trust operators only): run \`remedy undo ${value}\`.`,
        );
        return empty(200);
      }
      const target = await readLedgerTarget(deps.s3, deps.bucket, value);
      if (!target) {
        await say(`Remedy has no ledger record of ${value}: nothing to undo.`);
        return empty(200);
      }
      if (!deps.deployment.organization && target.accountId !== deps.deployment.accountId) {
        deps.log.warn("refused Undo of a change outside this deployment", log, { accountId: target.accountId });
        await say(`Remedy does not act in account ${target.accountId} (not this deployment's): nothing was done.`);
        return empty(200);
      }
      accountId = target.accountId;
    } else {
      const pending = await readPending(deps.s3, deps.bucket, value);
      if (!pending) {
        await say("This is no longer pending (already fixed, exempted or gone): nothing was done.");
        return empty(200);
      }
      const elsewhere = placeProblem(deps.deployment, pending.instruction.resource);
      if (elsewhere) {
        deps.log.warn("refused a press about an instruction outside this deployment", log, { reason: elsewhere });
        await say(`Remedy does not act on this: ${escapeText(elsewhere)}. Nothing was done.`);
        return empty(200);
      }
      accountId = pending.instruction.resource.accountId;
      decisionsFrom = pending.decisionsFrom;
      instruction = {
        problem: pending.instruction.problem,
        resource: pending.instruction.resource.arn ?? pending.instruction.resource.id,
      };
    }
  } catch (error) {
    // The detail (bucket, key, what did not parse) is for the logs, not for whoever pressed.
    deps.log.error("could not read what a press is about", log, errorFields(error));
    await say(CANNOT_CHECK);
    return empty(200);
  }

  const verdict = judge(deps, action, payload.userId, accountId);
  if (!verdict.allowed) {
    deps.log.info("refused a press", log, { reason: verdict.reason });
    await say(`You may not ${LABELS[action]} this: ${escapeText(verdict.reason)}. Nothing was done.`);
    return empty(200);
  }

  const message = messageRef(payload.message);
  if (action === "exempt") {
    const metadata = encodeMetadata({
      instructionId: value,
      ...(message ? { channelId: message.channelId, ts: message.ts } : {}),
      ...(payload.responseUrl ? { responseUrl: payload.responseUrl } : {}),
    });
    if (!payload.triggerId || !metadata || !instruction) {
      await say("Slack did not send what the Exempt form needs: nothing was done; try again.");
      return empty(200);
    }
    try {
      // trigger_id lives 3 seconds: the form is opened now, and nothing is recorded until it is submitted.
      await deps.slack(app.botToken).openView({
        triggerId: payload.triggerId,
        view: exemptView({ metadata, ...instruction, accountId, now: deps.now() }),
      });
    } catch (error) {
      deps.log.error("could not open the Exempt form", log, errorFields(error));
      await say("Remedy could not open the Exempt form: nothing was done; try again.");
    }
    return empty(200);
  }

  const target: DecisionTarget = action === "undo" ? { actionId: value } : { instructionId: value };
  const details: Record<string, unknown> = {
    ...(message ? { channelId: message.channelId, ts: message.ts } : {}),
    ...(action === "snooze" ? { snoozeMinutes: deps.snoozeMinutes } : {}),
  };
  const outcome = await decide(
    deps,
    { decisionId, action, target, payload, details, ...(decisionsFrom ? { supersedeBefore: decisionsFrom } : {}) },
    payload.responseUrl,
    message,
  );
  if (outcome.kind === "taken") await say(outcome.text);
  if (outcome.kind === "failed") await say(outcome.text);
  return empty(200);
}

// ---------------------------------------------------------------------------------------------------------------
// The Exempt form's submission

async function submitted(
  payload: ViewSubmissionInteraction,
  decisionId: string,
  _app: SlackAppSecrets,
  deps: EndpointDeps,
): Promise<HttpAnswer> {
  if (payload.view.callbackId !== EXEMPT_CALLBACK_ID) {
    deps.log.info("ignored a submission of a view that is not Remedy's", {
      callbackId: payload.view.callbackId.slice(0, 64),
    });
    return empty(200);
  }
  const metadata = parseMetadata(payload.view.privateMetadata);
  if (!metadata) {
    deps.log.warn("refused an Exempt submission whose metadata is not Remedy's", { user: payload.userId });
    return modalErrors({ [REASON_BLOCK]: "This form cannot be used: close it and press Exempt again." });
  }
  const input = readExemptInput(payload.view.values, deps.now());
  if (!input.ok) return modalErrors(input.errors);
  const log = { action: "exempt", target: metadata.instructionId, user: payload.userId };
  let accountId: string;
  let decisionsFrom: string;
  try {
    const pending = await readPending(deps.s3, deps.bucket, metadata.instructionId);
    if (!pending) {
      return modalErrors({
        [REASON_BLOCK]: "This is no longer pending (already fixed, exempted or gone): nothing was done.",
      });
    }
    const elsewhere = placeProblem(deps.deployment, pending.instruction.resource);
    if (elsewhere) {
      deps.log.warn("refused an Exempt submission about an instruction outside this deployment", log, {
        reason: elsewhere,
      });
      return modalErrors({ [REASON_BLOCK]: `Remedy does not act on this: ${elsewhere}. Nothing was done.` });
    }
    accountId = pending.instruction.resource.accountId;
    decisionsFrom = pending.decisionsFrom;
  } catch (error) {
    deps.log.error("could not read what a submission is about", log, errorFields(error));
    return modalErrors({ [REASON_BLOCK]: CANNOT_CHECK });
  }
  const verdict = judge(deps, "exempt", payload.userId, accountId);
  if (!verdict.allowed) {
    deps.log.info("refused an Exempt submission", log, { reason: verdict.reason });
    return modalErrors({ [REASON_BLOCK]: `You may not exempt this: ${verdict.reason}. Nothing was done.` });
  }
  const message: MessageRef | undefined =
    metadata.channelId && metadata.ts ? { channelId: metadata.channelId, ts: metadata.ts } : undefined;
  const details: Record<string, unknown> = {
    reason: input.reason,
    expires: input.expires,
    ...(message ? { channelId: message.channelId, ts: message.ts } : {}),
  };
  const outcome = await decide(
    deps,
    {
      decisionId,
      action: "exempt",
      target: { instructionId: metadata.instructionId },
      payload,
      details,
      supersedeBefore: decisionsFrom,
    },
    metadata.responseUrl,
    message,
  );
  if (outcome.kind !== "recorded") return modalErrors({ [REASON_BLOCK]: outcome.plain });
  return json({ response_action: "clear" });
}

// ---------------------------------------------------------------------------------------------------------------

function judge(deps: EndpointDeps, action: DecisionAction, userId: string, accountId: string) {
  if (!deps.approvers.ok) {
    deps.log.error("the approvers settings are not valid: every press is refused", { reason: deps.approvers.reason });
    return {
      allowed: false as const,
      reason: "Remedy's approvers settings are not valid, so nobody may press anything",
    };
  }
  return mayPress(deps.approvers.settings, action, userId, accountId);
}

type Decided =
  | { kind: "recorded" }
  | { kind: "replayed"; plain: string }
  | { kind: "taken"; text: string; plain: string }
  | { kind: "failed"; text: string; plain: string };

/** Records the decision put-if-absent and, when it is new, hands it to the worker. */
async function decide(
  deps: EndpointDeps,
  what: {
    decisionId: string;
    action: DecisionAction;
    target: DecisionTarget;
    payload: { userId: string; teamId: string };
    details: Record<string, unknown>;
    /** Instruction targets: a decision taken before this is about an earlier detection, and is replaced. */
    supersedeBefore?: string;
  },
  responseUrl: string | undefined,
  message: MessageRef | undefined,
): Promise<Decided> {
  // The item's parts the record does not hold (where to answer, the message to update) are bound to it by their hash.
  const parts = { ...(responseUrl ? { responseUrl } : {}), ...(message ? { message } : {}) };
  const record: DecisionRecord = {
    version: 1,
    decisionId: what.decisionId,
    action: what.action,
    target: what.target,
    by: { slackUserId: what.payload.userId, teamId: what.payload.teamId },
    at: deps.now().toISOString(),
    details: { ...what.details, [ITEM_SHA256_DETAIL]: workItemSha256(parts) },
  };
  const log = { action: what.action, target: what.target, user: what.payload.userId, decisionId: what.decisionId };
  let recorded: Awaited<ReturnType<typeof recordDecision>>;
  try {
    recorded = await recordDecision(
      deps.s3,
      deps.bucket,
      record,
      what.supersedeBefore ? { supersedeBefore: what.supersedeBefore } : {},
    );
    if (recorded.recorded && recorded.superseded) {
      deps.log.info("replaced a decision about an earlier detection", log, {
        superseded: recorded.superseded.decisionId,
        supersededAt: recorded.superseded.at,
      });
    }
  } catch (error) {
    deps.log.error("could not record a decision", log, errorFields(error));
    const plain = "Remedy could not record this: nothing was done; try again.";
    return { kind: "failed", text: plain, plain };
  }
  if (!recorded.recorded) {
    const { existing } = recorded;
    if (existing.decisionId === what.decisionId) {
      // The very same request again (a replay within Slack's window): it was answered the first time.
      deps.log.warn("ignored a request already decided", log);
      return { kind: "replayed", plain: "This was already recorded: nothing more was done." };
    }
    deps.log.info("a decision was already taken", log, { existing: existing.decisionId, by: existing.by.slackUserId });
    const when = utc(existing.at);
    return {
      kind: "taken",
      text: `<@${existing.by.slackUserId}> already chose ${LABELS[existing.action]} at ${escapeText(when)}: nothing more was done.`,
      plain: `${existing.by.slackUserId} already chose ${LABELS[existing.action]} at ${when}: nothing more was done.`,
    };
  }
  const item: WorkItem = {
    kind: WORK_ITEM_KIND,
    version: WORK_ITEM_VERSION,
    decisionKey: recorded.key,
    decision: record,
    ...parts,
  };
  try {
    await deps.lambda.send(
      new InvokeCommand({
        FunctionName: deps.workerFunction,
        InvocationType: "Event",
        Payload: Buffer.from(JSON.stringify(item), "utf8"),
      }),
    );
  } catch (error) {
    deps.log.error("recorded a decision but could not start its worker", log, errorFields(error));
    if (what.action === "fix-now" || what.action === "snooze") {
      // Recorded but not started: the coordinator still honours Fix now and Snooze at its next look.
      const plain =
        "Recorded; Remedy applies it at its next look (within minutes), but this message will not be updated.";
      return { kind: "failed", text: plain, plain };
    }
    // Exempt and Undo happen only through the worker: the decision is taken back, so the button works again.
    if (await withdrawLogged(deps.s3, deps.bucket, record, deps.log, log)) {
      const plain = "Remedy could not start carrying this out: nothing was done; press again to retry.";
      return { kind: "failed", text: plain, plain };
    }
    const plain = "Recorded, but Remedy could not start carrying it out: tell an operator.";
    return { kind: "failed", text: plain, plain };
  }
  deps.log.info("decision recorded", log);
  return { kind: "recorded" };
}

/** An ephemeral answer to the person who pressed (only they see it). A failure is logged: the answer is best effort. */
async function tell(deps: EndpointDeps, app: SlackAppSecrets, responseUrl: string, text: string): Promise<void> {
  try {
    await deps.slack(app.botToken).respond(responseUrl, { response_type: "ephemeral", replace_original: false, text });
  } catch (error) {
    deps.log.warn("could not answer through the response_url", errorFields(error));
  }
}
