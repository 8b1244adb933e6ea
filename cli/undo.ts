// `remedy undo ACTION_ID`: checks the record (its MAC, then its consistency), reads the live resource, shows exactly
// what will be re-added to it (what Remedy removed and is still missing; everything changed since stays), asks
// (unless --yes), re-adds it and records the undo as an action of its own. A record that is not genuine or not
// consistent is refused before anything is read, shown or asked; one whose entries all conflict with the live state
// is refused after showing why, before asking.
import { kmsClient } from "../shared/clients.ts";
import { readLedgerRecord, s3Ledger } from "../shared/ledger.ts";
import type { Log } from "../shared/logging.ts";
import {
  assertRestorable,
  checkUndoable,
  describeUndo,
  kmsRecordVerifier,
  planUndo,
  type RecordIntegrityCheck,
  readLiveState,
  undoAction,
} from "../shared/undo.ts";
import type { CliDeps, Io } from "./deps.ts";
import { requireRefs, type StackRefs } from "./stack.ts";

export type UndoOutcome = "restored" | "already-restored" | "declined";

/** The CLI's log: progress lines on stderr, never mixed into the answer. */
function cliLog(io: Io): Log {
  const line = (level: string) => (message: string) => io.err(`${level}${message}\n`);
  return { debug() {}, info: line(""), warn: line("warning: "), error: line("error: ") };
}

export async function undoCommand(
  refs: StackRefs,
  actionId: string,
  options: { yes: boolean },
  deps: CliDeps,
  io: Io,
): Promise<UndoOutcome> {
  // The key comes from the stack, never from the record: a record signed with any other key is refused.
  const { ledgerBucket, ledgerMacKeyId } = requireRefs(refs, "ledgerBucket", "ledgerMacKeyId");
  const config = { bucket: ledgerBucket };
  const integrity: RecordIntegrityCheck = {
    verifier: kmsRecordVerifier((deps.kms ?? kmsClient)()),
    macKeyId: ledgerMacKeyId,
  };
  const record = await readLedgerRecord(deps.s3(), config, actionId);
  // Refuses (UndoError) what cannot be undone, is not genuine or is inconsistent, before anything is asked.
  const checked = await checkUndoable(record, integrity);
  // Only reads: what is shown is what is missing live now (undoAction reads again just before it writes).
  const plan = planUndo(checked, await readLiveState(checked, { ec2: deps.ec2(), s3: deps.s3() }));
  io.out(`${describeUndo(plan)}\n`);
  assertRestorable(plan);
  io.out(`The record's integrity MAC verifies with KMS key ${record.integrity?.keyId}.\n`);
  io.out(
    "Remedy will see this hole again at its next evaluation and fix it again unless the resource is exempted\n" +
      '(tag "remedy:exempt" or the allowlist) or auto-response is paused.\n',
  );
  if (!options.yes && !(await deps.confirm("Put this back?"))) {
    io.out("Nothing was changed.\n");
    return "declined";
  }
  const result = await undoAction(actionId, {
    ec2: deps.ec2(),
    s3: deps.s3(),
    ledger: s3Ledger(deps.s3(), config, deps.now),
    ...integrity,
    now: deps.now,
    log: cliLog(io),
  });
  for (const step of result.steps) io.out(`  ${step}\n`);
  io.out(
    result.outcome === "fixed"
      ? `Restored. The undo is recorded as ${result.actionId}.\n`
      : `Everything Remedy removed was already there again; recorded as ${result.actionId}.\n`,
  );
  return result.outcome === "fixed" ? "restored" : "already-restored";
}
