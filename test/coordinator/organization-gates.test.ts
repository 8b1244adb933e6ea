// Organisation mode's pure parts of the coordinator: the settings gate, the breaker per account beside the global
// one, first sightings that name their account, the account breaker's notice, and the due time in decide.
import { describe, expect, it } from "vitest";
import { accountBreakerNotice, accountResumeCommand } from "../../functions/coordinator/breaker.ts";
import {
  type AccountPauses,
  accountBreakerGate,
  breakerGate,
  decide,
  firstSighting,
  settingsGate,
  validityGate,
} from "../../functions/coordinator/gates.ts";
import type { FreshSighting } from "../../functions/coordinator/state.ts";
import { type AccountStanding, accountSettings, parseOrganizationSettings } from "../../platform/organization.ts";
import { FUNCTIONS, instruction, T0 } from "./support.ts";

const MEMBER = "111111111111";
const OTHER = "222222222222";
const minutes = (n: number) => n * 60_000;
const at = (ms: number) => new Date(T0.getTime() + ms);

const SETTINGS = parseOrganizationSettings({
  regions: ["us-east-1"],
  default: { mode: "enforce" },
  accounts: {
    [MEMBER]: { gracePeriodMinutes: 30 },
    [OTHER]: { mode: "off" },
  },
});

type Member = Extract<AccountStanding, { member: true }>;

function member(accountId: string, scope: Parameters<typeof accountSettings>[0] = SETTINGS): Member {
  return { member: true, accountId, parents: [], settings: accountSettings(scope, accountId, []) };
}

describe("validity in organisation mode", () => {
  const config = {
    deployment: { accountId: "123456789012", region: "us-east-1", organization: SETTINGS },
    remediationFunctions: FUNCTIONS,
  };

  it("refuses an account the organisation does not vouch for, and one that was never looked up", () => {
    const stranger: AccountStanding = { member: false, accountId: MEMBER, reason: "not ours" };
    const claim = instruction(1, { accountId: MEMBER });
    expect(validityGate(claim, config, T0, stranger)).toEqual({ valid: false, reason: "refused: not ours" });
    expect(validityGate(claim, config, T0)).toEqual({
      valid: false,
      reason: `refused: account ${MEMBER} was not checked against the organisation`,
    });
    expect(validityGate(claim, config, T0, member(MEMBER))).toEqual({
      valid: true,
      functionName: FUNCTIONS["sg-open-ingress"],
    });
  });
});

describe("settings gate", () => {
  it("says when the account's grace period ends, and whether the account is told only", () => {
    const claim = instruction(1, { accountId: MEMBER, capturedAt: at(-minutes(5)) });
    expect(settingsGate(member(MEMBER), claim, T0)).toEqual({
      act: true,
      dueAtMs: T0.getTime() + minutes(25),
      notifyOnly: false,
    });
    const notify = parseOrganizationSettings({ regions: ["us-east-1"], default: { mode: "notify" } });
    expect(settingsGate(member(MEMBER, notify), claim, T0)).toMatchObject({ act: true, notifyOnly: true });
  });

  it("removes an off account's instruction and a problem not enabled, with the settings' reason (never the grace's)", () => {
    const fresh = instruction(1, { accountId: OTHER, capturedAt: T0 });
    expect(settingsGate(member(OTHER), fresh, T0)).toEqual({
      act: false,
      reason: `account ${OTHER} is off in the organisation settings`,
    });
    const aclOnly = parseOrganizationSettings({
      regions: ["us-east-1"],
      default: { problems: ["s3-public-acl"], gracePeriodMinutes: 60 },
    });
    expect(settingsGate(member(MEMBER, aclOnly), instruction(2, { accountId: MEMBER, capturedAt: T0 }), T0)).toEqual({
      act: false,
      reason: `problem sg-open-ingress is not enabled for account ${MEMBER}`,
    });
  });
});

describe("decide with the account's due time", () => {
  const record = { firstSeenAt: T0.toISOString(), lastSeenAt: T0.toISOString(), attempts: 0, graceNotified: false };
  const input = { instruction: instruction(1), messageId: "m-1", record, prior: undefined, budget: 5 };
  const config = { dispatchVisibilitySeconds: 300, maxAttempts: 3 };

  it("is in grace until the later of notBefore and the account's due time", () => {
    expect(decide({ ...input, dueAtMs: T0.getTime() + 1 }, T0, config).decision).toEqual({
      gate: "grace",
      remainingMs: 1,
    });
    expect(decide({ ...input, dueAtMs: T0.getTime() }, T0, config).decision).toEqual({ gate: "dispatch", attempt: 1 });
    const later = instruction(1, { notBefore: at(minutes(10)) });
    expect(decide({ ...input, instruction: later, dueAtMs: T0.getTime() + 5 }, T0, config).decision).toEqual({
      gate: "grace",
      remainingMs: minutes(10),
    });
  });
});

