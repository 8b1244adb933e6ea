// The notifier: SNS records in, Slack messages out. Each record stands alone: a bad one is logged and dropped,
// an undeliverable one is logged in full and fails the invocation (after the others were handled) so the
// platform retries it.
import { errorFields, type Log, type MetricSink } from "../../platform/logging.ts";
import type { AccountStanding, OrganizationDirectory } from "../../platform/organization.ts";
import type { SlackApp } from "../../platform/slack-app.ts";
import type { SlackWebApi } from "../../platform/slack-web-api.ts";
import { type Attribution, type AttributionDeps, type AttributionTarget, attribute } from "./attribution.ts";
import { type RoutedDestination, routeFor, routeInOrganization, type SlackRouting } from "./destinations.ts";
import {
  accountOf,
  type Classified,
  classifyMessage,
  InvalidNotificationError,
  messageIdOf,
  type Notice,
  type RelaySettings,
  readSnsRecord,
  snsRecords,
} from "./inbound.ts";
import { cutRaw } from "./message.ts";
import { isRestore, renderNotice } from "./render.ts";
import { postWithApp, SlackDeliveryError, type SlackSender, type WebhookDestination } from "./slack.ts";

export interface NotifierDeps {
  relay: RelaySettings;
  /** CloudTrail attribution; absent when turned off. */
  attribution?: AttributionDeps;
  /** Slack routing, loaded once per container; undefined when no secret is configured (messages are logged). */
  routing: () => Promise<SlackRouting | undefined>;
  slack: SlackSender;
  /**
   * The Slack app (REMEDY_SLACK_APP_SECRET): destinations that name a channelId are posted to with chat.postMessage,
   * with buttons. Absent: webhooks only, as before.
   */
  slackApp?: {
    /** Loaded once per container; undefined when no app is configured. */
    load: () => Promise<SlackApp | undefined>;
    /** A Web API client with the app's bot token. */
    api: (app: SlackApp) => SlackWebApi;
    /** Shown on the Snooze button. */
    snoozeMinutes: number;
  };
  log: Log;
  metrics: MetricSink;
  /** Organisation mode: each account's Slack route comes from its settings (the directory caches who is who). */
  organization?: { directory: OrganizationDirectory };
}

export interface NotifierResult {
  records: number;
  delivered: number;
  /** Rendered and logged because no webhook is configured for them. */
  logged: number;
  ignored: number;
  dropped: number;
  failed: number;
}

type Outcome = { kind: "delivered" | "logged" | "ignored" | "dropped" } | { kind: "failed"; error: Error };

export async function runNotifier(event: unknown, deps: NotifierDeps): Promise<NotifierResult> {
  const result: NotifierResult = { records: 0, delivered: 0, logged: 0, ignored: 0, dropped: 0, failed: 0 };
  let records: unknown[];
  try {
    records = snsRecords(event);
  } catch (error) {
    deps.log.error("notification dropped: the event is not an SNS event", {
      reason: (error as Error).message,
      event: cutRaw(safeJson(event), 2_000),
    });
    deps.metrics.count("NotificationsDropped");
    result.dropped++;
    return result;
  }
  result.records = records.length;
  let firstFailure: Error | undefined;
  for (const record of records) {
    const outcome = await handleRecord(record, deps);
    result[outcome.kind]++;
    if (outcome.kind === "failed") firstFailure ??= outcome.error;
  }
  if (firstFailure) throw firstFailure;
  return result;
}

