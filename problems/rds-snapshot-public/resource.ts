// The resource type rds-snapshot-public is found on: how an RDS DB snapshot is named, linked, identified and opened,
// the secure pattern for it, and its ledger state (this folder holds its undo). Registered through the problem found
// on it (problems/index.ts RESOURCES). A DB cluster snapshot's is problems/rds-cluster-snapshot-public/resource.ts.
import type { ResourceSpec } from "../types.ts";
import { RdsSnapshotStateSchema } from "./contract.ts";

/** A snapshot identifier in an ARN: a manual one (a letter, then letters, digits, hyphens), or `rds:…`, `awsbackup:…`. */
const SNAPSHOT_ID = "((?:[a-z]+:)?[A-Za-z][A-Za-z0-9-]{0,254})";

/** The snapshot id in an RDS ARN of `segment` ("snapshot", "cluster-snapshot"), or undefined. */
export function snapshotIdFromArn(segment: string, arn: string): string | undefined {
  return new RegExp(`^arn:[\\w-]+:rds:[a-z0-9-]+:\\d{12}:${segment}:${SNAPSHOT_ID}$`).exec(arn)?.[1];
}

/** The RDS console's page of a snapshot, for a region code already checked to be one. */
export function rdsConsoleUrl(fragment: string, id: string, region: string): string {
  const r = encodeURIComponent(region);
  return `https://${r}.console.aws.amazon.com/rds/home?region=${r}#${fragment}:id=${encodeURIComponent(id)}`;
}

export const RDS_SNAPSHOT_TERRAFORM = `resource "aws_db_snapshot" "nightly" {
  db_instance_identifier = aws_db_instance.app.identifier
  db_snapshot_identifier = "app-nightly"
  shared_accounts        = ["111122223333"] # the accounts that restore it, by id; never "all"
}

resource "aws_db_instance" "app" {
  # ...
  storage_encrypted = true # an encrypted snapshot cannot be made public
  kms_key_id        = aws_kms_key.rds.arn
}`;

export const dbSnapshot = {
  type: "AWS::RDS::DBSnapshot",
  label: "RDS DB snapshot",
  arn: ({ partition, region, accountId }, id) => `arn:${partition}:rds:${region}:${accountId}:snapshot:${id}`,
  iamScope: ({ partition, region, account }) => ({
    resources: [`arn:${partition}:rds:${region}:${account}:snapshot:*`],
  }),
  consoleUrl: (id, region) => rdsConsoleUrl("db-snapshot", id, region),
  openingEvents: ["ModifyDBSnapshotAttribute"],
  securityHub: {
    type: "AwsRdsDbSnapshot",
    // arn:<partition>:rds:<region>:<account>:snapshot:<id>
    idFrom: (asffId) => snapshotIdFromArn("snapshot", asffId),
  },
  reads: {
    permissions: {
      // The snapshot's tags (TagList) and type; then its restore attribute.
      DescribeDBSnapshotsCommand: "rds:DescribeDBSnapshots",
      DescribeDBSnapshotAttributesCommand: "rds:DescribeDBSnapshotAttributes",
    },
    unscopedActions: [],
  },
  // Where Config does not record it, `remedy plan --live` lists it with inventory.ts (these reads).
  inventory: true,
  // One problem on this type: a compliance change means that problem, whose secure pattern this is.
  training: {
    title: "Secure pattern: share snapshots with named accounts only",
    advice:
      'Never put "all" in a snapshot\'s restore attribute. Share a manual snapshot with the accounts that need it by account id, and encrypt it with a customer managed KMS key: an encrypted snapshot cannot be made public.',
    terraform: RDS_SNAPSHOT_TERRAFORM,
  },
  stateKind: "rds-snapshot",
  state: RdsSnapshotStateSchema,
  folder: "rds-snapshot-public",
} as const satisfies ResourceSpec;
