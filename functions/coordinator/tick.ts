// One coordinator tick (every 60 s, while auto-response is on): read the pause switch and the state, drain the
// remediation queue within the invocation's time budget, ask gates.ts what to do with each message and do it
// (queue-io.ts for SQS, a Lambda Invoke to dispatch, breaker.ts to trip), release what was only looked at, save the
// state, return the summary. The rules live in gates.ts so they stay pure; this module only acts on their decisions
// and keeps the tick's bookkeeping (what happened to each id, what to release, the rate budget left).
//
// Concurrency. Several receives and several actions (an Invoke and the SQS call after it, a hide, a dead-letter)
// are in flight at once, up to config.concurrency, driven by one pump (Tick.pump) that starts whatever may start
// whenever something ends. The safety properties hold as in a sequential tick because every decision is taken
// synchronously, on the event loop's one thread, before the I/O it names:
// - look before acting: nothing is acted on until the look-ahead (gates.ts lookAhead) has been received and counted
//   by the breaker, with every receive of it landed;
// - one id at a time (WaitingLine): a later copy of an instruction is decided only once the earlier copy's outcome
//   is known, so copies returned by concurrent receives are decided exactly as one after another;
// - the rate budget is taken when the dispatch is decided and given back only if the Invoke certainly failed, so
//   dispatches in flight can never exceed it; a message the spent budget would hold waits instead while dispatches
//   are in flight (one that fails gives its share to it), so the budget is used exactly as one after another;
// - time: no receive or action starts with less than safetyMarginMs left, no release batch with less than
//   saveMarginMs; calls still in flight then are abandoned (an abandoned Invoke counts as dispatched, as an Invoke
//   whose answer was lost does), and the state is saved once, after everything has settled. So a tick cut short
//   leaves each message dispatched once and recorded, or not acted on and released (or left to reappear).
//
// Organisation mode (config.deployment.organization). Each instruction's account is looked up once per tick in the
// organisation (deps.directory; cached across ticks there too) before anything else is decided about it: not a member
// (or excluded, suspended) is refused like any other claim (the DLQ, with the reason); "off" or a problem not enabled
// is removed unseen (counted and logged, never reported: off means neither told nor changed); the account's grace
// period is a later due time (hidden until then, like notBefore); "notify" is dispatched like "enforce" (the
// remediation reports instead of changing). An account the organisation cannot be read for is held this tick (fail
// closed, transient); the other accounts go on. Each account also has its own breaker (gates.ts accountBreakerGate,
// checked with the global one after every receive, before anything it received is acted on): an account past its
// limit is paused alone in the pause switch and its messages are held, hidden for PAUSED_ACCOUNT_HIDE_SECONDS.
import { InvokeCommand } from "@aws-sdk/client-lambda";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { truncateReason } from "../../contract/dead-letter.ts";
import { encodeRemediationRequest, type RemediationRequest } from "../../contract/dispatch.ts";
import type { Instruction } from "../../contract/instruction.ts";
import { writePending } from "../../contract/pending.ts";
import type { ReportBody, Reporter } from "../../contract/report.ts";
import type { Problem } from "../../detection/types.ts";
import { answerLost } from "../../platform/aws-errors.ts";
import type { Deployment } from "../../platform/deployment.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import type { AccountStanding, OrganizationDirectory } from "../../platform/organization.ts";
import {
  accountResumedAtMs,
  type PauseReading,
  type PauseState,
  pausedAccounts,
  readPauseState,
} from "../../platform/pause.ts";
import { tripAccountBreaker, tripBreaker } from "./breaker.ts";
import {
  type AccountPauses,
  type AccountTrip,
  accountBreakerGate,
  afterReceive,
  baseDueMs,
  breakerGate,
  type Concurrency,
  type DecidedDue,
  type Decision,
  decide,
  decisionsFrom,
  dueWithDecisions,
  firstSighting,
  graceHideSeconds,
  hasTimeFor,
  lookAhead,
  nextReceive,
  type Outcome,
  PAUSED_ACCOUNT_HIDE_SECONDS,
  type Parsed,
  parseGate,
  pauseGate,
  rateBudget,
  rememberOutcome,
  SQS_BATCH_SIZE,
  settingsGate,
  type TickPhase,
  validityGate,
  wantsReceive,
} from "./gates.ts";
import { decisionsToHonour, deletePending, type InteractiveConfig, pendingRecord } from "./interactive.ts";
import { type BatchPacing, CoordinatorQueue, type QueuedMessage } from "./queue-io.ts";
import { checkCoordinatorConfig } from "./settings.ts";
import {
  type CoordinatorState,
  CoordinatorStateConflictError,
  type CoordinatorStateStore,
  type InstructionRecord,
  mergeStates,
  pruneState,
} from "./state.ts";

export interface CoordinatorConfig {
  /**
   * The only account and region instructions may name (an instruction is a claim; see platform/deployment.ts); in
   * organisation mode (`organization`), the organisation's member accounts in the settings' regions.
   */
  deployment: Pick<Deployment, "accountId" | "region" | "organization">;
  queueUrl: string;
  deadLetterQueueUrl: string;
  pauseParameter: string;
  /** Problem → remediation function name or ARN. */
  remediationFunctions: Readonly<Partial<Record<Problem, string>>>;
  /** How long a dispatched message stays invisible: longer than a remediation runs. */
  dispatchVisibilitySeconds: number;
  /** Real dispatches before the instruction is dead-lettered. */
  maxAttempts: number;
  rateLimit: { count: number; windowMinutes: number };
  /**
   * Trips when MORE than freshLimit fresh instructions are first seen within windowMinutes. Organisation mode:
   * MORE than accountFreshLimit of one account pauses that account alone (absent: no per-account breaker).
   */
  breaker: { freshLimit: number; windowMinutes: number; accountFreshLimit?: number };
  /** No receive and no action on a message starts when less than this much of the invocation's time is left. */
  safetyMarginMs: number;
  /**
   * Kept for saving the state (less than safetyMarginMs): no release batch starts in it, and calls still in flight
   * when it begins are abandoned.
   */
  saveMarginMs: number;
  receiveWaitSeconds: number;
  /** Visibility given to a message whose Invoke call failed (not counted as an attempt). */
  invokeRetryDelaySeconds: number;
  /** Receives (and release or delete batches) and Invokes in flight at most. */
  concurrency: Concurrency;
  /**
   * Slack buttons (a Slack app is deployed): grace notices can be answered with Fix now or Snooze. The coordinator
   * leaves a pending record for each instruction it hides after a notice, and honours the decisions recorded.
   */
  interactive?: InteractiveConfig;
}

