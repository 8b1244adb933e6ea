// AWS Config: the two custom rules served by the config-rule function, and — when manage_config is true — a
// recorder for security groups and buckets, its delivery bucket and SNS topic (whose notices the notifier relays).
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
import type { RemedyVariables } from "./variables.ts";

export interface ConfigRulesProps {
  vars: RemedyVariables;
  partition: string;
  account: string;
  ruleFunction: LambdaFunction;
  namePrefix: string;
}

/** `resource[0].attr` of a resource created with count (0 or 1). */
function first(resource: TerraformResource, attribute: string): string {
  const stack = TerraformStack.of(resource);
  return Token.asString(Fn.one(Token.asList(ref(`${resource.fqn}[*].${attribute}`, stack))));
}

export class ConfigRules extends Construct {
  /** The Config SNS topic: Remedy's (manage_config) or the existing one (may be empty). */
  readonly topicArn: string;
  readonly sgRule: ConfigConfigRule;
  readonly s3Rule: ConfigConfigRule;

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
      recordingGroup: { allSupported: false, resourceTypes: ["AWS::EC2::SecurityGroup", "AWS::S3::Bucket"] },
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
    const permission = new LambdaPermission(this, "invoke", {
      statementId: "AllowConfigRules",
      action: "lambda:InvokeFunction",
      functionName: props.ruleFunction.functionName,
      principal: "config.amazonaws.com",
      sourceAccount: account,
    });
    const sourceDetail = [
      { eventSource: "aws.config", messageType: "ConfigurationItemChangeNotification" },
      { eventSource: "aws.config", messageType: "OversizedConfigurationItemChangeNotification" },
      {
        eventSource: "aws.config",
        messageType: "ScheduledNotification",
        maximumExecutionFrequency: vars.ruleEvaluationFrequency.stringValue,
      },
    ];
    const rule = (ruleId: string, resourceType: string, inputParameters?: string) =>
      new ConfigConfigRule(this, ruleId, {
        name: `${props.namePrefix}-${ruleId.replaceAll("_", "-")}`,
        description: `Remedy: ${resourceType} (rule code in rules/, evaluated by ${props.ruleFunction.functionName})`,
        source: { owner: "CUSTOM_LAMBDA", sourceIdentifier: props.ruleFunction.arn, sourceDetail },
        scope: { complianceResourceTypes: [resourceType] },
        ...(inputParameters ? { inputParameters } : {}),
        dependsOn: [permission, status],
      });
    this.sgRule = rule(
      "sg_open_ingress",
      "AWS::EC2::SecurityGroup",
      Fn.jsonencode(
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
      ),
    );
    this.s3Rule = rule("s3_public", "AWS::S3::Bucket");
  }
}
