// Slack's interactivity endpoint (infra/interactions.ts), on the synthesized JSON: the HTTP API, its one route, its
// throttled stage and its permission (all only with a Slack app), the worker's asynchronous settings and the output;
// the endpoint's and the worker's roles (infra/iam.ts), the notifier's app secret and the ledger's decisions writer;
// organisation mode. The functions' code does not matter here: the stack is synthesized from stub zips.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNDO_EXEMPTION_PREFIX } from "../../contract/undo-exemption.ts";
import { FUNCTION_LIST, FUNCTIONS, grantedActions } from "../../functions/registry.ts";
import { OWN_BUCKET_WRITE_ACTIONS } from "../../infra/iam.ts";
import { INTERACTIONS_ROUTE, INTERACTIONS_THROTTLE, WORKER_ASYNC } from "../../infra/interactions.ts";
import { RemedyStack } from "../../infra/stack.ts";
import { type OrganizationSettings, parseOrganizationSettings } from "../../platform/organization.ts";
import { PROBLEM_SPECS, resourceSpec } from "../../problems/index.ts";
import { resourceUndos } from "../../problems/undo.ts";

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON, asserted on shape by shape
type Json = Record<string, any>;

const settings: OrganizationSettings = parseOrganizationSettings({
  regions: ["us-east-1", "eu-west-1"],
  default: { mode: "notify" },
});
const PARTITION = "${data.aws_partition.partition.partition}";
const ACCOUNT = "${data.aws_caller_identity.account.account_id}";
const REGION = "${var.region}";
const LEDGER = "${aws_s3_bucket.ledger_bucket_CFD27338.arn}";
const APP_SECRET = `\${startswith(var.slack_app_secret, "arn:") ? var.slack_app_secret : "arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:\${var.slack_app_secret}-??????"}`;

let dir: string;
let single: Json;
let org: Json;

function synthesize(organization?: OrganizationSettings): Json {
  const outdir = mkdtempSync(join(dir, "out-"));
  const app = new App({ outdir });
  new RemedyStack(app, "remedy", { distDir: join(dir, "dist"), ...(organization ? { organization } : {}) });
  app.synth();
  return JSON.parse(readFileSync(join(outdir, "stacks", "remedy", "cdk.tf.json"), "utf8"));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "remedy-interactions-synth-"));
  mkdirSync(join(dir, "dist"));
  // The stack only hashes each zip: any bytes do.
  for (const spec of FUNCTION_LIST) writeFileSync(join(dir, "dist", `${spec.name}.zip`), `stub ${spec.name}`);
  single = synthesize();
  org = synthesize(settings);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const resources = (tf: Json, type: string): Json => tf.resource?.[type] ?? {};
/** The one resource of the type in the endpoint's construct (its logical ids carry a hash). */
function endpoint(tf: Json, type: string, id: string): Json & { id: string } {
  const found = Object.entries(resources(tf, type)).filter(([key]) => key.startsWith(`slack_interactions_${id}_`));
  expect(
    found.map(([key]) => key),
    `${type} ${id}`,
  ).toHaveLength(1);
  return { id: found[0]![0], ...(found[0]![1] as Json) };
}
const statementsOf = (tf: Json, name: string): Json[] =>
  tf.data.aws_iam_policy_document[`${name.replaceAll("-", "_")}_policy_doc`].statement;
const allows = (tf: Json, name: string) => statementsOf(tf, name).filter((s) => s.effect !== "Deny");
/** Where the role's one Allow statement holding the action grants it. */
function scope(tf: Json, name: string, action: string): { resources: string[]; condition?: Json[] } {
  const found = allows(tf, name).filter((s) => (s.actions as string[]).includes(action));
  expect(found, `${name} ${action}`).toHaveLength(1);
  return { resources: found[0]!.resources, ...(found[0]!.condition ? { condition: found[0]!.condition } : {}) };
}
const actionsOf = (tf: Json, name: string) =>
  [...new Set(allows(tf, name).flatMap((s) => s.actions as string[]))].sort();
