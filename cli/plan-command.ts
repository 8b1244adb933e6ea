// `remedy plan`: the command's flags and help; the judging is in plan.ts, the live reading in live-plan.ts, the words
// in plan-output.ts. Those are imported when plan runs, not for help; live-plan.ts (and the AWS SDK) only for --live
// (see CommandDeps in deps.ts).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { UndoExemptionRecord } from "../contract/undo-exemption.ts";
import type { AllowlistEntry, ExemptionProblem } from "../detection/exemptions.ts";
import {
  CliError,
  type CommandSpec,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  openStack,
  shownPath,
  stackOptions,
  userPath,
} from "./command.ts";
import type { CliDeps, CommandDeps, Io } from "./deps.ts";
import type { UndoExemptionsView } from "./exemptions-view.ts";
import type { LiveReading } from "./live-plan.ts";
import type { AccountBlockState, AutoResponseState, PlanReport } from "./plan.ts";
import type { PlanSettings } from "./settings.ts";
import { terminalJson } from "./terminal.ts";

export const EXAMPLE_SNAPSHOT = fileURLToPath(new URL("../examples/config-snapshot.json", import.meta.url));
export const EXAMPLE_SETTINGS = fileURLToPath(new URL("../examples/settings.json", import.meta.url));

const STACK_OPTION_NAMES = Object.keys(stackOptions);

export const PLAN_COMMAND: CommandSpec = {
  usage: "plan [--snapshot FILE... | --live] [--settings FILE] [--undo-exemptions FILE] [--strict] [--json]",
  summary: `Judge resources with Remedy's rules and exemptions; print the findings and the exact would-be actions.
Offline on an AWS Config snapshot (without --snapshot, the example in examples/; needs no AWS credentials), or
--live on your account and region, read-only: nothing is changed and nothing is queued; with the stack's outputs
it shows the real auto-response schedule and judges with the exemptions granted in Slack too.`,
  options: [
    [
      "--snapshot FILE",
      "an AWS Config snapshot, as Config delivers it to S3 (.json.gz) or gunzipped; give it again for more (one per account and region: the plan is then grouped by account and region)",
    ],
    [
      "--live",
      "read your account instead (read-only): through AWS Config where it records, else from EC2 and S3 directly",
    ],
    [
      "--settings FILE",
      "rule parameters, grace period, S3 fix strategy, enableAutoResponse, allowlist (without --snapshot or --live: the example's)",
    ],
    [
      "--undo-exemptions FILE",
      "offline: what undo left as restored, as `remedy exemptions --json` prints it (--live reads the stack's own)",
    ],
    ["--strict", "exit 1 when an item could not be read or judged, or an allowlist entry was ignored"],
    ["--json", "the plan as JSON"],
  ],
  stack: true,
  async run(args, io, deps) {
    const { values } = parseArgs({
      args,
      options: {
        snapshot: { type: "string", multiple: true },
        settings: { type: "string" },
        "undo-exemptions": { type: "string" },
        live: { type: "boolean", default: false },
        strict: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        ...stackOptions,
      },
    });
    const stackFlags = STACK_OPTION_NAMES.filter((name) => (values as Record<string, unknown>)[name] !== undefined);
    const snapshots = values.snapshot ?? [];
    if (values.live && snapshots.length > 0) {
      throw new CliError("give --snapshot FILE or --live, not both", EXIT_USAGE);
    }
    if (!values.live && stackFlags.length > 0) {
      throw new CliError(`--${stackFlags[0]} is for --live (an offline plan reads no stack)`, EXIT_USAGE);
    }
    if (values.live && values["undo-exemptions"] !== undefined) {
      throw new CliError("--undo-exemptions is for an offline plan (--live reads the stack's own)", EXIT_USAGE);
    }
    const { DEFAULT_SETTINGS, readSettingsFile } = await import("./settings.ts");
    const { plan, snapshotItems, strictProblems } = await import("./plan.ts");
    const { progressReporter, renderPlan } = await import("./plan-output.ts");
    const { RULES } = await import("../detection/rules.ts");
    const settingsPath =
      values.settings !== undefined
        ? userPath(values.settings, deps.env, deps.cwd)
        : snapshots.length > 0 || values.live
          ? undefined
          : EXAMPLE_SETTINGS;
    const settingsFile = settingsPath ? shownPath(settingsPath, deps.env, deps.cwd) : "(defaults)";
    const settings = settingsPath ? readSettingsFile(settingsPath, settingsFile) : DEFAULT_SETTINGS;
    const progress = progressReporter(io);

    let items: unknown[];
    let context: Pick<
      PlanReport,
      "mode" | "snapshot" | "snapshots" | "live" | "autoResponse" | "accountPublicAccessBlock" | "notRead"
    >;
    let judgeWith: PlanSettings = settings;
    let undo: UndoExemptionsRead = { records: [] };
    let slack: SlackAllowlistRead = { entries: [], problems: [] };
    /** The stack is in organisation mode (live, from its outputs): the plan is grouped by account and region. */
    let organization = false;
    if (values.live) {
      const { snapshot: _none, ...stackValues } = values;
      const live = await readLivePlan(stackValues, io, deps, settings, progress);
      organization = live.organization;
      undo = live.undo;
      slack = live.slack;
      items = live.reading.items;
      const block = accountBlockFor(live.reading.accountBlock, settings);
      judgeWith = {
        ...settings,
        // As the deployed functions judge: the settings' allowlist, then the stack's Slack part after it.
        allowlist: [...settings.allowlist, ...slack.entries],
        allowlistProblems: [...settings.allowlistProblems, ...slack.problems],
        accountFacts: block?.flags !== undefined ? { s3PublicAccessBlock: block.flags } : {},
      };
      context = {
        mode: "live",
        live: live.reading.source,
        autoResponse: live.autoResponse,
        ...(block ? { accountPublicAccessBlock: block } : {}),
        notRead: live.reading.notRead,
      };
    } else {
      const paths =
        snapshots.length > 0 ? snapshots.map((path) => userPath(path, deps.env, deps.cwd)) : [EXAMPLE_SNAPSHOT];
      const shown = paths.map((path) => shownPath(path, deps.env, deps.cwd));
      items = paths.flatMap((path, index) => {
        let content: Buffer;
        try {
          content = readFileSync(path);
        } catch (error) {
          throw new CliError(
            `cannot read snapshot ${shown[index]}: ${(error as NodeJS.ErrnoException).code}`,
            EXIT_USAGE,
          );
        }
        return snapshotItems(content, shown[index]!);
      });
      const exemptionsFile = values["undo-exemptions"];
      if (exemptionsFile !== undefined) undo = await undoExemptionsOffline(exemptionsFile, deps);
      const block = settings.accountFacts.s3PublicAccessBlock;
      context = {
        mode: "offline",
        ...(shown.length === 1 ? { snapshot: shown[0]! } : { snapshots: shown }),
        autoResponse: { enabled: settings.enableAutoResponse, from: "settings" },
        ...(block !== undefined ? { accountPublicAccessBlock: { from: "settings", flags: block } } : {}),
        notRead: [],
      };
    }

    const result = plan(
      items,
      RULES,
      judgeWith,
      deps.now(),
      (done, total) => progress(`judging ${done} of ${total} items`),
      undo.records,
    );
    const { accountRegions, ...judged } = result;
    // Grouped by account and region in organisation mode, or when the items are of several: else as it always was.
    const grouped = organization || (accountRegions?.length ?? 0) > 1;
    const report: PlanReport = {
      ...context,
      settingsFile,
      ...judged,
      ...(grouped && accountRegions ? { accountRegions } : {}),
      ...(undo.view ? { undoExemptions: undo.view } : {}),
      ...(undo.error ? { undoExemptionsError: undo.error } : {}),
      ...(slack.error ? { slackAllowlistError: slack.error } : {}),
    };
    io.out(values.json ? `${terminalJson(report)}\n` : renderPlan(report, { columns: io.columns }));
    const problems = strictProblems(report);
    if (values.strict && problems !== undefined) {
      io.err(`remedy plan: --strict: ${problems}\n`);
      return EXIT_FAILED;
    }
    return EXIT_OK;
  },
};

