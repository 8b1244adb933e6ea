// The Config rule's entry judges with the allowlist's Slack part after the deployed allowlist: a resource exempted in
// Slack is reported as a deployed allowlist entry would make it (annotated, nothing queued). The object is read at most
// once a minute per container; unreadable, the deployed allowlist alone (the remediation reads it again).
import { ConfigServiceClient, PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import { GetObjectCommand, NoSuchKey, S3Client } from "@aws-sdk/client-s3";
import { GetPublicAccessBlockCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SLACK_ALLOWLIST_KEY } from "../../platform/slack-allowlist.ts";
import { configEvent } from "../fixtures/events.ts";
import { deploymentEnv } from "../remediation/support.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);
const s3ControlMock = mockClient(S3ControlClient);
const s3Mock = mockClient(S3Client);

const QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
const LEDGER_BUCKET = "remedy-ledger-test";
const GROUP = "sg-0f1e2d3c4b5a69788";
const ENV = {
  REMEDY_QUEUE_URL: QUEUE,
  REMEDY_SCAN_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan",
  REMEDY_SCAN_DLQ_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-scan-dlq",
  REMEDY_LEDGER_BUCKET: LEDGER_BUCKET,
};
const ENTRY = {
  resource: GROUP,
  problems: ["sg-open-ingress"],
  reason: "bastion",
  owner: "slack:U012ABCDEF",
  expires: "2099-01-01",
  decisionId: "dec-1",
  at: "2026-11-20T10:00:00.000Z",
};

async function loadHandler(env: Record<string, string> = {}) {
  vi.resetModules();
  for (const [name, value] of Object.entries({ ...deploymentEnv(), ...ENV, ...env })) vi.stubEnv(name, value);
  return (await import("../../functions/config-rule/handler.ts")).handler;
}

function storeSlackAllowlist(text: string | undefined) {
  s3Mock.on(GetObjectCommand, { Bucket: LEDGER_BUCKET, Key: SLACK_ALLOWLIST_KEY }).callsFake(() => {
    if (text === undefined) throw new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} });
    return { Body: { transformToString: async () => text }, ETag: '"1"' };
  });
}

const evaluation = () => configMock.commandCalls(PutEvaluationsCommand).at(-1)!.args[0].input.Evaluations![0]!;

beforeEach(() => {
  for (const mock of [configMock, sqsMock, s3ControlMock, s3Mock]) mock.reset();
  configMock.on(PutEvaluationsCommand).resolves({});
  s3ControlMock.on(GetPublicAccessBlockCommand).rejects(
    Object.assign(new Error("The public access block configuration was not found"), {
      name: "NoSuchPublicAccessBlockConfiguration",
      $metadata: { httpStatusCode: 404 },
    }),
  );
  sqsMock.on(SendMessageBatchCommand).resolves({});
});
afterEach(() => vi.unstubAllEnvs());

describe("config-rule handler: the allowlist's Slack part", () => {
  it("a resource exempted in Slack is reported as the deployed allowlist reports it, and nothing is queued", async () => {
    // The same entry in the deployed allowlist, for the verdict to compare with.
    storeSlackAllowlist(undefined);
    const { decisionId: _d, at: _a, ...deployedEntry } = ENTRY;
    const deployed = await loadHandler({
      REMEDY_ALLOWLIST: JSON.stringify([{ ...deployedEntry, owner: "net@example.com" }]),
    });
    await deployed(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    const byDeployed = evaluation();
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);

    configMock.resetHistory();
    vi.unstubAllEnvs();
    storeSlackAllowlist(JSON.stringify({ version: 1, entries: [ENTRY] }));
    const handler = await loadHandler();
    const result = await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    expect(result).toMatchObject({ outcome: "evaluated", queued: [], exemptFindings: 1 });
    expect(sqsMock).not.toHaveReceivedCommand(SendMessageBatchCommand);
    const bySlack = evaluation();
    expect(bySlack.ComplianceType).toBe(byDeployed.ComplianceType);
    expect(bySlack.Annotation).toMatch(/exempt by allowlist \(owner slack:U012ABCDEF\) until 2099-01-01: bastion/);
    expect(bySlack.Annotation).toBe(byDeployed.Annotation!.replace("net@example.com", "slack:U012ABCDEF"));
  });

  it("no object, or a malformed one: judged with the deployed allowlist, the fix queued", async () => {
    for (const text of [undefined, JSON.stringify({ version: 1, entries: [{ ...ENTRY, owner: "alice" }] })]) {
      sqsMock.resetHistory();
      storeSlackAllowlist(text);
      const handler = await loadHandler();
      await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
      expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE });
    }
  });

  it("unreadable: judged with the deployed allowlist alone (the remediation checks again), said in a warning", async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error("slow down"), { name: "SlowDown" }));
    // Powertools writes its lines to the process's own streams.
    const written: string[] = [];
    const record = (chunk: unknown) => {
      written.push(String(chunk));
      return true;
    };
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(record);
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(record);
    try {
      // The suite silences Powertools (vitest.config.ts): this test reads the warning.
      const handler = await loadHandler({ POWERTOOLS_LOG_LEVEL: "WARN" });
      const result = await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
      expect(result).toMatchObject({ outcome: "evaluated" });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, { QueueUrl: QUEUE });
    expect(written.join("")).toContain("Slack allowlist unreadable");
  });

  it("read once a minute per container, not per event", async () => {
    storeSlackAllowlist(JSON.stringify({ version: 1, entries: [ENTRY] }));
    const handler = await loadHandler();
    await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    expect(s3Mock.commandCalls(GetObjectCommand, { Key: SLACK_ALLOWLIST_KEY })).toHaveLength(1);
  });
});
