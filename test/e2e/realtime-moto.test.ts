// The real-time path end to end on moto, with no Config event involved: a real API call opens a hole; its CloudTrail
// record (moto has no CloudTrail, so the test publishes the record of the call it just made, in CloudTrail's
// shape) goes to moto's EventBridge, where the stack's own rule and pattern route it to the stack's real-time
// queue with its delivery delay; the real realtime handler reads the live resource and queues the instruction, and
// asks the coordinator to run now (the Invoke stand-in records it); the coordinator's tick dispatches, and the
// remediation handler fixes it. Then: the same violation through Config is a duplicate; Remedy's own change and an
// undo's restore trigger nothing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuthorizeSecurityGroupIngressCommand,
  type AuthorizeSecurityGroupIngressCommandOutput,
} from "@aws-sdk/client-ec2";
import { PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  CreateBucketCommand,
  GetBucketAclCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
} from "@aws-sdk/client-s3";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_OUTPUTS_FILE } from "../../cli/stack.ts";
import type { Instruction } from "../../contract/instruction.ts";
import { kmsClient } from "../../platform/clients.ts";
import { undoExemptionReader } from "../../platform/undo-exemptions.ts";
import {
  isolatedEnv,
  kmsKeyArnsAsAws,
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  type Moto,
  skipWithoutMoto,
  startMoto,
} from "../helpers/moto.ts";
import {
  configRuleRun,
  coordinatorTickRun,
  createGroup,
  type Deployed,
  deployToMoto,
  describeGroup,
  expectClean,
  functionEnv,
  groupRules,
  type Invocation,
  type LambdaStandIn,
  lambdaStandIn,
  MOTO_CONFIG_SCOPE,
  queueDepth,
  quietS3ControlUrlErrors,
  runCli,
  securityGroupConfigItem,
  withEnv,
} from "./moto-stack.ts";

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
const DELAY_SECONDS = 2;
const OPERATOR_ROLE = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/developer`;

interface World extends Deployed {
  lambda: LambdaStandIn;
  dir: string;
  realtimeQueueUrl: string;
  remediationRoleArns: string[];
  groupId: string;
  fixes: Map<string, string>;
  /** When the last event was put on the bus: the delivery delay counts from here. */
  lastPublishAt: number;
}

/** The CloudTrail record of a successful call, as EventBridge's "AWS API Call via CloudTrail" event carries it. */
function callRecord(
  eventName: string,
  eventSource: "ec2.amazonaws.com" | "s3.amazonaws.com",
  requestParameters: Record<string, unknown>,
  responseElements: unknown,
  roleArn: string,
) {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const session = roleArn.split("/").pop();
  return {
    eventVersion: "1.09",
    userIdentity: {
      type: "AssumedRole",
      principalId: `AROAEXAMPLE:${session}`,
      arn: `arn:aws:sts::${MOTO_ACCOUNT_ID}:assumed-role/${session}/e2e`,
      accountId: MOTO_ACCOUNT_ID,
      accessKeyId: "ASIAEXAMPLE",
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: "AROAEXAMPLE",
          arn: roleArn,
          accountId: MOTO_ACCOUNT_ID,
          userName: session,
        },
        attributes: { creationDate: now, mfaAuthenticated: "false" },
      },
    },
    eventTime: now,
    eventSource,
    eventName,
    awsRegion: MOTO_REGION,
    sourceIPAddress: "203.0.113.10",
    userAgent: "aws-sdk-js/3",
    requestParameters,
    responseElements,
    requestID: crypto.randomUUID(),
    eventID: crypto.randomUUID(),
    readOnly: false,
    eventType: "AwsApiCall",
    managementEvent: true,
    recipientAccountId: MOTO_ACCOUNT_ID,
    eventCategory: "Management",
  };
}

/** What CloudTrail hands EventBridge for the call (moto has no CloudTrail: the test does it). */
async function publish(w: World, detail: ReturnType<typeof callRecord>) {
  const result = await w.clients.eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          Source: detail.eventSource === "ec2.amazonaws.com" ? "aws.ec2" : "aws.s3",
          DetailType: "AWS API Call via CloudTrail",
          Detail: JSON.stringify(detail),
          Time: new Date(detail.eventTime),
        },
      ],
    }),
  );
  expect(result.FailedEntryCount ?? 0, JSON.stringify(result.Entries)).toBe(0);
  w.lastPublishAt = Date.now();
}

const authorizeRecord = (
  groupId: string,
  output: AuthorizeSecurityGroupIngressCommandOutput,
  roleArn = OPERATOR_ROLE,
) =>
  callRecord(
    "AuthorizeSecurityGroupIngress",
    "ec2.amazonaws.com",
    {
      groupId,
      ipPermissions: {
        items: [{ ipProtocol: "tcp", fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: "0.0.0.0/0" }] } }],
      },
    },
    {
      requestId: crypto.randomUUID(),
      _return: true,
      securityGroupRuleSet: {
        items: (output.SecurityGroupRules ?? []).map((rule) => ({
          groupOwnerId: rule.GroupOwnerId,
          groupId: rule.GroupId,
          securityGroupRuleId: rule.SecurityGroupRuleId,
          isEgress: rule.IsEgress,
          ipProtocol: rule.IpProtocol,
          fromPort: rule.FromPort,
          toPort: rule.ToPort,
          cidrIpv4: rule.CidrIpv4,
        })),
      },
    },
    roleArn,
  );

async function openSsh(w: World, groupId: string) {
  return w.clients.ec2.send(
    new AuthorizeSecurityGroupIngressCommand({
      GroupId: groupId,
      IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
    }),
  );
}

/**
 * moto gap: the envelope its EventBridge delivers to a queue leaves out `account`, which EventBridge always sets
 * (the account the event came from); it is put back here as EventBridge writes it, and nothing else is touched.
 */
function withAccount(body: string): string {
  const event = JSON.parse(body) as Record<string, unknown>;
  return "account" in event ? body : JSON.stringify({ ...event, account: MOTO_ACCOUNT_ID });
}

/** Every message on the real-time queue now, as the event source mapping would hand them to the function. */
async function receiveRealtime(w: World): Promise<SQSEvent> {
  const { Messages = [] } = await w.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: w.realtimeQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  for (const message of Messages) {
    await w.clients.sqs.send(
      new DeleteMessageCommand({ QueueUrl: w.realtimeQueueUrl, ReceiptHandle: message.ReceiptHandle }),
    );
  }
  return {
    Records: Messages.map((message) => ({
      messageId: message.MessageId!,
      receiptHandle: message.ReceiptHandle!,
      body: withAccount(message.Body ?? ""),
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "AIDAEVENTBRIDGE",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: `arn:aws:sqs:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:remedy-realtime`,
      awsRegion: MOTO_REGION,
    })),
  };
}

/** Waits out the queue's delivery delay: nothing is there before it, the event is there after it. */
/**
 * Waits out the queue's delivery delay after the last publish: nothing is there before it (checked when the receive
 * came back within the delay), and then the `expected` events are, received until they all arrived (a loaded machine
 * may deliver a little late; never more than `expected`).
 */
async function afterDelay(w: World, expected: number): Promise<SQSEvent> {
  const early = await receiveRealtime(w);
  if (Date.now() - w.lastPublishAt < DELAY_SECONDS * 1000) {
    expect(early.Records, "nothing before the delivery delay").toHaveLength(0);
  }
  const records = [...early.Records];
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, w.lastPublishAt + DELAY_SECONDS * 1000 - Date.now())));
  for (const giveUpAt = Date.now() + 15_000; records.length < expected && Date.now() < giveUpAt; ) {
    records.push(...(await receiveRealtime(w)).Records);
    if (records.length < expected) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // Anything more would be a second event for one call.
  await new Promise((resolve) => setTimeout(resolve, 300));
  records.push(...(await receiveRealtime(w)).Records);
  return { Records: records };
}

async function realtimeRun(w: World, event: SQSEvent) {
  const env = {
    ...w.moto.env,
    ...functionEnv(w.tf, w.stack.refs, "realtime"),
    AWS_ENDPOINT_URL_LAMBDA: w.lambda.url,
  };
  return withEnv(env, async () => {
    const { handler } = await import("../../functions/realtime/handler.ts");
    return handler(event);
  });
}

async function remediate(w: World, invocation: Invocation) {
  const functionName = (id: string) => w.stack.refs.values.get(`aws_lambda_function.${id}.function_name`);
  const resourceId = ["remediate_sg", "remediate_s3"].find((id) => functionName(id) === invocation.functionName);
  if (!resourceId) throw new Error(`${invocation.functionName} is not a remediation function`);
  return withEnv({ ...w.moto.env, ...functionEnv(w.tf, w.stack.refs, resourceId) }, async () => {
    kmsKeyArnsAsAws(kmsClient());
    const { deployedHandler } = await import("../support/remediate.ts");
    const { handler } = await deployedHandler(resourceId === "remediate_sg" ? "remediate-sg" : "remediate-s3");
    return handler(invocation.payload);
  });
}

/** The coordinator runs as asked (one tick), and each remediation it dispatched runs: the fixes' action ids. */
async function runAsked(w: World): Promise<{ instruction: Instruction; status: string; actionId: string }[]> {
  const coordinator = w.stack.refs.values.get("aws_lambda_function.coordinator.function_name");
  const asked = w.lambda.invocations.splice(0);
  expect(asked.map((i) => [i.functionName, i.invocationType])).toEqual([[coordinator, "Event"]]);
  await coordinatorTickRun(w, w.lambda);
  const done = [];
  for (const invocation of w.lambda.invocations.splice(0)) {
    const result = await remediate(w, invocation);
    done.push({ instruction: (invocation.payload as { instruction: Instruction }).instruction, ...result });
  }
  return done as { instruction: Instruction; status: string; actionId: string }[];
}

describe.skipIf(skipWithoutMoto("the real-time end-to-end test on moto"))("the real-time path, on moto", () => {
  let moto: Moto | undefined;
  let world: World | undefined;
  const w = () => {
    if (!world) throw new Error("not set up");
    return world;
  };

  beforeAll(async () => {
    quietS3ControlUrlErrors();
    moto = await startMoto();
    const lambda = await lambdaStandIn();
    const deployed = await deployToMoto(moto, {
      enable_auto_response: "true",
      realtime_delay_seconds: String(DELAY_SECONDS),
    });
    const realtimeQueueUrl = deployed.stack.outputs.realtime_queue_url?.value as string;
    expect(realtimeQueueUrl, "the realtime_queue_url output").toMatch(/^http/);
    const env = functionEnv(deployed.tf, deployed.stack.refs, "realtime");
    const dir = mkdtempSync(join(tmpdir(), "remedy-realtime-moto-"));
    writeFileSync(join(dir, DEFAULT_OUTPUTS_FILE), `${JSON.stringify(deployed.stack.outputs, null, 2)}\n`);
    world = {
      ...deployed,
      lambda,
      dir,
      realtimeQueueUrl,
      remediationRoleArns: JSON.parse(env.REMEDY_OWN_ROLE_ARNS ?? "[]"),
      groupId: await createGroup(deployed.clients.ec2, "remedy-rt-bastion", []),
      fixes: new Map(),
      lastPublishAt: 0,
    };
  }, 90_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    if (world) {
      rmSync(world.dir, { recursive: true, force: true });
      await world.lambda.close();
    }
    await moto?.stop();
  });

  it("AuthorizeSecurityGroupIngress opening 22 to the world: one instruction within one delay, fixed", async () => {
    const output = await openSsh(w(), w().groupId);
    await publish(w(), authorizeRecord(w().groupId, output));
    const event = await afterDelay(w(), 1);
    expect(event.Records, "exactly one event after the delay").toHaveLength(1);
    expect(await realtimeRun(w(), event)).toEqual({ batchItemFailures: [] });
    expect(await queueDepth(w(), w().stack.queueUrl), "one instruction queued").toEqual({ visible: 1, inFlight: 0 });

    const [fix, ...others] = await runAsked(w());
    expect(others).toEqual([]);
    expect(fix).toMatchObject({
      status: "fixed",
      instruction: { problem: "sg-open-ingress", resource: { id: w().groupId } },
    });
    w().fixes.set(w().groupId, fix!.actionId);
    const open = (await groupRules(w().clients.ec2, w().groupId)).filter(
      (r) => !r.IsEgress && r.CidrIpv4 === "0.0.0.0/0",
    );
    expect(open, "the open rule is revoked").toEqual([]);
  }, 60_000);

  it("the same violation arriving later through Config is a duplicate, not a second fix", async () => {
    // Config recorded the open state (captured just after the call, before the fix) and its rule queues the same id.
    const group = await describeGroup(w().clients.ec2, w().groupId);
    const openItem = securityGroupConfigItem(
      {
        ...group,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      },
      new Date(Date.now() - 15_000),
      MOTO_CONFIG_SCOPE,
    );
    const fromConfig = await configRuleRun(w(), openItem, "sg-open-ingress");
    expect(fromConfig.queued).toHaveLength(1);
    const summary = await coordinatorTickRun(w(), w().lambda);
    expect(summary).toMatchObject({ received: 1, dispatched: 0, duplicatesDeleted: 1 });
    expect(w().lambda.invocations).toEqual([]);
    expect(await queueDepth(w(), w().stack.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  }, 60_000);

  it("PutBucketPolicy making a bucket public and PutBucketAcl granting AllUsers: one instruction each, fixed", async () => {
    const { s3 } = w().clients;
    const policyBucket = "remedy-rt-public-policy";
    const aclBucket = "remedy-rt-public-acl";
    for (const Bucket of [policyBucket, aclBucket]) {
      await s3.send(
        new CreateBucketCommand({
          Bucket,
          CreateBucketConfiguration: { LocationConstraint: MOTO_REGION },
          ObjectOwnership: "BucketOwnerPreferred",
        }),
      );
    }
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "Public",
          Effect: "Allow",
          Principal: "*",
          Action: "s3:GetObject",
          Resource: `arn:aws:s3:::${policyBucket}/*`,
        },
      ],
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: policyBucket, Policy: policy }));
    const { Owner } = await s3.send(new GetBucketAclCommand({ Bucket: aclBucket }));
    const grants = [
      { Grantee: { Type: "CanonicalUser" as const, ID: Owner?.ID }, Permission: "FULL_CONTROL" as const },
      { Grantee: { Type: "Group" as const, URI: ALL_USERS }, Permission: "READ" as const },
    ];
    await s3.send(new PutBucketAclCommand({ Bucket: aclBucket, AccessControlPolicy: { Owner, Grants: grants } }));
    await publish(
      w(),
      callRecord(
        "PutBucketPolicy",
        "s3.amazonaws.com",
        {
          bucketName: policyBucket,
          bucketPolicy: JSON.parse(policy),
          host: [`${policyBucket}.s3.${MOTO_REGION}.amazonaws.com`],
          policy: [""],
        },
        null,
        OPERATOR_ROLE,
      ),
    );
    await publish(
      w(),
      callRecord(
        "PutBucketAcl",
        "s3.amazonaws.com",
        {
          bucketName: aclBucket,
          AccessControlPolicy: {
            AccessControlList: {
              Grant: grants.map((g) => ({
                Grantee: {
                  ...(g.Grantee.URI ? { URI: g.Grantee.URI } : { ID: g.Grantee.ID }),
                  xsiType: g.Grantee.Type,
                },
                Permission: g.Permission,
              })),
            },
            Owner: { ID: Owner?.ID },
          },
          host: [`${aclBucket}.s3.${MOTO_REGION}.amazonaws.com`],
          acl: [""],
        },
        null,
        OPERATOR_ROLE,
      ),
    );
    const event = await afterDelay(w(), 2);
    expect(event.Records, "one event per call").toHaveLength(2);
    expect(await realtimeRun(w(), event)).toEqual({ batchItemFailures: [] });
    expect(await queueDepth(w(), w().stack.queueUrl), "one instruction per bucket").toEqual({
      visible: 2,
      inFlight: 0,
    });
    const fixes = await runAsked(w());
    expect(fixes.map((f) => [f.instruction.resource.id, f.instruction.problem, f.status]).sort()).toEqual([
      [aclBucket, "s3-public-acl", "fixed"],
      [policyBucket, "s3-public-policy", "fixed"],
    ]);
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: aclBucket }));
    expect(acl.Grants?.some((g) => g.Grantee?.URI === ALL_USERS)).toBe(false);

    // Remedy's own fix was a PutBucketAcl too: its record (made with the remediation role) triggers nothing.
    const ownRole = w().remediationRoleArns.find((arn) => arn.includes("remediate-s3"))!;
    await publish(
      w(),
      callRecord("PutBucketAcl", "s3.amazonaws.com", { bucketName: aclBucket, acl: [""] }, null, ownRole),
    );
    const own = await afterDelay(w(), 1);
    expect(own.Records).toHaveLength(1);
    expect(await realtimeRun(w(), own)).toEqual({ batchItemFailures: [] });
    expect(await queueDepth(w(), w().stack.queueUrl), "a Remedy-made change queues nothing").toEqual({
      visible: 0,
      inFlight: 0,
    });
    expect(w().lambda.invocations).toEqual([]);
  }, 90_000);

  it("an undo's restore triggers nothing: the restored entry stays as restored", async () => {
    const actionId = w().fixes.get(w().groupId)!;
    const result = await runCli(["undo", actionId, "--yes", "--json"], w().dir, isolatedEnv(w().moto, w().dir));
    expectClean(result, 0);
    const restored = (await groupRules(w().clients.ec2, w().groupId)).filter(
      (r) => !r.IsEgress && r.CidrIpv4 === "0.0.0.0/0",
    );
    expect(restored, "undo put the rule back").toHaveLength(1);
    // The restore's own CloudTrail record (the operator re-authorized the rule).
    await publish(w(), authorizeRecord(w().groupId, { SecurityGroupRules: restored, Return: true, $metadata: {} }));
    const event = await afterDelay(w(), 1);
    expect(event.Records).toHaveLength(1);
    expect(await realtimeRun(w(), event)).toEqual({ batchItemFailures: [] });
    expect(await queueDepth(w(), w().stack.queueUrl), "nothing queued for the undone entry").toEqual({
      visible: 0,
      inFlight: 0,
    });
    // Still open (undo put it back, nothing took it away again), and left so by the exemption undo recorded.
    const stillOpen = (await groupRules(w().clients.ec2, w().groupId)).filter(
      (r) => !r.IsEgress && r.CidrIpv4 === "0.0.0.0/0",
    );
    expect(stillOpen).toHaveLength(1);
    const record = await undoExemptionReader(
      w().clients.s3,
      w().stack.ledgerBucket,
    )({
      accountId: MOTO_ACCOUNT_ID,
      region: MOTO_REGION,
      type: "AWS::EC2::SecurityGroup",
      id: w().groupId,
    });
    expect(record?.entries.map((entry) => [entry.problem, entry.undoes])).toEqual([["sg-open-ingress", actionId]]);
    expect(w().lambda.invocations).toEqual([]);
  }, 60_000);
});