/** The security groups' undo's writes: they create security-group rules (with tags). */
const SG_AUTHORIZE = ["ec2:AuthorizeSecurityGroupIngress", "ec2:AuthorizeSecurityGroupEgress"];
/** Reads only: everything else a role may do changes something (or, for lambda:InvokeFunction, makes it happen). */
const READ_ONLY = /^[a-z0-9-]+:(Get|List|Describe|Head|Lookup|Verify)/;

/** Evaluates a `${cond ? 1 : 0}` count with the variable's value (the expressions are JavaScript once replaced). */
function evaluateCount(expression: string, slackAppSecret: string): number {
  const body = /^\$\{(.*)\}$/s.exec(expression)![1]!;
  const js = body
    .replaceAll("length(var.slack_app_secret)", String(slackAppSecret.length))
    .replaceAll("var.slack_app_secret", JSON.stringify(slackAppSecret));
  expect(js, "only the Slack app's secret decides").not.toMatch(/\bvar\.|undefined/);
  return new Function(`return (${js});`)();
}

describe("the interactivity endpoint (default variables)", () => {
  const parts = [
    ["aws_apigatewayv2_api", "api"],
    ["aws_apigatewayv2_integration", "integration"],
    ["aws_apigatewayv2_route", "route"],
    ["aws_apigatewayv2_stage", "stage"],
    ["aws_lambda_permission", "invoke"],
  ] as const;

  it("exists only with a Slack app: every part is counted by slack_app_secret being non-empty", () => {
    expect(single.variable.slack_app_secret).toMatchObject({ type: "string", default: "" });
    const counts = parts.map(([type, id]) => endpoint(single, type, id).count as string);
    expect(new Set(counts).size).toBe(1);
    const count = counts[0]!;
    expect(count).toBe("${(length(var.slack_app_secret) >= 1) ? 1 : 0}");
    expect(evaluateCount(count, single.variable.slack_app_secret.default)).toBe(0);
    expect(evaluateCount(count, "remedy/slack-app")).toBe(1);
    expect(evaluateCount(count, "arn:aws:secretsmanager:us-east-1:123456789012:secret:remedy/slack-app-AbCdEf")).toBe(
      1,
    );
    // One API, one integration, one route, one stage, one permission: nothing else fronts the function.
    for (const [type] of parts.slice(0, 4)) expect(Object.keys(resources(single, type)), type).toHaveLength(1);
  });

  it("routes POST /slack/interactions only, through an AWS_PROXY integration (payload 2.0) to the interactions function", () => {
    const api = endpoint(single, "aws_apigatewayv2_api", "api");
    expect(api).toMatchObject({ protocol_type: "HTTP", name: "remedy-slack-interactions" });
    const apiId = `\${one(aws_apigatewayv2_api.${api.id}[*].id)}`;
    const integration = endpoint(single, "aws_apigatewayv2_integration", "integration");
    expect(integration).toMatchObject({
      api_id: apiId,
      integration_type: "AWS_PROXY",
      payload_format_version: "2.0",
      integration_uri: "${aws_lambda_function.interactions.invoke_arn}",
    });
    const route = endpoint(single, "aws_apigatewayv2_route", "route");
    expect(INTERACTIONS_ROUTE).toBe("POST /slack/interactions");
    expect(route).toMatchObject({
      api_id: apiId,
      route_key: "POST /slack/interactions",
      target: `integrations/\${one(aws_apigatewayv2_integration.${integration.id}[*].id)}`,
    });
    // No authorizer: the function verifies Slack's signature itself.
    expect(route.authorization_type ?? "NONE").toBe("NONE");
  });

  it("deploys the $default stage automatically, throttled", () => {
    const api = endpoint(single, "aws_apigatewayv2_api", "api");
    expect(endpoint(single, "aws_apigatewayv2_stage", "stage")).toMatchObject({
      api_id: `\${one(aws_apigatewayv2_api.${api.id}[*].id)}`,
      name: "$default",
      auto_deploy: true,
      default_route_settings: {
        throttling_rate_limit: INTERACTIONS_THROTTLE.rateLimit,
        throttling_burst_limit: INTERACTIONS_THROTTLE.burstLimit,
      },
    });
  });

  it("lets API Gateway invoke the function from this API's one route only", () => {
    const api = endpoint(single, "aws_apigatewayv2_api", "api");
    const permission = endpoint(single, "aws_lambda_permission", "invoke");
    expect(permission).toMatchObject({
      action: "lambda:InvokeFunction",
      function_name: "${aws_lambda_function.interactions.function_name}",
      principal: "apigateway.amazonaws.com",
    });
    expect(permission.source_arn).toBe(
      `\${one(aws_apigatewayv2_api.${api.id}[*].execution_arn)}/*/POST/slack/interactions`,
    );
    // The route key's method and path, any stage.
    expect(permission.source_arn.endsWith(`/*/${INTERACTIONS_ROUTE.replace(" ", "")}`)).toBe(true);
    // Nobody else may invoke the interactions function (the worker only through its role: below).
    const others = (Object.values(resources(single, "aws_lambda_permission")) as Json[]).filter(
      (p) => p.function_name === "${aws_lambda_function.interactions.function_name}",
    );
    expect(others).toHaveLength(1);
    expect(
      (Object.values(resources(single, "aws_lambda_permission")) as Json[]).filter(
        (p) => p.function_name === "${aws_lambda_function.interactions_worker.function_name}",
      ),
    ).toEqual([]);
    expect(resources(single, "aws_lambda_function_url")).toEqual({});
  });

  it("retries the worker's events twice and drops them after 15 minutes, with or without a Slack app", () => {
    const config = endpoint(single, "aws_lambda_function_event_invoke_config", "worker_async");
    expect(WORKER_ASYNC).toEqual({ maximumRetryAttempts: 2, maximumEventAgeInSeconds: 900 });
    expect(config).toMatchObject({
      function_name: "${aws_lambda_function.interactions_worker.function_name}",
      maximum_retry_attempts: 2,
      maximum_event_age_in_seconds: 900,
    });
    expect(config.count).toBeUndefined();
  });

  it("outputs the interactivity URL (the API's endpoint and the route's path; empty without the API)", () => {
    const api = endpoint(single, "aws_apigatewayv2_api", "api");
    expect(single.output.slack_interactivity_url.value).toBe(
      `\${join("", formatlist("%s/slack/interactions", aws_apigatewayv2_api.${api.id}[*].api_endpoint))}`,
    );
  });
});

