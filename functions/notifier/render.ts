// Notice → Slack message. Pure: the same notice and context always give the same message (golden-tested).

import { BUTTON_ACTION_IDS, DECISIONS_BLOCK_ID } from "../../contract/decision-actions.ts";
import { INSTRUCTION_ID_PATTERN } from "../../contract/ids.ts";
import type { Change, Report } from "../../contract/report.ts";
import type { Problem } from "../../detection/types.ts";
import { byProblem, PROBLEM_SPECS, problemSpec, RULE_IDS, resourceSpec } from "../../problems/index.ts";
import type { SlackKit, Training } from "../../problems/types.ts";
import { changeWords, listText, plural } from "../../problems/words.ts";
import type { Attribution } from "./attribution.ts";
import { isAccountId, isActionId, isQueueName, isRegion, ownValue } from "./ids.ts";
import type { AlarmNotice, ComplianceChange, Notice } from "./inbound.ts";
import {
  type BuiltMessage,
  type Button,
  bold,
  buildSlackMessage,
  code,
  cutRaw,
  type Inline,
  link,
  type MessageModel,
  mention,
  quote,
  type Section,
  type Severity,
  t,
  text,
  utc,
  when,
} from "./message.ts";

export interface RenderContext {
  /** Who made the change; absent when it was not looked up for this notice. */
  attribution?: Attribution;
  /** The channel the message goes to, shown in the footer. */
  channel?: string;
  /**
   * Organisation mode: why the notice's account is not an account of the organisation (its report still goes to the
   * default route, marked as such: it is Remedy's own, a refusal for instance).
   */
  outsideOrganization?: string;
  /**
   * The message is posted through the Slack app, which can answer buttons: grace notices get Fix now, Snooze and
   * Exempt…, fixes get Undo. Absent (a webhook): no buttons.
   */
  buttons?: ButtonOptions;
}

const GREEN = "#2eb67d";
const YELLOW = "#ecb22e";
const GREY = "#9ea0a5";
const RED = "#e01e5a";

export const SEVERITY = {
  fixed: { emoji: "✅", color: GREEN },
  "would-fix": { emoji: "👀", color: YELLOW },
  grace: { emoji: "🕒", color: YELLOW },
  skipped: { emoji: "ℹ️", color: GREY },
  failed: { emoji: "🔴", color: RED },
  "dead-lettered": { emoji: "🔴", color: RED },
  "breaker-tripped": { emoji: "🛑", color: RED },
  "breaker-resumed": { emoji: "▶️", color: GREEN },
  undone: { emoji: "↩️", color: YELLOW },
  NON_COMPLIANT: { emoji: "🔴", color: RED },
  COMPLIANT: { emoji: "✅", color: GREEN },
  NOT_APPLICABLE: { emoji: "➖", color: GREY },
  INSUFFICIENT_DATA: { emoji: "❔", color: GREY },
  ALARM: { emoji: "🔴", color: RED },
  OK: { emoji: "✅", color: GREEN },
} as const satisfies Record<string, Severity>;

const PROBLEM_TITLES: Record<Problem, string> = byProblem((spec) => spec.title);

const COMPLIANCE_LABELS: Record<string, string> = {
  COMPLIANT: "compliant",
  NON_COMPLIANT: "non-compliant",
  NOT_APPLICABLE: "not applicable",
  INSUFFICIENT_DATA: "insufficient data",
};

/** The CLI's commands (cli/remedy.ts). Built here from validated ids: a report's own command text is never shown. */
export const undoCommandFor = (actionId: string) => `remedy undo ${actionId}`;
export const RESUME_COMMAND = "remedy resume";

const none: Inline = { md: "", plain: "" };
const opt = (condition: unknown, inline: () => Inline): Inline => (condition ? inline() : none);
const capitalise = (value: string) => value.charAt(0).toUpperCase() + value.slice(1);

