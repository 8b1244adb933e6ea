// The forged-instruction suite. For each problem, instructions forged in every field a sender controls — entries
// that do not violate, rule parameters, rule id and Config rule name, account, region, ARN, the id of a compliant
// resource, a future capture time, a grace period skipped — are sent through the queue (real SQS protocol, the
// real coordinator, the remediations in process) AND straight to the remediation function (what anyone with
// lambda:InvokeFunction can do). Against a stateful EC2/S3 double: not one change to any resource, and every one
// is refused or skipped with its reason. The genuine instruction for the same resource is fixed, so the suite
// cannot pass by changing nothing at all.

import { EC2Client } from "@aws-sdk/client-ec2";
import type { InvokeCommand } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { DLQ_REASON_ATTRIBUTE } from "../../contract/dead-letter.ts";
import type { RemediationRequest } from "../../contract/dispatch.ts";
import { buildInstructions, type Instruction } from "../../contract/instruction.ts";
import { s3Ledger } from "../../contract/ledger.ts";
import { normalizeConfigItem } from "../../detection/config-item.ts";
import { judgeItem } from "../../detection/judge.ts";
import type { Finding, MatchedEntry, Problem } from "../../detection/types.ts";
import { memoryStateStore } from "../../functions/coordinator/state.ts";
import { runCoordinator } from "../../functions/coordinator/tick.ts";
import type { RemediationResult } from "../../functions/remediation/runner.ts";
import { deployedRuleFor, resourceArn } from "../../platform/deployment.ts";
import { readPauseState } from "../../platform/pause.ts";
import { problemSpec } from "../../problems/index.ts";
import {
  enqueue,
  FUNCTIONS,
  fakePauseParameter,
  PAUSE_PARAMETER,
  recordingReporter,
  testConfig,
} from "../coordinator/support.ts";
import { configItem } from "../fixtures/load.ts";
import { type LocalSqs, startLocalSqs } from "../helpers/local-sqs.ts";
import { deployedDeps, testDeployment } from "../remediation/support.ts";
import { type AwsWorld, createAwsWorld } from "../support/aws-world.ts";
import { remediate } from "../support/remediate.ts";

const LEDGER = "remedy-ledger-123456789012";
const REGION = { region: "us-east-1" };
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const deployment = testDeployment();

// The open group (ssh-open-to-world: tcp 443 and 22 from anywhere, 22 from 10.20/16, plus an office /24 added
// below), the public-ACL bucket (acme-partner-drop) and the public-policy bucket (acme-site) are the fixtures'.
const COMPLIANT_GROUP = "sg-0a1b2c3d4e5f60001"; // web ports only
const POLICY_BUCKET = "acme-site";
const PRIVATE_BUCKET = "acme-private";

/** The SG fixture plus an office range on RDP: legitimate under the deployed ipv4MinPrefix 8, "open" under 32. */
function openGroupItem() {
  const item = configItem<Record<string, any>>("AWS_EC2_SecurityGroup", "ssh-open-to-world");
  item.configuration.ipPermissions.push({
    ipProtocol: "tcp",
    fromPort: 3389,
    toPort: 3389,
    ipv4Ranges: [{ cidrIp: "198.51.100.0/24", description: "office" }],
    ipv6Ranges: [],
    prefixListIds: [],
    userIdGroupPairs: [],
    ipRanges: ["198.51.100.0/24"],
  });
  return item;
}

function addWorld(world: AwsWorld): void {
  world.addGroupFromItem(openGroupItem());
  world.addGroupFromItem(configItem("AWS_EC2_SecurityGroup", "web-only"));
  world.addBucketFromItem(configItem("AWS_S3_Bucket", "two-public-grants"));
  world.addBucketFromItem(configItem("AWS_S3_Bucket", "two-public-statements"));
  world.addBucketFromItem(configItem("AWS_S3_Bucket", "private"));
}

