// `remedy undo ACTION_ID`: checks the record (its MAC, then its consistency), reads the live resource, shows exactly
// what will be re-added to it (what Remedy removed and is still missing; everything changed since stays), asks
// (unless --yes), re-adds it and records the undo as an action of its own. A record that is not genuine or not
// consistent is refused before anything is read, shown or asked; one whose entries all conflict with the live state
// is refused after showing why, before asking. With --json, what is shown and asked goes to stderr and stdout
// carries one result object.

import { EC2Client } from "@aws-sdk/client-ec2";
import { S3Client } from "@aws-sdk/client-s3";
import { ACCOUNT_ID_PATTERN } from "../contract/ids.ts";
import {
  InvalidLedgerRecordError,
  LedgerRecordNotFoundError,
  type ResourceState,
  readLedgerRecord,
  s3Ledger,
} from "../contract/ledger.ts";
import { snsReporter } from "../contract/report.ts";
import { DEFAULT_UNDO_EXEMPTION_MS } from "../contract/undo-exemption.ts";
import { hasErrorCode } from "../platform/aws-errors.ts";
import { memberClient, stsClient } from "../platform/clients.ts";
import type { Log } from "../platform/logging.ts";
import { assumeMemberRole, type MemberSession, memberRoleArn, sessionNameFor } from "../platform/member-roles.ts";
import type { UndoClients } from "../problems/undo-kit.ts";
import { outsideDeployment } from "./accounts.ts";
import { actingIdentity, CliError, EXIT_FAILED } from "./command.ts";
import type { CliDeps, Io } from "./deps.ts";
import { requireRefs, type StackRefs } from "./stack.ts";
import { terminalJson, terminalText } from "./terminal.ts";
import {
  assertRestorable,
  checkUndoable,
  describeUndo,
  kmsRecordVerifier,
  planUndo,
  type ReAdded,
  type RecordIntegrityCheck,
  readLiveState,
  type UndoableRecord,
  UndoError,
  type UndoExemptionResult,
  type UndoPlan,
  undoAndKeep,
  undoFor,
} from "./undo-runner.ts";

export type UndoOutcome = "restored" | "already-restored" | "declined";

/**
 * What one undo put back on the resource, read from the undo's own ledger record (its before and after): each
 * resource's undo says what (its `reAdded`, e.g. problems/sg-open-ingress/undo.ts SgRulesReAdded).
 */
export type { ReAdded };

/** What `remedy undo --json` prints (and undoCommand returns). */
export interface UndoCommandResult {
  /** "refused": the action cannot be undone (see `reason`); nothing was changed. */
  outcome: UndoOutcome | "refused";
  /** The action undone. */
  undoes: string;
  /** The undo's own action in the ledger (absent when nothing was done). */
  actionId?: string;
  /** Who ran it: the caller's AWS identity (absent when refused before it was asked). */
  by?: string;
  /** One line per entry: re-added, already present, or not re-added (and why). */
  steps: string[];
  reAdded: ReAdded[];
  reason?: string;
  /**
   * What keeps the entries put back as restored (absent when nothing was put back): until when, which entries (in
   * the problems' words), and where it is stored; or, without `until`, why there is none.
   */
  exemption?: UndoExemptionResult;
}

/** An undo's temporary exemption, as `remedy undo` reports it. */
export type { UndoExemptionResult };

/** What `remedy undo` is asked to do besides the undo: how long to leave what it puts back as restored. */
export interface UndoOptions {
  yes: boolean;
  json?: boolean;
  /** Milliseconds (contract/undo-exemption.ts parseExemptionLength); 0: no exemption. Default 24 h. */
  exemptForMs?: number;
}

/** The CLI's log: progress lines on stderr only on a terminal, warnings and errors always; never in the answer. */
function cliLog(io: Io): Log {
  const line = (level: string) => (message: string) => io.err(`${level}${terminalText(message)}\n`);
  return {
    debug() {},
    info: io.interactive ? line("") : () => {},
    warn: line("warning: "),
    error: line("error: "),
  };
}

/**
 * What describeUndo says, made inert: each of the plan's lines on its own (a line break in a rule description or a
 * grantee's name stays inside its line, escaped), then every line of the rest.
 */
const shownUndo = (plan: UndoPlan) =>
  describeUndo({ ...plan, lines: plan.lines.map(terminalText) })
    .split("\n")
    .map(terminalText)
    .join("\n");

/** An answer that says the action cannot be undone, as opposed to a failure while trying. */
const isRefusal = (error: unknown) =>
  error instanceof UndoError || error instanceof LedgerRecordNotFoundError || error instanceof InvalidLedgerRecordError;

