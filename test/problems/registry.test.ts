// The problem registry is the one list: everything that used to name problems by hand now follows from it, and
// what still has its own code (the rules, the remediation functions) must agree with it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MATCHED_KIND_BY_PROBLEM } from "../../contract/instruction.ts";
import { RULES } from "../../detection/rules.ts";
import type { MatchedEntry } from "../../detection/types.ts";
import { OPENING_EVENTS } from "../../functions/notifier/attribution.ts";
import { consoleUrl, resourceTypeLabel } from "../../functions/notifier/render.ts";
import { readNotifierSettings } from "../../functions/notifier/settings.ts";
import { FUNCTION_NAMES, FUNCTIONS, REMEDIATION_FUNCTION_NAMES } from "../../functions/registry.ts";
import { resourceArn } from "../../platform/deployment.ts";
import {
  PROBLEM_SPECS,
  PROBLEMS,
  problemsFixedBy,
  RESOURCE_TYPES,
  RESOURCES,
  RULE_IDS,
  resourceSpec,
} from "../../problems/index.ts";
import type { ResourceSpec } from "../../problems/types.ts";
import { BLOCK_FLAGS_FOR_PROBLEM, describeAction } from "../../problems/words.ts";
import { ROOT, SOURCE_DIRS, tsFiles } from "../helpers/source-scan.ts";
import { testDeployment } from "../remediation/support.ts";

