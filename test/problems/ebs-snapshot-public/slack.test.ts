// What Slack shows for a public EBS snapshot Remedy fixed: the problem's title, who made it public (CloudTrail's
// ModifySnapshotAttribute), the change in its own words (only the group all removed; shared accounts keep access),
// the undo command and the secure Terraform pattern; against its golden file (test/golden/notifier/, UPDATE_GOLDEN=1
// rewrites it). AWS strings are escaped as everywhere.
import { describe, expect, it } from "vitest";
import type { Change } from "../../../contract/report.ts";
import type { Attribution } from "../../../functions/notifier/attribution.ts";
import { classifyMessage, type Notice } from "../../../functions/notifier/inbound.ts";
import { renderNotice } from "../../../functions/notifier/render.ts";
import { describeChange } from "../../../problems/words.ts";
import { expectGolden } from "../../notifier/golden.ts";
import { snsMessage } from "../../notifier/helpers.ts";

const carol: Attribution = {
  found: true,
  event: {
    eventName: "ModifySnapshotAttribute",
    eventTime: "2026-11-20T10:16:33.000Z",
    eventId: "c7d9e1f3-2a4b-4c6d-8e0f-1a3b5c7d9e2f",
    principal: {
      type: "AssumedRole",
      description: "carol@example.com (role AWSReservedSSO_PowerUserAccess_4f1b2c3d5e6a7b8c)",
      arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_PowerUserAccess_4f1b2c3d5e6a7b8c/carol@example.com",
      keys: ["carol@example.com"],
    },
    sourceIp: "198.51.100.23",
    userAgent: "aws-cli/2.22.9",
    slackUserId: "U07CAROL",
  },
};

function notice(): Notice {
  const classified = classifyMessage(snsMessage("remedy/fixed-ebs-snapshot"), {
    ruleSuffixes: ["ebs-snapshot-public"],
    relayAllRules: true,
  });
  if (classified.outcome !== "notice") throw new Error(`ignored: ${classified.reason}`);
  return classified.notice;
}

describe("Slack: a public EBS snapshot fixed", () => {
  it("renders as its golden file: title, who made it public, the change, undo and the secure pattern", () => {
    const built = renderNotice(notice(), { attribution: carol, channel: "#sec-alerts" });
    expect(built.truncated).toBe(false);
    const { text } = built.message;
    expect(text).toContain("EBS snapshot public to every AWS account");
    expect(text).toContain("Changed by <@U07CAROL>");
    expect(text).toContain("ModifySnapshotAttribute");
    expect(text).toContain("Removed public sharing of snap-0a1b2c3d4e5f60718");
    expect(text).toContain("every account shared with by id keeps its access");
    expect(text).toContain("remedy undo act-20261120T102819Z-5e0b3a71");
    // The secure pattern is in the message's details (the fallback text stays short).
    expect(JSON.stringify(built.message.attachments)).toContain(
      'resource \\"aws_ebs_snapshot_block_public_access\\" \\"this\\"',
    );
    expect(text).toContain(
      "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#SnapshotDetails:snapshotId=snap-0a1b2c3d4e5f60718",
    );
    expectGolden("remedy--fixed-ebs-snapshot", built.message);
  });

  it("the CLI words the same change in both tenses", () => {
    const change: Change = { kind: "ebs-snapshot-permissions-removed", snapshotId: "snap-1", groups: ["all"] };
    expect(describeChange(change)).toBe("removed public sharing createVolumePermission group all (every AWS account)");
    expect(describeChange(change, "planned")).toBe(
      "remove public sharing createVolumePermission group all (every AWS account)",
    );
  });
});
