// The real-time path's infrastructure (functions/realtime/): EventBridge rules on CloudTrail's API calls and Security
// Hub's imported findings, a delaying queue in front of the real-time function, the coordinator's "run now" settings,
// and in organisation mode the forwarding of every member account's and region's events to the hub region's bus.
// Events are claims: the queue takes them only from the two rules, and the function re-reads everything live.
import { CloudwatchEventPermission } from "@cdktf/provider-aws/lib/cloudwatch-event-permission";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import type { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaFunctionEventInvokeConfig } from "@cdktf/provider-aws/lib/lambda-function-event-invoke-config";
import type { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { Fn, type ITerraformDependable, Op, Token } from "cdktf";
import { Construct } from "constructs";
import { cloudTrailPattern, securityHubPattern } from "../functions/realtime/patterns.ts";
import { FUNCTIONS } from "../functions/registry.ts";
import { MEMBER_ROLE_PATH } from "../platform/member-roles.ts";
import { denyInsecureQueueTransport } from "./iam.ts";
import type { RemedyVariables } from "./variables.ts";

/** Events one real-time invocation judges at most (SQS's largest batch without a batching window). */
export const REALTIME_BATCH_SIZE = 10;
/** Real-time invocations at once at most: a burst is a burst of instructions, bounded here and by the breaker. */
export const REALTIME_MAX_CONCURRENCY = 5;
/**
 * How old an asynchronous coordinator request may get: a "run now" older than a minute is superseded by the
 * schedule's next tick, and the coordinator runs one at a time, so a throttled request must not wait for hours.
 */
export const RUN_NOW_MAX_AGE_SECONDS = 60;

export const REALTIME_RULE_NAMES = {
  cloudTrail: "remedy-realtime-cloudtrail",
  securityHub: "remedy-realtime-security-hub",
} as const;
/** What both forwarding rules' names start with (the forwarding roles trust only them). */
const FORWARD_RULE_PREFIX = "remedy-realtime-forward";
/** The rules in other regions (and member accounts) that forward the same events to the hub region's default bus. */
export const FORWARD_RULE_NAMES = {
  cloudTrail: `${FORWARD_RULE_PREFIX}-cloudtrail`,
  securityHub: `${FORWARD_RULE_PREFIX}-security-hub`,
} as const;
/**
 * The forwarding roles' names: the hub's one (its region in the name), a member account's one per region (IAM is
 * global; the forwarding StackSet deploys once per region).
 */
export const FORWARD_ROLE_PREFIX = "remedy-realtime-forward";

/** The two rules' states: off with enable_realtime; Security Hub's also off with enable_security_hub_findings. */
export function realtimeRuleStates(vars: RemedyVariables): { cloudTrail: string; securityHub: string } {
  return {
    cloudTrail: Token.asString(Fn.conditional(vars.enableRealtime.booleanValue, "ENABLED", "DISABLED")),
    securityHub: Token.asString(
      Fn.conditional(
        Op.and(vars.enableRealtime.booleanValue, vars.enableSecurityHubFindings.booleanValue),
        "ENABLED",
        "DISABLED",
      ),
    ),
  };
}

export interface RealtimeProps {
  vars: RemedyVariables;
  namePrefix: string;
}

export interface RealtimeConnection {
  realtimeFunction: LambdaFunction;
  coordinator: LambdaFunction;
  /** What the event source mapping waits for: the function role's policy (Lambda checks it can receive). */
  dependsOn?: ITerraformDependable[];
}

export interface RealtimeForwarding {
  partition: string;
  account: string;
  /** The hub region (the region variable): its default bus is where every event goes. */
  hubRegion: string;
  /** Each region of the organisation settings, with its provider: each but the hub's forwards. */
  providers: Readonly<Record<string, AwsProvider>>;
  organizationId: string;
}

/**
 * The real-time path. Its queues exist before the functions (their ARNs scope the real-time role); `connect` adds
 * the rules, the queue policy and the event source once the functions do.
 */
export class Realtime extends Construct {
  readonly queue: SqsQueue;
  readonly dlq: SqsQueue;
  private rules?: { cloudTrail: CloudwatchEventRule; securityHub: CloudwatchEventRule };
  private readonly vars: RemedyVariables;

  constructor(scope: Construct, id: string, props: RealtimeProps) {
    super(scope, id);
    this.vars = props.vars;
    this.dlq = new SqsQueue(this, "dlq", {
      name: `${props.namePrefix}-realtime-dlq`,
      sqsManagedSseEnabled: true,
      // Longer than the queue's: SQS keeps a dead letter's first enqueue time, so it must outlive the source queue's.
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    this.queue = new SqsQueue(this, "queue", {
      name: `${props.namePrefix}-realtime`,
      sqsManagedSseEnabled: true,
      // State settles and Terraform's follow-up tagging (an exemption tag) lands before the resource is read.
      delaySeconds: props.vars.realtimeDelaySeconds.numberValue,
      // An event older than a day is superseded by Config's periodic evaluation.
      messageRetentionSeconds: 24 * 3600,
      // Six times the function's timeout, as Lambda's SQS event source wants.
      visibilityTimeoutSeconds: 6 * FUNCTIONS.realtime.timeoutSeconds,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: this.dlq.arn, maxReceiveCount: 5 }),
    });
  }

  /** The rule names, once connected. */
  get ruleNames(): { cloudTrail: string; securityHub: string } {
    if (!this.rules) throw new Error("infra/realtime.ts: connect() the real-time path first");
    return { cloudTrail: this.rules.cloudTrail.name, securityHub: this.rules.securityHub.name };
  }

  connect(props: RealtimeConnection): void {
    const states = realtimeRuleStates(this.vars);
    // Default bus, hub region: CloudTrail's management events and Security Hub's findings arrive there (in
    // organisation mode also those the forwarding rules bring).
    const cloudTrail = new CloudwatchEventRule(this, "cloudtrail_rule", {
      name: REALTIME_RULE_NAMES.cloudTrail,
      description: "Remedy: API calls that can open a problem (CloudTrail management events), judged in seconds.",
      eventPattern: JSON.stringify(cloudTrailPattern()),
      state: states.cloudTrail,
    });
    const securityHub = new CloudwatchEventRule(this, "security_hub_rule", {
      name: REALTIME_RULE_NAMES.securityHub,
      description: "Remedy: Security Hub findings of controls that map onto its problems (hints, re-judged live).",
      eventPattern: JSON.stringify(securityHubPattern()),
      state: states.securityHub,
    });
    this.rules = { cloudTrail, securityHub };
    const ruleArns = [cloudTrail.arn, securityHub.arn];
    for (const [id, rule] of [
      ["cloudtrail", cloudTrail],
      ["security_hub", securityHub],
    ] as const) {
      new CloudwatchEventTarget(this, `${id}_target`, {
        rule: rule.name,
        arn: this.queue.arn,
        targetId: "realtime-queue",
        // An event EventBridge could not deliver lands beside the function's failures, not nowhere.
        deadLetterConfig: { arn: this.dlq.arn },
      });
    }

    const eventsSend = (sid: string, arn: string) => ({
      sid,
      principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
      actions: ["sqs:SendMessage"],
      resources: [arn],
      condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: ruleArns }],
    });
    // Whatever anyone's IAM policy says: only the two rules put events here (a principal's call has no SourceArn).
    const onlyTheRules = (sid: string, arn: string) => ({
      sid,
      effect: "Deny",
      principals: [{ type: "*", identifiers: ["*"] }],
      actions: ["sqs:SendMessage"],
      resources: [arn],
      condition: [{ test: "ArnNotEquals", variable: "aws:SourceArn", values: ruleArns }],
    });
    const queuePolicy = new DataAwsIamPolicyDocument(this, "queue_policy_doc", {
      statement: [
        eventsSend("RealtimeRulesSend", this.queue.arn),
        onlyTheRules("OnlyTheRealtimeRulesSend", this.queue.arn),
        denyInsecureQueueTransport(this.queue.arn),
      ],
    });
    new SqsQueuePolicy(this, "queue_policy", { queueUrl: this.queue.url, policy: queuePolicy.json });
    // EventBridge's dead letters need a grant; SQS's own redrive none. No deny of other senders here: a redrive carries
    // no SourceArn, and nothing consumes this queue by itself (a dead letter is for operators to read).
    const dlqPolicy = new DataAwsIamPolicyDocument(this, "dlq_policy_doc", {
      statement: [eventsSend("RealtimeRulesDeadLetter", this.dlq.arn), denyInsecureQueueTransport(this.dlq.arn)],
    });
    new SqsQueuePolicy(this, "dlq_policy", { queueUrl: this.dlq.url, policy: dlqPolicy.json });

    new LambdaEventSourceMapping(this, "events", {
      eventSourceArn: this.queue.arn,
      functionName: props.realtimeFunction.arn,
      batchSize: REALTIME_BATCH_SIZE,
      // Latency matters: a batch goes as soon as there is one event.
      maximumBatchingWindowInSeconds: 0,
      // One event the function cannot judge is retried alone (then dead-lettered), never its whole batch.
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: REALTIME_MAX_CONCURRENCY },
      ...(props.dependsOn ? { dependsOn: props.dependsOn } : {}),
    });

    // The real-time function's "run now" is an asynchronous invoke, as is the schedule's tick: neither is retried,
    // and neither waits longer than the next tick would (see RUN_NOW_MAX_AGE_SECONDS).
    new LambdaFunctionEventInvokeConfig(this, "coordinator_async", {
      functionName: props.coordinator.functionName,
      maximumRetryAttempts: 0,
      maximumEventAgeInSeconds: RUN_NOW_MAX_AGE_SECONDS,
    });
  }

  /**
   * Organisation mode, in the hub: the organisation's accounts may put events on the hub region's default bus, and
   * every other region of the settings forwards the same events there (the member accounts' rules are the StackSet's,
   * infra/member-stacks.ts).
   */
  forward(props: RealtimeForwarding): void {
    const { partition, account, hubRegion } = props;
    const hubBusArn = hubBus(partition, hubRegion, account);
    // One statement added to the bus's policy (not the whole policy: other statements the account has stay).
    new CloudwatchEventPermission(this, "organization_puts", {
      statementId: "RemedyOrganizationForwardsEvents",
      eventBusName: "default",
      action: "events:PutEvents",
      principal: "*",
      condition: { key: "aws:PrincipalOrgID", type: "StringEquals", value: props.organizationId },
    });

    const role = new IamRole(this, "forward_role", {
      // IAM is global: the hub region in the name, like the functions' roles.
      name: `${FORWARD_ROLE_PREFIX}-${hubRegion}`,
      path: MEMBER_ROLE_PATH,
      description: "Remedy: EventBridge forwards the real-time events of the other regions to the hub region's bus",
      assumeRolePolicy: JSON.stringify(
        forwardTrust(account, `arn:${partition}:events:*:${account}:rule/${FORWARD_RULE_PREFIX}-*`),
      ),
    });
    const putEvents = new DataAwsIamPolicyDocument(this, "forward_policy_doc", {
      statement: [{ actions: ["events:PutEvents"], resources: [hubBusArn] }],
    });
    new IamRolePolicy(this, "forward_policy", { name: "remedy", role: role.id, policy: putEvents.json });

    const states = realtimeRuleStates(this.vars);
    for (const [region, provider] of Object.entries(props.providers)) {
      // The hub region's rules take its events directly: no forwarding rule there (count 0).
      addForwardingRules(this, {
        idSuffix: region.replaceAll("-", "_"),
        provider,
        region,
        count: Token.asNumber(Fn.conditional(Op.eq(hubRegion, region), 0, 1)),
        states,
        hubBusArn,
        roleArn: role.arn,
      });
    }
  }
}

