// Fixing a public policy statement, surgically: remove only the instructed public statements that still hold from
// the document as written (everything else kept; the policy is deleted when no statement remains). Only statements
// are removed, never added: the rewritten policy cannot deny anyone who had access before. (The block-public-access
// strategy: problems/s3-public/fix.ts.)
import { DeleteBucketPolicyCommand, PutBucketPolicyCommand } from "@aws-sdk/client-s3";
import { matchedEntryKey } from "../../contract/instruction.ts";
import type { PolicyStatement } from "../../detection/types.ts";
import type { FixModule } from "../fix.ts";
import { type S3FixDeps, s3BucketFix, s3FixDeps, unjudgeable } from "../s3-public/fix.ts";
import { s3PublicPolicy } from "./spec.ts";

function statementKey(statement: PolicyStatement): string {
  return matchedEntryKey({ kind: "policy-statement", statement });
}

export function s3PublicPolicyFix(deps: S3FixDeps) {
  return s3BucketFix(s3PublicPolicy.id, deps, (targets, live, target) => {
    const before = live.judged.state;
    const offending = new Set(
      targets.flatMap((finding) =>
        finding.matched.kind === "policy-statement" ? [statementKey(finding.matched.statement)] : [],
      ),
    );
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(before.policy ?? "null") as Record<string, unknown>;
    } catch (error) {
      throw unjudgeable(before.bucket, error);
    }
    const written = document.Statement;
    const statements = (Array.isArray(written) ? written : written === undefined ? [] : [written]) as PolicyStatement[];
    const removed = statements.filter((statement) => offending.has(statementKey(statement)));
    const remaining = statements.filter((statement) => !offending.has(statementKey(statement)));
    const policyDeleted = remaining.length === 0;
    const policy = policyDeleted ? null : JSON.stringify({ ...document, Statement: remaining });
    return {
      before,
      changes: [{ kind: "policy-statements-removed", bucket: before.bucket, statements: removed, policyDeleted }],
      async apply() {
        if (policy === null) await deps.s3.send(new DeleteBucketPolicyCommand(target));
        else await deps.s3.send(new PutBucketPolicyCommand({ ...target, Policy: policy }));
        return { ...before, policy };
      },
    };
  });
}

export const fix: FixModule = {
  problem: s3PublicPolicy.id,
  create: (context) => s3PublicPolicyFix(s3FixDeps(context)),
};
