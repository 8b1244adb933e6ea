// The `remedy` command (run by bin/remedy.js, or `tsx cli/remedy.ts`): see mainHelp() and each command's spec.
import { Console } from "node:console";
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
import { DEFAULT_OUTPUTS_FILE, explainAwsError, resolveStack, STACK_FLAGS } from "./stack.ts";
import { statusCommand } from "./status.ts";
import { undoCommand } from "./undo.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const EXAMPLE_SNAPSHOT = fileURLToPath(new URL("../examples/config-snapshot.json", import.meta.url));
export const EXAMPLE_SETTINGS = fileURLToPath(new URL("../examples/settings.json", import.meta.url));

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
  const { values } = parseArgs({
    args,
    options: { ...stackOptions, "slack-secret": { type: "string" }, json: { type: "boolean", default: false } },
  });
  const slackSecret = values["slack-secret"];
  const complete = await statusCommand(
    resolveStack(values, deps.env),
    values.json,
    deps,
    io,
    slackSecret === undefined ? {} : { slackSecret },
  );
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

/** One command: what `remedy help` and `remedy <command> --help` say about it, and what it does. */
export interface CommandSpec {
  /** The synopsis after "remedy ". */
  usage: string;
  /** What it does (the main help shows it under the synopsis). */
  summary: string;
  /** [flag or argument, what it does], for `remedy <command> --help`. */
  options: readonly (readonly [string, string])[];
  /** Takes --outputs and the flags that name the stack's resources by hand. */
  stack: boolean;
  run: Command;
}

/** In the order the main help lists them. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  plan: {
    usage: "plan [--snapshot FILE] [--settings FILE] [--json]",
    summary: `Offline: judge an AWS Config snapshot with Remedy's rules and exemptions; print the findings and the exact
would-be actions. Without --snapshot, uses the example in examples/. Needs no AWS credentials.`,
    options: [
      ["--snapshot FILE", "an AWS Config snapshot (the file Config delivers to S3, gunzipped)"],
      [
        "--settings FILE",
        "rule parameters, grace period, S3 fix strategy, allowlist (without --snapshot: the example's)",
      ],
      ["--json", "the plan as JSON"],
    ],
    stack: false,
    run: planCommand,
  },
  peek: {
    usage: "peek [--dlq] [--max N] [--json]",
    summary: "What is queued (or dead-lettered), grouped by instruction, without consuming anything.",
    options: [
      ["--dlq", "the dead-letter queue instead, with why each message is there"],
      ["--max N", "read at most N messages (default 1000)"],
      ["--json", "the full instructions as JSON"],
    ],
    stack: true,
    run: peek,
  },
  status: {
    usage: "status [--slack-secret REF] [--json]",
    summary: `Auto-response on/off, paused or not, breaker, queue and DLQ depth, recent actions. Exits 1 if some part could
not be read (shown as unknown).`,
    options: [
      [
        "--slack-secret REF",
        "also check the notifier's Slack secret (the stack's slack_secret: ARN, name or ssm:<name>; default REMEDY_SLACK_SECRET), never showing its value",
      ],
      ["--json", "the report as JSON"],
    ],
    stack: true,
    run: status,
  },
  pause: {
    usage: "pause [--reason TEXT]",
    summary: "Stop all dispatching now (the coordinator checks this first, every tick).",
    options: [["--reason TEXT", 'recorded with who paused (default "paused by an operator")']],
    stack: true,
    run: pause,
  },
  resume: {
    usage: "resume",
    summary: "Start dispatching again (only a person resumes after the breaker trips).",
    options: [],
    stack: true,
    run: resumeCmd,
  },
  undo: {
    usage: "undo ACTION_ID [--yes]",
    summary: `Add back exactly what one action removed, to the live resource (asks first unless --yes). Exits 1 if declined
or if the action cannot be undone.`,
    options: [
      ["ACTION_ID", "the action, as in Slack and remedy status (act-20261120T102819Z-7c1d9e2f)"],
      ["--yes", "do not ask (without it and without a terminal to ask on, nothing is changed)"],
    ],
    stack: true,
    run: undo,
  },
  dlq: {
    usage: "dlq redrive [--yes] [--json]",
    summary: `Show which dead-lettered messages are Remedy's own with a valid fix instruction, ask (unless --yes), then move
exactly those back to the remediation queue. Anything else stays in the DLQ, listed with why. Exits 1 if declined
or if some messages could not be moved.`,
    options: [
      ["--yes", "do not ask (without it and without a terminal to ask on, nothing is moved)"],
      ["--json", "the result as JSON (the list and the question go to stderr)"],
    ],
    stack: true,
    run: dlq,
  },
};

function stackHelp(who: string): string {
  return `Stack: ${who} Remedy's queues and parameters in --outputs FILE, else $REMEDY_OUTPUTS, else
./${DEFAULT_OUTPUTS_FILE} ("terraform output -json > ${DEFAULT_OUTPUTS_FILE}"); these name one by hand, over the file:
${Object.values(STACK_FLAGS)
  .map((flag) => `--${flag}`)
  .join(", ")}.
AWS credentials and region come from the standard chain (AWS_PROFILE, AWS_REGION, ...).`;
}

const EXIT_CODES_HELP = [
  `Exit codes: ${EXIT_OK} done; ${EXIT_FAILED} failed (AWS, credentials, stack) or not done (declined, status incomplete,`,
  `messages left in the DLQ); ${EXIT_USAGE} bad usage or input (unknown command or option, unreadable snapshot or settings).`,
].join("\n");

const indent = (text: string, by: string) => text.replace(/^/gm, by);

export function mainHelp(): string {
  const commands = Object.values(COMMANDS).map((spec) => `  ${spec.usage}\n${indent(spec.summary, "      ")}`);
  return `${[
    "remedy — self-healing security for AWS",
    `Usage: remedy <command> [options]
       remedy <command> --help      that command's options
       remedy --version`,
    `Commands:\n${commands.join("\n")}`,
    `With --json, stdout carries the JSON alone: progress, questions and warnings go to stderr.
${stackHelp("commands other than plan find")}`,
    EXIT_CODES_HELP,
  ].join("\n\n")}\n`;
}

export function commandHelp(spec: CommandSpec): string {
  const options: (readonly [string, string])[] = [
    ...spec.options,
    ...(spec.stack ? [["--outputs FILE", "Remedy's Terraform outputs (see Stack below)"] as const] : []),
    ["-h, --help", "show this help"],
  ];
  const width = Math.max(...options.map(([flag]) => flag.length));
  return `${[
    `Usage: remedy ${spec.usage}`,
    spec.summary,
    `Options:\n${options.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`).join("\n")}`,
    ...(spec.stack ? [stackHelp("this command finds")] : []),
    EXIT_CODES_HELP,
  ].join("\n\n")}\n`;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

/** `--help` or `-h` among a command's options (not after "--", where it would be an argument). */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

