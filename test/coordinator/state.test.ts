// The coordinator's state document and its S3 store (conditional writes), and what a tick does on a conflict.
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  type CoordinatorState,
  CoordinatorStateConflictError,
  emptyState,
  INSTRUCTION_RETENTION_MS,
  memoryStateStore,
  mergeStates,
  pruneState,
  s3StateStore,
} from "../../functions/coordinator/state.ts";
import { runCoordinator } from "../../functions/coordinator/tick.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import { fakeLambda, running, T0, testConfig, testDeps } from "./support.ts";

const s3Mock = mockClient(S3Client);
const location = { bucket: "remedy-state", key: "state/coordinator.json" };
const store = () => s3StateStore(new S3Client({}), location);
const body = (text: string) => ({ transformToString: async () => text }) as never;
const at = (offsetMs: number) => new Date(T0.getTime() + offsetMs).toISOString();

function precondition(): S3ServiceException {
  return new S3ServiceException({
    name: "PreconditionFailed",
    $fault: "client",
    message: "At least one of the pre-conditions you specified did not hold",
    $metadata: { httpStatusCode: 412 },
  });
}

function sample(): CoordinatorState {
  return {
    version: 1,
    dispatches: [at(-60_000)],
    instructions: {
      a: { firstSeenAt: at(-120_000), lastSeenAt: at(-60_000), attempts: 1, graceNotified: false },
    },
    freshSightings: [{ id: "a", at: at(-120_000), label: "sg-open-ingress sg-1" }],
  };
}

beforeEach(() => s3Mock.reset());

describe("s3StateStore", () => {
  it("reads a missing object (NoSuchKey) as the empty state, without a version", async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: "The specified key does not exist.", $metadata: {} }));
    expect(await store().load()).toEqual({ state: emptyState() });
    expect(s3Mock).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: location.bucket, Key: location.key });
  });

  it("reads the document and its ETag", async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body(JSON.stringify(sample())), ETag: '"abc"' });
    expect(await store().load()).toEqual({ state: sample(), etag: '"abc"' });
  });

  it("reads a corrupt document as empty, says why, and keeps the ETag so the next save replaces it", async () => {
    s3Mock.on(GetObjectCommand).resolves({ Body: body('{"version":7}'), ETag: '"bad"' });
    const loaded = await store().load();
    expect(loaded).toMatchObject({ state: emptyState(), etag: '"bad"' });
    expect(loaded.problem).toMatch(/^coordinator state version/);
  });

  it("propagates other read errors", async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
    await expect(store().load()).rejects.toThrow("Access Denied");
  });

  it("writes the first version with IfNoneMatch * and later ones with IfMatch", async () => {
    s3Mock.on(PutObjectCommand).resolves({ ETag: '"new"' });
    expect(await store().save(sample(), undefined)).toEqual({ etag: '"new"' });
    await store().save(sample(), '"abc"');

    const [first, second] = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(first).toMatchObject({
      ...{ Bucket: location.bucket, Key: location.key },
      IfNoneMatch: "*",
      ContentType: "application/json",
    });
    expect(first!.IfMatch).toBeUndefined();
    expect(JSON.parse(first!.Body as string)).toEqual(sample());
    expect(second).toMatchObject({ IfMatch: '"abc"' });
    expect(second!.IfNoneMatch).toBeUndefined();
  });

  it("turns 412 PreconditionFailed into CoordinatorStateConflictError", async () => {
    s3Mock.on(PutObjectCommand).rejects(precondition());
    await expect(store().save(sample(), '"abc"')).rejects.toBeInstanceOf(CoordinatorStateConflictError);
  });

  it("propagates other write errors", async () => {
    s3Mock.on(PutObjectCommand).rejects(Object.assign(new Error("SlowDown"), { name: "SlowDown" }));
    await expect(store().save(sample(), '"abc"')).rejects.toThrow("SlowDown");
  });
});

describe("memoryStateStore", () => {
  it("applies the same conditional-write rules", async () => {
    const memory = memoryStateStore();
    const first = await memory.load();
    expect(first).toEqual({ state: emptyState() });
    const { etag } = await memory.save(sample(), undefined);
    await expect(memory.save(sample(), undefined)).rejects.toBeInstanceOf(CoordinatorStateConflictError);
    await expect(memory.save(sample(), '"stale"')).rejects.toBeInstanceOf(CoordinatorStateConflictError);
    await memory.save(emptyState(), etag);
    expect(memory.current()).toEqual(emptyState());
    expect(memory.conflicts).toBe(2);
  });
});

