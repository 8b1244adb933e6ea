// Organisation mode in the coordinator, against a real SQS-protocol server (local-aws-sqs): each instruction's account
// is looked up in the organisation (the real organizationsDirectory over a mocked Organizations client, answering in
// ListAccounts / ListParents shapes) before anything is dispatched, its settings decide (refused → DLQ, off or not
// enabled → removed unseen, grace → hidden until due, notify → dispatched), and each account has its own breaker.
// Time: the coordinator's fake clock; the server's visibility timeouts on vitest's fake timers (elapse).
import {
  type Account,
  ListAccountsCommand,
  ListParentsCommand,
  OrganizationsClient,
  TooManyRequestsException,
} from "@aws-sdk/client-organizations";
import { GetParameterCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { DLQ_REASON_ATTRIBUTE } from "../../functions/coordinator/queue-io.ts";
import { memoryStateStore } from "../../functions/coordinator/state.ts";
import { type CoordinatorConfig, type CoordinatorSummary, runCoordinator } from "../../functions/coordinator/tick.ts";
import { ConfigurationError } from "../../platform/env.ts";
import {
  type OrganizationSettings,
  organizationsDirectory,
  parseOrganizationSettings,
} from "../../platform/organization.ts";
import { type PauseState, resume, resumeAccount, writePauseState } from "../../platform/pause.ts";
import type { LocalSqs } from "../helpers/local-sqs.ts";
import { localSqsPerTest } from "../helpers/local-sqs-per-test.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import {
  enqueue,
  fakeClock,
  fakeLambda,
  fakePauseParameter,
  type InstructionOptions,
  instruction,
  PAUSE_PARAMETER,
  recordingReporter,
  running,
  T0,
  testConfig,
  testDeps,
} from "./support.ts";

let local: LocalSqs;
localSqsPerTest((server) => {
  local = server;
});

const elapse = (ms: number) => vi.advanceTimersByTimeAsync(ms);
const MINUTE = 60_000;

const HUB = "123456789012";
const ENFORCED = "111111111111";
const NOTIFY = "222222222222";
const OFF = "333333333333";
const GRACE = "444444444444";
/** In the OU that enables only sg-open-ingress. */
const SG_ONLY = "555555555555";
/** In the same OU, its own entry enabling s3-public-acl again. */
const SG_AND_ACL = "666666666666";
const SUSPENDED = "777777777777";
const EXCLUDED = "888888888888";
const STRANGER = "999999999999";
const ROOT = "r-ab12";
const WORKLOADS_OU = "ou-ab12-11111111";
const SG_ONLY_OU = "ou-ab12-22222222";

const SETTINGS: OrganizationSettings = parseOrganizationSettings({
  regions: ["us-east-1", "eu-west-1"],
  excludedAccounts: [EXCLUDED],
  default: { mode: "enforce" },
  organizationalUnits: { [SG_ONLY_OU]: { problems: ["sg-open-ingress"] } },
  accounts: {
    [NOTIFY]: { mode: "notify" },
    [OFF]: { mode: "off" },
    [GRACE]: { gracePeriodMinutes: 30 },
    [SG_AND_ACL]: { problems: ["sg-open-ingress", "s3-public-acl"] },
  },
});

/** The organisation as ListAccounts pages it (State, the newer field, and Status side by side, as AWS sends both). */
function account(id: string, state: "ACTIVE" | "SUSPENDED" = "ACTIVE"): Account {
  return {
    Id: id,
    Arn: `arn:aws:organizations::${HUB}:account/o-exampleorgid/${id}`,
    Email: `aws+${id}@example.com`,
    Name: `account-${id}`,
    Status: state,
    State: state,
    JoinedMethod: "CREATED",
    JoinedTimestamp: new Date("2025-01-01T00:00:00Z"),
  };
}

const organizations = mockClient(OrganizationsClient);

