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
  /** The resource type the problem is found on: its spec (problems/<folder>/resource.ts) and its Config type. */
  resource: ResourceSpec;
  /** `resource.type`. */
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
  /**
   * Its fix holds back while another resource of the account is left as it is on purpose: a finding of one of
   * `problems` that is exempt or that an undo left as restored (the account's Block Public Access while a bucket is
   * public on purpose). `remedy plan` shows such a fix as held back, with `reason`, instead of as a would-be action.
   */
  heldBackBy?: { problems: readonly string[]; reason: string };
  /**
   * What can open it, for the real-time path (functions/realtime/): the CloudTrail management events (their
   * EventBridge rule is built from these) and the Security Hub controls and third-party checks whose findings are
   * hints of it. Each is only a reason to re-read and re-judge the resource, never a verdict.
   */
  realtime: RealtimeTriggers;
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
  /** The change its fix records (its words' changes.kind), in reports and in the ledger. */
  change: KindSchema;
  /**
   * Other changes its fix may record that other problems' fixes record too (the S3 problems' block-public-access
   * strategy, problems/s3-public/contract.ts): each problem that records one lists it, the contract holds it once.
   */
  otherChanges?: readonly KindSchema[];
}

/** What can open a problem, as the real-time path hears of it. */
export interface RealtimeTriggers {
  cloudTrail: readonly CloudTrailTrigger[];
  securityHub: SecurityHubMapping;
}

/**
 * One CloudTrail management event that can open the problem (EventBridge "AWS API Call via CloudTrail", successful
 * calls only), and where the event names the resource.
 */
export interface CloudTrailTrigger {
  /** `detail.eventSource`: "ec2.amazonaws.com". */
  eventSource: string;
  /** `detail.eventName`: "AuthorizeSecurityGroupIngress". */
  eventName: string;
  /**
   * Dotted paths into the event's `detail` that hold the resource's id, tried in order (`*` steps into every element
   * of a list): "requestParameters.groupId". "account": the call changes an account-level setting, which no single
   * resource shows, so the problem's Config rule is re-evaluated instead (StartConfigRulesEvaluation).
   */
  resourceIds: readonly string[] | "account";
}

/**
 * Security Hub findings (ASFF, EventBridge "Security Hub Findings - Imported") that hint at the problem: Security
 * Hub's own controls by `Compliance.SecurityControlId`, any integrated product's checks by `GeneratorId` (Prowler and
 * others publish ASFF there).
 */
export interface SecurityHubMapping {
  /** "EC2.18": Security Hub's control ids (consolidated control findings carry them as Compliance.SecurityControlId). */
  controls: readonly string[];
  /** Third-party generator ids, exact: "prowler-ec2_securitygroup_allow_ingress_from_internet_to_all_ports". */
  generatorIds: readonly string[];
}

/** Past tense for a change that was made, the imperative for one that is only planned. */
export type Tense = "done" | "planned";

/**
 * How a problem's entries and the change its fix records are worded: one wording for the CLI (plan, peek, status),
 * the logs and undo, and Slack's for the change. Each problem's words.ts gives one; problems/words.ts dispatches to it
 * by entry and change kind.
 */
export interface ProblemWords {
  /** What its fix does to one entry, in each tense: "revoked ingress" / "revoke ingress". */
  verb: Readonly<Record<Tense, string>>;
  /** One entry of its matched kind: "tcp 22 from 0.0.0.0/0 (sgr-0a1)". */
  entry(entry: MatchedEntry): string;
  /** The change its fix records (its contract's `change`). */
  changes: ChangeWords;
  /**
   * Changes its fix may record that other problems' fixes record too (its contract's `otherChanges`): the same words
   * listed by each problem, worded once (the S3 problems' Block Public Access, problems/s3-public/words.ts).
   */
  otherChanges?: readonly ChangeWords[];
}

/** Each kind's change. Indexed rather than Extract<Change, …>: words of one kind are then words of any (ChangeWords). */
type ChangeOfKind = { [K in Change["kind"]]: Extract<Change, { kind: K }> };

