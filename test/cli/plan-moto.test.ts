// `remedy plan --live` for real: the `remedy` entry (cli/remedy.ts's main, what bin/remedy.js calls, with the real
// AWS SDK; in this process, test/helpers/remedy-process.ts) against moto (a real AWS emulator, its own server for this
// file), with security groups open to the internet and public buckets created there. moto has no Config recorder, so
// the plan reads EC2 and S3 directly (the Config path is on recorded shapes: plan-live.test.ts).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { EventBridgeClient, PutRuleCommand } from "@aws-sdk/client-eventbridge";
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNRECORDED_RESOURCES } from "../../problems/inventory.ts";
import { isolatedEnv, MOTO_ACCOUNT_ID, MOTO_REGION, type Moto, skipWithoutMoto, startMoto } from "../helpers/moto.ts";
import { remedyInProcess } from "../helpers/remedy-process.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const RULE = "remedy-coordinator-schedule";

let moto: Moto;
let caller: string;
let ec2: EC2Client;
let s3: S3Client;
let openGroup: string;
/** The default VPC's default group, which has the default egress rule (all traffic out), as on AWS. */
let defaultGroup: string;

/** What a plan must leave exactly as it was. */
async function accountState() {
  const rules = await ec2.send(
    new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [openGroup] }] }),
  );
  const acl = await s3.send(new GetBucketAclCommand({ Bucket: "acme-public-read" }));
  const policy = await s3.send(new GetBucketPolicyCommand({ Bucket: "acme-public-policy" }));
  const block = await s3
    .send(new GetPublicAccessBlockCommand({ Bucket: "acme-public-read" }))
    .catch((error: Error) => error.name);
  return {
    rules: rules.SecurityGroupRules?.map(
      ({ SecurityGroupRuleId, IsEgress, IpProtocol, FromPort, ToPort, CidrIpv4 }) => ({
        SecurityGroupRuleId,
        IsEgress,
        IpProtocol,
        FromPort,
        ToPort,
        CidrIpv4,
      }),
    ),
    grants: acl.Grants,
    policy: policy.Policy,
    block,
  };
}

