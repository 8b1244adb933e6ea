// The commands that work on the deployed stack: their flags and help. What they do is in operate.ts, status.ts and
// undo.ts, imported only when the command runs, after its flags are checked: they load the AWS SDK, which help and
// bad usage need not wait for (see CommandDeps in deps.ts).
import { parseArgs } from "node:util";
import { ACCOUNT_ID_PATTERN, DECISION_ID_PATTERN, isActionId, REGION_PATTERN } from "../contract/ids.ts";
import {
  CliError,
  type CommandSpec,
  DEFAULT_PAUSE_REASON,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  openStack,
  stackOptions,
} from "./command.ts";
import { plural } from "./format.ts";
import { terminalText } from "./terminal.ts";

export const PEEK_COMMAND: CommandSpec = {
  usage: "peek [--dlq] [--max N] [--json]",
  summary: `What is queued (or dead-lettered), grouped by instruction, without consuming anything. Organisation mode:
under a heading per account and region.`,
  options: [
    ["--dlq", "the dead-letter queue instead, with why each message is there"],
    ["--max N", "read at most N messages (default 1000)"],
    ["--json", "the full instructions as JSON"],
  ],
  stack: true,
  async run(args, io, deps) {
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
    const stack = await openStack(values, deps, io);
    const { peekCommand } = await import("./operate.ts");
    await peekCommand(stack.refs, { dlq: values.dlq, json: values.json, max }, stack.deps, io);
    return EXIT_OK;
  },
};

export const STATUS_COMMAND: CommandSpec = {
  usage: "status [--slack-secret REF] [--json]",
  summary: `Auto-response on/off, paused or not, breaker, queue and DLQ depth, recent actions. Exits 1 if some part could
not be read (shown as unknown). Organisation mode: paused accounts, recent actions by account and region.`,
  options: [
    [
      "--slack-secret REF",
      "also check the notifier's Slack secret (the stack's slack_secret: ARN, name or ssm:<name>; default REMEDY_SLACK_SECRET), never showing its value",
    ],
    ["--json", "the report as JSON"],
  ],
  stack: true,
  async run(args, io, deps) {
    const { values } = parseArgs({
      args,
      options: { ...stackOptions, "slack-secret": { type: "string" }, json: { type: "boolean", default: false } },
    });
    const slackSecret = values["slack-secret"];
    const stack = await openStack(values, deps, io);
    const { statusCommand } = await import("./status.ts");
    const complete = await statusCommand(
      stack.refs,
      values.json,
      stack.deps,
      io,
      slackSecret === undefined ? {} : { slackSecret },
    );
    // Parts that could not be read are shown as unknown; the exit code says so for scripts.
    return complete ? EXIT_OK : EXIT_FAILED;
  },
};

export const PAUSE_COMMAND: CommandSpec = {
  usage: "pause [--reason TEXT] [--json]",
  summary: `Stop all dispatching now (the coordinator checks this first, every tick). Already paused: nothing is written
unless --reason gives a new reason.`,
  options: [
    [
      "--reason TEXT",
      `why, recorded with your AWS identity (default: an existing pause's reason, else "${DEFAULT_PAUSE_REASON}")`,
    ],
    ["--json", "the result as JSON"],
  ],
  stack: true,
  async run(args, io, deps) {
    const { values } = parseArgs({
      args,
      options: { ...stackOptions, reason: { type: "string" }, json: { type: "boolean", default: false } },
    });
    if (values.reason !== undefined && values.reason.trim() === "") {
      throw new CliError("--reason needs a text (leave it out to keep the reason of an existing pause)", EXIT_USAGE);
    }
    const stack = await openStack(values, deps, io);
    const { pauseCommand } = await import("./operate.ts");
    await pauseCommand(
      stack.refs,
      { json: values.json, ...(values.reason !== undefined ? { reason: values.reason } : {}) },
      stack.deps,
      io,
    );
    return EXIT_OK;
  },
};