/** The part of a Lambda client the coordinator uses; tests pass a recorder. */
export interface LambdaInvoker {
  send(command: InvokeCommand, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

export interface CoordinatorDeps {
  sqs: SQSClient;
  lambda: LambdaInvoker;
  ssm: SSMClient;
  store: CoordinatorStateStore;
  reporter: Reporter;
  config: CoordinatorConfig;
  /** Organisation mode (required there): who the organisation's accounts are, and their settings. */
  directory?: OrganizationDirectory;
  /** The ledger bucket's client (required with config.interactive): decisions and pending records. */
  s3?: Pick<S3Client, "send">;
  now: () => Date;
  /** The invocation's remaining time (Lambda's context.getRemainingTimeInMillis). */
  remainingTimeMs: () => number;
  /**
   * Abandons the AWS calls still in flight (receives, Invokes, SQS calls) once the tick's time is up. Default: fires
   * when saveMarginMs of the invocation's time is left, as remainingTimeMs says at the start of the drain.
   */
  abortSignal?: AbortSignal;
  log: Log;
  metrics: MetricSink;
}

export interface CoordinatorSummary {
  paused: boolean;
  received: number;
  dispatched: number;
  duplicatesDeleted: number;
  graceHidden: number;
  /** A newer capture of an instruction still being remediated: hidden until that attempt is over. */
  deferred: number;
  deadLettered: number;
  /** Made visible again untouched (rate limit, breaker): picked up by a later tick. */
  released: number;
  invokeFailures: number;
  breakerTripped: boolean;
  /** Organisation mode: removed without dispatch, as the account's settings say (off, or the problem not enabled). */
  skippedBySettings: number;
  /** Organisation mode: held (hidden a while) because their account is paused by its own breaker. */
  heldForAccountPause: number;
  /** Organisation mode: held this tick because the organisation could not be read for their account. */
  heldForOrganization: number;
  /** Organisation mode: accounts whose own breaker tripped this tick. */
  accountBreakersTripped: number;
  /** A phase stopped because the invocation's time budget was spent (what it did not reach waits for a later tick). */
  timeBudgetReached: boolean;
  /** Held messages not made visible again (time budget spent, or SQS refused): they reappear when their visibility ends. */
  unreleased: number;
  /** Slack buttons: dispatched before their grace period ended, because an approver pressed Fix now. */
  fixNowHonoured: number;
  /** Slack buttons: hidden past their grace period, because an approver pressed Snooze. */
  snoozeHonoured: number;
  /** Slack buttons: decision records not honoured (invalid, not pressed by an approver, or an earlier detection's). */
  decisionsIgnored: number;
  /** Slack buttons: pending records not written or not deleted (a Fix now then waits for the message's next look). */
  pendingRecordFailures: number;
  sqsCalls: number;
}

/** A valid message, its instruction, what is remembered about it and the function that remediates it. */
interface Candidate {
  message: Message;
  instruction: Instruction;
  record: InstructionRecord;
  functionName: string;
  /** Organisation mode: when the account's grace period ends. */
  dueAtMs?: number;
  /** The due time as the Slack decisions make it, once read (read once per tick, even if decided again). */
  decided?: DecidedDue;
}

/** An account's standing as read this tick, or why it could not be. */
type StandingLookup = { read: true; standing: AccountStanding } | { read: false; error: unknown };

/** `promise`, or a rejection once `signal` fires (the call itself is abandoned, not awaited). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function resourceRef(instruction: Instruction) {
  const { type, id, arn, accountId, region } = instruction.resource;
  return { type, id, ...(arn ? { arn } : {}), accountId, region };
}

/** One coordinator invocation. */
export async function runCoordinator(deps: CoordinatorDeps): Promise<CoordinatorSummary> {
  checkCoordinatorConfig(deps.config);
  if (deps.config.deployment.organization && !deps.directory) {
    // Without it every instruction would be refused as unchecked, and dead-lettered: a wiring mistake, not theirs.
    throw new ConfigurationError("coordinator in organisation mode needs the organisation directory");
  }
  if (deps.config.interactive && !deps.s3) {
    throw new ConfigurationError("coordinator with Slack buttons (interactive) needs the ledger bucket's S3 client");
  }
  return new Tick(deps).run();
}

/** Why a tick stopped acting on messages before its queue ran dry. */
type Stop = "breaker" | "time-budget" | "failure";

/**
 * The valid messages received and not yet acted on, in arrival order, with at most one candidate per instruction id
 * out at a time: a later copy of an id waits (parked) until the earlier copy has been acted on, then comes out before
 * anything that arrived after it.
 */
class WaitingLine {
  private line: Candidate[] = [];
  private head = 0;
  /** Ids with a candidate out (being acted on) or freed (next out). */
  private readonly claimed = new Set<string>();
  private readonly parked = new Map<string, Candidate[]>();
  private readonly freed: Candidate[] = [];
  /** Taken, then put back to be decided again later (their ids stay claimed). */
  private readonly deferred: Candidate[] = [];
  size = 0;

  push(candidate: Candidate): void {
    this.line.push(candidate);
    this.size++;
  }

  /** The next candidate that may be acted on now, or undefined; call done(id) once it has been. */
  take(): Candidate | undefined {
    const next = this.freed.shift() ?? this.fromLine();
    if (next) this.size--;
    return next;
  }

  /** Puts a taken candidate back, to come out again after undefer (its later copies keep waiting behind it). */
  defer(candidate: Candidate): void {
    this.deferred.push(candidate);
    this.size++;
  }

  /** Lets the deferred candidates out again, before anything else. */
  undefer(): void {
    this.freed.unshift(...this.deferred.splice(0));
  }

  done(id: string): void {
    const later = this.parked.get(id);
    const next = later?.shift();
    if (!next) {
      this.claimed.delete(id);
      return;
    }
    if (later!.length === 0) this.parked.delete(id);
    this.freed.push(next);
  }

  /** Everything still waiting, taken out (ids out stay claimed until done). */
  takeAll(): Candidate[] {
    const freed = [...this.deferred.splice(0), ...this.freed.splice(0)];
    for (const candidate of freed) this.claimed.delete(candidate.instruction.id);
    const all = [...freed, ...[...this.parked.values()].flat(), ...this.line.slice(this.head)];
    this.parked.clear();
    this.line = [];
    this.head = 0;
    this.size = 0;
    return all;
  }

  private fromLine(): Candidate | undefined {
    while (this.head < this.line.length) {
      const candidate = this.line[this.head++]!;
      const id = candidate.instruction.id;
      if (!this.claimed.has(id)) {
        this.claimed.add(id);
        this.compact();
        return candidate;
      }
      const later = this.parked.get(id);
      if (later) later.push(candidate);
      else this.parked.set(id, [candidate]);
    }
    this.compact();
    return undefined;
  }

  private compact(): void {
    if (this.head > 1_024 && this.head * 2 > this.line.length) {
      this.line = this.line.slice(this.head);
      this.head = 0;
    }
  }
}

/** An abort signal that fires in `ms` (at least 1 ms; Node's timer, not kept alive for it). */
function abortAfter(ms: number): AbortSignal {
  return AbortSignal.timeout(Math.min(Math.max(1, Math.floor(ms)), 2 ** 31 - 1));
}

class Tick {
  private readonly summary: CoordinatorSummary = {
    paused: false,
    received: 0,
    dispatched: 0,
    duplicatesDeleted: 0,
    graceHidden: 0,
    deferred: 0,
    deadLettered: 0,
    released: 0,
    invokeFailures: 0,
    breakerTripped: false,
    skippedBySettings: 0,
    heldForAccountPause: 0,
    heldForOrganization: 0,
    accountBreakersTripped: 0,
    timeBudgetReached: false,
    unreleased: 0,
    fixNowHonoured: 0,
    snoozeHonoured: 0,
    decisionsIgnored: 0,
    pendingRecordFailures: 0,
    sqsCalls: 0,
  };
  private readonly queue: CoordinatorQueue;
  private state!: CoordinatorState;
  /** The state as loaded (pruned), for a three-way merge if another coordinator saves first. */
  private base!: CoordinatorState;
  private etag: string | undefined;
  private resumedAtMs: number | undefined;
  /** Dispatches the rate window still allows (a dispatch takes its share when decided, before its Invoke). */
  private budget = 0;
  /** What happened to each instruction id this tick: later copies follow the first one. */
  private readonly outcomes = new Map<string, Outcome>();
  /** Messages to make visible again before the tick ends. */
  private readonly held: QueuedMessage[] = [];
  /** Due messages held only because the rate budget is spent. */
  private overBudget = 0;
  private readonly config: CoordinatorConfig;
  private readonly lookAheadCount: number;
  /** Fires when the tick's time is up: every AWS call still in flight is abandoned. */
  private deadline: AbortSignal | undefined;

  // Organisation mode.
  /** Each account's standing, looked up once per tick (a failed lookup holds the account for the whole tick). */
  private readonly standings = new Map<string, Promise<StandingLookup>>();
  /** The pause switch as this tick last read or wrote it: a pause it writes keeps its account entries. */
  private pauseState: PauseState | undefined;
  /** Accounts paused on their own: stored in the switch, or tripped this tick. */
  private readonly pausedAccounts = new Set<string>();
  /** Messages of paused accounts, hidden for PAUSED_ACCOUNT_HIDE_SECONDS before the tick ends. */
  private readonly accountHeld: QueuedMessage[] = [];
  /** Messages the settings say not to act on, deleted ten at a time. */
  private readonly skipped: QueuedMessage[] = [];
  /** Pause switch writes, one after another (each account trip reads, changes its entry, writes). */
  private pauseWrites: Promise<unknown> = Promise.resolve();
  /** Pending-record deletes started outside an action (a message removed for settings): awaited before the save. */
  private readonly sideTasks = new Set<Promise<void>>();

  // The drain (see pump): what is in flight, what waits, and why it stopped.
  /** More receives may start (false once the queue was empty, or a stop, or the rate limit, or the time). */
  private receiving = true;
  /** Reading the look-ahead: nothing is acted on yet. */
  private looking = true;
  private receivesInFlight = 0;
  /** Receives allowed in flight now (gates.ts afterReceive). */
  private receiveWindow = 1;
  /** Valid messages received this tick. */
  private seen = 0;
  private readonly waiting = new WaitingLine();
  private acting = 0;
  /** Dispatches decided whose Invoke has not settled: each may still give its budget back. */
  private dispatching = 0;
  /** Duplicate-delete batches in flight. */
  private flushing = 0;
  private readonly duplicates: QueuedMessage[] = [];
  private stopped: Stop | undefined;
  private failure: { error: unknown } | undefined;
  private settle: (() => void) | undefined;

  constructor(private readonly deps: CoordinatorDeps) {
    this.config = deps.config;
    this.lookAheadCount = lookAhead(deps.config.breaker);
    this.queue = new CoordinatorQueue(deps.sqs, deps.config, deps.log);
  }

  async run(): Promise<CoordinatorSummary> {
    const { deps, config } = this;
    const pause = await readPauseState(deps.ssm, config.pauseParameter, deps.now());
    if (pause.failSafe) {
      deps.log.error("pause switch unusable: acting as paused", {
        parameter: config.pauseParameter,
        problem: pause.failSafe,
      });
    }
    const gate = pauseGate(pause);
    if (!gate.run) {
      this.summary.paused = true;
      deps.log.info("auto-response paused: dispatching nothing", { by: pause.by, reason: pause.reason, at: pause.at });
      return this.finish();
    }
    this.resumedAtMs = gate.resumedAtMs;
    this.pauseState = withoutFailSafe(pause);
    if (this.organization) for (const accountId of pausedAccounts(pause)) this.pausedAccounts.add(accountId);

    const loaded = await deps.store.load();
    if (loaded.problem) {
      deps.log.error("coordinator state unreadable: starting from empty state", { problem: loaded.problem });
    }
    this.etag = loaded.etag;
    const now = deps.now();
    this.state = pruneState(loaded.state, now, this.windows());
    this.base = structuredClone(this.state);
    this.budget = rateBudget(this.state.dispatches, now, config.rateLimit);
    this.deadline = deps.abortSignal ?? abortAfter(deps.remainingTimeMs() - config.saveMarginMs);
    this.queue.abortSignal = this.deadline;

    try {
      await this.drain();
    } finally {
      const held = this.held.splice(0);
      const accountHeld = this.accountHeld.splice(0);
      const [released] = await Promise.all([
        this.queue.release(held, this.pacing("release")),
        // Those it cannot hide reappear when their receive's visibility ends, as unreleased ones do.
        this.queue.hideAll(accountHeld, PAUSED_ACCOUNT_HIDE_SECONDS, this.pacing("release")),
      ]);
      this.summary.released += released;
      this.summary.unreleased += held.length - released;
      if (held.length > released && !this.hasTime("release")) this.summary.timeBudgetReached = true;
      // A pause write still in flight (an account trip) ends before the state that caused it is saved.
      await this.pauseWrites;
      await Promise.all(this.sideTasks);
      await this.saveState();
    }
    return this.finish();
  }

  /**
   * Receives and acts until the queue is dry, the rate limit or the time budget is reached, or the breaker trips:
   * resolves once nothing is in flight any more. Only a receive that failed (not one cut short at the time budget)
   * makes it throw, after everything else has settled.
   */
  private async drain(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.settle = resolve;
      this.pump();
    });
    if (this.duplicates.length > 0) {
      this.summary.duplicatesDeleted += await this.queue.deleteDuplicates(
        this.duplicates.splice(0),
        this.pacing("release"),
      );
    }
    if (this.skipped.length > 0) {
      this.summary.skippedBySettings += await this.queue.deleteSkipped(this.skipped.splice(0), this.pacing("release"));
    }
    if (this.failure) throw this.failure.error;
  }

