// The roles Remedy's hub assumes in every member account (organisation mode), described once as plain data built
// from the registry, and rendered twice: as a CloudFormation template (the StackSet and the management account's
// stack) and as Terraform resources (the `remedy-member` stack, infra/member-stacks.ts). One model, so the two
// renders cannot grant different actions or trust different principals.
//
// - remedy-member-detect: exactly what the rule function and the real-time function send to the member account
//   (configRuleMemberCommands, realtimeMemberCommands);
// - remedy-member-fix-<problem>: exactly that problem's fix actions, where its resource type's IAM scope says;
// - remedy-member-undo: the undos' actions, for operators only: a Deny keeps every hub function role out.
// Each trusts the hub account's root, narrowed to the one hub role (aws:PrincipalArn) of the organisation
// (aws:PrincipalOrgID), with sts:SetSourceIdentity (every session names its Remedy action) and, when the settings
// have one, an ExternalId. All live under /remedy/, capped by the remedy-member-boundary policy.
import { configRuleMemberCommands, configRulePermissions } from "../functions/config-rule/permissions.ts";
import { realtimeMemberCommands, realtimePermissions } from "../functions/realtime/permissions.ts";
import { FUNCTION_NAMES, type FunctionName } from "../functions/registry.ts";
import { MEMBER_ROLE_PATH, type MemberRole, memberRoleName } from "../platform/member-roles.ts";
import type { OrganizationSettings } from "../platform/organization.ts";
import { PROBLEM_SPECS, RESOURCES, resourceSpec } from "../problems/index.ts";
import type { IamScope } from "../problems/types.ts";
import { resourceUndos } from "../problems/undo.ts";
import { OWN_BUCKET_WRITE_ACTIONS } from "./iam.ts";

/** What only a render knows: the member account's partition and id, and the values the hub passes in. */
export type MemberParameter = "hubAccountId" | "organizationId" | "externalId";
export type Part =
  | string
  | { pseudo: "partition" | "account" }
  | { parameter: MemberParameter }
  /** The ARN of a hub function's role (remedy-<function>-<hub region>). */
  | { hubRole: FunctionName };
/** A string made of parts, concatenated. */
export type Text = readonly Part[];
/** A condition's values: texts, or the operators allowed to undo (a list the hub or the deployer gives). */
export type Values = readonly Text[] | "undoPrincipalArns";

export interface MemberCondition {
  test: string;
  variable: string;
  values: Values;
}

export interface MemberStatement {
  sid: string;
  effect: "Allow" | "Deny";
  actions: readonly string[];
  resources: readonly Text[];
  conditions: readonly MemberCondition[];
}

export interface MemberTrustStatement {
  sid: string;
  effect: "Allow" | "Deny";
  /** "*" for anyone (the undo role's Deny), else an AWS principal ARN. */
  principal: Text | "*";
  actions: readonly string[];
  conditions: readonly MemberCondition[];
}

export interface MemberRoleModel {
  role: MemberRole;
  name: string;
  /** Its logical id in the CloudFormation template and construct id in Terraform. */
  id: string;
  description: string;
  permissions: readonly MemberStatement[];
  trust: readonly MemberTrustStatement[];
}

export interface MemberRolesModel {
  roles: readonly MemberRoleModel[];
  boundary: { name: string; description: string; statements: readonly MemberStatement[] };
  /** Whether the trust policies require the settings' ExternalId. */
  externalId: boolean;
  /** The hub function roles the template needs ARNs of (every one: the undo role denies them all). */
  hubRoles: readonly FunctionName[];
}

export const MEMBER_BOUNDARY_NAME = "remedy-member-boundary";
/** STS's shortest session is 15 minutes (the hub's); IAM's shortest maximum is an hour. */
export const MEMBER_MAX_SESSION_SECONDS = 3600;
/** Every trust statement allows both: SourceIdentity is set on every session (platform/member-roles.ts). */
export const MEMBER_TRUST_ACTIONS = ["sts:AssumeRole", "sts:SetSourceIdentity"] as const;
/** Remedy's own bucket name patterns (bucket_prefix names): never changed by any fix, in any account. */
export const OWN_BUCKET_PATTERNS = ["remedy-ledger-*", "remedy-config-*"] as const;

// -- Scopes ----------------------------------------------------------------------------------------------------

// Placeholders handed to the registry's iamScope functions, parsed back into parts: the scopes stay the registry's.
const PARTITION = "{{partition}}";
const ACCOUNT = "{{account}}";

