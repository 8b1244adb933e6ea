// buildInstructions measures each problem's envelope from its fields (no throwaway instruction, no hash), skips that
// measurement when everything fits even next to an upper bound of it, and ids each part from the keys it already has.
// Held here to the implementation it replaced (below, as it was): same envelope, same parts, same ids, same errors.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { bucketItem, random, securityGroupItem } from "../../bench/generate.ts";
import { canonicalJson } from "../../contract/canonical-json.ts";
import {
  buildInstructions,
  envelopeBytes,
  envelopeBytesAtMost,
  type Instruction,
  type InstructionSource,
  instructionId,
  MAX_INSTRUCTION_BYTES,
  type MatchedEntry,
  matchedEntryKey,
} from "../../contract/instruction.ts";
import { normalizeConfigItem } from "../../detection/config-item.ts";
import { RULES } from "../../detection/rules.ts";
import type { Finding, Problem } from "../../detection/types.ts";
import { PROBLEMS } from "../../problems/index.ts";

// ---- The implementation before: a throwaway instruction (with its hash) per problem for the envelope. ----

const byteLength = (text: string) => Buffer.byteLength(text, "utf8");

function referenceId(problem: Problem, resource: Instruction["resource"], matched: readonly MatchedEntry[]): string {
  const { accountId, region, type, id } = resource;
  const matchedKeys = matched.map(matchedEntryKey).sort();
  return createHash("sha256")
    .update(canonicalJson([accountId, region, type, id, problem, matchedKeys]))
    .digest("hex")
    .slice(0, 32);
}

