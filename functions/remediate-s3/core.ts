// S3 bucket remediation: re-reads the live bucket (tags, ownership controls, ACL, policy, Block Public Access),
// re-checks exemptions against live tags, re-judges with the rule's own judgeS3, and fixes only the instructed
// findings that still hold. `surgical` rewrites the ACL without the public grants (owner and every other grant
// kept) or the policy without the public statements (everything else kept as written; the policy is deleted when
// no statement remains); `block-public-access` turns on the bucket's Block Public Access flags that the problem
// needs (IgnorePublicAcls + BlockPublicAcls for an ACL, RestrictPublicBuckets + BlockPublicPolicy for a policy),
// keeping every flag already on: fixing a public ACL must not also block a policy that is exempt.
// Every call names the instruction's account as ExpectedBucketOwner, so a bucket name re-created elsewhere is
// never touched.
import {
  type AccessControlPolicy,
  DeleteBucketPolicyCommand,
  GetBucketTaggingCommand,
  PutBucketAclCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { problemsFixedBy } from "../../problems/index.ts";
import {
  aclGrantsFromApi,
  type BucketState,
  judgeS3,
  type PublicAccessBlock,
  parsePolicyDocument,
} from "../../rules/s3-public.ts";
import {
  type AccountFacts,
  type AclGrant,
  BLOCK_PUBLIC_ACCESS_FLAGS,
  type PolicyStatement,
  type Problem,
} from "../../rules/types.ts";
import type { AccountFactsReader } from "../../shared/account-facts.ts";
import { PermanentRemediationError } from "../../shared/aws-errors.ts";
import { BLOCK_FLAGS_FOR_PROBLEM, type S3FixStrategy } from "../../shared/describe.ts";
import { type AllowlistEntry, describeExemption, findExemption } from "../../shared/exemptions.ts";
import { type Instruction, matchedEntryKey } from "../../shared/instruction.ts";
import type { S3BucketState } from "../../shared/ledger.ts";
import { orNull, readBucketState } from "../../shared/live-s3.ts";
import { type FixFunction, type FixPlan, type RemediationDeps, runRemediation } from "../../shared/remediation.ts";
import type { Change } from "../../shared/report.ts";

export const REMEDIATE_S3_PROBLEMS: readonly Problem[] = problemsFixedBy("remediate-s3");

/** The bucket's flags with `needed` turned on and every other flag as it was (absent = off). */
export function blockWith(
  current: PublicAccessBlock | null,
  needed: readonly (keyof PublicAccessBlock)[],
): Required<PublicAccessBlock> {
  const next = {} as Required<PublicAccessBlock>;
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) next[flag] = needed.includes(flag) || current?.[flag] === true;
  return next;
}

export interface RemediateS3Deps extends RemediationDeps {
  s3: S3Client;
  allowlist: readonly AllowlistEntry[];
  strategy: S3FixStrategy;
  /** The account-level Block Public Access, judged with the live bucket exactly as the rule does. */
  accountFacts: AccountFactsReader;
  /**
   * Buckets Remedy never changes: its ledger, the Config delivery bucket, and any the deployer lists. A name that
   * ends with `*` protects every bucket starting with the rest (Remedy's own `remedy-ledger-*`, `remedy-config-*`).
   */
  protectedBuckets: readonly string[];
}

export function isProtectedBucket(bucket: string, protectedBuckets: readonly string[]): boolean {
  return protectedBuckets.some((entry) =>
    entry.endsWith("*") ? bucket.startsWith(entry.slice(0, -1)) : bucket === entry,
  );
}

/** What was read from the live bucket: the ledger's exact state plus the tags. */
export interface LiveBucket {
  state: S3BucketState;
  tags: Record<string, string>;
}

