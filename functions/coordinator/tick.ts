// One coordinator tick (every 60 s, while auto-response is on): read the pause switch and the state, drain the
// remediation queue within the invocation's time budget, ask gates.ts what to do with each message and do it
// (queue-io.ts for SQS, a Lambda Invoke to dispatch, breaker.ts to trip), release what was only looked at, save the
// state, return the summary. The rules live in gates.ts so they stay pure; this module only acts on their decisions
// and keeps the tick's bookkeeping (what happened to each id, what to release, the rate budget left).
import { InvokeCommand } from "@aws-sdk/client-lambda";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { truncateReason } from "../../contract/dead-letter.ts";
import { encodeRemediationRequest, type RemediationRequest } from "../../contract/dispatch.ts";
import type { Instruction } from "../../contract/instruction.ts";
import type { ReportBody, Reporter } from "../../contract/report.ts";
import type { Problem } from "../../detection/types.ts";
import { answerLost } from "../../platform/aws-errors.ts";
import type { Deployment } from "../../platform/deployment.ts";
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import { readPauseState } from "../../platform/pause.ts";
import { tripBreaker } from "./breaker.ts";
import {
  breakerGate,
  decide,
  firstSighting,
  graceHideSeconds,
  lookAhead,
  nextReceive,
  type Outcome,
  parseGate,
  pauseGate,
  rateBudget,
  rememberOutcome,
  validityGate,
} from "./gates.ts";
import { CoordinatorQueue, type QueuedMessage } from "./queue-io.ts";
import {
  type CoordinatorState,
  CoordinatorStateConflictError,
  type CoordinatorStateStore,
  type InstructionRecord,
  mergeStates,
  pruneState,
} from "./state.ts";

export interface CoordinatorConfig {
  /** The only account and region instructions may name (an instruction is a claim; see platform/deployment.ts). */
  deployment: Pick<Deployment, "accountId" | "region">;
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
  /** Trips when MORE than freshLimit fresh instructions are first seen within windowMinutes. */
  breaker: { freshLimit: number; windowMinutes: number };
  /** Stop receiving when less than this much of the invocation's time is left. */
  safetyMarginMs: number;
  receiveWaitSeconds: number;
  /** Visibility given to a message whose Invoke call failed (not counted as an attempt). */
  invokeRetryDelaySeconds: number;
}

/** The part of a Lambda client the coordinator uses; tests pass a recorder. */
export interface LambdaInvoker {
  send(command: InvokeCommand): Promise<unknown>;
}

export interface CoordinatorDeps {
  sqs: SQSClient;
  lambda: LambdaInvoker;
  ssm: SSMClient;
  store: CoordinatorStateStore;
  reporter: Reporter;
  config: CoordinatorConfig;
  now: () => Date;
  /** The invocation's remaining time (Lambda's context.getRemainingTimeInMillis). */
  remainingTimeMs: () => number;
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
  sqsCalls: number;
}

/** A valid message, its instruction, what is remembered about it and the function that remediates it. */
interface Candidate {
  message: Message;
  instruction: Instruction;
  record: InstructionRecord;
  functionName: string;
}

function resourceRef(instruction: Instruction) {
  const { type, id, arn, accountId, region } = instruction.resource;
  return { type, id, ...(arn ? { arn } : {}), accountId, region };
}

