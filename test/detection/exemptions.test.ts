import { describe, expect, it } from "vitest";
import {
  type AllowlistEntry,
  compileResourcePattern,
  describeExemption,
  EXEMPT_TAG,
  type ExemptionTarget,
  findExemption,
  parseAllowlist,
} from "../../detection/exemptions.ts";
import { PROBLEMS, type Problem } from "../../detection/types.ts";

const NOW = new Date("2026-06-01T12:00:00Z");
const SG_ARN = "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc123";

function target(overrides: Partial<ExemptionTarget> = {}): ExemptionTarget {
  return { resourceId: "sg-0abc123", arn: SG_ARN, tags: {}, problem: "sg-open-ingress", ...overrides };
}

function tagged(value: string, problem: Problem = "sg-open-ingress"): ExemptionTarget {
  return target({ tags: { Name: "web", [EXEMPT_TAG]: value }, problem });
}

function entry(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resource: "sg-0abc123",
    problems: ["sg-open-ingress"],
    reason: "vendor review",
    owner: "alice@example.com",
    expires: "2027-01-15",
    ...fields,
  };
}

function allowlist(...entries: unknown[]): AllowlistEntry[] {
  const parsed = parseAllowlist(entries);
  expect(parsed.errors).toEqual([]);
  return parsed.entries;
}

describe("tag exemptions", () => {
  it("exempts with a reason and no expiry", () => {
    const check = findExemption(tagged("legacy partner feed"), [], NOW);
    expect(check).toEqual({ exemption: { source: "tag", reason: "legacy partner feed" }, notes: [] });
  });

  it("takes until= from anywhere in the value and trims separators from the reason", () => {
    expect(findExemption(tagged("legacy partner feed until=2026-12-31"), [], NOW).exemption).toEqual({
      source: "tag",
      reason: "legacy partner feed",
      until: "2026-12-31",
    });
    expect(findExemption(tagged("until=2027-01-15; approved by SEC-123"), [], NOW).exemption).toEqual({
      source: "tag",
      reason: "approved by SEC-123",
      until: "2027-01-15",
    });
    expect(findExemption(tagged("legacy feed, until=2027-01-15, approved by SEC-9"), [], NOW).exemption?.reason).toBe(
      "legacy feed, approved by SEC-9",
    );
  });

  it("applies to every problem", () => {
    expect(findExemption(tagged("static site", "s3-public-policy"), [], NOW).exemption?.source).toBe("tag");
  });

  it("is exempt through the end of the until day in UTC, and not a moment after", () => {
    const value = "legacy partner feed until=2026-12-31";
    expect(findExemption(tagged(value), [], new Date("2026-12-31T23:59:59.999Z")).exemption).toBeDefined();
    const after = findExemption(tagged(value), [], new Date("2027-01-01T00:00:00Z"));
    expect(after.exemption).toBeUndefined();
    expect(after.notes).toEqual(["tag remedy:exempt exemption expired on 2026-12-31: legacy partner feed"]);
  });

  it.each([
    ["", "no reason given"],
    ["   ", "no reason given"],
    ["until=2026-12-31", "no reason given"],
    [" ; until=2026-12-31 ,", "no reason given"],
    ["feed until=2026-02-30", '"2026-02-30" is not a calendar date'],
    ["feed until=2026-13-01", '"2026-13-01" is not a calendar date'],
    ["feed until=31/12/2026", 'expected YYYY-MM-DD, got "31/12/2026"'],
    ["feed until=2026-1-5", 'expected YYYY-MM-DD, got "2026-1-5"'],
    ["feed until=", "until= has no date"],
    ["feed until=2026-12-31 until=2027-12-31", "more than one until= clause"],
  ])("a malformed value %j exempts nothing and says why", (value, why) => {
    const check = findExemption(tagged(value), [], NOW);
    expect(check.exemption).toBeUndefined();
    expect(check.notes).toHaveLength(1);
    expect(check.notes[0]).toContain(`tag remedy:exempt=${JSON.stringify(value)} ignored`);
    expect(check.notes[0]).toContain(why);
  });

  it("accepts a leap day", () => {
    expect(findExemption(tagged("feed until=2028-02-29"), [], NOW).exemption?.until).toBe("2028-02-29");
  });

  it("compares the key exactly, and notes a near miss", () => {
    const check = findExemption(target({ tags: { "Remedy:Exempt": "legacy feed" } }), [], NOW);
    expect(check.exemption).toBeUndefined();
    expect(check.notes).toEqual(['tag "Remedy:Exempt" ignored: the exemption tag key must be exactly remedy:exempt']);
  });

  it("an untagged resource is not exempt and has no notes", () => {
    expect(findExemption(target({ tags: { Name: "web" } }), [], NOW)).toEqual({ notes: [] });
  });
});

