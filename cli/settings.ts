// The settings file `remedy plan --settings` reads: the same knobs the stack takes as Terraform variables. Each
// problem is one sentence in plain words that names the setting, what it must be and what it is.

import { readFileSync } from "node:fs";
import { type AllowlistEntry, type ExemptionProblem, parseAllowlist } from "../detection/exemptions.ts";
import { RULES } from "../detection/rules.ts";
import {
  type AccountFacts,
  BLOCK_PUBLIC_ACCESS_FLAGS,
  type PublicAccessBlockFlags,
  RuleParameterError,
} from "../detection/types.ts";
import { PermanentError } from "../platform/errors.ts";
import { S3_FIX_STRATEGIES, type S3FixStrategy } from "../problems/s3-public/fix-spec.ts";

export interface PlanSettings {
  ruleParameters: Record<string, Record<string, unknown>>;
  gracePeriodMinutes: number;
  s3FixStrategy: S3FixStrategy;
  /** Whether the coordinator's schedule is on (Terraform `enable_auto_response`); off by default, as deployed. */
  enableAutoResponse: boolean;
  allowlist: AllowlistEntry[];
  allowlistProblems: ExemptionProblem[];
  /** What is known about the snapshot's account (absent: bucket-level Block Public Access only, as in a snapshot). */
  accountFacts: AccountFacts;
}

export class SettingsError extends PermanentError {
  override name = "SettingsError";
}

export const DEFAULT_SETTINGS: PlanSettings = {
  ruleParameters: {},
  gracePeriodMinutes: 0,
  s3FixStrategy: "surgical",
  enableAutoResponse: false,
  allowlist: [],
  allowlistProblems: [],
  accountFacts: {},
};

export const MAX_GRACE_PERIOD_MINUTES = 43_200;

