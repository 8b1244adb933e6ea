// The fix-instruction contract: what goes on the remediation queue. Every producer (Config rules) and every
// consumer (coordinator, remediation functions, CLI) goes through this module and nothing else.
import { hash } from "node:crypto";
import * as v from "valibot";
import { type Finding, PROBLEMS, type Problem } from "../detection/types.ts";
import { PermanentError } from "../platform/errors.ts";
import { byProblem, PROBLEM_SPECS } from "../problems/index.ts";
import { canonicalJson } from "./canonical-json.ts";
import { ACCOUNT_ID_PATTERN, INSTRUCTION_ID_PATTERN, REGION_PATTERN } from "./ids.ts";
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
  id: v.pipe(v.string(), v.regex(INSTRUCTION_ID_PATTERN, "must be 32 lowercase hex characters")),
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
  const fields = identity(entry);
  return flatKey(entry.kind, fields, undefined) ?? canonicalJson({ kind: entry.kind, ...fields });
}

/**
 * An identity's key list with `kind` added, sorted, each key written out as JSON (`"key":`, and that again as the
 * inside of a JSON string); `sorted` is undefined for a list flatKey leaves to canonicalJson: one with `kind` already,
 * `__proto__` (an assignment, not a key, in sortKeys' copy) or an array-index key (JSON.stringify writes those first,
 * whatever the sorted order).
 */
interface KeyShape {
  keys: readonly string[];
  sorted: readonly string[] | undefined;
  written: readonly string[];
  quoted: readonly string[];
}
/** The few identity shapes there are (one or two per problem), each worked out once. */
const keyShapes: KeyShape[] = [];
const KEY_SHAPES_KEPT = 16;
const ARRAY_INDEX = /^(?:0|[1-9]\d*)$/;

