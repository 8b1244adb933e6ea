// Undoing a revocation: AuthorizeSecurityGroupIngress (or Egress) with one IpRange/Ipv6Range/PrefixListId/
// UserIdGroupPair per revoked entry missing live, description (and rule tags) included; every other live rule is
// left alone. A record is consistent when its before-state holds rules of its own group that its problem's fix
// revokes — sg-open-ingress: ingress rules the rule (at its most permissive) flags as open; sg-default-rules: any rule
// of a VPC's default group (problems/sg-default-rules/ledger.ts) —, its one change revoked exactly those rules, and
// (when `fixed`) its after-state holds none of them.
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  type IpPermission,
  type TagSpecification,
} from "@aws-sdk/client-ec2";
import { canonicalJson } from "../../contract/canonical-json.ts";
import type { MatchedEntry } from "../../contract/instruction.ts";
import type { LedgerRecord, SgRuleState } from "../../contract/ledger.ts";
import type { SgRuleEntry } from "../../detection/types.ts";
import type { Problem } from "../index.ts";
import { DEFAULT_GROUP_NAME, defaultRuleEntriesFromDescribedRules } from "../sg-default-rules/detect.ts";
import { assertDefaultRulesRecord, defaultRuleKeyOf } from "../sg-default-rules/ledger.ts";
import {
  inconsistent,
  onlyChange,
  type ResourcePlan,
  type ResourceUndo,
  type UndoableRecordOf,
  UndoError,
} from "../undo-kit.ts";
import { plural } from "../words.ts";
import {
  type DescribedSecurityGroupRule,
  judgeSgEntries,
  parseSgOpenIngressParameters,
  sgEntriesFromDescribedRules,
  sgRuleEntryKey,
} from "./detect.ts";
import { describeGroupRules } from "./live.ts";
import { describeSgRuleState } from "./words.ts";

/** The group's rules as DescribeSecurityGroupRules returns them now. */
export interface SgRulesLive {
  kind: "sg-rules";
  groupId: string;
  rules: DescribedSecurityGroupRule[];
}

/** What an undo put back on the group (`remedy undo --json` reAdded): the rules re-authorized. */
export interface SgRulesReAdded {
  kind: "sg-rules";
  groupId: string;
  /** The group's name when the record gives it (a default group's rules are sg-default-rules entries). */
  groupName?: string;
  rules: SgRuleState[];
}

/**
 * One AuthorizeSecurityGroupIngress (or Egress, `egress`): rules of one direction with the same tags (tags apply to
 * every rule a call creates).
 */
export interface AuthorizeWrite {
  kind: "authorize";
  groupId: string;
  egress?: true;
  rules: SgRuleState[];
}

type SgRecord = UndoableRecordOf<"sg-rules">;

/** The rule under its most permissive parameters: no port authorized, any source wider than one address that is
 * not private. An entry it does not flag (a private range, a single address) is one Remedy never revokes. */
const MOST_PERMISSIVE_SG = parseSgOpenIngressParameters({ authorizedPorts: "", ipv4MinPrefix: 32, ipv6MinPrefix: 128 });

type RuleFields = Pick<DescribedSecurityGroupRule, "IpProtocol" | "FromPort" | "ToPort" | "CidrIpv4" | "CidrIpv6">;

function sgEntryOf(record: LedgerRecord, rule: RuleFields, where: string): SgRuleEntry {
  if ((rule.CidrIpv4 === undefined) === (rule.CidrIpv6 === undefined)) {
    throw inconsistent(record, `${where} does not have exactly one CIDR`);
  }
  let entry: SgRuleEntry | undefined;
  try {
    [entry] = sgEntriesFromDescribedRules([{ ...rule, IsEgress: false }]);
  } catch (error) {
    throw inconsistent(record, `${where} cannot be read as a rule (${(error as Error).message})`);
  }
  if (!entry) throw inconsistent(record, `${where} has no CIDR`);
  return entry;
}

function sameEntries(a: readonly string[], b: readonly string[]): boolean {
  return canonicalJson([...a].sort()) === canonicalJson([...b].sort());
}

/** Whether the record is sg-default-rules' (its fix revokes any rule of a default group), not sg-open-ingress'. */
function isDefaultRulesRecord(record: SgRecord): boolean {
  return record.problem === "sg-default-rules";
}

function assertSgConsistent(record: SgRecord): void {
  const { before } = record;
  if (before.groupId !== record.resource.id) {
    throw inconsistent(
      record,
      `its before-state is for security group ${before.groupId}, not its resource ${record.resource.id}`,
    );
  }
  if (isDefaultRulesRecord(record)) assertDefaultRulesRecord(record);
  else assertOpenIngressRecord(record);
  const { after } = record;
  if (
    record.outcome === "fixed" &&
    (after?.kind !== "sg-rules" || after.groupId !== before.groupId || after.rules.length > 0)
  ) {
    throw inconsistent(
      record,
      `its after-state is not ${before.groupId} without the revoked rules (before − changes ≠ after)`,
    );
  }
}

