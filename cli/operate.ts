// Operator commands against the deployed stack: peek, pause, resume, dlq redrive.
import { DescribeRuleCommand } from "@aws-sdk/client-eventbridge";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
} from "../contract/dead-letter.ts";
import { type Instruction, InvalidInstructionError, parseInstruction } from "../contract/instruction.ts";
import {
  type AccountPause,
  accountPause,
  type PauseReading,
  type PauseState,
  pausedAccounts,
  readPauseState,
  resume,
  resumeAccount,
  setPaused,
  writePauseState,
} from "../platform/pause.ts";
import { MessageSendError, sendMessages } from "../platform/queue.ts";
import { BLOCK_FLAGS_FOR_PROBLEM, describeAction } from "../problems/words.ts";
import { accountRegionHeading, groupByAccountRegion, outsideDeployment, spanText } from "./accounts.ts";
import { actingIdentity, CliError, DEFAULT_PAUSE_REASON } from "./command.ts";
import type { CliDeps, Io } from "./deps.ts";
import { plural, table, utc } from "./format.ts";
import { groupMessages, type PeekGroup, peekQueue } from "./peek.ts";
import { explainAwsError, requireRefs, type StackRefs } from "./stack.ts";
import { terminalJson, terminalText } from "./terminal.ts";

export interface PeekOptions {
  dlq: boolean;
  json: boolean;
  max: number;
}

/** "is" or "are", for a sentence about `count` things. */
const isAre = (count: number) => (count === 1 ? "is" : "are");

/**
 * What the remediation will do to one instruction's entries. The instruction does not say which S3 fix strategy the
 * stack uses, so bucket fixes are worded as the default (surgical) one does them; S3_STRATEGY_NOTE says the rest.
 */
export function describeInstructionChange(group: Pick<PeekGroup, "problem" | "matched">): string {
  return group.matched.map((entry) => describeAction(group.problem, entry, "surgical")).join("; ");
}

export const S3_STRATEGY_NOTE =
  'Bucket changes are shown as the default s3_fix_strategy ("surgical") makes them; with "block-public-access" the remediation turns on the bucket\'s Block Public Access flags for that problem instead (IgnorePublicAcls + BlockPublicAcls for ACL grants, RestrictPublicBuckets + BlockPublicPolicy for policy statements).';

const hasBucketFix = (groups: readonly Pick<PeekGroup, "problem">[]) =>
  groups.some((group) => BLOCK_FLAGS_FOR_PROBLEM[group.problem] !== undefined);

