// Reading a bucket live and judging it as the rule does: tags, ownership controls, ACL, policy, the bucket's Block
// Public Access (live.ts) and the account's (S3 Control), in the rule's view (detect.ts BucketState). Both S3 fixes
// and the real-time path read a bucket only through here. Every call names the resource's account as
// ExpectedBucketOwner, so a bucket name re-created elsewhere is never read.
import { S3Client } from "@aws-sdk/client-s3";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { S3BucketState } from "../../contract/ledger.ts";
import { type AccountFactsReader, accountFactsReader } from "../../detection/account-facts.ts";
import type { AccountFacts } from "../../detection/types.ts";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import type { ObserveContext, ObserveModule, ResourceObserver } from "../observe.ts";
import { aclGrantsFromApi, type BucketState, judgeS3, parsePolicyDocument } from "./detect.ts";
import { readLiveBucket } from "./live.ts";
import { bucket as bucketResource } from "./resource.ts";

export function unjudgeable(bucket: string, error: unknown): PermanentRemediationError {
  return new PermanentRemediationError(`live state of bucket ${bucket} cannot be judged: ${(error as Error).message}`, {
    cause: error,
  });
}

/**
 * The rule's view of the live state (with the account's Block Public Access when known). Throws
 * PermanentRemediationError when S3 returned something unjudgeable.
 */
export function bucketStateForJudgement(state: S3BucketState, facts: AccountFacts = {}): BucketState {
  try {
    return {
      ...(facts.s3PublicAccessBlock !== undefined ? { accountPublicAccessBlock: facts.s3PublicAccessBlock } : {}),
      bucket: state.bucket,
      ...(state.acl.Owner?.ID ? { ownerId: state.acl.Owner.ID } : {}),
      aclsDisabled: state.aclsDisabled,
      grants: state.aclsDisabled ? [] : aclGrantsFromApi(state.acl.Grants),
      policy: parsePolicyDocument(state.policy),
      publicAccessBlock: state.publicAccessBlock,
    };
  } catch (error) {
    throw unjudgeable(state.bucket, error);
  }
}

/** The live bucket as read: the ledger's state and the rule's view of it. */
export interface JudgedBucket {
  state: S3BucketState;
  judged: BucketState;
}

export interface BucketObserverDeps {
  s3: S3Client;
  /** The account-level Block Public Access, judged with the live bucket exactly as the rule does. */
  accountFacts: AccountFactsReader;
}

export function bucketObserver(deps: BucketObserverDeps): ResourceObserver<JudgedBucket> {
  return {
    resourceType: bucketResource.type,

    async readLive(resource) {
      const live = await readLiveBucket(deps.s3, resource.id, resource.accountId);
      // Same inputs as the rule: what the account's Block Public Access already neutralises needs no fix.
      const facts = await deps.accountFacts(resource.accountId, ["s3PublicAccessBlock"]);
      return { tags: live.tags, judged: { state: live.state, judged: bucketStateForJudgement(live.state, facts) } };
    },

    verdict: (live) => judgeS3(live.judged.judged),
  };
}

/** One account-facts reader (and so one cache) per client provider: every bucket reader of a function shares it. */
const readers = new WeakMap<ObserveContext["client"], AccountFactsReader>();

export function bucketObserverDeps(context: ObserveContext): BucketObserverDeps {
  let reader = context.accountFacts ?? readers.get(context.client);
  if (!reader) {
    reader = accountFactsReader({
      s3control: () => context.client(S3ControlClient),
      now: context.now,
      log: context.log,
    });
    readers.set(context.client, reader);
  }
  return { s3: context.client(S3Client), accountFacts: reader };
}

export const observe: ObserveModule = {
  resourceType: bucketResource.type,
  create: (context) => bucketObserver(bucketObserverDeps(context)) as ResourceObserver,
};
