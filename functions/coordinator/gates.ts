// The coordinator's gates, pure: given one instruction, what the coordinator knows about it and the clock, which
// gate stops it (and how), or that it is dispatched. No SQS, no Lambda, no clock of their own: tick.ts does the I/O
// each decision names. Order: pause switch, validity, duplicates, grace period, attempt limit, breaker, rate limit.
// Organisation mode adds the account's standing to validity (a non-member is refused), its settings after it (off or
// a problem not enabled: removed unseen; its grace period: a later due time), and a breaker per account beside the
// global one (an account past its limit is paused alone, and no longer counts towards the global one).
// The tick's own pacing is decided here too: when to stop receiving (time, rate budget), how many receives to keep in
// flight, whether a phase still has time to start a call, and for how long to hide.

import { type Instruction, InvalidInstructionError, parseInstruction } from "../../contract/instruction.ts";
import type { Problem } from "../../detection/types.ts";
import { type Deployment, targetProblem } from "../../platform/deployment.ts";
import { type AccountStanding, standingProblem } from "../../platform/organization.ts";
import type { PauseReading } from "../../platform/pause.ts";
import type { FreshSighting, InstructionRecord } from "./state.ts";

/** SQS's longest visibility timeout (12 h): longer waits are hidden in several steps. */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;
/** SQS's largest batch: of a receive, a batch delete and a batch visibility change. */
export const SQS_BATCH_SIZE = 10;

/** What happened to an instruction id earlier in this tick: later copies of it follow. */
export type Outcome = "dispatched" | "grace" | "deferred" | "dead-lettered" | "duplicate" | "held";

/**
 * Duplicates, bookkeeping: the outcome the tick remembers for an id after handling one more copy of it. Holding a
 * copy or deleting it as a duplicate never overwrites what an earlier copy's handling recorded, so the copies that
 * follow are decided by what happened to the first one.
 */
export function rememberOutcome(prior: Outcome | undefined, outcome: Outcome): Outcome {
  if (prior && (outcome === "held" || outcome === "duplicate")) return prior;
  return outcome;
}

/** Gate 1: the pause switch (a person, the breaker, or an unusable switch: when in doubt, do nothing). */
export function pauseGate(pause: PauseReading): { run: true; resumedAtMs?: number } | { run: false } {
  if (pause.paused) return { run: false };
  return pause.resumedAt ? { run: true, resumedAtMs: Date.parse(pause.resumedAt) } : { run: true };
}

export type Parsed = { valid: true; instruction: Instruction } | { valid: false; reason: string };

/** Gate 2, first half: the body must be an instruction (its shape, version and id). Otherwise: the DLQ at once. */
export function parseGate(body: string): Parsed {
  try {
    return { valid: true, instruction: parseInstruction(body) };
  } catch (error) {
    // parseInstruction turns every failure into InvalidInstructionError; anything else is still this one
    // message's problem, never the batch's.
    const reason = error instanceof InvalidInstructionError ? error.message : String(error);
    return { valid: false, reason: `invalid instruction: ${reason}` };
  }
}

export type Validity = { valid: true; functionName: string } | { valid: false; reason: string };

/**
 * Gate 2: an instruction is a claim. Another account or region, or a capture from the future, is never legitimate
 * here; nor a problem without a deployed remediation function. Either goes to the DLQ with the reason. In
 * organisation mode "another account" is one the organisation does not vouch for (`standing`, read by the caller:
 * not a member, suspended, excluded) and the regions are the settings'.
 */
export function validityGate(
  instruction: Instruction,
  config: {
    deployment: Pick<Deployment, "accountId" | "region" | "organization">;
    remediationFunctions: Readonly<Partial<Record<Problem, string>>>;
  },
  now: Date,
  standing?: AccountStanding,
): Validity {
  const refused = targetProblem(instruction, config.deployment, now, standing);
  if (refused) return { valid: false, reason: `refused: ${refused}` };
  const functionName = config.remediationFunctions[instruction.problem];
  if (!functionName) {
    return { valid: false, reason: `no remediation function registered for problem ${instruction.problem}` };
  }
  return { valid: true, functionName };
}

