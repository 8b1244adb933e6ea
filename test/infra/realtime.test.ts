// The real-time path's infrastructure (infra/realtime.ts), on the synthesized JSON: the delaying queue, the two
// EventBridge rules and who may send to the queue, the event source, the coordinator's "run now" settings, the
// real-time role's grants, and organisation mode's forwarding (the hub's bus policy and regional rules, the members'
// StackSet and detect role). The functions' code does not matter here: the stack is synthesized from stub zips.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNDO_EXEMPTION_PREFIX } from "../../contract/undo-exemption.ts";
import { cloudTrailPattern, securityHubPattern } from "../../functions/realtime/patterns.ts";
import { realtimeMemberCommands, realtimePermissions } from "../../functions/realtime/permissions.ts";
import { FUNCTION_LIST, FUNCTIONS, grantedActions } from "../../functions/registry.ts";
import { memberRolesModel, memberRolesTemplate } from "../../infra/member-roles.ts";
import {
  memberForwardingTemplateBody,
  RemedyManagementAccountStack,
  RemedyMemberStack,
} from "../../infra/member-stacks.ts";
import { memberForwardingTemplate } from "../../infra/realtime.ts";
import { RemedyStack } from "../../infra/stack.ts";
import { type OrganizationSettings, parseOrganizationSettings } from "../../platform/organization.ts";
import { RESOURCES } from "../../problems/index.ts";
import type { IamScope } from "../../problems/types.ts";

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON and templates, asserted on shape by shape
type Json = Record<string, any>;

const REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"];
const settings: OrganizationSettings = parseOrganizationSettings({ regions: REGIONS, default: { mode: "notify" } });
const PARTITION = "${data.aws_partition.partition.partition}";
const ACCOUNT = "${data.aws_caller_identity.account.account_id}";
const REGION = "${var.region}";
const ORG_ID = "${data.aws_organizations_organization.organization.id}";

let dir: string;
let single: Json;
let org: Json;
/** The per-account stacks (a member's with its own Terraform, the management account's). */
let member: Json;
let management: Json;

function synthesize(organization?: OrganizationSettings): Json {
  const outdir = mkdtempSync(join(dir, "out-"));
  const app = new App({ outdir });
  new RemedyStack(app, "remedy", { distDir: join(dir, "dist"), ...(organization ? { organization } : {}) });
  if (organization) {
    new RemedyMemberStack(app, "remedy-member", { settings: organization });
    new RemedyManagementAccountStack(app, "remedy-management-account", { settings: organization });
  }
  app.synth();
  const stack = (name: string) => JSON.parse(readFileSync(join(outdir, "stacks", name, "cdk.tf.json"), "utf8"));
  if (organization) {
    member = stack("remedy-member");
    management = stack("remedy-management-account");
  }
  return stack("remedy");
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "remedy-realtime-synth-"));
  const dist = join(dir, "dist");
  mkdirSync(dist);
  // The stack only hashes each zip: any bytes do.
  for (const spec of FUNCTION_LIST) writeFileSync(join(dist, `${spec.name}.zip`), `stub ${spec.name}`);
  single = synthesize();
  org = synthesize(settings);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const resources = (tf: Json, type: string): Json => tf.resource?.[type] ?? {};
/** The one resource of the type whose attributes match (logical ids in a construct carry a hash). */
function one(tf: Json, type: string, match: Json): Json {
  const found = Object.entries(resources(tf, type)).filter(([, r]) =>
    Object.entries(match).every(([key, value]) => JSON.stringify((r as Json)[key]) === JSON.stringify(value)),
  );
  expect(
    found.map(([id]) => id),
    `${type} ${JSON.stringify(match)}`,
  ).toHaveLength(1);
  return { id: found[0]![0], ...(found[0]![1] as Json) };
}
const ref = (type: string, id: string, attribute: string) => `\${${type}.${id}.${attribute}}`;
const policyDocOf = (tf: Json, policy: string): Json => {
  const id = /^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$/.exec(policy)![1]!;
  return tf.data.aws_iam_policy_document[id];
};

/**
 * Evaluates the Terraform expressions the stack writes for variables (`${var.x ? "A" : "B"}`, `&&`, `==`, `>=`,
 * `floor`) with the given values: they are JavaScript once the variables are replaced.
 */
