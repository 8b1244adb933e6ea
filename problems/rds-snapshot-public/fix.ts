// Fixing a public snapshot, surgically: read it live (observe.ts), and remove exactly the value "all" from its restore
// attribute (ModifyDB(Cluster)SnapshotAttribute, ValuesToRemove ["all"]); the accounts it is shared with by id stay.
// The before-state is the attribute as read; the after-state is the attribute as the write's answer lists it, and the
// fix is confirmed only when "all" is gone from it. A DB cluster snapshot's fix is built the same way
// (problems/rds-cluster-snapshot-public/fix.ts).
import { RDSClient } from "@aws-sdk/client-rds";
import type { ResourceState } from "../../contract/ledger.ts";
import type { Change } from "../../contract/report.ts";
import { TransientRemediationError } from "../../platform/aws-errors.ts";
import type { FixModule, ProblemFix } from "../fix.ts";
import type { ResourceObserver } from "../observe.ts";
import { PUBLIC_RESTORE_VALUE } from "./contract.ts";
import { sharedAccounts } from "./detect.ts";
import { dbSnapshotObserver, type LiveSnapshot } from "./observe.ts";
import { dbSnapshotCalls, type SnapshotCalls } from "./write.ts";

/** The observer of a flavor's snapshots, as its resource folder's observe.ts makes it. */
export type SnapshotObserverOf = (deps: { rds: RDSClient }) => ResourceObserver<LiveSnapshot>;

export function snapshotFix(
  calls: SnapshotCalls,
  observerOf: SnapshotObserverOf,
  deps: { rds: RDSClient },
): ProblemFix<LiveSnapshot> {
  const { flavor } = calls;
  // The one reading and judging of a live snapshot (its resource folder's observe.ts), shared with the real-time path.
  const observer = observerOf(deps);
  const state = (snapshot: string, restore: string[]) =>
    ({ kind: flavor.stateKind, snapshot, restore }) as ResourceState;
  return {
    problem: flavor.problem,

    readLive: (resource, log) => observer.readLive(resource, log),

    judge: (live, parameters) => observer.verdict(live, parameters).findings,

    // The runner hands over only this problem's findings the instruction names that still hold: there is one kind,
    // the value "all", so a target means "all" is in the attribute now.
    plan(_targets, live, resource) {
      const id = resource.id;
      const before = [...live.judged.restore];
      const change = {
        kind: flavor.changeKind,
        snapshot: id,
        values: [PUBLIC_RESTORE_VALUE],
        kept: sharedAccounts(before),
      } as Change;
      return {
        before: state(id, before),
        changes: [change],
        async apply() {
          const after = await calls.writePublic(deps.rds, id, "remove");
          if (after.includes(PUBLIC_RESTORE_VALUE)) {
            throw new TransientRemediationError(
              `${flavor.noun} ${id} still lists "all" in its restore attribute after the change (${after.join(", ")})`,
            );
          }
          return state(id, after);
        },
      };
    },
  };
}

/** The fix module of a flavor's problem (each problem folder exports its own as `fix`). */
export function snapshotFixModule(calls: SnapshotCalls, observerOf: SnapshotObserverOf): FixModule {
  return {
    problem: calls.flavor.problem,
    create: ({ client }) => snapshotFix(calls, observerOf, { rds: client(RDSClient) }),
  };
}

export const fix: FixModule = snapshotFixModule(dbSnapshotCalls, dbSnapshotObserver);
