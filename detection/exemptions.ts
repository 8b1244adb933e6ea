// Exemptions: a resource tag or an allowlist entry that tells Remedy to leave a resource alone, for a stated
// reason and (ideally) until a date. Checked first by the Config rules, by the remediation functions against
// live tags, and by `remedy plan`. Pure: `now` is passed in, and bad exemption data is reported, never thrown —
// a malformed exemption exempts nothing, so a typo can never widen what Remedy ignores.
import * as v from "valibot";
import { PROBLEMS, type Problem } from "./types.ts";

export const EXEMPT_TAG = "remedy:exempt";

export interface Exemption {
  source: "tag" | "allowlist";
  reason: string;
  /** Allowlist entries only. */
  owner?: string;
  /** YYYY-MM-DD, exempt through the end of that day in UTC. Absent: no expiry (tags only). */
  until?: string;
  /** The allowlist entry's resource pattern. */
  pattern?: string;
}

export interface ExemptionCheck {
  exemption?: Exemption;
  /** Why an exemption present on the resource did NOT apply (malformed, expired), for logs and annotations. */
  notes: string[];
}

/** Bad exemption data: where it is (e.g. "allowlist[2].expires") and what is wrong with it. */
export interface ExemptionProblem {
  where: string;
  message: string;
}

/** A validated allowlist entry. Build these with parseAllowlist: the matcher and expiry are precompiled there. */
export interface AllowlistEntry {
  /** Position in the allowlist as written, so notes can point at it. */
  readonly index: number;
  /** Resource id or ARN pattern: `*` any run of characters, `?` one character, everything else literal. */
  readonly resource: string;
  readonly problems: readonly (Problem | "*")[];
  readonly reason: string;
  readonly owner: string;
  /** YYYY-MM-DD, exempt through the end of that day in UTC. */
  readonly expires: string;
  /** Whole-string, case-sensitive matcher for `resource` (see compileResourcePattern). */
  readonly matcher: ResourceMatcher;
  /** Epoch ms of the first instant NOT covered (00:00:00Z the day after `expires`). */
  readonly expiresBefore: number;
  /** `problems` includes "*". */
  readonly allProblems: boolean;
}

/** A compiled allowlist resource pattern. `test` mirrors RegExp#test so call sites read the same. */
export interface ResourceMatcher {
  test(subject: string): boolean;
}

export interface ExemptionTarget {
  resourceId: string;
  arn?: string;
  tags: Record<string, string>;
  problem: Problem;
}

// ---------------------------------------------------------------------------------------------------------------
// Dates

const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Epoch ms of 00:00:00Z on the day after `date`, or an explanation of why `date` is not a YYYY-MM-DD date. */
function endOfDayUtc(date: string): number | string {
  const match = DATE_SHAPE.exec(date);
  if (!match) return `expected YYYY-MM-DD, got ${show(date)}`;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  const start = new Date(0);
  start.setUTCFullYear(year, month - 1, day);
  if (start.getUTCFullYear() !== year || start.getUTCMonth() !== month - 1 || start.getUTCDate() !== day) {
    return `${show(date)} is not a calendar date`;
  }
  start.setUTCDate(day + 1);
  return start.getTime();
}

// ---------------------------------------------------------------------------------------------------------------
// Tag

const UNTIL_CLAUSE = /\buntil\s*=\s*([^\s;,]*)/gi;

type ParsedTag = { ok: true; reason: string; until?: string; expiresBefore?: number } | { ok: false; problem: string };

