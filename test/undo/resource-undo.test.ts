// Undo per resource type (problems/undo.ts): each resource type the registry knows has the undo of the before-state
// its fixes record, found by that kind, and each undo declares every AWS command it sends with the IAM action the
// CLI's operators are given for it. An undo module and problems/undo.ts import each other (UndoError one way, the
// table the other), so the table must work whichever of them a program loads first.
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { cliImpliedActions, cliPermissions } from "../../cli/permissions.ts";
import { planUndo, UndoError } from "../../cli/undo-runner.ts";
import { PROBLEM_SPECS, RESOURCES } from "../../problems/index.ts";
import { s3BucketUndo } from "../../problems/s3-public/undo.ts";
import { sgRulesUndo } from "../../problems/sg-open-ingress/undo.ts";
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
      expect(() => runner.planUndo(BUCKET_RECORD, { kind: "s3-bucket", state: BUCKET })).toThrow(
        "its changes (none) are not the one bucket change a fix makes",
      );
      expect(() => runner.planUndo(BUCKET_RECORD, { kind: "s3-bucket", state: BUCKET })).toThrow(runner.UndoError);
    },
  );

  it("finds, through the registry, the undo of each resource type's before-state and the problems found on it", () => {
    expect(RESOURCES.map((resource) => resource.stateKind)).toEqual(["sg-rules", "s3-bucket"]);
    expect(undoFor("sg-rules")).toEqual({
      undo: sgRulesUndo,
      resourceType: "AWS::EC2::SecurityGroup",
      problems: ["sg-open-ingress"],
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

  it("declares each command it sends with the action the CLI's operators are given (cli/permissions.ts)", () => {
    for (const { undo } of resourceUndos()) {
      for (const [command, action] of Object.entries(undo.permissions)) {
        expect(cliPermissions, `${undo.kind}: ${command}`).toHaveProperty(command, action);
      }
      for (const action of undo.impliedActions) expect(cliImpliedActions).toContain(action);
    }
  });

  it("sends no command an undo does not declare, and declares none that its code does not send", () => {
    const declared = new Set(resourceUndos().flatMap(({ undo }) => Object.keys(undo.permissions)));
    const undoModules = tsFiles(join(ROOT, "problems")).filter((file) => file.endsWith("/undo.ts"));
    const sentByUndo = undoModules.flatMap((file) =>
      commandsIn(readFileSync(file, "utf8")).map((command) => `${command} (${relative(ROOT, file)})`),
    );
    expect(sentByUndo.filter((entry) => !declared.has(entry.split(" ")[0]!))).toEqual([]);
    // The reads are in the readers the fixes share (live.ts): declared commands must be sent somewhere undo reaches.
    const reached = new Set(
      reachableFrom([join(ROOT, "problems/undo.ts")]).flatMap((file) => commandsIn(readFileSync(file, "utf8"))),
    );
    expect([...declared].filter((command) => !reached.has(command))).toEqual([]);
  });
});
