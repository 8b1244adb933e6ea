// The monthly AWS bill of a Remedy deployment, every charge it causes, for 1,000, 10,000 and 100,000 resources (half
// security groups, half buckets), from us-east-1 list prices (each with the page it was read from) and call counts
// that are either measured here (one idle coordinator tick, against a real SQS-protocol server) or stated below as
// assumptions. Every function's memory comes from functions/registry.ts, exactly as infra/stack.ts deploys it.
//
// The periodic run is modelled as functions/config-rule/scan.ts makes it: a scan in tasks on the scan queue (read
// what Config holds, list the resources, judge them a page at a time) that still judges every resource and queues
// every violation, but calls PutEvaluations only where its verdict differs from the one Config already holds. Config
// keeps a custom rule's last result per resource until it is replaced, marked NOT_APPLICABLE or the rule is deleted
// (SOURCES.configKeepsResults, SOURCES.configDeleteResults), so a result that is not re-sent stays true. The scan's
// reads are free API calls; they cost Lambda time, modelled as calls × a stated latency. A month is 30 days (720
// hours); free tiers are not applied (they are account-wide, and other workloads may already use them).
//
// Organisation mode (CostAssumptions.organization; absent: one account, as above) is the same model with the
// resources spread over member accounts × regions: what follows the resources (changes, fixes, evaluations, CIs,
// notices) is unchanged for the same total, while what each account-region adds is counted once per account-region
// (a scan per rule per account-region, its tasks, invocations, SQS messages and S3 parts in the hub), once per
// region (the rule function's copy and its metrics), or per call to STS and Organizations (free; their latency is
// function time). The queues, coordinator, ledger and notifier stay single in the hub. See organizationReport.
// Run: npx tsx bench/cost.bench.ts
import { pathToFileURL } from "node:url";
import { CONCURRENCY, SAFETY_MARGIN_MS, SAVE_MARGIN_MS } from "../functions/coordinator/settings.ts";
import { type CoordinatorStateStore, memoryStateStore } from "../functions/coordinator/state.ts";
import { runCoordinator } from "../functions/coordinator/tick.ts";
import { FUNCTIONS, REMEDIATION_FUNCTION_NAMES } from "../functions/registry.ts";
import { PROBLEM_SPECS, RESOURCES, RULE_IDS } from "../problems/index.ts";
import { UNRECORDED_RESOURCES } from "../problems/inventory.ts";
import {
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  recordingReporter,
  testConfig,
} from "../test/coordinator/support.ts";
import { startLocalSqs } from "../test/helpers/local-sqs.ts";

/** Where each price and behaviour was read (November 2026). */
export const SOURCES = {
  /** Rule evaluations: $0.001 first 100,000, $0.0008 next 400,000, then $0.0005, "per rule evaluation per region". */
  configEvaluationTiers: "https://www.vantage.sh/blog/aws-config-pricing",
  /**
   * AWS's Config pricing page (its Arabic edition, as read): the tiers are "per rule evaluation per region", and
   * "with consolidated billing, AWS measures the total number of AWS Config rule evaluations from all of your
   * accounts to determine which pricing tier applies, giving you a lower aggregate price at higher tiers".
   */
  configOrganizationTiers: "https://aws.amazon.com/ar/config/pricing/",
  /** Consolidated billing combines the accounts' usage into one bill, to reach lower-priced tiers sooner (ja edition). */
  consolidatedBillingTiers:
    "https://docs.aws.amazon.com/ja_jp/awsaccountbilling/latest/aboutv2/con-bill-blended-rates.md",
  /** AWS's price list (AWSConfig.csv): rule evaluations $0.001 from 0 to 100,000; daily CIs $0.012. */
  configPriceList:
    "https://huggingface.co/datasets/labofsahil/aws-pricing-dataset/blob/a0f8dad4e9385bd2c722ecfa1aa01af7c5318490/AWSConfig.csv",
  /** What Config bills: configuration items recorded, rule evaluations, conformance-pack evaluations (no API calls). */
  configBilling: "https://aws.amazon.com/blogs/mt/cost-optimization-recommendations-for-aws-config",
  /** Continuous recording ~$0.003 per CI, every change; daily ~$0.012 per CI, at most one per resource per day. */
  configRecordingModes:
    "https://github.com/aws/tools-for-devops-agent/blob/69e1ce435186248d5c217f8b68fc962271f2c43d/skills/config-cost-optimization/references/billing-model.md",
  /** "When evaluation results are marked as NOT_APPLICABLE, they will be marked for deletion … If they're NOT …". */
  configKeepsResults: "https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules.html",
  /** Results stay until deleted ("if you recently deleted resources … delete the evaluation results"). */
  configDeleteResults: "https://docs.aws.amazon.com/config/latest/developerguide/deleting-evaluations-results.html",
  /** Rule evaluations are recorded as AWS::Config::ResourceCompliance CIs by a recorder that records that type. */
  configResourceCompliance: "https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config.html",
  /** "When you create a rule, Config evaluates your resources against the rule automatically." */
  configNewRuleEvaluates:
    "https://docs.aws.amazon.com/sdkfornet/v3/apidocs/items/ConfigService/MIConfigServiceStartConfigRulesEvaluationStartConfigRulesEvaluationRequest.html",
  /** Arm: $0.0000133334 per GB-s (first 7.5 billion GB-s); requests $0.20 per million (both architectures). */
  lambda: "https://cloudchipr.com/blog/aws-lambda-pricing",
  lambdaRequests:
    "https://git.mcrn.ar/mariano/lambda_local_runner/src/commit/957e45b8adae23ce50b966346229585b5df18b4d/docs/lambdas-md/lambda-13-cost.md?display=rendered",
  /** Standard queue: $0.40 per million requests, each 64 KB chunk of a payload one request. */
  sqs: "https://cloudburn.io/blog/amazon-sqs-pricing",
  /** Standard topic: $0.50 per million publishes. */
  sns: "https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/",
  /** S3 Standard: PUT $0.005 and GET $0.0004 per 1,000 requests; $0.023 per GB-month. */
  s3: "https://devnotes.tech/understanding-aws-s3-pricing-a-complete-cost-breakdown-with-examples",
  /** Each KMS key, HMAC keys included, $1/month (prorated hourly). */
  kmsKey: "https://aws.amazon.com/fr/kms/pricing/",
  /** Symmetric and HMAC key requests: $0.03 per 10,000. */
  kmsRequests: "https://www.wring.co/blog/aws-kms-pricing-guide",
  /** $0.40 per secret per month + $0.05 per 10,000 API calls. */
  secretsManager: "https://hivebook.wiki/wiki/aws-secrets-manager-rotated-secrets-dynamic-db-credentials-kms",
  /** Custom metrics $0.30 per metric-month (first 10,000); each metric name × dimension values is a metric; alarms $0.10. */
  cloudWatchMetrics: "https://c3x.dev/blog/aws-cloudwatch-metrics-cost/",
  /** "All custom metrics are prorated by the hour. They're metered only when they're sent"; EMF metrics count. */
  cloudWatchBilling: "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_billing.html",
  /** Free tier (not applied here): 10 metrics, 10 alarms, 5 GB of logs. */
  cloudWatchPricing: "https://aws.amazon.com/cloudwatch/pricing/",
  /** Logs, standard class: ingestion $0.50 per GB, storage $0.03 per GB-month. */
  logs: "https://c3x.dev/blog/cloudwatch-logs-cost-optimization",
  /** Events from AWS services (an EventBridge rule's schedule among them) are free; custom events $1 per million. */
  eventBridge: "https://blog.awsfundamentals.com/aws-eventbridge-pricing-guide",
  /** Standard parameters: no additional charge (standard throughput, as the pause switch uses). */
  ssm: "https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html",
  /** Event history and lookup-events: no additional cost. */
  cloudTrail: "https://aws.amazon.com/cloudtrail/pricing/",
  /** "IAM, IAM Identity Center and AWS STS are features of your AWS account offered at no additional charge." */
  iamSts: "https://docs.aws.amazon.com/en_us/IAM/latest/UserGuide/introduction.html",
  /** "Organizations is offered at no additional charge." */
  organizations: "https://docs.amazonaws.cn/en_us/organizations/latest/userguide/pricing.html",
  /** No additional charge for CloudFormation (StackSets included) with resource providers in AWS::*. */
  cloudFormation: "https://aws.amazon.com/cloudformation/pricing/",
  /** Inter-region transfer: $0.02/GB for most pairs (us-east-1 → us-west-2, eu-west-1), billed at the source. */
  interRegionTransfer: "https://awsnegotiations.com/cross-region-transfer-minimization.html",
  /** Powertools Metrics: the service name is a dimension of every metric. */
  powertoolsService:
    "https://docs.aws.amazon.com/powertools/typescript/2.30.2/api/types/_aws-lambda-powertools_metrics.types.MetricsOptions.html",
} as const;

export interface Price {
  usd: number;
  /** The price as printed. */
  text: string;
  per: string;
  source: string;
}

/** us-east-1 list prices, USD (each from SOURCES). */
export const PRICES = {
  configItemContinuous: { usd: 0.003, text: "$0.003", per: "CI (continuous)", source: SOURCES.configRecordingModes },
  configItemDaily: { usd: 0.012, text: "$0.012", per: "CI (daily)", source: SOURCES.configPriceList },
  lambdaRequest: { usd: 0.2 / 1e6, text: "$0.20/1M", per: "request", source: SOURCES.lambdaRequests },
  lambdaArmGbSecond: { usd: 0.0000133334, text: "$0.0000133334", per: "GB-s (arm64)", source: SOURCES.lambda },
  sqsRequest: { usd: 0.4 / 1e6, text: "$0.40/1M", per: "request (64 KB)", source: SOURCES.sqs },
  snsPublish: { usd: 0.5 / 1e6, text: "$0.50/1M", per: "publish", source: SOURCES.sns },
  s3Put: { usd: 0.005 / 1000, text: "$0.005/1K", per: "PUT", source: SOURCES.s3 },
  s3Get: { usd: 0.0004 / 1000, text: "$0.0004/1K", per: "GET", source: SOURCES.s3 },
  s3StorageGbMonth: { usd: 0.023, text: "$0.023", per: "GB-month", source: SOURCES.s3 },
  kmsKeyMonth: { usd: 1, text: "$1", per: "key-month", source: SOURCES.kmsKey },
  kmsRequest: { usd: 0.03 / 10_000, text: "$0.03/10K", per: "request", source: SOURCES.kmsRequests },
  secretMonth: { usd: 0.4, text: "$0.40", per: "secret-month", source: SOURCES.secretsManager },
  secretsApiCall: { usd: 0.05 / 10_000, text: "$0.05/10K", per: "API call", source: SOURCES.secretsManager },
  customMetricMonth: { usd: 0.3, text: "$0.30", per: "metric-month", source: SOURCES.cloudWatchMetrics },
  alarmMonth: { usd: 0.1, text: "$0.10", per: "alarm-month", source: SOURCES.cloudWatchMetrics },
  logsIngestGb: { usd: 0.5, text: "$0.50", per: "GB ingested", source: SOURCES.logs },
  logsStorageGbMonth: { usd: 0.03, text: "$0.03", per: "GB-month", source: SOURCES.logs },
  scheduledEvent: { usd: 0, text: "free", per: "scheduled event", source: SOURCES.eventBridge },
  ssmStandardGet: { usd: 0, text: "free", per: "GetParameter", source: SOURCES.ssm },
  cloudTrailLookup: { usd: 0, text: "free", per: "LookupEvents", source: SOURCES.cloudTrail },
  configReadCall: { usd: 0, text: "free", per: "API call", source: SOURCES.configBilling },
  stsAssumeRole: { usd: 0, text: "free", per: "AssumeRole", source: SOURCES.iamSts },
  iamRole: { usd: 0, text: "free", per: "role", source: SOURCES.iamSts },
  organizationsCall: { usd: 0, text: "free", per: "API call", source: SOURCES.organizations },
  stackSetInstance: { usd: 0, text: "free", per: "stack instance", source: SOURCES.cloudFormation },
  interRegionGb: { usd: 0.02, text: "$0.02", per: "GB (inter-region)", source: SOURCES.interRegionTransfer },
} as const satisfies Record<string, Price>;

