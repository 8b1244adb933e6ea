// Organisation mode in the stack (infra/): the settings file as the synth-time switch, the hub's grants and per-region
// detection, and the member roles — one model (infra/member-roles.ts) rendered as the StackSet's CloudFormation
// template and as the remedy-member Terraform stack. Checked on the synthesized JSON: moto enforces neither trust
// policies nor organisation Config rules.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RULES } from "../../detection/rules.ts";
import { configRuleMemberCommands, configRulePermissions } from "../../functions/config-rule/permissions.ts";
import { realtimeMemberCommands, realtimePermissions } from "../../functions/realtime/permissions.ts";
import {
  FUNCTION_LIST,
  FUNCTION_NAMES,
  FUNCTIONS,
  type FunctionName,
  grantedActions,
} from "../../functions/registry.ts";
import { backendOf } from "../../infra/backend.ts";
import { grantsFor, type PolicyRefs } from "../../infra/iam.ts";
import { hubRoleParameter, memberActions, memberRolesModel, memberRolesTemplate } from "../../infra/member-roles.ts";
import { RemedyManagementAccountStack, RemedyMemberStack } from "../../infra/member-stacks.ts";
import { OrganizationFileError, organizationSettingsFromFile } from "../../infra/organization.ts";
import { RemedyStack } from "../../infra/stack.ts";
import { MEMBER_ROLE_PERMISSIONS } from "../../platform/member-roles.ts";
import { type OrganizationSettings, parseOrganizationSettings } from "../../platform/organization.ts";
import { PROBLEM_SPECS, problemSpec } from "../../problems/index.ts";
import { resourceUndos } from "../../problems/undo.ts";
import { sharedBundles } from "../helpers/bundles.ts";

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON and templates, asserted on shape by shape
type Json = Record<string, any>;

const ROOT = new URL("../../", import.meta.url).pathname;
const REGIONS = ["us-east-1", "eu-west-1"];
const EXCLUDED = "444444444444";
const SETTINGS_JSON = {
  regions: REGIONS,
  excludedAccounts: [EXCLUDED],
  externalId: "remedy-test-ext-1",
  default: { mode: "notify" },
  organizationalUnits: { "ou-ab12-11111111": { mode: "enforce", gracePeriodMinutes: 15 } },
  accounts: { "222222222222": { mode: "off" } },
};
const settings: OrganizationSettings = parseOrganizationSettings(SETTINGS_JSON);
const { externalId: _dropped, ...withoutExternalId } = SETTINGS_JSON;
const settingsWithoutExternalId = parseOrganizationSettings(withoutExternalId);

const PARTITION = "${data.aws_partition.partition.partition}";
const ACCOUNT = "${data.aws_caller_identity.account.account_id}";
const ORG_ID = "${data.aws_organizations_organization.organization.id}";

let dist: string;
let single: Json;
let org: Json;
let member: Json;
let management: Json;
let memberWithoutExternalId: Json;

