// Instruction ids and matched-entry keys, pinned as they were computed before the contract's schemas moved into the
// problems' folders: an id names an instruction across deliveries, re-detections and the ledger, so it must never
// change for the same resource, problem and entries (whatever module computes the entries' identity).
import { describe, expect, it } from "vitest";
import { matchedEntryKey } from "../../contract/instruction.ts";
import type { MatchedEntry, Problem } from "../../detection/types.ts";
import { PROBLEM_SPECS } from "../../problems/index.ts";
import { testInstruction } from "../support/instructions.ts";

const CAPTURED_AT = "2026-11-20T09:58:12.412Z";

/** One instruction per problem: fixed entries (today's examples' violations) on testResourceId(problem). */
const PINNED: Record<Problem, { matched: MatchedEntry; id: string }> = {
  "sg-open-ingress": {
    matched: {
      kind: "sg-rule",
      rule: {
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: 22,
        toPort: 22,
        cidrIpv4: "0.0.0.0/0",
        description: "ssh from anywhere (temporary)",
      },
    },
    id: "3656a36d079962c4b5e006dcefe73d1a",
  },
  "s3-public-acl": {
    matched: {
      kind: "acl-grant",
      grant: { grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" }, permission: "READ" },
    },
    id: "61439019eaf1dba5fa0eab8168404a74",
  },
  "s3-public-policy": {
    matched: {
      kind: "policy-statement",
      statement: {
        Sid: "PublicRead",
        Effect: "Allow",
        Principal: "*",
        Action: "s3:GetObject",
        Resource: "arn:aws:s3:::bucket-00000000000000000/*",
      },
    },
    id: "217148f8f1eec2ff5804f6963c2d6b63",
  },
};

describe("pinned instruction ids", () => {
  it("pins one instruction of every registered problem", () => {
    expect(Object.keys(PINNED).sort()).toEqual(PROBLEM_SPECS.map((spec) => spec.id).sort());
  });

  it.each(Object.entries(PINNED) as [Problem, (typeof PINNED)[Problem]][])("%s", (problem, { matched, id }) => {
    expect(testInstruction({ problem, matched: [matched], capturedAt: CAPTURED_AT }).id).toBe(id);
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
