// How the block-public-access strategy both S3 problems share is worded (each problem words its own entries and
// surgical change in its words.ts): one wording for the CLI (plan, status), the logs and undo, and Slack's. Pure: no
// AWS SDK.
import type { Change } from "../../contract/report.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "../../detection/types.ts";
import type { ChangeWords, Tense } from "../types.ts";

const VERB: Readonly<Record<Tense, string>> = {
  done: "turned on Block Public Access",
  planned: "turn on Block Public Access",
};

/** Turning flags on: "turn on Block Public Access IgnorePublicAcls + BlockPublicAcls". */
export function describeBlockOn(flags: readonly string[], tense: Tense): string {
  return `${VERB[tense]} ${flags.join(" + ")}`;
}

type Enabled = Extract<Change, { kind: "public-access-block-enabled" }>;

/** The recorded change: the flags it turned on (on after, not before), in S3's order. */
function describeBlockEnabled(change: Enabled, tense: Tense) {
  const flags = BLOCK_PUBLIC_ACCESS_FLAGS.filter(
    (flag) => change.after[flag] === true && change.before?.[flag] !== true,
  );
  return flags.length > 0 ? describeBlockOn(flags, tense) : `${VERB[tense]} (no flag was off)`;
}

/** A flag in Slack; absent from a configuration is "not set", not off. */
const onOff = (value: boolean | undefined) => (value === undefined ? "not set" : value ? "on" : "off");

/** The block-public-access strategy's change: each S3 problem lists it in its words' otherChanges. */
export const blockPublicAccessWords: ChangeWords<"public-access-block-enabled"> = {
  kind: "public-access-block-enabled",
  change: describeBlockEnabled,
  slack: {
    phrase: () => "turned on Block Public Access",
    section: (change, { t, text, bold }) => ({
      title: `Block Public Access on ${change.bucket}`,
      ...(change.before === null ? { note: text("There was no Block Public Access configuration before.") } : {}),
      items: BLOCK_PUBLIC_ACCESS_FLAGS.map((flag) => {
        const before = onOff(change.before?.[flag]);
        const after = onOff(change.after[flag]);
        return before === after ? t`${flag}: ${after} (unchanged)` : t`${flag}: ${before} → ${bold(after)}`;
      }),
    }),
  },
};

/** Every flag of a configuration, absent as false: "BlockPublicAcls=true, IgnorePublicAcls=false, …". */
export function describePublicAccessBlock(block: PublicAccessBlockFlags): string {
  return BLOCK_PUBLIC_ACCESS_FLAGS.map((key) => `${key}=${block[key] ?? false}`).join(", ");
}
