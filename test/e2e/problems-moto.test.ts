// Every registered problem, end to end on moto, from its example alone (problems/<id>/example.ts): nothing here
// names a problem. One moto server and one emulated stack (test/e2e/moto-stack.ts, auto-response on) for the whole
// file; for each problem in PROBLEM_SPECS:
//
//   example   creates its violating resource in moto (one violating entry, look-alike entries to keep)
//   → rule    functions/config-rule/handler.ts, with the config_rule function's environment, on the change event
//             for the resource's Config item (the example's configItem, read from the live resource); for a type
//             Config does not record (no change event ever names one), on its periodic run instead: the
//             ScheduledNotification, then every task its scan puts on the stack's scan queue, each taken off the
//             queue and run as its own invocation (as the event source mapping does), until none is left
//   → queue   exactly one instruction on the stack's queue, naming the example's violating entry
//   → coordinator  functions/coordinator/handler.ts, one scheduled tick, its Lambda client pointed at the Invoke
//             stand-in (moto-stack.ts lambdaStandIn), which records the one asynchronous invoke
//   → remediation  the function the registry names for the problem (deployedHandler(spec.remediation)), with that
//             function's environment, run on the invoke's payload
//   then: the live resource reads as the example says once fixed (the violating entry gone, all else untouched),
//   the ledger holds one new record (fixed, naming the problem, MAC verified with the stack's key), the report topic
//   carried one `fixed` report for it (read from an SQS queue subscribed to the topic), the queue and DLQ are empty,
//   and `remedy undo <actionId> --yes` (the bin's entry, in this process, seeing only moto) puts the resource back
//   exactly as it was (or, where the example says undo gives it back in another form that means the same, as that);
//   then `remedy exemptions lift <resource>` ends the undo's temporary exemption, so the next problem starts from a
//   world without it (the examples' resources stay: an undo exemption on a bucket made public again would otherwise
//   hold the account-level Block Public Access fix back, as it should in a real account).
//
// moto gaps worked around as in pipeline-moto.test.ts: PutEvaluations outside TestMode answers HTTP 500, and
// GetComplianceDetailsByConfigRule (a periodic scan's first read) is not implemented (both stubbed on the rule's
// Config client only: Config holds no result yet), GenerateMac answers a bare key id (kmsKeyArnsAsAws), and S3 Control's
// account-in-host URLs are no URLs (the account's Block Public Access reads as unknown, so the rule and the S3
// remediation judge with the bucket's own flags, as documented). CloudTrail LookupEvents (missing in moto) is only
// the notifier's attribution, which this file does not run: the notifier is pipeline-moto's.
// No sleeps: the report tap is read with short polls (moto delivers SNS to SQS as it publishes).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Evaluation,
  GetComplianceDetailsByConfigRuleCommand,
  PutEvaluationsCommand,
} from "@aws-sdk/client-config-service";
import { SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_OUTPUTS_FILE } from "../../cli/stack.ts";
import { kmsRecordVerifier } from "../../cli/undo-runner.ts";
import { type Instruction, parseInstruction } from "../../contract/instruction.ts";
import { readLedgerRecord } from "../../contract/ledger.ts";
import { parseReport, type Report } from "../../contract/report.ts";
import { configServiceClient, kmsClient } from "../../platform/clients.ts";
import { deployedRuleFor, readDeployment } from "../../platform/deployment.ts";
import { listUndoExemptions } from "../../platform/undo-exemptions-store.ts";
import { type ExampleClients, stateAfterFix, stateAfterUndo } from "../../problems/example.ts";
import { PROBLEM_SPECS, type Problem } from "../../problems/index.ts";
import type { ProblemSpec, ResourceSpec } from "../../problems/types.ts";
import { configEvent } from "../fixtures/events.ts";
import {
  isolatedEnv,
  kmsKeyArnsAsAws,
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  type Moto,
  skipWithoutMoto,
  startMoto,
} from "../helpers/moto.ts";
import { EXAMPLES } from "../support/instructions.ts";
import { deployedHandler } from "../support/remediate.ts";
import {
  type CliRun,
  configRuleRun,
  coordinatorTickRun,
  type Deployed,
  deployToMoto,
  expectClean,
  functionEnv,
  type LambdaStandIn,
  lambdaStandIn,
  ledgerKeys,
  queueDepth,
  quietS3ControlUrlErrors,
  runCli,
  shown,
  withEnv,
} from "./moto-stack.ts";

interface World extends Deployed {
  dir: string;
  lambda: LambdaStandIn;
  examples: ExampleClients;
  tapQueueUrl: string;
  runs: CliRun[];
}