function organisationAnswers(): void {
  organizations.reset();
  // Two pages, as ListAccounts returns a large organisation.
  organizations
    .on(ListAccountsCommand, { NextToken: undefined })
    .resolves({
      Accounts: [HUB, ENFORCED, NOTIFY, OFF, GRACE].map((id) => account(id)),
      NextToken: "page-2",
    })
    .on(ListAccountsCommand, { NextToken: "page-2" })
    .resolves({
      Accounts: [account(SG_ONLY), account(SG_AND_ACL), account(SUSPENDED, "SUSPENDED"), account(EXCLUDED)],
    });
  organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: WORKLOADS_OU, Type: "ORGANIZATIONAL_UNIT" }] });
  for (const id of [SG_ONLY, SG_AND_ACL]) {
    organizations.on(ListParentsCommand, { ChildId: id }).resolves({
      Parents: [{ Id: SG_ONLY_OU, Type: "ORGANIZATIONAL_UNIT" }],
    });
  }
  organizations
    .on(ListParentsCommand, { ChildId: WORKLOADS_OU })
    .resolves({ Parents: [{ Id: ROOT, Type: "ROOT" }] })
    .on(ListParentsCommand, { ChildId: SG_ONLY_OU })
    .resolves({ Parents: [{ Id: ROOT, Type: "ROOT" }] });
}

beforeEach(organisationAnswers);

function setup(overrides: Partial<CoordinatorConfig> = {}, initialPause: PauseState = running()) {
  const clock = fakeClock();
  const pause = fakePauseParameter(initialPause);
  const lambda = fakeLambda(local.sqs, () => "succeed");
  const store = memoryStateStore();
  const reporter = recordingReporter();
  const log = recordingLog();
  const metrics = recordingMetrics();
  const config = testConfig(local, {
    deployment: { accountId: HUB, region: "us-east-1", organization: SETTINGS },
    breaker: { freshLimit: 50, windowMinutes: 10, accountFreshLimit: 20 },
    ...overrides,
  });
  // One directory for the test, as one per Lambda container: its cache spans ticks (ttl on the fake clock).
  const directory = organizationsDirectory(new OrganizationsClient({ region: "us-east-1" }), SETTINGS, {
    now: () => clock.now().getTime(),
  });
  const sqs = local.client();
  const tick = () =>
    runCoordinator(
      testDeps({ sqs, lambda, ssm: pause.ssm, config, directory, now: clock.now, store, reporter, log, metrics }),
    );
  const dispatchedTo = () => lambda.invocations.map((invocation) => invocation.request.instruction.resource.accountId);
  return { clock, pause, lambda, store, reporter, log, metrics, config, tick, dispatchedTo };
}

const pick = (summary: CoordinatorSummary, ...keys: (keyof CoordinatorSummary)[]) =>
  Object.fromEntries(keys.map((key) => [key, summary[key]]));

const at = (accountId: string, n: number, options: InstructionOptions = {}) =>
  instruction(n, { accountId, ...options });

async function deadLetterReasons(): Promise<string[]> {
  const dead = await local.drain(local.dlqUrl);
  return dead.map((message) => message.MessageAttributes?.[DLQ_REASON_ATTRIBUTE]?.StringValue ?? "");
}