/** The settings a file may hold, in the order the messages list them. */
export const SETTING_NAMES = [
  "rules",
  "gracePeriodMinutes",
  "s3FixStrategy",
  "enableAutoResponse",
  "allowlist",
  "accountPublicAccessBlock",
] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value as the user wrote it, short: "5" for a string, 5 for a number, [...] cut to 40 characters. */
export function shownValue(value: unknown): string {
  const text = value === undefined ? "undefined" : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function fail(source: string, sentence: string): never {
  throw new SettingsError(`${source}: ${sentence}`);
}

function ruleParameters(source: string, raw: unknown): Record<string, Record<string, unknown>> {
  const ruleIds = RULES.map((rule) => rule.id);
  if (!isRecord(raw)) {
    fail(
      source,
      `rules must be an object of rule ids (${ruleIds.join(", ")}) to their parameters (it is ${shownValue(raw)})`,
    );
  }
  const parameters: Record<string, Record<string, unknown>> = {};
  for (const [ruleId, values] of Object.entries(raw)) {
    const rule = RULES.find((candidate) => candidate.id === ruleId);
    if (!rule) fail(source, `rules: "${ruleId}" is not a Remedy rule (the rules are ${ruleIds.join(", ")})`);
    if (!isRecord(values)) {
      fail(
        source,
        `rule ${ruleId}'s parameters must be an object of parameter names to values (it is ${shownValue(values)})`,
      );
    }
    try {
      rule.parseParameters(values);
    } catch (error) {
      if (!(error instanceof RuleParameterError)) throw error;
      const prefix = `Rule parameter "${error.parameter}": `;
      const why = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      const unknown = /^unknown parameter \((.*)\)$/.exec(why);
      fail(
        source,
        unknown
          ? `rule ${ruleId} has no parameter "${error.parameter}" (${unknown[1]})`
          : /^(must|cannot) /.test(why)
            ? `rule ${ruleId}'s parameter ${error.parameter} ${why}`
            : `rule ${ruleId}'s parameter ${error.parameter} is not valid (${why})`,
      );
    }
    parameters[ruleId] = values;
  }
  return parameters;
}

function accountPublicAccessBlock(source: string, raw: unknown): PublicAccessBlockFlags | null {
  if (raw === null) return null;
  const flagList = BLOCK_PUBLIC_ACCESS_FLAGS.join(", ");
  if (!isRecord(raw)) {
    fail(
      source,
      `accountPublicAccessBlock must be an object of Block Public Access flags (${flagList}) as "aws s3control get-public-access-block" prints them, or null (it is ${shownValue(raw)})`,
    );
  }
  // `aws s3control get-public-access-block` prints {"PublicAccessBlockConfiguration": {...}}: take either.
  const flags =
    isRecord(raw.PublicAccessBlockConfiguration) && Object.keys(raw).length === 1
      ? raw.PublicAccessBlockConfiguration
      : raw;
  const result: PublicAccessBlockFlags = {};
  for (const [flag, value] of Object.entries(flags)) {
    if (!(BLOCK_PUBLIC_ACCESS_FLAGS as readonly string[]).includes(flag)) {
      fail(source, `accountPublicAccessBlock: "${flag}" is not a Block Public Access flag (the flags are ${flagList})`);
    }
    if (typeof value !== "boolean") {
      fail(source, `accountPublicAccessBlock.${flag} must be true or false (it is ${shownValue(value)})`);
    }
    result[flag as keyof PublicAccessBlockFlags] = value;
  }
  return result;
}

export function parseSettings(text: string, source: string): PlanSettings {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(`${source} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(value)) {
    throw new SettingsError(`${source} must hold a JSON object of settings (it holds ${shownValue(value)})`);
  }
  for (const key of Object.keys(value)) {
    if (!(SETTING_NAMES as readonly string[]).includes(key)) {
      fail(source, `"${key}" is not a setting (the settings are ${SETTING_NAMES.join(", ")})`);
    }
  }

  const settings: PlanSettings = { ...DEFAULT_SETTINGS, accountFacts: {} };
  if (value.rules !== undefined) settings.ruleParameters = ruleParameters(source, value.rules);

  const grace = value.gracePeriodMinutes;
  if (grace !== undefined) {
    if (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_PERIOD_MINUTES) {
      fail(
        source,
        `gracePeriodMinutes must be a whole number of minutes from 0 to ${MAX_GRACE_PERIOD_MINUTES} (it is ${shownValue(grace)})`,
      );
    }
    settings.gracePeriodMinutes = grace;
  }

  const strategy = value.s3FixStrategy;
  if (strategy !== undefined) {
    if (typeof strategy !== "string" || !(S3_FIX_STRATEGIES as readonly string[]).includes(strategy)) {
      fail(source, `s3FixStrategy must be "surgical" or "block-public-access" (it is ${shownValue(strategy)})`);
    }
    settings.s3FixStrategy = strategy as S3FixStrategy;
  }

  const autoResponse = value.enableAutoResponse;
  if (autoResponse !== undefined) {
    if (typeof autoResponse !== "boolean") {
      fail(source, `enableAutoResponse must be true or false (it is ${shownValue(autoResponse)})`);
    }
    settings.enableAutoResponse = autoResponse;
  }

  if (value.allowlist !== undefined) {
    if (!Array.isArray(value.allowlist)) {
      fail(source, `allowlist must be a list of allowlist entries (it is ${shownValue(value.allowlist)})`);
    }
    // Bad entries are reported (and exempt nothing); the good ones beside them are kept.
    const allowlist = parseAllowlist(value.allowlist);
    settings.allowlist = allowlist.entries;
    settings.allowlistProblems = allowlist.errors;
  }

  if (value.accountPublicAccessBlock !== undefined) {
    settings.accountFacts = { s3PublicAccessBlock: accountPublicAccessBlock(source, value.accountPublicAccessBlock) };
  }
  return settings;
}

/** Reads and checks a settings file; `shown` is how messages name it (the path as the user sees it). */
export function readSettingsFile(path: string, shown: string = path): PlanSettings {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SettingsError(`cannot read settings file ${shown}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
  return parseSettings(text, shown);
}