export async function peekCommand(refs: StackRefs, options: PeekOptions, deps: CliDeps, io: Io): Promise<void> {
  const queueUrl = options.dlq ? requireRefs(refs, "dlqUrl").dlqUrl : requireRefs(refs, "queueUrl").queueUrl;
  if (io.interactive) {
    io.err(`reading ${options.dlq ? "the dead-letter queue" : "the remediation queue"} (nothing is consumed)…\n`);
  }
  const result = await peekQueue(deps.sqs(), queueUrl, { maxMessages: options.max });
  const reasons = new Map(
    result.messages.map((message) => [
      message.MessageId,
      message.MessageAttributes?.["remedy-dlq-reason"]?.StringValue,
    ]),
  );
  const organization = refs.organization;
  const byAccount = organization ? groupByAccountRegion(result.groups, (group) => group.resource) : [];
  const summary = byAccount.map((group) => {
    const skipReason = organization ? outsideDeployment(group, organization) : undefined;
    return {
      accountId: group.accountId,
      region: group.region,
      instructions: group.items.length,
      messages: group.items.reduce((sum, item) => sum + item.count, 0),
      ...(skipReason ? { skipReason } : {}),
    };
  });
  if (options.json) {
    io.out(
      `${terminalJson({
        queueUrl,
        truncated: result.truncated,
        groups: result.groups.map(({ instruction, ...group }) => ({
          ...group,
          // Organisation mode: each group says where, and the summary counts per account and region.
          ...(organization ? { accountId: group.resource.accountId, region: group.resource.region } : {}),
          ...(options.dlq ? { reasons: group.messageIds.map((id) => reasons.get(id)).filter(Boolean) } : {}),
          instruction,
        })),
        ...(organization ? { accountRegions: summary } : {}),
        invalid: result.invalid.map((entry) => ({ ...entry, dlqReason: reasons.get(entry.messageId) })),
      })}\n`,
    );
    return;
  }
  const now = deps.now().getTime();
  const lines: string[] = [];
  lines.push(
    `${plural(result.groups.length, "fix instruction")} in ${plural(result.messages.length, "message")}${organization && byAccount.length > 0 ? ` (${spanText(byAccount)})` : ""}${result.truncated ? ` (stopped at ${options.max}: more may be queued)` : ""}.`,
  );
  const instructionTable = (groups: readonly PeekGroup[], where: "with" | "without") =>
    table(
      [
        "INSTRUCTION",
        "COUNT",
        "FIRST SEEN",
        "DUE",
        "PROBLEM",
        "RESOURCE",
        "EXACT CHANGE",
        ...(options.dlq ? ["WHY IN DLQ"] : []),
      ],
      groups.map((group) => [
        group.id.slice(0, 12),
        String(group.count),
        group.firstSeen ? utc(group.firstSeen) : "?",
        Date.parse(group.due) <= now ? "now" : utc(group.due),
        group.problem,
        // Grouped, the heading says the account and region.
        where === "with"
          ? `${group.resource.id} (${group.resource.accountId} ${group.resource.region})`
          : group.resource.id,
        describeInstructionChange(group),
        ...(options.dlq ? [group.messageIds.map((id) => reasons.get(id) ?? "?").join("; ")] : []),
      ]),
      [12, 5, 20, 20, 18, 50, 80, 60],
      io.columns,
    );
  if (organization) {
    byAccount.forEach((group, index) => {
      const counts = summary[index]!;
      const skip = counts.skipReason ? ` — ${terminalText(counts.skipReason)}` : "";
      lines.push(
        "",
        `${accountRegionHeading(group)}: ${plural(counts.instructions, "fix instruction")} in ${plural(counts.messages, "message")}${skip}`,
        instructionTable(group.items, "without"),
      );
    });
  } else if (result.groups.length > 0) {
    lines.push(instructionTable(result.groups, "with"));
  }
  if (hasBucketFix(result.groups)) lines.push(S3_STRATEGY_NOTE);
  if (result.invalid.length > 0) {
    const count = result.invalid.length;
    lines.push(
      "",
      `${plural(count, "message")} ${isAre(count)} not ${count === 1 ? "a valid fix instruction" : "valid fix instructions"}:`,
    );
    for (const entry of result.invalid) {
      lines.push(`  ${terminalText(entry.messageId)}: ${terminalText(reasons.get(entry.messageId) ?? entry.reason)}`);
    }
  }
  io.out(`${lines.join("\n")}\n`);
}

// pause and resume. Who acts is the caller's AWS identity (actingIdentity), asked before anything is written; a
// pause keeps the reason already recorded unless a new one is given.

export { DEFAULT_PAUSE_REASON };

export interface PauseResult {
  /** "paused": it was running; "reason-updated": it was paused, the new reason is recorded; "already-paused": nothing written. */
  outcome: "paused" | "reason-updated" | "already-paused";
  parameter: string;
  /** The caller (its AWS identity), who is recorded when something is written. */
  by: string;
  /** The switch as it is now. */
  state: PauseState;
  /** The switch as it was read before (with `failSafe` when it could not be read as a pause state). */
  previous: PauseReading;
}