/** Synthesizes the stacks `build` adds; returns each one's cdk.tf.json by stack name. */
function synthesize(build: (app: App) => void): Record<string, Json> {
  const dir = mkdtempSync(join(tmpdir(), "remedy-org-synth-"));
  try {
    const app = new App({ outdir: dir });
    build(app);
    app.synth();
    const stacks = join(dir, "stacks");
    return Object.fromEntries(
      readdirSync(stacks).map((name) => [name, JSON.parse(readFileSync(join(stacks, name, "cdk.tf.json"), "utf8"))]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

beforeAll(async () => {
  ({ out: dist } = await sharedBundles());
  single = synthesize((app) => new RemedyStack(app, "remedy", { distDir: dist })).remedy!;
  const synthesized = synthesize((app) => {
    new RemedyStack(app, "remedy", { distDir: dist, organization: settings });
    new RemedyMemberStack(app, "remedy-member", { settings });
    new RemedyManagementAccountStack(app, "remedy-management-account", { settings });
  });
  org = synthesized.remedy!;
  member = synthesized["remedy-member"]!;
  management = synthesized["remedy-management-account"]!;
  memberWithoutExternalId = synthesize(
    (app) => new RemedyMemberStack(app, "remedy-member", { settings: settingsWithoutExternalId }),
  )["remedy-member"]!;
}, 90_000);

const resources = (tf: Json, type: string): Json => tf.resource?.[type] ?? {};
const policyDoc = (tf: Json, id: string): Json => tf.data.aws_iam_policy_document[id];
const fnId = (name: string) => name.replaceAll("-", "_");
const regionId = (region: string) => region.replaceAll("-", "_");
const only = <T>(values: Record<string, T>): T => {
  const list = Object.values(values);
  expect(list).toHaveLength(1);
  return list[0]!;
};
/** `${(var.region == "eu-west-1") ? 0 : 1}` evaluated for a hub region. */
const evaluateCount = (expression: string, hubRegion: string) => {
  const match = /^\$\{\(var\.region == "([a-z0-9-]+)"\) \? (\d) : (\d)\}$/.exec(expression);
  expect(match, expression).not.toBeNull();
  return Number(hubRegion === match![1] ? match![2] : match![3]);
};

// -- The switch ----------------------------------------------------------------------------------------------

describe("the settings file chooses the mode at synth time", () => {
  const dirs: string[] = [];
  const dirWith = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), "remedy-org-file-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("without remedy.organization.json: single-account", () => {
    expect(organizationSettingsFromFile(dirWith({}), {})).toBeUndefined();
  });

  it("reads remedy.organization.json at the root, or the file REMEDY_ORGANIZATION_FILE names", () => {
    const dir = dirWith({ "remedy.organization.json": JSON.stringify(SETTINGS_JSON) });
    expect(organizationSettingsFromFile(dir, {})).toEqual(settings);
    const other = dirWith({ "org.json": JSON.stringify({ regions: ["ap-southeast-2"] }) });
    expect(organizationSettingsFromFile(other, { REMEDY_ORGANIZATION_FILE: "org.json" })?.regions).toEqual([
      "ap-southeast-2",
    ]);
    expect(organizationSettingsFromFile(dir, { REMEDY_ORGANIZATION_FILE: join(other, "org.json") })?.regions).toEqual([
      "ap-southeast-2",
    ]);
  });

  it("a named file that is missing, a file that is not JSON, or bad settings stop the synth in one sentence", () => {
    const sentence = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        expect(error).toBeInstanceOf(OrganizationFileError);
        const message = (error as Error).message;
        expect(message).not.toContain("\n");
        expect(message).toMatch(/\.$/);
        return message;
      }
      throw new Error("expected the settings file to be refused");
    };
    const empty = dirWith({});
    expect(sentence(() => organizationSettingsFromFile(empty, { REMEDY_ORGANIZATION_FILE: "gone.json" }))).toMatch(
      /REMEDY_ORGANIZATION_FILE names .*gone\.json, which does not exist\.$/,
    );
    const broken = dirWith({ "remedy.organization.json": '{"regions": ["us-east-1"],' });
    expect(sentence(() => organizationSettingsFromFile(broken, {}))).toMatch(
      /remedy\.organization\.json is not valid JSON/,
    );
    const badRegion = dirWith({ "remedy.organization.json": JSON.stringify({ regions: ["us-east-1", "mars-1"] }) });
    expect(sentence(() => organizationSettingsFromFile(badRegion, {}))).toMatch(
      /remedy\.organization\.json: regions\.1: must be an AWS region\.$/,
    );
    const badMode = dirWith({
      "remedy.organization.json": JSON.stringify({
        regions: ["us-east-1"],
        accounts: { "222222222222": { mode: "on" } },
      }),
    });
    expect(sentence(() => organizationSettingsFromFile(badMode, {}))).toContain("accounts.222222222222.mode");
    const unknown = dirWith({ "remedy.organization.json": JSON.stringify({ regions: ["us-east-1"], region: "x" }) });
    expect(sentence(() => organizationSettingsFromFile(unknown, {}))).toContain("region");
  });

  it("npm run synth stops on a bad file, naming the field, before building or writing anything", () => {
    const bad = dirWith({ "bad.json": JSON.stringify({ regions: ["us-east-1"], excludedAccounts: ["12345"] }) });
    const ran = spawnSync(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), join(ROOT, "main.ts")], {
      cwd: bad,
      env: { ...process.env, REMEDY_ORGANIZATION_FILE: "bad.json", REMEDY_SKIP_BUILD: "1" },
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(ran.status).toBe(1);
    expect(ran.stderr.trim()).toBe(
      `synth stopped: ${join(bad, "bad.json")}: excludedAccounts.0: must be a 12-digit account id.`,
    );
    expect(ran.stdout).toBe("");
  }, 60_000);

  it("remedy.organization.json.example is valid settings", () => {
    const example = JSON.parse(readFileSync(join(ROOT, "remedy.organization.json.example"), "utf8"));
    const parsed = parseOrganizationSettings(example);
    expect(parsed.regions.length).toBeGreaterThanOrEqual(2);
    expect(Object.keys(parsed.organizationalUnits).length).toBeGreaterThan(0);
  });
});

describe("the mode variable and the outputs the CLI reads", () => {
  const validate = (tf: Json, value: string) =>
    (tf.variable.mode.validation[0].condition as string).replace(
      /^\$\{var\.mode == "(\w+)"\}$/,
      (_all, synthesized: string) => String(value === synthesized),
    );

  it("defaults to the synthesized mode, and refuses the other one with what to do", () => {
    expect(single.variable.mode).toMatchObject({ type: "string", default: "account" });
    expect(org.variable.mode).toMatchObject({ type: "string", default: "organization" });
    expect(validate(single, "account")).toBe("true");
    expect(validate(single, "organization")).toBe("false");
    expect(validate(org, "organization")).toBe("true");
    expect(validate(org, "account")).toBe("false");
    expect(single.variable.mode.validation[0].error_message).toMatch(/add remedy\.organization\.json.*synth again/);
    expect(org.variable.mode.validation[0].error_message).toMatch(/remove that file.*synth again/);
  });

  it("outputs mode in both modes, and the organisation's regions and settings in organisation mode", () => {
    expect(single.output.mode.value).toBe("${var.mode}");
    expect(org.output.mode.value).toBe("${var.mode}");
    expect(single.output.organization_regions).toBeUndefined();
    expect(single.output.organization_settings).toBeUndefined();
    expect(JSON.parse(org.output.organization_regions.value)).toEqual(REGIONS);
    const canonical = org.output.organization_settings.value as string;
    expect(parseOrganizationSettings(JSON.parse(canonical))).toEqual(settings);
    expect(JSON.parse(canonical).externalId).toBe("remedy-test-ext-1");
  });
});

// -- The hub ---------------------------------------------------------------------------------------------------

/** APIs without resource-level permissions, each reviewed: the only actions any Remedy role holds on "*". */
const NO_RESOURCE_LEVEL_PERMISSIONS: Record<string, string> = {
  "config:PutEvaluations": "Config evaluation API: no resource types in IAM",
  "config:GetResourceConfigHistory": "Config item history: no resource types in IAM",
  "config:ListDiscoveredResources": "Config listing: no resource types in IAM",
  "config:BatchGetResourceConfig": "Config batch read: no resource types in IAM",
  "config:GetComplianceDetailsByResource": "Config per-resource compliance: no resource types in IAM",
  "cloudtrail:LookupEvents": "CloudTrail event history: no resource types in IAM",
  "s3:GetAccountPublicAccessBlock": "account-level setting (S3 Control): no resource",
  "ec2:DescribeSecurityGroups": "EC2 Describe*: no resource-level permissions",
  "ec2:DescribeSecurityGroupRules": "EC2 Describe*: no resource-level permissions",
  "organizations:ListAccounts": "the organisation's account list: only the root would scope it",
  "organizations:ListParents": "an account's OU path: no narrower resource worth having",
  "config:DescribeConfigRules": "Config's rule listing: not rule-scoped",
  "ec2:DescribeSnapshots": "EC2 Describe*: no resource-level permissions",
  "ec2:DescribeSnapshotAttribute": "EC2 Describe*: no resource-level permissions",
  "ec2:DescribeNetworkInterfaces": "EC2 Describe*: no resource-level permissions",
  "s3:PutAccountPublicAccessBlock": "account-level setting (S3 Control): no resource",
  "s3:ListAllMyBuckets": "the account's bucket listing: no resource",
};

