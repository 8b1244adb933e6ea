// What the registry says about each problem and each resource type Remedy judges. Pure data: no AWS SDK, no rule
// code, so every function (and the stack) can read it without carrying what it does not run.
/**
 * The Lambda functions that fix problems (functions/registry.ts checks each is one of its functions). Named here, not
 * imported, so nothing that reads the registry reaches every function's code.
 */
export type RemediationFunctionName = "remediate-sg" | "remediate-s3";

/** A matched entry's kind: what a finding records and a fix instruction names. */
export type MatchedKind = "sg-rule" | "acl-grant" | "policy-statement";

export type BlockPublicAccessFlag =
  | "BlockPublicAcls"
  | "IgnorePublicAcls"
  | "BlockPublicPolicy"
  | "RestrictPublicBuckets";

/** The secure pattern shown with a finding: one line of advice and a Terraform snippet. */
export interface Training {
  title: string;
  advice: string;
  terraform: string;
}

export interface ProblemSpec<Id extends string = string> {
  id: Id;
  /** The Config resource type the problem is found on. */
  resourceType: string;
  /** The Remedy rule (rules/index.ts) that finds it: its Config rule is named `<prefix>-<ruleId>`. */
  ruleId: string;
  /** The kind of entry its findings record; a fix for this problem touches no other kind. */
  matchedKind: MatchedKind;
  /** The Lambda function that fixes it (functions/registry.ts). */
  remediation: RemediationFunctionName;
  /** Slack's title for it: "security group open to the internet". */
  title: string;
  training: Training;
  /** The bucket's Block Public Access flags that neutralise it (the block-public-access fix strategy). */
  blockFlags?: readonly BlockPublicAccessFlag[];
}

export interface ResourceSpec {
  type: string;
  /** "EC2 security group". */
  label: string;
  /** The resource's ARN in a deployment (exemptions match on it): derived, never taken from a message. */
  arn(context: { partition: string; region: string; accountId: string }, id: string): string;
  /** Its console page, for a region code already checked to be one. */
  consoleUrl(id: string, region: string): string;
  /** CloudTrail events that can open a hole on it (S3 logs both name styles). */
  openingEvents: readonly string[];
  /** The secure pattern when a Config rule says it violates without saying how. */
  training: Training;
}
