// Least privilege: the resources each function's actions are granted on. The actions come from the registry
// (exactly the function's declared + implied actions); this file only says *where*. A problem's fix actions are
// scoped by the problem registry (its spec's unscoped actions, else its resource type's iamScope). An action without a scope
// here fails the synth, so a new permission cannot ship unscoped.
import { UNDO_EXEMPTION_PREFIX } from "../contract/undo-exemption.ts";
import { COORDINATOR_STATE_KEY, type FunctionSpec, grantedActions } from "../functions/registry.ts";
import { MEMBER_ROLE_PATH, type MemberRole, memberRoleName } from "../platform/member-roles.ts";
import { type Problem, problemSpec, resourceSpec } from "../problems/index.ts";
import { resourceUndos } from "../problems/undo.ts";
import type { StackMode } from "./organization.ts";

/** Ledger key prefixes (contract/ledger.ts LEDGER_PREFIX and CLAIM_PREFIX; test/infra checks they agree). */
export const LEDGER_PREFIXES = { actions: "actions/", claims: "claims/" } as const;
export const STATE_PREFIX = `${COORDINATOR_STATE_KEY.split("/")[0]}/`;

import { SCAN_PREFIX } from "../functions/config-rule/scan-layout.ts";

/**
 * Bucket-changing actions that are never allowed on Remedy's own buckets (ledger, Config delivery, listed ones),
 * whoever's role holds them: an explicit Deny beside the grant, so a forged instruction cannot open the ledger.
 */
/** A queue policy's TLS-only statement: every queue of the stack has it. */
export const denyInsecureQueueTransport = (arn: string) => ({
  sid: "DenyInsecureTransport",
  effect: "Deny",
  principals: [{ type: "*", identifiers: ["*"] }],
  actions: ["sqs:*"],
  resources: [arn],
  condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
});

export const OWN_BUCKET_WRITE_ACTIONS = [
  "s3:PutBucketAcl",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:PutBucketPublicAccessBlock",
] as const;

export interface PolicyRefs {
  partition: string;
  region: string;
  account: string;
  queueArn: string;
  dlqArn: string;
  /** The periodic scan's task queue and its dead-letter queue (the Config rule function's). */
  scanQueueArn: string;
  scanDlqArn: string;
  ledgerBucketArn: string;
  pauseParameterArn: string;
  reportTopicArn: string;
  /** The remediation functions the coordinator invokes. */
  remediationFunctionArns: string[];
  /** GetSecretValue target when slack_secret names a Secrets Manager secret. */
  slackSecretArn: string;
  /** GetParameter target when slack_secret is "ssm:<name>". */
  slackParameterArn: string;
  /** The HMAC key that signs ledger records. */
  ledgerMacKeyArn: string;
  /** Buckets no function may change (ARN patterns). */
  protectedBucketArns: string[];
  /** Organisation mode: the organisation's id (member roles are assumed only in its accounts). */
  organizationId?: string;
  /** The real-time path's event queue (the real-time function takes it). */
  realtimeQueueArn: string;
  /** The coordinator: the real-time function asks it to run now. */
  coordinatorFunctionArn: string;
  /** The Slack app's secret (bot token, signing secret): slack_app_secret. */
  slackAppSecretArn: string;
  /** The interactions worker: the Slack endpoint invokes it. */
  interactionsWorkerArn: string;
}

export interface PolicyCondition {
  test: string;
  variable: string;
  values: string[];
}

export interface Grant {
  /** Absent: Allow. */
  effect?: "Deny";
  actions: string[];
  resources: string[];
  conditions?: PolicyCondition[];
}

/** Only APIs that do not support resource-level permissions are granted on "*". */
const ANY = ["*"];

export type Scope = { resources: string[]; conditions?: PolicyCondition[] };

/** Where a problem's fix action is granted, for a remediation function fixing it (its spec and resource type say). */
function fixScopeOf(spec: FunctionSpec, action: string, refs: PolicyRefs): Scope | undefined {
  const scopes: Scope[] = [];
  for (const problem of spec.fixes ?? []) {
    const { fix, resourceType } = problemSpec(problem);
    if (fix.unscopedActions.includes(action)) return { resources: ANY };
    if (Object.values(fix.permissions).includes(action as `${string}:${string}`)) {
      scopes.push(resourceSpec(resourceType)!.iamScope(refs));
    }
  }
  return unionScope(action, scopes);
}

