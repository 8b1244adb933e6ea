// `remedy undo ACTION_ID`: checks the record (its MAC, then its consistency), shows exactly what will be put back,
// asks (unless --yes), restores the before-state recorded in the ledger, and records the undo as an action of its
// own. A record that is not genuine or not consistent is refused before anything is shown or asked.
import { kmsClient } from "../shared/clients.ts";
import { readLedgerRecord, s3Ledger } from "../shared/ledger.ts";
import type { Log } from "../shared/logging.ts";
import {
  checkUndoable,
  describeUndo,
  kmsRecordVerifier,
  type RecordIntegrityCheck,
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
  await checkUndoable(record, integrity);
  io.out(`${describeUndo(record)}\n`);
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
      : `Everything was already as before; recorded as ${result.actionId}.\n`,
  );
  return result.outcome === "fixed" ? "restored" : "already-restored";
}