describe("the interactions role: records decisions and hands them to the worker, nothing else", () => {
  it("grants exactly grantedActions(interactions), no deny needed", () => {
    expect(actionsOf(single, "interactions")).toEqual(grantedActions(FUNCTIONS.interactions));
    expect(statementsOf(single, "interactions").every((s) => s.effect === undefined)).toBe(true);
  });

  it("changes nothing but decisions/* and invokes nothing but the worker", () => {
    const changing = actionsOf(single, "interactions").filter((action) => !READ_ONLY.test(action));
    expect(changing).toEqual(["lambda:InvokeFunction", "s3:DeleteObject", "s3:PutObject"]);
    expect(scope(single, "interactions", "s3:PutObject")).toEqual({ resources: [`${LEDGER}/decisions/*`] });
    // Withdrawing an Exempt or Undo whose worker could not be started.
    expect(scope(single, "interactions", "s3:DeleteObject")).toEqual({ resources: [`${LEDGER}/decisions/*`] });
    expect(scope(single, "interactions", "lambda:InvokeFunction")).toEqual({
      resources: [`arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:remedy-interactions-worker`],
    });
  });

  it("reads the Slack app's secret only (not the routing secret) and the ledger's pending/, actions/ and decisions/", () => {
    expect(scope(single, "interactions", "secretsmanager:GetSecretValue")).toEqual({ resources: [APP_SECRET] });
    expect(JSON.stringify(statementsOf(single, "interactions"))).not.toContain("var.slack_secret");
    expect(scope(single, "interactions", "s3:GetObject")).toEqual({
      resources: [`${LEDGER}/pending/*`, `${LEDGER}/actions/*`, `${LEDGER}/decisions/*`],
    });
    expect(scope(single, "interactions", "s3:ListBucket")).toEqual({ resources: [LEDGER] });
  });

  it("is told the worker's name, the one its role may invoke", () => {
    const env = resources(single, "aws_lambda_function").interactions.environment.variables;
    expect(env.REMEDY_INTERACTIONS_WORKER).toBe("remedy-interactions-worker");
    expect(resources(single, "aws_lambda_function").interactions_worker.function_name).toBe(
      env.REMEDY_INTERACTIONS_WORKER,
    );
    expect(scope(single, "interactions", "lambda:InvokeFunction").resources[0]).toMatch(
      new RegExp(`:function:${env.REMEDY_INTERACTIONS_WORKER}$`),
    );
    expect(env.REMEDY_SLACK_APP_SECRET).toBe("${var.slack_app_secret}");
  });
});

