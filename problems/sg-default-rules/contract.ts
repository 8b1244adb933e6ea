// What this problem adds to the contract (contract/ builds its variants from the registry's): its matched entry (any
// rule of a VPC's default security group, ingress or egress, to or from a CIDR, a prefix list or a security group)
// and the identity its key is built from, and the change its fix records (the rules revoked). Its ledger state is the
// resource type's (problems/sg-open-ingress/contract.ts SgRulesStateSchema). Pure: valibot only, so the registry
// stays SDK-free.
import * as v from "valibot";
import type { ProblemContract } from "../types.ts";

const port = v.pipe(v.number(), v.integer(), v.minValue(-1), v.maxValue(65535));
const id = v.pipe(v.string(), v.minLength(1));

/** A security group a rule names as its source (ingress) or destination (egress). */
const ReferencedGroupSchema = v.object({
  groupId: id,
  /** The account that owns it (Config's userId, the API's ReferencedGroupInfo.UserId). */
  userId: v.optional(id),
});

/** The one source or destination of an entry: a rule names exactly one. */
function sourceCount(entry: {
  cidrIpv4?: string;
  cidrIpv6?: string;
  prefixListId?: string;
  referencedGroup?: unknown;
}): number {
  return (
    Number(entry.cidrIpv4 !== undefined) +
    Number(entry.cidrIpv6 !== undefined) +
    Number(entry.prefixListId !== undefined) +
    Number(entry.referencedGroup !== undefined)
  );
}

/**
 * One rule of a default security group, the unit a fix revokes: its direction, traffic and exactly one source
 * (ingress) or destination (egress).
 */
const SgDefaultRuleEntrySchema = v.pipe(
  v.object({
    direction: v.picklist(["ingress", "egress"]),
    /** Normalised protocol: "tcp" | "udp" | "icmp" | "icmpv6" | "-1" (all) | a protocol number as string. */
    ipProtocol: v.pipe(v.string(), v.minLength(1)),
    /** For tcp/udp the port range; for icmp the type/code; -1 for "all". */
    fromPort: port,
    toPort: port,
    cidrIpv4: v.optional(v.string()),
    cidrIpv6: v.optional(v.string()),
    prefixListId: v.optional(id),
    referencedGroup: v.optional(ReferencedGroupSchema),
    description: v.optional(v.string()),
    /** Present only when read from the live API (DescribeSecurityGroupRules). */
    securityGroupRuleId: v.optional(v.string()),
  }),
  v.check(
    (entry) => sourceCount(entry) === 1,
    "a default-group rule entry names exactly one of cidrIpv4, cidrIpv6, prefixListId or referencedGroup",
  ),
);
export type SgDefaultRuleEntry = v.InferOutput<typeof SgDefaultRuleEntrySchema>;

const SgDefaultRuleMatchedSchema = v.object({ kind: v.literal("sg-default-rule"), rule: SgDefaultRuleEntrySchema });
export type SgDefaultRuleMatched = v.InferOutput<typeof SgDefaultRuleMatchedSchema>;

/**
 * What makes an entry the same entry, the one definition: direction, protocol, ports and the source or destination
 * — not its description, its live rule id or the referenced group's owner (a group id names one group).
 */
export function sgDefaultRuleIdentity(entry: SgDefaultRuleEntry) {
  const { direction, ipProtocol, fromPort, toPort, cidrIpv4, cidrIpv6, prefixListId } = entry;
  return {
    direction,
    ipProtocol,
    fromPort,
    toPort,
    cidrIpv4,
    cidrIpv6,
    prefixListId,
    groupId: entry.referencedGroup?.groupId,
  };
}

/** A revoked rule as the change records it. */
const RevokedDefaultRuleSchema = v.object({
  securityGroupRuleId: v.optional(v.string()),
  direction: v.picklist(["ingress", "egress"]),
  ipProtocol: v.string(),
  fromPort: v.number(),
  toPort: v.number(),
  cidrIpv4: v.optional(v.string()),
  cidrIpv6: v.optional(v.string()),
  prefixListId: v.optional(v.string()),
  referencedGroup: v.optional(ReferencedGroupSchema),
  description: v.optional(v.string()),
});

const SgDefaultRulesRevokedSchema = v.object({
  kind: v.literal("sg-default-rules-revoked"),
  groupId: v.string(),
  rules: v.array(RevokedDefaultRuleSchema),
});
export type SgDefaultRulesRevoked = v.InferOutput<typeof SgDefaultRulesRevokedSchema>;

export const sgDefaultRulesContract = {
  matched: SgDefaultRuleMatchedSchema,
  identity: (entry: SgDefaultRuleMatched) => sgDefaultRuleIdentity(entry.rule),
  change: SgDefaultRulesRevokedSchema,
} as const satisfies ProblemContract;