/**
 * One action sent on several resource types (a function fixing DB and cluster snapshots) is granted on every type's
 * resources: the union of their scopes, which must then carry the same conditions (one statement holds them).
 */
export function unionScope(action: string, scopes: readonly Scope[]): Scope | undefined {
  const [first, ...others] = scopes;
  if (!first) return undefined;
  const conditions = JSON.stringify(first.conditions ?? []);
  if (others.some((scope) => JSON.stringify(scope.conditions ?? []) !== conditions)) {
    throw new Error(`infra/iam.ts: ${action} is scoped to resource types with different conditions: split the grant`);
  }
  return { ...first, resources: [...new Set(scopes.flatMap((scope) => scope.resources))] };
}

/**
 * The member roles a hub function may assume (organisation mode): the rule function the detect role, a remediation
 * the fix role of each problem it fixes, in any account of the organisation only. No function may assume the undo
 * role: it is not named here, and its trust policy denies every hub function role besides.
 */
function memberRoleScope(spec: FunctionSpec, refs: PolicyRefs): Scope {
  const roles: MemberRole[] =
    spec.name === "config-rule" || spec.name === "realtime"
      ? [{ kind: "detect" }]
      : (spec.fixes ?? []).map((problem): MemberRole => ({ kind: "fix", problem }));
  if (roles.length === 0) throw new Error(`infra/iam.ts: function ${spec.name} has no member role to assume`);
  if (!refs.organizationId) throw new Error("infra/iam.ts: assuming member roles needs the organisation id");
  return {
    resources: roles.map((role) => `arn:${refs.partition}:iam::*:role${MEMBER_ROLE_PATH}${memberRoleName(role)}`),
    conditions: [{ test: "StringEquals", variable: "aws:ResourceOrgID", values: [refs.organizationId] }],
  };
}

/** Where a function's live reads are granted (its `liveReads`): each type's reads on its iamScope. */
function readScopeOf(spec: FunctionSpec, action: string, refs: PolicyRefs): Scope | undefined {
  const readers = spec.liveReads?.resources ?? [];
  const scopes: Scope[] = [];
  for (const resource of readers) {
    if ((resource.reads.unscopedActions as readonly string[]).includes(action)) return { resources: ANY };
    if ((Object.values(resource.reads.permissions) as string[]).includes(action)) scopes.push(resource.iamScope(refs));
  }
  return unionScope(action, scopes);
}

/** Ledger-bucket prefixes of pending instructions, decisions taken in Slack and the allowlist's Slack part. */
export const INTERACTION_PREFIXES = { pending: "pending/", decisions: "decisions/", allowlist: "allowlist/" } as const;

/**
 * Which ledger-bucket prefixes each function reads, writes and deletes in (its s3:GetObject, s3:PutObject and
 * s3:DeleteObject are granted there only). The bucket policy's writers (infra/stack.ts) say the same from the other
 * side.
 */
export function ledgerAccessOf(spec: FunctionSpec): { read: string[]; write: string[]; delete: string[] } {
  const access = prefixesOf(spec);
  return { delete: [], ...access };
}