function assertOpenIngressRecord(record: SgRecord): void {
  const { before } = record;
  if (before.rules.length === 0) throw inconsistent(record, "its before-state holds no rule, yet a fix revokes some");
  const restored = before.rules.map((rule, index) => {
    const where = `before rule ${index + 1} (${describeSgRuleState(rule)})`;
    if (rule.GroupId !== undefined && rule.GroupId !== before.groupId) {
      throw inconsistent(record, `${where} belongs to security group ${rule.GroupId}, not ${before.groupId}`);
    }
    if (rule.IsEgress === true) throw inconsistent(record, `${where} is an egress rule; Remedy only revokes ingress`);
    const entry = sgEntryOf(record, rule, where);
    if (judgeSgEntries([entry], MOST_PERMISSIVE_SG).length === 0) {
      throw inconsistent(
        record,
        `${where} is not open to the internet (a private range or a single address), so Remedy never revoked it`,
      );
    }
    return sgRuleEntryKey(entry);
  });
  const change = onlyChange(record, "sg-rules-revoked");
  if (change.groupId !== before.groupId) {
    throw inconsistent(record, `its change revoked rules of ${change.groupId}, not of ${before.groupId}`);
  }
  const revoked = change.rules.map((rule, index) =>
    sgRuleEntryKey(
      sgEntryOf(
        record,
        {
          IpProtocol: rule.ipProtocol,
          FromPort: rule.fromPort,
          ToPort: rule.toPort,
          CidrIpv4: rule.cidrIpv4,
          CidrIpv6: rule.cidrIpv6,
        },
        `revoked rule ${index + 1}`,
      ),
    ),
  );
  if (!sameEntries(restored, revoked)) {
    throw inconsistent(
      record,
      `the rules it would re-authorize (${restored.join("; ")}) are not the rules its change revoked (${revoked.join("; ") || "none"})`,
    );
  }
}

function entryKeyOf(rule: DescribedSecurityGroupRule): string | undefined {
  const [entry] = sgEntriesFromDescribedRules([{ ...rule, IsEgress: false }]);
  return entry ? sgRuleEntryKey(entry) : undefined;
}

/** The keys a record's rules and the live rules are compared by: its problem's entries (sg-open-ingress: ingress). */
function keysFor(record: SgRecord) {
  if (isDefaultRulesRecord(record)) {
    return {
      live: (rules: readonly DescribedSecurityGroupRule[]) => rules.map(defaultRuleKeyOf),
      recorded: defaultRuleKeyOf,
    };
  }
  return {
    live: (rules: readonly DescribedSecurityGroupRule[]) =>
      sgEntriesFromDescribedRules(rules.filter((rule) => rule.IsEgress === false)).map(sgRuleEntryKey),
    recorded: entryKeyOf,
  };
}

function planSg(record: SgRecord, live: SgRulesLive): ResourcePlan<AuthorizeWrite> {
  const { before } = record;
  if (live.kind !== "sg-rules" || live.groupId !== before.groupId) {
    throw new Error(`planUndo: the live state given is not security group ${before.groupId}'s`);
  }
  const { groupId } = before;
  const keys = keysFor(record);
  const present = new Set(keys.live(live.rules));
  const missing = before.rules.filter((rule) => !present.has(keys.recorded(rule) ?? ""));
  const there = before.rules.filter((rule) => present.has(keys.recorded(rule) ?? ""));
  // Rules of one direction with the same tags go in one call (tags apply to every rule a call creates); usually one
  // call, no tags.
  const byCall = new Map<string, SgRuleState[]>();
  for (const rule of missing) {
    const key = canonicalJson([rule.IsEgress === true, rule.Tags ?? []]);
    byCall.set(key, [...(byCall.get(key) ?? []), rule]);
  }
  const directions = new Set(missing.map((rule) => (rule.IsEgress ? "egress" : "ingress")));
  const what = directions.size === 1 ? `${[...directions][0]} rule` : "rule";
  const lines: string[] = [];
  if (missing.length > 0) {
    lines.push(
      `  re-authorize ${plural(missing.length, what)} on ${groupId} (every other rule of the group stays as it is):`,
      ...missing.map((rule) => `    + ${describeSgRuleState(rule)}`),
    );
  } else {
    lines.push(`  nothing to re-authorize: every rule Remedy revoked is on ${groupId} again`);
  }
  const already = there.map((rule) => `already present: ${describeSgRuleState(rule)}`);
  lines.push(...already.map((line) => `  ${line}`));
  return {
    lines,
    steps: [...missing.map((rule) => `re-authorized: ${describeSgRuleState(rule)}`), ...already],
    refused: [],
    writes: [...byCall.values()].map((rules) => ({
      kind: "authorize",
      groupId,
      ...(rules[0]?.IsEgress ? { egress: true as const } : {}),
      rules,
    })),
    // The rules concerned: absent before the undo, the re-authorized ones after it.
    before: { kind: "sg-rules", groupId, ...named(before), rules: [] },
    after: { kind: "sg-rules", groupId, ...named(before), rules: missing },
  };
}

