// What the stack deployed: the account and region Remedy acts in, and each Remedy rule's exact Config rule name and
// parameters. Every function reads it from its own environment (set by Terraform, not by any message), and every
// claim — a Config event, a fix instruction, a dispatch payload — is checked against it: a claim names what to look
// at, the deployment says how to judge it and where Remedy may act at all.
import * as v from "valibot";
import { canonicalJson } from "../contract/canonical-json.ts";
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from "../contract/ids.ts";
import type { Instruction } from "../contract/instruction.ts";
import type { AnyRule } from "../detection/judge.ts";
import { RULES } from "../detection/rules.ts";
import type { Problem } from "../detection/types.ts";
import { resourceSpec } from "../problems/index.ts";
import { ConfigurationError, optionalEnv, requiredEnv } from "./env.ts";
import { type AccountStanding, type OrganizationSettings, parseOrganizationSettings } from "./organization.ts";

export const PARTITIONS = ["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f"] as const;
/** How far ahead of this function's clock a claimed time may be (clock skew between AWS hosts is seconds). */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** One Remedy rule as deployed: its Config rule name and the parameters Terraform gave it. */
export interface DeployedRule {
  rule: AnyRule;
  configRuleName: string;
  /** The parameters as Config receives them (strings), for comparison and display. */
  rawParameters: Record<string, unknown>;
  /** The same, parsed by the rule: what every judgement in this deployment uses. */
  parameters: unknown;
}

export interface Deployment {
  partition: (typeof PARTITIONS)[number];
  /** The account and region Remedy runs in (in organisation mode: the hub's). */
  accountId: string;
  region: string;
  rules: readonly DeployedRule[];
  /**
   * Organisation mode (REMEDY_ORGANIZATION): Remedy acts in the organisation's member accounts, in these settings'
   * regions, each account at its own settings. Absent: only in `accountId` and `region` (single-account mode).
   */
  organization?: OrganizationSettings;
}

const DeployedRulesSchema = v.array(
  v.strictObject({
    id: v.string(),
    configRuleName: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,128}$/, "must be a Config rule name")),
    parameters: v.optional(v.record(v.string(), v.unknown()), {}),
  }),
);

export interface DeploymentSpec {
  partition?: string;
  accountId: string;
  region: string;
  rules: { id: string; configRuleName: string; parameters?: Record<string, unknown> }[];
  /** The organisation settings' JSON value (parsed here), for organisation mode. */
  organization?: unknown;
}

/** Checks and parses a deployment; throws ConfigurationError naming what is wrong (a cold-start failure). */
export function deploymentFrom(spec: DeploymentSpec, known: readonly AnyRule[] = RULES): Deployment {
  const partition = spec.partition ?? "aws";
  if (!(PARTITIONS as readonly string[]).includes(partition)) {
    throw new ConfigurationError(`deployment partition "${partition}" is not an AWS partition`);
  }
  if (!ACCOUNT_ID_PATTERN.test(spec.accountId)) {
    throw new ConfigurationError(`deployment account "${spec.accountId}" is not a 12-digit account id`);
  }
  if (!REGION_PATTERN.test(spec.region)) {
    throw new ConfigurationError(`deployment region "${spec.region}" is not an AWS region`);
  }
  const seen = new Set<string>();
  const rules = spec.rules.map((entry): DeployedRule => {
    const rule = known.find((candidate) => candidate.id === entry.id);
    if (!rule) throw new ConfigurationError(`deployed rule "${entry.id}" is not a Remedy rule`);
    if (seen.has(entry.id) || seen.has(entry.configRuleName)) {
      throw new ConfigurationError(`deployed rule "${entry.id}" (${entry.configRuleName}) is listed twice`);
    }
    seen.add(entry.id).add(entry.configRuleName);
    const rawParameters = entry.parameters ?? {};
    let parameters: unknown;
    try {
      parameters = rule.parseParameters(rawParameters);
    } catch (error) {
      throw new ConfigurationError(`deployed parameters of ${entry.configRuleName}: ${(error as Error).message}`);
    }
    return { rule, configRuleName: entry.configRuleName, rawParameters, parameters };
  });
  const deployment: Deployment = {
    partition: partition as Deployment["partition"],
    accountId: spec.accountId,
    region: spec.region,
    rules,
  };
  if (spec.organization !== undefined) {
    deployment.organization = parseOrganizationSettings(spec.organization, "deployment organisation settings");
  }
  return deployment;
}

