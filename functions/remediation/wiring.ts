// The real clients behind every remediation function's shared dependencies, built from its settings: wiring only,
// used by the handler (tests pass their own dependencies to the runner).

import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import { kmsRecordSigner, s3Ledger } from "../../contract/ledger.ts";
import { snsReporter } from "../../contract/report.ts";
import type { ApproverSettings } from "../../platform/approvers.ts";
import {
  kmsClient,
  organizationsClient,
  s3Client,
  snsClient,
  sqsClient,
  ssmClient,
  stsClient,
} from "../../platform/clients.ts";
import { metricSink } from "../../platform/logging.ts";
import { type OrganizationSettings, organizationsDirectory } from "../../platform/organization.ts";
import { readPauseState } from "../../platform/pause.ts";
import { readSlackAllowlist } from "../../platform/slack-allowlist-read.ts";
import { undoExemptionReader } from "../../platform/undo-exemptions.ts";
import { fixNowPressedAt } from "./fix-now.ts";
import type { OrganizationDeps } from "./member.ts";
import type { RemediationDeps, RemediationSettings } from "./runner.ts";

export function liveRemediationDeps(settings: RemediationSettings, logger: Logger, metrics: Metrics): RemediationDeps {
  return {
    deployment: settings.deployment,
    queueUrl: settings.queueUrl,
    sqs: sqsClient(),
    ledger: s3Ledger(s3Client(), {
      bucket: settings.ledgerBucket,
      // Every record is signed, so undo can tell it from one written by anyone else with access to the bucket.
      signer: kmsRecordSigner(kmsClient(), settings.ledgerMacKeyId),
    }),
    reporter: snsReporter(snsClient(), settings.reportTopicArn),
    deadLetterQueueUrl: settings.deadLetterQueueUrl,
    readPause: () => readPauseState(ssmClient(), settings.pauseParameter),
    undoExemptions: liveUndoExemptions(settings, logger),
    slackAllowlist: liveSlackAllowlist(settings, logger),
    ...(settings.slackApprovers ? { fixNowAt: liveFixNowAt(settings, settings.slackApprovers) } : {}),
    maxDispatchAgeMs: settings.maxDispatchAgeSeconds * 1000,
    allowlist: settings.allowlist,
    now: () => new Date(),
    log: logger,
    metrics: metricSink(metrics),
  };
}

/** Fix now pressed in Slack: the decisions in the ledger bucket, re-checked with the deployed approvers. */
function liveFixNowAt(
  settings: Pick<RemediationSettings, "ledgerBucket">,
  approvers: ApproverSettings,
): NonNullable<RemediationDeps["fixNowAt"]> {
  return (instruction) => fixNowPressedAt(s3Client(), settings.ledgerBucket, approvers, instruction);
}

/** Undo's temporary exemptions, read in the ledger bucket with the function's own credentials (a malformed one, logged). */
export function liveUndoExemptions(settings: RemediationSettings, logger: Logger): RemediationDeps["undoExemptions"] {
  return undoExemptionReader(s3Client(), settings.ledgerBucket, (reason) =>
    logger.warn("undo exemption ignored: it exempts nothing", { reason }),
  );
}

/**
 * The Slack allowlist in the ledger bucket, read on every call (no cache: a fix must see an exemption granted a minute
 * ago); its malformed parts exempt nothing and are logged; an S3 error is thrown (the runner retries the message).
 */
export function liveSlackAllowlist(
  settings: Pick<RemediationSettings, "ledgerBucket">,
  logger: Pick<Logger, "warn">,
): NonNullable<RemediationDeps["slackAllowlist"]> {
  return async () => {
    const reading = await readSlackAllowlist(s3Client(), settings.ledgerBucket);
    for (const problem of reading.problems) {
      logger.warn("Slack allowlist entry ignored: it exempts nothing", { ...problem });
    }
    return reading.entries;
  };
}

/** Organisation mode: made once per container, so the directory's cache of who is who lasts across invocations. */
export function liveOrganizationDeps(settings: OrganizationSettings): OrganizationDeps {
  return { directory: organizationsDirectory(organizationsClient(), settings), sts: stsClient() };
}
