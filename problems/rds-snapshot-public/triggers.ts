// The Security Hub controls and third-party checks whose findings hint at a public snapshot, for both problems (each
// of its own resource type: a finding names the snapshot's ASFF type, AwsRdsDbSnapshot or AwsRdsDbClusterSnapshot).

/** [RDS.1] RDS snapshot should be private: AWS Config's rds-snapshots-public-prohibited, on both snapshot types. */
export const RDS_SNAPSHOT_SECURITY_HUB_CONTROLS = ["RDS.1"] as const;

/**
 * DB cluster snapshots of DocumentDB and Neptune (AWS::RDS::DBClusterSnapshot, read and shared through the RDS API):
 * [DocumentDB.3] Amazon DocumentDB manual cluster snapshots should not be public, [Neptune.3] Neptune DB cluster
 * snapshots should not be public.
 */
export const CLUSTER_SNAPSHOT_SECURITY_HUB_CONTROLS = ["RDS.1", "DocumentDB.3", "Neptune.3"] as const;

/** Prowler's check of both kinds (rds_snapshots_public_access), as its ASFF output names it: prowler-<check id>. */
export const RDS_SNAPSHOT_PROWLER_CHECKS = ["prowler-rds_snapshots_public_access"] as const;
