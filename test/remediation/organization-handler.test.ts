// The deployed remediation handler in organisation mode (REMEDY_ORGANIZATION set, as the stack writes it): its real
// wiring asks Organizations who the account is and STS for the member fix role, and fixes per run with the assumed
// credentials. AWS clients mocked; single-account wiring is covered by test/trust/handlers.test.ts.
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { GenerateMacCommand, KMSClient } from "@aws-sdk/client-kms";
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { testInstruction } from "../support/instructions.ts";
import {
  ACCOUNT,
  DEPLOYED_SG_PARAMETERS,
  deploymentEnv,
  fakeGenerateMac,
  GROUP_ID,
  QUEUE_URL,
  RUNNING,
  requestFor,
  SG_CONFIG_RULE,
  SG_RULES,
  SSH_V4,
  TEST_MAC_KEY_ID,
} from "./support.ts";

const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const sns = mockClient(SNSClient);
const ssm = mockClient(SSMClient);
const kms = mockClient(KMSClient);
const sts = mockClient(STSClient);
const organizations = mockClient(OrganizationsClient);
const MOCKS = [ec2, s3, sqs, sns, ssm, kms, sts, organizations];

const MEMBER = "210987654321";
const NOTIFY_MEMBER = "333344445555";
const OU = "ou-a1b2-workload1";

const env = {
  ...deploymentEnv(),
  REMEDY_ORGANIZATION: JSON.stringify({
    regions: ["us-east-1", "eu-west-1"],
    default: { mode: "notify" },
    organizationalUnits: { [OU]: { mode: "enforce" } },
  }),
  AWS_REGION: "us-east-1",
  REMEDY_QUEUE_URL: QUEUE_URL,
  REMEDY_LEDGER_BUCKET: "remedy-ledger-0a1b2c3d",
  REMEDY_LEDGER_MAC_KEY_ID: TEST_MAC_KEY_ID,
  REMEDY_REPORT_TOPIC_ARN: `arn:aws:sns:us-east-1:${ACCOUNT}:remedy-reports`,
  REMEDY_DLQ_URL: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/remedy-remediation-dlq`,
  REMEDY_PAUSE_PARAMETER: "/remedy/paused",
  REMEDY_MAX_DISPATCH_AGE_SECONDS: "150",
};

type Handler = { handler: (event: unknown) => Promise<Record<string, unknown>> };

async function loadHandler(): Promise<Handler> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  const { deployedHandler } = await import("../support/remediate.ts");
  return (await deployedHandler("remediate-sg")) as Handler;
}

function instructionIn(accountId: string) {
  return testInstruction({
    problem: "sg-open-ingress",
    matched: [SSH_V4],
    resourceId: GROUP_ID,
    accountId,
    region: "eu-west-1",
    configRuleName: SG_CONFIG_RULE,
    parameters: { ...DEPLOYED_SG_PARAMETERS, ipv4MinPrefix: 8, ipv6MinPrefix: 16 },
    capturedAt: "2026-11-20T10:00:00.000Z",
  });
}

const CREDENTIALS = {
  AccessKeyId: "ASIAMEMBERFIXEXAMPLE",
  SecretAccessKey: "member/fix/secret/access/key/EXAMPLE0000",
  SessionToken: "IQoJb3JpZ2luX2VjEMEMBER//////////session-token-EXAMPLE",
  Expiration: new Date(Date.now() + 15 * 60_000),
};

beforeEach(() => {
  for (const mock of MOCKS) mock.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(RUNNING) } });
  kms.on(GenerateMacCommand).callsFake(fakeGenerateMac);
  s3.on(PutObjectCommand).resolves({});
  // No undo exemption on the resource (the hub's ledger bucket), as S3 says it for a missing key.
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }));
  sqs.on(DeleteMessageCommand).resolves({});
  sns.on(PublishCommand).resolves({});
  organizations.on(ListAccountsCommand).resolves({
    Accounts: [ACCOUNT, MEMBER, NOTIFY_MEMBER].map((Id) => ({ Id, Status: "ACTIVE", State: "ACTIVE" })),
  });
  organizations
    .on(ListParentsCommand)
    .callsFake((input: { ChildId: string }) =>
      input.ChildId === MEMBER
        ? { Parents: [{ Id: OU, Type: "ORGANIZATIONAL_UNIT" }] }
        : { Parents: [{ Id: "r-a1b2", Type: "ROOT" }] },
    );
  sts.on(AssumeRoleCommand).resolves({ Credentials: CREDENTIALS });
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: GROUP_ID, Tags: [] }] });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
});
afterEach(() => vi.unstubAllEnvs());
afterAll(() => {
  for (const mock of MOCKS) mock.restore();
});

const dispatchedNow = () => ({ dispatchedAt: new Date().toISOString() });

describe("remediate-sg handler in organisation mode", () => {
  it("fixes an enforce account through the member fix role, in the instruction's region", async () => {
    const { handler } = await loadHandler();
    const result = await handler(requestFor(instructionIn(MEMBER), dispatchedNow()));
    expect(result).toMatchObject({ status: "fixed" });
    const actionId = result.actionId as string;
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toMatchObject({
      RoleArn: `arn:aws:iam::${MEMBER}:role/remedy/remedy-member-fix-sg-open-ingress`,
      RoleSessionName: actionId,
      SourceIdentity: actionId,
      DurationSeconds: 900,
    });
    const revoke = ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]!;
    const client = revoke.thisValue as EC2Client;
    expect(await client.config.region()).toBe("eu-west-1");
    expect(await client.config.credentials()).toMatchObject({
      accessKeyId: CREDENTIALS.AccessKeyId,
      sessionToken: CREDENTIALS.SessionToken,
    });
    // The hub's own calls stay the hub's: the ledger, the report, the queue.
    expect(s3.commandCalls(PutObjectCommand).length).toBeGreaterThan(0);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(1);
  });

  it("tells about a notify account and changes nothing; a second run of the container reads the organisation once", async () => {
    const { handler } = await loadHandler();
    const result = await handler(requestFor(instructionIn(NOTIFY_MEMBER), dispatchedNow()));
    expect(result).toMatchObject({ status: "would-fix" });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    const published = JSON.parse(String(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message));
    expect(published).toMatchObject({ source: "remedy", kind: "would-fix", resource: { accountId: NOTIFY_MEMBER } });
    expect(
      s3.commandCalls(PutObjectCommand).filter((call) => String(call.args[0].input.Key).startsWith("actions/")),
    ).toHaveLength(0);

    await handler(requestFor(instructionIn(MEMBER), { ...dispatchedNow(), messageId: "message-2" }));
    expect(organizations.commandCalls(ListAccountsCommand)).toHaveLength(1);
  });
});
