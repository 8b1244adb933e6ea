// The one Lambda handler every remediation function runs: the runner with the fixes of the problems the function
// fixes (problems/<id>/fix.ts). The build writes each function's entry from the registry (scripts/build.ts
// remediationEntrySource), so a function's bundle carries only its own problems' code. Wiring only.
import { sharedClient } from "../../platform/clients.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { createLogger, createMetrics } from "../../platform/logging.ts";
import type { FixModule } from "../../problems/fix.ts";
import { problemsFixedBy } from "../../problems/index.ts";
import { memberFixes, type RemediationFixes } from "./member.ts";
import { readRemediationSettings, runRemediation } from "./runner.ts";
import { liveOrganizationDeps, liveRemediationDeps, liveSlackAllowlist, liveUndoExemptions } from "./wiring.ts";

export function remediationHandler(
  functionName: string,
  modules: readonly FixModule[],
  env: Record<string, string | undefined> = process.env,
) {
  const logger = createLogger(`remedy-${functionName}`);
  const metrics = createMetrics(`remedy-${functionName}`);
  const expected = problemsFixedBy(functionName).sort().join(", ");
  const given = modules
    .map((module) => module.problem)
    .sort()
    .join(", ");
  if (given !== expected) {
    throw new ConfigurationError(
      `${functionName} fixes ${expected || "nothing"}, but was built with fixes for ${given}`,
    );
  }
  const settings = readRemediationSettings(env);
  for (const problem of settings.allowlistProblems) {
    logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
  }
  if (settings.slackApproversProblem) {
    logger.error(
      "REMEDY_SLACK_APPROVERS refused: Fix now pressed in Slack fixes nothing before the grace period ends",
      {
        reason: settings.slackApproversProblem,
      },
    );
  }
  const now = () => new Date();
  // Always the hub's (the ledger bucket's): a fix reading other resources' undo exemptions reads them as the runner does.
  const undoExemptions = liveUndoExemptions(settings, logger);
  // The runner's reading, for fixes whose safety spans other resources: deployed entries first, then Slack's, read now.
  const slackAllowlist = liveSlackAllowlist(settings, logger);
  const allowlist = async () => [...settings.allowlist, ...(await slackAllowlist())];
  // Single-account mode: the fixes are made once, with the function's own clients. Organisation mode: per run, in the
  // instruction's account, with its fix role's credentials.
  const organization = settings.deployment.organization
    ? liveOrganizationDeps(settings.deployment.organization)
    : undefined;
  const fixes: RemediationFixes = organization
    ? memberFixes(modules, { env, log: logger, now, undoExemptions, allowlist })
    : modules.map((module) =>
        module.create({ env, log: logger, now, undoExemptions, allowlist, client: sharedClient }),
      );

  return async function handler(event: unknown) {
    try {
      const deps = liveRemediationDeps(settings, logger, metrics);
      return await runRemediation(event, organization ? { ...deps, organization } : deps, fixes);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
