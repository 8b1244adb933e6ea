// What every `remedy` command shares: exit codes, the one-sentence error, the command spec, the stack flags.

import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClientTarget } from "../platform/clients.ts";
import { PermanentError } from "../platform/errors.ts";
import type { CliDeps, CommandDeps, Io, LocalDeps } from "./deps.ts";
import { completeOrganization, resolveStack, STACK_FLAGS, StackError, type StackRefs } from "./stack.ts";
import { terminalText } from "./terminal.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** A problem the user can fix, said in one sentence; its exit code says what kind. */
export class CliError extends PermanentError {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
  }
}

/** What a pause records when no reason is given and none was recorded (here, so pause's help needs no operate.ts). */
export const DEFAULT_PAUSE_REASON = "paused by an operator";

export type Command = (args: string[], io: Io, deps: CommandDeps) => Promise<number>;

/** One command: what `remedy help` and `remedy <command> --help` say about it, and what it does. */
export interface CommandSpec {
  /** The synopsis after "remedy ". */
  usage: string;
  /** What it does (the main help shows it under the synopsis). */
  summary: string;
  /** [flag or argument, what it does], for `remedy <command> --help`. */
  options: readonly (readonly [string, string])[];
  /** Takes --outputs, --region, --profile and the flags that name the stack's resources by hand. */
  stack: boolean;
  run: Command;
}

/** The parseArgs options of every command that finds the stack (see stackHelp in remedy.ts). */
export const stackOptions = {
  outputs: { type: "string" },
  region: { type: "string" },
  profile: { type: "string" },
  ...Object.fromEntries(Object.values(STACK_FLAGS).map((flag) => [flag, { type: "string" }])),
} as const;

/** This repository: where `npm run` and `npm start` run their scripts. */
const PACKAGE_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/[\\/]$/, "");

/**
 * The directory the user ran the command from. `npm run remedy` and `npm start` run in the package root and say
 * where they were started in INIT_CWD; anywhere else (`npx remedy`, `remedy` after npm link) the process runs where
 * the user is, whatever INIT_CWD an outer npm script left behind.
 */
export function callerDirectory(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): string {
  return cwd === PACKAGE_ROOT && env.INIT_CWD && isAbsolute(env.INIT_CWD) ? env.INIT_CWD : cwd;
}

/** A path the user typed, resolved against the directory they typed it in. */
export function userPath(
  path: string,
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): string {
  return resolve(callerDirectory(env, cwd), path);
}

/** Paths inside the caller's directory are shown relative to it (shorter, and the same on every machine). */
export function shownPath(
  path: string,
  env: Record<string, string | undefined> = process.env,
  cwd: string = process.cwd(),
): string {
  const shown = relative(callerDirectory(env, cwd), path);
  return shown && !shown.startsWith("..") && !isAbsolute(shown) ? shown : path;
}

/**
 * The stack a command works on, and the dependencies aimed at it: every AWS call goes to the stack's region (from its
 * outputs; --region may only repeat it) with --profile's credentials, else the SDK's standard chain.
 */
export function stackFor(
  values: Partial<Record<string, string | boolean | undefined>>,
  deps: CliDeps,
  io: Io,
): { refs: StackRefs; deps: CliDeps } {
  const { refs, target } = findStack(values, deps, io);
  return { refs, deps: deps.at?.(target) ?? deps };
}

/**
 * stackFor, as commands call it: the stack is found and checked before the AWS dependencies are asked for, so that a
 * missing stack or an unknown profile is said without loading the AWS SDK (see CommandDeps); then an organisation
 * stack's settings are parsed (completeOrganization).
 */
export async function openStack(
  values: Partial<Record<string, string | boolean | undefined>>,
  deps: CommandDeps,
  io: Io,
): Promise<{ refs: StackRefs; deps: CliDeps }> {
  const { refs, target } = findStack(values, deps, io);
  const aimed = await deps.aws(target);
  return { refs: await completeOrganization(refs), deps: aimed };
}

/** The stack's references, and where its AWS calls go (the stack's region, --profile). */
function findStack(
  values: Partial<Record<string, string | boolean | undefined>>,
  { env, cwd }: Pick<LocalDeps, "env" | "cwd">,
  io: Io,
): { refs: StackRefs; target: ClientTarget } {
  const refs = resolveStack(values, env, callerDirectory(env, cwd ?? process.cwd()));
  const profile = typeof values.profile === "string" ? values.profile : undefined;
  if (profile !== undefined && !profileExists(profile, env)) {
    // The SDK would only say "Could not load credentials from any providers".
    throw new StackError(
      `AWS profile "${profile}" is in neither ${sharedFile("config", env)} nor ${sharedFile("credentials", env)}: check the name (aws configure list-profiles).`,
    );
  }
  const configured = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (refs.region !== undefined && configured !== undefined && configured !== refs.region) {
    io.err(`using the stack's region ${refs.region} (AWS_REGION says ${terminalText(configured)})\n`);
  }
  return { refs, target: { ...(refs.region ? { region: refs.region } : {}), ...(profile ? { profile } : {}) } };
}

/**
 * Who is acting, as recorded with a pause, resume or undo: the caller's AWS identity (its ARN). Refuses credentials
 * for another account than the stack's, before anything is read or changed: a failure (exit 1), not bad usage — the
 * command was right, the credentials are not.
 */
export async function actingIdentity(refs: StackRefs, deps: CliDeps): Promise<string> {
  if (!deps.callerIdentity) return deps.user();
  const identity = await deps.callerIdentity();
  if (refs.accountId !== undefined && identity.account !== refs.accountId) {
    throw new CliError(
      `these credentials are for account ${identity.account} (${identity.arn}), but Remedy's stack is in account ${refs.accountId}: use that account's credentials (--profile).`,
    );
  }
  return identity.arn || deps.user();
}

function sharedFile(kind: "config" | "credentials", env: Record<string, string | undefined>): string {
  const configured = kind === "config" ? env.AWS_CONFIG_FILE : env.AWS_SHARED_CREDENTIALS_FILE;
  return configured ?? join(homedir(), ".aws", kind);
}

/** Whether a named profile is in the shared config ([profile NAME]) or credentials ([NAME]) file, as the SDK reads them. */
export function profileExists(name: string, env: Record<string, string | undefined> = process.env): boolean {
  const sections = (kind: "config" | "credentials") => {
    let text: string;
    try {
      text = readFileSync(sharedFile(kind, env), "utf8");
    } catch {
      return [];
    }
    return [...text.matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)].map((match) => match[1]!.replace(/\s+/g, " "));
  };
  return (
    sections("config").some(
      (section) => section === `profile ${name}` || (name === "default" && section === "default"),
    ) || sections("credentials").includes(name)
  );
}
