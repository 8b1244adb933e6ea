// Undo: re-adds exactly what a fix removed, compared with the live resource, and records the undo as an action of
// its own (`undoes: <actionId>`); the original record is never rewritten. Every change made since the fix stays.
// What goes back on each resource type, and how, is that type's undo (problems/<folder>/undo.ts, the folder its
// registry entry names: security groups in problems/sg-open-ingress/, buckets in problems/s3-public/), found by the
// record's before-state kind through the registry (problems/undo.ts); this runner is the same for every resource.
// Importing it loads every resource type's undo.
// An entry that is there again is skipped and said so ("already present: …"); when everything is, the undo is
// recorded as skipped ("already restored"). An entry that conflicts with the live state is not re-added, with one
// sentence saying why. When nothing can be re-added and something was refused, the undo is refused (UndoError),
// nothing changed. A fix that did not finish (pending, or failed after its change call) is undone the same way: only
// what is actually gone goes back.
// Nothing in a record is trusted before it is checked, and nothing is shown or asked before that: the record must
// carry a MAC from the ledger MAC key that verifies (KMS VerifyMac; only the remediation functions can sign, so
// whoever can write to the ledger bucket cannot forge one), and it must be consistent — its before-state is for a
// resource type the registry knows and a problem found on it, and its resource's undo finds its changes exactly what
// a remediation removes and its after-state (when it has one) its before-state minus those changes. planUndo (pure)
// decides against a live state read by readLiveState; describeUndo shows that plan.
import { type KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  integrityMessage,
  LEDGER_MAC_ALGORITHM,
  type Ledger,
  type LedgerRecord,
  LedgerRecordNotFoundError,
  newActionId,
  type RecordVerifier,
} from "../contract/ledger.ts";
import type { Change, Reporter } from "../contract/report.ts";
import { undoExemptionKey } from "../contract/undo-exemption.ts";
import { describeAwsError, hasErrorCode } from "../platform/aws-errors.ts";
import { errorFields, type Log } from "../platform/logging.ts";
import { addUndoExemption } from "../platform/undo-exemptions-store.ts";
import {
  inconsistent,
  type LiveState,
  type ResourcePlan,
  type UndoableRecord,
  type UndoClients,
  UndoError,
  undoFor,
} from "../problems/undo.ts";
import { type RestoredEntries, restoredEntries } from "../problems/undo-entries.ts";
import { describeMatched } from "../problems/words.ts";

export { type LiveState, type ReAdded, type UndoableRecord, UndoError, undoFor } from "../problems/undo.ts";

/** How undo tells a genuine record: its MAC must verify, with the stack's key when that is known. */
export interface RecordIntegrityCheck {
  /** kmsRecordVerifier (KMS VerifyMac) for real records. */
  verifier: RecordVerifier;
  /**
   * The stack's ledger MAC key (its ARN, as GenerateMac reports it): a record naming any other key is refused.
   * Absent: the key the record names is used, so a record signed with another key that the operator may use would
   * verify.
   */
  macKeyId?: string;
}

export interface UndoDeps extends RecordIntegrityCheck, UndoClients {
  ledger: Ledger;
  now: () => Date;
  log: Log;
  newActionId?: (now: Date) => string;
  /** Who asks for the undo (the CLI: the caller's AWS identity), recorded in the undo's ledger record. */
  requestedBy?: string;
}

export interface UndoResult {
  /** The undo's own ledger action. */
  actionId: string;
  undoes: string;
  /** "fixed": something was re-added; "skipped": everything the fix removed was there again. */
  outcome: "fixed" | "skipped";
  /** One line per entry: re-added, already present, or not re-added (and why). */
  steps: string[];
  /** The entries re-added, as the problems' findings name them (what the undo's temporary exemption lists). */
  restored: RestoredEntries;
  /** The resource the undo changed, and the fix's problem (the record's). */
  resource: UndoableRecord["resource"];
  problem: UndoableRecord["problem"];
}

