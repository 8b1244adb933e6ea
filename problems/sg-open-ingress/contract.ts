// What this problem adds to the contract (contract/ builds its variants from the registry's): its matched entry (a
// security-group rule) and the identity its key is built from, the change its fix records (the rules revoked) and the
// ledger state of the resource type it is found on (a group's rules). Pure: valibot only, so the registry stays SDK-free.
import * as v from "valibot";
import type { KindSchema } from "../../contract/schema-kit.ts";
import type { ProblemContract } from "../types.ts";

const port = v.pipe(v.number(), v.integer(), v.minValue(-1), v.maxValue(65535));

/** One security-group rule entry with exactly one source CIDR — the unit a fix revokes. */
const SgRuleEntrySchema = v.pipe(
  v.object({
    direction: v.literal("ingress"),
    /** Normalised protocol: "tcp" | "udp" | "icmp" | "icmpv6" | "-1" (all) | a protocol number as string. */
    ipProtocol: v.pipe(v.string(), v.minLength(1)),
    /** For tcp/udp the port range; for icmp the type/code; -1 for "all". */
    fromPort: port,
    toPort: port,
    cidrIpv4: v.optional(v.string()),
    cidrIpv6: v.optional(v.string()),
    description: v.optional(v.string()),
    /** Present only when read from the live API (DescribeSecurityGroupRules). */
    securityGroupRuleId: v.optional(v.string()),
  }),
  v.check(
    (entry) => (entry.cidrIpv4 === undefined) !== (entry.cidrIpv6 === undefined),
    "a security-group rule entry names exactly one CIDR (cidrIpv4 or cidrIpv6)",
  ),
);
export type SgRuleEntry = v.InferOutput<typeof SgRuleEntrySchema>;

const SgRuleMatchedSchema = v.object({ kind: v.literal("sg-rule"), rule: SgRuleEntrySchema });

/**
 * What makes an entry the same entry, the one definition: protocol, ports and CIDR — not its description or live
 * rule id. A matched entry's key (contract/instruction.ts matchedEntryKey) is built from it.
 */
export function sgRuleIdentity(entry: SgRuleEntry) {
  const { ipProtocol, fromPort, toPort, cidrIpv4, cidrIpv6 } = entry;
  return { ipProtocol, fromPort, toPort, cidrIpv4, cidrIpv6 };
}

/** A revoked rule as the change records it. */
const RevokedRuleSchema = v.object({
  securityGroupRuleId: v.optional(v.string()),
  ipProtocol: v.string(),
  fromPort: v.number(),
  toPort: v.number(),
  cidrIpv4: v.optional(v.string()),
  cidrIpv6: v.optional(v.string()),
  description: v.optional(v.string()),
});

const SgRulesRevokedSchema = v.object({
  kind: v.literal("sg-rules-revoked"),
  groupId: v.string(),
  rules: v.array(RevokedRuleSchema),
});

export const sgOpenIngressContract = {
  matched: SgRuleMatchedSchema,
  identity: (entry: v.InferOutput<typeof SgRuleMatchedSchema>) => sgRuleIdentity(entry.rule),
  change: SgRulesRevokedSchema,
} as const satisfies ProblemContract;

/** One live security-group rule as DescribeSecurityGroupRules returned it (the fields undo needs). */
const SgRuleStateSchema = v.object({
  SecurityGroupRuleId: v.optional(v.string()),
  GroupId: v.optional(v.string()),
  GroupOwnerId: v.optional(v.string()),
  IsEgress: v.optional(v.boolean()),
  IpProtocol: v.optional(v.string()),
  FromPort: v.optional(v.number()),
  ToPort: v.optional(v.number()),
  CidrIpv4: v.optional(v.string()),
  CidrIpv6: v.optional(v.string()),
  /** A rule to or from a managed prefix list. */
  PrefixListId: v.optional(v.string()),
  /** A rule to or from a security group (its owner, and the peering it is reached through). */
  ReferencedGroupInfo: v.optional(
    v.object({
      GroupId: v.optional(v.string()),
      UserId: v.optional(v.string()),
      VpcId: v.optional(v.string()),
      VpcPeeringConnectionId: v.optional(v.string()),
      PeeringStatus: v.optional(v.string()),
    }),
  ),
  Description: v.optional(v.string()),
  Tags: v.optional(v.array(v.object({ Key: v.optional(v.string()), Value: v.optional(v.string()) }))),
});
export type SgRuleState = v.InferOutput<typeof SgRuleStateSchema>;

/**
 * The ledger state of a security group (its resource.ts): the rules concerned. Before a fix, the rules revoked;
 * after it, none (undo: the reverse).
 */
export const SgRulesStateSchema = v.object({
  kind: v.literal("sg-rules"),
  groupId: v.string(),
  /** The group's name, where the fix depends on it (a VPC's default group is "default"). */
  groupName: v.optional(v.string()),
  rules: v.array(SgRuleStateSchema),
}) satisfies KindSchema;
export type SgRulesState = v.InferOutput<typeof SgRulesStateSchema>;
