// How the block-public-access strategy both S3 problems share is worded (each problem words its own entries and
// surgical change in its words.ts): one wording for the CLI (plan, status), the logs and undo. Pure: no AWS SDK.
import type { Change } from "../../contract/report.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "../../detection/types.ts";
import type { Tense } from "../types.ts";

const VERB: Readonly<Record<Tense, string>> = {
  done: "turned on Block Public Access",
  planned: "turn on Block Public Access",
};

/** Turning flags on: "turn on Block Public Access IgnorePublicAcls + BlockPublicAcls". */
export function describeBlockOn(flags: readonly string[], tense: Tense): string {
  return `${VERB[tense]} ${flags.join(" + ")}`;
}

/** The recorded change: the flags it turned on (on after, not before), in S3's order. */
export function describeBlockEnabled(change: Extract<Change, { kind: "public-access-block-enabled" }>, tense: Tense) {
  const flags = BLOCK_PUBLIC_ACCESS_FLAGS.filter(
    (flag) => change.after[flag] === true && change.before?.[flag] !== true,
  );
  return flags.length > 0 ? describeBlockOn(flags, tense) : `${VERB[tense]} (no flag was off)`;
}

/** Every flag of a configuration, absent as false: "BlockPublicAcls=true, IgnorePublicAcls=false, …". */
export function describePublicAccessBlock(block: PublicAccessBlockFlags): string {
  return BLOCK_PUBLIC_ACCESS_FLAGS.map((key) => `${key}=${block[key] ?? false}`).join(", ");
}
