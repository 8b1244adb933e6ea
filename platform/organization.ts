// Organisation mode: one hub account serves every member account of an AWS Organization, in the regions the stack
// deployed. This module is the one place that says
// - which settings apply to an account (the settings file: `default` → each OU from the root down → the account),
// - whether an account is the organisation's at all (ListAccounts and ListParents, cached a few minutes: a claim's
//   account id is never believed on its own),
// (Which member role a hub function assumes in an account, and how: platform/member-roles.ts.)
// Every hub function reads the same settings from its own environment (REMEDY_ORGANIZATION, written by the stack).
import { ListAccountsCommand, ListParentsCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";
import * as v from "valibot";
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from "../contract/ids.ts";
import type { Instruction } from "../contract/instruction.ts";
import { PROBLEMS, type Problem } from "../problems/index.ts";
import { ConfigurationError } from "./env.ts";
import type { Log } from "./logging.ts";

/** enforce: fix (when auto-response is on); notify: detect and tell, change nothing; off: neither. */
export const ACCOUNT_MODES = ["enforce", "notify", "off"] as const;
export type AccountMode = (typeof ACCOUNT_MODES)[number];

const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;
const ROOT_ID_PATTERN = /^r-[0-9a-z]{4,32}$/;
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

/** The settings of one account: `default`, then each OU from the root down (`parents`, root first), then the account. */
export function accountSettings(
  settings: OrganizationSettings,
  accountId: string,
  parents: readonly string[],
): AccountSettings {
  const scopes: [string, ScopeSettings][] = [["default", settings.default]];
  for (const parent of parents) {
    const scope = settings.organizationalUnits[parent];
    if (scope) scopes.push([parent, scope]);
  }
  const own = settings.accounts[accountId];
  if (own) scopes.push(["account", own]);
  let mode: AccountMode = ORGANIZATION_DEFAULTS.mode;
  let problems: readonly Problem[] = PROBLEMS;
  let gracePeriodMinutes: number = ORGANIZATION_DEFAULTS.gracePeriodMinutes;
  let slackRoute: string | undefined;
  const sources: string[] = [];
  for (const [source, scope] of scopes) {
    sources.push(source);
    mode = scope.mode ?? mode;
    problems = scope.problems ?? problems;
    gracePeriodMinutes = scope.gracePeriodMinutes ?? gracePeriodMinutes;
    slackRoute = scope.slackRoute ?? slackRoute;
  }
  return { mode, problems: new Set(problems), gracePeriodMinutes, ...(slackRoute ? { slackRoute } : {}), sources };
}

/** An account as the organisation knows it: a member (with its settings) or refused with the reason. */
export type AccountStanding =
  | { member: true; accountId: string; parents: string[]; settings: AccountSettings }
  | { member: false; accountId: string; reason: string };

/**
 * Why an instruction for this account must not be acted on now (its account's mode, problems or grace period), or
 * undefined. The coordinator checks it before dispatch and the remediation again before it changes anything.
 * `notify` is not a refusal here: the caller tells instead of fixing (see `notifyOnly`).
 */
export function standingProblem(
  standing: AccountStanding,
  instruction: { problem: Problem; detectedAt: string },
  now: Date,
  /** When an approver pressed Fix now on it in Slack: due then, whatever the account's grace period. */
  fixNowAtMs?: number,
): string | undefined {
  if (!standing.member) return standing.reason;
  const { settings } = standing;
  if (settings.mode === "off") return `account ${standing.accountId} is off in the organisation settings`;
  if (!settings.problems.has(instruction.problem)) {
    return `problem ${instruction.problem} is not enabled for account ${standing.accountId}`;
  }
  const due = Date.parse(instruction.detectedAt) + settings.gracePeriodMinutes * 60_000;
  if (Math.min(due, fixNowAtMs ?? Number.POSITIVE_INFINITY) > now.getTime()) {
    return `account ${standing.accountId} has a ${settings.gracePeriodMinutes}-minute grace period: not due until ${new Date(due).toISOString()}`;
  }
  return undefined;
}

export function notifyOnly(standing: AccountStanding): boolean {
  return standing.member && standing.settings.mode === "notify";
}

/**
 * What the account's settings let be queued: nothing when it is off, only its enabled problems otherwise (notify and
 * enforce both queue: the coordinator and the remediation decide what is done). The account's grace period is the
 * coordinator's to apply (from detectedAt), not a reason to hold an instruction back here.
 */
export function admittedBySettings(
  standing: Extract<AccountStanding, { member: true }>,
  log: Log,
): (instructions: Instruction[]) => Instruction[] {
  const { settings, accountId } = standing;
  return (instructions) => {
    const admitted =
      settings.mode === "off" ? [] : instructions.filter((instruction) => settings.problems.has(instruction.problem));
    const held = instructions.length - admitted.length;
    // Logged, not a metric of its own: an account that is off holds back every violation it has, as it should.
    if (held > 0) {
      log.info("fix instructions judged but not queued: the account's settings", {
        accountId,
        mode: settings.mode,
        held,
        heldProblems: [...new Set(instructions.filter((i) => !admitted.includes(i)).map((i) => i.problem))],
        step: "held-by-settings",
      });
    }
    return admitted;
  };
}

/** Who the organisation is to a hub function. */
export interface OrganizationDirectory {
  /** The account's standing; throws (transient) when Organizations cannot be read: never "member" by default. */
  standing(accountId: string): Promise<AccountStanding>;
}

/**
 * The organisation read through Organizations (the hub is its delegated administrator): active accounts from
 * ListAccounts, each account's OU path from ListParents, cached for `ttlMs` (an account leaving is seen within it).
 */
export function organizationsDirectory(
  organizations: Pick<OrganizationsClient, "send">,
  settings: OrganizationSettings,
  options: { ttlMs?: number; now?: () => number } = {},
): OrganizationDirectory {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const now = options.now ?? Date.now;
  let accounts: { at: number; active: Promise<Map<string, string>> } | undefined;
  const parents = new Map<string, { at: number; path: Promise<string[]> }>();
  const excluded = new Set(settings.excludedAccounts);

  const activeAccounts = () => {
    if (!accounts || now() - accounts.at > ttlMs) {
      const active = listActiveAccounts(organizations);
      accounts = { at: now(), active };
      // A failed read is not kept: the next call asks again.
      active.catch(() => {
        if (accounts?.active === active) accounts = undefined;
      });
    }
    return accounts.active;
  };
  const parentPath = (accountId: string) => {
    const cached = parents.get(accountId);
    if (cached && now() - cached.at <= ttlMs) return cached.path;
    const path = listParentPath(organizations, accountId);
    parents.set(accountId, { at: now(), path });
    path.catch(() => parents.delete(accountId));
    return path;
  };

  return {
    async standing(accountId) {
      if (!ACCOUNT_ID_PATTERN.test(accountId)) {
        return { member: false, accountId, reason: `"${accountId}" is not an account id` };
      }
      const status = (await activeAccounts()).get(accountId);
      if (status === undefined) {
        return { member: false, accountId, reason: `account ${accountId} is not an account of this organisation` };
      }
      if (status !== "ACTIVE") {
        return {
          member: false,
          accountId,
          reason: `account ${accountId} is ${status.toLowerCase()} in the organisation`,
        };
      }
      if (excluded.has(accountId)) {
        return { member: false, accountId, reason: `account ${accountId} is excluded in the organisation settings` };
      }
      const path = await parentPath(accountId);
      return { member: true, accountId, parents: path, settings: accountSettings(settings, accountId, path) };
    },
  };
}

async function listActiveAccounts(organizations: Pick<OrganizationsClient, "send">): Promise<Map<string, string>> {
  const statuses = new Map<string, string>();
  let NextToken: string | undefined;
  do {
    const page = await organizations.send(new ListAccountsCommand({ NextToken }));
    for (const account of page.Accounts ?? []) {
      // State (newer) or Status (deprecated): ACTIVE, SUSPENDED, PENDING_CLOSURE, …
      const state = (account as { State?: string }).State ?? account.Status ?? "UNKNOWN";
      if (account.Id) statuses.set(account.Id, state);
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return statuses;
}

/** The account's OUs from the root down (the root itself excluded: `default` is its settings). */
async function listParentPath(organizations: Pick<OrganizationsClient, "send">, accountId: string): Promise<string[]> {
  const path: string[] = [];
  let child = accountId;
  // An organisation nests OUs at most five deep; the bound stops a malformed answer from looping.
  for (let depth = 0; depth < 8; depth++) {
    const { Parents } = await organizations.send(new ListParentsCommand({ ChildId: child }));
    const parent = Parents?.[0];
    if (!parent?.Id || parent.Type === "ROOT" || ROOT_ID_PATTERN.test(parent.Id)) return path;
    path.unshift(parent.Id);
    child = parent.Id;
  }
  throw new Error(`account ${accountId}: more OU levels than an organisation has`);
}

/** The commands organisation mode adds to every hub function that checks an account's standing. */
export const ORGANIZATION_DIRECTORY_PERMISSIONS = {
  ListAccountsCommand: "organizations:ListAccounts",
  ListParentsCommand: "organizations:ListParents",
} as const;
