// The settings file `remedy plan --settings` reads: the same knobs the stack takes as Terraform variables.
import { readFileSync } from "node:fs";
import * as v from "valibot";
import type { AccountFacts } from "../rules/types.ts";
import { type AllowlistEntry, type ExemptionProblem, parseAllowlist } from "../shared/exemptions.ts";

const SettingsSchema = v.strictObject({
  rules: v.optional(v.record(v.string(), v.record(v.string(), v.union([v.string(), v.number()]))), {}),
  gracePeriodMinutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(43_200)), 0),
  s3FixStrategy: v.optional(v.picklist(["surgical", "block-public-access"]), "surgical"),
  allowlist: v.optional(v.array(v.unknown()), []),
  /** The account-level S3 Block Public Access (S3 Control GetPublicAccessBlock's answer), which a snapshot lacks. */
  accountPublicAccessBlock: v.optional(
    v.nullable(
      v.strictObject({
        BlockPublicAcls: v.optional(v.boolean()),
        IgnorePublicAcls: v.optional(v.boolean()),
        BlockPublicPolicy: v.optional(v.boolean()),
        RestrictPublicBuckets: v.optional(v.boolean()),
      }),
    ),
  ),
});

export interface PlanSettings {
  ruleParameters: Record<string, Record<string, unknown>>;
  gracePeriodMinutes: number;
  s3FixStrategy: "surgical" | "block-public-access";
  allowlist: AllowlistEntry[];
  allowlistProblems: ExemptionProblem[];
  /** What is known about the snapshot's account (absent: bucket-level Block Public Access only, as in a snapshot). */
  accountFacts: AccountFacts;
}

export class SettingsError extends Error {
  override name = "SettingsError";
}

export const DEFAULT_SETTINGS: PlanSettings = {
  ruleParameters: {},
  gracePeriodMinutes: 0,
  s3FixStrategy: "surgical",
  allowlist: [],
  allowlistProblems: [],
  accountFacts: {},
};

export function parseSettings(text: string, source: string): PlanSettings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  const result = v.safeParse(SettingsSchema, value, { abortEarly: true });
  if (!result.success) {
    const [issue] = result.issues;
    throw new SettingsError(`${source}: ${v.getDotPath(issue) ?? "settings"}: ${issue.message}`);
  }
  const allowlist = parseAllowlist(result.output.allowlist);
  return {
    ruleParameters: result.output.rules,
    gracePeriodMinutes: result.output.gracePeriodMinutes,
    s3FixStrategy: result.output.s3FixStrategy,
    allowlist: allowlist.entries,
    allowlistProblems: allowlist.errors,
    accountFacts:
      result.output.accountPublicAccessBlock === undefined
        ? {}
        : { s3PublicAccessBlock: result.output.accountPublicAccessBlock },
  };
}

export function readSettingsFile(path: string): PlanSettings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SettingsError(`cannot read settings file ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseSettings(text, path);
}