/**
 * A first sighting of an id: its record, and whether it counts as fresh for the breaker. `byAccount` (organisation
 * mode): the sighting names its account, for that account's breaker, and its label says where.
 */
export function firstSighting(
  instruction: Instruction,
  now: Date,
  breakerWindowMinutes: number,
  byAccount = false,
): { record: InstructionRecord; fresh?: FreshSighting } {
  const nowIso = now.toISOString();
  const record: InstructionRecord = { firstSeenAt: nowIso, lastSeenAt: nowIso, attempts: 0, graceNotified: false };
  const age = now.getTime() - Date.parse(instruction.capturedAt);
  if (age > breakerWindowMinutes * 60_000) return { record };
  const { problem, resource } = instruction;
  const label = `${problem} ${resource.id}`;
  if (!byAccount) return { record, fresh: { id: instruction.id, at: nowIso, label } };
  return {
    record,
    fresh: {
      id: instruction.id,
      at: nowIso,
      label: `${label} in ${resource.accountId} ${resource.region}`,
      accountId: resource.accountId,
    },
  };
}

export type SettingsVerdict =
  /** Off, or the problem not enabled for the account: removed without dispatch (neither told nor changed). */
  | { act: false; reason: string }
  /** Dispatched once due: `dueAtMs` is when the account's grace period ends (the instruction's own may be later). */
  | { act: true; dueAtMs: number; notifyOnly: boolean };

/**
 * Organisation mode, after validity: what the member account's settings say about the instruction. The reasons are
 * platform/organization.ts standingProblem's; its grace period is not a refusal here but a due time (hidden until
 * then, as the instruction's own notBefore). `notify` is dispatched like `enforce`: the remediation re-reads the
 * standing and, in notify mode, reports what it would change without changing it.
 */
export function settingsGate(
  standing: Extract<AccountStanding, { member: true }>,
  instruction: Instruction,
  now: Date,
): SettingsVerdict {
  const { settings } = standing;
  const dueAtMs = Date.parse(instruction.detectedAt) + settings.gracePeriodMinutes * 60_000;
  if (settings.mode === "off" || !settings.problems.has(instruction.problem)) {
    // Asked at the end of the grace period, so the reason is the mode's or the problem's, never the grace's.
    const reason = standingProblem(standing, instruction, new Date(Math.max(now.getTime(), dueAtMs)));
    if (reason) return { act: false, reason };
  }
  return { act: true, dueAtMs, notifyOnly: settings.mode === "notify" };
}

/** How long a dispatch covers copies captured before it (gate 3, duplicates). */
export const COVERED_COPY_MS = 60 * 60_000;

export type Decision =
  /** An earlier copy this tick was held: hold this one too (made visible again at the end of the tick). */
  | { gate: "held-before" }
  /** Another copy of an instruction handled this tick, or being remediated right now: delete it. */
  | { gate: "duplicate" }
  /** A newer capture of an instruction still in flight: hide it until that attempt is over. */
  | { gate: "in-flight"; hideSeconds: number }
  /** Not due yet: hide it until it is (at most SQS's longest visibility at a time). */
  | { gate: "grace"; remainingMs: number }
  /** Real attempts used up: dead-letter it. */
  | { gate: "attempts"; reason: string }
  /** The rate budget is spent: hold it for a later tick. */
  | { gate: "rate-limit" }
  | { gate: "dispatch"; attempt: number };

export interface DecideInput {
  instruction: Instruction;
  /** Organisation mode: when the account's grace period ends (the later of it and notBefore decides). */
  dueAtMs?: number;
  /** When it is due as the Slack decisions on it say (dueWithDecisions); absent: baseDueMs. */
  decidedDueMs?: number;
  messageId: string | undefined;
  /** What the coordinator remembers about this id (read, never changed here). */
  record: Readonly<InstructionRecord>;
  prior: Outcome | undefined;
  /** Dispatches left in the rate window. */
  budget: number;
}

