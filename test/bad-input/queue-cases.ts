// Malformed remediation-queue message bodies, generated from valid instructions.
import { type Instruction, instructionId, serializeInstruction } from "../../contract/instruction.ts";
import { instruction } from "../coordinator/support.ts";
import { clone, DELETE, describe, HUGE, NOT_A_STRING, type Random, setPath, truncations } from "./generate.ts";

type Json = Record<string, unknown>;

export interface BodyCase {
  name: string;
  body: string;
  /** What the DLQ reason attribute must say. */
  reason: RegExp;
}

/** Recomputes the id so only the intended field is wrong, unless the mutation is about the id. */
function withId(value: Json): Json {
  try {
    value.id = instructionId(value as unknown as Instruction);
  } catch {}
  return value;
}

export function queueCases(random: Random): BodyCase[] {
  const cases: BodyCase[] = [];
  const add = (name: string, body: string, reason: RegExp) => cases.push({ name, body, reason });
  const sg = instruction(9_001) as unknown as Json;
  const s3 = instruction(9_002, { problem: "s3-public-acl" }) as unknown as Json;
  const invalid = (detail: string) => new RegExp(`^invalid instruction: ${detail}`);

  for (const text of [" ", "not json", "{", "}", "[", "undefined", "NaN", "{'a':1}", "\t\n", "<xml/>", '{"a":1}}']) {
    add(`body ${describe(text)}`, text, invalid("message body is not JSON"));
  }
  for (const base of [sg, s3]) {
    for (const text of truncations(serializeInstruction(base as unknown as Instruction), random, 25)) {
      add(`${base.problem} truncated at ${text.length}`, text, invalid("message body is not JSON"));
    }
  }
  for (const text of ["null", "42", "true", '"instruction"', "[]", "[{}]", JSON.stringify([sg])]) {
    add(`body JSON ${text.slice(0, 20)}`, text, invalid(""));
  }
  add("body empty object", "{}", invalid(""));

  for (const [label, base] of [
    ["sg", sg],
    ["s3", s3],
  ] as const) {
    const mutate = (name: string, edit: (value: Json) => void, reason: RegExp, recompute = true) => {
      const value = clone(base);
      edit(value);
      add(`${label}: ${name}`, JSON.stringify(recompute ? withId(value) : value), reason);
    };
    for (const key of Object.keys(base)) {
      if (key === "part") continue;
      mutate(`${key} deleted`, (v) => setPath(v, [key], DELETE), invalid(`(${key}: )?`), key !== "id");
    }
    for (const key of ["id", "problem", "capturedAt", "detectedAt", "notBefore", "annotation"]) {
      for (const value of NOT_A_STRING.slice(1)) {
        mutate(`${key} ${describe(value)}`, (v) => setPath(v, [key], value), invalid(`${key}: `), key !== "id");
      }
    }
    for (const value of [0, 2, "1", null, 1.5, -1, [], {}]) {
      mutate(
        `version ${describe(value)}`,
        (v) => setPath(v, ["version"], value),
        invalid("version: unsupported instruction version"),
      );
    }
    for (const value of ["", "ABCDEF", "0".repeat(31), "g".repeat(32), "0".repeat(33), "0".repeat(32)]) {
      mutate(`id ${describe(value)}`, (v) => setPath(v, ["id"], value), invalid("(id: |id does not match)"), false);
    }
    for (const value of ["sg-open", "s3-public", "SG-OPEN-INGRESS", "", "rds-public", "*"]) {
      mutate(`problem ${describe(value)}`, (v) => setPath(v, ["problem"], value), invalid("problem: unknown problem"));
    }
    for (const key of ["capturedAt", "detectedAt", "notBefore"]) {
      for (const value of ["", "yesterday", "2026-11-20", "2026-13-45T99:00:00Z", "1763632692412"]) {
        mutate(`${key} ${describe(value)}`, (v) => setPath(v, [key], value), invalid(`${key}: must be an ISO-8601`));
      }
    }
    mutate("unknown top-level field", (v) => setPath(v, ["extra"], 1), invalid(""));
    mutate("unknown resource field", (v) => setPath(v, ["resource", "extra"], 1), invalid("resource"));
    for (const value of NOT_A_STRING.concat(["arn"])) {
      if (value === DELETE) continue;
      mutate(`resource ${describe(value)}`, (v) => setPath(v, ["resource"], value), invalid("resource"));
    }
    const resourceBad: [string, unknown[]][] = [
      ["type", [DELETE, "", "SecurityGroup", "AWS::EC2", 42, null]],
      ["id", [DELETE, "", 42, null, []]],
      ["arn", ["", "not-an-arn", 42, null]],
      ["accountId", [DELETE, "", "12345678901", "1234567890123", "abcdefghijkl", 123456789012, null]],
      ["region", [DELETE, "", "US-EAST-1", "useast1", "us-east-", 1, null]],
    ];
    for (const [field, values] of resourceBad) {
      for (const value of values) {
        mutate(
          `resource.${field} ${describe(value)}`,
          (v) => setPath(v, ["resource", field], value),
          invalid(`resource\\.${field}: `),
        );
      }
    }
    for (const value of [DELETE, null, "x", 42, {}, []]) {
      mutate(`matched ${describe(value)}`, (v) => setPath(v, ["matched"], value), invalid("matched"));
    }
    for (const value of [null, 42, "sg-rule", [], { kind: "bogus" }, {}]) {
      mutate(`matched[0] ${describe(value)}`, (v) => setPath(v, ["matched", 0], value), invalid("matched"));
    }
    for (const value of [null, "rule", 42, {}, []]) {
      mutate(`rule ${describe(value)}`, (v) => setPath(v, ["rule"], value), invalid("rule"));
    }
    mutate("rule.id deleted", (v) => setPath(v, ["rule", "id"], DELETE), invalid("rule\\.id: "));
    mutate("rule.id empty", (v) => setPath(v, ["rule", "id"], ""), invalid("rule\\.id: "));
    mutate("rule.parameters a string", (v) => setPath(v, ["rule", "parameters"], "x"), invalid("rule\\.parameters: "));
    mutate(
      "rule.configRuleName 42",
      (v) => setPath(v, ["rule", "configRuleName"], 42),
      invalid("rule\\.configRuleName: "),
    );
    for (const value of [
      { index: 0, count: 1 },
      { index: 1 },
      { index: 1.5, count: 2 },
      "1/2",
      null,
      { index: 1, count: 2, x: 1 },
    ]) {
      mutate(`part ${describe(value)}`, (v) => setPath(v, ["part"], value), invalid("part"));
    }
    mutate(
      "annotation huge (200 KB) with a wrong id",
      (v) => {
        v.annotation = HUGE(200_000, 11);
        v.id = "f".repeat(32);
      },
      invalid("id does not match"),
      false,
    );
    mutate(
      "resource.id huge (150 KB) and no matched",
      (v) => {
        setPath(v, ["resource", "id"], HUGE(150_000, 12));
        v.matched = [];
      },
      invalid("matched: must name at least one"),
    );
    mutate(
      "id of another instruction",
      (v) => setPath(v, ["id"], instruction(1).id),
      invalid("id does not match"),
      false,
    );
  }

  // Entries of the wrong kind for the problem, or malformed entries of the right kind.
  const sgRule = (sg.matched as Json[])[0]!;
  const aclGrant = (s3.matched as Json[])[0]!;
  const policyStatement = {
    kind: "policy-statement",
    statement: { Effect: "Allow", Principal: "*", Action: "s3:GetObject" },
  };
  const withMatched = (name: string, base: Json, matched: unknown[], reason: RegExp) => {
    const value = clone(base);
    value.matched = matched;
    add(name, JSON.stringify(withId(value)), reason);
  };
  withMatched(
    "sg problem with an acl grant",
    sg,
    [aclGrant],
    invalid("matched entries do not fit problem sg-open-ingress"),
  );
  withMatched("sg problem with a policy statement", sg, [policyStatement], invalid("matched entries do not fit"));
  withMatched("sg problem with one rule and one grant", sg, [sgRule, aclGrant], invalid("matched entries do not fit"));
  withMatched("acl problem with a sg rule", s3, [sgRule], invalid("matched entries do not fit problem s3-public-acl"));
  withMatched("acl problem with a policy statement", s3, [policyStatement], invalid("matched entries do not fit"));
  for (const problem of ["s3-public-policy"]) {
    withMatched(
      `${problem} with a grant`,
      { ...clone(s3), problem },
      [aclGrant],
      invalid("matched entries do not fit"),
    );
    withMatched(
      `${problem} with a sg rule`,
      { ...clone(s3), problem },
      [sgRule],
      invalid("matched entries do not fit"),
    );
  }
  const ruleFields: [string, unknown[]][] = [
    ["direction", [DELETE, "egress", "", 1]],
    ["ipProtocol", [DELETE, "", 6, null]],
    ["fromPort", [DELETE, "22", 65_536, -2, 1.5, null]],
    ["toPort", [DELETE, "22", 70_000, -3, 2.5, null]],
    ["cidrIpv4", [42, null, DELETE]],
    ["cidrIpv6", ["::/0"]],
    ["description", [42]],
  ];
  for (const [field, values] of ruleFields) {
    for (const value of values) {
      const rule = clone(sgRule.rule as Json);
      setPath(rule, [field], value);
      withMatched(`sg rule.${field} ${describe(value)}`, sg, [{ kind: "sg-rule", rule }], invalid("matched"));
    }
  }
  const grantee = (aclGrant.grant as Json).grantee as Json;
  for (const value of [
    { type: "Group", uri: "not a url" },
    { type: "Nobody" },
    { type: "CanonicalUser", id: "" },
    { type: "AmazonCustomerByEmail", emailAddress: "a" },
    null,
    "AllUsers",
    { ...grantee, type: 1 },
  ]) {
    withMatched(
      `grant grantee ${describe(value)}`,
      s3,
      [{ kind: "acl-grant", grant: { grantee: value, permission: "READ" } }],
      invalid("matched"),
    );
  }
  for (const value of ["Read", "", "EVERYTHING", null, 1]) {
    withMatched(
      `grant permission ${describe(value)}`,
      s3,
      [{ kind: "acl-grant", grant: { grantee, permission: value } }],
      invalid("matched"),
    );
  }
  for (const value of ["*", null, [], 42]) {
    withMatched(
      `policy statement ${describe(value)}`,
      { ...clone(s3), problem: "s3-public-policy" },
      [{ kind: "policy-statement", statement: value }],
      invalid("(matched|id does not match)"),
    );
  }
  // Two mutations can give the same text (e.g. a value set twice); each body is one case.
  const seen = new Set<string>();
  const names = new Map<string, number>();
  return cases
    .filter((c) => !seen.has(c.body) && seen.add(c.body))
    .map((c) => {
      const count = (names.get(c.name) ?? 0) + 1;
      names.set(c.name, count);
      return count === 1 ? c : { ...c, name: `${c.name} #${count}` };
    });
}
