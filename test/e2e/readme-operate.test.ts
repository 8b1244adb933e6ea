// The README's operate steps, re-run as written against moto so they cannot drift: the ```sh lines under
// "## How you use it" and "## Deploy › ### Use it" (test/e2e/readme-commands.ts), in README order.
//
// moto gets what `terraform apply` would create, named and configured as the synthesized stack says (queues, pause
// parameter, DISABLED schedule rule, ledger bucket, HMAC ledger key, report topic; test/e2e/moto-stack.ts), plus two
// security groups open to the internet. The real Config rule Lambda (handler, with the environment the stack gives it)
// judges both groups and queues their fix instructions; one is dispatched as the coordinator would and fixed by the
// real remediate-sg Lambda (revoked in moto, ledgered in moto's S3 with a MAC from moto's KMS), the other stays
// queued for peek. The outputs file is written as `terraform output -json > remedy-outputs.json` writes it, and every
// `npx remedy` line is run with the argv after `npx remedy`, seeing only moto, its stdout, stderr and exit code checked
// semantically: through the entry bin/remedy.js calls (cli/remedy.ts's main: the same argv parsing, the real AWS
// SDK, no terminal), in this process, and the first line as `node bin/remedy.js` in a real child process instead
// (test/helpers/remedy-process.ts). Every other line must be of a kind known not to run offline (terraform, npm run synth,
// cp of the tfvars example, comments), each checked against what it refers to.
//
// moto gaps worked around here: GenerateMac answers a bare key id instead of the ARN (kmsKeyArnsAsAws), and
// PutEvaluations without TestMode is not implemented (HTTP 500), so the Config rule's PutEvaluations is stubbed.
// README_OPERATE_DEBUG=1 prints every CLI run (argv, exit code, time, stdout, stderr) at the end.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_OUTPUTS_FILE } from "../../cli/stack.ts";
import { kmsRecordVerifier } from "../../cli/undo-runner.ts";
import { encodeRemediationRequest, type RemediationRequest } from "../../contract/dispatch.ts";
import { type Instruction, parseInstruction } from "../../contract/instruction.ts";
import { type LedgerRecord, parseLedgerRecord, readLedgerRecord } from "../../contract/ledger.ts";
import { DISPATCH_VISIBILITY_SECONDS } from "../../functions/registry.ts";
import { STACK_NAME } from "../../infra/stack.ts";
import { VARIABLES_FILE } from "../../infra/tfvars.ts";
import { configServiceClient, kmsClient } from "../../platform/clients.ts";
import { deployedRuleFor, readDeployment } from "../../platform/deployment.ts";
import { changeEvent } from "../fixtures/events.ts";
import { isolatedEnv, kmsKeyArnsAsAws, type Moto, skipWithoutMoto, startMoto } from "../helpers/moto.ts";
import {
  type CliRun,
  createGroup,
  type Deployed,
  deployToMoto,
  describeGroup,
  expectClean,
  functionEnv,
  groupRules,
  ledgerKeys,
  MOTO_CONFIG_SCOPE,
  queueDepth,
  REPO,
  readPause,
  runCli,
  configRuleRun as runConfigRuleOnce,
  securityGroupConfigItem,
  shown,
  withEnv,
} from "./moto-stack.ts";
import {
  classifyLine,
  type LineKind,
  OPERATE_SECTIONS,
  operateLines,
  README_EXAMPLE_ACTION_ID,
  type SimpleCommand,
} from "./readme-commands.ts";

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

/**
 * A comment-only line tells the reader to change a setting (`# enable_auto_response = true in remedy.auto.tfvars`):
 * it says something, and every `name = value` it mentions is a setting the tfvars example has.
 */
