// Buttons on messages the Slack app posts: which reports get which, their values (validated ids only), their place
// (the top-level blocks, block "remedy:decisions"), and that the webhook rendering and the fallback text carry none.
import { describe, expect, it } from "vitest";
import { BUTTON_ACTION_IDS, DECISION_ACTIONS, decisionActionOf } from "../../contract/decision-actions.ts";
import type { Report } from "../../contract/report.ts";
import { classifyMessage, type Notice } from "../../functions/notifier/inbound.ts";
import type { ButtonElement, SlackBlock, SlackMessage } from "../../functions/notifier/message.ts";
import { decisionButtons, renderNotice, snoozeLabel } from "../../functions/notifier/render.ts";
import { expectGolden } from "./golden.ts";
import { snsMessage } from "./helpers.ts";

const APP = { buttons: { snoozeMinutes: 1_440, undo: true } };
const INSTRUCTION = "3f9a1c2e4b5d6f708192a3b4c5d6e7f8";
const ACTION = "act-20261120T102819Z-7c1d9e2f";

function notice(variant: string): Notice {
  const classified = classifyMessage(snsMessage(variant), { ruleSuffixes: [], relayAllRules: false });
  if (classified.outcome !== "notice") throw new Error(`${variant} was ignored`);
  return classified.notice;
}

function report(variant: string): Report {
  const n = notice(variant);
  if (n.kind !== "report") throw new Error(`${variant} is not a report`);
  return structuredClone(n.report);
}

const actionsOf = (message: SlackMessage) =>
  message.blocks.filter((block): block is Extract<SlackBlock, { type: "actions" }> => block.type === "actions");
const buttonsOf = (message: SlackMessage): ButtonElement[] => actionsOf(message).flatMap((block) => block.elements);

describe("button action ids", () => {
  it("maps every decision action to its action_id and back, and nothing else", () => {
    for (const action of DECISION_ACTIONS) expect(decisionActionOf(BUTTON_ACTION_IDS[action])).toBe(action);
    for (const other of ["fix-now", "remedy:", "remedy:fix", "constructor", "__proto__", "toString", ""]) {
      expect(decisionActionOf(other)).toBeUndefined();
    }
  });
});

describe("buttons (golden)", () => {
  it("puts Fix now, Snooze and Exempt… on a grace notice", () => {
    const built = renderNotice(notice("remedy/grace"), { channel: "#sec-alerts", ...APP });
    const [actions] = actionsOf(built.message);
    expect(actions).toMatchObject({ type: "actions", block_id: "remedy:decisions" });
    expect(buttonsOf(built.message)).toEqual([
      {
        type: "button",
        action_id: "remedy:fix-now",
        text: { type: "plain_text", text: "Fix now", emoji: true },
        value: INSTRUCTION,
        style: "primary",
      },
      {
        type: "button",
        action_id: "remedy:snooze",
        text: { type: "plain_text", text: "Snooze 24 h", emoji: true },
        value: INSTRUCTION,
      },
      {
        type: "button",
        action_id: "remedy:exempt",
        text: { type: "plain_text", text: "Exempt…", emoji: true },
        value: INSTRUCTION,
      },
    ]);
    // In the top-level blocks, after the summary and fields; never in the attachment.
    expect(built.message.blocks.map((block) => block.type)).toEqual(["header", "section", "section", "actions"]);
    expect(JSON.stringify(built.message.attachments)).not.toContain("remedy:");
    expectGolden("buttons--grace", built.message);
  });

  it("puts one Undo, with a confirmation, on a fix", () => {
    const built = renderNotice(notice("remedy/fixed-sg"), { channel: "#sec-alerts", ...APP });
    expect(buttonsOf(built.message)).toEqual([
      {
        type: "button",
        action_id: "remedy:undo",
        text: { type: "plain_text", text: "Undo", emoji: true },
        value: ACTION,
        style: "danger",
        confirm: {
          title: { type: "plain_text", text: "Undo this fix?", emoji: true },
          text: {
            type: "mrkdwn",
            text: "Remedy puts back what it removed from `sg-0f1e2d3c4b5a69788`: the hole it closed is open again.",
          },
          confirm: { type: "plain_text", text: "Undo", emoji: true },
          deny: { type: "plain_text", text: "Cancel", emoji: true },
          style: "danger",
        },
      },
    ]);
    expectGolden("buttons--fixed-sg", built.message);
  });

  it("changes nothing but the actions block: the fallback text and the rest are as without the app", () => {
    for (const variant of ["remedy/grace", "remedy/fixed-sg"]) {
      const webhook = renderNotice(notice(variant), { channel: "#sec-alerts" }).message;
      const app = renderNotice(notice(variant), { channel: "#sec-alerts", ...APP }).message;
      expect(actionsOf(webhook)).toEqual([]);
      expect(app.text).toBe(webhook.text);
      expect(app.text).not.toMatch(/Fix now|Snooze|Exempt…/);
      expect(app.attachments).toEqual(webhook.attachments);
      expect(app.blocks.filter((block) => block.type !== "actions")).toEqual(webhook.blocks);
    }
  });
});

