// Drives the real Lambda entry (handler.ts), with its real client wiring, against mocked AWS clients.
import { ConfigServiceClient, PutEvaluationsCommand } from "@aws-sdk/client-config-service";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { configEvent } from "../fixtures/events.ts";

const configMock = mockClient(ConfigServiceClient);
const sqsMock = mockClient(SQSClient);

async function loadHandler(env: Record<string, string>) {
  vi.resetModules();
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  return (await import("../../functions/config-rule/handler.ts")).handler;
}

beforeEach(() => {
  configMock.reset();
  sqsMock.reset();
  configMock.on(PutEvaluationsCommand).resolves({});
  sqsMock.on(SendMessageBatchCommand).resolves({});
});
afterEach(() => vi.unstubAllEnvs());

describe("config-rule handler", () => {
  it("evaluates a change notification and queues to the configured queue", async () => {
    const handler = await loadHandler({
      REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
      REMEDY_GRACE_PERIOD_MINUTES: "30",
    });
    const result = await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    expect(result).toMatchObject({ outcome: "evaluated" });
    expect(sqsMock).toHaveReceivedCommandWith(SendMessageBatchCommand, {
      QueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    });
    const body = JSON.parse(sqsMock.commandCalls(SendMessageBatchCommand)[0]!.args[0].input.Entries![0]!.MessageBody!);
    expect(body.notBefore).toBe("2026-11-20T10:28:12.412Z");
  });

  it("returns a rejection for a malformed event instead of crashing", async () => {
    const handler = await loadHandler({ REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q" });
    const result = await handler({ invokingEvent: "{", resultToken: "t", configRuleName: "remedy-sg-open-ingress" });
    expect(result).toMatchObject({
      outcome: "rejected",
      reason: expect.stringMatching(/invokingEvent is not valid JSON/),
    });
    expect(sqsMock.calls()).toHaveLength(0);
  });

  it("refuses to start without its queue, naming the variable", async () => {
    vi.stubEnv("REMEDY_QUEUE_URL", "");
    await expect(loadHandler({})).rejects.toThrow(/REMEDY_QUEUE_URL is required/);
  });

  it("applies the allowlist from its environment and ignores malformed entries", async () => {
    const handler = await loadHandler({
      REMEDY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
      REMEDY_ALLOWLIST: JSON.stringify([
        { resource: "sg-0f1e2d3c4b5a69788", problems: ["*"], reason: "", owner: "x", expires: "2099-01-01" },
        {
          resource: "sg-0f1e2d3c4b5a69788",
          problems: ["sg-open-ingress"],
          reason: "bastion",
          owner: "net@example.com",
          expires: "2099-01-01",
        },
      ]),
    });
    await handler(configEvent("ConfigurationItemChangeNotification", "sg-ssh-open"));
    expect(sqsMock.calls()).toHaveLength(0);
    const annotation = configMock.commandCalls(PutEvaluationsCommand)[0]!.args[0].input.Evaluations![0]!.Annotation;
    expect(annotation).toMatch(/exempt by allowlist \(owner net@example.com\) until 2099-01-01: bastion/);
  });
});