export async function undoCommand(
  refs: StackRefs,
  actionId: string,
  options: UndoOptions,
  deps: CliDeps,
  io: Io,
): Promise<UndoCommandResult> {
  const json = options.json === true;
  const exemptForMs = options.exemptForMs ?? DEFAULT_UNDO_EXEMPTION_MS;
  try {
    return await undo(refs, actionId, { yes: options.yes, json, exemptForMs }, deps, io);
  } catch (error) {
    // Refused: still one JSON answer for scripts; the sentence goes to stderr (remedy.ts) and the exit code is 1.
    if (json && isRefusal(error)) {
      const refused: UndoCommandResult = {
        outcome: "refused",
        undoes: actionId,
        steps: [],
        reAdded: [],
        reason: (error as Error).message,
      };
      io.out(`${terminalJson(refused)}\n`);
    }
    throw error;
  }
}

async function undo(
  refs: StackRefs,
  actionId: string,
  options: { yes: boolean; json: boolean; exemptForMs: number },
  deps: CliDeps,
  io: Io,
): Promise<UndoCommandResult> {
  // The key comes from the stack, never from the record: a record signed with any other key is refused.
  const { ledgerBucket, ledgerMacKeyId } = requireRefs(refs, "ledgerBucket", "ledgerMacKeyId");
  // Who acts, and credentials for another account refused, before anything is read or changed.
  const by = await actingIdentity(refs, deps);
  // With --json, stdout carries the result alone: what is shown before the question goes to stderr.
  const show = (text: string) => (options.json ? io.err(text) : io.out(text));
  const config = { bucket: ledgerBucket };
  const integrity: RecordIntegrityCheck = {
    verifier: kmsRecordVerifier(deps.kms()),
    macKeyId: ledgerMacKeyId,
  };
  const record = await readLedgerRecord(deps.s3(), config, actionId);
  // Refuses (UndoError) what cannot be undone, is not genuine or is inconsistent, before anything is asked.
  const checked = await checkUndoable(record, integrity);
  // The resource's clients: this account's, or (organisation mode) the record's member account's, through its undo
  // role. The ledger stays the hub's.
  const member = await resourceClients(refs, checked, by, deps);
  let clients: UndoClients = member?.clients ?? {
    ec2: deps.ec2(),
    s3: deps.s3(),
    client: deps.client ?? ((Client) => new Client({})),
  };
  // Only reads: what is shown is what is missing live now (undoAction reads again just before it writes).
  const plan = planUndo(checked, await readLiveState(checked, clients));
  show(`${shownUndo(plan)}\n`);
  if (member) show(`${terminalText(member.acting)}\n`);
  assertRestorable(plan);
  show(`The record's integrity MAC verifies with KMS key ${terminalText(record.integrity?.keyId ?? "?")}.\n`);
  show(`${exemptionPromise(options.exemptForMs)}\n`);
  if (!options.yes && !(await deps.confirm("Put this back?"))) {
    const declined: UndoCommandResult = { outcome: "declined", undoes: actionId, by, steps: [], reAdded: [] };
    if (options.json) {
      io.err("Nothing was changed.\n");
      io.out(`${terminalJson(declined)}\n`);
    } else io.out("Nothing was changed.\n");
    return declined;
  }
  // The member session lasts 15 minutes: a question left open most of that gets a fresh one for the writes.
  if (member?.expiresAt && member.expiresAt.getTime() - deps.now().getTime() < SESSION_MARGIN_MS) {
    clients = (await resourceClients(refs, checked, by, deps))?.clients ?? clients;
  }
  // The shared undo (cli/undo-runner.ts undoAndKeep): the same checks, ledger, exemption and report as a Slack Undo.
  const kept = await undoAndKeep(actionId, {
    ...clients,
    ledger: s3Ledger(deps.s3(), config, deps.now),
    ...integrity,
    now: deps.now,
    log: cliLog(io),
    requestedBy: by,
    exemption: { s3: deps.s3(), bucket: ledgerBucket, forMs: options.exemptForMs },
    reporter:
      refs.reportTopicArn && deps.sns
        ? snsReporter(deps.sns(), refs.reportTopicArn, deps.now)
        : "the stack's report topic is not in its outputs (report_topic_arn): Slack is not told of this undo",
    warn: (message) => io.err(`warning: ${terminalText(message)}\n`),
  });
  const { result, outcome, exemption } = kept;
  const answer: UndoCommandResult = {
    outcome,
    undoes: actionId,
    actionId: result.actionId,
    by,
    steps: result.steps,
    reAdded: [],
    ...(exemption ? { exemption } : {}),
  };
  if (options.json) {
    answer.reAdded = await recordedReAdded(deps, config, result.actionId, io, () =>
      reAddedBetween(plan.before, plan.after),
    );
    io.out(`${terminalJson(answer)}\n`);
    return answer;
  }
  for (const step of result.steps) io.out(`  ${terminalText(step)}\n`);
  io.out(
    outcome === "restored"
      ? `Restored. The undo is recorded as ${result.actionId}.\n`
      : `Everything Remedy removed was already there again; recorded as ${result.actionId}.\n`,
  );
  if (exemption) io.out(`${terminalText(exemption.note)}\n`);
  return answer;
}

