// Remedy's Terraform stack: queues, ledger, pause switch, one least-privilege role + Lambda per registry entry,
// the Config rules, the gated coordinator schedule, the report topic and the notifier's subscriptions.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { ConfigOrganizationCustomRule } from "@cdktf/provider-aws/lib/config-organization-custom-rule";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { DataAwsOrganizationsOrganization } from "@cdktf/provider-aws/lib/data-aws-organizations-organization";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { LambdaFunction, type LambdaFunctionConfig } from "@cdktf/provider-aws/lib/lambda-function";
import { LambdaFunctionEventInvokeConfig } from "@cdktf/provider-aws/lib/lambda-function-event-invoke-config";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { AssetType, Fn, Op, TerraformAsset, TerraformOutput, TerraformStack, Token } from "cdktf";
import type { Construct } from "constructs";
import { UNDO_EXEMPTION_PREFIX } from "../contract/undo-exemption.ts";
import { SCAN_PREFIX } from "../functions/config-rule/scan-layout.ts";
import {
  COORDINATOR_STATE_KEY,
  DISPATCH_VISIBILITY_SECONDS,
  type EnvName,
  FUNCTION_LIST,
  FUNCTIONS,
  type FunctionName,
  type FunctionSpec,
  MAX_DISPATCH_AGE_SECONDS,
} from "../functions/registry.ts";
import type { OrganizationSettings } from "../platform/organization.ts";
import { initialPauseValue } from "../platform/pause.ts";
import { PROBLEM_SPECS, RULE_IDS } from "../problems/index.ts";
import { DEFAULT_STATE_BACKEND, type StateBackend, useBackend } from "./backend.ts";
import { ConfigRules, type DeployedRuleSpec, deployedRuleSpecs, deployedRulesJson, ruleSubject } from "./config.ts";
import {
  denyInsecureQueueTransport,
  grantsFor,
  INTERACTION_PREFIXES,
  LEDGER_PREFIXES,
  type PolicyRefs,
  STATE_PREFIX,
} from "./iam.ts";
import { InteractionsEndpoint } from "./interactions.ts";
import { LedgerBucket } from "./ledger.ts";
import { memberRolesModel, OWN_BUCKET_PATTERNS as OWN_BUCKETS } from "./member-roles.ts";
import { MemberForwardingStackSet, MemberRoleStackSet, undoPrincipals } from "./member-stacks.ts";
import { organizationSettingsJson, type StackMode, stackMode } from "./organization.ts";
import { Realtime, realtimeRuleStates } from "./realtime.ts";
import { type RemedyVariables, remedyVariables } from "./variables.ts";

export { DEFAULT_STATE_BACKEND, type StateBackend, stateBackendFromEnv } from "./backend.ts";

export const STACK_NAME = "remedy";
export const NAME_PREFIX = "remedy";
/** Remedy's own buckets (bucket_prefix names): never changed by any remediation. */
const OWN_BUCKET_PATTERNS = [...OWN_BUCKETS];

export interface RemedyStackOptions {
  /** Directory holding <name>.zip for every function (scripts/build.ts writes them). */
  distDir: string;
  backend?: StateBackend;
  /** Organisation mode: the settings file's settings (infra/organization.ts). Absent: single-account. */
  organization?: OrganizationSettings;
}

export class RemedyStack extends TerraformStack {
  readonly vars: RemedyVariables;
  readonly mode: StackMode;
  readonly functions = {} as Record<FunctionName, LambdaFunction>;
  readonly roles = {} as Record<FunctionName, IamRole>;
  /** Each function's Lambda configuration, for its copies in other regions (the rule function's). */
  private readonly functionConfigs = {} as Record<FunctionName, LambdaFunctionConfig>;

