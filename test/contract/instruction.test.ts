import { describe, expect, it } from "vitest";
import {
  buildInstructions,
  type InstructionSource,
  InvalidInstructionError,
  instructionId,
  MAX_INSTRUCTION_BYTES,
  parseInstruction,
  serializeInstruction,
} from "../../contract/instruction.ts";
import type { Finding } from "../../detection/types.ts";

const source: InstructionSource = {
  resource: {
    type: "AWS::EC2::SecurityGroup",
    id: "sg-0f1e2d3c4b5a69788",
    arn: "arn:aws:ec2:us-east-1:123456789012:security-group/sg-0f1e2d3c4b5a69788",
    accountId: "123456789012",
    region: "us-east-1",
  },
  rule: {
    id: "sg-open-ingress",
    configRuleName: "remedy-sg-open-ingress",
    parameters: { authorizedPorts: "tcp:80,tcp:443" },
  },
  capturedAt: "2026-11-20T09:58:12.412Z",
  detectedAt: "2026-11-20T10:00:00.000Z",
  notBefore: "2026-11-20T10:00:00.000Z",
};

function sgFinding(port: number, cidr = "0.0.0.0/0", description?: string): Finding {
  return {
    problem: "sg-open-ingress",
    matched: {
      kind: "sg-rule",
      rule: {
        direction: "ingress",
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: cidr,
        ...(description ? { description } : {}),
      },
    },
    reason: `tcp ${port} open to ${cidr}`,
  };
}