export interface DecideConfig {
  dispatchVisibilitySeconds: number;
  maxAttempts: number;
}

/**
 * Gates 3–7 for one valid message. `attempts` is the record's attempt count as it stands after the decision: a new
 * capture of the same problem (the problem came back after a dispatch) starts its own count.
 */
export function decide(input: DecideInput, now: Date, config: DecideConfig): { decision: Decision; attempts: number } {
  const { instruction, record, prior } = input;
  let attempts = record.attempts;
  const done = (decision: Decision) => ({ decision, attempts });
  if (prior === "held") return done({ gate: "held-before" });
  if (prior) return done({ gate: "duplicate" });

  const nowMs = now.getTime();
  const capturedAt = Date.parse(instruction.capturedAt);
  const last = record.lastDispatch;
  if (last && last.messageId !== input.messageId) {
    const lastAtMs = Date.parse(last.at);
    // A copy captured before the last dispatch (the real-time path's instruction, then Config's for the same
    // violation): that remediation re-read the resource after this capture, so it covered it. Only for an hour: a
    // later re-detection (the daily scan) is dispatched again, so a skip whose reason has gone is not final.
    if (capturedAt < lastAtMs && nowMs - lastAtMs < COVERED_COPY_MS) return done({ gate: "duplicate" });
    const inFlightUntil = lastAtMs + config.dispatchVisibilitySeconds * 1000;
    if (nowMs < inFlightUntil) {
      // Another copy of an instruction being remediated right now: that attempt covers it.
      if (capturedAt <= Date.parse(last.capturedAt)) return done({ gate: "duplicate" });
      const seconds = Math.max(1, Math.ceil((inFlightUntil - nowMs) / 1000));
      return done({ gate: "in-flight", hideSeconds: Math.min(seconds, SQS_MAX_VISIBILITY_SECONDS) });
    }
  }
  if (last && capturedAt > Date.parse(last.capturedAt)) attempts = 0;

  const due = input.decidedDueMs ?? baseDueMs(instruction, input.dueAtMs);
  if (due > nowMs) return done({ gate: "grace", remainingMs: due - nowMs });
  if (attempts >= config.maxAttempts) return done({ gate: "attempts", reason: `remediation failed ${attempts} times` });
  if (input.budget <= 0) return done({ gate: "rate-limit" });
  return done({ gate: "dispatch", attempt: attempts + 1 });
}

/** When an instruction is due without any Slack decision: the later of its notBefore and the account's grace. */
export function baseDueMs(instruction: Instruction, dueAtMs?: number): number {
  return Math.max(Date.parse(instruction.notBefore), dueAtMs ?? Number.NEGATIVE_INFINITY);
}

/** A Fix now or Snooze pressed in Slack, its claim already re-checked (approver, instruction): what and when. */
export interface DueDecision {
  action: "fix-now" | "snooze";
  atMs: number;
}

export interface DecidedDue {
  dueMs: number;
  /** The decision that set it; absent: no decision, the base due. */
  by?: DueDecision["action"];
  /** The decisions could not be read: `dueMs` is the base due, and a Snooze may stand unseen. */
  unread?: true;
}

/**
 * Why a decision cannot be about the instruction's current grace period, or undefined when it can: a button exists
 * only once the coordinator has seen the instruction (its record), and ids repeat when a problem comes back, so for a
 * capture newer than the last dispatch's (a new detection) a decision from before that dispatch was about the earlier
 * one. A retry of the same capture keeps its Fix now.
 */
export function staleDecision(
  atMs: number,
  record: Readonly<InstructionRecord>,
  capturedAt: string,
): string | undefined {
  if (atMs >= Date.parse(decisionsFrom(record, capturedAt))) return undefined;
  if (atMs < Date.parse(record.firstSeenAt)) return "taken before the coordinator first saw the instruction";
  if (atMs < Date.parse(capturedAt)) return "taken before this capture of the problem";
  return "taken before the last dispatch, about an earlier detection of the problem";
}

