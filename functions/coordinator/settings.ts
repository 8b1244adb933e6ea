// Everything the coordinator reads from its environment, read once at cold start.
import { PROBLEMS, type Problem } from "../../detection/types.ts";
import { parseApproverSettingsJson } from "../../platform/approvers.ts";
import { readDeployment } from "../../platform/deployment.ts";
import { ConfigurationError, integerEnv, optionalEnv, requiredEnv } from "../../platform/env.ts";
import { type InteractiveConfig, SNOOZE_MINUTES } from "./interactive.ts";
import type { CoordinatorConfig } from "./tick.ts";

export interface CoordinatorSettings extends CoordinatorConfig {
  reportTopicArn: string;
  stateBucket: string;
  stateKey: string;
}

type Env = Record<string, string | undefined>;

/** `{"problem": "function name or ARN"}`; problems without an entry are dead-lettered as unknown. */
export function parseRemediationFunctions(text: string, variable = "REMEDY_REMEDIATION_FUNCTIONS") {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`environment variable ${variable} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigurationError(`environment variable ${variable} must be a JSON object of problem → function`);
  }
  const functions: Partial<Record<Problem, string>> = {};
  for (const [problem, name] of Object.entries(value)) {
    if (!(PROBLEMS as readonly string[]).includes(problem)) {
      throw new ConfigurationError(
        `environment variable ${variable} names unknown problem "${problem}" (known: ${PROBLEMS.join(", ")})`,
      );
    }
    if (typeof name !== "string" || name.trim() === "") {
      throw new ConfigurationError(`environment variable ${variable}: "${problem}" must name a function`);
    }
    functions[problem as Problem] = name.trim();
  }
  return functions;
}

/** Time kept free before the Lambda timeout: no new dispatch starts in it. */
export const SAFETY_MARGIN_MS = 15_000;
/** Long-poll wait of each receive: short, so one tick reads the backlog quickly. */
export const RECEIVE_WAIT_SECONDS = 1;
/** How long a message whose Lambda invoke failed stays hidden before the next attempt. */
export const INVOKE_RETRY_DELAY_SECONDS = 30;
/**
 * Time kept for saving the state, the last thing a tick does: no release or duplicate-delete batch starts in it, and
 * calls still in flight when it begins are abandoned (an Invoke abandoned so is counted as dispatched).
 */
export const SAVE_MARGIN_MS = 5_000;
/**
 * SQS receives (and release or delete batches) and remediation Invokes a tick keeps in flight at most, by default
 * (stack variables coordinator_receive_concurrency / coordinator_invoke_concurrency). Receives ramp up to theirs
 * from one (gates.ts afterReceive); a remediation Invoke is asynchronous (a 202 in tens of ms).
 */
export const CONCURRENCY = { receives: 10, invokes: 24 } as const;
/** The bounds checkCoordinatorConfig allows. */
export const CONCURRENCY_LIMITS = { receives: { min: 1, max: 50 }, invokes: { min: 1, max: 200 } } as const;

/**
 * Checks the settings the environment does not give (the pace and the time budget, fixed here or by a test) so a bad
 * value fails at cold start, naming the field, rather than stalling a tick.
 */
export function checkCoordinatorConfig(
  config: Pick<CoordinatorConfig, "concurrency" | "safetyMarginMs" | "saveMarginMs" | "interactive">,
): void {
  for (const key of ["receives", "invokes"] as const) {
    const value = config.concurrency[key];
    const { min, max } = CONCURRENCY_LIMITS[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigurationError(
        `coordinator concurrency.${key} must be a whole number from ${min} to ${max}, got ${value}`,
      );
    }
  }
  const { safetyMarginMs, saveMarginMs } = config;
  if (!Number.isInteger(saveMarginMs) || saveMarginMs < 0 || !(saveMarginMs < safetyMarginMs)) {
    throw new ConfigurationError(
      `coordinator saveMarginMs must be a whole number of ms from 0 to less than safetyMarginMs (${safetyMarginMs}), got ${saveMarginMs}`,
    );
  }
  const snooze = config.interactive?.snoozeMinutes;
  if (
    snooze !== undefined &&
    (!Number.isInteger(snooze) || snooze < SNOOZE_MINUTES.min || snooze > SNOOZE_MINUTES.max)
  ) {
    throw new ConfigurationError(
      `coordinator interactive.snoozeMinutes must be a whole number from ${SNOOZE_MINUTES.min} to ${SNOOZE_MINUTES.max}, got ${snooze}`,
    );
  }
}

/**
 * Slack buttons, when a Slack app is deployed (REMEDY_SLACK_APP_SECRET set): the ledger bucket, the approvers and
 * the snooze. Without the app there are no buttons, and the other two are not read.
 */
export function readInteractiveConfig(stateBucket: string, env: Env = process.env): InteractiveConfig | undefined {
  if (optionalEnv("REMEDY_SLACK_APP_SECRET", "", env) === "") return undefined;
  let approvers: InteractiveConfig["approvers"];
  try {
    // Unset: nobody may press anything (deny by default), as the stack's default says.
    approvers = parseApproverSettingsJson(
      optionalEnv("REMEDY_SLACK_APPROVERS", '{"approvers":{}}', env),
      "environment variable REMEDY_SLACK_APPROVERS",
    );
  } catch (error) {
    throw new ConfigurationError((error as Error).message, { cause: error });
  }
  const { fallback, min, max } = SNOOZE_MINUTES;
  return {
    bucket: stateBucket,
    approvers,
    snoozeMinutes: integerEnv("REMEDY_SNOOZE_MINUTES", fallback, { min, max }, env),
  };
}

/** Fresh instructions of one member account within the breaker's window before that account alone is paused. */
export const ACCOUNT_FRESH_LIMIT = 20;

export function readCoordinatorSettings(env: Env = process.env): CoordinatorSettings {
  const { accountId, region, organization } = readDeployment(env);
  // Checked in either mode (a bad value fails at cold start), used only in organisation mode.
  const accountFreshLimit = integerEnv(
    "REMEDY_BREAKER_ACCOUNT_FRESH_LIMIT",
    ACCOUNT_FRESH_LIMIT,
    { min: 1, max: 100_000 },
    env,
  );
  const stateBucket = requiredEnv("REMEDY_STATE_BUCKET", env);
  const interactive = readInteractiveConfig(stateBucket, env);
  const settings: CoordinatorSettings = {
    deployment: { accountId, region, ...(organization ? { organization } : {}) },
    queueUrl: requiredEnv("REMEDY_QUEUE_URL", env),
    deadLetterQueueUrl: requiredEnv("REMEDY_DLQ_URL", env),
    pauseParameter: requiredEnv("REMEDY_PAUSE_PARAMETER", env),
    reportTopicArn: requiredEnv("REMEDY_REPORT_TOPIC_ARN", env),
    stateBucket,
    stateKey: optionalEnv("REMEDY_STATE_KEY", "state/coordinator.json", env),
    remediationFunctions: parseRemediationFunctions(requiredEnv("REMEDY_REMEDIATION_FUNCTIONS", env)),
    dispatchVisibilitySeconds: integerEnv("REMEDY_DISPATCH_VISIBILITY_SECONDS", 300, { min: 30, max: 43_200 }, env),
    maxAttempts: integerEnv("REMEDY_MAX_ATTEMPTS", 3, { min: 1, max: 100 }, env),
    rateLimit: {
      count: integerEnv("REMEDY_RATE_LIMIT_COUNT", 20, { min: 1, max: 100_000 }, env),
      windowMinutes: integerEnv("REMEDY_RATE_LIMIT_WINDOW_MINUTES", 10, { min: 1, max: 1_440 }, env),
    },
    breaker: {
      freshLimit: integerEnv("REMEDY_BREAKER_FRESH_LIMIT", 50, { min: 1, max: 100_000 }, env),
      windowMinutes: integerEnv("REMEDY_BREAKER_WINDOW_MINUTES", 10, { min: 1, max: 1_440 }, env),
      ...(organization ? { accountFreshLimit } : {}),
    },
    // Fixed by design, not settings: the stack sets no variable for these (tests give the tick other values).
    safetyMarginMs: SAFETY_MARGIN_MS,
    saveMarginMs: SAVE_MARGIN_MS,
    receiveWaitSeconds: RECEIVE_WAIT_SECONDS,
    invokeRetryDelaySeconds: INVOKE_RETRY_DELAY_SECONDS,
    concurrency: {
      receives: integerEnv("REMEDY_RECEIVE_CONCURRENCY", CONCURRENCY.receives, CONCURRENCY_LIMITS.receives, env),
      invokes: integerEnv("REMEDY_INVOKE_CONCURRENCY", CONCURRENCY.invokes, CONCURRENCY_LIMITS.invokes, env),
    },
    ...(interactive ? { interactive } : {}),
  };
  checkCoordinatorConfig(settings);
  return settings;
}
