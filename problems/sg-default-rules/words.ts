// How a default group's rule and its revocation are worded: one wording for the CLI (plan, peek, status), the
// remediation's logs, the rule's reasons and undo, and Slack's for the revocation (its ports worded as every
// security-group rule's are). Pure: no AWS SDK, no rule code.
import type { MatchedEntry } from "../../detection/types.ts";
import { describePorts } from "../sg-open-ingress/words.ts";
import type { ChangeWords, ProblemWords, SlackKit, Tense } from "../types.ts";
import type { SgDefaultRuleEntry, SgDefaultRulesRevoked } from "./contract.ts";

type RuleWords = Pick<
  SgDefaultRuleEntry,
  "direction" | "ipProtocol" | "fromPort" | "toPort" | "cidrIpv4" | "cidrIpv6" | "prefixListId" | "referencedGroup"
>;

/**
 * The source (ingress) or destination (egress) of a rule: "0.0.0.0/0", "pl-0a1b", a group as EC2 names a referenced one
 * with its owner: "123456789012/sg-0a1b".
 */
export function describePeer(rule: RuleWords): string {
  const group = rule.referencedGroup;
  if (group) return group.userId ? `${group.userId}/${group.groupId}` : group.groupId;
  return rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.prefixListId ?? "?";
}

/** What a rule lets through: "ingress all traffic from 123456789012/sg-0a1b", "egress tcp 443 to ::/0". */
export function describeDefaultRuleTraffic(rule: RuleWords): string {
  const way = rule.direction === "egress" ? "to" : "from";
  return `${rule.direction} ${describePorts(rule)} ${way} ${describePeer(rule)}`;
}

/** A matched rule (a finding, an instruction, a recorded revocation), with its id when known. */
export function describeDefaultRule(rule: RuleWords & { securityGroupRuleId?: string }): string {
  return `${describeDefaultRuleTraffic(rule)}${rule.securityGroupRuleId ? ` (${rule.securityGroupRuleId})` : ""}`;
}

const VERB: Readonly<Record<Tense, string>> = { done: "revoked", planned: "revoke" };

/** The recorded revocation: "revoked egress all traffic to 0.0.0.0/0 (sgr-0a1); revoked ingress …". */
function describeRevoked(change: SgDefaultRulesRevoked, tense: Tense): string {
  return change.rules.map((rule) => `${VERB[tense]} ${describeDefaultRule(rule)}`).join("; ");
}

/** "2 rules" / "1 ingress rule" / "3 egress rules": the rules of a revocation, by direction when there is one. */
function rulesPhrase(change: SgDefaultRulesRevoked, plural: SlackKit<unknown>["plural"]): string {
  const directions = new Set(change.rules.map((rule) => rule.direction));
  const [only] = directions;
  return directions.size === 1 ? plural(change.rules.length, `${only} rule`) : plural(change.rules.length, "rule");
}

/** A revoked rule in Slack: direction and ports, the peer in a code span, then its id and description. */
function ruleLine<I>(rule: SgDefaultRulesRevoked["rules"][number], { t, code, text, cut }: SlackKit<I>): I {
  const way = rule.direction === "egress" ? "to" : "from";
  return t`${rule.direction} ${code(describePorts(rule))} ${way} ${code(describePeer(rule))}${rule.securityGroupRuleId ? t` · ${code(rule.securityGroupRuleId)}` : text("")}${rule.description ? t` · “${cut(rule.description, 200)}”` : text("")}`;
}

const revokedWords: ChangeWords<"sg-default-rules-revoked"> = {
  kind: "sg-default-rules-revoked",
  change: describeRevoked,
  slack: {
    phrase: (change, { plural }) => `revoked ${rulesPhrase(change, plural)} of the default group`,
    section: (change, kit) => ({
      title: `Revoked ${rulesPhrase(change, kit.plural)} on default group ${change.groupId}`,
      items: change.rules.map((rule) => ruleLine(rule, kit)),
    }),
  },
};

export const sgDefaultRulesWords: ProblemWords = {
  verb: VERB,
  entry: (entry: Extract<MatchedEntry, { kind: "sg-default-rule" }>) => describeDefaultRule(entry.rule),
  changes: revokedWords,
};
