// Reading a security group live and judging it as the rule does: its tags (DescribeSecurityGroups) and every rule
// (DescribeSecurityGroupRules, every page), each normalised to the entries the rule judges. The fix (fix.ts) and the
// real-time path read a group only through here.
import { DescribeSecurityGroupsCommand, EC2Client, type SecurityGroupRule } from "@aws-sdk/client-ec2";
import type { SgRuleEntry } from "../../detection/types.ts";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import type { ObserveModule, ResourceObserver } from "../observe.ts";
import { type SgOpenIngressParams, sgEntriesFromDescribedRules, sgVerdict } from "./detect.ts";
import { describeGroupRules } from "./live.ts";
import { securityGroup } from "./resource.ts";

/** The group's live rules as the rule judges them, and as read (a fix's ledger before-state picks from these). */
export interface LiveGroup {
  entries: SgRuleEntry[];
  rules: SecurityGroupRule[];
}

export function sgObserver(deps: { ec2: EC2Client }): ResourceObserver<LiveGroup> {
  return {
    resourceType: securityGroup.type,

    async readLive(resource) {
      const groupId = resource.id;
      // InvalidGroup.NotFound is classified "gone" by the callers.
      const groups = await deps.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
      const group = groups.SecurityGroups?.find((candidate) => candidate.GroupId === groupId);
      if (!group) return undefined;
      const tags: Record<string, string> = {};
      for (const tag of group.Tags ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
      const rules = await describeGroupRules(deps.ec2, groupId);
      let entries: SgRuleEntry[];
      try {
        entries = sgEntriesFromDescribedRules(rules);
      } catch (error) {
        throw new PermanentRemediationError(`live rules of ${groupId} cannot be judged: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return { tags, judged: { entries, rules } };
    },

    verdict: (live, parameters) => sgVerdict(live.judged.entries, parameters as SgOpenIngressParams),
  };
}

export const observe: ObserveModule = {
  resourceType: securityGroup.type,
  create: ({ client }) => sgObserver({ ec2: client(EC2Client) }) as ResourceObserver,
};