function toText(value: string): Text {
  const pieces = value.split(/\{\{(partition|account)\}\}/);
  return pieces.flatMap((piece, index): Part[] => {
    if (index % 2 === 1) return [{ pseudo: piece as "partition" | "account" }];
    return piece === "" ? [] : [piece];
  });
}

interface Scope {
  /** Names the statement (IAM Sids are alphanumeric). */
  label: string;
  resources: string[];
  conditions?: IamScope["conditions"];
}

const ANY: Scope = { label: "NoResourceLevelPermissions", resources: ["*"] };

/** A resource type's IAM scope in every region of the settings (IAM is global; the roles serve each region). */
function typeScope(type: string, regions: readonly string[]): Scope {
  const spec = resourceSpec(type);
  if (!spec) throw new Error(`infra/member-roles.ts: ${type} is not a resource type of the registry`);
  const scopes = regions.map((region) => spec.iamScope({ partition: PARTITION, region, account: ACCOUNT }));
  const conditions = JSON.stringify(scopes[0]?.conditions ?? []);
  if (scopes.some((scope) => JSON.stringify(scope.conditions ?? []) !== conditions)) {
    throw new Error(`infra/member-roles.ts: ${type}'s IAM scope has conditions that differ by region`);
  }
  return {
    label: spec.label.replace(/(^|\s)(\w)/g, (_all, _space: string, letter: string) => letter.toUpperCase()),
    resources: [...new Set(scopes.flatMap((scope) => scope.resources))],
    ...(scopes[0]?.conditions ? { conditions: scopes[0].conditions } : {}),
  };
}

const regional = (regions: readonly string[], service: string, resource: string) =>
  regions.map((region) => `arn:${PARTITION}:${service}:${region}:${ACCOUNT}:${resource}`);

/**
 * Where the detect role's actions apply: Config's rule-level calls on rules, the real-time function's live reads on
 * their resource type's scope, the rest has no resource.
 */
function detectScope(action: string, regions: readonly string[]): Scope {
  for (const resource of RESOURCES) {
    if ((resource.reads.unscopedActions as readonly string[]).includes(action)) return ANY;
    if ((Object.values(resource.reads.permissions) as string[]).includes(action))
      return typeScope(resource.type, regions);
  }
  switch (action) {
    // Config's evaluation and item APIs, and the account-level Block Public Access, have no resource-level
    // permissions.
    case "config:PutEvaluations":
    case "config:GetComplianceDetailsByResource":
    case "config:GetResourceConfigHistory":
    case "config:ListDiscoveredResources":
    case "config:BatchGetResourceConfig":
    case "s3:GetAccountPublicAccessBlock":
    // The account's rule listing (the organisation rules' member names) is not rule-scoped.
    case "config:DescribeConfigRules":
      return ANY;
    case "config:GetComplianceDetailsByConfigRule":
    case "config:StartConfigRulesEvaluation":
      return { label: "ConfigRules", resources: regional(regions, "config", "config-rule/*") };
    default:
      throw new Error(`infra/member-roles.ts: no scope for the detect role's ${action}; add one`);
  }
}

/** Where an undo's action applies: its resource type's scope, unless the registry says it has no resource. */
function undoScope(action: string, type: string, regions: readonly string[]): Scope {
  const unscoped = PROBLEM_SPECS.filter((spec) => spec.resourceType === type).flatMap(
    (spec) => spec.fix.unscopedActions as readonly string[],
  );
  if (unscoped.includes(action)) return ANY;
  switch (action) {
    // Undo re-adds a revoked rule (ingress, or egress for a default group's) with its tags (TagSpecifications): EC2
    // authorizes the new security-group-rule as well, and tags only as part of that call.
    case "ec2:AuthorizeSecurityGroupIngress":
    case "ec2:AuthorizeSecurityGroupEgress": {
      const groups = typeScope(type, regions);
      return { ...groups, resources: [...groups.resources, ...regional(regions, "ec2", "security-group-rule/*")] };
    }
    case "ec2:CreateTags":
      return {
        label: "NewSecurityGroupRules",
        resources: regional(regions, "ec2", "security-group-rule/*"),
        conditions: [
          {
            test: "StringEquals",
            variable: "ec2:CreateAction",
            values: ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"],
          },
        ],
      };
    default:
      return typeScope(type, regions);
  }
}

