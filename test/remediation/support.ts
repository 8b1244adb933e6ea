// Shared pieces for the remediation, ledger and undo tests: instructions, requests, fixtures of live resources,
// AWS-shaped errors, a recording reporter and a ledger that can be told to fail.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { SecurityGroupRule } from "@aws-sdk/client-ec2";
import type { RemediationRequest } from "../../contract/dispatch.ts";
import type { Instruction } from "../../contract/instruction.ts";
import { type Ledger, type LedgerRecord, localRecordSigner, memoryLedger } from "../../contract/ledger.ts";
import type { AccountFactsReader } from "../../detection/account-facts.ts";
import type { MatchedEntry, Problem } from "../../detection/types.ts";
import type { RemediationDeps } from "../../functions/remediation/runner.ts";
import { type Deployment, type DeploymentSpec, deploymentFrom } from "../../platform/deployment.ts";
import type { PauseReading } from "../../platform/pause.ts";
import { RULE_IDS } from "../../problems/index.ts";
import { testInstruction } from "../support/instructions.ts";
import { awsError } from "../support/kit.ts";

export { awsError, recordingReporter } from "../support/kit.ts";

export const T0 = new Date("2026-11-20T10:28:19.000Z");
export const ACCOUNT = "123456789012";
export const REGION = "us-east-1";
export const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation";
export const DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/remedy-remediation-dlq";
export const ACTION_ID = "act-20261120T102819Z-0000beef";
export const GROUP_ID = "sg-0123456789abcdef0";
export const BUCKET = "acme-data";

export const SG_CONFIG_RULE = "remedy-sg-open-ingress";
export const S3_CONFIG_RULE = "remedy-s3-public";
/** The SG rule's parameters as the stack gives them to Config (strings) and to the functions. */
export const DEPLOYED_SG_PARAMETERS = { authorizedPorts: "tcp:80,tcp:443", ipv4MinPrefix: "8", ipv6MinPrefix: "16" };

/** Both rules as deployed, the SG rule with these parameters. */
export function deployedRules(sgParameters: Record<string, unknown> = DEPLOYED_SG_PARAMETERS): DeploymentSpec["rules"] {
  return [
    { id: "sg-open-ingress", configRuleName: SG_CONFIG_RULE, parameters: sgParameters },
    { id: "s3-public", configRuleName: S3_CONFIG_RULE, parameters: {} },
  ];
}

/**
 * Every rule of the registry as a stack with the default variables deploys it (its REMEDY_RULES): the SG rule with
 * the deployed parameters, every other as deployedRules gives it, or without parameters.
 */
export function registryRules(): DeploymentSpec["rules"] {
  const given = deployedRules();
  return RULE_IDS.map(
    (id) => given.find((rule) => rule.id === id) ?? { id, configRuleName: `remedy-${id}`, parameters: {} },
  );
}

/** The deployment the tests' functions run in: account 123456789012, us-east-1, both rules with the defaults. */
export function testDeploymentSpec(overrides: Partial<DeploymentSpec> = {}): DeploymentSpec {
  return { accountId: ACCOUNT, region: REGION, rules: deployedRules(), ...overrides };
}

export function testDeployment(overrides: Partial<DeploymentSpec> = {}): Deployment {
  return deploymentFrom(testDeploymentSpec(overrides));
}

/** The deployment as the stack writes it into a function's environment. */
export function deploymentEnv(overrides: Partial<DeploymentSpec> = {}): Record<string, string> {
  const spec = testDeploymentSpec(overrides);
  return { REMEDY_ACCOUNT_ID: spec.accountId, REMEDY_REGION: spec.region, REMEDY_RULES: JSON.stringify(spec.rules) };
}

export const RUNNING: PauseReading = {
  paused: false,
  by: "terraform",
  reason: "created with the stack",
  at: T0.toISOString(),
};

type DeployedDeps = Pick<
  RemediationDeps,
  "deployment" | "queueUrl" | "readPause" | "maxDispatchAgeMs" | "undoExemptions"
> & {
  /** The account's facts (the S3 remediation reads them): none configured unless a test says otherwise. */
  accountFacts: AccountFactsReader;
};

/** What every remediation needs from its deployment: identity, queue, pause switch (running), dispatch age. */
export function deployedDeps(overrides: Partial<DeployedDeps> = {}): DeployedDeps {
  return {
    deployment: testDeployment(),
    queueUrl: QUEUE_URL,
    readPause: async () => RUNNING,
    maxDispatchAgeMs: 150_000,
    accountFacts: async () => ({ s3PublicAccessBlock: null }),
    // No undo exemptions unless a test says otherwise.
    undoExemptions: async () => undefined,
    ...overrides,
  };
}

