// The fault suite's scenario on the one AWS world (test/support/aws-world.ts): the live group and bucket of
// test/remediation/support.ts, the deployment a remediation function runs in (its queue and DLQ, the report topic,
// the pause switch: running, no account Block Public Access), the fault kinds injected, and what each call of a
// remediation is for (its role), which the fault table is built on.
import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { SSMClient } from "@aws-sdk/client-ssm";
import { type LedgerRecord, s3Ledger } from "../../contract/ledger.ts";
import { type Report, snsReporter } from "../../contract/report.ts";
import { accountFactsReader } from "../../detection/account-facts.ts";
import { readPauseState } from "../../platform/pause.ts";
import {
  ACCOUNT,
  awsError,
  BUCKET,
  DLQ_URL,
  deployedDeps,
  GRANTS,
  GROUP_ID,
  OWNER,
  QUEUE_URL,
  RUNNING,
  SG_RULES,
  T0,
} from "../remediation/support.ts";
import { type AwsCall, type AwsWorld, createAwsWorld, type InjectedFault } from "../support/aws-world.ts";

export const LEDGER_BUCKET = "remedy-ledger-123456789012";
export const TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:remedy-reports";
export const PAUSE_PARAMETER = "/remedy/paused";
export const REGION_CONFIG = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };

// ---------------------------------------------------------------------------------------------------------------
// Faults

export interface Fault extends InjectedFault {
  /** Label for test names. */
  name: string;
  /** What the runner must make of it (platform/aws-errors.ts). */
  expected: "transient" | "permanent";
  /** The server applied the request, then the response was lost (a client-side timeout after sending). */
  applied: boolean;
}

function networkError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Every fault kind injected at every call position (deterministic: no randomness anywhere). */
export const FAULTS: readonly Fault[] = [
  {
    name: "ThrottlingException",
    expected: "transient",
    applied: false,
    make: () => awsError("ThrottlingException", 400),
  },
  { name: "SlowDown", expected: "transient", applied: false, make: () => awsError("SlowDown", 503) },
  {
    name: "503 ServiceUnavailable",
    expected: "transient",
    applied: false,
    make: () => awsError("ServiceUnavailable", 503),
  },
  { name: "500 InternalError", expected: "transient", applied: false, make: () => awsError("InternalError", 500) },
  {
    // The SDK's request timeout: the request reached the service and took effect; only the answer was lost.
    name: "TimeoutError (applied, response lost)",
    expected: "transient",
    applied: true,
    make: () => Object.assign(new Error("Connection timed out after 3000 ms"), { name: "TimeoutError" }),
  },
  {
    name: "ECONNRESET",
    expected: "transient",
    applied: false,
    make: () => networkError("ECONNRESET", "socket hang up"),
  },
  { name: "AccessDenied", expected: "permanent", applied: false, make: () => awsError("AccessDenied", 403) },
  {
    name: "UnauthorizedOperation",
    expected: "permanent",
    applied: false,
    make: () => awsError("UnauthorizedOperation", 403),
  },
];

// ---------------------------------------------------------------------------------------------------------------
// What each call is for

export type Role =
  | "claim"
  | "read"
  | "facts"
  | "pause"
  | "ledger-pending"
  | "change"
  | "ledger-fixed"
  | "delete"
  | "publish"
  | "other";

/** A call of a remediation run, with what it is for. */
export interface Call extends AwsCall {
  /** e.g. "ledger pending", "dlq", "report fixed". */
  detail: string;
  role: Role;
}

function describeCall({ service, command, input, change }: AwsCall): Pick<Call, "detail" | "role"> {
  if (service === "S3" && command === "PutObject" && String(input.Key).startsWith("claims/")) {
    return { detail: "claim", role: "claim" };
  }
  if (service === "S3" && command === "PutObject") {
    const outcome = (JSON.parse(String(input.Body)) as LedgerRecord).outcome;
    const role: Role = outcome === "pending" ? "ledger-pending" : outcome === "fixed" ? "ledger-fixed" : "other";
    return { detail: `ledger ${outcome}`, role };
  }
  if (change) return { detail: "change", role: "change" };
  if (service === "SQS") {
    if (input.QueueUrl === DLQ_URL) return { detail: "dlq", role: "other" };
    return { detail: "queue", role: command === "DeleteMessage" ? "delete" : "other" };
  }
  if (service === "SSM") return { detail: "pause switch", role: "pause" };
  if (service === "S3Control") return { detail: "account Block Public Access", role: "facts" };
  if (service === "SNS") {
    const kind = (JSON.parse(String(input.Message)) as Report).kind;
    return { detail: `report ${kind}`, role: kind === "fixed" ? "publish" : "other" };
  }
  return { detail: "read", role: "read" };
}

