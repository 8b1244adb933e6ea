// How a bucket policy statement and its removal are worded: one wording for the CLI (plan, peek, status), the logs
// and undo, and Slack's for the removal. Pure: no AWS SDK, no rule code.
import type { Change } from "../../contract/report.ts";
import type { MatchedEntry, PolicyStatement } from "../../detection/types.ts";
import { blockPublicAccessWords } from "../s3-public/words.ts";
import type { ChangeWords, ProblemWords, Tense } from "../types.ts";

/** A matched statement: "Sid PublicRead (Allow s3:GetObject)", "unnamed statement (Allow s3:*)". */
export function describeStatement(statement: Record<string, unknown>): string {
  const sid = typeof statement.Sid === "string" && statement.Sid ? `Sid ${statement.Sid}` : "unnamed statement";
  const actions = ([] as unknown[]).concat(statement.Action ?? statement.NotAction ?? []).join(",");
  return `${sid} (${statement.Effect} ${actions || "?"})`;
}

/**
 * How undo names a statement of the change it undoes (its whole text is shown where it is re-added): by its Sid, else
 * by its place in the change: "statement PublicRead", "statement #2".
 */
export function describeUndoneStatement(statement: PolicyStatement, index: number): string {
  return typeof statement.Sid === "string" && statement.Sid ? `statement ${statement.Sid}` : `statement #${index + 1}`;
}

type Removed = Extract<Change, { kind: "policy-statements-removed" }>;

const VERB: Readonly<Record<Tense, string>> = { done: "removed policy statement", planned: "remove policy statement" };

/** The recorded removal, and the policy's deletion with its last statement. */
function describeRemoved(change: Removed, tense: Tense): string {
  const removed = change.statements.map((statement) => `${VERB[tense]} ${describeStatement(statement)}`);
  if (change.policyDeleted)
    removed.push(tense === "done" ? "deleted the policy (no statement left)" : "delete the policy");
  return removed.join("; ");
}

const removedWords: ChangeWords<"policy-statements-removed"> = {
  kind: "policy-statements-removed",
  change: describeRemoved,
  slack: {
    phrase: (change, { plural }) =>
      `removed ${plural(change.statements.length, "policy statement")}${change.policyDeleted ? " (policy deleted)" : ""}`,
    section: (change, { text, code, cut, plural }) => ({
      title: `Removed ${plural(change.statements.length, "bucket policy statement")} on ${change.bucket}`,
      ...(change.policyDeleted ? { note: text("No statement remained, so the bucket policy was deleted.") } : {}),
      items: change.statements.map((statement) => code(cut(JSON.stringify(statement), 1_000))),
    }),
  },
};

export const s3PublicPolicyWords: ProblemWords = {
  verb: VERB,
  entry: (entry: Extract<MatchedEntry, { kind: "policy-statement" }>) => describeStatement(entry.statement),
  changes: removedWords,
  otherChanges: [blockPublicAccessWords],
};
