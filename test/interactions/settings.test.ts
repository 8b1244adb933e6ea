import { describe, expect, it } from "vitest";
import { decisionActionOf } from "../../contract/decision-actions.ts";
import { readEndpointSettings } from "../../functions/interactions/endpoint/settings.ts";
import {
  encodeMetadata,
  exemptView,
  MAX_PRIVATE_METADATA,
  parseMetadata,
  readExemptInput,
  utcDay,
} from "../../functions/interactions/exempt-modal.ts";
import { approversFrom, decisionIdFor } from "../../functions/interactions/settings.ts";
import { readWorkerSettings } from "../../functions/interactions/worker/settings.ts";
import { NOW } from "./support.ts";

const base = {
  REMEDY_SLACK_APP_SECRET: "remedy/slack-app",
  REMEDY_INTERACTIONS_WORKER: "remedy-interactions-worker",
  REMEDY_LEDGER_BUCKET: "ledger",
  REMEDY_ACCOUNT_ID: "123456789012",
  REMEDY_REGION: "us-east-1",
};

describe("settings", () => {
  it("snooze defaults to a day and stays within 1..10080 minutes", () => {
    expect(readEndpointSettings(base).snoozeMinutes).toBe(1_440);
    expect(readEndpointSettings({ ...base, REMEDY_SNOOZE_MINUTES: "10080" }).snoozeMinutes).toBe(10_080);
    expect(() => readEndpointSettings({ ...base, REMEDY_SNOOZE_MINUTES: "0" })).toThrow(/REMEDY_SNOOZE_MINUTES/);
    expect(() => readEndpointSettings({ ...base, REMEDY_SNOOZE_MINUTES: "10081" })).toThrow(/REMEDY_SNOOZE_MINUTES/);
  });

  it("approvers missing or invalid deny every press with the reason, never fail the function", () => {
    expect(readEndpointSettings(base).approvers).toEqual({ ok: false, reason: expect.stringContaining("empty") });
    expect(approversFrom("{")).toEqual({ ok: false, reason: expect.stringContaining("not JSON") });
    expect(approversFrom('{"approvers":{"fixNow":[{"users":["U0ALICE001"]}]}}')).toMatchObject({ ok: true });
  });

  it("organisation mode is whether REMEDY_ORGANIZATION is set; the worker needs its deployment", () => {
    expect(readEndpointSettings({ ...base, REMEDY_ORGANIZATION: '{"regions":["us-east-1"]}' }).organizationMode).toBe(
      true,
    );
    const worker = {
      ...base,
      REMEDY_QUEUE_URL: "q",
      REMEDY_LEDGER_MAC_KEY_ID: "k",
      REMEDY_REPORT_TOPIC_ARN: "t",
      REMEDY_ACCOUNT_ID: "123456789012",
      REMEDY_REGION: "us-east-1",
    };
    expect(readWorkerSettings(worker)).toMatchObject({ organizationMode: false, accountId: "123456789012" });
    expect(() => readWorkerSettings({ ...worker, REMEDY_ACCOUNT_ID: "nope" })).toThrow(/REMEDY_ACCOUNT_ID/);
  });

  it("both read where the deployment acts: account, region and, in organisation mode, the settings' regions", () => {
    expect(readEndpointSettings(base)).toMatchObject({ accountId: "123456789012", region: "us-east-1" });
    expect(readEndpointSettings(base)).not.toHaveProperty("organization");
    const { REMEDY_ACCOUNT_ID: _account, ...noAccount } = base;
    expect(() => readEndpointSettings(noAccount)).toThrow(/REMEDY_ACCOUNT_ID/);
    const organization = JSON.stringify({ regions: ["us-east-1", "eu-west-1"], excludedAccounts: ["210987654321"] });
    expect(readEndpointSettings({ ...base, REMEDY_ORGANIZATION: organization }).organization).toEqual({
      regions: ["us-east-1", "eu-west-1"],
      excludedAccounts: ["210987654321"],
    });
    expect(() => readEndpointSettings({ ...base, REMEDY_ORGANIZATION: "{" })).toThrow(/REMEDY_ORGANIZATION/);
    expect(() => readEndpointSettings({ ...base, REMEDY_ORGANIZATION: '{"regions":[]}' })).toThrow(/regions/);
  });

  it("button ids: only Remedy's own, never Object's members", () => {
    expect(decisionActionOf("remedy:undo")).toBe("undo");
    expect(decisionActionOf("constructor")).toBeUndefined();
    expect(decisionActionOf("__proto__")).toBeUndefined();
  });

  it("a decision id is the same for the same request and differs for another", () => {
    const id = decisionIdFor("1790000000", `v0=${"a".repeat(64)}`);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(decisionIdFor("1790000000", `v0=${"A".repeat(64)}`)).toBe(id);
    expect(decisionIdFor("1790000001", `v0=${"a".repeat(64)}`)).not.toBe(id);
  });
});

describe("the Exempt form", () => {
  it("carries its metadata within Slack's 3,000 characters, dropping the response_url first", () => {
    const metadata = { instructionId: "0".repeat(32), channelId: "C0CHAN0001", ts: "1.2" };
    expect(parseMetadata(encodeMetadata(metadata)!)).toEqual(metadata);
    const long = { ...metadata, responseUrl: `https://hooks.slack.com/${"x".repeat(MAX_PRIVATE_METADATA)}` };
    expect(parseMetadata(encodeMetadata(long)!)).toEqual(metadata);
    expect(parseMetadata('{"instructionId":"x"}')).toBeUndefined();
    expect(parseMetadata(`{"instructionId":"${"0".repeat(32)}","extra":1}`)).toBeUndefined();
    expect(
      parseMetadata(`{"instructionId":"${"0".repeat(32)}","responseUrl":"https://evil.example/"}`),
    ).toBeUndefined();
  });

  it("shows what it exempts as plain text, so a resource id cannot format or mention", () => {
    const view = exemptView({
      metadata: "{}",
      problem: "sg-open-ingress",
      resource: "<!channel>",
      accountId: "123456789012",
      now: NOW,
    });
    const [section] = view.blocks as { text: { type: string; text: string } }[];
    expect(section!.text.type).toBe("plain_text");
    expect(section!.text.text).toContain("<!channel>");
  });

  it("takes a reason of 10 to 500 characters and a day after today, at most 90 days ahead (UTC)", () => {
    const values = (reason: string | undefined, expires: string | undefined) => ({
      "remedy:exempt-reason": {
        reason: { type: "plain_text_input", ...(reason !== undefined ? { value: reason } : {}) },
      },
      "remedy:exempt-expires": {
        expires: { type: "datepicker", ...(expires !== undefined ? { selectedDate: expires } : {}) },
      },
    });
    expect(readExemptInput(values("  intended demo  ", utcDay(NOW, 1)), NOW)).toEqual({
      ok: true,
      reason: "intended demo",
      expires: "2026-11-21",
    });
    expect(readExemptInput(values("x".repeat(500), utcDay(NOW, 90)), NOW)).toMatchObject({ ok: true });
    expect(readExemptInput(values("x".repeat(501), utcDay(NOW, 91)), NOW)).toMatchObject({
      ok: false,
      errors: { "remedy:exempt-reason": expect.any(String), "remedy:exempt-expires": expect.any(String) },
    });
    expect(readExemptInput(values("a fine reason", "2026-11-20"), NOW)).toMatchObject({ ok: false });
    expect(readExemptInput(values("a fine reason", "20261201"), NOW)).toMatchObject({ ok: false });
    expect(readExemptInput({}, NOW)).toMatchObject({ ok: false });
  });
});
