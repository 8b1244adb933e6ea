// Undoing a revocation: AuthorizeSecurityGroupIngress with one IpRange/Ipv6Range per revoked entry missing live,
// description (and rule tags) included; every other live rule is left alone. A record is consistent when its
// before-state holds ingress rules of its own group that the rule (at its most permissive) flags as open, its one
// change revoked exactly those rules, and (when `fixed`) its after-state holds none of them.
import { AuthorizeSecurityGroupIngressCommand, type IpPermission, type TagSpecification } from "@aws-sdk/client-ec2";
import { canonicalJson } from "../../contract/canonical-json.ts";
import type { LedgerRecord, SgRuleState } from "../../contract/ledger.ts";
import type { SgRuleEntry } from "../../detection/types.ts";
import {
  changeKinds,
  inconsistent,
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
  rules: SgRuleState[];
}

/** One AuthorizeSecurityGroupIngress: rules with the same tags (tags apply to every rule a call creates). */
export interface AuthorizeWrite {
  kind: "authorize";
  groupId: string;
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

function assertSgConsistent(record: SgRecord): void {
  const { before } = record;
  if (before.groupId !== record.resource.id) {
    throw inconsistent(
      record,
      `its before-state is for security group ${before.groupId}, not its resource ${record.resource.id}`,
    );
  }
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
  const [change, ...more] = record.changes;
  if (change?.kind !== "sg-rules-revoked" || more.length > 0) {
    throw inconsistent(record, `its changes (${changeKinds(record)}) are not the one sg-rules-revoked a fix makes`);
  }
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

function entryKeyOf(rule: DescribedSecurityGroupRule): string | undefined {
  const [entry] = sgEntriesFromDescribedRules([{ ...rule, IsEgress: false }]);
  return entry ? sgRuleEntryKey(entry) : undefined;
}

function planSg(record: SgRecord, live: SgRulesLive): ResourcePlan<AuthorizeWrite> {
  const { before } = record;
  if (live.kind !== "sg-rules" || live.groupId !== before.groupId) {
    throw new Error(`planUndo: the live state given is not security group ${before.groupId}'s`);
  }
  const { groupId } = before;
  const present = new Set(
    sgEntriesFromDescribedRules(live.rules.filter((rule) => rule.IsEgress === false)).map(sgRuleEntryKey),
  );
  const missing = before.rules.filter((rule) => !present.has(entryKeyOf(rule) ?? ""));
  const there = before.rules.filter((rule) => present.has(entryKeyOf(rule) ?? ""));
  // Rules with the same tags go in one call (tags apply to every rule a call creates); usually one call, no tags.
  const byTags = new Map<string, SgRuleState[]>();
  for (const rule of missing) {
    const key = canonicalJson(rule.Tags ?? []);
    byTags.set(key, [...(byTags.get(key) ?? []), rule]);
  }
  const lines: string[] = [];
  if (missing.length > 0) {
    lines.push(
      `  re-authorize ${plural(missing.length, "ingress rule")} on ${groupId} (every other rule of the group stays as it is):`,
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
    writes: [...byTags.values()].map((rules) => ({ kind: "authorize", groupId, rules })),
    // The rules concerned: absent before the undo, the re-authorized ones after it.
    before: { kind: "sg-rules", groupId, rules: [] },
    after: { kind: "sg-rules", groupId, rules: missing },
  };
}

function permissionOf(rule: SgRuleState): IpPermission {
  const description = rule.Description ? { Description: rule.Description } : {};
  return {
    IpProtocol: rule.IpProtocol,
    ...(rule.FromPort !== undefined ? { FromPort: rule.FromPort } : {}),
    ...(rule.ToPort !== undefined ? { ToPort: rule.ToPort } : {}),
    ...(rule.CidrIpv4 !== undefined
      ? { IpRanges: [{ CidrIp: rule.CidrIpv4, ...description }] }
      : { Ipv6Ranges: [{ CidrIpv6: rule.CidrIpv6, ...description }] }),
  };
}

/** The undo of the sg-rules before-state (problems/undo.ts loads it as this folder's `undo`). */
export const undo: ResourceUndo<"sg-rules", SgRulesLive, AuthorizeWrite, SgRulesReAdded> = {
  kind: "sg-rules",
  what: "security-group rules",
  permissions: {
    DescribeSecurityGroupRulesCommand: "ec2:DescribeSecurityGroupRules",
    AuthorizeSecurityGroupIngressCommand: "ec2:AuthorizeSecurityGroupIngress",
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
    const output = await clients.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: write.groupId,
        IpPermissions: write.rules.map(permissionOf),
        ...(tagSpecifications.length ? { TagSpecifications: tagSpecifications } : {}),
      }),
    );
    if (output.Return === false) {
      throw new UndoError(`AuthorizeSecurityGroupIngress on ${write.groupId} returned false`);
    }
    log.info("re-authorized ingress rules", { groupId: write.groupId, count: write.rules.length });
  },

  reAdded(before, after) {
    const had = new Set(before.rules.map((rule) => canonicalJson(rule)));
    const rules = after.rules.filter((rule) => !had.has(canonicalJson(rule)));
    return rules.length > 0 ? [{ kind: "sg-rules", groupId: after.groupId, rules }] : [];
  },
};