describe("first sighting by account", () => {
  it("names the account and says where in the label", () => {
    const claim = instruction(1, { accountId: MEMBER, region: "eu-west-1", capturedAt: at(-minutes(1)) });
    expect(firstSighting(claim, T0, 10, true).fresh).toEqual({
      id: claim.id,
      at: T0.toISOString(),
      label: `sg-open-ingress sg-00000000000000001 in ${MEMBER} eu-west-1`,
      accountId: MEMBER,
    });
    expect(firstSighting(claim, T0, 10).fresh).not.toHaveProperty("accountId");
  });
});

describe("breaker per account", () => {
  const sighting = (n: number, accountId: string | undefined, atMs = 0): FreshSighting => ({
    id: `i-${accountId}-${n}`,
    at: at(atMs).toISOString(),
    label: `sg-open-ingress sg-${n}`,
    ...(accountId ? { accountId } : {}),
  });
  const burst = (accountId: string, count: number, atMs = 0) =>
    Array.from({ length: count }, (_, n) => sighting(n, accountId, atMs));
  const none: AccountPauses = { paused: new Set(), resumedAtMs: () => undefined };
  const breaker = { freshLimit: 10, windowMinutes: 10, accountFreshLimit: 3 };

  it("trips for an account with MORE than its limit, not at the limit, and names the sightings", () => {
    const sightings = [...burst(MEMBER, 4), ...burst(OTHER, 3)];
    expect(accountBreakerGate(sightings, T0, breaker, undefined, none)).toEqual([
      { accountId: MEMBER, counted: burst(MEMBER, 4) },
    ]);
  });

  it("does nothing without a per-account limit (single-account mode)", () => {
    expect(accountBreakerGate(burst(MEMBER, 40), T0, { windowMinutes: 10 }, undefined, none)).toEqual([]);
  });

  it("counts within the window, since the switch's resume and since the account's own resume", () => {
    const sightings = [...burst(MEMBER, 2, -minutes(11)), ...burst(MEMBER, 4, -minutes(2))];
    expect(accountBreakerGate(sightings, T0, breaker, undefined, none)).toHaveLength(1);
    expect(accountBreakerGate(sightings, T0, breaker, T0.getTime() - minutes(1), none)).toEqual([]);
    const resumed: AccountPauses = { paused: new Set(), resumedAtMs: () => T0.getTime() - minutes(1) };
    expect(accountBreakerGate(sightings, T0, breaker, undefined, resumed)).toEqual([]);
  });

  it("does not trip an account already paused again", () => {
    const paused: AccountPauses = { paused: new Set([MEMBER]), resumedAtMs: () => undefined };
    expect(accountBreakerGate(burst(MEMBER, 9), T0, breaker, undefined, paused)).toEqual([]);
  });

  it("the global breaker leaves out paused accounts' sightings, and counts the rest across accounts", () => {
    const sightings = [...burst(MEMBER, 9), ...burst(OTHER, 2), sighting(99, undefined)];
    expect(breakerGate(sightings, T0, breaker, undefined, none)).toMatchObject({ trips: true });
    const paused: AccountPauses = { paused: new Set([MEMBER]), resumedAtMs: () => undefined };
    expect(breakerGate(sightings, T0, breaker, undefined, paused)).toEqual({ trips: false });
    // Without account pauses (single-account mode) every sighting counts, as before.
    expect(breakerGate(sightings, T0, breaker, undefined)).toMatchObject({ trips: true });
  });

  it("reports the account's trip with its own resume command", () => {
    const { reason, report } = accountBreakerNotice(MEMBER, burst(MEMBER, 12), {
      accountFreshLimit: 3,
      windowMinutes: 10,
    });
    expect(reason).toBe(
      `circuit breaker: 12 fresh instructions in account ${MEMBER} within 10 minutes (limit 3 per account)`,
    );
    expect(report).toEqual({
      kind: "breaker-tripped",
      accountId: MEMBER,
      freshInstructions: 12,
      limit: 3,
      windowMinutes: 10,
      sample: burst(MEMBER, 10).map((each) => each.label),
      resumeCommand: `remedy resume --account ${MEMBER}`,
    });
    expect(accountResumeCommand(MEMBER)).toBe(`remedy resume --account ${MEMBER}`);
  });
});
