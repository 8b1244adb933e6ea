// An EBS snapshot any AWS account can create a volume from (its createVolumePermission includes the group `all`):
// found by problems/ebs-snapshot-public/detect.ts on the snapshots Remedy lists itself (Config does not record them),
// fixed by removing exactly that group; the accounts it is shared with by id keep their access.
import type { ProblemSpec } from "../types.ts";
import { ebsSnapshotPublicContract } from "./contract.ts";
import { ebsSnapshot } from "./resource.ts";
import { ebsSnapshotPublicWords } from "./words.ts";

export const ebsSnapshotPublic = {
  id: "ebs-snapshot-public",
  resource: ebsSnapshot,
  resourceType: ebsSnapshot.type,
  ruleId: "ebs-snapshot-public",
  matchedKind: "ebs-snapshot-permission",
  contract: ebsSnapshotPublicContract,
  // Its own function: the only EBS fix, so its bundle carries only the EC2 commands below.
  remediation: "remediate-ebs",
  fix: {
    permissions: {
      DescribeSnapshotsCommand: "ec2:DescribeSnapshots",
      DescribeSnapshotAttributeCommand: "ec2:DescribeSnapshotAttribute",
      ModifySnapshotAttributeCommand: "ec2:ModifySnapshotAttribute",
    },
    env: [],
    // EC2 Describe* calls are granted on "*"; the change itself only on the region's snapshots.
    unscopedActions: ["ec2:DescribeSnapshots", "ec2:DescribeSnapshotAttribute"],
  },
  violatingWord: "public",
  title: "EBS snapshot public to every AWS account",
  training: ebsSnapshot.training,
  words: ebsSnapshotPublicWords,
  realtime: {
    cloudTrail: [
      // requestParameters: {snapshotId, attributeType: "CREATE_VOLUME_PERMISSION", createVolumePermission: {add:
      // {items: [{group: "all"}]}}}. Any change of the attribute is a reason to look (the live read decides).
      {
        eventSource: "ec2.amazonaws.com",
        eventName: "ModifySnapshotAttribute",
        resourceIds: ["requestParameters.snapshotId"],
      },
    ],
    securityHub: {
      // Security Hub's EC2.1 ("EBS snapshots should not be publicly restorable") is an account-level check: its
      // findings name the account (AwsAccount), not a snapshot, so there is nothing to re-read; the periodic scan is
      // the backstop for it.
      controls: [],
      generatorIds: ["prowler-ec2_ebs_public_snapshot"],
    },
  },
} as const satisfies ProblemSpec<"ebs-snapshot-public">;