/** Pauses; with `reason` undefined, an existing pause (and its reason) is kept as it is. */
export async function pauseCommand(
  refs: StackRefs,
  options: { reason?: string; json: boolean },
  deps: CliDeps,
  io: Io,
): Promise<PauseResult> {
  const { pauseParameter } = requireRefs(refs, "pauseParameter");
  const by = await actingIdentity(refs, deps);
  const previous = await readPauseState(deps.ssm(), pauseParameter, deps.now());
  // A missing or unreadable parameter reads as paused (fail-safe): this writes a real pause.
  const paused = previous.paused && previous.failSafe === undefined;
  let result: PauseResult;
  if (paused && options.reason === undefined) {
    result = { outcome: "already-paused", parameter: pauseParameter, by, state: withoutFailSafe(previous), previous };
  } else {
    const state = await setPaused(deps.ssm(), pauseParameter, {
      by,
      reason: options.reason ?? DEFAULT_PAUSE_REASON,
      now: deps.now(),
      // Account pauses (organisation mode) stay as just read; a fail-safe reading has none.
      previous: withoutFailSafe(previous),
    });
    result = { outcome: paused ? "reason-updated" : "paused", parameter: pauseParameter, by, state, previous };
  }
  if (previous.failSafe !== undefined) io.err(`warning: ${terminalText(previous.failSafe)}\n`);
  if (options.json) {
    io.out(`${terminalJson(result)}\n`);
    return result;
  }
  const was = `${terminalText(previous.by)} at ${utc(previous.at)}: ${terminalText(previous.reason)}`;
  const { state } = result;
  io.out(
    result.outcome === "already-paused"
      ? `Already paused by ${was}. Nothing was changed (--reason TEXT replaces the reason).\n`
      : result.outcome === "reason-updated"
        ? `Still paused; reason updated by ${terminalText(state.by)}: ${terminalText(state.reason)} (was paused by ${was}).\n`
        : `Paused by ${terminalText(state.by)}: ${terminalText(state.reason)}. The coordinator dispatches nothing until "remedy resume".\n`,
  );
  return result;
}

function withoutFailSafe({ failSafe: _failSafe, ...state }: PauseReading): PauseState {
  return state;
}

/** Whether the coordinator's schedule runs (the enable_auto_response gate), as resume reports it. */
export type ScheduleReading =
  | { known: true; enabled: boolean; rule: string }
  | { known: false; rule?: string; error: string };

/** Reads the schedule rule's state; never throws (a resume must not fail because of it). */
export async function readSchedule(refs: StackRefs, deps: CliDeps): Promise<ScheduleReading> {
  const rule = refs.scheduleRule;
  if (!rule)
    return { known: false, error: "the schedule rule is not known (schedule_rule_name output or --schedule-rule)" };
  try {
    const output = await deps.eventBridge().send(new DescribeRuleCommand({ Name: rule }));
    return { known: true, enabled: output.State === "ENABLED", rule };
  } catch (error) {
    return {
      known: false,
      rule,
      error: explainAwsError(error) ?? `${(error as Error).name}: ${(error as Error).message}`,
    };
  }
}

export const ENABLE_AUTO_RESPONSE =
  "enable_auto_response = true is applied (set it in remedy.auto.tfvars, then: npm run synth && terraform -chdir=cdktf.out/stacks/remedy apply)";

/** What happens next once the switch says running, given the schedule. */
export function afterResumeText(schedule: ScheduleReading): string {
  if (!schedule.known) {
    return `Whether auto-response is on could not be read (${terminalText(schedule.error)}): if it is on, the next tick (within a minute) dispatches; if it is off, nothing runs until ${ENABLE_AUTO_RESPONSE}.`;
  }
  const rule = terminalText(schedule.rule);
  return schedule.enabled
    ? `Auto-response is on (schedule ${rule} enabled): the next tick (within a minute) dispatches.`
    : `Auto-response is off (schedule ${rule} disabled): nothing will run until ${ENABLE_AUTO_RESPONSE}.`;
}

export interface ResumeResult {
  /** "not-paused": nothing written. */
  outcome: "resumed" | "not-paused";
  parameter: string;
  by: string;
  state: PauseState;
  previous: PauseReading;
  autoResponse: ScheduleReading;
}

export async function resumeCommand(
  refs: StackRefs,
  options: { json: boolean },
  deps: CliDeps,
  io: Io,
): Promise<ResumeResult> {
  const { pauseParameter } = requireRefs(refs, "pauseParameter");
  const by = await actingIdentity(refs, deps);
  const [previous, autoResponse] = await Promise.all([
    readPauseState(deps.ssm(), pauseParameter, deps.now()),
    readSchedule(refs, deps),
  ]);
  const result: ResumeResult = previous.paused
    ? {
        outcome: "resumed",
        parameter: pauseParameter,
        by,
        // Account pauses (organisation mode) stay as just read: each is resumed on its own (--account).
        state: await resume(deps.ssm(), pauseParameter, { by, now: deps.now(), previous: withoutFailSafe(previous) }),
        previous,
        autoResponse,
      }
    : { outcome: "not-paused", parameter: pauseParameter, by, state: previous, previous, autoResponse };
  if (options.json) {
    io.out(`${terminalJson(result)}\n`);
    return result;
  }
  const next = afterResumeText(autoResponse);
  const accounts = refs.organization ? stillPausedText(result.state) : "";
  if (result.outcome === "not-paused") {
    io.out(`Remedy is not paused; nothing to do. ${next}${accounts}\n`);
    return result;
  }
  io.out(
    `Resumed by ${terminalText(result.state.by)} (was paused by ${terminalText(previous.by)} at ${utc(previous.at)}: ${terminalText(previous.reason)}). ${next} The breaker only counts what arrives from now on.${accounts}\n`,
  );
  return result;
}