describe("the hub (organisation mode)", () => {
  it("gives every function the canonical settings in REMEDY_ORGANIZATION (single-account: empty)", () => {
    for (const spec of FUNCTION_LIST) {
      expect(spec.env, spec.name).toContain("REMEDY_ORGANIZATION");
      const env = resources(org, "aws_lambda_function")[fnId(spec.name)].environment.variables;
      expect(parseOrganizationSettings(JSON.parse(env.REMEDY_ORGANIZATION)), spec.name).toEqual(settings);
      expect(resources(single, "aws_lambda_function")[fnId(spec.name)].environment.variables.REMEDY_ORGANIZATION).toBe(
        "",
      );
    }
  });

  for (const spec of FUNCTION_LIST) {
    it(`${spec.name}: grants exactly its organisation-mode actions, env complete, logs its own`, () => {
      const statements = policyDoc(org, `${fnId(spec.name)}_policy_doc`).statement as Json[];
      const allowed = statements.filter((s) => s.effect !== "Deny");
      expect([...new Set(allowed.flatMap((s) => s.actions as string[]))].sort()).toEqual(
        grantedActions(spec, "organization"),
      );
      const fn = resources(org, "aws_lambda_function")[fnId(spec.name)];
      expect(
        Object.keys(fn.environment.variables)
          .filter((key) => key.startsWith("REMEDY_"))
          .sort(),
      ).toEqual([...spec.env].sort());
      const logs = policyDoc(org, `${fnId(spec.name)}_logs_policy_doc`).statement as Json[];
      expect(logs[0]).toEqual({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`\${aws_cloudwatch_log_group.${fnId(spec.name)}_logs.arn}:*`],
      });
      expect(logs).toHaveLength(spec.name === "config-rule" ? 2 : 1);
    });
  }

  it("never grants a wildcard action, and resource * only to APIs without resource-level permissions", () => {
    for (const [id, doc] of Object.entries(org.data.aws_iam_policy_document as Json)) {
      for (const statement of doc.statement as Json[]) {
        if (statement.effect === "Deny") continue;
        for (const action of statement.actions as string[]) expect(action, id).not.toContain("*");
        if ((statement.resources ?? []).includes("*")) {
          for (const action of statement.actions)
            expect(NO_RESOURCE_LEVEL_PERMISSIONS, `${id} ${action}`).toHaveProperty([action]);
        }
      }
    }
  });

  it("lets each function assume only its own member roles, in the organisation's accounts, and no role the undo role", () => {
    const assumers = FUNCTION_LIST.filter((spec) => grantedActions(spec, "organization").includes("sts:AssumeRole"));
    // The remediations assume their problems' fix roles (functions/remediation/member.ts).
    for (const spec of FUNCTION_LIST.filter((s) => s.invokedByCoordinator)) expect(assumers).toContain(spec);
    for (const spec of assumers) {
      const grants = (policyDoc(org, `${fnId(spec.name)}_policy_doc`).statement as Json[]).filter((s) =>
        (s.actions as string[]).some((action) => action.startsWith("sts:")),
      );
      const expected =
        spec.name === "config-rule" || spec.name === "realtime"
          ? ["remedy-member-detect"]
          : (spec.fixes ?? []).map((problem) => `remedy-member-fix-${problem}`);
      expect(expected.length, spec.name).toBeGreaterThan(0);
      expect(grants).toEqual([
        {
          actions: ["sts:AssumeRole", "sts:SetSourceIdentity"],
          resources: expected.map((name) => `arn:${PARTITION}:iam::*:role/remedy/${name}`),
          condition: [{ test: "StringEquals", variable: "aws:ResourceOrgID", values: [ORG_ID] }],
        },
      ]);
    }
    expect(JSON.stringify(org.data.aws_iam_policy_document)).not.toContain("remedy-member-undo");
    // Single-account grants nothing of organisation mode.
    const singleDocs = JSON.stringify(single.data.aws_iam_policy_document);
    expect(singleDocs).not.toMatch(/"sts:|"organizations:/);
  });

  it("scopes the rule function's detect role the same way, and refuses a member role to a function without one", () => {
    const refs: PolicyRefs = {
      ...Object.fromEntries(
        ["region", "account", "queueArn", "dlqArn", "scanQueueArn", "scanDlqArn", "ledgerBucketArn"].map((key) => [
          key,
          `<${key}>`,
        ]),
      ),
      ...Object.fromEntries(
        ["pauseParameterArn", "reportTopicArn", "slackSecretArn", "slackParameterArn", "ledgerMacKeyArn"].map((key) => [
          key,
          `<${key}>`,
        ]),
      ),
      remediationFunctionArns: ["<remediation>"],
      protectedBucketArns: ["<protected>"],
      partition: "aws",
      organizationId: "o-abcdefghij",
    } as PolicyRefs;
    const withAssume = (name: "config-rule" | "coordinator") => ({
      ...FUNCTIONS[name],
      organizationPermissions: { ...FUNCTIONS[name].organizationPermissions, ...MEMBER_ROLE_PERMISSIONS },
    });
    const detect = grantsFor(withAssume("config-rule"), refs, "organization").filter((g) =>
      g.actions.includes("sts:AssumeRole"),
    );
    expect(detect).toEqual([
      {
        actions: ["sts:AssumeRole", "sts:SetSourceIdentity"],
        resources: ["arn:aws:iam::*:role/remedy/remedy-member-detect"],
        conditions: [{ test: "StringEquals", variable: "aws:ResourceOrgID", values: ["o-abcdefghij"] }],
      },
    ]);
    expect(() => grantsFor(withAssume("coordinator"), refs, "organization")).toThrow(/coordinator has no member role/);
  });
});

