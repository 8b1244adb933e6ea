// Who may press which button: deny by default, each action by its own rules, accounts narrowing a rule, and strict
// settings (unknown keys named).
import { describe, expect, it } from "vitest";
import { DECISION_ACTIONS } from "../../contract/decision-actions.ts";
import {
  ApproverSettingsError,
  mayPress,
  parseApproverSettings,
  parseApproverSettingsJson,
} from "../../platform/approvers.ts";

const ALICE = "U012ALICE0";
const BOB = "W012BOB000";
const PROD = "111111111111";
const DEV = "222222222222";

const settings = parseApproverSettings({
  approvers: {
    fixNow: [{ users: [ALICE, BOB] }],
    snooze: [
      { users: [BOB], accounts: [DEV] },
      { users: [ALICE], accounts: [PROD] },
    ],
    exempt: [{ users: [ALICE], accounts: [PROD, DEV] }],
  },
});

describe("mayPress", () => {
  it("allows a listed user (a rule without accounts covers every account)", () => {
    expect(mayPress(settings, "fix-now", ALICE, PROD)).toEqual({ allowed: true });
    expect(mayPress(settings, "fix-now", BOB, DEV)).toEqual({ allowed: true });
  });

  it("allows only in the rule's accounts", () => {
    expect(mayPress(settings, "snooze", BOB, DEV)).toEqual({ allowed: true });
    expect(mayPress(settings, "snooze", ALICE, PROD)).toEqual({ allowed: true });
    expect(mayPress(settings, "snooze", BOB, PROD)).toEqual({
      allowed: false,
      reason: `${BOB} may snooze only in other accounts than ${PROD}`,
    });
    expect(mayPress(settings, "exempt", ALICE, "333333333333")).toMatchObject({ allowed: false });
  });

  it("denies a user no rule names", () => {
    expect(mayPress(settings, "exempt", BOB, PROD)).toEqual({
      allowed: false,
      reason: `${BOB} is not in approvers.exempt`,
    });
  });

  it("denies everyone an action without rules: undo is never allowed by another action's list", () => {
    expect(mayPress(settings, "undo", ALICE, PROD)).toEqual({
      allowed: false,
      reason: "nobody may undo: approvers.undo lists no one",
    });
    const empty = parseApproverSettings({ approvers: { undo: [] } });
    for (const action of DECISION_ACTIONS) {
      expect(mayPress(empty, action, ALICE, PROD)).toMatchObject({ allowed: false });
    }
  });

  it("undo is allowed by its own list only", () => {
    const onlyUndo = parseApproverSettings({ approvers: { undo: [{ users: [BOB] }] } });
    expect(mayPress(onlyUndo, "undo", BOB, PROD)).toEqual({ allowed: true });
    expect(mayPress(onlyUndo, "fix-now", BOB, PROD)).toMatchObject({ allowed: false });
  });

  it("denies ids of the wrong shape (no lookups with a forged id)", () => {
    expect(mayPress(settings, "fix-now", "alice", PROD)).toMatchObject({ allowed: false });
    expect(mayPress(settings, "fix-now", ALICE, "prod")).toMatchObject({ allowed: false });
    expect(mayPress(settings, "fix-now", "", "")).toMatchObject({ allowed: false });
  });
});

describe("parseApproverSettings", () => {
  it("accepts an empty approvers object (nobody may do anything)", () => {
    expect(parseApproverSettings({ approvers: {} })).toEqual({ approvers: {} });
  });

  it("names an unknown key, at the top and among the actions and in a rule", () => {
    expect(() => parseApproverSettings({ approvers: {}, approver: {} })).toThrow(
      'approver settings: approver: unknown key "approver" (expected one of approvers)',
    );
    expect(() => parseApproverSettings({ approvers: { fixnow: [{ users: [ALICE] }] } })).toThrow(
      'approver settings: approvers.fixnow: unknown key "fixnow" (expected one of fixNow, snooze, exempt, undo)',
    );
    expect(() => parseApproverSettings({ approvers: { undo: [{ users: [ALICE], account: [PROD] }] } })).toThrow(
      'approvers.undo.0.account: unknown key "account"',
    );
  });

  it("refuses bad user ids, account ids and empty lists, naming the field", () => {
    const cases: [unknown, string][] = [
      [{ approvers: { fixNow: [{ users: ["alice"] }] } }, "approvers.fixNow.0.users.0: must be a Slack user id"],
      [{ approvers: { fixNow: [{ users: ["u012abcdef"] }] } }, "approvers.fixNow.0.users.0"],
      [{ approvers: { fixNow: [{ users: [] }] } }, "approvers.fixNow.0.users: must name at least one Slack user"],
      [{ approvers: { fixNow: [{ users: [ALICE], accounts: ["1234"] }] } }, "approvers.fixNow.0.accounts.0"],
      [{ approvers: { fixNow: [{ users: [ALICE], accounts: [] }] } }, "approvers.fixNow.0.accounts: must name at"],
      [{ approvers: { fixNow: [{ accounts: [PROD] }] } }, "approvers.fixNow.0.users"],
      [{ approvers: { fixNow: { users: [ALICE] } } }, "approvers.fixNow"],
      [{}, "approvers"],
      [null, "approver settings"],
    ];
    for (const [value, message] of cases) {
      expect(() => parseApproverSettings(value)).toThrow(ApproverSettingsError);
      expect(() => parseApproverSettings(value)).toThrow(message);
    }
  });

  it("reads the JSON text, and says where bad JSON is", () => {
    expect(
      parseApproverSettingsJson(`{"approvers":{"undo":[{"users":["${ALICE}"]}]}}`, "secret remedy/approvers"),
    ).toEqual({ approvers: { undo: [{ users: [ALICE] }] } });
    expect(() => parseApproverSettingsJson("{", "secret remedy/approvers")).toThrow(
      /^secret remedy\/approvers: not JSON/,
    );
  });

  it("is a permanent error", () => {
    try {
      parseApproverSettings({});
    } catch (error) {
      expect(error).toMatchObject({ name: "ApproverSettingsError", kind: "permanent" });
    }
    expect.assertions(1);
  });
});
