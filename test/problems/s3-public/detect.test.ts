import { describe, expect, it } from "vitest";
import { InvalidConfigItemError, normalizeConfigItem } from "../../../detection/config-item.ts";
import { type AccountFacts, type ConfigItem, type Finding, RuleParameterError } from "../../../detection/types.ts";
import {
  aclFromConfig,
  aclGrantKey,
  aclGrantsFromApi,
  aclGrantToApi,
  type BucketState,
  CONFINING_CONDITION_KEYS,
  GROUP_URIS,
  isFixedConditionValue,
  isPublicStatement,
  judgeS3,
  parsePolicyDocument,
  parseS3PublicParameters,
  policyStatementKey,
  s3PublicRule,
  s3StateFromConfigItem,
} from "../../../problems/s3-public/detect.ts";
import { configItem } from "../../fixtures/load.ts";

const FOLDER = "AWS_S3_Bucket";
const OWNER = "2a8c7d1e9f3b4a5c6d7e8f901a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

function item(variant: string): ConfigItem {
  return normalizeConfigItem(configItem(FOLDER, variant));
}

function evaluate(variant: string | ConfigItem, facts?: AccountFacts) {
  return s3PublicRule.evaluate(
    typeof variant === "string" ? item(variant) : variant,
    parseS3PublicParameters({}),
    facts,
  );
}