describe("detection in every region of the settings", () => {
  const hubRule = () => resources(org, "aws_lambda_function").config_rule;

  it("configures one provider per region", () => {
    const aliased = (org.provider.aws as Json[]).filter((p) => p.alias);
    expect(aliased.map((p) => [p.alias, p.region])).toEqual(REGIONS.map((region) => [regionId(region), region]));
  });

  it("runs the rule function in every region but the hub's, with the same code, role and settings", () => {
    const hub = hubRule();
    for (const region of REGIONS) {
      const copy = resources(org, "aws_lambda_function")[`config_rule_${regionId(region)}`];
      expect(copy.provider).toBe(`aws.${regionId(region)}`);
      for (const key of ["function_name", "role", "filename", "source_code_hash", "handler", "runtime", "timeout"]) {
        expect(copy[key], key).toEqual(hub[key]);
      }
      expect(copy.role).toBe("${aws_iam_role.config_rule_role.arn}");
      expect(copy.environment.variables).toEqual({ ...hub.environment.variables, REMEDY_REGION: region });
      // Judged as its own region's, sending to the hub's queues and ledger in the hub's region.
      expect(copy.environment.variables.REMEDY_HUB_REGION).toBe("${var.region}");
      // The hub region's function is the existing one: its copy there is not created.
      for (const hubRegion of REGIONS) expect(evaluateCount(copy.count, hubRegion)).toBe(hubRegion === region ? 0 : 1);
      const logs = resources(org, "aws_cloudwatch_log_group")[`config_rule_logs_${regionId(region)}`];
      expect(logs).toMatchObject({ provider: `aws.${regionId(region)}`, name: "/aws/lambda/remedy-config-rule" });
      expect(logs.count).toBe(copy.count);
    }
    const regionalLogs = (policyDoc(org, "config_rule_logs_policy_doc").statement as Json[])[1]!;
    expect(regionalLogs.resources).toEqual(
      REGIONS.map((region) => `arn:${PARTITION}:logs:${region}:${ACCOUNT}:log-group:/aws/lambda/remedy-config-rule:*`),
    );
  });

  it("lets Config invoke it, per region (the function checks the account; a service principal has no org id)", () => {
    const permissions = Object.values(resources(org, "aws_lambda_permission")).filter(
      (p: Json) => p.principal === "config.amazonaws.com",
    ) as Json[];
    expect(permissions.map((p) => p.provider).sort()).toEqual(REGIONS.map((r) => `aws.${regionId(r)}`).sort());
    for (const permission of permissions) {
      expect(permission).toMatchObject({
        action: "lambda:InvokeFunction",
        function_name: "remedy-config-rule",
      });
      expect(permission.source_account).toBeUndefined();
      expect(permission.principal_org_id).toBeUndefined();
    }
  });

  it("deploys one organisation rule per Remedy rule and region, as the account rule is, without the excluded accounts", () => {
    const accountRules = Object.values(resources(single, "aws_config_config_rule")) as Json[];
    const orgRules = Object.values(resources(org, "aws_config_organization_custom_rule")) as Json[];
    expect(orgRules).toHaveLength(accountRules.length * REGIONS.length);
    for (const accountRule of accountRules) {
      for (const region of REGIONS) {
        const rule = orgRules.find((r) => r.name === accountRule.name && r.provider === `aws.${regionId(region)}`)!;
        expect(rule, `${accountRule.name} ${region}`).toBeDefined();
        expect(rule.lambda_function_arn).toBe(
          `arn:${PARTITION}:lambda:${region}:${ACCOUNT}:function:remedy-config-rule`,
        );
        expect(rule.trigger_types).toEqual(accountRule.source.source_detail.map((d: Json) => d.message_type));
        expect(rule.maximum_execution_frequency).toBe(
          accountRule.source.source_detail.at(-1).maximum_execution_frequency,
        );
        expect(rule.input_parameters).toBe(accountRule.input_parameters);
        expect(rule.resource_types_scope).toEqual(accountRule.scope?.compliance_resource_types);
        expect(rule.excluded_accounts).toEqual([EXCLUDED]);
        expect(rule.depends_on).toEqual([`aws_lambda_permission.config_rule_invoke_${regionId(region)}`]);
      }
    }
    // The organisation rules reach the hub account too: no account rules beside them.
    expect(resources(org, "aws_config_config_rule")).toEqual({});
  });

  it("keeps the queues in the hub region; only the rule function's one role and the real-time role send to them", () => {
    const roles = new Set(
      Object.entries(resources(org, "aws_lambda_function"))
        .filter(([id]) => id.startsWith("config_rule"))
        .map(([, fn]) => (fn as Json).role),
    );
    expect([...roles]).toEqual(["${aws_iam_role.config_rule_role.arn}"]);
    const senders = (policyDoc(org, "queue_policy_doc").statement as Json[]).find((s) => s.sid === "RuleSends")!;
    expect(senders.principals[0].identifiers).toEqual([
      "${aws_iam_role.config_rule_role.arn}",
      "${aws_iam_role.realtime_role.arn}",
    ]);
    for (const doc of ["scan_queue_policy_doc", "scan_dlq_policy_doc"]) {
      const deny = (policyDoc(org, doc).statement as Json[]).find((s) => s.sid === "OnlyTheScannerSends")!;
      expect(deny.condition[0].values).toEqual(["${aws_iam_role.config_rule_role.arn}"]);
    }
    for (const queue of Object.values(resources(org, "aws_sqs_queue")) as Json[])
      expect(queue.provider).toBeUndefined();
  });
});

