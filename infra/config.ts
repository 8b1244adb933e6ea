// AWS Config: one custom rule per rule in the registry, served by the config-rule function, and — when
// manage_config is true — a recorder for the registry's types Config records, its delivery bucket and SNS topic (whose
// notices the notifier relays).
import { ConfigConfigRule } from "@cdktf/provider-aws/lib/config-config-rule";
import { ConfigConfigurationRecorder } from "@cdktf/provider-aws/lib/config-configuration-recorder";
import { ConfigConfigurationRecorderStatus } from "@cdktf/provider-aws/lib/config-configuration-recorder-status";
import { ConfigDeliveryChannel } from "@cdktf/provider-aws/lib/config-delivery-channel";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import type { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { Fn, Op, ref, type TerraformResource, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import { RULES } from "../detection/rules.ts";
import { RESOURCE_TYPES } from "../problems/index.ts";
import { listedByInventory } from "../problems/inventory.ts";
import { sgOpenIngressRule } from "../problems/sg-open-ingress/detect.ts";
import type { RemedyVariables } from "./variables.ts";

export interface ConfigRulesProps {
  vars: RemedyVariables;
  partition: string;
  account: string;
  ruleFunction: LambdaFunction;
  namePrefix: string;
  region: string;
  rules: readonly DeployedRuleSpec[];
  /**
   * The account's own Config rules (default). Organisation mode has none: the organisation rules (infra/stack.ts)
   * reach every account, the hub's included.
   */
  accountRules?: boolean;
}

/** One Remedy rule as the stack deploys it: the Config rule and, in every function's REMEDY_RULES, the same values. */
export interface DeployedRuleSpec {
  /** Remedy's rule id (detection/rules.ts). */
  id: string;
  configRuleName: string;
  /** The resource types it judges (its Config rule's scope; none for a rule that only runs periodically). */
  resourceTypes: readonly string[];
  /** Config's message types that invoke it. */
  triggers: readonly RuleTrigger[];
  /** A Terraform object expression, or undefined for a rule without parameters. */
  parameters?: unknown;
}

/**
 * The rules whose parameters are deployment settings, by rule id: each from the Terraform variables. A rule not
 * listed takes no parameters.
 */
const RULE_PARAMETERS: Readonly<Record<string, (vars: RemedyVariables) => unknown>> = {
  [sgOpenIngressRule.id]: (vars) =>
    Fn.merge([
      Fn.conditional(
        Op.gte(Fn.lengthOf(vars.prohibitedPorts.stringValue), 1),
        { prohibitedPorts: vars.prohibitedPorts.stringValue },
        { authorizedPorts: vars.authorizedPorts.stringValue },
      ),
      {
        ipv4MinPrefix: Fn.tostring(vars.ipv4MinPrefix.numberValue),
        ipv6MinPrefix: Fn.tostring(vars.ipv6MinPrefix.numberValue),
      },
    ]),
};

/**
 * The deployed rules, one per rule in the registry (detection/rules.ts), from the variables: what Config is given
 * (input_parameters) and what every function judges with (REMEDY_RULES). One source, so the two cannot drift apart;
 * Remedy never takes parameters from an event.
 */
export function deployedRuleSpecs(vars: RemedyVariables, namePrefix: string): DeployedRuleSpec[] {
  return RULES.map((rule) => {
    const parameters = RULE_PARAMETERS[rule.id]?.(vars);
    const recorded = rule.resourceTypes.filter(isRecordedByConfig);
    if (recorded.length > 0 && recorded.length < rule.resourceTypes.length) {
      throw new Error(`rule ${rule.id} mixes types Config records with types it does not: split it`);
    }
    return {
      id: rule.id,
      configRuleName: `${namePrefix}-${rule.id}`,
      resourceTypes: recorded,
      // A type Config does not record has no configuration items to change: only the periodic run judges it (the
      // rule function lists it itself, problems/<folder>/inventory.ts).
      triggers: recorded.length > 0 ? RULE_TRIGGERS : ["ScheduledNotification"],
      ...(parameters !== undefined ? { parameters } : {}),
    };
  });
}

function isRecordedByConfig(type: string): boolean {
  return !listedByInventory(type);
}

/** The resource types the recorder records: the registry's, but those Config cannot record. */
export const RECORDED_RESOURCE_TYPES: readonly string[] = RESOURCE_TYPES.filter(isRecordedByConfig);

/** What a rule's description says it judges. */
export function ruleSubject(spec: DeployedRuleSpec): string {
  return spec.resourceTypes.length > 0 ? spec.resourceTypes.join(", ") : "resources Config does not record";
}

/** REMEDY_RULES: the deployed rules as JSON (platform/deployment.ts reads it). */
export function deployedRulesJson(specs: readonly DeployedRuleSpec[]): string {
  return Fn.jsonencode(
    specs.map((spec) => ({ id: spec.id, configRuleName: spec.configRuleName, parameters: spec.parameters ?? {} })),
  );
}

/** What triggers a Remedy rule: every change of a judged item, and the periodic scan (Config's message types). */
export const RULE_TRIGGERS = [
  "ConfigurationItemChangeNotification",
  "OversizedConfigurationItemChangeNotification",
  "ScheduledNotification",
] as const;
export type RuleTrigger = (typeof RULE_TRIGGERS)[number];

/** `resource[0].attr` of a resource created with count (0 or 1). */
export function first(resource: TerraformResource, attribute: string): string {
  const stack = TerraformStack.of(resource);
  return Token.asString(Fn.one(Token.asList(ref(`${resource.fqn}[*].${attribute}`, stack))));
}

export class ConfigRules extends Construct {
  /** The Config SNS topic: Remedy's (manage_config) or the existing one (may be empty). */
  readonly topicArn: string;
  readonly rules: ConfigConfigRule[];

  constructor(scope: Construct, id: string, props: ConfigRulesProps) {
    super(scope, id);
    const { vars, partition, account } = props;
    const managed = Token.asNumber(Fn.conditional(vars.manageConfig.booleanValue, 1, 0));

    // -- Optional recorder (manage_config) ---------------------------------------------------------------------
    const bucket = new S3Bucket(this, "bucket", { bucketPrefix: `${props.namePrefix}-config-`, count: managed });
    const bucketName = first(bucket, "id");
    const bucketArn = first(bucket, "arn");
    new S3BucketPublicAccessBlock(this, "bucket_bpa", {
      count: managed,
      bucket: bucketName,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const topic = new SnsTopic(this, "topic", { name: `${props.namePrefix}-config`, count: managed });
    const role = new IamRole(this, "recorder_role", {
      count: managed,
      name: `${props.namePrefix}-config-recorder-${vars.region.stringValue}`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "config.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    });
    new IamRolePolicyAttachment(this, "recorder_managed_policy", {
      count: managed,
      role: first(role, "name"),
      policyArn: `arn:${partition}:iam::aws:policy/service-role/AWS_ConfigRole`,
    });
    new IamRolePolicy(this, "recorder_delivery_policy", {
      count: managed,
      name: "delivery",
      role: first(role, "id"),
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["s3:PutObject"], Resource: `${bucketArn}/AWSLogs/${account}/*` },
          { Effect: "Allow", Action: ["s3:GetBucketAcl"], Resource: bucketArn },
          { Effect: "Allow", Action: ["sns:Publish"], Resource: first(topic, "arn") },
        ],
      }),
    });
    const recorder = new ConfigConfigurationRecorder(this, "recorder", {
      count: managed,
      name: props.namePrefix,
      roleArn: first(role, "arn"),
      recordingGroup: { allSupported: false, resourceTypes: [...RECORDED_RESOURCE_TYPES] },
    });
    const channel = new ConfigDeliveryChannel(this, "channel", {
      count: managed,
      name: props.namePrefix,
      s3BucketName: bucketName,
      snsTopicArn: first(topic, "arn"),
      dependsOn: [recorder],
    });
    const status = new ConfigConfigurationRecorderStatus(this, "recorder_status", {
      count: managed,
      name: first(recorder, "name"),
      isEnabled: true,
      dependsOn: [channel],
    });
    this.topicArn = Token.asString(
      Fn.conditional(vars.manageConfig.booleanValue, first(topic, "arn"), vars.existingConfigTopicArn.stringValue),
    );

    // -- The rules ---------------------------------------------------------------------------------------------
    if (props.accountRules === false) {
      this.rules = [];
      return;
    }
    // Config checks at PutConfigRule time that it may invoke the function, so the permission must exist before
    // the rules, and a rule's ARN (config-rule/config-rule-<random id>) is only known after: the permission is
    // pinned to Config rules of this account and region, and the function itself accepts only the exact names of
    // Remedy's rules (platform/deployment.ts) and judges with the deployed parameters, whatever the event says.
    const permission = new LambdaPermission(this, "invoke", {
      statementId: "AllowConfigRules",
      action: "lambda:InvokeFunction",
      functionName: props.ruleFunction.functionName,
      principal: "config.amazonaws.com",
      sourceAccount: account,
      sourceArn: `arn:${partition}:config:${props.region}:${account}:config-rule/*`,
    });
    this.rules = props.rules.map(
      (spec) =>
        new ConfigConfigRule(this, spec.id.replaceAll("-", "_"), {
          name: spec.configRuleName,
          description: `Remedy: ${ruleSubject(spec)} (rule code in problems/, evaluated by ${props.ruleFunction.functionName})`,
          source: {
            owner: "CUSTOM_LAMBDA",
            sourceIdentifier: props.ruleFunction.arn,
            sourceDetail: spec.triggers.map((messageType) => ({
              eventSource: "aws.config",
              messageType,
              ...(messageType === "ScheduledNotification"
                ? { maximumExecutionFrequency: vars.ruleEvaluationFrequency.stringValue }
                : {}),
            })),
          },
          ...(spec.resourceTypes.length > 0 ? { scope: { complianceResourceTypes: [...spec.resourceTypes] } } : {}),
          ...(spec.parameters !== undefined ? { inputParameters: Fn.jsonencode(spec.parameters) } : {}),
          dependsOn: [permission, status],
        }),
    );
  }
}
