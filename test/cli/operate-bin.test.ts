// The operating commands as an operator runs them: the real `remedy` entry (cli/remedy.ts's main, what bin/remedy.js
// calls, with the real AWS SDK) in a directory holding the stack's Terraform outputs, against moto (a real AWS
// emulator: SSM, EventBridge, SQS, STS, S3, KMS, EC2), stdout and stderr captured as pipes, no terminal, in this
// process (test/helpers/remedy-process.ts). The real process: bin.test.ts, node-versions.test.ts and the first line of
// test/e2e/readme-operate.test.ts (against moto).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { EnableRuleCommand, EventBridgeClient, PutRuleCommand } from "@aws-sdk/client-eventbridge";
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInstructions, serializeInstruction } from "../../contract/instruction.ts";
import { kmsRecordSigner, type LedgerRecord, ledgerKey, readLedgerRecord } from "../../contract/ledger.ts";
import type { Finding } from "../../detection/types.ts";
import { initialPauseValue } from "../../platform/pause.ts";
import { MOTO_ACCOUNT_ID, type Moto, skipWithoutMoto, startMoto } from "../helpers/moto.ts";
import { remedyInProcess } from "../helpers/remedy-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** What moto's STS answers for any credentials. */
const MOTO_CALLER = `arn:aws:sts::${MOTO_ACCOUNT_ID}:user/moto`;
const ACTION = "act-20261120T102819Z-7c1d9e2f";

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

let moto: Moto;
const directories: string[] = [];

/** This process's environment without AWS settings (vitest sets some), aimed at moto, run where `cwd` is. */
function env(): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith("AWS_") && !name.startsWith("REMEDY_") && name !== "INIT_CWD",
    ),
  );
  return {
    ...inherited,
    ...moto.env,
    AWS_CONFIG_FILE: join(ROOT, "no-such-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(ROOT, "no-such-aws-credentials"),
  };
}

/** `remedy <args>` run in `cwd` (see the top of this file). */
async function remedy(cwd: string, ...args: string[]): Promise<Ran> {
  const { code, stdout, stderr } = await remedyInProcess(args, { cwd, env: env() });
  return { code, stdout, stderr };
}

const clients = () => ({
  ssm: new SSMClient(moto.clientConfig),
  events: new EventBridgeClient(moto.clientConfig),
  sqs: new SQSClient(moto.clientConfig),
  s3: new S3Client(moto.clientConfig),
  kms: new KMSClient(moto.clientConfig),
  ec2: new EC2Client(moto.clientConfig),
});

/** One stack's pieces in moto, named after `name`, and a directory holding its outputs (as `terraform output -json`). */
async function stack(name: string, options: { accountId?: string; schedule?: "ENABLED" | "DISABLED" } = {}) {
  const aws = clients();
  const pauseParameter = `/remedy-${name}/pause`;
  const scheduleRule = `remedy-${name}-schedule`;
  await aws.ssm.send(
    new PutParameterCommand({
      Name: pauseParameter,
      Type: "String",
      Value: initialPauseValue("2026-11-20T08:00:00.000Z"),
    }),
  );
  await aws.events.send(
    new PutRuleCommand({
      Name: scheduleRule,
      ScheduleExpression: "rate(1 minute)",
      State: options.schedule ?? "DISABLED",
    }),
  );
  const queueUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: `remedy-${name}` }))).QueueUrl!;
  const dlqUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: `remedy-${name}-dlq` }))).QueueUrl!;
  const ledgerBucket = `remedy-ledger-${name}`;
  await aws.s3.send(
    new CreateBucketCommand({
      Bucket: ledgerBucket,
      CreateBucketConfiguration: { LocationConstraint: moto.env.AWS_REGION as "eu-west-1" },
    }),
  );
  const key = await aws.kms.send(new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }));
  // The key's id, not its ARN: moto's GenerateMac answers with the id it was given (real KMS answers the ARN, which is
  // what the stack's output holds).
  const ledgerMacKeyId = key.KeyMetadata!.KeyId!;
  const directory = mkdtempSync(join(tmpdir(), `remedy-operate-${name}-`));
  directories.push(directory);
  const outputs = {
    region: moto.env.AWS_REGION,
    account_id: options.accountId ?? MOTO_ACCOUNT_ID,
    queue_url: queueUrl,
    dlq_url: dlqUrl,
    pause_parameter: pauseParameter,
    ledger_bucket: ledgerBucket,
    ledger_mac_key_id: ledgerMacKeyId,
    schedule_rule_name: scheduleRule,
  };
  writeFileSync(
    join(directory, "remedy-outputs.json"),
    JSON.stringify(
      Object.fromEntries(Object.entries(outputs).map(([output, value]) => [output, { value, type: "string" }])),
    ),
  );
  const pauseState = async () =>
    JSON.parse((await aws.ssm.send(new GetParameterCommand({ Name: pauseParameter }))).Parameter!.Value!);
  return { aws, directory, pauseParameter, scheduleRule, queueUrl, ledgerBucket, ledgerMacKeyId, pauseState };
}

