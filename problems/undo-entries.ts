// The matched entries an undo put back, in the words of the problems' findings: what its temporary exemption lists
// (contract/undo-exemption.ts), so the next detection leaves exactly those entries as restored. Read from the undo's
// own before and after states (what it compared with and what it left) through the resource's undo `reAdded`, then
// turned into each problem's matched entry as its detection builds it from the live resource, so the key
// (matchedEntryKey) is the one a fix's re-judgement gives. Only the CLI reaches this module (as problems/undo.ts).
// Each case belongs with its resource type's undo (a `restoredEntries` beside `reAdded` in problems/<folder>/undo.ts);
// it is here, in one place, until the undos grow it.
import { type MatchedEntry, matchedEntryKey } from "../contract/instruction.ts";
import type { ResourceState } from "../contract/ledger.ts";
import type { Problem } from "./index.ts";
import {
  type ApiGrant,
  aclGrantsFromApi,
  isPublicGrant,
  isPublicStatement,
  parsePolicyDocument,
} from "./s3-public/detect.ts";
import type { BucketReAdded } from "./s3-public/undo.ts";
import { type ReAdded, type UndoableRecord, undoFor } from "./undo.ts";
import { BLOCK_FLAGS_FOR_PROBLEM } from "./words.ts";

/** One entry an undo put back, as the problem's findings name it. */
export interface RestoredEntry {
  problem: Problem;
  entry: MatchedEntry;
}

export interface RestoredEntries {
  entries: RestoredEntry[];
  /** What was put back but could not be named as an entry (it is not exempted: Remedy may fix it again). */
  unnamed: string[];
}

type KnownReAdded = BucketReAdded;

/**
 * The entries the undo of `record` put back: between `before` (the live state it read) and `after` (the state its
 * writes left). Turning Block Public Access flags off puts back the record's problem's public entries that the fix's
 * flags had neutralised: those in the fix's before-state that are still there.
 */
export function restoredEntries(record: UndoableRecord, before: ResourceState, after: ResourceState): RestoredEntries {
  const result: RestoredEntries = { entries: [], unnamed: [] };
  if (before.kind !== after.kind) return result;
  const added = undoFor(after.kind).undo.reAdded(before, after) as KnownReAdded[];
  for (const item of added) {
    try {
      result.entries.push(...entriesOf(item, record, after));
    } catch (error) {
      result.unnamed.push(`${item.kind}: ${(error as Error).message}`);
    }
  }
  return { entries: unique(result.entries), unnamed: result.unnamed };
}

function entriesOf(item: KnownReAdded, record: UndoableRecord, after: ResourceState): RestoredEntry[] {
  switch (item.kind) {
    case "acl-grants":
      return aclGrantsFromApi(item.grants as ApiGrant[]).map((grant) => ({
        problem: "s3-public-acl",
        entry: { kind: "acl-grant", grant },
      }));
    case "policy-statements":
      return item.statements.map((statement) => ({
        problem: "s3-public-policy",
        entry: { kind: "policy-statement", statement },
      }));
    case "block-public-access-off":
      return neutralisedAgain(item.flags, record, after);
    default: {
      // A resource type whose undo names what it puts back itself (its undo.ts restoredEntries).
      const named = undoFor(after.kind).undo.restoredEntries?.(item as ReAdded);
      if (named) return [...named];
      throw new Error(`no entries are known for what an undo re-adds as ${(item as ReAdded).kind}`);
    }
  }
}

/** The fix's problem's public entries, in its before-state and still on the bucket, that the flags turned off expose. */
function neutralisedAgain(flags: readonly string[], record: UndoableRecord, after: ResourceState): RestoredEntry[] {
  const problem = record.problem as Problem;
  const neutralising = BLOCK_FLAGS_FOR_PROBLEM[problem] ?? [];
  if (!neutralising.some((flag) => flags.includes(flag))) return [];
  const fixed = record.before;
  if (fixed.kind !== "s3-bucket" || after.kind !== "s3-bucket") return [];
  let candidates: MatchedEntry[] = [];
  let present: MatchedEntry[] = [];
  if (problem === "s3-public-acl") {
    const grants = (state: typeof fixed) => aclGrantsFromApi(state.acl.Grants as ApiGrant[]);
    candidates = grants(fixed)
      .filter(isPublicGrant)
      .map((grant) => ({ kind: "acl-grant", grant }));
    present = grants(after).map((grant) => ({ kind: "acl-grant", grant }));
  } else if (problem === "s3-public-policy") {
    const statements = (state: typeof fixed) => parsePolicyDocument(state.policy)?.Statement ?? [];
    candidates = statements(fixed)
      .filter(isPublicStatement)
      .map((statement) => ({ kind: "policy-statement", statement }));
    present = statements(after).map((statement) => ({ kind: "policy-statement", statement }));
  }
  const there = new Set(present.map(matchedEntryKey));
  return candidates.filter((entry) => there.has(matchedEntryKey(entry))).map((entry) => ({ problem, entry }));
}

function unique(entries: RestoredEntry[]): RestoredEntry[] {
  const seen = new Set<string>();
  return entries.filter(({ problem, entry }) => {
    const id = `${problem}\n${matchedEntryKey(entry)}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
