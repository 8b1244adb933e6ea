// What this problem adds to the contract (contract/ builds its variants from the registry's): its matched entry (a
// policy statement, its own identity) and the change its fix records (the statements removed); the
// block-public-access change it shares with the other S3 problem is problems/s3-public/contract.ts's. Pure: valibot
// only, so the registry stays SDK-free.
import * as v from "valibot";
import { plainObject } from "../../contract/schema-kit.ts";
import { PublicAccessBlockEnabledSchema } from "../s3-public/contract.ts";
import type { ProblemContract } from "../types.ts";

/** One bucket-policy statement, exactly as written in the policy (parsed JSON). */
const PolicyStatementSchema = plainObject("a policy statement must be an object");
export type PolicyStatement = v.InferOutput<typeof PolicyStatementSchema>;

const PolicyStatementMatchedSchema = v.object({
  kind: v.literal("policy-statement"),
  statement: PolicyStatementSchema,
});

const PolicyStatementsRemovedSchema = v.object({
  kind: v.literal("policy-statements-removed"),
  bucket: v.string(),
  statements: v.array(v.record(v.string(), v.unknown())),
  /** True when no statement remained, so the policy was deleted. */
  policyDeleted: v.boolean(),
});

export const s3PublicPolicyContract = {
  matched: PolicyStatementMatchedSchema,
  /** A statement is its own identity: its whole content, key order aside (the key is canonical JSON). */
  identity: (entry: v.InferOutput<typeof PolicyStatementMatchedSchema>) => ({ statement: entry.statement }),
  change: PolicyStatementsRemovedSchema,
  otherChanges: [PublicAccessBlockEnabledSchema],
} as const satisfies ProblemContract;
