// Ids and keys from notices, which anyone who can publish to the topic can forge. Their text is shown escaped,
// but only ids of these exact shapes go into a console link or a copy-paste command, and a forged key never finds
// a member of Object itself in a lookup table. Pure.
import {
  ACCOUNT_ID_PATTERN,
  isActionId as isLedgerActionId,
  REGION_PATTERN,
  SLACK_USER_ID,
} from "../../contract/ids.ts";

/** SQS: 1-80 letters, digits, hyphens and underscores; a FIFO queue's `.fifo` suffix counts toward the 80. */
const QUEUE_NAME = /^(?:[A-Za-z0-9_-]{1,80}|[A-Za-z0-9_-]{1,75}\.fifo)$/;

export { SLACK_USER_ID } from "../../contract/ids.ts";

/** `us-east-1`, `ap-southeast-2`, `us-gov-west-1`. */
export function isRegion(value: string | undefined): value is string {
  return value !== undefined && REGION_PATTERN.test(value);
}

export function isAccountId(value: string | undefined): value is string {
  return value !== undefined && ACCOUNT_ID_PATTERN.test(value);
}

export function isQueueName(value: string | undefined): value is string {
  return value !== undefined && QUEUE_NAME.test(value);
}

/** `act-20261120T102819Z-7c1d9e2f`, the ledger's own pattern. */
export function isActionId(value: string | undefined): value is string {
  return value !== undefined && isLedgerActionId(value);
}

export function isSlackUserId(value: string | undefined): value is string {
  return value !== undefined && SLACK_USER_ID.test(value);
}

/** `table[key]` for own keys only: a forged "constructor" or "__proto__" must not find Object's own members. */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