/** Reads a `remedy:exempt` value: a reason, optionally with `until=YYYY-MM-DD` anywhere in it. */
function parseTagValue(value: string): ParsedTag {
  const clauses = [...value.matchAll(UNTIL_CLAUSE)];
  if (clauses.length > 1) return { ok: false, problem: "more than one until= clause" };
  const clause = clauses[0];
  if (!clause) {
    const reason = trimSeparators(value);
    return reason ? { ok: true, reason } : { ok: false, problem: "no reason given (an exemption must say why)" };
  }

  const until = clause[1] ?? "";
  const before = value.slice(0, clause.index);
  const after = value.slice(clause.index + clause[0].length);
  const left = trimSeparators(before);
  const right = trimSeparators(after);
  // Keep the separator the clause sat between ("feed, until=…, approved" → "feed, approved").
  const between = `${/[\s;,]*$/.exec(before)?.[0] ?? ""}${/^[\s;,]*/.exec(after)?.[0] ?? ""}`;
  const separator = /[;,]/.exec(between)?.[0] ?? "";
  const reason = left && right ? `${left}${separator} ${right}` : left || right;
  if (!reason) return { ok: false, problem: "no reason given (an exemption must say why)" };

  if (until === "") return { ok: false, problem: "until= has no date (expected until=YYYY-MM-DD)" };
  const expiresBefore = endOfDayUtc(until);
  if (typeof expiresBefore === "string") return { ok: false, problem: `until: ${expiresBefore}` };
  return { ok: true, reason, until, expiresBefore };
}

function trimSeparators(text: string): string {
  return text.replace(/^[\s;,]+|[\s;,]+$/g, "");
}

function checkTag(tags: Record<string, string>, now: number, notes: string[]): Exemption | undefined {
  if (!Object.hasOwn(tags, EXEMPT_TAG)) {
    // Keys compare exactly; say so when a near miss would otherwise be silently ignored.
    for (const key of Object.keys(tags)) {
      if (key.trim().toLowerCase() === EXEMPT_TAG) {
        notes.push(`tag ${show(key)} ignored: the exemption tag key must be exactly ${EXEMPT_TAG}`);
      }
    }
    return undefined;
  }
  const value = tags[EXEMPT_TAG] ?? "";
  const parsed = parseTagValue(value);
  if (!parsed.ok) {
    notes.push(`tag ${EXEMPT_TAG}=${show(value)} ignored: ${parsed.problem}`);
    return undefined;
  }
  if (parsed.expiresBefore !== undefined && now >= parsed.expiresBefore) {
    notes.push(`tag ${EXEMPT_TAG} exemption expired on ${parsed.until}: ${parsed.reason}`);
    return undefined;
  }
  return parsed.until === undefined
    ? { source: "tag", reason: parsed.reason }
    : { source: "tag", reason: parsed.reason, until: parsed.until };
}

// ---------------------------------------------------------------------------------------------------------------
// Allowlist

const PROBLEM_OR_ANY = [...PROBLEMS, "*"] as const;

const requiredText = v.pipe(
  v.string((issue) => (issue.input === undefined ? "is required" : `expected a string, got ${show(issue.input)}`)),
  v.trim(),
  v.nonEmpty("must not be empty"),
);

const EntrySchema = v.object(
  {
    resource: requiredText,
    problems: v.pipe(
      v.array(
        v.picklist(
          PROBLEM_OR_ANY,
          (issue) => `unknown problem ${show(issue.input)} (expected one of ${PROBLEM_OR_ANY.join(", ")})`,
        ),
        (issue) =>
          issue.input === undefined ? "is required" : `expected an array of problems, got ${show(issue.input)}`,
      ),
      v.nonEmpty('must name at least one problem (or "*")'),
    ),
    reason: requiredText,
    owner: requiredText,
    expires: v.pipe(
      v.string((issue) =>
        issue.input === undefined ? "is required" : `expected YYYY-MM-DD, got ${show(issue.input)}`,
      ),
      v.rawCheck(({ dataset, addIssue }) => {
        if (!dataset.typed) return;
        const end = endOfDayUtc(dataset.value);
        if (typeof end === "string") addIssue({ message: end });
      }),
    ),
  },
  // A missing key is reported by the object schema with the key in the path.
  (issue) => (issue.path?.length ? "is required" : `expected an object, got ${show(issue.input)}`),
);

/**
 * Validates an allowlist (JSON text or an already-parsed value). Bad entries are reported and dropped; good ones
 * beside them are kept. A non-array or invalid JSON is one error and no entries.
 */