describe("decisionButtons", () => {
  it("shows the snooze in hours when whole, else in minutes", () => {
    expect(snoozeLabel(1_440)).toBe("24 h");
    expect(snoozeLabel(60)).toBe("1 h");
    expect(snoozeLabel(90)).toBe("90 min");
    expect(snoozeLabel(1)).toBe("1 min");
    expect(decisionButtons(report("remedy/grace"), { snoozeMinutes: 90, undo: true })[1]?.label).toBe("Snooze 90 min");
  });

  it("gives fixes no Undo where undo from Slack is refused (organisation mode); grace notices keep theirs", () => {
    const noUndo = { snoozeMinutes: 1_440, undo: false };
    expect(decisionButtons(report("remedy/fixed-sg"), APP.buttons).map((button) => button.label)).toEqual(["Undo"]);
    expect(decisionButtons(report("remedy/fixed-sg"), noUndo)).toEqual([]);
    expect(decisionButtons(report("remedy/grace"), noUndo)).toHaveLength(3);
  });

  it.each(["3F9A1C2E4B5D6F708192A3B4C5D6E7F8", "3f9a1c2e", `${INSTRUCTION}0`, "<!channel>", ""])(
    "gives a grace notice with instruction id %j no buttons",
    (instructionId) => {
      const grace = { ...report("remedy/grace"), instructionId };
      expect(decisionButtons(grace, APP.buttons)).toEqual([]);
      const built = renderNotice({ kind: "report", report: grace }, APP);
      expect(actionsOf(built.message)).toEqual([]);
    },
  );

  it.each(["act-2026-7c1d9e2f", "undo; rm -rf", `${ACTION} `, ""])(
    "gives a fix with action id %j no Undo",
    (actionId) => {
      expect(decisionButtons({ ...report("remedy/fixed-sg"), actionId } as Report, APP.buttons)).toEqual([]);
    },
  );

  it("gives a restore (an undo's own fix) no Undo", () => {
    const fixed = report("remedy/fixed-sg");
    if (fixed.kind !== "fixed") throw new Error("fixture changed");
    fixed.changes = [{ kind: "restored", summary: "re-authorized tcp 22 from 10.20.0.0/16" }];
    expect(decisionButtons(fixed, APP.buttons)).toEqual([]);
  });

  it.each([
    "remedy/would-fix",
    "remedy/skipped",
    "remedy/failed",
    "remedy/dead-lettered",
    "remedy/breaker-tripped",
    "remedy/undone",
  ])("gives %s no buttons", (variant) => {
    expect(decisionButtons(report(variant), APP.buttons)).toEqual([]);
    expect(actionsOf(renderNotice(notice(variant), APP).message)).toEqual([]);
  });

  it("gives compliance changes and alarms no buttons", () => {
    const classified = classifyMessage(snsMessage("alarm/dlq-alarm"), { ruleSuffixes: [], relayAllRules: false });
    if (classified.outcome !== "notice") throw new Error("fixture changed");
    expect(actionsOf(renderNotice(classified.notice, APP).message)).toEqual([]);
  });
});