function prefixesOf(spec: FunctionSpec): { read: string[]; write: string[]; delete?: string[] } {
  const { pending, decisions, allowlist } = INTERACTION_PREFIXES;
  const { actions, claims } = LEDGER_PREFIXES;
  switch (spec.name as string) {
    case "config-rule":
      // Its scans' parts; the allowlist's Slack part, judged with the deployed allowlist.
      return { read: [SCAN_PREFIX, allowlist], write: [SCAN_PREFIX] };
    case "coordinator":
      // Its state; the decisions it honours (Fix now, Snooze) and the pending records it leaves for the buttons.
      return { read: [STATE_PREFIX, decisions], write: [STATE_PREFIX, pending], delete: [pending] };
    case "notifier":
      return { read: [], write: [] };
    case "realtime":
      return { read: [UNDO_EXEMPTION_PREFIX, allowlist], write: [] };
    case "interactions":
      // Who a button is about (the pending instruction, the fix's record) and the decision, put-if-absent (withdrawn
      // when its worker cannot be started).
      return { read: [pending, actions, decisions], write: [decisions], delete: [decisions] };
    case "interactions-worker":
      // Acts on a decision: the allowlist's Slack part (Exempt), the undo's record and temporary exemption (Undo);
      // withdraws a decision it could not carry out (so it can be pressed again).
      return {
        read: [decisions, pending, actions, allowlist, UNDO_EXEMPTION_PREFIX],
        write: [allowlist, actions, UNDO_EXEMPTION_PREFIX],
        delete: [decisions],
      };
    default:
      // The remediations: records and put-if-absent dispatch claims; undo's temporary exemptions and the allowlist's
      // Slack part, read before they change anything; the Fix now decisions, read for an instruction not yet due.
      if (!spec.fixes) throw new Error(`infra/iam.ts: no ledger access for function ${spec.name}; add one`);
      return { read: [UNDO_EXEMPTION_PREFIX, allowlist, decisions], write: [actions, claims] };
  }
}

/**
 * Where the interactions worker's undo actions are granted: each resource type's undo (problems/<folder>/undo.ts
 * `permissions`) on that type's iamScope, as a remediation's fix is. Only the worker undoes; no other function.
 */
function undoScopeOf(spec: FunctionSpec, action: string, refs: PolicyRefs): Scope | undefined {
  if (spec.name !== "interactions-worker") return undefined;
  // Undo re-adds a revoked rule with its tags (TagSpecifications): EC2 authorizes the new security-group-rule as well,
  // and tags only as part of that call (as infra/member-roles.ts grants the member undo role).
  const newRules = `arn:${refs.partition}:ec2:${refs.region}:${refs.account}:security-group-rule/*`;
  const authorizes = ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"];
  if (action === "ec2:CreateTags") {
    return {
      resources: [newRules],
      conditions: [{ test: "StringEquals", variable: "ec2:CreateAction", values: authorizes.map((a) => a.slice(4)) }],
    };
  }
  const scopes: Scope[] = [];
  for (const { undo, resourceType, problems } of resourceUndos()) {
    const actions = [...Object.values(undo.permissions), ...undo.impliedActions] as string[];
    if (!actions.includes(action)) continue;
    // An action without resource-level permissions (the account's Block Public Access) is granted on "*", as the
    // fixes of the type's problems have it: on the type's scope it would match nothing.
    if (problems.some((problem) => problemSpec(problem as Problem).fix.unscopedActions.includes(action))) {
      return { resources: ANY };
    }
    scopes.push(resourceSpec(resourceType)!.iamScope(refs));
  }
  const scope = unionScope(action, scopes);
  return scope && authorizes.includes(action) ? { ...scope, resources: [...scope.resources, newRules] } : scope;
}

