// Organisation mode against moto in multi-account mode (STS AssumeRole answers credentials scoped to the target
// account, and each account's resources are its own): the real `remedy` entry (cli/remedy.ts's main, with the real
// SDK and credential chain, in this process: test/helpers/remedy-process.ts) runs with the hub's credentials, as an
// operator in the hub would. moto enforces no trust policy, so what this shows is where undo acts and how it asks
// for the role (moto's request recorder sees the AssumeRole call); AccessDenied is organization.test.ts's (mocked).
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
import { CreateKeyCommand, KMSClient } from "@aws-sdk/client-kms";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kmsRecordSigner, type LedgerRecord, ledgerKey, readLedgerRecord } from "../../contract/ledger.ts";
import type { PauseState } from "../../platform/pause.ts";
import { MOTO_ACCOUNT_ID, MOTO_REGION, type Moto, skipWithoutMoto, startMoto } from "../helpers/moto.ts";
import { remedyInProcess } from "../helpers/remedy-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const HUB = MOTO_ACCOUNT_ID;
const MEMBER = "222222222222";
const MEMBER_REGION = "us-east-1";
const EXTERNAL_ID = "remedy-hub-7f3a";
const ACTION = "act-20261120T102819Z-7c1d9e2f";
/** What moto's STS answers for the hub's dummy keys. */
const OPERATOR = `arn:aws:sts::${HUB}:user/moto`;

let moto: Moto;
let directory: string;

/** This process's environment without AWS settings (vitest sets some), aimed at moto with the hub's keys. */
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

async function remedy(...args: string[]) {
  const { code, stdout, stderr } = await remedyInProcess(args, { cwd: directory, env: env() });
  return { code, stdout, stderr };
}

/** moto's request recorder (every moto of test/helpers/moto.ts has one, off until started). */
async function recorder(path: string, method = "POST"): Promise<string> {
  const response = await fetch(`${moto.endpoint}/moto-api/recorder/${path}`, { method });
  expect(response.status, `moto recorder ${path}`).toBe(200);
  return response.text();
}

/** The STS calls (query protocol: form-encoded bodies) moto received while `run` ran. */
async function stsCallsDuring<T>(run: () => Promise<T>): Promise<{ value: T; calls: URLSearchParams[] }> {
  await recorder("reset-recording");
  await recorder("start-recording");
  let value: T;
  try {
    value = await run();
  } finally {
    await recorder("stop-recording");
  }
  const calls = (await recorder("download-recording", "GET"))
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as { body?: string; body_encoded?: boolean })
    .map((entry) =>
      entry.body_encoded ? Buffer.from(entry.body ?? "", "base64").toString("utf8") : (entry.body ?? ""),
    )
    .map((body) => new URLSearchParams(body))
    .filter((params) => params.get("Version") === "2011-06-15");
  return { value, calls };
}

