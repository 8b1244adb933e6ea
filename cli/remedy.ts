#!/usr/bin/env -S npx tsx
// The `remedy` command: see HELP. Exit codes: 0 done, 1 failed (AWS, credentials, stack), 2 bad usage or input.
import { readFileSync, realpathSync } from "node:fs";
import { isAbsolute, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { RULES } from "../rules/index.ts";
import { isActionId } from "../shared/ledger.ts";
import { type CliDeps, type Io, realDeps } from "./deps.ts";
import { pauseCommand, peekCommand, redriveCommand, resumeCommand } from "./operate.ts";
import { plan, snapshotItems } from "./plan.ts";
import { renderPlan } from "./plan-output.ts";
import { DEFAULT_SETTINGS, readSettingsFile } from "./settings.ts";
import { explainAwsError, resolveStack, STACK_FLAGS } from "./stack.ts";
import { statusCommand } from "./status.ts";
import { undoCommand } from "./undo.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const EXAMPLE_SNAPSHOT = fileURLToPath(new URL("../examples/config-snapshot.json", import.meta.url));
export const EXAMPLE_SETTINGS = fileURLToPath(new URL("../examples/settings.json", import.meta.url));

const HELP = `remedy — self-healing security for AWS

Usage: remedy <command> [options]

  plan [--snapshot FILE] [--settings FILE] [--json]
      Offline: judge an AWS Config snapshot with Remedy's rules and exemptions; print the findings and the exact
      would-be actions. Without --snapshot, uses the example in examples/.
  peek [--dlq] [--max N] [--json]
      What is queued (or dead-lettered), grouped by instruction, without consuming anything.
  status [--json]
      Auto-response on/off, paused or not, breaker, queue and DLQ depth, recent actions.
  pause [--reason TEXT]      Stop all dispatching now (the coordinator checks this first, every tick).
  resume                     Start dispatching again (only a person resumes after the breaker trips).
  undo ACTION_ID [--yes]     Add back exactly what one action removed, to the live resource (asks first unless --yes).
  dlq redrive [--yes] [--json]
      Show which dead-lettered messages are Remedy's own with a valid fix instruction, ask (unless --yes), then move
      exactly those back to the remediation queue. Anything else stays in the DLQ, listed with why.

Stack: commands other than plan find Remedy's queues and parameters in ./remedy-outputs.json
("terraform output -json > remedy-outputs.json"), or --outputs FILE, or ${Object.values(STACK_FLAGS)
  .map((flag) => `--${flag}`)
  .join(", ")}.
AWS credentials and region come from the standard chain (AWS_PROFILE, AWS_REGION, ...).
`;

/** A problem the user can fix, said in one sentence; its exit code says what kind. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
  }
}

const stackOptions = {
  outputs: { type: "string" },
  ...Object.fromEntries(Object.values(STACK_FLAGS).map((flag) => [flag, { type: "string" }])),
} as const;

type Command = (args: string[], io: Io, deps: CliDeps) => Promise<number>;

const planCommand: Command = async (args, io, deps) => {
  const { values } = parseArgs({
    args,
    options: { snapshot: { type: "string" }, settings: { type: "string" }, json: { type: "boolean", default: false } },
  });
  const snapshotPath = values.snapshot ?? EXAMPLE_SNAPSHOT;
  const settingsPath = values.settings ?? (values.snapshot ? undefined : EXAMPLE_SETTINGS);
  let text: string;
  try {
    text = readFileSync(snapshotPath, "utf8");
  } catch (error) {
    throw new CliError(`cannot read snapshot ${snapshotPath}: ${(error as NodeJS.ErrnoException).code}`, EXIT_USAGE);
  }
  const settings = settingsPath ? readSettingsFile(settingsPath) : DEFAULT_SETTINGS;
  const result = plan(snapshotItems(text, snapshotPath), RULES, settings, deps.now());
  io.out(
    values.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : renderPlan(result, {
          snapshot: shownPath(snapshotPath),
          settings: settingsPath ? shownPath(settingsPath) : "(defaults)",
        }),
  );
  return EXIT_OK;
};

/** Paths inside the working directory are shown relative to it (shorter, and the same on every machine). */
function shownPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith("..") && !isAbsolute(shown) ? shown : path;
}