/** The group's name as the record gives it, for a state the undo records. */
function named(state: { groupName?: string }): { groupName?: string } {
  return state.groupName !== undefined ? { groupName: state.groupName } : {};
}

/** The one peer of a recorded rule, as AuthorizeSecurityGroupIngress/Egress take it. */
function peerOf(rule: SgRuleState): IpPermission {
  const description = rule.Description ? { Description: rule.Description } : {};
  if (rule.CidrIpv4 !== undefined) return { IpRanges: [{ CidrIp: rule.CidrIpv4, ...description }] };
  if (rule.CidrIpv6 !== undefined) return { Ipv6Ranges: [{ CidrIpv6: rule.CidrIpv6, ...description }] };
  if (rule.PrefixListId !== undefined) return { PrefixListIds: [{ PrefixListId: rule.PrefixListId, ...description }] };
  const group = rule.ReferencedGroupInfo;
  return {
    UserIdGroupPairs: [
      {
        GroupId: group?.GroupId,
        ...(group?.UserId !== undefined ? { UserId: group.UserId } : {}),
        ...(group?.VpcPeeringConnectionId !== undefined
          ? { VpcPeeringConnectionId: group.VpcPeeringConnectionId }
          : {}),
        ...description,
      },
    ],
  };
}

function permissionOf(rule: SgRuleState): IpPermission {
  return {
    IpProtocol: rule.IpProtocol,
    ...(rule.FromPort !== undefined ? { FromPort: rule.FromPort } : {}),
    ...(rule.ToPort !== undefined ? { ToPort: rule.ToPort } : {}),
    ...peerOf(rule),
  };
}

/** The undo of the sg-rules before-state (problems/undo.ts loads it as this folder's `undo`). */
export const undo: ResourceUndo<"sg-rules", SgRulesLive, AuthorizeWrite, SgRulesReAdded> = {
  kind: "sg-rules",
  what: "security-group rules",
  permissions: {
    DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
    AuthorizeSecurityGroupIngressCommand: "ec2:AuthorizeSecurityGroupIngress",
    AuthorizeSecurityGroupEgressCommand: "ec2:AuthorizeSecurityGroupEgress",
  },
  // Revoked rules go back with their tags (TagSpecifications).
  impliedActions: ["ec2:CreateTags"],

  async readLive(record, clients) {
    const { groupId } = record.before;
    return { kind: "sg-rules", groupId, rules: await describeGroupRules(clients.ec2, groupId) };
  },

  assertConsistent: assertSgConsistent,

  plan: planSg,

  async apply(write, clients, _record, log) {
    const tags = write.rules[0]?.Tags ?? [];
    const tagSpecifications: TagSpecification[] = tags.length
      ? [{ ResourceType: "security-group-rule", Tags: tags.map((tag) => ({ Key: tag.Key, Value: tag.Value })) }]
      : [];
    const input = {
      GroupId: write.groupId,
      IpPermissions: write.rules.map(permissionOf),
      ...(tagSpecifications.length ? { TagSpecifications: tagSpecifications } : {}),
    };
    const call = write.egress ? "AuthorizeSecurityGroupEgress" : "AuthorizeSecurityGroupIngress";
    const output = write.egress
      ? await clients.ec2.send(new AuthorizeSecurityGroupEgressCommand(input))
      : await clients.ec2.send(new AuthorizeSecurityGroupIngressCommand(input));
    if (output.Return === false) throw new UndoError(`${call} on ${write.groupId} returned false`);
    log.info(`re-authorized ${write.egress ? "egress" : "ingress"} rules`, {
      groupId: write.groupId,
      count: write.rules.length,
    });
  },

  // The rules put back as each problem's findings name them: ingress CIDR rules are sg-open-ingress entries, and
  // every rule of a default group an sg-default-rules entry too.
  restoredEntries(added) {
    const ingress = added.rules.filter((rule) => rule.IsEgress !== true);
    const restored: { problem: Problem; entry: MatchedEntry }[] = sgEntriesFromDescribedRules(
      ingress.map((rule): DescribedSecurityGroupRule => ({ ...rule, IsEgress: false })),
    ).map((rule) => ({ problem: "sg-open-ingress", entry: { kind: "sg-rule", rule } }));
    if (added.groupName === DEFAULT_GROUP_NAME) {
      for (const rule of defaultRuleEntriesFromDescribedRules(added.rules)) {
        restored.push({ problem: "sg-default-rules", entry: { kind: "sg-default-rule", rule } });
      }
    }
    return restored;
  },

  reAdded(before, after) {
    const had = new Set(before.rules.map((rule) => canonicalJson(rule)));
    const rules = after.rules.filter((rule) => !had.has(canonicalJson(rule)));
    return rules.length > 0 ? [{ kind: "sg-rules", groupId: after.groupId, ...named(after), rules }] : [];
  },
};