/** How one kind of recorded change is worded, for the CLI and for Slack. */
export interface ChangeWords<K extends Change["kind"] = Change["kind"]> {
  kind: K;
  /** The CLI's words, every entry in it: "revoked ingress tcp 22 from 0.0.0.0/0; …". */
  change(change: ChangeOfKind[K], tense: Tense): string;
  /**
   * Slack words entries its own way: code spans, who a grantee is ("AllUsers (everyone)", a canonical user's whole
   * id), a removed statement whole as JSON, every Block Public Access flag before → after. What it shares with the
   * CLI's words reads the same there and here: a rule's ports, counts ("2 ingress rules") and lists.
   */
  slack: {
    /** For the message's summary: "revoked 2 ingress rules". */
    phrase<I>(change: ChangeOfKind[K], kit: SlackKit<I>): string;
    /** The list in the message's details: "Revoked 2 ingress rules on sg-1", one item per entry. */
    section<I>(change: ChangeOfKind[K], kit: SlackKit<I>): { title: string; note?: I; items: I[] };
  };
}

/**
 * What Slack's words are built with: the notifier's formatting (functions/notifier/message.ts, `I` its Inline, so
 * problems/ does not import it) and problems/words.ts `plural` (which its words.ts files cannot import: a cycle).
 */
export interface SlackKit<I> {
  /** Escaped text. */
  text(value: string | number): I;
  code(value: string | number): I;
  bold(value: string | number): I;
  /** Template: literal parts are trusted, interpolated strings escaped, pieces kept. */
  t(strings: TemplateStringsArray, ...values: (I | string | number)[]): I;
  /** Raw text cut to `max` characters, with the cut marker. */
  cut(value: string, max: number): string;
  plural(count: number, one: string, many?: string): string;
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
  /**
   * false: those events name no resource CloudTrail can look up (an account-level setting's calls: their `resources`
   * is empty), so attribution looks them up by event name. Absent: by the resource's id (ResourceName).
   */
  cloudTrailNamesIt?: false;
  /** How Security Hub names it (ASFF `Resources[].Type`, and the resource's id from its `Resources[].Id`). */
  securityHub: {
    type: string;
    /** Other ASFF types some products file it under (Prowler files the account's Block Public Access as a bucket). */
    otherTypes?: readonly string[];
    /** The resource id in an ASFF resource id (an ARN), or undefined when it is not one of this type's. */
    idFrom(asffId: string): string | undefined;
  };
  /**
   * What reading it live sends (its observe.ts, and its inventory.ts when Config does not record it): every AWS
   * command → its IAM action, and those AWS does not scope to a resource. The real-time function is granted these (and
   * the rule function those of the types it lists itself); a remediation's reads are in its fix's permissions.
   */
  reads: { permissions: CommandPermissions; unscopedActions: readonly string[] };
  /**
   * false: AWS Config does not record this type (EBS snapshots), so no configuration item of it ever exists: the
   * recorder leaves it out, its rule runs only periodically, and the periodic scan and `remedy plan --live` list its
   * resources through the service's own API instead, with `problems/<folder>/inventory.ts` (its `inventory` export,
   * sending only commands of `reads`). Absent: Config records it.
   */
  recordedByConfig?: false;
  /**
   * true: its folder has inventory.ts (its `inventory` export, sending only commands of `reads`): `remedy plan --live`
   * lists it directly where Config does not record it (no recorder, recorder stopped, type not in the recording
   * group). The periodic scan never uses it (Config records the type). Implied by `recordedByConfig: false`.
   */
  inventory?: true;
  /** The secure pattern when a Config rule says it violates without saying how. */
  training: Training;
  /**
   * The kind of the ledger before-state a fix of it records (its `state`): undo finds its resource's undo by it.
   * Typed string here: the union of kinds (ResourceState["kind"]) is inferred from the registry's resource types.
   */
  stateKind: string;
  /** The schema of that state (its `kind` is stateKind): contract/ledger.ts builds its state variant from every type's. */
  state: KindSchema;
  /**
   * The problems/ folder that holds its resource-level code: the CLI loads `problems/<folder>/undo.ts` (its `undo`
   * export, the undo of stateKind) from it. Named here, never imported: the registry stays free of undo code.
   */
  folder: string;
}
