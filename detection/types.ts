// Shared vocabulary of the pure rules (problems/<id>/detect.ts and detection/). No AWS SDK imports here or there
// (test/detection/purity.test.ts).

import type { MatchedEntry } from "../contract/instruction.ts";
import { PermanentError } from "../platform/errors.ts";
import type { Problem } from "../problems/index.ts";

/** The problems Remedy knows how to fix: the registry's (problems/index.ts), each with its remediation function. */
export { PROBLEMS, type Problem } from "../problems/index.ts";

export type ComplianceType = "COMPLIANT" | "NON_COMPLIANT" | "NOT_APPLICABLE";

/** A Config item after normalisation: the same shape whether it came in an event, from
 * GetResourceConfigHistory or from BatchGetResourceConfig (where JSON arrives as strings). */
export interface ConfigItem {
  resourceType: string;
  resourceId: string;
  resourceName?: string;
  arn?: string;
  accountId: string;
  region: string;
  /** ISO-8601 capture time of the item. */
  captureTime: string;
  status: string;
  configuration: Record<string, unknown> | null;
  supplementaryConfiguration: Record<string, unknown>;
  tags: Record<string, string>;
  /**
   * The resources Config recorded as related to it ("Is associated with NetworkInterface"), when the item carries
   * them: a change event, GetResourceConfigHistory and a snapshot do; BatchGetResourceConfig's items never do.
   */
  relationships?: ConfigRelationship[];
}

/** One relationship of a Config item (the event's `name`, the API's `relationshipName`). */
export interface ConfigRelationship {
  resourceType: string;
  resourceId: string;
  name: string;
}

// The matched entries, inferred from their schemas: each kind's in the folder of the problem that records it
// (problems/<id>/contract.ts), and their union built from the registry (contract/instruction.ts).
export type { MatchedEntry } from "../contract/instruction.ts";
export type { AclGrant } from "../problems/s3-public-acl/contract.ts";
export type { PolicyStatement } from "../problems/s3-public-policy/contract.ts";
export type { SgRuleEntry } from "../problems/sg-open-ingress/contract.ts";

/** One violation: what matched, and why, in words a person can act on. */
export interface Finding {
  problem: Problem;
  matched: MatchedEntry;
  /** e.g. "tcp 22 open to 0.0.0.0/0 (not in authorized ports tcp:80,tcp:443)" */
  reason: string;
}

export interface Verdict {
  compliance: ComplianceType;
  /** Why, for Config's annotation (the runtime cuts it to 256 characters). */
  annotation: string;
  findings: Finding[];
}

/** An item Config holds no configuration for (deleted, not recorded): nothing to judge. */
export function notRecordedVerdict(item: Pick<ConfigItem, "status">): Verdict {
  return { compliance: "NOT_APPLICABLE", annotation: `no configuration recorded (${item.status})`, findings: [] };
}

/** The four S3 Block Public Access flags (the S3 API's names), in S3's order. */
export const BLOCK_PUBLIC_ACCESS_FLAGS = [
  "BlockPublicAcls",
  "IgnorePublicAcls",
  "BlockPublicPolicy",
  "RestrictPublicBuckets",
] as const;

/** S3 Block Public Access flags, at bucket or account level (the S3 API's names). */
export interface PublicAccessBlockFlags {
  BlockPublicAcls?: boolean;
  IgnorePublicAcls?: boolean;
  BlockPublicPolicy?: boolean;
  RestrictPublicBuckets?: boolean;
}

/**
 * What a rule may need to know about the account besides the item, read by the runtime (not carried by the item):
 * the Config item of a bucket does not hold the account's Block Public Access, which neutralises public access
 * exactly as the bucket's own flags do.
 */
export interface AccountFacts {
  /** The account-level S3 Block Public Access; null: none configured; undefined: not known (could not be read). */
  s3PublicAccessBlock?: PublicAccessBlockFlags | null;
}

export interface RemedyRule<P> {
  /** Stable rule id. The stack deploys it as the Config rule "remedy-<id>" (infra/config.ts); only that exact name is accepted. */
  id: string;
  /** The problems this rule's findings name (each fixed by one remediation function). */
  problems: readonly Problem[];
  resourceTypes: readonly string[];
  /** The account facts its judgement uses: the runtime reads exactly these, once per invocation. */
  facts?: readonly (keyof AccountFacts)[];
  /**
   * true: a deleted item is judged too, for an account-level setting whose configuration's removal leaves it off
   * (the account's S3 Block Public Access); otherwise a deleted resource is not applicable, never evaluated.
   */
  judgesDeleted?: boolean;
  /** Validates Config's ruleParameters (string values); throws RuleParameterError naming the parameter. */
  parseParameters(raw: Record<string, unknown>): P;
  /**
   * Pure judgement of one item of one of resourceTypes (not a deleted one, unless judgesDeleted), given what is known
   * about its account.
   */
  evaluate(item: ConfigItem, params: P, facts?: AccountFacts): Verdict;
}

/** A rule parameter that does not make sense; the message names the parameter. */
export class RuleParameterError extends PermanentError {
  override name = "RuleParameterError";
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`Rule parameter "${parameter}": ${message}`);
  }
}