/**
 * Config rule evaluations a month, per region (SOURCES.configEvaluationTiers, configPriceList); under consolidated
 * billing the count is every account's of the region together (SOURCES.configOrganizationTiers): configEvaluationUsd.
 */
export const CONFIG_EVALUATION_TIERS: readonly { upTo: number; usd: number }[] = [
  { upTo: 100_000, usd: 0.001 },
  { upTo: 500_000, usd: 0.0008 },
  { upTo: Number.POSITIVE_INFINITY, usd: 0.0005 },
];

/** What `evaluations` more evaluations cost when `already` were recorded this month (other rules' count too). */
export function configEvaluationCost(evaluations: number, already = 0): number {
  let usd = 0;
  let from = already;
  let left = evaluations;
  for (const tier of CONFIG_EVALUATION_TIERS) {
    if (left <= 0) break;
    const inTier = Math.max(0, Math.min(left, tier.upTo - from));
    usd += inTier * tier.usd;
    left -= inTier;
    from += inTier;
  }
  return usd;
}

/** How many more evaluations `budgetUsd` buys when `already` were recorded this month (the inverse of the above). */
export function affordableEvaluations(budgetUsd: number, already = 0): number {
  let count = 0;
  let from = already;
  let budget = budgetUsd;
  for (const tier of CONFIG_EVALUATION_TIERS) {
    if (budget <= 0) break;
    const room = tier.upTo - from;
    if (room <= 0) continue;
    const inTier = Math.min(room, budget / tier.usd);
    count += inTier;
    budget -= inTier * tier.usd;
    from += inTier;
  }
  return Math.floor(count);
}

/** rule_evaluation_frequency (infra/variables.ts RULE_FREQUENCIES) → hours between periodic runs. */
export const PERIOD_HOURS = {
  One_Hour: 1,
  Three_Hours: 3,
  Six_Hours: 6,
  Twelve_Hours: 12,
  TwentyFour_Hours: 24,
} as const;
export type RuleFrequency = keyof typeof PERIOD_HOURS;

const DAYS = 30;
const HOURS = DAYS * 24;
/** The rules the stack deploys (one Config rule each, each with its periodic scan): the registry's. */
const RULES = RULE_IDS.length;
/** The resource types Config's recorder records for them (each delivers its history files). */
const RECORDED_TYPES = RESOURCES.length - UNRECORDED_RESOURCES.length;

/** Share of the month's hours in which something happening `perMonth` times (at random) happens at least once. */
export function activeHourShare(perMonth: number): number {
  return perMonth <= 0 ? 0 : 1 - Math.exp(-perMonth / HOURS);
}

export interface PeriodicAssumptions {
  /**
   * Share of resources per day whose verdict changes without a configuration change, which only the periodic scan
   * sees: an exemption that expires (tag `until=`, allowlist `expires`), an allowlist entry added by a deploy, the
   * account's Block Public Access changed (not a bucket's configuration item).
   */
  outOfBandChangesPerDay: number;
  /** Share of configuration changes whose change-triggered evaluation never reached Config (lost or failed). */
  missedChangeShare: number;
  /** Changes recorded but not yet evaluated when a scan reads Config: judged by the scan too (both report). */
  configDelaySeconds: number;
  /** One Config, S3 or SQS call from the function, seconds (a task makes them one after another). */
  callLatencySeconds: number;
  /** Items per GetComplianceDetailsByConfigRule / ListDiscoveredResources page and per judge task (scan.ts: 100). */
  pageSize: number;
  /** Share of resources in violation at a scan (exempt or not yet fixed): re-queued, buckets read again for tags. */
  standingViolationShare: number;
  /** Start-up and judging time per scan invocation, seconds (judging is 10 µs an item: bench/rules.bench.ts). */
  overheadSeconds: number;
  /** A verdicts or list task reads until this much of the timeout is left, then hands on (handler.ts: 60 s). */
  safetyMarginSeconds: number;
  /** scan_concurrency (infra/variables.ts, default 5): judge tasks running at once. */
  concurrency: number;
  /** Lambda's pollers on the idle scan queue (event source mapping), each a 20-second long poll (an assumption). */
  idlePollers: number;
}

/**
 * Organisation mode (infra/stack.ts addOrganization): one hub account serving member accounts in several regions.
 * In every member account and region, Remedy's two Config organisation rules, invoking the rule function's copy of
 * that region in the hub; the member roles from one StackSet (IAM: free); the queues, coordinator, ledger and
 * notifier single in the hub. Config's charges (evaluations, CIs) are the member accounts'.
 */
export interface OrganizationAssumptions {
  /** Member accounts served (the resources are theirs; the hub's own are not counted). */
  accounts: number;
  /** The settings' regions: a copy of the rule function (and its log group and metrics) and both rules in each. */
  regions: number;
  /**
   * How Config counts its evaluation tiers: "region" (per region, every account of the consolidated bill together:
   * SOURCES.configOrganizationTiers) or "account-region" (each account and region from the first tier: accounts
   * not on one bill).
   */
  configTiers: "region" | "account-region";
  /** A member session's life, minutes (platform/member-roles.ts MEMBER_SESSION_SECONDS): reused while warm. */
  sessionMinutes: number;
  /** The organisation directory's cache, minutes (platform/organization.ts: ListAccounts and ListParents). */
  directoryTtlMinutes: number;
  /** Accounts per ListAccounts page (assumed: 20). */
  listAccountsPageSize: number;
  /** OU levels between an account and the root: ListParents calls per account are this + 1. */
  ouDepth: number;
  /** KB a scan reads from member Config per resource (verdict, listing entry, configuration item). */
  scanKbPerResource: number;
  /** KB per message the rule function's copies send to the hub region's queues. */
  messageKb: number;
}

export interface CostAssumptions {
  resources: number;
  /** Share of resources whose configuration changes on a given day: one CI, one change-triggered evaluation each. */
  dailyChangeRate: number;
  /** Share of changes that open a hole Remedy fixes (each fix is a change too: one more CI and evaluation). */
  violationRate: number;
  /**
   * Share of changes (other than fixes) whose verdict differs from what Config holds, so are sent (core.ts sends a
   * change's verdict only then): those that open a hole (violationRate) and those that change a violation's details
   * (its annotation). A fix always flips the verdict back: each one is sent.
   */
  changeEvaluationsReported: number;
  ruleFrequency: RuleFrequency;
  periodic: PeriodicAssumptions;
  /**
   * "existing" (manage_config=false, the default): Config already records in the account, so only the CIs Remedy
   * causes count (the fixes' own changes, and AWS::Config::ResourceCompliance CIs when that type is recorded).
   * "stack" (manage_config=true): the stack's recorder records every change of every security group and bucket.
   */
  recorder: "existing" | "stack";
  /** The existing recorder records AWS::Config::ResourceCompliance (it does when it records all supported types). */
  existingRecordsCompliance: boolean;
  recording: "continuous" | "daily";
  /** enable_auto_response: the coordinator's one-minute schedule runs (and fixes are made). */
  autoResponse: boolean;
  /** Where the Slack routing is: a Secrets Manager secret (one secret, $0.40), an SSM parameter (free) or nowhere. */
  slack: "secrets-manager" | "ssm" | "none";
  /** The notifier is subscribed to a Config topic (manage_config, or existing_config_topic_arn). */
  configTopic: boolean;
  /** Metrics are sent only when non-zero, as platform/logging.ts does (false: every count, zeros included, as before). */
  metricsNonZeroOnly: boolean;
  /** Wall time per invocation, seconds. */
  seconds: { changeRun: number; tick: number; remediation: number; notice: number; ignoredNotice: number };
  /** Log bytes per invocation (Lambda's START/END/REPORT lines, the function's lines and its EMF metrics), KB. */
  logKb: { changeRun: number; scanTask: number; tick: number; remediation: number; notice: number };
  /** Per fix: S3 PUTs (claim, pending and final ledger records), GenerateMac calls, report publishes. */
  perFix: { s3Puts: number; macs: number; reports: number };
  /** Object sizes, KB: the coordinator's state (versioned, noncurrent versions kept 90 days), a ledger record, a CI. */
  objectKb: { state: number; ledgerRecord: number; configItem: number };
  /** Organisation mode; absent: one account and region (the default, whose figures these are). */
  organization?: OrganizationAssumptions;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  resources: 10_000,
  dailyChangeRate: 0.05,
  violationRate: 0.02,
  // 2% open a hole (violationRate), 1% change the details of one: assumed.
  changeEvaluationsReported: 0.03,
  ruleFrequency: "TwentyFour_Hours",
  periodic: {
    outOfBandChangesPerDay: 0.001,
    missedChangeShare: 0.01,
    configDelaySeconds: 180,
    callLatencySeconds: 0.3,
    pageSize: 100,
    standingViolationShare: 0.005,
    overheadSeconds: 0.2,
    safetyMarginSeconds: 60,
    concurrency: 5,
    idlePollers: 5,
  },
  recorder: "existing",
  existingRecordsCompliance: true,
  recording: "continuous",
  autoResponse: true,
  slack: "secrets-manager",
  configTopic: true,
  metricsNonZeroOnly: true, // platform/logging.ts metricSink sends no zero
  seconds: { changeRun: 0.25, tick: 1.5, remediation: 1.5, notice: 0.8, ignoredNotice: 0.05 },
  logKb: { changeRun: 1, scanTask: 1, tick: 2, remediation: 4, notice: 1 },
  perFix: { s3Puts: 3, macs: 2, reports: 1 },
  objectKb: { state: 4, ledgerRecord: 4, configItem: 3 },
};

export const SCALES = [1_000, 10_000, 100_000] as const;
export const TARGET_USD = 25;

/** Issue 15's organisation: 100 member accounts × 4 regions (400 account-regions). */
export const DEFAULT_ORGANIZATION: OrganizationAssumptions = {
  accounts: 100,
  regions: 4,
  configTiers: "region",
  sessionMinutes: 15,
  directoryTtlMinutes: 5,
  listAccountsPageSize: 20,
  ouDepth: 1,
  scanKbPerResource: 3.5,
  messageKb: 1,
};
/** Resources per account-region of the organisation scenario (10,000 and 100,000 in all at 100 × 4). */
export const ORGANIZATION_SCALES = [25, 250] as const;

/** Account-regions the deployment serves: 1 in single-account mode. */
export function accountRegions(a: CostAssumptions): number {
  return a.organization ? a.organization.accounts * a.organization.regions : 1;
}

/** What Config bills for `evaluations` a month, spread evenly, counted as `a.organization.configTiers` says. */
export function configEvaluationUsd(a: CostAssumptions, evaluations: number): number {
  const o = a.organization;
  if (!o) return configEvaluationCost(evaluations);
  const counters = o.configTiers === "region" ? o.regions : o.accounts * o.regions;
  return counters * configEvaluationCost(evaluations / counters);
}

/**
 * Refreshes of a cache that lives `ttlMinutes` when `events` a month (at random) are spread over `streams`
 * independent caches: each refresh is followed by λ·ttl hits on average, so 1 in 1 + λ·ttl events refreshes.
 */