/** Clients in `accountId` (moto: through an assumed role's credentials; the hub: its own keys), in `region`. */
async function clientsIn(accountId: string, region: string) {
  if (accountId === HUB) return { ec2: new EC2Client({ ...moto.clientConfig, region }) };
  const sts = new STSClient(moto.clientConfig);
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${accountId}:role/test-setup`, RoleSessionName: "test-setup" }),
  );
  const credentials = {
    accessKeyId: Credentials!.AccessKeyId!,
    secretAccessKey: Credentials!.SecretAccessKey!,
    sessionToken: Credentials!.SessionToken!,
  };
  return { ec2: new EC2Client({ ...moto.clientConfig, region, credentials }) };
}

const ingress = async (ec2: EC2Client, groupId?: string) =>
  (
    await ec2.send(
      new DescribeSecurityGroupRulesCommand(groupId ? { Filters: [{ Name: "group-id", Values: [groupId] }] } : {}),
    )
  ).SecurityGroupRules!.filter((rule) => !rule.IsEgress);

describe.skipIf(skipWithoutMoto("the CLI's organisation mode across accounts (moto)"))(
  "remedy in organisation mode, across accounts (moto)",
  () => {
    const hub = () => ({
      s3: new S3Client(moto.clientConfig),
      kms: new KMSClient(moto.clientConfig),
      ssm: new SSMClient(moto.clientConfig),
    });
    let ledgerBucket: string;
    let ledgerMacKeyId: string;
    const pauseParameter = "/remedy/pause";

    beforeAll(async () => {
      moto = await startMoto();
      const aws = hub();
      ledgerBucket = "remedy-ledger-org";
      await aws.s3.send(
        new CreateBucketCommand({
          Bucket: ledgerBucket,
          CreateBucketConfiguration: { LocationConstraint: MOTO_REGION as "eu-west-1" },
        }),
      );
      const key = await aws.kms.send(new CreateKeyCommand({ KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC" }));
      // The key's id, not its ARN: moto's GenerateMac answers with the id it was given (see operate-bin.test.ts).
      ledgerMacKeyId = key.KeyMetadata!.KeyId!;
      directory = mkdtempSync(join(tmpdir(), "remedy-org-moto-"));
      const settings = { regions: [MOTO_REGION, MEMBER_REGION], externalId: EXTERNAL_ID, default: { mode: "enforce" } };
      const outputs = {
        region: MOTO_REGION,
        account_id: HUB,
        pause_parameter: pauseParameter,
        ledger_bucket: ledgerBucket,
        ledger_mac_key_id: ledgerMacKeyId,
        mode: "organization",
        organization_regions: settings.regions,
        organization_settings: JSON.stringify(settings),
      };
      writeFileSync(
        join(directory, "remedy-outputs.json"),
        JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([name, value]) => [name, { value }]))),
      );
    }, 60_000);

    afterAll(async () => {
      if (directory) rmSync(directory, { recursive: true, force: true });
      await moto?.stop();
    });

    it("undo re-adds the rule in the record's member account and region only, through remedy-member-undo", async () => {
      // The member's group as Remedy's fix left it: the SSH rule revoked (its id from EC2 first).
      const member = await clientsIn(MEMBER, MEMBER_REGION);
      const { GroupId: groupId } = await member.ec2.send(
        new CreateSecurityGroupCommand({ GroupName: "remedy-org-undo", Description: "org undo test" }),
      );
      const ssh = {
        IpProtocol: "tcp",
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "debug" }],
      };
      await member.ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ssh] }));
      const [revoked] = await ingress(member.ec2, groupId);
      await member.ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: [ssh] }));
      // The hub has a group with the same name, left as it is: an undo in the wrong account would show there.
      const hubEc2 = new EC2Client({ ...moto.clientConfig, region: MEMBER_REGION });
      await hubEc2.send(new CreateSecurityGroupCommand({ GroupName: "remedy-org-undo", Description: "hub twin" }));
      const hubRulesBefore = await ingress(hubEc2);

      const record: LedgerRecord = {
        version: 1,
        actionId: ACTION,
        instructionId: "0123456789abcdef0123456789abcdef",
        problem: "sg-open-ingress",
        resource: { type: "AWS::EC2::SecurityGroup", id: groupId!, accountId: MEMBER, region: MEMBER_REGION },
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
      const aws = hub();
      // Signed as the hub's remediation signs it, in the hub's ledger.
      const signed = { ...record, integrity: await kmsRecordSigner(aws.kms, ledgerMacKeyId).sign(record) };
      await aws.s3.send(
        new PutObjectCommand({ Bucket: ledgerBucket, Key: ledgerKey(ACTION), Body: JSON.stringify(signed) }),
      );

      const { value: undone, calls } = await stsCallsDuring(() => remedy("undo", ACTION, "--yes", "--json"));
      expect(undone.stderr).not.toMatch(/error/i);
      expect(undone.code).toBe(0);
      const result = JSON.parse(undone.stdout);
      expect(result).toMatchObject({
        outcome: "restored",
        undoes: ACTION,
        by: OPERATOR,
        steps: ['re-authorized: tcp 22 from 0.0.0.0/0 "debug"'],
      });
      expect(undone.stderr).toContain(
        `Acting in account ${MEMBER} (${MEMBER_REGION}) as arn:aws:iam::${MEMBER}:role/remedy/remedy-member-undo, session undo-${ACTION}.`,
      );
      // The hub's credentials asked STS for exactly the member's undo role, named after the undo, once.
      const assumed = calls.filter((call) => call.get("Action") === "AssumeRole");
      expect(assumed.map((call) => Object.fromEntries(call))).toEqual([
        {
          Action: "AssumeRole",
          Version: "2011-06-15",
          RoleArn: `arn:aws:iam::${MEMBER}:role/remedy/remedy-member-undo`,
          RoleSessionName: `undo-${ACTION}`,
          SourceIdentity: `undo-${ACTION}`,
          DurationSeconds: "900",
          ExternalId: EXTERNAL_ID,
        },
      ]);
      // The rule is back in the member's group, and nothing changed in the hub.
      expect(
        (await ingress(member.ec2, groupId)).map(
          (rule) => `${rule.IpProtocol} ${rule.FromPort} ${rule.CidrIpv4} ${rule.Description}`,
        ),
      ).toEqual(["tcp 22 0.0.0.0/0 debug"]);
      expect(await ingress(hubEc2)).toEqual(hubRulesBefore);
      // The undo's record is in the hub's ledger, for the member's resource, with the hub operator who asked.
      const undoRecord = await readLedgerRecord(aws.s3, { bucket: ledgerBucket }, result.actionId);
      expect(undoRecord).toMatchObject({
        undoes: ACTION,
        outcome: "fixed",
        requestedBy: OPERATOR,
        resource: { id: groupId, accountId: MEMBER, region: MEMBER_REGION },
      });
    }, 60_000);

    it("resume --account clears that account's pause in the hub's switch, recording who; the rest stays", async () => {
      const aws = hub();
      const state: PauseState = {
        paused: false,
        by: "terraform",
        reason: "created with the stack",
        at: "2026-11-20T08:00:00.000Z",
        accounts: {
          [MEMBER]: {
            paused: true,
            by: "circuit-breaker",
            reason: "burst in 222222222222",
            at: "2026-11-20T11:00:00.000Z",
          },
          "333333333333": { paused: true, by: "circuit-breaker", reason: "burst", at: "2026-11-20T11:05:00.000Z" },
        },
      };
      await aws.ssm.send(
        new PutParameterCommand({
          Name: pauseParameter,
          Type: "String",
          Value: JSON.stringify(state),
          Overwrite: true,
        }),
      );
      const resumed = await remedy("resume", "--account", MEMBER, "--json");
      expect(resumed.code).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ outcome: "resumed", account: MEMBER, by: OPERATOR });
      const stored = JSON.parse(
        (await aws.ssm.send(new GetParameterCommand({ Name: pauseParameter }))).Parameter!.Value!,
      ) as PauseState;
      expect(stored.accounts![MEMBER]).toMatchObject({ paused: false, by: OPERATOR, resumedAt: expect.any(String) });
      expect(stored.accounts!["333333333333"]).toEqual(state.accounts!["333333333333"]);
      expect(stored).toMatchObject({ paused: false, by: "terraform" });

      const status = await remedy("status");
      expect(status.code).toBe(1);
      // Parts without outputs here (queues, schedule) are unknown: status exits 1, and still shows the rest.
      expect(status.stdout).toContain(`Paused accounts: 1 — 333333333333 by circuit-breaker`);
    }, 60_000);
  },
);