describe("the interactions-worker role: undoes, exempts and fixes now, each where it belongs", () => {
  const refs = { partition: PARTITION, region: REGION, account: ACCOUNT };

  it("grants exactly grantedActions(interactions-worker)", () => {
    expect(actionsOf(single, "interactions-worker")).toEqual(grantedActions(FUNCTIONS["interactions-worker"]));
  });

  it("grants each undo's actions on its resource type's scope, as the type's remediation has them", () => {
    let compared = 0;
    for (const { undo, resourceType } of resourceUndos()) {
      const type = resourceSpec(resourceType)!;
      const fixes = PROBLEM_SPECS.filter((spec) => spec.resourceType === resourceType);
      const iam = type.iamScope(refs);
      for (const action of new Set([...(Object.values(undo.permissions) as string[]), ...undo.impliedActions])) {
        const granted = scope(single, "interactions-worker", action);
        // The new rules' tags (below) are the security groups' undo's alone.
        if (action === "ec2:CreateTags" || SG_AUTHORIZE.includes(action)) {
          expect(resourceType, action).toBe("AWS::EC2::SecurityGroup");
          continue;
        }
        const unscoped =
          (type.reads.unscopedActions as readonly string[]).includes(action) ||
          fixes.some((spec) => (spec.fix.unscopedActions as readonly string[]).includes(action));
        expect(granted, `${resourceType} ${action}`).toEqual(
          unscoped
            ? { resources: ["*"] }
            : { resources: iam.resources, ...(iam.conditions ? { condition: iam.conditions } : {}) },
        );
        if (!unscoped) expect(granted.resources, `${resourceType} ${action}`).not.toContain("*");
        // Where the type's remediation sends the same action, it has it on the same resources.
        for (const remediation of new Set(fixes.map((spec) => spec.remediation))) {
          if (!grantedActions(FUNCTIONS[remediation]).includes(action)) continue;
          expect(granted, `${resourceType} ${action} (${remediation})`).toEqual(scope(single, remediation, action));
          compared += 1;
        }
      }
    }
    expect(compared).toBeGreaterThan(0);
    // The undos' writes (problems/<folder>/undo.ts).
    const types = {
      "s3:PutBucketPolicy": "AWS::S3::Bucket",
      "rds:ModifyDBSnapshotAttribute": "AWS::RDS::DBSnapshot",
      "rds:ModifyDBClusterSnapshotAttribute": "AWS::RDS::DBClusterSnapshot",
      "ec2:ModifySnapshotAttribute": "AWS::EC2::Snapshot",
    };
    for (const [action, type] of Object.entries(types)) {
      const iam = resourceSpec(type)!.iamScope(refs);
      expect(scope(single, "interactions-worker", action).resources, action).toEqual(iam.resources);
    }
    // The account's Block Public Access has no resource-level permissions: "*", as remediate-s3-account has it.
    expect(scope(single, "interactions-worker", "s3:PutAccountPublicAccessBlock")).toEqual({ resources: ["*"] });
    expect(scope(single, "remediate-s3-account", "s3:PutAccountPublicAccessBlock")).toEqual({ resources: ["*"] });
  });

  it("re-adds security-group rules with their tags: on the account's groups and new rules, tagging only while it adds", () => {
    const groups = resourceSpec("AWS::EC2::SecurityGroup")!.iamScope(refs).resources;
    const newRules = `arn:${PARTITION}:ec2:${REGION}:${ACCOUNT}:security-group-rule/*`;
    for (const action of SG_AUTHORIZE) {
      expect(scope(single, "interactions-worker", action), action).toEqual({ resources: [...groups, newRules] });
    }
    expect(scope(single, "interactions-worker", "ec2:CreateTags")).toEqual({
      resources: [newRules],
      condition: [
        {
          test: "StringEquals",
          variable: "ec2:CreateAction",
          values: ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"],
        },
      ],
    });
  });

  it("is denied changing Remedy's own and the listed buckets, as the S3 remediation is", () => {
    const granted = grantedActions(FUNCTIONS["interactions-worker"]);
    const writes = OWN_BUCKET_WRITE_ACTIONS.filter((action) => granted.includes(action));
    expect(writes.length).toBeGreaterThan(0);
    const denies = statementsOf(single, "interactions-worker").filter((s) => s.effect === "Deny");
    const s3Deny = statementsOf(single, "remediate-s3").find((s) => s.effect === "Deny")!;
    expect(denies).toEqual([{ effect: "Deny", actions: writes, resources: s3Deny.resources }]);
  });

  it("verifies ledger MACs with the ledger key and never signs", () => {
    expect(scope(single, "interactions-worker", "kms:VerifyMac")).toEqual({
      resources: ["${aws_kms_key.ledger_mac_key.arn}"],
    });
    expect(actionsOf(single, "interactions-worker")).not.toContain("kms:GenerateMac");
    expect(resources(single, "aws_kms_key").ledger_mac_key.policy).not.toContain("interactions");
  });

  it("writes only the allowlist's Slack part, undo records and undo exemptions; deletes only decisions (to withdraw one it could not carry out)", () => {
    const written = {
      resources: [`${LEDGER}/allowlist/*`, `${LEDGER}/actions/*`, `${LEDGER}/${UNDO_EXEMPTION_PREFIX}*`],
    };
    expect(scope(single, "interactions-worker", "s3:PutObject")).toEqual(written);
    expect(UNDO_EXEMPTION_PREFIX).toBe("exemptions/");
    // A delete leaves a delete marker only (the ledger is versioned; no s3:DeleteObjectVersion).
    expect(actionsOf(single, "interactions-worker").filter((action) => /Delete/.test(action))).toEqual([
      "s3:DeleteObject",
    ]);
    expect(scope(single, "interactions-worker", "s3:DeleteObject")).toEqual({ resources: [`${LEDGER}/decisions/*`] });
  });

  it("only changes instructions' visibility on the remediation queue; publishes reports; assumes no role", () => {
    const actions = actionsOf(single, "interactions-worker");
    expect(actions.filter((action) => action.startsWith("sqs:"))).toEqual(["sqs:ChangeMessageVisibility"]);
    expect(scope(single, "interactions-worker", "sqs:ChangeMessageVisibility")).toEqual({
      resources: ["${aws_sqs_queue.queue.arn}"],
    });
    expect(scope(single, "interactions-worker", "sns:Publish")).toEqual({
      resources: ["${aws_sns_topic.report_topic.arn}"],
    });
    expect(scope(single, "interactions-worker", "secretsmanager:GetSecretValue")).toEqual({ resources: [APP_SECRET] });
    expect(actions.filter((action) => action.startsWith("sts:") || action.startsWith("lambda:"))).toEqual([]);
  });
});

