// One normaliser for Config items, whichever door they came through: the invoking event (JSON objects,
// `awsAccountId`, `ARN`), or GetResourceConfigHistory / BatchGetResourceConfig (`accountId`, `arn`, and
// `configuration` plus every supplementaryConfiguration value as JSON strings, capture time as a Date).

import { PermanentError } from "../platform/errors.ts";
import type { ConfigItem } from "./types.ts";

export class InvalidConfigItemError extends PermanentError {
  override name = "InvalidConfigItemError";
}

export const DELETED_STATUSES: ReadonlySet<string> = new Set(["ResourceDeleted", "ResourceDeletedNotRecorded"]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses JSON-in-strings, including the doubly encoded values the API sometimes returns. */
export function decodeJsonString(value: unknown, field: string): unknown {
  let decoded = value;
  for (let depth = 0; depth < 3 && typeof decoded === "string"; depth++) {
    const text = decoded.trim();
    if (!/^[[{"]|^null$/.test(text)) break;
    try {
      decoded = JSON.parse(text);
    } catch (error) {
      throw new InvalidConfigItemError(`${field} is not valid JSON: ${(error as Error).message}`);
    }
  }
  return decoded;
}

function requiredString(raw: Record<string, unknown>, field: string, ...aliases: string[]): string {
  for (const key of [field, ...aliases]) {
    const value = raw[key];
    if (typeof value === "string" && value.length > 0) return value;
  }
  throw new InvalidConfigItemError(`configuration item has no ${[field, ...aliases].join("/")}`);
}

function captureTimeOf(raw: Record<string, unknown>): string {
  const value = raw.configurationItemCaptureTime;
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
      if (isRecord(tagSet) && isRecord(tagSet.tags)) {
        for (const [key, value] of Object.entries(tagSet.tags)) tags[key] = String(value ?? "");
      }
    }
  }
  if (isRecord(raw.tags)) {
    for (const [key, value] of Object.entries(raw.tags)) tags[key] = String(value ?? "");
  }
  return tags;
}

export function normalizeConfigItem(input: unknown): ConfigItem {
  if (!isRecord(input)) throw new InvalidConfigItemError("configuration item is not an object");
  const resourceType = requiredString(input, "resourceType");
  const resourceId = requiredString(input, "resourceId");
  const accountId = requiredString(input, "awsAccountId", "accountId");
  const region = requiredString(input, "awsRegion");
  const status = requiredString(input, "configurationItemStatus");
  const captureTime = captureTimeOf(input);

  const decodedConfiguration = decodeJsonString(input.configuration ?? null, "configuration");
  if (decodedConfiguration !== null && !isRecord(decodedConfiguration)) {
    throw new InvalidConfigItemError("configuration is neither an object nor null");
  }
  const configuration = decodedConfiguration;

  const supplementaryConfiguration: Record<string, unknown> = {};
  const rawSupplementary = input.supplementaryConfiguration ?? {};
  if (!isRecord(rawSupplementary)) throw new InvalidConfigItemError("supplementaryConfiguration is not an object");
  for (const [key, value] of Object.entries(rawSupplementary)) {
    supplementaryConfiguration[key] = decodeJsonString(value, `supplementaryConfiguration.${key}`);
  }

  const arn = input.ARN ?? input.arn;
  const resourceName = input.resourceName;
  return {
    resourceType,
    resourceId,
    ...(typeof resourceName === "string" && resourceName ? { resourceName } : {}),
    ...(typeof arn === "string" && arn ? { arn } : {}),
    accountId,
    region,
    captureTime,
    status,
    configuration,
    supplementaryConfiguration,
    tags: tagsOf(input, configuration, supplementaryConfiguration),
  };
}

export function isDeleted(item: Pick<ConfigItem, "status">): boolean {
  return DELETED_STATUSES.has(item.status);
}