function evaluate(expression: string, values: Record<string, unknown>): unknown {
  const body = /^\$\{(.*)\}$/s.exec(expression)![1]!;
  const js = body
    .replace(/var\.([a-z_0-9]+)/g, (_all, name: string) => {
      expect(values, `a value for var.${name}`).toHaveProperty([name]);
      return JSON.stringify(values[name]);
    })
    .replaceAll("floor(", "Math.floor(");
  return new Function(`return (${js});`)();
}

const queue = (tf: Json) => one(tf, "aws_sqs_queue", { name: "remedy-realtime" });
const dlq = (tf: Json) => one(tf, "aws_sqs_queue", { name: "remedy-realtime-dlq" });
const rule = (tf: Json, name: string) => one(tf, "aws_cloudwatch_event_rule", { name });
const arnOf = (tf: Json, type: string, match: Json) => ref(type, one(tf, type, match).id, "arn");

describe("variables", () => {
  it("enable_realtime and enable_security_hub_findings default to true", () => {
    expect(single.variable.enable_realtime).toMatchObject({ type: "bool", default: true });
    expect(single.variable.enable_security_hub_findings).toMatchObject({ type: "bool", default: true });
  });

  it("realtime_delay_seconds defaults to 20 and takes whole seconds from 0 to 900 (SQS's DelaySeconds)", () => {
    const variable = single.variable.realtime_delay_seconds;
    expect(variable).toMatchObject({ type: "number", default: 20 });
    const valid = (value: number) => evaluate(variable.validation[0].condition, { realtime_delay_seconds: value });
    for (const value of [0, 1, 20, 900]) expect(valid(value), String(value)).toBe(true);
    for (const value of [-1, 901, 2.5]) expect(valid(value), String(value)).toBe(false);
    expect(variable.validation[0].error_message).toMatch(/0 to 900/);
  });
});

