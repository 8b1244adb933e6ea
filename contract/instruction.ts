// The fix-instruction contract: what goes on the remediation queue. Every producer (Config rules) and every
// consumer (coordinator, remediation functions, CLI) goes through this module and nothing else.
import { createHash } from "node:crypto";
import * as v from "valibot";
import { type Finding, PROBLEMS, type Problem } from "../detection/types.ts";
import { PermanentError } from "../platform/errors.ts";
import { byProblem, PROBLEM_SPECS } from "../problems/index.ts";
import { canonicalJson } from "./canonical-json.ts";
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from "./ids.ts";
import { boundedJson } from "./json.ts";
import { kindVariant, plainObject } from "./schema-kit.ts";

export { plainObject } from "./schema-kit.ts";

export const INSTRUCTION_VERSION = 1;
/** SQS's hard limit on one message (body plus attributes). */
export const SQS_MAX_MESSAGE_BYTES = 262_144;
/** Room left for message attributes and SQS's own envelope. */
export const MAX_INSTRUCTION_BYTES = SQS_MAX_MESSAGE_BYTES - 4_096;

/** One offending entry of any problem: each problem's own (its contract.ts), in the registry's order. */
const MatchedEntrySchema = kindVariant(
  "matched entry",
  PROBLEM_SPECS.map((spec) => spec.contract.matched),
);
/** One offending entry: what a finding records and a fix instruction names. */
export type MatchedEntry = v.InferOutput<typeof MatchedEntrySchema>;
/** A matched entry's kind: each problem's own. */
export type MatchedKind = MatchedEntry["kind"];

/** Which kind of matched entry each problem carries: a fix for one problem never touches another kind. */
export const MATCHED_KIND_BY_PROBLEM = byProblem((spec) => spec.matchedKind) as Record<Problem, MatchedKind>;

const isoTimestamp = v.pipe(v.string(), v.isoTimestamp("must be an ISO-8601 timestamp"));

const InstructionObjectSchema = v.strictObject({
  version: v.literal(INSTRUCTION_VERSION, (issue) => `unsupported instruction version ${String(issue.input)}`),
  id: v.pipe(v.string(), v.regex(/^[0-9a-f]{32}$/, "must be 32 lowercase hex characters")),
  problem: v.picklist(PROBLEMS, (issue) => `unknown problem ${JSON.stringify(issue.input)}`),
  resource: v.strictObject({
    type: v.pipe(v.string(), v.regex(/^AWS::\w+::\w+$/, "must be an AWS resource type like AWS::S3::Bucket")),
    id: v.pipe(v.string(), v.minLength(1)),
    arn: v.optional(v.pipe(v.string(), v.startsWith("arn:"))),
    accountId: v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id")),
    region: v.pipe(v.string(), v.regex(REGION_PATTERN, "must be an AWS region")),
  }),
  matched: v.pipe(v.array(MatchedEntrySchema), v.minLength(1, "must name at least one offending entry")),
  rule: v.strictObject({
    id: v.pipe(v.string(), v.minLength(1)),
    configRuleName: v.optional(v.string()),
    parameters: plainObject("rule parameters must be an object"),
  }),
  /** When Config recorded the resource in this state: a "new" violation is a recent capture, not a re-detection. */
  capturedAt: isoTimestamp,
  detectedAt: isoTimestamp,
  notBefore: isoTimestamp,
  annotation: v.string(),
  /** Present when one resource's findings for one problem did not fit in one message. */
  part: v.optional(
    v.strictObject({
      index: v.pipe(v.number(), v.integer(), v.minValue(1)),
      count: v.pipe(v.number(), v.integer(), v.minValue(1)),
    }),
  ),
});

export type Instruction = v.InferOutput<typeof InstructionObjectSchema>;

export const InstructionSchema = v.pipe(
  InstructionObjectSchema,
  v.check(
    (instruction) => instruction.matched.every((entry) => entry.kind === MATCHED_KIND_BY_PROBLEM[instruction.problem]),
    (issue) => `matched entries do not fit problem ${(issue.input as { problem: string }).problem}`,
  ),
  v.check(
    (instruction) => instruction.id === instructionId(instruction),
    "id does not match the instruction's resource, problem and matched entries",
  ),
);

/** A queue message that is not a valid instruction. Permanent: it goes to the DLQ with this reason. */
export class InvalidInstructionError extends PermanentError {
  override name = "InvalidInstructionError";
}

/** One resource's findings did not fit SQS's limit even one entry per message. */
export class InstructionTooLargeError extends PermanentError {
  override name = "InstructionTooLargeError";
}

/** Each entry kind's identity: that of the problem whose findings record it (its contract.ts). */
type Identity = (entry: MatchedEntry) => Readonly<Record<string, unknown>>;
const IDENTITY_BY_KIND: ReadonlyMap<string, Identity> = new Map(
  PROBLEM_SPECS.map((spec) => [spec.matchedKind, spec.contract.identity as Identity]),
);

