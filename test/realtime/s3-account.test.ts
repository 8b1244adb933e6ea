// The real-time path for the account's Block Public Access: the calls that set or remove it name the account (its
// id), Security Hub's S3.1 and Prowler's check name it their own ways, and the core reads the live flags with the
// problem's observer and queues exactly the instruction the Config path would.
import { readFileSync } from "node:fs";
import { ConfigServiceClient, StartConfigRulesEvaluationCommand } from "@aws-sdk/client-config-service";
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { type Instruction, parseInstruction } from "../../contract/instruction.ts";
import { normalizeConfigItem } from "../../detection/config-item.ts";
import { judgeItem } from "../../detection/judge.ts";
import { ownAccountAccess } from "../../functions/realtime/access.ts";
import { type RealtimeDeps, runRealtime } from "../../functions/realtime/core.ts";
import { readRealtimeEvent, type Sighting } from "../../functions/realtime/events.ts";
import { deployedRuleFor } from "../../platform/deployment.ts";
import { configItem } from "../fixtures/load.ts";
import { ACCOUNT, accountDeployment, REGION } from "../problems/s3-account-public-access/world.ts";
import { awsError } from "../remediation/support.ts";

const T0 = new Date("2026-11-20T10:48:00.000Z");
const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
const fixture = (path: string) => readFileSync(new URL(`../fixtures/realtime/${path}.json`, import.meta.url), "utf8");

const s3control = mockClient(S3ControlClient);
const sqs = mockClient(SQSClient);
const config = mockClient(ConfigServiceClient);
beforeEach(() => {
  for (const mock of [s3control, sqs, config]) mock.reset();
  sqs.on(SendMessageBatchCommand).callsFake((input: { Entries: { Id: string }[] }) => ({
    Successful: input.Entries.map((entry) => ({ Id: entry.Id, MessageId: `q-${entry.Id}`, MD5OfMessageBody: "" })),
    Failed: [],
  }));
  config.on(StartConfigRulesEvaluationCommand).resolves({});
});
afterAll(() => {
  for (const mock of [s3control, sqs, config]) mock.restore();
});

function sightings(body: string): Sighting[] {
  const read = readRealtimeEvent(body);
  if ("dropped" in read) throw new Error(`dropped: ${read.dropped}`);
  return read.sightings;
}

describe("what names the account's Block Public Access", () => {
  it.each([
    ["cloudtrail/put-account-public-access-block", "PutAccountPublicAccessBlock"],
    ["cloudtrail/delete-account-public-access-block", "DeleteAccountPublicAccessBlock"],
    ["securityhub/s3-1-failed", "S3.1"],
    ["securityhub/prowler-s3-account-failed", "prowler-s3_account_level_public_access_blocks"],
  ])("%s: the setting of the account, for this problem", (path, trigger) => {
    expect(sightings(fixture(path)).filter((sighting) => sighting.kind === "resource")).toEqual([
      expect.objectContaining({
        trigger,
        problems: ["s3-account-public-access"],
        resourceType: "AWS::S3::AccountPublicAccessBlock",
        resourceId: ACCOUNT,
        accountId: ACCOUNT,
        region: REGION,
      }),
    ]);
  });

  it("Prowler's account check naming a bucket ARN names no account: dropped", () => {
    const body = JSON.parse(fixture("securityhub/prowler-s3-account-failed"));
    body.detail.findings[0].Resources[0].Id = "arn:aws:s3:::acme-site";
    expect(readRealtimeEvent(JSON.stringify(body))).toEqual({
      dropped: expect.stringContaining('"arn:aws:s3:::acme-site" is not a S3 account Block Public Access id'),
    });
  });

  it("an ARN naming another account than the finding's is refused", () => {
    const body = JSON.parse(fixture("securityhub/prowler-s3-account-failed"));
    body.detail.findings[0].Resources[0].Id = "arn:aws:s3:us-east-1:210987654321:account";
    expect(readRealtimeEvent(JSON.stringify(body))).toEqual({
      dropped: expect.stringContaining("is in account 210987654321, not the finding's 123456789012"),
    });
  });
});

