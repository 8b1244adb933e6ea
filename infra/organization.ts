// The synth-time switch between single-account and organisation mode: the organisation settings file
// (remedy.organization.json at the repository root, or the file REMEDY_ORGANIZATION_FILE names). The regions come
// from it because every region needs resources with their own provider, which Terraform wants known before a plan.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { canonicalJson } from "../contract/canonical-json.ts";
import { PermanentError } from "../platform/errors.ts";
import { type OrganizationSettings, parseOrganizationSettings } from "../platform/organization.ts";

export const ORGANIZATION_FILE = "remedy.organization.json";
export const ORGANIZATION_FILE_ENV = "REMEDY_ORGANIZATION_FILE";

/** What the stack is synthesized for: one account and region, or an organisation served from a hub. */
export type StackMode = "account" | "organization";
export const STACK_MODES: readonly StackMode[] = ["account", "organization"];

export function stackMode(settings: OrganizationSettings | undefined): StackMode {
  return settings ? "organization" : "account";
}

/** A settings file that is not there (when named explicitly), not JSON or not valid settings: the synth stops. */
export class OrganizationFileError extends PermanentError {
  override name = "OrganizationFileError";
}

/**
 * The organisation settings for this synth: undefined when there is no settings file (single-account mode). A file
 * named by REMEDY_ORGANIZATION_FILE must exist; the default file is simply optional.
 */
export function organizationSettingsFromFile(
  cwd: string = process.cwd(),
  env: Record<string, string | undefined> = process.env,
): OrganizationSettings | undefined {
  const named = env[ORGANIZATION_FILE_ENV]?.trim();
  const path = named ? (isAbsolute(named) ? named : join(cwd, named)) : join(cwd, ORGANIZATION_FILE);
  if (!existsSync(path)) {
    if (named) throw new OrganizationFileError(`${ORGANIZATION_FILE_ENV} names ${path}, which does not exist.`);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new OrganizationFileError(`${path} is not valid JSON: ${(error as Error).message}.`);
  }
  try {
    return parseOrganizationSettings(value, path);
  } catch (error) {
    throw new OrganizationFileError(`${(error as Error).message}.`);
  }
}

/** The settings as every hub function receives them (REMEDY_ORGANIZATION) and the CLI reads them (an output). */
export function organizationSettingsJson(settings: OrganizationSettings): string {
  return canonicalJson(settings);
}