describe("the real-time queue", () => {
  it("delays every event by realtime_delay_seconds, encrypted, kept a day, visible 6× the function's timeout", () => {
    expect(queue(single)).toMatchObject({
      delay_seconds: "${var.realtime_delay_seconds}",
      sqs_managed_sse_enabled: true,
      message_retention_seconds: 24 * 3600,
      visibility_timeout_seconds: 6 * FUNCTIONS.realtime.timeoutSeconds,
    });
    expect(queue(single).redrive_policy).toBe(
      `\${jsonencode({"deadLetterTargetArn" = ${ref("aws_sqs_queue", dlq(single).id, "arn").slice(2, -1)}, "maxReceiveCount" = 5})}`,
    );
    expect(dlq(single)).toMatchObject({ sqs_managed_sse_enabled: true, message_retention_seconds: 14 * 24 * 3600 });
  });

  it("is fed by two rules on the default bus, whose patterns are the pattern builders' output", () => {
    const cloudTrail = rule(single, "remedy-realtime-cloudtrail");
    const securityHub = rule(single, "remedy-realtime-security-hub");
    expect(JSON.parse(cloudTrail.event_pattern)).toEqual(cloudTrailPattern());
    expect(JSON.parse(securityHub.event_pattern)).toEqual(securityHubPattern());
    for (const r of [cloudTrail, securityHub]) {
      expect(r.event_bus_name).toBeUndefined();
      expect(r.provider).toBeUndefined();
      expect(r.is_enabled).toBeUndefined();
      const target = one(single, "aws_cloudwatch_event_target", {
        rule: ref("aws_cloudwatch_event_rule", r.id, "name"),
      });
      expect(target).toMatchObject({
        arn: ref("aws_sqs_queue", queue(single).id, "arn"),
        dead_letter_config: { arn: ref("aws_sqs_queue", dlq(single).id, "arn") },
      });
    }
  });

  it("rules' states: enable_realtime turns both off, enable_security_hub_findings the findings' alone", () => {
    const state = (name: string, realtime: boolean, findings: boolean) =>
      evaluate(rule(single, name).state, { enable_realtime: realtime, enable_security_hub_findings: findings });
    expect(state("remedy-realtime-cloudtrail", true, true)).toBe("ENABLED");
    expect(state("remedy-realtime-cloudtrail", true, false)).toBe("ENABLED");
    expect(state("remedy-realtime-cloudtrail", false, true)).toBe("DISABLED");
    expect(state("remedy-realtime-security-hub", true, true)).toBe("ENABLED");
    expect(state("remedy-realtime-security-hub", true, false)).toBe("DISABLED");
    expect(state("remedy-realtime-security-hub", false, true)).toBe("DISABLED");
    // Defaults: on.
    const defaults = { enable_realtime: true, enable_security_hub_findings: true };
    expect(evaluate(rule(single, "remedy-realtime-security-hub").state, defaults)).toBe("ENABLED");
  });

  it("takes events only from those two rules, and only over TLS; EventBridge's dead letters from them too", () => {
    const ruleArns = [
      arnOf(single, "aws_cloudwatch_event_rule", { name: "remedy-realtime-cloudtrail" }),
      arnOf(single, "aws_cloudwatch_event_rule", { name: "remedy-realtime-security-hub" }),
    ];
    const statementsOf = (of: Json) =>
      policyDocOf(single, one(single, "aws_sqs_queue_policy", { queue_url: ref("aws_sqs_queue", of.id, "url") }).policy)
        .statement as Json[];
    const eventsSend = (sid: string, arn: string) => ({
      sid,
      principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
      actions: ["sqs:SendMessage"],
      resources: [arn],
      condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: ruleArns }],
    });
    const tlsOnly = (arn: string) => ({
      sid: "DenyInsecureTransport",
      effect: "Deny",
      principals: [{ type: "*", identifiers: ["*"] }],
      actions: ["sqs:*"],
      resources: [arn],
      condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
    });
    const queueArn = ref("aws_sqs_queue", queue(single).id, "arn");
    expect(statementsOf(queue(single))).toEqual([
      eventsSend("RealtimeRulesSend", queueArn),
      {
        // A principal's call has no aws:SourceArn: denied, whatever its IAM policy says.
        sid: "OnlyTheRealtimeRulesSend",
        effect: "Deny",
        principals: [{ type: "*", identifiers: ["*"] }],
        actions: ["sqs:SendMessage"],
        resources: [queueArn],
        condition: [{ test: "ArnNotEquals", variable: "aws:SourceArn", values: ruleArns }],
      },
      tlsOnly(queueArn),
    ]);
    const dlqArn = ref("aws_sqs_queue", dlq(single).id, "arn");
    expect(statementsOf(dlq(single))).toEqual([eventsSend("RealtimeRulesDeadLetter", dlqArn), tlsOnly(dlqArn)]);
  });

  it("feeds the real-time function in batches of 10 at once, reporting item failures, 5 at a time at most", () => {
    const mapping = one(single, "aws_lambda_event_source_mapping", {
      event_source_arn: ref("aws_sqs_queue", queue(single).id, "arn"),
    });
    expect(mapping).toMatchObject({
      function_name: "${aws_lambda_function.realtime.arn}",
      batch_size: 10,
      maximum_batching_window_in_seconds: 0,
      function_response_types: ["ReportBatchItemFailures"],
      scaling_config: { maximum_concurrency: 5 },
      depends_on: ["aws_iam_role_policy.realtime_policy"],
    });
  });
});

