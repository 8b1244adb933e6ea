// Fixing a public EBS snapshot: read the snapshot and its createVolumePermission list live, and remove exactly the
// group `all` (ModifySnapshotAttribute, operation remove, group all) when it is still there. Every account the
// snapshot is shared with by id stays: the call names no account. The after-state is read back, not assumed.
import { EC2Client, ModifySnapshotAttributeCommand } from "@aws-sdk/client-ec2";
import { TransientRemediationError } from "../../platform/aws-errors.ts";
import type { FixModule, ProblemFix } from "../fix.ts";
import { isPublic, PUBLIC_GROUP } from "./detect.ts";
import { readPermissions } from "./live.ts";
import { type LiveSnapshot, snapshotObserver } from "./observe.ts";
import { ebsSnapshotPublic } from "./spec.ts";

/** Reads of the attribute after the change before it counts as not taken (EC2 is eventually consistent). */
const CONFIRM_READS = 3;
const CONFIRM_WAIT_MS = 400;

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function ebsSnapshotPublicFix(deps: { ec2: EC2Client }): ProblemFix<LiveSnapshot> {
  // The one reading and judging of a live snapshot (observe.ts), shared with the real-time path.
  const observer = snapshotObserver(deps);
  return {
    problem: ebsSnapshotPublic.id,

    readLive: (resource, log) => observer.readLive(resource, log),

    judge: (live, parameters) => observer.verdict(live, parameters).findings,

    plan(_targets, live) {
      // The runner passes only this problem's findings that the instruction names and that violate now: the one
      // possible target is the group `all`, which the live list holds.
      const { snapshotId, permissions } = live.judged;
      return {
        before: { kind: "ebs-snapshot-permissions", snapshotId, createVolumePermissions: permissions },
        changes: [{ kind: "ebs-snapshot-permissions-removed", snapshotId, groups: [PUBLIC_GROUP] }],
        async apply() {
          await deps.ec2.send(
            new ModifySnapshotAttributeCommand({
              SnapshotId: snapshotId,
              Attribute: "createVolumePermission",
              OperationType: "remove",
              GroupNames: [PUBLIC_GROUP],
            }),
          );
          for (let read = 1; ; read++) {
            const after = await readPermissions(deps.ec2, snapshotId);
            if (!isPublic(after)) {
              return { kind: "ebs-snapshot-permissions", snapshotId, createVolumePermissions: after };
            }
            if (read === CONFIRM_READS) {
              throw new TransientRemediationError(
                `ModifySnapshotAttribute removed group all from ${snapshotId}, but EC2 still lists it after ${CONFIRM_READS} reads (a concurrent change, or EC2 not yet consistent): the next attempt reads it again`,
              );
            }
            await wait(CONFIRM_WAIT_MS * read);
          }
        },
      };
    },
  };
}

export const fix: FixModule = {
  problem: ebsSnapshotPublic.id,
  create: ({ client }) => ebsSnapshotPublicFix({ ec2: client(EC2Client) }),
};