/** Identity of one matched entry: what it is, not how it was described or where it was read. */
export function matchedEntryKey(entry: MatchedEntry): string {
  const identity = IDENTITY_BY_KIND.get(entry.kind);
  if (!identity) throw new Error(`no problem in the registry records ${String(entry.kind)} entries`);
  return canonicalJson({ kind: entry.kind, ...identity(entry) });
}

/** Deterministic id: same account + region + resource + problem + matched entries ⇒ same id. */
export function instructionId(instruction: {
  problem: Problem;
  resource: Pick<Instruction["resource"], "accountId" | "region" | "type" | "id">;
  matched: readonly MatchedEntry[];
}): string {
  const { accountId, region, type, id } = instruction.resource;
  const matchedKeys = instruction.matched.map(matchedEntryKey).sort();
  return createHash("sha256")
    .update(canonicalJson([accountId, region, type, id, instruction.problem, matchedKeys]))
    .digest("hex")
    .slice(0, 32);
}

/**
 * Parses a queue message body (text or already-parsed JSON). Throws InvalidInstructionError naming the first
 * problem, whatever went wrong: a body that cannot be read is an invalid instruction, never a crash of the batch.
 */
export function parseInstruction(body: unknown): Instruction {
  let result: v.SafeParseResult<typeof InstructionSchema>;
  try {
    result = v.safeParse(InstructionSchema, boundedJson(body, "message body"), { abortEarly: true });
  } catch (error) {
    throw new InvalidInstructionError((error as Error).message);
  }
  if (result.success) return result.output;
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  throw new InvalidInstructionError(path ? `${path}: ${issue.message}` : issue.message);
}

export interface InstructionSource {
  resource: Instruction["resource"];
  rule: Instruction["rule"];
  capturedAt: string;
  detectedAt: string;
  notBefore: string;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function summarise(findings: readonly Finding[]): string {
  const reasons = findings.map((finding) => finding.reason);
  const text = `${findings.length} ${findings.length === 1 ? "entry" : "entries"}: ${reasons.join("; ")}`;
  return text.length > 1_000 ? `${text.slice(0, 997)}...` : text;
}

/**
 * Turns one resource's findings into instructions: one per problem, split into parts when the matched entries
 * would not fit one SQS message. Entries are ordered by identity first, so the split (and every id) is stable.
 */
export function buildInstructions(source: InstructionSource, findings: readonly Finding[]): Instruction[] {
  const byProblem = new Map<Problem, { key: string; finding: Finding; bytes: number }[]>();
  for (const finding of findings) {
    const key = matchedEntryKey(finding.matched);
    const list = byProblem.get(finding.problem) ?? [];
    if (!list.some((existing) => existing.key === key)) {
      list.push({ key, finding, bytes: byteLength(JSON.stringify(finding.matched)) + byteLength(finding.reason) + 8 });
    }
    byProblem.set(finding.problem, list);
  }

  const instructions: Instruction[] = [];
  for (const [problem, entries] of [...byProblem].sort(([a], [b]) => a.localeCompare(b))) {
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    // Reason text goes into the annotation, which is capped; `bytes` over-counts it so packing stays safe.
    const chunks: Finding[][] = [];
    const envelope = byteLength(JSON.stringify(makeInstruction(source, problem, [], "x".repeat(1_000)))) + 64;
    let current: Finding[] = [];
    let size = envelope;
    for (const entry of entries) {
      if (envelope + entry.bytes > MAX_INSTRUCTION_BYTES) {
        throw new InstructionTooLargeError(
          `${source.resource.id}: one ${problem} entry is ${entry.bytes} bytes, over the SQS message limit`,
        );
      }
      if (current.length > 0 && size + entry.bytes > MAX_INSTRUCTION_BYTES) {
        chunks.push(current);
        current = [];
        size = envelope;
      }
      current.push(entry.finding);
      size += entry.bytes;
    }
    if (current.length > 0) chunks.push(current);
    chunks.forEach((chunk, index) => {
      const instruction = makeInstruction(source, problem, chunk, summarise(chunk));
      if (chunks.length > 1) instruction.part = { index: index + 1, count: chunks.length };
      instructions.push(instruction);
    });
  }
  return instructions;
}

function makeInstruction(
  source: InstructionSource,
  problem: Problem,
  findings: readonly Finding[],
  annotation: string,
): Instruction {
  const matched: Instruction["matched"] = findings.map((finding) => finding.matched);
  const resource = { ...source.resource };
  return {
    version: INSTRUCTION_VERSION,
    id: instructionId({ problem, resource, matched }),
    problem,
    resource,
    matched,
    rule: source.rule,
    capturedAt: source.capturedAt,
    detectedAt: source.detectedAt,
    notBefore: source.notBefore,
    annotation,
  };
}

export function serializeInstruction(instruction: Instruction): string {
  return JSON.stringify(instruction);
}
