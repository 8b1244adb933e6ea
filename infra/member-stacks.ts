// Where the member roles (infra/member-roles.ts) are deployed, in three ways, from the one model:
// - the hub stack's service-managed StackSet: every account of the organisation, now and as accounts join (and a
//   second one, once per region of the settings, forwarding the real-time path's events to the hub: infra/realtime.ts);
// - `remedy-management-account`: the same template as one CloudFormation stack in the management account, which a
//   StackSet never deploys to;
// - `remedy-member`: the same roles as plain Terraform resources, for teams that deploy per account with Terraform.
import { CloudformationStack } from "@cdktf/provider-aws/lib/cloudformation-stack";
import { CloudformationStackSet } from "@cdktf/provider-aws/lib/cloudformation-stack-set";
import { CloudformationStackSetInstance } from "@cdktf/provider-aws/lib/cloudformation-stack-set-instance";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import {
  DataAwsIamPolicyDocument,
  type DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Fn, Op, TerraformOutput, TerraformStack, TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";
import { FUNCTION_NAMES, type FunctionName } from "../functions/registry.ts";
import { MEMBER_ROLE_PATH } from "../platform/member-roles.ts";
import type { OrganizationSettings } from "../platform/organization.ts";
import { backendOf, type StateBackend, useBackend } from "./backend.ts";
import {
  MEMBER_MAX_SESSION_SECONDS,
  type MemberCondition,
  type MemberParameter,
  type MemberRolesModel,
  type MemberStatement,
  type MemberTrustStatement,
  memberRolesModel,
  memberRolesTemplate,
  memberTemplateParameters,
  TEMPLATE_BODY_LIMIT,
  type Text,
} from "./member-roles.ts";
import { addMemberForwarding, MEMBER_FORWARDING_PARAMETERS, memberForwardingTemplate } from "./realtime.ts";

export const MEMBER_STACK_NAME = "remedy-member";
export const MANAGEMENT_STACK_NAME = "remedy-management-account";
/** The StackSet's and the management account's CloudFormation stack's name. */
export const MEMBER_ROLES_STACK = "remedy-member-roles";
/** The StackSet forwarding the member accounts' real-time events to the hub, one instance per region. */
export const MEMBER_FORWARDING_STACK = "remedy-member-realtime";

/** A template body, checked against CloudFormation's inline limit and Terraform's interpolation. */
function templateBody(template: object, what: string): string {
  const body = JSON.stringify(template);
  if (body.length > TEMPLATE_BODY_LIMIT) {
    throw new Error(`the ${what} template is ${body.length} bytes, over CloudFormation's ${TEMPLATE_BODY_LIMIT}`);
  }
  // Terraform would interpolate these inside a string: the template never needs them (Fn::Join, not Fn::Sub).
  if (/[$%]\{/.test(body)) throw new Error(`the ${what} template contains \${ or %{`);
  return body;
}

/** The template body, checked against CloudFormation's inline limit and Terraform's interpolation. */
export function memberTemplateBody(model: MemberRolesModel): string {
  return templateBody(memberRolesTemplate(model), "member roles'");
}

/** The forwarding template's body, checked the same way. */
export function memberForwardingTemplateBody(): string {
  return templateBody(memberForwardingTemplate(), "member forwarding");
}

/**
 * Who may assume remedy-member-undo: the operators, or when none are listed any principal of the hub account (what
 * the hub's root as principal means; the trust policy still denies every hub function role).
 */
export function undoPrincipals(operators: string[], partition: string, hubAccountId: string): string[] {
  return Token.asList(
    Fn.conditional(Op.gte(Fn.lengthOf(operators), 1), operators, [
      Fn.format("arn:%s:iam::%s:*", [partition, hubAccountId]),
    ]),
  );
}

// -- In the hub: the StackSet ------------------------------------------------------------------------------------

export interface MemberRoleStackSetProps {
  model: MemberRolesModel;
  partition: string;
  hubAccountId: string;
  organizationId: string;
  /** The organisation's root: the StackSet targets every account under it. */
  rootId: string;
  externalId?: string;
  hubRoleArns: Readonly<Record<FunctionName, string>>;
  operators: string[];
  /** IAM is global: one region's instance deploys the roles once per account. */
  region: string;
}

export class MemberRoleStackSet extends Construct {
  readonly stackSet: CloudformationStackSet;

  constructor(scope: Construct, id: string, props: MemberRoleStackSetProps) {
    super(scope, id);
    this.stackSet = new CloudformationStackSet(this, "stack_set", {
      name: MEMBER_ROLES_STACK,
      description: "Remedy member roles in every account of the organisation (infra/member-roles.ts)",
      permissionModel: "SERVICE_MANAGED",
      // The hub is the organisation's delegated administrator for StackSets, not its management account.
      callAs: "DELEGATED_ADMIN",
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ["CAPABILITY_NAMED_IAM"],
      templateBody: memberTemplateBody(props.model),
      parameters: memberTemplateParameters(props.model, {
        hubAccountId: props.hubAccountId,
        organizationId: props.organizationId,
        ...(props.externalId !== undefined ? { externalId: props.externalId } : {}),
        hubRoleArns: props.hubRoleArns,
        undoPrincipalArns: Fn.join(",", undoPrincipals(props.operators, props.partition, props.hubAccountId)),
      }),
      operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25 },
      // A service-managed StackSet has no administration role; AWS reports one back, which must not read as drift.
      lifecycle: { ignoreChanges: ["administration_role_arn"] },
    });
    new CloudformationStackSetInstance(this, "instance", {
      stackSetName: this.stackSet.name,
      callAs: "DELEGATED_ADMIN",
      stackSetInstanceRegion: props.region,
      deploymentTargets: { organizationalUnitIds: [props.rootId] },
      retainStack: false,
    });
  }
}

export interface MemberForwardingStackSetProps {
  hubAccountId: string;
  /** The hub region (the region variable): where every forwarded event goes. */
  hubRegion: string;
  /** The settings' regions: one instance in each (a region's rules forward its events). */
  regions: readonly string[];
  rootId: string;
  /** The rules' states (infra/realtime.ts realtimeRuleStates): the hub's switches reach the members' rules. */
  cloudTrailState: string;
  securityHubState: string;
}

/**
 * The member accounts' forwarding rules (the real-time path): a StackSet of its own, because rules are regional and
 * the roles' StackSet deploys once (IAM is global). Its template creates nothing in the hub account itself.
 */
export class MemberForwardingStackSet extends Construct {
  readonly stackSet: CloudformationStackSet;
  readonly instances: CloudformationStackSetInstance[] = [];

  constructor(scope: Construct, id: string, props: MemberForwardingStackSetProps) {
    super(scope, id);
    const p = MEMBER_FORWARDING_PARAMETERS;
    this.stackSet = new CloudformationStackSet(this, "stack_set", {
      name: MEMBER_FORWARDING_STACK,
      description: "Remedy: forwards every member account's real-time events to the hub (infra/realtime.ts)",
      permissionModel: "SERVICE_MANAGED",
      callAs: "DELEGATED_ADMIN",
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ["CAPABILITY_NAMED_IAM"],
      templateBody: memberForwardingTemplateBody(),
      parameters: {
        [p.hubAccountId]: props.hubAccountId,
        [p.hubRegion]: props.hubRegion,
        [p.cloudTrailState]: props.cloudTrailState,
        [p.securityHubState]: props.securityHubState,
      },
      operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25 },
      lifecycle: { ignoreChanges: ["administration_role_arn"] },
    });
    for (const region of props.regions) {
      const previous = this.instances.at(-1);
      this.instances.push(
        new CloudformationStackSetInstance(this, `instance_${region.replaceAll("-", "_")}`, {
          stackSetName: this.stackSet.name,
          callAs: "DELEGATED_ADMIN",
          stackSetInstanceRegion: region,
          deploymentTargets: { organizationalUnitIds: [props.rootId] },
          retainStack: false,
          // One StackSet operation at a time: CloudFormation refuses a second while one runs.
          ...(previous ? { dependsOn: [previous] } : {}),
        }),
      );
    }
  }
}