/** What the real rule queues for this item (the deployed rule, its parameters, its exact name). */
function genuine(item: Record<string, unknown>, problem: Problem): Instruction {
  const deployed = deployedRuleFor(deployment, problem)!;
  const judgement = judgeItem(normalizeConfigItem(item), deployed.rule, deployed.parameters, {
    allowlist: [],
    now: new Date(),
    gracePeriodMs: 0,
    configRuleName: deployed.configRuleName,
  });
  const instruction = judgement.instructions.find((each) => each.problem === problem);
  if (!instruction) throw new Error(`the fixture has no ${problem} finding`);
  return instruction;
}

interface Forgery {
  resource?: Partial<Instruction["resource"]>;
  rule?: Partial<Instruction["rule"]>;
  matched?: MatchedEntry[];
  capturedAt?: string;
  notBefore?: string;
}

/** A forged instruction that still passes the contract: a careful sender recomputes the id. */
function forge(base: Instruction, forgery: Forgery): Instruction {
  const matched = forgery.matched ?? base.matched;
  const [forged] = buildInstructions(
    {
      resource: { ...base.resource, ...forgery.resource },
      rule: { ...base.rule, ...forgery.rule },
      capturedAt: forgery.capturedAt ?? base.capturedAt,
      detectedAt: forgery.capturedAt ?? base.detectedAt,
      notBefore: forgery.notBefore ?? forgery.capturedAt ?? base.notBefore,
    },
    matched.map((entry): Finding => ({ problem: base.problem, matched: entry, reason: "forged" })),
  );
  return forged!;
}

const sgEntry = (fromPort: number, cidrIpv4: string): MatchedEntry => ({
  kind: "sg-rule",
  rule: { direction: "ingress", ipProtocol: "tcp", fromPort, toPort: fromPort, cidrIpv4 },
});
const future = () => new Date(Date.now() + 6 * 3_600_000).toISOString();

interface Case {
  name: string;
  instruction: () => Instruction;
  /** Expected reason (skip report, DLQ attribute or rejection). */
  reason: RegExp;
}

function casesFor(problem: Problem): { base: () => Instruction; cases: Case[] } {
  const isSg = problem === "sg-open-ingress";
  const base = () =>
    isSg
      ? genuine(openGroupItem(), problem)
      : genuine(
          configItem("AWS_S3_Bucket", problem === "s3-public-acl" ? "two-public-grants" : "two-public-statements"),
          problem,
        );
  const harmless: MatchedEntry[] = isSg
    ? [sgEntry(443, "0.0.0.0/0"), sgEntry(3389, "198.51.100.0/24"), sgEntry(22, "10.20.0.0/16")]
    : problem === "s3-public-acl"
      ? [
          {
            kind: "acl-grant",
            grant: {
              grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/s3/LogDelivery" },
              permission: "WRITE",
            },
          },
        ]
      : [
          {
            kind: "policy-statement",
            statement: {
              Sid: "CloudFrontOnly",
              Effect: "Allow",
              Principal: { Service: "cloudfront.amazonaws.com" },
              Action: "s3:GetObject",
              Resource: `arn:aws:s3:::${POLICY_BUCKET}/*`,
            },
          },
        ];
  const compliantId = isSg ? COMPLIANT_GROUP : PRIVATE_BUCKET;
  const otherRule = isSg ? "s3-public" : "sg-open-ingress";
  const cases: Case[] = [
    {
      name: "entries that do not violate",
      instruction: () => forge(base(), { matched: harmless }),
      reason: /^nothing to do/,
    },
    {
      // The defect as found: wider-than-deployed parameters turn authorized and office entries into "violations".
      name: 'rule parameters {"authorizedPorts":"","ipv4MinPrefix":32} naming the authorized and office entries',
      instruction: () =>
        forge(base(), { matched: harmless, rule: { parameters: { authorizedPorts: "", ipv4MinPrefix: 32 } } }),
      reason: /^refused: instruction's rule parameters .* differ from the deployed/,
    },
    {
      name: "rule parameters alone (the genuine entries)",
      instruction: () => forge(base(), { rule: { parameters: { authorizedPorts: "tcp:1-65535" } } }),
      reason: /^refused: instruction's rule parameters/,
    },
    {
      name: "another rule id",
      instruction: () => forge(base(), { rule: { id: otherRule } }),
      reason: /^refused: instruction names rule /,
    },
    {
      name: "another Config rule name",
      instruction: () => forge(base(), { rule: { configRuleName: `evil-${base().rule.configRuleName}` } }),
      reason: /^refused: instruction names Config rule evil-/,
    },
    {
      name: "another account",
      instruction: () => forge(base(), { resource: { accountId: "999988887777" } }),
      reason: /instruction names account 999988887777, but this deployment acts only in account 123456789012/,
    },
    {
      name: "another region",
      instruction: () => forge(base(), { resource: { region: "eu-west-1" } }),
      reason: /instruction names region eu-west-1, but this deployment acts only in region us-east-1/,
    },
    {
      name: "an ARN that is not the resource's (to dodge an allowlist entry by ARN)",
      instruction: () => forge(base(), { resource: { arn: "arn:aws:s3:::someone-elses-bucket" } }),
      reason: /^refused: instruction ARN arn:aws:s3:::someone-elses-bucket is not the ARN of/,
    },
    {
      name: "the id of a compliant resource, with the genuine entries",
      instruction: () =>
        forge(base(), {
          resource: { id: compliantId, arn: resourceArn(deployment, base().resource.type, compliantId)! },
        }),
      reason: /^nothing to do/,
    },
    {
      name: "a capture time in the future",
      instruction: () => forge(base(), { capturedAt: future() }),
      reason: /instruction capturedAt .* is in the future/,
    },
    {
      name: "a resource type the problem does not apply to",
      instruction: () => forge(base(), { resource: { type: isSg ? "AWS::S3::Bucket" : "AWS::EC2::SecurityGroup" } }),
      reason: /^refused: .* applies to AWS::/,
    },
  ];
  return { base, cases };
}