describe("allowlist exemptions", () => {
  it("matches by resource id", () => {
    const check = findExemption(target(), allowlist(entry()), NOW);
    expect(check).toEqual({
      exemption: {
        source: "allowlist",
        reason: "vendor review",
        owner: "alice@example.com",
        until: "2027-01-15",
        pattern: "sg-0abc123",
      },
      notes: [],
    });
  });

  it("matches the ARN with * and ? wildcards, whole-string and case-sensitive", () => {
    const list = allowlist(entry({ resource: "arn:aws:ec2:*:123456789012:security-group/sg-0abc12?" }));
    expect(findExemption(target(), list, NOW).exemption?.pattern).toBe(
      "arn:aws:ec2:*:123456789012:security-group/sg-0abc12?",
    );
    expect(findExemption(target({ arn: `${SG_ARN}4` }), list, NOW).exemption).toBeUndefined();
    expect(findExemption(target({ arn: SG_ARN.toUpperCase() }), list, NOW).exemption).toBeUndefined();
    expect(findExemption(target({ arn: undefined }), list, NOW).exemption).toBeUndefined();
    expect(findExemption(target(), allowlist(entry({ resource: "sg-0abc" })), NOW).exemption).toBeUndefined();
    expect(findExemption(target(), allowlist(entry({ resource: "sg-*" })), NOW).exemption).toBeDefined();
  });

  it("treats regex metacharacters literally", () => {
    const list = allowlist(entry({ resource: "logs.example.com", problems: ["*"] }));
    const bucket = (resourceId: string) => target({ resourceId, arn: undefined, problem: "s3-public-acl" });
    expect(findExemption(bucket("logs.example.com"), list, NOW).exemption).toBeDefined();
    expect(findExemption(bucket("logsXexampleYcom"), list, NOW).exemption).toBeUndefined();

    for (const pattern of ["a+b", "(a)", "[ab]", "a|b", "^a$", "a{2}", "a\\b"]) {
      const literal = allowlist(entry({ resource: pattern }));
      expect(findExemption(target({ resourceId: pattern, arn: undefined }), literal, NOW).exemption).toBeDefined();
    }
    const plus = allowlist(entry({ resource: "a+b" }));
    expect(findExemption(target({ resourceId: "aab", arn: undefined }), plus, NOW).exemption).toBeUndefined();
  });

  it("filters by problem, with * for all problems", () => {
    const list = allowlist(entry({ problems: ["s3-public-acl", "s3-public-policy"] }));
    expect(findExemption(target(), list, NOW).exemption).toBeUndefined();
    expect(findExemption(target({ problem: "s3-public-policy" }), list, NOW).exemption).toBeDefined();
    const any = allowlist(entry({ problems: ["*"] }));
    expect(findExemption(target({ problem: "s3-public-acl" }), any, NOW).exemption).toBeDefined();
  });

  it("stops applying after the end of the expiry day in UTC, and notes it", () => {
    const list = allowlist(entry({ expires: "2026-12-31" }));
    expect(findExemption(target(), list, new Date("2026-12-31T23:59:59Z")).exemption).toBeDefined();
    const after = findExemption(target(), list, new Date("2027-01-01T00:00:00Z"));
    expect(after.exemption).toBeUndefined();
    expect(after.notes).toEqual([
      'allowlist[0] ("sg-0abc123", owner alice@example.com) expired on 2026-12-31: vendor review',
    ]);
  });

  it("skips an expired entry for a later active one, and only notes entries that would have applied", () => {
    const list = allowlist(
      entry({ resource: "sg-other", expires: "2020-01-01" }),
      entry({ expires: "2020-01-01", reason: "old" }),
      entry({ reason: "current", owner: "bob" }),
      entry({ reason: "never reached" }),
    );
    const check = findExemption(target(), list, NOW);
    expect(check.exemption).toMatchObject({ reason: "current", owner: "bob" });
    expect(check.notes).toEqual(['allowlist[1] ("sg-0abc123", owner alice@example.com) expired on 2020-01-01: old']);
  });
});