describe.skipIf(skipWithoutMoto("plan --live against moto"))(
  "remedy plan --live against moto",
  { timeout: 120_000 },
  () => {
    beforeAll(async () => {
      moto = await startMoto();
      caller = mkdtempSync(join(tmpdir(), "remedy-plan-moto-"));
      ec2 = new EC2Client(moto.clientConfig);
      s3 = new S3Client(moto.clientConfig);
      const group = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "bastion", Description: "bastion" }));
      openGroup = group.GroupId!;
      const defaults = await ec2.send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-name", Values: ["default"] }] }),
      );
      defaultGroup = defaults.SecurityGroups![0]!.GroupId!;
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: openGroup,
          IpPermissions: [
            {
              IpProtocol: "tcp",
              FromPort: 22,
              ToPort: 22,
              IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "temporary ssh" }],
            },
            { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] },
          ],
        }),
      );
      const here = { CreateBucketConfiguration: { LocationConstraint: MOTO_REGION } } as const;
      await s3.send(new CreateBucketCommand({ Bucket: "acme-public-read", ...here }));
      await s3.send(new PutBucketAclCommand({ Bucket: "acme-public-read", ACL: "public-read" }));
      await s3.send(new CreateBucketCommand({ Bucket: "acme-public-policy", ...here }));
      await s3.send(
        new PutBucketPolicyCommand({
          Bucket: "acme-public-policy",
          Policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "AnyoneCanRead",
                Effect: "Allow",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: "arn:aws:s3:::acme-public-policy/*",
              },
            ],
          }),
        }),
      );
      await s3.send(new CreateBucketCommand({ Bucket: "acme-exempt", ...here }));
      await s3.send(new PutBucketAclCommand({ Bucket: "acme-exempt", ACL: "public-read" }));
      await s3.send(
        new PutBucketTaggingCommand({
          Bucket: "acme-exempt",
          Tagging: { TagSet: [{ Key: "remedy:exempt", Value: "public downloads, ticket WEB-9 until=2099-12-31" }] },
        }),
      );
      // Another region's bucket is not this plan's.
      const elsewhere = new S3Client({ ...moto.clientConfig, region: "us-east-1" });
      await elsewhere.send(new CreateBucketCommand({ Bucket: "acme-us-east-public" }));
      await elsewhere.send(new PutBucketAclCommand({ Bucket: "acme-us-east-public", ACL: "public-read" }));
      // A manual DB snapshot anyone can restore (RDS is read through its inventory where Config does not record).
      const rds = new RDSClient(moto.clientConfig);
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: "acme-orders",
          DBInstanceClass: "db.t3.micro",
          Engine: "postgres",
          AllocatedStorage: 20,
          MasterUsername: "orders_admin",
          MasterUserPassword: "not-a-secret-1",
        }),
      );
      await rds.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: "acme-orders",
          DBSnapshotIdentifier: "acme-orders-public",
        }),
      );
      await rds.send(
        new ModifyDBSnapshotAttributeCommand({
          DBSnapshotIdentifier: "acme-orders-public",
          AttributeName: "restore",
          ValuesToAdd: ["all"],
        }),
      );
      await new EventBridgeClient(moto.clientConfig).send(
        new PutRuleCommand({ Name: RULE, ScheduleExpression: "rate(1 minute)", State: "ENABLED" }),
      );
      writeFileSync(
        join(caller, "stack.json"),
        JSON.stringify({
          region: { value: MOTO_REGION },
          account_id: { value: MOTO_ACCOUNT_ID },
          schedule_rule_name: { value: RULE },
        }),
      );
    });

    afterAll(async () => {
      await moto?.stop();
      if (caller) rmSync(caller, { recursive: true, force: true });
    });

    async function remedy(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
      // Nothing of this machine's AWS setup leaks in; the caller's directory is where the outputs file is (npm run).
      const env = { ...isolatedEnv(moto, caller), INIT_CWD: caller };
      const { code, stdout, stderr } = await remedyInProcess(args, { cwd: ROOT, env });
      return { code, stdout, stderr };
    }

    it("reads the account directly, judges it, prints pure JSON with --json, and changes nothing", async () => {
      const before = await accountState();
      const [json, text] = await Promise.all([
        remedy("plan", "--live", "--json"),
        remedy("plan", "--live", "--outputs", "stack.json"),
      ]);

      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout);
      expect(report).toMatchObject({
        mode: "live",
        live: {
          accountId: MOTO_ACCOUNT_ID,
          region: MOTO_REGION,
          // Every registered type is listed; the other problems' types are judged from what their readers find.
          types: expect.arrayContaining([
            {
              resourceType: "AWS::EC2::SecurityGroup",
              via: "direct",
              why: "Config is not recording here: no configuration recorder",
            },
            {
              resourceType: "AWS::S3::Bucket",
              via: "direct",
              why: "Config is not recording here: no configuration recorder",
            },
          ]),
        },
        autoResponse: { enabled: false, from: "settings" },
        malformed: [],
      });
      // Not read: only whole types Remedy has no reader for without Config (no single resource failed to read).
      expect(
        report.notRead.filter(
          (entry: { resourceId?: string; reason: string }) =>
            entry.resourceId !== undefined || entry.reason !== "Remedy cannot read this type without Config",
        ),
      ).toEqual([]);
      const findings = report.findings.map((f: Record<string, string>) => [
        f.resourceId,
        f.problem,
        f.action,
        f.status,
      ]);
      expect(findings).toEqual(
        expect.arrayContaining([
          [openGroup, "sg-open-ingress", "revoke ingress tcp 22 from 0.0.0.0/0", "due"],
          ["acme-public-read", "s3-public-acl", "remove ACL grant AllUsers READ", "due"],
          [
            "acme-public-policy",
            "s3-public-policy",
            "remove policy statement Sid AnyoneCanRead (Allow s3:GetObject)",
            "due",
          ],
          ["acme-exempt", "s3-public-acl", "none (exempt)", "exempt"],
          [defaultGroup, "sg-default-rules", "revoke egress all traffic to 0.0.0.0/0", "due"],
          ["acme-orders-public", "rds-snapshot-public", 'remove restore access for every AWS account ("all")', "due"],
          // The account's Block Public Access, listed through S3 Control at moto's endpoint (its inventory): none
          // configured, every flag off; held back while acme-exempt is public on purpose.
          ...["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"].map((flag) => [
            MOTO_ACCOUNT_ID,
            "s3-account-public-access",
            `turn on Block Public Access ${flag} for the account`,
            "held",
          ]),
        ]),
      );
      expect(findings).toHaveLength(10);
      expect(report.findings.map((f: { resourceId: string }) => f.resourceId)).not.toContain("acme-us-east-public");
      // moto's S3 Control cannot be reached through an endpoint URL by the plain client (the SDK puts the account id
      // in front of the host): the plan says the account's flags are unknown and judges with the buckets' own. (The
      // account's inventory asks S3ControlAtEndpoint, which reaches it: its findings above.)
      expect(report.accountPublicAccessBlock).toMatchObject({ from: "unknown" });
      // No progress in a pipe: whatever stderr holds (the SDK's own complaint about that endpoint), none is ours.
      for (const output of [json.stderr, text.stderr]) expect(output).not.toMatch(/^remedy plan:/m);

      expect(text.code).toBe(0);
      expect(text.stdout).toContain(
        `\nlive: read directly in ${MOTO_ACCOUNT_ID} ${MOTO_REGION} (Config is not recording here: no configuration recorder${UNRECORDED_RESOURCES.map((resource) => `; Config never records ${resource.type}`).join("")})\n`,
      );
      expect(text.stdout).toContain(`\nauto-response: on (schedule rule ${RULE} is ENABLED)\n`);
      expect(text.stdout).toMatch(
        new RegExp(`\\n${openGroup}\\s+sg-open-ingress\\s+revoke ingress tcp 22 from 0\\.0\\.0\\.0/0\\s+next tick\\s`),
      );

      expect(await accountState()).toEqual(before);
    });
  },
);