/**
 * The first instant a decision about this detection of the problem may have been taken: its first sighting and its
 * capture (the remediation, which re-reads the decision, knows only the capture: so what the coordinator honours the
 * remediation accepts), or just after the last dispatch when this is a newer capture (the problem came back). The
 * pending record carries it, so the Slack endpoint lets a new press replace a decision about an earlier detection (an
 * instruction's id repeats).
 */
export function decisionsFrom(record: Readonly<InstructionRecord>, capturedAt: string): string {
  const floor = Math.max(Date.parse(record.firstSeenAt), Date.parse(capturedAt));
  const last = record.lastDispatch;
  if (last && Date.parse(capturedAt) > Date.parse(last.capturedAt)) {
    return new Date(Math.max(floor, Date.parse(last.at) + 1)).toISOString();
  }
  return new Date(floor).toISOString();
}

/**
 * Gate 4's due time once Slack has spoken. The latest decision wins (a tie goes to Snooze: towards the grace).
 * Fix now: due when pressed (never later than without it). Snooze: the base due plus the deployed snooze, whatever
 * the record says. Decisions move only the due time: the other gates apply as ever.
 */
export function dueWithDecisions(
  baseDue: number,
  decisions: readonly DueDecision[],
  snoozeMinutes: number,
): DecidedDue {
  let latest: DueDecision | undefined;
  for (const decision of decisions) {
    if (!latest || decision.atMs > latest.atMs || (decision.atMs === latest.atMs && decision.action === "snooze")) {
      latest = decision;
    }
  }
  if (!latest) return { dueMs: baseDue };
  if (latest.action === "snooze") return { dueMs: baseDue + snoozeMinutes * 60_000, by: "snooze" };
  return { dueMs: Math.min(baseDue, latest.atMs), by: "fix-now" };
}

/** The fresh sightings the breaker counts: first seen within its window, and since the last resume. */
export function countedSightings(
  sightings: readonly FreshSighting[],
  now: Date,
  windowMinutes: number,
  resumedAtMs: number | undefined,
): FreshSighting[] {
  const nowMs = now.getTime();
  return sightings.filter((sighting) => {
    const at = Date.parse(sighting.at);
    return nowMs - at < windowMinutes * 60_000 && (resumedAtMs === undefined || at >= resumedAtMs);
  });
}

/** Gate 6: MORE than freshLimit fresh instructions within the window trips the breaker (and pauses everything). */
export function breakerTrips(counted: readonly FreshSighting[], freshLimit: number): boolean {
  return counted.length > freshLimit;
}

/** Organisation mode: the account pauses the breakers count around (platform/pause.ts `accounts`). */
export interface AccountPauses {
  /** Paused on their own (stored, or tripped this tick): their sightings count towards neither breaker. */
  paused: ReadonlySet<string>;
  /** When a person last resumed the account: its sightings from before no longer count. */
  resumedAtMs(accountId: string): number | undefined;
}

/** Whether a sighting still counts once account pauses are taken into account (one without an account always does). */
function countsAfterAccountPauses(sighting: FreshSighting, accounts: AccountPauses | undefined): boolean {
  const accountId = sighting.accountId;
  if (!accounts || accountId === undefined) return true;
  if (accounts.paused.has(accountId)) return false;
  const resumedAtMs = accounts.resumedAtMs(accountId);
  return resumedAtMs === undefined || Date.parse(sighting.at) >= resumedAtMs;
}

export type BreakerCheck = { trips: false } | { trips: true; counted: FreshSighting[] };

/**
 * Gate 6 on what the tick has seen so far: whether the breaker trips, and on which sightings (for its report). With
 * `accounts` (organisation mode), a paused account's sightings are its own breaker's, not the global one's: a burst in
 * one account pauses that account only, one across many accounts pauses everything.
 */
