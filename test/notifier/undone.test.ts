// The "undone" report (`remedy undo` tells Slack what it put back and until when it stays): its golden rendering, the
// words without an exemption, and every string from the operator or AWS escaped (hostile.test.ts also runs the
// fixture through every hostile string).
import { describe, expect, it } from "vitest";
import { parseReport, type Report } from "../../contract/report.ts";
import { classifyMessage, type RelaySettings } from "../../functions/notifier/inbound.ts";
import { renderNotice } from "../../functions/notifier/render.ts";
import { expectGolden } from "./golden.ts";
import { snsMessage } from "./helpers.ts";

const relay: RelaySettings = { ruleSuffixes: ["sg-open-ingress", "s3-public"], relayAllRules: true };

function undone(): Extract<Report, { kind: "undone" }> {
  const classified = classifyMessage(snsMessage("remedy/undone"), relay);
  if (classified.outcome !== "notice" || classified.notice.kind !== "report") throw new Error("fixture not a report");
  const report = classified.notice.report;
  if (report.kind !== "undone") throw new Error("fixture changed");
  return structuredClone(report);
}

const render = (report: Report) => renderNotice({ kind: "report", report }, { channel: "#sec-alerts" }).message;

describe("the undone report", () => {
  it("renders who undid what, what went back and until when it stays (golden)", () => {
    const message = render(undone());
    expect(message.text.split("\n")[0]).toBe("↩️ Undone: security group open to the internet");
    expect(message.text).toContain("act-20261120T102819Z-7c1d9e2f");
    expect(message.text).toContain("put back");
    expect(message.text).toContain("until 2026-11-21 12:00:05 UTC");
    expect(message.text).toContain("remedy exemptions lift RESOURCE");
    expectGolden("remedy--undone", message);
  });

  it("without an exemption it says Remedy fixes it again", () => {
    const { exemptUntil: _none, ...report } = undone();
    const text = render(report).text;
    expect(text).toContain("No exemption");
    expect(text).toContain("fixes it again at its next detection");
    expect(text).not.toContain("remedy exemptions lift");
  });

  it("escapes the operator and the entries, and builds no command from a forged action id", () => {
    const report = undone();
    report.by = "<!channel> *bold* <https://evil.example|x>";
    report.reAdded = ["tcp 22 ```\n<!here>\n``` from 0.0.0.0/0"];
    report.undoes = "act-1; rm -rf /";
    const message = render(parseReport({ ...report }));
    const all = JSON.stringify(message);
    expect(all).not.toContain("<!channel>");
    expect(all).not.toContain("<!here>");
    expect(all).not.toContain("<https://evil.example");
    expect(all).toContain("&lt;!channel&gt;");
    expect(message.text).toContain("a fix (its action id is not valid)");
    expect(message.text).not.toContain("rm -rf");
  });

  it("the contract refuses an undone report without its resource, or with a time that is not one", () => {
    const report = undone();
    const { resource: _gone, ...withoutResource } = report;
    expect(() => parseReport(withoutResource)).toThrow(/resource/);
    expect(() => parseReport({ ...report, exemptUntil: "tomorrow" })).toThrow(/exemptUntil/);
  });
});
