// Instruction ids and matched-entry keys, pinned as they were computed before the contract's schemas moved into the
// problems' folders: an id names an instruction across deliveries, re-detections and the ledger, so it must never
// change for the same resource, problem and entries (whatever module computes the entries' identity).
import { describe, expect, it } from "vitest";
import { matchedEntryKey } from "../../contract/instruction.ts";
import type { MatchedEntry } from "../../detection/types.ts";
import { PROBLEM_SPECS } from "../../problems/index.ts";
import { EXAMPLES, testInstruction, testResourceId } from "../support/instructions.ts";

const CAPTURED_AT = "2026-11-20T09:58:12.412Z";

describe("pinned instruction ids", () => {
  // Each problem's example pins the id of the instruction naming its violation (problems/<id>/example.ts).
  it.each(PROBLEM_SPECS.map((spec) => [spec.id, EXAMPLES.get(spec.id)!] as const))("%s", (problem, example) => {
    const matched = example.violation(testResourceId(problem));
    expect(testInstruction({ problem, matched: [matched], capturedAt: CAPTURED_AT }).id).toBe(
      example.pinnedInstructionId,
    );
  });

  it("an entry's description is no part of the id; its source is", () => {
    const base = EXAMPLES.get("sg-open-ingress")!.violation(testResourceId("sg-open-ingress"));
    if (base.kind !== "sg-rule") throw new Error("the sg-open-ingress example names a rule");
    const id = (rule: typeof base.rule) =>
      testInstruction({ problem: "sg-open-ingress", matched: [{ kind: "sg-rule", rule }], capturedAt: CAPTURED_AT }).id;
    expect(id({ ...base.rule, description: "other words" })).toBe("3656a36d079962c4b5e006dcefe73d1a");
    expect(id({ ...base.rule, cidrIpv4: "0.0.0.0/1" })).not.toBe("3656a36d079962c4b5e006dcefe73d1a");
  });
});

describe("pinned matched-entry keys", () => {
  it.each<[string, MatchedEntry, string]>([
    [
      "a rule: protocol, ports and CIDR, not its description or live id",
      {
        kind: "sg-rule",
        rule: {
          direction: "ingress",
          ipProtocol: "-1",
          fromPort: -1,
          toPort: -1,
          cidrIpv6: "::/0",
          description: "all",
          securityGroupRuleId: "sgr-0a1",
        },
      },
      '{"cidrIpv6":"::/0","fromPort":-1,"ipProtocol":"-1","kind":"sg-rule","toPort":-1}',
    ],
    [
      "a canonical user's grant: by id, not display name",
      {
        kind: "acl-grant",
        grant: {
          grantee: { type: "CanonicalUser", id: "79a59df900b949e55d96a1e698fbaced", displayName: "ops" },
          permission: "WRITE_ACP",
        },
      },
      '{"grantee":"CanonicalUser:79a59df900b949e55d96a1e698fbaced","kind":"acl-grant","permission":"WRITE_ACP"}',
    ],
    [
      "an email grantee's grant",
      {
        kind: "acl-grant",
        grant: {
          grantee: { type: "AmazonCustomerByEmail", emailAddress: "a@example.com" },
          permission: "FULL_CONTROL",
        },
      },
      '{"grantee":"AmazonCustomerByEmail:a@example.com","kind":"acl-grant","permission":"FULL_CONTROL"}',
    ],
    [
      "a statement: its whole content, key order aside",
      {
        kind: "policy-statement",
        statement: {
          Sid: "S",
          Principal: "*",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:ListBucket"],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      },
      '{"kind":"policy-statement","statement":{"Action":["s3:GetObject","s3:ListBucket"],"Condition":{"Bool":{"aws:SecureTransport":"false"}},"Effect":"Allow","Principal":"*","Sid":"S"}}',
    ],
  ])("%s", (_name, entry, key) => {
    expect(matchedEntryKey(entry)).toBe(key);
  });
});
