// The shapes of ids that Remedy puts into ARNs, links and commands. Pure (no SDK imports), so every function,
// including the notifier, can check a claimed id before it uses one.

export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** `us-east-1`, `ap-southeast-2`, `us-gov-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** `act-20261120T102819Z-7c1d9e2f`: start time to the second (UTC), then 8 random hex characters. */
export const ACTION_ID_PATTERN = /^act-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-([0-9a-f]{8})$/;

export function isActionId(text: string): boolean {
  return ACTION_ID_PATTERN.test(text);
}

/** A Slack user id as a mention needs it: `U012ABCDEF` (or `W...` for Enterprise Grid). */
export const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
/** A decision taken in Slack (contract/decisions.ts): its id. */
export const DECISION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
/** A fix instruction's id (contract/instruction.ts instructionId): 32 lowercase hex characters. */
export const INSTRUCTION_ID_PATTERN = /^[0-9a-f]{32}$/;
/** A Slack workspace's (team's) id: `T012ABCDEF`, or `E…` for an Enterprise Grid organisation. */
export const SLACK_TEAM_ID = /^[TE][A-Z0-9]{2,}$/;
/** An ISO 8601 UTC instant as Remedy writes them (`2026-11-20T10:30:00.000Z`, milliseconds optional). */
export const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