async function handleRecord(record: unknown, deps: NotifierDeps): Promise<Outcome> {
  const messageId = messageIdOf(record);
  let classified: Classified;
  try {
    classified = classifyMessage(readSnsRecord(record).message, deps.relay);
  } catch (error) {
    const invalid = error instanceof InvalidNotificationError;
    deps.log.error(invalid ? "notification dropped: unreadable message" : "notification dropped: unexpected error", {
      messageId,
      reason: (error as Error).message,
      ...(invalid ? {} : errorFields(error)),
      message: cutRaw(rawMessage(record), 2_000),
    });
    deps.metrics.count("NotificationsDropped");
    return { kind: "dropped" };
  }
  if (classified.outcome === "ignored") {
    deps.log.debug("notification ignored", { messageId, reason: classified.reason });
    deps.metrics.count("NotificationsIgnored");
    return { kind: "ignored" };
  }

  const notice = classified.notice;
  const about = { messageId, ...describeNotice(notice) };
  const accountId = accountOf(notice);
  const standing = await standingOf(accountId, deps, about);
  let destination: RoutedDestination | undefined;
  let routingError: unknown;
  try {
    const routing = await deps.routing();
    if (routing && deps.organization) {
      const routed = routeInOrganization(routing, accountId, standing);
      if (routed.unknownRoute !== undefined) {
        deps.log.warn("Slack route of the organisation settings is not in the Slack secret: sent to the default", {
          ...about,
          route: routed.unknownRoute,
        });
      }
      destination = routed.destination;
    } else destination = routing ? routeFor(routing, accountId) : undefined;
  } catch (error) {
    routingError = error;
  }

  // The app is read only for a destination it can post to; a secret that cannot be read fails the notice, as an
  // unreadable routing secret does (posting by webhook instead would drop the buttons without anyone noticing).
  let app: { api: SlackWebApi; channelId: string } | undefined;
  let appError: unknown;
  if (destination?.channelId !== undefined && deps.slackApp) {
    try {
      const loaded = await deps.slackApp.load();
      if (loaded) app = { api: deps.slackApp.api(loaded), channelId: destination.channelId };
    } catch (error) {
      appError = error;
    }
  }

  let rendered: ReturnType<typeof renderNotice>;
  try {
    const attribution = await attributionFor(notice, deps);
    rendered = renderNotice(notice, {
      ...(attribution ? { attribution } : {}),
      ...(destination?.channel ? { channel: destination.channel } : {}),
      ...(standing && !standing.member ? { outsideOrganization: standing.reason } : {}),
      // Buttons only where a press can be answered: the app posts the message.
      ...(app && deps.slackApp
        ? { buttons: { snoozeMinutes: deps.slackApp.snoozeMinutes, undo: deps.organization === undefined } }
        : {}),
    });
  } catch (error) {
    deps.log.error("notification dropped: unexpected error while rendering", { ...about, ...errorFields(error) });
    deps.metrics.count("NotificationsDropped");
    return { kind: "dropped" };
  }
  const payload = rendered.message;
  if (rendered.truncated) {
    deps.log.info("message cut to fit Slack's limits; the full text follows", {
      ...about,
      fullText: rendered.fullText,
    });
  }

  if (routingError !== undefined || appError !== undefined) {
    const error = routingError ?? appError;
    deps.log.error(
      routingError !== undefined
        ? "Slack destinations unavailable; undeliverable message follows"
        : "Slack app unavailable; undeliverable message follows",
      { ...about, ...errorFields(error), payload },
    );
    deps.metrics.count("NotificationsFailed");
    return { kind: "failed", error: error as Error };
  }
  if (!destination) {
    deps.log.info("no Slack webhook configured for this message; logged only", { ...about, payload });
    deps.metrics.count("NotificationsLoggedOnly");
    return { kind: "logged" };
  }

  const where = {
    channel: destination.channel,
    ...(destination.channelId ? { channelId: destination.channelId } : {}),
    via: destination.via,
    ...(destination.route ? { route: destination.route } : {}),
  };
  const webhookUrl = destination.webhookUrl;
  type Sender = { app: { api: SlackWebApi; channelId: string } } | { webhook: WebhookDestination };
  const sender: Sender | undefined = app
    ? { app }
    : webhookUrl !== undefined
      ? { webhook: { webhookUrl, channel: destination.channel } }
      : undefined;
  if (!sender) {
    // Retrying cannot help: the routing names only a channel, and without the app nothing can post there.
    deps.log.error("Slack destination names only a channelId and no Slack app is configured; logged only", {
      ...about,
      ...where,
      payload,
    });
    deps.metrics.count("NotificationsLoggedOnly");
    return { kind: "logged" };
  }
  try {
    if ("app" in sender) {
      const { api, channelId } = sender.app;
      const posted = await postWithApp(api, { channelId, channel: destination.channel }, payload, deps.log);
      // The channel and ts name the message its buttons are on (the interactions function updates it).
      deps.log.info("notification delivered", {
        ...about,
        ...where,
        postedWith: "app",
        channelId: posted.channel,
        ts: posted.ts,
        textOnly: posted.textOnly,
      });
    } else {
      const sent = await deps.slack.send(sender.webhook, payload);
      deps.log.info("notification delivered", { ...about, ...where, attempts: sent.attempts, textOnly: sent.textOnly });
    }
    deps.metrics.count("NotificationsDelivered");
    return { kind: "delivered" };
  } catch (error) {
    const failure =
      error instanceof SlackDeliveryError
        ? error
        : new SlackDeliveryError(`Slack delivery failed: ${errorFields(error).errorMessage}`, {
            attempts: 1,
            permanent: false,
          });
    deps.log.error("Slack delivery failed; undeliverable message follows", {
      ...about,
      ...where,
      ...errorFields(failure),
      delivery: failure.details,
      payload,
    });
    deps.metrics.count("NotificationsFailed");
    return { kind: "failed", error: failure };
  }
}

