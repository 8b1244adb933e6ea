// An RDS DB cluster snapshot whose restore attribute holds "all", so any AWS account can copy or restore it: found by
// problems/rds-snapshot-public/detect.ts (the rule of both public-snapshot problems), fixed by removing exactly "all"
// from the attribute; the accounts it is shared with by id stay.
import {
  CLUSTER_SNAPSHOT_SECURITY_HUB_CONTROLS,
  RDS_SNAPSHOT_PROWLER_CHECKS,
} from "../rds-snapshot-public/triggers.ts";
import type { ProblemSpec } from "../types.ts";
import { rdsClusterSnapshotPublicContract } from "./contract.ts";
import { dbClusterSnapshot } from "./resource.ts";
import { rdsClusterSnapshotPublicWords } from "./words.ts";

export const rdsClusterSnapshotPublic = {
  id: "rds-cluster-snapshot-public",
  resource: dbClusterSnapshot,
  resourceType: dbClusterSnapshot.type,
  ruleId: "rds-snapshot-public",
  matchedKind: "rds-cluster-snapshot-restore",
  contract: rdsClusterSnapshotPublicContract,
  remediation: "remediate-rds",
  fix: {
    permissions: {
      DescribeDBClusterSnapshotsCommand: "rds:DescribeDBClusterSnapshots",
      DescribeDBClusterSnapshotAttributesCommand: "rds:DescribeDBClusterSnapshotAttributes",
      ModifyDBClusterSnapshotAttributeCommand: "rds:ModifyDBClusterSnapshotAttribute",
    },
    env: [],
    // Each is granted on the account's and region's cluster snapshots (arn:…:cluster-snapshot:*), none on "*".
    unscopedActions: [],
  },
  violatingWord: "public",
  title: "RDS cluster snapshot public to every AWS account",
  training: dbClusterSnapshot.training,
  words: rdsClusterSnapshotPublicWords,
  realtime: {
    cloudTrail: [
      // As every RDS call's: DBClusterSnapshotIdentifier → dBClusterSnapshotIdentifier.
      {
        eventSource: "rds.amazonaws.com",
        eventName: "ModifyDBClusterSnapshotAttribute",
        resourceIds: ["requestParameters.dBClusterSnapshotIdentifier"],
      },
    ],
    securityHub: { controls: CLUSTER_SNAPSHOT_SECURITY_HUB_CONTROLS, generatorIds: RDS_SNAPSHOT_PROWLER_CHECKS },
  },
} as const satisfies ProblemSpec<"rds-cluster-snapshot-public">;