describe("resource patterns", () => {
  const matches = (pattern: string, subject: string) => compileResourcePattern(pattern).test(subject);
  // A 63-character bucket name, the longest S3 allows.
  const longName = `${"a".repeat(57)}-logs1`;

  it("answers a pathological pattern without backtracking blow-up", () => {
    expect(longName).toHaveLength(63);
    // As regexes (`.*` per star) the first two took tens of seconds per name; longName has no b, so neither matches.
    expect(matches("*a*a*a*a*a*a*a*b", longName)).toBe(false);
    expect(matches("*a*a*a*a*a*a*a*a*b", longName)).toBe(false);
    expect(matches("*a*a*a*a*a*a*a*a*b", `${longName}b`)).toBe(true);
    expect(matches("*a*a*a*a*a*a*a*a*", longName)).toBe(true);
    expect(matches("a*a*a*a*a*a*a*a*1", longName)).toBe(true);
    expect(matches(`${"?".repeat(62)}*?`, longName)).toBe(true);
    expect(matches(`${"?".repeat(64)}*`, longName)).toBe(false);

    const list = allowlist(entry({ resource: "arn:aws:s3:::*a*a*a*a*a*a*a*b", problems: ["*"] }));
    const bucket = target({ resourceId: longName, arn: `arn:aws:s3:::${longName}`, problem: "s3-public-acl" });
    expect(findExemption(bucket, list, NOW)).toEqual({ notes: [] });
  });

  it("? is exactly one character", () => {
    expect(matches("sg-?", "sg-1")).toBe(true);
    expect(matches("sg-?", "sg-")).toBe(false);
    expect(matches("sg-?", "sg-12")).toBe(false);
    expect(matches("sg-??", "sg-12")).toBe(true);
    expect(matches("?", "\n")).toBe(true);
    // One code point: an astral character is one ?, not two.
    expect(matches("team-?", "team-😀")).toBe(true);
    expect(matches("team-??", "team-😀")).toBe(false);
  });

  it("* is any run of characters, including none", () => {
    expect(matches("sg-*", "sg-")).toBe(true);
    expect(matches("sg-*", "sg-0abc123")).toBe(true);
    expect(matches("sg-*-web", "sg--web")).toBe(true);
    expect(matches("sg-*-web", "sg-a-b-web")).toBe(true);
    expect(matches("sg-*-web", "sg-a-web-x")).toBe(false);
    expect(matches("a**b", "ab")).toBe(true);
    expect(matches("a**b", "axyzb")).toBe(true);
    expect(matches("*", "line one\nline two")).toBe(true);
    expect(matches("*?", "")).toBe(false);
    expect(matches("*?*", "x")).toBe(true);
  });

  it("treats everything but * and ? literally, case-sensitively", () => {
    for (const pattern of [".", "a.b", "a+", "(a)", "[a]", "a|b", "^a$", "a{2}", "a\\d", "$1"]) {
      expect(matches(pattern, pattern)).toBe(true);
    }
    expect(matches("a.b", "axb")).toBe(false);
    expect(matches("a+", "aa")).toBe(false);
    expect(matches("[ab]", "a")).toBe(false);
    expect(matches("a\\d", "a1")).toBe(false);
    expect(matches("*.example.com", "logs.example.com")).toBe(true);
    expect(matches("*.example.com", "logs-example-com")).toBe(false);
    expect(matches("Logs-*", "logs-1")).toBe(false);
    expect(matches("logs-*", "LOGS-1")).toBe(false);
  });

  it("an empty pattern matches only the empty string; a star-only pattern matches anything", () => {
    expect(matches("", "")).toBe(true);
    expect(matches("", "sg-1")).toBe(false);
    for (const pattern of ["*", "**", "***"]) {
      expect(matches(pattern, "")).toBe(true);
      expect(matches(pattern, longName)).toBe(true);
      expect(matches(pattern, SG_ARN)).toBe(true);
    }
    // The allowlist never gets as far as an empty pattern: it is rejected when parsed.
    expect(parseAllowlist([entry({ resource: "" })]).errors).toEqual([
      { where: "allowlist[0].resource", message: "must not be empty" },
    ]);
    const anything = allowlist(entry({ resource: "*" }));
    expect(findExemption(target({ resourceId: "sg-anything", arn: undefined }), anything, NOW).exemption).toBeDefined();
  });

  it("anchors at both ends: wildcards at the start, the end, or both", () => {
    expect(matches("*-logs", "team-logs")).toBe(true);
    expect(matches("*-logs", "team-logs-old")).toBe(false);
    expect(matches("team-*", "team-logs")).toBe(true);
    expect(matches("team-*", "my-team-logs")).toBe(false);
    expect(matches("*logs*", "team-logs-old")).toBe(true);
    expect(matches("*logs*", "logs")).toBe(true);
    expect(matches("*logs*", "log")).toBe(false);
    expect(matches("?eam-logs", "team-logs")).toBe(true);
    expect(matches("team-log?", "team-logs")).toBe(true);
    expect(matches("team-log?", "team-log")).toBe(false);
    expect(matches("sg-0abc", "sg-0abc123")).toBe(false);
    expect(matches("0abc123", "sg-0abc123")).toBe(false);
  });

  it("agrees with the whole-string regex it replaced, on short inputs", () => {
    // The previous implementation, safe as an oracle only for inputs this short.
    const reference = (pattern: string) =>
      new RegExp(
        `^${[...pattern.replace(/\*+/g, "*")]
          .map((part) => (part === "*" ? ".*" : part === "?" ? "." : part.replace(/[\\^$.|+()[\]{}]/g, "\\$&")))
          .join("")}$`,
        "su",
      );
    const alphabet = ["a", "b", "*", "?", ".", "\n", "😀", "\uD83D", "\uDE00", "A"];
    let seed = 7;
    const pick = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return alphabet[(seed >>> 16) % alphabet.length]!;
    };
    for (let round = 0; round < 20_000; round++) {
      const pattern = Array.from({ length: round % 7 }, pick).join("");
      const subject = Array.from({ length: (round >>> 3) % 8 }, pick).join("");
      expect(matches(pattern, subject), `${JSON.stringify(pattern)} vs ${JSON.stringify(subject)}`).toBe(
        reference(pattern).test(subject),
      );
    }
  });
});

