// What both S3 problems' fixes share: reading the live bucket (tags, ownership controls, ACL, policy, Block Public
// Access, and the account's Block Public Access, judged with it exactly as the rule does), refusing Remedy's own
// buckets, and the block-public-access strategy. Each problem plans its surgical change in its own fix.ts.
// Every call names the instruction's account as ExpectedBucketOwner, so a bucket name re-created elsewhere is never
// touched.
import { PutPublicAccessBlockCommand } from "@aws-sdk/client-s3";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type Finding, type Problem } from "../../detection/types.ts";
import { oneOfEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";
import type { Log } from "../../platform/logging.ts";
import type { FixContext, InstructedResource, LiveResource, PlannedChange, ProblemFix } from "../fix.ts";
import { problemSpec } from "../index.ts";
import type { PublicAccessBlock } from "./detect.ts";
import { S3_FIX_STRATEGIES, type S3FixStrategy } from "./fix-spec.ts";
import { type BucketObserverDeps, bucketObserver, bucketObserverDeps, type JudgedBucket } from "./observe.ts";

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

export { bucketStateForJudgement, type JudgedBucket, unjudgeable } from "./observe.ts";

export interface S3FixDeps extends S3FixSettings, BucketObserverDeps {}

/** The surgical change of one S3 problem (its fix.ts). */
export type SurgicalPlan = (
  targets: readonly Finding[],
  live: LiveResource<JudgedBucket>,
  target: { Bucket: string; ExpectedBucketOwner: string },
) => PlannedChange | { skipped: string };

/** The fix of one S3 problem: the shared reading and refusals, the strategy, and the problem's surgical plan. */
export function s3BucketFix(problem: Problem, deps: S3FixDeps, surgical: SurgicalPlan): ProblemFix<JudgedBucket> {
  const observer = bucketObserver(deps);
  return {
    problem,

    // Remedy's own buckets (ledger, Config delivery, listed ones) are never rewritten, whatever a claim says: a
    // "fix" there could open the ledger or break Config. The role is denied these writes too (infra/iam.ts).
    refuse: (resource: InstructedResource) =>
      isProtectedBucket(resource.id, deps.protectedBuckets)
        ? `${resource.id} is one of Remedy's own buckets, never changed by it`
        : undefined,

    // The one reading and judging of a live bucket (observe.ts), shared with the real-time path.
    readLive: (resource: InstructedResource, log: Log) => observer.readLive(resource, log),

    judge: (live, parameters) => observer.verdict(live, parameters).findings,

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

/** The function's clients (one account-facts cache per client provider, observe.ts) and the deployed settings. */
export function s3FixDeps(context: FixContext): S3FixDeps {
  return { ...readS3FixSettings(context.env), ...bucketObserverDeps(context) };
}
