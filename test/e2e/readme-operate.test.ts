// The README's operate steps, re-run as written against moto so they cannot drift: the ```sh lines under
// "## How you use it" and "## Deploy › ### Use it" (test/e2e/readme-commands.ts), in README order.
//
// moto gets what `terraform apply` would create, named and configured as the synthesized stack says (queues, pause
// parameter, DISABLED schedule rule, ledger bucket, HMAC ledger key, report topic), plus two security groups open to
// the internet. The real Config rule Lambda (handler, with the environment the stack gives it) judges both groups and
// queues their fix instructions; one is dispatched as the coordinator would and fixed by the real remediate-sg Lambda
// (revoked in moto, ledgered in moto's S3 with a MAC from moto's KMS), the other stays queued for peek. The outputs
// file is written as `terraform output -json > remedy-outputs.json` writes it, and every `npx remedy` line is run as
// `node bin/remedy.js` in a child process that sees only moto, its stdout, stderr and exit code checked semantically.
// Every other line must be of a kind known not to run offline (terraform, npm run synth, cp of the tfvars example,
// comments), each checked against what it refers to.
//
// moto gaps worked around here: GenerateMac answers a bare key id instead of the ARN (kmsKeyArnsAsAws), and
// PutEvaluations without TestMode is not implemented (HTTP 500), so the Config rule's PutEvaluations is stubbed.
// README_OPERATE_DEBUG=1 prints every CLI run (argv, exit code, time, stdout, stderr) at the end.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  type IpPermission,
  type SecurityGroup,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { EventBridgeClient, PutRuleCommand, type RuleState } from "@aws-sdk/client-eventbridge";
import { CreateKeyCommand, type KeySpec, type KeyUsageType, KMSClient } from "@aws-sdk/client-kms";
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, type ParameterType, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { App } from "cdktf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_OUTPUTS_FILE, OUTPUT_NAMES } from "../../cli/stack.ts";
import { DISPATCH_VISIBILITY_SECONDS, FUNCTION_LIST } from "../../functions/registry.ts";
import { RemedyStack, STACK_NAME } from "../../infra/stack.ts";
import { VARIABLES_FILE } from "../../infra/tfvars.ts";
import { configServiceClient, kmsClient } from "../../shared/clients.ts";
import { deployedRuleFor, readDeployment } from "../../shared/deployment.ts";
import { encodeRemediationRequest, type RemediationRequest } from "../../shared/dispatch.ts";
import { type Instruction, parseInstruction } from "../../shared/instruction.ts";
import { LEDGER_PREFIX, type LedgerRecord, parseLedgerRecord, readLedgerRecord } from "../../shared/ledger.ts";
import { initialPauseValue, type PauseState, parsePauseState } from "../../shared/pause.ts";
import { kmsRecordVerifier } from "../../shared/undo.ts";
import { changeEvent } from "../fixtures/events.ts";
import {
  isolatedEnv,
  kmsKeyArnsAsAws,
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  type Moto,
  skipWithoutMoto,
  startMoto,
} from "../helpers/moto.ts";
import { deploymentEnv } from "../remediation/support.ts";
import {
  classifyLine,
  type LineKind,
  OPERATE_SECTIONS,
  operateLines,
  README_EXAMPLE_ACTION_ID,
  type SimpleCommand,
} from "./readme-commands.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(REPO, "bin", "remedy.js");
const README = readFileSync(join(REPO, "README.md"), "utf8");
const LINES = operateLines(README).map((line) => ({ ...line, kind: classifyLine(line.text) }));
const REMEDY_LINES = LINES.filter(
  (line): line is typeof line & { kind: Extract<LineKind, { kind: "remedy" }> } => line.kind.kind === "remedy",
);
const OTHER_LINES = LINES.filter((line) => line.kind.kind !== "remedy");

/** Where `npm run synth` writes the stack (cdktf.json's "output", else cdktf's default) and terraform runs. */
const CDKTF_OUT: string = JSON.parse(readFileSync(join(REPO, "cdktf.json"), "utf8")).output ?? "cdktf.out";
const STACK_DIR = `${CDKTF_OUT}/stacks/${STACK_NAME}`;
const TERRAFORM_SUBCOMMANDS = ["init", "apply", "output", "destroy"];

const label = (line: { lineNumber: number; text: string }) => `README.md:${line.lineNumber}: ${line.text}`;

// ---------------------------------------------------------------------------------------------------------------
// The lines that cannot run offline: each of a known kind, checked against what it names.

