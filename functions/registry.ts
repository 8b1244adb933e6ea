// Every Lambda function Remedy deploys, in one table: where its code starts, the IAM actions it needs, how it runs
// and what it reads from its environment. Pure data: the build (scripts/build.ts), the stack (infra/) and the
// tests all read this table, so a function added here is bundled, deployed and checked everywhere at once.

import type { EnvName } from "../platform/env.ts";
import { MEMBER_ROLE_PERMISSIONS } from "../platform/member-roles.ts";
import { ORGANIZATION_DIRECTORY_PERMISSIONS } from "../platform/organization.ts";
import type { CommandPermissions } from "../platform/permissions.ts";
import { declaredActions } from "../platform/permissions.ts";
import { PROBLEM_SPECS, type Problem, RESOURCES } from "../problems/index.ts";
import { UNRECORDED_RESOURCES } from "../problems/inventory.ts";
import type { ResourceSpec } from "../problems/types.ts";
import { configRuleImpliedActions, configRulePermissions } from "./config-rule/permissions.ts";
import { coordinatorImpliedActions, coordinatorPermissions } from "./coordinator/permissions.ts";
import { interactionsPermissions } from "./interactions/endpoint/permissions.ts";
import { interactionsWorkerImpliedActions, interactionsWorkerPermissions } from "./interactions/worker/permissions.ts";
import { notifierPermissions } from "./notifier/permissions.ts";
import { realtimeImpliedActions, realtimePermissions } from "./realtime/permissions.ts";
import { remediationRunnerImpliedActions, remediationRunnerPermissions } from "./remediation/permissions.ts";

const OWN_FUNCTION_NAMES = [
  "config-rule",
  "coordinator",
  "notifier",
  "realtime",
  "interactions",
  "interactions-worker",
] as const;
/** The remediation functions: one per name the registry's problems give (problems on one resource type share it). */
export const REMEDIATION_FUNCTION_NAMES: readonly RemediationName[] = [
  ...new Set(PROBLEM_SPECS.map((spec) => spec.remediation)),
];
type RemediationName = (typeof PROBLEM_SPECS)[number]["remediation"];
export const FUNCTION_NAMES: readonly FunctionName[] = [...OWN_FUNCTION_NAMES, ...REMEDIATION_FUNCTION_NAMES];
export type FunctionName = (typeof OWN_FUNCTION_NAMES)[number] | RemediationName;

// What the stack puts into a function's environment: the names are typed in platform/env.ts.
export type { EnvName } from "../platform/env.ts";

export interface FunctionSpec {
  name: FunctionName;
  /** The handler module, relative to the repository root; it exports `handler` (remediations: the factory). */
  entry: string;
  /**
   * Remediation functions: the problems whose fixes (problems/<id>/fix.ts) the function runs. The build writes its
   * entry from these (scripts/build.ts), so the registry alone decides what a remediation function fixes.
   */
  fixes?: readonly Problem[];
  /** Every AWS command the function's code sends → its IAM action (the function's permissions.ts). */
  permissions: CommandPermissions;
  /**
   * The commands it sends in organisation mode only (reading the organisation, assuming member roles): granted only
   * when the stack is deployed with mode = "organization".
   */
  organizationPermissions: CommandPermissions;
  /** IAM actions needed without a command of their own. */
  impliedActions: readonly string[];
  memoryMb: number;
  timeoutSeconds: number;
  /** Environment variables the stack sets. */
  env: readonly EnvName[];
  /** Largest acceptable bundle (dist/<name>/index.mjs), bytes. */
  bundleBudgetBytes: number;
  /** Reserved concurrency; absent: unreserved. */
  reservedConcurrency?: number;
  /** Invoked asynchronously by the coordinator: Lambda must not retry (the coordinator counts attempts itself). */
  invokedByCoordinator?: boolean;
  /**
   * The resource types it reads live itself, each through its folder's `module` (loaded from the registry; the build
   * imports them statically): it is granted each type's `reads`, scoped as the type says.
   */
  liveReads?: { resources: readonly ResourceSpec[]; module: "observe.ts" | "inventory.ts" | "undo.ts" };
}

const KB = 1024;

