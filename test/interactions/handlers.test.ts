// The two Lambda entries with their real wiring (settings from the environment, the app secret from Secrets Manager,
// the real Slack client) against mocked AWS clients and the local Slack server (global fetch sent there).
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ChangeMessageVisibilityCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { pendingKey } from "../../contract/pending.ts";
import { type SlackServer, startSlackServer } from "../helpers/slack-server.ts";
import {
  ALICE,
  APP_SECRETS,
  formBody,
  INSTRUCTION,
  LEDGER,
  MESSAGE_TS,
  memoryBucket,
  NOW,
  pendingRecord,
  press,
  QUEUE,
  signedEvent,
} from "./support.ts";

const s3Mock = mockClient(S3Client);
const lambdaMock = mockClient(LambdaClient);
const sqsMock = mockClient(SQSClient);
const secretsMock = mockClient(SecretsManagerClient);
let slack: SlackServer;
let bucket: ReturnType<typeof memoryBucket>;
const realFetch = globalThis.fetch;

const APPROVERS_JSON = JSON.stringify({ approvers: { fixNow: [{ users: [ALICE] }] } });
const ENDPOINT_ENV = {
  REMEDY_SLACK_APP_SECRET: "remedy/slack-app",
  REMEDY_SLACK_APPROVERS: APPROVERS_JSON,
  REMEDY_SNOOZE_MINUTES: "60",
  REMEDY_INTERACTIONS_WORKER: "remedy-interactions-worker",
  REMEDY_LEDGER_BUCKET: LEDGER,
  REMEDY_ACCOUNT_ID: "123456789012",
  REMEDY_REGION: "us-east-1",
  REMEDY_ORGANIZATION: "",
};
const WORKER_ENV = {
  REMEDY_SLACK_APP_SECRET: "remedy/slack-app",
  REMEDY_SLACK_APPROVERS: APPROVERS_JSON,
  REMEDY_LEDGER_BUCKET: LEDGER,
  REMEDY_QUEUE_URL: QUEUE,
  REMEDY_LEDGER_MAC_KEY_ID: "arn:aws:kms:us-east-1:123456789012:key/0c0ffee0-0000-4000-8000-00000000a11c",
  REMEDY_REPORT_TOPIC_ARN: "arn:aws:sns:us-east-1:123456789012:remedy-reports",
  REMEDY_ACCOUNT_ID: "123456789012",
  REMEDY_REGION: "us-east-1",
  REMEDY_ORGANIZATION: "",
  AWS_REGION: "us-east-1",
};

async function load<T>(path: string, env: Record<string, string>): Promise<T> {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import(path)) as T;
}
type Endpoint = { handler: (event: unknown) => Promise<{ statusCode: number; body: string }> };
type Worker = { handler: (event: unknown) => Promise<{ status: string }> };

beforeAll(async () => {
  slack = await startSlackServer();
});
afterAll(async () => {
  await slack.close();
  for (const mock of [s3Mock, lambdaMock, sqsMock, secretsMock]) mock.restore();
});
beforeEach(() => {
  for (const mock of [s3Mock, lambdaMock, sqsMock, secretsMock]) mock.reset();
  slack.calls.length = 0;
  bucket = memoryBucket(s3Mock);
  bucket.put(pendingKey(INSTRUCTION.id), pendingRecord());
  lambdaMock.on(InvokeCommand).resolves({ StatusCode: 202 });
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(APP_SECRETS) });
  // Only Slack's hosts go to the local server; it reaches itself with the real fetch.
  vi.stubGlobal("fetch", ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return url.hostname.endsWith("slack.com") ? slack.fetch(input, init) : realFetch(input, init);
  }) as typeof fetch);
  vi.useFakeTimers({ toFake: ["Date"], now: NOW });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
});

describe("interactions (the endpoint)", () => {
  it("answers only POST", async () => {
    const { handler } = await load<Endpoint>("../../functions/interactions/endpoint/handler.ts", ENDPOINT_ENV);
    expect((await handler({ requestContext: { http: { method: "GET" } } })).statusCode).toBe(405);
    expect(secretsMock.calls()).toEqual([]);
  });

  it("fails closed when the app secret cannot be read, and reads it again on the next request", async () => {
    const { handler } = await load<Endpoint>("../../functions/interactions/endpoint/handler.ts", ENDPOINT_ENV);
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(
        Object.assign(new Error("denied"), { name: "AccessDeniedException", $metadata: { httpStatusCode: 400 } }),
      )
      .resolves({ SecretString: JSON.stringify(APP_SECRETS) });
    const event = signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id)));
    expect(await handler(event)).toEqual({ statusCode: 500, body: "" });
    expect(s3Mock.calls()).toEqual([]);
    expect(lambdaMock.calls()).toEqual([]);
    expect(await handler(event)).toEqual({ statusCode: 200, body: "" });
    expect(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input).toMatchObject({
      FunctionName: "remedy-interactions-worker",
      InvocationType: "Event",
    });
    expect(bucket.json(`decisions/${INSTRUCTION.id}/fix-now.json`)).toMatchObject({ by: { slackUserId: ALICE } });
  });
});

describe("interactions-worker", () => {
  it("carries out the endpoint's item and updates the message through the Slack Web API", async () => {
    const endpoint = await load<Endpoint>("../../functions/interactions/endpoint/handler.ts", ENDPOINT_ENV);
    await endpoint.handler(signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id))));
    const item = JSON.parse(
      Buffer.from(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array).toString(),
    );
    const worker = await load<Worker>("../../functions/interactions/worker/handler.ts", WORKER_ENV);
    expect(await worker.handler(item)).toMatchObject({ status: "done" });
    expect(sqsMock.commandCalls(ChangeMessageVisibilityCommand)[0]!.args[0].input).toMatchObject({
      VisibilityTimeout: 0,
    });
    const update = slack.calls.find((call) => call.method === "chat.update")!;
    expect(update.headers.authorization).toBe(`Bearer ${APP_SECRETS.botToken}`);
    expect(update.body).toMatchObject({ ts: MESSAGE_TS });
  });

  it("refuses an item with no decision behind it, touching nothing", async () => {
    // A well-formed item, as the endpoint sends them, whose decision record is not in the ledger bucket.
    const endpoint = await load<Endpoint>("../../functions/interactions/endpoint/handler.ts", ENDPOINT_ENV);
    await endpoint.handler(signedEvent(formBody(press("remedy:fix-now", INSTRUCTION.id))));
    const item = JSON.parse(
      Buffer.from(lambdaMock.commandCalls(InvokeCommand)[0]!.args[0].input.Payload as Uint8Array).toString(),
    );
    bucket.objects.delete(item.decisionKey);
    const worker = await load<Worker>("../../functions/interactions/worker/handler.ts", WORKER_ENV);
    expect(await worker.handler(item)).toMatchObject({
      status: "refused",
      reason: expect.stringContaining(`no decision is recorded at s3://${LEDGER}/${item.decisionKey}`),
    });
    expect(sqsMock.calls()).toEqual([]);
    expect(slack.calls).toEqual([]);
  });
});