/** Reads everything the judgement and the ledger need. NoSuchBucket propagates (classified "gone"). */
export async function readLiveBucket(s3: S3Client, bucket: string, expectedOwner: string): Promise<LiveBucket> {
  const tagging = await orNull(
    s3.send(new GetBucketTaggingCommand({ Bucket: bucket, ExpectedBucketOwner: expectedOwner })),
    "NoSuchTagSet",
  );
  const tags: Record<string, string> = {};
  for (const tag of tagging?.TagSet ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
  return { tags, state: await readBucketState(s3, bucket, expectedOwner) };
}

function unjudgeable(bucket: string, error: unknown): PermanentRemediationError {
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

function grantKey(grant: AclGrant): string {
  return matchedEntryKey({ kind: "acl-grant", grant });
}

function statementKey(statement: PolicyStatement): string {
  return matchedEntryKey({ kind: "policy-statement", statement });
}

export function s3Fix(
  deps: Pick<RemediateS3Deps, "s3" | "allowlist" | "now" | "strategy" | "protectedBuckets" | "accountFacts">,
): FixFunction {
  return async (instruction: Instruction, { log, resourceArn }): Promise<FixPlan> => {
    const bucket = instruction.resource.id;
    const owner = instruction.resource.accountId;
    const target = { Bucket: bucket, ExpectedBucketOwner: owner };
    // Remedy's own buckets (ledger, Config delivery, listed ones) are never rewritten, whatever a claim says: a
    // "fix" there could open the ledger or break Config. The role is denied these writes too (infra/iam.ts).
    if (isProtectedBucket(bucket, deps.protectedBuckets)) {
      return { outcome: "skipped", reason: `refused: ${bucket} is one of Remedy's own buckets, never changed by it` };
    }

    const live = await readLiveBucket(deps.s3, bucket, owner);
    const check = findExemption(
      {
        resourceId: bucket,
        ...(resourceArn ? { arn: resourceArn } : {}),
        tags: live.tags,
        problem: instruction.problem,
      },
      deps.allowlist,
      deps.now(),
    );
    for (const note of check.notes) log.warn("exemption not applied", { note });
    if (check.exemption) return { outcome: "skipped", reason: describeExemption(check.exemption) };

    const before = live.state;
    // Same inputs as the rule: what the account's Block Public Access already neutralises needs no fix.
    const facts = await deps.accountFacts(owner, ["s3PublicAccessBlock"]);
    const verdict = judgeS3(bucketStateForJudgement(before, facts));
    const wanted = new Set(instruction.matched.map(matchedEntryKey));
    const findings = verdict.findings.filter(
      (finding) => finding.problem === instruction.problem && wanted.has(matchedEntryKey(finding.matched)),
    );
    if (findings.length === 0) {
      return {
        outcome: "skipped",
        reason: `nothing to do: none of the ${instruction.matched.length} instructed entries is still public on ${bucket}`,
      };
    }

    if (deps.strategy === "block-public-access") {
      const after = blockWith(before.publicAccessBlock, BLOCK_FLAGS_FOR_PROBLEM[instruction.problem] ?? []);
      const changes: Change[] = [
        { kind: "public-access-block-enabled", bucket, before: before.publicAccessBlock, after: { ...after } },
      ];
      return {
        outcome: "fix",
        before,
        changes,
        async apply() {
          await deps.s3.send(
            new PutPublicAccessBlockCommand({ ...target, PublicAccessBlockConfiguration: { ...after } }),
          );
          return { ...before, publicAccessBlock: { ...after } };
        },
      };
    }

    if (instruction.problem === "s3-public-acl") {
      // judgeS3 never reports ACL findings when ACLs are disabled; PutBucketAcl would fail there anyway.
      if (before.aclsDisabled) {
        return { outcome: "skipped", reason: `nothing to do: ACLs are disabled on ${bucket} (BucketOwnerEnforced)` };
      }
      const offending = new Set(
        findings.flatMap((finding) => (finding.matched.kind === "acl-grant" ? [grantKey(finding.matched.grant)] : [])),
      );
      const removed: AclGrant[] = [];
      const kept: S3BucketState["acl"]["Grants"] = [];
      before.acl.Grants.forEach((raw, index) => {
        let grant: AclGrant;
        try {
          [grant] = aclGrantsFromApi([raw]) as [AclGrant];
        } catch (error) {
          throw unjudgeable(bucket, new Error(`Grants[${index}]: ${(error as Error).message}`));
        }
        if (offending.has(grantKey(grant))) removed.push(grant);
        else kept.push(raw);
      });
      const acl = { ...(before.acl.Owner ? { Owner: before.acl.Owner } : {}), Grants: kept };
      const changes: Change[] = [
        {
          kind: "acl-grants-removed",
          bucket,
          grants: removed.map((grant) => ({ grantee: { ...grant.grantee }, permission: grant.permission })),
        },
      ];
      return {
        outcome: "fix",
        before,
        changes,
        async apply() {
          await deps.s3.send(new PutBucketAclCommand({ ...target, AccessControlPolicy: acl as AccessControlPolicy }));
          return { ...before, acl };
        },
      };
    }

    // s3-public-policy: remove only the offending statements from the document as written.
    const offending = new Set(
      findings.flatMap((finding) =>
        finding.matched.kind === "policy-statement" ? [statementKey(finding.matched.statement)] : [],
      ),
    );
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(before.policy ?? "null") as Record<string, unknown>;
    } catch (error) {
      throw unjudgeable(bucket, error);
    }
    const written = document.Statement;
    const statements = (Array.isArray(written) ? written : written === undefined ? [] : [written]) as PolicyStatement[];
    const removed = statements.filter((statement) => offending.has(statementKey(statement)));
    const remaining = statements.filter((statement) => !offending.has(statementKey(statement)));
    const policyDeleted = remaining.length === 0;
    // Only statements are removed, never added: the rewritten policy cannot deny anyone who had access before.
    const policy = policyDeleted ? null : JSON.stringify({ ...document, Statement: remaining });
    const changes: Change[] = [{ kind: "policy-statements-removed", bucket, statements: removed, policyDeleted }];
    return {
      outcome: "fix",
      before,
      changes,
      async apply() {
        if (policy === null) await deps.s3.send(new DeleteBucketPolicyCommand(target));
        else await deps.s3.send(new PutBucketPolicyCommand({ ...target, Policy: policy }));
        return { ...before, policy };
      },
    };
  };
}

export function remediateBucket(payload: unknown, deps: RemediateS3Deps) {
  return runRemediation(payload, deps, REMEDIATE_S3_PROBLEMS, s3Fix(deps));
}