function checkComment(comment: string): void {
  expect(comment.trim(), "a comment-only README line says something").not.toBe("");
  const example = readFileSync(join(REPO, "remedy.auto.tfvars.example"), "utf8");
  const settings = [...example.matchAll(/^\s*#?\s*([a-z_][a-z0-9_]*)\s*=/gm)].map((match) => match[1]);
  for (const [, name] of comment.matchAll(/\b([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\s*=/g)) {
    expect(settings, `"${comment}" names a setting of remedy.auto.tfvars.example`).toContain(name);
  }
}

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
      if (kind.kind === "comment") {
        checkComment(kind.comment);
        return;
      }
      if (kind.kind === "offline") for (const command of kind.commands) checkOfflineCommand(command);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------

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

const isOpenSsh = (rule: SecurityGroupRule) =>
  rule.IsEgress === false &&
  rule.IpProtocol === SSH.IpProtocol &&
  rule.FromPort === SSH.FromPort &&
  rule.ToPort === SSH.ToPort &&
  rule.CidrIpv4 === SSH.CidrIp;

/** The Config rule Lambda (real handler, the stack's environment) judging one live group; returns what it queued. */
async function configRuleRun(w: Deployed, groupId: string): Promise<Instruction[]> {
  const group = await describeGroup(w.clients.ec2, groupId);
  const item = securityGroupConfigItem(group, new Date(Date.now() - 5_000), MOTO_CONFIG_SCOPE);
  const result = await runConfigRuleOnce(w, item, "sg-open-ingress");
  expect(result.reported.map((e) => e.ComplianceType)).toEqual(["NON_COMPLIANT"]);
  return result.queued;
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
    const { deployedHandler } = await import("../support/remediate.ts");
    const { handler } = await deployedHandler("remediate-sg");
    const result = await handler(payload);
    if (result.status !== "fixed") throw new Error(`remediate-sg did not fix: ${JSON.stringify(result)}`);
    expect(result.messageDeleted).toBe(true);
    return result.actionId;
  });
}

async function setUp(moto: Moto, dir: string): Promise<World> {
  const w: Deployed = await deployToMoto(moto);
  const { clients, stack } = w;

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

/** `how`: how the README's line itself is run (what a check runs besides, e.g. the same with --json, runs in process). */
type Check = (w: World, argv: string[], how: CliRun["how"]) => Promise<void>;

async function run(w: World, argv: string[], how: CliRun["how"] = "in-process"): Promise<CliRun> {
  const result = await runCli(argv, w.dir, w.env, how);
  w.runs.push(result);
  return result;
}

const checkPeek: Check = async (w, argv, how) => {
  const result = await run(w, argv, how);
  expectClean(result, 0);
  const { resource, problem, id } = w.queued;
  for (const shownText of [resource.id, resource.accountId, resource.region, problem, id.slice(0, 12), "3389"]) {
    expect(result.stdout, `${shown(result)}\nshows ${shownText}`).toContain(shownText);
  }
  expect(result.stdout, "the fixed group is not queued").not.toContain(w.fixed.groupId);
  expect(await queueDepth(w, w.stack.queueUrl), "peeking consumes nothing").toEqual({ visible: 1, inFlight: 0 });
};

const checkPeekJson: Check = async (w, argv, how) => {
  const result = await run(w, argv, how);
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

const checkStatus: Check = async (w, argv, how) => {
  const result = await run(w, argv, how);
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
  return async (w, argv, how) => {
    const started = Date.now();
    const result = await run(w, argv, how);
    expectClean(result, 0);
    const state = await readPause(w);
    expect(state, shown(result)).toMatchObject({ paused: true });
    if (reason !== undefined) expect(state.reason).toBe(reason);
    expect(state.by).not.toBe("");
    expect(Date.parse(state.at)).toBeGreaterThanOrEqual(started - 1_000);
    expect(result.stdout.trim(), "says what it did").not.toBe("");
  };
}

const checkResume: Check = async (w, argv, how) => {
  const before = await readPause(w);
  expect(before.paused, "the README resumes after pausing").toBe(true);
  const started = Date.now();
  const result = await run(w, argv, how);
  expectClean(result, 0);
  const state = await readPause(w);
  expect(state, shown(result)).toMatchObject({ paused: false });
  expect(Date.parse(state.resumedAt ?? ""), "records when it resumed").toBeGreaterThanOrEqual(started - 1_000);
  expect(state.by).not.toBe("");
  expect(result.stdout.trim(), "says what it did").not.toBe("");
};

const checkUndo: Check = async (w, argv, how) => {
  // The only substitution: the README's example action id is the real action's.
  expect(argv[1], "the README's undo names the example action id this test replaces").toBe(README_EXAMPLE_ACTION_ID);
  const written = argv.map((arg) => (arg === README_EXAMPLE_ACTION_ID ? w.fixed.actionId : arg));
  const keysBefore = await ledgerKeys(w);
  expect((await groupRules(w.clients.ec2, w.fixed.groupId)).filter(isOpenSsh)).toEqual([]);

  // As written: no --yes and no terminal to ask on, so it shows what it would add back and changes nothing.
  const declined = await run(w, written, how);
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

// One walk through the README, in its order: each line acts on the state the lines before it left (pause before
// resume, the fix before undo), so this suite keeps its order even under --sequence.shuffle.
describe.skipIf(skipWithoutMoto("the README's operate steps run against moto"))(
  "README operate steps, run as written against moto",
  { shuffle: false },
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
        const children = w.runs.filter((r) => r.how === "child");
        const total = (runs: CliRun[]) => runs.reduce((sum, entry) => sum + entry.ms, 0);
        console.info(
          `readme-operate: ${w.runs.length} CLI runs, ${children.length} of them in child processes (${total(children)} ms), ` +
            `${total(w.runs) - total(children)} ms in process, ${Date.now() - started} ms in all`,
        );
        if (process.env.README_OPERATE_DEBUG) for (const r of w.runs) console.info(shown(r));
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
      await moto?.stop();
    });

    // Run as a real process: the first line.
    const spawned = new Set([REMEDY_LINES[0]]);

    for (const line of REMEDY_LINES) {
      it(label(line), async () => {
        if (!w) throw new Error("the emulated stack was not set up");
        const check = checkFor(line.kind.argv);
        if (!check) {
          throw new Error(
            `${label(line)}: this test does not know how to check \`remedy ${line.kind.argv.join(" ")}\`: add a check to test/e2e/readme-operate.test.ts`,
          );
        }
        await check(w, [...line.kind.argv], spawned.has(line) ? "child" : "in-process");
      }, 60_000);
    }
  },
);