/** A real-shaped item (a bucket with no public grant and Block Public Access off) whose policy is `statements`. */
function itemWithPolicy(...statements: Record<string, unknown>[]): ConfigItem {
  const raw = configItem<{ supplementaryConfiguration: Record<string, unknown> }>(FOLDER, "unconfining-conditions");
  raw.supplementaryConfiguration.BucketPolicy = {
    policyText: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
  };
  return normalizeConfigItem(raw);
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
      "not public: 1 public ACL grant(s) neutralised by the bucket's Block Public Access (IgnorePublicAcls); " +
        "1 public policy statement(s) neutralised by the bucket's Block Public Access (RestrictPublicBuckets)",
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

// AWS's meaning of "public": a Principal "*" statement is non-public only when a caller-restricting condition key
// has fixed values (no `*`, no `?`, no policy variable); aws:SourceIp lists are judged as one union.
describe("a condition confines only with fixed values (Config items)", () => {
  it("AWS's own example and every named pattern are public, each statement a finding", () => {
    const verdict = evaluate("pattern-conditions");
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(summary(verdict.findings)).toEqual([
      "policy AnySourceBucket", // ArnLike aws:SourceArn "arn:aws:s3:::*"
      "policy AnyAccountsFunction", // ArnLike aws:SourceArn "arn:aws:lambda:us-east-1:*:function:F"
      "policy AnyAccountsRole", // ArnLike aws:PrincipalArn "arn:aws:iam::*:role/R"
      "policy AnyOrg", // StringLike aws:PrincipalOrgID "o-*"
      "policy AnyVpc", // StringLike aws:SourceVpc "vpc-*" (the S3 User Guide's example)
      "policy PerUserHome", // ${aws:username}
      "policy SameOrgAsBucket", // ${aws:ResourceOrgID}
    ]);
    expect(verdict.findings[4]!.reason).toBe(
      "policy Sid AnyVpc allows everyone (Principal *) without a confining condition",
    );
  });

  it("their fixed-value counterparts stay non-public", () => {
    expect(evaluate("fixed-conditions")).toEqual({
      compliance: "COMPLIANT",
      annotation: "no public ACL grant or policy statement",
      findings: [],
    });
  });

  it("aws:SourceIp lists whose union covers the internet do not confine; office ranges do", () => {
    expect(summary(evaluate("source-ip-lists").findings)).toEqual([
      "policy EverySlash8",
      "policy TwoHalves",
      "policy TwoSlash8sMakeASlash7",
      "policy Ipv6Halves",
    ]);
  });
});

const EVERY_SLASH_8 = Array.from({ length: 256 }, (_, octet) => `${octet}.0.0.0/8`);
const ORG = "o-a1b2c3d4e5";
/** An IAM policy variable as a policy spells it: variable("aws:username") is "${aws:username}". */
const variable = (name: string) => `$\{${name}}`;
const ACCOUNT = "111122223333";

describe("policy families, each judged from a Config item", () => {
  const when = (condition: Record<string, unknown>) =>
    allow({ Sid: "UnderTest", Principal: "*", Condition: condition });

  it.each<[string, Record<string, unknown>]>([
    // A wildcard in each confining key, under each operator.
    ["StringEquals aws:SourceVpc vpc-*", { StringEquals: { "aws:SourceVpc": "vpc-*" } }],
    ["StringLike aws:SourceVpc with ?", { StringLike: { "aws:SourceVpc": "vpc-0a1b?c3d" } }],
    ["StringEqualsIgnoreCase aws:SourceVpc VPC-*", { StringEqualsIgnoreCase: { "aws:SourceVpc": "VPC-*" } }],
    ["StringLike aws:SourceVpce vpce-*", { StringLike: { "aws:SourceVpce": "vpce-*" } }],
    ["StringEquals aws:SourceVpce *-suffix", { StringEquals: { "aws:SourceVpce": "*0a1b2c3d" } }],
    ["StringLike aws:PrincipalOrgID o-a1b2*", { StringLike: { "aws:PrincipalOrgID": "o-a1b2*" } }],
    [
      "ForAnyValue:StringLike aws:PrincipalOrgPaths",
      { "ForAnyValue:StringLike": { "aws:PrincipalOrgPaths": `${ORG}/*` } },
    ],
    ["StringEquals aws:PrincipalOrgPaths ou-*", { StringEquals: { "aws:PrincipalOrgPaths": `${ORG}/r-ab12/ou-*/` } }],
    ["StringLike aws:PrincipalAccount 1111*", { StringLike: { "aws:PrincipalAccount": "1111*" } }],
    ["StringEquals aws:PrincipalAccount ????", { StringEquals: { "aws:PrincipalAccount": "????????????" } }],
    ["StringLike aws:SourceAccount 11112222333?", { StringLike: { "aws:SourceAccount": "11112222333?" } }],
    [
      "StringEquals aws:SourceAccount, one of two a pattern",
      { StringEquals: { "aws:SourceAccount": [ACCOUNT, "4444*"] } },
    ],
    [
      "ArnEquals aws:SourceArn distribution/*",
      { ArnEquals: { "aws:SourceArn": `arn:aws:cloudfront::${ACCOUNT}:distribution/*` } },
    ],
    ["ArnLike aws:SourceArn any region", { ArnLike: { "aws:SourceArn": `arn:aws:sns:*:${ACCOUNT}:alerts` } }],
    ["ForAnyValue:ArnLike aws:SourceArn acme-*", { "ForAnyValue:ArnLike": { "aws:SourceArn": "arn:aws:s3:::acme-*" } }],
    ["ArnEquals aws:PrincipalArn role/*", { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/*` } }],
    ["StringLike aws:PrincipalArn any account's root", { StringLike: { "aws:PrincipalArn": "arn:aws:iam::*:root" } }],
    ["StringLike aws:SourceOwner 1111*", { StringLike: { "aws:SourceOwner": "1111*" } }],
    ["StringEquals aws:SourceOwner with ?", { StringEquals: { "aws:SourceOwner": "11112222333?" } }],
    ["StringLike aws:userid AROLEID:*", { StringLike: { "aws:userid": "AROAEXAMPLEROLEID:*" } }],
    ["StringLike aws:SourceOrgID o-*", { StringLike: { "aws:SourceOrgID": "o-*" } }],
    [
      "ForAnyValue:StringEquals aws:SourceVpce, one a pattern",
      { "ForAnyValue:StringEquals": { "aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-*"] } },
    ],
    ["StringLike s3:DataAccessPointAccount *", { StringLike: { "s3:DataAccessPointAccount": "*" } }],
    [
      "ArnLike s3:DataAccessPointArn any account",
      { ArnLike: { "s3:DataAccessPointArn": "arn:aws:s3:us-east-1:*:accesspoint/ap" } },
    ],
    // Policy variables, even in otherwise fixed text.
    [
      "aws:PrincipalArn user/ + variable aws:username",
      { StringEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:user/${variable("aws:username")}` } },
    ],
    ["aws:userid = variable aws:userid", { StringEquals: { "aws:userid": variable("aws:userid") } }],
    [
      "aws:SourceAccount = variable aws:PrincipalAccount",
      { StringEquals: { "aws:SourceAccount": variable("aws:PrincipalAccount") } },
    ],
    [
      "aws:SourceArn with variable aws:PrincipalTag/bucket",
      { ArnEquals: { "aws:SourceArn": `arn:aws:s3:::${variable("aws:PrincipalTag/bucket")}` } },
    ],
    [
      "aws:PrincipalOrgID = variable aws:ResourceOrgID",
      { StringEquals: { "aws:PrincipalOrgID": variable("aws:ResourceOrgID") } },
    ],
    ["aws:SourceVpc with the escape variable *", { StringEquals: { "aws:SourceVpc": `vpc-${variable("*")}` } }],
    // Keys about the resource or the request's path, not the caller.
    ["aws:ResourceAccount", { StringEquals: { "aws:ResourceAccount": ACCOUNT } }],
    ["s3:ResourceAccount", { StringEquals: { "s3:ResourceAccount": ACCOUNT } }],
    ["aws:ResourceOrgID", { StringEquals: { "aws:ResourceOrgID": ORG } }],
    [
      "aws:ResourceOrgPaths",
      { "ForAnyValue:StringEquals": { "aws:ResourceOrgPaths": `${ORG}/r-ab12/ou-ab12-11111111/` } },
    ],
    ["aws:CalledVia", { "ForAnyValue:StringEquals": { "aws:CalledVia": "athena.amazonaws.com" } }],
    ["aws:CalledViaFirst", { StringEquals: { "aws:CalledViaFirst": "athena.amazonaws.com" } }],
    ["aws:CalledViaLast", { StringEquals: { "aws:CalledViaLast": "athena.amazonaws.com" } }],
    ["aws:SecureTransport", { Bool: { "aws:SecureTransport": "true" } }],
    ["aws:RequestedRegion", { StringEquals: { "aws:RequestedRegion": "us-east-1" } }],
    // Operators that let a request without the key through, or negate.
    ["StringEqualsIfExists aws:PrincipalOrgID", { StringEqualsIfExists: { "aws:PrincipalOrgID": ORG } }],
    [
      "ArnLikeIfExists aws:SourceArn",
      { ArnLikeIfExists: { "aws:SourceArn": `arn:aws:sns:us-east-1:${ACCOUNT}:alerts` } },
    ],
    ["IpAddressIfExists aws:SourceIp", { IpAddressIfExists: { "aws:SourceIp": "203.0.113.0/24" } }],
    ["StringNotEquals aws:SourceVpce", { StringNotEquals: { "aws:SourceVpce": "vpce-1a2b3c4d" } }],
    ["ArnNotLike aws:SourceArn", { ArnNotLike: { "aws:SourceArn": `arn:aws:sns:us-east-1:${ACCOUNT}:alerts` } }],
    ["NotIpAddress aws:SourceIp", { NotIpAddress: { "aws:SourceIp": "10.0.0.0/8" } }],
    [
      "ForAllValues:StringEquals aws:PrincipalOrgPaths",
      { "ForAllValues:StringEquals": { "aws:PrincipalOrgPaths": `${ORG}/` } },
    ],
    ["Null aws:SourceVpc false", { Null: { "aws:SourceVpc": "false" } }],
    // aws:SourceIp lists judged as a union.
    ["every /8", { IpAddress: { "aws:SourceIp": EVERY_SLASH_8 } }],
    ["0.0.0.0/1 + 128.0.0.0/1", { IpAddress: { "aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"] } }],
    ["52.0.0.0/8 + 53.0.0.0/8 (a /7)", { IpAddress: { "aws:SourceIp": ["52.0.0.0/8", "53.0.0.0/8"] } }],
    ["two /9s and a /8 making 8.0.0.0/7", { IpAddress: { "aws:SourceIp": ["8.0.0.0/9", "8.128.0.0/9", "9.0.0.0/8"] } }],
    ["::/1 + 8000::/1", { IpAddress: { "aws:SourceIp": ["::/1", "8000::/1"] } }],
    ["2600::/16 + 2601::/16 (a /15)", { IpAddress: { "aws:SourceIp": ["2600::/16", "2601::/16"] } }],
    // S3 counts IPv6 source ranges broader than /32 as public (not the SG rule's default /16).
    ["2600::/17 + 2600:8000::/17 (a /16)", { IpAddress: { "aws:SourceIp": ["2600::/17", "2600:8000::/17"] } }],
    ["one IPv6 /31", { IpAddress: { "aws:SourceIp": "2600:1f00::/31" } }],
    ["an office and 0.0.0.0/0", { IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"] } }],
    ["an office and a pattern", { IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "198.51.100.*"] } }],
    ["ForAnyValue:IpAddress, every /8", { "ForAnyValue:IpAddress": { "aws:SourceIp": EVERY_SLASH_8 } }],
  ])("public: %s", (_name, condition) => {
    const verdict = evaluate(itemWithPolicy(when(condition)));
    expect(verdict.compliance).toBe("NON_COMPLIANT");
    expect(summary(verdict.findings)).toEqual(["policy UnderTest"]);
  });

  it.each<[string, Record<string, unknown>]>([
    [
      "StringEquals aws:SourceVpc vpc-91237329 (AWS's fixed example)",
      { StringEquals: { "aws:SourceVpc": "vpc-91237329" } },
    ],
    ["StringLike aws:SourceVpc without a wildcard", { StringLike: { "aws:SourceVpc": "vpc-91237329" } }],
    ["StringEqualsIgnoreCase aws:SourceVpc", { StringEqualsIgnoreCase: { "aws:SourceVpc": "VPC-91237329" } }],
    [
      "StringEquals aws:SourceVpce, two fixed",
      { StringEquals: { "aws:SourceVpce": ["vpce-1a2b3c4d", "vpce-5e6f7a8b"] } },
    ],
    ["StringEquals aws:PrincipalOrgID", { StringEquals: { "aws:PrincipalOrgID": ORG } }],
    [
      "ForAnyValue:StringEquals aws:PrincipalOrgPaths",
      { "ForAnyValue:StringEquals": { "aws:PrincipalOrgPaths": `${ORG}/r-ab12/ou-ab12-11111111/` } },
    ],
    ["StringEquals aws:PrincipalAccount", { StringEquals: { "aws:PrincipalAccount": ACCOUNT } }],
    ["StringEquals aws:SourceAccount", { StringEquals: { "aws:SourceAccount": ACCOUNT } }],
    [
      "ArnEquals aws:SourceArn one distribution",
      { ArnEquals: { "aws:SourceArn": `arn:aws:cloudfront::${ACCOUNT}:distribution/E2QWRUHAPOMQZL` } },
    ],
    [
      "ForAnyValue:ArnLike aws:SourceArn one bucket",
      { "ForAnyValue:ArnLike": { "aws:SourceArn": "arn:aws:s3:::acme-logs" } },
    ],
    ["ArnEquals aws:PrincipalArn one role", { ArnEquals: { "aws:PrincipalArn": `arn:aws:iam::${ACCOUNT}:role/R` } }],
    ["StringEquals aws:SourceOwner", { StringEquals: { "aws:SourceOwner": ACCOUNT } }],
    ["StringEquals aws:userid one role session", { StringEquals: { "aws:userid": "AROAEXAMPLEROLEID:alice" } }],
    ["StringEquals aws:SourceOrgID", { StringEquals: { "aws:SourceOrgID": ORG } }],
    ["StringEquals s3:DataAccessPointAccount", { StringEquals: { "s3:DataAccessPointAccount": ACCOUNT } }],
    ["key spelled in another case", { StringEquals: { "AWS:PRINCIPALORGID": ORG } }],
    [
      "a pattern in one key, a fixed value in another",
      { StringLike: { "aws:SourceVpc": "vpc-*" }, StringEquals: { "aws:PrincipalOrgID": ORG } },
    ],
    [
      "a resource key beside a fixed caller key",
      { StringEquals: { "aws:ResourceAccount": ACCOUNT, "aws:SourceVpce": "vpce-1a2b3c4d" } },
    ],
    ["offices", { IpAddress: { "aws:SourceIp": ["203.0.113.0/24", "198.51.100.7", "2001:db8:1234::/48"] } }],
    ["52.0.0.0/9 + 52.128.0.0/9 (a /8)", { IpAddress: { "aws:SourceIp": ["52.0.0.0/9", "52.128.0.0/9"] } }],
    ["52.0.0.0/8 + 54.0.0.0/8 (a gap)", { IpAddress: { "aws:SourceIp": ["52.0.0.0/8", "54.0.0.0/8"] } }],
    ["the RFC 1918 ranges", { IpAddress: { "aws:SourceIp": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] } }],
    [
      "2600:1f00::/33 + 2600:1f00:8000::/33 (a /32)",
      { IpAddress: { "aws:SourceIp": ["2600:1f00::/33", "2600:1f00:8000::/33"] } },
    ],
  ])("not public: %s", (_name, condition) => {
    expect(evaluate(itemWithPolicy(when(condition)))).toMatchObject({ compliance: "COMPLIANT", findings: [] });
  });

  it("names the confining keys AWS documents, and no key about the resource", () => {
    const keys = CONFINING_CONDITION_KEYS.map((key) => key.toLowerCase());
    for (const key of ["aws:sourcevpc", "aws:sourcevpce", "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner"]) {
      expect(keys).toContain(key);
    }
    expect(keys.filter((key) => /resource|calledvia|securetransport|requestedregion/.test(key))).toEqual([]);
  });

  it.each([
    ["vpc-91237329", true],
    ["arn:aws:iam::111122223333:role/R", true],
    ["vpc-*", false],
    ["vpc-0a1b?c3d", false],
    ["*", false],
    [`arn:aws:iam::111122223333:user/${variable("aws:username")}`, false],
    [variable("*"), false],
    ["", false],
    [111122223333, false],
    [null, false],
  ])("isFixedConditionValue(%j) ⇒ %s", (value, expected) => {
    expect(isFixedConditionValue(value)).toBe(expected);
  });
});

describe("account-level Block Public Access", () => {
  const ALL = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

  it("neutralises exactly as the bucket's flags do, and the annotation names the account", () => {
    const verdict = evaluate("public-acl-and-policy", { s3PublicAccessBlock: ALL });
    expect(verdict).toEqual({
      compliance: "COMPLIANT",
      annotation:
        "not public: 1 public ACL grant(s) neutralised by the account's Block Public Access (IgnorePublicAcls); " +
        "1 public policy statement(s) neutralised by the account's Block Public Access (RestrictPublicBuckets)",
      findings: [],
    });
  });

  it("IgnorePublicAcls at the account leaves the policy a finding, and says what it neutralised", () => {
    const verdict = evaluate("public-acl-and-policy", { s3PublicAccessBlock: { IgnorePublicAcls: true } });
    expect(summary(verdict.findings)).toEqual(["policy PublicRead"]);
    expect(verdict.annotation).toBe(
      "public: policy Sid PublicRead allows everyone (Principal *) without a confining condition | " +
        "1 public ACL grant(s) neutralised by the account's Block Public Access (IgnorePublicAcls)",
    );
  });

  it("RestrictPublicBuckets at the account leaves the ACL a finding", () => {
    const verdict = evaluate("public-acl-and-policy", { s3PublicAccessBlock: { RestrictPublicBuckets: true } });
    expect(summary(verdict.findings)).toEqual(["acl AllUsers READ"]);
    expect(verdict.annotation).toContain(
      "1 public policy statement(s) neutralised by the account's Block Public Access (RestrictPublicBuckets)",
    );
  });

  it("BlockPublicAcls / BlockPublicPolicy at the account only stop new grants and policies", () => {
    const facts = { s3PublicAccessBlock: { BlockPublicAcls: true, BlockPublicPolicy: true } };
    expect(summary(evaluate("public-acl-and-policy", facts).findings)).toEqual([
      "acl AllUsers READ",
      "policy PublicRead",
    ]);
  });

  it("none configured (null), flags off, or not known: the bucket's flags alone decide — never a false COMPLIANT", () => {
    const bucketOnly = evaluate("public-acl-and-policy");
    expect(summary(bucketOnly.findings)).toEqual(["acl AllUsers READ", "policy PublicRead"]);
    const off = {
      BlockPublicAcls: false,
      IgnorePublicAcls: false,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    };
    for (const facts of [{ s3PublicAccessBlock: null }, { s3PublicAccessBlock: off }, {}, undefined]) {
      expect(evaluate("public-acl-and-policy", facts)).toEqual(bucketOnly);
    }
    // And a bucket neutralised by its own flags stays so, whatever the account says.
    expect(evaluate("neutralised-by-bpa", { s3PublicAccessBlock: null })).toEqual(evaluate("neutralised-by-bpa"));
  });

  it("when both levels neutralise, the annotation names both", () => {
    expect(evaluate("neutralised-by-bpa", { s3PublicAccessBlock: ALL }).annotation).toBe(
      "not public: 1 public ACL grant(s) neutralised by the bucket's and the account's Block Public Access " +
        "(IgnorePublicAcls); 1 public policy statement(s) neutralised by the bucket's and the account's Block " +
        "Public Access (RestrictPublicBuckets)",
    );
  });

  it("s3StateFromConfigItem carries the account's flags when known, and leaves them out when not", () => {
    expect(s3StateFromConfigItem(item("public-acl-and-policy"), { s3PublicAccessBlock: ALL })).toMatchObject({
      bucket: "acme-legacy-site",
      publicAccessBlock: {
        BlockPublicAcls: false,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: false,
      },
      accountPublicAccessBlock: ALL,
    });
    expect(s3StateFromConfigItem(item("public-acl-and-policy"), { s3PublicAccessBlock: null })).toHaveProperty(
      "accountPublicAccessBlock",
      null,
    );
    expect(s3StateFromConfigItem(item("public-acl-and-policy"), {})).not.toHaveProperty("accountPublicAccessBlock");
    expect(s3StateFromConfigItem(item("public-acl-and-policy"))).not.toHaveProperty("accountPublicAccessBlock");
  });

  it("judgeS3 reads the account level from the state (the remediation's live re-check passes it the same way)", () => {
    const grant = { grantee: { type: "Group" as const, uri: GROUP_URIS.AllUsers }, permission: "READ" };
    const policy = { Statement: [allow({ Principal: "*" })] };
    expect(judgeS3(state({ grants: [grant], policy, accountPublicAccessBlock: ALL })).compliance).toBe("COMPLIANT");
    expect(
      summary(
        judgeS3(state({ grants: [grant], policy, accountPublicAccessBlock: { IgnorePublicAcls: true } })).findings,
      ),
    ).toEqual(["policy S"]);
  });

  it("the rule asks the runtime for the account's Block Public Access", () => {
    expect(s3PublicRule.facts).toEqual(["s3PublicAccessBlock"]);
  });
});

describe("parameters", () => {
  it("takes none and names an unknown one", () => {
    expect(parseS3PublicParameters({})).toEqual({});
    expect(() => parseS3PublicParameters({ authorizedPorts: "22" })).toThrow(RuleParameterError);
    expect(() => parseS3PublicParameters({ authorizedPorts: "22" })).toThrow(/"authorizedPorts"/);
  });
});
