// Words per problem (problems/<id>/words.ts, named by each spec): the CLI's generic words (problems/words.ts) are each
// problem's own, found through the registry, and undo words what it puts back with the same pieces.
import { describe, expect, it } from "vitest";
import type { Change } from "../../contract/report.ts";
import type { MatchedEntry, Problem } from "../../detection/types.ts";
import { PROBLEM_SPECS } from "../../problems/index.ts";
import { describePublicAccessBlock } from "../../problems/s3-public/words.ts";
import { describeUndoneGrant } from "../../problems/s3-public-acl/words.ts";
import { describeUndoneStatement } from "../../problems/s3-public-policy/words.ts";
import { describeSgRuleState } from "../../problems/sg-open-ingress/words.ts";
import {
  describeAction,
  describeChange,
  describeMatched,
  describeSgRule,
  listText,
  plural,
} from "../../problems/words.ts";
import { EXAMPLES, testResourceId } from "../support/instructions.ts";

const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";

/** One entry of each problem, and the change its fix records: its example's (problems/<id>/example.ts). */
function sample(problem: Problem): { entry: MatchedEntry; change: Change } {
  const example = EXAMPLES.get(problem)!;
  const id = testResourceId(problem);
  return { entry: example.violation(id), change: example.recordedChange(id) };
}

describe("words per problem", () => {
  it.each(PROBLEM_SPECS.map((spec) => [spec.id, spec] as const))(
    "%s: the CLI words its entries, actions and change with its spec's words",
    (id, spec) => {
      const { entry, change } = sample(spec.id);
      expect(change.kind).toBe(spec.words.changes.kind);
      expect(describeMatched(entry)).toBe(spec.words.entry(entry));
      expect(describeAction(id, entry, "surgical")).toBe(`${spec.words.verb.planned} ${spec.words.entry(entry)}`);
      expect(describeChange(change)).toBe(`${spec.words.verb.done} ${spec.words.entry(entry)}`);
      expect(describeChange(change, "planned")).toBe(`${spec.words.verb.planned} ${spec.words.entry(entry)}`);
    },
  );

  it("undo words a rule it re-authorizes as the CLI words it, with the description that goes back instead of its id", () => {
    const rule = { IpProtocol: "6", FromPort: 0, ToPort: 65535, CidrIpv6: "::/0", SecurityGroupRuleId: "sgr-1" };
    expect(describeSgRuleState({ ...rule, Description: "from anywhere" })).toBe(
      'tcp all ports from ::/0 "from anywhere"',
    );
    expect(describeSgRuleState(rule)).toBe("tcp all ports from ::/0");
    expect(
      describeSgRule({
        direction: "ingress",
        ipProtocol: "6",
        fromPort: 0,
        toPort: 65535,
        cidrIpv6: "::/0",
        securityGroupRuleId: "sgr-1",
      }),
    ).toBe("tcp all ports from ::/0 (sgr-1)");
  });

  it("undo names any grant or statement a record holds, before checking it (its own words, pinned)", () => {
    // A public group grant reads as everywhere else; any other grantee by its whole name, as a refusal quotes it.
    expect(describeUndoneGrant({ grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" })).toBe(
      "AllUsers READ",
    );
    expect(describeChange(sample("s3-public-acl").change)).toBe("removed ACL grant AllUsers READ");
    expect(
      describeUndoneGrant({ grantee: { type: "CanonicalUser", id: "attacker-canonical-id" }, permission: "WRITE" }),
    ).toBe("attacker-canonical-id WRITE");
    expect(describeUndoneStatement({ Sid: "PublicRead" }, 0)).toBe("statement PublicRead");
    expect(describeUndoneStatement({ Effect: "Allow" }, 1)).toBe("statement #2");
    expect(describePublicAccessBlock({ BlockPublicAcls: true })).toBe(
      "BlockPublicAcls=true, IgnorePublicAcls=false, BlockPublicPolicy=false, RestrictPublicBuckets=false",
    );
  });

  it("counts and lists in the same words for undo and Slack", () => {
    expect([plural(1, "flag"), plural(2, "flag"), plural(3, "entry", "entries")]).toEqual([
      "1 flag",
      "2 flags",
      "3 entries",
    ]);
    expect([listText([]), listText(["a"]), listText(["a", "b"]), listText(["a", "b", "c"])]).toEqual([
      "",
      "a",
      "a and b",
      "a, b and c",
    ]);
  });
});