describe("pruneState", () => {
  it("keeps dispatches and sightings inside their windows and ids seen within 14 days", () => {
    const state: CoordinatorState = {
      version: 1,
      dispatches: [at(-11 * 60_000), at(-9 * 60_000)],
      instructions: {
        old: {
          firstSeenAt: at(-20 * 86_400_000),
          lastSeenAt: at(-INSTRUCTION_RETENTION_MS - 1),
          attempts: 2,
          graceNotified: true,
        },
        kept: { firstSeenAt: at(-20 * 86_400_000), lastSeenAt: at(-86_400_000), attempts: 1, graceNotified: false },
      },
      freshSightings: [
        { id: "x", at: at(-10 * 60_000), label: "x" },
        { id: "y", at: at(-60_000), label: "y" },
      ],
    };
    const pruned = pruneState(state, T0, { rateLimitMs: 10 * 60_000, breakerMs: 10 * 60_000 });
    expect(pruned.dispatches).toEqual([at(-9 * 60_000)]);
    expect(Object.keys(pruned.instructions)).toEqual(["kept"]);
    expect(pruned.freshSightings.map((sighting) => sighting.id)).toEqual(["y"]);
  });
});

describe("mergeStates", () => {
  it("applies our changes on top of theirs", () => {
    const base = sample();
    const ours = structuredClone(base);
    ours.dispatches.push(at(0));
    ours.instructions.a!.attempts = 2;
    ours.instructions.b = { firstSeenAt: at(0), lastSeenAt: at(0), attempts: 1, graceNotified: true };
    ours.freshSightings.push({ id: "b", at: at(0), label: "b" });
    const theirs = structuredClone(base);
    theirs.dispatches.push(at(0), at(1));
    theirs.instructions.a!.attempts = 2;
    theirs.instructions.a!.graceNotified = true;
    theirs.instructions.c = { firstSeenAt: at(0), lastSeenAt: at(0), attempts: 1, graceNotified: false };

    const merged = mergeStates(base, ours, theirs);

    expect(merged.dispatches).toEqual([at(-60_000), at(0), at(0), at(1)]);
    expect(merged.instructions.a).toMatchObject({ attempts: 3, graceNotified: true });
    expect(Object.keys(merged.instructions).sort()).toEqual(["a", "b", "c"]);
    expect(merged.freshSightings.map((sighting) => sighting.id)).toEqual(["a", "b"]);
  });

  it("keeps our reset of the attempt count (dead-lettered)", () => {
    const base = sample();
    const ours = structuredClone(base);
    ours.instructions.a!.attempts = 0;
    expect(mergeStates(base, ours, structuredClone(base)).instructions.a!.attempts).toBe(0);
  });
});

describe("coordinator on a state conflict", () => {
  const sqsMock = mockClient(SQSClient);
  const ssmMock = mockClient(SSMClient);

  it("warns, re-reads, merges and saves against the newer version", async () => {
    sqsMock.reset();
    ssmMock.reset();
    ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(running()) } });
    sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
    const theirs = sample();
    s3Mock
      .on(GetObjectCommand)
      .rejectsOnce(new NoSuchKey({ message: "no", $metadata: {} }))
      .resolves({ Body: body(JSON.stringify(theirs)), ETag: '"theirs"' });
    s3Mock.on(PutObjectCommand).rejectsOnce(precondition()).resolves({ ETag: '"merged"' });
    const log = recordingLog();
    const metrics = recordingMetrics();

    await runCoordinator(
      testDeps({
        sqs: new SQSClient({}),
        ssm: new SSMClient({}),
        lambda: fakeLambda(),
        store: store(),
        config: testConfig({
          queueUrl: "https://sqs.us-east-1.amazonaws.com/1/q",
          dlqUrl: "https://sqs.us-east-1.amazonaws.com/1/d",
        }),
        now: () => T0,
        log,
        metrics,
      }),
    );

    const puts = s3Mock.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts[0]).toMatchObject({ IfNoneMatch: "*" });
    expect(puts[1]).toMatchObject({ IfMatch: '"theirs"' });
    expect(JSON.parse(puts[1]!.Body as string).instructions).toHaveProperty("a");
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: "warn", message: expect.stringMatching(/merging/) }),
    );
    expect(metrics.counts.StateConflicts).toBe(1);
  });
});
