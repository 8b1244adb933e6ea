// Account pauses in the pause switch (organisation mode): old values still parse, an account is paused and resumed on
// its own (the pure functions the breaker and `remedy resume --account` use), and pausing or resuming the whole switch
// never lifts an account's pause.
import { GetParameterCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import {
  AccountNotPausedError,
  accountPause,
  accountResumedAtMs,
  InvalidPauseStateError,
  type PauseState,
  parsePauseState,
  pauseAccount,
  pausedAccounts,
  resume,
  resumeAccount,
  setPaused,
} from "../../platform/pause.ts";
import { PAUSE_PARAMETER, running, T0 } from "./support.ts";

const ssmMock = mockClient(SSMClient);
const ssm = new SSMClient({});
const MEMBER = "111111111111";
const OTHER = "222222222222";
const later = new Date(T0.getTime() + 60_000);

const withMember: PauseState = {
  ...running(),
  accounts: { [MEMBER]: { paused: true, by: "circuit-breaker", reason: "burst", at: T0.toISOString() } },
};
const stored = (state: PauseState) =>
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Name: PAUSE_PARAMETER, Value: JSON.stringify(state) } });
const written = () =>
  ssmMock.commandCalls(PutParameterCommand).map((call) => JSON.parse(call.args[0].input.Value!) as PauseState);

beforeEach(() => ssmMock.reset());

describe("the switch's value", () => {
  it("parses values written before account pauses existed, and values with them", () => {
    expect(parsePauseState(JSON.stringify(running()))).toEqual(running());
    expect(parsePauseState(JSON.stringify(withMember))).toEqual(withMember);
  });

  it("refuses an account entry that is not a 12-digit account id, or has no pause flag", () => {
    const bad = { ...running(), accounts: { "1111": withMember.accounts![MEMBER] } };
    expect(() => parsePauseState(JSON.stringify(bad))).toThrow(InvalidPauseStateError);
    const noFlag = { ...running(), accounts: { [MEMBER]: { by: "x", reason: "y", at: T0.toISOString() } } };
    expect(() => parsePauseState(JSON.stringify(noFlag))).toThrow(/accounts\.111111111111\.paused/);
  });
});

describe("pauseAccount and resumeAccount (pure)", () => {
  it("pause one account, keeping the switch and the other accounts as they are", () => {
    const paused = pauseAccount(withMember, OTHER, { by: "circuit-breaker", reason: "another burst", now: later });
    expect(paused).toEqual({
      ...withMember,
      accounts: {
        ...withMember.accounts,
        [OTHER]: { paused: true, by: "circuit-breaker", reason: "another burst", at: later.toISOString() },
      },
    });
    expect(pausedAccounts(paused).sort()).toEqual([MEMBER, OTHER]);
    expect(withMember.accounts![OTHER]).toBeUndefined();
  });

  it("resume one account by a person, recording when (its breaker forgets what it saw before)", () => {
    const resumed = resumeAccount(withMember, MEMBER, "alice", later);
    expect(resumed.accounts![MEMBER]).toEqual({
      paused: false,
      by: "alice",
      reason: "resumed by alice",
      at: later.toISOString(),
      resumedAt: later.toISOString(),
    });
    expect(accountPause(resumed, MEMBER)).toBeUndefined();
    expect(accountResumedAtMs(resumed, MEMBER)).toBe(later.getTime());
    expect(resumed).toMatchObject({ paused: false, by: running().by });
    // Paused again later, it keeps when it was last resumed.
    const again = pauseAccount(resumed, MEMBER, { by: "circuit-breaker", reason: "again", now: later });
    expect(again.accounts![MEMBER]).toMatchObject({ paused: true, resumedAt: later.toISOString() });
  });

  it("leave a paused switch paused when one account is resumed", () => {
    const paused: PauseState = { ...withMember, paused: true, by: "bob", reason: "freeze" };
    expect(resumeAccount(paused, MEMBER, "alice", later)).toMatchObject({ paused: true, by: "bob", reason: "freeze" });
  });

  it("refuse an account that is not paused, and text that is not an account id", () => {
    expect(() => resumeAccount(withMember, OTHER, "alice", later)).toThrow(AccountNotPausedError);
    expect(() => resumeAccount(resumeAccount(withMember, MEMBER, "alice", later), MEMBER, "alice", later)).toThrow(
      `account ${MEMBER} is not paused`,
    );
    expect(() => resumeAccount(withMember, "1111; rm -rf /", "alice", later)).toThrow(InvalidPauseStateError);
  });
});

describe("pausing and resuming the whole switch keep account pauses", () => {
  it("setPaused keeps the stored accounts (read first) or those of `previous`", async () => {
    stored(withMember);
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    await setPaused(ssm, PAUSE_PARAMETER, { by: "bob", reason: "freeze", now: later });
    await setPaused(ssm, PAUSE_PARAMETER, { by: "bob", reason: "freeze", now: later, previous: running() });
    expect(written()).toEqual([
      { paused: true, by: "bob", reason: "freeze", at: later.toISOString(), accounts: withMember.accounts },
      { paused: true, by: "bob", reason: "freeze", at: later.toISOString() },
    ]);
  });

  it("setPaused pauses even when the read fails (pausing comes first)", async () => {
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    await setPaused(ssm, PAUSE_PARAMETER, { by: "bob", reason: "freeze", now: later });
    expect(written()).toEqual([{ paused: true, by: "bob", reason: "freeze", at: later.toISOString() }]);
  });

  it("resume keeps the stored accounts, and fails rather than lift them when the switch cannot be read", async () => {
    stored({ ...withMember, paused: true });
    ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
    await resume(ssm, PAUSE_PARAMETER, { by: "alice", now: later });
    expect(written()).toEqual([
      {
        paused: false,
        by: "alice",
        reason: "resumed by alice",
        at: later.toISOString(),
        resumedAt: later.toISOString(),
        accounts: withMember.accounts,
      },
    ]);

    ssmMock.reset();
    ssmMock.on(GetParameterCommand).rejects(Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" }));
    await expect(resume(ssm, PAUSE_PARAMETER, { by: "alice", now: later })).rejects.toThrow("Rate exceeded");
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});