export function renderNotice(notice: Notice, context: RenderContext = {}): BuiltMessage {
  return buildSlackMessage(modelFor(notice, context));
}

export function modelFor(notice: Notice, context: RenderContext = {}): MessageModel {
  const buttons = context.buttons && notice.kind === "report" ? decisionButtons(notice.report, context.buttons) : [];
  const model: MessageModel = {
    ...noticeModel(notice, context),
    ...(buttons.length > 0 ? { actions: { blockId: DECISIONS_BLOCK_ID, buttons } } : {}),
  };
  if (context.outsideOrganization === undefined) return model;
  const why = cutRaw(context.outsideOrganization, 300);
  return {
    ...model,
    summary: [...model.summary, t`Not an account of this organisation (${why}): sent to the default route.`],
  };
}

function noticeModel(notice: Notice, context: RenderContext): MessageModel {
  switch (notice.kind) {
    case "report":
      return reportModel(notice.report, context);
    case "compliance":
      return complianceModel(notice.change, context);
    case "alarm":
      return alarmModel(notice.alarm, context);
  }
}

// -- Buttons --------------------------------------------------------------------------------------------------

/**
 * What a reader can decide from the message. A button's value is the id it acts on, and only an id of the exact
 * shape goes in: a forged report's text never becomes something the interactions function is asked to act on.
 */
export interface ButtonOptions {
  snoozeMinutes: number;
  /**
   * Whether fixes get Undo: not in organisation mode, where the member undo role trusts operators only (the
   * interactions function would refuse it; the report's undo command stays).
   */
  undo: boolean;
}

export function decisionButtons(report: Report, options: ButtonOptions): Button[] {
  if (report.kind === "grace") {
    if (!INSTRUCTION_ID_PATTERN.test(report.instructionId)) return [];
    const value = report.instructionId;
    return [
      { actionId: BUTTON_ACTION_IDS["fix-now"], label: "Fix now", value, style: "primary" },
      { actionId: BUTTON_ACTION_IDS.snooze, label: `Snooze ${snoozeLabel(options.snoozeMinutes)}`, value },
      { actionId: BUTTON_ACTION_IDS.exempt, label: "Exempt…", value },
    ];
  }
  if (options.undo && report.kind === "fixed" && !isRestore(report.changes) && isActionId(report.actionId)) {
    const resource = cutRaw(report.resource.id, 100);
    return [
      {
        actionId: BUTTON_ACTION_IDS.undo,
        label: "Undo",
        value: report.actionId,
        style: "danger",
        confirm: {
          title: "Undo this fix?",
          text: t`Remedy puts back what it removed from ${code(resource)}: the hole it closed is open again.`,
          confirm: "Undo",
          deny: "Cancel",
        },
      },
    ];
  }
  return [];
}