  /**
   * Starts every receive and action that may start now; called at the start and whenever one ends. Synchronous, so
   * each start is decided on the state as it is (budget, outcomes, time) with nothing changing meanwhile.
   */
  private pump(): void {
    let progress = true;
    while (progress) {
      const received = this.startReceives();
      if (
        this.looking &&
        this.receivesInFlight === 0 &&
        (!this.receiving || this.stopped !== undefined || this.seen >= this.lookAheadCount)
      ) {
        this.looking = false;
      }
      const acted = this.startActs();
      progress = received || acted || (!this.looking && this.waiting.size > 0 && this.acting === 0);
      if (progress && !received && !acted) {
        // Nothing could start yet something waits: cannot happen (with nothing out, every id is free); hold it.
        for (const candidate of this.waiting.takeAll()) this.hold(candidate.message, candidate.instruction.id);
        progress = false;
      }
    }
    if (this.receivesInFlight === 0 && this.acting === 0 && this.flushing === 0 && this.waiting.size === 0) {
      const settle = this.settle;
      this.settle = undefined;
      settle?.();
    }
  }

  private startReceives(): boolean {
    const { deps, config } = this;
    let started = false;
    while (this.receiving && this.receivesInFlight < this.receiveWindow) {
      if (this.stopped) {
        this.receiving = false;
        break;
      }
      const progress = {
        looking: this.looking,
        seen: this.seen,
        // Taken but not dispatching (being decided, hidden, held): still to be placed, as far as reading goes.
        waiting: this.waiting.size + this.acting - this.dispatching,
        inFlight: this.receivesInFlight,
        budget: this.budget,
        overBudget: this.overBudget,
      };
      if (!wantsReceive(progress, config)) break;
      const remainingMs = this.deadline?.aborted ? 0 : deps.remainingTimeMs();
      const step = nextReceive({ remainingMs, budget: this.budget, overBudget: this.overBudget }, config);
      if (!step.receive) {
        this.receiving = false;
        if (step.stop === "time-budget") {
          this.summary.timeBudgetReached = true;
          deps.log.info("stopping: time budget nearly spent", { remainingMs });
          // A look-ahead cut short is not acted on, whatever the clock says next.
          if (this.looking) this.stop("time-budget");
        } else {
          deps.log.info("stopping: rate limit reached", {
            limit: config.rateLimit.count,
            windowMinutes: config.rateLimit.windowMinutes,
          });
        }
        break;
      }
      this.receivesInFlight++;
      started = true;
      this.spawn(this.receiveBatch(step.visibilitySeconds, this.receiveWindow), () => this.receivesInFlight--);
    }
    return started;
  }

