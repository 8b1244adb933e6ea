// What a problem folder's example.ts exports: one live resource that violates exactly this problem, exactly once,
// made through the AWS API, and what Remedy must then do to it. test/e2e/problems-moto.test.ts runs every registered
// problem's example through the whole pipeline on an AWS emulator (Config rule → queue → coordinator → remediation
// → ledger and report → `remedy undo`), so a problem added to the registry is tested end to end by its example
// alone; test/problems/registry.test.ts fails while a registered problem has none.
//
// An example is data and small functions over SDK clients the caller makes (pointed at moto in the test): no test
// framework, no test code. It also says how Config would describe its resource (`configItem`: the configuration
// item, built from the live resource), so a problem on a new resource type needs nothing in the tests.
//
// Examples are test support: only tests import them, never a function's code (nothing a Lambda bundles reaches an
// example.ts).
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { Change } from "../contract/report.ts";
import type { MatchedEntry } from "../detection/types.ts";
import type { Problem } from "./index.ts";

/** The AWS clients an example works with: asked by SDK class (`client(EC2Client)`), made and configured by the caller. */
export interface ExampleClients {
  client<C>(Client: new (config: object) => C): C;
}

/** Where Config records a configuration item: the account it records in, and the resource's region. */
export interface ConfigScope {
  accountId: string;
  region: string;
}

/**
 * The scope of an item for a resource read through `client`: the account of the caller's credentials (STS
 * GetCallerIdentity) and the client's region.
 */
export async function configScope(
  clients: ExampleClients,
  client: { config: { region: () => Promise<string> } },
): Promise<ConfigScope> {
  const { Account } = await clients.client(STSClient).send(new GetCallerIdentityCommand({}));
  if (!Account) throw new Error("GetCallerIdentity answered no Account");
  return { accountId: Account, region: await client.config.region() };
}

/** A live resource as an example compares it: what the fix may remove, and everything else. */
export interface ExampleState<Entry = unknown> {
  /**
   * The resource's entries of the kind this problem's fix removes (security-group rules, ACL grants, policy
   * statements), each as compared: without what AWS re-assigns when an entry is put back (a rule's id) or may or may
   * not echo (a grantee's display name). Kept in a stable order (sorted, or the resource's own order where it has one).
   */
  entries: Entry[];
  /** Everything else about the resource that Remedy reads or could change (other kinds of entries, flags, tags). */
  rest: unknown;
}

export interface ProblemExample<Entry = unknown> {
  problem: Problem;
  /**
   * Creates the resource through the AWS API: exactly one entry that violates this problem (and no other problem
   * of the same rule), next to entries that look alike but must be kept. `name` is the caller's, unique among its
   * resources and usable as a bucket or group name. Resolves with the resource id (the Config item's resourceId).
   */
  create(clients: ExampleClients, name: string): Promise<string>;
  /** What the rule's finding records for the violating entry, so what the fix instruction names (`matched`). */
  violation(resourceId: string): MatchedEntry;
  /**
   * The change its fix records when it removes exactly that entry (`violation(resourceId)`): the words tests word
   * both (test/undo/words.test.ts).
   */
  recordedChange(resourceId: string): Change;
  /**
   * The id of the instruction naming `violation` on the tests' resource of this problem (test/support/instructions.ts
   * testInstruction), pinned: an id names an instruction across deliveries, re-detections and the ledger, so it must
   * never change for the same resource, problem and entries (test/contract/pinned-ids.test.ts).
   */
  pinnedInstructionId: string;
  /**
   * The configuration item AWS Config would record now for the live resource (as delivered in a change event), read
   * through the AWS API; `capturedAt` is its capture time.
   */
  configItem(clients: ExampleClients, resourceId: string, capturedAt: Date): Promise<Record<string, unknown>>;
  /** The live resource, read back through the AWS API. */
  read(clients: ExampleClients, resourceId: string): Promise<ExampleState<Entry>>;
  /** Whether an entry of `read` is the violating one: the fix removes it, and only it. */
  isViolation(entry: Entry): boolean;
  /**
   * Only where `remedy undo` gives the resource back in a form that means the same but reads differently (a
   * policy's statements in another order): what it then reads as. Absent: exactly `before`.
   */
  restored?(before: ExampleState<Entry>): ExampleState<Entry>;
  /**
   * Only where the fix turns a setting on rather than removing an entry (an account-level flag): what the resource
   * then reads as. Absent: `before` without the violating entry.
   */
  fixed?(before: ExampleState<Entry>): ExampleState<Entry>;
}

/** What must hold once the fix ran: the violating entry gone, every other entry and everything else untouched. */
export function stateAfterFix<Entry>(example: ProblemExample<Entry>, before: ExampleState<Entry>): ExampleState<Entry> {
  if (example.fixed) return example.fixed(before);
  return { entries: before.entries.filter((entry) => !example.isViolation(entry)), rest: before.rest };
}

/** What must hold once `remedy undo` put the fix back: the resource as it was before the fix. */
export function stateAfterUndo<Entry>(
  example: ProblemExample<Entry>,
  before: ExampleState<Entry>,
): ExampleState<Entry> {
  return example.restored ? example.restored(before) : before;
}