export function breakerGate(
  sightings: readonly FreshSighting[],
  now: Date,
  breaker: { freshLimit: number; windowMinutes: number },
  resumedAtMs: number | undefined,
  accounts?: AccountPauses,
): BreakerCheck {
  const counted = countedSightings(sightings, now, breaker.windowMinutes, resumedAtMs).filter((sighting) =>
    countsAfterAccountPauses(sighting, accounts),
  );
  return breakerTrips(counted, breaker.freshLimit) ? { trips: true, counted } : { trips: false };
}

/** An account whose own breaker trips, and the sightings that trip it (for its report). */
export interface AccountTrip {
  accountId: string;
  counted: FreshSighting[];
}

/**
 * Gate 6 per account (organisation mode, `accountFreshLimit` set): the accounts not paused yet with MORE than
 * accountFreshLimit fresh instructions within the window, counted since the last resume of the whole switch and of
 * the account. Checked before the global breaker, which then no longer counts them.
 */
export function accountBreakerGate(
  sightings: readonly FreshSighting[],
  now: Date,
  breaker: { accountFreshLimit?: number; windowMinutes: number },
  resumedAtMs: number | undefined,
  accounts: AccountPauses,
): AccountTrip[] {
  const limit = breaker.accountFreshLimit;
  if (limit === undefined) return [];
  const byAccount = new Map<string, FreshSighting[]>();
  for (const sighting of countedSightings(sightings, now, breaker.windowMinutes, resumedAtMs)) {
    const accountId = sighting.accountId;
    if (accountId === undefined || !countsAfterAccountPauses(sighting, accounts)) continue;
    const counted = byAccount.get(accountId);
    if (counted) counted.push(sighting);
    else byAccount.set(accountId, [sighting]);
  }
  return [...byAccount]
    .filter(([, counted]) => counted.length > limit)
    .map(([accountId, counted]) => ({ accountId, counted }));
}

/**
 * How long a message of a paused account is hidden when it is received: a resume of the account takes effect within
 * this, and the tick does not read and release the same held burst every minute.
 */
export const PAUSED_ACCOUNT_HIDE_SECONDS = 300;

/** Gate 7's budget: how many more dispatches the rate window allows, given the dispatch times remembered. */
export function rateBudget(
  dispatches: readonly string[],
  now: Date,
  rateLimit: { count: number; windowMinutes: number },
): number {
  const nowMs = now.getTime();
  const recent = dispatches.filter((at) => nowMs - Date.parse(at) < rateLimit.windowMinutes * 60_000);
  return rateLimit.count - recent.length;
}

/**
 * Past the rate budget a tick keeps looking (holding, then releasing) at up to this many due messages, so a burst
 * of fresh instructions still reaches the breaker while the rate limit spreads the work over ticks. It is also how
 * many valid messages a tick reads before acting on any (look before acting: a burst that arrived at once trips the
 * breaker before any of it is remediated).
 */
export function lookAhead(breaker: { freshLimit: number }): number {
  return breaker.freshLimit + 1;
}

/** Visibility of messages received only to look (rate budget spent): they are all released before the tick ends. */
export const LOOK_VISIBILITY_SECONDS = 60;

export type ReceiveStep =
  | { receive: true; visibilitySeconds: number }
  | { receive: false; stop: "time-budget" | "rate-limit" };

/**
 * Whether the tick receives another batch, and for how long the messages it gets are hidden: stop when the
 * invocation's time is nearly spent, or when the rate budget is spent and the look-ahead done.
 */
export function nextReceive(
  progress: { remainingMs: number; budget: number; overBudget: number },
  config: { safetyMarginMs: number; dispatchVisibilitySeconds: number; breaker: { freshLimit: number } },
): ReceiveStep {
  if (progress.remainingMs < config.safetyMarginMs) return { receive: false, stop: "time-budget" };
  if (progress.budget <= 0 && progress.overBudget >= lookAhead(config.breaker)) {
    return { receive: false, stop: "rate-limit" };
  }
  const visibilitySeconds =
    progress.budget > 0
      ? config.dispatchVisibilitySeconds
      : Math.min(config.dispatchVisibilitySeconds, LOOK_VISIBILITY_SECONDS);
  return { receive: true, visibilitySeconds };
}