/** One coordinator invocation. */
export async function runCoordinator(deps: CoordinatorDeps): Promise<CoordinatorSummary> {
  return new Tick(deps).run();
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
    sqsCalls: 0,
  };
  private readonly queue: CoordinatorQueue;
  private state!: CoordinatorState;
  /** The state as loaded (pruned), for a three-way merge if another coordinator saves first. */
  private base!: CoordinatorState;
  private etag: string | undefined;
  private resumedAtMs: number | undefined;
  /** Dispatches the rate window still allows. */
  private budget = 0;
  /** What happened to each instruction id this tick: later copies follow the first one. */
  private readonly outcomes = new Map<string, Outcome>();
  /** Messages to make visible again before the tick ends. */
  private readonly held: QueuedMessage[] = [];
  /** Due messages held only because the rate budget is spent. */
  private overBudget = 0;
  private readonly config: CoordinatorConfig;

  constructor(private readonly deps: CoordinatorDeps) {
    this.config = deps.config;
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

    const loaded = await deps.store.load();
    if (loaded.problem) {
      deps.log.error("coordinator state unreadable: starting from empty state", { problem: loaded.problem });
    }
    this.etag = loaded.etag;
    const now = deps.now();
    this.state = pruneState(loaded.state, now, this.windows());
    this.base = structuredClone(this.state);
    this.budget = rateBudget(this.state.dispatches, now, config.rateLimit);

    try {
      await this.drain();
    } finally {
      this.summary.released += await this.queue.release(this.held.splice(0));
      await this.saveState();
    }
    return this.finish();
  }

  private async drain(): Promise<void> {
    const { deps, config } = this;
    const lookAheadCount = lookAhead(config.breaker);
    // Look before acting (gates.ts lookAhead): the first batches of a tick are all read and counted by the breaker
    // before anything is dispatched.
    let looking = true;
    const seen: Candidate[] = [];
    while (true) {
      const remainingMs = deps.remainingTimeMs();
      const step = nextReceive({ remainingMs, budget: this.budget, overBudget: this.overBudget }, config);
      if (!step.receive) {
        if (step.stop === "time-budget") {
          deps.log.info("stopping: time budget nearly spent", { remainingMs });
        } else {
          deps.log.info("stopping: rate limit reached", {
            limit: config.rateLimit.count,
            windowMinutes: config.rateLimit.windowMinutes,
          });
        }
        break;
      }
      const messages = await this.queue.receive(step.visibilitySeconds);
      if (messages.length === 0) break;
      this.summary.received += messages.length;

      for (const message of messages) {
        const candidate = await this.validate(message);
        if (candidate) seen.push(candidate);
      }
      const breaker = breakerGate(this.state.freshSightings, deps.now(), config.breaker, this.resumedAtMs);
      if (breaker.trips) {
        for (const candidate of seen) this.hold(candidate.message, candidate.instruction.id);
        this.summary.breakerTripped = true;
        await tripBreaker(breaker.counted, {
          ssm: deps.ssm,
          pauseParameter: config.pauseParameter,
          breaker: config.breaker,
          now: () => deps.now(),
          log: deps.log,
          report: (body) => this.report(body),
        });
        return;
      }
      if (looking && seen.length < lookAheadCount) continue;
      looking = false;
      await this.act(seen.splice(0));
    }
    await this.act(seen.splice(0));
  }

  /** Parses and checks a message and records its sighting. Invalid and refused ones go to the DLQ at once. */
  private async validate(message: Message): Promise<Candidate | undefined> {
    const parsed = parseGate(message.Body ?? "");
    if (!parsed.valid) {
      await this.deadLetter(message, parsed.reason);
      return undefined;
    }
    const { instruction } = parsed;
    // A capture from the future would also skew the breaker's and the attempt counter's notion of "new".
    const now = this.deps.now();
    const validity = validityGate(instruction, this.config, now);
    if (!validity.valid) {
      await this.deadLetter(message, validity.reason, instruction);
      return undefined;
    }
    let record = this.state.instructions[instruction.id];
    if (!record) {
      const sighting = firstSighting(instruction, now, this.config.breaker.windowMinutes);
      record = sighting.record;
      this.state.instructions[instruction.id] = record;
      if (sighting.fresh) this.state.freshSightings.push(sighting.fresh);
    }
    record.lastSeenAt = now.toISOString();
    return { message, instruction, record, functionName: validity.functionName };
  }

  /** Carries out the gates' decision for each candidate; the duplicates among them are deleted together. */
  private async act(candidates: readonly Candidate[]): Promise<void> {
    const duplicates: QueuedMessage[] = [];
    for (const candidate of candidates) {
      try {
        const duplicate = await this.carryOut(candidate);
        if (duplicate) duplicates.push({ message: candidate.message, instructionId: candidate.instruction.id });
      } catch (error) {
        // The message comes back when its visibility ends; the rest of the batch goes on.
        this.deps.log.error("could not handle instruction", {
          instructionId: candidate.instruction.id,
          ...errorFields(error),
        });
      }
    }
    this.summary.duplicatesDeleted += await this.queue.deleteDuplicates(duplicates);
  }

  /** Asks gates.ts what to do with one valid message and does it. True when it is a duplicate to delete. */
  private async carryOut(candidate: Candidate): Promise<boolean> {
    const { message, instruction, record } = candidate;
    const { deps, config } = this;
    const id = instruction.id;
    const now = deps.now();
    const { decision, attempts } = decide(
      { instruction, messageId: message.MessageId, record, prior: this.outcomes.get(id), budget: this.budget },
      now,
      config,
    );
    record.attempts = attempts;
    switch (decision.gate) {
      case "held-before":
        this.hold(message, id);
        return false;
      case "duplicate":
        this.remember(id, "duplicate");
        return true;
      case "in-flight":
        await this.queue.hide(message, decision.hideSeconds);
        this.remember(id, "deferred");
        this.summary.deferred++;
        deps.log.info("newer capture of an instruction in flight: deferred", {
          instructionId: id,
          seconds: decision.hideSeconds,
        });
        return false;
      case "grace":
        await this.hideForGrace(candidate, decision.remainingMs);
        return false;
      case "attempts":
        if (await this.deadLetter(message, decision.reason, instruction)) {
          // A redrive from the DLQ (or a re-detection) gets a fresh set of attempts.
          record.attempts = 0;
          delete record.lastDispatch;
          this.remember(id, "dead-lettered");
        } else {
          this.remember(id, "held");
        }
        return false;
      case "rate-limit":
        this.overBudget++;
        this.hold(message, id);
        return false;
      case "dispatch":
        await this.dispatch(candidate, now, decision.attempt);
        return false;
    }
  }

  /** Sends the grace notice once per instruction, then hides the message as gates.ts says. */
  private async hideForGrace(candidate: Candidate, remainingMs: number): Promise<void> {
    const { message, instruction, record } = candidate;
    if (!record.graceNotified) {
      const sent = await this.report({
        kind: "grace",
        instructionId: instruction.id,
        problem: instruction.problem,
        resource: resourceRef(instruction),
        ruleId: instruction.rule.id,
        notBefore: instruction.notBefore,
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
      notBefore: instruction.notBefore,
      hiddenSeconds: seconds,
    });
  }

  private async dispatch(candidate: Candidate, now: Date, attempt: number): Promise<void> {
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
      );
    } catch (error) {
      if (answerLost(error)) {
        // The event may have been queued: treat it as dispatched (the message stays hidden for the dispatch
        // visibility; if no remediation deletes it, it comes back as the next attempt). Re-dispatching now could
        // run two remediations at once.
        deps.log.warn("invoke answer lost: counted as dispatched", {
          instructionId: instruction.id,
          functionName,
          ...errorFields(error),
        });
      } else {
        this.summary.invokeFailures++;
        this.remember(instruction.id, "held");
        deps.log.error("invoke failed: message will be retried, not counted as an attempt", {
          instructionId: instruction.id,
          functionName,
          retryInSeconds: config.invokeRetryDelaySeconds,
          ...errorFields(error),
        });
        await this.queue.hide(message, config.invokeRetryDelaySeconds);
        return;
      }
    }
    record.attempts = attempt;
    record.lastDispatch = {
      at: request.dispatchedAt,
      messageId: request.messageId,
      capturedAt: instruction.capturedAt,
    };
    this.state.dispatches.push(request.dispatchedAt);
    this.budget--;
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
      await this.deps.reporter.report(body);
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
      ["Paused", summary.paused ? 1 : 0],
      ["SqsCalls", summary.sqsCalls],
    ];
    for (const [name, value] of counts) deps.metrics.count(name, value);
    deps.log.info("coordinator tick finished", { ...summary });
    return { ...summary };
  }
}
