// Where Remedy's deployed pieces are: from Terraform outputs (a file) or flags. One sentence when missing.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { REGION_PATTERN } from "../contract/ids.ts";
import { PermanentError } from "../platform/errors.ts";
import type { OrganizationSettings } from "../platform/organization.ts";

export interface StackRefs {
  /** The region the stack is deployed in: every call the CLI makes goes there. */
  region?: string;
  /** The account the stack is deployed in: commands that change something refuse other credentials. */
  accountId?: string;
  queueUrl?: string;
  dlqUrl?: string;
  pauseParameter?: string;
  ledgerBucket?: string;
  /** The KMS key (ARN) whose MACs make a ledger record genuine: undo accepts records signed with it only. */
  ledgerMacKeyId?: string;
  scheduleRule?: string;
  /** The report topic (the notifier's): `remedy undo` tells Slack what it put back. No flag: from the outputs only. */
  reportTopicArn?: string;
  /** Organisation mode (the `mode` output says "organization"); absent: a single-account stack. */
  organization?: StackOrganization;
}

/** What the CLI knows of an organisation-mode stack, from its outputs (never from flags). */
export interface StackOrganization {
  /** The regions the stack detects and fixes in: Remedy acts in no other. */
  regions: readonly string[];
  /** The canonical settings the stack deployed (externalId among them), once openStack has parsed them. */
  settings?: OrganizationSettings;
  /**
   * The `organization_settings` output as read, not parsed yet: parsing loads the Organizations client, which help
   * and bad usage must not wait for (openStack parses it, completeOrganization).
   */
  settingsOutput?: unknown;
}

/** The references that are one string each: an output, and (most of them) a flag. */
export type StringRef = Exclude<keyof StackRefs, "organization">;

/** Terraform output names (see infra/) → what the CLI calls them. */
export const OUTPUT_NAMES: Record<StringRef, string> = {
  region: "region",
  accountId: "account_id",
  queueUrl: "queue_url",
  dlqUrl: "dlq_url",
  pauseParameter: "pause_parameter",
  ledgerBucket: "ledger_bucket",
  ledgerMacKeyId: "ledger_mac_key_id",
  scheduleRule: "schedule_rule_name",
  reportTopicArn: "report_topic_arn",
};

/**
 * The outputs of organisation mode (infra/): `mode` ("account" or "organization"; absent: a stack older than
 * organisation mode, single-account), `organization_regions` (a list, or its JSON) and `organization_settings` (the
 * canonical settings, as JSON or an object). Not in OUTPUT_NAMES: a single-account stack need not have them.
 */
export const ORGANIZATION_OUTPUTS = {
  mode: "mode",
  regions: "organization_regions",
  settings: "organization_settings",
} as const;

/** The flag that sets each reference by hand. */
export const STACK_FLAGS: Record<Exclude<StringRef, "region" | "accountId" | "reportTopicArn">, string> = {
  queueUrl: "queue-url",
  dlqUrl: "dlq-url",
  pauseParameter: "pause-parameter",
  ledgerBucket: "ledger-bucket",
  ledgerMacKeyId: "ledger-mac-key",
  scheduleRule: "schedule-rule",
};

export const DEFAULT_OUTPUTS_FILE = "remedy-outputs.json";

export class StackError extends PermanentError {
  override name = "StackError";
}

/**
 * Reads outputs written by `terraform output -json` ({name: {value}}) or `cdktf deploy --outputs-file`
 * ({stack: {name: value}}): every output's value, whatever its type.
 */