  /** One receive, its messages checked and, past the breaker, put in the waiting line. */
  private async receiveBatch(visibilitySeconds: number, startedWith: number): Promise<void> {
    const { deps, config } = this;
    let messages: Message[];
    try {
      messages = await this.queue.receive(visibilitySeconds);
    } catch (error) {
      this.receiving = false;
      if (this.deadline?.aborted) {
        this.summary.timeBudgetReached = true;
        deps.log.warn("receive abandoned: time budget spent", errorFields(error));
      } else {
        this.failure ??= { error };
      }
      // A look-ahead cut short is not looked at: acting on part of a burst is what the breaker is there to stop.
      if (this.looking) this.stop(this.failure ? "failure" : "time-budget");
      return;
    }
    this.summary.received += messages.length;
    const next = afterReceive(this.receiveWindow, messages.length, startedWith, config.concurrency);
    this.receiveWindow = next.window;
    if (next.dry) this.receiving = false;
    if (messages.length === 0) return;
    const parsed = messages.map((message) => parseGate(message.Body ?? ""));
    if (this.organization) {
      // Every account of the batch asked at once; each message then waits for its own.
      for (const each of parsed) if (each.valid) void this.standingOf(each.instruction.resource.accountId);
    }
    const batch: Candidate[] = [];
    for (const [index, message] of messages.entries()) {
      if (this.stopped === "breaker") {
        this.hold(message);
        continue;
      }
      const candidate = await this.validate(message, parsed[index]!);
      if (candidate) batch.push(candidate);
    }
    this.seen += batch.length;
    if (this.stopped !== "breaker") {
      const now = deps.now();
      const accounts = this.accountPauses();
      const trips = accounts
        ? accountBreakerGate(this.state.freshSightings, now, config.breaker, this.resumedAtMs, accounts)
        : [];
      // Paused now, before anything else is decided: the global breaker below no longer counts them, and their
      // messages are held from here on. Their pause writes run in the background (awaited before the state is saved).
      for (const trip of trips) {
        this.pausedAccounts.add(trip.accountId);
        void this.tripAccount(trip);
      }
      const breaker = breakerGate(this.state.freshSightings, now, config.breaker, this.resumedAtMs, accounts);
      if (breaker.trips) {
        this.stop("breaker");
        for (const candidate of batch) this.hold(candidate.message, candidate.instruction.id);
        this.summary.breakerTripped = true;
        // After the account pauses written before it, whose entries it keeps.
        await this.writePause(() =>
          tripBreaker(breaker.counted, {
            ssm: deps.ssm,
            pauseParameter: config.pauseParameter,
            breaker: config.breaker,
            now: () => deps.now(),
            log: deps.log,
            report: (body) => this.report(body),
            ...(this.deadline ? { abortSignal: this.deadline } : {}),
            // The switch as the tick knows it (its account pauses kept), so the trip is one write.
            ...(this.pauseState ? { previous: this.pauseState } : {}),
          }),
        );
        return;
      }
    }
    for (const candidate of batch) {
      if (this.stopped) this.hold(candidate.message, candidate.instruction.id);
      else if (this.pausedAccounts.has(candidate.instruction.resource.accountId)) {
        this.holdForAccount(candidate.message, candidate.instruction.id);
      } else this.waiting.push(candidate);
    }
  }