export function cacheRefreshes(events: number, streams: number, ttlMinutes: number): number {
  if (events <= 0) return 0;
  const perMinute = events / streams / (HOURS * 60);
  return events / (1 + perMinute * ttlMinutes);
}

export interface IdleTick {
  sqsCalls: number;
  stateLoads: number;
  stateSaves: number;
  /** The metric data points the tick emitted (name, value). */
  metrics: { name: string; value: number }[];
}

/** Counts what one coordinator tick on an empty queue sends (the cost floor of the 60-second schedule). */
export async function measureIdleTick(): Promise<IdleTick> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const local = await startLocalSqs();
  try {
    const inner = memoryStateStore();
    const counts = { stateLoads: 0, stateSaves: 0 };
    const store: CoordinatorStateStore = {
      load: () => {
        counts.stateLoads++;
        return inner.load();
      },
      save: (state, etag) => {
        counts.stateSaves++;
        return inner.save(state, etag);
      },
    };
    const metrics: { name: string; value: number }[] = [];
    local.commands.length = 0;
    await runCoordinator({
      sqs: local.client(),
      lambda: fakeLambda(),
      ssm: fakePauseParameter().ssm,
      store,
      reporter: recordingReporter(),
      // The deployed pace and time budget (functions/coordinator/settings.ts); no long poll, to keep it quick.
      config: testConfig(local, {
        receiveWaitSeconds: 0,
        safetyMarginMs: SAFETY_MARGIN_MS,
        saveMarginMs: SAVE_MARGIN_MS,
        concurrency: { ...CONCURRENCY },
      }),
      now: fakeClock().now,
      remainingTimeMs: () => 50_000,
      log: { debug() {}, info() {}, warn() {}, error() {} },
      metrics: { count: (name, value = 1) => void metrics.push({ name, value }) },
    });
    return { sqsCalls: local.commands.length, ...counts, metrics };
  } finally {
    await local.stop();
  }
}

/** When a metric is sent: every tick, rule run (change or scan page), scan, fix, delivered or ignored notice, error. */
export type Trigger =
  | "tick"
  | "ruleRun"
  | "ruleRunWithViolation"
  | "scan"
  | "fix"
  | "notice"
  | "ignoredNotice"
  | "error";

export interface MetricEmitter {
  /** Powertools `serviceName` (platform/logging.ts createMetrics): the one dimension of every metric. */
  service: string;
  name: string;
  /** When it is sent today (a zero too: Powertools sends a 0 like any value). */
  emitted: Trigger;
  /** When it would be sent if zero counts were not (the change recommended in the report). */
  nonZero: Trigger;
}

const COORDINATOR = "remedy-coordinator";
const CONFIG_RULE = "remedy-config-rule";
const NOTIFIER = "remedy-notifier";
export const REMEDIATION_SERVICES = REMEDIATION_FUNCTION_NAMES.map((name) => `remedy-${name}`);

const each = (service: string, emitted: Trigger, nonZero: Trigger, names: readonly string[]): MetricEmitter[] =>
  names.map((name) => ({ service, name, emitted, nonZero }));

/**
 * Every custom metric the functions send besides the coordinator's per-tick counts (those are taken from the measured
 * idle tick): `metrics.count(` / `metrics?.count(` in functions/, through platform/logging.ts metricSink. Namespace
 * Remedy, one dimension `service` (SOURCES.powertoolsService): each name × service is one billed metric.
 * test/bench/cost.test.ts keeps this list and the code equal.
 */
export const STATIC_METRICS: readonly MetricEmitter[] = [
  // functions/coordinator/tick.ts, on a failed state save only.
  ...each(COORDINATOR, "error", "error", ["StateSaveFailed", "StateConflicts"]),
  // functions/config-rule/core.ts (a change) and scan.ts (a judge task): four counts at the end of every run.
  // A change's verdict is sent only when Config holds another (core.ts): mostly UnchangedVerdicts is the one sent.
  ...each(CONFIG_RULE, "ruleRun", "ruleRunWithViolation", ["Evaluations"]),
  ...each(CONFIG_RULE, "ruleRun", "ruleRunWithViolation", ["NonCompliantResources", "InstructionsQueued"]),
  ...each(CONFIG_RULE, "ruleRun", "scan", ["ExemptFindings"]),
  ...each(CONFIG_RULE, "ruleRun", "ruleRun", ["UnchangedVerdicts"]),
  ...each(CONFIG_RULE, "error", "error", [
    "ParameterMismatches",
    "InvalidConfigurationItems",
    "InvalidEvents",
    "FailedEvaluations",
    "InvalidScanTasks",
    "ScanTaskFailures",
    "ExpiredScanTokens",
    // scan.ts: a resource of a type Config does not record that its inventory could not read.
    "UnreadResources",
  ]),
  // functions/notifier/core.ts: one per notice, by outcome.
  ...each(NOTIFIER, "notice", "notice", ["NotificationsDelivered"]),
  ...each(NOTIFIER, "ignoredNotice", "ignoredNotice", ["NotificationsIgnored"]),
  ...each(NOTIFIER, "error", "error", ["NotificationsDropped", "NotificationsFailed", "NotificationsLoggedOnly"]),
  // functions/remediation/runner.ts, once per remediation function (each its own service name).
  ...REMEDIATION_SERVICES.flatMap((service) => [
    ...each(service, "fix", "fix", ["Fixed"]),
    ...each(service, "error", "error", [
      "Skipped",
      "RejectedRequests",
      "StaleDispatches",
      "RefusedInstructions",
      "DuplicateDeliveries",
      "HeldWhilePaused",
      "PermanentFailures",
      "TransientFailures",
    ]),
  ]),
];

/** The coordinator's per-tick counts that are non-zero only when something is received and dispatched. */
const NON_ZERO_ON_FIX = new Set(["Received", "Dispatched"]);

/** Every metric: the static ones and what the measured idle tick sent (all of it, zeros included, at every tick). */
export function metricInventory(idle: IdleTick): MetricEmitter[] {
  const tick = [...new Map(idle.metrics.map((metric) => [metric.name, metric])).values()].map((metric) => ({
    service: COORDINATOR,
    name: metric.name,
    emitted: "tick" as const,
    nonZero:
      metric.value !== 0 ? ("tick" as const) : NON_ZERO_ON_FIX.has(metric.name) ? ("fix" as const) : ("error" as const),
  }));
  return [
    ...tick,
    ...STATIC_METRICS.filter((metric) => !tick.some((t) => t.name === metric.name && t.service === metric.service)),
  ];
}

export interface LineItem {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  /** The unit price as printed ("$0.003", or the tiers). */
  unitPrice: string;
  usd: number;
  source: string;
  /** What the quantity is made of. */
  basis: string;
  /** Organisation mode: whose bill the line is on when not the hub's (Config's charges are the member accounts'). */
  billedTo?: "members";
}

/** One periodic scan of one rule (functions/config-rule/scan.ts): its tasks and calls. */
export interface ScanRun {
  pages: number;
  /** Tasks on the scan queue: verdicts and list (more than one each when one runs out of time), one judge a page. */
  tasks: number;
  /** Invocations: the ScheduledNotification that starts it, and one per task. */
  invocations: number;
  configCalls: number;
  /** Calls the function makes to SQS (task and instruction sends); the event source's receives and deletes apart. */
  sqsSends: number;
  s3Puts: number;
  s3Gets: number;
  putEvaluations: number;
  /** Function time, all invocations. */
  seconds: number;
  /** The longest single task (a verdicts or list task reading page after page) and its budget. */
  longestTaskSeconds: number;
  taskBudgetSeconds: number;
  /** From the ScheduledNotification to the last judge task, with scan_concurrency judge tasks at once. */
  wallSeconds: number;
}

/** What the month's usage is made of, before prices: the model's call counts. */
export interface Usage {
  changes: number;
  fixes: number;
  changeEvaluations: number;
  /** Scans a month of one rule in one account-region. */
  scansPerRule: number;
  /** Every scan a month: each rule in each account-region. */
  scans: number;
  periodicEvaluations: number;
  /** One scan of one rule in one account-region. */
  scan: ScanRun;
  ticks: number;
  notices: number;
  ignoredNotices: number;
  complianceChanges: number;
  configItems: number;
  /** ReceiveMessage calls of the scan queue's event source while it is idle. */
  idlePolls: number;
  metricMonths: { today: number; nonZeroOnly: number; metrics: number };
  /** Organisation mode only. */
  organization?: OrganizationUsage;
}

/** What organisation mode adds to a month (every call here is free; its latency is function time). */
export interface OrganizationUsage {
  accountRegions: number;
  /** AssumeRole of remedy-member-detect by the rule function: change runs (cached per warm container) and scans. */
  detectSessions: number;
  /** AssumeRole of a remedy-member-fix-* role: one per fix (each session is named after its action). */
  fixSessions: number;
  listAccountsCalls: number;
  listParentsCalls: number;
  /** Function seconds those calls take, by function (calls × callLatencySeconds). */
  seconds: { configRule: number; coordinator: number; remediations: number; notifier: number };
  /** Scan reads of member Config in the regions other than the hub's, and the copies' sends to the hub's queues. */
  interRegionGb: number;
  /** The member roles (detect, one fix role per problem, undo) in every member account, from one StackSet. */
  memberRoles: number;
  stackInstances: number;
}

const round = (value: number) => Math.round(value).toLocaleString("en-US");

/** One scan of one rule with `perRule` resources and `putEvaluations` verdicts to send. */
export function scanRun(perRule: number, putEvaluations: number, p: PeriodicAssumptions): ScanRun {
  const pages = Math.max(1, Math.ceil(perRule / p.pageSize));
  const taskBudgetSeconds = FUNCTIONS["config-rule"].timeoutSeconds - p.safetyMarginSeconds;
  const readingSeconds = pages * p.callLatencySeconds;
  const chained = Math.max(1, Math.ceil(readingSeconds / taskBudgetSeconds)); // verdicts (or list) tasks in a chain
  // A judge page holds a verdict to send with probability 1 − (1 − share)^pageSize.
  const share = Math.min(1, putEvaluations / perRule);
  const pagesWithPuts = Math.min(putEvaluations, pages * (1 - (1 - share) ** p.pageSize));
  const violations = perRule * p.standingViolationShare;
  const pagesWithViolations = Math.min(violations, pages);
  const tagReads = violations / 2; // buckets are re-read for their tags (GetResourceConfigHistory); half of both rules
  const configCalls = pages + pages + pages + tagReads + Math.ceil(pagesWithPuts);
  // Task sends: the start's verdicts task, each chained verdicts or list task's successor, the list's judge tasks in
  // batches of 10; and the judge tasks' instruction sends.
  const sqsSends = 2 * chained + Math.ceil(pages / 10) + Math.ceil(pagesWithViolations);
  const tasks = 2 * chained + pages;
  const invocations = 1 + tasks;
  const judgeSeconds = p.overheadSeconds + (1 + 1 + tagReads / pages) * p.callLatencySeconds;
  const s3Calls = 2 * chained; // each verdicts task stores its part; each list task reads them back
  const seconds = invocations * p.overheadSeconds + (configCalls + sqsSends + s3Calls) * p.callLatencySeconds;
  return {
    pages,
    tasks,
    invocations,
    configCalls,
    sqsSends,
    s3Puts: chained,
    s3Gets: chained,
    putEvaluations,
    seconds,
    longestTaskSeconds: Math.min(readingSeconds, taskBudgetSeconds) + p.overheadSeconds,
    taskBudgetSeconds,
    wallSeconds: 2 * readingSeconds + Math.ceil(pages / p.concurrency) * judgeSeconds,
  };
}