/** The SDK clients the examples ask for: the setup's own, or one more of the class, pointed at moto. */
function exampleClients(w: Deployed): ExampleClients {
  const made = new Map<unknown, unknown>(Object.values(w.clients).map((client) => [client.constructor, client]));
  return {
    client<C>(Client: new (config: object) => C): C {
      if (!made.has(Client)) made.set(Client, new Client({ ...w.moto.clientConfig, maxAttempts: 2 }));
      return made.get(Client) as C;
    },
  };
}

async function setUp(moto: Moto): Promise<World> {
  const lambda = await lambdaStandIn();
  const w = await deployToMoto(moto, { enable_auto_response: "true" });
  // What the notifier subscribes to (the report topic): an SQS queue listens on it here instead.
  const { QueueUrl: tapQueueUrl } = await w.clients.sqs.send(
    new CreateQueueCommand({ QueueName: "remedy-e2e-problems-report-tap" }),
  );
  const { Attributes } = await w.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: tapQueueUrl, AttributeNames: ["QueueArn"] }),
  );
  await w.clients.sns.send(
    new SubscribeCommand({ TopicArn: w.stack.reportTopicArn, Protocol: "sqs", Endpoint: Attributes!.QueueArn }),
  );
  const dir = mkdtempSync(join(tmpdir(), "remedy-problems-moto-"));
  // `terraform output -json > remedy-outputs.json`, where the CLI runs.
  writeFileSync(join(dir, DEFAULT_OUTPUTS_FILE), `${JSON.stringify(w.stack.outputs, null, 2)}\n`);
  return { ...w, dir, lambda, examples: exampleClients(w), tapQueueUrl: tapQueueUrl!, runs: [] };
}