/** Organisation mode: the accounts a resume of the whole switch leaves paused, in a sentence (empty: none). */
function stillPausedText(state: PauseState): string {
  const paused = pausedAccounts(state).sort();
  if (paused.length === 0) return "";
  const list = paused.map(terminalText).join(", ");
  return ` ${plural(paused.length, "account")} ${isAre(paused.length)} still paused on ${paused.length === 1 ? "its" : "their"} own (${list}): "remedy resume --account ID" for each, after review.`;
}

export interface ResumeAccountResult {
  /** "not-paused": the account is not paused on its own; nothing written. */
  outcome: "resumed" | "not-paused";
  account: string;
  parameter: string;
  by: string;
  /** The switch as it is now (the whole switch as it was: only the account's entry changes). */
  state: PauseState;
  /** The account's pause that was cleared. */
  previous?: AccountPause;
  autoResponse: ScheduleReading;
}

/**
 * `remedy resume --account ID` (organisation mode): clears that account's own pause (its breaker tripped), recording
 * who; the whole switch and every other account stay as they are. The value is read right before it is written, and
 * only the account's entry changes (platform/pause.ts resumeAccount). A switch that cannot be read as a pause state
 * is never overwritten from here: that is what a plain `remedy pause` / `remedy resume` is for.
 */
export async function resumeAccountCommand(
  refs: StackRefs,
  accountId: string,
  options: { json: boolean },
  deps: CliDeps,
  io: Io,
): Promise<ResumeAccountResult> {
  const { pauseParameter } = requireRefs(refs, "pauseParameter");
  const by = await actingIdentity(refs, deps);
  const [reading, autoResponse] = await Promise.all([
    readPauseState(deps.ssm(), pauseParameter, deps.now()),
    readSchedule(refs, deps),
  ]);
  if (reading.failSafe !== undefined) {
    throw new CliError(
      `the pause switch cannot be read (${reading.failSafe}), so account ${accountId} is not resumed on its own: nothing was changed ("remedy pause" writes a valid switch).`,
    );
  }
  const current = withoutFailSafe(reading);
  const previous = accountPause(current, accountId);
  const result: ResumeAccountResult = previous
    ? {
        outcome: "resumed",
        account: accountId,
        parameter: pauseParameter,
        by,
        state: await writePauseState(deps.ssm(), pauseParameter, resumeAccount(current, accountId, by, deps.now())),
        previous,
        autoResponse,
      }
    : { outcome: "not-paused", account: accountId, parameter: pauseParameter, by, state: current, autoResponse };
  if (options.json) {
    io.out(`${terminalJson(result)}\n`);
    return result;
  }
  const whole = current.paused
    ? ` The whole switch is still PAUSED (by ${terminalText(current.by)}: ${terminalText(current.reason)}): nothing runs until "remedy resume".`
    : ` ${afterResumeText(autoResponse)}`;
  if (!previous) {
    io.out(`Account ${accountId} is not paused on its own; nothing to do.${whole}\n`);
    return result;
  }
  io.out(
    `Resumed account ${accountId} by ${terminalText(by)} (was paused by ${terminalText(previous.by)} at ${utc(previous.at)}: ${terminalText(previous.reason)}).${whole} Its breaker only counts what arrives from now on.${stillPausedText(result.state)}\n`,
  );
  return result;
}

// dlq redrive. The remediation queue accepts messages only from Remedy's roles and listed operators, so a redrive
// must not become a way to launder whatever someone dropped into the DLQ: only Remedy's own dead-letters with a
// valid instruction go back, and only after the operator saw and approved exactly those messages.

