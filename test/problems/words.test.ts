// Change words by registry (problems/words.ts): every change a problem's fix may record is worded, for the CLI and for
// Slack, by the problem folders' words, one wording per kind, so adding a problem never touches the notifier.
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Change, ChangeSchema, parseReport } from "../../contract/report.ts";
import { kindOf } from "../../contract/schema-kit.ts";
import { bold, code, cutRaw, type Inline, t, text } from "../../functions/notifier/message.ts";
import { PROBLEM_SPECS } from "../../problems/index.ts";
import type { ChangeWords, ProblemSpec, ProblemWords, SlackKit } from "../../problems/types.ts";
import { changeWords, changeWordsByKind, describeChange, plural } from "../../problems/words.ts";
import { snsMessage } from "../notifier/helpers.ts";

const KIT: SlackKit<Inline> = { text, code, bold, t, cut: cutRaw, plural };

/**
 * The changes the fixed-report fixtures record (what the golden Slack messages are rendered from), by kind: every
 * test/fixtures/sns/remedy/fixed-*.json, so a problem's fixture is read by being there.
 */
const FIXED_VARIANTS = readdirSync(new URL("../fixtures/sns/remedy/", import.meta.url))
  .filter((name) => /^fixed-.*\.json$/.test(name))
  .map((name) => `remedy/${name.replace(/\.json$/, "")}`);
const SAMPLES: ReadonlyMap<string, Change> = new Map(
  FIXED_VARIANTS.flatMap((variant) => {
    const report = parseReport(JSON.parse(snsMessage(variant)));
    return report.kind === "fixed" ? report.changes.map((change) => [change.kind, change] as const) : [];
  }),
);

const PROBLEM_CHANGE_KINDS = ChangeSchema.options.map(kindOf).filter((kind) => kind !== "restored");

describe("change words in the registry", () => {
  it("covers the contract's changes (all but undo's own)", () => {
    expect(PROBLEM_CHANGE_KINDS.length).toBeGreaterThanOrEqual(4);
    expect(PROBLEM_CHANGE_KINDS).toContain("public-access-block-enabled");
  });

  it.each(PROBLEM_CHANGE_KINDS)("%s: worded for the CLI and for Slack", (kind) => {
    const words = changeWords(kind as Change["kind"]);
    expect(words.kind).toBe(kind);
    const change = SAMPLES.get(kind);
    expect(change, `no fixture of test/fixtures/sns/remedy records a ${kind} change`).toBeDefined();
    if (!change) return;
    for (const tense of ["done", "planned"] as const) {
      expect(words.change(change, tense)).not.toBe("");
      expect(describeChange(change, tense)).toBe(words.change(change, tense));
    }
    expect(words.slack.phrase(change, KIT)).not.toBe("");
    const section = words.slack.section(change, KIT);
    expect(section.title).not.toBe("");
    expect(section.items.length).toBeGreaterThan(0);
    for (const item of section.items) expect([item.md, item.plain]).not.toContain("");
  });

  it.each(PROBLEM_SPECS.map((spec) => [spec.id, spec] as const))(
    "%s: its words name the changes its contract records",
    (_id, spec) => {
      const { contract } = spec as ProblemSpec;
      const words: ProblemWords = spec.words;
      expect(words.changes.kind).toBe(kindOf(contract.change));
      expect((words.otherChanges ?? []).map((other) => other.kind)).toEqual((contract.otherChanges ?? []).map(kindOf));
    },
  );

  it("has no words for undo's change, which is no problem's", () => {
    expect(() => changeWords("restored")).toThrow("no problem in the registry words restored");
  });
});

describe("changeWordsByKind", () => {
  const wordsFor = (kind: Change["kind"], label: string): ChangeWords => ({
    kind,
    change: () => label,
    slack: { phrase: () => label, section: () => ({ title: label, items: [] }) },
  });
  const problem = (id: string, changes: ChangeWords, otherChanges?: ChangeWords[]) => ({
    id,
    words: { verb: { done: "did", planned: "do" }, entry: () => id, changes, otherChanges },
  });

  it("takes words that several problems list once, under their kind", () => {
    const shared = wordsFor("public-access-block-enabled", "shared");
    const acl = wordsFor("acl-grants-removed", "acl");
    const policy = wordsFor("policy-statements-removed", "policy");
    const table = changeWordsByKind([problem("a", acl, [shared]), problem("b", policy, [shared])]);
    expect([...table]).toEqual([
      ["acl-grants-removed", acl],
      ["public-access-block-enabled", shared],
      ["policy-statements-removed", policy],
    ]);
  });

  it("refuses two different words for one kind, whichever problem lists them", () => {
    const acl = wordsFor("acl-grants-removed", "acl");
    expect(() => changeWordsByKind([problem("a", acl), problem("b", wordsFor("acl-grants-removed", "other"))])).toThrow(
      "change kind acl-grants-removed is worded twice: by a and by b",
    );
    expect(() =>
      changeWordsByKind([
        problem("a", acl, [wordsFor("public-access-block-enabled", "one")]),
        problem("b", wordsFor("policy-statements-removed", "policy"), [wordsFor("public-access-block-enabled", "two")]),
      ]),
    ).toThrow("change kind public-access-block-enabled is worded twice: by a and by b");
    expect(() => changeWordsByKind([problem("a", acl, [wordsFor("acl-grants-removed", "again")])])).toThrow(
      "worded twice",
    );
  });
});