describe("the real-time function and the coordinator", () => {
  it("asks the coordinator to run now asynchronously: never retried, dropped after a minute", () => {
    const config = one(single, "aws_lambda_function_event_invoke_config", {
      function_name: "${aws_lambda_function.coordinator.function_name}",
    });
    expect(config).toMatchObject({ maximum_retry_attempts: 0, maximum_event_age_in_seconds: 60 });
    expect(resources(single, "aws_lambda_function").coordinator.reserved_concurrent_executions).toBe(1);
  });

  it("gets the coordinator's name, the gate and Remedy's own roles in its environment", () => {
    const env = resources(single, "aws_lambda_function").realtime.environment.variables;
    expect(env.REMEDY_COORDINATOR_FUNCTION).toBe("remedy-coordinator");
    expect(env.REMEDY_AUTO_RESPONSE).toBe("${var.enable_auto_response}");
    expect(env.REMEDY_QUEUE_URL).toBe("${aws_sqs_queue.queue.url}");
    const own = JSON.parse(env.REMEDY_OWN_ROLE_ARNS) as string[];
    expect(own).toEqual(
      FUNCTION_LIST.filter((spec) => spec.invokedByCoordinator).map(
        (spec) => `arn:${PARTITION}:iam::${ACCOUNT}:role/remedy-${spec.name}-${REGION}`,
      ),
    );
    for (const key of FUNCTIONS.realtime.env) expect(env[key], key).toBeDefined();
  });

  for (const [mode, tf] of [
    ["account", () => single],
    ["organization", () => org],
  ] as const) {
    it(`its role grants exactly grantedActions(realtime) (${mode} mode), each where it belongs`, () => {
      const statements = tf().data.aws_iam_policy_document.realtime_policy_doc.statement as Json[];
      expect(statements.every((s) => s.effect === undefined)).toBe(true);
      expect(statements.flatMap((s) => s.actions as string[]).sort()).toEqual(grantedActions(FUNCTIONS.realtime, mode));
      const scope = (action: string) => {
        const found = statements.filter((s) => (s.actions as string[]).includes(action));
        expect(found, action).toHaveLength(1);
        return { resources: found[0]!.resources, condition: found[0]!.condition };
      };
      expect(scope("sqs:SendMessage")).toEqual({ resources: ["${aws_sqs_queue.queue.arn}"] });
      expect(scope("lambda:InvokeFunction")).toEqual({
        resources: [`arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:remedy-coordinator`],
      });
      const ledger = arnOf(tf(), "aws_s3_bucket", { bucket_prefix: "remedy-ledger-" });
      expect(scope("s3:GetObject")).toEqual({ resources: [`${ledger}/exemptions/*`, `${ledger}/allowlist/*`] });
      const realtimeQueue = ref("aws_sqs_queue", queue(tf()).id, "arn");
      for (const action of ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]) {
        expect(scope(action), action).toEqual({ resources: [realtimeQueue] });
      }
      expect(scope("config:StartConfigRulesEvaluation")).toEqual({
        resources: [`arn:${PARTITION}:config:${REGION}:${ACCOUNT}:config-rule/*`],
      });
      expect(scope("config:DescribeConfigRules")).toEqual({ resources: ["*"] });
      // Every resource type's live reads: on "*" where AWS does not scope them, else on the type's IAM scope.
      for (const resource of RESOURCES) {
        const iam: IamScope = resource.iamScope({ partition: PARTITION, region: REGION, account: ACCOUNT });
        for (const action of new Set(Object.values(resource.reads.permissions) as string[])) {
          const expected = (resource.reads.unscopedActions as readonly string[]).includes(action)
            ? { resources: ["*"], condition: undefined }
            : { resources: iam.resources, condition: iam.conditions };
          expect(scope(action), action).toEqual(expected);
        }
      }
      if (mode === "organization") {
        expect(scope("sts:AssumeRole")).toEqual({
          resources: [`arn:${PARTITION}:iam::*:role/remedy/remedy-member-detect`],
          condition: [{ test: "StringEquals", variable: "aws:ResourceOrgID", values: [ORG_ID] }],
        });
      }
    });
  }

  it("reads undo's temporary exemptions and the allowlist's Slack part, as the remediations do (they also the Fix now decisions); the coordinator its state and the decisions", () => {
    const ledger = arnOf(single, "aws_s3_bucket", { bucket_prefix: "remedy-ledger-" });
    const readsOf = (name: string) =>
      (single.data.aws_iam_policy_document[`${name.replaceAll("-", "_")}_policy_doc`].statement as Json[])
        .filter((s) => (s.actions as string[]).includes("s3:GetObject"))
        .flatMap((s) => s.resources as string[]);
    const exemptions = [`${ledger}/${UNDO_EXEMPTION_PREFIX}*`, `${ledger}/allowlist/*`];
    expect(readsOf(FUNCTIONS.realtime.name)).toEqual(exemptions);
    for (const spec of FUNCTION_LIST.filter((s) => s.invokedByCoordinator)) {
      expect(readsOf(spec.name), spec.name).toEqual([...exemptions, `${ledger}/decisions/*`]);
    }
    expect(readsOf("coordinator")).toEqual([`${ledger}/state/*`, `${ledger}/decisions/*`]);
  });

  it("may send instructions to the remediation queue, as the Config rule function may", () => {
    const statements = single.data.aws_iam_policy_document.queue_policy_doc.statement as Json[];
    const senders = statements.find((s) => s.sid === "RuleSends")!;
    expect(senders.principals[0].identifiers).toEqual([
      "${aws_iam_role.config_rule_role.arn}",
      "${aws_iam_role.realtime_role.arn}",
    ]);
    const deny = statements.find((s) => s.sid === "OnlyRemedySends")!;
    expect(deny.condition[0].values).toBe(
      "${concat([aws_iam_role.config_rule_role.arn, aws_iam_role.realtime_role.arn], var.operator_principal_arns)}",
    );
  });

  it("outputs the queues' URLs and the rules' names", () => {
    expect(single.output.realtime_queue_url.value).toBe(ref("aws_sqs_queue", queue(single).id, "url"));
    expect(single.output.realtime_dlq_url.value).toBe(ref("aws_sqs_queue", dlq(single).id, "url"));
    expect(single.output.realtime_cloudtrail_rule_name.value).toBe(
      ref("aws_cloudwatch_event_rule", rule(single, "remedy-realtime-cloudtrail").id, "name"),
    );
    expect(single.output.realtime_security_hub_rule_name.value).toBe(
      ref("aws_cloudwatch_event_rule", rule(single, "remedy-realtime-security-hub").id, "name"),
    );
  });
});