/** Every report on the tap so far, each deleted; short polls until one comes back empty (no waiting). */
async function takeReports(w: World): Promise<Report[]> {
  const reports: Report[] = [];
  for (;;) {
    const { Messages = [] } = await w.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: w.tapQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (Messages.length === 0) return reports;
    for (const message of Messages) {
      const notification = JSON.parse(message.Body ?? "") as { TopicArn?: string; Message?: string };
      expect(notification.TopicArn, "published on the report topic").toBe(w.stack.reportTopicArn);
      reports.push(parseReport(JSON.parse(String(notification.Message))));
      await w.clients.sqs.send(
        new DeleteMessageCommand({ QueueUrl: w.tapQueueUrl, ReceiptHandle: message.ReceiptHandle }),
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The Lambda handlers, each with the environment the stack gives it.

/** The Config rule Lambda judging one Config item, invoked as Config invokes the deployed rule on a change. */

/**
 * The Config rule Lambda's periodic run, for a resource type Config does not record: the ScheduledNotification Config
 * sends the deployed rule, then every task of the scan it starts, each received from the stack's scan queue and run
 * as that queue's event source mapping runs it (one invocation, its own time), until the queue is empty. What was
 * reported to Config, and the instructions on the remediation queue (read back without taking them).
 */
async function periodicRuleRun(p: World, problem: Problem) {
  const env = { ...p.moto.env, ...functionEnv(p.tf, p.stack.refs, "config_rule") };
  const deployed = deployedRuleFor(readDeployment(env), problem);
  if (!deployed) throw new Error(`no deployed rule finds ${problem}`);
  const scanQueueUrl = env.REMEDY_SCAN_QUEUE_URL!;
  return withEnv(env, async () => {
    // moto gaps: PutEvaluations answers HTTP 500 and GetComplianceDetailsByConfigRule is missing; Config's side is
    // stubbed, holding no result yet (the first scan).
    const config = mockClient(configServiceClient());
    config.on(PutEvaluationsCommand).resolves({ FailedEvaluations: [] });
    config.on(GetComplianceDetailsByConfigRuleCommand).resolves({ EvaluationResults: [] });
    try {
      const { handler } = await import("../../functions/config-rule/handler.ts");
      const scheduled = configEvent("ScheduledNotification", "sg");
      const invoking = JSON.parse(String(scheduled.invokingEvent));
      const started = await handler({
        ...scheduled,
        invokingEvent: JSON.stringify({ ...invoking, awsAccountId: MOTO_ACCOUNT_ID }),
        ruleParameters: JSON.stringify(deployed.rawParameters),
        configRuleName: deployed.configRuleName,
        accountId: MOTO_ACCOUNT_ID,
      });
      expect(started, "the ScheduledNotification starts a scan").toMatchObject({ outcome: "scan-started" });
      const tasks: string[] = [];
      for (;;) {
        const { Messages = [] } = await p.clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: scanQueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0 }),
        );
        const [message] = Messages;
        if (!message) break;
        if (tasks.length >= 20) throw new Error(`the scan did not end: ${tasks.join(", ")}`);
        tasks.push(JSON.parse(message.Body!).kind);
        const outcome = await handler(
          {
            Records: [
              {
                messageId: message.MessageId,
                receiptHandle: message.ReceiptHandle,
                body: message.Body,
                attributes: { ApproximateReceiveCount: "1" },
                eventSource: "aws:sqs",
              },
            ],
          },
          { getRemainingTimeInMillis: () => 250_000 },
        );
        expect(outcome, `scan task ${tasks.at(-1)}`).toEqual({ batchItemFailures: [] });
        await p.clients.sqs.send(
          new DeleteMessageCommand({ QueueUrl: scanQueueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      }
      expect(tasks, "the scan's tasks").toEqual(["verdicts", "list"]);
      const reported: Evaluation[] = config
        .commandCalls(PutEvaluationsCommand)
        .flatMap((call) => call.args[0].input.Evaluations ?? []);
      // Read back with no visibility timeout: the messages stay where the coordinator takes them from.
      const { Messages = [] } = await p.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: p.stack.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      return { reported, queued: Messages.map((message) => parseInstruction(message.Body ?? "")) };
    } finally {
      config.restore();
    }
  });
}

/** The stack's Lambda resource for a function of the registry (infra/stack.ts names it so). */
const lambdaResource = (name: string) => name.replaceAll("-", "_");

/** Lambda running one asynchronous invoke of the remediation function `name`, as its build makes it. */
async function remediation(w: World, name: ProblemSpec["remediation"], payload: unknown) {
  return withEnv({ ...w.moto.env, ...functionEnv(w.tf, w.stack.refs, lambdaResource(name)) }, async () => {
    kmsKeyArnsAsAws(kmsClient());
    const { handler } = await deployedHandler(name);
    return handler(payload);
  });
}

// ---------------------------------------------------------------------------------------------------------------

describe.skipIf(skipWithoutMoto("every registered problem end to end on moto"))("every problem, on moto", () => {
  let moto: Moto | undefined;
  let world: World | undefined;
  const started = Date.now();
  const w = () => {
    if (!world) throw new Error("the emulated stack was not set up");
    return world;
  };

  beforeAll(async () => {
    quietS3ControlUrlErrors();
    moto = await startMoto();
    world = await setUp(moto);
  }, 90_000);

  afterAll(async () => {
    vi.restoreAllMocks();
    if (world) {
      console.info(
        `problems-moto: ${PROBLEM_SPECS.length} problems in ${Date.now() - started} ms, ${world.runs.length} CLI runs (${world.runs.reduce((sum, r) => sum + r.ms, 0)} ms)`,
      );
      rmSync(world.dir, { recursive: true, force: true });
      await world.lambda.close();
    }
    await moto?.stop();
  });

  describe.each(PROBLEM_SPECS.map((spec) => [spec.id, spec] as const))("%s", (problem, spec) => {
    it(`is found, queued, dispatched to ${spec.remediation}, fixed exactly, recorded, reported and undone`, async () => {
      const p = w();
      const example = EXAMPLES.get(problem)!;

      // The example's resource, live in moto: one violating entry, and entries to keep.
      const resourceId = await example.create(p.examples, `remedy-e2e-${problem}`);
      const before = await example.read(p.examples, resourceId);
      expect(
        before.entries.filter((entry) => example.isViolation(entry)),
        "one violating entry",
      ).toHaveLength(1);
      expect(
        before.entries.filter((entry) => !example.isViolation(entry)),
        "entries to keep",
      ).not.toEqual([]);

      // The Config rule, on the change event for the resource's item (or, for a type Config does not record, on its
      // periodic run): NON_COMPLIANT, one instruction for it.
      const judged =
        (spec.resource as ResourceSpec).recordedByConfig === false
          ? await periodicRuleRun(p, problem)
          : await configRuleRun(
              p,
              await example.configItem(p.examples, resourceId, new Date(Date.now() - 5_000)),
              problem,
            );
      expect(judged.reported.map((e) => [e.ComplianceResourceType, e.ComplianceResourceId, e.ComplianceType])).toEqual([
        [spec.resourceType, resourceId, "NON_COMPLIANT"],
      ]);
      expect(
        judged.queued.map((i) => [i.problem, i.resource.id]),
        "exactly this problem, once",
      ).toEqual([[problem, resourceId]]);
      const [instruction] = judged.queued as [Instruction];
      expect(instruction.matched, "the example's violating entry").toEqual([example.violation(resourceId)]);
      expect(await queueDepth(p, p.stack.queueUrl), "queued").toEqual({ visible: 1, inFlight: 0 });

      // The coordinator: one Invoke of the function the registry names, carrying the instruction as queued.
      const invokedBefore = p.lambda.invocations.length;
      const summary = await coordinatorTickRun(p, p.lambda);
      expect(summary).toMatchObject({ paused: false, received: 1, dispatched: 1, deadLettered: 0, invokeFailures: 0 });
      const invocations = p.lambda.invocations.slice(invokedBefore);
      expect(invocations, "one Invoke").toHaveLength(1);
      const [invocation] = invocations as [(typeof invocations)[number]];
      const functionName = p.stack.refs.values.get(
        `aws_lambda_function.${lambdaResource(spec.remediation)}.function_name`,
      );
      expect(functionName, `${spec.remediation} is deployed`).toBeDefined();
      expect(invocation).toEqual({
        functionName,
        invocationType: "Event",
        payload: expect.objectContaining({ queueUrl: p.stack.queueUrl, attempt: 1, instruction }),
      });

      // The remediation function, on the invoke's payload: the violating entry gone, all else as it was.
      const keysBefore = await ledgerKeys(p);
      const result = await remediation(p, spec.remediation, invocation.payload);
      if (result.status !== "fixed") throw new Error(`${problem}: ${JSON.stringify(result)}`);
      expect(result.messageDeleted, "the instruction's message is deleted").toBe(true);
      expect(await example.read(p.examples, resourceId), "the live resource, fixed").toEqual(
        stateAfterFix(example, before),
      );
      expect(await queueDepth(p, p.stack.queueUrl), "the queue").toEqual({ visible: 0, inFlight: 0 });
      expect(await queueDepth(p, p.stack.dlqUrl), "the dead-letter queue").toEqual({ visible: 0, inFlight: 0 });

      // The ledger: one new record, fixed, naming the problem, signed with the stack's key (VerifyMac says so).
      const fixKeys = (await ledgerKeys(p)).filter((key) => !keysBefore.includes(key));
      expect(fixKeys, "one ledger record for the fix").toHaveLength(1);
      const record = await readLedgerRecord(p.clients.s3, { bucket: p.stack.ledgerBucket }, result.actionId);
      expect(record).toMatchObject({
        actionId: result.actionId,
        problem,
        outcome: "fixed",
        resource: { type: spec.resourceType, id: resourceId, accountId: MOTO_ACCOUNT_ID, region: MOTO_REGION },
        integrity: { keyId: p.stack.macKeyArn },
      });
      expect(record.changes, "the change the function reported").toEqual(result.changes);
      expect(
        await kmsRecordVerifier(p.clients.kms).verify({ ...record, integrity: record.integrity! }),
        "the MAC verifies",
      ).toBe(true);

      // The report topic: one fixed report, for this action.
      const reports = await takeReports(p);
      expect(reports.map((r) => r.kind)).toEqual(["fixed"]);
      expect(reports[0]).toMatchObject({
        source: "remedy",
        problem,
        actionId: result.actionId,
        resource: { id: resourceId },
      });

      // `remedy undo <actionId> --yes`: the resource exactly as before the fix, and the undo recorded.
      const run = await runCli(["undo", result.actionId, "--yes", "--json"], p.dir, isolatedEnv(p.moto, p.dir));
      p.runs.push(run);
      expectClean(run, 0);
      expect(JSON.parse(run.stdout), shown(run)).toMatchObject({ outcome: "restored", undoes: result.actionId });
      expect(await example.read(p.examples, resourceId), "the live resource, undone").toEqual(
        stateAfterUndo(example, before),
      );
      const undoKeys = (await ledgerKeys(p)).filter((key) => !keysBefore.includes(key) && !fixKeys.includes(key));
      expect(undoKeys, "one ledger record for the undo").toHaveLength(1);

      // `remedy exemptions lift <resource>`: the exemption the undo recorded (if it recorded one) ends, and none is left.
      const { exemption } = JSON.parse(run.stdout) as { exemption?: { until?: string; object?: string } };
      if (exemption?.until) {
        const lift = await runCli(["exemptions", "lift", resourceId, "--json"], p.dir, isolatedEnv(p.moto, p.dir));
        p.runs.push(lift);
        expectClean(lift, 0);
        expect(JSON.parse(lift.stdout), shown(lift)).toMatchObject({ lifted: true, object: exemption.object });
      }
      expect((await listUndoExemptions(p.clients.s3, p.stack.ledgerBucket)).records, "no undo exemption left").toEqual(
        [],
      );
      // What the CLI may publish is not this test's: the next problem's reports start from an empty tap.
      await takeReports(p);
    }, 60_000);
  });
});