/** Undo's exemptions a plan judges with: the records, how they are shown, or why they could not be read. */
interface UndoExemptionsRead {
  records: UndoExemptionRecord[];
  view?: UndoExemptionsView;
  error?: string;
}

/** --undo-exemptions FILE: what `remedy exemptions --json` printed (or records), strictly checked. */
async function undoExemptionsOffline(path: string, deps: CommandDeps): Promise<UndoExemptionsRead> {
  const { undoExemptionsFromFile, undoExemptionsView } = await import("./exemptions-view.ts");
  const full = userPath(path, deps.env, deps.cwd);
  const shown = shownPath(full, deps.env, deps.cwd);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(full, "utf8"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read undo exemptions ${shown}: ${code ?? (error as Error).message}`, EXIT_USAGE);
  }
  const records = undoExemptionsFromFile(value, shown);
  return { records, view: undoExemptionsView(records, deps.now()) };
}

/** Live: the stack's own exemptions (its ledger bucket); unreadable is said in the plan, never fatal. */
async function undoExemptionsLive(bucket: string | undefined, deps: CliDeps): Promise<UndoExemptionsRead> {
  if (!bucket) return { records: [] };
  const [{ listUndoExemptions }, { undoExemptionsView }, { explainAwsError }] = await Promise.all([
    import("../platform/undo-exemptions-store.ts"),
    import("./exemptions-view.ts"),
    import("./stack.ts"),
  ]);
  try {
    const listing = await listUndoExemptions(deps.s3(), bucket);
    return { records: listing.records, view: undoExemptionsView(listing.records, deps.now(), listing.invalid) };
  } catch (error) {
    return { records: [], error: explainAwsError(error) ?? `${(error as Error).name}: ${(error as Error).message}` };
  }
}

/** The allowlist's Slack part a live plan judges with, or why it could not be read. */
interface SlackAllowlistRead {
  entries: AllowlistEntry[];
  problems: ExemptionProblem[];
  error?: string;
}

/** Live: the stack's Slack exemptions (allowlist/slack.json in its ledger bucket); unreadable is said, never fatal. */
async function slackAllowlistLive(bucket: string | undefined, deps: CliDeps): Promise<SlackAllowlistRead> {
  if (!bucket) return { entries: [], problems: [] };
  const [{ readSlackAllowlist }, { explainAwsError }] = await Promise.all([
    import("../platform/slack-allowlist-read.ts"),
    import("./stack.ts"),
  ]);
  try {
    const reading = await readSlackAllowlist(deps.s3(), bucket);
    return { entries: reading.entries, problems: reading.problems };
  } catch (error) {
    return {
      entries: [],
      problems: [],
      error: explainAwsError(error) ?? `${(error as Error).name}: ${(error as Error).message}`,
    };
  }
}

/** Live reading wins; where S3 Control cannot be read, the settings' value (if any) is used. */
function accountBlockFor(read: AccountBlockState | undefined, settings: PlanSettings): AccountBlockState | undefined {
  if (read === undefined || read.from === "s3-control") return read;
  const fromSettings = settings.accountFacts.s3PublicAccessBlock;
  return fromSettings !== undefined
    ? { from: "settings", flags: fromSettings, ...(read.error ? { error: read.error } : {}) }
    : read;
}

/** The account and region the credentials (and the stack's outputs, --region, --profile) aim at, read live. */
async function readLivePlan(
  values: Partial<Record<string, string | boolean | undefined>>,
  io: Io,
  deps: CommandDeps,
  settings: PlanSettings,
  progress: (line: string) => void,
): Promise<{
  reading: LiveReading;
  autoResponse: AutoResponseState;
  organization: boolean;
  undo: UndoExemptionsRead;
  slack: SlackAllowlistRead;
}> {
  const { refs, deps: aimed } = await openStack(values, deps, io);
  const { readLive, readSchedule } = await import("./live-plan.ts");
  const { RULES } = await import("../detection/rules.ts");
  // Who the credentials are: a missing or expired credential fails here, in one sentence (explainAwsError).
  const identity = aimed.callerIdentity ? await aimed.callerIdentity() : undefined;
  if (identity && refs.accountId !== undefined && identity.account !== refs.accountId) {
    // As actingIdentity: the command was right, the credentials are not (exit 1).
    throw new CliError(
      `these credentials are for account ${identity.account} (${identity.arn}), but Remedy's stack is in account ${refs.accountId}: use that account's credentials (--profile), or give the outputs of this account's stack (--outputs FILE).`,
      EXIT_FAILED,
    );
  }
  const accountId = identity?.account || refs.accountId;
  if (!accountId) {
    throw new CliError(
      "cannot tell which account these credentials are for: give the stack's outputs (--outputs FILE)",
    );
  }
  const ec2 = aimed.ec2();
  const region = refs.region ?? (await ec2.config.region());

  const reading = await readLive(
    {
      configService: aimed.configService(),
      ec2,
      s3: aimed.s3(),
      s3Control: aimed.s3Control(),
      // Any other SDK class an inventory lists with (RDS; S3 Control at the SDK's endpoint).
      ...(aimed.client ? { client: aimed.client } : {}),
    },
    {
      accountId,
      region,
      resourceTypes: [...new Set(RULES.flatMap((rule) => rule.resourceTypes))],
      now: deps.now(),
      accountBlock: RULES.some((rule) => rule.facts?.includes("s3PublicAccessBlock")),
      progress,
    },
  );

  const organization = refs.organization !== undefined;
  const undo = await undoExemptionsLive(refs.ledgerBucket, aimed);
  const slack = await slackAllowlistLive(refs.ledgerBucket, aimed);
  const fromSettings: AutoResponseState = { enabled: settings.enableAutoResponse, from: "settings" };
  if (!refs.scheduleRule) return { reading, autoResponse: fromSettings, organization, undo, slack };
  const schedule = await readSchedule(aimed.eventBridge(), refs.scheduleRule);
  const autoResponse: AutoResponseState =
    "error" in schedule
      ? { ...fromSettings, scheduleRule: refs.scheduleRule, scheduleError: schedule.error }
      : { enabled: schedule.enabled, from: "schedule", scheduleRule: refs.scheduleRule, state: schedule.state };
  return { reading, autoResponse, organization, undo, slack };
}