export function readOutputValues(path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new StackError(`cannot read Terraform outputs from ${path}: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new StackError(`${path} does not hold Terraform outputs`);
  }
  const values: Record<string, unknown> = {};
  const isObject = (raw: unknown): raw is Record<string, unknown> =>
    typeof raw === "object" && raw !== null && !Array.isArray(raw);
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (isObject(raw) && "value" in raw) values[name] = raw.value;
    // A stack of cdktf's file: its outputs by name, plain values (a list output is a list).
    else if (isObject(raw)) for (const [inner, innerValue] of Object.entries(raw)) values[inner] = innerValue;
    else values[name] = raw;
  }
  return values;
}

/**
 * Organisation mode from the outputs: undefined for a single-account stack (`mode` "account", or no `mode` output
 * at all); a StackError for a mode the CLI does not know, or an organisation stack that does not say its regions.
 */
export function organizationOutputs(outputs: Record<string, unknown>, file: string): StackOrganization | undefined {
  const mode = outputs[ORGANIZATION_OUTPUTS.mode];
  if (mode === undefined || mode === null || mode === "account") return undefined;
  if (mode !== "organization") {
    throw new StackError(
      `${file}: output "mode" is ${JSON.stringify(mode)}, not "account" or "organization": are the outputs from this version of Remedy?`,
    );
  }
  const decoded = (name: string): unknown => {
    const raw = outputs[name];
    if (typeof raw !== "string") return raw;
    try {
      return JSON.parse(raw);
    } catch (error) {
      throw new StackError(`${file}: output "${name}" is not JSON: ${(error as Error).message}`);
    }
  };
  const regions = decoded(ORGANIZATION_OUTPUTS.regions);
  const settingsOutput = decoded(ORGANIZATION_OUTPUTS.settings);
  const listed =
    regions === undefined || regions === null
      ? undefined
      : Array.isArray(regions) && regions.every((region) => typeof region === "string" && REGION_PATTERN.test(region))
        ? (regions as string[])
        : undefined;
  if (regions !== undefined && regions !== null && listed === undefined) {
    throw new StackError(`${file}: output "${ORGANIZATION_OUTPUTS.regions}" is not a list of AWS regions`);
  }
  const fromSettings = (settingsOutput as { regions?: unknown } | null | undefined)?.regions;
  const settingsRegions = Array.isArray(fromSettings) ? fromSettings.filter((r) => typeof r === "string") : undefined;
  const chosen = listed ?? settingsRegions;
  if (!chosen || chosen.length === 0) {
    throw new StackError(
      `${file}: the stack is in organisation mode, but its outputs name no regions (${ORGANIZATION_OUTPUTS.regions}): save the outputs again with "terraform output -json > ${DEFAULT_OUTPUTS_FILE}"`,
    );
  }
  if (listed && settingsRegions && [...listed].sort().join() !== [...settingsRegions].sort().join()) {
    throw new StackError(
      `${file}: outputs "${ORGANIZATION_OUTPUTS.regions}" (${listed.join(", ")}) and "${ORGANIZATION_OUTPUTS.settings}" (${settingsRegions.join(", ")}) name different regions`,
    );
  }
  return {
    regions: chosen,
    ...(settingsOutput !== undefined && settingsOutput !== null ? { settingsOutput } : {}),
  };
}

/**
 * The stack's references: flags over the outputs file (--outputs, else $REMEDY_OUTPUTS, else remedy-outputs.json in
 * `directory`, the caller's). The region is the stack's own (its `region` output, else the one in its queue URL);
 * --region may only repeat it.
 */
export function resolveStack(
  flags: Partial<Record<string, string | boolean | undefined>>,
  env: Record<string, string | undefined> = process.env,
  directory: string = process.cwd(),
): StackRefs {
  const explicit = typeof flags.outputs === "string" ? flags.outputs : env.REMEDY_OUTPUTS;
  const defaultFile = join(directory, DEFAULT_OUTPUTS_FILE);
  const file =
    explicit !== undefined ? resolve(directory, explicit) : existsSync(defaultFile) ? defaultFile : undefined;
  const values = file ? readOutputValues(file) : {};
  const refs: StackRefs = {};
  for (const key of Object.keys(OUTPUT_NAMES) as StringRef[]) {
    const flagName = key in STACK_FLAGS ? STACK_FLAGS[key as keyof typeof STACK_FLAGS] : undefined;
    const flag = flagName ? flags[flagName] : undefined;
    const output = values[OUTPUT_NAMES[key]];
    const value = typeof flag === "string" ? flag : typeof output === "string" ? output : undefined;
    if (value) refs[key] = value;
  }
  const organization = file ? organizationOutputs(values, file) : undefined;
  if (organization) refs.organization = organization;
  refs.region ??= regionOfQueueUrl(refs.queueUrl ?? refs.dlqUrl);
  const asked = typeof flags.region === "string" ? flags.region : undefined;
  if (asked !== undefined) {
    if (!REGION_PATTERN.test(asked)) throw new StackError(`--region "${asked}" is not an AWS region name`);
    if (refs.region !== undefined && refs.region !== asked) {
      throw new StackError(
        `Remedy's stack is in ${refs.region}${file ? ` (${file})` : ""}, not ${asked}: drop --region, or give the other stack's outputs.`,
      );
    }
    refs.region = asked;
  }
  return refs;
}

/**
 * The references with the organisation's settings parsed (parseOrganizationSettings, the functions' own parser): a
 * malformed `organization_settings` output is a StackError naming the field. Loads platform/organization.ts (and the
 * Organizations client with it), so it runs only once a command is about to call AWS (openStack).
 */
export async function completeOrganization(refs: StackRefs): Promise<StackRefs> {
  const organization = refs.organization;
  if (organization?.settingsOutput === undefined) return refs;
  const { parseOrganizationSettings } = await import("../platform/organization.ts");
  let settings: OrganizationSettings;
  try {
    settings = parseOrganizationSettings(organization.settingsOutput, `output "${ORGANIZATION_OUTPUTS.settings}"`);
  } catch (error) {
    if ((error as Error).name === "ConfigurationError") throw new StackError((error as Error).message);
    throw error;
  }
  const { settingsOutput: _parsed, ...known } = organization;
  return { ...refs, organization: { ...known, settings } };
}

/** The region in an SQS queue URL (https://sqs.eu-west-1.amazonaws.com/…), if it names one. */
export function regionOfQueueUrl(url: string | undefined): string | undefined {
  const match = url === undefined ? null : /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(url);
  return match && REGION_PATTERN.test(match[1]!) ? match[1] : undefined;
}

/** Returns the named references or fails with one sentence saying how to provide them. */
export function requireRefs<K extends keyof typeof STACK_FLAGS>(
  refs: StackRefs,
  ...keys: K[]
): Required<Pick<StackRefs, K>> {
  const missing = keys.filter((key) => !refs[key]);
  if (missing.length > 0) {
    const flags = missing.map((key) => `--${STACK_FLAGS[key]}`).join(", ");
    throw new StackError(
      `Remedy's stack is not known here: save its outputs with "terraform output -json > ${DEFAULT_OUTPUTS_FILE}" (or pass --outputs FILE), or give ${flags}.`,
    );
  }
  return refs as Required<Pick<StackRefs, K>>;
}

/** Turns the SDK's setup errors into one sentence a person can act on. */
export function explainAwsError(error: unknown): string | undefined {
  const name = (error as { name?: string })?.name ?? "";
  const message = (error as { message?: string })?.message ?? "";
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(message)) {
    return "No AWS credentials found: set AWS_PROFILE (or run `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.";
  }
  if (/Region is missing/i.test(message)) return "No AWS region set: set AWS_REGION (or AWS_PROFILE with a region).";
  if (/ExpiredToken/i.test(name)) return "Your AWS credentials have expired: refresh them (e.g. `aws sso login`).";
  if (name === "QueueDoesNotExist" || name === "AWS.SimpleQueueService.NonExistentQueue") {
    return "The queue does not exist in this account and region: is Remedy deployed here, and are the outputs current?";
  }
  if (name === "ParameterNotFound") return "The pause parameter does not exist: is Remedy deployed here?";
  if (/AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${message}`)) {
    return `AWS denied the request (${name}): ${message}`;
  }
  return undefined;
}
