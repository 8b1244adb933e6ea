// Undo from Slack through the CLI's own path (cli/undo-runner.ts): the record read from the ledger and checked
// (genuine by its MAC with the stack's key, consistent), the live resource read again, exactly what the fix removed
// and is missing put back, the undo recorded in the ledger, its temporary exemption written and the "undone" report
// published: undoAndKeep, the same function `remedy undo` calls. Single-account mode only (core.ts refuses the rest).
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";
import { checkUndoable, UndoError, undoAndKeep } from "../../../cli/undo-runner.ts";
import {
  LedgerRecordNotFoundError,
  type RecordVerifier,
  readLedgerRecord,
  s3Ledger,
} from "../../../contract/ledger.ts";
import type { Reporter } from "../../../contract/report.ts";
import { DEFAULT_UNDO_EXEMPTION_MS } from "../../../contract/undo-exemption.ts";
import type { Log } from "../../../platform/logging.ts";
import type { UndoPort } from "./core.ts";

export interface SharedUndoDeps {
  s3: S3Client;
  ec2: EC2Client;
  /** Any other SDK client a resource type's undo asks for by class. */
  client: <C>(Client: new (config: object) => C) => C;
  bucket: string;
  /** kmsRecordVerifier in the function; the stack's ledger MAC key is the only one accepted. */
  verifier: RecordVerifier;
  macKeyId: string;
  reporter: Reporter;
  now: () => Date;
  log: Log;
  newActionId?: (now: Date) => string;
}

export function sharedUndo(deps: SharedUndoDeps): UndoPort {
  const integrity = { verifier: deps.verifier, macKeyId: deps.macKeyId };
  return {
    async target(actionId) {
      let record: Awaited<ReturnType<typeof readLedgerRecord>>;
      try {
        record = await readLedgerRecord(deps.s3, { bucket: deps.bucket }, actionId);
      } catch (error) {
        if (error instanceof LedgerRecordNotFoundError) throw new UndoError(error.message);
        throw error;
      }
      const checked = await checkUndoable(record, integrity);
      return { accountId: checked.resource.accountId, region: checked.resource.region };
    },
    async run(actionId, requestedBy) {
      const kept = await undoAndKeep(actionId, {
        ec2: deps.ec2,
        s3: deps.s3,
        client: deps.client,
        ledger: s3Ledger(deps.s3, { bucket: deps.bucket }, deps.now),
        ...integrity,
        now: deps.now,
        log: deps.log,
        requestedBy,
        ...(deps.newActionId ? { newActionId: deps.newActionId } : {}),
        exemption: { s3: deps.s3, bucket: deps.bucket, forMs: DEFAULT_UNDO_EXEMPTION_MS },
        reporter: deps.reporter,
        warn: (message) => deps.log.warn(message, { undoes: actionId }),
      });
      return {
        outcome: kept.outcome,
        undoActionId: kept.result.actionId,
        steps: kept.result.steps,
        ...(kept.exemption?.until ? { exemptUntil: kept.exemption.until } : {}),
      };
    },
  };
}