// ---------------------------------------------------------------------------------------------------------------
// Checks

/**
 * Throws UndoError unless `record` is a fix that undo can restore and is consistent (see assertConsistent). The MAC
 * is checked separately (verifyRecordIntegrity, asynchronous); checkUndoable does both.
 */
export function assertUndoable(record: LedgerRecord): asserts record is UndoableRecord {
  assertOutcome(record);
  assertConsistent(record);
}

/**
 * Everything undo checks before it shows or changes anything, in this order: an outcome that changed something
 * (undo records are refused here: they are never signed), a MAC that verifies, then consistency.
 */
export async function checkUndoable(record: LedgerRecord, check: RecordIntegrityCheck): Promise<UndoableRecord> {
  assertOutcome(record);
  await verifyRecordIntegrity(record, check);
  assertConsistent(record);
  return record;
}

/** Throws UndoError unless the record carries a MAC by the expected key that verifies over the record as read. */
export async function verifyRecordIntegrity(record: LedgerRecord, check: RecordIntegrityCheck): Promise<void> {
  const { integrity } = record;
  if (!integrity) {
    throw new UndoError(
      `${record.actionId} carries no integrity MAC, so nothing shows that Remedy wrote it; it is not undone`,
    );
  }
  if (check.macKeyId !== undefined && integrity.keyId !== check.macKeyId) {
    throw new UndoError(
      `${record.actionId} is signed with key ${integrity.keyId}, not the stack's ledger MAC key ${check.macKeyId}; it is not undone`,
    );
  }
  if (!(await check.verifier.verify({ ...record, integrity }))) {
    throw new UndoError(
      `${record.actionId} does not match its integrity MAC: it was changed after Remedy wrote it; it is not undone`,
    );
  }
}

/** KMS errors meaning the named key cannot check this MAC at all (absent, not an HMAC key, disabled...). */
const UNUSABLE_MAC_KEY = [
  "NotFoundException",
  "InvalidKeyUsageException",
  "DisabledException",
  "KMSInvalidStateException",
  "InvalidArnException",
  "KeyUnavailableException",
];

/** Verifies with KMS VerifyMac, with the key the record names (checkUndoable compares it with the stack's first). */
export function kmsRecordVerifier(kms: KMSClient): RecordVerifier {
  return {
    async verify(record) {
      const { keyId, mac } = record.integrity;
      try {
        const output = await kms.send(
          new VerifyMacCommand({
            KeyId: keyId,
            MacAlgorithm: LEDGER_MAC_ALGORITHM,
            Message: integrityMessage(record),
            Mac: Buffer.from(mac, "base64"),
          }),
        );
        return output.MacValid === true;
      } catch (error) {
        // KMS answers a MAC that does not verify with this error rather than MacValid false.
        if (hasErrorCode(error, "KMSInvalidMacException")) return false;
        if (hasErrorCode(error, ...UNUSABLE_MAC_KEY)) {
          throw new UndoError(
            `${record.actionId} cannot be verified: KMS key ${keyId} cannot check its MAC (${describeAwsError(error)}); it is not undone`,
          );
        }
        throw error;
      }
    },
  };
}

function assertOutcome(record: LedgerRecord): asserts record is UndoableRecord {
  if (record.undoes) {
    throw new UndoError(`${record.actionId} is itself the undo of ${record.undoes}; it cannot be undone`);
  }
  if (record.outcome !== "fixed" && !isUncertain(record)) {
    const why = record.reason ? `: ${record.reason}` : "";
    throw new UndoError(`${record.actionId} is ${record.outcome}${why}; it changed nothing to undo`);
  }
  if (!record.before) throw new UndoError(`${record.actionId} has no before-state to restore`);
  if (record.outcome === "fixed") {
    if (!record.after) throw new UndoError(`${record.actionId} has no after-state`);
    if (record.before.kind !== record.after.kind) {
      throw new UndoError(`${record.actionId} has before/after states of different kinds`);
    }
    return;
  }
  // Otherwise a change that was started but not confirmed (crash, lost answer): undoable from its before-state.
}

