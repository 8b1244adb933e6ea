// Reading one EBS snapshot live and judging it as the rule does: the account's own snapshot of that id and its tags
// (DescribeSnapshots), its createVolumePermission list (DescribeSnapshotAttribute). The fix (fix.ts) and the real-time
// path read a snapshot only through here.
import { EC2Client } from "@aws-sdk/client-ec2";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import type { ObserveModule, ResourceObserver } from "../observe.ts";
import type { CreateVolumePermissionState } from "./contract.ts";
import { InvalidSnapshotPermissionsError, snapshotVerdict } from "./detect.ts";
import { describeSnapshot, readPermissions, snapshotTags } from "./live.ts";
import { ebsSnapshot, SNAPSHOT_ID } from "./resource.ts";

/** The snapshot's live permission list, as read (the ledger keeps it whole) and as the rule judges it. */
export interface LiveSnapshot {
  snapshotId: string;
  permissions: CreateVolumePermissionState[];
}

export function snapshotObserver(deps: { ec2: EC2Client }): ResourceObserver<LiveSnapshot> {
  return {
    resourceType: ebsSnapshot.type,

    async readLive(resource) {
      const snapshotId = resource.id;
      // A claim names the snapshot: anything that is not a snapshot id is never sent to EC2.
      if (!SNAPSHOT_ID.test(snapshotId)) {
        throw new PermanentRemediationError(`${JSON.stringify(snapshotId.slice(0, 80))} is not an EBS snapshot id`);
      }
      const snapshot = await describeSnapshot(deps.ec2, snapshotId, resource.accountId);
      if (!snapshot) return undefined;
      let permissions: CreateVolumePermissionState[];
      try {
        permissions = await readPermissions(deps.ec2, snapshotId);
      } catch (error) {
        if (!(error instanceof InvalidSnapshotPermissionsError)) throw error;
        throw new PermanentRemediationError(`live permissions of ${snapshotId} cannot be judged: ${error.message}`, {
          cause: error,
        });
      }
      return { tags: snapshotTags(snapshot), judged: { snapshotId, permissions } };
    },

    verdict: (live) => snapshotVerdict(live.judged.permissions),
  };
}

export const observe: ObserveModule = {
  resourceType: ebsSnapshot.type,
  create: ({ client }) => snapshotObserver({ ec2: client(EC2Client) }) as ResourceObserver,
};