function referenceMake(
  source: InstructionSource,
  problem: Problem,
  findings: readonly Finding[],
  annotation: string,
): Instruction {
  const matched = findings.map((finding) => finding.matched);
  const resource = { ...source.resource };
  return {
    version: 1,
    id: referenceId(problem, resource, matched),
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

function referenceEnvelope(source: InstructionSource, problem: Problem): number {
  return byteLength(JSON.stringify(referenceMake(source, problem, [], "x".repeat(1_000)))) + 64;
}

function referenceSummarise(findings: readonly Finding[]): string {
  const text = `${findings.length} ${findings.length === 1 ? "entry" : "entries"}: ${findings.map((f) => f.reason).join("; ")}`;
  return text.length > 1_000 ? `${text.slice(0, 997)}...` : text;
}

function referenceBuild(source: InstructionSource, findings: readonly Finding[]): Instruction[] {
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
    const chunks: Finding[][] = [];
    const envelope = referenceEnvelope(source, problem);
    let current: Finding[] = [];
    let size = envelope;
    for (const entry of entries) {
      if (envelope + entry.bytes > MAX_INSTRUCTION_BYTES) {
        throw new Error(
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
      const instruction = referenceMake(source, problem, chunk, referenceSummarise(chunk));
      if (chunks.length > 1) instruction.part = { index: index + 1, count: chunks.length };
      instructions.push(instruction);
    });
  }
  return instructions;
}

/** Both implementations' answer, as text: the instructions byte for byte (key order too), or the error message. */
function outcome(build: () => Instruction[]): string {
  try {
    return JSON.stringify(build());
  } catch (error) {
    return `throws: ${(error as Error).message}`;
  }
}

function expectSameAsBefore(source: InstructionSource, findings: readonly Finding[]): void {
  expect(outcome(() => buildInstructions(source, findings))).toBe(outcome(() => referenceBuild(source, findings)));
}

// ---- Inputs ----

const NOW = "2026-11-20T10:00:00.000Z";

/** What judgeItem hands buildInstructions for an item: its resource, the rule, the times. */
function sourceOf(
  item: ReturnType<typeof normalizeConfigItem>,
  ruleId: string,
  parameters: Record<string, unknown>,
): InstructionSource {
  return {
    resource: {
      type: item.resourceType,
      id: item.resourceId,
      ...(item.arn ? { arn: item.arn } : {}),
      accountId: item.accountId,
      region: item.region,
    },
    rule: { id: ruleId, configRuleName: `remedy-${ruleId}`, parameters },
    capturedAt: item.captureTime,
    detectedAt: NOW,
    notBefore: item.captureTime,
  };
}

/** The bench's items (security groups and buckets as Config delivers them), judged by their rules. */
function generatedCases(count: number): [InstructionSource, Finding[]][] {
  const rand = random(7);
  const cases: [InstructionSource, Finding[]][] = [];
  for (let index = 0; index < count; index++) {
    const raw = index % 2 === 0 ? securityGroupItem(index, rand) : bucketItem(index, rand);
    const rule = RULES.find((r) => r.id === (index % 2 === 0 ? "sg-open-ingress" : "s3-public"))!;
    const parameters = rule.parseParameters({});
    const item = normalizeConfigItem(raw);
    const verdict = rule.evaluate(item, parameters, { s3PublicAccessBlock: null });
    cases.push([sourceOf(item, rule.id, { ...(parameters as Record<string, unknown>) }), verdict.findings]);
  }
  return cases;
}

const sgSource: InstructionSource = {
  resource: {
    type: "AWS::EC2::SecurityGroup",
    id: "sg-0f1e2d3c4b5a69788",
    arn: "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0f1e2d3c4b5a69788",
    accountId: "123456789012",
    region: "us-east-1",
  },
  rule: { id: "sg-open-ingress", configRuleName: "remedy-sg-open-ingress", parameters: { authorizedPorts: "tcp:443" } },
  capturedAt: "2026-11-20T09:58:12.412Z",
  detectedAt: NOW,
  notBefore: NOW,
};

function sgFinding(port: number, description?: string, reason = `tcp ${port} open to 0.0.0.0/0`): Finding {
  return {
    problem: "sg-open-ingress",
    matched: {
      kind: "sg-rule",
      rule: {
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
        ...(description === undefined ? {} : { description }),
      },
    },
    reason,
  };
}

/** Sources whose JSON is not plain ASCII: escapes, multi-byte characters, astral and lone surrogates. */
const awkwardSources: InstructionSource[] = [
  sgSource,
  { ...sgSource, resource: { ...sgSource.resource, arn: undefined } as Instruction["resource"] },
  { ...sgSource, rule: { id: "sg-open-ingress", parameters: {} } },
  {
    ...sgSource,
    resource: { ...sgSource.resource, id: 'sg-"quoted"\\back\nline\u0001\u001f' },
    rule: {
      id: "sg-open-ingress",
      configRuleName: "remedy-ünïcødé-😀",
      parameters: {
        authorizedPorts: "tcp:80,tcp:443",
        nested: { list: [1, -0, 1.5e-300, -2.2250738585072014e-308, null, true, "\ud800", ["deep", { x: "\udfff" }]] },
        missing: undefined,
        'key with "quotes" and 😀': "value",
      },
    },
  },
  { ...sgSource, capturedAt: "2026-11-20T09:58:12.412Z", detectedAt: "日本語のテキスト", notBefore: "€".repeat(500) },
  // Nearly all escapes: 6 bytes of JSON for every UTF-16 unit, the most there is.
  { ...sgSource, notBefore: "\u0000\ud800\u001f".repeat(1_000) },
  { ...sgSource, rule: { ...sgSource.rule, parameters: { ["\udc00".repeat(500)]: "\u0007".repeat(2_000) } } },
];

// ---- Tests ----

describe("the envelope of an instruction", () => {
  it("measures exactly what the throwaway instruction measured, for every problem", () => {
    const sources = [...awkwardSources, ...generatedCases(400).map(([source]) => source)];
    for (const source of sources) {
      for (const problem of PROBLEMS) {
        expect(envelopeBytes(source, problem)).toBe(referenceEnvelope(source, problem));
      }
    }
  });

  it("is never more than its upper bound", () => {
    const sources = [...awkwardSources, ...generatedCases(400).map(([source]) => source)];
    for (const source of sources) {
      for (const problem of PROBLEMS) {
        expect(envelopeBytesAtMost(source, problem)).toBeGreaterThanOrEqual(envelopeBytes(source, problem));
      }
    }
  });

  it("has no finite bound for what is not plain data (it is measured instead)", () => {
    const withParameters = (parameters: Record<string, unknown>) => ({
      ...sgSource,
      rule: { ...sgSource.rule, parameters },
    });
    expect(envelopeBytesAtMost(withParameters({ at: new Date(0) }), "sg-open-ingress")).toBe(Infinity);
    expect(envelopeBytesAtMost(withParameters({ big: 1n }), "sg-open-ingress")).toBe(Infinity);
    expect(envelopeBytesAtMost(withParameters({ own: { toJSON: () => "x".repeat(10_000) } }), "sg-open-ingress")).toBe(
      Infinity,
    );
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(envelopeBytesAtMost(withParameters(cycle), "sg-open-ingress")).toBe(Infinity);
  });

  it("bounds random JSON values from above", () => {
    const rand = random(99);
    const text = () =>
      Array.from({ length: Math.floor(rand() * 12) }, () => String.fromCharCode(Math.floor(rand() * 0x10000))).join("");
    const value = (depth: number): unknown => {
      const roll = rand();
      if (depth > 4 || roll < 0.3) return text();
      if (roll < 0.4) return (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
      if (roll < 0.45) return rand() < 0.5;
      if (roll < 0.5) return null;
      if (roll < 0.55) return undefined;
      if (roll < 0.75) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [text(), value(depth + 1)]));
    };
    for (let round = 0; round < 2_000; round++) {
      const source = { ...sgSource, rule: { ...sgSource.rule, parameters: { value: value(0) } } };
      expect(envelopeBytesAtMost(source, "sg-open-ingress")).toBeGreaterThanOrEqual(
        envelopeBytes(source, "sg-open-ingress"),
      );
    }
  });
});

describe("buildInstructions", () => {
  it("gives the same instructions as before for the bench's security groups and buckets", () => {
    const cases = generatedCases(3_000);
    expect(cases.filter(([, findings]) => findings.length > 1).length).toBeGreaterThan(100);
    for (const [source, findings] of cases) {
      if (findings.length > 0) expectSameAsBefore(source, findings);
    }
  });

  it("gives the same ids as instructionId", () => {
    for (const [source, findings] of generatedCases(1_000)) {
      for (const instruction of findings.length > 0 ? buildInstructions(source, findings) : []) {
        expect(instruction.id).toBe(instructionId(instruction));
        expect(instruction.id).toBe(referenceId(instruction.problem, instruction.resource, instruction.matched));
      }
    }
  });

  it("gives the same instructions as before for awkward sources, duplicates and mixed problems", () => {
    const acl: Finding = {
      problem: "s3-public-acl",
      matched: {
        kind: "acl-grant",
        grant: {
          grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" },
          permission: "READ",
        },
      },
      reason: "AllUsers READ",
    };
    for (const source of awkwardSources) {
      expectSameAsBefore(source, [sgFinding(22), sgFinding(22, "again"), sgFinding(3389, "ünï 😀"), acl, acl]);
    }
  });

  it("splits many entries into the same parts as before", () => {
    const findings = Array.from({ length: 1_500 }, (_, index) =>
      sgFinding(1_000 + index, `rule number ${index} with a long description to take up room ${"x".repeat(60)}`),
    );
    const parts = buildInstructions(sgSource, findings);
    expect(parts.length).toBeGreaterThan(1);
    expectSameAsBefore(sgSource, findings);
    expectSameAsBefore(sgSource, [...findings].reverse());
    // Multi-byte descriptions and reasons: the byte counts, not the string lengths, decide.
    const wide = findings.map((finding, index) => sgFinding(1_000 + index, "é😀".repeat(40), `${finding.reason} ✓`));
    expectSameAsBefore(sgSource, wide);
  });

  it("splits, and refuses an entry too large, exactly where it did before, byte for byte", () => {
    // One entry of every size around the limit (and a small second one): too large, one part, or two parts.
    const small = sgFinding(22);
    const fixed = byteLength(JSON.stringify(sgFinding(443, "").matched)) + byteLength(sgFinding(443).reason) + 8;
    const smallBytes = byteLength(JSON.stringify(small.matched)) + byteLength(small.reason) + 8;
    for (const source of [sgSource, awkwardSources[3]!]) {
      const envelope = envelopeBytes(source, "sg-open-ingress");
      const bound = envelopeBytesAtMost(source, "sg-open-ingress");
      expect(bound).toBeGreaterThan(envelope);
      const sizes = new Set<number>();
      for (const edge of [envelope, envelope - smallBytes, bound, bound - smallBytes]) {
        for (let delta = -3; delta <= 3; delta++) sizes.add(MAX_INSTRUCTION_BYTES - edge + delta - fixed);
      }
      const outcomes = new Set<string>();
      for (const length of sizes) {
        const big = sgFinding(443, "d".repeat(length));
        for (const findings of [[big], [big, small]]) {
          expectSameAsBefore(source, findings);
          const result = outcome(() => buildInstructions(source, findings));
          outcomes.add(result.startsWith("throws") ? "throws" : `${(JSON.parse(result) as unknown[]).length} parts`);
        }
      }
      // Every case was reached: an entry too large, one part, and two parts.
      expect([...outcomes].sort()).toEqual(["1 parts", "2 parts", "throws"]);
    }
  });
});