/** While its grace notice is unsent, a message is looked at again next tick rather than at the end of the grace. */
export const GRACE_NOTICE_RETRY_SECONDS = 60;

/** Gate 4's hide: until due (at most SQS's longest visibility at a time), shorter while the notice is unsent. */
export function graceHideSeconds(remainingMs: number, noticeSent: boolean): number {
  const untilDue = Math.min(Math.ceil(remainingMs / 1000), SQS_MAX_VISIBILITY_SECONDS);
  return noticeSent ? untilDue : Math.min(untilDue, GRACE_NOTICE_RETRY_SECONDS);
}

/** How much a tick does at once: SQS receives (and release or delete batches), and remediation Invokes. */
export interface Concurrency {
  receives: number;
  invokes: number;
}

export interface DrainProgress {
  /** Still reading the look-ahead: nothing is acted on until it is read (or the queue is empty). */
  looking: boolean;
  /** Valid messages received so far this tick. */
  seen: number;
  /** Valid messages received and not yet acted on. */
  waiting: number;
  /** Receives in flight (each may bring up to SQS_BATCH_SIZE messages). */
  inFlight: number;
  /** Dispatches the rate window still allows (those in flight already taken off). */
  budget: number;
  /** Due messages held because the budget was spent. */
  overBudget: number;
}

/**
 * Whether the tick starts one more receive now (nextReceive still decides whether it may at all). While looking:
 * only as many as the look-ahead still needs, counting what the receives in flight may bring. After it: enough to
 * use the rate budget and finish the look past it, never more waiting than the receives and Invokes in flight can
 * take at once (a message read long before its dispatch would wear out its visibility for nothing).
 */
export function wantsReceive(
  progress: DrainProgress,
  config: { breaker: { freshLimit: number }; concurrency: Concurrency },
): boolean {
  const coming = progress.inFlight * SQS_BATCH_SIZE;
  const look = lookAhead(config.breaker);
  if (progress.looking) return progress.seen + coming < look;
  const wanted = Math.max(0, progress.budget) + Math.max(0, look - progress.overBudget);
  const cap = config.concurrency.receives * SQS_BATCH_SIZE + config.concurrency.invokes;
  return progress.waiting + coming < Math.min(wanted, cap);
}

/**
 * The receives a tick keeps in flight after one comes back with `batchSize` messages, having started when `startedWith`
 * were allowed: one at first (an idle queue costs one receive a tick, as it always did), doubled by every full batch up
 * to the configured bound. An empty answer ends the draining only when it answers a lone receive: among several in
 * flight it may be wrong (SQS, and local emulators more so, can answer a receive empty while other receives are
 * taking the messages), so it only brings the tick back to one receive, whose answer then decides.
 */
export function afterReceive(
  window: number,
  batchSize: number,
  startedWith: number,
  concurrency: Concurrency,
): { window: number; dry: boolean } {
  if (batchSize === 0) return { window: 1, dry: startedWith <= 1 };
  return { window: batchSize >= SQS_BATCH_SIZE ? Math.min(window * 2, concurrency.receives) : window, dry: false };
}

export type TickPhase = "receive" | "act" | "release";

/**
 * The time budget of each phase: a receive, and an action on a message (a dispatch, a hide, a dead-letter), starts
 * only with at least the safety margin left; a release or duplicate-delete batch with at least the save margin
 * (what is not released reappears when its visibility ends). The save margin is the state's: saving it is the last
 * thing a tick does, whatever else was cut short.
 */
export function hasTimeFor(
  phase: TickPhase,
  remainingMs: number,
  config: { safetyMarginMs: number; saveMarginMs: number },
): boolean {
  return remainingMs >= (phase === "release" ? config.saveMarginMs : config.safetyMarginMs);
}
