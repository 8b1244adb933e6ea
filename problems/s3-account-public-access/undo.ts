// Undoing a fix of the account's Block Public Access: the flags go back exactly as they were before it
// (PutPublicAccessBlock with them; DeletePublicAccessBlock when there was no configuration), but only while the live
// flags are still what Remedy set. Changed since (by anyone) → refused, saying how, and nothing changes; already as
// before → nothing to do. A record is consistent when its one change turned on, for its own account, flags that its
// before-state had off, and (when `fixed`) its after-state is exactly the change's flags.
import {
  DeletePublicAccessBlockCommand as DeleteAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
} from "@aws-sdk/client-s3-control";
import { canonicalJson } from "../../contract/canonical-json.ts";
import type { Change } from "../../contract/report.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "../../detection/types.ts";
import { S3ControlAtEndpoint } from "../../platform/clients.ts";
import {
  inconsistent,
  onlyChange,
  type ResourcePlan,
  type ResourceUndo,
  type UndoableRecordOf,
  UndoError,
} from "../undo-kit.ts";
import { listText } from "../words.ts";
import type { AccountBlockState } from "./contract.ts";
import { readAccountBlockState } from "./observe.ts";
import { describeAccountFlags, flagsTurnedOn } from "./words.ts";

type AccountRecord = UndoableRecordOf<"s3-account-public-access-block">;
type Enabled = Extract<Change, { kind: "account-public-access-block-enabled" }>;

/** The account's flags as S3 Control answers undo's read now. */
export interface AccountLive {
  kind: "s3-account-public-access-block";
  state: AccountBlockState;
}

/** The one call that puts the flags back. */
export type AccountWrite =
  | { kind: "put-block"; accountId: string; block: PublicAccessBlockFlags }
  | { kind: "delete-block"; accountId: string };

/** What an undo put back (`remedy undo --json` reAdded): the flags it turned off again. */
export interface AccountReAdded {
  kind: "account-block-public-access-off";
  accountId: string;
  flags: string[];
}

/** What a configuration does: each flag on or off (absent and none configured are off, as S3 treats them). */
function effect(block: PublicAccessBlockFlags | null): string {
  return BLOCK_PUBLIC_ACCESS_FLAGS.map((flag) => `${flag}=${block?.[flag] === true}`).join(",");
}

function theChange(record: AccountRecord): Enabled {
  return record.changes[0] as Enabled;
}

function assertAccountConsistent(record: AccountRecord): void {
  const { before, resource } = record;
  if (before.accountId !== resource.id || resource.id !== resource.accountId) {
    throw inconsistent(
      record,
      `its before-state is for account ${before.accountId}, its resource is ${resource.id} in account ${resource.accountId}`,
    );
  }
  const change = onlyChange(record, "account-public-access-block-enabled");
  if (change.accountId !== before.accountId) {
    throw inconsistent(record, `its change is for account ${change.accountId}, not ${before.accountId}`);
  }
  if (canonicalJson(change.before) !== canonicalJson(before.publicAccessBlock)) {
    throw inconsistent(record, "its change's before-flags are not its before-state's");
  }
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) {
    if (change.before?.[flag] === true && change.after[flag] !== true) {
      throw inconsistent(record, `its change turned ${flag} off; a fix only turns flags on`);
    }
  }
  if (flagsTurnedOn(change).length === 0) throw inconsistent(record, "its change turned no flag on");
  const { after } = record;
  if (
    record.outcome === "fixed" &&
    (after?.kind !== "s3-account-public-access-block" ||
      after.accountId !== before.accountId ||
      effect(after.publicAccessBlock) !== effect(change.after))
  ) {
    throw inconsistent(record, "its after-state is not the flags its change set (before + changes ≠ after)");
  }
}

