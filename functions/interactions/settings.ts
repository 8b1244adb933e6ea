// What both interactions functions share about their settings: the approvers (read at cold start; a bad or missing
// list denies every press, with the reason, rather than failing the function, so people are told why), the snooze
// amount's bounds, and the decision id of a request. Each function's own settings.ts reads its environment with these.
import { createHash } from "node:crypto";
import { DECISIONS_BLOCK_ID, decisionActionOf } from "../../contract/decision-actions.ts";
import { type ApproverSettings, parseApproverSettingsJson } from "../../platform/approvers.ts";

/** REMEDY_SNOOZE_MINUTES: how far Snooze pushes an instruction's due time (the coordinator applies it). */
export const SNOOZE_MINUTES = { fallback: 1_440, min: 1, max: 10_080 } as const;

/** The approvers, or why nobody may press anything. */
export type Approvers = { ok: true; settings: ApproverSettings } | { ok: false; reason: string };

/** REMEDY_SLACK_APPROVERS' JSON (the approvers settings); never throws. */
export function approversFrom(text: string | undefined): Approvers {
  if (text === undefined || text.trim() === "") {
    return {
      ok: false,
      reason: "no approvers are configured (REMEDY_SLACK_APPROVERS is empty): nobody may press anything",
    };
  }
  try {
    return { ok: true, settings: parseApproverSettingsJson(text, "REMEDY_SLACK_APPROVERS") };
  } catch (error) {
    return { ok: false, reason: `${(error as Error).message}: nobody may press anything until it is fixed` };
  }
}

/** The action a button's action_id stands for (actions.ts: the ids the notifier puts on its buttons). */
export const buttonAction = decisionActionOf;

/** The block the notifier puts its buttons in: the worker replaces it with the decision's line. */
export { DECISIONS_BLOCK_ID };

/**
 * A decision's id: the SHA-256 of the request's timestamp and signature, so the same request seen again (a retry,
 * a replay) is recognisably the same decision, and two presses never share one.
 */
export function decisionIdFor(timestamp: string, signature: string): string {
  return createHash("sha256").update(`${timestamp}:${signature.toLowerCase()}`, "utf8").digest("hex");
}