// -- The member roles ------------------------------------------------------------------------------------------

const model = memberRolesModel(settings);
const template = memberRolesTemplate(model) as Json;
const roleOf = (name: string): Json =>
  Object.values(template.Resources as Json).find((r: Json) => r.Properties.RoleName === name)!;
const fixRoleName = (problem: string) => `remedy-member-fix-${problem}`;
const actionsOf = (policy: Json) =>
  [
    ...new Set((policy.Statement as Json[]).filter((s) => s.Effect === "Allow").flatMap((s) => s.Action as string[])),
  ].sort();

/** A template value with its references named: "arn:<AWS::Partition>:iam::<HubAccountId>:root". */
function cfnString(value: unknown): string {
  if (typeof value === "string") return value;
  const ref = (value as Json).Ref;
  if (ref) return `<${ref}>`;
  const [separator, parts] = (value as Json)["Fn::Join"];
  return (parts as unknown[]).map(cfnString).join(separator);
}

describe("the member roles (the model, and its CloudFormation render)", () => {
  const hubRoot = "arn:<AWS::Partition>:iam::<HubAccountId>:root";
  const trustOf = (name: string) => roleOf(name).Properties.AssumeRolePolicyDocument.Statement as Json[];
  const allowTrust = (name: string, principalArn: unknown, test = "ArnEquals") => ({
    Sid: "RemedyHub",
    Effect: "Allow",
    Principal: { AWS: hubRoot },
    Action: ["sts:AssumeRole", "sts:SetSourceIdentity"],
    Condition: {
      [test]: { "aws:PrincipalArn": principalArn },
      StringEquals: { "aws:PrincipalOrgID": ["<OrganizationId>"], "sts:ExternalId": ["<ExternalId>"] },
    },
    name,
  });
  const named = (statement: Json, name: string) => ({
    ...JSON.parse(JSON.stringify(statement), (_key, value) =>
      value && typeof value === "object" && ("Ref" in value || "Fn::Join" in value) ? cfnString(value) : value,
    ),
    name,
  });

  it("has a detect role, one fix role per problem and an undo role, all under /remedy/, capped by the boundary", () => {
    const roles = Object.values(template.Resources as Json).filter((r: Json) => r.Type === "AWS::IAM::Role");
    expect(roles.map((r: Json) => r.Properties.RoleName)).toEqual([
      "remedy-member-detect",
      ...PROBLEM_SPECS.map((spec) => fixRoleName(spec.id)),
      "remedy-member-undo",
    ]);
    for (const role of roles as Json[]) {
      expect(role.Properties).toMatchObject({
        Path: "/remedy/",
        MaxSessionDuration: 3600,
        PermissionsBoundary: { Ref: "Boundary" },
      });
    }
    expect(template.Resources.Boundary).toMatchObject({
      Type: "AWS::IAM::ManagedPolicy",
      Properties: { ManagedPolicyName: "remedy-member-boundary", Path: "/remedy/" },
    });
  });

  it("grants each role exactly its actions, from the registry; the boundary exactly their union", () => {
    const detect = [
      ...new Set([
        ...configRuleMemberCommands.map((command) => configRulePermissions[command]),
        ...realtimeMemberCommands.map((command) => realtimePermissions[command]),
      ]),
    ].sort();
    expect(actionsOf(roleOf("remedy-member-detect").Properties.Policies[0].PolicyDocument)).toEqual(detect);
    for (const spec of PROBLEM_SPECS) {
      expect(actionsOf(roleOf(fixRoleName(spec.id)).Properties.Policies[0].PolicyDocument), spec.id).toEqual(
        [...new Set(Object.values(spec.fix.permissions) as string[])].sort(),
      );
    }
    const undo = resourceUndos().flatMap(({ undo: each }) => [
      ...Object.values(each.permissions),
      ...each.impliedActions,
    ]);
    expect(actionsOf(roleOf("remedy-member-undo").Properties.Policies[0].PolicyDocument)).toEqual(
      [...new Set(undo)].sort(),
    );
    const union = [
      ...new Set(model.roles.flatMap((role) => actionsOf(roleOf(role.name).Properties.Policies[0].PolicyDocument))),
    ].sort();
    expect(actionsOf(template.Resources.Boundary.Properties.PolicyDocument)).toEqual(union);
    expect(memberActions(model)).toEqual(union);
    // Every grant of a role is a grant of the boundary too, with the same resources and conditions.
    const boundary = (template.Resources.Boundary.Properties.PolicyDocument.Statement as Json[]).map((s) =>
      named(s, ""),
    );
    for (const role of model.roles) {
      for (const statement of roleOf(role.name).Properties.Policies[0].PolicyDocument.Statement as Json[]) {
        if (statement.Effect !== "Allow") continue;
        const { Resource, Condition } = named(statement, "");
        for (const action of statement.Action) {
          expect(
            boundary.some(
              (b) =>
                b.Action.includes(action) &&
                JSON.stringify([b.Resource, b.Condition]) === JSON.stringify([Resource, Condition]),
            ),
            `${role.name} ${action}`,
          ).toBe(true);
        }
      }
    }
  });

  it("scopes to the member account and the settings' regions: resource * only for APIs without resource-level permissions", () => {
    for (const resource of Object.values(template.Resources as Json) as Json[]) {
      const policies =
        resource.Type === "AWS::IAM::Role"
          ? resource.Properties.Policies.map((p: Json) => p.PolicyDocument)
          : [resource.Properties.PolicyDocument];
      for (const policy of policies) {
        for (const statement of policy.Statement as Json[]) {
          if (statement.Effect === "Deny" || !statement.Resource.includes("*")) continue;
          for (const action of statement.Action) {
            expect(NO_RESOURCE_LEVEL_PERMISSIONS, action).toHaveProperty([action]);
          }
        }
      }
    }
    const grantsOf = (name: string, action: string) =>
      (roleOf(name).Properties.Policies[0].PolicyDocument.Statement as Json[])
        .filter((s) => s.Effect === "Allow" && s.Action.includes(action))
        .map((s) => named(s, ""));
    const [revoke] = grantsOf(fixRoleName("sg-open-ingress"), "ec2:RevokeSecurityGroupIngress");
    expect(revoke.Resource).toEqual(
      REGIONS.map((region) => `arn:<AWS::Partition>:ec2:${region}:<AWS::AccountId>:security-group/*`),
    );
    const [putAcl] = grantsOf(fixRoleName("s3-public-acl"), "s3:PutBucketAcl");
    expect(putAcl).toMatchObject({
      Resource: ["arn:<AWS::Partition>:s3:::*"],
      Condition: { StringEquals: { "s3:ResourceAccount": ["<AWS::AccountId>"] } },
    });
    const [rules] = grantsOf("remedy-member-detect", "config:GetComplianceDetailsByConfigRule");
    expect(rules.Resource).toEqual(
      REGIONS.map((region) => `arn:<AWS::Partition>:config:${region}:<AWS::AccountId>:config-rule/*`),
    );
    const [tags] = grantsOf("remedy-member-undo", "ec2:CreateTags");
    expect(tags.Condition).toEqual({
      StringEquals: { "ec2:CreateAction": ["AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress"] },
    });
    // As in the hub: a bucket fix can never touch Remedy's own buckets.
    for (const problem of ["s3-public-acl", "s3-public-policy"]) {
      const deny = (roleOf(fixRoleName(problem)).Properties.Policies[0].PolicyDocument.Statement as Json[]).find(
        (s) => s.Effect === "Deny",
      )!;
      expect(named(deny, "").Resource).toEqual([
        "arn:<AWS::Partition>:s3:::remedy-ledger-*",
        "arn:<AWS::Partition>:s3:::remedy-config-*",
      ]);
    }
  });

  it("trusts the hub root narrowed to the matching hub role and the organisation, with SetSourceIdentity and the ExternalId", () => {
    expect(trustOf("remedy-member-detect").map((s) => named(s, "detect"))).toEqual([
      allowTrust("detect", ["<ConfigRuleRoleArn>", "<RealtimeRoleArn>"]),
    ]);
    for (const spec of PROBLEM_SPECS) {
      const remediation = problemSpec(spec.id).remediation;
      expect(trustOf(fixRoleName(spec.id)).map((s) => named(s, spec.id))).toEqual([
        allowTrust(spec.id, [`<${hubRoleParameter(remediation as FunctionName)}>`]),
      ]);
    }
    const [allow, deny] = trustOf("remedy-member-undo").map((s) => named(s, "undo"));
    expect(allow).toEqual(allowTrust("undo", "<UndoPrincipalArns>", "ArnLike"));
    // No hub function may assume the undo role, whatever the operator list says.
    expect(deny).toEqual({
      Sid: "NeverRemedysFunctions",
      Effect: "Deny",
      Principal: "*",
      Action: ["sts:AssumeRole", "sts:SetSourceIdentity"],
      Condition: { ArnEquals: { "aws:PrincipalArn": FUNCTION_NAMES.map((name) => `<${hubRoleParameter(name)}>`) } },
      name: "undo",
    });
    // Only the undo role's own trust names the undo principals.
    for (const role of model.roles.filter((r) => r.role.kind !== "undo")) {
      expect(JSON.stringify(trustOf(role.name)), role.name).not.toContain("UndoPrincipalArns");
    }
  });

  it("leaves the ExternalId out of trust and parameters when the settings have none", () => {
    const without = memberRolesTemplate(memberRolesModel(settingsWithoutExternalId)) as Json;
    expect(without.Parameters.ExternalId).toBeUndefined();
    expect(JSON.stringify(without)).not.toContain("sts:ExternalId");
    expect(template.Parameters.ExternalId).toMatchObject({ Type: "String" });
  });
});

