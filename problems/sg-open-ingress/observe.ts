// Reading a security group live and judging it as its rules do: its name, VPC and tags (DescribeSecurityGroups),
// every rule (DescribeSecurityGroupRules, every page), each normalised to the entries the rules judge, and for a
// VPC's default group, when the reader is asked to, the network interfaces that use it (DescribeNetworkInterfaces):
// what problems/sg-default-rules/ needs to know before it revokes anything. The fixes and the real-time path read a
// group only through here.
import { DescribeSecurityGroupsCommand, EC2Client, type SecurityGroupRule } from "@aws-sdk/client-ec2";
import type { SgRuleEntry } from "../../detection/types.ts";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import type { ObserveModule, ResourceObserver } from "../observe.ts";
import {
  DEFAULT_GROUP_NAME,
  defaultGroupOfLive,
  SG_DEFAULT_RULES_RULE_ID,
  sgDefaultRulesVerdict,
} from "../sg-default-rules/detect.ts";
import { describeGroupInterfaces } from "../sg-default-rules/live.ts";
import { SG_OPEN_INGRESS_RULE_ID, type SgOpenIngressParams, sgEntriesFromDescribedRules, sgVerdict } from "./detect.ts";
import { describeGroupRules } from "./live.ts";
import { securityGroup } from "./resource.ts";

/** The group's live rules as the rules judge them, and as read (a fix's ledger before-state picks from these). */
export interface LiveGroup {
  /** sg-open-ingress's entries: ingress rules with a CIDR. */
  entries: SgRuleEntry[];
  rules: SecurityGroupRule[];
  groupName?: string;
  vpcId?: string;
  /** For a default group read with its interfaces: the ids of those that use it; otherwise undefined (not read). */
  interfaces?: string[];
}

export interface SgObserverOptions {
  /** Read which network interfaces use a default group (ec2:DescribeNetworkInterfaces). */
  interfacesOfDefaultGroups?: boolean;
}

/** Each rule of this resource type judging a group read here, by rule id. */
const VERDICTS: Readonly<Record<string, (live: LiveGroup, parameters: unknown) => ReturnType<typeof sgVerdict>>> = {
  [SG_OPEN_INGRESS_RULE_ID]: (live, parameters) => sgVerdict(live.entries, parameters as SgOpenIngressParams),
  [SG_DEFAULT_RULES_RULE_ID]: (live) => sgDefaultRulesVerdict(defaultGroupOfLive(live)),
};

export function sgObserver(deps: { ec2: EC2Client }, options: SgObserverOptions = {}): ResourceObserver<LiveGroup> {
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
      const judged: LiveGroup = { entries, rules };
      if (group.GroupName !== undefined) judged.groupName = group.GroupName;
      if (group.VpcId) judged.vpcId = group.VpcId;
      if (options.interfacesOfDefaultGroups && group.GroupName === DEFAULT_GROUP_NAME) {
        judged.interfaces = await describeGroupInterfaces(deps.ec2, groupId);
      }
      return { tags, judged };
    },

    verdict(live, parameters, ruleId = SG_OPEN_INGRESS_RULE_ID) {
      const verdict = Object.hasOwn(VERDICTS, ruleId) ? VERDICTS[ruleId] : undefined;
      if (!verdict) throw new Error(`rule ${ruleId} does not judge ${securityGroup.label}s`);
      return verdict(live.judged, parameters);
    },
  };
}

export const observe: ObserveModule = {
  resourceType: securityGroup.type,
  // The real-time path judges every rule of the type, so it reads what each needs.
  create: ({ client }) =>
    sgObserver({ ec2: client(EC2Client) }, { interfacesOfDefaultGroups: true }) as ResourceObserver,
};
