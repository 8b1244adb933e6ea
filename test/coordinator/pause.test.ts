// The pause switch: read, set, resume, and fail-safe handling; the paused coordinator touches no queue at all.
import { SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { memoryStateStore } from "../../functions/coordinator/state.ts";
import { runCoordinator } from "../../functions/coordinator/tick.ts";
import { readPauseState, resume, setPaused } from "../../platform/pause.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { fakeLambda, PAUSE_PARAMETER, T0, testConfig, testDeps } from "./support.ts";

const ssmMock = mockClient(SSMClient);
const sqsMock = mockClient(SQSClient);
const ssm = new SSMClient({});
const value = (state: object) => ({
  Parameter: { Name: PAUSE_PARAMETER, Value: JSON.stringify(state) },
});
const notFound = () => new ParameterNotFound({ message: "Parameter /remedy/pause not found.", $metadata: {} });

beforeEach(() => {
  ssmMock.reset();
  sqsMock.reset();
});

describe("readPauseState", () => {
  it("reads the JSON state", async () => {
    const state = {
      paused: false,
      by: "alice",
      reason: "resumed by alice",
      at: T0.toISOString(),
      resumedAt: T0.toISOString(),
    };
    ssmMock.on(GetParameterCommand, { Name: PAUSE_PARAMETER }).resolves(value(state));
    expect(await readPauseState(ssm, PAUSE_PARAMETER)).toEqual(state);
  });

  it("treats a missing parameter as paused, saying why", async () => {
    ssmMock.on(GetParameterCommand).rejects(notFound());
    const reading = await readPauseState(ssm, PAUSE_PARAMETER, T0);
    expect(reading).toMatchObject({ paused: true, at: T0.toISOString() });
    expect(reading.failSafe).toMatch(/\/remedy\/pause does not exist/);
  });

  it.each([
    ["not JSON", "paused"],
    ["the wrong shape", JSON.stringify({ paused: "no", by: "x", reason: "", at: T0.toISOString() })],
    ["a bad timestamp", JSON.stringify({ paused: false, by: "x", reason: "", at: "yesterday" })],
  ])("treats a value that is %s as paused", async (_what, text) => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: text } });
    const reading = await readPauseState(ssm, PAUSE_PARAMETER);
    expect(reading.paused).toBe(true);
    expect(reading.failSafe).toMatch(/pause parameter .*treated as paused/);
  });

  it("throws other errors (the caller then does nothing either)", async () => {
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    await expect(readPauseState(ssm, PAUSE_PARAMETER)).rejects.toThrow("denied");
  });
});

describe("setPaused and resume", () => {
  it("overwrite the String parameter with the JSON state", async () => {
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    await setPaused(ssm, PAUSE_PARAMETER, { by: "circuit-breaker", reason: "too many", now: T0 });
    const later = new Date(T0.getTime() + 60_000);
    await resume(ssm, PAUSE_PARAMETER, { by: "alice", now: later });

    const [pause, unpause] = ssmMock.commandCalls(PutParameterCommand).map((call) => call.args[0].input);
    expect(pause).toMatchObject({ Name: PAUSE_PARAMETER, Type: "String", Overwrite: true });
    expect(JSON.parse(pause!.Value!)).toEqual({
      paused: true,
      by: "circuit-breaker",
      reason: "too many",
      at: T0.toISOString(),
    });
    expect(unpause).toMatchObject({ Name: PAUSE_PARAMETER, Type: "String", Overwrite: true });
    expect(JSON.parse(unpause!.Value!)).toEqual({
      paused: false,
      by: "alice",
      reason: "resumed by alice",
      at: later.toISOString(),
      resumedAt: later.toISOString(),
    });
  });
});

describe("coordinator and the pause switch", () => {
  const queue = {
    queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    dlqUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
  };

  function deps() {
    const store = memoryStateStore();
    const load = vi.spyOn(store, "load");
    const log = recordingLog();
    const metrics = recordingMetrics();
    const lambda = fakeLambda();
    return {
      load,
      log,
      metrics,
      lambda,
      deps: testDeps({
        sqs: new SQSClient({}),
        lambda,
        ssm,
        config: testConfig(queue),
        now: () => T0,
        store,
        log,
        metrics,
      }),
    };
  }

  it("paused: makes no SQS call, reads no state, dispatches nothing", async () => {
    ssmMock
      .on(GetParameterCommand)
      .resolves(value({ paused: true, by: "alice", reason: "holiday", at: T0.toISOString() }));
    const t = deps();
    const summary = await runCoordinator(t.deps);
    expect(summary).toMatchObject({ paused: true, received: 0, dispatched: 0, sqsCalls: 0 });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(t.load).not.toHaveBeenCalled();
    expect(t.lambda.invocations).toHaveLength(0);
    expect(t.metrics.counts.Paused).toBe(1);
    expect(t.log.errors()).toHaveLength(0);
  });

  it("missing parameter: paused, with an error naming the parameter, and no SQS call", async () => {
    ssmMock.on(GetParameterCommand).rejects(notFound());
    const t = deps();
    const summary = await runCoordinator(t.deps);
    expect(summary).toMatchObject({ paused: true, sqsCalls: 0 });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(t.log.errors()).toEqual([
      expect.objectContaining({ fields: expect.objectContaining({ parameter: PAUSE_PARAMETER }) }),
    ]);
  });

  it("unparseable value: paused, with an error, and no SQS call", async () => {
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: "{oops" } });
    const t = deps();
    expect(await runCoordinator(t.deps)).toMatchObject({ paused: true, sqsCalls: 0 });
    expect(sqsMock.calls()).toHaveLength(0);
    expect(t.log.errors()).toHaveLength(1);
  });
});
