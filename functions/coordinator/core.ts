// The coordinator: every 60 s, while auto-response is on, drain the remediation queue within the tick's time budget
// and dispatch each due instruction once to its remediation function. Order of gates: pause switch, validation
// (dead-letter at once), duplicates, grace period, real-attempt limit, circuit breaker, rate limit: decided by the
// pure gates in gates.ts; this module does the SQS, Lambda, SSM and state I/O each decision names.
import { InvokeCommand } from "@aws-sdk/client-lambda";
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SSMClient } from "@aws-sdk/client-ssm";
import type { Problem } from "../../rules/types.ts";
import { answerLost } from "../../shared/aws-errors.ts";
import {
  type CoordinatorState,
  CoordinatorStateConflictError,
  type CoordinatorStateStore,
  type InstructionRecord,
  mergeStates,
  pruneState,
} from "../../shared/coordinator-state.ts";
import { deadLetterInput, truncateReason } from "../../shared/dead-letter.ts";
import type { Deployment } from "../../shared/deployment.ts";
import { encodeRemediationRequest, type RemediationRequest } from "../../shared/dispatch.ts";
import { type Instruction, InvalidInstructionError, parseInstruction } from "../../shared/instruction.ts";
import { errorFields, type Log, type MetricSink } from "../../shared/logging.ts";
import { readPauseState, setPaused } from "../../shared/pause.ts";
import type { ReportBody, Reporter } from "../../shared/report.ts";
import {
  breakerTrips,
  countedSightings,
  decide,
  firstSighting,
  type Outcome,
  pauseGate,
  SQS_MAX_VISIBILITY_SECONDS,
  validityGate,
} from "./gates.ts";

export {
  DLQ_INSTRUCTION_ATTRIBUTE,
  DLQ_REASON_ATTRIBUTE,
  DLQ_SOURCE_MESSAGE_ATTRIBUTE,
} from "../../shared/dead-letter.ts";
export { SQS_MAX_VISIBILITY_SECONDS } from "./gates.ts";
export const BREAKER_SAMPLE_SIZE = 10;
export const RESUME_COMMAND = "remedy resume";
/** Visibility of messages received only to look (rate budget spent): they are all released before the tick ends. */
const LOOK_VISIBILITY_SECONDS = 60;
const SQS_BATCH = 10;

export interface CoordinatorConfig {
  /** The only account and region instructions may name (an instruction is a claim; see shared/deployment.ts). */
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
  private state!: CoordinatorState;
  /** The state as loaded (pruned), for a three-way merge if another coordinator saves first. */
  private base!: CoordinatorState;
  private etag: string | undefined;
  private resumedAtMs: number | undefined;
  private budget = 0;
  /** What happened to each instruction id this tick: later copies follow the first one. */
  private readonly outcomes = new Map<string, Outcome>();
  /** Messages to make visible again before the tick ends. */
  private readonly held: { message: Message; instructionId?: string }[] = [];
  /** Due messages held only because the rate budget is spent. */
  private overBudget = 0;
  private readonly config: CoordinatorConfig;

  constructor(private readonly deps: CoordinatorDeps) {
    this.config = deps.config;
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
    this.state = pruneState(loaded.state, deps.now(), {
      rateLimitMs: config.rateLimit.windowMinutes * 60_000,
      breakerMs: config.breaker.windowMinutes * 60_000,
    });
    this.base = structuredClone(this.state);
    this.budget = config.rateLimit.count - this.state.dispatches.length;

    try {
      await this.drain();
    } finally {
      await this.releaseHeld();
      await this.saveState();
    }
    return this.finish();
  }

  private async drain(): Promise<void> {
    const { deps, config } = this;
    // Past the rate budget the tick keeps looking (holding, then releasing) at up to this many due messages, so a
    // burst of fresh instructions still reaches the breaker while the rate limit spreads the work over ticks.
    const lookAhead = config.breaker.freshLimit + 1;
    // Look before acting: the first batches of a tick are all read and counted before anything is dispatched, so a
    // burst that arrived at once trips the breaker before any of it is remediated.
    let looking = true;
    const seen: Candidate[] = [];
    while (true) {
      if (deps.remainingTimeMs() < config.safetyMarginMs) {
        deps.log.info("stopping: time budget nearly spent", { remainingMs: deps.remainingTimeMs() });
        break;
      }
      if (this.budget <= 0 && this.overBudget >= lookAhead) {
        deps.log.info("stopping: rate limit reached", {
          limit: config.rateLimit.count,
          windowMinutes: config.rateLimit.windowMinutes,
        });
        break;
      }
      const visibility =
        this.budget > 0
          ? config.dispatchVisibilitySeconds
          : Math.min(config.dispatchVisibilitySeconds, LOOK_VISIBILITY_SECONDS);
      const messages = await this.receive(visibility);
      if (messages.length === 0) break;
      this.summary.received += messages.length;

      for (const message of messages) {
        const candidate = await this.validate(message);
        if (candidate) seen.push(candidate);
      }
      if (this.breakerTrips()) {
        for (const candidate of seen) this.hold(candidate.message, candidate.instruction.id);
        await this.tripBreaker();
        return;
      }
      if (looking && seen.length < lookAhead) continue;
      looking = false;
      await this.act(seen.splice(0));
    }
    if (!this.summary.breakerTripped) await this.act(seen.splice(0));
  }