// -- The stacks deployed with a member's (or the management account's) own credentials --------------------------

interface MemberVariables {
  region: TerraformVariable;
  accountId: TerraformVariable;
  hubAccountId: TerraformVariable;
  organizationId: TerraformVariable;
  externalId?: TerraformVariable;
  hubRoleArns: TerraformVariable;
  undoPrincipalArns: TerraformVariable;
  /** The real-time forwarding: where the hub's bus is, and the hub's rule states. */
  hubRegion: TerraformVariable;
  realtimeCloudTrailRuleState: TerraformVariable;
  realtimeSecurityHubRuleState: TerraformVariable;
}

/** The same variables for both per-account stacks: what the hub's `member_stack_variables` output holds. */
function memberVariables(scope: Construct, model: MemberRolesModel, settings: OrganizationSettings): MemberVariables {
  const v = (id: string, config: ConstructorParameters<typeof TerraformVariable>[2]) =>
    new TerraformVariable(scope, id, config);
  return {
    region: v("region", {
      type: "string",
      default: settings.regions[0],
      description: "Where the provider runs (IAM is global).",
    }),
    accountId: v("account_id", {
      type: "string",
      description: "The account this apply is for: the provider refuses credentials of any other.",
      validation: [
        { condition: '${can(regex("^\\\\d{12}$", var.account_id))}', errorMessage: "account_id must be 12 digits." },
      ],
    }),
    hubAccountId: v("hub_account_id", {
      type: "string",
      description: "The Remedy hub account (the hub stack's member_stack_variables output).",
      validation: [
        {
          condition: '${can(regex("^\\\\d{12}$", var.hub_account_id))}',
          errorMessage: "hub_account_id must be 12 digits.",
        },
      ],
    }),
    organizationId: v("organization_id", {
      type: "string",
      description: "The organisation's id: only its principals may assume the roles.",
      validation: [
        {
          condition: '${can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))}',
          errorMessage: "organization_id must be an organisation id (o-...).",
        },
      ],
    }),
    ...(model.externalId
      ? {
          externalId: v("external_id", {
            type: "string",
            default: settings.externalId,
            description: "The organisation settings' externalId: every assume of a member role must give it.",
            validation: [
              { condition: "${length(var.external_id) >= 2}", errorMessage: "external_id must not be empty." },
            ],
          }),
        }
      : {}),
    hubRoleArns: v("hub_role_arns", {
      type: "map(string)",
      description: "Each hub function's role ARN, by function name (the hub stack's member_stack_variables output).",
      validation: [
        {
          condition: `\${alltrue([for name in ${JSON.stringify(FUNCTION_NAMES).replaceAll(",", ", ")} : can(regex("^arn:aws[a-z-]*:iam::\\\\d{12}:role/.+$", var.hub_role_arns[name]))])}`,
          errorMessage: `hub_role_arns must give a role ARN for each of ${FUNCTION_NAMES.join(", ")}.`,
        },
      ],
    }),
    undoPrincipalArns: v("undo_principal_arns", {
      type: "list(string)",
      default: [],
      description:
        "Who may assume remedy-member-undo (the hub's operator_principal_arns). Empty: any principal of the hub account; never a Remedy function.",
    }),
    hubRegion: v("hub_region", {
      type: "string",
      description:
        "The hub's region: every region's real-time events are forwarded to its default bus (the hub stack's member_stack_variables output).",
      validation: [
        {
          condition: '${can(regex("^[a-z]{2}(-[a-z]+)+-\\\\d$", var.hub_region))}',
          errorMessage: "hub_region must be a region name (e.g. eu-west-1).",
        },
      ],
    }),
    realtimeCloudTrailRuleState: ruleState(v, "realtime_cloudtrail_rule_state", "enable_realtime"),
    realtimeSecurityHubRuleState: ruleState(
      v,
      "realtime_security_hub_rule_state",
      "enable_realtime and enable_security_hub_findings",
    ),
  };
}

