// What an undo's exemption lists (problems/undo-entries.ts): exactly the entries the undo put back, named as the problem's
// findings name them, so their keys are the ones the next re-judgement of the live resource gives — and nothing that
// was back already.
import { describe, expect, it } from "vitest";
import { type LiveState, planUndo } from "../../cli/undo-runner.ts";
import { matchedEntryKey } from "../../contract/instruction.ts";
import type { LedgerRecord, S3BucketState } from "../../contract/ledger.ts";
import { aclGrantsFromApi, type BucketState, judgeS3, parsePolicyDocument } from "../../problems/s3-public/detect.ts";
import {
  judgeSgEntries,
  parseSgOpenIngressParameters,
  sgEntriesFromDescribedRules,
} from "../../problems/sg-open-ingress/detect.ts";
import { restoredEntries } from "../../problems/undo-entries.ts";
import { ALL_USERS, GRANTS, OWNER, POLICY_TEXT, PUBLIC_READ, SG_RULES } from "../remediation/support.ts";

const GROUP = "sg-0123456789abcdef0";
const BUCKET = "acme-data";
const SSH = SG_RULES.find((rule) => rule.SecurityGroupRuleId === "sgr-0ssh4")!;
const SSH6 = SG_RULES.find((rule) => rule.SecurityGroupRuleId === "sgr-0ssh6")!;

function record(overrides: Partial<LedgerRecord>): LedgerRecord {
  return {
    version: 1,
    actionId: "act-20261120T102819Z-0000beef",
    instructionId: "0123456789abcdef0123456789abcdef",
    problem: "sg-open-ingress",
    resource: { type: "AWS::EC2::SecurityGroup", id: GROUP, accountId: "123456789012", region: "us-east-1" },
    ruleId: "sg-open-ingress",
    outcome: "fixed",
    changes: [],
    before: null,
    after: null,
    startedAt: "2026-11-20T10:28:19.000Z",
    finishedAt: "2026-11-20T10:28:20.000Z",
    attempt: 1,
    ...overrides,
  } as LedgerRecord;
}

const revokedFields = (rule: typeof SSH) => ({
  securityGroupRuleId: rule.SecurityGroupRuleId,
  ipProtocol: rule.IpProtocol!,
  fromPort: rule.FromPort!,
  toPort: rule.ToPort!,
  ...(rule.CidrIpv4 ? { cidrIpv4: rule.CidrIpv4 } : { cidrIpv6: rule.CidrIpv6 }),
  ...(rule.Description ? { description: rule.Description } : {}),
});

/** The fix of both SSH rules: revoked, as the ledger records it. */
const sgFix = record({
  changes: [{ kind: "sg-rules-revoked", groupId: GROUP, rules: [SSH, SSH6].map(revokedFields) }],
  before: { kind: "sg-rules", groupId: GROUP, rules: [SSH, SSH6] },
  after: { kind: "sg-rules", groupId: GROUP, rules: [] },
});

/** What the rule's re-judgement finds open in a group's rules: the keys a fix's targets have. */
function sgKeysJudged(rules: readonly (typeof SSH)[]): string[] {
  const params = parseSgOpenIngressParameters({
    authorizedPorts: "tcp:80,tcp:443",
    ipv4MinPrefix: 8,
    ipv6MinPrefix: 16,
  });
  return judgeSgEntries(sgEntriesFromDescribedRules(rules), params).map((finding) => matchedEntryKey(finding.matched));
}

function s3Judged(state: S3BucketState): string[] {
  const judged: BucketState = {
    bucket: state.bucket,
    ...(state.acl.Owner?.ID ? { ownerId: state.acl.Owner.ID } : {}),
    aclsDisabled: state.aclsDisabled,
    grants: aclGrantsFromApi(state.acl.Grants),
    policy: parsePolicyDocument(state.policy),
    publicAccessBlock: state.publicAccessBlock,
  };
  return judgeS3(judged).findings.map((finding) => `${finding.problem} ${matchedEntryKey(finding.matched)}`);
}