describe("the account's standing, before anything is dispatched", () => {
  it.each([
    [STRANGER, `refused: account ${STRANGER} is not an account of this organisation`],
    [SUSPENDED, `refused: account ${SUSPENDED} is suspended in the organisation`],
    [EXCLUDED, `refused: account ${EXCLUDED} is excluded in the organisation settings`],
  ])("an instruction for %s is dead-lettered with the reason, and reported", async (accountId, reason) => {
    const t = setup();
    const refused = at(accountId, 1);
    await enqueue(local.sqs, local.queueUrl, [refused, at(ENFORCED, 2)]);

    const summary = await t.tick();

    expect(pick(summary, "received", "dispatched", "deadLettered")).toEqual({
      received: 2,
      dispatched: 1,
      deadLettered: 1,
    });
    expect(t.dispatchedTo()).toEqual([ENFORCED]);
    expect(await deadLetterReasons()).toEqual([reason]);
    expect(t.reporter.of("dead-lettered")).toEqual([
      expect.objectContaining({ reason, instructionId: refused.id, resource: refused.resource }),
    ]);
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
  });

  it("dead-letters an instruction for a member account in a region the settings do not name", async () => {
    const t = setup();
    await enqueue(local.sqs, local.queueUrl, [at(ENFORCED, 1, { region: "ap-southeast-2" })]);
    expect((await t.tick()).dispatched).toBe(0);
    expect(await deadLetterReasons()).toEqual([
      "refused: instruction names region ap-southeast-2, but this deployment acts only in us-east-1, eu-west-1",
    ]);
  });

  it("dispatches member accounts in every region of the settings, the hub's own account too", async () => {
    const t = setup();
    await enqueue(local.sqs, local.queueUrl, [
      at(ENFORCED, 1, { region: "eu-west-1" }),
      at(ENFORCED, 2),
      at(HUB, 3, { region: "eu-west-1" }),
    ]);
    expect((await t.tick()).dispatched).toBe(3);
    expect(t.dispatchedTo().sort()).toEqual([ENFORCED, ENFORCED, HUB]);
  });

  it("asks the organisation once per account and tick, and not again while the directory's cache holds", async () => {
    const t = setup();
    await enqueue(
      local.sqs,
      local.queueUrl,
      Array.from({ length: 12 }, (_, n) => at(ENFORCED, n)),
    );
    expect((await t.tick()).dispatched).toBe(12);
    expect(organizations.commandCalls(ListAccountsCommand)).toHaveLength(2); // two pages, once
    // The account, then its OU: the root ends the path.
    expect(organizations.commandCalls(ListParentsCommand).map((call) => call.args[0].input.ChildId)).toEqual([
      ENFORCED,
      WORKLOADS_OU,
    ]);

    await enqueue(local.sqs, local.queueUrl, [at(ENFORCED, 20)]);
    t.clock.advance(MINUTE);
    expect((await t.tick()).dispatched).toBe(1);
    expect(organizations.commandCalls(ListAccountsCommand)).toHaveLength(2);
    expect(organizations.commandCalls(ListParentsCommand)).toHaveLength(2);
  });

  it("refuses to run in organisation mode without the organisation directory", async () => {
    const pause = fakePauseParameter();
    const config = testConfig(local, { deployment: { accountId: HUB, region: "us-east-1", organization: SETTINGS } });
    const deps = testDeps({ sqs: local.client(), lambda: fakeLambda(), ssm: pause.ssm, config, now: () => T0 });
    await expect(runCoordinator(deps)).rejects.toThrow(ConfigurationError);
    await expect(runCoordinator(deps)).rejects.toThrow(/needs the organisation directory/);
    expect(pause.mock.calls()).toHaveLength(0);
  });
});