  /** Dispatches, hides or dead-letters each candidate; duplicates within the tick are deleted. */
  private async act(candidates: readonly Candidate[]): Promise<void> {
    const duplicates: Candidate[] = [];
    for (const candidate of candidates) {
      try {
        const duplicate = await this.decide(candidate);
        if (duplicate) duplicates.push(candidate);
      } catch (error) {
        // The message comes back when its visibility ends; the rest of the batch goes on.
        this.deps.log.error("could not handle instruction", {
          instructionId: candidate.instruction.id,
          ...errorFields(error),
        });
      }
    }
    await this.deleteDuplicates(duplicates);
  }

  /** Parses, checks the registry, records the sighting. Invalid and unknown ones go to the DLQ at once. */
  private async validate(message: Message): Promise<Candidate | undefined> {
    let instruction: Instruction;
    try {
      instruction = parseInstruction(message.Body ?? "");
    } catch (error) {
      // parseInstruction turns every failure into InvalidInstructionError; anything else is still this one
      // message's problem, never the batch's.
      const reason = error instanceof InvalidInstructionError ? error.message : String(error);
      await this.deadLetter(message, `invalid instruction: ${reason}`);
      return undefined;
    }
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

  /** Acts on the gates' decision for one valid message. Returns true when it is a duplicate to delete. */
  private async decide(candidate: Candidate): Promise<boolean> {
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
        if (!this.outcomes.has(id)) this.outcomes.set(id, "duplicate");
        return true;
      case "in-flight":
        await this.changeVisibility(message, decision.hideSeconds);
        this.outcomes.set(id, "deferred");
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
          this.outcomes.set(id, "dead-lettered");
        } else {
          this.outcomes.set(id, "held");
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

  private async hideForGrace(candidate: Candidate, remainingMs: number): Promise<void> {
    const { message, instruction, record } = candidate;
    let seconds = Math.min(Math.ceil(remainingMs / 1000), SQS_MAX_VISIBILITY_SECONDS);
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
      // Not told: look again next tick rather than at the end of the grace period.
      else seconds = Math.min(seconds, 60);
    }
    await this.changeVisibility(message, seconds);
    this.outcomes.set(instruction.id, "grace");
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
        this.outcomes.set(instruction.id, "held");
        deps.log.error("invoke failed: message will be retried, not counted as an attempt", {
          instructionId: instruction.id,
          functionName,
          retryInSeconds: config.invokeRetryDelaySeconds,
          ...errorFields(error),
        });
        await this.changeVisibility(message, config.invokeRetryDelaySeconds);
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
    this.outcomes.set(instruction.id, "dispatched");
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

  private freshSightings() {
    return countedSightings(
      this.state.freshSightings,
      this.deps.now(),
      this.config.breaker.windowMinutes,
      this.resumedAtMs,
    );
  }

  private breakerTrips(): boolean {
    return breakerTrips(this.freshSightings(), this.config.breaker.freshLimit);
  }

  private async tripBreaker(): Promise<void> {
    const { deps, config } = this;
    const sightings = this.freshSightings();
    const { freshLimit: limit, windowMinutes } = config.breaker;
    const sample = sightings.slice(0, BREAKER_SAMPLE_SIZE).map((sighting) => sighting.label);
    const reason = `circuit breaker: ${sightings.length} fresh instructions within ${windowMinutes} minutes (limit ${limit})`;
    this.summary.breakerTripped = true;
    deps.log.error("circuit breaker tripped: pausing auto-response", {
      freshInstructions: sightings.length,
      limit,
      windowMinutes,
      sample,
    });
    try {
      await setPaused(deps.ssm, config.pauseParameter, { by: "circuit-breaker", reason, now: deps.now() });
    } catch (error) {
      // Next tick sees the same sightings and trips again.
      deps.log.error("could not set the pause switch", { parameter: config.pauseParameter, ...errorFields(error) });
    }
    await this.report({
      kind: "breaker-tripped",
      freshInstructions: sightings.length,
      limit,
      windowMinutes,
      sample,
      resumeCommand: RESUME_COMMAND,
    });
  }

  /** Moves a message to the DLQ with its reason: send first, delete only after the send succeeded. */
  private async deadLetter(message: Message, reason: string, instruction?: Instruction): Promise<boolean> {
    const { deps, config } = this;
    const messageId = message.MessageId ?? "";
    const instructionId = instruction?.id;
    try {
      await this.sqsCall((sqs) =>
        sqs.send(
          new SendMessageCommand(
            deadLetterInput(config.deadLetterQueueUrl, message.Body || "(empty body)", {
              reason,
              sourceMessageId: messageId,
              ...(instructionId ? { instructionId } : {}),
            }),
          ),
        ),
      );
    } catch (error) {
      deps.log.error("could not dead-letter message: left on the queue", {
        messageId,
        ...(instructionId ? { instructionId } : {}),
        reason,
        ...errorFields(error),
      });
      this.hold(message, instructionId);
      return false;
    }
    try {
      await this.sqsCall((sqs) =>
        sqs.send(new DeleteMessageCommand({ QueueUrl: config.queueUrl, ReceiptHandle: message.ReceiptHandle })),
      );
    } catch (error) {
      deps.log.error("dead-lettered but not deleted: it will be dead-lettered again", {
        messageId,
        ...(instructionId ? { instructionId } : {}),
        ...errorFields(error),
      });
    }
    this.summary.deadLettered++;
    deps.log.warn("dead-lettered", { messageId, ...(instructionId ? { instructionId } : {}), reason });
    await this.report({
      kind: "dead-lettered",
      reason: truncateReason(reason),
      messageId,
      ...(instruction
        ? { instructionId: instruction.id, problem: instruction.problem, resource: resourceRef(instruction) }
        : {}),
    });
    return true;
  }

  private hold(message: Message, instructionId?: string): void {
    if (instructionId && !this.outcomes.has(instructionId)) this.outcomes.set(instructionId, "held");
    this.held.push({ message, ...(instructionId ? { instructionId } : {}) });
  }

  private async deleteDuplicates(duplicates: readonly Candidate[]): Promise<void> {
    for (let start = 0; start < duplicates.length; start += SQS_BATCH) {
      const batch = duplicates.slice(start, start + SQS_BATCH);
      try {
        const output = await this.sqsCall((sqs) =>
          sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: this.config.queueUrl,
              Entries: batch.map((candidate, index) => ({
                Id: String(index),
                ReceiptHandle: candidate.message.ReceiptHandle,
              })),
            }),
          ),
        );
        for (const failure of output.Failed ?? []) {
          const candidate = batch[Number(failure.Id)];
          this.deps.log.warn("duplicate not deleted: it will be seen again", {
            instructionId: candidate?.instruction.id,
            code: failure.Code,
          });
        }
        for (const entry of output.Successful ?? []) {
          const candidate = batch[Number(entry.Id)];
          if (!candidate) continue;
          this.summary.duplicatesDeleted++;
          this.deps.log.info("duplicate deleted", {
            instructionId: candidate.instruction.id,
            messageId: candidate.message.MessageId,
          });
        }
      } catch (error) {
        this.deps.log.error("could not delete duplicates: they will be seen again", {
          instructionIds: batch.map((candidate) => candidate.instruction.id),
          ...errorFields(error),
        });
      }
    }
  }

  /** Makes every held message visible again (visibility 0). */
  private async releaseHeld(): Promise<void> {
    for (let start = 0; start < this.held.length; start += SQS_BATCH) {
      const batch = this.held.slice(start, start + SQS_BATCH);
      try {
        const output = await this.sqsCall((sqs) =>
          sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: this.config.queueUrl,
              Entries: batch.map((entry, index) => ({
                Id: String(index),
                ReceiptHandle: entry.message.ReceiptHandle,
                VisibilityTimeout: 0,
              })),
            }),
          ),
        );
        this.summary.released += output.Successful?.length ?? 0;
        for (const failure of output.Failed ?? []) {
          this.deps.log.warn("could not release message: it reappears when its visibility ends", {
            instructionId: batch[Number(failure.Id)]?.instructionId,
            code: failure.Code,
          });
        }
      } catch (error) {
        this.deps.log.error("could not release messages: they reappear when their visibility ends", {
          instructionIds: batch.map((entry) => entry.instructionId),
          ...errorFields(error),
        });
      }
    }
    this.held.length = 0;
  }

  private async saveState(): Promise<void> {
    const { deps, config } = this;
    const windows = {
      rateLimitMs: config.rateLimit.windowMinutes * 60_000,
      breakerMs: config.breaker.windowMinutes * 60_000,
    };
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

  private async receive(visibilitySeconds: number): Promise<Message[]> {
    const output = await this.sqsCall((sqs) =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.config.queueUrl,
          MaxNumberOfMessages: SQS_BATCH,
          WaitTimeSeconds: this.config.receiveWaitSeconds,
          VisibilityTimeout: visibilitySeconds,
          MessageSystemAttributeNames: ["All"],
          // The older name, for SQS implementations that predate MessageSystemAttributeNames.
          AttributeNames: ["All"],
        }),
      ),
    );
    return output.Messages ?? [];
  }

  private async changeVisibility(message: Message, seconds: number): Promise<void> {
    await this.sqsCall((sqs) =>
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.config.queueUrl,
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: seconds,
        }),
      ),
    );
  }

  /** Every SQS call goes through here, so the summary can say how many were made. */
  private sqsCall<T>(call: (sqs: SQSClient) => Promise<T>): Promise<T> {
    this.summary.sqsCalls++;
    return call(this.deps.sqs);
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