describe("restoredEntries", () => {
  it("security group: the rules re-authorized, keyed as the rule judges the group afterwards", () => {
    // Only the v4 rule is gone live (someone put the v6 one back already): only it is re-added, only it is exempted.
    const plan = planUndo(sgFix, { kind: "sg-rules", groupId: GROUP, rules: [SSH6] } as LiveState);
    const restored = restoredEntries(sgFix as never, plan.before, plan.after);
    expect(restored.unnamed).toEqual([]);
    expect(restored.entries).toEqual([
      {
        problem: "sg-open-ingress",
        entry: {
          kind: "sg-rule",
          rule: expect.objectContaining({ ipProtocol: "tcp", fromPort: 22, cidrIpv4: "0.0.0.0/0" }),
        },
      },
    ]);
    const key = matchedEntryKey(restored.entries[0]!.entry);
    // The live group after the undo has a new rule id: the key is the same (it ignores ids and descriptions).
    expect(sgKeysJudged([{ ...SSH, SecurityGroupRuleId: "sgr-0new" }, SSH6])).toContain(key);
    expect(key).not.toBe(
      matchedEntryKey({
        kind: "sg-rule",
        rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv6: "::/0" },
      }),
    );
  });

  it("nothing put back (everything was there again): nothing exempted", () => {
    const plan = planUndo(sgFix, { kind: "sg-rules", groupId: GROUP, rules: [SSH, SSH6] } as LiveState);
    expect(restoredEntries(sgFix as never, plan.before, plan.after)).toEqual({ entries: [], unnamed: [] });
  });

  const bucketBefore: S3BucketState = {
    kind: "s3-bucket",
    bucket: BUCKET,
    aclsDisabled: false,
    acl: { Owner: OWNER, Grants: GRANTS },
    policy: POLICY_TEXT,
    publicAccessBlock: null,
  };
  const bucketResource = { type: "AWS::S3::Bucket", id: BUCKET, accountId: "123456789012", region: "us-east-1" };

  it("bucket ACL: the public grant put back, keyed as the bucket's re-judgement finds it", () => {
    const fixedGrants = GRANTS.filter((grant) => !(grant.Grantee.Type === "Group" && grant.Grantee.URI === ALL_USERS));
    const fix = record({
      problem: "s3-public-acl",
      ruleId: "s3-public",
      resource: bucketResource,
      changes: [
        {
          kind: "acl-grants-removed",
          bucket: BUCKET,
          grants: [{ grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" }],
        },
      ],
      before: bucketBefore,
      after: { ...bucketBefore, acl: { Owner: OWNER, Grants: fixedGrants } },
    });
    const live = { kind: "s3-bucket", state: { ...bucketBefore, acl: { Owner: OWNER, Grants: fixedGrants } } };
    const plan = planUndo(fix, live as LiveState);
    const restored = restoredEntries(fix as never, plan.before, plan.after);
    expect(restored.entries).toEqual([
      {
        problem: "s3-public-acl",
        entry: { kind: "acl-grant", grant: { grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" } },
      },
    ]);
    expect(s3Judged(plan.after as S3BucketState)).toContain(
      `s3-public-acl ${matchedEntryKey(restored.entries[0]!.entry)}`,
    );
  });

  it("bucket policy: the public statement put back", () => {
    const withoutPublic = JSON.stringify({
      ...JSON.parse(POLICY_TEXT),
      Statement: JSON.parse(POLICY_TEXT).Statement.filter(
        (statement: { Sid: string }) => statement.Sid !== "PublicRead",
      ),
    });
    const fix = record({
      problem: "s3-public-policy",
      ruleId: "s3-public",
      resource: bucketResource,
      changes: [{ kind: "policy-statements-removed", bucket: BUCKET, statements: [PUBLIC_READ], policyDeleted: false }],
      before: bucketBefore,
      after: { ...bucketBefore, policy: withoutPublic },
    });
    const plan = planUndo(fix, { kind: "s3-bucket", state: { ...bucketBefore, policy: withoutPublic } } as LiveState);
    const restored = restoredEntries(fix as never, plan.before, plan.after);
    expect(restored.entries).toEqual([
      { problem: "s3-public-policy", entry: { kind: "policy-statement", statement: PUBLIC_READ } },
    ]);
    expect(s3Judged(plan.after as S3BucketState)).toContain(
      `s3-public-policy ${matchedEntryKey(restored.entries[0]!.entry)}`,
    );
  });

  it("Block Public Access turned off: the fix's problem's public entries it had neutralised, and no other problem's", () => {
    const blocked = { BlockPublicAcls: true, IgnorePublicAcls: true };
    const fix = record({
      problem: "s3-public-acl",
      ruleId: "s3-public",
      resource: bucketResource,
      changes: [{ kind: "public-access-block-enabled", bucket: BUCKET, before: null, after: blocked }],
      before: bucketBefore,
      after: { ...bucketBefore, publicAccessBlock: blocked },
    });
    const plan = planUndo(fix, {
      kind: "s3-bucket",
      state: { ...bucketBefore, publicAccessBlock: blocked },
    } as LiveState);
    const restored = restoredEntries(fix as never, plan.before, plan.after);
    // AllUsers READ and AuthenticatedUsers READ_ACP are public ACL grants; the public policy statement is another
    // problem's (its fix never blocked it), so it is not this undo's to exempt.
    expect(
      restored.entries.map(({ problem, entry }) => [problem, entry.kind === "acl-grant" && entry.grant.grantee]),
    ).toEqual([
      ["s3-public-acl", { type: "Group", uri: ALL_USERS }],
      ["s3-public-acl", { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers" }],
    ]);
    const judged = s3Judged(plan.after as S3BucketState);
    for (const { entry } of restored.entries) expect(judged).toContain(`s3-public-acl ${matchedEntryKey(entry)}`);
  });
});
