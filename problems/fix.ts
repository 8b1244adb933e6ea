// What a problem supplies to fix itself: how to read the live resource and how to plan the change for exactly the
// entries that still violate. Everything else — parsing the claim, the deployed parameters, the exemption re-check
// against live tags, the re-judgement, matching the findings against the instruction, the ledger, the pause switch,
// deleting the message and reporting — is the runner's (functions/remediation/runner.ts), the same for every problem.
import type { Instruction } from "../contract/instruction.ts";
import type { ResourceState } from "../contract/ledger.ts";
import type { Change } from "../contract/report.ts";
import type { UndoExemptionRecord, UndoExemptionResource } from "../contract/undo-exemption.ts";
import type { AccountFactsReader } from "../detection/account-facts.ts";
import type { AllowlistEntry } from "../detection/exemptions.ts";
import type { Finding, Problem } from "../detection/types.ts";
import type { Log } from "../platform/logging.ts";

/** The resource an instruction names (a claim: the runner has already checked it is this deployment's). */
export type InstructedResource = Instruction["resource"];

/** What a fix read from the live resource. */
export interface LiveResource<Judged = unknown> {
  /** Its live tags: exemptions are re-checked against these, never against a claim's. */
  tags: Record<string, string>;
  /** The live resource as read: in the form the problem's rule judges (detect.ts), and what the ledger keeps. */
  judged: Judged;
}

/** The change for exactly the targets; nothing happens until apply. */
export interface PlannedChange {
  /** Exact state of what will change, as read: written to the ledger before anything changes. */
  before: ResourceState;
  /** The change about to be made (the same list goes into the ledger and the report). */
  changes: Change[];
  /** Makes the change; resolves with the exact after-state only when the change is confirmed. */
  apply(): Promise<ResourceState>;
}

export interface ProblemFix<Judged = unknown> {
  problem: Problem;
  /**
   * Why this resource is never changed whatever a claim says (Remedy's own buckets), or undefined. Checked before
   * anything is read.
   */
  refuse?(resource: InstructedResource): string | undefined;
  /**
   * Reads the live resource; undefined when it no longer exists (an AWS "gone" error means the same). Throws
   * PermanentRemediationError when what AWS returned cannot be judged.
   */
  readLive(resource: InstructedResource, log: Log): Promise<LiveResource<Judged> | undefined>;
  /** The problem's rule judging the live resource with the deployed parameters (findings of any problem). */
  judge(live: LiveResource<Judged>, parameters: unknown): Finding[];
  /**
   * The change that ends exactly `targets` (this problem's findings on the live resource that the instruction
   * names), or why there is nothing to change after all.
   */
  plan(
    targets: readonly Finding[],
    live: LiveResource<Judged>,
    resource: InstructedResource,
  ): PlannedChange | { skipped: string };
}

/** What a fix is made from in a remediation function: its environment and its AWS clients. */
export interface FixContext {
  /** The function's environment: a fix reads the names its spec declares (`fix.env`). */
  env: Record<string, string | undefined>;
  log: Log;
  now: () => Date;
  /**
   * The client of an SDK class (one per class in a function, platform/clients.ts sharedClient). Asked by class, so a
   * function's bundle carries only the clients its own fixes import.
   */
  client<C>(Client: new (config: object) => C): C;
  /** What is known about an account besides the resource; absent: the fix reads it with its own clients. */
  accountFacts?: AccountFactsReader;
  /**
   * Undo's temporary exemption of any resource (platform/undo-exemptions.ts undoExemptionReader): the runner's reader,
   * in the deployment's ledger bucket with the function's own credentials (organisation mode too: the ledger is the
   * hub's), for a fix whose safety condition spans resources besides the instructed one (the runner checks that one).
   * Undefined when there is none; throws when it cannot be read.
   */
  undoExemptions: (resource: UndoExemptionResource) => Promise<UndoExemptionRecord | undefined>;
  /**
   * The whole allowlist as it is now: the deployed entries, then the Slack ones (platform/slack-allowlist-read.ts),
   * for a fix whose safety condition spans resources besides the instructed one (the runner checks that one). Throws
   * when the Slack part cannot be read. Absent: REMEDY_ALLOWLIST alone.
   */
  allowlist?: () => Promise<readonly AllowlistEntry[]>;
}

/** A problem folder's fix.ts exports `fix`: how to make the problem's fix in a remediation function. */
export interface FixModule {
  problem: Problem;
  create(context: FixContext): ProblemFix;
}