function scopeOf(spec: FunctionSpec, action: string, refs: PolicyRefs): Scope {
  const fixScope = fixScopeOf(spec, action, refs) ?? readScopeOf(spec, action, refs) ?? undoScopeOf(spec, action, refs);
  if (fixScope) return fixScope;
  const ledgerObjects = (...prefixes: string[]) => prefixes.map((prefix) => `${refs.ledgerBucketArn}/${prefix}*`);
  switch (action) {
    // Config's evaluation APIs, CloudTrail's LookupEvents and the account-level Block Public Access read have no
    // resource-level permissions.
    case "s3:GetAccountPublicAccessBlock":
    case "config:PutEvaluations":
    case "config:GetResourceConfigHistory":
    case "config:ListDiscoveredResources":
    case "config:BatchGetResourceConfig":
    case "config:GetComplianceDetailsByResource":
    case "cloudtrail:LookupEvents":
    // Organizations' account and OU listings: nothing to scope them to worth having (organisation mode).
    case "organizations:ListAccounts":
    case "organizations:ListParents":
    // Config's rule listing (the real-time function's, for the member account's rule names) is not rule-scoped.
    case "config:DescribeConfigRules":
      return { resources: ANY };
    // Setting SourceIdentity is authorized on the role assumed, like the assume itself.
    case "sts:AssumeRole":
    case "sts:SetSourceIdentity":
      return memberRoleScope(spec, refs);
    // A rule's ARN carries its generated id, not its name: the account's and region's rules.
    case "config:StartConfigRulesEvaluation":
    case "config:GetComplianceDetailsByConfigRule":
      return { resources: [`arn:${refs.partition}:config:${refs.region}:${refs.account}:config-rule/*`] };
    case "s3:PutObject":
      return { resources: ledgerObjects(...ledgerAccessOf(spec).write) };
    case "s3:DeleteObject":
      return { resources: ledgerObjects(...ledgerAccessOf(spec).delete) };
    case "s3:GetObject":
      return { resources: ledgerObjects(...ledgerAccessOf(spec).read) };
    case "s3:ListBucket":
      return { resources: [refs.ledgerBucketArn] };
    case "kms:GenerateMac":
    case "kms:VerifyMac":
      return { resources: [refs.ledgerMacKeyArn] };
    case "sqs:SendMessage":
      // The rule queues instructions and its scan's tasks, the real-time function instructions; everyone else only
      // dead-letters.
      return {
        resources:
          spec.name === "config-rule"
            ? [refs.queueArn, refs.scanQueueArn, refs.scanDlqArn]
            : spec.name === "realtime"
              ? [refs.queueArn]
              : [refs.dlqArn],
      };
    case "sqs:GetQueueAttributes":
      return { resources: [spec.name === "realtime" ? refs.realtimeQueueArn : refs.scanQueueArn] };
    case "sqs:ReceiveMessage":
    case "sqs:ChangeMessageVisibility":
    case "sqs:DeleteMessage":
      // Event source mappings: the Config rule function takes its scan's tasks, the real-time function its events;
      // the coordinator and remediations take the instructions.
      return {
        resources: [
          spec.name === "config-rule"
            ? refs.scanQueueArn
            : spec.name === "realtime"
              ? refs.realtimeQueueArn
              : refs.queueArn,
        ],
      };
    case "ssm:GetParameter":
      return { resources: [spec.name === "notifier" ? refs.slackParameterArn : refs.pauseParameterArn] };
    case "ssm:PutParameter":
      return { resources: [refs.pauseParameterArn] };
    case "sns:Publish":
      return { resources: [refs.reportTopicArn] };
    case "lambda:InvokeFunction":
      // The real-time function asks only the coordinator to run now; the Slack endpoint hands work to its worker only;
      // the coordinator invokes the remediations.
      if (spec.name === "realtime") return { resources: [refs.coordinatorFunctionArn] };
      if (spec.name === "interactions") return { resources: [refs.interactionsWorkerArn] };
      return { resources: refs.remediationFunctionArns.flatMap((arn) => [arn, `${arn}:*`]) };
    case "secretsmanager:GetSecretValue":
      // The notifier reads the routing and the Slack app's secret (its bot token); the interactions functions the
      // app's secret only.
      if (spec.name === "notifier") return { resources: [refs.slackSecretArn, refs.slackAppSecretArn] };
      return { resources: [refs.slackAppSecretArn] };
    default:
      throw new Error(`infra/iam.ts: no resource scope for ${action} (function ${spec.name}); add one`);
  }
}

/** The function's grants, one per distinct scope, covering exactly grantedActions(spec, mode), then its denies. */
export function grantsFor(spec: FunctionSpec, refs: PolicyRefs, mode: StackMode = "account"): Grant[] {
  const grants = new Map<string, Grant>();
  const granted = grantedActions(spec, mode);
  for (const action of granted) {
    const scope = scopeOf(spec, action, refs);
    const key = JSON.stringify(scope);
    const grant = grants.get(key);
    if (grant) grant.actions.push(action);
    else grants.set(key, { actions: [action], ...scope });
  }
  const ownBucketWrites = OWN_BUCKET_WRITE_ACTIONS.filter((action) => granted.includes(action));
  const denies: Grant[] =
    ownBucketWrites.length > 0
      ? [{ effect: "Deny", actions: ownBucketWrites, resources: refs.protectedBucketArns }]
      : [];
  return [...grants.values(), ...denies];
}