function checkOfflineCommand(command: SimpleCommand): void {
  const [program, ...args] = command.words;
  const text = command.words.join(" ");
  if (Object.keys(command.env).length > 0) {
    throw new Error(`"${text}" sets ${Object.keys(command.env).join(", ")}: a kind of step this test does not know`);
  }
  if (program === "cp") {
    // cp remedy.auto.tfvars.example remedy.auto.tfvars: the example exists, the copy is the file synth installs.
    expect(args, text).toHaveLength(2);
    expect(existsSync(join(REPO, args[0]!)), `${args[0]} exists in the repository`).toBe(true);
    expect(args[1], "the settings file `npm run synth` installs into the stack").toBe(VARIABLES_FILE);
    expect(command.stdoutTo).toBeUndefined();
    return;
  }
  if (program === "npm") {
    expect(args[0], text).toBe("run");
    const scripts = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts as Record<string, string>;
    expect(Object.keys(scripts), `package.json has the script of "${text}"`).toContain(args[1]);
    expect(args[1], "the only npm script the operate steps may run: it needs no AWS").toBe("synth");
    expect(args.length, text).toBe(2);
    expect(command.stdoutTo).toBeUndefined();
    return;
  }
  if (program === "terraform") {
    expect(args[0], `${text}: terraform runs in the directory synth writes`).toBe(`-chdir=${STACK_DIR}`);
    const sub = args[1] ?? "";
    expect(TERRAFORM_SUBCOMMANDS, `${text}: a terraform step this test knows`).toContain(sub);
    if (sub === "output") {
      // What this test writes into the CLI's working directory, in exactly that format.
      expect(args.slice(2), text).toEqual(["-json"]);
      expect(command.stdoutTo, `${text}: the file the CLI reads by default`).toBe(DEFAULT_OUTPUTS_FILE);
    } else {
      expect(command.stdoutTo, text).toBeUndefined();
      for (const flag of args.slice(2)) expect(flag, `${text}: only flags`).toMatch(/^-/);
    }
    return;
  }
  throw new Error(
    `"${text}" is a kind of README step this test does not know (not npx remedy, terraform, npm run synth or cp): ` +
      "teach test/e2e/readme-operate.test.ts how to check it",
  );
}

