// Listing the account's manual DB cluster snapshots for `remedy plan --live` where Config does not record them
// (problems/rds-cluster-snapshot-public/inventory.ts): DescribeDBClusterSnapshots paged by Marker,
// DescribeDBClusterSnapshotAttributes each, built into the item the rule judges exactly as it judges Config's.
import {
  type DBClusterSnapshot,
  DBClusterSnapshotNotFoundFault,
  DescribeDBClusterSnapshotAttributesCommand,
  DescribeDBClusterSnapshotsCommand,
  RDSClient,
  RDSServiceException,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { normalizeConfigItem } from "../../../detection/config-item.ts";
import { inventory, leadingWordLower } from "../../../problems/rds-cluster-snapshot-public/inventory.ts";
import { dbClusterSnapshot } from "../../../problems/rds-cluster-snapshot-public/resource.ts";
import { rule } from "../../../problems/rds-snapshot-public/detect.ts";
import { configItem } from "../../fixtures/load.ts";

const PLACE = { accountId: "123456789012", region: "us-east-1" };
const NOW = new Date("2026-11-23T12:00:00.000Z");
const CLIENT = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function lister() {
  const rds = new RDSClient(CLIENT);
  const mock = mockClient(rds);
  const listed = inventory.create({
    client: <C>(Client: new (config: object) => C) => {
      expect(Client).toBe(RDSClient);
      return rds as C;
    },
    now: () => NOW,
    log: silent,
  });
  return { listed, mock };
}

function snapshotNamed(id: string): DBClusterSnapshot {
  return { DBClusterSnapshotIdentifier: id, DBClusterIdentifier: "cluster", SnapshotType: "manual" };
}

const judge = (raw: unknown) => rule.evaluate(normalizeConfigItem(raw), rule.parseParameters({}));

describe("DB cluster snapshot inventory", () => {
  it("spells fields as Config does for a cluster snapshot", () => {
    expect(
      [
        "DBClusterSnapshotIdentifier",
        "DBClusterIdentifier",
        "IAMDatabaseAuthenticationEnabled",
        "StorageEncrypted",
        "SourceDBClusterSnapshotArn",
        "AvailabilityZones",
      ].map(leadingWordLower),
    ).toEqual([
      "dbclusterSnapshotIdentifier",
      "dbclusterIdentifier",
      "iamdatabaseAuthenticationEnabled",
      "storageEncrypted",
      "sourceDBClusterSnapshotArn",
      "availabilityZones",
    ]);
  });

  it("builds the item Config records, judged alike, paging by Marker and sending only the type's reads", async () => {
    const item = configItem<Record<string, any>>("AWS_RDS_DBClusterSnapshot", "public-and-shared");
    const c = item.configuration;
    const snapshot: DBClusterSnapshot = {
      AvailabilityZones: c.availabilityZones,
      DBClusterSnapshotIdentifier: c.dbclusterSnapshotIdentifier,
      DBClusterIdentifier: c.dbclusterIdentifier,
      SnapshotCreateTime: new Date(c.snapshotCreateTime),
      Engine: c.engine,
      SnapshotType: c.snapshotType,
      StorageEncrypted: c.storageEncrypted,
      DBClusterSnapshotArn: c.dbclusterSnapshotArn,
      IAMDatabaseAuthenticationEnabled: c.iamdatabaseAuthenticationEnabled,
      TagList: Object.entries(item.tags as Record<string, string>).map(([Key, Value]) => ({ Key, Value })),
    };
    const attributes = (
      item.supplementaryConfiguration.DBClusterSnapshotAttributes as {
        attributeName: string;
        attributeValues: string[];
      }[]
    ).map((attribute) => ({
      AttributeName: attribute.attributeName,
      AttributeValues: attribute.attributeValues,
    }));
    const { listed, mock } = lister();
    mock
      .on(DescribeDBClusterSnapshotsCommand, { SnapshotType: "manual" }, true)
      .resolves({ DBClusterSnapshots: [snapshot], Marker: "m-2" })
      .on(DescribeDBClusterSnapshotsCommand, { SnapshotType: "manual", Marker: "m-2" }, true)
      .resolves({ DBClusterSnapshots: [snapshotNamed("later")] })
      .on(DescribeDBClusterSnapshotAttributesCommand)
      .resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotAttributes: [] } })
      .on(DescribeDBClusterSnapshotAttributesCommand, { DBClusterSnapshotIdentifier: item.resourceId })
      .resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotAttributes: attributes } });
    const first = await listed.page(PLACE, undefined);
    expect(first).toMatchObject({ nextToken: "m-2", unread: [], gone: 0 });
    const [built] = first.items as Record<string, any>[];
    expect(built).toMatchObject({
      configurationItemCaptureTime: NOW.toISOString(),
      configurationItemStatus: "OK",
      resourceType: dbClusterSnapshot.type,
      resourceId: item.resourceId,
      resourceName: item.resourceName,
      ARN: item.ARN,
      availabilityZone: item.availabilityZone,
      resourceCreationTime: item.resourceCreationTime,
      relationships: item.relationships,
      tags: item.tags,
      supplementaryConfiguration: item.supplementaryConfiguration,
    });
    for (const key of Object.keys(built!.configuration)) {
      expect(built!.configuration[key], key).toEqual(item.configuration[key]);
    }
    expect(judge(built)).toEqual(judge(item));
    expect(judge(built).compliance).toBe("NON_COMPLIANT");

    const second = await listed.page(PLACE, first.nextToken);
    expect(second.nextToken).toBeUndefined();
    expect(second.items.map((entry) => entry.resourceId)).toEqual(["later"]);
    expect(mock.commandCalls(DescribeDBClusterSnapshotsCommand).map((call) => call.args[0].input)).toEqual([
      { SnapshotType: "manual" },
      { SnapshotType: "manual", Marker: "m-2" },
    ]);
    expect(mock.commandCalls(DescribeDBClusterSnapshotAttributesCommand).map((call) => call.args[0].input)).toEqual([
      { DBClusterSnapshotIdentifier: item.resourceId },
      { DBClusterSnapshotIdentifier: "later" },
    ]);
    for (const call of mock.calls()) {
      expect(dbClusterSnapshot.reads.permissions).toHaveProperty(call.args[0].constructor.name);
    }
  });

  it("a cluster snapshot gone before its attributes are read is counted gone; an unreadable one is unread", async () => {
    const { listed, mock } = lister();
    mock
      .on(DescribeDBClusterSnapshotsCommand)
      .resolves({ DBClusterSnapshots: ["kept", "deleted", "denied"].map(snapshotNamed) })
      .on(DescribeDBClusterSnapshotAttributesCommand)
      .resolves({ DBClusterSnapshotAttributesResult: { DBClusterSnapshotAttributes: [] } })
      .on(DescribeDBClusterSnapshotAttributesCommand, { DBClusterSnapshotIdentifier: "deleted" })
      .rejects(
        new DBClusterSnapshotNotFoundFault({
          $metadata: { httpStatusCode: 404 },
          message: "DBClusterSnapshot deleted not found.",
        }),
      )
      .on(DescribeDBClusterSnapshotAttributesCommand, { DBClusterSnapshotIdentifier: "denied" })
      .rejects(
        new RDSServiceException({
          name: "AccessDenied",
          $fault: "client",
          $metadata: { httpStatusCode: 403 },
          message: "not authorized",
        }),
      );
    const page = await listed.page(PLACE, undefined);
    expect(page.items.map((entry) => entry.resourceId)).toEqual(["kept"]);
    expect(page.gone).toBe(1);
    expect(page.unread).toEqual([
      { resourceId: "denied", reason: "its attributes cannot be read: AccessDenied: not authorized" },
    ]);
  });
});
