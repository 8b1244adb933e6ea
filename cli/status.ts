// `remedy status`: is auto-response on, is it paused (by whom, the breaker?), how deep are the queues, what did
// Remedy do lately, and (given the notifier's secret) can its Slack routing be used. Each part is read on its own:
// one that cannot be read says why, the others still show.

import { DescribeRuleCommand } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { type DecisionReading, type DecisionRecord, listRecentDecisions } from "../contract/decisions.ts";
import { type LedgerListing, type LedgerRecord, listRecentRecords } from "../contract/ledger.ts";
import {
  describeReference,
  fetchSecretString,
  MalformedSlackSecretError,
  parseSecretReference,
  parseSlackRouting,
  secretReferenceProblem,
} from "../functions/notifier/destinations.ts";
import { PermanentError } from "../platform/errors.ts";
import { type PauseReading, readPauseState } from "../platform/pause.ts";
import { describeChange } from "../problems/words.ts";
import { type AccountRegion, accountRegionHeading, groupByAccountRegion, outsideDeployment } from "./accounts.ts";
import type { CliDeps, Io } from "./deps.ts";
import { readUndoExemptions, type UndoExemptionsView, undoExemptionsText } from "./exemptions.ts";
import { plural, table, utc } from "./format.ts";
import { explainAwsError, type StackOrganization, type StackRefs } from "./stack.ts";
import { terminalJson, terminalText } from "./terminal.ts";

export const BREAKER = "circuit-breaker";

type Part<T> = { ok: true; value: T } | { ok: false; error: string };

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

/** The notifier's Slack routing as status sees it: never a webhook URL, only what is wrong or how many routes. */
export type SlackRoutingCheck =
  | { checked: false; hint: string }
  | { checked: true; secret: string; valid: true; defaultRoute: boolean; accountRoutes: number }
  | { checked: true; secret: string; valid: false; problem: string };

export interface StatusReport {
  autoResponse: Part<{ enabled: boolean; rule: string }>;
  pause: Part<PauseReading & { breakerTripped: boolean }>;
  queue: Part<QueueDepth>;
  deadLetterQueue: Part<QueueDepth>;
  recentActions: Part<LedgerListing>;
  slackRouting: Part<SlackRoutingCheck>;
  /** What undo left as restored (remedy undo --exempt-for): Remedy does not fix those entries until then. */
  undoExemptions: Part<UndoExemptionsView>;
  /** The newest decisions taken in Slack (Fix now, Snooze, Exempt, Undo), newest first. */
  decisions: Part<DecisionReading>;
}

export interface StatusOptions {
  /** The notifier's Slack secret reference (--slack-secret); absent: REMEDY_SLACK_SECRET, else not checked. */
  slackSecret?: string;
  recent?: number;
}

export const SLACK_NOT_CHECKED =
  "give --slack-secret or set REMEDY_SLACK_SECRET to the notifier's slack_secret: a Secrets Manager ARN or name, or ssm:<parameter name>";

/** A part that cannot be read, already said in one sentence (shown as it is). */
class StatusPartError extends PermanentError {
  override name = "StatusPartError";
}

async function part<T>(read: () => Promise<T>, missing?: string): Promise<Part<T>> {
  if (missing) return { ok: false, error: `not known: ${missing}` };
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    if (error instanceof StatusPartError) return { ok: false, error: error.message };
    return { ok: false, error: explainAwsError(error) ?? `${(error as Error).name}: ${(error as Error).message}` };
  }
}

