// Rule "EBS snapshots public to every AWS account": a snapshot whose createVolumePermission includes the group `all`.
// The same judgement serves the items the inventory builds (the periodic scan, `remedy plan --live`) and the live
// permission list the fix and the real-time path read (observe.ts). Accounts a snapshot is shared with by id are never
// findings: sharing with a named account is a choice, public sharing is the hole.
//
// The item: Config does not record EBS snapshots, so inventory.ts builds it from EC2's own answers, in EC2's own
// shapes: `configuration` is the snapshot as DescribeSnapshots returns it, `supplementaryConfiguration.
// CreateVolumePermissions` the list DescribeSnapshotAttribute (createVolumePermission) returns.
import { InvalidConfigItemError } from "../../detection/config-item.ts";
import {
  type ConfigItem,
  type Finding,
  notRecordedVerdict,
  type RemedyRule,
  RuleParameterError,
  type Verdict,
} from "../../detection/types.ts";
import { PermanentError } from "../../platform/errors.ts";
import type { CreateVolumePermissionState } from "./contract.ts";

export const EBS_SNAPSHOT_PUBLIC_RULE_ID = "ebs-snapshot-public";
/** The one group EC2 knows: every AWS account. */
export const PUBLIC_GROUP = "all";

/** The rule takes no parameters: there is nothing to tune about "public". */
export type EbsSnapshotPublicParams = Readonly<Record<string, never>>;

const NO_PARAMETERS: EbsSnapshotPublicParams = Object.freeze({});

export function parseEbsSnapshotPublicParameters(raw: Record<string, unknown>): EbsSnapshotPublicParams {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new RuleParameterError("ruleParameters", "must be an object of parameter names to values");
  }
  const [name] = Object.keys(raw);
  if (name !== undefined) throw new RuleParameterError(name, "unknown parameter (this rule takes none)");
  return NO_PARAMETERS;
}

/** A permission list that cannot be judged (the caller says where it came from, in its own error class). */
export class InvalidSnapshotPermissionsError extends PermanentError {
  override name = "InvalidSnapshotPermissionsError";
}

function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return typeof value === "object" ? "an object" : String(value);
}

/**
 * The permission list as EC2 returns it, checked: each entry a group (only `all` exists) or a 12-digit account id,
 * never both. Throws InvalidSnapshotPermissionsError naming the entry.
 */
export function checkedPermissions(value: unknown): CreateVolumePermissionState[] {
  if (!Array.isArray(value)) {
    throw new InvalidSnapshotPermissionsError(`CreateVolumePermissions is ${describeValue(value)}, expected a list`);
  }
  return value.map((entry, index) => {
    const where = `CreateVolumePermissions[${index}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new InvalidSnapshotPermissionsError(`${where} is ${describeValue(entry)}, expected an object`);
    }
    const { Group, UserId } = entry as Record<string, unknown>;
    if ((Group === undefined) === (UserId === undefined)) {
      throw new InvalidSnapshotPermissionsError(
        `${where} names ${Group === undefined ? "neither" : "both"} a Group and a UserId`,
      );
    }
    // An unknown group could share more widely than Remedy can tell: unjudgeable, never a silent COMPLIANT.
    if (Group !== undefined && Group !== PUBLIC_GROUP) {
      throw new InvalidSnapshotPermissionsError(`${where}.Group is ${describeValue(Group)}, expected "all"`);
    }
    if (UserId !== undefined && (typeof UserId !== "string" || !/^\d{12}$/.test(UserId))) {
      throw new InvalidSnapshotPermissionsError(`${where}.UserId is ${describeValue(UserId)}, expected an account id`);
    }
    return Group !== undefined ? { Group } : { UserId: UserId as string };
  });
}

/** The accounts a permission list shares the snapshot with, by id, in its order. */
export function sharedAccounts(permissions: readonly CreateVolumePermissionState[]): string[] {
  return permissions.flatMap((permission) => (permission.UserId !== undefined ? [permission.UserId] : []));
}

export function isPublic(permissions: readonly CreateVolumePermissionState[]): boolean {
  return permissions.some((permission) => permission.Group === PUBLIC_GROUP);
}

function accounts(count: number): string {
  return `${count} ${count === 1 ? "account" : "accounts"}`;
}

/** The rule's verdict on a checked permission list: one finding (the group `all`) when it is public. */
export function snapshotVerdict(permissions: readonly CreateVolumePermissionState[]): Verdict {
  const shared = sharedAccounts(permissions).length;
  if (!isPublic(permissions)) {
    return {
      compliance: "COMPLIANT",
      annotation: shared > 0 ? `not public (shared with ${accounts(shared)} by id)` : "not public (not shared)",
      findings: [],
    };
  }
  const finding: Finding = {
    problem: "ebs-snapshot-public",
    matched: { kind: "ebs-snapshot-permission", group: PUBLIC_GROUP },
    reason: "createVolumePermission includes group all: any AWS account can create a volume from it",
  };
  return {
    compliance: "NON_COMPLIANT",
    annotation: `public: createVolumePermission includes group all (any AWS account can copy its data)${shared > 0 ? `; also shared with ${accounts(shared)} by id, which stay` : ""}`,
    findings: [finding],
  };
}

export const ebsSnapshotPublicRule: RemedyRule<EbsSnapshotPublicParams> = {
  id: EBS_SNAPSHOT_PUBLIC_RULE_ID,
  problems: ["ebs-snapshot-public"],
  resourceTypes: ["AWS::EC2::Snapshot"],
  parseParameters: parseEbsSnapshotPublicParameters,
  evaluate(item: ConfigItem): Verdict {
    if (item.configuration === null) {
      return notRecordedVerdict(item);
    }
    try {
      return snapshotVerdict(checkedPermissions(item.supplementaryConfiguration.CreateVolumePermissions));
    } catch (error) {
      if (!(error instanceof InvalidSnapshotPermissionsError)) throw error;
      throw new InvalidConfigItemError(`supplementaryConfiguration.${error.message}`);
    }
  },
};

/** This folder's rule (detection/rules.ts loads it by the rule id). */
export const rule = ebsSnapshotPublicRule;
