// The account's Block Public Access with one flag off: BlockPublicAcls, IgnorePublicAcls and BlockPublicPolicy on,
// RestrictPublicBuckets off (public bucket policies still grant access). The fix turns on RestrictPublicBuckets and
// keeps the three others; undo puts it back off. The account is the caller's (STS), its id the resource id.
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
} from "@aws-sdk/client-s3-control";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "../../detection/types.ts";
import { S3ControlAtEndpoint } from "../../platform/clients.ts";
import { configScope, type ExampleClients, type ExampleState, type ProblemExample } from "../example.ts";
import { orNull } from "../s3-public/live.ts";
import { s3AccountPublicAccess } from "./spec.ts";

const BEFORE = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: false,
} as const satisfies Required<PublicAccessBlockFlags>;

const VIOLATION = "RestrictPublicBuckets=off";

async function readFlags(clients: ExampleClients, accountId: string): Promise<PublicAccessBlockFlags | null> {
  const answer = await orNull(
    clients.client(S3ControlAtEndpoint).send(new GetAccountPublicAccessBlockCommand({ AccountId: accountId })),
    "NoSuchPublicAccessBlockConfiguration",
  );
  return answer?.PublicAccessBlockConfiguration ?? null;
}

export const example: ProblemExample<string> = {
  problem: s3AccountPublicAccess.id,

  async create(clients) {
    const s3control = clients.client(S3ControlAtEndpoint);
    const { accountId } = await configScope(clients, s3control);
    await s3control.send(
      new PutAccountPublicAccessBlockCommand({ AccountId: accountId, PublicAccessBlockConfiguration: { ...BEFORE } }),
    );
    return accountId;
  },

  violation: () => ({ kind: "s3-account-bpa-flag", flag: "RestrictPublicBuckets" }),

  recordedChange: (accountId) => ({
    kind: "account-public-access-block-enabled",
    accountId,
    before: { ...BEFORE },
    after: { ...BEFORE, RestrictPublicBuckets: true },
  }),

  pinnedInstructionId: "4820e6a9326957be4721531803326e4e",

  /**
   * As Config records the setting (AWS::S3::AccountPublicAccessBlock): the four flags in camelCase under
   * `configuration`, no supplementary configuration, no tags, no ARN or name, its id the account id.
   */
  async configItem(clients, accountId, capturedAt) {
    const s3control = clients.client(S3ControlAtEndpoint);
    const scope = await configScope(clients, s3control);
    const flags = await readFlags(clients, accountId);
    if (flags === null) throw new Error(`account ${accountId} has no Block Public Access configuration to record`);
    return {
      relatedEvents: [],
      relationships: [],
      configuration: {
        blockPublicAcls: flags.BlockPublicAcls ?? false,
        ignorePublicAcls: flags.IgnorePublicAcls ?? false,
        blockPublicPolicy: flags.BlockPublicPolicy ?? false,
        restrictPublicBuckets: flags.RestrictPublicBuckets ?? false,
      },
      supplementaryConfiguration: {},
      tags: {},
      configurationItemVersion: "1.3",
      configurationItemCaptureTime: capturedAt.toISOString(),
      configurationStateId: capturedAt.getTime(),
      awsAccountId: scope.accountId,
      configurationItemStatus: "OK",
      resourceType: s3AccountPublicAccess.resourceType,
      resourceId: accountId,
      awsRegion: scope.region,
      availabilityZone: "Not Applicable",
      configurationStateMd5Hash: "",
    };
  },

  /** Each flag as `Flag=on|off`, in S3's order; `rest` says whether there is a configuration at all. */
  async read(clients, accountId): Promise<ExampleState<string>> {
    const flags = await readFlags(clients, accountId);
    return {
      entries: BLOCK_PUBLIC_ACCESS_FLAGS.map((flag) => `${flag}=${flags?.[flag] === true ? "on" : "off"}`),
      rest: { configured: flags !== null },
    };
  },

  isViolation: (entry) => entry === VIOLATION,

  // The fix turns the flag on, it removes nothing: the same four flags, that one on.
  fixed: (before) => ({
    entries: before.entries.map((entry) => (entry === VIOLATION ? "RestrictPublicBuckets=on" : entry)),
    rest: before.rest,
  }),
};
