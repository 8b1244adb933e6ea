// Reading the account's S3 Block Public Access live (S3 Control GetPublicAccessBlock, through the one account-facts
// reader) and judging it as the rule does. The fix (fix.ts), its undo and the real-time path read it only through here.
import type { S3ControlClient } from "@aws-sdk/client-s3-control";
import { readAccountPublicAccessBlock } from "../../detection/account-facts.ts";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import { S3ControlAtEndpoint } from "../../platform/clients.ts";
import type { InstructedResource, LiveResource } from "../fix.ts";
import type { ObserveModule, ResourceObserver } from "../observe.ts";
import type { AccountBlockState } from "./contract.ts";
import { judgeAccountBlock } from "./detect.ts";
import { accountPublicAccessBlock } from "./resource.ts";

/**
 * The account's flags exactly as S3 Control answers (null: none configured), in the ledger's form. Every other
 * error propagates (there is always an account: nothing here is "gone").
 */
export async function readAccountBlockState(s3control: S3ControlClient, accountId: string): Promise<AccountBlockState> {
  return {
    kind: "s3-account-public-access-block",
    accountId,
    publicAccessBlock: await readAccountPublicAccessBlock(s3control, accountId),
  };
}

/**
 * The account a claim names, once it is its own resource: the setting's id is its account's id, and a claim that
 * names another account's setting (a forged finding, a mistyped id) is never read, let alone changed.
 */
export function accountOf(resource: InstructedResource): string {
  if (resource.id !== resource.accountId) {
    throw new PermanentRemediationError(
      `the account's Block Public Access is named by its account id: ${resource.id} is not account ${resource.accountId}`,
    );
  }
  return resource.accountId;
}

/** The setting live, with no tags (it carries none: only the allowlist can exempt it). Always there: an account is. */
export async function readAccountLive(
  s3control: S3ControlClient,
  resource: InstructedResource,
): Promise<LiveResource<AccountBlockState>> {
  return { tags: {}, judged: await readAccountBlockState(s3control, accountOf(resource)) };
}

export function accountBlockObserver(deps: { s3control: S3ControlClient }): ResourceObserver<AccountBlockState> {
  return {
    resourceType: accountPublicAccessBlock.type,
    readLive: (resource) => readAccountLive(deps.s3control, resource),
    verdict: (live) => judgeAccountBlock(live.judged),
  };
}

export const observe: ObserveModule = {
  resourceType: accountPublicAccessBlock.type,
  create: ({ client }) => accountBlockObserver({ s3control: client(S3ControlAtEndpoint) }) as ResourceObserver,
};