describe("organisation mode: every account's and region's events reach the hub region's bus", () => {
  const hubBus = `arn:${PARTITION}:events:${REGION}:${ACCOUNT}:event-bus/default`;

  it("lets the organisation's accounts, and only them, put events on the hub region's default bus", () => {
    const permissions = Object.values(resources(org, "aws_cloudwatch_event_permission")) as Json[];
    expect(permissions.map(({ "//": _metadata, ...permission }) => permission)).toEqual([
      {
        statement_id: "RemedyOrganizationForwardsEvents",
        event_bus_name: "default",
        action: "events:PutEvents",
        principal: "*",
        condition: { key: "aws:PrincipalOrgID", type: "StringEquals", value: ORG_ID },
      },
    ]);
  });

  it("forwards, in every other region of the settings, the same patterns to the hub bus with a role", () => {
    const role = one(org, "aws_iam_role", { path: "/remedy/" });
    expect(role.name).toBe(`remedy-realtime-forward-${REGION}`);
    expect(JSON.parse(role.assume_role_policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "aws:SourceAccount": ACCOUNT },
            ArnLike: { "aws:SourceArn": `arn:${PARTITION}:events:*:${ACCOUNT}:rule/remedy-realtime-forward-*` },
          },
        },
      ],
    });
    const rolePolicy = one(org, "aws_iam_role_policy", { role: ref("aws_iam_role", role.id, "id") });
    expect(policyDocOf(org, rolePolicy.policy).statement).toEqual([
      { actions: ["events:PutEvents"], resources: [hubBus] },
    ]);

    for (const [name, pattern, stateOf] of [
      ["remedy-realtime-forward-cloudtrail", cloudTrailPattern(), "remedy-realtime-cloudtrail"],
      ["remedy-realtime-forward-security-hub", securityHubPattern(), "remedy-realtime-security-hub"],
    ] as const) {
      const rules = Object.entries(resources(org, "aws_cloudwatch_event_rule")).filter(
        ([, r]) => (r as Json).name === name,
      ) as [string, Json][];
      const regionOf = (r: Json) =>
        (org.provider.aws as Json[]).find((p) => r.provider === `aws.${p.alias}`)?.region as string;
      expect(rules.map(([, r]) => regionOf(r)).sort()).toEqual([...REGIONS].sort());
      for (const [id, r] of rules) {
        expect(JSON.parse(r.event_pattern)).toEqual(pattern);
        expect(r.state).toBe(rule(org, stateOf).state);
        // Not in the hub region, whichever of the settings' regions that is.
        for (const hub of REGIONS) {
          expect(evaluate(r.count, { region: hub }), `${regionOf(r)} with the hub in ${hub}`).toBe(
            hub === regionOf(r) ? 0 : 1,
          );
        }
        const target = one(org, "aws_cloudwatch_event_target", { rule: name, provider: r.provider });
        expect(target).toMatchObject({
          arn: hubBus,
          role_arn: ref("aws_iam_role", role.id, "arn"),
          count: r.count,
          depends_on: [`aws_cloudwatch_event_rule.${id}`],
        });
      }
    }
  });

  it("deploys the members' forwarding as a StackSet of its own, one instance per region, one after another", () => {
    const stackSet = one(org, "aws_cloudformation_stack_set", { name: "remedy-member-realtime" });
    expect(stackSet).toMatchObject({
      permission_model: "SERVICE_MANAGED",
      call_as: "DELEGATED_ADMIN",
      capabilities: ["CAPABILITY_NAMED_IAM"],
      auto_deployment: { enabled: true, retain_stacks_on_account_removal: false },
    });
    expect(stackSet.template_body).toBe(memberForwardingTemplateBody());
    expect(JSON.parse(stackSet.template_body)).toEqual(memberForwardingTemplate());
    expect(stackSet.parameters).toEqual({
      HubAccountId: ACCOUNT,
      HubRegion: REGION,
      CloudTrailRuleState: rule(org, "remedy-realtime-cloudtrail").state,
      SecurityHubRuleState: rule(org, "remedy-realtime-security-hub").state,
    });
    const instances = Object.entries(resources(org, "aws_cloudformation_stack_set_instance")).filter(
      ([, i]) => (i as Json).stack_set_name === ref("aws_cloudformation_stack_set", stackSet.id, "name"),
    ) as [string, Json][];
    expect(instances.map(([, i]) => i.stack_set_instance_region).sort()).toEqual([...REGIONS].sort());
    for (const [, instance] of instances) {
      expect(instance.deployment_targets.organizational_unit_ids).toEqual([
        "${data.aws_organizations_organization.organization.roots[0].id}",
      ]);
    }
    // A chain: the first depends on nothing, each other on the one before, so every instance waits its turn.
    const after = new Map(instances.map(([id, i]) => [id, i.depends_on as string[] | undefined]));
    const first = instances.filter(([, i]) => i.depends_on === undefined);
    expect(first).toHaveLength(1);
    const chain = [first[0]![0]];
    for (let next = chain[0]; next; ) {
      next = [...after].find(([, on]) => on?.[0] === `aws_cloudformation_stack_set_instance.${next}`)?.[0];
      if (next) chain.push(next);
    }
    expect(chain.sort()).toEqual(instances.map(([id]) => id).sort());
    for (const on of after.values()) expect((on ?? []).length).toBeLessThanOrEqual(1);
  });

  it("the members' template: the same patterns to the hub bus with a role, nothing in the hub account itself", () => {
    const template = memberForwardingTemplate() as Json;
    const hubBusJoin = {
      "Fn::Join": [
        "",
        [
          "arn:",
          { Ref: "AWS::Partition" },
          ":events:",
          { Ref: "HubRegion" },
          ":",
          { Ref: "HubAccountId" },
          ":event-bus/default",
        ],
      ],
    };
    expect(template.Conditions.NotTheHub).toEqual({
      "Fn::Not": [{ "Fn::Equals": [{ Ref: "AWS::AccountId" }, { Ref: "HubAccountId" }] }],
    });
    for (const [id, name, pattern, state] of [
      ["CloudTrailRule", "remedy-realtime-forward-cloudtrail", cloudTrailPattern(), "CloudTrailRuleState"],
      ["SecurityHubRule", "remedy-realtime-forward-security-hub", securityHubPattern(), "SecurityHubRuleState"],
    ] as const) {
      expect(template.Resources[id]).toEqual({
        Type: "AWS::Events::Rule",
        Condition: "NotTheHub",
        Properties: {
          Name: name,
          Description: expect.any(String),
          EventBusName: "default",
          EventPattern: pattern,
          State: { Ref: state },
          Targets: [{ Id: "remedy-hub-bus", Arn: hubBusJoin, RoleArn: { "Fn::GetAtt": ["ForwardRole", "Arn"] } }],
        },
      });
    }
    const role = template.Resources.ForwardRole;
    expect(role.Condition).toBe("NotTheHub");
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(1);
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal).toEqual({
      Service: "events.amazonaws.com",
    });
    expect(role.Properties.Policies).toEqual([
      {
        PolicyName: "remedy",
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: ["events:PutEvents"], Resource: [hubBusJoin] }],
        },
      },
    ]);
    // The hub account's instances create only the placeholder a stack needs.
    const unconditioned = Object.entries(template.Resources as Json).filter(([, r]) => !(r as Json).Condition);
    expect(unconditioned.map(([id, r]) => [id, (r as Json).Type])).toEqual([
      ["Placeholder", "AWS::CloudFormation::WaitConditionHandle"],
    ]);
    for (const parameter of Object.values(template.Parameters as Json)) expect(parameter.Default).toBeUndefined();
  });

  it("the member detect role also does the real-time function's reads, and trusts its hub role", () => {
    const template = memberRolesTemplate(memberRolesModel(settings)) as Json;
    const detect = Object.values(template.Resources as Json).find(
      (r: Json) => r.Properties.RoleName === "remedy-member-detect",
    ) as Json;
    const granted = new Set(
      (detect.Properties.Policies[0].PolicyDocument.Statement as Json[]).flatMap((s) => s.Action as string[]),
    );
    for (const command of realtimeMemberCommands) expect(granted, command).toContain(realtimePermissions[command]);
    const trust = detect.Properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Condition.ArnEquals["aws:PrincipalArn"]).toEqual([
      { Ref: "ConfigRuleRoleArn" },
      { Ref: "RealtimeRoleArn" },
    ]);
    expect(template.Parameters.RealtimeRoleArn).toMatchObject({ Type: "String" });
  });
});

