// Every Terraform variable of Remedy's stack, with its default and validation. Set them in remedy.auto.tfvars
// (from remedy.auto.tfvars.example, copied next to the stack by the synth; test/infra checks the example lists all).
import { TerraformVariable } from "cdktf";
import type { Construct } from "constructs";
import { ACCOUNT_FRESH_LIMIT, CONCURRENCY, CONCURRENCY_LIMITS } from "../functions/coordinator/settings.ts";
import { ORGANIZATION_FILE, type StackMode } from "./organization.ts";

export const RULE_FREQUENCIES = ["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"] as const;

export interface RemedyVariables {
  enableAutoResponse: TerraformVariable;
  region: TerraformVariable;
  slackSecret: TerraformVariable;
  slackUsers: TerraformVariable;
  slackAppSecret: TerraformVariable;
  slackApprovers: TerraformVariable;
  slackSnoozeMinutes: TerraformVariable;
  relayAllRules: TerraformVariable;
  attributionEnabled: TerraformVariable;
  attributionLookbackDays: TerraformVariable;
  authorizedPorts: TerraformVariable;
  prohibitedPorts: TerraformVariable;
  ipv4MinPrefix: TerraformVariable;
  ipv6MinPrefix: TerraformVariable;
  s3FixStrategy: TerraformVariable;
  gracePeriodMinutes: TerraformVariable;
  rateLimitCount: TerraformVariable;
  rateLimitWindowMinutes: TerraformVariable;
  breakerFreshLimit: TerraformVariable;
  breakerWindowMinutes: TerraformVariable;
  maxAttempts: TerraformVariable;
  receiveConcurrency: TerraformVariable;
  invokeConcurrency: TerraformVariable;
  allowlist: TerraformVariable;
  manageConfig: TerraformVariable;
  existingConfigTopicArn: TerraformVariable;
  ruleEvaluationFrequency: TerraformVariable;
  scanConcurrency: TerraformVariable;
  logRetentionDays: TerraformVariable;
  operatorPrincipalArns: TerraformVariable;
  protectedBuckets: TerraformVariable;
  mode: TerraformVariable;
  breakerAccountFreshLimit: TerraformVariable;
  enableRealtime: TerraformVariable;
  realtimeDelaySeconds: TerraformVariable;
  enableSecurityHubFindings: TerraformVariable;
}

function positive(name: string, max: number) {
  return [
    {
      condition: `\${var.${name} >= 1 && var.${name} <= ${max} && floor(var.${name}) == var.${name}}`,
      errorMessage: `${name} must be a whole number from 1 to ${max}.`,
    },
  ];
}

/** Why `mode` cannot be changed in Terraform alone: the synth decides it (its per-region resources need providers). */
function modeMismatch(mode: StackMode): string {
  return mode === "account"
    ? `This stack was synthesized for one account: for mode = "organization", add ${ORGANIZATION_FILE} (see ${ORGANIZATION_FILE}.example) and run npm run synth again.`
    : `This stack was synthesized in organisation mode from ${ORGANIZATION_FILE}: for mode = "account", remove that file and run npm run synth again.`;
}

