// How an account-level Block Public Access flag and the fix that turns flags on are worded: one wording for the CLI
// (plan, peek, status), the logs and undo, and Slack's for the change (every flag before → after). Pure: no AWS SDK.
import type { Change } from "../../contract/report.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type MatchedEntry, type PublicAccessBlockFlags } from "../../detection/types.ts";
import type { ChangeWords, ProblemWords, Tense } from "../types.ts";

const VERB: Readonly<Record<Tense, string>> = {
  done: "turned on Block Public Access",
  planned: "turn on Block Public Access",
};

type Enabled = Extract<Change, { kind: "account-public-access-block-enabled" }>;

/** The flags a change turned on (on after, not before), in S3's order. */
export function flagsTurnedOn(change: Pick<Enabled, "before" | "after">): string[] {
  return BLOCK_PUBLIC_ACCESS_FLAGS.filter((flag) => change.after[flag] === true && change.before?.[flag] !== true);
}

/** "turned on Block Public Access BlockPublicPolicy + RestrictPublicBuckets for the account", as its entries read. */
function describeEnabled(change: Enabled, tense: Tense): string {
  const flags = flagsTurnedOn(change);
  return `${VERB[tense]} ${flags.length > 0 ? flags.join(" + ") : "(no flag was off)"} for the account`;
}

/** Every flag, absent as false: "BlockPublicAcls=true, IgnorePublicAcls=false, …"; none configured says so. */
export function describeAccountFlags(block: PublicAccessBlockFlags | null): string {
  if (block === null) return "no configuration (every flag off)";
  return BLOCK_PUBLIC_ACCESS_FLAGS.map((flag) => `${flag}=${block[flag] ?? false}`).join(", ");
}

/** A flag in Slack; absent from a configuration is "not set", not off. */
const onOff = (value: boolean | undefined) => (value === undefined ? "not set" : value ? "on" : "off");

const enabledWords: ChangeWords<"account-public-access-block-enabled"> = {
  kind: "account-public-access-block-enabled",
  change: describeEnabled,
  slack: {
    phrase: (change, { plural }) =>
      `turned on ${plural(flagsTurnedOn(change).length, "account-level Block Public Access setting")}`,
    section: (change, { t, text, bold }) => ({
      title: `Block Public Access of account ${change.accountId} (every bucket, every region)`,
      ...(change.before === null
        ? { note: text("There was no account-level Block Public Access configuration before.") }
        : {}),
      items: BLOCK_PUBLIC_ACCESS_FLAGS.map((flag) => {
        const before = onOff(change.before?.[flag]);
        const after = onOff(change.after[flag]);
        return before === after ? t`${flag}: ${after} (unchanged)` : t`${flag}: ${before} → ${bold(after)}`;
      }),
    }),
  },
};

export const s3AccountPublicAccessWords: ProblemWords = {
  verb: VERB,
  entry: (entry: Extract<MatchedEntry, { kind: "s3-account-bpa-flag" }>) => `${entry.flag} for the account`,
  changes: enabledWords,
};