function planAccount(record: AccountRecord, live: AccountLive): ResourcePlan<AccountWrite> {
  const { before } = record;
  const { accountId } = before;
  if (live.kind !== "s3-account-public-access-block" || live.state.accountId !== accountId) {
    throw new Error(`planUndo: the live state given is not account ${accountId}'s Block Public Access`);
  }
  const change = theChange(record);
  const now = live.state.publicAccessBlock;
  const unchanged = (lines: string[], steps: string[], refused: string[] = []): ResourcePlan<AccountWrite> => ({
    lines,
    steps,
    refused,
    writes: [],
    before: live.state,
    after: live.state,
  });
  if (effect(now) === effect(before.publicAccessBlock)) {
    const line = `nothing to turn off: account ${accountId}'s Block Public Access is as it was before the fix again (${describeAccountFlags(now)})`;
    return unchanged([`  ${line}`], [line]);
  }
  if (effect(now) !== effect(change.after)) {
    const sentence = `account ${accountId}'s Block Public Access changed since Remedy set it: it is ${describeAccountFlags(now)}, Remedy left ${describeAccountFlags(change.after)}; its flags are left as they are (set them by hand, or undo again once they are back as Remedy left them).`;
    return unchanged([`  conflict: ${sentence}`], [`conflict: ${sentence}`], [sentence]);
  }
  const turnOff = flagsTurnedOn(change);
  const previous = before.publicAccessBlock;
  const write: AccountWrite =
    previous === null ? { kind: "delete-block", accountId } : { kind: "put-block", accountId, block: { ...previous } };
  return {
    lines:
      previous === null
        ? [
            `  remove account ${accountId}'s Block Public Access configuration: it had none before the fix (${listText(turnOff)} off again)`,
          ]
        : [
            `  set account ${accountId}'s Block Public Access back to ${describeAccountFlags(previous)}`,
            `  (${listText(turnOff)} off again; every other flag as it is now)`,
          ],
    steps:
      previous === null
        ? [`Block Public Access configuration of account ${accountId} removed (there was none before the fix)`]
        : turnOff.map((flag) => `turned off again: ${flag}`),
    refused: [],
    writes: [write],
    before: live.state,
    after: { ...live.state, publicAccessBlock: previous === null ? null : { ...previous } },
  };
}

/** The undo of the account's Block Public Access (problems/undo.ts loads it as this folder's `undo`). */
export const undo: ResourceUndo<"s3-account-public-access-block", AccountLive, AccountWrite, AccountReAdded> = {
  kind: "s3-account-public-access-block",
  what: "the account's Block Public Access",
  // S3 Control's DeletePublicAccessBlock is authorised by s3:PutAccountPublicAccessBlock (there is no Delete action).
  permissions: {
    GetAccountPublicAccessBlockCommand: "s3:GetAccountPublicAccessBlock",
    PutAccountPublicAccessBlockCommand: "s3:PutAccountPublicAccessBlock",
    DeleteAccountPublicAccessBlockCommand: "s3:PutAccountPublicAccessBlock",
  },
  impliedActions: [],

  async readLive(record, clients) {
    if (record.before.accountId !== record.resource.accountId) {
      throw new UndoError(`${record.actionId} is not undone: it names another account's Block Public Access`);
    }
    return {
      kind: "s3-account-public-access-block",
      state: await readAccountBlockState(clients.client(S3ControlAtEndpoint), record.before.accountId),
    };
  },

  assertConsistent: assertAccountConsistent,

  plan: planAccount,

  async apply(write, clients, _record, log) {
    const s3control = clients.client(S3ControlAtEndpoint);
    if (write.kind === "put-block") {
      await s3control.send(
        new PutAccountPublicAccessBlockCommand({
          AccountId: write.accountId,
          PublicAccessBlockConfiguration: write.block,
        }),
      );
      log.info("put the account's Block Public Access back", { accountId: write.accountId });
      return;
    }
    await s3control.send(new DeleteAccountPublicAccessBlockCommand({ AccountId: write.accountId }));
    log.info("removed the account's Block Public Access configuration", { accountId: write.accountId });
  },

  reAdded(before, after) {
    const flags = BLOCK_PUBLIC_ACCESS_FLAGS.filter(
      (flag) => before.publicAccessBlock?.[flag] === true && after.publicAccessBlock?.[flag] !== true,
    );
    return flags.length > 0 ? [{ kind: "account-block-public-access-off", accountId: after.accountId, flags }] : [];
  },

  // Each flag turned off again is this problem's entry once more: undo's temporary exemption lists exactly those.
  restoredEntries: (added) =>
    added.flags.flatMap((flag) =>
      (BLOCK_PUBLIC_ACCESS_FLAGS as readonly string[]).includes(flag)
        ? [
            {
              problem: "s3-account-public-access" as const,
              entry: { kind: "s3-account-bpa-flag" as const, flag: flag as (typeof BLOCK_PUBLIC_ACCESS_FLAGS)[number] },
            },
          ]
        : [],
    ),
};