  /** Organisation mode: the account pauses the breakers count around (undefined in single-account mode). */
  private accountPauses(): AccountPauses | undefined {
    if (!this.organization) return undefined;
    const state = this.pauseState;
    return {
      paused: this.pausedAccounts,
      resumedAtMs: (accountId) => (state ? accountResumedAtMs(state, accountId) : undefined),
    };
  }

  /** Runs one write of the pause switch after those before it. */
  private writePause<T>(write: () => Promise<T>): Promise<T> {
    const done = this.pauseWrites.then(write);
    this.pauseWrites = done.catch(() => undefined);
    return done;
  }

  /** Pauses one account in the switch and reports it (its messages are held from now on, whatever the write does). */
  private async tripAccount(trip: AccountTrip): Promise<void> {
    const { deps, config } = this;
    this.summary.accountBreakersTripped++;
    try {
      const written = await this.writePause(() =>
        tripAccountBreaker(trip.accountId, trip.counted, {
          ssm: deps.ssm,
          pauseParameter: config.pauseParameter,
          breaker: {
            accountFreshLimit: config.breaker.accountFreshLimit!,
            windowMinutes: config.breaker.windowMinutes,
          },
          now: () => deps.now(),
          log: deps.log,
          report: (body) => this.report(body),
          ...(this.deadline ? { abortSignal: this.deadline } : {}),
        }),
      );
      if (written) this.pauseState = written;
    } catch (error) {
      // tripAccountBreaker logs its own failures; this is anything else. The next tick trips again.
      deps.log.error("account breaker trip failed", { accountId: trip.accountId, ...errorFields(error) });
    }
  }

  /** The account's standing, looked up once per tick, within the tick's time. */
  private standingOf(accountId: string): Promise<StandingLookup> {
    let lookup = this.standings.get(accountId);
    if (!lookup) {
      lookup = untilAborted(this.deps.directory!.standing(accountId), this.deadline).then(
        (standing): StandingLookup => ({ read: true, standing }),
        (error: unknown): StandingLookup => {
          this.deps.log.warn("organisation could not be read: holding the account's instructions this tick", {
            accountId,
            ...errorFields(error),
          });
          return { read: false, error };
        },
      );
      this.standings.set(accountId, lookup);
    }
    return lookup;
  }

  private get organization(): boolean {
    return this.config.deployment.organization !== undefined;
  }

  private startActs(): boolean {
    if (this.looking) return false;
    let started = false;
    while (this.acting < this.config.concurrency.invokes) {
      const candidate = this.waiting.take();
      if (!candidate) break;
      const id = candidate.instruction.id;
      if (!this.stopped && !this.hasTime("act")) {
        this.summary.timeBudgetReached = true;
        this.deps.log.info("stopping dispatch: time budget nearly spent", {
          remainingMs: this.deps.remainingTimeMs(),
          waiting: this.waiting.size + 1,
        });
        this.stop("time-budget");
      }
      if (this.stopped) {
        this.hold(candidate.message, id);
        this.waiting.done(id);
        continue;
      }
      this.acting++;
      started = true;
      this.spawn(
        this.act(candidate).then((wait) => {
          if (!wait) {
            this.waiting.done(id);
            return;
          }
          this.waiting.defer(candidate);
          // The dispatches it waited for may have settled meanwhile.
          if (this.dispatching === 0) this.waiting.undefer();
        }),
        () => this.acting--,
      );
    }
    return started;
  }

  /** Stops receiving and acting; everything waiting is held (released at the end of the tick). */
  private stop(reason: Stop): void {
    this.receiving = false;
    if (this.stopped) return;
    this.stopped = reason;
    for (const candidate of this.waiting.takeAll()) this.hold(candidate.message, candidate.instruction.id);
  }

  /**
   * Runs a task of the drain; when it ends, `after` and then the pump. A task that throws (none should: each handles
   * its own calls' failures) stops the drain, and the tick fails once everything else has settled.
   */
  private spawn(task: Promise<void>, after: () => void): void {
    task
      .catch((error: unknown) => {
        this.failure ??= { error };
        this.stop("failure");
      })
      .finally(() => {
        after();
        this.pump();
      });
  }

  /** Whether `phase` may start another call: never once the deadline has fired, whatever the clock says. */
  private hasTime(phase: TickPhase): boolean {
    return !this.deadline?.aborted && hasTimeFor(phase, this.deps.remainingTimeMs(), this.config);
  }

  private pacing(phase: TickPhase): BatchPacing {
    return { concurrency: this.config.concurrency.receives, canStart: () => this.hasTime(phase) };
  }

  /**
   * Checks a parsed message and records its sighting. Invalid and refused ones go to the DLQ at once (with time left
   * for it; otherwise they are held and dead-lettered by a later tick). Organisation mode: the account's standing
   * first (unreadable: held this tick), its settings after validity (off or not enabled: removed), a paused account's
   * messages held.
   */
  private async validate(message: Message, parsed: Parsed): Promise<Candidate | undefined> {
    if (!parsed.valid) {
      await this.deadLetterNow(message, parsed.reason);
      return undefined;
    }
    const { instruction } = parsed;
    const accountId = instruction.resource.accountId;
    let standing: AccountStanding | undefined;
    if (this.organization) {
      const lookup = await this.standingOf(accountId);
      if (!lookup.read) {
        this.hold(message, instruction.id);
        this.summary.heldForOrganization++;
        return undefined;
      }
      standing = lookup.standing;
    }
    // A capture from the future would also skew the breaker's and the attempt counter's notion of "new".
    const now = this.deps.now();
    const validity = validityGate(instruction, this.config, now, standing);
    if (!validity.valid) {
      await this.deadLetterNow(message, validity.reason, instruction);
      return undefined;
    }
    let dueAtMs: number | undefined;
    if (standing?.member) {
      const verdict = settingsGate(standing, instruction, now);
      if (!verdict.act) {
        this.skip(message, instruction, verdict.reason);
        return undefined;
      }
      dueAtMs = verdict.dueAtMs;
    }
    if (this.pausedAccounts.has(accountId)) {
      this.holdForAccount(message, instruction.id);
      return undefined;
    }
    let record = this.state.instructions[instruction.id];
    if (!record) {
      const sighting = firstSighting(instruction, now, this.config.breaker.windowMinutes, this.organization);
      record = sighting.record;
      this.state.instructions[instruction.id] = record;
      if (sighting.fresh) this.state.freshSightings.push(sighting.fresh);
    }
    record.lastSeenAt = now.toISOString();
    return {
      message,
      instruction,
      record,
      functionName: validity.functionName,
      ...(dueAtMs === undefined ? {} : { dueAtMs }),
    };
  }