export const RESUME_COMMAND: CommandSpec = {
  usage: "resume [--account ID] [--json]",
  summary: `Start dispatching again (only a person resumes after the breaker trips), and say whether auto-response is on:
whether anything will run. Organisation mode: --account ID resumes only that member account's own pause.`,
  options: [
    [
      "--account ID",
      "organisation mode: clear only this account's pause (its breaker tripped); the whole switch and other accounts stay as they are",
    ],
    ["--json", "the result as JSON"],
  ],
  stack: true,
  async run(args, io, deps) {
    const { values } = parseArgs({
      args,
      options: { ...stackOptions, account: { type: "string" }, json: { type: "boolean", default: false } },
    });
    const account = values.account;
    if (account !== undefined && !ACCOUNT_ID_PATTERN.test(account)) {
      throw new CliError(`--account "${terminalText(account)}" is not a 12-digit account id`, EXIT_USAGE);
    }
    const stack = await openStack(values, deps, io);
    if (account === undefined) {
      const { resumeCommand } = await import("./operate.ts");
      await resumeCommand(stack.refs, { json: values.json }, stack.deps, io);
      return EXIT_OK;
    }
    if (!stack.refs.organization) {
      throw new CliError(
        `--account is for a stack in organisation mode (its outputs say mode = "organization"); this one serves one account: "remedy resume" resumes it`,
        EXIT_USAGE,
      );
    }
    const { resumeAccountCommand } = await import("./operate.ts");
    await resumeAccountCommand(stack.refs, account, { json: values.json }, stack.deps, io);
    return EXIT_OK;
  },
};

export const UNDO_COMMAND: CommandSpec = {
  usage: "undo ACTION_ID [--yes] [--exempt-for LENGTH] [--json]",
  summary: `Add back exactly what one action removed, to the live resource (asks first unless --yes). Exits 1 if declined
or if the action cannot be undone. Organisation mode: in the action's member account, through its remedy-member-undo
role, assumed with your credentials.`,
  options: [
    ["ACTION_ID", "the action, as in Slack and remedy status (act-20261120T102819Z-7c1d9e2f)"],
    ["--yes", "do not ask (without it and without a terminal to ask on, nothing is changed)"],
    [
      "--exempt-for LENGTH",
      "leave exactly what is put back as restored this long (30m, 24h, 7d; at most 30d; default 24h; 0: no exemption, Remedy fixes it again at its next detection)",
    ],
    [
      "--json",
      "the result as JSON: outcome, the undo's action id, steps, what was re-added, the exemption (the plan and the question go to stderr)",
    ],
  ],
  stack: true,
  async run(args, io, deps) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        ...stackOptions,
        yes: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        "exempt-for": { type: "string", default: "24h" },
      },
      allowPositionals: true,
    });
    const [actionId] = positionals;
    if (!actionId || positionals.length !== 1) {
      throw new CliError("usage: remedy undo ACTION_ID [--yes] [--exempt-for LENGTH] [--json]", EXIT_USAGE);
    }
    const { parseExemptionLength } = await import("../contract/undo-exemption.ts");
    let exemptForMs: number;
    try {
      exemptForMs = parseExemptionLength(values["exempt-for"]);
    } catch (error) {
      throw new CliError(`--exempt-for: ${terminalText((error as Error).message)}`, EXIT_USAGE);
    }
    if (!isActionId(actionId)) {
      throw new CliError(
        `"${terminalText(actionId)}" is not an action id (they look like act-20261120T102819Z-7c1d9e2f)`,
        EXIT_USAGE,
      );
    }
    const stack = await openStack(values, deps, io);
    const { undoCommand } = await import("./undo.ts");
    const result = await undoCommand(
      stack.refs,
      actionId,
      { yes: values.yes, json: values.json, exemptForMs },
      stack.deps,
      io,
    );
    return result.outcome === "declined" ? EXIT_FAILED : EXIT_OK;
  },
};

