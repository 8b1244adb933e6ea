// Fixing a default group's rules: read the live group (name, tags, every rule) and the network interfaces that use
// it, and revoke exactly the instructed entries that still violate, by SecurityGroupRuleId (ingress and egress each
// with their own call) — but only while no interface uses the group: then nothing is changed and the skip names them.
import {
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import type { SgRuleState } from "../../contract/ledger.ts";
import { PermanentRemediationError, TransientRemediationError } from "../../platform/aws-errors.ts";
import type { FixModule, ProblemFix } from "../fix.ts";
import { sgRuleState } from "../sg-open-ingress/fix.ts";
import { type LiveGroup, sgObserver } from "../sg-open-ingress/observe.ts";
import type { SgDefaultRuleEntry, SgDefaultRulesRevoked } from "./contract.ts";
import { DEFAULT_GROUP_NAME, defaultGroupOfLive, judgeDefaultGroupEntries } from "./detect.ts";
import { sgDefaultRules } from "./spec.ts";
import { describeDefaultRule } from "./words.ts";

/** How many interface ids a skip names (the report's reason is cut at 1,000 characters). */
const INTERFACES_NAMED = 20;

/** A live rule as the ledger keeps it: sg-open-ingress's fields plus a prefix list or a referenced group. */
export function defaultRuleState(rule: SecurityGroupRule): SgRuleState {
  const state = sgRuleState(rule);
  if (rule.PrefixListId !== undefined) state.PrefixListId = rule.PrefixListId;
  const group = rule.ReferencedGroupInfo;
  if (group !== undefined) {
    state.ReferencedGroupInfo = {};
    if (group.GroupId !== undefined) state.ReferencedGroupInfo.GroupId = group.GroupId;
    if (group.UserId !== undefined) state.ReferencedGroupInfo.UserId = group.UserId;
    if (group.VpcId !== undefined) state.ReferencedGroupInfo.VpcId = group.VpcId;
    if (group.VpcPeeringConnectionId !== undefined) {
      state.ReferencedGroupInfo.VpcPeeringConnectionId = group.VpcPeeringConnectionId;
    }
    if (group.PeeringStatus !== undefined) state.ReferencedGroupInfo.PeeringStatus = group.PeeringStatus;
  }
  return state;
}

function changedRule(entry: SgDefaultRuleEntry): SgDefaultRulesRevoked["rules"][number] {
  const { securityGroupRuleId, direction, ipProtocol, fromPort, toPort } = entry;
  return {
    ...(securityGroupRuleId ? { securityGroupRuleId } : {}),
    direction,
    ipProtocol,
    fromPort,
    toPort,
    ...(entry.cidrIpv4 !== undefined ? { cidrIpv4: entry.cidrIpv4 } : {}),
    ...(entry.cidrIpv6 !== undefined ? { cidrIpv6: entry.cidrIpv6 } : {}),
    ...(entry.prefixListId !== undefined ? { prefixListId: entry.prefixListId } : {}),
    ...(entry.referencedGroup !== undefined ? { referencedGroup: { ...entry.referencedGroup } } : {}),
    ...(entry.description !== undefined ? { description: entry.description } : {}),
  };
}

/** Why the group's rules stay: the interfaces that use it (the first INTERFACES_NAMED), and what to do. */
export function inUseReason(groupId: string, interfaces: readonly string[]): string {
  const named = interfaces.slice(0, INTERFACES_NAMED).join(", ");
  const more = interfaces.length > INTERFACES_NAMED ? ` and ${interfaces.length - INTERFACES_NAMED} more` : "";
  const count = `${interfaces.length} network ${interfaces.length === 1 ? "interface uses" : "interfaces use"}`;
  return (
    `not revoked: ${count} default group ${groupId} (${named}${more}), and revoking its rules would cut their ` +
    "traffic. Move them to security groups of their own; the group's next evaluation then fixes it"
  );
}

/** The revoke call's answer: it must say it revoked every rule asked for. */
function checkRevoked(
  call: string,
  groupId: string,
  ruleIds: readonly string[],
  output: {
    Return?: boolean;
    UnknownIpPermissions?: unknown[];
    RevokedSecurityGroupRules?: { SecurityGroupRuleId?: string }[];
  },
  entries: readonly SgDefaultRuleEntry[],
): void {
  const unknown = output.UnknownIpPermissions ?? [];
  const revoked = output.RevokedSecurityGroupRules;
  const missing = revoked ? ruleIds.filter((id) => !revoked.some((rule) => rule.SecurityGroupRuleId === id)) : [];
  if (output.Return !== true || unknown.length > 0 || missing.length > 0) {
    throw new TransientRemediationError(
      `${call} on ${groupId} did not revoke everything (Return ${String(output.Return)}, ` +
        `${unknown.length} unknown permission(s)${missing.length ? `, not revoked: ${missing.join(", ")}` : ""}); ` +
        `revoking ${entries.map(describeDefaultRule).join("; ")}`,
    );
  }
}

export function sgDefaultRulesFix(deps: { ec2: EC2Client }): ProblemFix<LiveGroup> {
  // The resource type's one reader (shared with the real-time path), asked for the interfaces too.
  const observer = sgObserver(deps, { interfacesOfDefaultGroups: true });
  return {
    problem: sgDefaultRules.id,

    readLive: (resource, log) => observer.readLive(resource, log),

    // Every rule of a default group, in use or not: whether it may be revoked now is the plan's to say.
    judge: (live) => judgeDefaultGroupEntries(defaultGroupOfLive(live.judged)),

    plan(targets, live, resource) {
      const groupId = resource.id;
      const interfaces = live.judged.interfaces;
      if (interfaces === undefined) {
        throw new PermanentRemediationError(`the network interfaces that use ${groupId} were not read`);
      }
      if (interfaces.length > 0) return { skipped: inUseReason(groupId, interfaces) };
      const entries = targets.flatMap((finding) =>
        finding.matched.kind === "sg-default-rule" ? [finding.matched.rule] : [],
      );
      if (entries.some((entry) => !entry.securityGroupRuleId)) {
        throw new PermanentRemediationError(`a live rule of ${groupId} has no SecurityGroupRuleId`);
      }
      const byId = new Map(live.judged.rules.map((rule) => [rule.SecurityGroupRuleId, rule]));
      const ingress = entries.filter((entry) => entry.direction === "ingress");
      const egress = entries.filter((entry) => entry.direction === "egress");
      const idsOf = (list: readonly SgDefaultRuleEntry[]) => list.map((entry) => entry.securityGroupRuleId!);
      const state = { kind: "sg-rules" as const, groupId, groupName: DEFAULT_GROUP_NAME };
      return {
        before: { ...state, rules: idsOf(entries).map((id) => defaultRuleState(byId.get(id)!)) },
        changes: [{ kind: "sg-default-rules-revoked", groupId, rules: entries.map(changedRule) }],
        async apply() {
          if (ingress.length > 0) {
            const ruleIds = idsOf(ingress);
            const output = await deps.ec2.send(
              new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds }),
            );
            checkRevoked("RevokeSecurityGroupIngress", groupId, ruleIds, output, ingress);
          }
          if (egress.length > 0) {
            const ruleIds = idsOf(egress);
            const output = await deps.ec2.send(
              new RevokeSecurityGroupEgressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds }),
            );
            checkRevoked("RevokeSecurityGroupEgress", groupId, ruleIds, output, egress);
          }
          return { ...state, rules: [] };
        },
      };
    },
  };
}

export const fix: FixModule = {
  problem: sgDefaultRules.id,
  create: ({ client }) => sgDefaultRulesFix({ ec2: client(EC2Client) }),
};
