// The message model and its two renderings: Slack Block Kit (mrkdwn) and the plain-text fallback. Pure.
// Every piece of text exists in both renderings at once (`Inline`), so the fallback never drifts from the blocks.
// Slack's limits are enforced here, once, with a visible marker wherever something was left out.
import { isSlackUserId } from "./ids.ts";

/** Slack's documented limits for what this module builds. */
export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3_000,
  fieldText: 2_000,
  fields: 10,
  contextElements: 10,
  blocks: 50,
  fallbackText: 40_000,
  buttonText: 75,
  actionElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
} as const;

export const CUT_MARKER = "… (cut)";
export const moreNotShown = (count: number) => `… (${count} more not shown)`;

/** One piece of message text: `md` for Block Kit mrkdwn, `plain` for the fallback `text`. */
export interface Inline {
  md: string;
  plain: string;
}

export type Section =
  /** Lines of text under an optional bold title. */
  | { kind: "text"; title?: string; lines: Inline[] }
  /** A bulleted list; items past the limit are replaced by "… (N more not shown)". */
  | { kind: "list"; title: string; items: Inline[]; note?: Inline }
  /** A code block (undo command, Terraform). `inFallback: false` keeps it out of the plain text. */
  | { kind: "code"; title: string; code: string; note?: Inline; inFallback?: boolean };

export interface Severity {
  emoji: string;
  /** Colour of the attachment bar. */
  color: string;
}

/** A Slack button: what it does is its `actionId`; `value` is the id it acts on (validated by whoever builds it). */
export interface Button {
  actionId: string;
  /** Raw text on the button. */
  label: string;
  value: string;
  style?: "primary" | "danger";
  /** Slack asks "are you sure?" before sending the press. */
  confirm?: { title: string; text: Inline; confirm: string; deny: string };
}

export interface MessageModel {
  severity: Severity;
  /** Raw text, escaped here like everything else: the header block (emoji prepended) and the fallback's first line. */
  title: string;
  /** Clear at a glance: what happened, to what, by whom. */
  summary: Inline[];
  fields: { label: string; value: Inline }[];
  /** Complete on a closer look: shown in the coloured attachment. */
  details: Section[];
  footer: Inline[];
  /**
   * Buttons, under the summary in the top-level blocks (only where Slack can answer them: a Slack app posted the
   * message). `blockId` lets whoever answers a press find the block and replace it. Not in the plain-text fallback:
   * a button cannot be pressed there.
   */
  actions?: { blockId: string; buttons: Button[] };
}

interface MrkdwnText {
  type: "mrkdwn";
  text: string;
}

export type SlackBlock =
  | { type: "header"; text: { type: "plain_text"; text: string; emoji: true } }
  | { type: "section"; text: MrkdwnText }
  | { type: "section"; fields: MrkdwnText[] }
  | { type: "context"; elements: MrkdwnText[] }
  | { type: "actions"; block_id: string; elements: ButtonElement[] };

interface PlainText {
  type: "plain_text";
  text: string;
  emoji: true;
}

export interface ButtonElement {
  type: "button";
  action_id: string;
  text: PlainText;
  value: string;
  style?: "primary" | "danger";
  confirm?: { title: PlainText; text: MrkdwnText; confirm: PlainText; deny: PlainText; style?: "primary" | "danger" };
}

export interface SlackAttachment {
  color: string;
  blocks: SlackBlock[];
}

/** What is posted (to the webhook, or with chat.postMessage). */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  attachments: SlackAttachment[];
}