describe("the account's settings", () => {
  it("an account that is off: its instruction is removed, not dispatched, not reported, counted and logged", async () => {
    const t = setup();
    const off = at(OFF, 1);
    await enqueue(local.sqs, local.queueUrl, [off, at(ENFORCED, 2)]);

    const summary = await t.tick();

    expect(pick(summary, "received", "dispatched", "skippedBySettings", "deadLettered", "released")).toEqual({
      received: 2,
      dispatched: 1,
      skippedBySettings: 1,
      deadLettered: 0,
      released: 0,
    });
    expect(t.dispatchedTo()).toEqual([ENFORCED]);
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
    expect(await local.counts(local.dlqUrl)).toMatchObject({ stored: 0 });
    // Off means neither told nor changed: nothing at all for Slack.
    expect(t.reporter.reports).toEqual([]);
    expect(t.metrics.counts.SkippedBySettings).toBe(1);
    expect(t.log.lines).toContainEqual(
      expect.objectContaining({
        level: "info",
        message: "not acted on, as the organisation settings say: removing it",
        fields: expect.objectContaining({
          instructionId: off.id,
          accountId: OFF,
          reason: `account ${OFF} is off in the organisation settings`,
        }),
      }),
    );
    // Not remembered: an off account's instructions leave no trace in the state or the breaker.
    expect(t.store.current()!.instructions[off.id]).toBeUndefined();
  });

  it("a problem disabled by the account's OU is removed; the account's own entry enabling it again is dispatched", async () => {
    const t = setup();
    const disabled = at(SG_ONLY, 1, { problem: "s3-public-acl" });
    const enabled = at(SG_AND_ACL, 2, { problem: "s3-public-acl" });
    const sgInSameOu = at(SG_ONLY, 3);
    await enqueue(local.sqs, local.queueUrl, [disabled, enabled, sgInSameOu]);

    const summary = await t.tick();

    expect(pick(summary, "dispatched", "skippedBySettings")).toEqual({ dispatched: 2, skippedBySettings: 1 });
    expect(t.lambda.invocations.map((invocation) => invocation.request.instruction.id).sort()).toEqual(
      [enabled.id, sgInSameOu.id].sort(),
    );
    expect(t.log.lines).toContainEqual(
      expect.objectContaining({
        fields: expect.objectContaining({
          instructionId: disabled.id,
          reason: `problem s3-public-acl is not enabled for account ${SG_ONLY}`,
        }),
      }),
    );
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
  });

  it("the account's grace period delays the dispatch like notBefore: hidden, told once, dispatched when due", async () => {
    const t = setup();
    // Detected 5 minutes ago, due at once by its own notBefore; the account's 30 minutes make it due in 25.
    const graced = at(GRACE, 1, { capturedAt: new Date(T0.getTime() - 5 * MINUTE) });
    await enqueue(local.sqs, local.queueUrl, [graced, at(ENFORCED, 2)]);

    const first = await t.tick();

    expect(pick(first, "dispatched", "graceHidden")).toEqual({ dispatched: 1, graceHidden: 1 });
    expect(t.dispatchedTo()).toEqual([ENFORCED]);
    const dueAt = new Date(T0.getTime() + 25 * MINUTE).toISOString();
    expect(t.reporter.of("grace")).toEqual([
      expect.objectContaining({ instructionId: graced.id, notBefore: dueAt, resource: graced.resource }),
    ]);
    expect(await local.counts()).toEqual({ stored: 1, visible: 0, invisible: 1 });

    // Hidden until due: nothing to see 24 minutes on.
    await elapse(24 * MINUTE);
    t.clock.advance(24 * MINUTE);
    expect((await t.tick()).received).toBe(0);

    await elapse(MINUTE + 1_000);
    t.clock.advance(MINUTE + 1_000);
    const due = await t.tick();
    expect(pick(due, "received", "dispatched", "graceHidden")).toEqual({ received: 1, dispatched: 1, graceHidden: 0 });
    expect(t.dispatchedTo()).toEqual([ENFORCED, GRACE]);
    expect(t.reporter.of("grace")).toHaveLength(1);
  });

  it("an account in notify mode is dispatched like enforce (the remediation tells instead of changing)", async () => {
    const t = setup();
    const told = at(NOTIFY, 1);
    await enqueue(local.sqs, local.queueUrl, [told]);
    expect(pick(await t.tick(), "dispatched", "skippedBySettings")).toEqual({ dispatched: 1, skippedBySettings: 0 });
    expect(t.lambda.invocations[0]!.request.instruction).toEqual(told);
  });
});