describe("around the endpoint", () => {
  it("lets the notifier read the routing secret and the Slack app's secret (its bot token)", () => {
    const routing = `\${startswith(var.slack_secret, "arn:") ? var.slack_secret : "arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:\${trimprefix(trimprefix(var.slack_secret, "ssm:"), "/")}-??????"}`;
    expect(scope(single, "notifier", "secretsmanager:GetSecretValue")).toEqual({ resources: [routing, APP_SECRET] });
    expect(resources(single, "aws_lambda_function").notifier.environment.variables.REMEDY_SLACK_APP_SECRET).toBe(
      "${var.slack_app_secret}",
    );
  });

  it("lets only the interactions roles write decisions (the endpoint records, both withdraw; their roles' own names)", () => {
    const doc = Object.entries(single.data.aws_iam_policy_document as Json).find(([id]) =>
      id.startsWith("ledger_policy_doc"),
    )![1];
    const decisions = (doc.statement as Json[]).find(
      (s) => String(s.sid).startsWith("OnlyWritersOf") && s.resources[0] === `${LEDGER}/decisions/*`,
    )!;
    const roles = resources(single, "aws_iam_role");
    expect(decisions.condition[0].values).toEqual(
      [roles.interactions_role, roles.interactions_worker_role].map(
        (role) => `arn:${PARTITION}:iam::${ACCOUNT}:role/${role.name}`,
      ),
    );
  });
});