/**
 * REMEDY_ACCOUNT_ID, REMEDY_REGION, REMEDY_PARTITION (default aws) and REMEDY_RULES: a JSON array of
 * `{"id", "configRuleName", "parameters"}`, one per deployed Remedy rule (the stack writes it from the same values
 * it gives the Config rules). REMEDY_ORGANIZATION (organisation mode only): the organisation settings as JSON.
 */
export function readDeployment(env: Record<string, string | undefined> = process.env): Deployment {
  let rules: v.InferOutput<typeof DeployedRulesSchema>;
  try {
    const parsed = v.safeParse(DeployedRulesSchema, JSON.parse(requiredEnv("REMEDY_RULES", env)));
    if (!parsed.success) {
      const [issue] = parsed.issues;
      throw new Error(`${v.getDotPath(issue) ?? "value"}: ${issue.message}`);
    }
    rules = parsed.output;
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`environment variable REMEDY_RULES: ${(error as Error).message}`);
  }
  const organizationText = optionalEnv("REMEDY_ORGANIZATION", "", env);
  let organization: unknown;
  if (organizationText !== "") {
    try {
      organization = JSON.parse(organizationText);
    } catch (error) {
      throw new ConfigurationError(`environment variable REMEDY_ORGANIZATION is not JSON: ${(error as Error).message}`);
    }
  }
  return deploymentFrom({
    partition: optionalEnv("REMEDY_PARTITION", "aws", env),
    accountId: requiredEnv("REMEDY_ACCOUNT_ID", env),
    region: requiredEnv("REMEDY_REGION", env),
    rules,
    ...(organization === undefined ? {} : { organization }),
  });
}

/**
 * In a member account, Config names the rule an organisation rule creates `OrgConfigRule-<organisation rule
 * name>-<suffix>` (e.g. OrgConfigRule-s3-bucket-versioning-enabled-dbgzf8ba).
 */
const MEMBER_RULE_NAME = /^OrgConfigRule-(.+)-[a-z0-9]{4,16}$/;

/** Whether a Config rule name is the deployed rule's: its exact name, or (organisation mode) its member-account name. */
export function isDeployedRuleName(
  deployment: Pick<Deployment, "organization">,
  deployed: Pick<DeployedRule, "configRuleName">,
  configRuleName: string,
): boolean {
  if (configRuleName === deployed.configRuleName) return true;
  return (
    deployment.organization !== undefined && MEMBER_RULE_NAME.exec(configRuleName)?.[1] === deployed.configRuleName
  );
}

/** The deployed rule behind a Config rule name: exact names only (a suffix match would let any rule in). */
export function deployedRuleNamed(deployment: Deployment, configRuleName: string): DeployedRule | undefined {
  return deployment.rules.find((entry) => isDeployedRuleName(deployment, entry, configRuleName));
}

export function deployedRuleFor(deployment: Deployment, problem: Problem): DeployedRule | undefined {
  return deployment.rules.find((entry) => entry.rule.problems.includes(problem));
}

/**
 * The ARN a resource has: derived, never taken from a message (exemptions match on it). `where` is the account and
 * region the resource is in (a member account's in organisation mode), default the deployment's own.
 */
export function resourceArn(
  deployment: Pick<Deployment, "partition" | "accountId" | "region">,
  type: string,
  id: string,
  where: { accountId: string; region: string } = deployment,
): string | undefined {
  return resourceSpec(type)?.arn(
    { partition: deployment.partition, accountId: where.accountId, region: where.region },
    id,
  );
}

/** The regions Remedy acts in: the organisation settings' in organisation mode, else the deployment's one. */
export function deployedRegions(deployment: Pick<Deployment, "region" | "organization">): readonly string[] {
  return deployment.organization?.regions ?? [deployment.region];
}

