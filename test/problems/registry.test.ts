// The problem registry is the one list: everything that used to name problems by hand now follows from it, and
// what still has its own code (the rules, the remediation functions) must agree with it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { OPENING_EVENTS } from "../../functions/notifier/attribution.ts";
import { consoleUrl, resourceTypeLabel } from "../../functions/notifier/render.ts";
import { DEFAULT_RELAY_RULE_SUFFIXES } from "../../functions/notifier/settings.ts";
import { FUNCTION_NAMES } from "../../functions/registry.ts";
import { REMEDIATE_S3_PROBLEMS } from "../../functions/remediate-s3/core.ts";
import { REMEDIATE_SG_PROBLEMS } from "../../functions/remediate-sg/core.ts";
import {
  PROBLEM_SPECS,
  PROBLEMS,
  problemsFixedBy,
  RESOURCE_TYPES,
  RESOURCES,
  RULE_IDS,
  resourceSpec,
} from "../../problems/index.ts";
import { RULES } from "../../rules/index.ts";
import { resourceArn } from "../../shared/deployment.ts";
import { BLOCK_FLAGS_FOR_PROBLEM } from "../../shared/describe.ts";
import { MATCHED_KIND_BY_PROBLEM } from "../../shared/instruction.ts";
import { ROOT, tsFiles } from "../helpers/source-scan.ts";
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
    expect(REMEDIATE_SG_PROBLEMS).toEqual(problemsFixedBy("remediate-sg"));
    expect(REMEDIATE_S3_PROBLEMS).toEqual(problemsFixedBy("remediate-s3"));
    expect([...REMEDIATE_SG_PROBLEMS, ...REMEDIATE_S3_PROBLEMS].sort()).toEqual([...PROBLEMS].sort());
  });

  it("is what the contract, the wording, Slack, attribution and the relay read", () => {
    for (const spec of PROBLEM_SPECS) {
      expect(MATCHED_KIND_BY_PROBLEM[spec.id]).toBe(spec.matchedKind);
      expect(BLOCK_FLAGS_FOR_PROBLEM[spec.id]).toEqual("blockFlags" in spec ? spec.blockFlags : undefined);
    }
    for (const resource of RESOURCES) {
      expect(resourceTypeLabel(resource.type)).toBe(resource.label);
      expect(consoleUrl(resource.type, "x-1", "eu-west-1")).toBe(resource.consoleUrl("x-1", "eu-west-1"));
      expect(OPENING_EVENTS[resource.type]).toEqual(resource.openingEvents);
    }
    expect(resourceTypeLabel("AWS::RDS::DBInstance")).toBe("AWS::RDS::DBInstance");
    expect(consoleUrl("AWS::RDS::DBInstance", "db", "eu-west-1")).toBeUndefined();
    expect(DEFAULT_RELAY_RULE_SUFFIXES).toEqual(RULE_IDS);
  });

  it("derives ARNs for the deployment's own resources only", () => {
    const deployment = testDeployment();
    expect(resourceArn(deployment, "AWS::EC2::SecurityGroup", "sg-1")).toBe(
      `arn:aws:ec2:${deployment.region}:${deployment.accountId}:security-group/sg-1`,
    );
    expect(resourceArn(deployment, "AWS::S3::Bucket", "b")).toBe("arn:aws:s3:::b");
    expect(resourceArn(deployment, "AWS::IAM::Role", "r")).toBeUndefined();
    expect(RESOURCE_TYPES).toEqual(RESOURCES.map((resource) => resource.type));
  });

  it("no code outside the registry lists the problems by hand", () => {
    // Where a problem id is still spelt out: the rules and remediations that own its logic (until they move into
    // problems/<id>/), and tests. Anything else must read the registry.
    const allowed =
      /^(problems\/|rules\/(sg-open-ingress|s3-public)\.ts$|functions\/remediate-(sg|s3)\/core\.ts$|shared\/undo\.ts$)/;
    const offenders = ["shared", "functions", "infra", "cli", "rules"].flatMap((dir) =>
      tsFiles(`${ROOT}/${dir}`)
        .map((file) => file.slice(ROOT.length + 1))
        .filter((file) => !allowed.test(file))
        .filter((file) =>
          /"(sg-open-ingress|s3-public-acl|s3-public-policy)"/.test(readFileSync(`${ROOT}/${file}`, "utf8")),
        ),
    );
    expect(offenders).toEqual([]);
  });
});
