// The trust-boundary defects through the real Lambda entries (handler.ts: settings from the environment the stack
// writes, real client wiring), with the AWS clients mocked. Proves the deployed settings reach the judgement.
import { ConfigServiceClient, PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import {
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
import { GenerateMacCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetPublicAccessBlockCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MatchedEntry } from "../../detection/types.ts";
import { configEvent } from "../fixtures/events.ts";
import {
  deploymentEnv,
  fakeGenerateMac,
  instructionFor,
  PUBLIC_STATEMENT,
  QUEUE_URL,
  RUNNING,
  requestFor,
  SG_RULES,
  SSH_V4,
  TEST_MAC_KEY_ID,
} from "../remediation/support.ts";

const ec2 = mockClient(EC2Client);
const s3 = mockClient(S3Client);
const sqs = mockClient(SQSClient);
const sns = mockClient(SNSClient);
const ssm = mockClient(SSMClient);
const kms = mockClient(KMSClient);
const config = mockClient(ConfigServiceClient);
const s3control = mockClient(S3ControlClient);
const LEDGER = "remedy-ledger-0a1b2c3d";

const remediationEnv = {
  ...deploymentEnv(),
  AWS_REGION: "us-east-1",
  REMEDY_QUEUE_URL: QUEUE_URL,
  REMEDY_LEDGER_BUCKET: LEDGER,
  REMEDY_LEDGER_MAC_KEY_ID: TEST_MAC_KEY_ID,
  REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
  REMEDY_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation-dlq",
  REMEDY_PAUSE_PARAMETER: "/remedy/paused",
  REMEDY_MAX_DISPATCH_AGE_SECONDS: "150",
  REMEDY_PROTECTED_BUCKETS: "remedy-ledger-*,remedy-config-*",
};

async function load<T>(module: string, env: Record<string, string>): Promise<T> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import(module)) as T;
}
type Handler = { handler: (event: unknown) => Promise<Record<string, unknown>> };

/** A remediation function's handler as deployed (the one factory with its problems' fixes), made under `env`. */
async function loadRemediation(name: "remediate-sg" | "remediate-s3", env: Record<string, string>): Promise<Handler> {
  const { deployedHandler } = await load<typeof import("../support/remediate.ts")>("../support/remediate.ts", env);
  return (await deployedHandler(name)) as Handler;
}

beforeEach(() => {
  for (const mock of [ec2, s3, sqs, sns, ssm, kms, config, s3control]) mock.reset();
  ssm.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(RUNNING) } });
  kms.on(GenerateMacCommand).callsFake(fakeGenerateMac);
  s3.on(PutObjectCommand).resolves({});
  // No undo exemption on any resource (the ledger's exemptions/ prefix), as S3 says it for a missing key.
  s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }));
  sqs.on(DeleteMessageCommand).resolves({});
  sns.on(PublishCommand).resolves({});
  ec2.on(DescribeSecurityGroupsCommand).resolves({ SecurityGroups: [{ GroupId: SG_RULES[0]!.GroupId, Tags: [] }] });
  ec2.on(DescribeSecurityGroupRulesCommand).resolves({ SecurityGroupRules: SG_RULES });
  ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
  config.on(PutEvaluationsCommand).resolves({});
  s3control.on(GetPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: {} });
  sqs.on(SendMessageBatchCommand).resolves({});
});
afterEach(() => vi.unstubAllEnvs());
afterAll(() => {
  for (const mock of [ec2, s3, sqs, sns, ssm, kms, config, s3control]) mock.restore();
});

const now = () => ({ dispatchedAt: new Date().toISOString() });
const rule = (fromPort: number, cidrIpv4: string): MatchedEntry => ({
  kind: "sg-rule",
  rule: { direction: "ingress", ipProtocol: "tcp", fromPort, toPort: fromPort, cidrIpv4 },
});

