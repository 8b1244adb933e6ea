// Undo per resource type (problems/undo.ts): each resource type the registry knows has the undo of the before-state
// its fixes record, loaded from the folder its registry entry names (problems/<folder>/undo.ts, its `undo` export)
// and found by that kind; each undo declares every AWS command it sends with the IAM action the CLI's operators are
// given for it (cli/permissions.ts adds them to the CLI's own), and says what an undo put back (`remedy undo --json`).
// The table must work whichever module a program loads first.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { cliImpliedActions, cliOwnPermissions, cliPermissions, mergePermissions } from "../../cli/permissions.ts";
import { reAddedBetween } from "../../cli/undo.ts";
import { planUndo, UndoError } from "../../cli/undo-runner.ts";
import { PROBLEM_SPECS, RESOURCES } from "../../problems/index.ts";
import { LISTED_RESOURCES } from "../../problems/inventory.ts";
import { type BucketLive, undo as s3BucketUndo } from "../../problems/s3-public/undo.ts";
import { undo as sgRulesUndo } from "../../problems/sg-open-ingress/undo.ts";
import { resourceUndos, undoFor } from "../../problems/undo.ts";
import { commandsIn, ROOT, reachableFrom, tsFiles } from "../helpers/source-scan.ts";

const RECORD = {
  version: 1 as const,
  actionId: "act-20261120T102819Z-7c1d9e2f",
  instructionId: "0123456789abcdef0123456789abcdef",
  ruleId: "s3-public",
  outcome: "fixed" as const,
  changes: [],
  startedAt: "2026-11-20T10:28:19.000Z",
};
const BUCKET = {
  kind: "s3-bucket" as const,
  bucket: "b",
  aclsDisabled: true,
  acl: { Grants: [] },
  policy: null,
  publicAccessBlock: null,
};
const BUCKET_LIVE: BucketLive = { kind: "s3-bucket", state: BUCKET };
const BUCKET_RECORD = {
  ...RECORD,
  problem: "s3-public-acl" as const,
  resource: { type: "AWS::S3::Bucket", id: "b", accountId: "123456789012", region: "us-east-1" },
  before: BUCKET,
  after: BUCKET,
};