/** How many DLQ messages one redrive reads (and so can move); run it again for the rest. */
export const REDRIVE_MAX_MESSAGES = 1_000;
/** How long each message stays hidden while the move runs; those not moved are made visible again at the end. */
const MOVE_VISIBILITY_SECONDS = 60;
/** Releases are skipped for messages whose own visibility is about to end anyway (a stale handle may fail). */
const RELEASE_SAFETY_MS = 2_000;
const SQS_BATCH = 10;
const DLQ_ATTRIBUTES = [DLQ_REASON_ATTRIBUTE, DLQ_SOURCE_MESSAGE_ATTRIBUTE, DLQ_INSTRUCTION_ATTRIBUTE] as const;

export const NOT_FROM_REMEDY = "no Remedy dead-letter attributes: not sent by Remedy";
export const INSTRUCTION_ID_MISMATCH = "instruction id does not match its dead-letter attribute";

export type DeadLetterJudgement =
  | { redrivable: true; instruction: Instruction; dlqReason: string }
  | { redrivable: false; reason: string; dlqReason?: string };

/**
 * Whether one DLQ message may go back to the remediation queue: it carries the attributes `deadLetterInput` writes,
 * its body is a valid fix instruction (Remedy dead-letters invalid messages too; those can never succeed), and its
 * instruction id is the one Remedy recorded, when it recorded one.
 */
export function judgeDeadLetter(message: Message): DeadLetterJudgement {
  const attribute = (name: (typeof DLQ_ATTRIBUTES)[number]) => {
    const value = message.MessageAttributes?.[name];
    return value?.DataType === "String" ? value.StringValue : undefined;
  };
  const dlqReason = attribute(DLQ_REASON_ATTRIBUTE);
  if (dlqReason === undefined || attribute(DLQ_SOURCE_MESSAGE_ATTRIBUTE) === undefined) {
    return { redrivable: false, reason: NOT_FROM_REMEDY };
  }
  let instruction: Instruction;
  try {
    instruction = parseInstruction(message.Body ?? "");
  } catch (error) {
    if (!(error instanceof InvalidInstructionError)) throw error;
    return { redrivable: false, reason: `not a valid fix instruction: ${error.message}`, dlqReason };
  }
  const instructionId = attribute(DLQ_INSTRUCTION_ATTRIBUTE);
  if (instructionId !== undefined && instructionId !== instruction.id) {
    return { redrivable: false, reason: INSTRUCTION_ID_MISMATCH, dlqReason };
  }
  return { redrivable: true, instruction, dlqReason };
}

export interface RedriveEntry {
  messageId: string;
  instructionId: string;
  dlqReason: string;
}

export interface RefusedEntry {
  messageId: string;
  reason: string;
  dlqReason?: string;
  sentAt?: string;
}

export interface RedriveResult {
  dlqUrl: string;
  queueUrl: string;
  /** The caller (its AWS identity), who sent the messages back. */
  by: string;
  /** "incomplete": some approved messages could not be moved (they stay in the DLQ, see `failed`). */
  outcome: "moved" | "incomplete" | "declined" | "nothing-to-redrive";
  /** Reading stopped at REDRIVE_MAX_MESSAGES: more may be queued, not looked at (run again for them). */
  truncated: boolean;
  /** What was shown for approval: the only messages the move may touch. */
  redrivable: RedriveEntry[];
  moved: RedriveEntry[];
  failed: (RedriveEntry & { error: string })[];
  /** Not redriven, and why: they stay in the DLQ. */
  refused: RefusedEntry[];
}

export interface RedriveOptions {
  yes: boolean;
  json: boolean;
}

function sentAt(message: Message): string | undefined {
  const millis = Number(message.Attributes?.SentTimestamp);
  return Number.isFinite(millis) && millis > 0 ? new Date(millis).toISOString() : undefined;
}

