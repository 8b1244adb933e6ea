// Organisation mode in the CLI's words: what peek, status and plan show grouped by account and region (a heading
// per group, counts per group), and which groups Remedy does not act in at all (a region the stack did not deploy,
// an account its settings exclude). Pure: nothing here reads AWS. Account ids and regions in a heading can come from
// a message or a ledger record (claims, written by whoever could write there): every heading is shown escaped.
import type { StackOrganization } from "./stack.ts";
import { terminalText } from "./terminal.ts";

export interface AccountRegion {
  accountId: string;
  region: string;
}

export interface AccountRegionGroup<T> extends AccountRegion {
  items: T[];
}

/**
 * `items` by account and region, accounts in id order and each account's regions in name order; within a group,
 * items keep the order they came in (peek's due order, status's newest first).
 */
export function groupByAccountRegion<T>(
  items: readonly T[],
  where: (item: T) => AccountRegion,
): AccountRegionGroup<T>[] {
  const groups = new Map<string, AccountRegionGroup<T>>();
  for (const item of items) {
    const { accountId, region } = where(item);
    const key = JSON.stringify([accountId, region]);
    let group = groups.get(key);
    if (!group) {
      group = { accountId, region, items: [] };
      groups.set(key, group);
    }
    group.items.push(item);
  }
  return [...groups.values()].sort(compareAccountRegion);
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Accounts in id order, each account's regions in name order. */
export function compareAccountRegion(a: AccountRegion, b: AccountRegion): number {
  return compareText(a.accountId, b.accountId) || compareText(a.region, b.region);
}

/** "Account 111122223333, eu-west-1", escaped for the terminal. */
export function accountRegionHeading(where: AccountRegion): string {
  return terminalText(`Account ${where.accountId}, ${where.region}`);
}

/**
 * Why Remedy does not act in this account and region at all, from the stack's own settings (never from the message
 * or record that names them), or undefined. What else it skips there (an account's mode, problems, grace period,
 * whether it is the organisation's) needs the organisation's OUs, which the coordinator reads and the CLI does not.
 */
export function outsideDeployment(where: AccountRegion, organization: StackOrganization): string | undefined {
  if (!organization.regions.includes(where.region)) {
    return `region ${where.region} is not one of the stack's regions (${organization.regions.join(", ")}): Remedy does not act there`;
  }
  if (organization.settings?.excludedAccounts.includes(where.accountId)) {
    return `account ${where.accountId} is excluded in the organisation settings: Remedy does not act there`;
  }
  return undefined;
}

/** How many accounts and regions the groups span: "2 accounts, 3 regions". */
export function spanText(groups: readonly AccountRegion[]): string {
  const accounts = new Set(groups.map((group) => group.accountId)).size;
  const regions = new Set(groups.map((group) => group.region)).size;
  return `${accounts} ${accounts === 1 ? "account" : "accounts"}, ${regions} ${regions === 1 ? "region" : "regions"}`;
}
