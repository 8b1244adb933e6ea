// Running a remediation function in a test: the one runner with the fixes of the problems the function fixes, each
// made from its problems/<id>/fix.ts exactly as the deployed handler makes it, with the test's clients and settings.
// Driven by the registry: a problem added there is run here without a line of test code.
import type { EC2Client } from "@aws-sdk/client-ec2";
import type { S3Client } from "@aws-sdk/client-s3";
import type { AccountFactsReader } from "../../detection/account-facts.ts";
import { type RemediationDeps, type RemediationResult, runRemediation } from "../../functions/remediation/runner.ts";
import type { FixModule, ProblemFix } from "../../problems/fix.ts";
import { PROBLEM_SPECS, type Problem, problemsFixedBy } from "../../problems/index.ts";
import type { S3FixStrategy } from "../../problems/s3-public/fix-spec.ts";

/** Every problem's fix module, by problem (the path every problem folder has: problems/<id>/fix.ts). */
export const FIX_MODULES: ReadonlyMap<Problem, FixModule> = new Map(
  await Promise.all(
    PROBLEM_SPECS.map(
      async (spec) =>
        [spec.id, ((await import(`../../problems/${spec.id}/fix.ts`)) as { fix: FixModule }).fix] as const,
    ),
  ),
);

/** The runner's dependencies plus what the fixes are made with. */
export type TestRemediationDeps = RemediationDeps & {
  ec2?: EC2Client;
  s3?: S3Client;
  /** REMEDY_S3_FIX_STRATEGY (default surgical). */
  strategy?: S3FixStrategy;
  /** The first is the ledger bucket (REMEDY_LEDGER_BUCKET), the rest REMEDY_PROTECTED_BUCKETS. */
  protectedBuckets?: readonly string[];
  accountFacts?: AccountFactsReader;
};

/** The fixes of `problems`, made with the test's clients (any other client: a new one in the deployment's region). */
export function testFixes(deps: TestRemediationDeps, problems: readonly Problem[]): ProblemFix[] {
  const clients: object[] = [deps.ec2, deps.s3].filter((client) => client !== undefined);
  const [ledgerBucket = "remedy-ledger-test", ...protectedBuckets] = deps.protectedBuckets ?? [];
  const env = {
    REMEDY_LEDGER_BUCKET: ledgerBucket,
    REMEDY_S3_FIX_STRATEGY: deps.strategy ?? "surgical",
    REMEDY_PROTECTED_BUCKETS: protectedBuckets.join(","),
  };
  return problems.map((problem) =>
    FIX_MODULES.get(problem)!.create({
      env,
      log: deps.log,
      now: deps.now,
      client: <C>(Client: new (config: object) => C) =>
        (clients.find((client) => client instanceof Client) as C | undefined) ??
        new Client({ region: deps.deployment.region }),
      // The runner's reader: one ledger bucket, whichever reads it.
      undoExemptions: deps.undoExemptions,
      ...(deps.accountFacts ? { accountFacts: deps.accountFacts } : {}),
    }),
  );
}

/** What the remediation function `name` does with `payload`, as deployed (its problems, from the registry). */
export function remediate(name: string, payload: unknown, deps: TestRemediationDeps): Promise<RemediationResult> {
  return runRemediation(payload, deps, testFixes(deps, problemsFixedBy(name)));
}

/**
 * A remediation function's Lambda handler, made as its built entry makes it (scripts/build.ts remediationEntrySource:
 * the one handler with its problems' fix modules), reading the environment as it is now.
 */
export async function deployedHandler(name: string) {
  const { remediationHandler } = await import("../../functions/remediation/handler.ts");
  return {
    handler: remediationHandler(
      name,
      problemsFixedBy(name).map((problem) => FIX_MODULES.get(problem)!),
    ),
  };
}
