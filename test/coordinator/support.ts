// Shared pieces for the coordinator tests and bench: instructions, a fake clock, a recording Lambda, an in-memory
// pause parameter behind a mocked SSM client, a recording reporter and default test settings. The fake clock is
// what the coordinator reads; the SQS server's own timers (visibility timeouts) run on vitest's fake timers in the
// tests that need them to end (test/helpers/local-sqs.ts), so no test sleeps for real.
import type { InvokeCommand } from "@aws-sdk/client-lambda";
import { DeleteMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { parseRemediationRequest, type RemediationRequest } from "../../contract/dispatch.ts";
import { type Instruction, serializeInstruction } from "../../contract/instruction.ts";
import type { Reporter } from "../../contract/report.ts";
import type { MatchedEntry, Problem } from "../../detection/types.ts";
import { CONCURRENCY } from "../../functions/coordinator/settings.ts";
import { type CoordinatorStateStore, memoryStateStore } from "../../functions/coordinator/state.ts";
import type { CoordinatorConfig, CoordinatorDeps, LambdaInvoker } from "../../functions/coordinator/tick.ts";
import type { Log, MetricSink } from "../../platform/logging.ts";
import type { OrganizationDirectory } from "../../platform/organization.ts";
import type { PauseState } from "../../platform/pause.ts";
import { sendMessages } from "../../platform/queue.ts";
import { byProblem } from "../../problems/index.ts";
import { testInstruction, testResourceId } from "../support/instructions.ts";
import { fakeClock as kitClock, recordingReporter } from "../support/kit.ts";

export { recordingReporter } from "../support/kit.ts";

export const T0 = new Date("2026-11-20T12:00:00.000Z");
export const PAUSE_PARAMETER = "/remedy/pause";
/** Each problem's remediation function, as the stack routes it (from the registry, so every problem is routed). */
export const FUNCTIONS: Readonly<Record<Problem, string>> = byProblem((spec) => `remedy-${spec.remediation}`);

/** A controllable clock (test/support/kit.ts); `now` is what the coordinator reads. */
export function fakeClock(start: Date = T0) {
  return kitClock(start);
}

export interface InstructionOptions {
  capturedAt?: Date;
  notBefore?: Date;
  problem?: Extract<Problem, "sg-open-ingress" | "s3-public-acl">;
  /** Same n ⇒ same resource ⇒ same instruction id. */
  port?: number;
  /** Where the resource is (organisation mode); default the test account and region. */
  accountId?: string;
  region?: string;
}

/** A valid instruction for resource number `n`. Default: captured an hour before T0 (old), due at once. */
export function instruction(n: number, options: InstructionOptions = {}): Instruction {
  const capturedAt = options.capturedAt ?? new Date(T0.getTime() - 60 * 60_000);
  const problem = options.problem ?? "sg-open-ingress";
  const port = options.port ?? 22;
  const matched: MatchedEntry =
    problem === "sg-open-ingress"
      ? {
          kind: "sg-rule",
          rule: { direction: "ingress", ipProtocol: "tcp", fromPort: port, toPort: port, cidrIpv4: "0.0.0.0/0" },
        }
      : { kind: "acl-grant", grant: { grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" } };
  return testInstruction({
    problem,
    resourceId: testResourceId(problem, n),
    ...(options.accountId ? { accountId: options.accountId } : {}),
    ...(options.region ? { region: options.region } : {}),
    matched: [matched],
    capturedAt: capturedAt.toISOString(),
    notBefore: (options.notBefore ?? capturedAt).toISOString(),
    reason: () => (problem === "sg-open-ingress" ? `tcp ${port} open to 0.0.0.0/0` : "READ granted to everyone"),
  });
}

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

export async function enqueue(sqs: SQSClient, queueUrl: string, instructions: readonly Instruction[]): Promise<void> {
  await sendMessages(
    sqs,
    queueUrl,
    instructions.map((each) => ({ id: each.id, body: serializeInstruction(each) })),
  );
}

export async function enqueueRaw(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<void> {
  await sendMessages(
    sqs,
    queueUrl,
    bodies.map((body, index) => ({ id: `raw-${index}`, body })),
  );
}

export interface Invocation {
  functionName: string;
  invocationType: string;
  request: RemediationRequest;
}

export type Remediation = (request: RemediationRequest) => "succeed" | "fail" | "throw";

/**
 * A Lambda client that records every InvokeCommand and plays the remediation: "succeed" deletes the message with
 * the receipt handle it was given (as a real remediation does), "fail" leaves it, "throw" fails the Invoke itself.
 */
export function fakeLambda(sqs?: SQSClient, remediation: Remediation = () => "fail") {
  const invocations: Invocation[] = [];
  const lambda: LambdaInvoker & { invocations: Invocation[]; remediation: Remediation } = {
    invocations,
    remediation,
    async send(command: InvokeCommand) {
      const request = parseRemediationRequest(command.input.Payload);
      const outcome = lambda.remediation(request);
      if (outcome === "throw") {
        throw Object.assign(new Error("Rate exceeded"), { name: "TooManyRequestsException" });
      }
      invocations.push({
        functionName: command.input.FunctionName ?? "",
        invocationType: command.input.InvocationType ?? "",
        request,
      });
      if (outcome === "succeed" && sqs) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: request.queueUrl, ReceiptHandle: request.receiptHandle }));
      }
      return { StatusCode: 202 };
    },
  };
  return lambda;
}

