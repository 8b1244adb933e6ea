// Human words for matched entries, the actions Remedy takes on them and the changes it recorded; one wording
// everywhere (plan, peek, status, logs, undo), so what an operator reviews is what later happens. Each problem words
// its own entries and change (problems/<id>/words.ts, named by its spec's `words`), and Slack's words for the change;
// this module finds them through the registry, by the kind of entry or change. A change several problems' fixes
// record (the S3 problems' Block Public Access, problems/s3-public/words.ts) is listed by each.

import type { Change } from "../contract/report.ts";
import type { MatchedEntry, Problem } from "../detection/types.ts";
import { PROBLEM_SPECS } from "./index.ts";
import type { S3FixStrategy } from "./s3-public/fix-spec.ts";
import { describeBlockOn } from "./s3-public/words.ts";
import type { BlockPublicAccessFlag, ChangeWords, ProblemSpec, ProblemWords, Tense } from "./types.ts";

export type { S3FixStrategy } from "./s3-public/fix-spec.ts";
export { describeGrant } from "./s3-public-acl/words.ts";
export { describeStatement } from "./s3-public-policy/words.ts";
export { describePorts, describeSgRule } from "./sg-open-ingress/words.ts";
export type { Tense } from "./types.ts";

const SPECS: readonly ProblemSpec[] = PROBLEM_SPECS;

/** The words of each entry kind: those of the problem whose findings record it. */
const ENTRY_WORDS: ReadonlyMap<string, ProblemWords> = new Map(SPECS.map((spec) => [spec.matchedKind, spec.words]));

/**
 * The words of each change kind, from every spec's words (its own change's and its otherChanges). Problems that share
 * a change list the same words; two different words for one kind would make a change read by whichever came last.
 */
export function changeWordsByKind(
  specs: readonly Pick<ProblemSpec, "id" | "words">[],
): ReadonlyMap<Change["kind"], ChangeWords> {
  const table = new Map<Change["kind"], { words: ChangeWords; id: string }>();
  for (const { id, words } of specs) {
    for (const change of [words.changes, ...(words.otherChanges ?? [])]) {
      const known = table.get(change.kind);
      if (!known) table.set(change.kind, { words: change, id });
      else if (known.words !== change)
        throw new Error(`change kind ${change.kind} is worded twice: by ${known.id} and by ${id}`);
    }
  }
  return new Map([...table].map(([kind, { words }]) => [kind, words]));
}

const CHANGE_WORDS = changeWordsByKind(SPECS);

function wordsOf<K extends string, W>(table: ReadonlyMap<K, W>, kind: K): W {
  const words = table.get(kind);
  if (!words) throw new Error(`no problem in the registry words ${kind}`);
  return words;
}

export function describeMatched(entry: MatchedEntry): string {
  return wordsOf(ENTRY_WORDS, entry.kind).entry(entry);
}

/** The words of a change a problem's fix records, for the CLI and for Slack ("restored" is undo's: none). */
export function changeWords(kind: Change["kind"]): ChangeWords {
  return wordsOf(CHANGE_WORDS, kind);
}

/**
 * The Block Public Access flags that neutralise each S3 problem (and keep it from coming back): what the
 * block-public-access strategy turns on, keeping every other flag as it is.
 */
export const BLOCK_FLAGS_FOR_PROBLEM: Readonly<Partial<Record<Problem, readonly BlockPublicAccessFlag[]>>> =
  Object.fromEntries(PROBLEM_SPECS.flatMap((spec) => ("blockFlags" in spec ? [[spec.id, spec.blockFlags]] : [])));

/** What the remediation for `problem` will do to one matched entry. */
export function describeAction(problem: Problem, entry: MatchedEntry, s3Strategy: S3FixStrategy): string {
  const flags = BLOCK_FLAGS_FOR_PROBLEM[problem];
  if (flags && s3Strategy === "block-public-access") return describeBlockOn(flags, "planned");
  const words = wordsOf(ENTRY_WORDS, entry.kind);
  return `${words.verb.planned} ${words.entry(entry)}`;
}

/**
 * One recorded change in words: past tense for a change that was made ("revoked ingress tcp 22 from 0.0.0.0/0
 * (sgr-…)"), the imperative for one that was only planned (a pending or failed action: "revoke ingress …").
 */
export function describeChange(change: Change, tense: Tense = "done"): string {
  // An undo's change is the summary it recorded: undo's own, no problem's.
  if (change.kind === "restored") return change.summary;
  return changeWords(change.kind).change(change, tense);
}

// ---------------------------------------------------------------------------------------------------------------
// Counting and listing, in the same words everywhere (undo's plans, Slack's titles and summaries).

/** "1 rule", "2 rules"; `many` for a plural that is not `one` + "s". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "a", "a and b", "a, b and c"; "" for none. */
export function listText(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
