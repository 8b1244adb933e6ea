import { describe, expect, it } from "vitest";
import { InvalidConfigItemError, normalizeConfigItem } from "../../rules/config-item.ts";
import {
  aclFromConfig,
  aclGrantKey,
  aclGrantsFromApi,
  aclGrantToApi,
  type BucketState,
  GROUP_URIS,
  isPublicStatement,
  judgeS3,
  parsePolicyDocument,
  parseS3PublicParameters,
  policyStatementKey,
  s3PublicRule,
  s3StateFromConfigItem,
} from "../../rules/s3-public.ts";
import { type ConfigItem, type Finding, RuleParameterError } from "../../rules/types.ts";
import { configItem } from "../fixtures/load.ts";

const FOLDER = "AWS_S3_Bucket";
const OWNER = "2a8c7d1e9f3b4a5c6d7e8f901a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

function item(variant: string): ConfigItem {
  return normalizeConfigItem(configItem(FOLDER, variant));
}

function evaluate(variant: string | ConfigItem) {
  return s3PublicRule.evaluate(typeof variant === "string" ? item(variant) : variant, parseS3PublicParameters({}));
}

/** "acl AllUsers READ" / "policy PublicRead" for each finding, in order. */
function summary(findings: readonly Finding[]): string[] {
  return findings.map((finding) => {
    const matched = finding.matched;
    if (matched.kind === "acl-grant") {
      const grantee = matched.grant.grantee;
      return `acl ${grantee.type === "Group" ? grantee.uri.split("/").pop() : grantee.type} ${matched.grant.permission}`;
    }
    if (matched.kind === "policy-statement") return `policy ${matched.statement.Sid ?? "?"}`;
    return "sg";
  });
}

function state(overrides: Partial<BucketState>): BucketState {
  return { bucket: "b", aclsDisabled: false, grants: [], policy: null, publicAccessBlock: null, ...overrides };
}

const allow = (extra: Record<string, unknown>) => ({
  Sid: "S",
  Effect: "Allow",
  Action: "s3:GetObject",
  Resource: "arn:aws:s3:::b/*",
  ...extra,
});