async function depth(deps: CliDeps, queueUrl: string): Promise<QueueDepth> {
  const { Attributes = {} } = await deps.sqs().send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** The secret the notifier routes with, read and judged by the notifier's own parser. */
async function checkSlackRouting(deps: CliDeps, given: string | undefined): Promise<SlackRoutingCheck> {
  const fromFlag = given !== undefined && given.trim() !== "";
  const text = fromFlag ? given.trim() : (deps.env.REMEDY_SLACK_SECRET ?? "").trim();
  if (text === "") return { checked: false, hint: SLACK_NOT_CHECKED };
  const refused = secretReferenceProblem(text, fromFlag ? "--slack-secret" : "REMEDY_SLACK_SECRET");
  if (refused) throw new StatusPartError(refused);
  const reference = parseSecretReference(text);
  const secret = describeReference(reference);
  let value: string | undefined;
  try {
    value = await fetchSecretString(reference, {
      secretsManager: deps.secretsManager,
      ssm: deps.ssm,
    });
  } catch (error) {
    const name = (error as Error).name;
    if (name === "ResourceNotFoundException" || name === "ParameterNotFound") {
      throw new StatusPartError(`the Slack ${secret} does not exist in this account and region`);
    }
    throw error;
  }
  try {
    const routing = parseSlackRouting(value, reference);
    return {
      checked: true,
      secret,
      valid: true,
      defaultRoute: routing.default !== undefined,
      accountRoutes: Object.keys(routing.accounts).length,
    };
  } catch (error) {
    if (error instanceof MalformedSlackSecretError)
      return { checked: true, secret, valid: false, problem: error.message };
    throw error;
  }
}

export async function readStatus(refs: StackRefs, deps: CliDeps, options: StatusOptions = {}): Promise<StatusReport> {
  const recent = options.recent ?? 10;
  const [autoResponse, pause, queue, deadLetterQueue, recentActions, slackRouting, undoExemptions, decisions] =
    await Promise.all([
      part(
        async () => {
          const rule = await deps.eventBridge().send(new DescribeRuleCommand({ Name: refs.scheduleRule }));
          return { enabled: rule.State === "ENABLED", rule: refs.scheduleRule! };
        },
        refs.scheduleRule ? undefined : "schedule_rule_name output or --schedule-rule",
      ),
      part(
        async () => {
          const reading = await readPauseState(deps.ssm(), refs.pauseParameter!, deps.now());
          return { ...reading, breakerTripped: reading.paused && reading.by === BREAKER };
        },
        refs.pauseParameter ? undefined : "pause_parameter output or --pause-parameter",
      ),
      part(() => depth(deps, refs.queueUrl!), refs.queueUrl ? undefined : "queue_url output or --queue-url"),
      part(() => depth(deps, refs.dlqUrl!), refs.dlqUrl ? undefined : "dlq_url output or --dlq-url"),
      part(
        () => listRecentRecords(deps.s3(), { bucket: refs.ledgerBucket! }, recent, { now: deps.now() }),
        refs.ledgerBucket ? undefined : "ledger_bucket output or --ledger-bucket",
      ),
      part(() => checkSlackRouting(deps, options.slackSecret)),
      part(
        () => readUndoExemptions(deps, refs.ledgerBucket!),
        refs.ledgerBucket ? undefined : "ledger_bucket output or --ledger-bucket",
      ),
      part(
        () => listRecentDecisions(deps.s3(), refs.ledgerBucket!, recent),
        refs.ledgerBucket ? undefined : "ledger_bucket output or --ledger-bucket",
      ),
    ]);
  return { autoResponse, pause, queue, deadLetterQueue, recentActions, slackRouting, undoExemptions, decisions };
}

/** A part could not be read, or the Slack secret is malformed (the notifier only logs until it is fixed). */
export function statusFailed(report: StatusReport): boolean {
  const slack = report.slackRouting;
  return Object.values(report).some((entry) => !entry.ok) || (slack.ok && slack.value.checked && !slack.value.valid);
}

function shown<T>(entry: Part<T>, render: (value: T) => string): string {
  return entry.ok ? render(entry.value) : `unknown (${terminalText(entry.error)})`;
}

/** Text from AWS or a user, made inert for the terminal. */
const safe = terminalText;

function slackText(check: SlackRoutingCheck): string {
  if (!check.checked) return `not checked (${check.hint})`;
  if (!check.valid) return `BROKEN — ${safe(check.problem)}; the notifier logs messages instead of sending them`;
  const accounts = plural(check.accountRoutes, "account webhook");
  return check.defaultRoute
    ? `OK (${safe(check.secret)}: default webhook, ${accounts})`
    : `OK (${safe(check.secret)}: no default webhook, ${accounts}; other accounts' messages are only logged)`;
}

const depthText = (d: QueueDepth) =>
  `${d.visible} waiting, ${d.inFlight} in flight${d.delayed ? `, ${d.delayed} delayed` : ""}`;

/**
 * What one ledger record did, in words: the changes made (past tense) for a fix; for an undo, what it put back; for
 * a skip, why; for an action that did not finish, what it was going to do and why it stopped.
 */
export function describeRecord(record: LedgerRecord): string {
  const changes = (tense: "done" | "planned") =>
    record.changes
      .map((change) => {
        const text = describeChange(change, tense);
        // An undo's summary starts with "undo of <action>", which the OUTCOME column already says.
        const prefix = record.undoes ? `undo of ${record.undoes}: ` : "";
        return prefix && text.startsWith(prefix) ? text.slice(prefix.length) : text;
      })
      .join("; ");
  switch (record.outcome) {
    case "fixed":
      return changes("done") || (record.reason ?? "");
    case "skipped":
      return record.reason ?? "";
    case "pending":
    case "failed": {
      const planned = changes("planned");
      const why = record.reason ?? (record.outcome === "pending" ? "did not finish" : "");
      // Why it stopped first: the planned change can be long (the table cuts it; --json has it whole).
      return [why, planned && `planned: ${planned}`].filter(Boolean).join(" — ");
    }
  }
}

/** An account paused on its own (organisation mode), as status shows it. */
export interface PausedAccount {
  accountId: string;
  by: string;
  at: string;
  reason: string;
}

/** Recent actions of one account and region (organisation mode), counted by outcome. */
export interface AccountRegionActions extends AccountRegion {
  actions: number;
  /** "fixed", "skipped", "failed", "pending", "undo": how many of each. */
  outcomes: Record<string, number>;
  /** Why Remedy does not act there at all (a region the stack did not deploy, an excluded account). */
  skipReason?: string;
}

/** What status adds in organisation mode: the stack's regions, paused accounts, recent actions per account and region. */
export interface OrganizationStatus {
  regions: readonly string[];
  excludedAccounts: readonly string[];
  /** Absent: the pause switch could not be read (its part says why). */
  pausedAccounts?: PausedAccount[];
  /** Absent: the ledger could not be read. */
  accountRegions?: AccountRegionActions[];
}

const outcomeOf = (record: LedgerRecord) => (record.undoes ? "undo" : record.outcome);

export function organizationStatus(report: StatusReport, organization: StackOrganization): OrganizationStatus {
  const pause = report.pause;
  const records = report.recentActions;
  return {
    regions: organization.regions,
    excludedAccounts: organization.settings?.excludedAccounts ?? [],
    ...(pause.ok
      ? {
          pausedAccounts: Object.entries(pause.value.accounts ?? {})
            .filter(([, entry]) => entry.paused)
            .map(([accountId, entry]) => ({ accountId, by: entry.by, at: entry.at, reason: entry.reason }))
            .sort((a, b) => a.accountId.localeCompare(b.accountId)),
        }
      : {}),
    ...(records.ok
      ? {
          accountRegions: groupByAccountRegion(records.value.records, (record) => record.resource).map((group) => {
            const outcomes: Record<string, number> = {};
            for (const record of group.items) outcomes[outcomeOf(record)] = (outcomes[outcomeOf(record)] ?? 0) + 1;
            const skipReason = outsideDeployment(group, organization);
            return {
              accountId: group.accountId,
              region: group.region,
              actions: group.items.length,
              outcomes,
              ...(skipReason ? { skipReason } : {}),
            };
          }),
        }
      : {}),
  };
}

function pausedAccountsText(paused: readonly PausedAccount[]): string {
  if (paused.length === 0) return "none";
  const each = paused.map(
    (entry) => `${safe(entry.accountId)} by ${safe(entry.by)} at ${utc(entry.at)}: ${safe(entry.reason)}`,
  );
  return `${paused.length} — ${each.join("; ")} ("remedy resume --account ID" after review)`;
}

function actionsTable(records: readonly LedgerRecord[], width: number | undefined): string {
  return table(
    ["ACTION", "WHEN", "OUTCOME", "PROBLEM", "RESOURCE", "WHAT"],
    records.map((record) =>
      [
        record.actionId,
        utc(record.finishedAt ?? record.startedAt),
        record.undoes ? `undo of ${record.undoes}` : record.outcome,
        record.problem,
        record.resource.id,
        describeRecord(record),
      ].map(safe),
    ),
    [32, 20, 40, 18, 40, 100],
    width,
  );
}

/** What a Slack decision asked for, in a few words (its details as the endpoint recorded them). */
export function describeDecision(decision: DecisionRecord): string {
  const details = decision.details ?? {};
  const text = (key: string) => (typeof details[key] === "string" ? (details[key] as string) : undefined);
  switch (decision.action) {
    case "fix-now":
      return "due now";
    case "snooze":
      return typeof details.snoozeMinutes === "number" ? `due ${details.snoozeMinutes} min later` : "due later";
    case "exempt":
      return `exempt until ${text("expires") ?? "?"}: ${text("reason") ?? "(no reason)"}`;
    case "undo":
      return "undo";
  }
}

function decisionsText(part: Part<DecisionReading>, width: number | undefined): string[] {
  if (!part.ok) return [`Slack decisions: unknown (${safe(part.error)})`];
  const { records, invalid } = part.value;
  const lines =
    records.length === 0
      ? ["Slack decisions: none."]
      : [
          "Slack decisions (newest first):",
          table(
            ["WHEN", "DECISION", "BY", "ON", "WHAT"],
            records.map((decision) =>
              [
                utc(decision.at),
                decision.action,
                `${decision.by.slackUserId} (${decision.by.teamId})`,
                "instructionId" in decision.target
                  ? `instruction ${decision.target.instructionId}`
                  : decision.target.actionId,
                describeDecision(decision),
              ].map(safe),
            ),
            [20, 10, 24, 44, 100],
            width,
          ),
        ];
  if (invalid.length > 0) {
    lines.push(`${plural(invalid.length, "decision object")} could not be read:`);
    for (const entry of invalid) lines.push(`  ${safe(entry.key)}: ${safe(entry.reason)}`);
  }
  return lines;
}

/** "3 actions (2 fixed, 1 undo)". */
function actionCounts(group: AccountRegionActions): string {
  const counts = Object.entries(group.outcomes).map(([outcome, count]) => `${count} ${outcome}`);
  return `${plural(group.actions, "action")} (${counts.join(", ")})`;
}

export function renderStatus(
  report: StatusReport,
  options: { width?: number; organization?: OrganizationStatus } = {},
): string {
  const organization = options.organization;
  const lines = [
    `Auto-response: ${shown(report.autoResponse, (a) => (a.enabled ? `ON (schedule ${safe(a.rule)} enabled)` : `OFF (schedule ${safe(a.rule)} disabled: nothing is changed)`))}`,
    `Pause switch:  ${shown(report.pause, (p) =>
      p.paused
        ? `PAUSED by ${safe(p.by)} at ${utc(p.at)}: ${safe(p.reason)}${p.breakerTripped ? ' — the circuit breaker tripped; "remedy resume" after review' : ""}`
        : `running (since ${utc(p.resumedAt ?? p.at)}, by ${safe(p.by)})`,
    )}`,
    `Breaker:       ${shown(report.pause, (p) => (p.breakerTripped ? "TRIPPED" : "not tripped"))}`,
    ...(organization
      ? [
          `Paused accounts: ${organization.pausedAccounts ? pausedAccountsText(organization.pausedAccounts) : shown(report.pause, () => "")}`,
        ]
      : []),
    `Queue:         ${shown(report.queue, depthText)}`,
    `Dead letters:  ${shown(report.deadLetterQueue, (d) => `${depthText(d)}${d.visible > 0 ? ' — "remedy peek --dlq" shows why' : ""}`)}`,
    `Slack routing: ${shown(report.slackRouting, slackText)}`,
    ...(organization
      ? [
          `Organisation:  ${plural(organization.regions.length, "region")} (${organization.regions.map(safe).join(", ")})${organization.excludedAccounts.length > 0 ? `; excluded accounts: ${organization.excludedAccounts.map(safe).join(", ")}` : ""}`,
        ]
      : []),
    "",
  ];
  if (!report.recentActions.ok) {
    lines.push(`Recent actions: unknown (${safe(report.recentActions.error)})`);
  } else if (report.recentActions.value.records.length === 0) {
    lines.push("Recent actions: none in the last 30 days.");
  } else if (organization) {
    lines.push("Recent actions (newest first), by account and region:");
    const groups = groupByAccountRegion(report.recentActions.value.records, (record) => record.resource);
    const counts = organization.accountRegions ?? [];
    groups.forEach((group, index) => {
      const tally = counts[index];
      const skip = tally?.skipReason ? ` — ${safe(tally.skipReason)}` : "";
      lines.push(
        "",
        `${accountRegionHeading(group)}: ${tally ? actionCounts(tally) : plural(group.items.length, "action")}${skip}`,
        actionsTable(group.items, options.width),
      );
    });
  } else {
    lines.push("Recent actions (newest first):");
    lines.push(actionsTable(report.recentActions.value.records, options.width));
  }
  if (report.recentActions.ok && report.recentActions.value.invalid.length > 0) {
    const { invalid } = report.recentActions.value;
    lines.push("", `${plural(invalid.length, "ledger object")} could not be read:`);
    for (const entry of invalid) lines.push(`  ${safe(entry.key)}: ${safe(entry.error)}`);
  }
  lines.push(
    "",
    ...(report.undoExemptions.ok
      ? undoExemptionsText(report.undoExemptions.value, options.width)
      : [`Left as restored by undo: unknown (${safe(report.undoExemptions.error)})`]),
    "",
    ...decisionsText(report.decisions, options.width),
  );
  return `${lines.join("\n")}\n`;
}

export async function statusCommand(
  refs: StackRefs,
  json: boolean,
  deps: CliDeps,
  io: Io,
  options: StatusOptions = {},
): Promise<boolean> {
  if (io.interactive) io.err("reading Remedy's state…\n");
  const report = await readStatus(refs, deps, options);
  const organization = refs.organization ? organizationStatus(report, refs.organization) : undefined;
  io.out(
    json
      ? `${terminalJson(organization ? { ...report, organization } : report)}\n`
      : renderStatus(report, {
          ...(io.columns ? { width: io.columns } : {}),
          ...(organization ? { organization } : {}),
        }),
  );
  return !statusFailed(report);
}
