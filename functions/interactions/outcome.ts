// What a decided message shows: its buttons replaced by one line saying who did what, when, and how it went. Every
// string that is not ours is escaped (Slack's escaping: a reason or a resource id cannot mention or link anything);
// the user id goes into a mention only in the exact shape of one. Pure.

import type { DecisionAction } from "../../contract/decision-actions.ts";
import { DECISIONS_BLOCK_ID } from "../../contract/decision-actions.ts";
import type { DecisionRecord } from "../../contract/decisions.ts";
import { SLACK_USER_ID } from "../notifier/ids.ts";
import { escapeText, utc } from "../notifier/message.ts";

const LABEL: Readonly<Record<DecisionAction, { emoji: string; label: string }>> = {
  "fix-now": { emoji: ":zap:", label: "Fix now" },
  snooze: { emoji: ":zzz:", label: "Snooze" },
  exempt: { emoji: ":no_entry_sign:", label: "Exempt" },
  undo: { emoji: ":leftwards_arrow_with_hook:", label: "Undo" },
};

/** Slack's limit on one context element's text. */
const MAX_CONTEXT_TEXT = 3_000;

/** "<emoji> <Action> by <@U…> at <UTC time>: <outcome>", as mrkdwn and as the plain fallback. */
export function decisionLine(decision: DecisionRecord, outcome: string): { md: string; plain: string } {
  const { emoji, label } = LABEL[decision.action];
  const user = decision.by.slackUserId;
  const who = SLACK_USER_ID.test(user) ? `<@${user}>` : escapeText(user);
  const when = escapeText(utc(decision.at));
  const said = escapeText(outcome);
  const md = `${emoji} ${label} by ${who} at ${when}: ${said}`;
  return {
    md: md.length > MAX_CONTEXT_TEXT ? `${md.slice(0, MAX_CONTEXT_TEXT - 1)}…` : md,
    plain: `${label} by ${who} at ${when}: ${said}`,
  };
}

/** The message's blocks without its buttons (block "remedy:decisions"), with the decision's line at the end. */
export function decidedBlocks(
  blocks: readonly Record<string, unknown>[],
  line: { md: string },
): Record<string, unknown>[] {
  const kept = blocks.filter((block) => block.block_id !== DECISIONS_BLOCK_ID);
  const context = { type: "context", elements: [{ type: "mrkdwn", text: line.md }] };
  // Slack refuses more than 50 blocks: the line replaces the last one rather than be lost.
  return [...kept.slice(0, 49), context];
}