/** Actions grouped by scope, one Allow statement per scope, in first-seen order. */
function statementsOf(grants: readonly { action: string; scope: Scope }[]): MemberStatement[] {
  const byScope = new Map<string, { scope: Scope; actions: string[] }>();
  for (const { action, scope } of grants) {
    const key = JSON.stringify([scope.resources, scope.conditions ?? []]);
    const entry = byScope.get(key) ?? { scope, actions: [] };
    if (!entry.actions.includes(action)) entry.actions.push(action);
    byScope.set(key, entry);
  }
  const sids = new Map<string, number>();
  return [...byScope.values()].map(({ scope, actions }) => {
    const seen = (sids.get(scope.label) ?? 0) + 1;
    sids.set(scope.label, seen);
    return {
      sid: seen === 1 ? scope.label : `${scope.label}${seen}`,
      effect: "Allow",
      actions: actions.sort(),
      resources: scope.resources.map(toText),
      conditions: (scope.conditions ?? []).map((condition) => ({ ...condition, values: condition.values.map(toText) })),
    };
  });
}

// -- Trust -----------------------------------------------------------------------------------------------------

const HUB_ROOT: Text = ["arn:", { pseudo: "partition" }, ":iam::", { parameter: "hubAccountId" }, ":root"];

function trustOf(
  principals: { test: "ArnEquals" | "ArnLike"; values: Values },
  externalId: boolean,
): MemberTrustStatement {
  return {
    sid: "RemedyHub",
    effect: "Allow",
    principal: HUB_ROOT,
    actions: [...MEMBER_TRUST_ACTIONS],
    conditions: [
      { test: principals.test, variable: "aws:PrincipalArn", values: principals.values },
      { test: "StringEquals", variable: "aws:PrincipalOrgID", values: [[{ parameter: "organizationId" }]] },
      ...(externalId
        ? [{ test: "StringEquals", variable: "sts:ExternalId", values: [[{ parameter: "externalId" as const }]] }]
        : []),
    ],
  };
}

// -- The model -------------------------------------------------------------------------------------------------

/** The member roles for these settings (their regions scope the regional resources, externalId the trust). */
export function memberRolesModel(settings: OrganizationSettings): MemberRolesModel {
  const { regions } = settings;
  const externalId = settings.externalId !== undefined;
  const roleId = (role: MemberRole) =>
    memberRoleName(role)
      .replace(/^remedy-member-/, "")
      .replace(/(^|-)(\w)/g, (_all, _dash: string, letter: string) => letter.toUpperCase());

  const detect: MemberRole = { kind: "detect" };
  const detectActions = [
    ...new Set([
      ...configRuleMemberCommands.map((command) => configRulePermissions[command]),
      ...realtimeMemberCommands.map((command) => realtimePermissions[command]),
    ]),
  ];
  const roles: MemberRoleModel[] = [
    {
      role: detect,
      name: memberRoleName(detect),
      id: `${roleId(detect)}Role`,
      description:
        "Remedy's rule and real-time functions: read the account's Config items and resources, report evaluations, re-run Remedy's rules",
      permissions: statementsOf(detectActions.map((action) => ({ action, scope: detectScope(action, regions) }))),
      trust: [
        trustOf({ test: "ArnEquals", values: [[{ hubRole: "config-rule" }], [{ hubRole: "realtime" }]] }, externalId),
      ],
    },
  ];

  for (const spec of PROBLEM_SPECS) {
    const role: MemberRole = { kind: "fix", problem: spec.id };
    const fixActions = [...new Set(Object.values(spec.fix.permissions) as string[])];
    const unscoped = spec.fix.unscopedActions as readonly string[];
    const allows = statementsOf(
      fixActions.map((action) => ({
        action,
        scope: unscoped.includes(action) ? ANY : typeScope(spec.resourceType, regions),
      })),
    );
    // As in the hub: whoever holds a bucket-changing action may never use it on Remedy's own buckets.
    const ownBucketWrites = OWN_BUCKET_WRITE_ACTIONS.filter((action) => fixActions.includes(action));
    const denies: MemberStatement[] =
      ownBucketWrites.length > 0
        ? [
            {
              sid: "NeverRemedysOwnBuckets",
              effect: "Deny",
              actions: ownBucketWrites,
              resources: OWN_BUCKET_PATTERNS.map((pattern) => ["arn:", { pseudo: "partition" }, `:s3:::${pattern}`]),
              conditions: [],
            },
          ]
        : [];
    roles.push({
      role,
      name: memberRoleName(role),
      id: `${roleId(role)}Role`,
      description: `Remedy's ${spec.remediation}: fixes ${spec.id} (exactly its fix actions, problems/${spec.id}/spec.ts)`,
      permissions: [...allows, ...denies],
      trust: [trustOf({ test: "ArnEquals", values: [[{ hubRole: spec.remediation }]] }, externalId)],
    });
  }

  const undo: MemberRole = { kind: "undo" };
  const undoGrants = resourceUndos().flatMap(({ undo: each, resourceType }) =>
    [...new Set([...Object.values(each.permissions), ...each.impliedActions])].map((action) => ({
      action,
      scope: undoScope(action, resourceType, regions),
    })),
  );
  roles.push({
    role: undo,
    name: memberRoleName(undo),
    id: `${roleId(undo)}Role`,
    description: "remedy undo: adds back what a Remedy fix removed; for operators only, never a Remedy function",
    permissions: statementsOf(undoGrants),
    trust: [
      trustOf({ test: "ArnLike", values: "undoPrincipalArns" }, externalId),
      {
        // Whatever an operator list or a hub policy says: no Remedy function may re-open a hole.
        sid: "NeverRemedysFunctions",
        effect: "Deny",
        principal: "*",
        actions: [...MEMBER_TRUST_ACTIONS],
        conditions: [
          {
            test: "ArnEquals",
            variable: "aws:PrincipalArn",
            values: FUNCTION_NAMES.map((name): Text => [{ hubRole: name }]),
          },
        ],
      },
    ],
  });

  // The boundary allows exactly the union of the roles' grants, with the same scopes.
  const boundaryGrants = roles.flatMap((role) =>
    role.permissions
      .filter((statement) => statement.effect === "Allow")
      .flatMap((statement) => statement.actions.map((action) => ({ action, statement }))),
  );
  const byScope = new Map<string, MemberStatement & { actions: string[] }>();
  for (const { action, statement } of boundaryGrants) {
    const key = JSON.stringify([statement.resources, statement.conditions]);
    const entry = byScope.get(key) ?? { ...statement, sid: `${statement.sid}${byScope.size + 1}`, actions: [] };
    if (!entry.actions.includes(action)) entry.actions.push(action);
    byScope.set(key, entry);
  }
  const boundaryStatements = [...byScope.values()].map((statement) => ({
    ...statement,
    actions: statement.actions.sort(),
  }));

  return {
    roles,
    boundary: {
      name: MEMBER_BOUNDARY_NAME,
      description: "Remedy's member roles may never do more than Remedy's member actions, whatever is attached",
      statements: boundaryStatements,
    },
    externalId,
    hubRoles: FUNCTION_NAMES,
  };
}