describe("S3 rule on Config items as AWS delivers them", () => {
  it("a private bucket is compliant", () => {
    expect(evaluate("private")).toEqual({
      compliance: "COMPLIANT",
      annotation: "no public ACL grant or policy statement",
      findings: [],
    });
  });

  it("a public-read ACL grant is one finding naming the grant exactly", () => {
    const verdict = evaluate("public-read-acl");
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(verdict.findings).toEqual([
      {
        problem: "s3-public-acl",
        matched: {
          kind: "acl-grant",
          grant: { grantee: { type: "Group", uri: GROUP_URIS.AllUsers }, permission: "READ" },
        },
        reason: "ACL grants READ to AllUsers (anyone on the internet)",
      },
    ]);
  });

  it("a grant list with two public grants yields both, and never the owner's or a named account's", () => {
    expect(summary(evaluate("two-public-grants").findings)).toEqual([
      "acl AuthenticatedUsers WRITE",
      "acl AllUsers READ_ACP",
    ]);
  });

  it("a statement list with two public statements yields both, exactly as written", () => {
    const verdict = evaluate("two-public-statements");
    expect(summary(verdict.findings)).toEqual(["policy PublicRead", "policy AnyoneCanList"]);
    expect(verdict.findings[1]!.matched).toEqual({
      kind: "policy-statement",
      statement: {
        Sid: "AnyoneCanList",
        Effect: "Allow",
        Principal: { AWS: ["arn:aws:iam::444455556666:root", "*"] },
        Action: "s3:ListBucket",
        Resource: "arn:aws:s3:::acme-site",
      },
    });
  });

  it("a single-object Statement is valid policy and is judged", () => {
    expect(summary(evaluate("single-statement-object").findings)).toEqual(["policy AnyoneCanList"]);
  });

  it("Block Public Access neutralises what it covers, and the annotation says why", () => {
    const verdict = evaluate("neutralised-by-bpa");
    expect(verdict.compliance).toBe("COMPLIANT");
    expect(verdict.annotation).toBe(
      "not public: 1 public ACL grant(s) neutralised by Block Public Access IgnorePublicAcls; " +
        "1 public policy statement(s) neutralised by Block Public Access RestrictPublicBuckets",
    );
  });

  it("IgnorePublicAcls alone leaves a public policy a finding (and vice versa)", () => {
    const grant = { grantee: { type: "Group" as const, uri: GROUP_URIS.AllUsers }, permission: "READ" };
    const policy = { Statement: [allow({ Principal: "*" })] };
    expect(
      summary(judgeS3(state({ grants: [grant], policy, publicAccessBlock: { IgnorePublicAcls: true } })).findings),
    ).toEqual(["policy S"]);
    expect(
      summary(judgeS3(state({ grants: [grant], policy, publicAccessBlock: { RestrictPublicBuckets: true } })).findings),
    ).toEqual(["acl AllUsers READ"]);
    // BlockPublicAcls / BlockPublicPolicy only stop new grants and policies; what exists is still public.
    expect(
      judgeS3(state({ grants: [grant], policy, publicAccessBlock: { BlockPublicAcls: true, BlockPublicPolicy: true } }))
        .findings,
    ).toHaveLength(2);
  });

  it("a bucket with ACLs disabled (BucketOwnerEnforced) has no ACL findings, only its policy's", () => {
    const verdict = evaluate("owner-enforced-public-policy");
    expect(summary(verdict.findings)).toEqual(["policy PublicRead"]);
  });

  it("conditions on known callers or networks confine a statement", () => {
    expect(evaluate("confined-by-conditions")).toMatchObject({ compliance: "COMPLIANT", findings: [] });
  });

  it("open CIDRs, unrelated keys, ...IfExists and NotPrincipal do not confine", () => {
    expect(summary(evaluate("unconfining-conditions").findings)).toEqual([
      "policy AnyIp",
      "policy TlsOnly",
      "policy VpceIfExists",
      "policy NotPrincipal",
    ]);
  });

  it("a null or empty policyText is no policy", () => {
    expect(s3StateFromConfigItem(item("public-read-acl")).policy).toBeNull();
    const empty = configItem<Record<string, any>>(FOLDER, "public-read-acl");
    empty.supplementaryConfiguration.BucketPolicy = { policyText: "" };
    expect(s3StateFromConfigItem(normalizeConfigItem(empty)).policy).toBeNull();
  });

  it("reads owner, ownership and Block Public Access from the item", () => {
    expect(s3StateFromConfigItem(item("owner-enforced-public-policy"))).toMatchObject({
      bucket: "acme-owner-enforced",
      ownerId: OWNER,
      aclsDisabled: true,
      publicAccessBlock: {
        BlockPublicAcls: false,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: false,
      },
    });
  });

  it("reads the same item when it arrives from the API with every supplementary value a JSON string", () => {
    const raw = configItem<Record<string, any>>(FOLDER, "two-public-statements");
    const apiShape: Record<string, unknown> = {
      ...raw,
      accountId: raw.awsAccountId,
      arn: raw.ARN,
      configuration: JSON.stringify(raw.configuration),
      supplementaryConfiguration: Object.fromEntries(
        Object.entries(raw.supplementaryConfiguration).map(([key, value]) => [key, JSON.stringify(value)]),
      ),
    };
    delete apiShape.awsAccountId;
    delete apiShape.ARN;
    expect(evaluate(normalizeConfigItem(apiShape)).findings).toEqual(evaluate("two-public-statements").findings);
  });

  it("an AccessControlList that is not JSON, or a policy that is not a JSON object, is a clear error", () => {
    const raw = configItem<Record<string, any>>(FOLDER, "public-read-acl");
    raw.supplementaryConfiguration.AccessControlList = "{grantList:";
    expect(() => evaluate(normalizeConfigItem(raw))).toThrow(
      /supplementaryConfiguration.AccessControlList is not valid JSON/,
    );
    const policy = configItem<Record<string, any>>(FOLDER, "public-read-acl");
    policy.supplementaryConfiguration.BucketPolicy = { policyText: "Allow everyone" };
    expect(() => evaluate(normalizeConfigItem(policy))).toThrow(InvalidConfigItemError);
    expect(() => evaluate(normalizeConfigItem(policy))).toThrow(/BucketPolicy.policyText is not a JSON object/);
  });
});

