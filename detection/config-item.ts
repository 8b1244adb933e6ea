// One normaliser for Config items, whichever door they came through: the invoking event (JSON objects,
// `awsAccountId`, `ARN`), or GetResourceConfigHistory / BatchGetResourceConfig (`accountId`, `arn`, and
// `configuration` plus every supplementaryConfiguration value as JSON strings, capture time as a Date).

import { PermanentError } from "../platform/errors.ts";
import type { ConfigItem, ConfigRelationship } from "./types.ts";

export class InvalidConfigItemError extends PermanentError {
  override name = "InvalidConfigItemError";
}

export const DELETED_STATUSES: ReadonlySet<string> = new Set(["ResourceDeleted", "ResourceDeletedNotRecorded"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses JSON-in-strings, including the doubly encoded values the API sometimes returns. */
export function decodeJsonString(value: unknown, field: string): unknown {
  return decodeJson(value, field);
}

/** decodeJsonString, the field named `${field}.${key}` when `key` is given (written out only for an error). */
function decodeJson(value: unknown, field: string, key?: string): unknown {
  let decoded = value;
  for (let depth = 0; depth < 3 && typeof decoded === "string"; depth++) {
    const text = decoded.trim();
    if (!/^[[{"]|^null$/.test(text)) break;
    try {
      decoded = JSON.parse(text);
    } catch (error) {
      const name = key === undefined ? field : `${field}.${key}`;
      throw new InvalidConfigItemError(`${name} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return decoded;
}

function requiredString(raw: Record<string, unknown>, field: string, alias?: string): string {
  const value = raw[field];
  if (typeof value === "string" && value.length > 0) return value;
  if (alias !== undefined) {
    const aliased = raw[alias];
    if (typeof aliased === "string" && aliased.length > 0) return aliased;
  }
  throw new InvalidConfigItemError(`configuration item has no ${alias === undefined ? field : `${field}/${alias}`}`);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The number written in `text` from `start` to `end` (exclusive), or -1 if any of those is not a digit 0-9. */
function digits(text: string, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index++) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * Whether `text` is a time exactly as toISOString writes it (`2026-11-20T09:58:12.412Z`) and a real one (no 24:00,
 * no 30 February, which Date would roll over): then `new Date(text).toISOString() === text`, without the Date.
 * Config writes capture times this way; anything else goes through Date as before.
 */
export function isCanonicalIsoTime(text: string): boolean {
  // The last text found canonical: an item's capture time is asked about again when it is judged.
  if (text === lastCanonicalTime) return true;
  if (!canonicalIsoTime(text)) return false;
  lastCanonicalTime = text;
  return true;
}

let lastCanonicalTime: string | undefined;

function canonicalIsoTime(text: string): boolean {
  if (
    text.length !== 24 ||
    text[4] !== "-" ||
    text[7] !== "-" ||
    text[10] !== "T" ||
    text[13] !== ":" ||
    text[16] !== ":" ||
    text[19] !== "." ||
    text[23] !== "Z"
  ) {
    return false;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || digits(text, 20, 23) < 0) return false;
  if (minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!);
}

function captureTimeOf(raw: Record<string, unknown>): string {
  const value = raw.configurationItemCaptureTime;
  if (typeof value === "string" && isCanonicalIsoTime(value)) return value;
  const date = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new InvalidConfigItemError("configuration item has no valid configurationItemCaptureTime");
  }
  return date.toISOString();
}

function tagsOf(
  raw: Record<string, unknown>,
  configuration: Record<string, unknown> | null,
  supplementary: Record<string, unknown>,
): Record<string, string> {
  const tags: Record<string, string> = {};
  // BatchGetResourceConfig items carry no `tags`; the resource's own configuration still does.
  if (Array.isArray(configuration?.tags)) {
    for (const tag of configuration.tags) {
      if (isRecord(tag) && typeof tag.key === "string") tags[tag.key] = String(tag.value ?? "");
    }
  }
  const bucketTagging = supplementary.BucketTaggingConfiguration;
  if (isRecord(bucketTagging) && Array.isArray(bucketTagging.tagSets)) {
    for (const tagSet of bucketTagging.tagSets) {
      if (isRecord(tagSet) && isRecord(tagSet.tags)) copyTags(tagSet.tags, tags);
    }
  }
  if (isRecord(raw.tags)) copyTags(raw.tags, tags);
  return tags;
}

/** Object.entries' keys and values in its order, each value as text, without its [key, value] pairs. */
function copyTags(from: Record<string, unknown>, to: Record<string, string>): void {
  const keys = Object.keys(from);
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index]!;
    to[key] = String(from[key] ?? "");
  }
}

/**
 * The item's relationships, each with its name under either door's key, or undefined when it lists none. A relationship
 * without a type or id is left out: rules read them only as hints (the live resource is what a fix checks).
 */
function relationshipsOf(raw: Record<string, unknown>): ConfigRelationship[] | undefined {
  const list = raw.relationships;
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const relationships: ConfigRelationship[] = [];
  for (const entry of list) {
    if (!isRecord(entry)) continue;
    const { resourceType, resourceId } = entry;
    if (typeof resourceType !== "string" || typeof resourceId !== "string") continue;
    const name = entry.name ?? entry.relationshipName;
    relationships.push({ resourceType, resourceId, name: typeof name === "string" ? name : "" });
  }
  return relationships.length > 0 ? relationships : undefined;
}

export function normalizeConfigItem(input: unknown): ConfigItem {
  if (!isRecord(input)) throw new InvalidConfigItemError("configuration item is not an object");
  const resourceType = requiredString(input, "resourceType");
  const resourceId = requiredString(input, "resourceId");
  const accountId = requiredString(input, "awsAccountId", "accountId");
  const region = requiredString(input, "awsRegion");
  const status = requiredString(input, "configurationItemStatus");
  const captureTime = captureTimeOf(input);

  const decodedConfiguration = decodeJson(input.configuration ?? null, "configuration");
  if (decodedConfiguration !== null && !isRecord(decodedConfiguration)) {
    throw new InvalidConfigItemError("configuration is neither an object nor null");
  }
  const configuration = decodedConfiguration;

  const supplementaryConfiguration: Record<string, unknown> = {};
  const rawSupplementary = input.supplementaryConfiguration ?? {};
  if (!isRecord(rawSupplementary)) throw new InvalidConfigItemError("supplementaryConfiguration is not an object");
  // Own enumerable keys in order, as Object.entries gives them, without its [key, value] pairs.
  for (const key of Object.keys(rawSupplementary)) {
    supplementaryConfiguration[key] = decodeJson(rawSupplementary[key], "supplementaryConfiguration", key);
  }

  const arn = input.ARN ?? input.arn;
  const resourceName = input.resourceName;
  // Built in this key order (resourceName and arn only when there is one), as the object spreads it replaced did.
  const relationships = relationshipsOf(input);
  if (typeof resourceName === "string" && resourceName && typeof arn === "string" && arn) {
    // Both, as Config items have them: one literal, not a property added at a time.
    const item: ConfigItem = {
      resourceType,
      resourceId,
      resourceName,
      arn,
      accountId,
      region,
      captureTime,
      status,
      configuration,
      supplementaryConfiguration,
      tags: tagsOf(input, configuration, supplementaryConfiguration),
    };
    if (relationships) item.relationships = relationships;
    return item;
  }
  const item = { resourceType, resourceId } as ConfigItem;
  if (typeof resourceName === "string" && resourceName) item.resourceName = resourceName;
  if (typeof arn === "string" && arn) item.arn = arn;
  item.accountId = accountId;
  item.region = region;
  item.captureTime = captureTime;
  item.status = status;
  item.configuration = configuration;
  item.supplementaryConfiguration = supplementaryConfiguration;
  item.tags = tagsOf(input, configuration, supplementaryConfiguration);
  if (relationships) item.relationships = relationships;
  return item;
}

export function isDeleted(item: Pick<ConfigItem, "status">): boolean {
  return DELETED_STATUSES.has(item.status);
}