describe("undo per resource type", () => {
  it.each(tsFiles(join(ROOT, "problems")).filter((file) => file.endsWith("/undo.ts")))(
    "works whichever module loads first: %s",
    async (first) => {
      vi.resetModules();
      await import(first);
      const runner = await import("../../cli/undo-runner.ts");
      // Reaches the bucket's table of changes, and the refusal (UndoError) from problems/undo.ts.
      expect(() => runner.planUndo(BUCKET_RECORD, BUCKET_LIVE)).toThrow(
        "its changes (none) are not the one bucket change a fix makes",
      );
      expect(() => runner.planUndo(BUCKET_RECORD, BUCKET_LIVE)).toThrow(runner.UndoError);
    },
  );

  it("finds, through the registry, the undo of each resource type's before-state and the problems found on it", () => {
    expect(RESOURCES.map((resource) => resource.stateKind)).toEqual([
      "sg-rules",
      "s3-bucket",
      "ebs-snapshot-permissions",
      "rds-snapshot",
      "rds-cluster-snapshot",
      "s3-account-public-access-block",
    ]);
    // Each loaded from the folder its registry entry names.
    expect(RESOURCES.map((resource) => resource.folder)).toEqual([
      "sg-open-ingress",
      "s3-public",
      "ebs-snapshot-public",
      "rds-snapshot-public",
      "rds-cluster-snapshot-public",
      "s3-account-public-access",
    ]);
    expect(undoFor("sg-rules")).toEqual({
      undo: sgRulesUndo,
      resourceType: "AWS::EC2::SecurityGroup",
      problems: ["sg-open-ingress", "sg-default-rules"],
    });
    expect(undoFor("s3-bucket")).toEqual({
      undo: s3BucketUndo,
      resourceType: "AWS::S3::Bucket",
      problems: ["s3-public-acl", "s3-public-policy"],
    });
    // One undo per resource type, and every problem's resource type has one.
    const undos = resourceUndos();
    expect(undos.map((entry) => entry.resourceType)).toEqual(RESOURCES.map((resource) => resource.type));
    expect(new Set(undos.map((entry) => entry.undo.kind)).size).toBe(undos.length);
    expect(undos.flatMap((entry) => entry.problems).sort()).toEqual(PROBLEM_SPECS.map((spec) => spec.id).sort());
  });

  it("refuses a record whose before-state is not its resource's before the resource's own checks (UndoError)", () => {
    const record = {
      version: 1 as const,
      actionId: "act-20261120T102819Z-7c1d9e2f",
      instructionId: "0123456789abcdef0123456789abcdef",
      problem: "s3-public-acl" as const,
      resource: { type: "AWS::S3::Bucket", id: "sg-1", accountId: "123456789012", region: "us-east-1" },
      ruleId: "s3-public",
      outcome: "fixed" as const,
      changes: [],
      before: { kind: "sg-rules" as const, groupId: "sg-1", rules: [] },
      after: { kind: "sg-rules" as const, groupId: "sg-1", rules: [] },
      startedAt: "2026-11-20T10:28:19.000Z",
    };
    const live = { kind: "sg-rules" as const, groupId: "sg-1", rules: [] };
    expect(() => planUndo(record, live)).toThrow(UndoError);
    expect(() => planUndo(record, live)).toThrow(
      "its resource is an AWS::S3::Bucket, but its before-state holds security-group rules",
    );
    expect(() =>
      planUndo({ ...record, resource: { ...record.resource, type: "AWS::EC2::SecurityGroup" } }, live),
    ).toThrow("its problem s3-public-acl is not fixed by changing security-group rules");
  });

  it("gives the CLI's operators exactly the CLI's own commands, every undo's and every inventory's (cli/permissions.ts)", () => {
    const expected: Record<string, string> = { ...cliOwnPermissions };
    for (const { undo } of resourceUndos()) Object.assign(expected, undo.permissions);
    // plan --live lists each type with an inventory through it (where Config does not record it), with its reads.
    for (const resource of LISTED_RESOURCES) Object.assign(expected, resource.reads.permissions);
    expect(cliPermissions).toEqual(expected);
    // A command the CLI sends itself and an undo sends too (plan --live's bucket reads) names one action in both.
    for (const { undo } of resourceUndos()) {
      for (const [command, action] of Object.entries(undo.permissions)) {
        if (command in cliOwnPermissions) expect(cliOwnPermissions, command).toHaveProperty(command, action);
      }
    }
    expect(
      Object.keys(s3BucketUndo.permissions)
        .filter((command) => command in cliOwnPermissions)
        .sort(),
    ).toEqual([
      "GetBucketAclCommand",
      "GetBucketOwnershipControlsCommand",
      "GetBucketPolicyCommand",
      "GetPublicAccessBlockCommand",
    ]);
    expect(cliPermissions).toHaveProperty("AuthorizeSecurityGroupIngressCommand", "ec2:AuthorizeSecurityGroupIngress");
    expect(cliPermissions).toHaveProperty("DeletePublicAccessBlockCommand", "s3:PutBucketPublicAccessBlock");
    // Every undo's implied actions, and SetSourceIdentity beside the AssumeRole of an organisation's undo role.
    expect([...cliImpliedActions].sort()).toEqual(
      [...new Set([...resourceUndos().flatMap(({ undo }) => undo.impliedActions), "sts:SetSourceIdentity"])].sort(),
    );
    expect(cliImpliedActions).toEqual(["ec2:CreateTags", "sts:SetSourceIdentity"]);
  });

  it("merges declarations of one command only when they name the same action", () => {
    const own = { by: "cli", permissions: { GetBucketAclCommand: "s3:GetBucketAcl" } } as const;
    const undo = {
      by: "a bucket undo",
      permissions: { GetBucketAclCommand: "s3:GetBucketAcl", PutBucketAclCommand: "s3:PutBucketAcl" },
    } as const;
    expect(mergePermissions([own, undo])).toEqual({
      GetBucketAclCommand: "s3:GetBucketAcl",
      PutBucketAclCommand: "s3:PutBucketAcl",
    });
    const conflicting = { by: "another undo", permissions: { GetBucketAclCommand: "s3:GetBucketPolicy" } } as const;
    expect(() => mergePermissions([own, undo, conflicting])).toThrow(
      "GetBucketAclCommand is declared as s3:GetBucketAcl by cli and as s3:GetBucketPolicy by another undo",
    );
  });

  it("says what an undo put back through its resource's undo, and nothing between states of different kinds", () => {
    const rule = { IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIpv4: "0.0.0.0/0" };
    const group = { kind: "sg-rules" as const, groupId: "sg-1", rules: [] };
    expect(reAddedBetween(group, { ...group, rules: [rule] })).toEqual([
      { kind: "sg-rules", groupId: "sg-1", rules: [rule] },
    ]);
    expect(reAddedBetween(group, group)).toEqual([]);
    const grant = {
      Grantee: { Type: "Group", URI: "http://acs.amazonaws.com/groups/global/AllUsers" },
      Permission: "READ",
    };
    const statement = { Sid: "PublicRead", Effect: "Allow", Principal: "*", Action: "s3:GetObject" };
    const block = {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    };
    const before = { ...BUCKET, aclsDisabled: false, publicAccessBlock: block };
    const after = {
      ...before,
      acl: { Grants: [grant] },
      policy: JSON.stringify({ Statement: statement }),
      publicAccessBlock: { ...block, BlockPublicPolicy: false, RestrictPublicBuckets: false },
    };
    expect(reAddedBetween(before, after)).toEqual([
      { kind: "acl-grants", bucket: "b", grants: [grant] },
      { kind: "policy-statements", bucket: "b", statements: [statement] },
      { kind: "block-public-access-off", bucket: "b", flags: ["BlockPublicPolicy", "RestrictPublicBuckets"] },
    ]);
    expect(reAddedBetween(group, after)).toEqual([]);
    expect(reAddedBetween(after, { ...group, rules: [rule] })).toEqual([]);
  });

  it("sends no command an undo does not declare, and declares none that its code does not send", () => {
    const declared = new Set(resourceUndos().flatMap(({ undo }) => Object.keys(undo.permissions)));
    const undoModules = tsFiles(join(ROOT, "problems")).filter((file) => file.endsWith("/undo.ts"));
    const sentByUndo = undoModules.flatMap((file) =>
      commandsIn(readFileSync(file, "utf8")).map((command) => `${command} (${relative(ROOT, file)})`),
    );
    expect(sentByUndo.filter((entry) => !declared.has(entry.split(" ")[0]!))).toEqual([]);
    // The reads are in the readers the fixes share (live.ts): declared commands must be sent somewhere undo reaches
    // (from the undo modules problems/undo.ts loads, one per registered resource type).
    const loaded = RESOURCES.map((resource) => join(ROOT, "problems", resource.folder, "undo.ts"));
    const reached = new Set(reachableFrom(loaded).flatMap((file) => commandsIn(readFileSync(file, "utf8"))));
    expect([...declared].filter((command) => !reached.has(command))).toEqual([]);
  });
});
