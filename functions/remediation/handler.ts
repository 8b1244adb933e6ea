// The one Lambda handler every remediation function runs: the runner with the fixes of the problems the function
// fixes (problems/<id>/fix.ts). The build writes each function's entry from the registry (scripts/build.ts
// remediationEntrySource), so a function's bundle carries only its own problems' code. Wiring only.
import { sharedClient } from "../../platform/clients.ts";
import { ConfigurationError } from "../../platform/env.ts";
import { createLogger, createMetrics } from "../../platform/logging.ts";
import type { FixModule } from "../../problems/fix.ts";
import { problemsFixedBy } from "../../problems/index.ts";
import { readRemediationSettings, runRemediation } from "./runner.ts";
import { liveRemediationDeps } from "./wiring.ts";

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
  const now = () => new Date();
  const fixes = modules.map((module) => module.create({ env, log: logger, now, client: sharedClient }));

  return async function handler(event: unknown) {
    try {
      return await runRemediation(event, liveRemediationDeps(settings, logger, metrics), fixes);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
