// How a public snapshot's entry and its fix are worded: one wording for the CLI (plan, peek, status), the logs and
// undo, and Slack's for the change, the same for a DB snapshot and (built here too) a DB cluster snapshot. Pure: no
// AWS SDK, no rule code.
import type { Change } from "../../contract/report.ts";
import type { ChangeWords, ProblemWords, SlackKit, Tense } from "../types.ts";
import { PUBLIC_RESTORE_VALUE, RESTORE_ATTRIBUTE } from "./contract.ts";
import { DB_SNAPSHOT, type SnapshotFlavor } from "./flavor.ts";

type Removed = Extract<Change, { kind: SnapshotFlavor["changeKind"] }>;

const VERB: Readonly<Record<Tense, string>> = { done: "removed", planned: "remove" };

/** The one entry a public snapshot has: what its fix removes and its undo puts back. */
export const PUBLIC_RESTORE_WORDS = 'restore access for every AWS account ("all")';

export function accountCount(count: number): string {
  return `${count} ${count === 1 ? "account" : "accounts"}`;
}

/** The account ids a snapshot stays shared with: "shared with 1 account: 111122223333"; "" for none. */
export function describeSharing(accounts: readonly string[]): string {
  return accounts.length > 0 ? `shared with ${accountCount(accounts.length)}: ${accounts.join(", ")}` : "";
}

/** "removed restore access for every AWS account ("all")": the resource and the accounts kept are said beside it. */
function describeRemoved(_change: Removed, tense: Tense): string {
  return `${VERB[tense]} ${PUBLIC_RESTORE_WORDS}`;
}

/** A problem's words, its change being of `flavor`'s kind. */
export function snapshotWords(flavor: SnapshotFlavor): ProblemWords {
  const changes: ChangeWords<Removed["kind"]> = {
    kind: flavor.changeKind,
    change: describeRemoved,
    slack: {
      phrase: () => `removed public restore access ("${PUBLIC_RESTORE_VALUE}")`,
      section: <I>(change: Removed, { t, code, plural }: SlackKit<I>) => ({
        title: `Made ${flavor.noun} ${change.snapshot} private`,
        items: [
          t`removed ${code(PUBLIC_RESTORE_VALUE)} from its ${code(RESTORE_ATTRIBUTE)} attribute: any AWS account could copy or restore it`,
          ...(change.kept.length > 0
            ? [
                t`still shared with ${plural(change.kept.length, "account")} (unchanged): ${code(change.kept.join(", "))}`,
              ]
            : []),
        ],
      }),
    },
  };
  return { verb: VERB, entry: () => PUBLIC_RESTORE_WORDS, changes };
}

export const rdsSnapshotPublicWords: ProblemWords = snapshotWords(DB_SNAPSHOT);