describe("organisation mode", () => {
  it("builds the same endpoint", () => {
    for (const type of ["aws_apigatewayv2_api", "aws_apigatewayv2_route", "aws_apigatewayv2_stage"]) {
      const [id] = Object.keys(resources(single, type));
      expect(resources(org, type)[id!], type).toEqual(resources(single, type)[id!]);
    }
    expect(endpoint(org, "aws_lambda_function_event_invoke_config", "worker_async")).toEqual(
      endpoint(single, "aws_lambda_function_event_invoke_config", "worker_async"),
    );
  });

  it("gives the endpoint and the worker no organisation permissions: their roles are as in a single account", () => {
    for (const name of ["interactions", "interactions-worker"] as const) {
      expect(grantedActions(FUNCTIONS[name], "organization")).toEqual(grantedActions(FUNCTIONS[name]));
      expect(actionsOf(org, name)).toEqual(grantedActions(FUNCTIONS[name], "organization"));
      const actions = actionsOf(org, name);
      expect(
        actions.filter((action) => /^(sts|organizations):/.test(action)),
        name,
      ).toEqual([]);
      expect(statementsOf(org, name)).toEqual(statementsOf(single, name));
      expect(JSON.stringify(statementsOf(org, name))).not.toContain("aws_organizations_organization");
    }
  });

  it("lets the worker assume no member role: no trust policy allows it, the undo role's denies it", () => {
    const stackSet = (Object.values(resources(org, "aws_cloudformation_stack_set")) as Json[]).find(
      (s) => s.name === "remedy-member-roles",
    )!;
    expect(stackSet.parameters.InteractionsWorkerRoleArn).toBe("${aws_iam_role.interactions_worker_role.arn}");
    const template = JSON.parse(stackSet.template_body);
    const roles = (Object.values(template.Resources) as Json[]).filter((r) => r.Type === "AWS::IAM::Role");
    expect(roles.length).toBeGreaterThan(0);
    const worker = { Ref: "InteractionsWorkerRoleArn" };
    for (const role of roles) {
      const trust = role.Properties.AssumeRolePolicyDocument.Statement as Json[];
      for (const statement of trust.filter((s) => s.Effect === "Allow")) {
        expect(JSON.stringify(statement), role.Properties.RoleName).not.toContain(JSON.stringify(worker));
      }
    }
    const undo = roles.find((r) => r.Properties.RoleName === "remedy-member-undo")!;
    const deny = (undo.Properties.AssumeRolePolicyDocument.Statement as Json[]).find((s) => s.Effect === "Deny")!;
    expect(deny.Condition.ArnEquals["aws:PrincipalArn"]).toContainEqual(worker);
  });
});