export interface BuiltMessage {
  message: SlackMessage;
  /** True when anything was cut to fit Slack's limits. */
  truncated: boolean;
  /** The fallback text before the 40,000-character cut (for the log when something was cut). */
  fullText: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Inline building blocks. Anything that did not come from this file is escaped, in the blocks and in the fallback
// text alike: a security-group description saying "<!channel>" must not ping a channel.

/** Slack's escaping (`&`, `<`, `>`), and a look-alike for ``` so that text can neither open nor close a code block. */
export function escapeText(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("```", "ˋˋˋ");
}

function safeCode(text: string): string {
  // A backtick would close the code span early and a line break would end it; look-alikes keep the text readable.
  return escapeText(text.replaceAll("`", "ˋ").replace(/\r?\n/g, " "));
}

export type InlineInput = Inline | string | number;

function toInline(value: InlineInput): Inline {
  if (typeof value === "object") return value;
  const text = escapeText(String(value));
  return { md: text, plain: text };
}

/** Template for Inline text: literal parts are trusted; interpolated strings are escaped; Inlines pass through. */
export function t(strings: TemplateStringsArray, ...values: InlineInput[]): Inline {
  let md = strings[0] ?? "";
  let plain = md;
  values.forEach((value, index) => {
    const inline = toInline(value);
    const literal = strings[index + 1] ?? "";
    md += inline.md + literal;
    plain += inline.plain + literal;
  });
  return { md, plain };
}

export function text(value: string | number): Inline {
  return toInline(value);
}

export function bold(value: string | number): Inline {
  const text = escapeText(String(value));
  return { md: `*${text}*`, plain: text };
}

export function code(value: string | number): Inline {
  return { md: `\`${safeCode(String(value))}\``, plain: escapeText(String(value)) };
}

export function quote(value: string): Inline {
  const text = escapeText(value);
  return { md: text.replace(/^/gm, "> "), plain: text };
}

/** A link; `urlInPlain: false` leaves the URL out of the fallback (when another line already has it). */
export function link(url: string, label: string, urlInPlain = true): Inline {
  // `|` and `>` end a Slack link; console URLs here are built from encoded ids, so this only guards.
  const safeUrl = url.replaceAll("|", "%7C").replaceAll(">", "%3E").replaceAll("<", "%3C");
  const plain = escapeText(label);
  return { md: `<${safeUrl}|${plain}>`, plain: urlInPlain ? `${plain} (${safeUrl})` : plain };
}

/** A mention of a Slack user id (from the configured mapping); anything not shaped like one is shown as text. */
export function mention(slackUserId: string): Inline {
  if (!isSlackUserId(slackUserId)) return text(slackUserId);
  return { md: `<@${slackUserId}>`, plain: `<@${slackUserId}>` };
}

/** "2026-11-20 10:30:00 UTC" */
export function utc(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** A time Slack shows in each reader's own time zone; the fallback says UTC. */
export function when(iso: string): Inline {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return text(iso);
  const seconds = Math.floor(date.getTime() / 1000);
  return { md: `<!date^${seconds}^{date_short_pretty} {time_secs}|${utc(iso)}>`, plain: utc(iso) };
}

export function join(parts: readonly Inline[], separator: string): Inline {
  return { md: parts.map((p) => p.md).join(separator), plain: parts.map((p) => p.plain).join(separator) };
}

/** Cuts raw text (before formatting) to `max` characters with the cut marker. */
export function cutRaw(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${value.slice(0, Math.max(0, max - CUT_MARKER.length)).trimEnd()}${CUT_MARKER}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Fitting formatted text into Slack's limits.

interface Cut {
  text: string;
  cut: boolean;
}

/** The first `length` characters of formatted text, less any entity, <link> or surrogate pair cut in half. */
function cleanSlice(formatted: string, length: number): string {
  let slice = formatted.slice(0, Math.max(0, length));
  const lastOpen = slice.lastIndexOf("<");
  if (lastOpen > slice.lastIndexOf(">")) slice = slice.slice(0, lastOpen);
  const lastAmp = slice.lastIndexOf("&");
  if (lastAmp >= 0 && !slice.slice(lastAmp).includes(";") && slice.length - lastAmp < 6)
    slice = slice.slice(0, lastAmp);
  const lastCode = slice.charCodeAt(slice.length - 1);
  if (lastCode >= 0xd800 && lastCode <= 0xdbff) slice = slice.slice(0, -1);
  return slice;
}

/** Cuts formatted text without breaking an entity, a <link>, a surrogate pair or a code fence. */
export function fitText(formatted: string, max: number): Cut {
  if (formatted.length <= max) return { text: formatted, cut: false };
  const fence = "\n```";
  const slice = cleanSlice(formatted, max - CUT_MARKER.length - fence.length);
  let result = `${slice}${CUT_MARKER}`;
  if ((result.match(/```/g) ?? []).length % 2 === 1) result += fence;
  return { text: result, cut: true };
}

/** Joins `lines` under `head`, keeping as many whole lines as fit and saying how many were left out. */
function fitLines(head: string, lines: readonly string[], max: number): Cut {
  const kept = head === "" ? [] : [head];
  const all = [...kept, ...lines].join("\n");
  if (all.length <= max) return { text: all, cut: false };
  let length = head.length;
  for (const [index, line] of lines.entries()) {
    const after = lines.length - index - 1;
    const reserve = after > 0 ? moreNotShown(after).length + 1 : 0;
    if (length + 1 + line.length + reserve <= max) {
      kept.push(line);
      length += 1 + line.length;
      continue;
    }
    if (kept.length === (head === "" ? 0 : 1)) {
      // Not even the first line fits: cut that line rather than show an empty section.
      kept.push(fitText(line, max - length - 1 - reserve).text);
      if (after > 0) kept.push(moreNotShown(after));
    } else {
      kept.push(moreNotShown(lines.length - index));
    }
    return { text: kept.join("\n"), cut: true };
  }
  return { text: kept.join("\n"), cut: false };
}

function codeBlock(code: string): string {
  return `\`\`\`\n${escapeText(code)}\n\`\`\``;
}

function sectionMrkdwn(section: Section): Cut {
  const max = SLACK_LIMITS.sectionText;
  switch (section.kind) {
    case "text": {
      const head = section.title ? `*${escapeText(section.title)}*` : "";
      return fitText([head, ...section.lines.map((line) => line.md)].filter((l) => l !== "").join("\n"), max);
    }
    case "list": {
      const head = [`*${escapeText(section.title)}*`, section.note?.md].filter((l) => l !== undefined).join("\n");
      return fitLines(
        head,
        section.items.map((item) => `• ${item.md}`),
        max,
      );
    }
    case "code": {
      const head = [`*${escapeText(section.title)}*`, section.note?.md].filter((l) => l !== undefined).join("\n");
      const block = codeBlock(section.code);
      const room = max - head.length - 1;
      const fitted = fitText(block, room);
      return { text: `${head}\n${fitted.text}`, cut: fitted.cut };
    }
  }
}

function sectionPlain(section: Section): string[] {
  switch (section.kind) {
    case "text":
      return [...(section.title ? [`${escapeText(section.title)}:`] : []), ...section.lines.map((line) => line.plain)];
    case "list":
      return [
        `${escapeText(section.title)}:`,
        ...(section.note ? [section.note.plain] : []),
        ...section.items.map((i) => `• ${i.plain}`),
      ];
    case "code":
      if (section.inFallback === false) return [];
      return [`${escapeText(section.title)}:`, ...(section.note ? [section.note.plain] : []), escapeText(section.code)];
  }
}

const mrkdwn = (text: string): MrkdwnText => ({ type: "mrkdwn", text });
const plainText = (text: string, max: number): PlainText => ({
  type: "plain_text",
  text: cutRaw(text, max),
  emoji: true,
});

/** The model's buttons as an actions block, within Slack's limits; undefined without buttons. */
function actionsBlock(actions: MessageModel["actions"]): SlackBlock | undefined {
  if (!actions || actions.buttons.length === 0) return undefined;
  return {
    type: "actions",
    block_id: actions.blockId,
    elements: actions.buttons.slice(0, SLACK_LIMITS.actionElements).map((button): ButtonElement => {
      return {
        type: "button",
        action_id: button.actionId,
        text: plainText(button.label, SLACK_LIMITS.buttonText),
        value: button.value,
        ...(button.style ? { style: button.style } : {}),
        ...(button.confirm
          ? {
              confirm: {
                title: plainText(button.confirm.title, SLACK_LIMITS.confirmTitle),
                text: mrkdwn(fitText(button.confirm.text.md, SLACK_LIMITS.confirmText).text),
                confirm: plainText(button.confirm.confirm, SLACK_LIMITS.confirmButton),
                deny: plainText(button.confirm.deny, SLACK_LIMITS.confirmButton),
                ...(button.style ? { style: button.style } : {}),
              },
            }
          : {}),
      };
    }),
  };
}

/** Turns the model into the webhook payload, within Slack's limits. */
export function buildSlackMessage(model: MessageModel): BuiltMessage {
  let truncated = false;
  const fitInto = (formatted: string, max: number) => {
    const result = fitText(formatted, max);
    truncated ||= result.cut;
    return result.text;
  };

  // Escaped like the rest: the header is also the first line of the fallback text, which Slack parses.
  const header = `${model.severity.emoji} ${escapeText(model.title)}`;
  const headerText =
    header.length <= SLACK_LIMITS.headerText ? header : `${cleanSlice(header, SLACK_LIMITS.headerText - 1).trimEnd()}…`;
  truncated ||= headerText !== header;

  const top: SlackBlock[] = [{ type: "header", text: { type: "plain_text", text: headerText, emoji: true } }];
  if (model.summary.length > 0) {
    top.push({
      type: "section",
      text: mrkdwn(fitInto(model.summary.map((line) => line.md).join("\n"), SLACK_LIMITS.sectionText)),
    });
  }
  if (model.fields.length > 0) {
    truncated ||= model.fields.length > SLACK_LIMITS.fields;
    top.push({
      type: "section",
      fields: model.fields
        .slice(0, SLACK_LIMITS.fields)
        .map((field) => mrkdwn(fitInto(`*${escapeText(field.label)}*\n${field.value.md}`, SLACK_LIMITS.fieldText))),
    });
  }

  // Under the summary and fields, where a reader decides; the interactions function replaces it by its block_id.
  const actions = actionsBlock(model.actions);
  if (actions) top.push(actions);

  const detailBlocks: SlackBlock[] = model.details.map((section) => {
    const result = sectionMrkdwn(section);
    truncated ||= result.cut;
    return { type: "section", text: mrkdwn(result.text) };
  });
  const footer: SlackBlock[] =
    model.footer.length > 0
      ? [
          {
            type: "context",
            elements: model.footer
              .slice(0, SLACK_LIMITS.contextElements)
              .map((item) => mrkdwn(fitInto(item.md, SLACK_LIMITS.sectionText))),
          },
        ]
      : [];
  const room = SLACK_LIMITS.blocks - top.length - footer.length;
  if (detailBlocks.length > room) {
    const hidden = detailBlocks.length - (room - 1);
    detailBlocks.splice(room - 1, detailBlocks.length, {
      type: "section",
      text: mrkdwn(`_${moreNotShown(hidden)}_`),
    });
    truncated = true;
  }

  const fullText = [
    header,
    ...model.summary.map((line) => line.plain),
    ...model.fields.map((field) => `${escapeText(field.label)}: ${field.value.plain.replaceAll("\n", " ")}`),
    ...model.details.flatMap((section) => {
      const lines = sectionPlain(section);
      return lines.length > 0 ? ["", ...lines] : [];
    }),
    ...(model.footer.length > 0 ? ["", join(model.footer, " · ").plain] : []),
  ].join("\n");
  const fallback = fitText(fullText, SLACK_LIMITS.fallbackText);
  truncated ||= fallback.cut;

  return {
    message: {
      text: fallback.text,
      blocks: top,
      attachments: [{ color: model.severity.color, blocks: [...detailBlocks, ...footer] }],
    },
    truncated,
    fullText,
  };
}
