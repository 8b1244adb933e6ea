// What Slack shows for sg-default-rules (golden files in test/golden/notifier/): the fix, with who opened the group
// and the secure pattern (aws_default_security_group without rules); the skip while interfaces use the group, naming
// them; and Config's NON_COMPLIANT for a group in use — nothing queued, the annotation naming the interfaces, and
// this problem's secure pattern rather than the resource type's.
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, describe, expect, it } from "vitest";
import { type Attribution, attribute } from "../../../functions/notifier/attribution.ts";
import { classifyMessage, type Notice } from "../../../functions/notifier/inbound.ts";
import { renderNotice } from "../../../functions/notifier/render.ts";
import { RULE_IDS } from "../../../problems/index.ts";
import { recordingLog } from "../../helpers/recording-log.ts";
import { expectGolden } from "../../notifier/golden.ts";
import { lookupResponse, snsMessage } from "../../notifier/helpers.ts";

const relay = { ruleSuffixes: RULE_IDS, relayAllRules: false };

function notice(variant: string): Notice {
  const classified = classifyMessage(snsMessage(variant), relay);
  if (classified.outcome !== "notice") throw new Error(`${variant} was ignored: ${classified.reason}`);
  return classified.notice;
}

/** Who opened it, as attribution finds it in CloudTrail: AuthorizeSecurityGroupEgress is an opening event now. */
async function whoOpenedIt(): Promise<Attribution> {
  cloudTrail.on(LookupEventsCommand).resolves(lookupResponse("sg-default-egress"));
  return attribute(
    { resourceType: "AWS::EC2::SecurityGroup", resourceId: GROUP, accountId: "123456789012", region: "us-east-1" },
    {
      cloudTrail: new CloudTrailClient({}),
      home: { region: "us-east-1", accountId: "123456789012" },
      lookbackDays: 7,
      slackUsers: { "erin@example.com": "U07ERIN" },
      now: () => new Date("2026-11-20T10:17:00.000Z"),
      log: recordingLog(),
    },
  );
}

const GROUP = "sg-0d3fa017e5c6b8a21";
const cloudTrail = mockClient(CloudTrailClient);
afterAll(() => cloudTrail.restore());

describe("sg-default-rules in Slack", () => {
  it("finds who opened the group: the egress call, not Remedy's own revoke after it", async () => {
    expect(await whoOpenedIt()).toMatchObject({
      found: true,
      event: {
        eventName: "AuthorizeSecurityGroupEgress",
        eventTime: "2026-11-20T10:14:37.000Z",
        sourceIp: "203.0.113.44",
        slackUserId: "U07ERIN",
      },
    });
  });

  it("fixed: every revoked rule with its direction and peer, who opened it, undo, and the secure pattern", async () => {
    const { message, truncated } = renderNotice(notice("remedy/fixed-sg-default"), {
      attribution: await whoOpenedIt(),
      channel: "#sec-alerts",
    });
    expect(truncated).toBe(false);
    expect(message.text).toContain("✅ Fixed: default security group with rules");
    expect(message.text).toContain("revoked 3 rules of the default group");
    expect(message.text).toContain("Revoked 3 rules on default group sg-0d3fa017e5c6b8a21");
    expect(message.text).toContain("egress tcp 443 to 0.0.0.0/0");
    expect(message.text).toContain("ingress all traffic from 123456789012/sg-0d3fa017e5c6b8a21");
    expect(message.text).toContain("Changed by <@U07ERIN>");
    expect(message.text).toContain("with AuthorizeSecurityGroupEgress");
    // The secure pattern is in the blocks only (not the fallback text).
    expect(JSON.stringify(message.attachments)).toContain('resource \\"aws_default_security_group\\" \\"default\\"');
    expect(message.text).toContain("remedy undo act-20261120T101640Z-4e2a9c1d");
    expectGolden("sg-default-rules--fixed", message);
  });

  it("skipped while interfaces use the group: nothing changed, every interface named", () => {
    const { message } = renderNotice(notice("remedy/skipped-sg-default-in-use"), { channel: "#sec-alerts" });
    expect(message.text).toContain("ℹ️ Skipped: default security group with rules");
    expect(message.text).toContain("changed nothing — not revoked: 2 network interfaces use default group");
    expect(message.text).toContain("(eni-05d2b8f4a6c1e3079, eni-0a7c3e9f1b2d4c6e8)");
    expectGolden("sg-default-rules--skipped-in-use", message);
  });

  it("Config's NON_COMPLIANT for a group in use names the interfaces and shows this problem's secure pattern", async () => {
    const { message } = renderNotice(notice("config/compliance-non-compliant-sg-default"), {
      attribution: await whoOpenedIt(),
      channel: "#sec-alerts",
    });
    expect(message.text).toContain("🔴 Non-compliant: EC2 security group sg-0d3fa017e5c6b8a21");
    expect(message.text).toContain("which 2 network interfaces use: not fixed automatically");
    expect(message.text).toContain("groups of their own: eni-05d2b8f4a6c1e3079, eni-0a7c3e9f1b2d4c6e8");
    expect(JSON.stringify(message.attachments)).toContain('resource \\"aws_default_security_group\\" \\"default\\"');
    // Not the resource type's pattern, which is sg-open-ingress' (ingress from known sources).
    expect(JSON.stringify(message)).not.toContain("aws_vpc_security_group_ingress_rule");
    expectGolden("sg-default-rules--compliance-in-use", message);
  });
});