describe("an organisation that cannot be read", () => {
  const throttled = () =>
    new TooManyRequestsException({
      message: "AWS Organizations can't complete your request because another request is already in progress.",
      $metadata: {},
    });

  it("holds only that account's instructions this tick (not dispatched, not dead-lettered); a later tick dispatches them", async () => {
    const t = setup();
    organizations.on(ListParentsCommand, { ChildId: NOTIFY }).rejects(throttled());
    const held = [at(NOTIFY, 1), at(NOTIFY, 2)];
    await enqueue(local.sqs, local.queueUrl, [...held, at(ENFORCED, 3), at(GRACE, 4)]);

    const first = await t.tick();

    expect(pick(first, "received", "dispatched", "heldForOrganization", "deadLettered", "released")).toEqual({
      received: 4,
      dispatched: 2,
      heldForOrganization: 2,
      deadLettered: 0,
      released: 2,
    });
    expect(t.dispatchedTo().sort()).toEqual([ENFORCED, GRACE]);
    expect(await local.counts()).toEqual({ stored: 2, visible: 2, invisible: 0 });
    expect(await local.counts(local.dlqUrl)).toMatchObject({ stored: 0 });
    // Asked once this tick, however many of its instructions came.
    expect(organizations.commandCalls(ListParentsCommand, { ChildId: NOTIFY })).toHaveLength(1);
    expect(t.log.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        message: "organisation could not be read: holding the account's instructions this tick",
        fields: expect.objectContaining({ accountId: NOTIFY, errorName: "TooManyRequestsException" }),
      }),
    );
    expect(t.metrics.counts.HeldForOrganization).toBe(2);

    organisationAnswers();
    t.clock.advance(MINUTE);
    const second = await t.tick();
    expect(pick(second, "dispatched", "heldForOrganization")).toEqual({ dispatched: 2, heldForOrganization: 0 });
    expect(
      t.lambda.invocations
        .slice(2)
        .map((invocation) => invocation.request.instruction.id)
        .sort(),
    ).toEqual(held.map((each) => each.id).sort());
  });

  it("a failed ListAccounts holds everything and dispatches nothing (fail closed)", async () => {
    const t = setup();
    organizations.on(ListAccountsCommand).rejects(throttled());
    await enqueue(local.sqs, local.queueUrl, [at(ENFORCED, 1), at(STRANGER, 2)]);

    const summary = await t.tick();

    expect(pick(summary, "dispatched", "deadLettered", "heldForOrganization", "released")).toEqual({
      dispatched: 0,
      deadLettered: 0,
      heldForOrganization: 2,
      released: 2,
    });
    expect(await local.counts()).toEqual({ stored: 2, visible: 2, invisible: 0 });
  });

  it("a lookup still hanging when the tick's time is up holds the account, and the tick ends in time", async () => {
    const t = setup();
    organizations.on(ListParentsCommand, { ChildId: NOTIFY }).callsFake(() => new Promise(() => {}));
    await enqueue(local.sqs, local.queueUrl, [at(NOTIFY, 1)]);
    const deadline = new AbortController();
    const tick = runCoordinator(
      testDeps({
        sqs: local.client(),
        lambda: t.lambda,
        ssm: t.pause.ssm,
        config: t.config,
        directory: organizationsDirectory(new OrganizationsClient({ region: "us-east-1" }), SETTINGS),
        now: t.clock.now,
        store: t.store,
        abortSignal: deadline.signal,
      }),
    );
    await vi.waitFor(() => expect(organizations.commandCalls(ListParentsCommand, { ChildId: NOTIFY })).toHaveLength(1));
    deadline.abort(new Error("time budget spent"));
    const summary = await tick;
    expect(pick(summary, "dispatched", "heldForOrganization")).toEqual({ dispatched: 0, heldForOrganization: 1 });
    expect(t.store.saves).toBe(1);
  });
});

