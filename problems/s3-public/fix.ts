// What both S3 problems' fixes share: reading the live bucket (tags, ownership controls, ACL, policy, Block Public
// Access, and the account's Block Public Access, judged with it exactly as the rule does), refusing Remedy's own
// buckets, and the block-public-access strategy. Each problem plans its surgical change in its own fix.ts.
// Every call names the instruction's account as ExpectedBucketOwner, so a bucket name re-created elsewhere is never
// touched.
import { PutPublicAccessBlockCommand, S3Client } from "@aws-sdk/client-s3";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { S3BucketState } from "../../contract/ledger.ts";
import { type AccountFactsReader, accountFactsReader } from "../../detection/account-facts.ts";
import { type AccountFacts, BLOCK_PUBLIC_ACCESS_FLAGS, type Finding, type Problem } from "../../detection/types.ts";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import { oneOfEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";
import type { Log } from "../../platform/logging.ts";
import type { FixContext, InstructedResource, LiveResource, PlannedChange, ProblemFix } from "../fix.ts";
import { problemSpec } from "../index.ts";
import { aclGrantsFromApi, type BucketState, judgeS3, type PublicAccessBlock, parsePolicyDocument } from "./detect.ts";
import { S3_FIX_STRATEGIES, type S3FixStrategy } from "./fix-spec.ts";
import { readLiveBucket } from "./live.ts";

export interface S3FixSettings {
  strategy: S3FixStrategy;
  /**
   * Buckets Remedy never changes: its ledger, the Config delivery bucket, and any the deployer lists. A name that
   * ends with `*` protects every bucket starting with the rest (Remedy's own `remedy-ledger-*`, `remedy-config-*`).
   */
  protectedBuckets: readonly string[];
}

/**
 * REMEDY_S3_FIX_STRATEGY (`surgical`, the default, or `block-public-access`), REMEDY_PROTECTED_BUCKETS (optional,
 * comma-separated; the stack adds the Config bucket) and the ledger bucket, always protected.
 */
export function readS3FixSettings(env: Record<string, string | undefined>): S3FixSettings {
  const listed = optionalEnv("REMEDY_PROTECTED_BUCKETS", "", env)
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  return {
    strategy: oneOfEnv("REMEDY_S3_FIX_STRATEGY", S3_FIX_STRATEGIES, "surgical", env),
    protectedBuckets: [...new Set([requiredEnv("REMEDY_LEDGER_BUCKET", env), ...listed])],
  };
}

export function isProtectedBucket(bucket: string, protectedBuckets: readonly string[]): boolean {
  return protectedBuckets.some((entry) =>
    entry.endsWith("*") ? bucket.startsWith(entry.slice(0, -1)) : bucket === entry,
  );
}

/** The bucket's flags with `needed` turned on and every other flag as it was (absent = off). */
export function blockWith(
  current: PublicAccessBlock | null,
  needed: readonly (keyof PublicAccessBlock)[],
): Required<PublicAccessBlock> {
  const next = {} as Required<PublicAccessBlock>;
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) next[flag] = needed.includes(flag) || current?.[flag] === true;
  return next;
}

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

export interface S3FixDeps extends S3FixSettings {
  s3: S3Client;
  /** The account-level Block Public Access, judged with the live bucket exactly as the rule does. */
  accountFacts: AccountFactsReader;
}

/** The surgical change of one S3 problem (its fix.ts). */
export type SurgicalPlan = (
  targets: readonly Finding[],
  live: LiveResource<JudgedBucket>,
  target: { Bucket: string; ExpectedBucketOwner: string },
) => PlannedChange | { skipped: string };

/** The fix of one S3 problem: the shared reading and refusals, the strategy, and the problem's surgical plan. */
export function s3BucketFix(problem: Problem, deps: S3FixDeps, surgical: SurgicalPlan): ProblemFix<JudgedBucket> {
  return {
    problem,

    // Remedy's own buckets (ledger, Config delivery, listed ones) are never rewritten, whatever a claim says: a
    // "fix" there could open the ledger or break Config. The role is denied these writes too (infra/iam.ts).
    refuse: (resource: InstructedResource) =>
      isProtectedBucket(resource.id, deps.protectedBuckets)
        ? `${resource.id} is one of Remedy's own buckets, never changed by it`
        : undefined,

    async readLive(resource: InstructedResource, _log: Log) {
      const live = await readLiveBucket(deps.s3, resource.id, resource.accountId);
      // Same inputs as the rule: what the account's Block Public Access already neutralises needs no fix.
      const facts = await deps.accountFacts(resource.accountId, ["s3PublicAccessBlock"]);
      return { tags: live.tags, judged: { state: live.state, judged: bucketStateForJudgement(live.state, facts) } };
    },

    judge: (live) => judgeS3(live.judged.judged).findings,

    plan(targets, live, resource) {
      const target = { Bucket: resource.id, ExpectedBucketOwner: resource.accountId };
      if (deps.strategy !== "block-public-access") return surgical(targets, live, target);
      const before = live.judged.state;
      const after = blockWith(before.publicAccessBlock, problemSpec(problem).blockFlags ?? []);
      return {
        before,
        changes: [
          {
            kind: "public-access-block-enabled",
            bucket: resource.id,
            before: before.publicAccessBlock,
            after: { ...after },
          },
        ],
        async apply() {
          await deps.s3.send(
            new PutPublicAccessBlockCommand({ ...target, PublicAccessBlockConfiguration: { ...after } }),
          );
          return { ...before, publicAccessBlock: { ...after } };
        },
      };
    },
  };
}

/** The function's clients and the deployed settings. */
/** One account-facts reader (and so one cache) per client provider: both S3 fixes of a function share it. */
const readers = new WeakMap<FixContext["client"], AccountFactsReader>();

export function s3FixDeps(context: FixContext): S3FixDeps {
  let reader = context.accountFacts ?? readers.get(context.client);
  if (!reader) {
    reader = accountFactsReader({
      s3control: () => context.client(S3ControlClient),
      now: context.now,
      log: context.log,
    });
    readers.set(context.client, reader);
  }
  return { ...readS3FixSettings(context.env), s3: context.client(S3Client), accountFacts: reader };
}