/** Every action a member role is granted (the boundary's), sorted. */
export function memberActions(model: MemberRolesModel): string[] {
  return [...new Set(model.boundary.statements.flatMap((statement) => statement.actions))].sort();
}

// -- Render 1: CloudFormation -------------------------------------------------------------------------------------

/** The template's parameter of each hub value. */
const PARAMETER_NAMES: Record<MemberParameter, string> = {
  hubAccountId: "HubAccountId",
  organizationId: "OrganizationId",
  externalId: "ExternalId",
};
export const UNDO_PRINCIPALS_PARAMETER = "UndoPrincipalArns";

export function hubRoleParameter(name: FunctionName): string {
  return `${name.replace(/(^|-)(\w)/g, (_all, _dash: string, letter: string) => letter.toUpperCase())}RoleArn`;
}

type CfnValue = string | { Ref: string } | { "Fn::Join": [string, (string | { Ref: string })[]] };

function cfnPart(part: Part): string | { Ref: string } {
  if (typeof part === "string") return part;
  if ("pseudo" in part) return { Ref: part.pseudo === "partition" ? "AWS::Partition" : "AWS::AccountId" };
  if ("parameter" in part) return { Ref: PARAMETER_NAMES[part.parameter] };
  return { Ref: hubRoleParameter(part.hubRole) };
}

/** Fn::Join rather than Fn::Sub: the template is a Terraform string too, where `${` would be interpolated. */
function cfnText(text: Text): CfnValue {
  const parts = text.map(cfnPart);
  if (parts.every((part) => typeof part === "string")) return parts.join("");
  if (parts.length === 1) return parts[0]!;
  return { "Fn::Join": ["", parts] };
}

function cfnConditions(conditions: readonly MemberCondition[]) {
  if (conditions.length === 0) return undefined;
  const out: Record<string, Record<string, unknown>> = {};
  for (const condition of conditions) {
    out[condition.test] ??= {};
    const byKey = out[condition.test]!;
    if (condition.variable in byKey) throw new Error(`two ${condition.test} conditions on ${condition.variable}`);
    byKey[condition.variable] =
      condition.values === "undoPrincipalArns" ? { Ref: UNDO_PRINCIPALS_PARAMETER } : condition.values.map(cfnText);
  }
  return out;
}

