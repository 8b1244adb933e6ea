// Human words for matched entries, the actions Remedy takes on them and the changes it recorded; one wording
// everywhere (plan, peek, status, logs), so what an operator reviews is what later happens.
import { PROBLEM_SPECS } from "../problems/index.ts";
import type { BlockPublicAccessFlag } from "../problems/types.ts";
import {
  type AclGrant,
  BLOCK_PUBLIC_ACCESS_FLAGS,
  type MatchedEntry,
  type Problem,
  type SgRuleEntry,
} from "../rules/types.ts";
import type { Change } from "./report.ts";

export type S3FixStrategy = "surgical" | "block-public-access";

const GROUP_NAMES: Record<string, string> = {
  "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
  "http://acs.amazonaws.com/groups/s3/LogDelivery": "LogDelivery",
};

const PROTOCOL_NUMBERS: Readonly<Record<string, string>> = { "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6" };

/**
 * Protocol and ports of a security-group rule, one wording everywhere (CLI, Slack, undo): "tcp 22", "udp 1000-2000",
 * "tcp all ports", "icmp type 8 code 0", "icmp all types", "all traffic", "protocol 47". Takes the API's and Config's
 * protocol numbers as well as names; a missing port (the API omits them for all traffic) is -1.
 */
export function describePorts(rule: { ipProtocol: string; fromPort?: number; toPort?: number }): string {
  const name = rule.ipProtocol.toLowerCase();
  const protocol = Object.hasOwn(PROTOCOL_NUMBERS, name) ? PROTOCOL_NUMBERS[name]! : name;
  const from = rule.fromPort ?? -1;
  const to = rule.toPort ?? -1;
  if (protocol === "-1" || protocol === "all") return "all traffic";
  if (protocol === "icmp" || protocol === "icmpv6") {
    if (from === -1) return `${protocol} all types`;
    return `${protocol} type ${from}${to === -1 ? "" : ` code ${to}`}`;
  }
  if (protocol === "tcp" || protocol === "udp") {
    if (from <= 0 && (to === 65535 || to === -1)) return `${protocol} all ports`;
    return from === to ? `${protocol} ${from}` : `${protocol} ${from}-${to}`;
  }
  return `protocol ${protocol}`;
}

export function describeSgRule(rule: SgRuleEntry): string {
  const source = rule.cidrIpv4 ?? rule.cidrIpv6 ?? "?";
  return `${describePorts(rule)} from ${source}${rule.securityGroupRuleId ? ` (${rule.securityGroupRuleId})` : ""}`;
}

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

export function describeStatement(statement: Record<string, unknown>): string {
  const sid = typeof statement.Sid === "string" && statement.Sid ? `Sid ${statement.Sid}` : "unnamed statement";
  const actions = ([] as unknown[]).concat(statement.Action ?? statement.NotAction ?? []).join(",");
  return `${sid} (${statement.Effect} ${actions || "?"})`;
}

export function describeMatched(entry: MatchedEntry): string {
  switch (entry.kind) {
    case "sg-rule":
      return describeSgRule(entry.rule);
    case "acl-grant":
      return describeGrant(entry.grant);
    case "policy-statement":
      return describeStatement(entry.statement);
  }
}

/**
 * The Block Public Access flags that neutralise each S3 problem (and keep it from coming back): what the
 * block-public-access strategy turns on, keeping every other flag as it is.
 */
export const BLOCK_FLAGS_FOR_PROBLEM: Readonly<Partial<Record<Problem, readonly BlockPublicAccessFlag[]>>> =
  Object.fromEntries(PROBLEM_SPECS.flatMap((spec) => ("blockFlags" in spec ? [[spec.id, spec.blockFlags]] : [])));

/** What the remediation for `problem` will do to one matched entry. */
export function describeAction(problem: Problem, entry: MatchedEntry, s3Strategy: S3FixStrategy): string {
  const flags = BLOCK_FLAGS_FOR_PROBLEM[problem];
  if (flags && s3Strategy === "block-public-access") {
    return `turn on Block Public Access ${flags.join(" + ")}`;
  }
  switch (entry.kind) {
    case "sg-rule":
      return `revoke ingress ${describeSgRule(entry.rule)}`;
    case "acl-grant":
      return `remove ACL grant ${describeGrant(entry.grant)}`;
    case "policy-statement":
      return `remove policy statement ${describeStatement(entry.statement)}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Recorded changes (ledger records, reports): what Remedy did, in the same words as what it would do.

type RecordedRule = Extract<Change, { kind: "sg-rules-revoked" }>["rules"][number];
type RecordedGrant = Extract<Change, { kind: "acl-grants-removed" }>["grants"][number];

function recordedRule(rule: RecordedRule): SgRuleEntry {
  return { direction: "ingress", ...rule };
}

function recordedGrant(grant: RecordedGrant): string {
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
 * One recorded change in words: past tense for a change that was made ("revoked ingress tcp 22 from 0.0.0.0/0
 * (sgr-…)"), the imperative for one that was only planned (a pending or failed action: "revoke ingress …").
 */
export function describeChange(change: Change, tense: "done" | "planned" = "done"): string {
  const done = tense === "done";
  switch (change.kind) {
    case "sg-rules-revoked":
      return change.rules
        .map((rule) => `${done ? "revoked" : "revoke"} ingress ${describeSgRule(recordedRule(rule))}`)
        .join("; ");
    case "acl-grants-removed":
      return change.grants
        .map((grant) => `${done ? "removed" : "remove"} ACL grant ${recordedGrant(grant)}`)
        .join("; ");
    case "policy-statements-removed": {
      const removed = change.statements.map(
        (statement) => `${done ? "removed" : "remove"} policy statement ${describeStatement(statement)}`,
      );
      if (change.policyDeleted) removed.push(done ? "deleted the policy (no statement left)" : "delete the policy");
      return removed.join("; ");
    }
    case "public-access-block-enabled": {
      const flags = BLOCK_PUBLIC_ACCESS_FLAGS.filter(
        (flag) => change.after[flag] === true && change.before?.[flag] !== true,
      );
      const which = flags.length > 0 ? flags.join(" + ") : "(no flag was off)";
      return `${done ? "turned on" : "turn on"} Block Public Access ${which}`;
    }
    case "restored":
      return change.summary;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Terminal text. Resource names, descriptions, tags, policy Sids, pause reasons and AWS error messages are written
// by whoever can name a resource or call an API: shown raw, an escape sequence in one could rewrite the operator's
// screen (hide a line, fake a prompt) and a line break could forge a line of output. Every such string the CLI
// prints goes through terminalText; JSON output through terminalJson.

/**
 * C0 and C1 controls, DEL, and the invisible characters that reorder or split text (bidirectional overrides and
 * isolates, line and paragraph separators).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters it exists to find.
const UNSAFE_TEXT = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw of UNSAFE_TEXT (it escapes C0 itself, and its own line breaks are structure). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character shown as a visible escape (`\n`, `\x1b`, `\u202e`): one line, inert. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE_TEXT, (character) => {
    const named = NAMED_ESCAPES[character];
    if (named) return named;
    const code = character.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/**
 * JSON.stringify(value, null, 2), with the characters JSON leaves raw (DEL, C1 controls, bidirectional and line
 * separators) written as \u escapes too: the same JSON value, nothing a terminal would act on.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    UNSAFE_IN_JSON,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