describe("remediate-sg handler judges with the parameters its environment deploys", () => {
  it('an instruction carrying {"authorizedPorts":"","ipv4MinPrefix":32} revokes neither tcp 443 from anywhere nor an office range', async () => {
    const { handler } = await loadRemediation("remediate-sg", remediationEnv);
    const forged = instructionFor("sg-open-ingress", [rule(443, "0.0.0.0/0"), rule(22, "203.0.113.0/24")], {
      parameters: { authorizedPorts: "", ipv4MinPrefix: 32 },
    });
    const result = await handler(requestFor(forged, now()));
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/differ from the deployed/) });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
    // The skip is recorded (signed) and reported.
    expect(kms.commandCalls(GenerateMacCommand)).toHaveLength(1);
    expect(JSON.parse(String(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message))).toMatchObject({
      kind: "skipped",
    });
  });

  it("the same entries with the deployed parameters are judged not open: nothing revoked", async () => {
    const { handler } = await loadRemediation("remediate-sg", remediationEnv);
    const result = await handler(
      requestFor(instructionFor("sg-open-ingress", [rule(443, "0.0.0.0/0"), rule(22, "203.0.113.0/24")]), now()),
    );
    expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/^nothing to do/) });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
  });

  it("control: the genuine instruction revokes exactly SSH from anywhere, with a signed ledger record", async () => {
    const { handler } = await loadRemediation("remediate-sg", remediationEnv);
    const result = await handler(requestFor(instructionFor("sg-open-ingress", [SSH_V4]), now()));
    expect(result).toMatchObject({ status: "fixed" });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)[0]!.args[0].input.SecurityGroupRuleIds).toEqual([
      "sgr-0ssh4",
    ]);
    const records = s3
      .commandCalls(PutObjectCommand)
      .map((call) => call.args[0].input)
      .filter((input) => String(input.Key).startsWith("actions/"))
      .map((input) => JSON.parse(String(input.Body)));
    expect(records.map((record) => record.outcome)).toEqual(["pending", "fixed"]);
    for (const record of records) expect(record.integrity).toMatchObject({ keyId: TEST_MAC_KEY_ID });
  });

  it("re-reads the pause switch: paused since the dispatch, nothing changes", async () => {
    ssm.on(GetParameterCommand).resolves({
      Parameter: { Value: JSON.stringify({ ...RUNNING, paused: true, by: "alice", reason: "freeze" }) },
    });
    const { handler } = await loadRemediation("remediate-sg", remediationEnv);
    const result = await handler(requestFor(instructionFor("sg-open-ingress", [SSH_V4]), now()));
    expect(result).toMatchObject({ status: "held", reason: "paused by alice: freeze" });
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(0);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
  });
});

describe("remediate-s3 handler never changes Remedy's own buckets", () => {
  it("an instruction naming the ledger bucket is refused before anything is read", async () => {
    const { handler } = await loadRemediation("remediate-s3", remediationEnv);
    for (const bucket of [LEDGER, "remedy-config-0123"]) {
      s3.resetHistory();
      const forged = instructionFor("s3-public-policy", [PUBLIC_STATEMENT], { resourceId: bucket });
      const result = await handler(requestFor(forged, now()));
      expect(result).toMatchObject({
        status: "skipped",
        reason: `refused: ${bucket} is one of Remedy's own buckets, never changed by it`,
      });
      // Nothing read, nothing written: the only S3 calls are the ledger's (the skip record).
      expect(s3.calls().length).toBeGreaterThan(0);
      expect(s3.calls().every((call) => call.args[0] instanceof PutObjectCommand)).toBe(true);
    }
  });
});

describe("config-rule handler accepts only the deployed rules, and queues nothing in test mode", () => {
  const ruleEnv = {
    ...deploymentEnv(),
    REMEDY_QUEUE_URL: QUEUE_URL,
    REMEDY_SCAN_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan",
    REMEDY_SCAN_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan-dlq",
    REMEDY_LEDGER_BUCKET: LEDGER,
  };

  it("a Config rule whose name only ends like Remedy's is rejected", async () => {
    const { handler } = await load<Handler>("../../functions/config-rule/handler.ts", ruleEnv);
    const event = {
      ...configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"),
      configRuleName: "evil-sg-open-ingress",
    };
    expect(await handler(event)).toMatchObject({ outcome: "rejected" });
    expect(config.calls()).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it("a TESTMODE run reports in test mode and queues nothing", async () => {
    const { handler } = await load<Handler>("../../functions/config-rule/handler.ts", ruleEnv);
    const event = { ...configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), resultToken: "TESTMODE" };
    expect(await handler(event)).toMatchObject({ outcome: "evaluated", notQueued: 1 });
    expect(config.commandCalls(PutEvaluationsCommand)[0]!.args[0].input.TestMode).toBe(true);
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(0);
  });
});
