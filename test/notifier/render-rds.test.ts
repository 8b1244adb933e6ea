// The public-snapshot problems in Slack, against their golden files: a fixed DB snapshot (who shared it, what was
// removed, the account kept, the secure Terraform pattern, the undo command), a fixed DB cluster snapshot, and the
// rule's Config compliance change relayed with the resource type's secure pattern.
import { describe, expect, it } from "vitest";
import type { Attribution } from "../../functions/notifier/attribution.ts";
import { classifyMessage, type Notice, type RelaySettings } from "../../functions/notifier/inbound.ts";
import { type RenderContext, renderNotice } from "../../functions/notifier/render.ts";
import { expectGolden, goldenText } from "./golden.ts";
import { snsMessage } from "./helpers.ts";

const relay: RelaySettings = { ruleSuffixes: ["rds-snapshot-public"], relayAllRules: false };

function notice(variant: string): Notice {
  const classified = classifyMessage(snsMessage(variant), relay);
  if (classified.outcome !== "notice") throw new Error(`${variant} was ignored: ${classified.reason}`);
  return classified.notice;
}

/** Who made the DB snapshot public: an SSO user's role session, as CloudTrail's LookupEvents names it. */
const carol: Attribution = {
  found: true,
  event: {
    eventName: "ModifyDBSnapshotAttribute",
    eventTime: "2026-11-20T10:40:31.000Z",
    eventId: "9d2c4e1a-5b7f-4a60-8e3d-2f1b0c9a7e64",
    principal: {
      type: "AssumedRole",
      description: "carol@example.com (role AWSReservedSSO_DataEngineer_1a2b3c4d5e6f7a8b)",
      arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_DataEngineer_1a2b3c4d5e6f7a8b/carol@example.com",
      keys: [],
    },
    sourceIp: "198.51.100.77",
    userAgent: "aws-cli/2.22.4",
  },
};

const unknown: Attribution = { found: false, reason: "CloudTrail lookup failed (AccessDeniedException)" };

const cases: [variant: string, context: RenderContext][] = [
  ["remedy/fixed-rds-snapshot", { attribution: carol, channel: "#data-platform" }],
  ["remedy/fixed-rds-cluster-snapshot", { attribution: unknown }],
  ["config/compliance-rds-snapshot", { attribution: carol, channel: "#sec-alerts" }],
];

describe("public snapshots in Slack (golden)", () => {
  it.each(cases)("%s", (variant, context) => {
    const built = renderNotice(notice(variant), context);
    expect(built.truncated).toBe(false);
    expectGolden(variant.replace("/", "--"), built.message);
  });

  it("a fixed snapshot says what was removed, what stays, who shared it, the secure pattern and the undo", () => {
    const { message } = renderNotice(notice("remedy/fixed-rds-snapshot"), { attribution: carol });
    const { text } = message;
    expect(text).toContain("✅ Fixed: RDS snapshot public to every AWS account");
    expect(text).toContain('Remedy fixed acme-orders-nightly-2026-11-19: removed public restore access ("all").');
    expect(text).toContain("Made DB snapshot acme-orders-nightly-2026-11-19 private");
    expect(text).toContain("still shared with 1 account (unchanged): 210987654321");
    expect(text).toContain("with ModifyDBSnapshotAttribute");
    expect(text).toContain("carol@example.com");
    // The secure pattern, in the details.
    expect(goldenText(message)).toContain('resource \\"aws_db_snapshot\\" \\"nightly\\"');
    expect(text).toContain("remedy undo act-20261120T104402Z-7e21c9d0");
    expect(text).toContain(
      "https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1#db-snapshot:id=acme-orders-nightly-2026-11-19",
    );
  });

  it("a cluster snapshot's message uses its own words and pattern", () => {
    const { message } = renderNotice(notice("remedy/fixed-rds-cluster-snapshot"), {});
    const { text } = message;
    expect(text).toContain("✅ Fixed: RDS cluster snapshot public to every AWS account");
    expect(text).toContain("Made DB cluster snapshot acme-ledger-pre-migration private");
    expect(text).not.toContain("still shared");
    expect(goldenText(message)).toContain('resource \\"aws_db_cluster_snapshot\\" \\"pre_migration\\"');
  });
});