export function instructionFor(
  problem: Problem,
  matched: MatchedEntry[],
  options: { resourceId?: string; parameters?: Record<string, unknown> } = {},
): Instruction {
  const isSg = problem === "sg-open-ingress";
  return testInstruction({
    problem,
    matched,
    resourceId: options.resourceId ?? (isSg ? GROUP_ID : BUCKET),
    accountId: ACCOUNT,
    region: REGION,
    withArn: !isSg,
    configRuleName: isSg ? SG_CONFIG_RULE : S3_CONFIG_RULE,
    // As the rule Lambda writes them: the deployed parameters, parsed.
    parameters:
      options.parameters ?? (isSg ? { authorizedPorts: "tcp:80,tcp:443", ipv4MinPrefix: 8, ipv6MinPrefix: 16 } : {}),
    capturedAt: "2026-11-20T10:00:00.000Z",
    detectedAt: "2026-11-20T10:00:05.000Z",
  });
}

export function requestFor(instruction: Instruction, overrides: Partial<RemediationRequest> = {}): RemediationRequest {
  return {
    queueUrl: QUEUE_URL,
    receiptHandle: "receipt-handle-1",
    messageId: "message-1",
    instruction,
    attempt: 1,
    maxAttempts: 3,
    dispatchedAt: "2026-11-20T10:28:00.000Z",
    ...overrides,
  };
}

/** A memory ledger whose writes can fail by outcome, and that logs each write to `events`. */
export function testLedger(events: string[] = [], failOn: LedgerRecord["outcome"][] = []) {
  const inner = memoryLedger();
  const ledger: Ledger & { writes: LedgerRecord[]; records: Map<string, LedgerRecord> } = {
    writes: inner.writes,
    records: inner.records,
    async write(record) {
      events.push(`ledger:${record.outcome}`);
      if (failOn.includes(record.outcome)) throw awsError("InternalError", 500, "ledger bucket unavailable");
      await inner.write(record);
    },
    read: (id) => inner.read(id),
    listRecent: (limit) => inner.listRecent(limit),
    claim: (key) => inner.claim(key),
  };
  return ledger;
}

// ---------------------------------------------------------------------------------------------------------------
// A security group with open, authorized, group-referencing and prefix-list rules.

export const SG_RULES: SecurityGroupRule[] = [
  {
    SecurityGroupRuleId: "sgr-0ssh4",
    GroupId: GROUP_ID,
    GroupOwnerId: ACCOUNT,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    CidrIpv4: "0.0.0.0/0",
    Description: "ssh from anywhere (temporary)",
  },
  {
    SecurityGroupRuleId: "sgr-0ssh6",
    GroupId: GROUP_ID,
    GroupOwnerId: ACCOUNT,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    CidrIpv6: "::/0",
    Description: "ssh v6",
    Tags: [{ Key: "ticket", Value: "OPS-1" }],
  },
  {
    SecurityGroupRuleId: "sgr-0office",
    GroupId: GROUP_ID,
    GroupOwnerId: ACCOUNT,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    CidrIpv4: "203.0.113.0/24",
    Description: "office",
  },
  {
    SecurityGroupRuleId: "sgr-0web",
    GroupId: GROUP_ID,
    GroupOwnerId: ACCOUNT,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 443,
    ToPort: 443,
    CidrIpv4: "0.0.0.0/0",
  },
  {
    SecurityGroupRuleId: "sgr-0peer",
    GroupId: GROUP_ID,
    GroupOwnerId: ACCOUNT,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    ReferencedGroupInfo: { GroupId: "sg-0bastion000000000", UserId: ACCOUNT },
  },
  {
    SecurityGroupRuleId: "sgr-0plist",
    GroupId: GROUP_ID,
    GroupOwnerId: ACCOUNT,
    IsEgress: false,
    IpProtocol: "tcp",
    FromPort: 22,
    ToPort: 22,
    PrefixListId: "pl-0123456789abcdef0",
  },
  {
    SecurityGroupRuleId: "sgr-0egress",
    GroupId: GROUP_ID,
    GroupOwnerId: ACCOUNT,
    IsEgress: true,
    IpProtocol: "-1",
    FromPort: -1,
    ToPort: -1,
    CidrIpv4: "0.0.0.0/0",
  },
];

export const SSH_V4: MatchedEntry = {
  kind: "sg-rule",
  rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv4: "0.0.0.0/0" },
};
export const SSH_V6: MatchedEntry = {
  kind: "sg-rule",
  rule: { direction: "ingress", ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv6: "::/0" },
};

// ---------------------------------------------------------------------------------------------------------------
// A bucket with public ACL grants and a public policy statement among others.

export const OWNER = { ID: "owner-canonical-id-0123456789abcdef", DisplayName: "acme-prod" };
export const ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers";
export const AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
export const LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery";