/** The month's usage under `a` (call counts, invocations, metric-months); `idle` gives the coordinator's metrics. */
export function usage(a: CostAssumptions, idle: IdleTick): Usage {
  const p = a.periodic;
  const n = accountRegions(a);
  const perRule = a.resources / RULES;
  const changes = a.resources * a.dailyChangeRate * DAYS;
  const fixes = a.autoResponse ? changes * a.violationRate : 0;
  const changeEvents = changes + fixes;
  const changeEvaluations = changes * a.changeEvaluationsReported + fixes;
  const scansPerRule = (24 / PERIOD_HOURS[a.ruleFrequency]) * DAYS;
  // Only verdicts Config does not already hold: out-of-band changes, missed notifications, changes in flight.
  const inFlightPerScan = a.resources * a.dailyChangeRate * (p.configDelaySeconds / 86_400);
  const periodicEvaluations =
    DAYS * a.resources * (p.outOfBandChangesPerDay + a.dailyChangeRate * p.missedChangeShare) +
    scansPerRule * inFlightPerScan;
  // Each account-region's rule is scanned on its own (its ScheduledNotification): the same verdicts, in n parts.
  const scan = scanRun(perRule / n, periodicEvaluations / scansPerRule / RULES / n, p);
  const ticks = a.autoResponse ? HOURS * 60 : 0;
  const complianceChanges = 2 * fixes + DAYS * a.resources * p.outOfBandChangesPerDay;
  const reports = fixes * a.perFix.reports;
  // A Config topic carries a notice of every CI change (ignored; of the rules' two types only here, a lower bound for
  // an existing topic of an account that records more) and of every compliance change (relayed to Slack).
  const ignoredNotices = a.configTopic ? changeEvents : 0;
  const notices = reports + (a.configTopic ? complianceChanges : 0);
  const configItems =
    a.recorder === "stack" ? changeEvents : fixes + (a.existingRecordsCompliance ? complianceChanges : 0);
  const idlePolls = p.idlePollers * 3 * HOURS * 60; // one 20-second long poll each, three a minute

  const scans = scansPerRule * RULES * n;
  const violationsPerScan = (perRule / n) * p.standingViolationShare;
  const events: Record<Trigger, number> = {
    tick: ticks,
    ruleRun: changeEvents + scans * scan.pages,
    // A scan reports a violation when it finds one: every scan once one or more are expected.
    ruleRunWithViolation: changes * a.violationRate + scans * Math.min(1, violationsPerScan),
    scan: scans,
    fix: fixes / Math.max(1, REMEDIATION_SERVICES.length),
    notice: notices,
    ignoredNotice: ignoredNotices,
    error: 0,
  };
  // Without Slack, every notice is counted as logged only instead of delivered.
  const slackSwap = (metric: MetricEmitter, trigger: Trigger): Trigger =>
    a.slack !== "none"
      ? trigger
      : metric.name === "NotificationsDelivered"
        ? "error"
        : metric.name === "NotificationsLoggedOnly"
          ? "notice"
          : trigger;
  const share = (trigger: Trigger) => (trigger === "tick" ? (ticks > 0 ? 1 : 0) : activeHourShare(events[trigger]));
  // Organisation mode: a change runs in its region's copy of the rule function, whose metrics are that region's
  // (each name × service billed once per region); scan tasks run in the hub region. Every other function is the hub's.
  const regions = a.organization?.regions ?? 1;
  const changePart: Partial<Record<Trigger, number>> = {
    ruleRun: changeEvents,
    ruleRunWithViolation: changes * a.violationRate,
  };
  const metricShare = (metric: MetricEmitter, trigger: Trigger) => {
    if (regions === 1 || metric.service !== CONFIG_RULE) return share(trigger);
    const inRegion = (changePart[trigger] ?? 0) / regions;
    const inHub = events[trigger] - (changePart[trigger] ?? 0) + inRegion;
    return activeHourShare(inHub) + (regions - 1) * activeHourShare(inRegion);
  };
  const inventory = metricInventory(idle);
  const metricMonths = {
    today: inventory.reduce((sum, metric) => sum + metricShare(metric, slackSwap(metric, metric.emitted)), 0),
    nonZeroOnly: inventory.reduce((sum, metric) => sum + metricShare(metric, slackSwap(metric, metric.nonZero)), 0),
    metrics: inventory.length,
  };
  const o = a.organization;
  const organization = o && organizationUsage(a, o, { changeEvents, fixes, notices, scans, scan, scansPerRule });
  return {
    changes,
    fixes,
    changeEvaluations,
    scansPerRule,
    scans,
    periodicEvaluations,
    scan,
    ticks,
    notices,
    ignoredNotices,
    complianceChanges,
    configItems,
    idlePolls,
    metricMonths,
    ...(organization ? { organization } : {}),
  };
}

/** Organisation mode's calls: member sessions, the directory's reads, what crosses regions (see OrganizationUsage). */
function organizationUsage(
  a: CostAssumptions,
  o: OrganizationAssumptions,
  u: { changeEvents: number; fixes: number; notices: number; scans: number; scan: ScanRun; scansPerRule: number },
): OrganizationUsage {
  const p = a.periodic;
  const n = o.accounts * o.regions;
  // Change runs: one detect session per account-region, reused by the region's warm container for its life.
  // A scan's tasks run back to back in the hub: one session per judge task running at once.
  const scanSessions = Math.min(u.scan.tasks, Math.max(1, Math.min(u.scan.pages, p.concurrency)));
  const detectSessions = cacheRefreshes(u.changeEvents, n, o.sessionMinutes) + u.scans * scanSessions;
  const fixSessions = u.fixes;
  // The directory: every function that checks an account's standing, one cache per function (per region for the
  // rule function's copies, per remediation function); ListAccounts pages the whole organisation (+ the hub).
  const listPages = Math.ceil((o.accounts + 1) / o.listAccountsPageSize);
  const parentCalls = o.ouDepth + 1;
  const ttl = o.directoryTtlMinutes;
  const directory = (events: number, caches: number) => ({
    accounts: cacheRefreshes(events, caches, ttl) * listPages,
    parents: cacheRefreshes(events, caches * o.accounts, ttl) * parentCalls,
  });
  const remediations = Math.max(1, REMEDIATION_SERVICES.length);
  const lookups = {
    configRule: directory(u.changeEvents, o.regions),
    configRuleScans: directory(u.scans * scanSessions, 1), // a scan's tasks back to back: once per container
    coordinator: directory(u.fixes, 1),
    remediations: directory(u.fixes, remediations),
    notifier: directory(u.notices, 1),
  };
  const calls = (l: { accounts: number; parents: number }) => l.accounts + l.parents;
  const latency = p.callLatencySeconds;
  const outside = (o.regions - 1) / o.regions;
  const interRegionKb =
    u.scansPerRule * a.resources * outside * o.scanKbPerResource + // every resource read once a scan of its rule
    (a.resources * a.dailyChangeRate * DAYS * a.violationRate + u.scans) * outside * o.messageKb; // copies' sends
  return {
    accountRegions: n,
    detectSessions,
    fixSessions,
    listAccountsCalls: Object.values(lookups).reduce((sum, l) => sum + l.accounts, 0),
    listParentsCalls: Object.values(lookups).reduce((sum, l) => sum + l.parents, 0),
    seconds: {
      configRule: (detectSessions + calls(lookups.configRule) + calls(lookups.configRuleScans)) * latency,
      coordinator: calls(lookups.coordinator) * latency,
      remediations: (fixSessions + calls(lookups.remediations)) * latency,
      notifier: calls(lookups.notifier) * latency,
    },
    interRegionGb: interRegionKb / 1024 ** 2,
    memberRoles: o.accounts * (2 + PROBLEM_SPECS.length),
    stackInstances: o.accounts,
  };
}

