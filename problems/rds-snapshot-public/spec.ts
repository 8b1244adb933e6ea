// An RDS DB snapshot whose restore attribute holds "all", so any AWS account can copy or restore it: found by
// problems/rds-snapshot-public/detect.ts (the rule of both public-snapshot problems), fixed by removing exactly "all"
// from the attribute; the accounts it is shared with by id stay.
import type { ProblemSpec } from "../types.ts";
import { rdsSnapshotPublicContract } from "./contract.ts";
import { dbSnapshot } from "./resource.ts";
import { RDS_SNAPSHOT_PROWLER_CHECKS, RDS_SNAPSHOT_SECURITY_HUB_CONTROLS } from "./triggers.ts";
import { rdsSnapshotPublicWords } from "./words.ts";

export const rdsSnapshotPublic = {
  id: "rds-snapshot-public",
  resource: dbSnapshot,
  resourceType: dbSnapshot.type,
  ruleId: "rds-snapshot-public",
  matchedKind: "rds-snapshot-restore",
  contract: rdsSnapshotPublicContract,
  // Both public-snapshot problems: one function, granted each problem's actions on its own resource type only.
  remediation: "remediate-rds",
  fix: {
    permissions: {
      DescribeDBSnapshotsCommand: "rds:DescribeDBSnapshots",
      DescribeDBSnapshotAttributesCommand: "rds:DescribeDBSnapshotAttributes",
      ModifyDBSnapshotAttributeCommand: "rds:ModifyDBSnapshotAttribute",
    },
    env: [],
    // Each is granted on the account's and region's snapshots (arn:…:snapshot:*), none on "*".
    unscopedActions: [],
  },
  violatingWord: "public",
  title: "RDS snapshot public to every AWS account",
  training: dbSnapshot.training,
  words: rdsSnapshotPublicWords,
  realtime: {
    cloudTrail: [
      // CloudTrail logs RDS's request parameters lowerCamelCase: DBSnapshotIdentifier → dBSnapshotIdentifier.
      {
        eventSource: "rds.amazonaws.com",
        eventName: "ModifyDBSnapshotAttribute",
        resourceIds: ["requestParameters.dBSnapshotIdentifier"],
      },
    ],
    securityHub: { controls: RDS_SNAPSHOT_SECURITY_HUB_CONTROLS, generatorIds: RDS_SNAPSHOT_PROWLER_CHECKS },
  },
} as const satisfies ProblemSpec<"rds-snapshot-public">;