let local: LocalSqs;
let world: AwsWorld;
let pause: ReturnType<typeof fakePauseParameter>;
let reporter: ReturnType<typeof recordingReporter>;

function remediationDeps() {
  return {
    ...deployedDeps({ queueUrl: local.queueUrl, readPause: () => readPauseState(pause.ssm, PAUSE_PARAMETER) }),
    sqs: local.client(),
    ledger: s3Ledger(new S3Client(REGION), { bucket: LEDGER }),
    reporter,
    deadLetterQueueUrl: local.dlqUrl,
    allowlist: [],
    now: () => new Date(),
    log: silent,
  };
}

/** What anyone with lambda:InvokeFunction on the function can send: a request naming our queue, made up otherwise. */
function directRequest(instruction: Instruction, overrides: Partial<RemediationRequest> = {}): RemediationRequest {
  return {
    queueUrl: local.queueUrl,
    receiptHandle: "forged-receipt",
    messageId: "forged-message",
    instruction,
    attempt: 1,
    dispatchedAt: new Date().toISOString(),
    ...overrides,
  };
}

function remediateAs(payload: unknown, problem: Problem): Promise<RemediationResult> {
  // The function the registry routes the problem to, as deployed.
  return remediate(problemSpec(problem).remediation, payload, {
    ...remediationDeps(),
    ec2: new EC2Client(REGION),
    s3: new S3Client(REGION),
    strategy: "surgical",
    protectedBuckets: [LEDGER],
  });
}

const lambda = {
  async send(command: InvokeCommand) {
    const problem = (JSON.parse(new TextDecoder().decode(command.input.Payload as Uint8Array)) as RemediationRequest)
      .instruction.problem;
    await remediateAs(command.input.Payload, problem);
    return { StatusCode: 202 };
  },
};

async function throughTheQueue(instruction: Instruction) {
  await enqueue(local.sqs, local.queueUrl, [instruction]);
  return runCoordinator({
    sqs: local.client(),
    lambda,
    ssm: pause.ssm,
    store: memoryStateStore(),
    reporter,
    config: testConfig(local, { remediationFunctions: FUNCTIONS, dispatchVisibilitySeconds: 60 }),
    now: () => new Date(),
    remainingTimeMs: () => 50_000,
    log: silent,
    metrics: { count() {} },
  });
}