/** Parameters in one canonical text, so "8" and 8, or key order, never make two equal settings differ. */
function parametersText(rule: AnyRule, raw: unknown): string | undefined {
  try {
    return canonicalJson(rule.parseParameters(raw as Record<string, unknown>));
  } catch {
    return undefined;
  }
}

/**
 * Where a claim points: this deployment's own account and region (in organisation mode: an account the organisation
 * says is an active, non-excluded member — `standing`, read by the caller — in a deployed region), at times that have
 * happened. Returns why the claim is refused, or undefined. The coordinator and every remediation check this.
 */
export function targetProblem(
  instruction: Instruction,
  deployment: Pick<Deployment, "accountId" | "region" | "organization">,
  now: Date,
  standing?: AccountStanding,
): string | undefined {
  const { accountId, region } = instruction.resource;
  if (deployment.organization) {
    // Fail closed: a caller that did not ask the organisation about the account acts nowhere.
    if (standing?.accountId !== accountId) {
      return `account ${accountId} was not checked against the organisation`;
    }
    if (!standing.member) return standing.reason;
    const regions = deployment.organization.regions;
    if (!regions.includes(region)) {
      return `instruction names region ${region}, but this deployment acts only in ${regions.join(", ")}`;
    }
  } else {
    if (accountId !== deployment.accountId) {
      return `instruction names account ${accountId}, but this deployment acts only in account ${deployment.accountId}`;
    }
    if (region !== deployment.region) {
      return `instruction names region ${region}, but this deployment acts only in region ${deployment.region}`;
    }
  }
  const latest = now.getTime() + CLOCK_SKEW_MS;
  for (const field of ["capturedAt", "detectedAt"] as const) {
    if (Date.parse(instruction[field]) > latest) {
      return `instruction ${field} ${instruction[field]} is in the future`;
    }
  }
  return undefined;
}

/**
 * Everything a remediation checks before it reads anything: the target (above), that the instruction comes from
 * the deployed rule for its problem, with that rule's exact name and parameters, for a resource of the rule's
 * type whose ARN (when given) is the one this deployment derives, and that it is due (`fixNowAtMs`: when an approver
 * pressed Fix now on it in Slack, which makes it due then, as the coordinator dispatched it). Returns why not, or
 * undefined.
 */
export function claimProblem(
  instruction: Instruction,
  deployment: Deployment,
  now: Date,
  standing?: AccountStanding,
  fixNowAtMs?: number,
): string | undefined {
  const target = targetProblem(instruction, deployment, now, standing);
  if (target) return target;
  const deployed = deployedRuleFor(deployment, instruction.problem);
  if (!deployed) return `problem ${instruction.problem} is not judged by any rule of this deployment`;
  const { rule: claimed, resource } = instruction;
  if (claimed.id !== deployed.rule.id) {
    return `instruction names rule ${claimed.id}, but ${instruction.problem} is judged by rule ${deployed.rule.id}`;
  }
  if (claimed.configRuleName !== undefined && !isDeployedRuleName(deployment, deployed, claimed.configRuleName)) {
    return `instruction names Config rule ${claimed.configRuleName}, but the deployed rule is ${deployed.configRuleName}`;
  }
  if (parametersText(deployed.rule, claimed.parameters) !== canonicalJson(deployed.parameters)) {
    return (
      `instruction's rule parameters ${canonicalJson(claimed.parameters)} differ from the deployed ` +
      `${canonicalJson(deployed.parameters)} (queued before a redeploy, or forged)`
    );
  }
  if (!deployed.rule.resourceTypes.includes(resource.type)) {
    return `${instruction.problem} applies to ${deployed.rule.resourceTypes.join(", ")}, not ${resource.type}`;
  }
  const arn = resourceArn(deployment, resource.type, resource.id, resource);
  if (resource.arn !== undefined && resource.arn !== arn) {
    return `instruction ARN ${resource.arn} is not the ARN of ${resource.id} in this deployment (${arn})`;
  }
  const dueMs = Math.min(Date.parse(instruction.notBefore), fixNowAtMs ?? Number.POSITIVE_INFINITY);
  if (dueMs > now.getTime() + CLOCK_SKEW_MS) {
    return `instruction is not due until ${instruction.notBefore} (its grace period)`;
  }
  return undefined;
}