// ---------------------------------------------------------------------------------------------------------------
// The world

/** What was true at the moment a DeleteMessage for the remediation queue was sent. */
export interface DeleteCheck {
  run: number;
  actionId: string;
  record: LedgerRecord | undefined;
  confirmedChanges: number;
  changes: number;
  dlqSent: boolean;
}

export type FaultWorld = AwsWorld<Pick<Call, "detail" | "role">> & { deleteChecks: DeleteCheck[] };

export function actionIdFor(run: number): string {
  return `act-20261120T102819Z-${run.toString(16).padStart(8, "0")}`;
}

/** Messages the DLQ accepted. */
export const deadLetters = (world: FaultWorld) => world.queues.get(DLQ_URL)!.sent;
/** Receipt handles deleted from the remediation queue. */
export const deletedHandles = (world: FaultWorld) => world.queues.get(QUEUE_URL)!.deleted;
/** Rule ids that a RevokeSecurityGroupIngress actually removed. */
export const revokedIds = (world: FaultWorld) =>
  world.changes.filter((change) => change.startsWith("revoke ")).map((change) => change.split(" ")[2]!);

/** A fresh world: the live group and bucket as in test/remediation/support.ts, the bucket's policy as given. */
export function createWorld(options: { policy?: string | null } = {}): FaultWorld {
  const deleteChecks: DeleteCheck[] = [];
  const world: FaultWorld = Object.assign(
    createAwsWorld({
      ledgerBucket: LEDGER_BUCKET,
      deployment: {
        queueUrl: QUEUE_URL,
        deadLetterQueueUrl: DLQ_URL,
        topicArn: TOPIC_ARN,
        parameters: { [PAUSE_PARAMETER]: JSON.stringify(RUNNING) },
        accountPublicAccessBlock: null,
      },
      note: describeCall,
      onCall(call) {
        if (call.command !== "DeleteMessage" || call.input.QueueUrl !== QUEUE_URL) return;
        const changes = world.mutations.filter((mutation) => mutation.run === call.run);
        deleteChecks.push({
          run: call.run,
          actionId: actionIdFor(call.run),
          record: world.ledgerRecord(actionIdFor(call.run)),
          changes: changes.length,
          confirmedChanges: changes.filter((mutation) => mutation.confirmed).length,
          dlqSent: deadLetters(world).some((letter) => letter.run === call.run),
        });
      },
    }),
    { deleteChecks },
  );
  world.addGroup(GROUP_ID, { ownerId: ACCOUNT, name: "web", tags: {}, rules: SG_RULES });
  world.addBucket(BUCKET, {
    accountId: ACCOUNT,
    acl: { Owner: { ...OWNER }, Grants: GRANTS },
    policy: options.policy ?? null,
    publicAccessBlock: null,
    ownership: null,
    tags: { team: "data" },
  });
  return world;
}

/** SDK clients for the runs: one each (the mocks replace their send(); a client per delivery only cost time). */
export const CLIENTS = {
  ec2: new EC2Client(REGION_CONFIG),
  s3: new S3Client(REGION_CONFIG),
  sqs: new SQSClient(REGION_CONFIG),
  sns: new SNSClient(REGION_CONFIG),
  ssm: new SSMClient(REGION_CONFIG),
  s3control: new S3ControlClient(REGION_CONFIG),
};

/**
 * The shared deps of one remediation run, wired to real SDK clients (mocked; CLIENTS) and the real S3 ledger / SNS
 * reporter. The account-facts reader (and so its cache) is new for each run.
 */
export function awsDeps(run: number) {
  return {
    ...deployedDeps({
      readPause: () => readPauseState(CLIENTS.ssm, PAUSE_PARAMETER, T0),
      accountFacts: accountFactsReader({
        s3control: () => CLIENTS.s3control,
        now: () => T0,
        log: { debug() {}, info() {}, warn() {}, error() {} },
      }),
    }),
    sqs: CLIENTS.sqs,
    ledger: s3Ledger(CLIENTS.s3, { bucket: LEDGER_BUCKET }),
    reporter: snsReporter(CLIENTS.sns, TOPIC_ARN, () => T0),
    deadLetterQueueUrl: DLQ_URL,
    now: () => T0,
    newActionId: () => actionIdFor(run),
  };
}
