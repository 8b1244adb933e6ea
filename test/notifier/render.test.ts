// Rendering: every message kind against its golden file, Slack's limits, and escaping.
import { describe, expect, it } from "vitest";
import type { Report } from "../../contract/report.ts";
import type { SgRuleEntry } from "../../detection/types.ts";
import type { Attribution } from "../../functions/notifier/attribution.ts";
import { classifyMessage, type Notice, type RelaySettings } from "../../functions/notifier/inbound.ts";
import { CUT_MARKER, SLACK_LIMITS, type SlackMessage } from "../../functions/notifier/message.ts";
import { type RenderContext, renderNotice } from "../../functions/notifier/render.ts";
import { describePorts, describeSgRule } from "../../problems/words.ts";
import { expectGolden } from "./golden.ts";
import { snsMessage } from "./helpers.ts";

const relay: RelaySettings = { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: true };

function notice(variant: string): Notice {
  const classified = classifyMessage(snsMessage(variant), relay);
  if (classified.outcome !== "notice") throw new Error(`${variant} was ignored: ${classified.reason}`);
  return classified.notice;
}

function reportOf(variant: string): Report {
  const n = notice(variant);
  if (n.kind !== "report") throw new Error(`${variant} is not a report`);
  return structuredClone(n.report);
}

const alice: Attribution = {
  found: true,
  event: {
    eventName: "AuthorizeSecurityGroupIngress",
    eventTime: "2026-11-20T09:57:41.000Z",
    eventId: "4e0b36d8-6d2c-4b8e-a1f3-9c5d7e2a1b04",
    principal: {
      type: "IAMUser",
      description: "IAM user alice",
      arn: "arn:aws:iam::123456789012:user/alice",
      keys: ["arn:aws:iam::123456789012:user/alice", "alice"],
    },
    sourceIp: "203.0.113.7",
    userAgent: "aws-cli/2.15.30",
    slackUserId: "U012ALICE",
  },
};

const bob: Attribution = {
  found: true,
  event: {
    eventName: "PutBucketAcl",
    eventTime: "2026-11-20T10:04:10.000Z",
    eventId: "b3a1f2e4-0c9d-4e8f-a7b6-5c4d3e2f1a09",
    principal: {
      type: "AssumedRole",
      description: "bob@example.com (role AWSReservedSSO_PowerUserAccess_4f1b2c3d5e6a7b8c)",
      arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_PowerUserAccess_4f1b2c3d5e6a7b8c/bob@example.com",
      keys: [],
    },
    sourceIp: "198.51.100.23",
    userAgent: "AWS console",
  },
};

/** Who turned the account's RestrictPublicBuckets off (an SSO session, through the CLI). */
const jo: Attribution = {
  found: true,
  event: {
    eventName: "PutAccountPublicAccessBlock",
    eventTime: "2026-11-20T10:38:50.000Z",
    eventId: "391a7c0f-68b5-4c4d-3f40-5162738495a6",
    principal: {
      type: "AssumedRole",
      description: "jo.dev@example.com (role AWSReservedSSO_AdministratorAccess_4f3c2b1a0d9e8f7a)",
      arn: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_4f3c2b1a0d9e8f7a/jo.dev@example.com",
      keys: [],
    },
    sourceIp: "198.51.100.23",
    userAgent: "aws-cli/2.22.9",
  },
};

const denied: Attribution = { found: false, reason: "CloudTrail lookup failed (AccessDeniedException)" };

