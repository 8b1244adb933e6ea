// The payload remediation functions receive from the coordinator.
import { describe, expect, it } from "vitest";
import {
  encodeRemediationRequest,
  InvalidRemediationRequestError,
  parseRemediationRequest,
  type RemediationRequest,
  willRetry,
} from "../../contract/dispatch.ts";
import { instruction, T0 } from "./support.ts";

function request(overrides: Record<string, unknown> = {}): RemediationRequest {
  return {
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation",
    receiptHandle: "AQEB-handle",
    messageId: "0f1e2d3c-0000-4000-8000-000000000001",
    instruction: instruction(1),
    attempt: 1,
    maxAttempts: 3,
    dispatchedAt: T0.toISOString(),
    ...overrides,
  } as RemediationRequest;
}

describe("parseRemediationRequest", () => {
  it("accepts the object, its JSON text and the Invoke payload bytes", () => {
    expect(parseRemediationRequest(request())).toEqual(request());
    expect(parseRemediationRequest(JSON.stringify(request()))).toEqual(request());
    expect(parseRemediationRequest(encodeRemediationRequest(request()))).toEqual(request());
  });

  it("accepts a request without maxAttempts", () => {
    const { maxAttempts: _omit, ...rest } = request();
    expect(parseRemediationRequest(rest)).toEqual(rest);
  });

  it.each([
    ["receiptHandle", { receiptHandle: "" }, /^receiptHandle: must not be empty/],
    ["attempt", { attempt: 0 }, /^attempt: /],
    ["queueUrl", { queueUrl: "not a url" }, /^queueUrl: must be a queue URL/],
    ["dispatchedAt", { dispatchedAt: "now" }, /^dispatchedAt: must be an ISO-8601 timestamp/],
    ["instruction", { instruction: { ...instruction(1), id: "f".repeat(32) } }, /id does not match/],
    [
      "instruction field",
      { instruction: { ...instruction(1), problem: "nope" } },
      /^instruction\.problem: unknown problem/,
    ],
    ["unknown key", { extra: true }, /^extra: /],
  ])("names the first problem: %s", (_what, overrides, message) => {
    expect(() => parseRemediationRequest(request(overrides))).toThrow(InvalidRemediationRequestError);
    expect(() => parseRemediationRequest(request(overrides))).toThrow(message);
  });

  it("rejects a payload that is not JSON", () => {
    expect(() => parseRemediationRequest("{")).toThrow(/^remediation request is not JSON/);
  });
});

describe("willRetry", () => {
  it("is true until the last attempt", () => {
    expect(willRetry({ attempt: 2, maxAttempts: 3 })).toBe(true);
    expect(willRetry({ attempt: 3, maxAttempts: 3 })).toBe(false);
    expect(willRetry({ attempt: 7 })).toBe(true);
  });
});