function sshInstruction(groupId: string) {
  const finding: Finding = {
    problem: "sg-open-ingress",
    matched: {
      kind: "sg-rule",
      rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
    },
    reason: "tcp 22 open to 0.0.0.0/0",
  };
  return buildInstructions(
    {
      resource: {
        type: "AWS::EC2::SecurityGroup",
        id: groupId,
        accountId: MOTO_ACCOUNT_ID,
        region: moto.env.AWS_REGION!,
      },
      rule: { id: "sg-open-ingress", parameters: {} },
      capturedAt: "2026-11-20T09:00:00.000Z",
      detectedAt: "2026-11-20T09:01:00.000Z",
      notBefore: "2026-11-20T10:00:00.000Z",
    },
    [finding],
  )[0]!;
}

const skip = skipWithoutMoto("the remedy command against moto (test/cli/operate-bin.test.ts)");

beforeAll(async () => {
  if (!skip) moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

describe
  .skipIf(skip)
  .concurrent(
    "remedy pause, resume, peek, undo (main, the entry bin/remedy.js runs, against moto)",
    { timeout: 120_000 },
    () => {
      it("pause records the caller's AWS identity and keeps the reason; --json is the JSON alone", async () => {
        const { directory, pauseState } = await stack("pause");

        const paused = await remedy(directory, "pause", "--reason", "change freeze");
        expect(paused).toEqual({
          code: 0,
          stdout: `Paused by ${MOTO_CALLER}: change freeze. The coordinator dispatches nothing until "remedy resume".\n`,
          stderr: "",
        });
        const state = await pauseState();
        expect(state).toMatchObject({ paused: true, by: MOTO_CALLER, reason: "change freeze" });

        // Again without a reason: nothing is written, and the pause already there is described.
        const again = await remedy(directory, "pause", "--json");
        expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
        expect(JSON.parse(again.stdout)).toMatchObject({
          outcome: "already-paused",
          by: MOTO_CALLER,
          state: { paused: true, by: MOTO_CALLER, reason: "change freeze", at: state.at },
        });
        expect(await pauseState()).toEqual(state);
      });

      it("credentials for another account than the stack's: pause is refused, exit 1, the parameter unchanged", async () => {
        const { directory, pauseState } = await stack("other-account", { accountId: "210987654321" });
        const before = await pauseState();
        const refused = await remedy(directory, "pause", "--reason", "x");
        expect({ code: refused.code, stdout: refused.stdout }).toEqual({ code: 1, stdout: "" });
        expect(refused.stderr).toBe(
          `remedy pause: these credentials are for account ${MOTO_ACCOUNT_ID} (${MOTO_CALLER}), but Remedy's stack is in account 210987654321: use that account's credentials (--profile).\n`,
        );
        expect(await pauseState()).toEqual(before);
      });

      it("resume while the schedule is disabled says nothing will run; once enabled, --json says the next tick runs", async () => {
        const { aws, directory, pauseParameter, scheduleRule, pauseState } = await stack("resume");
        const pause = (reason: string) =>
          aws.ssm.send(
            new PutParameterCommand({
              Name: pauseParameter,
              Type: "String",
              Overwrite: true,
              Value: JSON.stringify({ paused: true, by: "circuit-breaker", reason, at: "2026-11-20T11:00:00.000Z" }),
            }),
          );
        await pause("61 fresh instructions in 10 minutes");

        const off = await remedy(directory, "resume");
        expect({ code: off.code, stderr: off.stderr }).toEqual({ code: 0, stderr: "" });
        expect(off.stdout).toBe(
          `Resumed by ${MOTO_CALLER} (was paused by circuit-breaker at 2026-11-20 11:00 UTC: 61 fresh instructions in 10 minutes). ` +
            `Auto-response is off (schedule ${scheduleRule} disabled): nothing will run until enable_auto_response = true is applied ` +
            "(set it in remedy.auto.tfvars, then: npm run synth && terraform -chdir=cdktf.out/stacks/remedy apply). " +
            "The breaker only counts what arrives from now on.\n",
        );
        expect(await pauseState()).toMatchObject({ paused: false, by: MOTO_CALLER });

        await pause("again");
        await aws.events.send(new EnableRuleCommand({ Name: scheduleRule }));
        const on = await remedy(directory, "resume", "--json");
        expect({ code: on.code, stderr: on.stderr }).toEqual({ code: 0, stderr: "" });
        expect(JSON.parse(on.stdout)).toMatchObject({
          outcome: "resumed",
          by: MOTO_CALLER,
          state: { paused: false },
          autoResponse: { known: true, enabled: true, rule: scheduleRule },
        });
      });

      it("peek words the change as an action and writes no progress into a pipe", async () => {
        const { aws, directory, queueUrl } = await stack("peek");
        const instruction = sshInstruction("sg-0123456789abcdef0");
        await aws.sqs.send(
          new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: serializeInstruction(instruction) }),
        );

        const peeked = await remedy(directory, "peek");
        expect({ code: peeked.code, stderr: peeked.stderr }).toEqual({ code: 0, stderr: "" });
        expect(peeked.stdout).toMatch(/^1 fix instruction in 1 message\.\n/);
        expect(peeked.stdout).toMatch(
          new RegExp(
            `${instruction.id.slice(0, 12)}\\s+1\\s+.*sg-open-ingress\\s+.*revoke ingress tcp 22 from 0\\.0\\.0\\.0/0`,
          ),
        );
      });

      it("undo --yes --json re-authorizes the rule and prints the result alone; the plan goes to stderr", async () => {
        const { aws, directory, ledgerBucket, ledgerMacKeyId } = await stack("undo");
        const { GroupId: groupId } = await aws.ec2.send(
          new CreateSecurityGroupCommand({ GroupName: "remedy-undo-test", Description: "undo test" }),
        );
        // The rule Remedy revoked, as it was before the fix (its id from EC2, then revoked).
        const ssh = {
          IpProtocol: "tcp",
          FromPort: 22,
          ToPort: 22,
          IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "debug" }],
        };
        await aws.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ssh] }));
        const rules = async () =>
          (
            await aws.ec2.send(
              new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId!] }] }),
            )
          ).SecurityGroupRules!.filter((rule) => !rule.IsEgress);
        const [revoked] = await rules();
        await aws.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ssh] }));
        const record: LedgerRecord = {
          version: 1,
          actionId: ACTION,
          instructionId: "0123456789abcdef0123456789abcdef",
          problem: "sg-open-ingress",
          resource: {
            type: "AWS::EC2::SecurityGroup",
            id: groupId!,
            accountId: MOTO_ACCOUNT_ID,
            region: moto.env.AWS_REGION!,
          },
          ruleId: "sg-open-ingress",
          outcome: "fixed",
          changes: [
            {
              kind: "sg-rules-revoked",
              groupId: groupId!,
              rules: [
                {
                  securityGroupRuleId: revoked!.SecurityGroupRuleId!,
                  ipProtocol: "tcp",
                  fromPort: 22,
                  toPort: 22,
                  cidrIpv4: "0.0.0.0/0",
                  description: "debug",
                },
              ],
            },
          ],
          before: {
            kind: "sg-rules",
            groupId: groupId!,
            rules: [
              {
                SecurityGroupRuleId: revoked!.SecurityGroupRuleId!,
                GroupId: groupId!,
                IsEgress: false,
                IpProtocol: "tcp",
                FromPort: 22,
                ToPort: 22,
                CidrIpv4: "0.0.0.0/0",
                Description: "debug",
              },
            ],
          },
          after: { kind: "sg-rules", groupId: groupId!, rules: [] },
          startedAt: "2026-11-20T10:28:19.000Z",
          finishedAt: "2026-11-20T10:28:20.000Z",
          attempt: 1,
        };
        // Signed as the remediation signs it: KMS GenerateMac with the stack's ledger key.
        const signed = { ...record, integrity: await kmsRecordSigner(aws.kms, ledgerMacKeyId).sign(record) };
        await aws.s3.send(
          new PutObjectCommand({ Bucket: ledgerBucket, Key: ledgerKey(ACTION), Body: JSON.stringify(signed) }),
        );

        const undone = await remedy(directory, "undo", ACTION, "--yes", "--json");
        expect(undone.code).toBe(0);
        const result = JSON.parse(undone.stdout);
        expect(result).toMatchObject({
          outcome: "restored",
          undoes: ACTION,
          actionId: expect.stringMatching(/^act-/),
          by: MOTO_CALLER,
          steps: ['re-authorized: tcp 22 from 0.0.0.0/0 "debug"'],
          reAdded: [
            { kind: "sg-rules", groupId, rules: [expect.objectContaining({ FromPort: 22, CidrIpv4: "0.0.0.0/0" })] },
          ],
        });
        expect(undone.stderr).toContain(`Undo ${ACTION}`);
        expect(undone.stderr).toContain(`re-authorize 1 ingress rule on ${groupId}`);
        expect(undone.stderr).not.toContain("re-authorized ingress rules");
        expect(
          (await rules()).map((rule) => `${rule.IpProtocol} ${rule.FromPort} ${rule.CidrIpv4} ${rule.Description}`),
        ).toEqual(["tcp 22 0.0.0.0/0 debug"]);
        // The undo's own record says who asked for it: the caller's AWS identity.
        const undoRecord = await readLedgerRecord(aws.s3, { bucket: ledgerBucket }, result.actionId);
        expect(undoRecord).toMatchObject({ undoes: ACTION, outcome: "fixed", requestedBy: MOTO_CALLER });
      });
    },
  );