const cases: [variant: string, context: RenderContext][] = [
  ["remedy/fixed-sg", { attribution: alice, channel: "#sec-alerts" }],
  ["remedy/fixed-s3-acl", { attribution: bob, channel: "#team-a" }],
  ["remedy/fixed-s3-policy", { attribution: denied }],
  ["remedy/skipped", { channel: "#sec-alerts" }],
  ["remedy/fixed-s3-account", { attribution: jo, channel: "#sec-alerts" }],
  ["remedy/skipped-s3-account", { channel: "#sec-alerts" }],
  ["remedy/skipped-s3-account-undo", { channel: "#sec-alerts" }],
  ["remedy/would-fix", { attribution: alice, channel: "#team-b" }],
  ["remedy/failed", { attribution: bob, channel: "#sec-alerts" }],
  ["remedy/grace", { attribution: alice, channel: "#sec-alerts" }],
  ["remedy/dead-lettered", { channel: "#sec-alerts" }],
  ["remedy/breaker-tripped", { channel: "#sec-alerts" }],
  ["remedy/breaker-resumed", {}],
  ["config/compliance-non-compliant", { attribution: alice, channel: "#sec-alerts" }],
  ["config/compliance-compliant", {}],
  [
    "config/compliance-first-evaluation",
    {
      attribution: {
        found: false,
        reason:
          "no change event for acme-analytics-exports in CloudTrail of the last 7 days (new events can take up to 15 minutes to appear)",
      },
    },
  ],
  ["config/compliance-not-applicable", {}],
  ["config/compliance-insufficient-data", {}],
  ["config/compliance-other-rule", { channel: "#sec-alerts" }],
  ["alarm/dlq-alarm", { channel: "#sec-alerts" }],
  ["alarm/dlq-ok", { channel: "#sec-alerts" }],
];

