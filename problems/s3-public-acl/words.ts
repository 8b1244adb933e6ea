// How an ACL grant and its removal are worded: one wording for the CLI (plan, peek, status), the logs and undo, and
// Slack's for the removal. Pure: no AWS SDK, no rule code.
import type { Change } from "../../contract/report.ts";
import type { AclGrant, MatchedEntry } from "../../detection/types.ts";
import { blockPublicAccessWords } from "../s3-public/words.ts";
import type { ChangeWords, ProblemWords, SlackKit, Tense } from "../types.ts";

const GROUP_NAMES: Record<string, string> = {
  "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
  "http://acs.amazonaws.com/groups/s3/LogDelivery": "LogDelivery",
};

/** A matched grant: "AllUsers READ", "canonical user ops WRITE". */
export function describeGrant(grant: AclGrant): string {
  const grantee = grant.grantee;
  const who =
    grantee.type === "Group"
      ? (GROUP_NAMES[grantee.uri] ?? grantee.uri)
      : grantee.type === "CanonicalUser"
        ? `canonical user ${grantee.displayName ?? grantee.id.slice(0, 12)}`
        : grantee.emailAddress;
  return `${who} ${grant.permission}`;
}

type Removed = Extract<Change, { kind: "acl-grants-removed" }>;
type RecordedGrant = Removed["grants"][number];

/** A grant as a recorded change holds it (its grantee any record): in the same words as a matched grant. */
function describeRecordedGrant(grant: RecordedGrant): string {
  const grantee = grant.grantee;
  const text = (key: string) => {
    const value = grantee[key];
    return typeof value === "string" && value !== "" ? value : undefined;
  };
  const uri = text("uri");
  const who =
    uri !== undefined
      ? (GROUP_NAMES[uri] ?? uri)
      : text("id") !== undefined
        ? `canonical user ${text("displayName") ?? text("id")!.slice(0, 12)}`
        : (text("emailAddress") ?? "?");
  return `${who} ${grant.permission}`;
}

/**
 * How undo names a grant of the change it undoes, before and after checking that change (so for any grantee a record
 * may hold): the last part of the grantee's first name that is set, whole (an id is not shortened), and the
 * permission: "AllUsers READ", "attacker-canonical-id FULL_CONTROL".
 */
export function describeUndoneGrant(grant: RecordedGrant): string {
  const { grantee } = grant;
  const who = [grantee.uri, grantee.displayName, grantee.id, grantee.emailAddress].find(
    (value): value is string => typeof value === "string" && value !== "",
  );
  return `${who?.split("/").pop() ?? "?"} ${grant.permission}`;
}

const VERB: Readonly<Record<Tense, string>> = { done: "removed ACL grant", planned: "remove ACL grant" };

/** The recorded removal: "removed ACL grant AllUsers READ; removed ACL grant …". */
function describeRemoved(change: Removed, tense: Tense): string {
  return change.grants.map((grant) => `${VERB[tense]} ${describeRecordedGrant(grant)}`).join("; ");
}

/** Who a grantee is, for Slack: what a public group lets in, a canonical user's whole id (cut only when huge). */
function granteeName(grantee: RecordedGrant["grantee"], cut: SlackKit<unknown>["cut"]): string {
  const field = (name: string) => (typeof grantee[name] === "string" ? (grantee[name] as string) : undefined);
  const uri = field("uri") ?? field("URI");
  if (uri) {
    const group = uri.split("/").pop() ?? uri;
    if (group === "AllUsers") return "AllUsers (everyone)";
    if (group === "AuthenticatedUsers") return "AuthenticatedUsers (any AWS account)";
    return group;
  }
  const id = field("id") ?? field("ID");
  const name = field("displayName") ?? field("DisplayName");
  if (id) return name ? `${name} (${cut(id, 80)})` : `canonical user ${cut(id, 80)}`;
  const email = field("emailAddress");
  if (email) return email;
  return cut(JSON.stringify(grantee), 200);
}

const removedWords: ChangeWords<"acl-grants-removed"> = {
  kind: "acl-grants-removed",
  change: describeRemoved,
  slack: {
    phrase: (change, { plural }) => `removed ${plural(change.grants.length, "public ACL grant")}`,
    section: (change, { t, code, bold, cut, plural }) => ({
      title: `Removed ${plural(change.grants.length, "ACL grant")} on ${change.bucket}`,
      items: change.grants.map((grant) => t`${code(grant.permission)} to ${bold(granteeName(grant.grantee, cut))}`),
    }),
  },
};

export const s3PublicAclWords: ProblemWords = {
  verb: VERB,
  entry: (entry: Extract<MatchedEntry, { kind: "acl-grant" }>) => describeGrant(entry.grant),
  changes: removedWords,
  otherChanges: [blockPublicAccessWords],
};