describe("the problem registry", () => {
  it("lists each problem once, with a title, a secure pattern and a known resource type", () => {
    expect(new Set(PROBLEMS).size).toBe(PROBLEMS.length);
    for (const spec of PROBLEM_SPECS) {
      expect(spec.title).not.toBe("");
      expect(spec.training.terraform).toMatch(/^(resource|data) "aws_/);
      expect(resourceSpec(spec.resourceType), spec.id).toBeDefined();
    }
  });

  it("agrees with the rules that find the problems", () => {
    expect([...RULE_IDS].sort()).toEqual(RULES.map((rule) => rule.id).sort());
    for (const rule of RULES) {
      const specs = PROBLEM_SPECS.filter((spec) => spec.ruleId === rule.id);
      expect([...rule.problems].sort(), rule.id).toEqual(specs.map((spec) => spec.id).sort());
      expect([...rule.resourceTypes], rule.id).toEqual([...new Set(specs.map((spec) => spec.resourceType))]);
    }
  });

  it("routes every problem to a remediation function that says it fixes it", () => {
    for (const spec of PROBLEM_SPECS) expect(FUNCTION_NAMES).toContain(spec.remediation);
    // Pin what each function fixes (the functions and their fixes are derived from the specs).
    expect(REMEDIATION_FUNCTION_NAMES).toEqual([
      "remediate-sg",
      "remediate-s3",
      "remediate-ebs",
      "remediate-rds",
      "remediate-s3-account",
    ]);
    // Problems on one resource type share its function.
    expect(problemsFixedBy("remediate-sg")).toEqual(["sg-open-ingress", "sg-default-rules"]);
    expect(problemsFixedBy("remediate-s3")).toEqual(["s3-public-acl", "s3-public-policy"]);
    // Both snapshot kinds: one function, each problem's actions granted on its own resource type.
    expect(problemsFixedBy("remediate-rds")).toEqual(["rds-snapshot-public", "rds-cluster-snapshot-public"]);
    // The account-level write is its own function's: the bucket function's role stays scoped to buckets.
    expect(problemsFixedBy("remediate-s3-account")).toEqual(["s3-account-public-access"]);
    expect(problemsFixedBy("notifier")).toEqual([]);
    for (const name of REMEDIATION_FUNCTION_NAMES) expect(FUNCTIONS[name].fixes).toEqual(problemsFixedBy(name));
    expect(REMEDIATION_FUNCTION_NAMES.flatMap((name) => problemsFixedBy(name)).sort()).toEqual([...PROBLEMS].sort());
  });

  it("is what the contract, the wording, Slack, attribution and the relay read", () => {
    // These tables are built from the specs, so comparing them with the specs cannot fail: pin what they hold, and
    // check what reads them.
    expect(MATCHED_KIND_BY_PROBLEM).toEqual({
      "sg-open-ingress": "sg-rule",
      "s3-public-acl": "acl-grant",
      "s3-public-policy": "policy-statement",
      "ebs-snapshot-public": "ebs-snapshot-permission",
      "sg-default-rules": "sg-default-rule",
      "rds-snapshot-public": "rds-snapshot-restore",
      "rds-cluster-snapshot-public": "rds-cluster-snapshot-restore",
      "s3-account-public-access": "s3-account-bpa-flag",
    });
    expect(BLOCK_FLAGS_FOR_PROBLEM).toEqual({
      "s3-public-acl": ["IgnorePublicAcls", "BlockPublicAcls"],
      "s3-public-policy": ["RestrictPublicBuckets", "BlockPublicPolicy"],
    });
    const grant: MatchedEntry = {
      kind: "acl-grant",
      grant: { grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" }, permission: "READ" },
    };
    expect(describeAction("s3-public-acl", grant, "block-public-access")).toBe(
      "turn on Block Public Access IgnorePublicAcls + BlockPublicAcls",
    );
    expect(describeAction("s3-public-policy", grant, "block-public-access")).toBe(
      "turn on Block Public Access RestrictPublicBuckets + BlockPublicPolicy",
    );
    expect(describeAction("s3-public-acl", grant, "surgical")).not.toMatch(/Block Public Access/);
    const sgRule: MatchedEntry = {
      kind: "sg-rule",
      rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
    };
    expect(describeAction("sg-open-ingress", sgRule, "block-public-access")).toMatch(/^revoke ingress /);
    expect(resourceTypeLabel("AWS::EC2::SecurityGroup")).toBe("EC2 security group");
    expect(resourceTypeLabel("AWS::S3::Bucket")).toBe("S3 bucket");
    expect(consoleUrl("AWS::EC2::SecurityGroup", "sg-1", "eu-west-1")).toBe(
      "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-1",
    );
    expect(consoleUrl("AWS::S3::Bucket", "b", "eu-west-1")).toBe(
      "https://s3.console.aws.amazon.com/s3/buckets/b?region=eu-west-1",
    );
    expect(consoleUrl("AWS::S3::Bucket", "b", "not a region")).toBeUndefined();
    expect(resourceTypeLabel("AWS::S3::AccountPublicAccessBlock")).toBe("S3 account Block Public Access");
    expect(consoleUrl("AWS::S3::AccountPublicAccessBlock", "123456789012", "eu-west-1")).toBe(
      "https://s3.console.aws.amazon.com/s3/settings?region=eu-west-1",
    );
    expect(Object.keys(OPENING_EVENTS).sort()).toEqual([...RESOURCE_TYPES].sort());
    expect(OPENING_EVENTS["AWS::S3::AccountPublicAccessBlock"]).toEqual([
      "PutAccountPublicAccessBlock",
      "DeleteAccountPublicAccessBlock",
    ]);
    expect(OPENING_EVENTS["AWS::EC2::SecurityGroup"]).toContain("AuthorizeSecurityGroupIngress");
    expect(OPENING_EVENTS["AWS::S3::Bucket"]).toEqual(expect.arrayContaining(["PutBucketAcl", "PutBucketPolicy"]));
    expect(resourceTypeLabel("AWS::RDS::DBClusterSnapshot")).toBe("RDS DB cluster snapshot");
    expect(consoleUrl("AWS::RDS::DBSnapshot", "snap-1", "eu-west-1")).toBe(
      "https://eu-west-1.console.aws.amazon.com/rds/home?region=eu-west-1#db-snapshot:id=snap-1",
    );
    expect(OPENING_EVENTS["AWS::RDS::DBSnapshot"]).toEqual(["ModifyDBSnapshotAttribute"]);
    expect(resourceTypeLabel("AWS::RDS::DBInstance")).toBe("AWS::RDS::DBInstance");
    expect(consoleUrl("AWS::RDS::DBInstance", "db", "eu-west-1")).toBeUndefined();
    // DEFAULT_RELAY_RULE_SUFFIXES is RULE_IDS re-exported: what the relay defaults to is read through
    // readNotifierSettings in test/notifier/settings.test.ts ("has safe defaults").
    expect(RULE_IDS).toEqual([
      "sg-open-ingress",
      "s3-public",
      "ebs-snapshot-public",
      "sg-default-rules",
      "rds-snapshot-public",
      "s3-account-public-access",
    ]);
    expect(readNotifierSettings({ AWS_REGION: "us-east-1" }).relay.ruleSuffixes).toEqual(RULE_IDS);
  });

  it("derives ARNs for the deployment's own resources only", () => {
    const deployment = testDeployment();
    expect(resourceArn(deployment, "AWS::EC2::SecurityGroup", "sg-1")).toBe(
      `arn:aws:ec2:${deployment.region}:${deployment.accountId}:security-group/sg-1`,
    );
    expect(resourceArn(deployment, "AWS::S3::Bucket", "b")).toBe("arn:aws:s3:::b");
    // The account's Block Public Access has no ARN of its own: the form Prowler's findings name it by.
    expect(resourceArn(deployment, "AWS::S3::AccountPublicAccessBlock", deployment.accountId)).toBe(
      `arn:aws:s3:${deployment.region}:${deployment.accountId}:account`,
    );
    expect(resourceArn(deployment, "AWS::RDS::DBClusterSnapshot", "c")).toBe(
      `arn:aws:rds:${deployment.region}:${deployment.accountId}:cluster-snapshot:c`,
    );
    // EC2 writes a snapshot's ARN without an account (IAM and SCPs match arn:*:ec2:*::snapshot/*).
    expect(resourceArn(deployment, "AWS::EC2::Snapshot", "snap-1")).toBe(
      `arn:aws:ec2:${deployment.region}::snapshot/snap-1`,
    );
    expect(resourceArn(deployment, "AWS::IAM::Role", "r")).toBeUndefined();
    // RESOURCE_TYPES is RESOURCES.map(type) itself: pin the types (each once) the Config recorder is given.
    expect(RESOURCE_TYPES).toEqual([
      "AWS::EC2::SecurityGroup",
      "AWS::S3::Bucket",
      "AWS::EC2::Snapshot",
      "AWS::RDS::DBSnapshot",
      "AWS::RDS::DBClusterSnapshot",
      "AWS::S3::AccountPublicAccessBlock",
    ]);
  });

  it("knows each resource type once, from the problems that name it, with its spec in the folder that holds its undo", () => {
    for (const spec of PROBLEM_SPECS) {
      expect(spec.resourceType, spec.id).toBe(spec.resource.type);
      expect(RESOURCES, spec.id).toContain(spec.resource);
    }
    expect(RESOURCES.map((resource) => resource.type)).toEqual([...new Set(RESOURCES.map((r) => r.type))]);
    for (const resource of RESOURCES) {
      expect(existsSync(join(ROOT, "problems", resource.folder, "resource.ts")), resource.type).toBe(true);
      expect(existsSync(join(ROOT, "problems", resource.folder, "undo.ts")), resource.type).toBe(true);
      // A type Config does not record is listed by its folder's inventory.ts (the scan and plan --live load it), and
      // so is one it records whose spec says `inventory: true` (plan --live, where Config does not record it).
      const listed =
        (resource as ResourceSpec).recordedByConfig === false || (resource as ResourceSpec).inventory === true;
      expect(existsSync(join(ROOT, "problems", resource.folder, "inventory.ts")), resource.type).toBe(listed);
    }
  });

  it("gives every problem an example, which test/e2e/problems-moto.test.ts runs end to end", async () => {
    for (const spec of PROBLEM_SPECS) {
      const path = `problems/${spec.id}/example.ts`;
      const module = await import(`../../problems/${spec.id}/example.ts`).catch((error: Error) => {
        throw new Error(`${path}: every registered problem needs one (problems/example.ts): ${error.message}`);
      });
      expect(module.example?.problem, `${path} exports \`example\` for ${spec.id}`).toBe(spec.id);
      for (const method of ["create", "violation", "recordedChange", "configItem", "read", "isViolation"]) {
        expect(typeof module.example[method], `${path}: example.${method}`).toBe("function");
      }
      expect(module.example.pinnedInstructionId, `${path}: example.pinnedInstructionId`).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it("no code outside the registry lists the problems by hand", () => {
    // Where a problem id is still spelt out: its own folder, the remediations and undo that own its logic (until they
    // move into problems/<id>/), and tests. Anything else must read the registry.
    const allowed = /^(problems\/|functions\/remediate-(sg|s3)\/core\.ts$)/;
    const offenders = SOURCE_DIRS.flatMap((dir) =>
      tsFiles(`${ROOT}/${dir}`)
        .map((file) => file.slice(ROOT.length + 1))
        .filter((file) => !allowed.test(file))
        .filter((file) =>
          /"(sg-open-ingress|s3-public-acl|s3-public-policy|sg-default-rules)"/.test(
            readFileSync(`${ROOT}/${file}`, "utf8"),
          ),
        ),
    );
    expect(offenders).toEqual([]);
  });
});
