// Lambda entry for the security-group remediation (invoked asynchronously by the coordinator): wiring only.
import { ec2Client } from "../../shared/clients.ts";
import { createLogger, createMetrics } from "../../shared/logging.ts";
import { liveRemediationDeps } from "../../shared/remediation-wiring.ts";
import { remediateSecurityGroup } from "./core.ts";
import { readRemediateSgSettings } from "./settings.ts";

const logger = createLogger("remedy-remediate-sg");
const metrics = createMetrics("remedy-remediate-sg");
const settings = readRemediateSgSettings();
for (const problem of settings.allowlistProblems) {
  logger.error("allowlist entry ignored: it exempts nothing until fixed", { ...problem });
}

export async function handler(event: unknown) {
  try {
    return await remediateSecurityGroup(event, { ...liveRemediationDeps(settings, logger, metrics), ec2: ec2Client() });
  } finally {
    metrics.publishStoredMetrics();
  }
}
