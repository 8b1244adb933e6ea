// The interactions worker: carries out a decision recorded by the endpoint (Fix now, Snooze, Exempt, Undo), then says
// so on the message it came from. Invoked asynchronously by the endpoint only, but its work item is a claim all the
// same: the decision it names is read again from the ledger bucket and must be the very record the item carries, and
// the approvers are asked again (the list may have changed; for Undo, with the account of the ledger record once its
// MAC verifies). Each action is idempotent, so a Lambda retry of the same item is harmless: a visibility of 0 again,
// the same decision's allowlist entry (found, not added twice), an undo that re-reads the live state.
// Failures: retryable ones throw (Lambda retries the item); permanent ones are logged and told to the person through
// the response_url, the message keeps its buttons and the decision is withdrawn (../withdraw.ts), so a press again
// records and carries it out anew. The item's response_url and message are bound to the record by their hash.
import type { S3Client } from "@aws-sdk/client-s3";
import { ChangeMessageVisibilityCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { canonicalJson } from "../../../contract/canonical-json.ts";
import type { DecisionAction } from "../../../contract/decision-actions.ts";
import { type DecisionRecord, decisionKey, lookUpDecision, type StoredDecision } from "../../../contract/decisions.ts";
import { readPending } from "../../../contract/pending.ts";
import { mayPress } from "../../../platform/approvers.ts";
import { classifyAwsError, hasErrorCode } from "../../../platform/aws-errors.ts";
import { failureKind, PermanentError } from "../../../platform/errors.ts";
import { errorFields, type Log } from "../../../platform/logging.ts";
import type { SlackAllowlistAddition } from "../../../platform/slack-allowlist.ts";
import type { SlackWebApi } from "../../../platform/slack-web-api.ts";
import { escapeText } from "../../notifier/message.ts";
import { exemptInputProblem } from "../exempt-modal.ts";
import { decidedBlocks, decisionLine } from "../outcome.ts";
import { type Approvers, type InteractionDeployment, placeProblem } from "../settings.ts";
import { withdrawLogged } from "../withdraw.ts";
import {
  CHANNEL_ID_PATTERN,
  ITEM_SHA256_DETAIL,
  MESSAGE_TS_PATTERN,
  parseWorkItem,
  type WorkItem,
  workItemSha256,
} from "../work-item.ts";

/** What an undo from Slack needs (worker/undo.ts: the CLI's own path, cli/undo-runner.ts undoAndKeep). */
export interface UndoPort {
  /** The record's resource once the record is genuine (MAC) and undoable; throws UndoError otherwise. */
  target(actionId: string): Promise<{ accountId: string; region: string }>;
  run(actionId: string, requestedBy: string): Promise<UndoDone>;
}

export interface UndoDone {
  outcome: "restored" | "already-restored";
  undoActionId: string;
  steps: string[];
  exemptUntil?: string;
}

export interface WorkerDeps {
  s3: Pick<S3Client, "send">;
  bucket: string;
  approvers: Approvers;
  sqs: Pick<SQSClient, "send">;
  queueUrl: string;
  slack: () => Promise<Pick<SlackWebApi, "update" | "respond" | "call">>;
  addAllowlistEntry: (addition: SlackAllowlistAddition, now: Date) => Promise<{ existing?: boolean }>;
  undo: UndoPort;
  /**
   * Where Remedy acts: an undo of anything elsewhere is refused, and so is any decision about an instruction
   * elsewhere (settings.ts placeProblem: in organisation mode, the settings' regions and excluded accounts).
   */
  deployment: InteractionDeployment;
  /** Organisation mode: Undo from Slack is refused (the member undo roles trust operators only). */
  organizationMode: boolean;
  now: () => Date;
  log: Log;
}

export type WorkerResult =
  | { status: "refused"; reason: string }
  | { status: "denied"; reason: string }
  | { status: "failed"; reason: string }
  | { status: "done"; outcome: string; announced: "updated" | "response_url" | "thread" | "none" };

/** The work item's decision record is missing, unreadable or not the one the item carries. */
class RefusedItemError extends PermanentError {
  override name = "RefusedItemError";
}

/** A permanent reason the decision cannot be carried out (said to the person; the buttons stay). */
class NotDoneError extends PermanentError {
  override name = "NotDoneError";
}

/** The approvers list refuses it now. */
class DeniedError extends PermanentError {
  override name = "DeniedError";
}

export async function runWorkItem(event: unknown, deps: WorkerDeps): Promise<WorkerResult> {
  let item: WorkItem;
  let decision: DecisionRecord;
  try {
    item = parseWorkItem(event);
    decision = await storedDecision(item, deps);
  } catch (error) {
    if (isRetryable(error)) throw error;
    // A claim that does not hold: nothing is done and nobody is told (its response_url is part of the claim).
    deps.log.error("refused a work item", errorFields(error));
    return { status: "refused", reason: (error as Error).message };
  }
  const log = { action: decision.action, decisionId: decision.decisionId, user: decision.by.slackUserId };
  let outcome: string;
  try {
    outcome = await act(decision, deps);
  } catch (error) {
    if (isRetryable(error)) {
      deps.log.warn("a decision could not be carried out yet: Lambda retries it", log, errorFields(error));
      throw error;
    }
    const denied = error instanceof DeniedError;
    deps.log.error(
      denied ? "a decision is no longer allowed" : "a decision could not be carried out",
      log,
      errorFields(error),
    );
    const reason = (error as Error).message;
    // Taken back, so the button can be pressed again (the failure stays in the logs above).
    const withdrawn = await withdrawLogged(deps.s3, deps.bucket, decision, deps.log, log);
    if (item.responseUrl) {
      const retry = withdrawn && !denied ? "; press again to retry" : "";
      await respond(deps, item.responseUrl, {
        response_type: "ephemeral",
        replace_original: false,
        text: `${denied ? "Not done: you may no longer do this" : "Not done"}: ${escapeText(reason)}${retry}`,
      });
    }
    return { status: denied ? "denied" : "failed", reason };
  }
  deps.log.info("decision carried out", log, { outcome });
  const announced = await announce(decision, item, outcome, deps);
  return { status: "done", outcome, announced };
}

function isRetryable(error: unknown): boolean {
  const kind = failureKind(error);
  if (kind !== undefined) return kind === "retryable";
  return classifyAwsError(error) === "transient";
}

/** The decision as stored at the item's key: it must exist, be valid, and be exactly the item's. */
async function storedDecision(item: WorkItem, deps: WorkerDeps): Promise<DecisionRecord> {
  const key = decisionKey(item.decision.target, item.decision.action);
  if (key !== item.decisionKey) {
    throw new RefusedItemError(`the item names ${item.decisionKey}, but its decision is stored at ${key}`);
  }
  let found: StoredDecision;
  try {
    found = await lookUpDecision(deps.s3, deps.bucket, key, "reading the decision");
  } catch (error) {
    if (isRetryable(error)) throw error;
    throw new RefusedItemError((error as Error).message);
  }
  if (found.state === "absent") throw new RefusedItemError(`no decision is recorded at s3://${deps.bucket}/${key}`);
  if (found.state === "invalid") {
    throw new RefusedItemError(`s3://${deps.bucket}/${key} is not a valid decision: ${found.reason}`);
  }
  const stored = found.record;
  if (canonicalJson(stored) !== canonicalJson(item.decision)) {
    throw new RefusedItemError(`the decision at s3://${deps.bucket}/${key} is not the one the item carries`);
  }
  // Where to answer and the message to update are the item's, not the record's: bound to it by their hash.
  const bound = stored.details?.[ITEM_SHA256_DETAIL];
  if (typeof bound !== "string" || bound !== workItemSha256(item)) {
    throw new RefusedItemError(
      `the item's response_url and message are not the ones the decision at s3://${deps.bucket}/${key} was recorded with`,
    );
  }
  return stored;
}

function allow(deps: WorkerDeps, action: DecisionAction, decision: DecisionRecord, accountId: string): void {
  if (!deps.approvers.ok) throw new DeniedError(deps.approvers.reason);
  const verdict = mayPress(deps.approvers.settings, action, decision.by.slackUserId, accountId);
  if (!verdict.allowed) throw new DeniedError(verdict.reason);
}

const NO_LONGER_PENDING = "no longer pending (already fixed, exempted or gone): nothing was done";

/** Carries the decision out; the line's outcome (plain text, escaped when shown). */
async function act(decision: DecisionRecord, deps: WorkerDeps): Promise<string> {
  const details = decision.details ?? {};
  if ("actionId" in decision.target) return undo(decision, decision.target.actionId, deps);
  const instructionId = decision.target.instructionId;
  const pending = await readPending(deps.s3, deps.bucket, instructionId);
  if (!pending) return NO_LONGER_PENDING;
  const { instruction } = pending;
  // The pending record is a claim too: an instruction elsewhere, or a decision about an earlier detection, is not acted on.
  const elsewhere = placeProblem(deps.deployment, instruction.resource);
  if (elsewhere) throw new NotDoneError(`Remedy does not act on this: ${elsewhere}`);
  if (!(Date.parse(decision.at) >= Date.parse(pending.decisionsFrom))) {
    throw new NotDoneError(
      `this decision (${decision.at}) is older than this detection (decisions count from ${pending.decisionsFrom})`,
    );
  }
  allow(deps, decision.action, decision, instruction.resource.accountId);
  switch (decision.action) {
    case "fix-now": {
      try {
        // Visible now: the coordinator's next receive finds it and, seeing the decision, dispatches it.
        await deps.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: deps.queueUrl,
            ReceiptHandle: pending.receiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      } catch (error) {
        // A receipt from an earlier receive, or a message already visible: the coordinator reads the decision when
        // it next sees the message anyway.
        if (
          !hasErrorCode(
            error,
            "ReceiptHandleIsInvalid",
            "MessageNotInflight",
            "AWS.SimpleQueueService.MessageNotInflight",
          )
        ) {
          throw error;
        }
        deps.log.info("the message was not hidden by this receipt: the coordinator applies Fix now when it sees it", {
          code: String((error as { name?: string }).name),
        });
      }
      return "due now: Remedy fixes it at its next run (pause, circuit breaker and rate limit still apply)";
    }
    case "snooze": {
      const minutes = typeof details.snoozeMinutes === "number" ? details.snoozeMinutes : undefined;
      return `snoozed${minutes ? ` for ${durationText(minutes)}` : ""}: Remedy waits that much longer before fixing it`;
    }
    case "exempt": {
      const resource = instruction.resource.arn ?? instruction.resource.id;
      // The allowlist reads * and ? in a resource as wildcards (detection/exemptions.ts): one press exempts one resource.
      if (/[*?]/.test(resource)) {
        throw new NotDoneError(
          `the resource ${resource} contains a wildcard (* or ?): it cannot be exempted from Slack`,
        );
      }
      const invalid = exemptInputProblem(details.reason, details.expires, deps.now());
      if (invalid) throw new NotDoneError(`the exemption is not one the form accepts: ${invalid}`);
      const reason = details.reason as string;
      const expires = details.expires as string;
      try {
        await deps.addAllowlistEntry(
          {
            resource,
            problems: [instruction.problem],
            reason,
            owner: `slack:${decision.by.slackUserId}`,
            expires,
            decisionId: decision.decisionId,
            at: decision.at,
          },
          deps.now(),
        );
      } catch (error) {
        if (isRetryable(error)) throw error;
        throw new NotDoneError(`the exemption could not be recorded: ${(error as Error).message}`);
      }
      return `exempted through ${expires} (UTC): ${reason}`;
    }
    default:
      throw new NotDoneError(`${decision.action} does not target an instruction`);
  }
}

async function undo(decision: DecisionRecord, actionId: string, deps: WorkerDeps): Promise<string> {
  if (deps.organizationMode) {
    throw new NotDoneError(`Undo from Slack is not available in organisation mode: run remedy undo ${actionId}`);
  }
  let target: { accountId: string; region: string };
  try {
    target = await deps.undo.target(actionId);
  } catch (error) {
    if (isRetryable(error)) throw error;
    throw new NotDoneError((error as Error).message);
  }
  if (target.accountId !== deps.deployment.accountId || target.region !== deps.deployment.region) {
    throw new NotDoneError(
      `${actionId} changed a resource in ${target.accountId}/${target.region}, outside this deployment (${deps.deployment.accountId}/${deps.deployment.region})`,
    );
  }
  allow(deps, "undo", decision, target.accountId);
  let done: UndoDone;
  try {
    done = await deps.undo.run(actionId, `slack:${decision.by.slackUserId} (team ${decision.by.teamId})`);
  } catch (error) {
    if (isRetryable(error)) throw error;
    throw new NotDoneError((error as Error).message);
  }
  if (done.outcome === "already-restored") {
    return `everything Remedy removed was already there again (recorded as ${done.undoActionId})`;
  }
  const until = done.exemptUntil ? `; left as restored until ${done.exemptUntil}` : "";
  return `restored (${done.steps.join("; ")}), recorded as ${done.undoActionId}${until}`;
}

function durationText(minutes: number): string {
  if (minutes % 1_440 === 0) return `${minutes / 1_440} day${minutes === 1_440 ? "" : "s"}`;
  if (minutes % 60 === 0) return `${minutes / 60} hour${minutes === 60 ? "" : "s"}`;
  return `${minutes} minute${minutes === 1 ? "" : "s"}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Saying so on the message

/**
 * Replaces the message's buttons with the decision's line (chat.update; its blocks from the press's echo, else read
 * back with conversations.history); if that fails, through the response_url; with no blocks to keep, a reply in the
 * message's thread, so the notice itself is never lost. Never throws: the decision is carried out already.
 */
async function announce(
  decision: DecisionRecord,
  item: WorkItem,
  outcome: string,
  deps: WorkerDeps,
): Promise<"updated" | "response_url" | "thread" | "none"> {
  const line = decisionLine(decision, outcome);
  const details = decision.details ?? {};
  const channel =
    typeof details.channelId === "string" && CHANNEL_ID_PATTERN.test(details.channelId) ? details.channelId : undefined;
  const ts = typeof details.ts === "string" && MESSAGE_TS_PATTERN.test(details.ts) ? details.ts : undefined;
  let slack: Awaited<ReturnType<WorkerDeps["slack"]>>;
  try {
    slack = await deps.slack();
  } catch (error) {
    deps.log.error("cannot reach Slack to show the decision", errorFields(error));
    return "none";
  }
  const echoed =
    item.message && item.message.channelId === channel && item.message.ts === ts ? item.message.blocks : undefined;
  const blocks = echoed ?? (channel && ts ? await readBlocks(slack, channel, ts, deps) : undefined);
  if (channel && ts && blocks) {
    const updated = decidedBlocks(blocks, line);
    try {
      await slack.update({ channel, ts, text: line.plain, blocks: updated });
      return "updated";
    } catch (error) {
      deps.log.warn("chat.update failed: answering through the response_url", errorFields(error));
    }
    if (
      item.responseUrl &&
      (await respond(deps, item.responseUrl, { replace_original: true, text: line.plain, blocks: updated }))
    ) {
      return "response_url";
    }
    return "none";
  }
  if (channel && ts) {
    try {
      await slack.call("chat.postMessage", {
        channel,
        thread_ts: ts,
        text: line.plain,
        blocks: [{ type: "context", elements: [{ type: "mrkdwn", text: line.md }] }],
      });
      return "thread";
    } catch (error) {
      deps.log.warn("could not reply in the message's thread", errorFields(error));
    }
  }
  if (item.responseUrl) {
    const said = await respond(deps, item.responseUrl, {
      response_type: "ephemeral",
      replace_original: false,
      text: line.md,
    });
    if (said) return "response_url";
  }
  return "none";
}

/** The message's blocks as Slack holds them (a modal's submission carries none). */
async function readBlocks(
  slack: Pick<SlackWebApi, "call">,
  channel: string,
  ts: string,
  deps: WorkerDeps,
): Promise<Record<string, unknown>[] | undefined> {
  try {
    const answer = await slack.call("conversations.history", {
      channel,
      latest: ts,
      oldest: ts,
      inclusive: true,
      limit: 1,
    });
    const [message] = Array.isArray(answer.messages) ? (answer.messages as unknown[]) : [];
    const found = message as { ts?: unknown; blocks?: unknown } | undefined;
    if (found?.ts !== ts || !Array.isArray(found.blocks)) return undefined;
    const blocks = found.blocks.filter(
      (block): block is Record<string, unknown> => typeof block === "object" && block !== null && !Array.isArray(block),
    );
    return blocks.length === found.blocks.length ? blocks : undefined;
  } catch (error) {
    deps.log.info("could not read the message back", errorFields(error));
    return undefined;
  }
}

async function respond(deps: WorkerDeps, responseUrl: string, body: Record<string, unknown>): Promise<boolean> {
  try {
    const slack = await deps.slack();
    await slack.respond(responseUrl, body);
    return true;
  } catch (error) {
    deps.log.warn("could not answer through the response_url", errorFields(error));
    return false;
  }
}