/** The pause parameter in memory, behind a mocked SSMClient (every SSMClient in the process). */
export function fakePauseParameter(initial: PauseState | undefined = running()) {
  const mock = mockClient(SSMClient);
  let value: string | undefined = initial ? JSON.stringify(initial) : undefined;
  mock.on(GetParameterCommand).callsFake(() => {
    if (value === undefined) throw new ParameterNotFound({ message: "not found", $metadata: {} });
    return { Parameter: { Name: PAUSE_PARAMETER, Type: "String", Value: value } };
  });
  mock.on(PutParameterCommand).callsFake((input: { Value: string }) => {
    value = input.Value;
    return { Version: 2 };
  });
  return {
    mock,
    ssm: new SSMClient({ region: "us-east-1" }),
    state: (): PauseState | undefined => (value === undefined ? undefined : JSON.parse(value)),
    set(state: PauseState | undefined) {
      value = state === undefined ? undefined : JSON.stringify(state);
    },
    setRaw(text: string) {
      value = text;
    },
  };
}

export function running(at: Date = new Date(T0.getTime() - 24 * 60 * 60_000)): PauseState {
  return { paused: false, by: "infra", reason: "auto-response enabled", at: at.toISOString() };
}

export function pausedBy(by: string, at: Date = T0): PauseState {
  return { paused: true, by, reason: "auto-response off", at: at.toISOString() };
}

export function testConfig(
  local: { queueUrl: string; dlqUrl: string },
  overrides: Partial<CoordinatorConfig> = {},
): CoordinatorConfig {
  return {
    deployment: { accountId: "123456789012", region: "us-east-1" },
    queueUrl: local.queueUrl,
    deadLetterQueueUrl: local.dlqUrl,
    pauseParameter: PAUSE_PARAMETER,
    remediationFunctions: FUNCTIONS,
    dispatchVisibilitySeconds: 30,
    maxAttempts: 3,
    rateLimit: { count: 1_000, windowMinutes: 10 },
    breaker: { freshLimit: 1_000, windowMinutes: 10 },
    safetyMarginMs: 15_000,
    saveMarginMs: 5_000,
    receiveWaitSeconds: 0,
    invokeRetryDelaySeconds: 30,
    concurrency: { ...CONCURRENCY },
    ...overrides,
  };
}

export interface TestDepsInput {
  sqs: SQSClient;
  lambda: LambdaInvoker;
  ssm: SSMClient;
  config: CoordinatorConfig;
  now: () => Date;
  directory?: OrganizationDirectory;
  s3?: CoordinatorDeps["s3"];
  store?: CoordinatorStateStore;
  reporter?: Reporter;
  log?: Log;
  metrics?: MetricSink;
  remainingTimeMs?: () => number;
  abortSignal?: AbortSignal;
}

export function testDeps(input: TestDepsInput): CoordinatorDeps {
  return {
    store: memoryStateStore(),
    reporter: recordingReporter(),
    log: { debug() {}, info() {}, warn() {}, error() {} },
    metrics: { count() {} },
    remainingTimeMs: () => 60_000,
    ...input,
  };
}