const aclFinding: Finding = {
  problem: "s3-public-acl",
  matched: {
    kind: "acl-grant",
    grant: { grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" }, permission: "READ" },
  },
  reason: "AllUsers READ",
};

describe("fix-instruction contract", () => {
  it("builds a valid, versioned instruction that round-trips through the parser", () => {
    const [instruction] = buildInstructions(source, [sgFinding(22)]);
    expect(instruction).toMatchObject({
      version: 1,
      problem: "sg-open-ingress",
      resource: source.resource,
      rule: source.rule,
      detectedAt: source.detectedAt,
      notBefore: source.notBefore,
      matched: [{ kind: "sg-rule", rule: { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" } }],
    });
    expect(instruction!.annotation).toContain("tcp 22 open to 0.0.0.0/0");
    expect(parseInstruction(serializeInstruction(instruction!))).toEqual(instruction);
  });

  it("gives the same id to the same violation detected again, whatever the order or wording", () => {
    const first = buildInstructions(source, [sgFinding(22), sgFinding(3389)]);
    const again = buildInstructions({ ...source, detectedAt: "2026-11-21T00:00:00.000Z" }, [
      sgFinding(3389),
      sgFinding(22, "0.0.0.0/0", "a new description"),
    ]);
    expect(again.map((i) => i.id)).toEqual(first.map((i) => i.id));
  });

  it("gives different ids when account, region, resource, problem or matched entries differ", () => {
    const base = instructionId({
      problem: "sg-open-ingress",
      resource: source.resource,
      matched: [sgFinding(22).matched],
    });
    const variants = [
      {
        problem: "sg-open-ingress" as const,
        resource: { ...source.resource, accountId: "210987654321" },
        matched: [sgFinding(22).matched],
      },
      {
        problem: "sg-open-ingress" as const,
        resource: { ...source.resource, region: "eu-west-1" },
        matched: [sgFinding(22).matched],
      },
      {
        problem: "sg-open-ingress" as const,
        resource: { ...source.resource, id: "sg-other" },
        matched: [sgFinding(22).matched],
      },
      { problem: "sg-open-ingress" as const, resource: source.resource, matched: [sgFinding(23).matched] },
      { problem: "sg-open-ingress" as const, resource: source.resource, matched: [sgFinding(22, "::/0").matched] },
    ];
    const ids = new Set([base, ...variants.map(instructionId)]);
    expect(ids.size).toBe(variants.length + 1);
  });

  it("makes one instruction per problem and collapses duplicate entries", () => {
    const instructions = buildInstructions(
      { ...source, resource: { ...source.resource, type: "AWS::S3::Bucket", id: "b", arn: "arn:aws:s3:::b" } },
      [
        aclFinding,
        aclFinding,
        {
          problem: "s3-public-policy",
          matched: {
            kind: "policy-statement",
            statement: { Effect: "Allow", Principal: "*", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/*" },
          },
          reason: "public statement",
        },
      ],
    );
    expect(instructions.map((i) => [i.problem, i.matched.length])).toEqual([
      ["s3-public-acl", 1],
      ["s3-public-policy", 1],
    ]);
  });

  it("splits a resource with very many findings into parts that each fit one SQS message", () => {
    const findings = Array.from({ length: 3_000 }, (_, index) =>
      sgFinding(
        1_000 + index,
        "0.0.0.0/0",
        `rule number ${index} with a long description to take up room ${"x".repeat(60)}`,
      ),
    );
    const parts = buildInstructions(source, findings);
    expect(parts.length).toBeGreaterThan(1);
    for (const part of parts) {
      expect(Buffer.byteLength(serializeInstruction(part))).toBeLessThanOrEqual(MAX_INSTRUCTION_BYTES);
      expect(part.part).toEqual({ index: expect.any(Number), count: parts.length });
      expect(() => parseInstruction(serializeInstruction(part))).not.toThrow();
    }
    expect(parts.flatMap((part) => part.matched)).toHaveLength(3_000);
    expect(new Set(parts.map((part) => part.id)).size).toBe(parts.length);
    // Stable split: the same findings in another order give the same parts.
    expect(buildInstructions(source, [...findings].reverse()).map((p) => p.id)).toEqual(parts.map((p) => p.id));
  });

  describe("parsing rejects what does not satisfy the schema, naming the first problem", () => {
    const valid = () => JSON.parse(serializeInstruction(buildInstructions(source, [sgFinding(22)])[0]!));
    const cases: [string, (m: Record<string, any>) => unknown, RegExp][] = [
      ["not JSON", () => "{not json", /message body is not JSON/],
      [
        "a body nested 40,000 levels deep (poison)",
        () => `${'{"a":'.repeat(40_000)}1${"}".repeat(40_000)}`,
        /^message body nests deeper than 64 levels$/,
      ],
      [
        "a policy statement nested past the cap",
        (m) => {
          let deep: Record<string, unknown> = { Sid: "x" };
          for (let level = 0; level < 70; level++) deep = { nested: deep };
          return { ...m, matched: [{ kind: "policy-statement", statement: deep }] };
        },
        /nests deeper than 64 levels/,
      ],
      ["a newer version", (m) => ({ ...m, version: 2 }), /^version: unsupported instruction version 2/],
      ["an unknown problem", (m) => ({ ...m, problem: "iam-root-keys" }), /^problem: unknown problem "iam-root-keys"/],
      [
        "a bad account id",
        (m) => ({ ...m, resource: { ...m.resource, accountId: "12" } }),
        /^resource\.accountId: must be a 12-digit/,
      ],
      ["no matched entries", (m) => ({ ...m, matched: [] }), /^matched: must name at least one offending entry/],
      [
        "an SG entry with two CIDRs",
        (m) => ({ ...m, matched: [{ kind: "sg-rule", rule: { ...m.matched[0].rule, cidrIpv6: "::/0" } }] }),
        /exactly one CIDR/,
      ],
      [
        "entries of another problem",
        (m) => ({ ...m, matched: [aclFinding.matched] }),
        /do not fit problem sg-open-ingress/,
      ],
      ["a forged id", (m) => ({ ...m, id: "0".repeat(32) }), /id does not match/],
      [
        "rule parameters that are an array",
        (m) => ({ ...m, rule: { ...m.rule, parameters: [] } }),
        /^rule\.parameters: rule parameters must be an object/,
      ],
      ["a bad timestamp", (m) => ({ ...m, notBefore: "tomorrow" }), /^notBefore: must be an ISO-8601 timestamp/],
      ["an unknown field", (m) => ({ ...m, extra: true }), /^extra: /],
      ["a missing field", ({ detectedAt: _, ...rest }) => rest, /^detectedAt: /],
    ];
    it.each(cases)("%s", (_name, mutate, message) => {
      const body = mutate(valid());
      expect(() => parseInstruction(typeof body === "string" ? body : JSON.stringify(body))).toThrow(
        InvalidInstructionError,
      );
      expect(() => parseInstruction(typeof body === "string" ? body : JSON.stringify(body))).toThrow(message);
    });
  });
});

describe("bounded JSON", () => {
  it("measures depth without recursion and accepts the cap itself", async () => {
    const { boundedJson, jsonDepth, MAX_JSON_DEPTH } = await import("../../contract/json.ts");
    const nest = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
    expect(jsonDepth(JSON.parse(nest(100_000)), 64)).toBe(65);
    expect(jsonDepth({ a: [1, { b: null }], c: "x" })).toBe(3);
    expect(jsonDepth(42)).toBe(0);
    expect(() => boundedJson(nest(MAX_JSON_DEPTH), "body")).not.toThrow();
    expect(() => boundedJson(nest(MAX_JSON_DEPTH + 1), "body")).toThrow("body nests deeper than 64 levels");
  });

  it("a dispatch payload is bounded the same way", async () => {
    const { parseRemediationRequest, InvalidRemediationRequestError } = await import("../../contract/dispatch.ts");
    const deep = `{"queueUrl":${'{"a":'.repeat(40_000)}1${"}".repeat(40_000)}}`;
    expect(() => parseRemediationRequest(deep)).toThrow(InvalidRemediationRequestError);
    expect(() => parseRemediationRequest(new TextEncoder().encode(deep))).toThrow(/nests deeper than 64 levels/);
  });
});