/** A forwarding rule's state, as the hub's variables set it (the hub stack's member_stack_variables output). */
function ruleState(
  v: (id: string, config: ConstructorParameters<typeof TerraformVariable>[2]) => TerraformVariable,
  name: string,
  hubSwitches: string,
): TerraformVariable {
  return v(name, {
    type: "string",
    description: `ENABLED or DISABLED: the hub's ${hubSwitches} (the hub stack's member_stack_variables output).`,
    validation: [
      {
        condition: `\${contains(["ENABLED", "DISABLED"], var.${name})}`,
        errorMessage: `${name} must be ENABLED or DISABLED.`,
      },
    ],
  });
}

function memberProvider(scope: Construct, vars: MemberVariables) {
  new AwsProvider(scope, "aws", {
    region: vars.region.stringValue,
    allowedAccountIds: [vars.accountId.stringValue],
    defaultTags: [{ tags: { app: "remedy" } }],
  });
}

/** A provider per region of the settings (static: Terraform must know every provider before it plans). */
function regionProviders(
  scope: Construct,
  vars: MemberVariables,
  settings: OrganizationSettings,
): Record<string, AwsProvider> {
  return Object.fromEntries(
    settings.regions.map((region) => {
      const id = region.replaceAll("-", "_");
      const provider = new AwsProvider(scope, `aws_${id}`, {
        alias: id,
        region,
        allowedAccountIds: [vars.accountId.stringValue],
        defaultTags: [{ tags: { app: "remedy" } }],
      });
      return [region, provider];
    }),
  );
}