function cfnPolicy(statements: readonly MemberStatement[]) {
  return {
    Version: "2012-10-17",
    Statement: statements.map((statement) => {
      const condition = cfnConditions(statement.conditions);
      return {
        Sid: statement.sid,
        Effect: statement.effect,
        Action: [...statement.actions],
        Resource: statement.resources.map(cfnText),
        ...(condition ? { Condition: condition } : {}),
      };
    }),
  };
}

function cfnTrust(statements: readonly MemberTrustStatement[]) {
  return {
    Version: "2012-10-17",
    Statement: statements.map((statement) => {
      const condition = cfnConditions(statement.conditions);
      return {
        Sid: statement.sid,
        Effect: statement.effect,
        Principal: statement.principal === "*" ? "*" : { AWS: cfnText(statement.principal) },
        Action: [...statement.actions],
        ...(condition ? { Condition: condition } : {}),
      };
    }),
  };
}

const ROLE_ARN_PATTERN = "^arn:aws[a-z-]*:iam::\\d{12}:role/.+$";

/** The member roles as a CloudFormation template (an object: JSON.stringify it for a template body). */
export function memberRolesTemplate(model: MemberRolesModel) {
  const parameters: Record<string, Record<string, unknown>> = {
    [PARAMETER_NAMES.hubAccountId]: {
      Type: "String",
      AllowedPattern: "^\\d{12}$",
      Description: "The Remedy hub account (the organisation's delegated administrator running Remedy)",
    },
    [PARAMETER_NAMES.organizationId]: {
      Type: "String",
      AllowedPattern: "^o-[a-z0-9]{10,32}$",
      Description: "The organisation id: only its principals may assume the roles",
    },
    ...(model.externalId
      ? {
          [PARAMETER_NAMES.externalId]: {
            Type: "String",
            MinLength: 2,
            Description: "The ExternalId of the organisation settings (externalId): every assume must give it",
          },
        }
      : {}),
    ...Object.fromEntries(
      model.hubRoles.map((name) => [
        hubRoleParameter(name),
        { Type: "String", AllowedPattern: ROLE_ARN_PATTERN, Description: `The hub's remedy-${name} role ARN` },
      ]),
    ),
    [UNDO_PRINCIPALS_PARAMETER]: {
      Type: "CommaDelimitedList",
      Description: "Who may assume remedy-member-undo: the hub's operator principal ARNs (wildcards allowed)",
    },
  };
  const resources: Record<string, unknown> = {
    Boundary: {
      Type: "AWS::IAM::ManagedPolicy",
      Properties: {
        ManagedPolicyName: model.boundary.name,
        Path: MEMBER_ROLE_PATH,
        Description: model.boundary.description,
        PolicyDocument: cfnPolicy(model.boundary.statements),
      },
    },
  };
  for (const role of model.roles) {
    resources[role.id] = {
      Type: "AWS::IAM::Role",
      Properties: {
        RoleName: role.name,
        Path: MEMBER_ROLE_PATH,
        Description: role.description,
        MaxSessionDuration: MEMBER_MAX_SESSION_SECONDS,
        PermissionsBoundary: { Ref: "Boundary" },
        AssumeRolePolicyDocument: cfnTrust(role.trust),
        Policies: [{ PolicyName: "remedy", PolicyDocument: cfnPolicy(role.permissions) }],
      },
    };
  }
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description:
      "Remedy member roles: assumed by the Remedy hub to detect and fix, by operators to undo (infra/member-roles.ts)",
    Parameters: parameters,
    Resources: resources,
  };
}

/** CloudFormation's limit for a template body passed inline. */
export const TEMPLATE_BODY_LIMIT = 51_200;

/** The values a deployment of the template gives it (Terraform strings or tokens). */
export interface MemberTemplateValues {
  hubAccountId: string;
  organizationId: string;
  externalId?: string;
  hubRoleArns: Readonly<Record<FunctionName, string>>;
  /** Comma-separated (a CommaDelimitedList). */
  undoPrincipalArns: string;
}

/** The template's parameters, every one set (a StackSet diffs forever on a parameter left to its default). */
export function memberTemplateParameters(
  model: MemberRolesModel,
  values: MemberTemplateValues,
): Record<string, string> {
  if (model.externalId && values.externalId === undefined) throw new Error("the member roles need an ExternalId");
  return {
    [PARAMETER_NAMES.hubAccountId]: values.hubAccountId,
    [PARAMETER_NAMES.organizationId]: values.organizationId,
    ...(model.externalId ? { [PARAMETER_NAMES.externalId]: values.externalId! } : {}),
    ...Object.fromEntries(model.hubRoles.map((name) => [hubRoleParameter(name), values.hubRoleArns[name]])),
    [UNDO_PRINCIPALS_PARAMETER]: values.undoPrincipalArns,
  };
}