/** Why nothing happened: the skip report's reason, or the dead-letter reason. */
async function reasonsGiven(): Promise<string[]> {
  const skipped = reporter.of("skipped").map((report) => report.reason);
  const dead = (await local.drain(local.dlqUrl)).map(
    (message) => message.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue ?? "",
  );
  return [...skipped, ...dead];
}

beforeEach(async () => {
  local = await startLocalSqs();
  world = createAwsWorld({ ledgerBucket: LEDGER });
  addWorld(world);
  pause = fakePauseParameter();
  reporter = recordingReporter();
});
afterEach(async () => {
  await local.stop();
});
afterAll(() => {
  world.restore();
  pause.mock.restore();
});

for (const problem of ["sg-open-ingress", "s3-public-acl", "s3-public-policy"] as const) {
  describe(`forged ${problem} instructions change nothing`, () => {
    const { base, cases } = casesFor(problem);

    it("control: the genuine instruction is fixed, through the queue and when invoked directly", async () => {
      await throughTheQueue(base());
      expect(world.changes.length).toBeGreaterThan(0);
      world = createAwsWorld({ ledgerBucket: LEDGER });
      addWorld(world);
      const direct = await remediateAs(directRequest(base()), problem);
      expect(direct).toMatchObject({ status: "fixed" });
      expect(world.changes.length).toBeGreaterThan(0);
    });

    for (const { name, instruction, reason } of cases) {
      it(`${name}: through the queue`, async () => {
        const forged = instruction();
        await throughTheQueue(forged);
        expect(world.changes).toEqual([]);
        expect(await reasonsGiven()).toEqual([expect.stringMatching(reason)]);
      });

      it(`${name}: invoked directly`, async () => {
        const result = await remediateAs(directRequest(instruction()), problem);
        expect(world.changes).toEqual([]);
        expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(reason) });
        expect(reporter.of("skipped")).toEqual([expect.objectContaining({ reason: expect.stringMatching(reason) })]);
      });
    }

    it("a grace period skipped by invoking directly: refused until due", async () => {
      const result = await remediateAs(directRequest(forge(base(), { notBefore: future() })), problem);
      expect(world.changes).toEqual([]);
      expect(result).toMatchObject({ status: "skipped", reason: expect.stringMatching(/is not due until/) });
    });

    it("a direct invoke while paused changes nothing and leaves the message", async () => {
      pause.set({ paused: true, by: "alice", reason: "change freeze", at: new Date().toISOString() });
      const result = await remediateAs(directRequest(base()), problem);
      expect(result).toMatchObject({ status: "held", reason: "paused by alice: change freeze" });
      expect(world.changes).toEqual([]);
      // No pause switch at all (deleted, never created): fail closed as well.
      pause.set(undefined);
      const missing = await remediateAs(directRequest(base(), { messageId: "forged-message-2" }), problem);
      expect(missing).toMatchObject({
        status: "held",
        reason: expect.stringMatching(/does not exist: treated as paused/),
      });
      expect(world.changes).toEqual([]);
    });

    it.each([
      [
        "another queue",
        { queueUrl: "https://sqs.us-east-1.amazonaws.com/999988887777/elsewhere" },
        /request names queue/,
      ],
      ["a dispatch time in the future", { dispatchedAt: future() }, /dispatchedAt .* is in the future/],
    ])("a request naming %s is rejected before anything is read", async (_what, change, reason) => {
      const result = await remediateAs(directRequest(base(), { ...change }), problem);
      expect(result).toMatchObject({ status: "rejected", reason: expect.stringMatching(reason) });
      expect(world.changes).toEqual([]);
      expect(world.mockedCalls()).toBe(0);
    });

    it("a dispatch older than the maximum age is left alone", async () => {
      const result = await remediateAs(
        directRequest(base(), { dispatchedAt: new Date(Date.now() - 10 * 60_000).toISOString() }),
        problem,
      );
      expect(result).toMatchObject({ status: "held", reason: expect.stringMatching(/dispatched 600 s ago/) });
      expect(world.changes).toEqual([]);
    });
  });
}
