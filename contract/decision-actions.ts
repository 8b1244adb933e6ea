// What a Slack button can ask Remedy to do: the one list the approvers settings, the decision records and (later)
// the interactions handler share. Pure.

export const DECISION_ACTIONS = ["fix-now", "snooze", "exempt", "undo"] as const;
export type DecisionAction = (typeof DECISION_ACTIONS)[number];

/** The approvers settings' key for each action (`approvers.fixNow`, ...). */
export const APPROVER_KEYS = {
  "fix-now": "fixNow",
  snooze: "snooze",
  exempt: "exempt",
  undo: "undo",
} as const satisfies Record<DecisionAction, string>;
export type ApproverKey = (typeof APPROVER_KEYS)[DecisionAction];

export function isDecisionAction(value: unknown): value is DecisionAction {
  return typeof value === "string" && (DECISION_ACTIONS as readonly string[]).includes(value);
}

/** Each action's Slack button action_id: the notifier puts them on its messages, the interactions function reads them. */
export const BUTTON_ACTION_IDS = {
  "fix-now": "remedy:fix-now",
  snooze: "remedy:snooze",
  exempt: "remedy:exempt",
  undo: "remedy:undo",
} as const satisfies Record<DecisionAction, string>;
export type ButtonActionId = (typeof BUTTON_ACTION_IDS)[DecisionAction];

/** The block_id of the notifier's buttons, so that an answer can find and replace them. */
export const DECISIONS_BLOCK_ID = "remedy:decisions";

/** The action a button's action_id stands for; undefined for any other (a forged or foreign action_id). */
export function decisionActionOf(actionId: string): DecisionAction | undefined {
  return DECISION_ACTIONS.find((action) => BUTTON_ACTION_IDS[action] === actionId);
}
