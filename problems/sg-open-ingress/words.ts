// How a security-group rule and its revocation are worded: one wording for the CLI (plan, peek, status), the
// remediation's logs and undo, and Slack's for the revocation (its ports the same). Pure: no AWS SDK, no rule code.
import type { SgRuleState } from "../../contract/ledger.ts";
import type { Change } from "../../contract/report.ts";
import type { MatchedEntry, SgRuleEntry } from "../../detection/types.ts";
import type { ChangeWords, ProblemWords, SlackKit, Tense } from "../types.ts";

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

/** What a rule lets in, the part every wording of a rule starts with: "tcp 22 from 0.0.0.0/0". */
function describeTraffic(rule: Parameters<typeof describePorts>[0] & { cidrIpv4?: string; cidrIpv6?: string }): string {
  return `${describePorts(rule)} from ${rule.cidrIpv4 ?? rule.cidrIpv6 ?? "?"}`;
}

/** A matched rule (a finding, an instruction, a recorded revocation), with its id when known. */
export function describeSgRule(rule: SgRuleEntry): string {
  return `${describeTraffic(rule)}${rule.securityGroupRuleId ? ` (${rule.securityGroupRuleId})` : ""}`;
}

/** The peer of a ledger rule: its CIDR, prefix list or referenced group (owner/group, as EC2 names it, when recorded). */
function statePeer(rule: SgRuleState): string {
  const group = rule.ReferencedGroupInfo;
  const groupText = group?.GroupId && (group.UserId ? `${group.UserId}/${group.GroupId}` : group.GroupId);
  return rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.PrefixListId ?? groupText ?? "?";
}

/**
 * A rule of a ledger before-state (the API's shape) as undo re-authorizes it: with the description that goes back
 * with it, and no rule id (the rule gets a new one): `tcp 22 from 0.0.0.0/0 "ssh from the office"`, `egress all
 * traffic to 0.0.0.0/0`, `all traffic from 123456789012/sg-0a1`.
 */
export function describeSgRuleState(rule: SgRuleState): string {
  const ports = describePorts({ ipProtocol: rule.IpProtocol ?? "?", fromPort: rule.FromPort, toPort: rule.ToPort });
  const traffic = rule.IsEgress ? `egress ${ports} to ${statePeer(rule)}` : `${ports} from ${statePeer(rule)}`;
  return `${traffic}${rule.Description ? ` "${rule.Description}"` : ""}`;
}

type Revoked = Extract<Change, { kind: "sg-rules-revoked" }>;

const VERB: Readonly<Record<Tense, string>> = { done: "revoked ingress", planned: "revoke ingress" };

/** The recorded revocation: "revoked ingress tcp 22 from 0.0.0.0/0 (sgr-0a1); revoked ingress …". */
function describeRevoked(change: Revoked, tense: Tense): string {
  return change.rules.map((rule) => `${VERB[tense]} ${describeSgRule({ direction: "ingress", ...rule })}`).join("; ");
}

/** A revoked rule in Slack: its ports and source in code spans, then its id and description when it had them. */
function ruleLine<I>(rule: Revoked["rules"][number], { t, code, text, cut }: SlackKit<I>): I {
  const source = rule.cidrIpv4 ?? rule.cidrIpv6 ?? "(no CIDR)";
  return t`${code(describePorts(rule))} from ${code(source)}${rule.securityGroupRuleId ? t` · ${code(rule.securityGroupRuleId)}` : text("")}${rule.description ? t` · “${cut(rule.description, 200)}”` : text("")}`;
}

const revokedWords: ChangeWords<"sg-rules-revoked"> = {
  kind: "sg-rules-revoked",
  change: describeRevoked,
  slack: {
    phrase: (change, { plural }) => `revoked ${plural(change.rules.length, "ingress rule")}`,
    section: (change, kit) => ({
      title: `Revoked ${kit.plural(change.rules.length, "ingress rule")} on ${change.groupId}`,
      items: change.rules.map((rule) => ruleLine(rule, kit)),
    }),
  },
};

export const sgOpenIngressWords: ProblemWords = {
  verb: VERB,
  entry: (entry: Extract<MatchedEntry, { kind: "sg-rule" }>) => describeSgRule(entry.rule),
  changes: revokedWords,
};
