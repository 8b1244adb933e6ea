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
