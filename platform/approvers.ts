// Who may press which button: the approvers settings (a JSON document, e.g. a Secrets Manager secret) and the one
// question asked of them. Deny by default: an action without rules allows nobody, and each action is judged by its own
// rules only (undo is never allowed by fixNow's list). Unknown keys are errors that name them, never ignored, so a typo
// ("fixnow") cannot silently leave an action to the wrong list. Pure.
import * as v from "valibot";
import { APPROVER_KEYS, type DecisionAction } from "../contract/decision-actions.ts";
import { ACCOUNT_ID_PATTERN, SLACK_USER_ID } from "../contract/ids.ts";
import { PermanentError } from "./errors.ts";

/** The approvers settings are not valid: where (a dot path) and what is wrong. Nothing is allowed until fixed. */
export class ApproverSettingsError extends PermanentError {
  override name = "ApproverSettingsError";
}

const RuleSchema = v.strictObject({
  users: v.pipe(
    v.array(v.pipe(v.string(), v.regex(SLACK_USER_ID, "must be a Slack user id like U012ABCDEF"))),
    v.minLength(1, "must name at least one Slack user"),
  ),
  /** Absent: every account. Empty is refused: it would read as "none" to some and "all" to others. */
  accounts: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id"))),
      v.minLength(1, "must name at least one account (leave it out for every account)"),
    ),
  ),
});

const RulesSchema = v.optional(v.array(RuleSchema));

const SettingsSchema = v.strictObject({
  approvers: v.strictObject({
    fixNow: RulesSchema,
    snooze: RulesSchema,
    exempt: RulesSchema,
    undo: RulesSchema,
  }),
});

export type ApproverRule = v.InferOutput<typeof RuleSchema>;
export type ApproverSettings = v.InferOutput<typeof SettingsSchema>;

export type PressVerdict = { allowed: true } | { allowed: false; reason: string };

/** Parses the settings; throws ApproverSettingsError naming the field (an unknown key by its name). */
export function parseApproverSettings(value: unknown, where = "approver settings"): ApproverSettings {
  const parsed = v.safeParse(SettingsSchema, value);
  if (parsed.success) return parsed.output;
  const [issue] = parsed.issues;
  const path = v.getDotPath(issue);
  if (issue.type === "strict_object" && issue.expected === "never") {
    const keys = (issue.path ?? []).map((item) => String(item.key));
    const key = keys.at(-1) ?? "?";
    const parent = keys.slice(0, -1).join(".");
    const known = parent === "" ? ["approvers"] : parent === "approvers" ? Object.values(APPROVER_KEYS) : undefined;
    throw new ApproverSettingsError(
      `${where}: ${path ?? key}: unknown key ${JSON.stringify(key)}${known ? ` (expected one of ${known.join(", ")})` : ""}`,
    );
  }
  throw new ApproverSettingsError(`${where}: ${path ?? "value"}: ${issue.message}`);
}

/** The settings from their JSON text (a secret's SecretString). */
export function parseApproverSettingsJson(text: string, where = "approver settings"): ApproverSettings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ApproverSettingsError(`${where}: not JSON: ${(error as Error).message}`);
  }
  return parseApproverSettings(value, where);
}

/** May `userId` press `action` for a resource in `accountId`? Only if a rule of that action names both. */
export function mayPress(
  settings: ApproverSettings,
  action: DecisionAction,
  userId: string,
  accountId: string,
): PressVerdict {
  const key = APPROVER_KEYS[action];
  const rules: readonly ApproverRule[] = settings.approvers[key] ?? [];
  if (rules.length === 0) return { allowed: false, reason: `nobody may ${action}: approvers.${key} lists no one` };
  if (!SLACK_USER_ID.test(userId)) {
    return { allowed: false, reason: `${JSON.stringify(userId)} is not a Slack user id` };
  }
  if (!ACCOUNT_ID_PATTERN.test(accountId)) {
    return { allowed: false, reason: `${JSON.stringify(accountId)} is not an account id` };
  }
  const named = rules.filter((rule) => rule.users.includes(userId));
  if (named.length === 0) return { allowed: false, reason: `${userId} is not in approvers.${key}` };
  if (named.some((rule) => rule.accounts === undefined || rule.accounts.includes(accountId))) return { allowed: true };
  return { allowed: false, reason: `${userId} may ${action} only in other accounts than ${accountId}` };
}
