// `remedy status`: is auto-response on, is it paused (by whom, the breaker?), how deep are the queues, and what did
// Remedy do lately. Each part is read on its own: one that cannot be read says why, the others still show.
import { DescribeRuleCommand } from "@aws-sdk/client-eventbridge";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { type LedgerListing, listRecentRecords } from "../shared/ledger.ts";
import { type PauseReading, readPauseState } from "../shared/pause.ts";
import type { CliDeps, Io } from "./deps.ts";
import { table, utc } from "./format.ts";
import { explainAwsError, type StackRefs } from "./stack.ts";

export const BREAKER = "circuit-breaker";

type Part<T> = { ok: true; value: T } | { ok: false; error: string };

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface StatusReport {
  autoResponse: Part<{ enabled: boolean; rule: string }>;
  pause: Part<PauseReading & { breakerTripped: boolean }>;
  queue: Part<QueueDepth>;
  deadLetterQueue: Part<QueueDepth>;
  recentActions: Part<LedgerListing>;
}

async function part<T>(read: () => Promise<T>, missing?: string): Promise<Part<T>> {
  if (missing) return { ok: false, error: `not known: ${missing}` };
  try {
    return { ok: true, value: await read() };
  } catch (error) {
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

export async function readStatus(refs: StackRefs, deps: CliDeps, recent = 10): Promise<StatusReport> {
  const [autoResponse, pause, queue, deadLetterQueue, recentActions] = await Promise.all([
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
  ]);
  return { autoResponse, pause, queue, deadLetterQueue, recentActions };
}

export function statusFailed(report: StatusReport): boolean {
  return Object.values(report).some((entry) => !entry.ok);
}

function shown<T>(entry: Part<T>, render: (value: T) => string): string {
  return entry.ok ? render(entry.value) : `unknown (${entry.error})`;
}

const depthText = (d: QueueDepth) =>
  `${d.visible} waiting, ${d.inFlight} in flight${d.delayed ? `, ${d.delayed} delayed` : ""}`;

export function renderStatus(report: StatusReport): string {
  const lines = [
    `Auto-response: ${shown(report.autoResponse, (a) => (a.enabled ? `ON (schedule ${a.rule} enabled)` : `OFF (schedule ${a.rule} disabled: nothing is changed)`))}`,
    `Pause switch:  ${shown(report.pause, (p) =>
      p.paused
        ? `PAUSED by ${p.by} at ${utc(p.at)}: ${p.reason}${p.breakerTripped ? ' — the circuit breaker tripped; "remedy resume" after review' : ""}`
        : `running (since ${utc(p.resumedAt ?? p.at)}, by ${p.by})`,
    )}`,
    `Breaker:       ${shown(report.pause, (p) => (p.breakerTripped ? "TRIPPED" : "not tripped"))}`,
    `Queue:         ${shown(report.queue, depthText)}`,
    `Dead letters:  ${shown(report.deadLetterQueue, (d) => `${depthText(d)}${d.visible > 0 ? ' — "remedy peek --dlq" shows why' : ""}`)}`,
    "",
  ];
  if (!report.recentActions.ok) {
    lines.push(`Recent actions: unknown (${report.recentActions.error})`);
  } else if (report.recentActions.value.records.length === 0) {
    lines.push("Recent actions: none in the last 30 days.");
  } else {
    lines.push("Recent actions (newest first):");
    lines.push(
      table(
        ["ACTION", "WHEN", "OUTCOME", "PROBLEM", "RESOURCE", "WHAT"],
        report.recentActions.value.records.map((record) => [
          record.actionId,
          utc(record.finishedAt ?? record.startedAt),
          record.undoes ? `undo of ${record.undoes}` : record.outcome,
          record.problem,
          record.resource.id,
          record.outcome === "fixed" && !record.undoes
            ? record.changes.map((change) => change.kind).join(", ")
            : (record.reason ?? ""),
        ]),
        [32, 20, 40, 18, 40, 60],
      ),
    );
  }
  if (report.recentActions.ok && report.recentActions.value.invalid.length > 0) {
    lines.push("", `${report.recentActions.value.invalid.length} ledger objects could not be read:`);
    for (const entry of report.recentActions.value.invalid) lines.push(`  ${entry.key}: ${entry.error}`);
  }
  return `${lines.join("\n")}\n`;
}

export async function statusCommand(refs: StackRefs, json: boolean, deps: CliDeps, io: Io): Promise<boolean> {
  io.err("reading Remedy's state…\n");
  const report = await readStatus(refs, deps);
  io.out(json ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
  return !statusFailed(report);
}