/** What undo says before asking, about what happens to the hole it re-opens. */
function exemptionPromise(exemptForMs: number): string {
  if (exemptForMs === 0) {
    return (
      "No exemption (--exempt-for 0): Remedy will see this hole again at its next evaluation and fix it again unless\n" +
      'the resource is exempted (tag "remedy:exempt" or the allowlist) or auto-response is paused.'
    );
  }
  return (
    `Remedy will leave exactly what is put back as it is for ${lengthText(exemptForMs)} (--exempt-for), then fix it again\n` +
    'unless the resource is exempted (tag "remedy:exempt" or the allowlist) or auto-response is paused.'
  );
}

/** "24h", "90m", "7d": as --exempt-for takes it (days from two days up, the way people say them). */
export function lengthText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % 1_440 === 0 && minutes >= 2_880) return `${minutes / 1_440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/** A member session with less left than this when the writes start is assumed again (the writes take seconds). */
const SESSION_MARGIN_MS = 2 * 60_000;

/** The member role undo assumes (organisation mode): remedy-member-undo, assumable by operators only. */
const UNDO_ROLE = { kind: "undo" } as const;

/** The partition of an ARN ("aws", "aws-cn", "aws-us-gov"), if `text` is one. */
export function partitionOf(text: string | undefined): string | undefined {
  return text === undefined ? undefined : /^arn:(aws[a-z-]*):/.exec(text)?.[1];
}

/**
 * Organisation mode: clients acting in the record's account and region, with the credentials of that account's
 * `remedy-member-undo` role, assumed with the caller's own credentials (session "undo-<action id>", the stack's
 * ExternalId when its settings have one), so the member account's CloudTrail names the undo behind the change. The
 * record is genuine (its MAC verified) but still only a claim about where: an account or region the stack does not
 * act in is refused (UndoError) before anything is assumed. Undefined for a single-account stack: its own clients.
 */
async function resourceClients(
  refs: StackRefs,
  record: UndoableRecord,
  by: string,
  deps: CliDeps,
): Promise<{ clients: UndoClients; acting: string; expiresAt?: Date } | undefined> {
  const organization = refs.organization;
  if (!organization) return undefined;
  const { accountId, region } = record.resource;
  if (!ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new UndoError(
      `${record.actionId} names "${accountId}" as its account, which is not an account id; it is not undone`,
    );
  }
  const outside = outsideDeployment({ accountId, region }, organization);
  if (outside) throw new UndoError(`${record.actionId} is not undone: ${outside}`);
  const session: MemberSession = {
    partition: partitionOf(by) ?? partitionOf(refs.ledgerMacKeyId) ?? "aws",
    accountId,
    role: UNDO_ROLE,
    sessionName: `undo-${record.actionId}`,
    ...(organization.settings?.externalId ? { externalId: organization.settings.externalId } : {}),
  };
  const roleArn = memberRoleArn(session.partition, accountId, UNDO_ROLE);
  let credentials: Awaited<ReturnType<typeof assumeMemberRole>>;
  try {
    credentials = await assumeMemberRole(deps.sts?.() ?? stsClient(), session);
  } catch (error) {
    if (hasErrorCode(error, "AccessDenied", "AccessDeniedException")) {
      throw new CliError(
        `cannot assume ${roleArn}: the member undo role is missing in account ${accountId}, or its trust does not list you (${by}) among the operators who may undo; nothing was changed.`,
        EXIT_FAILED,
      );
    }
    throw error;
  }
  const target = { region, credentials };
  const given = deps.memberClients?.(target);
  const clients: UndoClients = {
    ec2: given?.ec2 ?? memberClient(EC2Client, target),
    s3: given?.s3 ?? memberClient(S3Client, target),
    client: given?.client ?? ((Client) => memberClient(Client, target)),
  };
  return {
    clients,
    acting: `Acting in account ${accountId} (${region}) as ${roleArn}, session ${sessionNameFor(session.sessionName)}.`,
    ...(credentials.expiration ? { expiresAt: credentials.expiration } : {}),
  };
}

/**
 * What the undo re-added, from its own ledger record (exactly the before and after undoAction compared and wrote).
 * If that record cannot be read back, what was planned before asking is given instead, with a warning.
 */
async function recordedReAdded(
  deps: CliDeps,
  config: { bucket: string },
  undoId: string,
  io: Io,
  planned: () => ReAdded[],
): Promise<ReAdded[]> {
  try {
    const record = await readLedgerRecord(deps.s3(), config, undoId);
    if (record.before && record.after) return reAddedBetween(record.before, record.after);
    throw new Error(`its record ${undoId} holds no before- and after-state`);
  } catch (error) {
    io.err(
      `warning: could not read the undo's record back (${terminalText((error as Error).message)}): "reAdded" is what was shown before asking\n`,
    );
    return planned();
  }
}

/**
 * What is in `after` and was not in `before` (the rules, grants and statements added, the flags turned off), as the
 * resource's undo says; none when they are states of different kinds.
 */
export function reAddedBetween(before: ResourceState, after: ResourceState): ReAdded[] {
  if (before.kind !== after.kind) return [];
  return undoFor(after.kind).undo.reAdded(before, after);
}