/**
 * A record is consistent when it describes what a remediation does: its before-state is that of a resource type the
 * registry knows, for a problem found on that type, and its resource's undo finds it consistent (its changes exactly
 * what the fix removes and, when `fixed`, its after-state the before-state minus them).
 */
function assertConsistent(record: UndoableRecord): void {
  const { before, resource } = record;
  const { undo, resourceType, problems } = undoFor(before.kind);
  if (resource.type !== resourceType) {
    throw inconsistent(record, `its resource is an ${resource.type}, but its before-state holds ${undo.what}`);
  }
  if (!problems.includes(record.problem)) {
    throw inconsistent(record, `its problem ${record.problem} is not fixed by changing ${undo.what}`);
  }
  undo.assertConsistent(record);
}

/** A pending or failed action that had planned changes: the change may or may not have happened. */
export function isUncertain(record: LedgerRecord): boolean {
  return (record.outcome === "pending" || record.outcome === "failed") && !!record.before && record.changes.length > 0;
}

// ---------------------------------------------------------------------------------------------------------------
// What goes back: decided from the record and the live state alone (pure)

/** What an undo does to the record's resource (its resource's plan, problems/undo.ts ResourcePlan). */
export interface UndoPlan extends ResourcePlan {
  record: UndoableRecord;
}

/**
 * Decides what an undo re-adds to `live`: exactly the entries the record's change removed that are missing live,
 * added to the live state (everything else in it kept). Throws UndoError for a record that cannot be undone.
 */
export function planUndo(record: LedgerRecord, live: LiveState): UndoPlan {
  assertUndoable(record);
  return { record, ...undoFor(record.before.kind).undo.plan(record, live) };
}

/** Throws UndoError when nothing can be re-added because of conflicts with the live state. */
export function assertRestorable(plan: UndoPlan): void {
  if (plan.writes.length === 0 && plan.refused.length > 0) {
    throw new UndoError(`${plan.record.actionId} is not undone: ${plan.refused.join(" ")}`);
  }
}

