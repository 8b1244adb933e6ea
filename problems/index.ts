// The registry: the only list of problems (and of the resource types they are found on) anywhere. Contract schemas,
// routing to remediation functions, the Config recorder's types, Slack's titles, links and training, attribution and
// the Block Public Access strategy all read it. Adding a problem: a folder with its spec.ts, and one line below.
import { ebsSnapshotPublic } from "./ebs-snapshot-public/spec.ts";
import { rdsClusterSnapshotPublic } from "./rds-cluster-snapshot-public/spec.ts";
import { rdsSnapshotPublic } from "./rds-snapshot-public/spec.ts";
import { s3AccountPublicAccess } from "./s3-account-public-access/spec.ts";
import { s3PublicAcl } from "./s3-public-acl/spec.ts";
import { s3PublicPolicy } from "./s3-public-policy/spec.ts";
import { sgDefaultRules } from "./sg-default-rules/spec.ts";
import { sgOpenIngress } from "./sg-open-ingress/spec.ts";
import type { ProblemSpec, ResourceSpec } from "./types.ts";

export const PROBLEM_SPECS = [
  sgOpenIngress,
  s3PublicAcl,
  s3PublicPolicy,
  ebsSnapshotPublic,
  sgDefaultRules,
  rdsSnapshotPublic,
  rdsClusterSnapshotPublic,
  s3AccountPublicAccess,
] as const;

export type Problem = (typeof PROBLEM_SPECS)[number]["id"];
export const PROBLEMS = PROBLEM_SPECS.map((spec) => spec.id) as readonly Problem[] as readonly [Problem, ...Problem[]];

/**
 * The resource types the problems are found on, each once, in the registry's order: a problem names its type's spec
 * (`resource`, from the folder that holds the type's undo), so a new type is registered with its first problem.
 */
export const RESOURCES = [
  ...new Set(PROBLEM_SPECS.map((spec) => spec.resource)),
] as readonly (typeof PROBLEM_SPECS)[number]["resource"][];
export type ResourceType = (typeof RESOURCES)[number]["type"];
export const RESOURCE_TYPES: readonly ResourceType[] = RESOURCES.map((resource) => resource.type);

export function problemSpec(problem: Problem): ProblemSpec<Problem> {
  return PROBLEM_SPECS.find((spec) => spec.id === problem)!;
}

/** The spec of a resource type Remedy judges; undefined for any other type (a claim may name anything). */
export function resourceSpec(type: string): ResourceSpec | undefined {
  return RESOURCES.find((resource) => resource.type === type);
}

/** The Remedy rules that find the problems (each is one Config rule, `<prefix>-<ruleId>`). */
export const RULE_IDS: readonly string[] = [...new Set(PROBLEM_SPECS.map((spec) => spec.ruleId))];

/** The problems a function fixes. */
export function problemsFixedBy(functionName: string): Problem[] {
  return PROBLEM_SPECS.filter((spec) => spec.remediation === functionName).map((spec) => spec.id);
}

/** A table with one entry per problem, built from the registry (so a new problem cannot be left out). */
export function byProblem<T>(value: (spec: ProblemSpec<Problem>) => T): Record<Problem, T> {
  return Object.fromEntries(PROBLEM_SPECS.map((spec) => [spec.id, value(spec)])) as Record<Problem, T>;
}