  /** Removes a message the account's settings say not to act on: logged and counted, never reported. */
  private skip(message: Message, instruction: Instruction, reason: string): void {
    this.deps.log.info("not acted on, as the organisation settings say: removing it", {
      instructionId: instruction.id,
      accountId: instruction.resource.accountId,
      problem: instruction.problem,
      reason,
    });
    this.skipped.push({ message, instructionId: instruction.id });
    if (this.skipped.length >= SQS_BATCH_SIZE) this.flushSkipped();
    if (this.mayHavePending(instruction.id)) {
      const task = this.forgetPending(instruction.id).finally(() => this.sideTasks.delete(task));
      this.sideTasks.add(task);
    }
  }

  private flushSkipped(): void {
    const batch = this.skipped.splice(0, SQS_BATCH_SIZE);
    this.flushing++;
    this.spawn(
      this.queue.deleteSkipped(batch, this.pacing("release")).then((deleted) => {
        this.summary.skippedBySettings += deleted;
      }),
      () => this.flushing--,
    );
  }

  /** Holds a message of a paused account: hidden a while at the end of the tick, rather than released. */
  private holdForAccount(message: Message, instructionId: string): void {
    this.remember(instructionId, "held");
    this.accountHeld.push({ message, instructionId });
    this.summary.heldForAccountPause++;
  }

  private async deadLetterNow(message: Message, reason: string, instruction?: Instruction): Promise<void> {
    if (this.stopped === "breaker" || !this.hasTime("act")) {
      this.hold(message, instruction?.id);
      return;
    }
    await this.deadLetter(message, reason, instruction);
  }

  /**
   * Carries out the gates' decision for one candidate; a duplicate is deleted with others, ten at a time. True when
   * it must be decided again once the dispatches in flight have settled.
   */
  private async act(candidate: Candidate): Promise<boolean> {
    try {
      const result = await this.carryOut(candidate);
      if (result === "duplicate") {
        this.duplicates.push({ message: candidate.message, instructionId: candidate.instruction.id });
        if (this.duplicates.length >= SQS_BATCH_SIZE) this.flushDuplicates();
      }
      return result === "wait";
    } catch (error) {
      // The message comes back when its visibility ends; the others go on.
      this.deps.log.error("could not handle instruction", {
        instructionId: candidate.instruction.id,
        ...errorFields(error),
      });
      return false;
    }
  }

  private flushDuplicates(): void {
    const batch = this.duplicates.splice(0, SQS_BATCH_SIZE);
    this.flushing++;
    this.spawn(
      this.queue.deleteDuplicates(batch, this.pacing("release")).then((deleted) => {
        this.summary.duplicatesDeleted += deleted;
      }),
      () => this.flushing--,
    );
  }

  /**
   * Asks gates.ts what to do with one valid message and does it. "duplicate": a copy to delete; "wait": held by the
   * spent rate budget while dispatches are in flight, to be decided again once they have settled.
   */
  private async carryOut(candidate: Candidate): Promise<"done" | "duplicate" | "wait"> {
    const { message, instruction, record } = candidate;
    const { deps } = this;
    const id = instruction.id;
    // Its account's breaker tripped after it was received.
    if (this.pausedAccounts.has(instruction.resource.accountId)) {
      this.holdForAccount(message, id);
      return "done";
    }
    if (candidate.decided === undefined && this.readsDecisions(candidate)) {
      candidate.decided = await this.decidedDue(candidate);
      // The read took time: whatever stopped the tick or paused the account meanwhile holds it, as it would have
      // before the read; and the action must still start within the time budget.
      if (this.stopped || !this.hasTime("act")) {
        if (!this.stopped) this.summary.timeBudgetReached = true;
        this.hold(message, id);
        return "done";
      }
      if (this.pausedAccounts.has(instruction.resource.accountId)) {
        this.holdForAccount(message, id);
        return "done";
      }
      // Past its grace period with its decisions unread, a Snooze may stand: held for a later tick, never fixed
      // early (within the grace period it is hidden as ever, and no Fix now can be seen).
      if (candidate.decided.unread && candidate.decided.dueMs <= deps.now().getTime()) {
        deps.log.warn("Slack decisions unreadable past its grace period: held for a later tick", { instructionId: id });
        this.hold(message, id);
        return "done";
      }
    }
    const now = deps.now();
    const { decision, attempts } = this.decideNow(candidate, now);
    if (decision.gate === "rate-limit" && this.dispatching > 0) return "wait";
    record.attempts = attempts;
    switch (decision.gate) {
      case "held-before":
        this.hold(message, id);
        return "done";
      case "duplicate":
        this.remember(id, "duplicate");
        return "duplicate";
      case "in-flight":
        await this.queue.hide(message, decision.hideSeconds);
        this.remember(id, "deferred");
        this.summary.deferred++;
        deps.log.info("newer capture of an instruction in flight: deferred", {
          instructionId: id,
          seconds: decision.hideSeconds,
        });
        return "done";
      case "grace":
        await this.hideForGrace(candidate, decision.remainingMs, now);
        // Counted once the grace period alone would have let it go, not at every look while it lasts.
        if (candidate.decided?.by === "snooze" && baseDueMs(instruction, candidate.dueAtMs) <= now.getTime()) {
          this.summary.snoozeHonoured++;
          deps.log.info("snoozed in Slack: hidden past its grace period", {
            instructionId: id,
            dueAt: new Date(candidate.decided.dueMs).toISOString(),
          });
        }
        return "done";
      case "attempts":
        if (await this.deadLetter(message, decision.reason, instruction)) {
          // A redrive from the DLQ (or a re-detection) gets a fresh set of attempts.
          record.attempts = 0;
          delete record.lastDispatch;
          this.remember(id, "dead-lettered");
        } else {
          this.remember(id, "held");
        }
        return "done";
      case "rate-limit":
        this.overBudget++;
        this.hold(message, id);
        return "done";
      case "dispatch": {
        // Taken now, so that the decisions taken while this Invoke is in flight see it; given back if it fails.
        this.budget--;
        this.dispatching++;
        let dispatched: boolean;
        try {
          dispatched = await this.dispatch(candidate, now, decision.attempt);
        } finally {
          this.dispatching--;
          this.waiting.undefer();
        }
        if (dispatched) {
          if (candidate.decided?.by === "fix-now" && baseDueMs(instruction, candidate.dueAtMs) > now.getTime()) {
            this.summary.fixNowHonoured++;
            deps.log.info("dispatched before its grace period ended: Fix now pressed in Slack", { instructionId: id });
          }
          await this.forgetPending(id);
        }
        return "done";
      }
    }
  }

