// The `remedy exemptions` command: list undo's temporary exemptions and the exemptions granted in Slack (the
// allowlist's Slack part; exemptions-view.ts words both), or lift an undo's early (delete its object: Remedy fixes the
// entries again at its next detection). The objects are claims (contract/undo-exemption.ts,
// platform/slack-allowlist.ts): what is not valid exempts nothing and is listed with why.
import { type UndoExemptionRecord, undoExemptionKey } from "../contract/undo-exemption.ts";
import { removeSlackAllowlistEntry } from "../platform/slack-allowlist.ts";
import { readSlackAllowlist, SLACK_ALLOWLIST_KEY } from "../platform/slack-allowlist-read.ts";
import { liftUndoExemption, listUndoExemptions } from "../platform/undo-exemptions-store.ts";
import { actingIdentity, CliError, EXIT_USAGE } from "./command.ts";
import type { CliDeps, Io } from "./deps.ts";
import {
  type SlackExemptionsView,
  slackExemptionsText,
  slackExemptionsView,
  type UndoExemptionsView,
  undoExemptionsText,
  undoExemptionsView,
} from "./exemptions-view.ts";
import { requireRefs, type StackRefs } from "./stack.ts";
import { terminalJson, terminalText } from "./terminal.ts";

export * from "./exemptions-view.ts";

/** Reads every exemption object in the ledger bucket. */
export async function readUndoExemptions(deps: CliDeps, bucket: string): Promise<UndoExemptionsView> {
  const listing = await listUndoExemptions(deps.s3(), bucket);
  return undoExemptionsView(listing.records, deps.now(), listing.invalid);
}

// ---------------------------------------------------------------------------------------------------------------
// `remedy exemptions [list]` and `remedy exemptions lift RESOURCE`

/** Reads the exemptions granted in Slack (the allowlist's Slack part in the ledger bucket). */
export async function readSlackExemptions(deps: CliDeps, bucket: string): Promise<SlackExemptionsView> {
  return slackExemptionsView(await readSlackAllowlist(deps.s3(), bucket), deps.now());
}

/**
 * `remedy exemptions`: every entry left as restored, every exemption granted in Slack, and whatever of either exempts
 * nothing. (`records`, undo's, is what an offline plan takes with --undo-exemptions FILE.)
 */
export async function exemptionsListCommand(
  refs: StackRefs,
  options: { json: boolean },
  deps: CliDeps,
  io: Io,
): Promise<UndoExemptionsView & { records: UndoExemptionRecord[]; slack: SlackExemptionsView }> {
  const { ledgerBucket } = requireRefs(refs, "ledgerBucket");
  const listing = await listUndoExemptions(deps.s3(), ledgerBucket);
  const view = undoExemptionsView(listing.records, deps.now(), listing.invalid);
  const slack = await readSlackExemptions(deps, ledgerBucket);
  const answer = { ...view, records: listing.records, slack };
  if (options.json) io.out(`${terminalJson(answer)}\n`);
  else
    io.out(`${[...undoExemptionsText(view, io.columns), "", ...slackExemptionsText(slack, io.columns)].join("\n")}\n`);
  return answer;
}

export interface LiftTarget {
  resourceId: string;
  /** Needed only when the id is exempted in several accounts or regions (organisation mode). */
  accountId?: string;
  region?: string;
}

/**
 * `remedy exemptions lift RESOURCE`: deletes the resource's exemption object, so Remedy fixes what the undo put back
 * at its next detection. The resource is found among the stored objects by its id (and account or region when the
 * id alone names several).
 */
export async function exemptionsLiftCommand(
  refs: StackRefs,
  target: LiftTarget,
  options: { json: boolean },
  deps: CliDeps,
  io: Io,
): Promise<{ lifted: boolean; resource?: UndoExemptionRecord["resource"]; by: string; object?: string }> {
  const { ledgerBucket } = requireRefs(refs, "ledgerBucket");
  // A change to what Remedy does: the caller's identity, and credentials for another account refused, first.
  const by = await actingIdentity(refs, deps);
  const listing = await listUndoExemptions(deps.s3(), ledgerBucket);
  const matches = listing.records.filter(
    ({ resource }) =>
      resource.id === target.resourceId &&
      (target.accountId === undefined || resource.accountId === target.accountId) &&
      (target.region === undefined || resource.region === target.region),
  );
  const shownId = terminalText(target.resourceId);
  if (matches.length === 0) {
    const answer = { lifted: false, by };
    if (options.json) io.out(`${terminalJson(answer)}\n`);
    else io.out(`No undo exemption on ${shownId}: nothing to lift.\n`);
    return answer;
  }
  if (matches.length > 1) {
    const where = matches.map(({ resource }) => `${resource.accountId}/${resource.region}`).join(", ");
    throw new CliError(
      `${shownId} is exempted in ${where}: say which with --account ID and --resource-region REGION`,
      EXIT_USAGE,
    );
  }
  const resource = matches[0]!.resource;
  const lifted = await liftUndoExemption(deps.s3(), ledgerBucket, resource);
  const object = `s3://${ledgerBucket}/${undoExemptionKey(resource)}`;
  const answer = { lifted, resource, by, object };
  if (options.json) io.out(`${terminalJson(answer)}\n`);
  else {
    io.out(
      lifted
        ? `Lifted the undo exemption on ${shownId} (${terminalText(object)}): Remedy fixes what was put back at its next detection.\n`
        : `No undo exemption on ${shownId} any more: nothing to lift.\n`,
    );
  }
  return answer;
}

/**
 * `remedy exemptions revoke DECISION`: ends an exemption granted in Slack (the entry of the allowlist's Slack part that
 * the decision wrote, by its decision id as `remedy exemptions` lists it), so Remedy fixes the resource at its next
 * detection. Says whether there was one.
 */
export async function exemptionsRevokeCommand(
  refs: StackRefs,
  decisionId: string,
  options: { json: boolean },
  deps: CliDeps,
  io: Io,
): Promise<{ revoked: boolean; decisionId: string; by: string; object: string }> {
  const { ledgerBucket } = requireRefs(refs, "ledgerBucket");
  // A change to what Remedy does: the caller's identity, and credentials for another account refused, first.
  const by = await actingIdentity(refs, deps);
  const revoked = await removeSlackAllowlistEntry(deps.s3(), ledgerBucket, decisionId);
  const object = `s3://${ledgerBucket}/${SLACK_ALLOWLIST_KEY}`;
  const answer = { revoked, decisionId, by, object };
  const shown = terminalText(decisionId);
  if (options.json) io.out(`${terminalJson(answer)}\n`);
  else {
    io.out(
      revoked
        ? `Revoked the exemption granted in Slack by decision ${shown} (${terminalText(object)}): Remedy fixes the resource at its next detection.\n`
        : `No exemption granted in Slack by decision ${shown}: nothing to revoke.\n`,
    );
  }
  return answer;
}