/** What `remedy undo` shows before asking "proceed?": exactly what the plan re-adds to the live resource. */
export function describeUndo(plan: UndoPlan): string {
  const { record } = plan;
  const { resource } = record;
  const lines = [
    `Undo ${record.actionId} (${record.problem}, ${record.outcome} ${record.finishedAt ?? record.startedAt})`,
    `on ${resource.type} ${resource.id} in ${resource.accountId}/${resource.region}:`,
  ];
  if (isUncertain(record)) {
    lines.push(
      "  This action did not finish: its change may or may not have happened. Undo compares what it would have",
      "  removed with the live state and re-adds only what is actually gone.",
    );
  }
  lines.push(...plan.lines);
  if (plan.writes.length > 0) {
    lines.push("This re-opens what Remedy closed; the Config rule will report it again unless it is exempted.");
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Reading and restoring

/**
 * Reads what undo compares the record with (its resource's undo says what: the group's rules, or the bucket's ACL,
 * ownership controls, policy and Block Public Access with the record's account as ExpectedBucketOwner). Changes
 * nothing.
 */
export async function readLiveState(record: UndoableRecord, clients: UndoClients): Promise<LiveState> {
  return undoFor(record.before.kind).undo.readLive(record, clients);
}

/**
 * Reads the action's record, checks it (checkUndoable: genuine and consistent), reads the live resource and
 * re-adds what the fix removed that is missing there (planUndo). Throws UndoError when it cannot be undone;
 * nothing is changed then.
 */
export async function undoAction(actionId: string, deps: UndoDeps): Promise<UndoResult> {
  let original: LedgerRecord;
  try {
    original = await deps.ledger.read(actionId);
  } catch (error) {
    if (error instanceof LedgerRecordNotFoundError) throw new UndoError(error.message);
    throw error;
  }
  const checked = await checkUndoable(original, deps);
  const { undo } = undoFor(checked.before.kind);
  const plan = planUndo(checked, await readLiveState(checked, deps));
  assertRestorable(plan);

  const now = deps.now();
  const id = (deps.newActionId ?? newActionId)(now);
  const log: Log = {
    debug: (message, ...extra) => deps.log.debug(message, { actionId: id, undoes: actionId }, ...extra),
    info: (message, ...extra) => deps.log.info(message, { actionId: id, undoes: actionId }, ...extra),
    warn: (message, ...extra) => deps.log.warn(message, { actionId: id, undoes: actionId }, ...extra),
    error: (message, ...extra) => deps.log.error(message, { actionId: id, undoes: actionId }, ...extra),
  };
  const base = {
    version: 1 as const,
    actionId: id,
    instructionId: original.instructionId,
    problem: original.problem,
    resource: original.resource,
    ruleId: original.ruleId,
    // The live state undo read and compared with.
    before: plan.before,
    startedAt: now.toISOString(),
    undoes: actionId,
    ...(deps.requestedBy ? { requestedBy: deps.requestedBy } : {}),
  };
  const planned: Change[] = [{ kind: "restored", summary: `undo of ${actionId}` }];
  await deps.ledger.write({ ...base, outcome: "pending", changes: planned, after: null });

  try {
    for (const write of plan.writes) await undo.apply(write, deps, checked, log);
  } catch (error) {
    log.error("undo failed", errorFields(error));
    try {
      await deps.ledger.write({
        ...base,
        outcome: "failed",
        reason: (error as Error).message,
        changes: planned,
        after: null,
        finishedAt: deps.now().toISOString(),
      });
    } catch (ledgerError) {
      log.error("could not record the failed undo", errorFields(ledgerError));
    }
    throw error;
  }

  const outcome = plan.writes.length > 0 ? "fixed" : "skipped";
  const summary = `undo of ${actionId}: ${plan.steps.join("; ") || "nothing to restore"}`;
  await deps.ledger.write({
    ...base,
    outcome,
    ...(outcome === "skipped" ? { reason: `already restored: ${summary}` } : {}),
    changes: outcome === "fixed" ? [{ kind: "restored", summary }] : [],
    after: plan.after,
    finishedAt: deps.now().toISOString(),
  });
  log.info("undo finished", { outcome, steps: plan.steps });
  // Only what this undo wrote: an entry that was back already is not its to keep open.
  const restored =
    outcome === "fixed" ? restoredEntries(checked, plan.before, plan.after) : { entries: [], unnamed: [] };
  return {
    actionId: id,
    undoes: actionId,
    outcome,
    steps: plan.steps,
    restored,
    resource: original.resource,
    problem: original.problem,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The whole undo as every caller runs it (`remedy undo`, a Slack Undo): the undo, then what keeps it so (its temporary
// exemption) and the report that tells Slack. One path, so an undo asked for in Slack is checked, recorded, exempted
// and reported exactly as one run from the CLI.

/** An undo's temporary exemption, as it was recorded (or why there is none). */
export interface UndoExemptionResult {
  /** Absent: no exemption (see `note`); the next detection fixes the entries again. */
  until?: string;
  /** The entries it lists, in the problems' words. */
  entries: string[];
  /** s3://<ledger bucket>/exemptions/… (delete it to end the exemption early). */
  object?: string;
  /** One sentence: what it means, or why there is none. */
  note: string;
}

export interface KeptUndoDeps extends UndoDeps {
  /** Who asks (recorded in the undo's ledger record, its exemption and its report). */
  requestedBy: string;
  /** Where the undo's temporary exemption goes (the ledger bucket), and for how long; 0: none. */
  exemption: { s3: S3Client; bucket: string; forMs: number };
  /** Where the "undone" report goes; a string says why it cannot be sent (a warning, the undo stands). */
  reporter: Reporter | string;
  /** What the caller is warned of (plain text: each caller makes it safe for where it shows it). */
  warn: (message: string) => void;
}

export interface KeptUndo {
  result: UndoResult;
  /** "restored": something was put back; "already-restored": everything was there again. */
  outcome: "restored" | "already-restored";
  exemption?: UndoExemptionResult;
}

/**
 * undoAction, then, when something was put back, its temporary exemption and its "undone" report. After the undo,
 * nothing throws: the exemption and the report are warnings when they fail, saying what that means.
 */
export async function undoAndKeep(actionId: string, deps: KeptUndoDeps): Promise<KeptUndo> {
  const result = await undoAction(actionId, deps);
  if (result.outcome !== "fixed") return { result, outcome: "already-restored" };
  const exemption = await recordUndoExemption(result, deps);
  await reportUndone(result, exemption, deps);
  return { result, outcome: "restored", exemption };
}

/**
 * Records the undo's temporary exemption for exactly the entries it put back (contract/undo-exemption.ts), so the
 * next detection leaves them as restored until it ends.
 */
async function recordUndoExemption(done: UndoResult, deps: KeptUndoDeps): Promise<UndoExemptionResult> {
  const { restored } = done;
  const forMs = deps.exemption.forMs;
  const words = restored.entries.map(({ entry }) => describeMatched(entry));
  for (const what of restored.unnamed) deps.warn(`not exempted (Remedy may fix it again): ${what}`);
  if (forMs === 0) {
    return {
      entries: words,
      note: "No exemption (--exempt-for 0): Remedy fixes this again at its next detection unless the resource is exempted or auto-response is paused.",
    };
  }
  if (restored.entries.length === 0) {
    return { entries: [], note: "No exemption: none of what was put back is an entry Remedy would fix." };
  }
  const at = deps.now();
  const until = new Date(at.getTime() + forMs);
  const { accountId, region, type, id } = done.resource;
  const resource = { accountId, region, type, id };
  const bucket = deps.exemption.bucket;
  try {
    const added = await addUndoExemption(
      deps.exemption.s3,
      bucket,
      {
        resource,
        entries: restored.entries,
        undoActionId: done.actionId,
        undoes: done.undoes,
        by: deps.requestedBy,
        at,
        until,
      },
      at,
    );
    if (added.replacedInvalid) deps.warn(`replaced an exemption object that was not valid: ${added.replacedInvalid}`);
    const object = `s3://${bucket}/${added.key}`;
    return {
      until: until.toISOString(),
      entries: words,
      object,
      note: `Left as restored until ${until.toISOString()}: Remedy will not fix ${words.length === 1 ? "this entry" : `these ${words.length} entries`} again before then. To end it early: remedy exemptions lift ${id} (or delete ${object}).`,
    };
  } catch (error) {
    deps.warn(
      `the undo is done, but its exemption could not be recorded (${describeAwsError(error)}): Remedy may fix it again at its next detection; pause it or exempt the resource`,
    );
    return {
      entries: words,
      object: `s3://${bucket}/${undoExemptionKey(resource)}`,
      note: "No exemption: it could not be recorded; Remedy may fix this again at its next detection.",
    };
  }
}

/** Tells Slack (the report topic) what the undo put back and until when it stays. A failure is a warning. */
async function reportUndone(done: UndoResult, exemption: UndoExemptionResult, deps: KeptUndoDeps): Promise<void> {
  if (typeof deps.reporter === "string") {
    deps.warn(deps.reporter);
    return;
  }
  const reAdded = [...done.restored.entries.map(({ entry }) => describeMatched(entry)), ...done.restored.unnamed];
  try {
    await deps.reporter.report({
      kind: "undone",
      actionId: done.actionId,
      undoes: done.undoes,
      problem: done.problem,
      resource: done.resource,
      reAdded: reAdded.length > 0 ? reAdded : done.steps,
      by: deps.requestedBy,
      ...(exemption.until ? { exemptUntil: exemption.until } : {}),
    });
  } catch (error) {
    deps.warn(`the undo is done, but Slack could not be told (${describeAwsError(error)})`);
  }
}