  /** The gates' decision on a candidate now (its Slack decisions applied, once read). */
  private decideNow(candidate: Candidate, now: Date): { decision: Decision; attempts: number } {
    const { message, instruction, record } = candidate;
    return decide(
      {
        instruction,
        ...(candidate.dueAtMs === undefined ? {} : { dueAtMs: candidate.dueAtMs }),
        ...(candidate.decided === undefined ? {} : { decidedDueMs: candidate.decided.dueMs }),
        messageId: message.MessageId,
        record,
        prior: this.outcomes.get(instruction.id),
        budget: this.budget,
      },
      now,
      this.config,
    );
  }

  /**
   * Whether the candidate's Slack decisions are read before it is decided: only with buttons, once its grace notice
   * was sent (before that no button exists), and only when the decision would reach the grace gate (a copy or an
   * instruction in flight is settled by the gates before it, whatever was pressed).
   */
  private readsDecisions(candidate: Candidate): boolean {
    if (!this.config.interactive || !candidate.record.graceNotified) return false;
    const { gate } = this.decideNow(candidate, this.deps.now()).decision;
    return gate === "grace" || gate === "attempts" || gate === "rate-limit" || gate === "dispatch";
  }

  /**
   * The candidate's due time with its Slack decisions. Unreadable decisions leave the grace period's due time (never
   * an early fix); each decision not honoured is logged and counted.
   */
  private async decidedDue(candidate: Candidate): Promise<DecidedDue> {
    const { instruction, record } = candidate;
    const interactive = this.config.interactive!;
    const base = baseDueMs(instruction, candidate.dueAtMs);
    try {
      const { decisions, ignored } = await decisionsToHonour(
        this.deps.s3!,
        interactive,
        instruction,
        record,
        this.deadline,
      );
      for (const { key, reason } of ignored) {
        this.summary.decisionsIgnored++;
        this.deps.log.warn("Slack decision not honoured", { instructionId: instruction.id, key, reason });
      }
      return dueWithDecisions(base, decisions, interactive.snoozeMinutes);
    } catch (error) {
      this.deps.log.warn("could not read the Slack decisions: keeping the grace period's due time", {
        instructionId: instruction.id,
        ...errorFields(error),
      });
      return { dueMs: base, unread: true };
    }
  }

  /** Whether an instruction may have a pending record: buttons on, and its grace notice sent. */
  private mayHavePending(instructionId: string): boolean {
    return this.config.interactive !== undefined && this.state.instructions[instructionId]?.graceNotified === true;
  }

  /**
   * Leaves the pending record of a message just hidden in its grace period (overwriting an older receive's), so a
   * Fix now can make it visible at once. Best effort: without it a Fix now waits for the message's next look.
   */
  private async leavePending(candidate: Candidate, now: Date, dueMs: number, hiddenSeconds: number): Promise<void> {
    const { message, instruction } = candidate;
    const fields = { instructionId: instruction.id };
    try {
      if (!message.MessageId || !message.ReceiptHandle) throw new Error("the receive gave no message id or receipt");
      const record = pendingRecord(
        instruction,
        { messageId: message.MessageId, receiptHandle: message.ReceiptHandle },
        {
          dueMs,
          hiddenUntilMs: now.getTime() + hiddenSeconds * 1000,
          now,
          decisionsFrom: decisionsFrom(candidate.record, instruction.capturedAt),
        },
      );
      await untilAborted(writePending(this.deps.s3!, this.config.interactive!.bucket, record), this.deadline);
    } catch (error) {
      this.summary.pendingRecordFailures++;
      this.deps.log.warn("could not write the pending record: a Fix now waits for the message's next look", {
        ...fields,
        ...errorFields(error),
      });
    }
  }

  /** Deletes the pending record of a message dispatched or removed, if it may have one. Best effort, logged. */
  private async forgetPending(instructionId: string): Promise<void> {
    if (!this.mayHavePending(instructionId)) return;
    try {
      await deletePending(this.deps.s3!, this.config.interactive!.bucket, instructionId, this.deadline);
    } catch (error) {
      this.summary.pendingRecordFailures++;
      // A stale record's receipt no longer works: a press then only records the decision.
      this.deps.log.warn("could not delete the pending record", { instructionId, ...errorFields(error) });
    }
  }

  /** Sends the grace notice once per instruction, then hides the message as gates.ts says. */
  private async hideForGrace(candidate: Candidate, remainingMs: number, now: Date): Promise<void> {
    const { message, instruction, record } = candidate;
    // The account's grace period when it ends later than the instruction's own.
    const notBefore =
      candidate.dueAtMs !== undefined && candidate.dueAtMs > Date.parse(instruction.notBefore)
        ? new Date(candidate.dueAtMs).toISOString()
        : instruction.notBefore;
    if (!record.graceNotified) {
      const sent = await this.report({
        kind: "grace",
        instructionId: instruction.id,
        problem: instruction.problem,
        resource: resourceRef(instruction),
        ruleId: instruction.rule.id,
        notBefore,
        summary: instruction.annotation || `${instruction.problem} on ${instruction.resource.id}`,
      });
      if (sent) record.graceNotified = true;
    }
    const seconds = graceHideSeconds(remainingMs, record.graceNotified);
    await this.queue.hide(message, seconds);
    this.remember(instruction.id, "grace");
    this.summary.graceHidden++;
    this.deps.log.info("in grace period: hidden until due", {
      instructionId: instruction.id,
      notBefore,
      hiddenSeconds: seconds,
    });
    // Once told (only then can a button exist); at every later look too, as each receive has its own receipt.
    if (this.config.interactive && record.graceNotified) {
      await this.leavePending(candidate, now, now.getTime() + remainingMs, seconds);
    }
  }