  constructor(scope: Construct, id: string, options: RemedyStackOptions) {
    super(scope, id);
    const settings = options.organization;
    this.mode = stackMode(settings);
    const vars = remedyVariables(this, this.mode);
    this.vars = vars;
    useBackend(this, options.backend ?? DEFAULT_STATE_BACKEND);
    new AwsProvider(this, "aws", {
      region: vars.region.stringValue,
      defaultTags: [{ tags: { app: "remedy" } }],
    });
    const partition = new DataAwsPartition(this, "partition").partition;
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    const region = vars.region.stringValue;
    const fnName = (name: FunctionName) => `${NAME_PREFIX}-${name}`;
    const fnArn = (name: FunctionName) => `arn:${partition}:lambda:${region}:${account}:function:${fnName(name)}`;
    // Role names are fixed (addFunction), so policies created before the roles can name them.
    const roleName = (name: FunctionName) => `${fnName(name)}-${region}`;
    const roleArn = (name: FunctionName) => `arn:${partition}:iam::${account}:role/${roleName(name)}`;
    const remediationNames = FUNCTION_LIST.filter((spec) => spec.invokedByCoordinator).map((spec) => spec.name);
    const operators = Token.asList(vars.operatorPrincipalArns.listValue);
    const rules = deployedRuleSpecs(vars, NAME_PREFIX);
    const protectedBuckets = Token.asList(Fn.concat([OWN_BUCKET_PATTERNS, vars.protectedBuckets.listValue]));
    // Organisation mode: the organisation this hub serves (the hub is its delegated administrator).
    const organization = settings ? new DataAwsOrganizationsOrganization(this, "organization") : undefined;

    // -- Queues ---------------------------------------------------------------------------------------------
    const dlq = new SqsQueue(this, "dlq", {
      name: `${NAME_PREFIX}-remediation-dlq`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    const queue = new SqsQueue(this, "queue", {
      name: `${NAME_PREFIX}-remediation`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
      // Above every remediation's timeout; the coordinator sets its own visibility when it dispatches.
      visibilityTimeoutSeconds: DISPATCH_VISIBILITY_SECONDS,
      // No redrive policy on purpose: SQS's receive count also grows with operators' peeks and grace-period
      // re-hides, so a maxReceiveCount would dead-letter messages nobody tried to fix. The coordinator counts real
      // attempts (REMEDY_MAX_ATTEMPTS) and moves messages to the DLQ itself, with the reason.
    });

    // The periodic scan's tasks (functions/config-rule/scan.ts): the Config rule function sends and takes them. A
    // task that keeps failing moves to its own dead-letter queue (not the instructions' DLQ: `remedy dlq` redrives
    // instructions). Visibility: six times the function's timeout, as Lambda's SQS event source wants.
    const scanDlq = new SqsQueue(this, "scan_dlq", {
      name: `${NAME_PREFIX}-scan-dlq`,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: 14 * 24 * 3600,
    });
    const scanQueue = new SqsQueue(this, "scan_queue", {
      name: `${NAME_PREFIX}-scan`,
      sqsManagedSseEnabled: true,
      // A scan is a day's backstop: a task older than that is superseded by the next scan.
      messageRetentionSeconds: 24 * 3600,
      visibilityTimeoutSeconds: 6 * FUNCTIONS["config-rule"].timeoutSeconds,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: scanDlq.arn, maxReceiveCount: 5 }),
    });
    // The real-time path's delaying event queue and its DLQ (infra/realtime.ts); its rules come with the functions.
    const realtime = new Realtime(this, "realtime_path", { vars, namePrefix: NAME_PREFIX });

    // -- Ledger (also holds the coordinator's state), pause switch, report topic ----------------------------
    const ledger = new LedgerBucket(this, "ledger", {
      prefix: `${NAME_PREFIX}-ledger-`,
      // Dispatch claims only guard against duplicate deliveries of one invoke: days, not forever.
      // A scan's recorded verdicts are needed while the scan runs (hours at most).
      expirePrefixes: [
        { prefix: LEDGER_PREFIXES.claims, days: 14 },
        { prefix: SCAN_PREFIX, days: 2 },
        // A pending record outlives its message by nothing useful: SQS keeps a message 14 days at most.
        { prefix: INTERACTION_PREFIXES.pending, days: 15 },
      ],
      // Only the writers of each prefix may write or delete there, whatever their IAM policies say: records come
      // from the remediations (and the undo records of listed operators), claims from the remediations, the
      // coordinator's state from the coordinator. Undo also checks each record's MAC (ledger MAC key below).
      writers: [
        {
          prefix: LEDGER_PREFIXES.actions,
          principals: Token.asList(
            Fn.concat([[...remediationNames.map(roleArn), roleArn("interactions-worker")], operators]),
          ),
        },
        { prefix: LEDGER_PREFIXES.claims, principals: remediationNames.map(roleArn) },
        { prefix: STATE_PREFIX, principals: [roleArn("coordinator")] },
        { prefix: SCAN_PREFIX, principals: [roleArn("config-rule")] },
        // Undo's temporary exemptions: written by the operators' undo (and lift). The remediation roles are listed
        // only so the list is never empty; their own policies grant them no write there.
        {
          prefix: UNDO_EXEMPTION_PREFIX,
          principals: Token.asList(
            Fn.concat([[...remediationNames.map(roleArn), roleArn("interactions-worker")], operators]),
          ),
        },
        // Slack: the coordinator's pending records, the endpoint's decisions (put-if-absent), the worker's allowlist
        // entries (operators may remove one by hand).
        { prefix: INTERACTION_PREFIXES.pending, principals: [roleArn("coordinator")] },
        // Decisions: recorded by the endpoint; withdrawn by it or the worker when one cannot be carried out.
        {
          prefix: INTERACTION_PREFIXES.decisions,
          principals: [roleArn("interactions"), roleArn("interactions-worker")],
        },
        {
          prefix: INTERACTION_PREFIXES.allowlist,
          principals: Token.asList(Fn.concat([[roleArn("interactions-worker")], operators])),
        },
      ],
    });
    // The ledger's integrity key: only the remediation roles may MAC a record (kms:GenerateMac); anyone the
    // account's IAM allows may verify one (remedy undo). HMAC keys cannot be rotated automatically.
    const macKey = new KmsKey(this, "ledger_mac_key", {
      description: "Remedy: MACs of ledger records (only the remediation functions sign; remedy undo verifies)",
      customerMasterKeySpec: "HMAC_256",
      keyUsage: "GENERATE_VERIFY_MAC",
      deletionWindowInDays: 30,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AccountAdministersButDoesNotSign",
            Effect: "Allow",
            Principal: { AWS: `arn:${partition}:iam::${account}:root` },
            NotAction: "kms:GenerateMac",
            Resource: "*",
          },
          {
            Sid: "OnlyRemediationsSign",
            Effect: "Allow",
            Principal: { AWS: remediationNames.map(roleArn) },
            Action: "kms:GenerateMac",
            Resource: "*",
          },
        ],
      }),
    });
    new KmsAlias(this, "ledger_mac_key_alias", { name: `alias/${NAME_PREFIX}-ledger-mac`, targetKeyId: macKey.keyId });
    const pause = new SsmParameter(this, "pause", {
      name: `/${NAME_PREFIX}/paused`,
      type: "String",
      // The JSON the coordinator reads (platform/pause.ts); anything else reads as "paused" (fail safe).
      value: initialPauseValue(Fn.timestamp()),
      description:
        "Remedy's pause switch: true stops the coordinator. Set by operators (remedy pause/resume) and the circuit breaker.",
      lifecycle: { ignoreChanges: ["value"] },
    });
    // No SSE with the AWS-managed SNS key: CloudWatch alarms (the DLQ alarm) cannot publish to such a topic.
    // Reports name resources and changes, never secrets.
    const reportTopic = new SnsTopic(this, "report_topic", { name: `${NAME_PREFIX}-reports` });

    // The Slack secret reference → the ARN each form needs (the other form's ARN matches nothing).
    const secretName = Fn.trimprefix(Fn.trimprefix(vars.slackSecret.stringValue, "ssm:"), "/");
    const slackSecretArn = Token.asString(
      Fn.conditional(
        Fn.startswith(vars.slackSecret.stringValue, "arn:"),
        vars.slackSecret.stringValue,
        `arn:${partition}:secretsmanager:${region}:${account}:secret:${secretName}-??????`,
      ),
    );
    const refs: PolicyRefs = {
      partition,
      region,
      account,
      queueArn: queue.arn,
      dlqArn: dlq.arn,
      scanQueueArn: scanQueue.arn,
      scanDlqArn: scanDlq.arn,
      ledgerBucketArn: ledger.bucket.arn,
      pauseParameterArn: `arn:${partition}:ssm:${region}:${account}:parameter/${NAME_PREFIX}/paused`,
      reportTopicArn: reportTopic.arn,
      remediationFunctionArns: FUNCTION_LIST.filter((spec) => spec.invokedByCoordinator).map((spec) =>
        fnArn(spec.name),
      ),
      slackSecretArn,
      slackParameterArn: `arn:${partition}:ssm:${region}:${account}:parameter/${secretName}`,
      ledgerMacKeyArn: macKey.arn,
      protectedBucketArns: Token.asList(Fn.formatlist(`arn:${partition}:s3:::%s`, [protectedBuckets])),
      ...(organization ? { organizationId: organization.id } : {}),
      realtimeQueueArn: realtime.queue.arn,
      coordinatorFunctionArn: fnArn("coordinator"),
      // The Slack app's secret: a Secrets Manager ARN, or a name (its ARN then ends in six random characters).
      slackAppSecretArn: Token.asString(
        Fn.conditional(
          Fn.startswith(vars.slackAppSecret.stringValue, "arn:"),
          vars.slackAppSecret.stringValue,
          `arn:${partition}:secretsmanager:${region}:${account}:secret:${vars.slackAppSecret.stringValue}-??????`,
        ),
      ),
      interactionsWorkerArn: fnArn("interactions-worker"),
    };

    // -- Environment per function, from resources and variables ---------------------------------------------
    // Problem → the function that fixes it, from the registry.
    const remediationFunctions = Object.fromEntries(PROBLEM_SPECS.map((spec) => [spec.id, fnName(spec.remediation)]));
    const envValues: Record<EnvName, string> = {
      REMEDY_ACCOUNT_ID: account,
      REMEDY_REGION: region,
      REMEDY_PARTITION: partition,
      REMEDY_RULES: deployedRulesJson(rules),
      // Single-account mode: none; organisation mode: the settings, canonical (every function reads the same).
      REMEDY_ORGANIZATION: settings ? organizationSettingsJson(settings) : "",
      // Where the queues and the ledger are: the rule function's copies in other regions send there.
      REMEDY_HUB_REGION: region,
      REMEDY_MAX_DISPATCH_AGE_SECONDS: String(MAX_DISPATCH_AGE_SECONDS),
      REMEDY_LEDGER_MAC_KEY_ID: macKey.arn,
      REMEDY_PROTECTED_BUCKETS: Fn.join(",", protectedBuckets),
      REMEDY_QUEUE_URL: queue.url,
      REMEDY_DLQ_URL: dlq.url,
      REMEDY_SCAN_QUEUE_URL: scanQueue.url,
      REMEDY_SCAN_DLQ_URL: scanDlq.url,
      REMEDY_GRACE_PERIOD_MINUTES: Token.asString(vars.gracePeriodMinutes.numberValue),
      REMEDY_ALLOWLIST: vars.allowlist.stringValue,
      REMEDY_PAUSE_PARAMETER: pause.name,
      REMEDY_REPORT_TOPIC_ARN: reportTopic.arn,
      REMEDY_STATE_BUCKET: ledger.bucket.bucket,
      REMEDY_STATE_KEY: COORDINATOR_STATE_KEY,
      REMEDY_REMEDIATION_FUNCTIONS: JSON.stringify(remediationFunctions),
      REMEDY_DISPATCH_VISIBILITY_SECONDS: String(DISPATCH_VISIBILITY_SECONDS),
      REMEDY_MAX_ATTEMPTS: Token.asString(vars.maxAttempts.numberValue),
      REMEDY_RATE_LIMIT_COUNT: Token.asString(vars.rateLimitCount.numberValue),
      REMEDY_RATE_LIMIT_WINDOW_MINUTES: Token.asString(vars.rateLimitWindowMinutes.numberValue),
      REMEDY_BREAKER_FRESH_LIMIT: Token.asString(vars.breakerFreshLimit.numberValue),
      REMEDY_BREAKER_WINDOW_MINUTES: Token.asString(vars.breakerWindowMinutes.numberValue),
      REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT: Token.asString(vars.breakerAccountFreshLimit.numberValue),
      REMEDY_RECEIVE_CONCURRENCY: Token.asString(vars.receiveConcurrency.numberValue),
      REMEDY_INVOKE_CONCURRENCY: Token.asString(vars.invokeConcurrency.numberValue),
      REMEDY_SLACK_SECRET: vars.slackSecret.stringValue,
      REMEDY_RELAY_RULE_SUFFIXES: RULE_IDS.join(","),
      REMEDY_RELAY_ALL_RULES: Token.asString(vars.relayAllRules.booleanValue),
      REMEDY_SLACK_USERS: vars.slackUsers.stringValue,
      REMEDY_SLACK_APP_SECRET: vars.slackAppSecret.stringValue,
      REMEDY_SLACK_APPROVERS: vars.slackApprovers.stringValue,
      REMEDY_SNOOZE_MINUTES: Token.asString(vars.slackSnoozeMinutes.numberValue),
      REMEDY_INTERACTIONS_WORKER: fnName("interactions-worker"),
      REMEDY_ATTRIBUTION_ENABLED: Token.asString(vars.attributionEnabled.booleanValue),
      REMEDY_ATTRIBUTION_LOOKBACK_DAYS: Token.asString(vars.attributionLookbackDays.numberValue),
      REMEDY_LEDGER_BUCKET: ledger.bucket.bucket,
      REMEDY_S3_FIX_STRATEGY: vars.s3FixStrategy.stringValue,
      REMEDY_COORDINATOR_FUNCTION: fnName("coordinator"),
      // The schedule's gate: with auto-response off the real-time path queues, and asks nothing to run.
      REMEDY_AUTO_RESPONSE: Token.asString(vars.enableAutoResponse.booleanValue),
      // Changes made with these roles are Remedy's own (its fixes): the real-time path never answers them.
      REMEDY_OWN_ROLE_ARNS: JSON.stringify(
        FUNCTION_LIST.filter((spec) => spec.invokedByCoordinator).map((spec) => roleArn(spec.name)),
      ),
    };

    // -- One role, log group and function per registry entry ------------------------------------------------
    for (const spec of FUNCTION_LIST) {
      this.addFunction(spec, {
        refs,
        env: envValues,
        distDir: options.distDir,
        fnName,
        roleName,
        vars,
        ...(settings ? { regions: settings.regions } : {}),
      });
    }
    // KMS refuses a key policy that names a principal that does not exist yet.
    macKey.dependsOn = remediationNames.map((name) => this.roles[name].fqn);
    for (const spec of FUNCTION_LIST.filter((s) => s.invokedByCoordinator)) {
      new LambdaFunctionEventInvokeConfig(this, `${spec.name}_async`, {
        functionName: this.functions[spec.name].functionName,
        maximumRetryAttempts: 0,
        // An event that waited longer could outlive its dispatch visibility (the runner refuses it too).
        maximumEventAgeInSeconds: MAX_DISPATCH_AGE_SECONDS,
      });
    }
    const slackEndpoint = new InteractionsEndpoint(this, "slack_interactions", {
      vars,
      namePrefix: NAME_PREFIX,
      interactions: this.functions.interactions,
      worker: this.functions["interactions-worker"],
    });
    realtime.connect({
      realtimeFunction: this.functions.realtime,
      coordinator: this.functions.coordinator,
      // Lambda checks the role may receive from the queue when the mapping is created.
      dependsOn: [this.node.findChild("realtime_policy") as IamRolePolicy],
    });

    // -- Queue policies: only Remedy's roles (and listed operators) send; TLS only ---------------------------
    // The Config path's rule function and the real-time path's function queue the same instructions.
    const senders = [this.roles["config-rule"].arn, this.roles.realtime.arn];
    const consumers = [
      this.roles.coordinator.arn,
      ...FUNCTION_LIST.filter((s) => s.invokedByCoordinator).map((s) => this.roles[s.name].arn),
    ];

    const queuePolicy = new DataAwsIamPolicyDocument(this, "queue_policy_doc", {
      statement: [
        {
          sid: "RuleSends",
          principals: [{ type: "AWS", identifiers: senders }],
          actions: ["sqs:SendMessage"],
          resources: [queue.arn],
        },
        {
          sid: "CoordinatorAndRemediationsConsume",
          principals: [{ type: "AWS", identifiers: consumers }],
          actions: ["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"],
          resources: [queue.arn],
        },
        {
          sid: "OnlyRemedySends",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sqs:SendMessage"],
          resources: [queue.arn],
          condition: [
            {
              test: "ArnNotLike",
              variable: "aws:PrincipalArn",
              values: Token.asList(Fn.concat([senders, Token.asList(vars.operatorPrincipalArns.listValue)])),
            },
          ],
        },
        denyInsecureQueueTransport(queue.arn),
      ],
    });
    new SqsQueuePolicy(this, "queue_policy", { queueUrl: queue.url, policy: queuePolicy.json });
    const dlqPolicy = new DataAwsIamPolicyDocument(this, "dlq_policy_doc", {
      statement: [
        {
          sid: "CoordinatorAndRemediationsDeadLetter",
          principals: [{ type: "AWS", identifiers: consumers }],
          actions: ["sqs:SendMessage"],
          resources: [dlq.arn],
        },
        {
          // Whatever anyone's IAM policy says: a message in the DLQ was put there by Remedy (redrive relies on it).
          sid: "OnlyRemedyDeadLetters",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sqs:SendMessage"],
          resources: [dlq.arn],
          condition: [{ test: "ArnNotLike", variable: "aws:PrincipalArn", values: consumers }],
        },
        denyInsecureQueueTransport(dlq.arn),
      ],
    });
    new SqsQueuePolicy(this, "dlq_policy", { queueUrl: dlq.url, policy: dlqPolicy.json });
    // The scan's queues are the Config rule function's alone: a task is still a claim (scan.ts), but nobody else's.
    const scanner = [this.roles["config-rule"].arn];
    for (const [name, scanQueueOf] of [
      ["scan_queue", scanQueue],
      ["scan_dlq", scanDlq],
    ] as const) {
      const policy = new DataAwsIamPolicyDocument(this, `${name}_policy_doc`, {
        statement: [
          {
            sid: "OnlyTheScannerSends",
            effect: "Deny",
            principals: [{ type: "*", identifiers: ["*"] }],
            actions: ["sqs:SendMessage"],
            resources: [scanQueueOf.arn],
            condition: [{ test: "ArnNotLike", variable: "aws:PrincipalArn", values: scanner }],
          },
          denyInsecureQueueTransport(scanQueueOf.arn),
        ],
      });
      new SqsQueuePolicy(this, `${name}_policy`, { queueUrl: scanQueueOf.url, policy: policy.json });
    }
    new LambdaEventSourceMapping(this, "scan_tasks", {
      eventSourceArn: scanQueue.arn,
      functionName: this.functions["config-rule"].arn,
      // One page per invocation: each task runs in its own time budget.
      batchSize: 1,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: Token.asNumber(vars.scanConcurrency.numberValue) },
    });

    // -- The gate: the coordinator's schedule ----------------------------------------------------------------
    const schedule = new CloudwatchEventRule(this, "schedule", {
      name: `${NAME_PREFIX}-coordinator-tick`,
      description: "Runs Remedy's coordinator every minute while enable_auto_response is true.",
      scheduleExpression: "rate(1 minute)",
      state: Token.asString(Fn.conditional(vars.enableAutoResponse.booleanValue, "ENABLED", "DISABLED")),
    });
    new CloudwatchEventTarget(this, "schedule_target", {
      rule: schedule.name,
      arn: this.functions.coordinator.arn,
      targetId: "coordinator",
    });
    new LambdaPermission(this, "schedule_invoke", {
      statementId: "AllowEventBridgeSchedule",
      action: "lambda:InvokeFunction",
      functionName: this.functions.coordinator.functionName,
      principal: "events.amazonaws.com",
      sourceArn: schedule.arn,
    });

    // -- Reports → notifier; DLQ depth alarm → reports --------------------------------------------------------
    // Only Remedy's roles, this stack's own alarm and the listed operators (`remedy undo` reports what it put back)
    // publish: a forged report must not reach Slack (the notifier validates every report too, and builds commands and
    // links only from validated ids).
    // An undo from Slack reports what it put back, as `remedy undo` does.
    const publishers = [...consumers, this.roles["interactions-worker"].arn];
    const dlqAlarmName = `${NAME_PREFIX}-dead-letters`;
    const dlqAlarmArn = `arn:${partition}:cloudwatch:${region}:${account}:alarm:${dlqAlarmName}`;
    const snsAllowed = new DataAwsIamPolicyDocument(this, "report_topic_policy_doc", {
      statement: [
        {
          sid: "RemedyAndAlarmsPublish",
          principals: [{ type: "AWS", identifiers: publishers }],
          actions: ["sns:Publish"],
          resources: [reportTopic.arn],
        },
        {
          sid: "CloudWatchAlarmsPublish",
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          actions: ["sns:Publish"],
          resources: [reportTopic.arn],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [account] },
            { test: "ArnEquals", variable: "aws:SourceArn", values: [dlqAlarmArn] },
          ],
        },
        {
          sid: "DenyOtherPublishers",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sns:Publish"],
          resources: [reportTopic.arn],
          condition: [
            {
              test: "ArnNotLike",
              variable: "aws:PrincipalArn",
              values: Token.asList(Fn.concat([publishers, operators])),
            },
            { test: "StringNotEquals", variable: "aws:PrincipalServiceName", values: ["cloudwatch.amazonaws.com"] },
          ],
        },
        {
          sid: "DenyOtherAlarms",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sns:Publish"],
          resources: [reportTopic.arn],
          condition: [
            { test: "StringEquals", variable: "aws:PrincipalServiceName", values: ["cloudwatch.amazonaws.com"] },
            { test: "ArnNotEquals", variable: "aws:SourceArn", values: [dlqAlarmArn] },
          ],
        },
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sns:Publish"],
          resources: [reportTopic.arn],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    new SnsTopicPolicy(this, "report_topic_policy", { arn: reportTopic.arn, policy: snsAllowed.json });
    this.subscribeNotifier("report", reportTopic.arn);
    new CloudwatchMetricAlarm(this, "dlq_alarm", {
      alarmName: dlqAlarmName,
      alarmDescription: "Remedy instructions were dead-lettered: see `remedy peek --dlq`.",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: dlq.name },
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      alarmActions: [reportTopic.arn],
      okActions: [reportTopic.arn],
    });

    // -- AWS Config: optional recorder, the two rules, compliance relay --------------------------------------
    const config = new ConfigRules(this, "config", {
      vars,
      partition,
      account,
      ruleFunction: this.functions["config-rule"],
      namePrefix: NAME_PREFIX,
      region,
      rules,
      ...(settings ? { accountRules: false } : {}),
    });
    const relay = new SnsTopicSubscription(this, "notifier_config_subscription", {
      topicArn: config.topicArn,
      protocol: "lambda",
      endpoint: this.functions.notifier.arn,
      count: Token.asNumber(
        Fn.conditional(
          Op.or(vars.manageConfig.booleanValue, Op.gte(Fn.lengthOf(vars.existingConfigTopicArn.stringValue), 1)),
          1,
          0,
        ),
      ),
    });
    new LambdaPermission(this, "notifier_config_invoke", {
      statementId: "AllowConfigTopic",
      action: "lambda:InvokeFunction",
      functionName: this.functions.notifier.functionName,
      principal: "sns.amazonaws.com",
      sourceArn: config.topicArn,
      count: relay.count,
    });

    // -- Outputs the CLI reads (cli/stack.ts OUTPUT_NAMES) -----------------------------------------------------
    // "region" is also the variable's construct id; outputs and variables are separate namespaces in Terraform.
    new TerraformOutput(this, "region_output", {
      value: region,
      description: "Where the stack is: the CLI works there.",
    }).overrideLogicalId("region");
    new TerraformOutput(this, "account_id", {
      value: account,
      description: "The stack's account: CLI commands that change something refuse other credentials.",
    });
    new TerraformOutput(this, "queue_url", { value: queue.url });
    new TerraformOutput(this, "dlq_url", { value: dlq.url });
    new TerraformOutput(this, "pause_parameter", { value: pause.name });
    new TerraformOutput(this, "ledger_bucket", { value: ledger.bucket.bucket });
    new TerraformOutput(this, "schedule_rule_name", { value: schedule.name });
    new TerraformOutput(this, "report_topic_arn", { value: reportTopic.arn });
    new TerraformOutput(this, "ledger_mac_key_id", { value: macKey.arn });
    new TerraformOutput(this, "slack_interactivity_url", {
      value: slackEndpoint.url,
      description: "The Slack app's Interactivity request URL (empty without slack_app_secret)",
    });
    new TerraformOutput(this, "realtime_queue_url", { value: realtime.queue.url });
    new TerraformOutput(this, "realtime_dlq_url", { value: realtime.dlq.url });
    new TerraformOutput(this, "realtime_cloudtrail_rule_name", { value: realtime.ruleNames.cloudTrail });
    new TerraformOutput(this, "realtime_security_hub_rule_name", { value: realtime.ruleNames.securityHub });
    new TerraformOutput(this, "auto_response", {
      value: schedule.state,
      description: "ENABLED when enable_auto_response is true.",
    });
    for (const spec of FUNCTION_LIST) {
      new TerraformOutput(this, `${spec.name.replaceAll("-", "_")}_function_name`, {
        value: this.functions[spec.name].functionName,
      });
    }
    if (settings && organization) {
      this.addOrganization(settings, { organization, partition, account, region, rules, vars, operators, realtime });
    }
    // The CLI's (cli/stack.ts ORGANIZATION_OUTPUTS): "mode" is the variable, which must equal what was synthesized.
    new TerraformOutput(this, "mode_output", {
      value: vars.mode.stringValue,
      description: '"account" or "organization": how the CLI reads this stack.',
    }).overrideLogicalId("mode");
  }

  /**
   * Organisation mode's additions: in every region of the settings, the rule function (the hub region's is the one
   * above), Config's permission to invoke it from the organisation's accounts, and one organisation rule per Remedy
   * rule; the member roles' StackSet; the outputs the CLI and the per-account stacks read.
   */
  private addOrganization(
    settings: OrganizationSettings,
    ctx: {
      organization: DataAwsOrganizationsOrganization;
      partition: string;
      account: string;
      region: string;
      rules: readonly DeployedRuleSpec[];
      vars: RemedyVariables;
      operators: string[];
      realtime: Realtime;
    },
  ) {
    const { organization, partition, account, vars } = ctx;
    const ruleFunction = this.functionConfigs["config-rule"];
    const providers: Record<string, AwsProvider> = {};
    for (const region of settings.regions) {
      const id = region.replaceAll("-", "_");
      // Static providers: Terraform needs every provider known before it plans, hence regions in the settings file.
      const provider = new AwsProvider(this, `aws_${id}`, {
        alias: id,
        region,
        defaultTags: [{ tags: { app: "remedy" } }],
      });
      providers[region] = provider;
      // The hub region already has the rule function: its copy there is not created (count 0).
      const elsewhere = Token.asNumber(Fn.conditional(Op.eq(ctx.region, region), 0, 1));
      const logGroup = new CloudwatchLogGroup(this, `config_rule_logs_${id}`, {
        provider,
        count: elsewhere,
        name: `/aws/lambda/${ruleFunction.functionName}`,
        retentionInDays: vars.logRetentionDays.numberValue,
      });
      const copy = new LambdaFunction(this, `config_rule_${id}`, {
        ...ruleFunction,
        provider,
        count: elsewhere,
        // Same code, role and settings; judged and reported as this region's (the queues stay in the hub region).
        environment: { variables: { ...ruleFunction.environment!.variables, REMEDY_REGION: region } },
        dependsOn: [logGroup],
      });
      // Config of every member account invokes the rule function of its region. The permission names only the
      // service, as AWS documents for organisation custom rules: Config calls as a service principal, which carries
      // no aws:PrincipalOrgID, and member accounts join and leave without a redeploy. The function itself accepts
      // only the organisation's active accounts (ListAccounts) and the exact names of Remedy's rules.
      const permission = new LambdaPermission(this, `config_rule_invoke_${id}`, {
        provider,
        statementId: "AllowOrganizationConfigRules",
        action: "lambda:InvokeFunction",
        functionName: ruleFunction.functionName,
        principal: "config.amazonaws.com",
        dependsOn: [copy, this.functions["config-rule"]],
      });
      for (const rule of ctx.rules) {
        new ConfigOrganizationCustomRule(this, `org_rule_${rule.id.replaceAll("-", "_")}_${id}`, {
          provider,
          name: rule.configRuleName,
          description: `Remedy: ${ruleSubject(rule)} in every account of the organisation (rule code in problems/)`,
          lambdaFunctionArn: `arn:${partition}:lambda:${region}:${account}:function:${ruleFunction.functionName}`,
          triggerTypes: [...rule.triggers],
          maximumExecutionFrequency: vars.ruleEvaluationFrequency.stringValue,
          ...(rule.resourceTypes.length > 0 ? { resourceTypesScope: [...rule.resourceTypes] } : {}),
          ...(rule.parameters !== undefined ? { inputParameters: Fn.jsonencode(rule.parameters) } : {}),
          ...(settings.excludedAccounts.length > 0 ? { excludedAccounts: [...settings.excludedAccounts] } : {}),
          dependsOn: [permission],
        });
      }
    }

    const model = memberRolesModel(settings);
    const hubRoleArns = Object.fromEntries(
      FUNCTION_LIST.map((spec) => [spec.name, this.roles[spec.name].arn]),
    ) as Record<FunctionName, string>;
    new MemberRoleStackSet(this, "member_roles", {
      model,
      partition,
      hubAccountId: account,
      organizationId: organization.id,
      rootId: organization.roots.get(0).id,
      ...(settings.externalId !== undefined ? { externalId: settings.externalId } : {}),
      hubRoleArns,
      operators: ctx.operators,
      region: ctx.region,
    });

    // The real-time path: every region's and member account's events reach the hub region's default bus.
    ctx.realtime.forward({
      partition,
      account,
      hubRegion: ctx.region,
      providers,
      organizationId: organization.id,
    });
    const states = realtimeRuleStates(vars);
    new MemberForwardingStackSet(this, "member_forwarding", {
      hubAccountId: account,
      hubRegion: ctx.region,
      regions: settings.regions,
      rootId: organization.roots.get(0).id,
      cloudTrailState: states.cloudTrail,
      securityHubState: states.securityHub,
    });

    new TerraformOutput(this, "organization_regions", {
      value: JSON.stringify(settings.regions),
      description: "The regions the organisation is served in (JSON list), from the settings file.",
    });
    new TerraformOutput(this, "organization_settings", {
      value: organizationSettingsJson(settings),
      description: "The organisation settings every function runs with (canonical JSON).",
    });
    new TerraformOutput(this, "member_stack_variables", {
      value: {
        hub_account_id: account,
        organization_id: organization.id,
        hub_role_arns: hubRoleArns,
        undo_principal_arns: ctx.operators,
        // The real-time forwarding of the accounts that apply those stacks themselves.
        hub_region: ctx.region,
        realtime_cloudtrail_rule_state: states.cloudTrail,
        realtime_security_hub_rule_state: states.securityHub,
      },
      description:
        "The variables of the remedy-member and remedy-management-account stacks (write them to a .auto.tfvars.json there).",
    });
    // Whoever may assume remedy-member-undo, as the StackSet was given it.
    new TerraformOutput(this, "member_undo_principals", {
      value: undoPrincipals(ctx.operators, partition, account),
    });
  }

  private subscribeNotifier(id: string, topicArn: string) {
    new SnsTopicSubscription(this, `notifier_${id}_subscription`, {
      topicArn,
      protocol: "lambda",
      endpoint: this.functions.notifier.arn,
    });
    new LambdaPermission(this, `notifier_${id}_invoke`, {
      statementId: `AllowTopic-${id}`,
      action: "lambda:InvokeFunction",
      functionName: this.functions.notifier.functionName,
      principal: "sns.amazonaws.com",
      sourceArn: topicArn,
    });
  }

  private addFunction(
    spec: FunctionSpec,
    ctx: {
      refs: PolicyRefs;
      env: Record<EnvName, string>;
      distDir: string;
      fnName: (name: FunctionName) => string;
      roleName: (name: FunctionName) => string;
      vars: RemedyVariables;
      /** Organisation mode: the settings' regions (the rule function runs in each). */
      regions?: readonly string[];
    },
  ) {
    const id = spec.name.replaceAll("-", "_");
    const name = ctx.fnName(spec.name);
    const role = new IamRole(this, `${id}_role`, {
      // IAM is global: the region in the name lets Remedy be deployed in several regions of one account.
      name: ctx.roleName(spec.name),
      description: `Remedy ${spec.name}: exactly the actions in functions/${spec.name}/permissions.ts`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "lambda.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": ctx.refs.account } },
          },
        ],
      }),
    });
    this.roles[spec.name] = role;
    const logGroup = new CloudwatchLogGroup(this, `${id}_logs`, {
      name: `/aws/lambda/${name}`,
      retentionInDays: ctx.vars.logRetentionDays.numberValue,
    });
    const policy = new DataAwsIamPolicyDocument(this, `${id}_policy_doc`, {
      statement: grantsFor(spec, ctx.refs, this.mode).map((grant) => ({
        ...(grant.effect ? { effect: grant.effect } : {}),
        actions: grant.actions,
        resources: grant.resources,
        ...(grant.conditions ? { condition: grant.conditions } : {}),
      })),
    });
    new IamRolePolicy(this, `${id}_policy`, { name: "remedy", role: role.id, policy: policy.json });
    const logActions = ["logs:CreateLogStream", "logs:PutLogEvents"];
    // The rule function's copies in the settings' other regions write to their own region's log group.
    const regionalLogs =
      spec.name === "config-rule" && ctx.regions
        ? [
            {
              actions: logActions,
              resources: ctx.regions.map(
                (region) =>
                  `arn:${ctx.refs.partition}:logs:${region}:${ctx.refs.account}:log-group:/aws/lambda/${name}:*`,
              ),
            },
          ]
        : [];
    const logsPolicy = new DataAwsIamPolicyDocument(this, `${id}_logs_policy_doc`, {
      statement: [{ actions: logActions, resources: [`${logGroup.arn}:*`] }, ...regionalLogs],
    });
    new IamRolePolicy(this, `${id}_logs_policy`, { name: "logs", role: role.id, policy: logsPolicy.json });

    const zip = `${ctx.distDir}/${spec.name}.zip`;
    if (!existsSync(zip)) throw new Error(`${zip} is missing: run \`npm run build\` first`);
    const asset = new TerraformAsset(this, `${id}_asset`, { path: zip, type: AssetType.FILE });
    const environment = Object.fromEntries(spec.env.map((key) => [key, ctx.env[key]]));
    const config: LambdaFunctionConfig = {
      functionName: name,
      description: `Remedy ${spec.name}`,
      role: role.arn,
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "index.handler",
      filename: asset.path,
      sourceCodeHash: createHash("sha256").update(readFileSync(zip)).digest("base64"),
      memorySize: spec.memoryMb,
      timeout: spec.timeoutSeconds,
      ...(spec.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: spec.reservedConcurrency } : {}),
      environment: { variables: { ...environment, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
      loggingConfig: { logFormat: "Text", logGroup: `/aws/lambda/${name}` },
    };
    this.functionConfigs[spec.name] = config;
    this.functions[spec.name] = new LambdaFunction(this, id, {
      ...config,
      loggingConfig: { logFormat: "Text", logGroup: logGroup.name },
      dependsOn: [logGroup],
    });
  }
}
