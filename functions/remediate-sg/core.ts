// Security-group remediation: re-reads the live group, re-checks exemptions against its live tags, re-judges its
// rules with the deployed rule parameters, and revokes exactly the instructed entries that still violate,
// by SecurityGroupRuleId. Other CIDRs, group references and prefix lists in the same permission are untouched.
import {
  DescribeSecurityGroupsCommand,
  type EC2Client,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { problemsFixedBy } from "../../problems/index.ts";
import { judgeSgEntries, type SgOpenIngressParams, sgEntriesFromDescribedRules } from "../../rules/sg-open-ingress.ts";
import type { Problem, SgRuleEntry } from "../../rules/types.ts";
import { PermanentRemediationError, TransientRemediationError } from "../../shared/aws-errors.ts";
import { describeSgRule } from "../../shared/describe.ts";
import { type AllowlistEntry, describeExemption, findExemption } from "../../shared/exemptions.ts";
import { matchedEntryKey } from "../../shared/instruction.ts";
import type { SgRuleState } from "../../shared/ledger.ts";
import { describeGroupRules } from "../../shared/live-sg.ts";
import { type FixFunction, type FixPlan, type RemediationDeps, runRemediation } from "../../shared/remediation.ts";
import type { Change } from "../../shared/report.ts";

export const REMEDIATE_SG_PROBLEMS: readonly Problem[] = problemsFixedBy("remediate-sg");

export interface RemediateSgDeps extends RemediationDeps {
  ec2: EC2Client;
  allowlist: readonly AllowlistEntry[];
}

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

/** Re-read, re-check, re-judge (deployed parameters); plan the revocation of exactly the instructed entries that still violate. */
export function sgFix(deps: Pick<RemediateSgDeps, "ec2" | "allowlist" | "now">): FixFunction {
  return async (instruction, { log, parameters, resourceArn }): Promise<FixPlan> => {
    const groupId = instruction.resource.id;
    // The deployed parameters (validated at cold start), never the instruction's.
    const params = parameters as SgOpenIngressParams;

    // InvalidGroup.NotFound is classified "gone": the runner records a skip.
    const groups = await deps.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const group = groups.SecurityGroups?.find((candidate) => candidate.GroupId === groupId);
    if (!group) return { outcome: "skipped", reason: `nothing to do: security group ${groupId} no longer exists` };

    const tags: Record<string, string> = {};
    for (const tag of group.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
    const check = findExemption(
      {
        resourceId: groupId,
        ...(resourceArn ? { arn: resourceArn } : {}),
        tags,
        problem: instruction.problem,
      },
      deps.allowlist,
      deps.now(),
    );
    for (const note of check.notes) log.warn("exemption not applied", { note });
    if (check.exemption) return { outcome: "skipped", reason: describeExemption(check.exemption) };

    const live = await describeGroupRules(deps.ec2, groupId);
    let entries: SgRuleEntry[];
    try {
      entries = sgEntriesFromDescribedRules(live);
    } catch (error) {
      throw new PermanentRemediationError(`live rules of ${groupId} cannot be judged: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const wanted = new Set(instruction.matched.map(matchedEntryKey));
    const targets: SgRuleEntry[] = [];
    for (const finding of judgeSgEntries(entries, params)) {
      if (finding.matched.kind !== "sg-rule" || !wanted.has(matchedEntryKey(finding.matched))) continue;
      targets.push(finding.matched.rule);
    }
    if (targets.length === 0) {
      return {
        outcome: "skipped",
        reason: `nothing to do: none of the ${instruction.matched.length} instructed rule entries is still open on ${groupId}`,
      };
    }
    if (targets.length < wanted.size) {
      log.info("some instructed entries are no longer open: revoking only the rest", {
        instructed: wanted.size,
        revoking: targets.length,
      });
    }

    const ids = targets.map((entry) => entry.securityGroupRuleId);
    if (ids.some((id) => !id)) {
      throw new PermanentRemediationError(`a live rule of ${groupId} has no SecurityGroupRuleId`);
    }
    const ruleIds = ids as string[];
    const byId = new Map(live.map((rule) => [rule.SecurityGroupRuleId, rule]));
    const before = { kind: "sg-rules" as const, groupId, rules: ruleIds.map((id) => sgRuleState(byId.get(id)!)) };
    const changes: Change[] = [{ kind: "sg-rules-revoked", groupId, rules: targets.map(changedRule) }];

    return {
      outcome: "fix",
      before,
      changes,
      async apply() {
        const output = await deps.ec2.send(
          new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds }),
        );
        const unknown = output.UnknownIpPermissions ?? [];
        const revoked = output.RevokedSecurityGroupRules;
        const missing = revoked ? ruleIds.filter((id) => !revoked.some((rule) => rule.SecurityGroupRuleId === id)) : [];
        if (output.Return !== true || unknown.length > 0 || missing.length > 0) {
          throw new TransientRemediationError(
            `RevokeSecurityGroupIngress on ${groupId} did not revoke everything (Return ${String(output.Return)}, ` +
              `${unknown.length} unknown permission(s)${missing.length ? `, not revoked: ${missing.join(", ")}` : ""}); ` +
              `revoking ${targets.map(describeSgRule).join("; ")}`,
          );
        }
        return { kind: "sg-rules", groupId, rules: [] };
      },
    };
  };
}

export function remediateSecurityGroup(payload: unknown, deps: RemediateSgDeps) {
  return runRemediation(payload, deps, REMEDIATE_SG_PROBLEMS, sgFix(deps));
}