  /** Invokes the remediation; true when it counts as dispatched (false: the Invoke failed, the message is retried). */
  private async dispatch(candidate: Candidate, now: Date, attempt: number): Promise<boolean> {
    const { message, instruction, record, functionName } = candidate;
    const { deps, config } = this;
    const request: RemediationRequest = {
      queueUrl: config.queueUrl,
      receiptHandle: message.ReceiptHandle ?? "",
      messageId: message.MessageId ?? "",
      instruction,
      attempt,
      maxAttempts: config.maxAttempts,
      dispatchedAt: now.toISOString(),
    };
    try {
      await deps.lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: "Event",
          Payload: encodeRemediationRequest(request),
        }),
        this.deadline ? { abortSignal: this.deadline } : {},
      );
    } catch (error) {
      const abandoned = this.deadline?.aborted === true;
      if (abandoned || answerLost(error)) {
        // The event may have been queued: treat it as dispatched (the message stays hidden for the dispatch
        // visibility; if no remediation deletes it, it comes back as the next attempt). Re-dispatching now could
        // run two remediations at once. An Invoke abandoned at the time budget is the same unknown.
        deps.log.warn(
          abandoned
            ? "invoke abandoned at the time budget: counted as dispatched"
            : "invoke answer lost: counted as dispatched",
          { instructionId: instruction.id, functionName, ...errorFields(error) },
        );
        if (abandoned) this.summary.timeBudgetReached = true;
      } else {
        this.budget++;
        this.summary.invokeFailures++;
        this.remember(instruction.id, "held");
        deps.log.error("invoke failed: message will be retried, not counted as an attempt", {
          instructionId: instruction.id,
          functionName,
          retryInSeconds: config.invokeRetryDelaySeconds,
          ...errorFields(error),
        });
        await this.queue.hide(message, config.invokeRetryDelaySeconds);
        return false;
      }
    }
    record.attempts = attempt;
    record.lastDispatch = {
      at: request.dispatchedAt,
      messageId: request.messageId,
      capturedAt: instruction.capturedAt,
    };
    this.state.dispatches.push(request.dispatchedAt);
    this.remember(instruction.id, "dispatched");
    this.summary.dispatched++;
    deps.log.info("dispatched", {
      instructionId: instruction.id,
      problem: instruction.problem,
      resourceId: instruction.resource.id,
      functionName,
      attempt,
      messageId: request.messageId,
    });
    return true;
  }

  /** Dead-letters through queue-io.ts and reports it; a message the DLQ did not take is held (left on the queue). */
  private async deadLetter(message: Message, reason: string, instruction?: Instruction): Promise<boolean> {
    const instructionId = instruction?.id;
    const moved = await this.queue.deadLetter(message, { reason, ...(instructionId ? { instructionId } : {}) });
    if (!moved) {
      this.hold(message, instructionId);
      return false;
    }
    this.summary.deadLettered++;
    if (instructionId) await this.forgetPending(instructionId);
    await this.report({
      kind: "dead-lettered",
      reason: truncateReason(reason),
      messageId: message.MessageId ?? "",
      ...(instruction
        ? { instructionId: instruction.id, problem: instruction.problem, resource: resourceRef(instruction) }
        : {}),
    });
    return true;
  }

  private hold(message: Message, instructionId?: string): void {
    if (instructionId) this.remember(instructionId, "held");
    this.held.push({ message, ...(instructionId ? { instructionId } : {}) });
  }

  private remember(instructionId: string, outcome: Outcome): void {
    this.outcomes.set(instructionId, rememberOutcome(this.outcomes.get(instructionId), outcome));
  }

  private windows() {
    return {
      rateLimitMs: this.config.rateLimit.windowMinutes * 60_000,
      breakerMs: this.config.breaker.windowMinutes * 60_000,
    };
  }

  private async saveState(): Promise<void> {
    const { deps } = this;
    const windows = this.windows();
    const state = pruneState(this.state, deps.now(), windows);
    try {
      await deps.store.save(state, this.etag);
      return;
    } catch (error) {
      if (!(error instanceof CoordinatorStateConflictError)) {
        deps.metrics.count("StateSaveFailed");
        deps.log.error(
          "could not save coordinator state: attempts and notices of this tick are lost",
          errorFields(error),
        );
        return;
      }
      deps.metrics.count("StateConflicts");
      deps.log.warn(
        "coordinator state changed during this tick (overlapping coordinator): merging",
        errorFields(error),
      );
    }
    try {
      const theirs = await deps.store.load();
      await deps.store.save(pruneState(mergeStates(this.base, state, theirs.state), deps.now(), windows), theirs.etag);
    } catch (error) {
      deps.metrics.count("StateSaveFailed");
      deps.log.warn("could not save merged coordinator state: this tick's updates are lost", errorFields(error));
    }
  }

  private async report(body: ReportBody): Promise<boolean> {
    try {
      // Within the tick's time budget like every other call: a publish still hanging at the deadline is abandoned.
      await this.deps.reporter.report(body, this.deadline ? { abortSignal: this.deadline } : {});
      return true;
    } catch (error) {
      this.deps.log.error("could not send report", {
        kind: body.kind,
        ...("instructionId" in body && body.instructionId ? { instructionId: body.instructionId } : {}),
        ...errorFields(error),
      });
      return false;
    }
  }

  private finish(): CoordinatorSummary {
    const { summary, deps } = this;
    summary.sqsCalls = this.queue.calls;
    const counts: [string, number][] = [
      ["Received", summary.received],
      ["Dispatched", summary.dispatched],
      ["DuplicatesDeleted", summary.duplicatesDeleted],
      ["GraceHidden", summary.graceHidden],
      ["Deferred", summary.deferred],
      ["DeadLettered", summary.deadLettered],
      ["Released", summary.released],
      ["InvokeFailures", summary.invokeFailures],
      ["BreakerTripped", summary.breakerTripped ? 1 : 0],
      ["SkippedBySettings", summary.skippedBySettings],
      ["HeldForAccountPause", summary.heldForAccountPause],
      ["HeldForOrganization", summary.heldForOrganization],
      ["AccountBreakersTripped", summary.accountBreakersTripped],
      ["TimeBudgetReached", summary.timeBudgetReached ? 1 : 0],
      ["FixNowHonoured", summary.fixNowHonoured],
      ["SnoozeHonoured", summary.snoozeHonoured],
      ["DecisionsIgnored", summary.decisionsIgnored],
      ["PendingRecordFailures", summary.pendingRecordFailures],
      ["Paused", summary.paused ? 1 : 0],
      ["SqsCalls", summary.sqsCalls],
    ];
    for (const [name, value] of counts) deps.metrics.count(name, value);
    deps.log.info("coordinator tick finished", { ...summary });
    return { ...summary };
  }
}

function withoutFailSafe({ failSafe: _failSafe, ...state }: PauseReading): PauseState {
  return state;
}
