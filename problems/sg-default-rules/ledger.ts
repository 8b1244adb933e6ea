// What a ledger record of this problem's fix is, for the security group's undo (problems/sg-open-ingress/undo.ts,
// the undo of the resource type's sg-rules state): its before-state holds rules of a VPC's default group, of any
// direction, source or destination, its one change revoked exactly those, and (when fixed) its after-state holds
// none. Also the key a rule is compared by, live and recorded, so undo re-adds only what is missing. Only the CLI
// reaches this module (through the undo).

import { canonicalJson } from "../../contract/canonical-json.ts";
import type { LedgerRecord, SgRuleState } from "../../contract/ledger.ts";
import type { DescribedSecurityGroupRule } from "../sg-open-ingress/detect.ts";
import { describeSgRuleState } from "../sg-open-ingress/words.ts";
import { inconsistent, onlyChange } from "../undo-kit.ts";
import type { SgDefaultRuleEntry, SgDefaultRulesRevoked } from "./contract.ts";
import { DEFAULT_GROUP_NAME, defaultRuleEntriesFromDescribedRules, sgDefaultRuleKey } from "./detect.ts";

type SgRulesRecord = LedgerRecord & {
  before: { kind: "sg-rules"; groupId: string; groupName?: string; rules: SgRuleState[] };
};

/** The key of a rule as the API (or the ledger) has it, or undefined when it cannot be read as one rule. */
export function defaultRuleKeyOf(rule: DescribedSecurityGroupRule): string | undefined {
  try {
    const [entry] = defaultRuleEntriesFromDescribedRules([rule]);
    return entry ? sgDefaultRuleKey(entry) : undefined;
  } catch {
    return undefined;
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return canonicalJson([...a].sort()) === canonicalJson([...b].sort());
}

/**
 * Throws UndoError (inconsistent) unless the record is what this problem's fix writes (the undo has checked that its
 * before-state is its resource's, and checks its after-state).
 */
export function assertDefaultRulesRecord(record: SgRulesRecord): void {
  const { before } = record;
  if (before.groupName !== DEFAULT_GROUP_NAME) {
    throw inconsistent(
      record,
      `its before-state is of group ${JSON.stringify(before.groupName ?? null)}, not a VPC's default group (the only group ${record.problem} revokes rules of)`,
    );
  }
  if (before.rules.length === 0) throw inconsistent(record, "its before-state holds no rule, yet a fix revokes some");
  const change = onlyChange(record, "sg-default-rules-revoked");
  if (change.groupId !== before.groupId) {
    throw inconsistent(record, `its change revoked rules of ${change.groupId}, not of ${before.groupId}`);
  }
  const restored = before.rules.map((rule, index) => {
    const where = `before rule ${index + 1} (${describeSgRuleState(rule)})`;
    if (rule.GroupId !== undefined && rule.GroupId !== before.groupId) {
      throw inconsistent(record, `${where} belongs to security group ${rule.GroupId}, not ${before.groupId}`);
    }
    const key = defaultRuleKeyOf(rule);
    if (key === undefined) {
      throw inconsistent(
        record,
        `${where} cannot be read as one rule (a direction and exactly one source or destination)`,
      );
    }
    return key;
  });
  const revoked = change.rules.map((rule: SgDefaultRulesRevoked["rules"][number]) =>
    sgDefaultRuleKey(rule as SgDefaultRuleEntry),
  );
  if (!sameKeys(restored, revoked)) {
    throw inconsistent(
      record,
      `the rules it would re-authorize (${restored.join("; ")}) are not the rules its change revoked (${revoked.join("; ") || "none"})`,
    );
  }
}
