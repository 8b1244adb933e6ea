// `remedy plan`: the command's flags and help; the judging is in plan.ts, the words in plan-output.ts.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RULES } from "../rules/index.ts";
import { CliError, type CommandSpec, EXIT_OK, EXIT_USAGE, shownPath, userPath } from "./command.ts";
import { plan, snapshotItems } from "./plan.ts";
import { renderPlan } from "./plan-output.ts";
import { DEFAULT_SETTINGS, readSettingsFile } from "./settings.ts";

export const EXAMPLE_SNAPSHOT = fileURLToPath(new URL("../examples/config-snapshot.json", import.meta.url));
export const EXAMPLE_SETTINGS = fileURLToPath(new URL("../examples/settings.json", import.meta.url));

export const PLAN_COMMAND: CommandSpec = {
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
  async run(args, io, deps) {
    const { values } = parseArgs({
      args,
      options: {
        snapshot: { type: "string" },
        settings: { type: "string" },
        json: { type: "boolean", default: false },
      },
    });
    const snapshotPath = values.snapshot !== undefined ? userPath(values.snapshot, deps.env) : EXAMPLE_SNAPSHOT;
    const settingsPath =
      values.settings !== undefined
        ? userPath(values.settings, deps.env)
        : values.snapshot
          ? undefined
          : EXAMPLE_SETTINGS;
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
            snapshot: shownPath(snapshotPath, deps.env),
            settings: settingsPath ? shownPath(settingsPath, deps.env) : "(defaults)",
          }),
    );
    return EXIT_OK;
  },
};
