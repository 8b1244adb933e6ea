// The bundles on the runtime they ship to: every function is built (once per run, shared with stack.test.ts:
// test/helpers/bundles.ts) and run by a pinned Node 22 (scripts/node-runtime.ts: Lambda's nodejs22.x), whatever
// Node runs the tests. Each bundle is imported with only its own environment, as a cold start does; then real
// handlers are invoked with their AWS calls going to moto, and judged by their results, their JSON log lines, the
// requests moto received (its recorder) and what is left in moto's queues.
import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLE_ENV, importEnv } from "../../bench/bundles.bench.ts";
import { FUNCTION_LIST, FUNCTIONS, type FunctionName } from "../../functions/registry.ts";
import type { BundleResult } from "../../scripts/build.ts";
import { nodeBinary, PINNED } from "../../scripts/node-runtime.ts";
import { configEvent } from "../fixtures/events.ts";
import { sharedBundles } from "../helpers/bundles.ts";
import { MOTO_ACCOUNT_ID, MOTO_REGION, type Moto, skipWithoutMoto, startMoto } from "../helpers/moto.ts";

let node: string;
let built: BundleResult[];
/** What the children said process.version was. */
const versionsSeen = new Set<string>();

beforeAll(async () => {
  // The first run downloads the pinned Node (~50 MB); later runs reuse .cache/node.
  [node, { built }] = await Promise.all([nodeBinary(22), sharedBundles()]);
}, 180_000);

afterAll(() => {
  console.log(
    `runtime: bundles ran on Node ${[...versionsSeen].join(", ") || "(none)"} (pinned ${PINNED[22].version}, ${process.platform}-${process.arch}); tests on ${process.version}`,
  );
});

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A module script run by the pinned Node, with exactly `env` (plus PATH), as a Lambda has only its own. */
function runOnNode22(script: string, args: readonly string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      node,
      ["--input-type=module", "-e", script, ...args],
      { env: { PATH: process.env.PATH ?? "", ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
      },
    );
  });
}

const bundleOf = (name: FunctionName) => built.find((result) => result.name === name)!;
const bundleUrl = (name: FunctionName) => pathToFileURL(bundleOf(name).bundlePath).href;

const IMPORT_SCRIPT = `
const bundle = await import(process.argv[1]);
console.log(JSON.stringify({ node: process.version, handler: typeof bundle.handler }));
`;

describe("every bundle imports under Node 22 with its own environment", { timeout: 60_000 }, () => {
  for (const spec of FUNCTION_LIST) {
    it(`${spec.name}: process.version is v22, handler is a function`, async () => {
      const ran = await runOnNode22(IMPORT_SCRIPT, [bundleUrl(spec.name)], importEnv(spec.env));
      expect({ code: ran.code, stderr: ran.stderr }).toEqual({ code: 0, stderr: "" });
      const said = JSON.parse(ran.stdout.trim().split("\n").at(-1)!) as { node: string; handler: string };
      expect(said.node).toMatch(/^v22\./);
      expect(said.node).toBe(`v${PINNED[22].version}`);
      expect(said.handler).toBe("function");
      versionsSeen.add(said.node);
    });
  }

  it("a missing variable fails the import under Node 22 too, naming it (the check is not vacuous)", async () => {
    const env = importEnv(FUNCTIONS["remediate-sg"].env);
    delete env.REMEDY_RULES;
    const ran = await runOnNode22(IMPORT_SCRIPT, [bundleUrl("remediate-sg")], env);
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toMatch(/REMEDY_RULES is required/);
  });
});

// -- Real invocations, AWS calls to moto -----------------------------------------------------------------------

/** Imports the bundle, calls its handler once with the event (and a Lambda-like context), prints the result. */
const INVOKE_SCRIPT = `
const [url, eventJson] = process.argv.slice(1);
const { handler } = await import(url);
const deadline = Date.now() + 60_000;
const context = {
  functionName: "remedy-runtime-test",
  awsRequestId: "00000000-0000-4000-8000-000000000022",
  getRemainingTimeInMillis: () => deadline - Date.now(),
};
const result = await handler(JSON.parse(eventJson), context);
console.log(JSON.stringify({ invocation: { node: process.version, result } }));
`;

interface Invocation {
  node: string;
  // biome-ignore lint/suspicious/noExplicitAny: the handler's JSON result, asserted on shape
  result: any;
  /** Every other stdout line: the function's Powertools logs, each one JSON. */
  logs: Record<string, unknown>[];
}