export interface MemberForwardingProps {
  partition: string;
  /**
   * The account applying (a member's, or the management account's): its account_id variable, which the provider
   * enforces, so the count below is known when Terraform plans.
   */
  account: string;
  hubAccountId: string;
  hubRegion: string;
  /** Each region of the organisation settings, with its provider: each forwards its events. */
  providers: Readonly<Record<string, AwsProvider>>;
  /** The hub's rule states (its member_stack_variables output). */
  states: { cloudTrail: string; securityHub: string };
}

/**
 * The member forwarding template (memberForwardingTemplate) as Terraform resources, for the accounts that apply the
 * `remedy-member` stack with their own credentials: per region a role and the two forwarding rules. Nothing when
 * applied in the hub account itself, whose own stack forwards (a rule onto its own bus would loop).
 */
export function addMemberForwarding(scope: Construct, props: MemberForwardingProps): void {
  const { partition, account } = props;
  const hubBusArn = hubBus(partition, props.hubRegion, props.hubAccountId);
  const notTheHub = Token.asNumber(Fn.conditional(Op.eq(account, props.hubAccountId), 0, 1));
  for (const [region, provider] of Object.entries(props.providers)) {
    const id = region.replaceAll("-", "_");
    // The template's names: one role per region, whichever way the account's forwarding was deployed.
    const roleName = `${FORWARD_ROLE_PREFIX}-${region}`;
    const role = new IamRole(scope, `forward_role_${id}`, {
      provider,
      count: notTheHub,
      name: roleName,
      path: MEMBER_ROLE_PATH,
      description: "Remedy: EventBridge forwards this region's real-time events to the hub's bus",
      assumeRolePolicy: JSON.stringify(
        forwardTrust(account, `arn:${partition}:events:${region}:${account}:rule/${FORWARD_RULE_PREFIX}-*`),
      ),
    });
    const policy = new IamRolePolicy(scope, `forward_policy_${id}`, {
      provider,
      count: notTheHub,
      name: "remedy",
      // By name: a counted role's attributes are a list.
      role: roleName,
      policy: JSON.stringify(forwardPolicy(hubBusArn)),
      dependsOn: [role],
    });
    addForwardingRules(scope, {
      idSuffix: id,
      provider,
      region,
      count: notTheHub,
      states: props.states,
      hubBusArn,
      roleArn: `arn:${partition}:iam::${account}:role${MEMBER_ROLE_PATH}${roleName}`,
      dependsOn: [policy],
    });
  }
}

