// What the registry says about each problem and each resource type Remedy judges. Pure data: no AWS SDK, no rule
// code, so every function (and the stack) can read it without carrying what it does not run.
import type { Change } from "../contract/report.ts";
import type { KindSchema } from "../contract/schema-kit.ts";
import type { MatchedEntry } from "../detection/types.ts";
import type { EnvName } from "../platform/env.ts";
import type { CommandPermissions } from "../platform/permissions.ts";

/**
 * A Lambda function that fixes problems: the stack deploys one per name the registry's problems give
 * (functions/registry.ts), each running the one remediation runner with the fixes of its problems.
 */
export type RemediationFunctionName = `remediate-${string}`;

/** A matched entry's kind: what a finding records and a fix instruction names (one per problem in the registry). */
export type { MatchedKind } from "../contract/instruction.ts";

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
  /** The Remedy rule (detection/rules.ts) that finds it: its Config rule is named `<prefix>-<ruleId>`. */
  ruleId: string;
  /**
   * The kind of entry its findings record (its contract's `matched` is its schema); a fix touches no other kind.
   * Typed string here: the union of kinds (MatchedKind) is inferred from the registry's specs.
   */
  matchedKind: string;
  /** Its entries' and its changes' schemas (its contract.ts): the contract's variants are built from every problem's. */
  contract: ProblemContract;
  /** The Lambda function that fixes it: problems on the same resource type share one (functions/registry.ts). */
  remediation: RemediationFunctionName;
  /** What its fix (fix.ts and what that imports) needs besides the runner's: granted to its function. */
  fix: {
    /** Every AWS command the fix sends → its IAM action (a test scans the code for commands not declared). */
    permissions: CommandPermissions;
    /** Environment variables the fix reads (the stack sets them on its function). */
    env: readonly EnvName[];
    /**
     * Its actions that AWS does not scope to a resource (EC2 Describe*, the account's Block Public Access): granted
     * on "*". Every other action is granted on its resource type's `iamScope` only.
     */
    unscopedActions: readonly string[];
  };
  /** What a violating entry still is, when a fix finds it: "open", "public" ("… is still open on sg-1"). */
  violatingWord: string;
  /** Slack's title for it: "security group open to the internet". */
  title: string;
  training: Training;
  /** The bucket's Block Public Access flags that neutralise it (the block-public-access fix strategy). */
  blockFlags?: readonly BlockPublicAccessFlag[];
  /** How its entries and its change are worded (its words.ts): problems/words.ts finds them here. */
  words: ProblemWords;
}

/**
 * What a problem adds to the contract (contract/instruction.ts, report.ts, ledger.ts build their variants from every
 * problem's): pure schemas and functions, in its folder's contract.ts.
 */
export interface ProblemContract {
  /** One entry its findings record and its instructions carry (`matched`): its `kind` is the spec's matchedKind. */
  matched: KindSchema;
  /**
   * What makes two of its entries the same entry (given one its `matched` accepted): the fields of the entry's key
   * besides its kind (contract/instruction.ts matchedEntryKey), so of every instruction id naming it.
   */
  identity(entry: never): Readonly<Record<string, unknown>>;
  /** The change its fix records (its words' changeKind), in reports and in the ledger. */
  change: KindSchema;
  /**
   * Other changes its fix may record that other problems' fixes record too (the S3 problems' block-public-access
   * strategy, problems/s3-public/contract.ts): each problem that records one lists it, the contract holds it once.
   */
  otherChanges?: readonly KindSchema[];
}

/** Past tense for a change that was made, the imperative for one that is only planned. */
export type Tense = "done" | "planned";

/**
 * How a problem's entries and the change its fix records are worded: one wording for the CLI (plan, peek, status),
 * the logs and undo. Each problem's words.ts gives one; problems/words.ts dispatches to it by entry and change kind.
 */
export interface ProblemWords {
  /** The change its fix records (the block-public-access strategy's own is worded in problems/s3-public/words.ts). */
  changeKind: Change["kind"];
  /** What its fix does to one entry, in each tense: "revoked ingress" / "revoke ingress". */
  verb: Readonly<Record<Tense, string>>;
  /** One entry of its matched kind: "tcp 22 from 0.0.0.0/0 (sgr-0a1)". */
  entry(entry: MatchedEntry): string;
  /** A recorded change of its change kind, every entry in it: "revoked ingress tcp 22 from 0.0.0.0/0; …". */
  change(change: Change, tense: Tense): string;
}

/** Where an IAM grant applies (infra/iam.ts). */
export interface IamScope {
  resources: string[];
  conditions?: { test: string; variable: string; values: string[] }[];
}

export interface ResourceSpec {
  type: string;
  /** "EC2 security group". */
  label: string;
  /** The resource's ARN in a deployment (exemptions match on it): derived, never taken from a message. */
  arn(context: { partition: string; region: string; accountId: string }, id: string): string;
  /** The resources of this type in the deployment's account and region: what a fix's actions are granted on. */
  iamScope(context: { partition: string; region: string; account: string }): IamScope;
  /** Its console page, for a region code already checked to be one. */
  consoleUrl(id: string, region: string): string;
  /** CloudTrail events that can open a hole on it (S3 logs both name styles). */
  openingEvents: readonly string[];
  /** The secure pattern when a Config rule says it violates without saying how. */
  training: Training;
  /**
   * The kind of the ledger before-state a fix of it records (its `state`): undo finds its resource's undo by it.
   * Typed string here: the union of kinds (ResourceState["kind"]) is inferred from the registry's resource types.
   */
  stateKind: string;
  /** The schema of that state (its `kind` is stateKind): contract/ledger.ts builds its state variant from every type's. */
  state: KindSchema;
}
