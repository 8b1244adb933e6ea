// Listing the account's manual DB snapshots for `remedy plan --live` where Config does not record them
// (problems/rds-snapshot-public/inventory.ts): DescribeDBSnapshots paged by Marker, DescribeDBSnapshotAttributes each
// (a few at once), built into the item the rule judges exactly as it judges Config's; gone and unreadable snapshots
// counted apart.
import {
  type DBSnapshot,
  DBSnapshotNotFoundFault,
  DescribeDBSnapshotAttributesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
  RDSServiceException,
} from "@aws-sdk/client-rds";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { normalizeConfigItem } from "../../../detection/config-item.ts";
import { rule } from "../../../problems/rds-snapshot-public/detect.ts";
import { inventory } from "../../../problems/rds-snapshot-public/inventory.ts";
import { dbSnapshot } from "../../../problems/rds-snapshot-public/resource.ts";
import { configItem } from "../../fixtures/load.ts";

const PLACE = { accountId: "123456789012", region: "us-east-1" };
const NOW = new Date("2026-11-23T12:00:00.000Z");
const CLIENT = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** A fixture's snapshot as DescribeDBSnapshots answers it, and its attributes as DescribeDBSnapshotAttributes does. */
function fromFixture(name: string) {
  const item = configItem<Record<string, any>>("AWS_RDS_DBSnapshot", name);
  const c = item.configuration;
  const snapshot: DBSnapshot = {
    DBSnapshotIdentifier: c.dBSnapshotIdentifier,
    DBInstanceIdentifier: c.dBInstanceIdentifier,
    SnapshotCreateTime: new Date(c.snapshotCreateTime),
    Engine: c.engine,
    AvailabilityZone: c.availabilityZone,
    SnapshotType: c.snapshotType,
    DBSnapshotArn: c.dBSnapshotArn,
    IAMDatabaseAuthenticationEnabled: c.iAMDatabaseAuthenticationEnabled,
    DbiResourceId: c.dbiResourceId,
    TagList: Object.entries(item.tags as Record<string, string>).map(([Key, Value]) => ({ Key, Value })),
  };
  const attributes = (
    item.supplementaryConfiguration.DBSnapshotAttributes as { attributeName: string; attributeValues: string[] }[]
  ).map((attribute) => ({
    AttributeName: attribute.attributeName,
    AttributeValues: attribute.attributeValues,
  }));
  return { item, snapshot, attributes };
}

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

function snapshotNamed(id: string): DBSnapshot {
  return { DBSnapshotIdentifier: id, DBInstanceIdentifier: "db", SnapshotType: "manual", TagList: [] };
}

const judge = (raw: unknown) => rule.evaluate(normalizeConfigItem(raw), rule.parseParameters({}));