/** Every line of the month's bill under `a`. */
export function estimate(a: CostAssumptions, idle: IdleTick, sqsCallsPerFix: number): LineItem[] {
  const u = usage(a, idle);
  const scans = u.scans;
  const org = u.organization;
  const gb = (name: keyof typeof FUNCTIONS) => FUNCTIONS[name].memoryMb / 1024;
  const remediationGb = gb(REMEDIATION_FUNCTION_NAMES[0]!);
  const gbSeconds = {
    changeRuns: (u.changes + u.fixes) * a.seconds.changeRun * gb("config-rule"),
    scans: scans * u.scan.seconds * gb("config-rule"),
    ticks: u.ticks * a.seconds.tick * gb("coordinator"),
    remediations: u.fixes * a.seconds.remediation * remediationGb,
    notifier: (u.notices * a.seconds.notice + u.ignoredNotices * a.seconds.ignoredNotice) * gb("notifier"),
    // Organisation mode: the AssumeRole and Organizations calls, each a call's latency in its function.
    ...(org
      ? {
          organization:
            org.seconds.configRule * gb("config-rule") +
            org.seconds.coordinator * gb("coordinator") +
            org.seconds.remediations * remediationGb +
            org.seconds.notifier * gb("notifier"),
        }
      : {}),
  };
  const totalGbSeconds = Object.values(gbSeconds).reduce((sum, value) => sum + value, 0);
  const invocations =
    u.changes + u.fixes + scans * u.scan.invocations + u.ticks + u.fixes + u.notices + u.ignoredNotices;
  const evaluations = u.changeEvaluations + u.periodicEvaluations;
  const evaluationUsd = configEvaluationUsd(a, evaluations);
  const blended = evaluations > 0 ? evaluationUsd / evaluations : 0;
  const ciPrice = a.recording === "daily" ? PRICES.configItemDaily : PRICES.configItemContinuous;
  const sqsRequests =
    u.ticks * idle.sqsCalls +
    u.fixes * (sqsCallsPerFix + 1) + // the coordinator's share of a drain, and the remediation's DeleteMessage
    u.changes * a.violationRate + // the change-triggered run's SendMessageBatch for a violation
    scans * (u.scan.sqsSends + 2 * u.scan.tasks) + // task and instruction sends; the event source's receive + delete
    u.idlePolls;
  const snsPublishes =
    u.fixes * a.perFix.reports + (a.recorder === "stack" ? u.ignoredNotices + u.complianceChanges : 0);
  const s3Puts =
    u.ticks * idle.stateSaves +
    u.fixes * a.perFix.s3Puts +
    scans * u.scan.s3Puts +
    (a.recorder === "stack" ? 4 * RECORDED_TYPES * DAYS : 0); // Config's history files, every 6 hours per type
  const s3Gets = u.ticks * idle.stateLoads + scans * u.scan.s3Gets;
  const storageGb =
    (3 * u.ticks * idle.stateSaves * a.objectKb.state + // 90 days of noncurrent state versions
      12 * u.fixes * a.perFix.s3Puts * a.objectKb.ledgerRecord + // a year of ledger records
      (a.recorder === "stack" ? 12 * u.configItems * a.objectKb.configItem : 0)) / // a year of Config history
    1024 ** 2;
  const secretCalls = a.slack === "secrets-manager" ? u.notices : 0; // at most one per notice (cached per container)
  const logGb =
    ((u.changes + u.fixes) * a.logKb.changeRun +
      scans * u.scan.invocations * a.logKb.scanTask +
      u.ticks * a.logKb.tick +
      u.fixes * a.logKb.remediation +
      (u.notices + u.ignoredNotices) * a.logKb.notice) /
    1024 ** 2;

  const line = (
    service: string,
    item: string,
    quantity: number,
    price: Price,
    basis: string,
    usd = quantity * price.usd,
  ): LineItem => ({
    service,
    item,
    quantity,
    unit: price.per,
    unitPrice: price.text,
    usd,
    source: price.source,
    basis,
  });
  const configLine = (item: string, quantity: number, basis: string): LineItem => ({
    service: "AWS Config",
    item,
    quantity,
    unit: "rule evaluation",
    unitPrice: "$0.001 / 0.0008 / 0.0005",
    usd: quantity * blended,
    source: org ? SOURCES.configOrganizationTiers : SOURCES.configEvaluationTiers,
    basis: org
      ? `${basis}; tiers counted ${a.organization!.configTiers === "region" ? "per region, all accounts together" : "per account and region"}`
      : basis,
  });
  const lines = [
    configLine(
      "rule evaluations, on change",
      u.changeEvaluations,
      `${round(u.changes)} changes, ${Math.round(a.changeEvaluationsReported * 100)}% of them changing the verdict Config holds, + ${round(u.fixes)} fixes (each flips it back)`,
    ),
    configLine(
      "rule evaluations, periodic",
      u.periodicEvaluations,
      `${round(scans)} scans; only verdicts Config does not hold: ${u.scan.putEvaluations.toFixed(1)} per scan of a rule`,
    ),
    line(
      "AWS Config",
      a.recorder === "stack" ? "configuration items (the stack's recorder)" : "configuration items caused by Remedy",
      u.configItems,
      ciPrice,
      a.recorder === "stack"
        ? `every change of a group or bucket, ${a.recording} recording`
        : `the fixes' own changes${a.existingRecordsCompliance ? ` + ${round(u.complianceChanges)} ResourceCompliance` : ""}`,
    ),
    line(
      "AWS Config",
      "read API calls (scans)",
      scans * (u.scan.configCalls - Math.ceil(Math.min(u.scan.putEvaluations, u.scan.pages))),
      PRICES.configReadCall,
      "GetComplianceDetails, ListDiscovered, BatchGet, History",
    ),
    line("Lambda", "requests", invocations, PRICES.lambdaRequest, "rule runs, scan tasks, ticks, fixes, notices"),
    line(
      "Lambda",
      "compute (arm64)",
      totalGbSeconds,
      PRICES.lambdaArmGbSecond,
      Object.entries(gbSeconds)
        .map(([name, value]) => `${name} ${round(value)}`)
        .join(", "),
    ),
    line(
      "SQS",
      "requests",
      sqsRequests,
      PRICES.sqsRequest,
      `${idle.sqsCalls} per idle tick, ${(sqsCallsPerFix + 1).toFixed(1)} per fix, scan tasks, ${round(u.idlePolls)} idle polls of the scan queue`,
    ),
    line(
      "SNS",
      "publishes",
      snsPublishes,
      PRICES.snsPublish,
      a.recorder === "stack" ? "reports + Config's notices" : "reports",
    ),
    line(
      "S3",
      "PUT requests",
      s3Puts,
      PRICES.s3Put,
      `${idle.stateSaves} per tick (state), ${a.perFix.s3Puts} per fix, scan parts`,
    ),
    line("S3", "GET requests", s3Gets, PRICES.s3Get, `${idle.stateLoads} per tick (state), scan parts`),
    line("S3", "storage", storageGb, PRICES.s3StorageGbMonth, "state versions (90 days), a year of records"),
    line("KMS", "ledger MAC key", 1, PRICES.kmsKeyMonth, "one HMAC key"),
    line("KMS", "GenerateMac", u.fixes * a.perFix.macs, PRICES.kmsRequest, `${a.perFix.macs} per fix`),
    line(
      "Secrets Manager",
      "Slack routing secret",
      a.slack === "secrets-manager" ? 1 : 0,
      PRICES.secretMonth,
      `slack_secret: ${a.slack}`,
    ),
    line("Secrets Manager", "GetSecretValue", secretCalls, PRICES.secretsApiCall, "≤ 1 per notice"),
    line(
      "CloudWatch",
      "custom metrics (EMF)",
      a.metricsNonZeroOnly ? u.metricMonths.nonZeroOnly : u.metricMonths.today,
      PRICES.customMetricMonth,
      `${u.metricMonths.metrics} name × service pairs, prorated by the hours they are sent in${a.metricsNonZeroOnly ? " (non-zero only)" : ", zeros included"}`,
    ),
    line("CloudWatch", "alarm (DLQ depth)", 1, PRICES.alarmMonth, "standard resolution"),
    line("CloudWatch Logs", "ingestion", logGb, PRICES.logsIngestGb, "per invocation: platform lines, logs, EMF"),
    line("CloudWatch Logs", "storage", logGb, PRICES.logsStorageGbMonth, "30-day retention ≈ one month stored"),
    line("EventBridge", "schedule (coordinator)", u.ticks, PRICES.scheduledEvent, "rate(1 minute)"),
    line("SSM", "GetParameter (pause switch)", u.ticks + u.fixes, PRICES.ssmStandardGet, "standard parameter"),
    line("CloudTrail", "LookupEvents (attribution)", u.notices, PRICES.cloudTrailLookup, "event history"),
  ];
  if (!org) return lines;
  // Organisation mode: Config's charges are the member accounts'; the rest is the hub's.
  const o = a.organization!;
  const members = (item: LineItem): LineItem =>
    item.service === "AWS Config" ? { ...item, billedTo: "members" } : item;
  return [
    ...lines.map(members),
    line(
      "STS",
      "AssumeRole (member detect and fix roles)",
      org.detectSessions + org.fixSessions,
      PRICES.stsAssumeRole,
      `${round(org.detectSessions)} detect sessions (change runs: one per account-region per ${o.sessionMinutes} min while warm; scans), ${round(org.fixSessions)} fix sessions (one per fix)`,
    ),
    line(
      "Organizations",
      "ListAccounts + ListParents (the directory)",
      org.listAccountsCalls + org.listParentsCalls,
      PRICES.organizationsCall,
      `${round(org.listAccountsCalls)} ListAccounts (${Math.ceil((o.accounts + 1) / o.listAccountsPageSize)} pages), ${round(org.listParentsCalls)} ListParents; cached ${o.directoryTtlMinutes} min per function`,
    ),
    line(
      "IAM",
      "member roles (StackSet)",
      org.memberRoles,
      PRICES.iamRole,
      `${2 + PROBLEM_SPECS.length} roles + boundary policy in each of ${round(o.accounts)} accounts`,
    ),
    line(
      "CloudFormation",
      "StackSet instances (member roles)",
      org.stackInstances,
      PRICES.stackSetInstance,
      "one per account (IAM is global), AWS:: types only",
    ),
    line(
      "Data transfer",
      "inter-region (scan reads of member Config, copies' sends to the hub)",
      org.interRegionGb,
      PRICES.interRegionGb,
      `${o.regions - 1} of ${o.regions} regions outside the hub's: ${o.scanKbPerResource} KB per resource per scan, ${o.messageKb} KB per message`,
    ),
  ];
}

/** One-off charges: Config evaluates every resource when a rule is created (and records it when it starts). */
export function oneOff(a: CostAssumptions): LineItem[] {
  const evaluations = a.resources;
  return [
    {
      service: "AWS Config",
      item: "first evaluation of every resource (rules created or their parameters changed)",
      quantity: evaluations,
      unit: "rule evaluation",
      unitPrice: "tiers",
      usd: configEvaluationCost(evaluations),
      source: SOURCES.configNewRuleEvaluates,
      basis: "once per deploy that changes a rule",
    },
    {
      service: "AWS Config",
      item: "first recording of every resource (manage_config=true)",
      quantity: a.resources,
      unit: PRICES.configItemContinuous.per,
      unitPrice: PRICES.configItemContinuous.text,
      usd: a.resources * PRICES.configItemContinuous.usd,
      source: SOURCES.configRecordingModes,
      basis: "when the stack's recorder starts",
    },
  ];
}

/** The previous model's total (bench/cost.bench.ts before issue 14): every resource evaluated at every periodic run. */
export function previousModelTotal(idle: IdleTick, sqsCallsPerFix: number, resources: number): number {
  const ticks = DAYS * 24 * 60;
  const changeEvaluations = resources * 0.05 * DAYS;
  const periodicEvaluations = resources * DAYS;
  const fixes = changeEvaluations * 0.02;
  const gbs = (n: number, s: number, mb: number) => n * s * (mb / 1024);
  const periodicRuns = DAYS * 2;
  const lambdaSeconds =
    gbs(changeEvaluations, 0.2, 256) +
    gbs(periodicRuns, (resources / 2 / 100) * 0.3, 512) +
    gbs(ticks, 1.5, 256) +
    gbs(fixes, 1, 256) +
    gbs(fixes * 2, 0.5, 256);
  const lambdaRequests = changeEvaluations + periodicRuns + ticks + fixes + fixes * 2;
  const sqsRequests = ticks * idle.sqsCalls + fixes * (sqsCallsPerFix + 2);
  return (
    configEvaluationCost(periodicEvaluations + changeEvaluations) +
    lambdaRequests * 0.2e-6 +
    lambdaSeconds * 0.0000133334 +
    sqsRequests * 0.4e-6 +
    ticks * (idle.stateLoads * 0.0004e-3 + idle.stateSaves * 0.005e-3) +
    fixes * 2 * 0.005e-3 +
    fixes * 2 * 0.5e-6 +
    1 +
    fixes * 2 * 0.03e-4 +
    ((ticks + changeEvaluations + periodicEvaluations) * 1024 * 0.5) / 1024 ** 3
  );
}

export const total = (lines: readonly { usd: number }[]) => lines.reduce((sum, line) => sum + line.usd, 0);

/** The most daily change a deployment can have and stay within `budgetUsd` (bisection on the whole model). */
export function maxDailyChangeRate(
  a: CostAssumptions,
  idle: IdleTick,
  sqsCallsPerFix: number,
  budgetUsd: number,
): number {
  const at = (rate: number) => total(estimate({ ...a, dailyChangeRate: rate }, idle, sqsCallsPerFix));
  if (at(0) > budgetUsd) return 0;
  let low = 0;
  let high = 1;
  if (at(high) <= budgetUsd) return high;
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    if (at(mid) <= budgetUsd) low = mid;
    else high = mid;
  }
  return low;
}

/** One line of the bill at every scale; `usd` and `quantity` are the headline scale's (DEFAULT_ASSUMPTIONS). */
export interface CostLine extends LineItem {
  byScale: { resources: number; quantity: number; usd: number }[];
}

export interface CostReport {
  assumptions: CostAssumptions;
  idle: IdleTick;
  sqsCallsPerFix: number;
  scales: {
    resources: number;
    total: number;
    /** The same deployment with the stack's own recorder (manage_config=true). */
    withStackRecorder: number;
    /** The same deployment if every count were sent, zeros included (before metricSink skipped them). */
    withZeroCounts: number;
    previousModel: number;
    usage: Usage;
    /** Periodic PutEvaluations a month that fit within the target, beside everything else (as is; metrics fixed). */
    affordablePeriodicEvaluations: number;
    affordableWithZeroCounts: number;
  }[];
  oneOff: CostLine[];
  maxChangeRate: { existingRecorder: number; stackRecorder: number };
  /** The organisation scenario (DEFAULT_ORGANIZATION) beside one account of the same total. */
  organization: OrganizationReport;
  /** The headline scale's total at every rule_evaluation_frequency. */
  byFrequency: { frequency: RuleFrequency; total: number; periodicEvaluations: number }[];
}

/** One size of the organisation scenario, beside the same resources in one account. */
export interface OrganizationScenario {
  perAccountRegion: number;
  /** All resources: perAccountRegion × account-regions. */
  resources: number;
  lines: LineItem[];
  singleAccount: LineItem[];
  total: number;
  singleAccountTotal: number;
  /** The lines billed to the member accounts (Config's) and the hub's. */
  members: number;
  hub: number;
  /** The total with Config's tiers counted per account and region (accounts not on one consolidated bill). */
  totalTiersPerAccountRegion: number;
  usage: Usage;
  singleAccountUsage: Usage;
}