interface Recorded {
  /** X-Amz-Target of the AWS JSON clients, e.g. "StarlingDoveService.PutEvaluations" ("" for S3's REST calls). */
  target: string;
  /** The request's method and path ("GET /remedy-ledger-example/allowlist/slack.json"). */
  request: string;
  body: Record<string, unknown>;
}

describe.skipIf(skipWithoutMoto("invoking bundles under Node 22 against moto"))(
  "real invocations under Node 22, AWS calls to moto",
  { timeout: 90_000 },
  () => {
    let moto: Moto;
    let sqs: SQSClient;
    let ssm: SSMClient;

    beforeAll(async () => {
      // Every moto of test/helpers/moto.ts has its request recorder (its own file), off until started.
      moto = await startMoto();
      sqs = new SQSClient(moto.clientConfig);
      ssm = new SSMClient(moto.clientConfig);
      // The ledger bucket the example environment names: the rule function reads the allowlist's Slack part there
      // (absent: none; no bucket would be a warning on stderr).
      const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
      await s3.send(new CreateBucketCommand({ Bucket: EXAMPLE_ENV.REMEDY_LEDGER_BUCKET }));
      s3.destroy();
    }, 60_000);

    afterAll(async () => {
      sqs?.destroy();
      ssm?.destroy();
      await moto?.stop();
    });

    const motoApi = async (path: string, method = "POST") => {
      const response = await fetch(`${moto.endpoint}/moto-api/recorder/${path}`, { method });
      expect(response.status, `moto recorder ${path}`).toBe(200);
      return response.text();
    };

    /** The AWS requests moto received while `run` ran. */
    async function recording<T>(run: () => Promise<T>): Promise<{ value: T; requests: Recorded[] }> {
      await motoApi("reset-recording");
      await motoApi("start-recording");
      let value: T;
      try {
        value = await run();
      } finally {
        await motoApi("stop-recording");
      }
      const requests = (await motoApi("download-recording", "GET"))
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => {
          const entry = JSON.parse(line) as {
            headers: Record<string, string>;
            body: string;
            body_encoded: boolean;
            method?: string;
            url?: string;
          };
          const headers = Object.fromEntries(Object.entries(entry.headers).map(([k, v]) => [k.toLowerCase(), v]));
          const text = entry.body_encoded ? Buffer.from(entry.body, "base64").toString("utf8") : entry.body;
          const path = entry.url ? new URL(entry.url, "http://moto").pathname : "";
          return {
            target: headers["x-amz-target"] ?? "",
            request: `${entry.method ?? ""} ${path}`,
            body: headers["x-amz-target"] && text ? JSON.parse(text) : {},
          };
        });
      return { value, requests };
    }

    async function createQueue(name: string): Promise<string> {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
      return QueueUrl!;
    }

    async function queueDepth(queueUrl: string) {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
      );
      return {
        visible: Number(Attributes?.ApproximateNumberOfMessages),
        inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
      };
    }

    /** The function's own environment (EXAMPLE_ENV, overridden by `env`), moto's endpoint, logs at INFO. */
    async function invoke(name: FunctionName, event: unknown, env: Record<string, string>): Promise<Invocation> {
      const ran = await runOnNode22(INVOKE_SCRIPT, [bundleUrl(name), JSON.stringify(event)], {
        ...importEnv(FUNCTIONS[name].env),
        ...moto.env,
        POWERTOOLS_LOG_LEVEL: "INFO",
        ...env,
      });
      expect(ran.code, `${name} under Node 22 exited ${ran.code}: ${ran.stderr.slice(-2000)}`).toBe(0);
      expect(ran.stderr).toBe("");
      // Pure JSON on stdout: every line parses (Lambda ships them to CloudWatch as structured logs).
      const lines = ran.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const result = lines.find((line) => "invocation" in line)?.invocation as Omit<Invocation, "logs">;
      expect(result, "the handler returned").toBeDefined();
      versionsSeen.add(result.node);
      return { ...result, logs: lines.filter((line) => !("invocation" in line)) };
    }

    const logged = (invocation: Invocation, message: string) =>
      invocation.logs.filter((line) => line.message === message);

    it("config-rule judges a real Config event in test mode: PutEvaluations reaches moto, nothing is queued", async () => {
      const queueUrl = await createQueue("remedy-remediation");
      // The fixture is Config's own change notification for a group with SSH open to the world; "TESTMODE" is the
      // result token of the console's test runs (moto's PutEvaluations supports test mode only).
      const event = { ...configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"), resultToken: "TESTMODE" };
      const { value: run, requests } = await recording(() =>
        invoke("config-rule", event, { REMEDY_QUEUE_URL: queueUrl }),
      );

      expect(run.node).toBe(`v${PINNED[22].version}`);
      expect(run.result).toMatchObject({
        outcome: "evaluated",
        messageType: "ConfigurationItemChangeNotification",
        evaluations: [
          {
            ComplianceResourceType: "AWS::EC2::SecurityGroup",
            ComplianceResourceId: "sg-0f1e2d3c4b5a69788",
            ComplianceType: "NON_COMPLIANT",
            OrderingTimestamp: "2026-11-20T09:58:12.412Z",
          },
        ],
        queued: [],
        notQueued: 1,
      });
      expect(run.result.evaluations[0].Annotation).toContain("22");

      expect(logged(run, "test-mode run: fix instructions judged but not queued")).toMatchObject([
        { level: "INFO", service: "remedy-config-rule", configRuleName: "remedy-sg-open-ingress", notQueued: 1 },
      ]);
      expect(logged(run, "rule run complete")).toMatchObject([{ step: "complete", evaluations: 1, queued: 0 }]);
      expect(run.logs.filter((line) => line.level === "ERROR")).toEqual([]);

      // What moto saw: the read of the allowlist's Slack part (none there), one PutEvaluations, in test mode,
      // carrying the verdict; no SQS request at all.
      expect(requests.filter((request) => request.target === "").map((request) => request.request)).toEqual([
        `GET /${EXAMPLE_ENV.REMEDY_LEDGER_BUCKET}/allowlist/slack.json`,
      ]);
      const evaluations = requests.filter((request) => request.target !== "");
      expect(evaluations.map((request) => request.target)).toEqual(["StarlingDoveService.PutEvaluations"]);
      expect(evaluations[0]!.body).toMatchObject({
        ResultToken: "TESTMODE",
        TestMode: true,
        Evaluations: [{ ComplianceResourceId: "sg-0f1e2d3c4b5a69788", ComplianceType: "NON_COMPLIANT" }],
      });
      expect(await queueDepth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    });

    it("the coordinator, with the pause switch set to paused, reads it and dispatches nothing", async () => {
      const queueUrl = await createQueue("remedy-paused-remediation");
      const dlqUrl = await createQueue("remedy-paused-remediation-dlq");
      const waiting = JSON.stringify({ note: "queued before the pause: a paused tick must not touch it" });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: waiting }));
      const pauseParameter = "/remedy/runtime-test/paused";
      const pausedAt = new Date().toISOString();
      await ssm.send(
        new PutParameterCommand({
          Name: pauseParameter,
          Type: "String",
          Value: JSON.stringify({ paused: true, by: "oncall@example.com", reason: "runtime test", at: pausedAt }),
        }),
      );
      // What the EventBridge schedule sends every minute.
      const tick = {
        version: "0",
        id: "0b5cfa2b-55a3-4b6e-9f3a-1c0c0ffee022",
        "detail-type": "Scheduled Event",
        source: "aws.events",
        account: MOTO_ACCOUNT_ID,
        time: pausedAt,
        region: MOTO_REGION,
        resources: [`arn:aws:events:${MOTO_REGION}:${MOTO_ACCOUNT_ID}:rule/remedy-schedule`],
        detail: {},
      };
      const { value: run, requests } = await recording(() =>
        invoke("coordinator", tick, {
          REMEDY_QUEUE_URL: queueUrl,
          REMEDY_DLQ_URL: dlqUrl,
          REMEDY_PAUSE_PARAMETER: pauseParameter,
        }),
      );

      expect(run.node).toBe(`v${PINNED[22].version}`);
      expect(run.result).toMatchObject({ paused: true, received: 0, dispatched: 0, deadLettered: 0, sqsCalls: 0 });
      expect(logged(run, "auto-response paused: dispatching nothing")).toMatchObject([
        { level: "INFO", service: "remedy-coordinator", by: "oncall@example.com", reason: "runtime test" },
      ]);
      expect(run.logs.filter((line) => line.level === "ERROR")).toEqual([]);

      // It asked SSM for the switch, and nothing else: no receive, no invoke, no state write, no report.
      expect(requests.map((request) => request.target)).toEqual(["AmazonSSM.GetParameter"]);
      expect(requests[0]!.body).toEqual({ Name: pauseParameter });
      expect(await queueDepth(queueUrl)).toEqual({ visible: 1, inFlight: 0 });
      expect(await queueDepth(dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    });
  },
);