describe("precedence", () => {
  it("prefers the tag to the allowlist", () => {
    const check = findExemption(tagged("legacy partner feed"), allowlist(entry()), NOW);
    expect(check.exemption?.source).toBe("tag");
  });

  it("falls back to the allowlist when the tag is expired or malformed, keeping the note", () => {
    const expired = findExemption(tagged("feed until=2020-01-01"), allowlist(entry()), NOW);
    expect(expired.exemption?.source).toBe("allowlist");
    expect(expired.notes).toEqual(["tag remedy:exempt exemption expired on 2020-01-01: feed"]);

    const malformed = findExemption(tagged(""), allowlist(entry()), NOW);
    expect(malformed.exemption?.source).toBe("allowlist");
    expect(malformed.notes).toHaveLength(1);
  });
});

describe("parseAllowlist", () => {
  it("accepts JSON text or a parsed value, and ignores extra keys", () => {
    const text = JSON.stringify([entry({ ticket: "SEC-1" })]);
    const fromText = parseAllowlist(text);
    expect(fromText.errors).toEqual([]);
    expect(fromText.entries).toHaveLength(1);
    expect(fromText.entries[0]).toMatchObject({ index: 0, resource: "sg-0abc123", owner: "alice@example.com" });
    expect(parseAllowlist(JSON.parse(text)).entries).toHaveLength(1);
    expect(parseAllowlist([])).toEqual({ entries: [], errors: [] });
  });

  it("keeps good entries beside bad ones; each error names the index and the first problem", () => {
    const { entries, errors } = parseAllowlist([
      entry({ reason: "first" }),
      entry({ owner: undefined }),
      entry({ expires: "31/12/2026" }),
      entry({ reason: "fourth" }),
      entry({ problems: ["sg-open-ingress", "s3-everything"] }),
      entry({ problems: [] }),
      entry({ reason: "   " }),
      entry({ expires: "2026-02-30" }),
      "sg-0abc123",
      entry({ resource: 42 }),
      { resource: "sg-1", problems: ["*"], owner: "bob", expires: "2027-01-01" },
    ]);
    expect(entries.map((e) => [e.index, e.reason])).toEqual([
      [0, "first"],
      [3, "fourth"],
    ]);
    expect(errors).toEqual([
      { where: "allowlist[1].owner", message: "is required" },
      { where: "allowlist[2].expires", message: 'expected YYYY-MM-DD, got "31/12/2026"' },
      {
        where: "allowlist[4].problems[1]",
        // Every problem of the registry, in its order.
        message: `unknown problem "s3-everything" (expected one of ${[...PROBLEMS, "*"].join(", ")})`,
      },
      { where: "allowlist[5].problems", message: 'must name at least one problem (or "*")' },
      { where: "allowlist[6].reason", message: "must not be empty" },
      { where: "allowlist[7].expires", message: '"2026-02-30" is not a calendar date' },
      { where: "allowlist[8]", message: 'expected an object, got "sg-0abc123"' },
      { where: "allowlist[9].resource", message: "expected a string, got 42" },
      { where: "allowlist[10].reason", message: "is required" },
    ]);
  });

  it("reports invalid JSON as one error and no entries", () => {
    const { entries, errors } = parseAllowlist('[{"resource": "sg-1",');
    expect(entries).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.where).toBe("allowlist");
    expect(errors[0]?.message).toMatch(/^invalid JSON: /);
  });

  it("reports a non-array as one error and no entries", () => {
    expect(parseAllowlist({ entries: [] })).toEqual({
      entries: [],
      errors: [{ where: "allowlist", message: "expected an array of entries, got an object" }],
    });
    expect(parseAllowlist(undefined).errors).toEqual([
      { where: "allowlist", message: "expected an array of entries, got undefined" },
    ]);
  });
});

describe("describeExemption", () => {
  it("says who exempted it, until when, and why", () => {
    expect(describeExemption({ source: "tag", reason: "legacy partner feed", until: "2026-12-31" })).toBe(
      "exempt by tag remedy:exempt until 2026-12-31: legacy partner feed",
    );
    expect(describeExemption({ source: "tag", reason: "legacy partner feed" })).toBe(
      "exempt by tag remedy:exempt (no expiry): legacy partner feed",
    );
    expect(
      describeExemption({
        source: "allowlist",
        reason: "vendor review",
        owner: "alice@example.com",
        until: "2027-01-15",
        pattern: "sg-*",
      }),
    ).toBe("exempt by allowlist (owner alice@example.com) until 2027-01-15: vendor review");
  });
});