export const GRANTS = [
  {
    Grantee: { Type: "CanonicalUser" as const, ID: OWNER.ID, DisplayName: OWNER.DisplayName },
    Permission: "FULL_CONTROL" as const,
  },
  { Grantee: { Type: "Group" as const, URI: ALL_USERS }, Permission: "READ" as const },
  { Grantee: { Type: "Group" as const, URI: LOG_DELIVERY }, Permission: "WRITE" as const },
  { Grantee: { Type: "Group" as const, URI: AUTHENTICATED_USERS }, Permission: "READ_ACP" as const },
  { Grantee: { Type: "CanonicalUser" as const, ID: "partner-canonical-id" }, Permission: "READ" as const },
];

export const DENY_INSECURE = {
  Sid: "DenyInsecureTransport",
  Effect: "Deny",
  Principal: "*",
  Action: "s3:*",
  Resource: ["arn:aws:s3:::acme-data", "arn:aws:s3:::acme-data/*"],
  Condition: { Bool: { "aws:SecureTransport": "false" } },
};
export const PUBLIC_READ = {
  Sid: "PublicRead",
  Effect: "Allow",
  Principal: "*",
  Action: "s3:GetObject",
  Resource: "arn:aws:s3:::acme-data/*",
};
export const PARTNER_READ = {
  Sid: "PartnerRead",
  Effect: "Allow",
  Principal: { AWS: "arn:aws:iam::111122223333:root" },
  Action: "s3:GetObject",
  Resource: "arn:aws:s3:::acme-data/*",
};
/** As written by a person: indentation and key order kept in the ledger's before-state. */
export const POLICY_TEXT = JSON.stringify(
  { Version: "2012-10-17", Id: "acme-data-policy", Statement: [DENY_INSECURE, PUBLIC_READ, PARTNER_READ] },
  null,
  2,
);

export const PUBLIC_READ_GRANT: MatchedEntry = {
  kind: "acl-grant",
  grant: { grantee: { type: "Group", uri: ALL_USERS }, permission: "READ" },
};
export const AUTHENTICATED_GRANT: MatchedEntry = {
  kind: "acl-grant",
  grant: { grantee: { type: "Group", uri: AUTHENTICATED_USERS }, permission: "READ_ACP" },
};
export const PUBLIC_STATEMENT: MatchedEntry = { kind: "policy-statement", statement: PUBLIC_READ };

// ---------------------------------------------------------------------------------------------------------------
// The ledger MAC key: a local signer with a test secret, and KMS answers computed with the same secret, so a record
// the remediation run signs locally verifies through a mocked KMS exactly as a KMS-signed one would.

export const TEST_MAC_KEY_ID = "arn:aws:kms:us-east-1:123456789012:key/0c0ffee0-0000-4000-8000-00000000a11c";
export const TEST_MAC_SECRET = "remedy-test-ledger-mac-secret";

/** Signs and verifies like the stack's KMS HMAC key, with the test secret. */
export function testSigner(secret: string = TEST_MAC_SECRET, keyId: string = TEST_MAC_KEY_ID) {
  return localRecordSigner(secret, keyId);
}

/** `record` signed as a remediation would sign it (any previous integrity replaced). */
export async function signRecord(record: LedgerRecord, signer = testSigner()): Promise<LedgerRecord> {
  const { integrity: _previous, ...unsigned } = record;
  return { ...unsigned, integrity: await signer.sign(unsigned) };
}

function testMac(message: Uint8Array | undefined): Buffer {
  return createHmac("sha256", TEST_MAC_SECRET)
    .update(message ?? new Uint8Array())
    .digest();
}

/** What KMS GenerateMac answers for the test key (for aws-sdk-client-mock's callsFake). */
export function fakeGenerateMac(input: { KeyId?: string; Message?: Uint8Array; MacAlgorithm?: string }) {
  return { KeyId: TEST_MAC_KEY_ID, MacAlgorithm: input.MacAlgorithm, Mac: new Uint8Array(testMac(input.Message)) };
}

/** What KMS VerifyMac answers for the test key: MacValid only for the test secret's MAC of the message. */
export function fakeVerifyMac(input: {
  KeyId?: string;
  Message?: Uint8Array;
  Mac?: Uint8Array;
  MacAlgorithm?: string;
}) {
  const expected = testMac(input.Message);
  const given = Buffer.from(input.Mac ?? new Uint8Array());
  const valid =
    input.KeyId === TEST_MAC_KEY_ID &&
    input.MacAlgorithm === "HMAC_SHA_256" &&
    given.length === expected.length &&
    timingSafeEqual(given, expected);
  return { KeyId: TEST_MAC_KEY_ID, MacAlgorithm: input.MacAlgorithm, MacValid: valid };
}