describe("README operate steps: the lines that cannot run offline", () => {
  it("finds the operate steps: the outputs file, peek, status, pause, resume and undo", () => {
    for (const [h2, h3] of OPERATE_SECTIONS) {
      const heading = `## ${h2}${h3 ? ` › ### ${h3}` : ""}`;
      const found = LINES.some((line) => line.section.startsWith(heading));
      expect(found, `README.md has sh lines under ${heading}`).toBe(true);
    }
    const commands = REMEDY_LINES.map((line) => line.kind.argv[0]);
    for (const command of ["peek", "status", "pause", "resume", "undo"]) expect(commands).toContain(command);
    const outputsFile = OTHER_LINES.filter(
      (line) =>
        line.kind.kind === "offline" &&
        line.kind.commands.some((c) => c.words[0] === "terraform" && c.stdoutTo === DEFAULT_OUTPUTS_FILE),
    );
    expect(outputsFile.map(label), "the README tells how to write the outputs file").not.toHaveLength(0);
  });

  for (const line of OTHER_LINES) {
    it(`${line.kind.kind}: ${label(line)}`, () => {
      const { kind } = line;
      if (kind.kind === "unrunnable") throw new Error(`${label(line)}: ${kind.why}`);
      if (kind.kind === "comment") return;
      if (kind.kind === "offline") for (const command of kind.commands) checkOfflineCommand(command);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// The emulated stack: moto resources named and configured as the synthesized stack says.

// biome-ignore lint/suspicious/noExplicitAny: synthesized Terraform JSON, read field by field
type Json = Record<string, any>;

/** The stack as `npm run synth` writes it (function bundles replaced by empty files: only names matter here). */
function synthesize(): Json {
  const dir = mkdtempSync(join(tmpdir(), "remedy-readme-synth-"));
  try {
    const dist = join(dir, "dist");
    mkdirSync(dist);
    for (const spec of FUNCTION_LIST) writeFileSync(join(dist, `${spec.name}.zip`), "");
    const app = new App({ outdir: join(dir, "out") });
    new RemedyStack(app, STACK_NAME, { distDir: dist });
    app.synth();
    return JSON.parse(readFileSync(join(dir, "out", "stacks", STACK_NAME, "cdk.tf.json"), "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Terraform references (`var.x`, `aws_sqs_queue.queue.url`, ...) → their values in the emulated stack. */
class References {
  readonly values = new Map<string, string>();

  constructor(readonly tf: Json) {
    for (const [name, variable] of Object.entries(tf.variable ?? {}) as [string, Json][]) {
      const value = variable.default;
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
        this.values.set(`var.${name}`, String(value));
      }
    }
    // Deployed into moto's region, as `region = "eu-west-1"` in remedy.auto.tfvars would; every other variable keeps
    // its default (enable_auto_response = false among them).
    this.values.set("var.region", MOTO_REGION);
    for (const name of Object.keys(tf.data?.aws_caller_identity ?? {})) {
      this.values.set(`data.aws_caller_identity.${name}.account_id`, MOTO_ACCOUNT_ID);
    }
    for (const name of Object.keys(tf.data?.aws_partition ?? {})) {
      this.values.set(`data.aws_partition.${name}.partition`, "aws");
    }
    for (const name of Object.keys(tf.data?.aws_region ?? {})) {
      this.values.set(`data.aws_region.${name}.name`, MOTO_REGION);
    }
  }

  set(address: string, attributes: Record<string, string | undefined>): void {
    for (const [attribute, value] of Object.entries(attributes)) {
      if (value !== undefined) this.values.set(`${address}.${attribute}`, value);
    }
  }

  /** A literal, a `${reference}`, or a `${var.x ? A : B}` with literal branches; undefined when not modelled. */
  resolve(expression: unknown): string | undefined {
    if (typeof expression === "number" || typeof expression === "boolean") return String(expression);
    if (typeof expression !== "string") return undefined;
    if (!expression.includes("${")) return expression;
    const reference = /^\$\{([A-Za-z0-9_.-]+)\}$/.exec(expression);
    if (reference) return this.values.get(reference[1]!);
    const conditional = /^\$\{var\.(\w+) \? ("[^"]*"|\d+) : ("[^"]*"|\d+)\}$/.exec(expression);
    if (conditional) {
      const value = this.values.get(`var.${conditional[1]}`);
      if (value !== "true" && value !== "false") return undefined;
      return String(JSON.parse(value === "true" ? conditional[2]! : conditional[3]!));
    }
    return undefined;
  }

  /** Whether a resource exists with the variables' defaults (its `count`, when it has one). */
  exists(resource: Json): boolean {
    return resource.count === undefined || Number(this.resolve(resource.count)) > 0;
  }
}

interface EmulatedStack {
  refs: References;
  queueUrl: string;
  dlqUrl: string;
  pauseParameter: string;
  scheduleRule: string;
  ledgerBucket: string;
  macKeyArn: string;
  /** `terraform output -json` as terraform writes it. */
  outputs: Record<string, { sensitive: boolean; type: string; value: unknown }>;
}

const resourcesOf = (tf: Json, type: string): [string, Json][] => Object.entries(tf.resource?.[type] ?? {});

function only(tf: Json, type: string): [string, Json] {
  const found = resourcesOf(tf, type);
  if (found.length !== 1) throw new Error(`the stack has ${found.length} ${type} resources; this test emulates one`);
  return found[0]!;
}

async function emulateStack(tf: Json, clients: Clients, now: Date): Promise<EmulatedStack> {
  const refs = new References(tf);
  const literal = (value: unknown, what: string): string => {
    const resolved = refs.resolve(value);
    if (resolved === undefined) throw new Error(`${what} is ${JSON.stringify(value)}: not modelled by this test`);
    return resolved;
  };

  for (const [id, queue] of resourcesOf(tf, "aws_sqs_queue")) {
    if (!refs.exists(queue)) continue;
    const attributes: Record<string, string> = {};
    if (queue.visibility_timeout_seconds !== undefined)
      attributes.VisibilityTimeout = String(queue.visibility_timeout_seconds);
    if (queue.message_retention_seconds !== undefined) {
      attributes.MessageRetentionPeriod = String(queue.message_retention_seconds);
    }
    if (queue.sqs_managed_sse_enabled !== undefined)
      attributes.SqsManagedSseEnabled = String(queue.sqs_managed_sse_enabled);
    const name = literal(queue.name, `aws_sqs_queue.${id}.name`);
    const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    refs.set(`aws_sqs_queue.${id}`, {
      url: QueueUrl,
      id: QueueUrl,
      name,
      arn: `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:${name}`,
    });
  }

  // The pause switch, with the value the stack creates it with (Terraform's timestamp() at apply time).
  const [pauseId, pause] = only(tf, "aws_ssm_parameter");
  const pauseValue = initialPauseValue(now.toISOString());
  expect(String(pause.value).replace(`\${timestamp()}`, now.toISOString()), "the stack's pause value").toBe(pauseValue);
  const pauseName = literal(pause.name, `aws_ssm_parameter.${pauseId}.name`);
  await clients.ssm.send(
    new PutParameterCommand({
      Name: pauseName,
      Type: literal(pause.type, "pause parameter type") as ParameterType,
      Value: pauseValue,
      Description: pause.description,
    }),
  );
  refs.set(`aws_ssm_parameter.${pauseId}`, { name: pauseName, id: pauseName });

  // The gate: the coordinator's schedule, in the state the default enable_auto_response gives it.
  const [scheduleId, schedule] = only(tf, "aws_cloudwatch_event_rule");
  const scheduleName = literal(schedule.name, `aws_cloudwatch_event_rule.${scheduleId}.name`);
  const state = literal(schedule.state, `aws_cloudwatch_event_rule.${scheduleId}.state`);
  expect(state, "deployed with auto-response off (the default)").toBe("DISABLED");
  const rule = await clients.eventBridge.send(
    new PutRuleCommand({
      Name: scheduleName,
      ScheduleExpression: schedule.schedule_expression,
      Description: schedule.description,
      State: state as RuleState,
    }),
  );
  refs.set(`aws_cloudwatch_event_rule.${scheduleId}`, {
    name: scheduleName,
    id: scheduleName,
    arn: rule.RuleArn,
    state,
  });

  // The ledger bucket: bucket_prefix plus what Terraform appends (26 characters).
  for (const [id, bucket] of resourcesOf(tf, "aws_s3_bucket")) {
    if (!refs.exists(bucket)) continue;
    const name =
      bucket.bucket !== undefined
        ? literal(bucket.bucket, `aws_s3_bucket.${id}.bucket`)
        : `${literal(bucket.bucket_prefix, `aws_s3_bucket.${id}.bucket_prefix`)}${randomBytes(13).toString("hex")}`;
    await clients.s3.send(
      new CreateBucketCommand({ Bucket: name, CreateBucketConfiguration: { LocationConstraint: MOTO_REGION } }),
    );
    await clients.s3.send(
      new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } }),
    );
    refs.set(`aws_s3_bucket.${id}`, { bucket: name, id: name, arn: `arn:aws:s3:::${name}` });
  }

  // The ledger's MAC key.
  const [keyId, key] = only(tf, "aws_kms_key");
  const created = await clients.kms.send(
    new CreateKeyCommand({
      KeySpec: literal(key.customer_master_key_spec, "ledger MAC key spec") as KeySpec,
      KeyUsage: literal(key.key_usage, "ledger MAC key usage") as KeyUsageType,
      Description: key.description,
    }),
  );
  refs.set(`aws_kms_key.${keyId}`, { arn: created.KeyMetadata?.Arn, key_id: created.KeyMetadata?.KeyId });

  for (const [id, topic] of resourcesOf(tf, "aws_sns_topic")) {
    if (!refs.exists(topic)) continue;
    const name = literal(topic.name, `aws_sns_topic.${id}.name`);
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: name }));
    refs.set(`aws_sns_topic.${id}`, { arn: TopicArn, id: TopicArn, name });
  }

  // The functions are not created (nothing here invokes them by name): only their names are outputs.
  for (const [id, fn] of resourcesOf(tf, "aws_lambda_function")) {
    const name = literal(fn.function_name, `aws_lambda_function.${id}.function_name`);
    refs.set(`aws_lambda_function.${id}`, {
      function_name: name,
      arn: `arn:aws:lambda:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:function:${name}`,
    });
  }

  const cliOutputs = new Set(Object.values(OUTPUT_NAMES));
  const outputs: EmulatedStack["outputs"] = {};
  for (const [name, output] of Object.entries(tf.output ?? {}) as [string, Json][]) {
    const value = refs.resolve(output.value);
    if (value === undefined && cliOutputs.has(name)) {
      throw new Error(
        `output ${name} = ${JSON.stringify(output.value)}: the CLI reads it, but this test cannot emulate it`,
      );
    }
    // An output the test does not emulate is written as terraform writes an unknown one: null.
    outputs[name] =
      value === undefined
        ? { sensitive: false, type: "dynamic", value: null }
        : { sensitive: false, type: "string", value };
  }
  for (const name of cliOutputs) expect(Object.keys(outputs), "every output the CLI reads").toContain(name);

  const out = (name: string) => outputs[OUTPUT_NAMES[name as keyof typeof OUTPUT_NAMES]]!.value as string;
  return {
    refs,
    queueUrl: out("queueUrl"),
    dlqUrl: out("dlqUrl"),
    pauseParameter: out("pauseParameter"),
    scheduleRule: out("scheduleRule"),
    ledgerBucket: out("ledgerBucket"),
    macKeyArn: out("ledgerMacKeyId"),
    outputs,
  };
}

/**
 * A function's environment as the stack writes it, resolved in the emulated stack. REMEDY_RULES is a Terraform
 * expression (jsonencode over the rule variables): it is the test deployment's (the stack's defaults) instead.
 */
function functionEnv(tf: Json, refs: References, resourceId: string): Record<string, string> {
  const variables = (tf.resource.aws_lambda_function[resourceId]?.environment?.variables ?? {}) as Json;
  const substitutes = deploymentEnv({ region: MOTO_REGION, accountId: MOTO_ACCOUNT_ID });
  const env: Record<string, string> = {};
  for (const [name, expression] of Object.entries(variables)) {
    const value = refs.resolve(expression);
    if (value !== undefined) env[name] = value;
    else if (name === "REMEDY_RULES") env[name] = substitutes.REMEDY_RULES!;
    else throw new Error(`${resourceId}'s ${name} = ${JSON.stringify(expression)}: not modelled by this test`);
  }
  return env;
}

// ---------------------------------------------------------------------------------------------------------------
// Running code under test (the Lambda handlers here, the CLI in child processes) against moto.

interface Clients {
  ec2: EC2Client;
  s3: S3Client;
  sqs: SQSClient;
  ssm: SSMClient;
  kms: KMSClient;
  sns: SNSClient;
  eventBridge: EventBridgeClient;
}

function clientsFor(moto: Moto): Clients {
  const config = { ...moto.clientConfig, maxAttempts: 2 };
  return {
    ec2: new EC2Client(config),
    s3: new S3Client(config),
    sqs: new SQSClient(config),
    ssm: new SSMClient(config),
    kms: new KMSClient(config),
    sns: new SNSClient(config),
    eventBridge: new EventBridgeClient(config),
  };
}

/** Runs `run` with `env` over process.env (the handlers read their settings and AWS endpoint from it). */
async function withEnv<T>(env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await run();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** A live group as Config records it (configuration item, camelCase, ipRanges repeating ipv4Ranges). */
function configItemOf(group: SecurityGroup, capturedAt: Date): Record<string, unknown> {
  const permission = (p: IpPermission) => ({
    ipProtocol: p.IpProtocol,
    ...(p.FromPort !== undefined ? { fromPort: p.FromPort } : {}),
    ...(p.ToPort !== undefined ? { toPort: p.ToPort } : {}),
    ipv4Ranges: (p.IpRanges ?? []).map((r) => ({
      cidrIp: r.CidrIp,
      ...(r.Description ? { description: r.Description } : {}),
    })),
    ipRanges: (p.IpRanges ?? []).map((r) => r.CidrIp),
    ipv6Ranges: (p.Ipv6Ranges ?? []).map((r) => ({
      cidrIpv6: r.CidrIpv6,
      ...(r.Description ? { description: r.Description } : {}),
    })),
    prefixListIds: (p.PrefixListIds ?? []).map((entry) => ({ prefixListId: entry.PrefixListId })),
    userIdGroupPairs: (p.UserIdGroupPairs ?? []).map((pair) => ({ groupId: pair.GroupId, userId: pair.UserId })),
  });
  const tags = Object.fromEntries((group.Tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
  return {
    relatedEvents: [],
    relationships: [],
    configuration: {
      description: group.Description,
      groupName: group.GroupName,
      ipPermissions: (group.IpPermissions ?? []).map(permission),
      ownerId: group.OwnerId,
      groupId: group.GroupId,
      ipPermissionsEgress: (group.IpPermissionsEgress ?? []).map(permission),
      tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
      vpcId: group.VpcId,
    },
    supplementaryConfiguration: {},
    tags,
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationStateId: capturedAt.getTime(),
    awsAccountId: MOTO_ACCOUNT_ID,
    configurationItemStatus: "ResourceDiscovered",
    resourceType: "AWS::EC2::SecurityGroup",
    resourceId: group.GroupId,
    resourceName: group.GroupName,
    ARN: `arn:aws:ec2:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:security-group/${group.GroupId}`,
    awsRegion: MOTO_REGION,
    availabilityZone: "Not Applicable",
    configurationStateMd5Hash: "",
    resourceCreationTime: capturedAt.toISOString(),
  };
}

interface CliRun {
  argv: string[];
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const CHILD_TIMEOUT_MS = 30_000;

function runCli(argv: string[], cwd: string, env: Record<string, string>): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // No terminal anywhere: stdin is closed, so a command that asks is answered "no".
    const child = spawn(process.execPath, [BIN, ...argv], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ argv, code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function shown(run: CliRun): string {
  return `remedy ${run.argv.join(" ")} (exit ${run.code}, ${run.ms} ms)\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}

/** What every run must show: it finished, no stack trace, and (when it succeeded) no warning or error on stderr. */
function expectClean(run: CliRun, exitCode: number): void {
  expect(run.code, shown(run)).toBe(exitCode);
  expect(run.stderr, shown(run)).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  if (exitCode === 0) expect(run.stderr, shown(run)).not.toMatch(/\b(warning|error)\b/i);
}

// ---------------------------------------------------------------------------------------------------------------

/** moto with the emulated stack in it. */
interface Deployed {
  moto: Moto;
  clients: Clients;
  stack: EmulatedStack;
  tf: Json;
}

interface World extends Deployed {
  /** The CLI's working directory (remedy-outputs.json) and scratch space. */
  dir: string;
  /** The CLI's whole environment: moto only. */
  env: Record<string, string>;
  /** The group the real remediation fixed, its revoked rule as it was, and the action that did it. */
  fixed: { groupId: string; rule: SecurityGroupRule; actionId: string };
  /** The group whose instruction stays queued (auto-response is off). */
  queued: Instruction;
  /** Set once `undo --yes` has run. */
  undoActionId?: string;
  runs: CliRun[];
}

const SSH = { IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIp: "0.0.0.0/0" } as const;

async function createGroup(
  ec2: EC2Client,
  name: string,
  permissions: IpPermission[],
  ruleTags: { Key: string; Value: string }[] = [],
): Promise<string> {
  const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: `${name} (e2e)` }));
  for (const permission of permissions) {
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [permission],
        ...(ruleTags.length ? { TagSpecifications: [{ ResourceType: "security-group-rule", Tags: ruleTags }] } : {}),
      }),
    );
  }
  return GroupId!;
}

async function groupRules(ec2: EC2Client, groupId: string): Promise<SecurityGroupRule[]> {
  const { SecurityGroupRules = [] } = await ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
  );
  return SecurityGroupRules;
}

const isOpenSsh = (rule: SecurityGroupRule) =>
  rule.IsEgress === false &&
  rule.IpProtocol === SSH.IpProtocol &&
  rule.FromPort === SSH.FromPort &&
  rule.ToPort === SSH.ToPort &&
  rule.CidrIpv4 === SSH.CidrIp;

async function describeGroup(ec2: EC2Client, groupId: string): Promise<SecurityGroup> {
  const { SecurityGroups = [] } = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  return SecurityGroups[0]!;
}

async function ledgerKeys(w: Deployed): Promise<string[]> {
  const { Contents = [] } = await w.clients.s3.send(
    new ListObjectsV2Command({ Bucket: w.stack.ledgerBucket, Prefix: LEDGER_PREFIX }),
  );
  return Contents.map((object) => object.Key!).sort();
}

async function readPause(w: Deployed): Promise<PauseState> {
  const { Parameter } = await w.clients.ssm.send(new GetParameterCommand({ Name: w.stack.pauseParameter }));
  return parsePauseState(Parameter?.Value ?? "");
}

async function queueDepth(w: Deployed, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await w.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/** The Config rule Lambda (real handler, the stack's environment) judging one live group; returns what it queued. */
async function configRuleRun(w: Deployed, groupId: string): Promise<Instruction[]> {
  const env = { ...w.moto.env, ...functionEnv(w.tf, w.stack.refs, "config_rule") };
  // Config invokes the rule with the Config rule's name and parameters: the deployed ones.
  const deployed = deployedRuleFor(readDeployment(env), "sg-open-ingress")!;
  return withEnv(env, async () => {
    // moto gap: PutEvaluations without TestMode answers HTTP 500 ("not yet implemented"); Config's side is stubbed.
    const config = mockClient(configServiceClient());
    config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    try {
      const { handler } = await import("../../functions/config-rule/handler.ts");
      const group = await describeGroup(w.clients.ec2, groupId);
      const event = changeEvent(configItemOf(group, new Date(Date.now() - 5_000)), {
        configRuleName: deployed.configRuleName,
        parameters: deployed.rawParameters,
      });
      const result = await handler(event);
      if (result.outcome !== "evaluated") throw new Error(`config rule rejected the event: ${result.reason}`);
      expect(config.commandCalls(PutEvaluationsCommand)).toHaveLength(1);
      expect(result.evaluations.map((e) => e.ComplianceType)).toEqual(["NON_COMPLIANT"]);
      return result.queued;
    } finally {
      config.restore();
    }
  });
}

/** Receives the instruction as the coordinator does and runs the real remediate-sg Lambda on it. */
async function dispatchAndFix(w: Deployed, instruction: Instruction): Promise<string> {
  const { Messages = [] } = await w.clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: w.stack.queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: DISPATCH_VISIBILITY_SECONDS,
      WaitTimeSeconds: 1,
    }),
  );
  expect(Messages).toHaveLength(1);
  const [message] = Messages;
  expect(parseInstruction(message!.Body)).toEqual(instruction);
  const env = functionEnv(w.tf, w.stack.refs, "remediate_sg");
  const request: RemediationRequest = {
    queueUrl: w.stack.queueUrl,
    receiptHandle: message!.ReceiptHandle!,
    messageId: message!.MessageId!,
    instruction,
    attempt: 1,
    maxAttempts: Number(functionEnv(w.tf, w.stack.refs, "coordinator").REMEDY_MAX_ATTEMPTS),
    dispatchedAt: new Date().toISOString(),
  };
  // What Lambda hands the handler: the invoke's payload, parsed.
  const payload = JSON.parse(new TextDecoder().decode(encodeRemediationRequest(request)));
  return withEnv({ ...w.moto.env, ...env }, async () => {
    kmsKeyArnsAsAws(kmsClient());
    const { handler } = await import("../../functions/remediate-sg/handler.ts");
    const result = await handler(payload);
    if (result.status !== "fixed") throw new Error(`remediate-sg did not fix: ${JSON.stringify(result)}`);
    expect(result.messageDeleted).toBe(true);
    return result.actionId;
  });
}

async function setUp(moto: Moto, dir: string): Promise<World> {
  const clients = clientsFor(moto);
  const tf = synthesize();
  const stack = await emulateStack(tf, clients, new Date());
  const w: Deployed = { moto, clients, stack, tf };

  const webId = await createGroup(
    clients.ec2,
    "remedy-e2e-web",
    [
      { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
      {
        IpProtocol: SSH.IpProtocol,
        FromPort: SSH.FromPort,
        ToPort: SSH.ToPort,
        IpRanges: [{ CidrIp: SSH.CidrIp, Description: "ssh from anywhere (temporary)" }],
      },
    ],
    [{ Key: "ticket", Value: "OPS-1" }],
  );
  const adminId = await createGroup(clients.ec2, "remedy-e2e-admin", [
    { IpProtocol: "tcp", FromPort: 3389, ToPort: 3389, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
  ]);
  const before = (await groupRules(clients.ec2, webId)).find(isOpenSsh);
  expect(before, "the open ssh rule").toBeDefined();

  // One real action to undo: detected, queued, dispatched and fixed by the real functions.
  const [webInstruction, ...more] = await configRuleRun(w, webId);
  expect(more).toEqual([]);
  const actionId = await dispatchAndFix(w, webInstruction!);
  expect((await groupRules(clients.ec2, webId)).filter(isOpenSsh), "revoked by the remediation").toEqual([]);
  const record = await readLedgerRecord(clients.s3, { bucket: stack.ledgerBucket }, actionId);
  expect(record).toMatchObject({ outcome: "fixed", resource: { id: webId }, integrity: { keyId: stack.macKeyArn } });
  expect(await kmsRecordVerifier(clients.kms).verify({ ...record, integrity: record.integrity! })).toBe(true);
  expect(await queueDepth(w, stack.queueUrl)).toEqual({ visible: 0, inFlight: 0 });

  // One instruction left on the queue for peek, queued by the real Config rule Lambda.
  const [adminInstruction, ...others] = await configRuleRun(w, adminId);
  expect(others).toEqual([]);

  // `terraform output -json > remedy-outputs.json`, in the directory the CLI runs in.
  writeFileSync(join(dir, DEFAULT_OUTPUTS_FILE), `${JSON.stringify(stack.outputs, null, 2)}\n`);
  return {
    ...w,
    dir,
    env: isolatedEnv(moto, dir),
    fixed: { groupId: webId, rule: before!, actionId },
    queued: adminInstruction!,
    runs: [],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The checks, one per command the README runs. A command without one fails.

type Check = (w: World, argv: string[]) => Promise<void>;

async function run(w: World, argv: string[]): Promise<CliRun> {
  const result = await runCli(argv, w.dir, w.env);
  w.runs.push(result);
  return result;
}

const checkPeek: Check = async (w, argv) => {
  const result = await run(w, argv);
  expectClean(result, 0);
  const { resource, problem, id } = w.queued;
  for (const shownText of [resource.id, resource.accountId, resource.region, problem, id.slice(0, 12), "3389"]) {
    expect(result.stdout, `${shown(result)}\nshows ${shownText}`).toContain(shownText);
  }
  expect(result.stdout, "the fixed group is not queued").not.toContain(w.fixed.groupId);
  expect(await queueDepth(w, w.stack.queueUrl), "peeking consumes nothing").toEqual({ visible: 1, inFlight: 0 });
};

const checkPeekJson: Check = async (w, argv) => {
  const result = await run(w, argv);
  expectClean(result, 0);
  const parsed = JSON.parse(result.stdout);
  expect(parsed).toMatchObject({ queueUrl: w.stack.queueUrl, truncated: false, invalid: [] });
  expect(parsed.groups).toHaveLength(1);
  expect(parsed.groups[0]).toMatchObject({ id: w.queued.id, count: 1 });
  expect(parsed.groups[0].instruction).toEqual(w.queued);
  expect(await queueDepth(w, w.stack.queueUrl), "peeking consumes nothing").toEqual({ visible: 1, inFlight: 0 });
};

async function expectedStatus(w: World) {
  const pause = await readPause(w);
  const actions = [w.fixed.actionId, ...(w.undoActionId ? [w.undoActionId] : [])];
  return { pause, actions };
}

/** `status --json`, checked part by part: also run after the README's `status` to check what it showed. */
async function checkStatusReport(w: World, result: CliRun): Promise<void> {
  expectClean(result, 0);
  const report = JSON.parse(result.stdout);
  const { pause, actions } = await expectedStatus(w);
  for (const [part, entry] of Object.entries(report)) {
    expect((entry as { ok: boolean }).ok, `status part ${part}: ${JSON.stringify(entry)}`).toBe(true);
  }
  expect(report.autoResponse.value).toEqual({ enabled: false, rule: w.stack.scheduleRule });
  expect(report.pause.value).toMatchObject({ paused: pause.paused, by: pause.by, reason: pause.reason });
  expect(report.queue.value).toMatchObject({ visible: 1, inFlight: 0 });
  expect(report.deadLetterQueue.value).toMatchObject({ visible: 0, inFlight: 0 });
  const listed = (report.recentActions.value.records as LedgerRecord[]).map((record) => record.actionId);
  expect(listed.sort()).toEqual([...actions].sort());
  expect(report.recentActions.value.invalid).toEqual([]);
}

const checkStatus: Check = async (w, argv) => {
  const result = await run(w, argv);
  if (argv.includes("--json")) return checkStatusReport(w, result);
  expectClean(result, 0);
  expect(result.stdout, `${shown(result)}\nno part unknown`).not.toMatch(/unknown/i);
  const gate = result.stdout.split("\n").find((line) => /auto-response/i.test(line));
  expect(gate, `${shown(result)}\nsays whether auto-response is on`).toBeDefined();
  expect(gate, "auto-response OFF").toMatch(/\bOFF\b/);
  expect(gate).not.toMatch(/\bON\b/);
  const { actions } = await expectedStatus(w);
  for (const actionId of actions) expect(result.stdout, `${shown(result)}\nlists ${actionId}`).toContain(actionId);
  // The rest (pause switch, depths, each part readable) from the same command's --json, wording aside.
  await checkStatusReport(w, await run(w, [...argv, "--json"]));
};

function pauseCheck(reason: string | undefined): Check {
  return async (w, argv) => {
    const started = Date.now();
    const result = await run(w, argv);
    expectClean(result, 0);
    const state = await readPause(w);
    expect(state, shown(result)).toMatchObject({ paused: true });
    if (reason !== undefined) expect(state.reason).toBe(reason);
    expect(state.by).not.toBe("");
    expect(Date.parse(state.at)).toBeGreaterThanOrEqual(started - 1_000);
    expect(result.stdout.trim(), "says what it did").not.toBe("");
  };
}

const checkResume: Check = async (w, argv) => {
  const before = await readPause(w);
  expect(before.paused, "the README resumes after pausing").toBe(true);
  const started = Date.now();
  const result = await run(w, argv);
  expectClean(result, 0);
  const state = await readPause(w);
  expect(state, shown(result)).toMatchObject({ paused: false });
  expect(Date.parse(state.resumedAt ?? ""), "records when it resumed").toBeGreaterThanOrEqual(started - 1_000);
  expect(state.by).not.toBe("");
  expect(result.stdout.trim(), "says what it did").not.toBe("");
};

const checkUndo: Check = async (w, argv) => {
  // The only substitution: the README's example action id is the real action's.
  expect(argv[1], "the README's undo names the example action id this test replaces").toBe(README_EXAMPLE_ACTION_ID);
  const written = argv.map((arg) => (arg === README_EXAMPLE_ACTION_ID ? w.fixed.actionId : arg));
  const keysBefore = await ledgerKeys(w);
  expect((await groupRules(w.clients.ec2, w.fixed.groupId)).filter(isOpenSsh)).toEqual([]);

  // As written: no --yes and no terminal to ask on, so it shows what it would add back and changes nothing.
  const declined = await run(w, written);
  expectClean(declined, 1);
  expect(declined.stdout, `${shown(declined)}\nshows the rule it would add back`).toContain(SSH.CidrIp);
  expect(declined.stdout).toContain(String(SSH.FromPort));
  expect((await groupRules(w.clients.ec2, w.fixed.groupId)).filter(isOpenSsh), "still revoked").toEqual([]);
  expect(await ledgerKeys(w), "nothing recorded").toEqual(keysBefore);

  // The same command with --yes: the rule is back, with its description and tags, and the undo is recorded.
  const confirmed = await run(w, [...written, "--yes"]);
  expectClean(confirmed, 0);
  const restored = (await groupRules(w.clients.ec2, w.fixed.groupId)).filter(isOpenSsh);
  expect(restored, shown(confirmed)).toHaveLength(1);
  expect(restored[0]).toMatchObject({ Description: w.fixed.rule.Description, Tags: w.fixed.rule.Tags });
  const added = (await ledgerKeys(w)).filter((key) => !keysBefore.includes(key));
  expect(added, "one undo record").toHaveLength(1);
  const { Body } = await w.clients.s3.send(new GetObjectCommand({ Bucket: w.stack.ledgerBucket, Key: added[0] }));
  const record = parseLedgerRecord(await Body!.transformToString());
  expect(record).toMatchObject({ undoes: w.fixed.actionId, outcome: "fixed", resource: { id: w.fixed.groupId } });
  expect(confirmed.stdout, "names the undo's own action").toContain(record.actionId);
  w.undoActionId = record.actionId;
};

/** The check for one README command (argv after `npx remedy`), or undefined when the test does not know it. */
function checkFor(argv: readonly string[]): Check | undefined {
  const key = argv.join(" ");
  if (key === "peek") return checkPeek;
  if (key === "peek --json") return checkPeekJson;
  if (key === "status" || key === "status --json") return checkStatus;
  if (key === "pause") return pauseCheck(undefined);
  if (argv[0] === "pause" && argv[1] === "--reason" && argv.length === 3) return pauseCheck(argv[2]);
  if (key === "resume") return checkResume;
  if (argv[0] === "undo" && argv.length === 2) return checkUndo;
  return undefined;
}

describe.skipIf(skipWithoutMoto("the README's operate steps run against moto"))(
  "README operate steps, run as written against moto",
  () => {
    let moto: Moto | undefined;
    let dir: string | undefined;
    let w: World | undefined;
    const started = Date.now();

    beforeAll(async () => {
      moto = await startMoto();
      dir = mkdtempSync(join(tmpdir(), "remedy-readme-"));
      w = await setUp(moto, dir);
    }, 90_000);

    afterAll(async () => {
      if (w) {
        const total = w.runs.reduce((sum, entry) => sum + entry.ms, 0);
        console.info(
          `readme-operate: ${w.runs.length} CLI runs, ${total} ms in children (slowest ${Math.max(...w.runs.map((r) => r.ms))} ms), ${Date.now() - started} ms in all`,
        );
        if (process.env.README_OPERATE_DEBUG) for (const r of w.runs) console.info(shown(r));
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
      await moto?.stop();
    });

    for (const line of REMEDY_LINES) {
      it(label(line), async () => {
        if (!w) throw new Error("the emulated stack was not set up");
        const check = checkFor(line.kind.argv);
        if (!check) {
          throw new Error(
            `${label(line)}: this test does not know how to check \`remedy ${line.kind.argv.join(" ")}\`: add a check to test/e2e/readme-operate.test.ts`,
          );
        }
        await check(w, [...line.kind.argv]);
      }, 60_000);
    }
  },
);