/** The coordinator's dispatch visibility: a remediation must finish (timeout) well within it. */
export const DISPATCH_VISIBILITY_SECONDS = 300;
/** Longest a remediation's timeout may be (every function invoked by the coordinator has it). */
export const REMEDIATION_TIMEOUT_SECONDS = 120;
/**
 * How old a dispatch may be when its remediation starts: Lambda drops older queued events
 * (maximum_event_age_in_seconds) and the runner refuses them, so a remediation always ends before the dispatch
 * visibility does and the message cannot have been dispatched again meanwhile. 30 s spare for clock skew.
 */
export const MAX_DISPATCH_AGE_SECONDS = DISPATCH_VISIBILITY_SECONDS - REMEDIATION_TIMEOUT_SECONDS - 30;
/** Where the coordinator keeps its state, in the ledger bucket. */
export const COORDINATOR_STATE_KEY = "state/coordinator.json";

/** What the stack deployed (platform/deployment.ts): every function that judges or acts reads it. */
const deploymentEnv = [
  "REMEDY_ACCOUNT_ID",
  "REMEDY_REGION",
  "REMEDY_PARTITION",
  "REMEDY_RULES",
  "REMEDY_ORGANIZATION",
] as const satisfies readonly EnvName[];

const remediationEnv = [
  ...deploymentEnv,
  "REMEDY_QUEUE_URL",
  "REMEDY_LEDGER_BUCKET",
  "REMEDY_LEDGER_MAC_KEY_ID",
  "REMEDY_REPORT_TOPIC_ARN",
  "REMEDY_DLQ_URL",
  "REMEDY_PAUSE_PARAMETER",
  "REMEDY_MAX_DISPATCH_AGE_SECONDS",
  "REMEDY_ALLOWLIST",
  // Fix now pressed in Slack makes an instruction due before its grace period ends (functions/remediation/fix-now.ts).
  "REMEDY_SLACK_APPROVERS",
] as const satisfies readonly EnvName[];

/** A remediation function: the runner's needs plus those of every problem it fixes, all from the registry. */
function remediationFunction(name: RemediationName): FunctionSpec {
  const specs = PROBLEM_SPECS.filter((spec) => spec.remediation === name);
  const fixPermissions: Record<string, string> = {};
  for (const spec of specs) Object.assign(fixPermissions, spec.fix.permissions);
  return {
    name,
    entry: "functions/remediation/handler.ts",
    fixes: specs.map((spec) => spec.id),
    permissions: { ...remediationRunnerPermissions, ...fixPermissions } as CommandPermissions,
    // The account's standing, and its fix role for the action (functions/remediation/member.ts).
    organizationPermissions: { ...ORGANIZATION_DIRECTORY_PERMISSIONS, ...MEMBER_ROLE_PERMISSIONS },
    impliedActions: remediationRunnerImpliedActions,
    memoryMb: 256,
    timeoutSeconds: REMEDIATION_TIMEOUT_SECONDS,
    env: [...new Set([...remediationEnv, ...specs.flatMap((spec) => spec.fix.env)])],
    // The runner's clients (SQS, S3, KMS, SNS, SSM, STS) and its fixes' service client: RDS's is the largest.
    bundleBudgetBytes: 896 * KB,
    invokedByCoordinator: true,
  };
}