describe("the breaker per account", () => {
  const fresh = (accountId: string, n: number) => at(accountId, n, { capturedAt: new Date(T0.getTime() - MINUTE) });

  it("a burst in one account pauses that account only; the others are dispatched in the same tick", async () => {
    const t = setup({ breaker: { freshLimit: 50, windowMinutes: 10, accountFreshLimit: 5 } });
    const burst = Array.from({ length: 8 }, (_, n) => fresh(ENFORCED, n));
    const others = [fresh(NOTIFY, 100), fresh(NOTIFY, 101), fresh(SG_AND_ACL, 102), at(SG_ONLY, 103)];
    await enqueue(local.sqs, local.queueUrl, [...burst, ...others]);

    const summary = await t.tick();

    expect(
      pick(summary, "breakerTripped", "accountBreakersTripped", "dispatched", "heldForAccountPause", "released"),
    ).toEqual({
      breakerTripped: false,
      accountBreakersTripped: 1,
      dispatched: 4,
      heldForAccountPause: 8,
      released: 0,
    });
    expect(t.dispatchedTo().sort()).toEqual([NOTIFY, NOTIFY, SG_ONLY, SG_AND_ACL]);
    // The account's pause is in the switch, which still runs for everyone else.
    const state = t.pause.state()!;
    expect(state).toMatchObject({ paused: false });
    expect(state.accounts).toEqual({
      [ENFORCED]: {
        paused: true,
        by: "circuit-breaker",
        reason: `circuit breaker: 8 fresh instructions in account ${ENFORCED} within 10 minutes (limit 5 per account)`,
        at: T0.toISOString(),
      },
    });
    const [report, ...more] = t.reporter.of("breaker-tripped");
    expect(more).toEqual([]);
    expect(report).toMatchObject({
      accountId: ENFORCED,
      freshInstructions: 8,
      limit: 5,
      windowMinutes: 10,
      resumeCommand: `remedy resume --account ${ENFORCED}`,
    });
    for (const line of report!.sample)
      expect(line).toMatch(new RegExp(`^sg-open-ingress sg-[0-9a-f]{17} in ${ENFORCED} us-east-1$`));
    expect(t.metrics.counts.AccountBreakersTripped).toBe(1);
    // Its burst is held: hidden a while, on the queue, not in the DLQ.
    expect(await local.counts()).toEqual({ stored: 8, visible: 0, invisible: 8 });
    expect(await local.counts(local.dlqUrl)).toMatchObject({ stored: 0 });

    // Later ticks keep holding the paused account while the others go on.
    await elapse(5 * MINUTE + 1_000);
    t.clock.advance(5 * MINUTE + 1_000);
    await enqueue(local.sqs, local.queueUrl, [at(NOTIFY, 200)]);
    const later = await t.tick();
    expect(pick(later, "dispatched", "heldForAccountPause", "accountBreakersTripped")).toEqual({
      dispatched: 1,
      heldForAccountPause: 8,
      accountBreakersTripped: 0,
    });
    expect(t.reporter.of("breaker-tripped")).toHaveLength(1);

    // A person resumes the account: its backlog is dispatched and does not trip it again.
    await writePauseState(
      t.pause.ssm,
      PAUSE_PARAMETER,
      resumeAccount(t.pause.state()!, ENFORCED, "alice", t.clock.now()),
    );
    await elapse(5 * MINUTE + 1_000);
    t.clock.advance(MINUTE);
    const resumed = await t.tick();
    expect(pick(resumed, "dispatched", "heldForAccountPause", "accountBreakersTripped")).toEqual({
      dispatched: 8,
      heldForAccountPause: 0,
      accountBreakersTripped: 0,
    });
    expect(t.pause.state()!.accounts![ENFORCED]).toMatchObject({ paused: false, by: "alice" });
    expect(await local.counts()).toEqual({ stored: 0, visible: 0, invisible: 0 });
  });

  it("holds what was received of the account before its breaker tripped, within the look-ahead", async () => {
    const t = setup({ breaker: { freshLimit: 50, windowMinutes: 10, accountFreshLimit: 12 } });
    // The first receive (10 of the account) does not trip it; the second (4 more) does: nothing of it is dispatched.
    await enqueue(local.sqs, local.queueUrl, [
      ...Array.from({ length: 14 }, (_, n) => fresh(ENFORCED, n)),
      fresh(NOTIFY, 100),
    ]);

    const summary = await t.tick();

    expect(pick(summary, "accountBreakersTripped", "dispatched", "heldForAccountPause")).toEqual({
      accountBreakersTripped: 1,
      dispatched: 1,
      heldForAccountPause: 14,
    });
    expect(t.dispatchedTo()).toEqual([NOTIFY]);
  });

  it("a burst in one account above the global limit still pauses that account only", async () => {
    const t = setup({ breaker: { freshLimit: 10, windowMinutes: 10, accountFreshLimit: 5 } });
    await enqueue(local.sqs, local.queueUrl, [
      ...Array.from({ length: 25 }, (_, n) => fresh(ENFORCED, n)),
      fresh(NOTIFY, 100),
    ]);

    const summary = await t.tick();

    expect(pick(summary, "breakerTripped", "accountBreakersTripped", "dispatched")).toEqual({
      breakerTripped: false,
      accountBreakersTripped: 1,
      dispatched: 1,
    });
    expect(t.dispatchedTo()).toEqual([NOTIFY]);
    expect(t.pause.state()).toMatchObject({ paused: false, accounts: { [ENFORCED]: { paused: true } } });
  });

  it("a burst across many accounts, each under its own limit, trips the global breaker: nothing is dispatched", async () => {
    const t = setup({ breaker: { freshLimit: 10, windowMinutes: 10, accountFreshLimit: 5 } });
    const accounts = [ENFORCED, NOTIFY, GRACE, SG_ONLY];
    await enqueue(
      local.sqs,
      local.queueUrl,
      accounts.flatMap((accountId, index) => Array.from({ length: 4 }, (_, n) => fresh(accountId, index * 10 + n))),
    );

    const summary = await t.tick();

    expect(pick(summary, "breakerTripped", "accountBreakersTripped", "dispatched", "released")).toEqual({
      breakerTripped: true,
      accountBreakersTripped: 0,
      dispatched: 0,
      released: 16,
    });
    expect(t.pause.state()).toEqual({
      paused: true,
      by: "circuit-breaker",
      reason: "circuit breaker: 16 fresh instructions within 10 minutes (limit 10)",
      at: T0.toISOString(),
    });
    const [report] = t.reporter.of("breaker-tripped");
    expect(report).toMatchObject({ freshInstructions: 16, limit: 10, resumeCommand: "remedy resume" });
    expect(report).not.toHaveProperty("accountId");
  });

  it("a global trip keeps the accounts already paused, and so does a person's resume of the whole switch", async () => {
    const paused: PauseState = {
      ...running(),
      accounts: {
        [OFF]: { paused: true, by: "circuit-breaker", reason: "earlier burst", at: T0.toISOString() },
      },
    };
    const t = setup({ breaker: { freshLimit: 3, windowMinutes: 10, accountFreshLimit: 5 } }, paused);
    await enqueue(
      local.sqs,
      local.queueUrl,
      [ENFORCED, NOTIFY, GRACE, SG_ONLY].map((accountId, n) => fresh(accountId, n)),
    );

    expect((await t.tick()).breakerTripped).toBe(true);
    expect(t.pause.state()).toMatchObject({ paused: true, accounts: paused.accounts });

    t.clock.advance(MINUTE);
    await resume(t.pause.ssm, PAUSE_PARAMETER, { by: "alice", now: t.clock.now() });
    expect(t.pause.state()).toMatchObject({ paused: false, by: "alice", accounts: paused.accounts });
  });

  it("an account and the global breaker tripping on one receive: both pauses are written, the account's kept", async () => {
    const t = setup({ breaker: { freshLimit: 5, windowMinutes: 10, accountFreshLimit: 3 } });
    // One receive of ten: 4 of one account (its own breaker) and 6 of others (the global one, without the 4).
    await enqueue(local.sqs, local.queueUrl, [
      ...Array.from({ length: 4 }, (_, n) => fresh(ENFORCED, n)),
      ...[NOTIFY, NOTIFY, SG_AND_ACL, SG_AND_ACL, SG_ONLY, SG_ONLY].map((accountId, n) => fresh(accountId, 10 + n)),
    ]);

    const summary = await t.tick();

    expect(pick(summary, "breakerTripped", "accountBreakersTripped", "dispatched")).toEqual({
      breakerTripped: true,
      accountBreakersTripped: 1,
      dispatched: 0,
    });
    expect(t.pause.state()).toMatchObject({
      paused: true,
      reason: "circuit breaker: 6 fresh instructions within 10 minutes (limit 5)",
      accounts: { [ENFORCED]: { paused: true, by: "circuit-breaker" } },
    });
    expect(t.reporter.of("breaker-tripped").map((report) => report.accountId)).toEqual([ENFORCED, undefined]);
  });

  it("does not write an account pause over a switch that reads fail-safe (it would turn it into running)", async () => {
    const t = setup({ breaker: { freshLimit: 50, windowMinutes: 10, accountFreshLimit: 2 } });
    await enqueue(
      local.sqs,
      local.queueUrl,
      Array.from({ length: 3 }, (_, n) => fresh(ENFORCED, n)),
    );
    // Running when the tick starts; unparseable (so "paused") when the account trips and reads it again.
    t.pause.mock
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Name: PAUSE_PARAMETER, Value: JSON.stringify(running()) } })
      .resolves({ Parameter: { Name: PAUSE_PARAMETER, Value: "{oops" } });

    const summary = await t.tick();

    expect(pick(summary, "accountBreakersTripped", "dispatched", "heldForAccountPause")).toEqual({
      accountBreakersTripped: 1,
      dispatched: 0,
      heldForAccountPause: 3,
    });
    expect(t.pause.mock.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(t.log.errors()).toContainEqual(
      expect.objectContaining({
        message: "pause switch unusable: account pause not written",
        fields: expect.objectContaining({ accountId: ENFORCED }),
      }),
    );
    // Still told: the account is held, and the next tick (reading "paused") does nothing at all.
    expect(t.reporter.of("breaker-tripped")).toHaveLength(1);
  });
});
