// What both interactions functions share about their settings: the approvers (read at cold start; a bad or missing
// list denies every press, with the reason, rather than failing the function, so people are told why), the snooze
// amount's bounds, and the decision id of a request. Each function's own settings.ts reads its environment with these.
import { createHash } from "node:crypto";
import { ACCOUNT_ID_PATTERN } from "../../contract/ids.ts";
import { type ApproverSettings, parseApproverSettingsJson } from "../../platform/approvers.ts";
import { ConfigurationError, optionalEnv, requiredEnv } from "../../platform/env.ts";
import { readOrganizationSettings } from "../../platform/organization-settings.ts";

/** REMEDY_SNOOZE_MINUTES: how far Snooze pushes an instruction's due time (the coordinator applies it). */
export const SNOOZE_MINUTES = { fallback: 1_440, min: 1, max: 10_080 } as const;

/** The approvers, or why nobody may press anything. */
export type Approvers = { ok: true; settings: ApproverSettings } | { ok: false; reason: string };

/** REMEDY_SLACK_APPROVERS' JSON (the approvers settings); never throws. */
export function approversFrom(text: string | undefined): Approvers {
  if (text === undefined || text.trim() === "") {
    return {
      ok: false,
      reason: "no approvers are configured (REMEDY_SLACK_APPROVERS is empty): nobody may press anything",
    };
  }
  try {
    return { ok: true, settings: parseApproverSettingsJson(text, "REMEDY_SLACK_APPROVERS") };
  } catch (error) {
    return { ok: false, reason: `${(error as Error).message}: nobody may press anything until it is fixed` };
  }
}

/**
 * A decision's id: the SHA-256 of the request's timestamp and signature, so the same request seen again (a retry,
 * a replay) is recognisably the same decision, and two presses never share one.
 */
export function decisionIdFor(timestamp: string, signature: string): string {
  return createHash("sha256").update(`${timestamp}:${signature.toLowerCase()}`, "utf8").digest("hex");
}

/** Where Remedy acts in organisation mode, as the interactions functions need it: the settings' regions and exclusions. */
export interface OrganizationScope {
  regions: string[];
  excludedAccounts: string[];
}

/** Where this deployment acts, as both interactions functions know it (REMEDY_ACCOUNT_ID, REMEDY_REGION, REMEDY_ORGANIZATION). */
export interface InteractionDeployment {
  accountId: string;
  region: string;
  /** Organisation mode: the settings' regions and excluded accounts. */
  organization?: OrganizationScope;
}

/**
 * Why a place a claim names (a pending instruction's account and region) is not this deployment's, or undefined.
 * Single-account mode: exactly the deployment's account and region. Organisation mode: a region of the settings and
 * an account id the settings do not exclude; whether the account is an active member is not known here (neither
 * function may ask Organizations): the coordinator asks before it dispatches and the remediation before it changes
 * anything, and an exemption of a resource in an account that is not a member never matches anything Remedy fixes.
 */
export function placeProblem(
  deployment: InteractionDeployment,
  place: { accountId: string; region: string },
): string | undefined {
  const { accountId, region } = place;
  const organization = deployment.organization;
  if (organization) {
    if (!ACCOUNT_ID_PATTERN.test(accountId)) return `"${accountId}" is not an account id`;
    if (organization.excludedAccounts.includes(accountId)) {
      return `account ${accountId} is excluded in the organisation settings`;
    }
    if (!organization.regions.includes(region)) {
      return `region ${region} is not one of this deployment's regions (${organization.regions.join(", ")})`;
    }
    return undefined;
  }
  if (accountId !== deployment.accountId || region !== deployment.region) {
    return `${accountId}/${region} is not this deployment's account and region (${deployment.accountId}/${deployment.region})`;
  }
  return undefined;
}

/** What both interactions functions read alike: the app's secret, the approvers, the bucket and where Remedy acts. */
export interface CommonSettings {
  slackAppSecret: string;
  approvers: Approvers;
  ledgerBucket: string;
  /** Where this deployment acts: an instruction elsewhere is refused before anything is recorded or done. */
  accountId: string;
  region: string;
  organizationMode: boolean;
  /** Organisation mode's settings: an instruction's region must be one of theirs, its account not excluded. */
  organization?: OrganizationScope;
}

export function readCommonSettings(env: Record<string, string | undefined>): CommonSettings {
  const accountId = requiredEnv("REMEDY_ACCOUNT_ID", env);
  if (!ACCOUNT_ID_PATTERN.test(accountId)) {
    throw new ConfigurationError(`REMEDY_ACCOUNT_ID "${accountId}" is not an account id`);
  }
  // The organisation settings checked whole, as every hub function checks them (platform/organization-settings.ts has
  // no AWS client: neither function may ask Organizations).
  const settings = readOrganizationSettings(env);
  const organization: OrganizationScope | undefined = settings
    ? { regions: settings.regions, excludedAccounts: settings.excludedAccounts }
    : undefined;
  return {
    slackAppSecret: requiredEnv("REMEDY_SLACK_APP_SECRET", env),
    approvers: approversFrom(optionalEnv("REMEDY_SLACK_APPROVERS", "", env)),
    ledgerBucket: requiredEnv("REMEDY_LEDGER_BUCKET", env),
    accountId,
    region: requiredEnv("REMEDY_REGION", env),
    organizationMode: organization !== undefined,
    ...(organization ? { organization } : {}),
  };
}
