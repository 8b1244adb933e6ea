// Listing the account's S3 Block Public Access for `remedy plan --live` where Config does not record it
// (problems/s3-account-public-access/inventory.ts): one item, from S3 Control GetPublicAccessBlock, judged exactly as
// the rule judges Config's; none configured is the item's deletion, as Config records it.
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  S3ControlServiceException,
} from "@aws-sdk/client-s3-control";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { normalizeConfigItem } from "../../../detection/config-item.ts";
import { S3ControlAtEndpoint } from "../../../platform/clients.ts";
import { rule } from "../../../problems/s3-account-public-access/detect.ts";
import { inventory } from "../../../problems/s3-account-public-access/inventory.ts";
import { accountPublicAccessBlock } from "../../../problems/s3-account-public-access/resource.ts";
import { configItem } from "../../fixtures/load.ts";

const PLACE = { accountId: "123456789012", region: "us-east-1" };
const NOW = new Date("2026-11-23T12:00:00.000Z");
const CLIENT = { region: "us-east-1", credentials: { accessKeyId: "test", secretAccessKey: "test" } };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function lister() {
  const s3control = new S3ControlAtEndpoint(CLIENT);
  const mock = mockClient(s3control);
  const listed = inventory.create({
    // The folder's own client, as observe.ts asks for it.
    client: <C>(Client: new (config: object) => C) => {
      expect(Client).toBe(S3ControlAtEndpoint);
      return s3control as C;
    },
    now: () => NOW,
    log: silent,
  });
  return { listed, mock };
}

function s3ControlError(name: string, status: number, message: string) {
  return new S3ControlServiceException({ name, $fault: "client", $metadata: { httpStatusCode: status }, message });
}

const judge = (raw: unknown) => rule.evaluate(normalizeConfigItem(raw), rule.parseParameters({}));

describe("account Block Public Access inventory", () => {
  it.each([
    [
      "all-off",
      { BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    ],
    ["all-on", { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true }],
    [
      "restrict-off",
      { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: false },
    ],
  ])("the account's flags (%s) become the item Config records, judged alike", async (name, flags) => {
    const item = configItem<Record<string, any>>("AWS_S3_AccountPublicAccessBlock", name);
    expect(item.configuration).toEqual({
      blockPublicAcls: flags.BlockPublicAcls,
      ignorePublicAcls: flags.IgnorePublicAcls,
      blockPublicPolicy: flags.BlockPublicPolicy,
      restrictPublicBuckets: flags.RestrictPublicBuckets,
    });
    const { listed, mock } = lister();
    mock.on(GetAccountPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: flags });
    const page = await listed.page(PLACE, undefined);
    expect(page).toEqual({
      items: [
        {
          configurationItemVersion: "1.3",
          configurationItemCaptureTime: NOW.toISOString(),
          configurationItemStatus: "OK",
          awsAccountId: PLACE.accountId,
          awsRegion: PLACE.region,
          resourceType: accountPublicAccessBlock.type,
          resourceId: PLACE.accountId,
          availabilityZone: "Not Applicable",
          tags: {},
          relationships: [],
          configuration: item.configuration,
          supplementaryConfiguration: {},
        },
      ],
      unread: [],
      gone: 0,
    });
    expect(judge(page.items[0])).toEqual(judge({ ...item, ...PLACE, awsAccountId: PLACE.accountId }));
    expect(mock.commandCalls(GetAccountPublicAccessBlockCommand).map((call) => call.args[0].input)).toEqual([
      { AccountId: PLACE.accountId },
    ]);
    expect(mock.calls()).toHaveLength(1);
  });

  it("none configured (NoSuchPublicAccessBlockConfiguration) is the item's deletion: every flag off", async () => {
    const { listed, mock } = lister();
    mock
      .on(GetAccountPublicAccessBlockCommand)
      .rejects(
        s3ControlError(
          "NoSuchPublicAccessBlockConfiguration",
          404,
          "The public access block configuration was not found",
        ),
      );
    const page = await listed.page(PLACE, undefined);
    const deleted = configItem<Record<string, any>>("AWS_S3_AccountPublicAccessBlock", "deleted");
    expect(page.items).toEqual([
      expect.objectContaining({
        configurationItemStatus: deleted.configurationItemStatus,
        configuration: null,
        resourceId: PLACE.accountId,
      }),
    ]);
    const verdict = judge(page.items[0]);
    expect(verdict).toEqual(judge({ ...deleted, awsAccountId: PLACE.accountId, resourceId: PLACE.accountId }));
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(verdict.findings).toHaveLength(4);
    expect(verdict.annotation).toBe("no account-level Block Public Access configuration: all four settings are off");
  });

  it("a denied read is the setting unread; a throttled one fails the listing (tried again)", async () => {
    const { listed, mock } = lister();
    mock.on(GetAccountPublicAccessBlockCommand).rejects(s3ControlError("AccessDenied", 403, "Access Denied"));
    expect(await listed.page(PLACE, undefined)).toEqual({
      items: [],
      unread: [{ resourceId: PLACE.accountId, reason: "it cannot be read: AccessDenied: Access Denied" }],
      gone: 0,
    });
    mock
      .on(GetAccountPublicAccessBlockCommand)
      .rejects(s3ControlError("SlowDown", 503, "Please reduce your request rate."));
    await expect(listed.page(PLACE, undefined)).rejects.toThrow("Please reduce your request rate.");
  });
});