const peek: Command = async (args, io, deps) => {
  const { values } = parseArgs({
    args,
    options: {
      ...stackOptions,
      dlq: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      max: { type: "string", default: "1000" },
    },
  });
  const max = Number(values.max);
  if (!Number.isInteger(max) || max < 1) throw new CliError(`--max must be a positive whole number`, EXIT_USAGE);
  await peekCommand(resolveStack(values, deps.env), { dlq: values.dlq, json: values.json, max }, deps, io);
  return EXIT_OK;
};

const pause: Command = async (args, io, deps) => {
  const { values } = parseArgs({
    args,
    options: { ...stackOptions, reason: { type: "string", default: "paused by an operator" } },
  });
  await pauseCommand(resolveStack(values, deps.env), values.reason, deps, io);
  return EXIT_OK;
};

const resumeCmd: Command = async (args, io, deps) => {
  const { values } = parseArgs({ args, options: stackOptions });
  await resumeCommand(resolveStack(values, deps.env), deps, io);
  return EXIT_OK;
};

const dlq: Command = async (args, io, deps) => {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...stackOptions,
      yes: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (positionals[0] !== "redrive" || positionals.length !== 1) {
    throw new CliError(`usage: remedy dlq redrive [--yes] [--json]`, EXIT_USAGE);
  }
  const result = await redriveCommand(resolveStack(values, deps.env), { yes: values.yes, json: values.json }, deps, io);
  if (result.outcome === "incomplete") {
    io.err(`remedy dlq: ${result.failed.length} messages could not be moved; they stay in the dead-letter queue\n`);
  }
  // Declined, or something approved is still in the DLQ: scripts must not read that as done.
  return result.outcome === "moved" || result.outcome === "nothing-to-redrive" ? EXIT_OK : EXIT_FAILED;
};

const status: Command = async (args, io, deps) => {
  const { values } = parseArgs({ args, options: { ...stackOptions, json: { type: "boolean", default: false } } });
  const complete = await statusCommand(resolveStack(values, deps.env), values.json, deps, io);
  // Parts that could not be read are shown as unknown; the exit code says so for scripts.
  return complete ? EXIT_OK : EXIT_FAILED;
};

const undo: Command = async (args, io, deps) => {
  const { values, positionals } = parseArgs({
    args,
    options: { ...stackOptions, yes: { type: "boolean", default: false } },
    allowPositionals: true,
  });
  const [actionId] = positionals;
  if (!actionId || positionals.length !== 1) throw new CliError("usage: remedy undo ACTION_ID [--yes]", EXIT_USAGE);
  if (!isActionId(actionId)) {
    throw new CliError(`"${actionId}" is not an action id (they look like act-20261120T102819Z-7c1d9e2f)`, EXIT_USAGE);
  }
  const outcome = await undoCommand(resolveStack(values, deps.env), actionId, { yes: values.yes }, deps, io);
  return outcome === "declined" ? EXIT_FAILED : EXIT_OK;
};

export const COMMANDS: Record<string, Command> = {
  status,
  undo,
  plan: planCommand,
  peek,
  pause,
  resume: resumeCmd,
  dlq,
};

const USAGE_ERRORS = new Set(["SettingsError", "SnapshotError", "RuleParameterError", "StackError"]);
// UndoError (not undoable) and LedgerRecordNotFoundError are plain failures: exit 1 with their sentence.

export async function runCli(argv: string[], io: Io, deps: CliDeps = realDeps()): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") {
    io.out(HELP);
    return command ? EXIT_OK : EXIT_USAGE;
  }
  const run = COMMANDS[command];
  if (!run) {
    io.err(`remedy: unknown command "${command}". Run "remedy help" for the list.\n`);
    return EXIT_USAGE;
  }
  try {
    return await run(rest, io, deps);
  } catch (error) {
    const name = (error as Error).name;
    const code =
      error instanceof CliError
        ? error.exitCode
        : USAGE_ERRORS.has(name) || String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS")
          ? EXIT_USAGE
          : EXIT_FAILED;
    io.err(`remedy ${command}: ${explainAwsError(error) ?? (error as Error).message}\n`);
    return code;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  }).then((code) => {
    process.exitCode = code;
  });
}
