// How a snapshot's public permission and its removal are worded: one wording for the CLI (plan, peek, status), the
// remediation's logs and undo, and Slack's for the removal. Pure: no AWS SDK, no rule code.
import type { Change } from "../../contract/report.ts";
import type { MatchedEntry } from "../../detection/types.ts";
import type { ChangeWords, ProblemWords, Tense } from "../types.ts";
import type { CreateVolumePermissionState } from "./contract.ts";

/** The public group, in words: what it lets in. */
export const PUBLIC_PERMISSION = "createVolumePermission group all (every AWS account)";

/** One entry of a permission list as EC2 returns it: "group all (every AWS account)", "account 111122223333". */
export function describePermission(permission: CreateVolumePermissionState): string {
  if (permission.Group !== undefined) {
    return permission.Group === "all" ? "group all (every AWS account)" : `group ${permission.Group}`;
  }
  return `account ${permission.UserId ?? "?"}`;
}

/** Who a permission list shares the snapshot with: "every AWS account and 2 accounts by id", "nobody". */
export function describePermissions(permissions: readonly CreateVolumePermissionState[]): string {
  if (permissions.length === 0) return "nobody (private)";
  return permissions.map(describePermission).join(", ");
}

type Removed = Extract<Change, { kind: "ebs-snapshot-permissions-removed" }>;

const VERB: Readonly<Record<Tense, string>> = {
  done: "removed public sharing",
  planned: "remove public sharing",
};

/** The recorded removal: "removed public sharing createVolumePermission group all (every AWS account)". */
function describeRemoved(change: Removed, tense: Tense): string {
  return change.groups.map(() => `${VERB[tense]} ${PUBLIC_PERMISSION}`).join("; ");
}

const removedWords: ChangeWords<"ebs-snapshot-permissions-removed"> = {
  kind: "ebs-snapshot-permissions-removed",
  change: describeRemoved,
  slack: {
    phrase: () => "removed public sharing (group all); accounts it is shared with by id keep their access",
    section: (change, { t, code, text }) => ({
      title: `Removed public sharing of ${change.snapshotId}`,
      note: text("Only the group all was removed: every account shared with by id keeps its access."),
      items: change.groups.map(
        (group) => t`${code(`createVolumePermission group ${group}`)}: any AWS account could create a volume from it`,
      ),
    }),
  },
};

export const ebsSnapshotPublicWords: ProblemWords = {
  verb: VERB,
  entry: (_entry: Extract<MatchedEntry, { kind: "ebs-snapshot-permission" }>) => PUBLIC_PERMISSION,
  changes: removedWords,
};
