// Every AWS client Remedy creates carries the per-attempt limits, so a hung call fails as a (retried) TimeoutError
// instead of holding a function until its Lambda timeout.
import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { RECEIVE_WAIT_SECONDS } from "../../functions/coordinator/settings.ts";
import { FUNCTIONS } from "../../functions/registry.ts";
import * as clients from "../../platform/clients.ts";

/** The options the client's HTTP handler resolved (NodeHttpHandler keeps them behind a promise until first use). */
async function handlerLimits(client: { config: { requestHandler: unknown } }) {
  const handler = client.config.requestHandler as { configProvider: Promise<Record<string, unknown>> };
  const config = await handler.configProvider;
  return {
    connectionTimeout: config.connectionTimeout,
    requestTimeout: config.requestTimeout,
    throwOnRequestTimeout: config.throwOnRequestTimeout,
  };
}

const credentials = { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token" };

describe("AWS clients", () => {
  it("limit each attempt's connection and answer time, above the SQS long polls Remedy asks for", () => {
    const { connectionTimeout, requestTimeout } = clients.REQUEST_LIMITS;
    expect(requestTimeout).toBeGreaterThan(5 * 1_000 * RECEIVE_WAIT_SECONDS);
    // Four attempts stay inside the shortest Lambda timeout of any function (each makes AWS calls).
    const shortest = Math.min(...Object.values(FUNCTIONS).map((spec) => spec.timeoutSeconds));
    expect(4 * (requestTimeout + connectionTimeout)).toBeLessThan(1_000 * shortest);
  });

  it("every Lambda client, the shared ones, a member account's and the CLI's carry the limits", async () => {
    const lambdaClients = Object.entries(clients).filter(
      ([name, value]) =>
        typeof value === "function" && name.endsWith("Client") && !["sharedClient", "memberClient"].includes(name),
    );
    expect(lambdaClients.length).toBeGreaterThanOrEqual(12);
    const cli = clients.clientsFor({ region: "eu-west-1" });
    const all = [
      ...lambdaClients.map(([, create]) => (create as () => { config: { requestHandler: unknown } })()),
      clients.sharedClient(SQSClient),
      clients.memberClient(SQSClient, { region: "eu-west-1", credentials }),
      ...Object.values(cli).map((create) => create()),
    ];
    for (const client of all) {
      expect(await handlerLimits(client)).toEqual({
        connectionTimeout: clients.REQUEST_LIMITS.connectionTimeout,
        requestTimeout: clients.REQUEST_LIMITS.requestTimeout,
        throwOnRequestTimeout: true,
      });
    }
  });

  it("a member account's client uses the assumed credentials in the resource's region", async () => {
    const client = clients.memberClient(SQSClient, { region: "ap-southeast-2", credentials });
    expect(await client.config.region()).toBe("ap-southeast-2");
    expect(await client.config.credentials()).toMatchObject(credentials);
  });
});