export interface MemberStackOptions {
  settings: OrganizationSettings;
  /** The hub's backend: this stack keeps its state beside it (infra/backend.ts backendOf). */
  backend?: StateBackend;
}

/** The member roles' template as one CloudFormation stack (the management account, which StackSets skip). */
export class RemedyManagementAccountStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: MemberStackOptions) {
    super(scope, id);
    useBackend(this, backendOf(id, props.backend));
    const model = memberRolesModel(props.settings);
    const vars = memberVariables(this, model, props.settings);
    memberProvider(this, vars);
    const partition = new DataAwsPartition(this, "partition").partition;
    const hubRoleArns = Object.fromEntries(
      FUNCTION_NAMES.map((name) => [name, Token.asString(Fn.lookup(vars.hubRoleArns.value, name))]),
    ) as Record<FunctionName, string>;
    new CloudformationStack(this, "member_roles", {
      name: MEMBER_ROLES_STACK,
      capabilities: ["CAPABILITY_NAMED_IAM"],
      templateBody: memberTemplateBody(model),
      parameters: memberTemplateParameters(model, {
        hubAccountId: vars.hubAccountId.stringValue,
        organizationId: vars.organizationId.stringValue,
        ...(vars.externalId ? { externalId: vars.externalId.stringValue } : {}),
        hubRoleArns,
        undoPrincipalArns: Fn.join(
          ",",
          undoPrincipals(vars.undoPrincipalArns.listValue, partition, vars.hubAccountId.stringValue),
        ),
      }),
    });
    // The real-time forwarding, as the StackSet deploys it to the members: the same template, one stack per region.
    const p = MEMBER_FORWARDING_PARAMETERS;
    for (const [region, provider] of Object.entries(regionProviders(this, vars, props.settings))) {
      new CloudformationStack(this, `member_forwarding_${region.replaceAll("-", "_")}`, {
        provider,
        name: MEMBER_FORWARDING_STACK,
        capabilities: ["CAPABILITY_NAMED_IAM"],
        templateBody: memberForwardingTemplateBody(),
        parameters: {
          [p.hubAccountId]: vars.hubAccountId.stringValue,
          [p.hubRegion]: vars.hubRegion.stringValue,
          [p.cloudTrailState]: vars.realtimeCloudTrailRuleState.stringValue,
          [p.securityHubState]: vars.realtimeSecurityHubRuleState.stringValue,
        },
      });
    }
  }
}

/** The member roles as Terraform resources, rendered from the same model as the template. */
export class RemedyMemberStack extends TerraformStack {
  readonly roles: Record<string, IamRole> = {};