export function parseAllowlist(input: unknown): { entries: AllowlistEntry[]; errors: ExemptionProblem[] } {
  let value = input;
  if (typeof input === "string") {
    try {
      value = JSON.parse(input);
    } catch (error) {
      return { entries: [], errors: [{ where: "allowlist", message: `invalid JSON: ${(error as Error).message}` }] };
    }
  }
  if (!Array.isArray(value)) {
    return {
      entries: [],
      errors: [{ where: "allowlist", message: `expected an array of entries, got ${show(value)}` }],
    };
  }

  const entries: AllowlistEntry[] = [];
  const errors: ExemptionProblem[] = [];
  value.forEach((raw, index) => {
    const result = v.safeParse(EntrySchema, raw, { abortEarly: true });
    if (!result.success) {
      const issue = result.issues[0];
      const path = (issue.path ?? []).map((item) => (typeof item.key === "number" ? `[${item.key}]` : `.${item.key}`));
      errors.push({ where: `allowlist[${index}]${path.join("")}`, message: issue.message });
      return;
    }
    const entry = result.output;
    entries.push({
      index,
      ...entry,
      matcher: compileResourcePattern(entry.resource),
      // Validated above, so this is a number.
      expiresBefore: endOfDayUtc(entry.expires) as number,
      allProblems: entry.problems.includes("*"),
    });
  });
  return { entries, errors };
}

/**
 * Compiles an allowlist resource pattern: `*` matches any run of characters (including none, and across any
 * character), `?` exactly one character (a code point, so never half of a surrogate pair), everything else itself,
 * regex metacharacters included. The whole resource must match, case-sensitively; an empty pattern matches only
 * the empty string. A pattern without wildcards is a string comparison; otherwise the literal text before the first
 * wildcard and after the last one must begin and end any match, so cheap checks on those turn most resources away
 * before the wildcard match runs (they only ever reject, never accept).
 */
export function compileResourcePattern(pattern: string): ResourceMatcher {
  const star = pattern.indexOf("*");
  const question = pattern.indexOf("?");
  if (star < 0 && question < 0) return { test: (subject) => subject === pattern };
  // (A pattern with a surrogate code unit of its own goes the code-point way below, as `?` patterns do.)
  if (question < 0 && !/[\uD800-\uDFFF]/.test(pattern)) return new StarMatcher(pattern.split("*"));
  const first = star < 0 ? question : question < 0 ? star : Math.min(star, question);
  const last = Math.max(pattern.lastIndexOf("*"), pattern.lastIndexOf("?"));
  return new WildcardMatcher(pattern, pattern.slice(0, first), pattern.slice(last + 1));
}

class WildcardMatcher implements ResourceMatcher {
  private readonly prefixEnd: number;
  constructor(
    private readonly pattern: string,
    private readonly prefix: string,
    private readonly suffix: string,
  ) {
    this.prefixEnd = prefix.length > 0 ? prefix.charCodeAt(prefix.length - 1) : -1;
  }
  test(subject: string): boolean {
    // ARN patterns share their opening (`arn:aws:s3:::`) with most ARNs; the last character of the literal start is
    // where they usually differ, so one comparison there settles most resources.
    if (this.prefixEnd >= 0 && subject.charCodeAt(this.prefix.length - 1) !== this.prefixEnd) return false;
    return subject.startsWith(this.prefix) && subject.endsWith(this.suffix) && wildcardMatch(this.pattern, subject);
  }
}

/**
 * Stars only (the common allowlist pattern): the literal runs between stars must appear in order, the first at
 * the start and the last at the end. Taking each middle run at its leftmost occurrence is always right — a later
 * occurrence only leaves less room for the runs after it — so this is one native indexOf per run: linear, and as
 * fast as a plain comparison for the pathological patterns that made the old regex backtrack for seconds.
 */
class StarMatcher implements ResourceMatcher {
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly middle: string[];
  private readonly minLength: number;
  constructor(runs: string[]) {
    this.prefix = runs[0]!;
    this.suffix = runs[runs.length - 1]!;
    this.middle = runs.slice(1, -1).filter((run) => run.length > 0);
    this.minLength = runs.reduce((sum, run) => sum + run.length, 0);
  }
  test(subject: string): boolean {
    if (subject.length < this.minLength) return false;
    if (this.prefix && !subject.startsWith(this.prefix)) return false;
    if (this.suffix && !subject.endsWith(this.suffix)) return false;
    const end = subject.length - this.suffix.length;
    let position = this.prefix.length;
    for (const run of this.middle) {
      const at = subject.indexOf(run, position);
      if (at < 0 || at + run.length > end) return false;
      position = at + run.length;
    }
    return true;
  }
}