describe("DB snapshot inventory", () => {
  it("builds the item Config records: the same keys, attributes and tags, judged alike", async () => {
    const { listed, mock } = lister();
    const { item, snapshot, attributes } = fromFixture("public-and-shared");
    mock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [snapshot] })
      .on(DescribeDBSnapshotAttributesCommand)
      .resolves({
        DBSnapshotAttributesResult: {
          DBSnapshotIdentifier: snapshot.DBSnapshotIdentifier,
          DBSnapshotAttributes: attributes,
        },
      });
    const page = await listed.page(PLACE, undefined);
    expect(page).toMatchObject({ unread: [], gone: 0 });
    expect(page.nextToken).toBeUndefined();
    const [built] = page.items as Record<string, any>[];
    expect(built).toMatchObject({
      configurationItemCaptureTime: NOW.toISOString(),
      configurationItemStatus: "OK",
      awsAccountId: item.awsAccountId,
      awsRegion: item.awsRegion,
      resourceType: dbSnapshot.type,
      resourceId: item.resourceId,
      resourceName: item.resourceName,
      ARN: item.ARN,
      availabilityZone: item.availabilityZone,
      resourceCreationTime: item.resourceCreationTime,
      relationships: item.relationships,
      tags: item.tags,
      supplementaryConfiguration: item.supplementaryConfiguration,
    });
    // Config's spelling of the fields it has (the tag list is the item's tags).
    for (const key of [
      "dBSnapshotIdentifier",
      "dBInstanceIdentifier",
      "snapshotCreateTime",
      "snapshotType",
      "dBSnapshotArn",
      "iAMDatabaseAuthenticationEnabled",
      "dbiResourceId",
    ]) {
      expect(built!.configuration[key], key).toEqual(item.configuration[key]);
    }
    expect(built!.configuration).not.toHaveProperty("tagList");
    expect(judge(built)).toEqual(judge(item));
    expect(judge(built).compliance).toBe("NON_COMPLIANT");
    // Each snapshot's attributes are asked by its identifier; only the type's reads are sent.
    expect(mock.commandCalls(DescribeDBSnapshotsCommand).map((call) => call.args[0].input)).toEqual([
      { SnapshotType: "manual" },
    ]);
    expect(mock.commandCalls(DescribeDBSnapshotAttributesCommand).map((call) => call.args[0].input)).toEqual([
      { DBSnapshotIdentifier: item.resourceId },
    ]);
    for (const call of mock.calls()) expect(dbSnapshot.reads.permissions).toHaveProperty(call.args[0].constructor.name);
  });

  it("pages by Marker: the page's marker is the next token, asked with the next page", async () => {
    const { listed, mock } = lister();
    mock
      .on(DescribeDBSnapshotsCommand, { SnapshotType: "manual" }, true)
      .resolves({ DBSnapshots: [snapshotNamed("first")], Marker: "m-2" })
      .on(DescribeDBSnapshotsCommand, { SnapshotType: "manual", Marker: "m-2" }, true)
      .resolves({ DBSnapshots: [snapshotNamed("second")] })
      .on(DescribeDBSnapshotAttributesCommand)
      .resolves({ DBSnapshotAttributesResult: { DBSnapshotAttributes: [{ AttributeName: "restore" }] } });
    const first = await listed.page(PLACE, undefined);
    expect(first.nextToken).toBe("m-2");
    expect(first.items.map((item) => item.resourceId)).toEqual(["first"]);
    const second = await listed.page(PLACE, first.nextToken);
    expect(second.nextToken).toBeUndefined();
    expect(second.items.map((item) => item.resourceId)).toEqual(["second"]);
    expect(mock.commandCalls(DescribeDBSnapshotsCommand).map((call) => call.args[0].input)).toEqual([
      { SnapshotType: "manual" },
      { SnapshotType: "manual", Marker: "m-2" },
    ]);
    // No restore attribute values: shared with no one, compliant.
    expect(judge(second.items[0]).compliance).toBe("COMPLIANT");
  });

  it("a snapshot gone before its attributes are read is counted gone; an unreadable one is unread; the rest judged", async () => {
    const { listed, mock } = lister();
    mock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: ["kept", "deleted", "denied", "garbled"].map(snapshotNamed) })
      .on(DescribeDBSnapshotAttributesCommand)
      .resolves({ DBSnapshotAttributesResult: { DBSnapshotAttributes: [] } })
      .on(DescribeDBSnapshotAttributesCommand, { DBSnapshotIdentifier: "deleted" })
      .rejects(
        new DBSnapshotNotFoundFault({ $metadata: { httpStatusCode: 404 }, message: "DBSnapshot deleted not found." }),
      )
      .on(DescribeDBSnapshotAttributesCommand, { DBSnapshotIdentifier: "denied" })
      .rejects(
        new RDSServiceException({
          name: "AccessDenied",
          $fault: "client",
          $metadata: { httpStatusCode: 403 },
          message: "not authorized to perform: rds:DescribeDBSnapshotAttributes",
        }),
      )
      .on(DescribeDBSnapshotAttributesCommand, { DBSnapshotIdentifier: "garbled" })
      .resolves({
        DBSnapshotAttributesResult: {
          DBSnapshotAttributes: [{ AttributeName: "restore", AttributeValues: "all" as never }],
        },
      });
    const page = await listed.page(PLACE, undefined);
    expect(page.items.map((item) => item.resourceId)).toEqual(["kept"]);
    expect(page.gone).toBe(1);
    expect(page.unread).toEqual([
      {
        resourceId: "denied",
        reason:
          "its attributes cannot be read: AccessDenied: not authorized to perform: rds:DescribeDBSnapshotAttributes",
      },
      {
        resourceId: "garbled",
        reason: expect.stringMatching(/^the attributes of snapshot garbled cannot be judged: /),
      },
    ]);
  });

  it("a throttled read fails the page (it is tried again whole), a throttled listing too", async () => {
    const throttled = () =>
      new RDSServiceException({
        name: "ThrottlingException",
        $fault: "client",
        $metadata: { httpStatusCode: 400 },
        message: "Rate exceeded",
      });
    const { listed, mock } = lister();
    mock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: [snapshotNamed("one")] })
      .on(DescribeDBSnapshotAttributesCommand)
      .rejects(throttled());
    await expect(listed.page(PLACE, undefined)).rejects.toThrow("Rate exceeded");
    mock.on(DescribeDBSnapshotsCommand).rejects(throttled());
    await expect(listed.page(PLACE, undefined)).rejects.toThrow("Rate exceeded");
  });

  it("reads at most 8 snapshots' attributes at once, in listing order", async () => {
    const { listed, mock } = lister();
    const names = Array.from({ length: 20 }, (_, index) => `snap-${String(index).padStart(2, "0")}`);
    let inFlight = 0;
    let most = 0;
    mock
      .on(DescribeDBSnapshotsCommand)
      .resolves({ DBSnapshots: names.map(snapshotNamed) })
      .on(DescribeDBSnapshotAttributesCommand)
      .callsFake(async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        return { DBSnapshotAttributesResult: { DBSnapshotAttributes: [] } };
      });
    const page = await listed.page(PLACE, undefined);
    expect(page.items.map((item) => item.resourceId)).toEqual(names);
    expect(most).toBeLessThanOrEqual(8);
    expect(most).toBeGreaterThan(1);
  });
});
