// What reading a resource type live means, for every part that judges the live resource rather than a Config item:
// the remediation runner (through its problems' fixes) and the real-time path. One reader and one normaliser per
// resource type (problems/<folder>/observe.ts, its `observe` export), so a fix and a real-time judgement can never
// see the same resource differently.
import type { AccountFactsReader } from "../detection/account-facts.ts";
import type { Verdict } from "../detection/types.ts";
import type { Log } from "../platform/logging.ts";
import type { InstructedResource, LiveResource } from "./fix.ts";

/** What an observer is made from: clients (asked by class, one per class), the clock, the log. */
export interface ObserveContext {
  client<C>(Client: new (config: object) => C): C;
  now: () => Date;
  log: Log;
  /** What is known about an account besides the resource; absent: the observer reads it with its own clients. */
  accountFacts?: AccountFactsReader;
}

export interface ResourceObserver<Judged = unknown> {
  resourceType: string;
  /**
   * Reads the live resource; undefined when it no longer exists (an AWS "gone" error means the same). Throws
   * PermanentRemediationError when what AWS returned cannot be judged.
   */
  readLive(resource: InstructedResource, log: Log): Promise<LiveResource<Judged> | undefined>;
  /**
   * One of the resource type's rules judging the live resource with its deployed parameters: `ruleId` (a type may be
   * judged by several rules, each in problems/<ruleId>/detect.ts), by default the type's first.
   */
  verdict(live: LiveResource<Judged>, parameters: unknown, ruleId?: string): Verdict;
}

/** A resource folder's observe.ts exports `observe`. */
export interface ObserveModule {
  resourceType: string;
  create(context: ObserveContext): ResourceObserver;
}
