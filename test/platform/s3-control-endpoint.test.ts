// S3 Control behind an endpoint override (an emulator): the SDK puts the account id in front of the override's host
// (http://123456789012.127.0.0.1:5000, no URL); S3ControlAtEndpoint sends to the override as it is, and without one
// is S3ControlClient exactly (the account's own host).
import { GetPublicAccessBlockCommand, S3ControlClient } from "@aws-sdk/client-s3-control";
import { afterEach, describe, expect, it, vi } from "vitest";
import { S3ControlAtEndpoint } from "../../platform/clients.ts";

const credentials = { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret" };

/** Where the client would send GetPublicAccessBlock: the request is caught before it leaves. */
async function requestUrl(client: S3ControlClient): Promise<string> {
  let url = "";
  client.middlewareStack.add(
    () => async (args) => {
      const request = args.request as { protocol: string; hostname: string; port?: number; path: string };
      url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ""}${request.path}`;
      throw new Error("caught");
    },
    { step: "finalizeRequest", name: "catchRequest" },
  );
  await expect(client.send(new GetPublicAccessBlockCommand({ AccountId: "123456789012" }))).rejects.toThrow("caught");
  return url;
}

afterEach(() => vi.unstubAllEnvs());

describe("S3ControlAtEndpoint", () => {
  it("without an override: S3 Control's own host, the account in front of it", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", "");
    vi.stubEnv("AWS_ENDPOINT_URL_S3_CONTROL", "");
    expect(await requestUrl(new S3ControlAtEndpoint({ region: "eu-west-1", credentials }))).toBe(
      "https://123456789012.s3-control.eu-west-1.amazonaws.com/v20180820/configuration/publicAccessBlock",
    );
  });

  it("with AWS_ENDPOINT_URL: the override as it is (the plain client puts the account in front: no URL)", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
    vi.stubEnv("AWS_ENDPOINT_URL_S3_CONTROL", "");
    expect(await requestUrl(new S3ControlAtEndpoint({ region: "us-east-1", credentials }))).toBe(
      "http://127.0.0.1:5000/v20180820/configuration/publicAccessBlock",
    );
    // The SDK's own client makes no URL of it (and says so on the console, kept out of the output here).
    const consoleError = vi.spyOn(console, "error").mockImplementation(() => {});
    const plain = new S3ControlClient({ region: "us-east-1", credentials });
    await expect(plain.send(new GetPublicAccessBlockCommand({ AccountId: "123456789012" }))).rejects.toThrow(
      "Invalid URL",
    );
    expect(String(consoleError.mock.calls[0]?.[0])).toMatch(
      /^Failed to construct URL with http:\/\/123456789012\.127\.0\.0\.1:5000/,
    );
    consoleError.mockRestore();
  });

  it("AWS_ENDPOINT_URL_S3_CONTROL before AWS_ENDPOINT_URL, a configured endpoint before both", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
    vi.stubEnv("AWS_ENDPOINT_URL_S3_CONTROL", "http://127.0.0.1:6000");
    expect(await requestUrl(new S3ControlAtEndpoint({ region: "us-east-1", credentials }))).toBe(
      "http://127.0.0.1:6000/v20180820/configuration/publicAccessBlock",
    );
    expect(
      await requestUrl(
        new S3ControlAtEndpoint({ region: "us-east-1", credentials, endpoint: "http://localhost:7000" }),
      ),
    ).toBe("http://localhost:7000/v20180820/configuration/publicAccessBlock");
  });

  it("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: the environment's override is ignored, as the SDK ignores it", async () => {
    vi.stubEnv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000");
    vi.stubEnv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    expect(await requestUrl(new S3ControlAtEndpoint({ region: "us-east-1", credentials }))).toBe(
      "https://123456789012.s3-control.us-east-1.amazonaws.com/v20180820/configuration/publicAccessBlock",
    );
  });

  it("is an S3ControlClient (class-level mocks and instanceof hold)", () => {
    expect(new S3ControlAtEndpoint({ region: "us-east-1" })).toBeInstanceOf(S3ControlClient);
  });
});
