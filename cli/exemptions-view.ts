// Undo's temporary exemptions as the CLI shows them (`remedy exemptions`, `remedy status`, `remedy plan`, offline
// too): pure, no AWS SDK, so an offline plan loads none. The objects are claims (contract/undo-exemption.ts); every
// string in them is shown escaped (table() and terminalText).
import {
  type ActiveUndoExemption,
  activeUndoExemptionEntries,
  parseUndoExemptionRecord,
  type UndoExemptionRecord,
} from "../contract/undo-exemption.ts";
import { describeMatched } from "../problems/words.ts";
import { CliError, EXIT_USAGE } from "./command.ts";
import { plural, table, utc } from "./format.ts";
import { terminalText } from "./terminal.ts";

/** One entry left as restored, as the CLI shows it (JSON and tables alike). */
export interface ShownUndoExemption {
  resource: { accountId: string; region: string; type: string; id: string };
  problem: string;
  /** The entry in the problem's words. */
  entry: string;
  /** Its matchedEntryKey: what a fix's target is compared with. */
  key: string;
  until: string;
  by: string;
  at: string;
  undoActionId: string;
  undoes: string;
}

/** The exemptions in force, how many entries have run out, and the objects that exempt nothing. */
export interface UndoExemptionsView {
  active: ShownUndoExemption[];
  expired: number;
  invalid: { key: string; reason: string }[];
}

export function shownExemption(exemption: ActiveUndoExemption): ShownUndoExemption {
  const { resource, problem, entry, key, until, by, at, undoActionId, undoes } = exemption;
  return {
    resource: { accountId: resource.accountId, region: resource.region, type: resource.type, id: resource.id },
    problem,
    entry: describeMatched(entry),
    key,
    until,
    by,
    at,
    undoActionId,
    undoes,
  };
}

/** What is in force at `now` among `records`, soonest to end first. */
export function undoExemptionsView(
  records: readonly UndoExemptionRecord[],
  now: Date,
  invalid: UndoExemptionsView["invalid"] = [],
): UndoExemptionsView {
  const active = records.flatMap((record) => activeUndoExemptionEntries(record, now));
  const total = records.reduce((sum, record) => sum + record.entries.length, 0);
  return {
    active: active.map(shownExemption).sort((a, b) => a.until.localeCompare(b.until) || a.key.localeCompare(b.key)),
    expired: total - active.length,
    invalid,
  };
}

/** The table of entries left as restored (every cell escaped by table()). */
export function undoExemptionsTable(active: readonly ShownUndoExemption[], width?: number): string {
  return table(
    ["RESOURCE", "PROBLEM", "ENTRY", "UNTIL", "BY", "UNDO"],
    active.map((exemption) => [
      exemption.resource.id,
      exemption.problem,
      exemption.entry,
      utc(exemption.until),
      exemption.by,
      exemption.undoActionId,
    ]),
    [40, 18, 50, 20, 100, 32],
    width,
  );
}

/** The lines status and `remedy exemptions` show: the table, then what exempts nothing. */
export function undoExemptionsText(view: UndoExemptionsView, width?: number): string[] {
  const lines: string[] = [];
  if (view.active.length === 0) {
    lines.push(
      `Left as restored by undo: none${view.expired > 0 ? ` (${plural(view.expired, "entry", "entries")} ran out)` : ""}.`,
    );
  } else {
    lines.push(
      `Left as restored by undo (Remedy does not fix these until then; "remedy exemptions lift RESOURCE" ends one early):`,
      undoExemptionsTable(view.active, width),
    );
  }
  if (view.invalid.length > 0) {
    lines.push(`${plural(view.invalid.length, "exemption object")} not valid (they exempt nothing):`);
    for (const entry of view.invalid) lines.push(`  ${terminalText(entry.key)}: ${terminalText(entry.reason)}`);
  }
  return lines;
}

/**
 * Undo exemptions from a file (`remedy plan --undo-exemptions FILE`, offline): one record, a list of them, or what
 * `remedy exemptions --json` prints (its `records`). A record that is not valid is refused (exit 2): a file the
 * operator chose is input, not a claim found in a bucket.
 */
export function undoExemptionsFromFile(value: unknown, source: string): UndoExemptionRecord[] {
  const list = Array.isArray(value)
    ? value
    : typeof value === "object" && value !== null && Array.isArray((value as { records?: unknown }).records)
      ? (value as { records: unknown[] }).records
      : [value];
  return list.map((item, index) => {
    try {
      return parseUndoExemptionRecord(item);
    } catch (error) {
      throw new CliError(`${source}: exemption ${index + 1}: ${terminalText((error as Error).message)}`, EXIT_USAGE);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Exemptions granted in Slack (the allowlist's Slack part, allowlist/slack.json in the ledger bucket)

/** One Slack allowlist entry as the CLI shows it: today's allowlist fields and which decision granted it. */
export interface ShownSlackExemption {
  resource: string;
  problems: string[];
  reason: string;
  owner: string;
  expires: string;
  decisionId: string;
  at: string;
}

/** The Slack exemptions in force, how many have expired (until the next grant drops them), and what exempts nothing. */
export interface SlackExemptionsView {
  active: ShownSlackExemption[];
  expired: number;
  invalid: { where: string; message: string }[];
}

/** `reading`: platform/slack-allowlist-read.ts readSlackAllowlist's answer (its records align with its entries). */
export function slackExemptionsView(
  reading: {
    entries: readonly { expiresBefore: number }[];
    records: readonly ShownSlackExemption[];
    problems: readonly { where: string; message: string }[];
  },
  now: Date,
): SlackExemptionsView {
  const active = reading.records.filter((_, index) => now.getTime() < reading.entries[index]!.expiresBefore);
  return {
    active: active
      .map((record) => ({ ...record, problems: [...record.problems] }))
      .sort((a, b) => a.expires.localeCompare(b.expires) || a.decisionId.localeCompare(b.decisionId)),
    expired: reading.records.length - active.length,
    invalid: reading.problems.map(({ where, message }) => ({ where, message })),
  };
}

/** The lines `remedy exemptions` shows for them (every cell escaped by table(), the rest by terminalText). */
export function slackExemptionsText(view: SlackExemptionsView, width?: number): string[] {
  const lines: string[] = [];
  if (view.active.length === 0) {
    lines.push(
      `Exempted in Slack: none${view.expired > 0 ? ` (${plural(view.expired, "entry", "entries")} expired)` : ""}.`,
    );
  } else {
    lines.push(
      "Exempted in Slack (allowlist entries: Remedy leaves these alone through the end of EXPIRES, UTC):",
      table(
        ["RESOURCE", "PROBLEMS", "EXPIRES", "OWNER", "REASON", "DECISION"],
        view.active.map((entry) => [
          entry.resource,
          entry.problems.join(", "),
          entry.expires,
          entry.owner,
          entry.reason,
          entry.decisionId,
        ]),
        [60, 40, 10, 30, 60],
        width,
      ),
    );
  }
  if (view.invalid.length > 0) {
    lines.push(
      `${plural(view.invalid.length, "Slack allowlist entry", "Slack allowlist entries")} not valid (they exempt nothing):`,
    );
    for (const entry of view.invalid) lines.push(`  ${terminalText(entry.where)}: ${terminalText(entry.message)}`);
  }
  return lines;
}
