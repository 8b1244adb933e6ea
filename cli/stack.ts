// Where Remedy's deployed pieces are: from Terraform outputs (a file) or flags. One sentence when missing.

import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { REGION_PATTERN } from "../contract/ids.ts";
import { PermanentError } from "../platform/errors.ts";

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
}

/** Terraform output names (see infra/) → what the CLI calls them. */
export const OUTPUT_NAMES: Record<keyof StackRefs, string> = {
  region: "region",
  accountId: "account_id",
  queueUrl: "queue_url",
  dlqUrl: "dlq_url",
  pauseParameter: "pause_parameter",
  ledgerBucket: "ledger_bucket",
  ledgerMacKeyId: "ledger_mac_key_id",
  scheduleRule: "schedule_rule_name",
};

/** The flag that sets each reference by hand. */
export const STACK_FLAGS: Record<Exclude<keyof StackRefs, "region" | "accountId">, string> = {
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
 * ({stack: {name: value}}).
 */
export function readOutputs(path: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new StackError(`cannot read Terraform outputs from ${path}: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null) throw new StackError(`${path} does not hold Terraform outputs`);
  const entries = Object.entries(value as Record<string, unknown>);
  const flat: Record<string, string> = {};
  const take = (name: string, raw: unknown) => {
    const unwrapped =
      typeof raw === "object" && raw !== null && "value" in raw ? (raw as { value: unknown }).value : raw;
    if (typeof unwrapped === "string") flat[name] = unwrapped;
  };
  for (const [name, raw] of entries) {
    const isStack =
      typeof raw === "object" &&
      raw !== null &&
      !("value" in raw) &&
      Object.values(raw).every((v) => typeof v !== "object");
    if (isStack) for (const [inner, innerValue] of Object.entries(raw as object)) take(inner, innerValue);
    else take(name, raw);
  }
  return flat;
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
  const outputs = file ? readOutputs(file) : {};
  const refs: StackRefs = {};
  for (const key of Object.keys(OUTPUT_NAMES) as (keyof StackRefs)[]) {
    const flagName = key in STACK_FLAGS ? STACK_FLAGS[key as keyof typeof STACK_FLAGS] : undefined;
    const flag = flagName ? flags[flagName] : undefined;
    const value = typeof flag === "string" ? flag : outputs[OUTPUT_NAMES[key]];
    if (value) refs[key] = value;
  }
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
