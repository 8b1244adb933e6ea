// Rule "public RDS snapshots": a DB snapshot or DB cluster snapshot whose `restore` attribute holds "all", which lets
// every AWS account copy or restore it. Account ids in the same attribute are sharing on purpose and never a finding.
// The same reading of the attribute and the same judgement serve Config items (detection) and the live
// Describe*SnapshotAttributes output (the remediation's and the real-time path's re-check). Only manual snapshots can
// be shared at all; the rule judges what the item says, whatever its snapshot type.
import { InvalidConfigItemError } from "../../detection/config-item.ts";
import {
  type ConfigItem,
  type Finding,
  type MatchedEntry,
  notRecordedVerdict,
  type RemedyRule,
  RuleParameterError,
  type Verdict,
} from "../../detection/types.ts";
import { PermanentError } from "../../platform/errors.ts";
import { PUBLIC_RESTORE_VALUE, RESTORE_ATTRIBUTE } from "./contract.ts";
import { CLUSTER_SNAPSHOT, DB_SNAPSHOT, flavorOfType, type SnapshotFlavor } from "./flavor.ts";

export const RDS_SNAPSHOT_PUBLIC_RULE_ID = "rds-snapshot-public";

/** The rule takes no parameters: "all" is public whatever anyone says. */
export type RdsSnapshotParams = Readonly<Record<string, never>>;

/** An attribute list that cannot be read; the caller says where, in its own error class. */
export class SnapshotAttributeProblem extends PermanentError {
  override name = "SnapshotAttributeProblem";
}

export function parseRdsSnapshotParameters(raw: Record<string, unknown>): RdsSnapshotParams {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new RuleParameterError("ruleParameters", "must be an object of parameter names to values");
  }
  const [name] = Object.keys(raw);
  if (name !== undefined) throw new RuleParameterError(name, "unknown parameter (this rule takes none)");
  return Object.freeze({});
}

/** How a list of snapshot attributes names its members: Config's camelCase, or the RDS API's. */
export interface AttributeKeys {
  name: string;
  values: string;
}

export const CONFIG_ATTRIBUTE_KEYS: AttributeKeys = { name: "attributeName", values: "attributeValues" };
export const API_ATTRIBUTE_KEYS: AttributeKeys = { name: "AttributeName", values: "AttributeValues" };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The values of the restore attribute in a list of snapshot attributes (absent or null: none), each once, in the
 * order listed. Throws SnapshotAttributeProblem naming what it cannot read: a value it cannot read could be "all".
 */
export function restoreValuesOf(attributes: unknown, keys: AttributeKeys, where: string): string[] {
  if (attributes === undefined || attributes === null) return [];
  if (!Array.isArray(attributes)) throw new SnapshotAttributeProblem(`${where} is ${describe(attributes)}, not a list`);
  const values: string[] = [];
  attributes.forEach((attribute, index) => {
    if (!isRecord(attribute)) throw new SnapshotAttributeProblem(`${where}[${index}] is ${describe(attribute)}`);
    if (attribute[keys.name] !== RESTORE_ATTRIBUTE) return;
    const listed = attribute[keys.values];
    if (listed === undefined || listed === null) return;
    if (!Array.isArray(listed)) {
      throw new SnapshotAttributeProblem(`${where}[${index}].${keys.values} is ${describe(listed)}, not a list`);
    }
    listed.forEach((value, at) => {
      if (typeof value !== "string") {
        throw new SnapshotAttributeProblem(`${where}[${index}].${keys.values}[${at}] is ${describe(value)}`);
      }
      if (!values.includes(value)) values.push(value);
    });
  });
  return values;
}

/** The account ids (every value but "all") of a restore attribute. */
export function sharedAccounts(restore: readonly string[]): string[] {
  return restore.filter((value) => value !== PUBLIC_RESTORE_VALUE);
}

function accounts(count: number): string {
  return `${count} ${count === 1 ? "account" : "accounts"}`;
}

/** The finding of a public snapshot: the value "all" of its restore attribute. */
export function publicRestoreEntry(flavor: SnapshotFlavor): MatchedEntry {
  return { kind: flavor.matchedKind, value: PUBLIC_RESTORE_VALUE } as MatchedEntry;
}

/** The single judgement of both paths, given the restore attribute's values. */
export function restoreVerdict(flavor: SnapshotFlavor, restore: readonly string[]): Verdict {
  const shared = sharedAccounts(restore);
  if (!restore.includes(PUBLIC_RESTORE_VALUE)) {
    return {
      compliance: "COMPLIANT",
      annotation:
        shared.length > 0
          ? `not public: shared with ${accounts(shared.length)} by id only`
          : "not public: shared with no other account",
      findings: [],
    };
  }
  const finding: Finding = {
    problem: flavor.problem,
    matched: publicRestoreEntry(flavor),
    reason: `"all" in its restore attribute: any AWS account can copy or restore this ${flavor.noun}`,
  };
  return {
    compliance: "NON_COMPLIANT",
    annotation: `public: "all" in its restore attribute lets any AWS account copy or restore this ${flavor.noun}${
      shared.length > 0 ? ` (also shared with ${accounts(shared.length)} by id, which stays)` : ""
    }`,
    findings: [finding],
  };
}

/** The restore attribute as a Config item records it (supplementaryConfiguration, camelCase keys). */
export function restoreValuesFromItem(item: ConfigItem, flavor: SnapshotFlavor): string[] {
  const key = flavor.configAttributes;
  try {
    return restoreValuesOf(
      item.supplementaryConfiguration[key],
      CONFIG_ATTRIBUTE_KEYS,
      `supplementaryConfiguration.${key}`,
    );
  } catch (error) {
    if (error instanceof SnapshotAttributeProblem) throw new InvalidConfigItemError(error.message);
    throw error;
  }
}

export const rdsSnapshotPublicRule: RemedyRule<RdsSnapshotParams> = {
  id: RDS_SNAPSHOT_PUBLIC_RULE_ID,
  problems: [DB_SNAPSHOT.problem, CLUSTER_SNAPSHOT.problem],
  resourceTypes: [DB_SNAPSHOT.resourceType, CLUSTER_SNAPSHOT.resourceType],
  parseParameters: parseRdsSnapshotParameters,
  evaluate(item: ConfigItem): Verdict {
    const flavor = flavorOfType(item.resourceType);
    if (!flavor) {
      return { compliance: "NOT_APPLICABLE", annotation: `${item.resourceType} is not an RDS snapshot`, findings: [] };
    }
    if (item.configuration === null) {
      return notRecordedVerdict(item);
    }
    return restoreVerdict(flavor, restoreValuesFromItem(item, flavor));
  },
};

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** This folder's rule (detection/rules.ts loads it by the rule id). */
export const rule = rdsSnapshotPublicRule;