describe("deploying the member roles", () => {
  // The member roles' StackSet; the real-time forwarding's is the other (test/infra/realtime.test.ts).
  const stackSet = () =>
    only(
      Object.fromEntries(
        Object.entries(resources(org, "aws_cloudformation_stack_set")).filter(
          ([, set]) => (set as Json).name === "remedy-member-roles",
        ),
      ),
    );

  it("as a service-managed StackSet auto-deployed to the organisation root, from the hub", () => {
    expect(stackSet()).toMatchObject({
      name: "remedy-member-roles",
      permission_model: "SERVICE_MANAGED",
      call_as: "DELEGATED_ADMIN",
      capabilities: ["CAPABILITY_NAMED_IAM"],
      auto_deployment: { enabled: true, retain_stacks_on_account_removal: false },
    });
    expect(JSON.parse(stackSet().template_body)).toEqual(template);
    expect(stackSet().template_body.length).toBeLessThanOrEqual(51_200);
    expect(stackSet().template_body).not.toMatch(/[$%]\{/);
    const instance = only(
      Object.fromEntries(
        Object.entries(resources(org, "aws_cloudformation_stack_set_instance")).filter(([, i]) =>
          ((i as Json).stack_set_name as string).includes("member_roles_stack_set"),
        ),
      ),
    );
    expect(instance).toMatchObject({
      call_as: "DELEGATED_ADMIN",
      stack_set_instance_region: "${var.region}",
      deployment_targets: {
        organizational_unit_ids: ["${data.aws_organizations_organization.organization.roots[0].id}"],
      },
    });
    expect(instance.stack_set_name).toMatch(/^\$\{aws_cloudformation_stack_set\.member_roles_stack_set_\w+\.name\}$/);
  });

  it("sets every template parameter (a StackSet diffs forever on a defaulted one), from the hub's own values", () => {
    const parameters = stackSet().parameters as Json;
    expect(Object.keys(parameters).sort()).toEqual(Object.keys(template.Parameters).sort());
    for (const parameter of Object.values(template.Parameters as Json)) expect(parameter.Default).toBeUndefined();
    expect(parameters).toMatchObject({
      HubAccountId: ACCOUNT,
      OrganizationId: ORG_ID,
      ExternalId: "remedy-test-ext-1",
      UndoPrincipalArns: `\${join(",", (length(var.operator_principal_arns) >= 1) ? var.operator_principal_arns : [format("arn:%s:iam::%s:*", ${PARTITION.slice(2, -1)}, ${ACCOUNT.slice(2, -1)})])}`,
    });
    for (const name of FUNCTION_NAMES) {
      expect(parameters[hubRoleParameter(name)]).toBe(`\${aws_iam_role.${fnId(name)}_role.arn}`);
    }
  });

  it("in the management account: the same template as one CloudFormation stack", () => {
    // The member roles' stack; the real-time forwarding's, one per region, are test/infra/realtime.test.ts's.
    const stack = only(
      Object.fromEntries(
        Object.entries(resources(management, "aws_cloudformation_stack")).filter(
          ([, stack]) => (stack as Json).name === "remedy-member-roles",
        ),
      ),
    );
    expect(stack.template_body).toBe(stackSet().template_body);
    expect(stack.capabilities).toEqual(["CAPABILITY_NAMED_IAM"]);
    expect(Object.keys(stack.parameters).sort()).toEqual(Object.keys(template.Parameters).sort());
    expect(stack.parameters.HubAccountId).toBe("${var.hub_account_id}");
    expect(stack.parameters.ConfigRuleRoleArn).toBe('${var.hub_role_arns["config-rule"]}');
  });

  it("the hub's member_stack_variables output is what the per-account stacks ask for", () => {
    const given = Object.keys(org.output.member_stack_variables.value).sort();
    for (const tf of [member, management]) {
      const required = Object.entries(tf.variable as Json)
        .filter(([, variable]) => variable.default === undefined)
        .map(([name]) => name)
        .filter((name) => name !== "account_id");
      for (const name of required) expect(given, name).toContain(name);
      for (const name of given) expect(Object.keys(tf.variable), name).toContain(name);
      expect(tf.provider.aws[0].allowed_account_ids).toEqual(["${var.account_id}"]);
    }
    expect(org.output.member_stack_variables.value.hub_role_arns).toEqual(
      Object.fromEntries(FUNCTION_NAMES.map((name) => [name, `\${aws_iam_role.${fnId(name)}_role.arn}`])),
    );
  });

  it("keeps each stack's state beside the hub's, relative, with per-account workspaces", () => {
    expect(member.terraform.backend).toEqual({
      local: {
        path: "../../../terraform.remedy-member.tfstate",
        workspace_dir: "../../../terraform.remedy-member.tfstate.d",
      },
    });
    expect(management.terraform.backend.local.path).toBe("../../../terraform.remedy-management-account.tfstate");
    expect(org.terraform.backend).toEqual({ local: { path: "../../../terraform.remedy.tfstate" } });
    for (const tf of [org, member, management]) expect(JSON.stringify(tf)).not.toContain(process.cwd());
    expect(
      backendOf("remedy-member", { kind: "s3", bucket: "b", key: "remedy/terraform.tfstate", region: "eu-west-1" }),
    ).toEqual({
      kind: "s3",
      bucket: "b",
      key: "remedy/terraform.remedy-member.tfstate",
      region: "eu-west-1",
    });
  });
});

// -- One model, two renders -------------------------------------------------------------------------------------

/** A Terraform string with its references named as cfnString names the template's. */
function tfString(value: string): string {
  return value
    .replaceAll(PARTITION, "<AWS::Partition>")
    .replaceAll(ACCOUNT, "<AWS::AccountId>")
    .replaceAll("${var.hub_account_id}", "<HubAccountId>")
    .replaceAll("${var.organization_id}", "<OrganizationId>")
    .replaceAll("${var.external_id}", "<ExternalId>")
    .replace(
      /\$\{var\.hub_role_arns(?:\["([a-z0-9-]+)"\]|\.([a-z0-9-]+))\}/g,
      (_all, quoted?: string, bare?: string) =>
        `<${hubRoleParameter((quoted ?? bare) as (typeof FUNCTION_NAMES)[number])}>`,
    );
}

/** A Terraform policy document's statements as the template's, references named. */
function tfStatements(doc: Json): Json[] {
  return (doc.statement as Json[]).map((s) => {
    const conditions: Json = {};
    for (const c of s.condition ?? []) {
      conditions[c.test] ??= {};
      conditions[c.test][c.variable] = Array.isArray(c.values)
        ? c.values.map(tfString)
        : (c.values as string).includes("var.undo_principal_arns")
          ? "<UndoPrincipalArns>"
          : c.values;
    }
    const principal = s.principals?.[0];
    return {
      Sid: s.sid,
      Effect: s.effect,
      ...(principal ? { Principal: principal.type === "*" ? "*" : { AWS: tfString(principal.identifiers[0]) } } : {}),
      Action: s.actions,
      ...(s.resources ? { Resource: s.resources.map(tfString) } : {}),
      ...(s.condition ? { Condition: conditions } : {}),
    };
  });
}

function cfnStatements(policy: Json): Json[] {
  return JSON.parse(JSON.stringify(policy.Statement), (_key, value) =>
    value && typeof value === "object" && ("Ref" in value || "Fn::Join" in value) ? cfnString(value) : value,
  );
}

describe("one model, two renders: the template and the remedy-member stack grant and trust the same", () => {
  const tfRoleId = (name: string) => name.replace(/^remedy-member-/, "").replaceAll("-", "_");

  it("same roles, paths, sessions and boundary", () => {
    // The member roles; the real-time forwarding's roles are test/infra/realtime.test.ts's.
    const roles = Object.fromEntries(
      Object.entries(resources(member, "aws_iam_role")).filter(([id]) => !id.startsWith("forward_role_")),
    );
    expect(
      Object.values(roles)
        .map((r: Json) => r.name)
        .sort(),
    ).toEqual(model.roles.map((r) => r.name).sort());
    for (const role of Object.values(roles) as Json[]) {
      expect(role).toMatchObject({
        path: "/remedy/",
        max_session_duration: 3600,
        permissions_boundary: "${aws_iam_policy.boundary.arn}",
      });
    }
    expect(resources(member, "aws_iam_policy").boundary).toMatchObject({
      name: "remedy-member-boundary",
      path: "/remedy/",
    });
  });

  it("same statements in every permission policy, the boundary and every trust policy", () => {
    expect(tfStatements(policyDoc(member, "boundary_doc"))).toEqual(
      cfnStatements(template.Resources.Boundary.Properties.PolicyDocument),
    );
    for (const role of model.roles) {
      const cfn = roleOf(role.name).Properties;
      expect(tfStatements(policyDoc(member, `${tfRoleId(role.name)}_policy_doc`)), role.name).toEqual(
        cfnStatements(cfn.Policies[0].PolicyDocument),
      );
      expect(tfStatements(policyDoc(member, `${tfRoleId(role.name)}_trust_doc`)), role.name).toEqual(
        cfnStatements(cfn.AssumeRolePolicyDocument),
      );
      expect(resources(member, "aws_iam_role")[`${tfRoleId(role.name)}_role`].assume_role_policy).toBe(
        `\${data.aws_iam_policy_document.${tfRoleId(role.name)}_trust_doc.json}`,
      );
    }
  });

  it("the undo role's principals: the operators, else any principal of the hub account, in both renders", () => {
    const undo = (policyDoc(member, "undo_trust_doc").statement as Json[])[0]!.condition[0];
    expect(undo).toMatchObject({ test: "ArnLike", variable: "aws:PrincipalArn" });
    expect(undo.values).toBe(
      `\${(length(var.undo_principal_arns) >= 1) ? var.undo_principal_arns : [format("arn:%s:iam::%s:*", ${PARTITION.slice(2, -1)}, var.hub_account_id)]}`,
    );
    expect(member.variable.undo_principal_arns).toMatchObject({ type: "list(string)", default: [] });
  });

  it("without an ExternalId in the settings, the Terraform render has no external_id and no sts:ExternalId either", () => {
    expect(member.variable.external_id).toMatchObject({ default: "remedy-test-ext-1" });
    expect(memberWithoutExternalId.variable.external_id).toBeUndefined();
    expect(JSON.stringify(memberWithoutExternalId.data.aws_iam_policy_document)).not.toContain("sts:ExternalId");
    expect(JSON.stringify(member.data.aws_iam_policy_document)).toContain("sts:ExternalId");
  });
});

// -- Single-account stays as it was -----------------------------------------------------------------------------

describe("single-account mode is unchanged", () => {
  it("a synth without the settings file is the synth without organisation settings, byte for byte", () => {
    const empty = mkdtempSync(join(tmpdir(), "remedy-org-none-"));
    try {
      const fromFile = organizationSettingsFromFile(empty, {});
      const viaSwitch = synthesize(
        (app) => new RemedyStack(app, "remedy", { distDir: dist, ...(fromFile ? { organization: fromFile } : {}) }),
      ).remedy;
      expect(JSON.stringify(viaSwitch)).toBe(JSON.stringify(single));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("has nothing of organisation mode but the mode variable and output", () => {
    const text = JSON.stringify(single);
    for (const word of [
      "aws_organizations_organization",
      "aws_config_organization_custom_rule",
      "aws_cloudformation_stack_set",
      "principal_org_id",
      "remedy-member",
    ]) {
      expect(text).not.toContain(word);
    }
    expect((single.provider.aws as Json[]).map((p) => p.alias)).toEqual([undefined]);
    expect(
      Object.values(resources(single, "aws_config_config_rule"))
        .map((r: Json) => r.name)
        .sort(),
    ).toEqual(RULES.map((rule) => `remedy-${rule.id}`).sort());
    for (const fn of Object.values(resources(single, "aws_lambda_function")) as Json[]) {
      expect(fn.environment.variables.REMEDY_ORGANIZATION).toBe("");
    }
  });

  it("organisation mode keeps everything of single-account but the account's own Config rules", () => {
    const ids = (tf: Json, kind: "resource" | "data") =>
      Object.entries(tf[kind] as Json).flatMap(([type, byId]) =>
        Object.keys(byId as Json).map((id) => `${type}.${id}`),
      );
    const orgResources = new Set([...ids(org, "resource"), ...ids(org, "data")]);
    const missing = [...ids(single, "resource"), ...ids(single, "data")].filter((id) => !orgResources.has(id));
    expect(missing.sort()).toEqual(
      [
        ...Object.keys(resources(single, "aws_config_config_rule")).map((id) => `aws_config_config_rule.${id}`),
        ...Object.entries(resources(single, "aws_lambda_permission"))
          .filter(([, p]) => (p as Json).principal === "config.amazonaws.com")
          .map(([id]) => `aws_lambda_permission.${id}`),
      ].sort(),
    );
    for (const name of Object.keys(single.variable)) expect(Object.keys(org.variable)).toContain(name);
    for (const name of Object.keys(single.output)) expect(Object.keys(org.output)).toContain(name);
  });
});