/** Whose change it was: for fixes, grace notices and failures, and for Remedy rules finding a resource non-compliant. */
export function attributionTarget(notice: Notice): AttributionTarget | undefined {
  if (notice.kind === "report") {
    const report = notice.report;
    const named = report.kind === "fixed" || report.kind === "would-fix" || report.kind === "grace";
    if (!named && report.kind !== "failed") return undefined;
    if (report.kind === "fixed" && isRestore(report.changes)) return undefined;
    const { type, id, accountId, region } = report.resource;
    return { resourceType: type, resourceId: id, accountId, region };
  }
  if (notice.kind === "compliance") {
    const change = notice.change;
    if (change.newType !== "NON_COMPLIANT" || !change.isRemedyRule) return undefined;
    return {
      resourceType: change.resourceType,
      resourceId: change.resourceId,
      accountId: change.accountId,
      region: change.region,
    };
  }
  return undefined;
}

/**
 * Organisation mode: who the notice's account is to the organisation (cached by the directory). Undefined in
 * single-account mode, for notices without an account, and when the organisation cannot be read (then the notice is
 * routed as in single-account mode: told late is worse than told in the account's or the default channel).
 */
async function standingOf(
  accountId: string | undefined,
  deps: NotifierDeps,
  about: Record<string, unknown>,
): Promise<AccountStanding | undefined> {
  if (!deps.organization || accountId === undefined) return undefined;
  try {
    return await deps.organization.directory.standing(accountId);
  } catch (error) {
    deps.log.warn("organisation unreadable: routed by account, not by the organisation settings", {
      ...about,
      ...errorFields(error),
    });
    return undefined;
  }
}

async function attributionFor(notice: Notice, deps: NotifierDeps): Promise<Attribution | undefined> {
  const target = attributionTarget(notice);
  if (!target || !deps.attribution) return undefined;
  try {
    return await attribute(target, deps.attribution);
  } catch (error) {
    deps.log.warn("attribution failed; who made the change is unknown", {
      resourceId: target.resourceId,
      ...errorFields(error),
    });
    return { found: false, reason: `lookup failed (${errorFields(error).errorName})` };
  }
}

function describeNotice(notice: Notice): Record<string, string | undefined> {
  switch (notice.kind) {
    case "report": {
      const report = notice.report;
      return { notice: report.kind, resourceId: "resource" in report ? report.resource?.id : undefined };
    }
    case "compliance":
      return {
        notice: "compliance",
        resourceId: notice.change.resourceId,
        compliance: notice.change.newType,
        configRuleName: notice.change.configRuleName,
      };
    case "alarm":
      return { notice: "alarm", alarmName: notice.alarm.name, state: notice.alarm.state };
  }
}

function rawMessage(record: unknown): string {
  const message = (record as { Sns?: { Message?: unknown } } | null)?.Sns?.Message;
  return typeof message === "string" ? message : safeJson(record);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
