// The `remedy` command (run by bin/remedy.js, or `tsx cli/remedy.ts`): see mainHelp() and each command's spec.
import { Console } from "node:console";
import { readFileSync, realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { CliError, type CommandSpec, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./command.ts";
import { type CliDeps, givenDeps, type Host, type Io, realDeps } from "./deps.ts";
import {
  DLQ_COMMAND,
  EXEMPTIONS_COMMAND,
  PAUSE_COMMAND,
  PEEK_COMMAND,
  RESUME_COMMAND,
  STATUS_COMMAND,
  UNDO_COMMAND,
} from "./operate-commands.ts";
import { PLAN_COMMAND } from "./plan-command.ts";
import { DEFAULT_OUTPUTS_FILE, explainAwsError, STACK_FLAGS } from "./stack.ts";
import { terminalText } from "./terminal.ts";

export { CliError, type CommandSpec, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./command.ts";
export { EXAMPLE_SETTINGS, EXAMPLE_SNAPSHOT } from "./plan-command.ts";

/** In the order the main help lists them. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  plan: PLAN_COMMAND,
  peek: PEEK_COMMAND,
  status: STATUS_COMMAND,
  pause: PAUSE_COMMAND,
  resume: RESUME_COMMAND,
  undo: UNDO_COMMAND,
  exemptions: EXEMPTIONS_COMMAND,
  dlq: DLQ_COMMAND,
};

function stackHelp(who: string): string {
  return `Stack: ${who} Remedy's queues and parameters in --outputs FILE, else $REMEDY_OUTPUTS, else
./${DEFAULT_OUTPUTS_FILE} ("terraform output -json > ${DEFAULT_OUTPUTS_FILE}"); these name one by hand, over the file:
${Object.values(STACK_FLAGS)
  .map((flag) => `--${flag}`)
  .join(", ")}.
AWS: every call goes to the stack's region (its "region" output; --region REGION may only repeat it, and is needed
only without outputs), with the credentials of --profile NAME, else the standard chain (AWS_PROFILE, keys, SSO, ...).
Commands that change something (and plan --live) refuse credentials for another account than the stack's.`;
}

const EXIT_CODES_HELP = [
  `Exit codes: ${EXIT_OK} done; ${EXIT_FAILED} failed (AWS, credentials, stack) or not done (declined, status incomplete,`,
  `messages left in the DLQ, plan --strict with items not judged); ${EXIT_USAGE} bad usage or input (unknown command or`,
  "option, unreadable snapshot or settings).",
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
${stackHelp("every command but an offline plan finds")}`,
    EXIT_CODES_HELP,
  ].join("\n\n")}\n`;
}

export function commandHelp(spec: CommandSpec): string {
  const options: (readonly [string, string])[] = [
    ...spec.options,
    ...(spec.stack
      ? ([
          ["--outputs FILE", "Remedy's Terraform outputs (see Stack below)"],
          ["--region REGION", "the stack's region (plan --live: the region to read), when no outputs say it"],
          ["--profile NAME", "AWS credentials from this profile of ~/.aws/config"],
        ] as const)
      : []),
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

/**
 * Runs one command line. Loads only what it runs: the commands' help is static, each imports its implementation (and
 * the AWS SDK, over a second to load) only when it runs, and asks for AWS dependencies only once it needs them (see
 * CommandDeps in deps.ts). Tests give their own dependencies, whole; without them, the real ones come from `host`
 * (main's: the process, or a test's in-process one).
 */
export async function runCli(argv: string[], io: Io, deps?: CliDeps, host: Host = process): Promise<number> {
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
    return await spec.run(rest, io, deps ? givenDeps(deps) : realDeps(host));
  } catch (error) {
    const name = (error as Error).name;
    const parseError = String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS");
    const code =
      error instanceof CliError ? error.exitCode : USAGE_ERRORS.has(name) || parseError ? EXIT_USAGE : EXIT_FAILED;
    const hint = parseError ? ` (see "remedy ${command} --help")` : "";
    // Error sentences can carry AWS data (a resource's name, a service's message): shown with controls escaped.
    io.err(`remedy ${command}: ${terminalText(explainAwsError(error) ?? (error as Error).message)}${hint}\n`);
    return code;
  }
}

/**
 * The process entry (bin/remedy.js, or `tsx cli/remedy.ts`): the real streams, and the exit code as the process's.
 * Only what a command writes with io.out reaches stdout (with --json, the JSON alone): console output from any
 * library goes to stderr. Tests run the same entry in process with a host of their own (streams, environment,
 * working directory, see Host): then the process's exit code and console are left as they were.
 */
export async function main(argv: readonly string[] = process.argv.slice(2), host: Host = process): Promise<number> {
  const previousConsole = globalThis.console;
  globalThis.console = new Console(host.stderr, host.stderr);
  try {
    const code = await runCli(
      [...argv],
      {
        out: (text) => host.stdout.write(text),
        err: (text) => host.stderr.write(text),
        // Progress only on a terminal; tables fit the terminal they are printed on (a pipe gets them whole).
        interactive: host.stderr.isTTY === true,
        ...(host.stdout.isTTY && host.stdout.columns ? { columns: host.stdout.columns } : {}),
      },
      undefined,
      host,
    );
    if (host === process) process.exitCode = code;
    return code;
  } finally {
    if (host !== process) globalThis.console = previousConsole;
  }
}

// Run directly (`tsx cli/remedy.ts`, as `npm run remedy` does); bin/remedy.js imports this module and calls main().
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) void main();
