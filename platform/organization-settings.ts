// The organisation settings (the settings file `remedy.organization.json`, and the stack's REMEDY_ORGANIZATION, which
// every hub function reads from its own environment): their schema and parsing. Pure, no AWS SDK, so a function that
// only needs to know where Remedy acts (the Slack interactions) reads them without the Organizations client;
// platform/organization.ts, which re-exports this, is where they are applied to accounts.
import * as v from "valibot";
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from "../contract/ids.ts";
import { PROBLEMS, type Problem } from "../problems/index.ts";
import { ConfigurationError, optionalEnv } from "./env.ts";

/** enforce: fix (when auto-response is on); notify: detect and tell, change nothing; off: neither. */
export const ACCOUNT_MODES = ["enforce", "notify", "off"] as const;
export type AccountMode = (typeof ACCOUNT_MODES)[number];

const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
export const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;
/** A Slack route is a name in the Slack secret's `routes` (webhook URLs are secrets and never in settings). */
const ROUTE_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** STS: an ExternalId is 2–1224 characters of [\w+=,.@:/-]. */
const EXTERNAL_ID_PATTERN = /^[\w+=,.@:/-]{2,1224}$/;

const ScopeSchema = v.strictObject({
  mode: v.optional(v.picklist(ACCOUNT_MODES)),
  problems: v.optional(v.array(v.picklist(PROBLEMS as unknown as [Problem, ...Problem[]]))),
  gracePeriodMinutes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(43_200))),
  slackRoute: v.optional(v.pipe(v.string(), v.regex(ROUTE_PATTERN, "must be a route name of the Slack secret"))),
});

const SettingsSchema = v.strictObject({
  regions: v.pipe(
    v.array(v.pipe(v.string(), v.regex(REGION_PATTERN, "must be an AWS region"))),
    v.minLength(1, "must name at least one region"),
  ),
  excludedAccounts: v.optional(
    v.array(v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id"))),
    [],
  ),
  externalId: v.optional(
    v.pipe(v.string(), v.regex(EXTERNAL_ID_PATTERN, "must be 2–1224 characters of [\\w+=,.@:/-]")),
  ),
  default: v.optional(ScopeSchema, {}),
  organizationalUnits: v.optional(
    v.record(v.pipe(v.string(), v.regex(OU_ID_PATTERN, "must be an OU id (ou-…)")), ScopeSchema),
    {},
  ),
  accounts: v.optional(
    v.record(v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id")), ScopeSchema),
    {},
  ),
});

export type ScopeSettings = v.InferOutput<typeof ScopeSchema>;
export type OrganizationSettings = v.InferOutput<typeof SettingsSchema>;

/** What applies to one account once default, OUs and the account's own entry are merged. */
export interface AccountSettings {
  mode: AccountMode;
  problems: ReadonlySet<Problem>;
  gracePeriodMinutes: number;
  /** A route of the Slack secret; absent: the notifier's per-account routing, else its default. */
  slackRoute?: string;
  /** Where each value came from, most specific last: "default", OU ids, "account". */
  sources: string[];
}

/** What a setting is when nothing says otherwise: told, not changed, every problem, no grace period. */
export const ORGANIZATION_DEFAULTS = { mode: "notify", gracePeriodMinutes: 0 } as const;

/** Parses the settings (the file's JSON, or the stack's REMEDY_ORGANIZATION); throws ConfigurationError naming the field. */
export function parseOrganizationSettings(value: unknown, where = "organisation settings"): OrganizationSettings {
  const parsed = v.safeParse(SettingsSchema, value);
  if (!parsed.success) {
    const [issue] = parsed.issues;
    throw new ConfigurationError(`${where}: ${v.getDotPath(issue) ?? "value"}: ${issue.message}`);
  }
  const settings = parsed.output;
  if (new Set(settings.regions).size !== settings.regions.length) {
    throw new ConfigurationError(`${where}: regions lists a region twice`);
  }
  for (const account of settings.excludedAccounts) {
    if (settings.accounts[account]) {
      throw new ConfigurationError(`${where}: account ${account} is excluded and has settings: which is meant?`);
    }
  }
  return settings;
}

/** REMEDY_ORGANIZATION: empty in single-account mode; bad JSON or settings fail the cold start, naming the variable. */
export function readOrganizationSettings(
  env: Record<string, string | undefined> = process.env,
): OrganizationSettings | undefined {
  const text = optionalEnv("REMEDY_ORGANIZATION", "", env);
  if (text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`environment variable REMEDY_ORGANIZATION is not JSON: ${(error as Error).message}`);
  }
  return parseOrganizationSettings(value, "environment variable REMEDY_ORGANIZATION");
}
