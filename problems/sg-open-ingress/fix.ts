// Fixing an open security group: read the live group (tags) and its rules (every page), and revoke exactly the
// instructed entries that still violate, by SecurityGroupRuleId. Other CIDRs, group references and prefix lists in
// the same permission are untouched.
import { EC2Client, RevokeSecurityGroupIngressCommand, type SecurityGroupRule } from "@aws-sdk/client-ec2";
import type { SgRuleState } from "../../contract/ledger.ts";
import type { Change } from "../../contract/report.ts";
import type { SgRuleEntry } from "../../detection/types.ts";
import { PermanentRemediationError, TransientRemediationError } from "../../platform/aws-errors.ts";
import type { FixModule, ProblemFix } from "../fix.ts";
import { describeSgRule } from "../words.ts";
import { type LiveGroup, sgObserver } from "./observe.ts";
import { sgOpenIngress } from "./spec.ts";

/** The fields of a live rule the ledger keeps (everything undo needs to put it back as it was). */
export function sgRuleState(rule: SecurityGroupRule): SgRuleState {
  const state: SgRuleState = {};
  if (rule.SecurityGroupRuleId !== undefined) state.SecurityGroupRuleId = rule.SecurityGroupRuleId;
  if (rule.GroupId !== undefined) state.GroupId = rule.GroupId;
  if (rule.GroupOwnerId !== undefined) state.GroupOwnerId = rule.GroupOwnerId;
  if (rule.IsEgress !== undefined) state.IsEgress = rule.IsEgress;
  if (rule.IpProtocol !== undefined) state.IpProtocol = rule.IpProtocol;
  if (rule.FromPort !== undefined) state.FromPort = rule.FromPort;
  if (rule.ToPort !== undefined) state.ToPort = rule.ToPort;
  if (rule.CidrIpv4 !== undefined) state.CidrIpv4 = rule.CidrIpv4;
  if (rule.CidrIpv6 !== undefined) state.CidrIpv6 = rule.CidrIpv6;
  if (rule.Description !== undefined) state.Description = rule.Description;
  if (rule.Tags !== undefined && rule.Tags.length > 0) {
    state.Tags = rule.Tags.map((tag) => ({ Key: tag.Key, Value: tag.Value }));
  }
  return state;
}

function changedRule(entry: SgRuleEntry): Extract<Change, { kind: "sg-rules-revoked" }>["rules"][number] {
  return {
    ...(entry.securityGroupRuleId ? { securityGroupRuleId: entry.securityGroupRuleId } : {}),
    ipProtocol: entry.ipProtocol,
    fromPort: entry.fromPort,
    toPort: entry.toPort,
    ...(entry.cidrIpv4 !== undefined ? { cidrIpv4: entry.cidrIpv4 } : {}),
    ...(entry.cidrIpv6 !== undefined ? { cidrIpv6: entry.cidrIpv6 } : {}),
    ...(entry.description !== undefined ? { description: entry.description } : {}),
  };
}

export function sgOpenIngressFix(deps: { ec2: EC2Client }): ProblemFix<LiveGroup> {
  // The one reading and judging of a live group (observe.ts), shared with the real-time path.
  const observer = sgObserver(deps);
  return {
    problem: sgOpenIngress.id,

    readLive: (resource, log) => observer.readLive(resource, log),

    judge: (live, parameters) => observer.verdict(live, parameters).findings,

    plan(targets, live, resource) {
      const groupId = resource.id;
      const entries = targets.flatMap((finding) => (finding.matched.kind === "sg-rule" ? [finding.matched.rule] : []));
      const ids = entries.map((entry) => entry.securityGroupRuleId);
      if (ids.some((id) => !id)) {
        throw new PermanentRemediationError(`a live rule of ${groupId} has no SecurityGroupRuleId`);
      }
      const ruleIds = ids as string[];
      const byId = new Map(live.judged.rules.map((rule) => [rule.SecurityGroupRuleId, rule]));
      const before = { kind: "sg-rules" as const, groupId, rules: ruleIds.map((id) => sgRuleState(byId.get(id)!)) };
      return {
        before,
        changes: [{ kind: "sg-rules-revoked", groupId, rules: entries.map(changedRule) }],
        async apply() {
          const output = await deps.ec2.send(
            new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds }),
          );
          const unknown = output.UnknownIpPermissions ?? [];
          const revoked = output.RevokedSecurityGroupRules;
          const missing = revoked
            ? ruleIds.filter((id) => !revoked.some((rule) => rule.SecurityGroupRuleId === id))
            : [];
          if (output.Return !== true || unknown.length > 0 || missing.length > 0) {
            throw new TransientRemediationError(
              `RevokeSecurityGroupIngress on ${groupId} did not revoke everything (Return ${String(output.Return)}, ` +
                `${unknown.length} unknown permission(s)${missing.length ? `, not revoked: ${missing.join(", ")}` : ""}); ` +
                `revoking ${entries.map(describeSgRule).join("; ")}`,
            );
          }
          return { kind: "sg-rules", groupId, rules: [] };
        },
      };
    },
  };
}

export const fix: FixModule = {
  problem: sgOpenIngress.id,
  create: ({ client }) => sgOpenIngressFix({ ec2: client(EC2Client) }),
};
