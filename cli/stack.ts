// Where Remedy's deployed pieces are: from Terraform outputs (a file) or flags. One sentence when missing.
import { existsSync, readFileSync } from "node:fs";

export interface StackRefs {
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
  queueUrl: "queue_url",
  dlqUrl: "dlq_url",
  pauseParameter: "pause_parameter",
  ledgerBucket: "ledger_bucket",
  ledgerMacKeyId: "ledger_mac_key_id",
  scheduleRule: "schedule_rule_name",
};

/** The flag that sets each reference by hand. */
export const STACK_FLAGS: Record<keyof StackRefs, string> = {
  queueUrl: "queue-url",
  dlqUrl: "dlq-url",
  pauseParameter: "pause-parameter",
  ledgerBucket: "ledger-bucket",
  ledgerMacKeyId: "ledger-mac-key",
  scheduleRule: "schedule-rule",
};

export const DEFAULT_OUTPUTS_FILE = "remedy-outputs.json";

export class StackError extends Error {
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

export function resolveStack(
  flags: Partial<Record<string, string | boolean | undefined>>,
  env: Record<string, string | undefined> = process.env,
): StackRefs {
  const explicit = typeof flags.outputs === "string" ? flags.outputs : env.REMEDY_OUTPUTS;
  const file = explicit ?? (existsSync(DEFAULT_OUTPUTS_FILE) ? DEFAULT_OUTPUTS_FILE : undefined);
  const outputs = file ? readOutputs(file) : {};
  const refs: StackRefs = {};
  for (const key of Object.keys(OUTPUT_NAMES) as (keyof StackRefs)[]) {
    const flag = flags[STACK_FLAGS[key]];
    const value = typeof flag === "string" ? flag : outputs[OUTPUT_NAMES[key]];
    if (value) refs[key] = value;
  }
  return refs;
}

/** Returns the named references or fails with one sentence saying how to provide them. */
export function requireRefs<K extends keyof StackRefs>(refs: StackRefs, ...keys: K[]): Required<Pick<StackRefs, K>> {
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
