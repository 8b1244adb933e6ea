// The words the operating commands use for changes (problems/words.ts describeChange, as `remedy status` shows
// ledger records) and what they do to strings from AWS or a user before a terminal sees them.
import { describe, expect, it } from "vitest";
import { terminalJson, terminalText } from "../../cli/terminal.ts";
import type { Change } from "../../contract/report.ts";
import { describeChange } from "../../problems/words.ts";

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

describe("describeChange", () => {
  const cases: [string, Change, string, string][] = [
    [
      "revoked rules, each with its id",
      {
        kind: "sg-rules-revoked",
        groupId: "sg-1",
        rules: [
          { securityGroupRuleId: "sgr-0a1", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
          { ipProtocol: "-1", fromPort: -1, toPort: -1, cidrIpv6: "::/0" },
        ],
      },
      "revoked ingress tcp 22 from 0.0.0.0/0 (sgr-0a1); revoked ingress all traffic from ::/0",
      "revoke ingress tcp 22 from 0.0.0.0/0 (sgr-0a1); revoke ingress all traffic from ::/0",
    ],
    [
      "removed grants, by group name or canonical user",
      {
        kind: "acl-grants-removed",
        bucket: "b",
        grants: [
          { grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" },
          {
            grantee: { type: "CanonicalUser", id: "79a59df900b949e55d96a1e698fbace", displayName: "ops" },
            permission: "WRITE",
          },
        ],
      },
      "removed ACL grant AllUsers READ; removed ACL grant canonical user ops WRITE",
      "remove ACL grant AllUsers READ; remove ACL grant canonical user ops WRITE",
    ],
    [
      "removed statements, and the policy deleted with the last one",
      {
        kind: "policy-statements-removed",
        bucket: "b",
        statements: [{ Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: "s3:GetObject" }],
        policyDeleted: true,
      },
      "removed policy statement Sid PublicRead (Allow s3:GetObject); deleted the policy (no statement left)",
      "remove policy statement Sid PublicRead (Allow s3:GetObject); delete the policy",
    ],
    [
      "Block Public Access: only the flags the fix turned on",
      {
        kind: "public-access-block-enabled",
        bucket: "b",
        before: { BlockPublicAcls: true },
        after: { BlockPublicAcls: true, IgnorePublicAcls: true },
      },
      "turned on Block Public Access IgnorePublicAcls",
      "turn on Block Public Access IgnorePublicAcls",
    ],
  ];

  it.each(cases)("%s", (_name, change, done, planned) => {
    expect(describeChange(change)).toBe(done);
    expect(describeChange(change, "planned")).toBe(planned);
  });

  it("an undo's change is its summary", () => {
    expect(describeChange({ kind: "restored", summary: "undo of act-1: re-added grant: AllUsers READ" })).toBe(
      "undo of act-1: re-added grant: AllUsers READ",
    );
  });
});

describe("terminalText", () => {
  it("shows control characters as visible escapes and keeps everything else", () => {
    expect(terminalText("a\u001b[31mb\nc\rd\te\u0007f\u007fg\u009bh")).toBe(
      "a\\x1b[31mb\\nc\\rd\\te\\x07f\\x7fg\\x9bh",
    );
    expect(terminalText("x\u202eevil\u2066y\u2028z")).toBe("x\\u202eevil\\u2066y\\u2028z");
    expect(terminalText("sg-0ba57 — tcp 22 from 0.0.0.0/0 (café, 東京)")).toBe(
      "sg-0ba57 — tcp 22 from 0.0.0.0/0 (café, 東京)",
    );
  });
});

describe("terminalJson", () => {
  it("is the same JSON value, with nothing a terminal acts on left raw", () => {
    const value = { reason: "a\u001b[2Kb\u009b1m\u202ec\u2028d", nested: [{ by: "x\ny" }] };
    const text = terminalJson(value);
    expect(JSON.parse(text)).toEqual(value);
    expect(text).toBe(
      JSON.stringify(value, null, 2)
        .replace("\u009b", "\\u009b")
        .replace("\u202e", "\\u202e")
        .replace("\u2028", "\\u2028"),
    );
    expect(/[\u007f-\u009f\u202e\u2028]/.test(text)).toBe(false);
  });
});