/** Sorts what was read into what may go back and what stays, with why. */
export function planRedrive(messages: readonly Message[]): {
  redrivable: { message: Message; entry: RedriveEntry }[];
  refused: RefusedEntry[];
} {
  const redrivable: { message: Message; entry: RedriveEntry }[] = [];
  const refused: RefusedEntry[] = [];
  for (const message of messages) {
    const messageId = message.MessageId ?? "";
    const judgement = judgeDeadLetter(message);
    if (judgement.redrivable) {
      const { instruction, dlqReason } = judgement;
      redrivable.push({ message, entry: { messageId, instructionId: instruction.id, dlqReason } });
      continue;
    }
    const sent = sentAt(message);
    refused.push({
      messageId,
      reason: judgement.reason,
      ...(judgement.dlqReason !== undefined ? { dlqReason: judgement.dlqReason } : {}),
      ...(sent ? { sentAt: sent } : {}),
    });
  }
  return { redrivable, refused };
}

/** What the operator approves: the instructions that go back (as `remedy peek --dlq` shows them) and what stays. */
export function renderRedrivePlan(
  redrivable: readonly Message[],
  refused: readonly RefusedEntry[],
  options: { truncated: boolean; now: number; width?: number },
): string {
  const { groups } = groupMessages(redrivable);
  const reasons = new Map(
    redrivable.map((message) => [message.MessageId, message.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue]),
  );
  const lines: string[] = [];
  const read = redrivable.length + refused.length;
  lines.push(
    `Read ${plural(read, "message")} from the dead-letter queue${options.truncated ? ` (stopped at ${REDRIVE_MAX_MESSAGES}: more may be queued; run again for the rest)` : ""}.`,
  );
  if (groups.length > 0) {
    lines.push(
      `Will redrive ${plural(groups.length, "fix instruction")} in ${plural(redrivable.length, "message")} back to the remediation queue:`,
      table(
        ["INSTRUCTION", "COUNT", "FIRST SEEN", "DUE", "PROBLEM", "RESOURCE", "EXACT CHANGE", "WHY IN DLQ"],
        groups.map((group) => [
          group.id.slice(0, 12),
          String(group.count),
          group.firstSeen ? utc(group.firstSeen) : "?",
          Date.parse(group.due) <= options.now ? "now" : utc(group.due),
          group.problem,
          `${group.resource.id} (${group.resource.accountId} ${group.resource.region})`,
          describeInstructionChange(group),
          group.messageIds.map((id) => reasons.get(id) ?? "?").join("; "),
        ]),
        [12, 5, 20, 20, 18, 50, 80, 60],
        options.width,
      ),
    );
    if (hasBucketFix(groups)) lines.push(S3_STRATEGY_NOTE);
  }
  if (refused.length > 0) {
    lines.push(
      "",
      `${plural(refused.length, "message")} ${isAre(refused.length)} not redriven and ${refused.length === 1 ? "stays" : "stay"} in the dead-letter queue:`,
    );
    for (const entry of refused) {
      const why = entry.dlqReason !== undefined ? ` (dead-lettered: ${terminalText(entry.dlqReason)})` : "";
      lines.push(`  ${terminalText(entry.messageId)}: ${terminalText(entry.reason)}${why}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Reads the DLQ without consuming it, shows what may go back, asks (unless --yes), then moves exactly the messages
 * shown. Done by hand rather than with SQS's message move task, which needs the source to be a redrive target: the
 * remediation queue has no redrive policy on purpose, because receive counts include operators' peeks.
 */
export async function redriveCommand(
  refs: StackRefs,
  options: RedriveOptions,
  deps: CliDeps,
  io: Io,
): Promise<RedriveResult> {
  const { queueUrl, dlqUrl } = requireRefs(refs, "queueUrl", "dlqUrl");
  // Credentials for another account are refused before anything is read or moved.
  const by = await actingIdentity(refs, deps);
  const sqs = deps.sqs();
  // With --json, stdout carries the JSON result only: the plan goes to stderr, where the question is asked.
  const show = options.json ? io.err : io.out;
  if (io.interactive) io.err("reading the dead-letter queue (nothing is consumed)…\n");
  const read = await peekQueue(sqs, dlqUrl, { maxMessages: REDRIVE_MAX_MESSAGES });
  const plan = planRedrive(read.messages);
  const result: RedriveResult = {
    dlqUrl,
    queueUrl,
    by,
    outcome: "nothing-to-redrive",
    truncated: read.truncated,
    redrivable: plan.redrivable.map(({ entry }) => entry),
    moved: [],
    failed: [],
    refused: plan.refused,
  };
  const finish = (text: string) => {
    if (options.json) io.out(`${terminalJson(result)}\n`);
    else io.out(text);
    return result;
  };
  show(
    renderRedrivePlan(
      plan.redrivable.map(({ message }) => message),
      plan.refused,
      { truncated: read.truncated, now: deps.now().getTime(), ...(io.columns ? { width: io.columns } : {}) },
    ),
  );
  if (plan.redrivable.length === 0) {
    return finish("Nothing to redrive: nothing was moved.\n");
  }
  const count = plan.redrivable.length;
  const these = count === 1 ? "this message" : `these ${count} messages`;
  if (!options.yes && !(await deps.confirm(`Send ${these} back to the remediation queue?`))) {
    result.outcome = "declined";
    if (options.json) io.err("Nothing was moved.\n");
    return finish("Nothing was moved.\n");
  }
  const moved = await moveMessages(
    sqs,
    { dlqUrl, queueUrl },
    new Map(result.redrivable.map((entry) => [entry.messageId, entry])),
    io,
  );
  result.moved = moved.moved;
  result.failed = moved.failed;
  result.outcome = moved.failed.length > 0 ? "incomplete" : "moved";
  const lines = [
    `Moved ${moved.moved.length} of ${plural(count, "message")} from the dead-letter queue back to the remediation queue.`,
  ];
  if (moved.failed.length > 0) {
    const failed = moved.failed.length;
    lines.push(`${failed} could not be moved and ${failed === 1 ? "stays" : "stay"} in the dead-letter queue:`);
    for (const entry of moved.failed) lines.push(`  ${terminalText(entry.messageId)}: ${terminalText(entry.error)}`);
  }
  if (plan.refused.length > 0) {
    const refused = plan.refused.length;
    lines.push(
      `${plural(refused, "message")} that ${isAre(refused)} not redrivable ${refused === 1 ? "stays" : "stay"} in the dead-letter queue (listed above).`,
    );
  }
  return finish(`${lines.join("\n")}\n`);
}

/**
 * Moves the approved messages (by MessageId) from the DLQ to the remediation queue: re-receive, send a copy of the
 * body only (no dead-letter attributes: `deadLetterInput` writes nothing else), delete from the DLQ only after the
 * send succeeded. Messages not approved, and approved ones that could not be sent, are hidden only while the move
 * runs and then made visible again at once; releasing them sooner would let the next receive return them again
 * instead of the messages still to move. A failure is reported per message, never thrown.
 */
async function moveMessages(
  sqs: SQSClient,
  queues: { dlqUrl: string; queueUrl: string },
  approved: ReadonlyMap<string, RedriveEntry>,
  io: Io,
): Promise<{ moved: RedriveEntry[]; failed: (RedriveEntry & { error: string })[] }> {
  const pending = new Map(approved);
  const seen = new Set<string>();
  /** Received but staying in the DLQ: made visible again at the end (newest receipt handle wins). */
  const release = new Map<string, { handle: string; receivedAt: number }>();
  const moved: RedriveEntry[] = [];
  const failed: (RedriveEntry & { error: string })[] = [];
  const fail = (entry: RedriveEntry, error: string) => {
    failed.push({ ...entry, error });
    io.err(`could not move message ${terminalText(entry.messageId)}: ${terminalText(error)}\n`);
  };
  try {
    while (pending.size > 0) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.dlqUrl,
          MaxNumberOfMessages: SQS_BATCH,
          VisibilityTimeout: MOVE_VISIBILITY_SECONDS,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ["All"],
        }),
      );
      const receivedAt = Date.now();
      const unseen = Messages.filter((message) => !seen.has(message.MessageId ?? ""));
      for (const message of Messages) {
        seen.add(message.MessageId ?? "");
        if (message.ReceiptHandle) release.set(message.MessageId ?? "", { handle: message.ReceiptHandle, receivedAt });
      }
      // Nothing new: everything approved that is still in the DLQ has been received.
      if (unseen.length === 0) break;
      const batch: { message: Message; entry: RedriveEntry }[] = [];
      for (const message of unseen) {
        const entry = pending.get(message.MessageId ?? "");
        if (!entry) continue;
        pending.delete(entry.messageId);
        // SQS never changes a message, but what is sent must be what was approved.
        const judgement = judgeDeadLetter(message);
        if (!judgement.redrivable || judgement.instruction.id !== entry.instructionId) {
          fail(entry, "it changed since it was shown");
          continue;
        }
        batch.push({ message, entry });
      }
      if (batch.length === 0) continue;
      /** Message id → why the remediation queue did not take its copy. */
      const unsent = new Map<string, string>();
      try {
        await sendMessages(
          sqs,
          queues.queueUrl,
          batch.map(({ message, entry }) => ({ id: entry.messageId, body: message.Body ?? "" })),
        );
      } catch (error) {
        if (error instanceof MessageSendError) {
          error.failedIds.forEach((id, index) => {
            const reason = error.reasons[index] ?? error.message;
            unsent.set(id, reason.startsWith(`${id} `) ? reason.slice(id.length + 1) : reason);
          });
        } else {
          // A call that threw may have sent some copies: those stay in the DLQ too (a duplicate, not a loss).
          for (const { entry } of batch) unsent.set(entry.messageId, (error as Error).message);
        }
        for (const { entry } of batch) {
          const why = unsent.get(entry.messageId);
          if (why !== undefined) fail(entry, `the remediation queue did not accept it: ${why}`);
        }
      }
      const sent = batch.filter(({ entry }) => !unsent.has(entry.messageId));
      if (sent.length > 0) {
        const undeleted = await deleteMessages(sqs, queues.dlqUrl, sent);
        for (const { entry } of sent) {
          const error = undeleted.get(entry.messageId);
          if (error !== undefined) {
            fail(entry, `copied to the remediation queue but still in the dead-letter queue (delete failed: ${error})`);
            continue;
          }
          release.delete(entry.messageId);
          moved.push(entry);
        }
      }
      if (io.interactive) io.err(`redrive: ${moved.length} of ${plural(approved.size, "message")} moved\n`);
    }
  } catch (error) {
    // The DLQ could not be read any more: what is left stays there, reported below.
    io.err(`redrive stopped: ${terminalText((error as Error).message)}\n`);
    for (const entry of pending.values()) fail(entry, `not moved: the redrive stopped (${(error as Error).message})`);
    pending.clear();
  } finally {
    await releaseMessages(sqs, queues.dlqUrl, [...release.values()], io);
  }
  for (const entry of pending.values()) {
    fail(entry, "not received again from the dead-letter queue (deleted, or held by someone else, since it was shown)");
  }
  return { moved, failed };
}

/** Deletes sent messages from the DLQ; returns the error of each one that could not be deleted. */
async function deleteMessages(
  sqs: SQSClient,
  dlqUrl: string,
  sent: readonly { message: Message; entry: RedriveEntry }[],
): Promise<Map<string, string>> {
  const errors = new Map<string, string>();
  for (let start = 0; start < sent.length; start += SQS_BATCH) {
    const chunk = sent.slice(start, start + SQS_BATCH);
    try {
      const output = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: chunk.map(({ message }, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })),
        }),
      );
      for (const failure of output.Failed ?? []) {
        const item = chunk[Number(failure.Id)];
        if (item) errors.set(item.entry.messageId, failure.Message ?? failure.Code ?? "unknown error");
      }
    } catch (error) {
      for (const { entry } of chunk) errors.set(entry.messageId, (error as Error).message);
    }
  }
  return errors;
}

/** Makes messages visible again (visibility 0). A failed release only means the message reappears a little later. */
async function releaseMessages(
  sqs: SQSClient,
  dlqUrl: string,
  held: readonly { handle: string; receivedAt: number }[],
  io: Io,
): Promise<void> {
  const releasable = held.filter(
    (entry) => entry.receivedAt + MOVE_VISIBILITY_SECONDS * 1000 - RELEASE_SAFETY_MS > Date.now(),
  );
  for (let start = 0; start < releasable.length; start += SQS_BATCH) {
    try {
      await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: dlqUrl,
          Entries: releasable.slice(start, start + SQS_BATCH).map((entry, index) => ({
            Id: String(index),
            ReceiptHandle: entry.handle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    } catch (error) {
      io.err(
        `warning: some messages stay hidden in the dead-letter queue for up to ${MOVE_VISIBILITY_SECONDS}s: ${terminalText((error as Error).message)}\n`,
      );
    }
  }
}