const STAR = 0x2a; // "*"
const QUESTION = 0x3f; // "?"

/**
 * The wildcard match, without regex: a regex `.*` per star backtracks exponentially in the number of stars (a
 * 63-character bucket name against 8 stars took seconds per finding). This is the two-pointer wildcard match: on a
 * mismatch it retries only from the most recent star, letting that star take one more character. That is enough
 * because everything before the most recent star already matched as early as possible, so an earlier star taking
 * more could only leave less room for the rest. Worst case O(pattern × subject) steps, linear in practice; no
 * allocation. Positions are UTF-16 indexes that always sit on code-point boundaries.
 */
function wildcardMatch(pattern: string, subject: string): boolean {
  let p = 0; // pattern position
  let s = 0; // subject position
  let starP = -1; // pattern position just after the most recent star, -1 before any star
  let starS = 0; // subject position that star's run currently ends at
  while (s < subject.length) {
    if (p < pattern.length) {
      const wanted = pattern.codePointAt(p)!;
      if (wanted === STAR) {
        p++;
        // A star at the end takes whatever is left.
        if (p === pattern.length) return true;
        starP = p;
        starS = s;
        continue;
      }
      const actual = subject.codePointAt(s)!;
      if (wanted === QUESTION || wanted === actual) {
        p += wanted === QUESTION ? 1 : codePointWidth(wanted);
        s += codePointWidth(actual);
        continue;
      }
    }
    // Mismatch, or the pattern ran out before the subject: the most recent star takes one more character.
    if (starP < 0) return false;
    starS += codePointWidth(subject.codePointAt(starS)!);
    // When the star is followed by a literal, the star can only end right before an occurrence of it: skip there.
    // (Not for a surrogate, which indexOf could find inside a pair.)
    const after = pattern.charCodeAt(starP);
    if (after !== STAR && after !== QUESTION && (after < 0xd800 || after > 0xdfff)) {
      starS = subject.indexOf(pattern[starP]!, starS);
      if (starS < 0) return false;
    }
    s = starS;
    p = starP;
  }
  // The subject is used up: what is left of the pattern must be stars, which match nothing.
  while (p < pattern.length && pattern.charCodeAt(p) === STAR) p++;
  return p === pattern.length;
}

function codePointWidth(codePoint: number): number {
  return codePoint > 0xffff ? 2 : 1;
}

function checkAllowlist(
  target: ExemptionTarget,
  allowlist: readonly AllowlistEntry[],
  now: number,
  notes: string[],
): Exemption | undefined {
  for (const entry of allowlist) {
    // Cheapest test first: this runs per finding over large inventories.
    if (!entry.allProblems && !entry.problems.includes(target.problem)) continue;
    const matches =
      entry.matcher.test(target.resourceId) || (target.arn !== undefined && entry.matcher.test(target.arn));
    if (!matches) continue;
    if (now >= entry.expiresBefore) {
      notes.push(
        `allowlist[${entry.index}] (${show(entry.resource)}, owner ${entry.owner}) expired on ${entry.expires}: ${entry.reason}`,
      );
      continue;
    }
    return {
      source: "allowlist",
      reason: entry.reason,
      owner: entry.owner,
      until: entry.expires,
      pattern: entry.resource,
    };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Public checks

/** The tag first, then allowlist entries in order; the first active exemption wins. */
export function findExemption(
  target: ExemptionTarget,
  allowlist: readonly AllowlistEntry[],
  now: Date,
): ExemptionCheck {
  const notes: string[] = [];
  const at = now.getTime();
  const exemption = checkTag(target.tags, at, notes) ?? checkAllowlist(target, allowlist, at, notes);
  return exemption ? { exemption, notes } : { notes };
}

/** Short text for annotations and Slack. */
export function describeExemption(e: Exemption): string {
  const by = e.source === "tag" ? `tag ${EXEMPT_TAG}` : `allowlist${e.owner ? ` (owner ${e.owner})` : ""}`;
  const until = e.until ? `until ${e.until}` : "(no expiry)";
  return `exempt by ${by} ${until}: ${e.reason}`;
}

/** A value as it appears in an error: strings quoted (and cut), everything else by kind. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  return String(value);
}
