// Shared pieces for the coordinator tests and bench: instructions, a fake clock, a recording Lambda, an in-memory
// pause parameter behind a mocked SSM client, a recording reporter and default test settings. The fake clock is
// what the coordinator reads; the SQS server's own timers (visibility timeouts) run on vitest's fake timers in the
// tests that need them to end (test/helpers/local-sqs.ts), so no test sleeps for real.
import type { InvokeCommand } from "@aws-sdk/client-lambda";
import { DeleteMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import type { CoordinatorConfig, CoordinatorDeps, LambdaInvoker } from "../../functions/coordinator/core.ts";
import type { Problem } from "../../rules/types.ts";
import { type CoordinatorStateStore, memoryStateStore } from "../../shared/coordinator-state.ts";
import { parseRemediationRequest, type RemediationRequest } from "../../shared/dispatch.ts";
import { buildInstructions, type Instruction, serializeInstruction } from "../../shared/instruction.ts";
import type { Log, MetricSink } from "../../shared/logging.ts";
import type { PauseState } from "../../shared/pause.ts";
import { sendMessages } from "../../shared/queue.ts";
import type { ReportBody, Reporter } from "../../shared/report.ts";

export const T0 = new Date("2026-11-20T12:00:00.000Z");
export const PAUSE_PARAMETER = "/remedy/pause";
export const FUNCTIONS = {
  "sg-open-ingress": "remedy-remediate-sg",
  "s3-public-acl": "remedy-remediate-s3",
  "s3-public-policy": "remedy-remediate-s3",
} as const satisfies Record<Problem, string>;

/** A controllable clock; `now` is what the coordinator reads. */
export function fakeClock(start: Date = T0) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
    set(date: Date) {
      current = date.getTime();
    },
  };
}

export interface InstructionOptions {
  capturedAt?: Date;
  notBefore?: Date;
  problem?: Extract<Problem, "sg-open-ingress" | "s3-public-acl">;
  /** Same n ⇒ same resource ⇒ same instruction id. */
  port?: number;
}

/** A valid instruction for resource number `n`. Default: captured an hour before T0 (old), due at once. */
export function instruction(n: number, options: InstructionOptions = {}): Instruction {
  const capturedAt = options.capturedAt ?? new Date(T0.getTime() - 60 * 60_000);
  const notBefore = options.notBefore ?? capturedAt;
  const problem = options.problem ?? "sg-open-ingress";
  const hex = n.toString(16).padStart(17, "0");
  const isSg = problem === "sg-open-ingress";
  const [built] = buildInstructions(
    {
      resource: {
        type: isSg ? "AWS::EC2::SecurityGroup" : "AWS::S3::Bucket",
        id: isSg ? `sg-${hex}` : `bucket-${hex}`,
        accountId: "123456789012",
        region: "us-east-1",
      },
      rule: { id: problem, parameters: {} },
      capturedAt: capturedAt.toISOString(),
      detectedAt: capturedAt.toISOString(),
      notBefore: notBefore.toISOString(),
    },
    [
      isSg
        ? {
            problem,
            matched: {
              kind: "sg-rule",
              rule: {
                direction: "ingress",
                ipProtocol: "tcp",
                fromPort: options.port ?? 22,
                toPort: options.port ?? 22,
                cidrIpv4: "0.0.0.0/0",
              },
            },
            reason: `tcp ${options.port ?? 22} open to 0.0.0.0/0`,
          }
        : {
            problem,
            matched: {
              kind: "acl-grant",
              grant: {
                grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" },
                permission: "READ",
              },
            },
            reason: "READ granted to everyone",
          },
    ],
  );
  return built!;
}

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

export function recordingReporter(): Reporter & {
  reports: ReportBody[];
  of<K extends ReportBody["kind"]>(kind: K): Extract<ReportBody, { kind: K }>[];
} {
  const reports: ReportBody[] = [];
  return {
    reports,
    async report(body) {
      reports.push(body);
    },
    of: <K extends ReportBody["kind"]>(kind: K) =>
      reports.filter((report): report is Extract<ReportBody, { kind: K }> => report.kind === kind),
  };
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
    receiveWaitSeconds: 0,
    invokeRetryDelaySeconds: 30,
    ...overrides,
  };
}

export interface TestDepsInput {
  sqs: SQSClient;
  lambda: LambdaInvoker;
  ssm: SSMClient;
  config: CoordinatorConfig;
  now: () => Date;
  store?: CoordinatorStateStore;
  reporter?: Reporter;
  log?: Log;
  metrics?: MetricSink;
  remainingTimeMs?: () => number;
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
