// Everything runConfigRule does for a fixed set of inputs, as one text: results, every call to Config and SQS
// (command and input), every log line with its fields, every metric. Its digest is pinned by
// handler-equivalence.test.ts, taken from the handler before its fast paths: any change in behaviour changes it.
import { createHash } from "node:crypto";
import { bucketItem, changeEventFor, random, securityGroupItem } from "../../bench/generate.ts";
import { parseAllowlist } from "../../detection/exemptions.ts";
import { type RuleRuntimeDeps, runConfigRule } from "../../functions/config-rule/core.ts";
import { deploymentFrom } from "../../platform/deployment.ts";
import { eventCases, s3ItemMutations, sgItemMutations } from "../bad-input/config-cases.ts";
import { clone, seededRandom } from "../bad-input/generate.ts";
import { configEvent } from "../fixtures/events.ts";
import { configItem } from "../fixtures/load.ts";

type Json = Record<string, unknown>;

const ACCOUNT = "123456789012";
const SG_FIXTURES = [
  "all-traffic-ipv6",
  "compliant-private-only",
  "deleted",
  "icmp-open",
  "later-permission-ports",
  "mixed-permission",
  "other-protocol-open",
  "port-range-open",
  "ssh-open-to-world",
  "varied-rules",
  "web-only",
  "wide-private-range",
  "wide-public-range",
];
const S3_FIXTURES = [
  "confined-by-conditions",
  "deleted",
  "fixed-conditions",
  "neutralised-by-bpa",
  "owner-enforced-public-policy",
  "pattern-conditions",
  "private",
  "public-acl-and-policy",
  "public-read-acl",
  "single-statement-object",
  "source-ip-lists",
  "two-public-grants",
  "two-public-statements",
  "unconfining-conditions",
];

function changeEvent(item: Json, rule: string, extra: Json = {}): Json {
  return { ...changeEventFor(item, rule), ...extra };
}

/** The inputs: the bench's items (some in test mode, some left scope), every fixture, every bad-input case. */
export function transcriptEvents(benchItems = 600): unknown[] {
  const events: unknown[] = [];
  const rand = random(42);
  for (let index = 0; index < benchItems; index++) {
    const item = index % 2 === 0 ? securityGroupItem(index, rand) : bucketItem(index, rand);
    const rule = index % 2 === 0 ? "remedy-sg-open-ingress" : "remedy-s3-public";
    const extra: Json =
      index % 97 === 5 ? { resultToken: "TESTMODE" } : index % 89 === 7 ? { eventLeftScope: true } : {};
    if (index % 53 === 3) extra.ruleParameters = '{"authorizedPorts":"tcp:22"}';
    events.push(changeEvent(item, rule, extra));
  }
  for (const variant of SG_FIXTURES) {
    events.push(changeEvent(configItem("AWS_EC2_SecurityGroup", variant), "remedy-sg-open-ingress"));
  }
  for (const variant of S3_FIXTURES) {
    events.push(changeEvent(configItem("AWS_S3_Bucket", variant), "remedy-s3-public"));
  }
  for (const mutation of sgItemMutations()) {
    const item = configItem<Json>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
    mutation.apply(item);
    events.push(changeEvent(item, "remedy-sg-open-ingress"));
  }
  for (const mutation of s3ItemMutations()) {
    const item = configItem<Json>("AWS_S3_Bucket", "public-read-acl");
    mutation.apply(item);
    events.push(changeEvent(item, "remedy-s3-public"));
  }
  for (const { event } of eventCases(seededRandom(0x5eed_c0f1))) events.push(event);
  for (const [type, variant] of [
    ["ConfigurationItemChangeNotification", "sg-ssh-open"],
    ["ConfigurationItemChangeNotification", "sg-deleted"],
    ["ConfigurationItemChangeNotification", "sg-left-scope"],
    ["OversizedConfigurationItemChangeNotification", "sg"],
    ["OversizedConfigurationItemChangeNotification", "sg-deleted"],
  ] as const) {
    events.push(configEvent(type, variant));
  }
  return events;
}

