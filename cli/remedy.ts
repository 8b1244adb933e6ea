#!/usr/bin/env -S npx tsx
// The `remedy` command: see `remedy help`. Exit codes: 0 done, 1 failed (AWS, credentials, stack),
// 2 bad usage or input file.
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { RULES } from "../rules/index.ts";
import { plan, snapshotItems } from "./plan.ts";
import { renderPlan } from "./plan-output.ts";
import { DEFAULT_SETTINGS, readSettingsFile } from "./settings.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export const EXAMPLE_SNAPSHOT = fileURLToPath(new URL("../examples/config-snapshot.json", import.meta.url));
export const EXAMPLE_SETTINGS = fileURLToPath(new URL("../examples/settings.json", import.meta.url));

/** A problem the user can fix, said in one sentence; exit code says what kind. */
export class CliError extends Error {
  override name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
  ) {
    super(message);
  }
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const HELP = `remedy — self-healing security for AWS

Usage: remedy <command> [options]

  plan [--snapshot FILE] [--settings FILE] [--json]
      Offline: judge an AWS Config snapshot with Remedy's rules and exemptions and print what would be done.
      Without --snapshot, uses the example in examples/.

Common options: --json (machine-readable output), --help
`;

async function planCommand(args: string[], io: Io): Promise<number> {
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
  const result = plan(snapshotItems(text, snapshotPath), RULES, settings, new Date());
  io.out(
    values.json
      ? `${JSON.stringify(result, null, 2)}\n`
      : renderPlan(result, { snapshot: snapshotPath, settings: settingsPath ?? "(defaults)" }),
  );
  return EXIT_OK;
}

const COMMANDS: Record<string, (args: string[], io: Io) => Promise<number>> = {
  plan: planCommand,
};

export async function runCli(argv: string[], io: Io): Promise<number> {
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
    return await run(rest, io);
  } catch (error) {
    const usage =
      error instanceof CliError
        ? error.exitCode
        : ["SettingsError", "SnapshotError", "RuleParameterError"].includes((error as Error).name) ||
            (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
          ? EXIT_USAGE
          : EXIT_FAILED;
    io.err(`remedy ${command}: ${(error as Error).message}\n`);
    return usage;
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