/** Every limit Slack documents for what the renderer builds. */
function expectWithinSlackLimits(message: SlackMessage): void {
  const all = [...message.blocks, ...message.attachments.flatMap((attachment) => attachment.blocks)];
  expect(all.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
  expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  for (const block of all) {
    if (block.type === "header") expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
    if (block.type === "section" && "text" in block) {
      expect(block.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    }
    if (block.type === "section" && "fields" in block) {
      expect(block.fields.length).toBeLessThanOrEqual(SLACK_LIMITS.fields);
      for (const field of block.fields) expect(field.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fieldText);
    }
    if (block.type === "context") expect(block.elements.length).toBeLessThanOrEqual(SLACK_LIMITS.contextElements);
  }
  // Every code fence is closed.
  for (const block of all) {
    if (block.type === "section" && "text" in block) {
      expect((block.text.text.match(/```/g) ?? []).length % 2, block.text.text).toBe(0);
    }
  }
}

describe("notifier rendering (golden)", () => {
  it.each(cases)("%s", (variant, context) => {
    const built = renderNotice(notice(variant), context);
    expectWithinSlackLimits(built.message);
    expect(built.truncated).toBe(false);
    expectGolden(variant.replace("/", "--"), built.message);
  });

  it("says when a fix restored something instead of removing it", () => {
    const report = reportOf("remedy/fixed-sg");
    if (report.kind !== "fixed") throw new Error("fixture changed");
    report.changes = [{ kind: "restored", summary: "re-authorized tcp 22 from 10.20.0.0/16 (removed by mistake)" }];
    const built = renderNotice({ kind: "report", report }, { channel: "#sec-alerts" });
    expect(built.message.text).toContain("✅ Restored: security group open to the internet");
    expect(built.message.text).toContain("Remedy restored sg-0f1e2d3c4b5a69788");
    expect(built.message.text).not.toContain("Secure pattern");
    expect(built.message.text).toContain("re-authorized tcp 22 from 10.20.0.0/16");
    expectGolden("synthetic--fixed-restored", built.message);
  });

  it("renders an alarm that is not about queue depth as a plain alarm", () => {
    const n = notice("alarm/dlq-alarm");
    if (n.kind !== "alarm") throw new Error("fixture changed");
    const { queueName: _queue, ...rest } = n.alarm;
    const built = renderNotice({
      kind: "alarm",
      alarm: { ...rest, name: "remedy-notifier-errors", metricName: "Errors" },
    });
    expect(built.message.blocks[0]).toMatchObject({ text: { text: "🔴 Alarm: remedy-notifier-errors" } });
    expectGolden("synthetic--alarm-generic", built.message);
  });
});

describe("notifier rendering: at a glance", () => {
  it.each([
    ["remedy/fixed-sg", "✅ Fixed: security group open to the internet", "#2eb67d"],
    ["remedy/grace", "🕒 Will fix at 2026-11-20 10:28 UTC: security group open to the internet", "#ecb22e"],
    ["remedy/skipped", "ℹ️ Skipped: security group open to the internet", "#9ea0a5"],
    ["remedy/would-fix", "👀 Would fix (notify mode): security group open to the internet", "#ecb22e"],
    ["remedy/failed", "🔴 Fix failed: bucket public through its policy", "#e01e5a"],
    ["remedy/dead-lettered", "🔴 Dead-lettered: a message Remedy could not process", "#e01e5a"],
    ["remedy/breaker-tripped", "🛑 Remedy paused: circuit breaker tripped", "#e01e5a"],
    ["config/compliance-non-compliant", "🔴 Non-compliant: EC2 security group sg-0f1e2d3c4b5a69788", "#e01e5a"],
    ["config/compliance-compliant", "✅ Compliant: S3 bucket acme-analytics-exports", "#2eb67d"],
    ["config/compliance-not-applicable", "➖ Not applicable: EC2 security group sg-07a8b9c0d1e2f3a4b", "#9ea0a5"],
    ["config/compliance-insufficient-data", "❔ Insufficient data: EC2 security group sg-0f1e2d3c4b5a69788", "#9ea0a5"],
    ["alarm/dlq-alarm", "🔴 Dead-letter queue remedy-dlq has 3 messages", "#e01e5a"],
    ["alarm/dlq-ok", "✅ Dead-letter queue remedy-dlq is empty again", "#2eb67d"],
  ])("%s: header and colour", (variant, header, color) => {
    const { message } = renderNotice(notice(variant));
    expect(message.blocks[0]).toEqual({ type: "header", text: { type: "plain_text", text: header, emoji: true } });
    expect(message.attachments[0]!.color).toBe(color);
    expect(message.text.startsWith(`${header}\n`)).toBe(true);
  });

  it("links the console for security groups and buckets", () => {
    const sg = renderNotice(notice("remedy/fixed-sg")).message.text;
    expect(sg).toContain(
      "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#SecurityGroup:groupId=sg-0f1e2d3c4b5a69788",
    );
    const bucket = renderNotice(notice("remedy/fixed-s3-acl")).message.text;
    expect(bucket).toContain("https://s3.console.aws.amazon.com/s3/buckets/acme-analytics-exports?region=us-east-1");
  });

  it("mentions the person who made the change in the summary and the fallback text", () => {
    const { message } = renderNotice(notice("remedy/fixed-sg"), { attribution: alice });
    const summary = message.blocks[1];
    expect(summary).toMatchObject({ type: "section", text: { text: expect.stringContaining("<@U012ALICE>") } });
    expect(message.text).toContain(
      "Changed by <@U012ALICE> (IAM user alice) with AuthorizeSecurityGroupIngress at 2026-11-20 09:57:41 UTC",
    );
  });

  it("treats a missing oldEvaluationResult as a first evaluation", () => {
    const message = JSON.parse(snsMessage("config/compliance-non-compliant"));
    delete message.oldEvaluationResult;
    const classified = classifyMessage(JSON.stringify(message), relay);
    if (classified.outcome !== "notice") throw new Error("ignored");
    expect(renderNotice(classified.notice).message.text).toContain("(first evaluation)");
  });
});

describe("notifier rendering: organisation mode", () => {
  it("a would-fix says what it would change and that nothing changed, with no undo command", () => {
    const { message } = renderNotice(notice("remedy/would-fix"), { channel: "#team-b" });
    expect(message.text).toContain(
      "Remedy would have revoked 1 ingress rule on sg-0c4d5e6f7a8b9c0d1, and changed nothing — account 333344445555 is in notify mode",
    );
    expect(message.text).toContain("Revoked 1 ingress rule on sg-0c4d5e6f7a8b9c0d1 (not done: notify mode)");
    expect(message.text).toContain("tcp 22");
    expect(message.text).not.toMatch(/undo/i);
    expect(message.text).toContain("action act-20261120T102820Z-5e6f7a8b");
  });

  it("marks a report about an account outside the organisation, its reason escaped", () => {
    const { message } = renderNotice(notice("remedy/skipped"), {
      outsideOrganization: 'account 999988887777 is not an account of this organisation <!channel> "x"',
    });
    expect(message.blocks[1]).toMatchObject({
      text: {
        text: expect.stringContaining(
          'Not an account of this organisation (account 999988887777 is not an account of this organisation &lt;!channel&gt; "x"): sent to the default route.',
        ),
      },
    });
    expect(JSON.stringify(message)).not.toContain("<!channel>");
    expect(renderNotice(notice("remedy/skipped")).message.text).not.toContain("Not an account of this organisation");
  });
});

describe("notifier rendering: Slack limits", () => {
  function manyRules(count: number) {
    const report = reportOf("remedy/fixed-sg");
    if (report.kind !== "fixed") throw new Error("fixture changed");
    const rules = Array.from({ length: count }, (_, index) => ({
      securityGroupRuleId: `sgr-${index.toString(16).padStart(17, "0")}`,
      ipProtocol: "tcp",
      fromPort: 1000 + index,
      toPort: 1000 + index,
      cidrIpv4: "0.0.0.0/0",
      description: `rule number ${index}`,
    }));
    report.changes = [{ kind: "sg-rules-revoked", groupId: report.resource.id, rules }];
    return report;
  }

  const sectionTexts = (message: SlackMessage) =>
    message.attachments[0]!.blocks.map((block) => ("text" in block ? block.text.text : ""));

  it("cuts a long list with a clear marker and stays within every limit", () => {
    const built = renderNotice({ kind: "report", report: manyRules(60) }, { attribution: alice });
    expect(built.truncated).toBe(true);
    expectWithinSlackLimits(built.message);
    expect(sectionTexts(built.message)[0]).toMatch(/\n… \(\d+ more not shown\)$/);
    // The fallback text is only cut at 40,000 characters: here it still holds every rule.
    expect(built.message.text).toContain("rule number 59");
    expectGolden("synthetic--fixed-sg-cut", built.message);
  });

  it("cuts a long code block with a clear marker, closes its fence and stays within every limit", () => {
    // The undo and resume commands are Remedy's own and short; an error text can be long.
    const report = reportOf("remedy/failed");
    if (report.kind !== "failed") throw new Error("fixture changed");
    report.error = Array.from(
      { length: 120 },
      (_, index) => `AccessDenied: s3:PutBucketPolicy on arn:aws:s3:::acme-bucket-${index} & retried ${index} times`,
    ).join("\n");
    const built = renderNotice({ kind: "report", report }, { attribution: bob });
    expect(built.truncated).toBe(true);
    expectWithinSlackLimits(built.message);
    expect(sectionTexts(built.message)[0]).toMatch(/^\*Error\*\n```\n[\s\S]*… \(cut\)\n```$/);
    // The fallback text still holds the whole error.
    expect(built.message.text).toContain(report.error.replaceAll("&", "&amp;").slice(-200));
    expectGolden("synthetic--failed-error-cut", built.message);
  });

  it("cuts the fallback text at 40,000 characters with the marker and keeps the full text for the log", () => {
    const built = renderNotice({ kind: "report", report: manyRules(600) });
    expectWithinSlackLimits(built.message);
    expect(built.message.text.endsWith(CUT_MARKER)).toBe(true);
    expect(built.fullText.length).toBeGreaterThan(SLACK_LIMITS.fallbackText);
    expect(built.fullText).toContain("rule number 599");
  });

  it("keeps a header within 150 characters", () => {
    const n = notice("config/compliance-non-compliant");
    if (n.kind !== "compliance") throw new Error("fixture changed");
    n.change.resourceId = `sg-${"f".repeat(300)}`;
    const built = renderNotice(n);
    const header = (built.message.blocks[0] as { text: { text: string } }).text.text;
    expect(header.length).toBeLessThanOrEqual(150);
    expect(header.endsWith("…")).toBe(true);
  });

  it("cuts a long breaker sample with the count of what is not shown", () => {
    const report = reportOf("remedy/breaker-tripped");
    if (report.kind !== "breaker-tripped") throw new Error("fixture changed");
    report.sample = Array.from(
      { length: 500 },
      (_, index) => `sg-open-ingress sg-${index.toString().padStart(17, "0")}`,
    );
    const built = renderNotice({ kind: "report", report });
    expectWithinSlackLimits(built.message);
    const list = built.message.attachments[0]!.blocks[0] as { text: { text: string } };
    const shown = (list.text.text.match(/^• /gm) ?? []).length;
    expect(list.text.text).toMatch(new RegExp(`… \\(${500 - shown} more not shown\\)$`));
  });
});

describe("notifier rendering: escaping", () => {
  it("escapes text from AWS so it cannot ping channels or forge links", () => {
    const report = reportOf("remedy/fixed-sg");
    if (report.kind !== "fixed" || report.changes[0]?.kind !== "sg-rules-revoked") throw new Error("fixture changed");
    report.changes[0].rules[0]!.description = "<!channel> see <https://evil.example|docs> & `run` this";
    const built = renderNotice({ kind: "report", report });
    const all = JSON.stringify(built.message);
    expect(all).not.toContain("<!channel>");
    expect(all).not.toContain("<https://evil.example");
    expect(all).toContain("&lt;!channel&gt; see &lt;https://evil.example|docs&gt; &amp; `run` this");
  });
});

describe("describePorts", () => {
  it.each([
    [{ ipProtocol: "-1", fromPort: -1, toPort: -1 }, "all traffic"],
    [{ ipProtocol: "tcp", fromPort: 22, toPort: 22 }, "tcp 22"],
    [{ ipProtocol: "udp", fromPort: 1000, toPort: 2000 }, "udp 1000-2000"],
    [{ ipProtocol: "tcp", fromPort: 0, toPort: 65535 }, "tcp all ports"],
    [{ ipProtocol: "icmp", fromPort: -1, toPort: -1 }, "icmp all types"],
    [{ ipProtocol: "icmp", fromPort: 8, toPort: 0 }, "icmp type 8 code 0"],
    [{ ipProtocol: "6", fromPort: 443, toPort: 443 }, "tcp 443"],
    [{ ipProtocol: "47", fromPort: -1, toPort: -1 }, "protocol 47"],
    [{ ipProtocol: "constructor", fromPort: -1, toPort: -1 }, "protocol constructor"],
  ])("%j → %s", (rule, expected) => {
    expect(describePorts(rule)).toBe(expected);
  });

  it("is the one wording: the CLI's sentence for a matched rule says the same ports as Slack", () => {
    const entry = { ipProtocol: "tcp", fromPort: 0, toPort: 65535, cidrIpv4: "0.0.0.0/0" } as SgRuleEntry;
    expect(describeSgRule(entry)).toBe("tcp all ports from 0.0.0.0/0");
    expect(describeSgRule({ ...entry, ipProtocol: "icmp", fromPort: 8, toPort: 0 })).toBe(
      "icmp type 8 code 0 from 0.0.0.0/0",
    );
    // The API omits ports for all traffic.
    expect(describePorts({ ipProtocol: "-1" })).toBe("all traffic");
  });
});