function sqsEvent(body: string): SQSEvent {
  return {
    Records: [
      {
        messageId: "m-1",
        receiptHandle: "rh-1",
        body,
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: "1763635680000",
          SenderId: "AIDAEVENTBRIDGE",
          ApproximateFirstReceiveTimestamp: "1763635690000",
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:remedy-realtime`,
        awsRegion: REGION,
      },
    ],
  };
}

function deps(): RealtimeDeps {
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const deployment = accountDeployment();
  return {
    deployment,
    access: ownAccountAccess(deployment, log, () => T0),
    sqs: new SQSClient({ region: REGION }),
    queueUrl: QUEUE_URL,
    allowlist: [],
    gracePeriodMs: 0,
    undoExemptions: async () => undefined,
    ownRoleArns: ["arn:aws:iam::123456789012:role/remedy-remediate-s3-account-us-east-1"],
    autoResponse: true,
    runCoordinator: async () => {},
    now: () => T0,
    log,
    metrics: { count() {} },
  };
}

const queued = (): Instruction[] =>
  sqs
    .commandCalls(SendMessageBatchCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .map((entry) => parseInstruction(entry.MessageBody ?? ""));

describe("the real-time core, on a call that turned the account's flags off", () => {
  it("reads the live flags and queues exactly the Config path's instruction", async () => {
    s3control.on(GetAccountPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: false,
      },
    });
    const result = await runRealtime(sqsEvent(fixture("cloudtrail/put-account-public-access-block")), deps());
    expect(result.batchItemFailures).toEqual([]);
    expect(s3control).toHaveReceivedCommandWith(GetAccountPublicAccessBlockCommand, { AccountId: ACCOUNT });
    const [instruction, ...more] = queued();
    expect(more).toEqual([]);
    expect(instruction).toMatchObject({
      problem: "s3-account-public-access",
      resource: { type: "AWS::S3::AccountPublicAccessBlock", id: ACCOUNT, accountId: ACCOUNT, region: REGION },
      matched: [{ kind: "s3-account-bpa-flag", flag: "RestrictPublicBuckets" }],
      rule: { id: "s3-account-public-access", configRuleName: "remedy-s3-account-public-access" },
    });
    // The Config path on the item Config records for the same flags: the same instruction id.
    const deployed = deployedRuleFor(accountDeployment(), "s3-account-public-access")!;
    const fromConfig = judgeItem(
      normalizeConfigItem(configItem("AWS_S3_AccountPublicAccessBlock", "restrict-off")),
      deployed.rule,
      deployed.parameters,
      { allowlist: [], now: T0, gracePeriodMs: 0, configRuleName: deployed.configRuleName },
    );
    expect(fromConfig.instructions.map((entry) => entry.id)).toEqual([instruction!.id]);
    // The S3 rule is re-evaluated for the account as well (its buckets' judgement depends on the flags).
    expect(config).toHaveReceivedCommandWith(StartConfigRulesEvaluationCommand, {
      ConfigRuleNames: ["remedy-s3-public"],
    });
  });

  it("the configuration deleted: every flag is off, all four named", async () => {
    s3control.on(GetAccountPublicAccessBlockCommand).rejects(awsError("NoSuchPublicAccessBlockConfiguration", 404));
    await runRealtime(sqsEvent(fixture("cloudtrail/delete-account-public-access-block")), deps());
    expect(queued().flatMap((instruction) => instruction.matched)).toHaveLength(4);
  });

  it("the flags all on again by the time it is read (the hint and Remedy disagree): nothing queued", async () => {
    s3control.on(GetAccountPublicAccessBlockCommand).resolves({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      },
    });
    await runRealtime(sqsEvent(fixture("securityhub/s3-1-failed")), deps());
    expect(queued()).toEqual([]);
  });
});