export function remedyVariables(scope: Construct, mode: StackMode = "account"): RemedyVariables {
  const v = (id: string, config: ConstructorParameters<typeof TerraformVariable>[2]) =>
    new TerraformVariable(scope, id, config);
  return {
    enableAutoResponse: v("enable_auto_response", {
      type: "bool",
      default: false,
      description:
        "The gate: false (default) keeps the coordinator's schedule DISABLED, so Remedy detects, reports and queues but changes nothing.",
    }),
    region: v("region", { type: "string", default: "us-east-1", description: "AWS region to deploy into." }),
    slackSecret: v("slack_secret", {
      type: "string",
      default: "",
      description:
        'Where the Slack webhook routing is: a Secrets Manager secret ARN or name, or "ssm:<parameter name>". Never the webhook itself. Empty: messages are only logged.',
    }),
    slackUsers: v("slack_users", {
      type: "string",
      default: "{}",
      description: 'JSON object: principal ARN, IAM user name or session name → Slack user id ("U012ABCDEF").',
    }),
    slackAppSecret: v("slack_app_secret", {
      type: "string",
      default: "",
      description:
        "Secrets Manager ARN or name of the Slack app's secret (JSON: botToken, signingSecret, teamId, appId). Empty: no Slack app, messages go to the webhooks without buttons.",
    }),
    slackApprovers: v("slack_approvers", {
      type: "string",
      default: '{"approvers":{}}',
      description:
        'JSON: who may press which Slack button, per action and account ({"approvers":{"fixNow":[{"users":["U012ABCDEF"],"accounts":["123456789012"]}],"snooze":[…],"exempt":[…],"undo":[…]}}). Deny by default.',
    }),
    slackSnoozeMinutes: v("slack_snooze_minutes", {
      type: "number",
      default: 1440,
      description: "How far Snooze pushes an instruction's due time, in minutes (1 to 10080, a week).",
    }),
    relayAllRules: v("relay_all_rules", {
      type: "bool",
      default: false,
      description: "Relay compliance changes of every Config rule to Slack, not only Remedy's.",
    }),
    attributionEnabled: v("attribution_enabled", {
      type: "bool",
      default: true,
      description: "Look up who made a change in CloudTrail.",
    }),
    attributionLookbackDays: v("attribution_lookback_days", {
      type: "number",
      default: 7,
      validation: positive("attribution_lookback_days", 90),
    }),
    authorizedPorts: v("authorized_ports", {
      type: "string",
      default: "tcp:80,tcp:443",
      description: "Ports that may be open to the internet (used when prohibited_ports is empty).",
    }),
    prohibitedPorts: v("prohibited_ports", {
      type: "string",
      default: "",
      description: 'Alternative to authorized_ports: only these ports are judged (e.g. "22,3389").',
    }),
    ipv4MinPrefix: v("ipv4_min_prefix", {
      type: "number",
      default: 8,
      description: "An IPv4 source range wider than this prefix counts as the internet.",
    }),
    ipv6MinPrefix: v("ipv6_min_prefix", {
      type: "number",
      default: 16,
      description: "An IPv6 source range wider than this prefix counts as the internet.",
    }),
    s3FixStrategy: v("s3_fix_strategy", {
      type: "string",
      default: "surgical",
      description: "surgical (remove only the public grants/statements) or block-public-access.",
      validation: [
        {
          condition: `\${contains(["surgical", "block-public-access"], var.s3_fix_strategy)}`,
          errorMessage: "s3_fix_strategy must be surgical or block-public-access.",
        },
      ],
    }),
    gracePeriodMinutes: v("grace_period_minutes", {
      type: "number",
      default: 0,
      validation: [
        {
          condition: `\${var.grace_period_minutes >= 0 && var.grace_period_minutes <= 43200}`,
          errorMessage: "grace_period_minutes must be from 0 to 43200.",
        },
      ],
    }),
    rateLimitCount: v("rate_limit_count", {
      type: "number",
      default: 20,
      validation: positive("rate_limit_count", 100000),
    }),
    rateLimitWindowMinutes: v("rate_limit_window_minutes", {
      type: "number",
      default: 10,
      validation: positive("rate_limit_window_minutes", 1440),
    }),
    breakerFreshLimit: v("breaker_fresh_limit", {
      type: "number",
      default: 50,
      validation: positive("breaker_fresh_limit", 100000),
    }),
    breakerWindowMinutes: v("breaker_window_minutes", {
      type: "number",
      default: 10,
      validation: positive("breaker_window_minutes", 1440),
    }),
    maxAttempts: v("max_attempts", { type: "number", default: 3, validation: positive("max_attempts", 100) }),
    receiveConcurrency: v("coordinator_receive_concurrency", {
      type: "number",
      default: CONCURRENCY.receives,
      description: "SQS receives a coordinator tick keeps in flight at most (it ramps up to this from one).",
      validation: positive("coordinator_receive_concurrency", CONCURRENCY_LIMITS.receives.max),
    }),
    invokeConcurrency: v("coordinator_invoke_concurrency", {
      type: "number",
      default: CONCURRENCY.invokes,
      description:
        "Remediation invocations a coordinator tick keeps in flight at most: lower it when the account's Lambda concurrency is shared.",
      validation: positive("coordinator_invoke_concurrency", CONCURRENCY_LIMITS.invokes.max),
    }),
    allowlist: v("allowlist", {
      type: "string",
      default: "[]",
      description: "JSON array of exemptions: [{resource, problems, reason, owner, expires}].",
      validation: [
        { condition: `\${can(tolist(jsondecode(var.allowlist)))}`, errorMessage: "allowlist must be a JSON array." },
      ],
    }),
    manageConfig: v("manage_config", {
      type: "bool",
      default: false,
      description:
        "Create an AWS Config recorder (security groups and buckets), delivery channel, bucket and SNS topic. Leave false when Config is already on in the account and region.",
    }),
    existingConfigTopicArn: v("existing_config_topic_arn", {
      type: "string",
      default: "",
      description:
        "When manage_config is false: the SNS topic of the existing Config delivery channel (compliance changes are relayed from it). Empty: not relayed.",
    }),
    scanConcurrency: v("scan_concurrency", {
      type: "number",
      default: 5,
      description:
        "How many pages of a periodic scan are judged at once (Lambda invocations taking the scan queue; AWS allows 2 to 1000). Bounded by Config's API rates.",
      validation: [
        {
          condition:
            "${var.scan_concurrency >= 2 && var.scan_concurrency <= 1000 && floor(var.scan_concurrency) == var.scan_concurrency}",
          errorMessage: "scan_concurrency must be a whole number from 2 to 1000.",
        },
      ],
    }),
    ruleEvaluationFrequency: v("rule_evaluation_frequency", {
      type: "string",
      default: "TwentyFour_Hours",
      description: "How often the Config rules re-judge every resource (besides on every change).",
      validation: [
        {
          condition: `\${contains(${JSON.stringify(RULE_FREQUENCIES)}, var.rule_evaluation_frequency)}`,
          errorMessage: `rule_evaluation_frequency must be one of ${RULE_FREQUENCIES.join(", ")}.`,
        },
      ],
    }),
    logRetentionDays: v("log_retention_days", { type: "number", default: 30 }),
    operatorPrincipalArns: v("operator_principal_arns", {
      type: "list(string)",
      default: [],
      description:
        "IAM role/user ARNs of Remedy's operators: besides Remedy's own roles, only they may send to the remediation queue (`remedy dlq redrive`) and write undo records to the ledger (`remedy undo`).",
    }),
    protectedBuckets: v("protected_buckets", {
      type: "list(string)",
      default: [],
      description:
        "Bucket names Remedy must never change, besides its own (remedy-ledger-*, remedy-config-*): e.g. your existing Config delivery bucket. A trailing * matches a prefix.",
    }),
    mode: v("mode", {
      type: "string",
      default: mode,
      description: `"account" (one account and region) or "organization" (a hub serving an AWS Organization): chosen by ${ORGANIZATION_FILE} at synth time, stated here.`,
      validation: [{ condition: `\${var.mode == "${mode}"}`, errorMessage: modeMismatch(mode) }],
    }),
    breakerAccountFreshLimit: v("breaker_account_fresh_limit", {
      type: "number",
      default: ACCOUNT_FRESH_LIMIT,
      description:
        "Organisation mode: fresh instructions of one member account within breaker_window_minutes before that account alone is paused.",
      validation: positive("breaker_account_fresh_limit", 100000),
    }),
    enableRealtime: v("enable_realtime", {
      type: "bool",
      default: true,
      description:
        "The real-time path: EventBridge rules on CloudTrail's API calls (and Security Hub findings) judged seconds after the call. false: Config alone detects.",
    }),
    realtimeDelaySeconds: v("realtime_delay_seconds", {
      type: "number",
      default: 20,
      description:
        "How long an API call's event waits in the real-time queue before it is judged: the resource's state settles and Terraform's follow-up tagging (an exemption tag) lands first.",
      validation: [
        {
          // SQS's DelaySeconds range.
          condition:
            "${var.realtime_delay_seconds >= 0 && var.realtime_delay_seconds <= 900 && floor(var.realtime_delay_seconds) == var.realtime_delay_seconds}",
          errorMessage: "realtime_delay_seconds must be a whole number from 0 to 900.",
        },
      ],
    }),
    enableSecurityHubFindings: v("enable_security_hub_findings", {
      type: "bool",
      default: true,
      description:
        "With enable_realtime: take Security Hub findings (its controls and integrated scanners) as hints to re-judge a resource.",
    }),
  };
}