export const FUNCTIONS: Readonly<Record<FunctionName, FunctionSpec>> = {
  "config-rule": {
    name: "config-rule",
    entry: "functions/config-rule/handler.ts",
    permissions: configRulePermissions,
    // A periodic scan lists the types Config never records itself (problems/<folder>/inventory.ts).
    liveReads: { resources: UNRECORDED_RESOURCES, module: "inventory.ts" },
    // The event's account's standing, and its detect role (functions/config-rule/organization.ts).
    organizationPermissions: { ...ORGANIZATION_DIRECTORY_PERMISSIONS, ...MEMBER_ROLE_PERMISSIONS },
    impliedActions: configRuleImpliedActions,
    memoryMb: 256,
    // A change notification judges one item; a periodic scan's task stops well before this (scan.ts).
    timeoutSeconds: 300,
    env: [
      ...deploymentEnv,
      "REMEDY_QUEUE_URL",
      "REMEDY_GRACE_PERIOD_MINUTES",
      "REMEDY_ALLOWLIST",
      "REMEDY_SCAN_QUEUE_URL",
      "REMEDY_SCAN_DLQ_URL",
      "REMEDY_LEDGER_BUCKET",
      "REMEDY_HUB_REGION",
    ],
    // The periodic scan adds the S3 client (its parts of recorded verdicts) and the clients of the types it lists
    // itself (EC2 for EBS snapshots).
    bundleBudgetBytes: 768 * KB,
  },
  coordinator: {
    name: "coordinator",
    entry: "functions/coordinator/handler.ts",
    permissions: coordinatorPermissions,
    organizationPermissions: ORGANIZATION_DIRECTORY_PERMISSIONS,
    impliedActions: coordinatorImpliedActions,
    memoryMb: 256,
    // One tick per minute; reserved concurrency 1 keeps ticks from overlapping.
    timeoutSeconds: 60,
    env: [
      ...deploymentEnv,
      "REMEDY_QUEUE_URL",
      "REMEDY_DLQ_URL",
      "REMEDY_PAUSE_PARAMETER",
      "REMEDY_REPORT_TOPIC_ARN",
      "REMEDY_STATE_BUCKET",
      "REMEDY_STATE_KEY",
      "REMEDY_REMEDIATION_FUNCTIONS",
      "REMEDY_DISPATCH_VISIBILITY_SECONDS",
      "REMEDY_MAX_ATTEMPTS",
      "REMEDY_RATE_LIMIT_COUNT",
      "REMEDY_RATE_LIMIT_WINDOW_MINUTES",
      "REMEDY_BREAKER_FRESH_LIMIT",
      "REMEDY_BREAKER_WINDOW_MINUTES",
      "REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT",
      "REMEDY_RECEIVE_CONCURRENCY",
      "REMEDY_INVOKE_CONCURRENCY",
      "REMEDY_SLACK_APP_SECRET",
      "REMEDY_SLACK_APPROVERS",
      "REMEDY_SNOOZE_MINUTES",
    ],
    bundleBudgetBytes: 768 * KB,
    reservedConcurrency: 1,
  },
  notifier: {
    name: "notifier",
    entry: "functions/notifier/handler.ts",
    permissions: notifierPermissions,
    // The account's Slack route comes from its standing (account and OU settings).
    organizationPermissions: ORGANIZATION_DIRECTORY_PERMISSIONS,
    impliedActions: [],
    memoryMb: 256,
    timeoutSeconds: 60,
    env: [
      "REMEDY_ORGANIZATION",
      "REMEDY_SLACK_SECRET",
      "REMEDY_SLACK_APP_SECRET",
      "REMEDY_SNOOZE_MINUTES",
      "REMEDY_RELAY_RULE_SUFFIXES",
      "REMEDY_RELAY_ALL_RULES",
      "REMEDY_SLACK_USERS",
      "REMEDY_ATTRIBUTION_ENABLED",
      "REMEDY_ATTRIBUTION_LOOKBACK_DAYS",
    ],
    bundleBudgetBytes: 640 * KB,
  },
  realtime: {
    name: "realtime",
    entry: "functions/realtime/handler.ts",
    permissions: realtimePermissions,
    // Every registered type, read as its fixes read it (problems/<folder>/observe.ts).
    liveReads: { resources: RESOURCES, module: "observe.ts" },
    // The event's account's standing, and its detect role for the live read (functions/realtime/organization.ts).
    organizationPermissions: { ...ORGANIZATION_DIRECTORY_PERMISSIONS, ...MEMBER_ROLE_PERMISSIONS },
    impliedActions: realtimeImpliedActions,
    memoryMb: 256,
    // One batch of up to 10 events: each a few live reads and one queue send.
    timeoutSeconds: 60,
    env: [
      ...deploymentEnv,
      "REMEDY_QUEUE_URL",
      "REMEDY_GRACE_PERIOD_MINUTES",
      "REMEDY_ALLOWLIST",
      "REMEDY_LEDGER_BUCKET",
      "REMEDY_COORDINATOR_FUNCTION",
      "REMEDY_AUTO_RESPONSE",
      "REMEDY_OWN_ROLE_ARNS",
    ],
    // Every registered type's live read (EC2, S3, S3 Control, RDS), Config, Lambda and SQS.
    bundleBudgetBytes: 896 * KB,
  },
  // Slack's signed requests (through the HTTP API, infra/interactions.ts): records decisions and hands them to the
  // worker; changes no resource.
  interactions: {
    name: "interactions",
    entry: "functions/interactions/endpoint/handler.ts",
    permissions: interactionsPermissions,
    // Undo from Slack is refused in organisation mode: nothing organisation-only to send.
    organizationPermissions: {},
    impliedActions: [],
    memoryMb: 256,
    // Slack waits 3 s for the answer, but a slow AWS call's attempts (platform/clients.ts) must still end inside the
    // timeout, as in every function: a late answer still records the decision once, and the person is told it was.
    timeoutSeconds: 60,
    env: [
      "REMEDY_SLACK_APP_SECRET",
      "REMEDY_SLACK_APPROVERS",
      "REMEDY_SNOOZE_MINUTES",
      "REMEDY_INTERACTIONS_WORKER",
      "REMEDY_LEDGER_BUCKET",
      "REMEDY_ACCOUNT_ID",
      "REMEDY_REGION",
      "REMEDY_ORGANIZATION",
    ],
    // S3, Lambda and Secrets Manager clients, the instruction contract (pending records).
    bundleBudgetBytes: 640 * KB,
  },
  // Carries out a recorded decision (invoked asynchronously by `interactions` only) and updates the message.
  "interactions-worker": {
    name: "interactions-worker",
    entry: "functions/interactions/worker/handler.ts",
    permissions: interactionsWorkerPermissions,
    // Undo goes through every resource type's undo (problems/<folder>/undo.ts), as the CLI's does.
    liveReads: { resources: RESOURCES, module: "undo.ts" },
    organizationPermissions: {},
    impliedActions: interactionsWorkerImpliedActions,
    memoryMb: 256,
    // One decision: a few S3 reads and writes, an undo's reads and writes, Slack's answer (with its retries).
    timeoutSeconds: 60,
    env: [
      "REMEDY_SLACK_APP_SECRET",
      "REMEDY_SLACK_APPROVERS",
      "REMEDY_LEDGER_BUCKET",
      "REMEDY_QUEUE_URL",
      "REMEDY_LEDGER_MAC_KEY_ID",
      "REMEDY_REPORT_TOPIC_ARN",
      "REMEDY_ACCOUNT_ID",
      "REMEDY_REGION",
      "REMEDY_ORGANIZATION",
    ],
    // Every resource type's undo (EC2, S3, S3 Control, RDS clients), SQS, KMS, SNS, Secrets Manager: 751 KB, with the
    // undos imported statically by the build (problems/undo-modules.ts; its dynamic import would keep every export of
    // the EC2 client: 2 MB).
    bundleBudgetBytes: 896 * KB,
  },
  ...(Object.fromEntries(REMEDIATION_FUNCTION_NAMES.map((name) => [name, remediationFunction(name)])) as Record<
    RemediationName,
    FunctionSpec
  >),
};