/**
 * EventBridge may assume a forwarding role only for the account's own forwarding rules. The values are Terraform
 * text or CloudFormation intrinsics (the member template): one document either way.
 */
function forwardTrust(account: unknown, ruleArnPattern: unknown) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": account },
          ArnLike: { "aws:SourceArn": ruleArnPattern },
        },
      },
    ],
  };
}

/** What a forwarding role may do: put events on the hub's bus, nothing else. */
function forwardPolicy(hubBusArn: unknown) {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["events:PutEvents"], Resource: [hubBusArn] }],
  };
}

interface ForwardingRulesProps {
  idSuffix: string;
  provider: AwsProvider;
  region: string;
  count: number;
  states: { cloudTrail: string; securityHub: string };
  hubBusArn: string;
  roleArn: string;
  /** What the targets wait for besides their rules (the role's policy). */
  dependsOn?: ITerraformDependable[];
}

/** One region's two forwarding rules (the same patterns as the hub's), each targeting the hub region's bus. */
function addForwardingRules(scope: Construct, props: ForwardingRulesProps): void {
  for (const [kind, pattern] of [
    ["cloudTrail", cloudTrailPattern()],
    ["securityHub", securityHubPattern()],
  ] as const) {
    const ruleId = `forward_${kind === "cloudTrail" ? "cloudtrail" : "security_hub"}_${props.idSuffix}`;
    const rule = new CloudwatchEventRule(scope, ruleId, {
      provider: props.provider,
      count: props.count,
      name: FORWARD_RULE_NAMES[kind],
      description: `Remedy: forwards ${props.region}'s real-time events to the hub region's default bus.`,
      eventPattern: JSON.stringify(pattern),
      state: props.states[kind],
    });
    new CloudwatchEventTarget(scope, `${ruleId}_target`, {
      provider: props.provider,
      count: props.count,
      // By name: a counted rule's attributes are a list.
      rule: FORWARD_RULE_NAMES[kind],
      arn: props.hubBusArn,
      roleArn: props.roleArn,
      targetId: "remedy-hub-bus",
      dependsOn: [rule, ...(props.dependsOn ?? [])],
    });
  }
}

