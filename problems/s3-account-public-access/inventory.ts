// Listing the account's S3 Block Public Access, as AWS Config records it, for `remedy plan --live` where Config does
// not record the type (resource.ts `inventory: true`; the periodic scan never lists it): one item, the account's, read
// with S3 Control GetPublicAccessBlock through the one account-facts reader (as observe.ts reads it). Flags
// configured: the item Config records (configuration.blockPublicAcls, …). None configured
// (NoSuchPublicAccessBlockConfiguration): what Config records then, the item's deletion, which the rule judges as
// every flag off (detect.ts judgesDeleted). A read that fails for good is the account's setting unread.
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import { readAccountPublicAccessBlock } from "../../detection/account-facts.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "../../detection/types.ts";
import { classifyAwsError, describeAwsError } from "../../platform/aws-errors.ts";
import { S3ControlAtEndpoint } from "../../platform/clients.ts";
import type { InventoryModule, InventoryPage, InventoryPlace, ResourceInventory } from "../inventory.ts";
import { accountPublicAccessBlock } from "./resource.ts";

/** The account's item: its flags as Config spells them, or (null: none configured) the item's deletion. */
export function accountBlockItem(
  flags: PublicAccessBlockFlags | null,
  place: InventoryPlace,
  capturedAt: Date,
): Record<string, unknown> {
  const configuration: Record<string, boolean> = {};
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) {
    const value = flags?.[flag];
    if (value !== undefined) configuration[flag[0]!.toLowerCase() + flag.slice(1)] = value;
  }
  return {
    configurationItemVersion: "1.3",
    configurationItemCaptureTime: capturedAt.toISOString(),
    configurationItemStatus: flags === null ? "ResourceDeleted" : "OK",
    awsAccountId: place.accountId,
    awsRegion: place.region,
    resourceType: accountPublicAccessBlock.type,
    // Its id is the account's (Config records no ARN of it).
    resourceId: place.accountId,
    availabilityZone: "Not Applicable",
    tags: {},
    relationships: [],
    configuration: flags === null ? null : configuration,
    supplementaryConfiguration: {},
  };
}

export function accountBlockInventory(deps: { s3control: S3ControlClient; now: () => Date }): ResourceInventory {
  return {
    resourceType: accountPublicAccessBlock.type,

    async page(place): Promise<InventoryPage> {
      try {
        const flags = await readAccountPublicAccessBlock(deps.s3control, place.accountId);
        return { items: [accountBlockItem(flags, place, deps.now())], unread: [], gone: 0 };
      } catch (error) {
        // Throttling and outages: the listing is tried again.
        if (classifyAwsError(error) === "transient") throw error;
        return {
          items: [],
          unread: [{ resourceId: place.accountId, reason: `it cannot be read: ${describeAwsError(error)}` }],
          gone: 0,
        };
      }
    },
  };
}

export const inventory: InventoryModule = {
  resourceType: accountPublicAccessBlock.type,
  create: ({ client, now }) => accountBlockInventory({ s3control: client(S3ControlAtEndpoint), now }),
};