describe("organisation mode: the accounts that apply their own stacks forward too", () => {
  const regionOf = (tf: Json, r: Json) =>
    (tf.provider.aws as Json[]).find((p) => r.provider === `aws.${p.alias}`)?.region as string;

  it("the hub's member_stack_variables give them the hub region and its rules' states", () => {
    expect(org.output.member_stack_variables.value).toMatchObject({
      hub_region: REGION,
      realtime_cloudtrail_rule_state: rule(org, "remedy-realtime-cloudtrail").state,
      realtime_security_hub_rule_state: rule(org, "remedy-realtime-security-hub").state,
    });
    for (const tf of [member, management]) {
      for (const [name, good, bad] of [
        ["hub_region", "eu-west-1", "eu-west"],
        ["realtime_cloudtrail_rule_state", "DISABLED", "disabled"],
        ["realtime_security_hub_rule_state", "ENABLED", "ON"],
      ] as const) {
        const variable = tf.variable[name];
        expect(variable.default, name).toBeUndefined();
        const condition = variable.validation[0].condition as string;
        // Terraform's regex and contains, as JavaScript.
        const check = (value: string) =>
          evaluate(
            condition
              .replace(
                /can\(regex\("(.*)", (var\.\w+)\)\)/,
                (_all, re: string, v: string) =>
                  `new RegExp(${JSON.stringify(re.replaceAll("\\\\", "\\"))}).test(${v})`,
              )
              .replace(/contains\((\[.*\]), (var\.\w+)\)/, "$1.includes($2)"),
            { [name]: value },
          );
        expect(check(good), `${name} = ${good}`).toBe(true);
        expect(check(bad), `${name} = ${bad}`).toBe(false);
      }
    }
  });

  it("the management account (which StackSets skip): the members' template as a stack in every region", () => {
    const stacks = (Object.values(resources(management, "aws_cloudformation_stack")) as Json[]).filter(
      (stack) => stack.name === "remedy-member-realtime",
    );
    expect(stacks.map((stack) => regionOf(management, stack)).sort()).toEqual([...REGIONS].sort());
    for (const stack of stacks) {
      expect(stack.template_body).toBe(memberForwardingTemplateBody());
      expect(stack.capabilities).toEqual(["CAPABILITY_NAMED_IAM"]);
      expect(stack.parameters).toEqual({
        HubAccountId: "${var.hub_account_id}",
        HubRegion: "${var.hub_region}",
        CloudTrailRuleState: "${var.realtime_cloudtrail_rule_state}",
        SecurityHubRuleState: "${var.realtime_security_hub_rule_state}",
      });
    }
    for (const provider of management.provider.aws as Json[]) {
      expect(provider.allowed_account_ids).toEqual(["${var.account_id}"]);
    }
  });

  it("remedy-member: the template's roles and rules as Terraform, per region, none in the hub account", () => {
    const hubBus =
      "arn:${data.aws_partition.partition.partition}:events:${var.hub_region}:${var.hub_account_id}:event-bus/default";
    const partition = "${data.aws_partition.partition.partition}";
    // The account_id variable (the provider enforces it): the count is known when Terraform plans.
    const account = "${var.account_id}";
    const forwardRoles = Object.entries(resources(member, "aws_iam_role")).filter(([id]) =>
      id.startsWith("forward_role_"),
    ) as [string, Json][];
    expect(forwardRoles.map(([, role]) => regionOf(member, role)).sort()).toEqual([...REGIONS].sort());
    const notTheHub = (count: string) => [
      evaluate(count, {
        account_id: "111111111111",
        hub_account_id: "111111111111",
      }),
      evaluate(count, {
        account_id: "222222222222",
        hub_account_id: "111111111111",
      }),
    ];
    for (const [id, role] of forwardRoles) {
      const region = regionOf(member, role);
      expect(role.name).toBe(`remedy-realtime-forward-${region}`);
      expect(role.path).toBe("/remedy/");
      expect(notTheHub(role.count), id).toEqual([0, 1]);
      expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "aws:SourceAccount": account },
            ArnLike: { "aws:SourceArn": `arn:${partition}:events:${region}:${account}:rule/remedy-realtime-forward-*` },
          },
        },
      ]);
      const policy = one(member, "aws_iam_role_policy", { role: role.name });
      expect(policy.provider).toBe(role.provider);
      expect(policy.count).toBe(role.count);
      expect(JSON.parse(policy.policy).Statement).toEqual([
        { Effect: "Allow", Action: ["events:PutEvents"], Resource: [hubBus] },
      ]);
      for (const [name, pattern, state] of [
        ["remedy-realtime-forward-cloudtrail", cloudTrailPattern(), "${var.realtime_cloudtrail_rule_state}"],
        ["remedy-realtime-forward-security-hub", securityHubPattern(), "${var.realtime_security_hub_rule_state}"],
      ] as const) {
        const forward = one(member, "aws_cloudwatch_event_rule", { name, provider: role.provider });
        expect(JSON.parse(forward.event_pattern)).toEqual(pattern);
        expect(forward.state).toBe(state);
        expect(forward.count).toBe(role.count);
        const target = one(member, "aws_cloudwatch_event_target", { rule: name, provider: role.provider });
        expect(target).toMatchObject({
          arn: hubBus,
          // The role's own ARN: its path and name (a counted role's attributes are a list).
          role_arn: `arn:${partition}:iam::${account}:role/remedy/${role.name}`,
          count: role.count,
          target_id: "remedy-hub-bus",
        });
        expect(target.depends_on).toEqual(
          expect.arrayContaining([`aws_cloudwatch_event_rule.${forward.id}`, `aws_iam_role_policy.${policy.id}`]),
        );
      }
    }
  });
});

describe("single-account mode", () => {
  it("has no forwarding: no bus permission, forwarding rules, forwarding role or members' StackSet", () => {
    expect(resources(single, "aws_cloudwatch_event_permission")).toEqual({});
    const names = Object.values(resources(single, "aws_cloudwatch_event_rule")).map((r: Json) => r.name);
    expect(names.sort()).toEqual([
      "remedy-coordinator-tick",
      "remedy-realtime-cloudtrail",
      "remedy-realtime-security-hub",
    ]);
    expect(JSON.stringify(single)).not.toContain("remedy-realtime-forward");
    expect(resources(single, "aws_cloudformation_stack_set")).toEqual({});
  });
});