function hubBus(partition: string, hubRegion: string, account: string): string {
  return `arn:${partition}:events:${hubRegion}:${account}:event-bus/default`;
}

// -- The member accounts' forwarding: a CloudFormation template (a StackSet instance per region) --------------------

/** The forwarding template's parameters. */
export const MEMBER_FORWARDING_PARAMETERS = {
  hubAccountId: "HubAccountId",
  hubRegion: "HubRegion",
  cloudTrailState: "CloudTrailRuleState",
  securityHubState: "SecurityHubRuleState",
} as const;

/**
 * The member accounts' forwarding rules as a CloudFormation template: in the region it is deployed to, a rule per
 * pattern on the default bus targeting the hub region's default bus in the hub account, with a role EventBridge
 * assumes. Nothing in the hub account itself: its own stack forwards there (a rule onto its own bus would loop).
 */
export function memberForwardingTemplate() {
  const p = MEMBER_FORWARDING_PARAMETERS;
  const hubBusArn = {
    "Fn::Join": [
      "",
      [
        "arn:",
        { Ref: "AWS::Partition" },
        ":events:",
        { Ref: p.hubRegion },
        ":",
        { Ref: p.hubAccountId },
        ":event-bus/default",
      ],
    ],
  };
  const state = { Type: "String", AllowedValues: ["ENABLED", "DISABLED"] };
  const rule = (name: string, pattern: unknown, stateParameter: string) => ({
    Type: "AWS::Events::Rule",
    Condition: "NotTheHub",
    Properties: {
      Name: name,
      Description: "Remedy: forwards this account's and region's real-time events to the Remedy hub",
      EventBusName: "default",
      EventPattern: pattern,
      State: { Ref: stateParameter },
      Targets: [{ Id: "remedy-hub-bus", Arn: hubBusArn, RoleArn: { "Fn::GetAtt": ["ForwardRole", "Arn"] } }],
    },
  });
  return {
    AWSTemplateFormatVersion: "2010-09-09",
    Description:
      "Remedy: forwards real-time events (CloudTrail API calls, Security Hub findings) to the hub (infra/realtime.ts)",
    Parameters: {
      [p.hubAccountId]: { Type: "String", AllowedPattern: "^\\d{12}$", Description: "The Remedy hub account" },
      [p.hubRegion]: {
        Type: "String",
        AllowedPattern: "^[a-z]{2}(-[a-z]+)+-\\d$",
        Description: "The Remedy hub region (its default bus)",
      },
      [p.cloudTrailState]: { ...state, Description: "The hub's enable_realtime" },
      [p.securityHubState]: { ...state, Description: "The hub's enable_realtime and enable_security_hub_findings" },
    },
    Conditions: { NotTheHub: { "Fn::Not": [{ "Fn::Equals": [{ Ref: "AWS::AccountId" }, { Ref: p.hubAccountId }] }] } },
    Resources: {
      // A stack must create something: in the hub account every other resource is conditioned out.
      Placeholder: { Type: "AWS::CloudFormation::WaitConditionHandle" },
      ForwardRole: {
        Type: "AWS::IAM::Role",
        Condition: "NotTheHub",
        Properties: {
          RoleName: { "Fn::Join": ["-", [FORWARD_ROLE_PREFIX, { Ref: "AWS::Region" }]] },
          Path: MEMBER_ROLE_PATH,
          Description: "Remedy: EventBridge forwards this region's real-time events to the hub's bus",
          AssumeRolePolicyDocument: forwardTrust(
            { Ref: "AWS::AccountId" },
            {
              "Fn::Join": [
                "",
                [
                  "arn:",
                  { Ref: "AWS::Partition" },
                  ":events:",
                  { Ref: "AWS::Region" },
                  ":",
                  { Ref: "AWS::AccountId" },
                  `:rule/${FORWARD_RULE_PREFIX}-*`,
                ],
              ],
            },
          ),
          Policies: [{ PolicyName: "remedy", PolicyDocument: forwardPolicy(hubBusArn) }],
        },
      },
      CloudTrailRule: rule(FORWARD_RULE_NAMES.cloudTrail, cloudTrailPattern(), p.cloudTrailState),
      SecurityHubRule: rule(FORWARD_RULE_NAMES.securityHub, securityHubPattern(), p.securityHubState),
    },
  };
}