export const EXEMPTIONS_COMMAND: CommandSpec = {
  usage: "exemptions [list | lift RESOURCE [--account ID] [--resource-region REGION] | revoke DECISION] [--json]",
  summary: `What undo left as restored: the exact entries each undo put back, until when and by whom (remedy undo
--exempt-for), and the exemptions granted in Slack. lift ends one resource's undo exemption early, revoke one granted
in Slack: Remedy fixes those again at its next detection.`,
  options: [
    ["list", "every entry left as restored, and every exemption object that is not valid (the default)"],
    ["lift RESOURCE", "delete the exemption of the resource with this id (a security group id, a bucket name)"],
    ["revoke DECISION", "end the exemption granted in Slack by this decision (its id as the list shows it)"],
    ["--account ID", "lift: the resource's account, when the id is exempted in several (organisation mode)"],
    ["--resource-region REGION", "lift: the resource's region, when the id is exempted in several"],
    ["--json", "the result as JSON"],
  ],
  stack: true,
  async run(args, io, deps) {
    const { values, positionals } = parseArgs({
      args,
      options: {
        ...stackOptions,
        account: { type: "string" },
        "resource-region": { type: "string" },
        json: { type: "boolean", default: false },
      },
      allowPositionals: true,
    });
    const [verb = "list", resourceId, ...rest] = positionals;
    const usage =
      "usage: remedy exemptions [list | lift RESOURCE [--account ID] [--resource-region REGION] | revoke DECISION] [--json]";
    if (verb === "list") {
      if (resourceId !== undefined || values.account !== undefined || values["resource-region"] !== undefined) {
        throw new CliError(usage, EXIT_USAGE);
      }
      const stack = await openStack(values, deps, io);
      const { exemptionsListCommand } = await import("./exemptions.ts");
      await exemptionsListCommand(stack.refs, { json: values.json }, stack.deps, io);
      return EXIT_OK;
    }
    if (verb === "revoke") {
      const decisionId = resourceId;
      if (!decisionId || rest.length > 0 || values.account !== undefined || values["resource-region"] !== undefined) {
        throw new CliError(usage, EXIT_USAGE);
      }
      if (!DECISION_ID_PATTERN.test(decisionId)) {
        throw new CliError(`"${terminalText(decisionId)}" is not a decision id`, EXIT_USAGE);
      }
      const stack = await openStack(values, deps, io);
      const { exemptionsRevokeCommand } = await import("./exemptions.ts");
      await exemptionsRevokeCommand(stack.refs, decisionId, { json: values.json }, stack.deps, io);
      return EXIT_OK;
    }
    if (verb !== "lift" || !resourceId || rest.length > 0) throw new CliError(usage, EXIT_USAGE);
    const account = values.account;
    if (account !== undefined && !ACCOUNT_ID_PATTERN.test(account)) {
      throw new CliError(`--account "${terminalText(account)}" is not a 12-digit account id`, EXIT_USAGE);
    }
    const region = values["resource-region"];
    if (region !== undefined && !REGION_PATTERN.test(region)) {
      throw new CliError(`--resource-region "${terminalText(region)}" is not an AWS region name`, EXIT_USAGE);
    }
    const stack = await openStack(values, deps, io);
    const { exemptionsLiftCommand } = await import("./exemptions.ts");
    await exemptionsLiftCommand(
      stack.refs,
      { resourceId, ...(account ? { accountId: account } : {}), ...(region ? { region } : {}) },
      { json: values.json },
      stack.deps,
      io,
    );
    return EXIT_OK;
  },
};

export const DLQ_COMMAND: CommandSpec = {
  usage: "dlq redrive [--yes] [--json]",
  summary: `Show which dead-lettered messages are Remedy's own with a valid fix instruction, ask (unless --yes), then move
exactly those back to the remediation queue. Anything else stays in the DLQ, listed with why. Exits 1 if declined
or if some messages could not be moved.`,
  options: [
    ["--yes", "do not ask (without it and without a terminal to ask on, nothing is moved)"],
    ["--json", "the result as JSON (the list and the question go to stderr)"],
  ],
  stack: true,
  async run(args, io, deps) {
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
    const stack = await openStack(values, deps, io);
    const { redriveCommand } = await import("./operate.ts");
    const result = await redriveCommand(stack.refs, { yes: values.yes, json: values.json }, stack.deps, io);
    if (result.outcome === "incomplete") {
      const failed = result.failed.length;
      io.err(
        `remedy dlq: ${plural(failed, "message")} could not be moved; ${failed === 1 ? "it stays" : "they stay"} in the dead-letter queue\n`,
      );
    }
    // Declined, or something approved is still in the DLQ: scripts must not read that as done.
    return result.outcome === "moved" || result.outcome === "nothing-to-redrive" ? EXIT_OK : EXIT_FAILED;
  },
};