export const FUNCTION_LIST: readonly FunctionSpec[] = FUNCTION_NAMES.map((name) => FUNCTIONS[name]);

/**
 * The code a function runs, relative to the repository root: its folder, its problems' fix modules, and the modules
 * it loads from the registry by folder for its live reads (`liveReads`: the build imports them statically).
 */
export function functionSources(spec: FunctionSpec): string[] {
  const folder = spec.entry.slice(0, spec.entry.lastIndexOf("/"));
  const loaded = (spec.liveReads?.resources ?? []).map(
    (resource) => `problems/${resource.folder}/${spec.liveReads!.module}`,
  );
  return [folder, ...(spec.fixes ?? []).map((problem) => `problems/${problem}/fix.ts`), ...loaded];
}

/** Every IAM action the function's role is granted (besides writing its own logs), sorted and unique. */
/** The IAM actions the stack grants the function: in organisation mode, its organisation-only ones as well. */
export function grantedActions(spec: FunctionSpec, mode: "account" | "organization" = "account"): string[] {
  const organization = mode === "organization" ? declaredActions(spec.organizationPermissions) : [];
  // Member sessions carry a SourceIdentity (platform/member-roles.ts): AWS authorizes it as an action of its own.
  if (organization.includes("sts:AssumeRole")) organization.push("sts:SetSourceIdentity");
  return [...new Set([...declaredActions(spec.permissions), ...organization, ...spec.impliedActions])].sort();
}