describe("ACL grantee forms", () => {
  it("accepts every grantee shape Config uses and maps permissions to the API's names", () => {
    const acl = aclFromConfig({
      grantSet: [{ grantee: { identifier: "abc", typeIdentifier: "id" }, permission: "ReadAcp" }],
      grantList: [
        { grantee: "AllUsers", permission: "Read" },
        { grantee: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", permission: "WriteAcp" },
        { grantee: { uri: "http://acs.amazonaws.com/groups/s3/LogDelivery" }, permission: "Write" },
        { grantee: { id: OWNER, displayName: null }, permission: "FullControl" },
        { grantee: { emailAddress: "ops@example.com" }, permission: "READ" },
        { grantee: { identifier: "x@example.com", typeIdentifier: "EmailAddress" }, permission: "Read" },
      ],
      owner: { id: OWNER, displayName: null },
    });
    expect(acl.ownerId).toBe(OWNER);
    expect(acl.grants.map(aclGrantKey)).toEqual([
      `Group:${GROUP_URIS.AllUsers}:READ`,
      `Group:${GROUP_URIS.AuthenticatedUsers}:WRITE_ACP`,
      `Group:${GROUP_URIS.LogDelivery}:WRITE`,
      `CanonicalUser:${OWNER}:FULL_CONTROL`,
      "AmazonCustomerByEmail:ops@example.com:READ",
      "AmazonCustomerByEmail:x@example.com:READ",
      "CanonicalUser:abc:READ_ACP",
    ]);
  });

  it("names the grant it cannot read", () => {
    expect(() => aclFromConfig({ grantList: [{ grantee: "Everybody", permission: "Read" }] })).toThrow(
      'AccessControlList.grantList[0] has unknown grantee "Everybody"',
    );
    expect(() => aclFromConfig({ grantList: [{ grantee: "AllUsers", permission: "Own" }] })).toThrow(
      'AccessControlList.grantList[0] has unknown permission "Own"',
    );
    expect(() => aclFromConfig({ grantList: "AllUsers" })).toThrow("AccessControlList.grantList is not an array");
  });

  it("round-trips the API's grants (what the remediation reads and writes back)", () => {
    const api = [
      { Grantee: { Type: "CanonicalUser", ID: OWNER, DisplayName: "owner" }, Permission: "FULL_CONTROL" },
      { Grantee: { Type: "Group", URI: GROUP_URIS.AllUsers }, Permission: "READ" },
      { Grantee: { Type: "AmazonCustomerByEmail", EmailAddress: "ops@example.com" }, Permission: "WRITE" },
    ];
    const grants = aclGrantsFromApi(api);
    expect(grants.map(aclGrantToApi)).toEqual(api);
    expect(judgeS3(state({ grants })).findings).toHaveLength(1);
    expect(() => aclGrantsFromApi([{ Grantee: { Type: "Alien" }, Permission: "READ" }])).toThrow(
      'Grants[0] has grantee type "Alien"',
    );
  });

  it("the Config and API forms of the same grant have the same key (the remediation matches them)", () => {
    const fromConfig = aclFromConfig({ grantList: [{ grantee: "AllUsers", permission: "Read" }] }).grants[0]!;
    const [fromApi] = aclGrantsFromApi([{ Grantee: { Type: "Group", URI: GROUP_URIS.AllUsers }, Permission: "READ" }]);
    expect(aclGrantKey(fromApi!)).toBe(aclGrantKey(fromConfig));
  });
});

describe("public statements", () => {
  it.each([
    ["Principal *", { Principal: "*" }, true],
    ['Principal {"AWS":"*"}', { Principal: { AWS: "*" } }, true],
    ["Principal list containing *", { Principal: { AWS: ["arn:aws:iam::111122223333:root", "*"] } }, true],
    ["NotPrincipal", { NotPrincipal: { AWS: "arn:aws:iam::111122223333:root" } }, true],
    ["a named account", { Principal: { AWS: "arn:aws:iam::111122223333:root" } }, false],
    ["a service", { Principal: { Service: "logging.s3.amazonaws.com" } }, false],
    ["aws:SourceVpc", { Principal: "*", Condition: { StringEquals: { "aws:SourceVpc": "vpc-1" } } }, false],
    ["aws:PrincipalAccount", { Principal: "*", Condition: { StringEquals: { "aws:PrincipalAccount": "1" } } }, false],
    ["aws:SourceAccount", { Principal: "*", Condition: { StringEquals: { "aws:SourceAccount": "1" } } }, false],
    ["aws:SourceArn ArnLike", { Principal: "*", Condition: { ArnLike: { "aws:SourceArn": "arn:aws:s3:::x" } } }, false],
    [
      "condition key in other case",
      { Principal: "*", Condition: { StringEquals: { "AWS:SOURCEVPCE": "vpce-1" } } },
      false,
    ],
    ["a wildcard value", { Principal: "*", Condition: { StringLike: { "aws:SourceVpce": "*" } } }, true],
    ["a negated operator", { Principal: "*", Condition: { StringNotEquals: { "aws:SourceVpc": "vpc-1" } } }, true],
    [
      "ForAllValues",
      { Principal: "*", Condition: { "ForAllValues:StringEquals": { "aws:PrincipalOrgID": "o-1" } } },
      true,
    ],
    ["a private SourceIp", { Principal: "*", Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }, false],
    ["a wide public SourceIp", { Principal: "*", Condition: { IpAddress: { "aws:SourceIp": "0.0.0.0/1" } } }, true],
    ["NotIpAddress", { Principal: "*", Condition: { NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } } }, true],
    ["a malformed SourceIp", { Principal: "*", Condition: { IpAddress: { "aws:SourceIp": "ten.0.0.0/8" } } }, true],
  ])("Allow with %s ⇒ public: %s", (_name, extra, expected) => {
    expect(isPublicStatement(allow(extra))).toBe(expected);
  });

  it("Deny statements are never findings", () => {
    expect(isPublicStatement({ Effect: "Deny", Principal: "*", Action: "s3:*" })).toBe(false);
  });

  it("statement identity ignores key order but not content", () => {
    const a = { Effect: "Allow", Principal: "*", Action: "s3:GetObject" };
    const b = { Action: "s3:GetObject", Principal: "*", Effect: "Allow" };
    expect(policyStatementKey(a)).toBe(policyStatementKey(b));
    expect(policyStatementKey(a)).not.toBe(policyStatementKey({ ...a, Action: "s3:PutObject" }));
  });

  it("duplicated public statements are one finding", () => {
    const statement = allow({ Principal: "*" });
    expect(judgeS3(state({ policy: { Statement: [statement, { ...statement }] } })).findings).toHaveLength(1);
  });

  it("parsePolicyDocument: null or empty is no policy; bad JSON names the problem", () => {
    expect(parsePolicyDocument(null)).toBeNull();
    expect(parsePolicyDocument("")).toBeNull();
    expect(parsePolicyDocument('{"Statement":{"Effect":"Deny"}}')).toEqual({ Statement: [{ Effect: "Deny" }] });
    expect(() => parsePolicyDocument("{")).toThrow(/bucket policy is not valid JSON/);
    expect(() => parsePolicyDocument('{"Statement":[1]}')).toThrow("bucket policy Statement[0] is not an object");
  });
});

describe("parameters", () => {
  it("takes none and names an unknown one", () => {
    expect(parseS3PublicParameters({})).toEqual({});
    expect(() => parseS3PublicParameters({ authorizedPorts: "22" })).toThrow(RuleParameterError);
    expect(() => parseS3PublicParameters({ authorizedPorts: "22" })).toThrow(/"authorizedPorts"/);
  });
});
