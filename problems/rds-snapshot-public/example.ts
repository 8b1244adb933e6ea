// One DB snapshot public once: a manual snapshot of a DB instance whose restore attribute holds "all" next to one
// account id (a partner's: sharing by id, which the fix must keep), tagged. Also how Config records a live snapshot
// of either kind (snapshotConfigItem), and how an example reads one back, shared with the DB cluster snapshot's
// example (problems/rds-cluster-snapshot-public/example.ts).
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  type DBClusterSnapshot,
  type DBSnapshot,
  DescribeDBSnapshotsCommand,
  ModifyDBSnapshotAttributeCommand,
  RDSClient,
  type Tag,
} from "@aws-sdk/client-rds";
import type { Change } from "../../contract/report.ts";
import type { MatchedEntry } from "../../detection/types.ts";
import {
  type ConfigScope,
  configScope,
  type ExampleClients,
  type ExampleState,
  type ProblemExample,
} from "../example.ts";
import { PUBLIC_RESTORE_VALUE, RESTORE_ATTRIBUTE } from "./contract.ts";
import { publicRestoreEntry } from "./detect.ts";
import { DB_SNAPSHOT, type SnapshotFlavor } from "./flavor.ts";
import { dbSnapshotReads, type SnapshotReads } from "./live.ts";
import { rdsSnapshotPublic } from "./spec.ts";

/** The partner account the example's snapshots are shared with by id: kept by the fix, untouched by undo. */
export const PARTNER_ACCOUNT = "210987654321";
export const SNAPSHOT_TAGS: Tag[] = [{ Key: "team", Value: "data" }];

/** What an example compares of a live snapshot: its restore attribute's values (sorted), its tags and its type. */
export async function readSnapshot(
  clients: ExampleClients,
  reads: SnapshotReads,
  id: string,
): Promise<ExampleState<string>> {
  const rds = clients.client(RDSClient);
  const facts = await reads.describe(rds, id);
  if (!facts) throw new Error(`${reads.flavor.noun} ${id} is not there`);
  const entries = [...(await reads.readRestore(rds, id))].sort();
  // The restore attribute is all that the fix (or undo) can change on a snapshot.
  return { entries, rest: facts };
}

/** The change the fix records for the example's snapshot: "all" removed, the partner kept. */
export function removedPublic(flavor: SnapshotFlavor, snapshot: string): Change {
  return { kind: flavor.changeKind, snapshot, values: [PUBLIC_RESTORE_VALUE], kept: [PARTNER_ACCOUNT] } as Change;
}

/** Config's lowerCamelCase of an RDS API member, as its items write them: DBSnapshotIdentifier → dBSnapshotIdentifier. */
function configKey(member: string): string {
  return `${member[0]!.toLowerCase()}${member.slice(1)}`;
}

/** A value of the RDS API as Config writes it: dates as ISO strings, members renamed, lists and objects inside too. */
function configValue(value: unknown, rename: (member: string) => string): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((element) => configValue(element, rename));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([member, inner]) => [rename(member), configValue(inner, rename)]),
    );
  }
  return value;
}

/** How Config spells a DB cluster snapshot's members (its resource schema): "DBCluster…" → "dbcluster…". */
function clusterConfigKey(member: string): string {
  if (member.startsWith("DBCluster")) return `dbcluster${member.slice("DBCluster".length)}`;
  if (member === "IAMDatabaseAuthenticationEnabled") return "iamdatabaseAuthenticationEnabled";
  return configKey(member);
}

/**
 * A live snapshot as Config records it: its description (camelCase, as Config's resource schema spells it, tags
 * apart) as `configuration`, its attributes as `supplementaryConfiguration` (camelCase), its tags as a map.
 */
export function snapshotConfigItem(
  flavor: SnapshotFlavor,
  snapshot: DBSnapshot | DBClusterSnapshot,
  restore: readonly string[],
  capturedAt: Date,
  scope: ConfigScope,
): Record<string, unknown> {
  const { TagList = [], ...described } = snapshot;
  const cluster = flavor.resourceType === "AWS::RDS::DBClusterSnapshot";
  const id = cluster
    ? (snapshot as DBClusterSnapshot).DBClusterSnapshotIdentifier
    : (snapshot as DBSnapshot).DBSnapshotIdentifier;
  const arn = cluster ? (snapshot as DBClusterSnapshot).DBClusterSnapshotArn : (snapshot as DBSnapshot).DBSnapshotArn;
  const created = snapshot.SnapshotCreateTime ?? capturedAt;
  const source = cluster
    ? (snapshot as DBClusterSnapshot).DBClusterIdentifier
    : (snapshot as DBSnapshot).DBInstanceIdentifier;
  return {
    relatedEvents: [],
    relationships: source
      ? [
          cluster
            ? { resourceName: source, resourceType: "AWS::RDS::DBCluster", name: "Is associated with DBCluster" }
            : { resourceName: source, resourceType: "AWS::RDS::DBInstance", name: "Is associated with DBInstance" },
        ]
      : [],
    configuration: configValue(described, cluster ? clusterConfigKey : configKey),
    supplementaryConfiguration: {
      [flavor.configAttributes]: [{ attributeName: RESTORE_ATTRIBUTE, attributeValues: [...restore] }],
    },
    tags: Object.fromEntries(TagList.map((tag) => [tag.Key ?? "", tag.Value ?? ""])),
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationStateId: capturedAt.getTime(),
    awsAccountId: scope.accountId,
    configurationItemStatus: "ResourceDiscovered",
    resourceType: flavor.resourceType,
    resourceId: id,
    resourceName: id,
    ARN: arn,
    awsRegion: scope.region,
    availabilityZone: cluster
      ? "Multiple Availability Zones"
      : ((snapshot as DBSnapshot).AvailabilityZone ?? "Not Applicable"),
    configurationStateMd5Hash: "",
    resourceCreationTime: created.toISOString(),
  };
}

export const example: ProblemExample<string> = {
  problem: rdsSnapshotPublic.id,

  async create(clients, name) {
    const rds = clients.client(RDSClient);
    const instance = `${name}-db`;
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: instance,
        Engine: "postgres",
        DBInstanceClass: "db.t3.micro",
        AllocatedStorage: 20,
        MasterUsername: "remedy",
        MasterUserPassword: "example-password-1",
      }),
    );
    await rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: instance, DBSnapshotIdentifier: name, Tags: SNAPSHOT_TAGS }),
    );
    await rds.send(
      new ModifyDBSnapshotAttributeCommand({
        DBSnapshotIdentifier: name,
        AttributeName: RESTORE_ATTRIBUTE,
        ValuesToAdd: [PUBLIC_RESTORE_VALUE, PARTNER_ACCOUNT],
      }),
    );
    return name;
  },

  violation: (): MatchedEntry => publicRestoreEntry(DB_SNAPSHOT),

  recordedChange: (snapshot) => removedPublic(DB_SNAPSHOT, snapshot),

  pinnedInstructionId: "02dff3eabd208aa8346d1c6a68e065cd",

  async configItem(clients, id, capturedAt) {
    const rds = clients.client(RDSClient);
    const { DBSnapshots = [] } = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    const [snapshot] = DBSnapshots;
    if (!snapshot) throw new Error(`DescribeDBSnapshots ${id} answered no snapshot`);
    const restore = await dbSnapshotReads.readRestore(rds, id);
    return snapshotConfigItem(DB_SNAPSHOT, snapshot, restore, capturedAt, await configScope(clients, rds));
  },

  read: (clients, id) => readSnapshot(clients, dbSnapshotReads, id),

  isViolation: (value) => value === PUBLIC_RESTORE_VALUE,
};