const USAGE_ERRORS = new Set(["SettingsError", "SnapshotError", "RuleParameterError", "StackError"]);
// UndoError (not undoable) and LedgerRecordNotFoundError are plain failures: exit 1 with their sentence.

export async function runCli(argv: string[], io: Io, deps: CliDeps = realDeps()): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v") {
    io.out(`${packageVersion()}\n`);
    return EXIT_OK;
  }
  if (command === "help" || command === "--help" || command === "-h") {
    const topic = rest[0];
    if (topic === undefined) {
      io.out(mainHelp());
      return EXIT_OK;
    }
    const spec = COMMANDS[topic];
    if (spec) {
      io.out(commandHelp(spec));
      return EXIT_OK;
    }
    io.err(`remedy help: unknown command "${topic}". Run "remedy help" for the list.\n`);
    return EXIT_USAGE;
  }
  if (!command) {
    // Bad usage: the help goes where errors go, so stdout stays empty.
    io.err(mainHelp());
    return EXIT_USAGE;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    const what = command.startsWith("-") ? "option" : "command";
    io.err(`remedy: unknown ${what} "${command}". Run "remedy help" for the list.\n`);
    return EXIT_USAGE;
  }
  if (asksForHelp(rest)) {
    io.out(commandHelp(spec));
    return EXIT_OK;
  }
  try {
    return await spec.run(rest, io, deps);
  } catch (error) {
    const name = (error as Error).name;
    const parseError = String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS");
    const code =
      error instanceof CliError ? error.exitCode : USAGE_ERRORS.has(name) || parseError ? EXIT_USAGE : EXIT_FAILED;
    const hint = parseError ? ` (see "remedy ${command} --help")` : "";
    io.err(`remedy ${command}: ${explainAwsError(error) ?? (error as Error).message}${hint}\n`);
    return code;
  }
}

/**
 * The process entry (bin/remedy.js, or `tsx cli/remedy.ts`): the real streams, and the exit code as the process's.
 * Only what a command writes with io.out reaches stdout (with --json, the JSON alone): console output from any
 * library goes to stderr.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  globalThis.console = new Console(process.stderr, process.stderr);
  const code = await runCli([...argv], {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
  process.exitCode = code;
  return code;
}

// Run directly (`tsx cli/remedy.ts`, as `npm run remedy` does); bin/remedy.js imports this module and calls main().
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) void main();
