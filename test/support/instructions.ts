// The one fix-instruction factory of the tests, driven by the registry: the resource type, the rule and its ARN come
// from the problem's spec and resource type, and the matched entry, unless a test names its own, from the problem's
// example (problems/<id>/example.ts). Built by the product's own buildInstructions, so ids and shapes are real.
import { buildInstructions, type Instruction } from "../../contract/instruction.ts";
import type { Finding, MatchedEntry } from "../../detection/types.ts";
import type { ProblemExample } from "../../problems/example.ts";
import { PROBLEM_SPECS, type Problem, problemSpec, resourceSpec } from "../../problems/index.ts";

/** Every problem's example, by problem. */
export const EXAMPLES: ReadonlyMap<Problem, ProblemExample> = new Map(
  await Promise.all(
    PROBLEM_SPECS.map(
      async (spec) =>
        [
          spec.id,
          ((await import(`../../problems/${spec.id}/example.ts`)) as { example: ProblemExample }).example,
        ] as const,
    ),
  ),
);

export const TEST_ACCOUNT = "123456789012";
export const TEST_REGION = "us-east-1";

/** A resource id of the problem's type: `n` makes distinct ones (same n, same resource). */
export function testResourceId(problem: Problem, n = 0): string {
  const hex = n.toString(16).padStart(17, "0");
  return problemSpec(problem).resourceType === "AWS::EC2::SecurityGroup" ? `sg-${hex}` : `bucket-${hex}`;
}

export interface TestInstructionOptions {
  problem: Problem;
  /** Default: the problem's example violation on this resource. */
  matched?: readonly MatchedEntry[];
  /** Default: testResourceId(problem). */
  resourceId?: string;
  accountId?: string;
  region?: string;
  /** Whether the resource carries its ARN (as Config items of buckets do); derived from its type, never given. */
  withArn?: boolean;
  /** The rule's parameters as the rule Lambda parsed them; default none. */
  parameters?: Record<string, unknown>;
  /** The Config rule the evaluation came from; absent by default. */
  configRuleName?: string;
  capturedAt: string;
  detectedAt?: string;
  /** Default: capturedAt (due at once). */
  notBefore?: string;
  /** The finding's reason; default "test finding". */
  reason?: (entry: MatchedEntry) => string;
}

/** One valid instruction (the findings fit one message). */
export function testInstruction(options: TestInstructionOptions): Instruction {
  const { problem } = options;
  const spec = problemSpec(problem);
  const id = options.resourceId ?? testResourceId(problem);
  const accountId = options.accountId ?? TEST_ACCOUNT;
  const region = options.region ?? TEST_REGION;
  const arn = options.withArn
    ? resourceSpec(spec.resourceType)?.arn({ partition: "aws", region, accountId }, id)
    : undefined;
  const matched = options.matched ?? [EXAMPLES.get(problem)!.violation(id)];
  const findings = matched.map(
    (entry): Finding => ({ problem, matched: entry, reason: options.reason?.(entry) ?? "test finding" }),
  );
  const [built] = buildInstructions(
    {
      resource: { type: spec.resourceType, id, ...(arn ? { arn } : {}), accountId, region },
      rule: {
        id: spec.ruleId,
        ...(options.configRuleName ? { configRuleName: options.configRuleName } : {}),
        parameters: options.parameters ?? {},
      },
      capturedAt: options.capturedAt,
      detectedAt: options.detectedAt ?? options.capturedAt,
      notBefore: options.notBefore ?? options.capturedAt,
    },
    findings,
  );
  return built!;
}