export interface OrganizationReport {
  /** The single-account assumptions the scenario shares. */
  assumptions: CostAssumptions;
  organization: OrganizationAssumptions;
  scenarios: OrganizationScenario[];
}

/** Organisation mode at ORGANIZATION_SCALES (resources per account-region), each beside one account of its total. */
export function organizationReport(
  idle: IdleTick,
  sqsCallsPerFix: number,
  base: CostAssumptions = DEFAULT_ASSUMPTIONS,
  organization: OrganizationAssumptions = DEFAULT_ORGANIZATION,
  perAccountRegion: readonly number[] = ORGANIZATION_SCALES,
): OrganizationReport {
  const { organization: _ignored, ...single } = base;
  return {
    assumptions: single,
    organization,
    scenarios: perAccountRegion.map((each) => {
      const resources = each * organization.accounts * organization.regions;
      const a: CostAssumptions = { ...single, resources, organization };
      const one: CostAssumptions = { ...single, resources };
      const lines = estimate(a, idle, sqsCallsPerFix);
      const singleAccount = estimate(one, idle, sqsCallsPerFix);
      const members = total(lines.filter((line) => line.billedTo === "members"));
      const perAccountRegionTiers = { ...a, organization: { ...organization, configTiers: "account-region" as const } };
      return {
        perAccountRegion: each,
        resources,
        lines,
        singleAccount,
        total: total(lines),
        singleAccountTotal: total(singleAccount),
        members,
        hub: total(lines) - members,
        totalTiersPerAccountRegion: total(estimate(perAccountRegionTiers, idle, sqsCallsPerFix)),
        usage: usage(a, idle),
        singleAccountUsage: usage(one, idle),
      };
    }),
  };
}

/** The bill at every scale; bench/run.ts sums `usd` (the headline scale) and passes the result to print. */
export type CostLines = CostLine[] & { report: CostReport };

function byScale(build: (a: CostAssumptions) => LineItem[], a: CostAssumptions): CostLine[] {
  const perScale = SCALES.map((resources) => ({ resources, lines: build({ ...a, resources }) }));
  const headline = build(a);
  return headline.map((line, index) => ({
    ...line,
    byScale: perScale.map(({ resources, lines }) => ({
      resources,
      quantity: lines[index]!.quantity,
      usd: lines[index]!.usd,
    })),
  }));
}

export function costReport(
  idle: IdleTick,
  sqsCallsPerFix: number,
  assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS,
): CostLines {
  const lines = byScale((a) => estimate(a, idle, sqsCallsPerFix), assumptions);
  const scales = SCALES.map((resources) => {
    const a = { ...assumptions, resources };
    const u = usage(a, idle);
    // Periodic PutEvaluations that fit beside everything else (the change-triggered ones are priced first).
    const affordable = (variant: CostAssumptions) => {
      const bill = estimate(variant, idle, sqsCallsPerFix);
      const evaluationsUsd = bill.filter((line) => line.unit === "rule evaluation").reduce((sum, l) => sum + l.usd, 0);
      const others = total(bill) - evaluationsUsd + configEvaluationCost(u.changeEvaluations);
      return affordableEvaluations(TARGET_USD - others, u.changeEvaluations);
    };
    const zeros = { ...a, metricsNonZeroOnly: false };
    return {
      resources,
      total: total(estimate(a, idle, sqsCallsPerFix)),
      withStackRecorder: total(estimate({ ...a, recorder: "stack" }, idle, sqsCallsPerFix)),
      withZeroCounts: total(estimate(zeros, idle, sqsCallsPerFix)),
      previousModel: previousModelTotal(idle, sqsCallsPerFix, resources),
      usage: u,
      affordablePeriodicEvaluations: affordable(a),
      affordableWithZeroCounts: affordable(zeros),
    };
  });
  const report: CostReport = {
    assumptions,
    idle,
    sqsCallsPerFix,
    scales,
    oneOff: byScale(oneOff, assumptions),
    maxChangeRate: {
      existingRecorder: maxDailyChangeRate({ ...assumptions, recorder: "existing" }, idle, sqsCallsPerFix, TARGET_USD),
      stackRecorder: maxDailyChangeRate({ ...assumptions, recorder: "stack" }, idle, sqsCallsPerFix, TARGET_USD),
    },
    organization: organizationReport(idle, sqsCallsPerFix, assumptions),
    byFrequency: (Object.keys(PERIOD_HOURS) as RuleFrequency[]).map((frequency) => {
      const a = { ...assumptions, ruleFrequency: frequency };
      return {
        frequency,
        total: total(estimate(a, idle, sqsCallsPerFix)),
        periodicEvaluations: usage(a, idle).periodicEvaluations,
      };
    }),
  };
  return Object.assign(lines, { report });
}

export async function main(
  sqsCallsPerFix = 0.1,
  assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS,
): Promise<CostLines> {
  return costReport(await measureIdleTick(), sqsCallsPerFix, assumptions);
}

