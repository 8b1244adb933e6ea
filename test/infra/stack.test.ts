// Synthesizes Remedy's stack (bundles built once) and checks the gate, least privilege, assets and outputs.

import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { coldImportMs, importEnv } from "../../bench/bundles.bench.ts";
import { OUTPUT_NAMES } from "../../cli/stack.ts";
import { RULES } from "../../detection/rules.ts";
import {
  DISPATCH_VISIBILITY_SECONDS,
  FUNCTION_LIST,
  grantedActions,
  MAX_DISPATCH_AGE_SECONDS,
} from "../../functions/registry.ts";
import { RECORDED_RESOURCE_TYPES } from "../../infra/config.ts";
import { RemedyStack } from "../../infra/stack.ts";
import { parsePauseState } from "../../platform/pause.ts";
import { PROBLEM_SPECS, RESOURCES } from "../../problems/index.ts";
import type { BundleResult } from "../../scripts/build.ts";
import { sharedBundles } from "../helpers/bundles.ts";

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON, asserted on shape by shape
type Json = Record<string, any>;
let tf: Json;
let stackDir: string;

let outdir: string;
let built: BundleResult[];
/** Where the bundles are (test/helpers/bundles.ts): what `npm run synth` builds into dist/. */
let DIST: string;

beforeAll(async () => {
  ({ out: DIST, built } = await sharedBundles());
  outdir = mkdtempSync(join(tmpdir(), "remedy-synth-"));
  const app = new App({ outdir });
  new RemedyStack(app, "remedy", { distDir: DIST });
  app.synth();
  stackDir = join(outdir, "stacks", "remedy");
  tf = JSON.parse(readFileSync(join(stackDir, "cdk.tf.json"), "utf8"));
}, 60_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const resources = (type: string): Json => tf.resource?.[type] ?? {};
const policyDoc = (id: string): Json => tf.data.aws_iam_policy_document[id];
const fnId = (name: string) => name.replaceAll("-", "_");
/** The remediation functions, in the registry's order (one per remediation the problems name). */
const REMEDIATIONS = FUNCTION_LIST.filter((spec) => spec.invokedByCoordinator);

describe("the auto-response gate", () => {
  it("keeps the schedule DISABLED unless enable_auto_response is true (default false)", () => {
    expect(tf.variable.enable_auto_response).toMatchObject({ type: "bool", default: false });
    const rule = resources("aws_cloudwatch_event_rule").schedule;
    expect(rule.schedule_expression).toBe("rate(1 minute)");
    expect(rule.state).toBe(`\${var.enable_auto_response ? "ENABLED" : "DISABLED"}`);
    expect(rule.is_enabled).toBeUndefined();
  });

  it("evaluates to DISABLED by default and ENABLED when the variable is true", () => {
    const evaluate = (enabled: boolean) =>
      (resources("aws_cloudwatch_event_rule").schedule.state as string).replace(
        /^\$\{var\.enable_auto_response \? "(\w+)" : "(\w+)"\}$/,
        (_all, yes: string, no: string) => (enabled ? yes : no),
      );
    expect(evaluate(tf.variable.enable_auto_response.default)).toBe("DISABLED");
    expect(evaluate(true)).toBe("ENABLED");
  });

  it("targets the coordinator, which runs one at a time", () => {
    const target = resources("aws_cloudwatch_event_target").schedule_target;
    expect(target.arn).toBe(`\${aws_lambda_function.coordinator.arn}`);
    expect(resources("aws_lambda_function").coordinator.reserved_concurrent_executions).toBe(1);
  });

  it("keeps the pause parameter's value out of Terraform's hands", () => {
    const pause = resources("aws_ssm_parameter").pause;
    expect(pause).toMatchObject({ type: "String", lifecycle: { ignore_changes: ["value"] } });
    // The coordinator must read the created value as "running", not fail safe to "paused".
    const created = parsePauseState(pause.value.replace("${timestamp()}", "2026-11-23T05:40:00Z"));
    expect(created).toMatchObject({ paused: false, by: "terraform" });
  });
});

describe("least privilege", () => {
  for (const spec of FUNCTION_LIST) {
    it(`${spec.name}: its role grants exactly its declared and implied actions`, () => {
      const statements = policyDoc(`${fnId(spec.name)}_policy_doc`).statement as Json[];
      expect([...new Set(statements.flatMap((s) => s.actions as string[]))].sort()).toEqual(grantedActions(spec));
      const logs = policyDoc(`${fnId(spec.name)}_logs_policy_doc`).statement as Json[];
      expect(logs).toEqual([
        {
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`\${aws_cloudwatch_log_group.${fnId(spec.name)}_logs.arn}:*`],
        },
      ]);
      const policies = Object.values(resources("aws_iam_role_policy")).filter(
        (p: Json) => p.role === `\${aws_iam_role.${fnId(spec.name)}_role.id}`,
      );
      expect(policies).toHaveLength(2);
    });
  }

  it("never grants a wildcard action", () => {
    for (const [id, doc] of Object.entries(tf.data.aws_iam_policy_document as Json)) {
      for (const statement of doc.statement as Json[]) {
        if (statement.effect === "Deny") continue;
        for (const action of statement.actions as string[]) expect(action, id).not.toContain("*");
      }
    }
    expect(resources("aws_iam_role_policy_attachment")).toEqual(
      Object.fromEntries(
        Object.entries(resources("aws_iam_role_policy_attachment")).filter(([id]) => id.startsWith("config_")),
      ),
    );
  });

  it("grants an action a function sends on several resource types on every one of them", () => {
    const refs = {
      partition: "${data.aws_partition.partition.partition}",
      region: "${var.region}",
      account: "${data.aws_caller_identity.account.account_id}",
    };
    let checked = 0;
    for (const spec of FUNCTION_LIST) {
      const declarers = [
        ...(spec.fixes ?? []).map((problem) => {
          const problemSpec = PROBLEM_SPECS.find((candidate) => candidate.id === problem)!;
          return { type: problemSpec.resource, actions: Object.values(problemSpec.fix.permissions) as string[] };
        }),
        ...(spec.name === "realtime"
          ? RESOURCES.map((type) => ({ type, actions: Object.values(type.reads.permissions) as string[] }))
          : []),
      ];
      const statements = policyDoc(`${fnId(spec.name)}_policy_doc`).statement as Json[];
      for (const { type, actions } of declarers) {
        for (const action of actions) {
          const granted = statements.filter((st) => st.effect !== "Deny" && st.actions.includes(action));
          const resources = granted.flatMap((st) => st.resources as string[]);
          if (resources.includes("*")) continue;
          for (const resource of type.iamScope(refs).resources) {
            expect(resources, `${spec.name} ${action} on ${type.type}`).toContain(resource);
          }
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it("grants resource * only to APIs without resource-level permissions", () => {
    const allowedOnAny = new Set([
      "config:PutEvaluations",
      "config:GetResourceConfigHistory",
      "config:ListDiscoveredResources",
      "config:BatchGetResourceConfig",
      "config:GetComplianceDetailsByResource",
      "cloudtrail:LookupEvents",
      "s3:GetAccountPublicAccessBlock",
      "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeSecurityGroups",
      // Config's rule listing (the real-time function's): not rule-scoped.
      "config:DescribeConfigRules",
      // EC2 Describe* have no resource-level permissions: the account's snapshots, their attributes, the interfaces
      // that use a default group.
      "ec2:DescribeSnapshots",
      "ec2:DescribeSnapshotAttribute",
      "ec2:DescribeNetworkInterfaces",
      // Account-level settings and listings: the account's Block Public Access, its buckets.
      "s3:PutAccountPublicAccessBlock",
      "s3:ListAllMyBuckets",
    ]);
    for (const spec of FUNCTION_LIST) {
      for (const statement of policyDoc(`${fnId(spec.name)}_policy_doc`).statement as Json[]) {
        if (statement.effect === "Deny") continue; // a deny grants nothing
        if ((statement.resources as string[]).includes("*")) {
          for (const action of statement.actions) expect(allowedOnAny.has(action), `${spec.name} ${action}`).toBe(true);
        }
      }
    }
  });
});

describe("functions", () => {
  for (const spec of FUNCTION_LIST) {
    it(`${spec.name}: asset exists, within its budget, env complete`, () => {
      const fn = resources("aws_lambda_function")[fnId(spec.name)];
      expect(fn).toMatchObject({
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        handler: "index.handler",
        memory_size: spec.memoryMb,
        timeout: spec.timeoutSeconds,
      });
      const asset = join(stackDir, fn.filename);
      expect(existsSync(asset), asset).toBe(true);
      expect(readFileSync(asset).equals(readFileSync(join(DIST, `${spec.name}.zip`)))).toBe(true);
      expect(statSync(join(DIST, spec.name, "index.mjs")).size).toBeLessThanOrEqual(spec.bundleBudgetBytes);
      expect(spec.bundleBudgetBytes).toBeLessThanOrEqual(1024 * 1024);
      expect(
        Object.keys(fn.environment.variables)
          .filter((k) => k.startsWith("REMEDY_"))
          .sort(),
      ).toEqual([...spec.env].sort());
      expect(resources("aws_cloudwatch_log_group")[`${fnId(spec.name)}_logs`]).toMatchObject({
        name: `/aws/lambda/remedy-${spec.name}`,
        retention_in_days: `\${var.log_retention_days}`,
      });
    });
  }

  it("remediations are not retried by Lambda and finish within the dispatch visibility", () => {
    // The coordinator's too: the real-time function's "run now" (test/infra/realtime.test.ts); the interactions
    // worker's is its own (test/infra/interactions.test.ts).
    const configs = (Object.values(resources("aws_lambda_function_event_invoke_config")) as Json[]).filter(
      (c) => c.function_name !== "${aws_lambda_function.interactions_worker.function_name}",
    );
    expect(configs.map((c) => c.function_name).sort()).toEqual(
      ["coordinator", ...REMEDIATIONS.map((spec) => fnId(spec.name))]
        .map((id) => `\${aws_lambda_function.${id}.function_name}`)
        .sort(),
    );
    for (const config of configs) expect(config.maximum_retry_attempts).toBe(0);
    for (const spec of FUNCTION_LIST.filter((s) => s.invokedByCoordinator)) expect(spec.timeoutSeconds).toBe(120);
    expect(resources("aws_lambda_function").coordinator.environment.variables.REMEDY_DISPATCH_VISIBILITY_SECONDS).toBe(
      "300",
    );
  });

  it("bounds a tick's receives and invocations by stack variables, validated as the coordinator does", () => {
    const env = resources("aws_lambda_function").coordinator.environment.variables;
    expect(env.REMEDY_RECEIVE_CONCURRENCY).toBe("${var.coordinator_receive_concurrency}");
    expect(env.REMEDY_INVOKE_CONCURRENCY).toBe("${var.coordinator_invoke_concurrency}");
    expect(tf.variable.coordinator_receive_concurrency).toMatchObject({ type: "number", default: 10 });
    expect(tf.variable.coordinator_invoke_concurrency).toMatchObject({ type: "number", default: 24 });
    expect(tf.variable.coordinator_invoke_concurrency.validation[0].condition).toContain("<= 200");
    expect(tf.variable.coordinator_receive_concurrency.validation[0].condition).toContain("<= 50");
  });
});

describe("queues, ledger, Config", () => {
  it("encrypts both queues; no SQS redrive, because peeks count as receives (the coordinator dead-letters)", () => {
    const { queue, dlq } = resources("aws_sqs_queue");
    for (const q of [queue, dlq]) {
      expect(q.sqs_managed_sse_enabled).toBe(true);
      expect(q.message_retention_seconds).toBe(14 * 24 * 3600);
    }
    expect(queue.redrive_policy).toBeUndefined();
    const coordinatorEnv = resources("aws_lambda_function").coordinator.environment.variables;
    expect(coordinatorEnv.REMEDY_DLQ_URL).toBe(`\${aws_sqs_queue.dlq.url}`);
    expect(queue.visibility_timeout_seconds).toBeGreaterThan(120);
    const statements = policyDoc("queue_policy_doc").statement as Json[];
    expect(statements.map((s) => s.sid)).toEqual([
      "RuleSends",
      "CoordinatorAndRemediationsConsume",
      "OnlyRemedySends",
      "DenyInsecureTransport",
    ]);
  });

  it("gives the periodic scan its own queue: only the Config rule function sends and takes it, failures to its DLQ", () => {
    const { scan_queue: scan, scan_dlq: scanDlq } = resources("aws_sqs_queue");
    expect(scan).toMatchObject({
      name: "remedy-scan",
      sqs_managed_sse_enabled: true,
      message_retention_seconds: 86_400,
    });
    expect(scanDlq).toMatchObject({ name: "remedy-scan-dlq", sqs_managed_sse_enabled: true });
    // Six times the function's timeout, as Lambda's SQS event source wants; a task failing 5 times is dead-lettered.
    expect(scan.visibility_timeout_seconds).toBe(6 * 300);
    expect(scan.redrive_policy).toBe(
      '${jsonencode({"deadLetterTargetArn" = aws_sqs_queue.scan_dlq.arn, "maxReceiveCount" = 5})}',
    );
    // The scan's mapping; the real-time queue's is the other (test/infra/realtime.test.ts).
    const mappings = Object.values(resources("aws_lambda_event_source_mapping")).filter(
      (m) => (m as Json).function_name === "${aws_lambda_function.config_rule.arn}",
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toMatchObject({
      event_source_arn: "${aws_sqs_queue.scan_queue.arn}",
      function_name: "${aws_lambda_function.config_rule.arn}",
      batch_size: 1,
      function_response_types: ["ReportBatchItemFailures"],
      scaling_config: { maximum_concurrency: "${var.scan_concurrency}" },
    });
    for (const doc of ["scan_queue_policy_doc", "scan_dlq_policy_doc"]) {
      const only = (policyDoc(doc).statement as Json[]).find((s) => s.sid === "OnlyTheScannerSends");
      expect(only).toMatchObject({
        effect: "Deny",
        actions: ["sqs:SendMessage"],
        condition: [
          { test: "ArnNotLike", variable: "aws:PrincipalArn", values: ["${aws_iam_role.config_rule_role.arn}"] },
        ],
      });
    }
    const env = resources("aws_lambda_function").config_rule.environment.variables;
    expect(env).toMatchObject({
      REMEDY_SCAN_QUEUE_URL: "${aws_sqs_queue.scan_queue.url}",
      REMEDY_SCAN_DLQ_URL: "${aws_sqs_queue.scan_dlq.url}",
    });
    // The Config rule function takes only its scan's tasks, never the instructions; it reads and writes only scans/.
    const grants = (policyDoc("config_rule_policy_doc").statement as Json[]).filter((g) => g.effect !== "Deny");
    const on = (action: string) => grants.filter((g) => g.actions.includes(action)).flatMap((g) => g.resources);
    expect(on("sqs:ReceiveMessage")).toEqual(["${aws_sqs_queue.scan_queue.arn}"]);
    expect(on("sqs:DeleteMessage")).toEqual(["${aws_sqs_queue.scan_queue.arn}"]);
    expect(on("s3:PutObject")).toEqual(["${aws_s3_bucket.ledger_bucket_CFD27338.arn}/scans/*"]);
    expect(on("s3:GetObject")).toEqual([
      "${aws_s3_bucket.ledger_bucket_CFD27338.arn}/scans/*",
      "${aws_s3_bucket.ledger_bucket_CFD27338.arn}/allowlist/*",
    ]);
    expect(on("sqs:SendMessage").sort()).toEqual(
      ["${aws_sqs_queue.queue.arn}", "${aws_sqs_queue.scan_queue.arn}", "${aws_sqs_queue.scan_dlq.arn}"].sort(),
    );
    const lifecycle = Object.values(resources("aws_s3_bucket_lifecycle_configuration"))[0] as Json;
    expect(lifecycle.rule).toContainEqual(
      expect.objectContaining({ filter: [{ prefix: "scans/" }], expiration: [{ days: 2 }] }),
    );
  });

  it("keeps the ledger private, encrypted, versioned and TLS-only", () => {
    expect(Object.values(resources("aws_s3_bucket_public_access_block"))[0]).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(Object.values(resources("aws_s3_bucket_versioning"))[0]).toMatchObject({
      versioning_configuration: { status: "Enabled" },
    });
    expect(JSON.stringify(resources("aws_s3_bucket_server_side_encryption_configuration"))).toContain("AES256");
    expect(JSON.stringify(tf.data.aws_iam_policy_document)).toContain("aws:SecureTransport");
  });

  it("defines one Config rule per rule in the registry, change-triggered and periodic, invoked only from this account", () => {
    const rules = Object.values(resources("aws_config_config_rule")) as Json[];
    expect(rules.map((r) => r.name).sort()).toEqual(RULES.map((rule) => `remedy-${rule.id}`).sort());
    for (const rule of RULES) {
      const deployed = rules.find((r) => r.name === `remedy-${rule.id}`)!;
      expect(deployed.source.owner).toBe("CUSTOM_LAMBDA");
      const recorded = rule.resourceTypes.every((type) => RECORDED_RESOURCE_TYPES.includes(type));
      // A type Config does not record has no items to change: its rule runs periodically only, unscoped.
      expect(deployed.source.source_detail.map((d: Json) => d.message_type)).toEqual(
        recorded
          ? [
              "ConfigurationItemChangeNotification",
              "OversizedConfigurationItemChangeNotification",
              "ScheduledNotification",
            ]
          : ["ScheduledNotification"],
      );
      expect(deployed.source.source_detail.at(-1).maximum_execution_frequency).toBe(
        `\${var.rule_evaluation_frequency}`,
      );
      expect(deployed.scope?.compliance_resource_types).toEqual(recorded ? rule.resourceTypes : undefined);
    }
    const recorder = Object.values(resources("aws_config_configuration_recorder"))[0] as Json;
    expect(recorder.recording_group.resource_types).toEqual(RECORDED_RESOURCE_TYPES);
    expect(RECORDED_RESOURCE_TYPES).toEqual(expect.arrayContaining(["AWS::EC2::SecurityGroup", "AWS::S3::Bucket"]));
    const sg = rules.find((r) => r.name === "remedy-sg-open-ingress")!;
    expect(sg.scope.compliance_resource_types).toEqual(["AWS::EC2::SecurityGroup"]);
    expect(sg.input_parameters).toContain('"authorizedPorts" = var.authorized_ports');
    const permission = Object.values(resources("aws_lambda_permission")).find(
      (p: Json) => p.principal === "config.amazonaws.com",
    ) as Json;
    expect(permission.source_account).toBe(`\${data.aws_caller_identity.account.account_id}`);
    expect(tf.variable.manage_config.default).toBe(false);
  });

  it("alarms on dead letters to the report topic, which the notifier reads", () => {
    expect(resources("aws_cloudwatch_metric_alarm").dlq_alarm).toMatchObject({
      metric_name: "ApproximateNumberOfMessagesVisible",
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
      alarm_actions: [`\${aws_sns_topic.report_topic.arn}`],
    });
    expect(resources("aws_sns_topic_subscription").notifier_report_subscription.endpoint).toBe(
      `\${aws_lambda_function.notifier.arn}`,
    );
  });
});

describe("outputs", () => {
  it("has every name the CLI reads, the report topic and each function", () => {
    const names = Object.keys(tf.output);
    for (const name of Object.values(OUTPUT_NAMES)) expect(names).toContain(name);
    expect(names).toContain("report_topic_arn");
    for (const spec of FUNCTION_LIST) expect(names).toContain(`${fnId(spec.name)}_function_name`);
  });

  it("says where the stack is, so the CLI works in its region and refuses other accounts' credentials", () => {
    expect(tf.output.region.value).toBe("${var.region}");
    expect(tf.output.account_id.value).toBe("${data.aws_caller_identity.account.account_id}");
    // The variable keeps its name: outputs and variables are separate namespaces.
    expect(Object.keys(tf.variable)).toContain("region");
  });
});

describe("ledger key prefixes", () => {
  it("match the ledger code, so remediations may write records and claims", async () => {
    const { LEDGER_PREFIX, CLAIM_PREFIX } = await import("../../contract/ledger.ts");
    const { LEDGER_PREFIXES } = await import("../../infra/iam.ts");
    expect(LEDGER_PREFIXES).toEqual({ actions: LEDGER_PREFIX, claims: CLAIM_PREFIX });
    const s3 = (policyDoc("remediate_sg_policy_doc").statement as Json[]).find((s) =>
      s.actions.includes("s3:PutObject"),
    )!;
    expect(s3.resources).toEqual([
      `\${aws_s3_bucket.ledger_bucket_CFD27338.arn}/actions/*`,
      `\${aws_s3_bucket.ledger_bucket_CFD27338.arn}/claims/*`,
    ]);
  });
});

describe("trust boundary", () => {
  const remediationRoles = REMEDIATIONS.map(
    (spec) =>
      `arn:\${data.aws_partition.partition.partition}:iam::\${data.aws_caller_identity.account.account_id}:role/remedy-${spec.name}-\${var.region}`,
  );
  const consumers = [
    "${aws_iam_role.coordinator_role.arn}",
    ...REMEDIATIONS.map((spec) => `\${aws_iam_role.${fnId(spec.name)}_role.arn}`),
  ];
  const statement = (doc: string, sid: string): Json =>
    (policyDoc(doc).statement as Json[]).find((each) => each.sid === sid) ?? {};

  it("lets only Config rules of this account and region invoke the rule function", () => {
    const permission = Object.values(resources("aws_lambda_permission")).find(
      (p: Json) => p.principal === "config.amazonaws.com",
    ) as Json;
    expect(permission.source_arn).toBe(
      "arn:${data.aws_partition.partition.partition}:config:${var.region}:${data.aws_caller_identity.account.account_id}:config-rule/*",
    );
  });

  it("gives every function that judges or acts the deployed rules, from the same values as the Config rules", () => {
    const functions = resources("aws_lambda_function");
    const rules = Object.values(resources("aws_config_config_rule")) as Json[];
    const sgParameters = rules.find((rule) => rule.name === "remedy-sg-open-ingress")!.input_parameters as string;
    // input_parameters is jsonencode(<expression>); REMEDY_RULES embeds the very same expression.
    const expression = sgParameters.replace(/^\$\{jsonencode\((.*)\)\}$/s, "$1");
    for (const name of ["config_rule", "coordinator", "remediate_sg", "remediate_s3"]) {
      const env = functions[name].environment.variables;
      expect(env.REMEDY_ACCOUNT_ID).toBe("${data.aws_caller_identity.account.account_id}");
      expect(env.REMEDY_REGION).toBe("${var.region}");
      expect(env.REMEDY_RULES).toContain(`"configRuleName" = "remedy-sg-open-ingress", "parameters" = ${expression}}`);
      expect(env.REMEDY_RULES).toContain(`"configRuleName" = "remedy-s3-public", "parameters" = {}}`);
    }
    expect(functions.notifier.environment.variables.REMEDY_RULES).toBeUndefined();
  });

  it("drops a queued dispatch before it can outlive its visibility, and remediations know the same age", () => {
    // The remediations' (the coordinator's own is the real-time path's "run now": test/infra/realtime.test.ts).
    const configs = Object.values(resources("aws_lambda_function_event_invoke_config")) as Json[];
    const remediations = configs.filter(
      (c) =>
        c.function_name !== "${aws_lambda_function.coordinator.function_name}" &&
        c.function_name !== "${aws_lambda_function.interactions_worker.function_name}",
    );
    expect(remediations).toHaveLength(FUNCTION_LIST.filter((s) => s.invokedByCoordinator).length);
    for (const config of remediations) {
      expect(config.maximum_event_age_in_seconds).toBe(MAX_DISPATCH_AGE_SECONDS);
    }
    for (const spec of FUNCTION_LIST.filter((s) => s.invokedByCoordinator)) {
      expect(MAX_DISPATCH_AGE_SECONDS + spec.timeoutSeconds).toBeLessThan(DISPATCH_VISIBILITY_SECONDS);
      const env = resources("aws_lambda_function")[fnId(spec.name)].environment.variables;
      expect(env.REMEDY_MAX_DISPATCH_AGE_SECONDS).toBe(String(MAX_DISPATCH_AGE_SECONDS));
      expect(env.REMEDY_PAUSE_PARAMETER).toBe("${aws_ssm_parameter.pause.name}");
      expect(env.REMEDY_QUEUE_URL).toBe("${aws_sqs_queue.queue.url}");
    }
    expect(MAX_DISPATCH_AGE_SECONDS).toBeGreaterThanOrEqual(60); // Lambda's minimum
  });

  it("lets remediations read the pause switch (and nothing else in SSM)", () => {
    for (const name of ["remediate_sg", "remediate_s3"]) {
      const ssm = (policyDoc(`${name}_policy_doc`).statement as Json[]).filter((s) =>
        (s.actions as string[]).some((action) => action.startsWith("ssm:")),
      );
      expect(ssm).toEqual([
        {
          actions: ["ssm:GetParameter"],
          resources: [
            "arn:${data.aws_partition.partition.partition}:ssm:${var.region}:${data.aws_caller_identity.account.account_id}:parameter/remedy/paused",
          ],
        },
      ]);
    }
  });

  it("denies sending to the DLQ to everyone but the coordinator and the remediations", () => {
    expect(statement("dlq_policy_doc", "OnlyRemedyDeadLetters")).toEqual({
      sid: "OnlyRemedyDeadLetters",
      effect: "Deny",
      principals: [{ type: "*", identifiers: ["*"] }],
      actions: ["sqs:SendMessage"],
      resources: ["${aws_sqs_queue.dlq.arn}"],
      condition: [{ test: "ArnNotLike", variable: "aws:PrincipalArn", values: consumers }],
    });
  });

  it("denies publishing reports to everyone but Remedy's roles, the listed operators and this stack's DLQ alarm", () => {
    const alarm =
      "arn:${data.aws_partition.partition.partition}:cloudwatch:${var.region}:${data.aws_caller_identity.account.account_id}:alarm:remedy-dead-letters";
    expect(resources("aws_cloudwatch_metric_alarm").dlq_alarm.alarm_name).toBe("remedy-dead-letters");
    expect(statement("report_topic_policy_doc", "DenyOtherPublishers")).toMatchObject({
      effect: "Deny",
      actions: ["sns:Publish"],
      condition: [
        {
          test: "ArnNotLike",
          variable: "aws:PrincipalArn",
          // `remedy undo` reports what it put back, with the operator's credentials; an undo from Slack with the
          // interactions worker's.
          values: `\${concat([${[...consumers, "${aws_iam_role.interactions_worker_role.arn}"].map((arn: string) => arn.slice(2, -1)).join(", ")}], var.operator_principal_arns)}`,
        },
        { test: "StringNotEquals", variable: "aws:PrincipalServiceName", values: ["cloudwatch.amazonaws.com"] },
      ],
    });
    expect(statement("report_topic_policy_doc", "DenyOtherAlarms")).toMatchObject({
      effect: "Deny",
      condition: [
        { test: "StringEquals", variable: "aws:PrincipalServiceName", values: ["cloudwatch.amazonaws.com"] },
        { test: "ArnNotEquals", variable: "aws:SourceArn", values: [alarm] },
      ],
    });
    expect(statement("report_topic_policy_doc", "CloudWatchAlarmsPublish").condition).toContainEqual({
      test: "ArnEquals",
      variable: "aws:SourceArn",
      values: [alarm],
    });
  });

  it("lets only each ledger prefix's writers write or delete there", () => {
    const doc = Object.entries(tf.data.aws_iam_policy_document as Json).find(([id]) =>
      id.startsWith("ledger_policy_doc"),
    )![1];
    const writers: Json = Object.fromEntries(
      (doc.statement as Json[])
        .filter((s) => String(s.sid).startsWith("OnlyWritersOf"))
        .map((s) => [s.resources[0].replace(/^.*\}\//, ""), s]),
    );
    expect(Object.keys(writers).sort()).toEqual([
      "actions/*",
      "allowlist/*",
      "claims/*",
      "decisions/*",
      "exemptions/*",
      "pending/*",
      "scans/*",
      "state/*",
    ]);
    const role = (name: string) =>
      `arn:\${data.aws_partition.partition.partition}:iam::\${data.aws_caller_identity.account.account_id}:role/remedy-${name}-\${var.region}`;
    for (const s of Object.values(writers)) {
      expect(s).toMatchObject({ effect: "Deny", principals: [{ type: "*", identifiers: ["*"] }] });
      expect(s.actions).toEqual(["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObjectRetention"]);
      expect(s.condition[0]).toMatchObject({ test: "ArnNotLike", variable: "aws:PrincipalArn" });
    }
    expect(writers["claims/*"].condition[0].values).toEqual(remediationRoles);
    // The remediations' records, the operators' undos and the undos asked for in Slack (the interactions worker).
    expect(writers["actions/*"].condition[0].values).toBe(
      `\${concat(${JSON.stringify([...remediationRoles, role("interactions-worker")]).replaceAll(",", ", ")}, var.operator_principal_arns)}`,
    );
    // Slack: pending instructions (the coordinator), decisions (the endpoint), allowlist entries (the worker, and
    // operators by hand).
    expect(writers["pending/*"].condition[0].values).toEqual([role("coordinator")]);
    // Decisions: the endpoint records them; it and the worker withdraw one that could not be carried out.
    expect(writers["decisions/*"].condition[0].values).toEqual([role("interactions"), role("interactions-worker")]);
    expect(writers["allowlist/*"].condition[0].values).toBe(
      `\${concat(["${role("interactions-worker")}"], var.operator_principal_arns)}`,
    );
    // Undo's exemptions: the operators (the remediation roles only keep the list from being empty).
    expect(writers["exemptions/*"].condition[0].values).toBe(writers["actions/*"].condition[0].values);
    expect(writers["state/*"].condition[0].values).toEqual([
      "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}:role/remedy-coordinator-${var.region}",
    ]);
    // A periodic scan's parts of recorded verdicts: only the Config rule function writes them.
    expect(writers["scans/*"].condition[0].values).toEqual([
      "arn:${data.aws_partition.partition.partition}:iam::${data.aws_caller_identity.account.account_id}:role/remedy-config-rule-${var.region}",
    ]);
  });

  it("signs ledger records with an HMAC key only the remediation roles may use to sign", () => {
    const key = resources("aws_kms_key").ledger_mac_key;
    expect(key).toMatchObject({ customer_master_key_spec: "HMAC_256", key_usage: "GENERATE_VERIFY_MAC" });
    expect(key.depends_on).toEqual(REMEDIATIONS.map((spec) => `\${aws_iam_role.${fnId(spec.name)}_role}`));
    const policy = key.policy as string;
    expect(policy).toContain('"NotAction" = "kms:GenerateMac"');
    expect(policy).toContain(
      `"Principal" = {"AWS" = ${JSON.stringify(remediationRoles).replaceAll(",", ", ").replaceAll('","', '", "')}}, "Action" = "kms:GenerateMac"`,
    );
    for (const spec of FUNCTION_LIST.filter((s) => s.invokedByCoordinator)) {
      expect(resources("aws_lambda_function")[fnId(spec.name)].environment.variables.REMEDY_LEDGER_MAC_KEY_ID).toBe(
        "${aws_kms_key.ledger_mac_key.arn}",
      );
    }
    expect(tf.output.ledger_mac_key_id.value).toBe("${aws_kms_key.ledger_mac_key.arn}");
  });

  it("denies the S3 remediation every change to Remedy's own and the listed buckets", () => {
    const deny = (policyDoc("remediate_s3_policy_doc").statement as Json[]).filter((s) => s.effect === "Deny");
    expect(deny).toEqual([
      {
        effect: "Deny",
        actions: ["s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketPublicAccessBlock"],
        resources:
          '${formatlist("arn:${data.aws_partition.partition.partition}:s3:::%s", concat(["remedy-ledger-*", "remedy-config-*"], var.protected_buckets))}',
      },
    ]);
    expect(resources("aws_lambda_function").remediate_s3.environment.variables.REMEDY_PROTECTED_BUCKETS).toBe(
      '${join(",", concat(["remedy-ledger-*", "remedy-config-*"], var.protected_buckets))}',
    );
    expect(tf.variable.protected_buckets).toMatchObject({ type: "list(string)", default: [] });
    // The ledger and Config buckets are named with those prefixes.
    expect(resources("aws_s3_bucket").ledger_bucket_CFD27338.bucket_prefix).toBe("remedy-ledger-");
    expect(resources("aws_s3_bucket").config_bucket_492FA8B0.bucket_prefix).toBe("remedy-config-");
  });
});

// Every bundle starts with exactly the environment the stack gives its function (the registry's env names, each
// with an example value): a variable read at cold start that the stack does not set fails here, not in the first
// Lambda invocation after a deploy.
describe("bundles start with the stack's environment", () => {
  for (const spec of FUNCTION_LIST) {
    it(`${spec.name} imports with exactly its own variables`, () => {
      const bundle = built.find((result) => result.name === spec.name)!;
      expect(coldImportMs(bundle.bundlePath, importEnv(spec.env))).toBeGreaterThan(0);
    });
  }

  it("a missing variable fails the import, naming it (the check is not vacuous)", () => {
    const bundle = built.find((result) => result.name === "remediate-sg")!;
    const env = importEnv(FUNCTION_LIST.find((spec) => spec.name === "remediate-sg")!.env);
    delete env.REMEDY_RULES;
    expect(() => coldImportMs(bundle.bundlePath, env)).toThrow(/REMEDY_RULES is required/);
  });
});

describe("deploying: state and settings", () => {
  it("keeps state in a relative local file by default: no absolute path is baked into the stack", () => {
    expect(tf.terraform.backend).toEqual({ local: { path: "../../../terraform.remedy.tfstate" } });
    expect(JSON.stringify(tf)).not.toContain(process.cwd());
  });

  it("uses S3 with native locking (or a DynamoDB table) when the synth environment names a state bucket", async () => {
    const { stateBackendFromEnv, DEFAULT_STATE_BACKEND } = await import("../../infra/stack.ts");
    expect(stateBackendFromEnv({})).toEqual(DEFAULT_STATE_BACKEND);
    expect(
      stateBackendFromEnv({ REMEDY_TF_STATE_BUCKET: "acme-tf-state", REMEDY_TF_STATE_REGION: "eu-west-1" }),
    ).toEqual({
      kind: "s3",
      bucket: "acme-tf-state",
      key: "remedy/terraform.tfstate",
      region: "eu-west-1",
    });
    expect(() => stateBackendFromEnv({ REMEDY_TF_STATE_BUCKET: "acme-tf-state" })).toThrow(/REMEDY_TF_STATE_REGION/);
    const synth = (backend: Parameters<typeof stateBackendFromEnv>[0]) => {
      const dir = mkdtempSync(join(tmpdir(), "remedy-synth-backend-"));
      try {
        const app = new App({ outdir: dir });
        new RemedyStack(app, "remedy", { distDir: DIST, backend: stateBackendFromEnv(backend) });
        app.synth();
        return JSON.parse(readFileSync(join(dir, "stacks", "remedy", "cdk.tf.json"), "utf8")).terraform.backend;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };
    expect(synth({ REMEDY_TF_STATE_BUCKET: "acme-tf-state", REMEDY_TF_STATE_REGION: "eu-west-1" })).toEqual({
      s3: {
        bucket: "acme-tf-state",
        key: "remedy/terraform.tfstate",
        region: "eu-west-1",
        encrypt: true,
        use_lockfile: true,
      },
    });
    expect(
      synth({
        REMEDY_TF_STATE_BUCKET: "acme-tf-state",
        REMEDY_TF_STATE_REGION: "eu-west-1",
        REMEDY_TF_STATE_KEY: "prod/remedy.tfstate",
        REMEDY_TF_STATE_LOCK_TABLE: "tf-locks",
      }),
    ).toEqual({
      s3: {
        bucket: "acme-tf-state",
        key: "prod/remedy.tfstate",
        region: "eu-west-1",
        encrypt: true,
        dynamodb_table: "tf-locks",
      },
    });
  }, 30_000);

  it("remedy.auto.tfvars.example sets every variable of the stack, each to its default", () => {
    const example = readFileSync(new URL("../../remedy.auto.tfvars.example", import.meta.url), "utf8");
    const assigned = new Map(
      [...example.matchAll(/^([a-z_0-9]+)\s*=\s*(.+)$/gm)].map((match) => [match[1]!, match[2]!.trim()]),
    );
    expect([...assigned.keys()].sort()).toEqual(Object.keys(tf.variable).sort());
    for (const [name, variable] of Object.entries(tf.variable as Json)) {
      expect(JSON.parse(assigned.get(name)!), name).toEqual(variable.default);
    }
  });

  it("the synth copies remedy.auto.tfvars next to the stack, where Terraform loads it", async () => {
    const { installVariablesFile } = await import("../../infra/tfvars.ts");
    const source = mkdtempSync(join(tmpdir(), "remedy-tfvars-src-"));
    const stack = mkdtempSync(join(tmpdir(), "remedy-tfvars-stack-"));
    try {
      expect(installVariablesFile(source, stack)).toBe(false);
      writeFileSync(join(source, "remedy.auto.tfvars"), "enable_auto_response = true\n");
      expect(installVariablesFile(source, stack)).toBe(true);
      expect(readFileSync(join(stack, "remedy.auto.tfvars"), "utf8")).toBe("enable_auto_response = true\n");
    } finally {
      rmSync(source, { recursive: true, force: true });
      rmSync(stack, { recursive: true, force: true });
    }
  });

  it("cdktf.json asks the cdktf CLI to generate no provider bindings (the prebuilt package is used)", () => {
    const config = JSON.parse(readFileSync(new URL("../../cdktf.json", import.meta.url), "utf8"));
    expect(config).toMatchObject({ app: "npx tsx main.ts", terraformProviders: [], terraformModules: [] });
  });
});