function keyShape(keys: string[]): KeyShape {
  for (let index = 0; index < keyShapes.length; index++) {
    const shape = keyShapes[index]!;
    if (sameKeys(shape.keys, keys)) return shape;
  }
  const simple = keys.every(
    (key) => key !== "kind" && key !== "__proto__" && !(ARRAY_INDEX.test(key) && Number(key) < 4_294_967_295),
  );
  const sorted = simple ? [...keys, "kind"].sort() : undefined;
  const written = sorted ? sorted.map((key) => `${JSON.stringify(key)}:`) : [];
  const quoted = written.map((text) => JSON.stringify(text).slice(1, -1));
  const shape = { keys, sorted, written, quoted };
  if (keyShapes.length >= KEY_SHAPES_KEPT) keyShapes.length = 0;
  keyShapes.push(shape);
  return shape;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** Text that JSON.stringify writes as itself between two quotes: no quote, backslash, control or surrogate unit. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what JSON escapes.
const VERBATIM = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** JSON.stringify(text) for a string, without the call when the text goes in verbatim. */
function jsonString(text: string): string {
  return VERBATIM.test(text) ? `"${text}"` : JSON.stringify(text);
}

/**
 * canonicalJson({ kind, ...fields }) written directly when every field is a string, number, boolean, null or
 * undefined (left out, as sortKeys leaves it out): no merged copy, no sorted copy. Undefined for anything else.
 * With `entry`, its `quoted` is set too: the key as the inside of a JSON string (what an id's JSON holds), when every
 * string in it goes in verbatim.
 */
function flatKey(kind: string, fields: unknown, entry: Entry | undefined): string | undefined {
  if (typeof fields !== "object" || fields === null) return undefined;
  const shape = keyShape(Object.keys(fields));
  const sorted = shape.sorted;
  if (sorted === undefined) return undefined;
  let text = "";
  // Quoted only while every string so far went in verbatim (quotes are then all there is to escape).
  let quoted: string | undefined = entry === undefined ? undefined : "";
  for (let index = 0; index < sorted.length; index++) {
    const key = sorted[index]!;
    const value: unknown = key === "kind" ? kind : (fields as Record<string, unknown>)[key];
    let json: string;
    let inside: string | undefined;
    switch (typeof value) {
      case "string":
        if (VERBATIM.test(value)) {
          json = `"${value}"`;
          inside = `\\"${value}\\"`;
        } else json = JSON.stringify(value);
        break;
      case "number":
        json = Number.isFinite(value) ? String(value) : "null";
        inside = json;
        break;
      case "boolean":
        json = value ? "true" : "false";
        inside = json;
        break;
      case "undefined":
        continue;
      default:
        // An object (sorted in turn), a function (left out) or a bigint (which throws): canonicalJson's to do.
        if (value !== null) return undefined;
        json = "null";
        inside = json;
    }
    const separator = text === "" ? "{" : ",";
    text = `${text}${separator}${shape.written[index]}${json}`;
    if (quoted !== undefined)
      quoted = inside === undefined ? undefined : `${quoted}${separator}${shape.quoted[index]}${inside}`;
  }
  if (entry !== undefined && quoted !== undefined) entry.quoted = quoted === "" ? "{}" : `${quoted}}`;
  return text === "" ? "{}" : `${text}}`;
}

/** Deterministic id: same account + region + resource + problem + matched entries ⇒ same id. */
export function instructionId(instruction: {
  problem: Problem;
  resource: Pick<Instruction["resource"], "accountId" | "region" | "type" | "id">;
  matched: readonly MatchedEntry[];
}): string {
  return idFromKeys(instruction.resource, instruction.problem, instruction.matched.map(matchedEntryKey).sort());
}

/** The id from the matched entries' keys (matchedEntryKey, all strings), already sorted: what instructionId hashes. */
function idFromKeys(
  resource: Pick<Instruction["resource"], "accountId" | "region" | "type" | "id">,
  problem: Problem,
  sortedKeys: readonly string[],
  quotedKeys?: readonly (string | undefined)[],
): string {
  const { accountId, region, type, id } = resource;
  // Strings only (what a typed caller passes): canonical JSON is plain JSON, without sortKeys' copy of the arrays.
  const plain =
    typeof accountId === "string" &&
    typeof region === "string" &&
    typeof type === "string" &&
    typeof id === "string" &&
    typeof problem === "string";
  if (!plain)
    return hash("sha256", canonicalJson([accountId, region, type, id, problem, sortedKeys]), "hex").slice(0, 32);
  const text = quotedKeys === undefined ? undefined : identityText(resource, problem, quotedKeys);
  return hash("sha256", text ?? JSON.stringify([accountId, region, type, id, problem, sortedKeys]), "hex").slice(0, 32);
}

/**
 * JSON.stringify([accountId, region, type, id, problem, keys]) written from the keys' quoted forms (flatKey), or
 * undefined when one of them has none. The account, region and type of one resource type repeat: written once.
 */
function identityText(
  resource: Pick<Instruction["resource"], "accountId" | "region" | "type" | "id">,
  problem: Problem,
  quotedKeys: readonly (string | undefined)[],
): string | undefined {
  const { accountId, region, type } = resource;
  if (accountId !== lastAccountId || region !== lastRegion || type !== lastType) {
    lastPrefix = `[${jsonString(accountId)},${jsonString(region)},${jsonString(type)},`;
    lastAccountId = accountId;
    lastRegion = region;
    lastType = type;
  }
  let keys = "";
  for (let index = 0; index < quotedKeys.length; index++) {
    const quoted = quotedKeys[index];
    if (quoted === undefined) return undefined;
    keys = `${keys}${index === 0 ? '"' : ',"'}${quoted}"`;
  }
  return `${lastPrefix}${jsonString(resource.id)},${jsonString(problem)},[${keys}]]`;
}

let lastAccountId: string | undefined;
let lastRegion: string | undefined;
let lastType: string | undefined;
let lastPrefix = "";

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

/** What an id takes in the envelope: every id is 32 hex characters, so its value never changes the size. */
const ID_PLACEHOLDER = "0".repeat(32);
/** The annotation the envelope makes room for: summarise() writes at most 1,000 characters (entries' `bytes` count
 * their reasons again, so a longer UTF-8 encoding still fits). */
const ANNOTATION_ROOM = 1_000;

/**
 * Bytes of an instruction of `problem` for `source` with no matched entries and a 1,000-character annotation, plus 64:
 * what every part of that problem's instructions starts from before its entries. The JSON of the instruction without
 * its id's value (always 32 characters) or annotation (counted as 1,000 one-byte characters): no throwaway instruction,
 * no hash, and exactly what measuring one with an `"x".repeat(1_000)` annotation gave
 * (test/contract/instruction-envelope.test.ts).
 */
export function envelopeBytes(source: InstructionSource, problem: Problem): number {
  // Room for the annotation as 1,000 "x" (one byte each in JSON): added, not written out and measured.
  return byteLength(JSON.stringify(emptyInstruction(source, problem))) + ANNOTATION_ROOM + 64;
}

/** At least envelopeBytes(source, problem), never less (Infinity when the source is not plain data): no JSON written. */
export function envelopeBytesAtMost(source: InstructionSource, problem: Problem): number {
  return emptyInstructionBytesAtMost(source, problem) + ANNOTATION_ROOM + 64;
}

/** The keys of emptyInstruction, each as jsonBytesAtMost counts it (6 bytes a unit, quotes, colon and comma). */
const ENVELOPE_KEYS_AT_MOST = ["version", "id", "problem", "resource", "matched", "rule", "capturedAt"]
  .concat(["detectedAt", "notBefore", "annotation"])
  .reduce((bytes, key) => bytes + key.length * 6 + 3 + 1, 2);

/**
 * jsonBytesAtMost(emptyInstruction(source, problem), 0), to the byte, without the instruction: its keys counted once
 * (above), its values one by one. The resource is measured as it is when its copy would be the same plain data.
 */
function emptyInstructionBytesAtMost(source: InstructionSource, problem: Problem): number {
  // What makes the copy (or any plain object) not plain for jsonBytesAtMost: a toJSON it would inherit.
  if ((Object.prototype as { toJSON?: unknown }).toJSON !== undefined) return Number.POSITIVE_INFINITY;
  const resource = source.resource;
  const resourceBytes =
    typeof resource === "object" &&
    resource !== null &&
    Object.getPrototypeOf(resource) === Object.prototype &&
    !Object.hasOwn(resource, "toJSON")
      ? jsonBytesAtMost(resource, 1)
      : jsonBytesAtMost({ ...resource }, 1);
  return (
    ENVELOPE_KEYS_AT_MOST +
    NUMBER_BYTES_AT_MOST +
    (ID_PLACEHOLDER.length * 6 + 2) +
    jsonBytesAtMost(problem, 1) +
    resourceBytes +
    2 +
    jsonBytesAtMost(source.rule, 1) +
    jsonBytesAtMost(source.capturedAt, 1) +
    jsonBytesAtMost(source.detectedAt, 1) +
    jsonBytesAtMost(source.notBefore, 1) +
    2
  );
}

/** The envelope: an instruction of `problem` for `source` with no matched entries, any id and an empty annotation. */
function emptyInstruction(source: InstructionSource, problem: Problem): Instruction {
  return {
    version: INSTRUCTION_VERSION,
    id: ID_PLACEHOLDER,
    problem,
    resource: { ...source.resource },
    matched: [],
    rule: source.rule,
    capturedAt: source.capturedAt,
    detectedAt: source.detectedAt,
    notBefore: source.notBefore,
    annotation: "",
  };
}

/** Whether plain objects inherit enumerable properties (a polluted Object.prototype), which for-in would visit. */
function inheritsEnumerable(): boolean {
  for (const _ in EMPTY_OBJECT) return true;
  return false;
}
const EMPTY_OBJECT = {};

/** No JSON number is longer than this ("-2.2250738585072014e-308" is 24 characters). */
const NUMBER_BYTES_AT_MOST = 32;
const BOUNDED_DEPTH = 32;

/**
 * An upper bound on `byteLength(JSON.stringify(value))` for plain data (strings, numbers, booleans, null, plain arrays
 * and objects, no toJSON), from lengths alone: a UTF-16 unit takes at most 6 bytes in JSON (`\u001f`, a lone
 * surrogate), a key or value left out still counts. Infinity for anything else (or deeper than 32 levels): then
 * nothing is bounded and the caller measures.
 */
function jsonBytesAtMost(value: unknown, depth: number): number {
  switch (typeof value) {
    case "string":
      return value.length * 6 + 2;
    case "number":
      return NUMBER_BYTES_AT_MOST;
    case "boolean":
      return 5;
    case "undefined":
    case "function":
    case "symbol":
      // Left out of an object, `null` in an array.
      return 4;
    case "object": {
      if (value === null) return 4;
      if (depth > BOUNDED_DEPTH || (value as { toJSON?: unknown }).toJSON !== undefined)
        return Number.POSITIVE_INFINITY;
      const prototype = Object.getPrototypeOf(value);
      let bytes = 2;
      if (Array.isArray(value)) {
        if (prototype !== Array.prototype) return Number.POSITIVE_INFINITY;
        for (let index = 0; index < value.length; index++) bytes += jsonBytesAtMost(value[index], depth + 1) + 1;
        return bytes;
      }
      if (prototype !== Object.prototype && prototype !== null) return Number.POSITIVE_INFINITY;
      if (prototype !== null && inheritsEnumerable()) {
        for (const key of Object.keys(value)) {
          bytes += key.length * 6 + 3 + jsonBytesAtMost((value as Record<string, unknown>)[key], depth + 1) + 1;
        }
        return bytes;
      }
      // Object.keys' keys, in its order, without its array: for-in visits only own keys when nothing is inherited.
      for (const key in value) {
        bytes += key.length * 6 + 3 + jsonBytesAtMost((value as Record<string, unknown>)[key], depth + 1) + 1;
      }
      return bytes;
    }
    default:
      return Number.POSITIVE_INFINITY;
  }
}

interface Entry {
  key: string;
  /** The key as the inside of a JSON string, when flatKey could write it so (idFromKeys hashes that JSON). */
  quoted: string | undefined;
  finding: Finding;
  /** What the entry adds to a message; measured only when an upper bound does not settle the split (entryBytes). */
  bytes: number | undefined;
}

function entryBytes(entry: Entry): number {
  if (entry.bytes === undefined) {
    entry.bytes = byteLength(JSON.stringify(entry.finding.matched)) + byteLength(entry.finding.reason) + 8;
  }
  return entry.bytes;
}

/** At least entryBytes(entry) (a UTF-16 unit is at most 3 bytes of UTF-8), without writing the JSON. */
function entryBytesAtMost(entry: Entry): number {
  return jsonBytesAtMost(entry.finding.matched, 0) + entry.finding.reason.length * 3 + 8;
}

/**
 * localeCompare between every two registered problems, worked out at the first sort that needs it (a collator call
 * per comparison is slow; the first one loads the collator, which is no cost to put on every cold start).
 */
let problemOrder: ReadonlyMap<string, ReadonlyMap<string, number>> | undefined;

/** The sign of a.localeCompare(b) (all a sort reads), from the table for registered problems. */
function compareProblems(a: string, b: string): number {
  problemOrder ??= new Map(PROBLEMS.map((x) => [x, new Map(PROBLEMS.map((y) => [y, Math.sign(x.localeCompare(y))]))]));
  return problemOrder.get(a)?.get(b) ?? a.localeCompare(b);
}

/** A finding's entry: its key (matchedEntryKey's) and, when flatKey wrote it, the key's quoted form. */
function keyedEntry(finding: Finding): Entry {
  const matched = finding.matched;
  const identity = IDENTITY_BY_KIND.get(matched.kind);
  if (!identity) throw new Error(`no problem in the registry records ${String(matched.kind)} entries`);
  const fields = identity(matched);
  const entry: Entry = { key: "", quoted: undefined, finding, bytes: undefined };
  entry.key = flatKey(matched.kind, fields, entry) ?? canonicalJson({ kind: matched.kind, ...fields });
  return entry;
}

/**
 * Turns one resource's findings into instructions: one per problem, split into parts when the matched entries
 * would not fit one SQS message. Entries are ordered by identity first, so the split (and every id) is stable.
 */
export function buildInstructions(source: InstructionSource, findings: readonly Finding[]): Instruction[] {
  // Problems in the order of their first finding, each with its entries (a handful of problems: no Map).
  const problems: Problem[] = [];
  const lists: Entry[][] = [];
  for (const finding of findings) {
    const entry = keyedEntry(finding);
    const key = entry.key;
    const at = problems.indexOf(finding.problem);
    let list: Entry[];
    if (at < 0) {
      list = [];
      problems.push(finding.problem);
      lists.push(list);
    } else list = lists[at]!;
    let seen = false;
    for (let index = 0; index < list.length && !seen; index++) seen = list[index]!.key === key;
    if (!seen) list.push(entry);
  }

  // By problem name (localeCompare), as the Map's entries were sorted; one problem (most resources) needs no sort.
  const order = problems.map((_, index) => index);
  if (order.length > 1) order.sort((a, b) => compareProblems(problems[a]!, problems[b]!));
  const instructions: Instruction[] = [];
  for (const at of order) {
    const problem = problems[at]!;
    const entries = lists[at]!;
    if (entries.length > 1) sortByKey(entries);
    const chunks = split(source, problem, entries);
    for (let index = 0; index < chunks.length; index++) {
      const chunk = chunks[index]!;
      const chunkFindings: Finding[] = [];
      const keys: string[] = [];
      const quoted: (string | undefined)[] = [];
      for (const entry of chunk) {
        chunkFindings.push(entry.finding);
        keys.push(entry.key);
        quoted.push(entry.quoted);
      }
      // The chunk is in key order (distinct keys, sorted as instructionId sorts them): its keys give its id as is.
      const id = idFromKeys(source.resource, problem, keys, quoted);
      const instruction = makeInstruction(source, problem, chunkFindings, summarise(chunkFindings), id);
      if (chunks.length > 1) instruction.part = { index: index + 1, count: chunks.length };
      instructions.push(instruction);
    }
  }
  return instructions;
}

/**
 * Entries in key order (keys are distinct), as `sort` by `<` would put them: an insertion sort while there are few,
 * without sort's work array.
 */
function sortByKey(entries: Entry[]): void {
  if (entries.length > 16) {
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return;
  }
  for (let index = 1; index < entries.length; index++) {
    const entry = entries[index]!;
    let at = index - 1;
    while (at >= 0 && entries[at]!.key > entry.key) {
      entries[at + 1] = entries[at]!;
      at--;
    }
    entries[at + 1] = entry;
  }
}

/**
 * The parts of one problem's entries (in key order): as many entries to a part as fit one SQS message next to the
 * envelope. Reason text goes into the annotation, which is capped; `bytes` over-counts it so packing stays safe.
 */
function split(source: InstructionSource, problem: Problem, entries: Entry[]): Entry[][] {
  const envelopeAtMost = envelopeBytesAtMost(source, problem);
  // Bounds first: when even they fit, the exact sizes would fit too, and nothing needs measuring.
  let bound = 0;
  for (const entry of entries) bound += entryBytesAtMost(entry);
  if (envelopeAtMost + bound <= MAX_INSTRUCTION_BYTES) return [entries];
  let total = 0;
  for (const entry of entries) total += entryBytes(entry);
  // Every real resource: all of it fits even next to the largest the envelope could be. Then measuring the envelope
  // exactly would change nothing below (no entry too large, no part full), so it is not measured.
  if (envelopeAtMost + total <= MAX_INSTRUCTION_BYTES) return [entries];
  const chunks: Entry[][] = [];
  const envelope = envelopeBytes(source, problem);
  let current: Entry[] = [];
  let size = envelope;
  for (const entry of entries) {
    const bytes = entryBytes(entry);
    if (envelope + bytes > MAX_INSTRUCTION_BYTES) {
      throw new InstructionTooLargeError(
        `${source.resource.id}: one ${problem} entry is ${bytes} bytes, over the SQS message limit`,
      );
    }
    if (current.length > 0 && size + bytes > MAX_INSTRUCTION_BYTES) {
      chunks.push(current);
      current = [];
      size = envelope;
    }
    current.push(entry);
    size += bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function makeInstruction(
  source: InstructionSource,
  problem: Problem,
  findings: readonly Finding[],
  annotation: string,
  id: string,
): Instruction {
  const matched: Instruction["matched"] = findings.map((finding) => finding.matched);
  return {
    version: INSTRUCTION_VERSION,
    id,
    problem,
    resource: { ...source.resource },
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