  constructor(scope: Construct, id: string, props: MemberStackOptions) {
    super(scope, id);
    useBackend(this, backendOf(id, props.backend));
    const model = memberRolesModel(props.settings);
    const vars = memberVariables(this, model, props.settings);
    memberProvider(this, vars);
    const partition = new DataAwsPartition(this, "partition").partition;
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    const parameters: Record<MemberParameter, string> = {
      hubAccountId: vars.hubAccountId.stringValue,
      organizationId: vars.organizationId.stringValue,
      externalId: vars.externalId?.stringValue ?? "",
    };
    const text = (value: Text): string =>
      value
        .map((part) => {
          if (typeof part === "string") return part;
          if ("pseudo" in part) return part.pseudo === "partition" ? partition : account;
          if ("parameter" in part) return parameters[part.parameter];
          return Token.asString(Fn.lookup(vars.hubRoleArns.value, part.hubRole));
        })
        .join("");
    const undo = undoPrincipals(vars.undoPrincipalArns.listValue, partition, vars.hubAccountId.stringValue);
    const conditions = (list: readonly MemberCondition[]) =>
      list.map((condition) => ({
        test: condition.test,
        variable: condition.variable,
        values: condition.values === "undoPrincipalArns" ? undo : condition.values.map(text),
      }));
    const policyStatement = (statement: MemberStatement): DataAwsIamPolicyDocumentStatement => ({
      sid: statement.sid,
      effect: statement.effect,
      actions: [...statement.actions],
      resources: statement.resources.map(text),
      ...(statement.conditions.length > 0 ? { condition: conditions(statement.conditions) } : {}),
    });
    const trustStatement = (statement: MemberTrustStatement): DataAwsIamPolicyDocumentStatement => ({
      sid: statement.sid,
      effect: statement.effect,
      principals:
        statement.principal === "*"
          ? [{ type: "*", identifiers: ["*"] }]
          : [{ type: "AWS", identifiers: [text(statement.principal)] }],
      actions: [...statement.actions],
      ...(statement.conditions.length > 0 ? { condition: conditions(statement.conditions) } : {}),
    });

    const boundaryDoc = new DataAwsIamPolicyDocument(this, "boundary_doc", {
      statement: model.boundary.statements.map(policyStatement),
    });
    const boundary = new IamPolicy(this, "boundary", {
      name: model.boundary.name,
      path: MEMBER_ROLE_PATH,
      description: model.boundary.description,
      policy: boundaryDoc.json,
    });
    for (const role of model.roles) {
      const id = role.name.replace(/^remedy-member-/, "").replaceAll("-", "_");
      const trust = new DataAwsIamPolicyDocument(this, `${id}_trust_doc`, {
        statement: role.trust.map(trustStatement),
      });
      const resource = new IamRole(this, `${id}_role`, {
        name: role.name,
        path: MEMBER_ROLE_PATH,
        description: role.description,
        maxSessionDuration: MEMBER_MAX_SESSION_SECONDS,
        permissionsBoundary: boundary.arn,
        assumeRolePolicy: trust.json,
      });
      this.roles[role.name] = resource;
      const policy = new DataAwsIamPolicyDocument(this, `${id}_policy_doc`, {
        statement: role.permissions.map(policyStatement),
      });
      new IamRolePolicy(this, `${id}_policy`, { name: "remedy", role: resource.id, policy: policy.json });
    }
    for (const role of model.roles) {
      const id = role.name.replace(/^remedy-member-/, "").replaceAll("-", "_");
      new TerraformOutput(this, `${id}_role_arn`, { value: this.roles[role.name]!.arn });
    }
    // The real-time forwarding, as the StackSet's template has it (infra/realtime.ts addMemberForwarding).
    addMemberForwarding(this, {
      partition,
      account: vars.accountId.stringValue,
      hubAccountId: vars.hubAccountId.stringValue,
      hubRegion: vars.hubRegion.stringValue,
      providers: regionProviders(this, vars, props.settings),
      states: {
        cloudTrail: vars.realtimeCloudTrailRuleState.stringValue,
        securityHub: vars.realtimeSecurityHubRuleState.stringValue,
      },
    });
  }
}
