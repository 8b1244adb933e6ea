// Organisation mode: one hub account serves every member account of an AWS Organization, in the regions the stack
// deployed. This module is the one place that says
// - which settings apply to an account (the settings file: `default` → each OU from the root down → the account),
// - whether an account is the organisation's at all (ListAccounts and ListParents, cached a few minutes: a claim's
//   account id is never believed on its own),
// (Which member role a hub function assumes in an account, and how: platform/member-roles.ts.)
// Every hub function reads the same settings from its own environment (REMEDY_ORGANIZATION, written by the stack).
import { ListAccountsCommand, ListParentsCommand, type OrganizationsClient } from "@aws-sdk/client-organizations";
import { ACCOUNT_ID_PATTERN } from "../contract/ids.ts";
import type { Instruction } from "../contract/instruction.ts";
import { PROBLEMS, type Problem } from "../problems/index.ts";
import type { Log } from "./logging.ts";
import {
  type AccountMode,
  type AccountSettings,
  ORGANIZATION_DEFAULTS,
  type OrganizationSettings,
  ROOT_ID_PATTERN,
  type ScopeSettings,
} from "./organization-settings.ts";

export {
  ACCOUNT_MODES,
  type AccountMode,
  type AccountSettings,
  ORGANIZATION_DEFAULTS,
  type OrganizationSettings,
  parseOrganizationSettings,
  readOrganizationSettings,
  type ScopeSettings,
} from "./organization-settings.ts";

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