/** "90 min", "24 h": how long a Snooze pushes the fix back. */
export function snoozeLabel(minutes: number): string {
  return minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

// -- Resources --------------------------------------------------------------------------------------------------

export function resourceTypeLabel(type: string): string {
  return resourceSpec(type)?.label ?? type;
}

/** The resource's console page; undefined for other types and for a region that is not a region code. */
export function consoleUrl(type: string, id: string, region: string): string | undefined {
  if (!isRegion(region)) return undefined;
  return resourceSpec(type)?.consoleUrl(id, region);
}

interface ResourceRef {
  type: string;
  id: string;
  accountId: string;
  region: string;
}

/** The resource id, linked to its console page. The fallback text carries the URL only in the Resource field. */
function resourceLink(resource: ResourceRef, urlInPlain = false): Inline {
  const url = consoleUrl(resource.type, resource.id, resource.region);
  return url ? link(url, resource.id, urlInPlain) : code(resource.id);
}

function resourceFields(resource: ResourceRef): MessageModel["fields"] {
  return [
    { label: "Resource", value: t`${resourceTypeLabel(resource.type)}\n${resourceLink(resource, true)}` },
    { label: "Account", value: code(resource.accountId) },
    { label: "Region", value: text(resource.region) },
  ];
}

function footer(context: RenderContext, ...parts: (Inline | false | undefined)[]): Inline[] {
  return [
    text("Remedy"),
    ...parts.filter((part): part is Inline => part !== false && part !== undefined),
    ...(context.channel ? [t`to ${context.channel}`] : []),
  ];
}

// -- Who made the change, and how to do it safely ---------------------------------------------------------------

function whoSummary(attribution: Attribution | undefined): Inline[] {
  if (!attribution) return [];
  if (!attribution.found) return [t`Changed by: unknown — ${attribution.reason}`];
  const { event } = attribution;
  const who = event.slackUserId
    ? t`${mention(event.slackUserId)} (${event.principal.description})`
    : text(event.principal.description);
  return [t`Changed by ${who} with ${code(event.eventName)} at ${when(event.eventTime)}`];
}

function whoDetails(attribution: Attribution | undefined): Section[] {
  if (!attribution?.found) return [];
  const { event } = attribution;
  const lines = [
    event.slackUserId
      ? t`${mention(event.slackUserId)} — ${event.principal.description}`
      : text(event.principal.description),
    ...(event.principal.arn ? [code(event.principal.arn)] : []),
    t`${code(event.eventName)} at ${when(event.eventTime)}${opt(event.sourceIp, () => t` from ${code(event.sourceIp ?? "")}`)}${opt(event.userAgent, () => t` using ${event.userAgent ?? ""}`)}`,
    ...(event.eventId ? [t`CloudTrail event ${code(event.eventId)}`] : []),
  ];
  return [{ kind: "text", title: "Who made the change", lines }];
}

/** Just-in-time training: the secure pattern for the problem at hand (its spec's), shown to who made the change. */
function training(pattern: Training | undefined): Section[] {
  if (!pattern) return [];
  const { title, advice, terraform } = pattern;
  return [{ kind: "code", title, note: text(advice), code: terraform, inFallback: false }];
}

const problemTraining = (problem: Problem | undefined) => (problem ? problemSpec(problem).training : undefined);

// -- Changes ----------------------------------------------------------------------------------------------------

/** What a problem's Slack words are built with (problems/types.ts): this module's formatting. */
const KIT: SlackKit<Inline> = { text, code, bold, t, cut: cutRaw, plural };

// Undo's change is its own (no problem's): the summary it recorded. Every other is worded by its problem's folder.
function changeSection(change: Change): Section {
  if (change.kind === "restored")
    return { kind: "text", title: "Restored", lines: [text(cutRaw(change.summary, 2_500))] };
  return { kind: "list", ...changeWords(change.kind).slack.section(change, KIT) };
}

/** A change that was planned and not made (notify mode): the same list, its title saying so. */
function plannedChangeSection(change: Change): Section {
  const section = changeSection(change);
  return { ...section, title: `${section.title} (not done: notify mode)` };
}

function changePhrase(change: Change): string {
  if (change.kind === "restored") return cutRaw(change.summary, 300);
  return changeWords(change.kind).slack.phrase(change, KIT);
}

/** A fix that only put things back (an undo): no one to train, nobody's change to name. */
export function isRestore(changes: readonly Change[]): boolean {
  return changes.length > 0 && changes.every((change) => change.kind === "restored");
}

function changeSummary(changes: readonly Change[]): string {
  return changes.length === 0 ? "no change recorded" : listText(changes.map(changePhrase));
}

// -- Remedy reports ---------------------------------------------------------------------------------------------

function reportModel(report: Report, context: RenderContext): MessageModel {
  const at = { label: "When", value: when(report.at) };
  switch (report.kind) {
    case "fixed":
    case "would-fix":
    case "skipped":
    case "failed":
    case "grace": {
      const problem = PROBLEM_TITLES[report.problem];
      const resource = resourceLink(report.resource);
      const fields = [
        ...resourceFields(report.resource),
        {
          label: "Rule",
          value: report.ruleId === report.problem ? code(report.ruleId) : t`${code(report.ruleId)} (${report.problem})`,
        },
        at,
      ];
      const actionId = "actionId" in report ? report.actionId : undefined;
      const ids = [
        t`instruction ${code(report.instructionId)}`,
        ...(actionId === undefined
          ? []
          : [isActionId(actionId) ? t`action ${code(actionId)}` : text("action id not valid")]),
      ];
      if (report.kind === "fixed") {
        const restore = isRestore(report.changes);
        return {
          severity: SEVERITY.fixed,
          title: `${restore ? "Restored" : "Fixed"}: ${problem}`,
          summary: [
            t`Remedy ${restore ? "restored" : "fixed"} ${resource}: ${changeSummary(report.changes)}.`,
            ...whoSummary(context.attribution),
          ],
          fields,
          details: [
            ...report.changes.map(changeSection),
            undoSection(report.actionId),
            ...whoDetails(context.attribution),
            ...training(restore ? undefined : problemTraining(report.problem)),
          ],
          footer: footer(context, ...ids),
        };
      }
      if (report.kind === "would-fix") {
        // No undo command: nothing was changed, and the action id names no ledger record.
        return {
          severity: SEVERITY["would-fix"],
          title: `Would fix (notify mode): ${problem}`,
          summary: [
            t`Remedy would have ${changeSummary(report.changes)} on ${resource}, and changed nothing — ${cutRaw(report.reason, 1_000)}.`,
            ...whoSummary(context.attribution),
          ],
          fields,
          details: [
            ...report.changes.map(plannedChangeSection),
            ...whoDetails(context.attribution),
            ...training(problemTraining(report.problem)),
          ],
          footer: footer(context, ...ids),
        };
      }
      if (report.kind === "skipped") {
        return {
          severity: SEVERITY.skipped,
          title: `Skipped: ${problem}`,
          summary: [t`Remedy looked at ${resource} and changed nothing — ${cutRaw(report.reason, 1_500)}`],
          fields,
          details: [],
          footer: footer(context, ...ids),
        };
      }
      if (report.kind === "failed") {
        const retry = report.willRetry
          ? t`It will try again${opt(report.attempt, () => t` (attempt ${report.attempt ?? 0} failed)`)}.`
          : t`It will not retry: ${bold("someone needs to look at it")}.`;
        return {
          severity: SEVERITY.failed,
          title: `Fix failed: ${problem}`,
          summary: [t`Remedy could not fix ${resource}. ${retry}`, ...whoSummary(context.attribution)],
          fields,
          details: [
            { kind: "code", title: "Error", code: report.error },
            ...whoDetails(context.attribution),
            ...training(problemTraining(report.problem)),
          ],
          footer: footer(context, ...ids),
        };
      }
      return {
        severity: SEVERITY.grace,
        title: `Will fix at ${utc(report.notBefore).replace(/:\d\d UTC$/, " UTC")}: ${problem}`,
        summary: [
          t`Remedy will fix ${resource} at ${when(report.notBefore)} unless it is fixed or exempted before then.`,
          ...whoSummary(context.attribution),
        ],
        fields: [...fields.slice(0, -1), { label: "Fix at", value: when(report.notBefore) }, at],
        details: [
          { kind: "text", title: "What will be fixed", lines: [text(cutRaw(report.summary, 2_500))] },
          ...whoDetails(context.attribution),
          ...training(problemTraining(report.problem)),
        ],
        footer: footer(context, ...ids),
      };
    }
    case "dead-lettered": {
      const about = report.resource
        ? [
            t`It was about ${resourceLink(report.resource)}${opt(report.problem, () => t` (${PROBLEM_TITLES[report.problem!]})`)}.`,
          ]
        : [];
      return {
        severity: SEVERITY["dead-lettered"],
        title: "Dead-lettered: a message Remedy could not process",
        summary: [t`A message was moved to the dead-letter queue: ${cutRaw(report.reason, 1_500)}`, ...about],
        fields: [
          ...(report.resource ? resourceFields(report.resource) : []),
          { label: "Message", value: code(report.messageId) },
          ...(report.instructionId ? [{ label: "Instruction", value: code(report.instructionId) }] : []),
          at,
        ],
        details: [],
        footer: footer(context),
      };
    }
    case "breaker-tripped": {
      // Organisation mode: one account's own breaker. The id goes into a command only once it is checked.
      const account = report.accountId !== undefined && isAccountId(report.accountId) ? report.accountId : undefined;
      return {
        severity: SEVERITY["breaker-tripped"],
        title: account
          ? `Remedy paused account ${account}: circuit breaker tripped`
          : "Remedy paused: circuit breaker tripped",
        summary: [
          account
            ? t`${bold(report.freshInstructions)} new fix instructions arrived for account ${bold(account)} within ${plural(report.windowMinutes, "minute")} (limit ${report.limit} per account). Remedy stopped fixing automatically in that account until someone resumes it; other accounts are still fixed.`
            : t`${bold(report.freshInstructions)} new fix instructions arrived within ${plural(report.windowMinutes, "minute")} (limit ${report.limit}). Remedy stopped fixing automatically until someone resumes it.`,
        ],
        fields: [at],
        details: [
          {
            kind: "list",
            title: "What arrived",
            note: text(`A sample of ${report.sample.length} of ${report.freshInstructions}:`),
            items: report.sample.map((line) => code(cutRaw(line, 300))),
          },
          {
            kind: "code",
            title: "Resume",
            note: text("When the burst is understood:"),
            code: account ? `${RESUME_COMMAND} --account ${account}` : RESUME_COMMAND,
          },
        ],
        footer: footer(context),
      };
    }
    case "breaker-resumed":
      return {
        severity: SEVERITY["breaker-resumed"],
        title: "Remedy resumed: circuit breaker reset",
        summary: [t`Automatic fixing is back on. Resumed by ${bold(report.by)}.`],
        fields: [at],
        details: [],
        footer: footer(context),
      };
    case "undone":
      return undoneModel(report, at, context);
  }
}

/** How to lift an undo's exemption early: fixed text (the report's own ids never go into a command here). */
export const LIFT_EXEMPTION_HINT = "remedy exemptions lists it; remedy exemptions lift RESOURCE ends it early";

/** An operator's undo: what went back and until when Remedy leaves it so. */
function undoneModel(
  report: Extract<Report, { kind: "undone" }>,
  at: MessageModel["fields"][number],
  context: RenderContext,
): MessageModel {
  const resource = resourceLink(report.resource);
  const what = report.problem ? PROBLEM_TITLES[report.problem] : resourceTypeLabel(report.resource.type);
  const undone = isActionId(report.undoes) ? code(report.undoes) : text("a fix (its action id is not valid)");
  const count = plural(report.reAdded.length, "entry", "entries");
  const until = report.exemptUntil;
  const ids = [
    isActionId(report.actionId) ? t`action ${code(report.actionId)}` : text("action id not valid"),
    ...(isActionId(report.undoes) ? [t`undoes ${code(report.undoes)}`] : []),
  ];
  return {
    severity: SEVERITY.undone,
    title: `Undone: ${what}`,
    summary: [
      t`${bold(report.by)} undid ${undone} on ${resource}: ${count} put back.`,
      until
        ? t`Remedy leaves ${report.reAdded.length === 1 ? "it" : "them"} as restored until ${when(until)}, then fixes ${report.reAdded.length === 1 ? "it" : "them"} again unless the resource is exempted.`
        : t`${bold("No exemption")}: Remedy fixes ${report.reAdded.length === 1 ? "it" : "them"} again at its next detection unless the resource is exempted or Remedy is paused.`,
    ],
    fields: [
      ...resourceFields(report.resource),
      { label: "By", value: text(report.by) },
      ...(until ? [{ label: "Left as restored until", value: when(until) }] : []),
      at,
    ],
    details: [
      {
        kind: "list",
        title: "Put back",
        items: report.reAdded.map((entry) => code(cutRaw(entry, 300))),
      },
      ...(until ? [{ kind: "text", title: "End it early", lines: [text(LIFT_EXEMPTION_HINT)] } satisfies Section] : []),
    ],
    footer: footer(context, ...ids),
  };
}

/** The undo command, from the action id alone (a forged report's undoCommand could say anything). */
function undoSection(actionId: string): Section {
  if (!isActionId(actionId)) {
    return {
      kind: "text",
      title: "Undo",
      lines: [text("No undo command: the action id in this report is not valid (remedy status lists recent actions).")],
    };
  }
  return {
    kind: "code",
    title: "Undo",
    note: text("Puts back exactly what was removed:"),
    code: undoCommandFor(actionId),
  };
}

// -- AWS Config compliance changes ------------------------------------------------------------------------------

function complianceLabel(type: string): string {
  return ownValue(COMPLIANCE_LABELS, type) ?? type;
}

function complianceSentence(change: ComplianceChange, resource: Inline): Inline {
  const rule = t`AWS Config rule ${code(change.configRuleName)}`;
  switch (change.newType) {
    case "COMPLIANT":
    case "NON_COMPLIANT":
      return t`${rule} now finds ${resource} ${bold(complianceLabel(change.newType))}`;
    case "NOT_APPLICABLE":
      return t`${rule} ${change.oldType === null ? "does not apply" : "no longer applies"} to ${resource}`;
    case "INSUFFICIENT_DATA":
      return t`${rule} has ${bold("insufficient data")} to judge ${resource}`;
    default:
      return t`${rule} now reports ${resource} as ${bold(change.newType)}`;
  }
}

/**
 * A Remedy rule's NON_COMPLIANT says which resource, not how: the secure pattern of the one problem the rule finds on
 * the resource type (the rule: the longest rule id the Config rule's name ends with), else the resource type's.
 */
function trainingFor(change: ComplianceChange): Training | undefined {
  if (!change.isRemedyRule || change.newType !== "NON_COMPLIANT") return undefined;
  const [ruleId] = RULE_IDS.filter((id) => change.configRuleName.endsWith(id)).sort((a, b) => b.length - a.length);
  const found = PROBLEM_SPECS.filter((spec) => spec.ruleId === ruleId && spec.resourceType === change.resourceType);
  return found.length === 1 ? found[0]!.training : resourceSpec(change.resourceType)?.training;
}

function complianceModel(change: ComplianceChange, context: RenderContext): MessageModel {
  const resource = {
    type: change.resourceType,
    id: change.resourceId,
    accountId: change.accountId,
    region: change.region,
  };
  const label = complianceLabel(change.newType);
  const previous = change.oldType === null ? "first evaluation" : `was ${complianceLabel(change.oldType)}`;
  const severity = ownValue<Severity>(SEVERITY, change.newType) ?? { emoji: "❔", color: GREY };
  return {
    severity,
    title: `${capitalise(label)}: ${resourceTypeLabel(change.resourceType)} ${change.resourceId}`,
    summary: [
      t`${complianceSentence(change, resourceLink(resource))} (${previous}).`,
      ...(change.annotation ? [quote(cutRaw(change.annotation, 1_000))] : []),
      ...whoSummary(context.attribution),
    ],
    fields: [
      ...resourceFields(resource),
      { label: "Rule", value: code(change.configRuleName) },
      { label: "Recorded", value: change.recordedAt ? when(change.recordedAt) : text("unknown") },
      {
        label: "Before",
        value: text(change.oldType === null ? "none (first evaluation)" : complianceLabel(change.oldType)),
      },
    ],
    details: [...whoDetails(context.attribution), ...training(trainingFor(change))],
    footer: footer(context, text("AWS Config compliance change")),
  };
}

// -- CloudWatch alarms ------------------------------------------------------------------------------------------

/** A dead-letter queue whose region, account and name are all well-formed: only then a link and a command. */
interface QueueRef {
  region: string;
  accountId: string;
  name: string;
}

function queueRef(alarm: AlarmNotice, name: string): QueueRef | undefined {
  const { region, accountId } = alarm;
  return isRegion(region) && isAccountId(accountId) && isQueueName(name) ? { region, accountId, name } : undefined;
}

function queueConsoleUrl({ region, accountId, name }: QueueRef): string {
  const r = encodeURIComponent(region);
  const queueUrl = `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
  return `https://${r}.console.aws.amazon.com/sqs/v3/home?region=${r}#/queues/${encodeURIComponent(queueUrl)}`;
}

function alarmModel(alarm: AlarmNotice, context: RenderContext): MessageModel {
  // Links and commands only from ids of the right shape; the fields still show, escaped, what the alarm said.
  const region = alarm.region;
  const alarmUrl = isRegion(region)
    ? `https://${encodeURIComponent(region)}.console.aws.amazon.com/cloudwatch/home?region=${encodeURIComponent(region)}#alarmsV2:alarm/${encodeURIComponent(alarm.name)}`
    : undefined;
  const fields: MessageModel["fields"] = [
    { label: "Alarm", value: alarmUrl ? link(alarmUrl, alarm.name) : code(alarm.name) },
    { label: "Account", value: code(alarm.accountId) },
    ...(region ? [{ label: "Region", value: text(region) }] : []),
    { label: "When", value: when(alarm.at) },
  ];
  const reason: Section = { kind: "text", title: "Alarm reason", lines: [quote(cutRaw(alarm.reason, 2_000))] };
  const queue = alarm.queueName;
  const isQueueDepth = queue !== undefined && (alarm.metricName ?? "").startsWith("ApproximateNumberOfMessages");
  if (!isQueueDepth) {
    return {
      severity: SEVERITY[alarm.state],
      title: `${alarm.state === "ALARM" ? "Alarm" : "OK"}: ${alarm.name}`,
      summary: [t`CloudWatch alarm ${bold(alarm.name)} is ${bold(alarm.state)}.`],
      fields,
      details: [reason],
      footer: footer(context, text("CloudWatch alarm")),
    };
  }

  const count = alarm.value === undefined ? undefined : Math.round(alarm.value);
  const messages = count === undefined ? "messages" : plural(count, "message");
  const dlq = queueRef(alarm, queue);
  // A name that is no queue name is not put in a code span either: nothing about it should look copy-pasteable.
  const queueLink = dlq ? link(queueConsoleUrl(dlq), queue) : isQueueName(queue) ? code(queue) : text(queue);
  if (alarm.state === "OK") {
    return {
      severity: SEVERITY.OK,
      title:
        count === 0
          ? `Dead-letter queue ${queue} is empty again`
          : `Dead-letter queue ${queue} is back under its alarm threshold`,
      summary: [t`The dead-letter queue ${queueLink} now holds ${messages}.`],
      fields,
      details: [reason],
      footer: footer(context, text("CloudWatch alarm")),
    };
  }
  return {
    severity: SEVERITY.ALARM,
    title: `Dead-letter queue ${queue} has ${messages}`,
    summary: [
      t`The dead-letter queue ${queueLink} holds ${bold(messages)} that Remedy could not process. Look at them, then redrive or delete them.`,
    ],
    fields,
    details: [
      ...(dlq
        ? [
            {
              kind: "code",
              title: "Redrive to the source queue",
              note: text("After the cause is fixed:"),
              code: `aws sqs start-message-move-task --source-arn arn:aws:sqs:${dlq.region}:${dlq.accountId}:${dlq.name}`,
            } satisfies Section,
          ]
        : []),
      reason,
    ],
    footer: footer(context, text("CloudWatch alarm")),
  };
}