function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  rightAlign: (column: number) => boolean,
) {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const format = (row: readonly string[]) =>
    row
      .map((cell, column) => (rightAlign(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  console.log(format(header));
  console.log(widths.map((width) => "-".repeat(width)).join("  "));
  for (const row of rows) console.log(format(row));
}

const quantityText = (value: number) =>
  value === 0 ? "0" : value < 10 ? value.toFixed(value < 1 ? 3 : 1) : Math.round(value).toLocaleString("en-US");

export function print(lines: CostLines): void {
  const { report } = lines;
  const a = report.assumptions;
  const sources = [...new Set([...lines, ...report.oneOff].map((line) => line.source))];
  const ref = (source: string) => `[${sources.indexOf(source) + 1}]`;
  const headline = report.scales.find((scale) => scale.resources === a.resources);
  console.log(
    `Monthly AWS bill, us-east-1 list prices, 30-day month, free tiers not applied. Deployment: manage_config=${a.recorder === "stack"}, ` +
      `enable_auto_response=${a.autoResponse}, rule_evaluation_frequency=${a.ruleFrequency}, Slack routing in ${a.slack}, ` +
      `Config topic relayed=${a.configTopic}.`,
  );
  const scaleHeader = SCALES.flatMap((resources) => [`${round(resources)}: qty`, "USD"]);
  table(
    ["service", "item", "unit price", "per", ...scaleHeader, "src"],
    [
      ...lines.map((line) => [
        line.service,
        line.item,
        line.unitPrice,
        line.unit,
        ...line.byScale.flatMap((scale) => [quantityText(scale.quantity), scale.usd.toFixed(2)]),
        ref(line.source),
      ]),
      [],
      [
        "TOTAL",
        `manage_config=${a.recorder === "stack"}`,
        "",
        "",
        ...report.scales.flatMap((scale) => ["", scale.total.toFixed(2)]),
      ],
      [
        "",
        "with the stack's recorder (manage_config=true)",
        "",
        "",
        ...report.scales.flatMap((scale) => ["", scale.withStackRecorder.toFixed(2)]),
      ],
      [
        "",
        "if zero counts were sent (before)",
        "",
        "",
        ...report.scales.flatMap((scale) => ["", scale.withZeroCounts.toFixed(2)]),
      ],
      [
        "anchor",
        "previous model (every resource re-sent daily)",
        "",
        "",
        ...report.scales.flatMap((scale) => ["", scale.previousModel.toFixed(2)]),
      ],
    ],
    (column) => column >= 4 && column < 4 + SCALES.length * 2,
  );
  console.log("\nBasis at the headline scale:");
  for (const line of lines) console.log(`  ${line.service}, ${line.item}: ${line.basis}`);

  console.log("\nOne-off (not monthly):");
  for (const line of report.oneOff) {
    console.log(
      `  ${line.item}: ${line.byScale.map((scale) => `${round(scale.resources)} → $${scale.usd.toFixed(2)}`).join(", ")} ${ref(line.source)}`,
    );
  }

  if (headline) {
    const u = headline.usage;
    const met = headline.total <= TARGET_USD;
    console.log(
      `\nTarget ≤ $${TARGET_USD} at ${round(headline.resources)} resources: ${met ? "met" : "NOT met"} ($${headline.total.toFixed(2)}; ` +
        `if zero counts were sent $${headline.withZeroCounts.toFixed(2)}; with the stack's recorder ` +
        `$${headline.withStackRecorder.toFixed(2)}).`,
    );
    const scans = u.scansPerRule * RULES;
    const perScan = (count: number) => `${round(count)} a month, ${round(count / scans)} per scan of a rule`;
    console.log(
      `  Periodic PutEvaluations that fit beside everything else: ${perScan(headline.affordablePeriodicEvaluations)}; ` +
        `if zero counts were sent ${perScan(headline.affordableWithZeroCounts)} (${round(scans)} scans a ` +
        `month). The model sends ${round(u.periodicEvaluations)} (${u.scan.putEvaluations.toFixed(1)} per scan of a rule).`,
    );
    console.log(
      `  Most daily change within the target: ${(report.maxChangeRate.existingRecorder * 100).toFixed(2)}% of resources ` +
        `(manage_config=false), ${(report.maxChangeRate.stackRecorder * 100).toFixed(2)}% with the stack's recorder ` +
        `(assumed: ${(a.dailyChangeRate * 100).toFixed(0)}%).`,
    );
  }
  console.log("\nA scan of one rule (functions/config-rule/scan.ts):");
  for (const scale of report.scales) {
    const run = scale.usage.scan;
    console.log(
      `  ${round(scale.resources)} resources: ${round(run.tasks)} tasks, ${round(run.configCalls)} Config calls, ` +
        `${round(run.seconds)} s of function time, longest task ${run.longestTaskSeconds.toFixed(0)} s of its ` +
        `${run.taskBudgetSeconds} s budget, ≈ ${(run.wallSeconds / 60).toFixed(1)} min end to end`,
    );
  }
  console.log(
    `\nBy rule_evaluation_frequency, ${round(a.resources)} resources: ` +
      report.byFrequency
        .map((f) => `${f.frequency} $${f.total.toFixed(2)} (${round(f.periodicEvaluations)} periodic evaluations)`)
        .join(", "),
  );
  if (headline) {
    const m = headline.usage.metricMonths;
    const zeros = report.idle.metrics.filter((metric) => metric.value === 0).length;
    const price = PRICES.customMetricMonth.usd;
    console.log(
      `\nCustom metrics: ${m.metrics} name × service pairs; billed ${m.today.toFixed(1)} metric-months ($${(m.today * price).toFixed(2)}). ` +
        `An idle tick (measured) sends ${report.idle.metrics.length} counts, ${zeros} of them 0, every minute. ` +
        `Sent only when non-zero (platform/logging.ts): ${m.nonZeroOnly.toFixed(1)} metric-months ($${(m.nonZeroOnly * price).toFixed(2)}).`,
    );
  }
  console.log("\nAssumptions:");
  const p = a.periodic;
  for (const text of [
    `${round(a.resources)} resources (headline), half security groups, half buckets; 2 rules`,
    `${(a.dailyChangeRate * 100).toFixed(1)}% of resources change a day (one CI and one evaluation each; an SG's relationship changes count); ${(a.violationRate * 100).toFixed(1)}% of changes open a hole, fixed (a fix is one more change)`,
    `a scan every ${PERIOD_HOURS[a.ruleFrequency]} h per rule; PutEvaluations only where Config's verdict differs: ${(p.outOfBandChangesPerDay * 100).toFixed(2)}% of resources a day change verdict without a CI (exemption expiry, allowlist, account BPA), ${(p.missedChangeShare * 100).toFixed(1)}% of change evaluations missed, changes in flight for ${p.configDelaySeconds} s`,
    `scan: pages of ${p.pageSize} (GetComplianceDetails, ListDiscovered, one judge task with BatchGet each), ${p.callLatencySeconds} s per call, ${p.overheadSeconds} s per invocation, ${p.concurrency} judge tasks at once, ${(p.standingViolationShare * 100).toFixed(1)}% of resources in violation at a scan (re-queued; buckets re-read for tags); the idle scan queue polled by ${p.idlePollers} pollers (20 s long polls)`,
    `memory from functions/registry.ts (config-rule ${FUNCTIONS["config-rule"].memoryMb} MB, coordinator ${FUNCTIONS.coordinator.memoryMb} MB, notifier ${FUNCTIONS.notifier.memoryMb} MB, remediations ${FUNCTIONS[REMEDIATION_FUNCTION_NAMES[0]!].memoryMb} MB); seconds per invocation: ${Object.entries(
      a.seconds,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    `coordinator: ${report.idle.sqsCalls} SQS calls, ${report.idle.stateLoads} state GET and ${report.idle.stateSaves} PUT per idle tick (measured), ${report.sqsCallsPerFix.toFixed(2)} SQS calls per fix (drain benchmark)`,
    `log KB per invocation: ${Object.entries(a.logKb)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}; per fix ${a.perFix.s3Puts} S3 PUTs, ${a.perFix.macs} GenerateMac, ${a.perFix.reports} report`,
    `Config evaluations priced from the first tier up (other rules of the account lower Remedy's price); CIs: ${a.recorder === "stack" ? `every change, ${a.recording}` : `only those Remedy causes${a.existingRecordsCompliance ? ", ResourceCompliance recorded" : ""}`}`,
    "the Config topic carries only the rules' own types here: an existing topic of an account recording everything carries more notices (each a notifier invocation)",
    "metrics: billed per hour in which they are sent; a count of 0 is not sent (platform/logging.ts); error counters assumed never sent",
  ]) {
    console.log(`  - ${text}`);
  }
  console.log("\nSources:");
  sources.forEach((source, index) => {
    console.log(`  [${index + 1}] ${source}`);
  });
  console.log(`  Config keeps a result until replaced: ${SOURCES.configKeepsResults}, ${SOURCES.configDeleteResults}`);
  console.log(`  ResourceCompliance CIs: ${SOURCES.configResourceCompliance}; tiers also: ${SOURCES.configPriceList}`);
  console.log(
    `  Metrics prorated by hour, EMF: ${SOURCES.cloudWatchBilling}; service dimension: ${SOURCES.powertoolsService}`,
  );
  console.log(`  Free tiers (not applied): ${SOURCES.cloudWatchPricing}`);
  printOrganization(report.organization, sources);
}

/** The organisation scenario: its bill beside one account's of the same total, and what it assumes. */
export function printOrganization(report: OrganizationReport, known: readonly string[] = []): void {
  const o = report.organization;
  const p = report.assumptions.periodic;
  const n = o.accounts * o.regions;
  const where = `${o.accounts} accounts × ${o.regions} regions`;
  const sources = [...known];
  for (const scenario of report.scenarios) {
    for (const line of scenario.lines) if (!sources.includes(line.source)) sources.push(line.source);
  }
  const ref = (source: string) => `[${sources.indexOf(source) + 1}]`;
  const key = (line: LineItem) => `${line.service}|${line.item}`;
  console.log(
    `\nOrganisation: one hub serving ${where} (${round(n)} account-regions), USD per month, beside the same ` +
      "resources in one account. Config's lines (*) are billed to the member accounts; the rest to the hub.",
  );
  const header = report.scenarios.flatMap((s) => [`${round(s.resources)}: 1 account`, `${where}: qty`, "USD"]);
  const row = (title: string, values: (s: OrganizationScenario) => [number, number]) => [
    "",
    title,
    "",
    "",
    ...report.scenarios.flatMap((s) => {
      const [one, org] = values(s);
      return [one.toFixed(2), "", org.toFixed(2)];
    }),
  ];
  table(
    ["service", "item", "unit price", "per", ...header, "src"],
    [
      ...report.scenarios[0]!.lines.map((line, index) => [
        line.service,
        `${line.item}${line.billedTo === "members" ? " *" : ""}`,
        line.unitPrice,
        line.unit,
        ...report.scenarios.flatMap((s) => {
          const org = s.lines[index]!;
          const one = s.singleAccount.find((l) => key(l) === key(org));
          return [one ? one.usd.toFixed(2) : "—", quantityText(org.quantity), org.usd.toFixed(2)];
        }),
        ref(line.source),
      ]),
      [],
      ["TOTAL", ...row("", (s) => [s.singleAccountTotal, s.total]).slice(1)],
      row("of which the member accounts' (Config *)", (s) => [
        total(s.singleAccount.filter((l) => l.service === "AWS Config")),
        s.members,
      ]),
      row("of which the hub's", (s) => [
        s.singleAccountTotal - total(s.singleAccount.filter((l) => l.service === "AWS Config")),
        s.hub,
      ]),
      row("Config tiers per account and region instead (no consolidated billing)", (s) => [
        s.singleAccountTotal,
        s.totalTiersPerAccountRegion,
      ]),
    ],
    (column) => column >= 4 && column < 4 + report.scenarios.length * 3,
  );
  for (const s of report.scenarios) {
    const u = s.usage;
    const one = s.singleAccountUsage;
    const org = u.organization!;
    const perDay = (u.scans / DAYS) * u.scan.seconds;
    const metricPrice = PRICES.customMetricMonth.usd;
    console.log(
      `\n  ${round(s.perAccountRegion)} resources per account-region (${round(s.resources)} in all): ` +
        `$${s.total.toFixed(2)} a month, $${(s.total - s.singleAccountTotal).toFixed(2)} more than one account ` +
        `($${((s.total - s.singleAccountTotal) / n).toFixed(4)} per account-region).`,
    );
    for (const text of [
      `scans: ${round(u.scans)} a month (${RULES} rules × ${round(n)} account-regions × ${round(u.scansPerRule)}), each ` +
        `${round(u.scan.pages)} page(s), ${round(u.scan.tasks)} tasks, ${round(u.scan.invocations)} invocations; one account: ` +
        `${round(one.scans)} scans of ${round(one.scan.invocations)} invocations. Through the hub's one scan queue: ` +
        `${round(perDay)} s of function time a day, ≈ ${(perDay / p.concurrency / 60).toFixed(0)} min at scan_concurrency ${p.concurrency} if every scan starts at once`,
      `CloudWatch metrics: the rule function's copy in each of the ${o.regions} regions sends its own (each name × ` +
        `service is billed once per region): ${u.metricMonths.nonZeroOnly.toFixed(1)} metric-months ($${(u.metricMonths.nonZeroOnly * metricPrice).toFixed(2)}), one account ${one.metricMonths.nonZeroOnly.toFixed(1)}`,
      `STS: ${round(org.detectSessions)} detect sessions, ${round(org.fixSessions)} fix sessions; Organizations: ` +
        `${round(org.listAccountsCalls)} ListAccounts, ${round(org.listParentsCalls)} ListParents: free, ` +
        `${round(Object.values(org.seconds).reduce((sum, value) => sum + value, 0))} s of function time`,
      `Config: ${round(u.changeEvaluations + u.periodicEvaluations)} evaluations, ${round((u.changeEvaluations + u.periodicEvaluations) / o.regions)} per region ` +
        `(${round((u.changeEvaluations + u.periodicEvaluations) / n)} per account-region): priced per region, all accounts together`,
      `inter-region: ${org.interRegionGb.toFixed(2)} GB`,
    ]) {
      console.log(`    - ${text}`);
    }
  }
  console.log("\n  Organisation assumptions and what is left out:");
  for (const text of [
    `resources spread evenly over ${round(n)} account-regions; same change, fix and verdict rates as above; the hub's own resources not counted`,
    "Config's evaluation tiers are per region, every account of the consolidated bill counted together (AWS's pricing page); accounts on separate bills would each start from the first tier (the line above)",
    "every member account already records with Config (organisation rules need a recorder): only the CIs Remedy causes count, as with manage_config=false",
    "the relayed Config topic is an organisation-wide one (as Control Tower's aggregate topic): notices follow the resources, not the accounts",
    `member sessions last ${o.sessionMinutes} min; a change run's session is reused by its region's warm container (one per region assumed), a scan's by its tasks run back to back; every fix assumes its own`,
    `the directory (ListAccounts, ${o.listAccountsPageSize} accounts a page; ListParents, ${o.ouDepth} OU level(s)) is cached ${o.directoryTtlMinutes} min per function and region; the rule function checks every invocation`,
    `inter-region transfer: ${o.scanKbPerResource} KB per resource a scan reads from a region other than the hub's, ${o.messageKb} KB per message of the copies to the hub's queues; who is billed for a service's API response across regions is not stated by the source: counted at $0.02/GB`,
    "a scan's calls are counted whole (a PutEvaluations call and an instruction send per scan even when fewer are expected): a small over-count",
    "left out: free tiers (each account has its own); remediation calls across regions (a few KB per fix); the StackSet's deployment (free) and the one-off first evaluation of every resource (as one account: tiers per region)",
  ]) {
    console.log(`    - ${text}`);
  }
  const added = sources.slice(known.length);
  if (added.length > 0) {
    console.log("\n  Sources (organisation):");
    added.forEach((source, index) => {
      console.log(`    [${known.length + index + 1}] ${source}`);
    });
  }
  console.log(`    tiers over consolidated billing also: ${SOURCES.consolidatedBillingTiers}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The real-time path per 1,000 events (issue 16): what an API call that matches a real-time rule costs on its way
// through EventBridge, the real-time queue, the real-time function and, when the live read finds a hole, the
// coordinator's extra "run now". The fix itself is not counted here: the Config path would make the same fix (same
// instruction id) a few minutes later, so it is in the bill above already. bench/realtime.bench.ts measures the
// function's and the extra run's time and calls and passes them in; printRealtimeCost prints the section.

/** Where the real-time path's prices and behaviours were read (checked November 2026). */
export const REALTIME_SOURCES = {
  /** "AWS management events are ingested by the event bus for free" (the default bus; events ≤ 64 KB each). */
  eventBridgePricing: "https://aws.amazon.com/eventbridge/pricing/",
  /** Delivery to a target in the same account is free; cross-account delivery $1.00 per million. */
  eventBridgeDelivery: "https://cloudburn.io/blog/amazon-eventbridge-pricing",
  /** "To record events with a detail-type value of AWS API Call via CloudTrail, a CloudTrail trail with logging enabled is required." */
  cloudTrailTrailRequired: "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html",
  /** The first copy of management events delivered to S3 per region: no charge. */
  cloudTrailFirstCopy:
    "https://docs.aws.amazon.com/prescriptive-guidance/latest/secure-dx-telemetry-sharing-with-wan-service-providers/cost-model.html",
} as const;

export const REALTIME_PRICES = {
  managementEvent: {
    usd: 0,
    text: "free",
    per: "management event (default bus)",
    source: REALTIME_SOURCES.eventBridgePricing,
  },
  trailFirstCopy: {
    usd: 0,
    text: "free",
    per: "management event (first copy)",
    source: REALTIME_SOURCES.cloudTrailFirstCopy,
  },
} as const satisfies Record<string, Price>;

/** What bench/realtime.bench.ts measured (real code, stubbed AWS, stated per-call latency). */
export interface RealtimeCostInputs {
  /** One real-time invocation of one event that queues a fix: its own code plus its AWS calls × latency, seconds. */
  fixEventSeconds: number;
  /** One real-time invocation of one event whose live read finds nothing to fix, seconds. */
  cleanEventSeconds: number;
  /** The coordinator's extra run ("run now"): its whole time, seconds, and what it sends. */
  run: { seconds: number; sqsCalls: number; stateLoads: number; stateSaves: number };
  /** S3 GETs of one judged event with findings (undo's temporary exemption record). */
  undoReadsPerFix: number;
}

export interface RealtimeCostAssumptions {
  /** API calls matching a real-time rule in a month (the stated monthly volume). */
  eventsPerMonth: number;
  /** Share of events whose live read finds a hole: an instruction is sent and the coordinator asked to run now. */
  fixShare: number;
  /** Events per invocation (batch of up to 10 without a window: 1 unless events come within the same poll). */
  eventsPerInvocation: number;
  /** Size of one event (a CloudTrail record in EventBridge's envelope), KB: each 64 KB is one SQS request. */
  eventKb: number;
  /** Log KB per real-time invocation (START/END/REPORT, its lines, its EMF metrics). */
  logKb: number;
  /** Share of real-time invocations that start a new execution environment, and that start's seconds. */
  coldShare: number;
  initSeconds: number;
  /** Lambda's pollers on the idle real-time queue (event source mapping), each a 20-second long poll. */
  idlePollers: number;
}

/** Calls per change that match a real-time rule: the call that changes the group or bucket, sometimes a second. */
export const REALTIME_CALLS_PER_CHANGE = 1.5;

/** The headline deployment's changes (DEFAULT_ASSUMPTIONS: 10,000 resources, 5% a day) as API calls a month. */
export const DEFAULT_REALTIME_COST: RealtimeCostAssumptions = {
  eventsPerMonth:
    DEFAULT_ASSUMPTIONS.resources * DEFAULT_ASSUMPTIONS.dailyChangeRate * DAYS * REALTIME_CALLS_PER_CHANGE,
  // A change opens a hole 2% of the time (violationRate); a change is 1.5 events.
  fixShare: DEFAULT_ASSUMPTIONS.violationRate / REALTIME_CALLS_PER_CHANGE,
  eventsPerInvocation: 1,
  eventKb: 4,
  logKb: 2,
  // A few events an hour: most invocations find no warm environment (kept minutes, not hours).
  coldShare: 0.8,
  initSeconds: 0.6,
  idlePollers: 5,
};

export interface RealtimeCostReport {
  inputs: RealtimeCostInputs;
  assumptions: RealtimeCostAssumptions;
  /** Per 1,000 events at the assumed fix share. */
  perThousand: LineItem[];
  /** Per 1,000 events that each find a hole (fix share 1): the most an event costs. */
  perThousandAllFixes: LineItem[];
  /** At the stated monthly volume. */
  monthly: LineItem[];
  /** Paid whatever the volume: the event source mapping's long polls of the idle queue. */
  fixedMonthly: LineItem[];
}

/** The lines of `events` real-time events under `a`. */
export function realtimeLines(inputs: RealtimeCostInputs, a: RealtimeCostAssumptions, events: number): LineItem[] {
  const line = (service: string, item: string, quantity: number, price: Price, basis: string): LineItem => ({
    service,
    item,
    quantity,
    unit: price.per,
    unitPrice: price.text,
    usd: quantity * price.usd,
    source: price.source,
    basis,
  });
  const gb = (name: keyof typeof FUNCTIONS) => FUNCTIONS[name].memoryMb / 1024;
  const fixes = events * a.fixShare;
  const invocations = events / a.eventsPerInvocation;
  const functionSeconds =
    fixes * inputs.fixEventSeconds +
    (events - fixes) * inputs.cleanEventSeconds +
    invocations * a.coldShare * a.initSeconds;
  const chunks = Math.max(1, Math.ceil(a.eventKb / 64));
  return [
    line(
      "CloudTrail",
      "management events (the trail's first copy)",
      events,
      REALTIME_PRICES.trailFirstCopy,
      "a trail logging management events is required for CloudTrail's events on EventBridge; the account's existing trail assumed",
    ),
    line(
      "EventBridge",
      "AWS management events, default bus, rule match",
      events,
      REALTIME_PRICES.managementEvent,
      "delivery to the same account's queue: free",
    ),
    line(
      "SQS",
      "EventBridge's SendMessage to the real-time queue",
      events * chunks,
      PRICES.sqsRequest,
      `one a target delivery, ${a.eventKb} KB an event`,
    ),
    line(
      "SQS",
      "the mapping's ReceiveMessage and DeleteMessageBatch",
      2 * invocations,
      PRICES.sqsRequest,
      `one receive and one delete per invocation of ${a.eventsPerInvocation} event(s)`,
    ),
    line("SQS", "the instruction's SendMessageBatch", fixes, PRICES.sqsRequest, "one per event with a hole"),
    line("Lambda", "requests (real-time function)", invocations, PRICES.lambdaRequest, "one per batch"),
    line(
      "Lambda",
      "GB-seconds (real-time function)",
      functionSeconds * gb("realtime"),
      PRICES.lambdaArmGbSecond,
      `${FUNCTIONS.realtime.memoryMb} MB arm64; measured ${inputs.cleanEventSeconds.toFixed(2)} s (nothing to fix) / ${inputs.fixEventSeconds.toFixed(2)} s (a fix queued), + ${(a.coldShare * 100).toFixed(0)}% cold starts × ${a.initSeconds} s counted as billed`,
    ),
    line(
      "Lambda",
      "requests (the coordinator's extra run)",
      fixes,
      PRICES.lambdaRequest,
      "the run-now Invoke of an event with a hole",
    ),
    line(
      "Lambda",
      "GB-seconds (the coordinator's extra run)",
      fixes * inputs.run.seconds * gb("coordinator"),
      PRICES.lambdaArmGbSecond,
      `${FUNCTIONS.coordinator.memoryMb} MB arm64, measured ${inputs.run.seconds.toFixed(2)} s a run`,
    ),
    line(
      "SQS",
      "the coordinator's extra run's calls",
      fixes * inputs.run.sqsCalls,
      PRICES.sqsRequest,
      `${inputs.run.sqsCalls} a run (measured: its receives, the dry one included); its dispatch the schedule would do anyway`,
    ),
    line(
      "S3",
      "GET (extra run's state; undo's exemption record)",
      fixes * (inputs.run.stateLoads + inputs.undoReadsPerFix),
      PRICES.s3Get,
      `${inputs.run.stateLoads} state load a run, ${inputs.undoReadsPerFix} exemption read an event with findings`,
    ),
    line(
      "S3",
      "PUT (extra run's state)",
      fixes * inputs.run.stateSaves,
      PRICES.s3Put,
      `${inputs.run.stateSaves} state save a run`,
    ),
    line(
      "CloudWatch Logs",
      "ingestion (real-time function)",
      (invocations * a.logKb) / (1024 * 1024),
      PRICES.logsIngestGb,
      `${a.logKb} KB an invocation; the extra run's lines are the tick's`,
    ),
  ];
}

export function realtimeCost(
  inputs: RealtimeCostInputs,
  assumptions: RealtimeCostAssumptions = DEFAULT_REALTIME_COST,
): RealtimeCostReport {
  const idlePolls = assumptions.idlePollers * 3 * HOURS * 60; // a 20-second long poll each, three a minute
  return {
    inputs,
    assumptions,
    perThousand: realtimeLines(inputs, assumptions, 1_000),
    perThousandAllFixes: realtimeLines(inputs, { ...assumptions, fixShare: 1 }, 1_000),
    monthly: realtimeLines(inputs, assumptions, assumptions.eventsPerMonth),
    fixedMonthly: [
      {
        service: "SQS",
        item: "the mapping's long polls of the idle real-time queue",
        quantity: idlePolls,
        unit: PRICES.sqsRequest.per,
        unitPrice: PRICES.sqsRequest.text,
        usd: idlePolls * PRICES.sqsRequest.usd,
        source: PRICES.sqsRequest.source,
        basis: `${assumptions.idlePollers} pollers, 20 s long polls (an assumption, as for the scan queue)`,
      },
    ],
  };
}

export function printRealtimeCost(report: RealtimeCostReport): void {
  const a = report.assumptions;
  const usd = (value: number) => (value < 0.01 && value > 0 ? `$${value.toFixed(5)}` : `$${value.toFixed(2)}`);
  console.log(
    `Real-time path per 1,000 events (us-east-1 list prices, free tiers not applied; the fix itself is the Config path's, above):`,
  );
  const sources = [...new Set([...report.perThousand, ...report.fixedMonthly].map((line) => line.source))];
  table(
    [
      "service",
      "item",
      "unit price",
      "per",
      "1,000: qty",
      "USD",
      "all fixes: USD",
      `${round(a.eventsPerMonth)}/month: USD`,
      "src",
    ],
    [
      ...report.perThousand.map((line, index) => [
        line.service,
        line.item,
        line.unitPrice,
        line.unit,
        quantityText(line.quantity),
        usd(line.usd),
        usd(report.perThousandAllFixes[index]!.usd),
        usd(report.monthly[index]!.usd),
        `[${sources.indexOf(line.source) + 1}]`,
      ]),
      [],
      [
        "TOTAL",
        `fix share ${(a.fixShare * 100).toFixed(1)}%`,
        "",
        "",
        "",
        usd(total(report.perThousand)),
        usd(total(report.perThousandAllFixes)),
        usd(total(report.monthly)),
      ],
      ...report.fixedMonthly.map((line) => [
        "+ fixed",
        line.item,
        line.unitPrice,
        line.unit,
        "",
        "",
        "",
        usd(line.usd),
        `[${sources.indexOf(line.source) + 1}]`,
      ]),
    ],
    (column) => column >= 4 && column <= 7,
  );
  console.log("  Basis:");
  for (const line of report.perThousand) console.log(`    ${line.service}, ${line.item}: ${line.basis}`);
  console.log("  Assumptions (stated, not measured):");
  for (const text of [
    `${round(a.eventsPerMonth)} events a month: the headline deployment's changes (${round(DEFAULT_ASSUMPTIONS.resources)} resources, ${(DEFAULT_ASSUMPTIONS.dailyChangeRate * 100).toFixed(0)}% a day) × ${REALTIME_CALLS_PER_CHANGE} matching API calls a change`,
    `${(a.fixShare * 100).toFixed(1)}% of events find a hole on the live read (a change opens one ${(DEFAULT_ASSUMPTIONS.violationRate * 100).toFixed(0)}% of the time); "all fixes" is every event finding one`,
    `${a.eventsPerInvocation} event per invocation (events this rare do not share a poll); ${a.eventKb} KB an event (one 64 KB SQS request)`,
    `${(a.coldShare * 100).toFixed(0)}% of real-time invocations cold, ${a.initSeconds} s of init each, counted as billed time (conservative); ${a.logKb} KB of logs an invocation`,
    "Security Hub findings (enable_security_hub_findings) take the same path and cost the same per event; their volume depends on the account's standards and scanners",
    "left out: the trail's own S3 storage (the account's existing trail), the DLQ (empty when healthy), the duplicate instruction the Config path queues later (de-duplicated by the coordinator: in the bill above)",
  ]) {
    console.log(`    - ${text}`);
  }
  console.log("  Sources:");
  sources.forEach((source, index) => {
    console.log(`    [${index + 1}] ${source}`);
  });
  console.log(`    also: ${REALTIME_SOURCES.eventBridgeDelivery}; ${REALTIME_SOURCES.cloudTrailTrailRequired}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  print(await main());
}
