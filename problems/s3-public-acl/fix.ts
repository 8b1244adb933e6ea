// Fixing a public ACL grant, surgically: rewrite the ACL without the instructed public grants that still hold, the
// owner and every other grant kept. (The block-public-access strategy: problems/s3-public/fix.ts.)
import { type AccessControlPolicy, PutBucketAclCommand } from "@aws-sdk/client-s3";
import { matchedEntryKey } from "../../contract/instruction.ts";
import type { S3BucketState } from "../../contract/ledger.ts";
import type { AclGrant } from "../../detection/types.ts";
import type { FixModule } from "../fix.ts";
import { aclGrantsFromApi } from "../s3-public/detect.ts";
import { type S3FixDeps, s3BucketFix, s3FixDeps, unjudgeable } from "../s3-public/fix.ts";
import { s3PublicAcl } from "./spec.ts";

function grantKey(grant: AclGrant): string {
  return matchedEntryKey({ kind: "acl-grant", grant });
}

export function s3PublicAclFix(deps: S3FixDeps) {
  return s3BucketFix(s3PublicAcl.id, deps, (targets, live, target) => {
    const before = live.judged.state;
    const bucket = before.bucket;
    // The rule never reports ACL findings when ACLs are disabled; PutBucketAcl would fail there anyway.
    if (before.aclsDisabled) return { skipped: `nothing to do: ACLs are disabled on ${bucket} (BucketOwnerEnforced)` };
    const offending = new Set(
      targets.flatMap((finding) => (finding.matched.kind === "acl-grant" ? [grantKey(finding.matched.grant)] : [])),
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
    return {
      before,
      changes: [
        {
          kind: "acl-grants-removed",
          bucket,
          grants: removed.map((grant) => ({ grantee: { ...grant.grantee }, permission: grant.permission })),
        },
      ],
      async apply() {
        await deps.s3.send(new PutBucketAclCommand({ ...target, AccessControlPolicy: acl as AccessControlPolicy }));
        return { ...before, acl };
      },
    };
  });
}

export const fix: FixModule = {
  problem: s3PublicAcl.id,
  create: (context) => s3PublicAclFix(s3FixDeps(context)),
};