function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, function (key, v) {
      const raw = (this as Record<string, unknown>)[key];
      if (raw instanceof Date) return { date: Number.isNaN(raw.getTime()) ? "invalid" : raw.toISOString() };
      if (v === undefined) return "(undefined)";
      return v;
    }),
  );
}

/** The transcript of every event, and its sha256. */
export async function handlerTranscript(events: readonly unknown[]): Promise<{ text: string; digest: string }> {
  const lines: unknown[] = [];
  const record = (entry: unknown) => lines.push(plain(entry));
  const deployment = deploymentFrom({
    accountId: ACCOUNT,
    region: "us-east-1",
    rules: [
      { id: "sg-open-ingress", configRuleName: "remedy-sg-open-ingress", parameters: {} },
      { id: "s3-public", configRuleName: "remedy-s3-public", parameters: {} },
    ],
  });
  const allowlist = parseAllowlist([
    { resource: "arn:aws:s3:::bucket-1*7", problems: ["*"], reason: "bench", owner: "bench", expires: "2099-01-01" },
    { resource: "sg-*5", problems: ["sg-open-ingress"], reason: "old", owner: "ops", expires: "2020-01-01" },
  ]).entries;
  let calls = 0;
  const send = (client: string) => async (command: { constructor: { name: string }; input: Json }) => {
    calls++;
    record({ client, command: command.constructor.name, input: command.input });
    switch (command.constructor.name) {
      case "GetComplianceDetailsByResourceCommand":
        // Some verdicts already held (so not re-sent), some not, some unreadable.
        if (calls % 7 === 0) throw new Error("throttled");
        return calls % 3 === 0
          ? {
              EvaluationResults: [
                {
                  EvaluationResultIdentifier: {
                    EvaluationResultQualifier: { ConfigRuleName: "remedy-sg-open-ingress" },
                  },
                  ComplianceType: "COMPLIANT",
                  Annotation: "no open ingress outside tcp:80,tcp:443",
                },
              ],
            }
          : { EvaluationResults: [] };
      case "GetResourceConfigHistoryCommand":
        return { configurationItems: [] };
      case "PutEvaluationsCommand":
        return { FailedEvaluations: calls % 11 === 0 ? [{ ComplianceResourceId: "x" }] : [] };
      default:
        return { Failed: [] };
    }
  };
  const at =
    (level: string) =>
    (message: string, ...extra: unknown[]) =>
      record({ level, message, extra });
  let clock = Date.parse("2026-11-20T10:00:00.000Z");
  const deps: RuleRuntimeDeps = {
    configService: { send: send("config") } as unknown as RuleRuntimeDeps["configService"],
    sqs: { send: send("sqs") } as unknown as RuleRuntimeDeps["sqs"],
    queueUrl: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/remedy-remediation`,
    deployment,
    accountFacts: async (accountId, facts) => {
      record({ accountFacts: [accountId, facts] });
      return calls % 5 === 0 ? { s3PublicAccessBlock: { RestrictPublicBuckets: true } } : { s3PublicAccessBlock: null };
    },
    allowlist,
    gracePeriodMs: 0,
    // A clock that moves now and then (the same value across calls in between).
    now: () => {
      if (calls % 13 === 0) clock += 1_000;
      return new Date(clock);
    },
    log: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    metrics: { count: (name: string, value?: number) => record({ metric: name, value }) },
    scanQueue: {
      send: async (message: unknown) => {
        record({ scanQueue: message });
      },
    },
  };
  for (const event of events) {
    try {
      record({ result: await runConfigRule(clone(event), deps) });
    } catch (error) {
      record({ threw: `${(error as Error).name}: ${(error as Error).message}` });
    }
  }
  const text = lines.map((line) => JSON.stringify(line)).join("\n");
  return { text, digest: createHash("sha256").update(text).digest("hex") };
}
