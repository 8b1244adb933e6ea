// Rule "S3 buckets open to the public". One bucket state, built either from a Config item (detection) or from
// the live S3 API (the remediation function's re-check), and one judgement over it, so both say the same thing.
import { canonicalJson } from "../../contract/canonical-json.ts";
import { DEFAULT_OPEN_THRESHOLDS, isOpenCidrUnion, type OpenThresholds, parseCidr } from "../../detection/cidr.ts";
import { decodeJsonString, InvalidConfigItemError } from "../../detection/config-item.ts";
import {
  type AccountFacts,
  type AclGrant,
  BLOCK_PUBLIC_ACCESS_FLAGS,
  type ConfigItem,
  type Finding,
  type PolicyStatement,
  type PublicAccessBlockFlags,
  type RemedyRule,
  RuleParameterError,
  type Verdict,
} from "../../detection/types.ts";
import { aclGrantIdentity } from "../s3-public-acl/contract.ts";

export const S3_PUBLIC_RULE_ID = "s3-public";

/** The rule has no parameters today; the type exists so instructions carry a (empty) parameter record. */
export type S3PublicParams = Record<string, never>;

/** Bucket-level Block Public Access, in the S3 API's shape (GetPublicAccessBlock). */
export type PublicAccessBlock = PublicAccessBlockFlags;

/** A bucket policy with `Statement` always an array (a single-object Statement is valid policy). */
export interface BucketPolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
  [key: string]: unknown;
}

/** Everything the judgement needs about one bucket, whichever door it came through. */
export interface BucketState {
  bucket: string;
  /** Canonical id of the ACL's owner. */
  ownerId?: string;
  /** BucketOwnershipControls says BucketOwnerEnforced: ACLs are disabled and grant nothing. */
  aclsDisabled: boolean;
  grants: AclGrant[];
  policy: BucketPolicyDocument | null;
  publicAccessBlock: PublicAccessBlock | null;
  /**
   * The account's Block Public Access, which neutralises exactly as the bucket's does. null: none configured;
   * undefined: not known, so only the bucket's flags count (an unknown never makes a bucket COMPLIANT).
   */
  accountPublicAccessBlock?: PublicAccessBlock | null;
}

/** One grant as the S3 API speaks it (GetBucketAcl / PutBucketAcl). */
export interface ApiGrant {
  Grantee?: { Type?: string; URI?: string; ID?: string; DisplayName?: string; EmailAddress?: string };
  Permission?: string;
}

export const GROUP_URIS = {
  AllUsers: "http://acs.amazonaws.com/groups/global/AllUsers",
  AuthenticatedUsers: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
  LogDelivery: "http://acs.amazonaws.com/groups/s3/LogDelivery",
} as const;

const PUBLIC_GROUP_URIS: ReadonlySet<string> = new Set([GROUP_URIS.AllUsers, GROUP_URIS.AuthenticatedUsers]);

// Config spells permissions in PascalCase ("FullControl"), the API in upper snake case ("FULL_CONTROL").
const PERMISSIONS: Record<string, string> = {
  fullcontrol: "FULL_CONTROL",
  read: "READ",
  write: "WRITE",
  readacp: "READ_ACP",
  writeacp: "WRITE_ACP",
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Each permission spelling's API name (undefined: unknown), worked out once per spelling. Bounded: cleared when full. */
const permissionBySpelling = new Map<string, string | undefined>();

function normalizePermission(value: unknown, where: string): string {
  if (typeof value !== "string" || value === "") throw new InvalidConfigItemError(`${where} has no permission`);
  let known = permissionBySpelling.get(value);
  if (known === undefined && !permissionBySpelling.has(value)) {
    known = PERMISSIONS[value.replace(/_/g, "").toLowerCase()];
    if (permissionBySpelling.size >= 1_000) permissionBySpelling.clear();
    permissionBySpelling.set(value, known);
  }
  if (!known) throw new InvalidConfigItemError(`${where} has unknown permission "${value}"`);
  return known;
}

function groupUri(value: string): string | undefined {
  if (value in GROUP_URIS) return GROUP_URIS[value as keyof typeof GROUP_URIS];
  const https = value.replace(/^https:/, "http:");
  return Object.values(GROUP_URIS).includes(https as never) ? https : undefined;
}

/** Config's grantee forms: a group name string ("AllUsers"), a group URI, `{id, displayName}`,
 * `{identifier, typeIdentifier}` (older items), `{uri}` or `{emailAddress}`. */
function granteeFromConfig(raw: unknown, where: string): AclGrant["grantee"] {
  if (typeof raw === "string") {
    const uri = groupUri(raw);
    if (uri) return { type: "Group", uri };
    throw new InvalidConfigItemError(`${where} has unknown grantee "${raw}"`);
  }
  if (!isRecord(raw)) throw new InvalidConfigItemError(`${where} has no grantee`);
  const typeIdentifier = typeof raw.typeIdentifier === "string" ? raw.typeIdentifier.toLowerCase() : undefined;
  const identifier = typeof raw.identifier === "string" ? raw.identifier : undefined;
  if (identifier && typeIdentifier) {
    if (typeIdentifier === "id") return { type: "CanonicalUser", id: identifier };
    if (typeIdentifier === "emailaddress") return { type: "AmazonCustomerByEmail", emailAddress: identifier };
    if (typeIdentifier === "uri") {
      const uri = groupUri(identifier);
      if (uri) return { type: "Group", uri };
    }
    throw new InvalidConfigItemError(`${where} has unknown grantee ${typeIdentifier} "${identifier}"`);
  }
  const uri = raw.uri ?? raw.URI;
  if (typeof uri === "string") {
    const known = groupUri(uri);
    if (known) return { type: "Group", uri: known };
    throw new InvalidConfigItemError(`${where} has unknown group grantee "${uri}"`);
  }
  if (typeof raw.id === "string" && raw.id) {
    // Literals, not a spread: displayName only when there is one.
    return typeof raw.displayName === "string" && raw.displayName
      ? { type: "CanonicalUser", id: raw.id, displayName: raw.displayName }
      : { type: "CanonicalUser", id: raw.id };
  }
  if (typeof raw.emailAddress === "string" && raw.emailAddress) {
    return { type: "AmazonCustomerByEmail", emailAddress: raw.emailAddress };
  }
  throw new InvalidConfigItemError(`${where} has a grantee of unknown shape`);
}

const GRANT_FIELDS = ["grantList", "grantSet"] as const;

function grantWhere(field: string, index: number): string {
  return `AccessControlList.${field}[${index}]`;
}

/**
 * One grant of Config's ACL. The grantee forms a bucket nearly always has (the owner by id, a group by name) are read
 * here without naming where they are, which only an error needs; every other form goes through granteeFromConfig.
 */
function grantFromConfig(entry: Record<string, unknown>, field: string, index: number): AclGrant {
  const raw = entry.grantee;
  let grantee: AclGrant["grantee"] | undefined;
  if (typeof raw === "string") {
    const uri = groupUri(raw);
    if (uri) grantee = { type: "Group", uri };
  } else if (
    isRecord(raw) &&
    raw.typeIdentifier === undefined &&
    raw.identifier === undefined &&
    raw.uri === undefined &&
    raw.URI === undefined &&
    typeof raw.id === "string" &&
    raw.id
  ) {
    grantee =
      typeof raw.displayName === "string" && raw.displayName
        ? { type: "CanonicalUser", id: raw.id, displayName: raw.displayName }
        : { type: "CanonicalUser", id: raw.id };
  }
  grantee ??= granteeFromConfig(raw, grantWhere(field, index));
  const permission = entry.permission;
  const known = typeof permission === "string" ? permissionBySpelling.get(permission) : undefined;
  return {
    grantee,
    permission: known ?? normalizePermission(permission, grantWhere(field, index)),
  };
}

/** Reads Config's AccessControlList (already decoded from its JSON string): owner and grants, in API terms. */
export function aclFromConfig(raw: unknown): { ownerId?: string; grants: AclGrant[] } {
  if (raw === undefined || raw === null) return { grants: [] };
  if (!isRecord(raw)) throw new InvalidConfigItemError("supplementaryConfiguration.AccessControlList is not an object");
  const grants: AclGrant[] = [];
  for (const field of GRANT_FIELDS) {
    const list = raw[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new InvalidConfigItemError(`AccessControlList.${field} is not an array`);
    // forEach's order and holes (skipped), without a closure per call.
    for (let index = 0; index < list.length; index++) {
      if (!(index in list)) continue;
      const entry: unknown = list[index];
      if (!isRecord(entry)) throw new InvalidConfigItemError(`${grantWhere(field, index)} is not an object`);
      grants.push(grantFromConfig(entry, field, index));
    }
  }
  const owner = raw.owner;
  const ownerId = isRecord(owner) && typeof owner.id === "string" && owner.id ? owner.id : undefined;
  const unique = uniqueGrants(grants);
  return ownerId ? { ownerId, grants: unique } : { grants: unique };
}

/** GetBucketAcl's Grants → AclGrant. Throws for a grant S3 would never return (so nothing is judged on a guess). */
export function aclGrantsFromApi(grants: readonly ApiGrant[]): AclGrant[] {
  return uniqueGrants(
    grants.map((grant, index) => {
      const where = `Grants[${index}]`;
      const grantee = grant.Grantee;
      const permission = normalizePermission(grant.Permission, where);
      switch (grantee?.Type) {
        case "Group": {
          const uri = grantee.URI ? groupUri(grantee.URI) : undefined;
          if (!uri) throw new InvalidConfigItemError(`${where} has unknown group "${grantee.URI}"`);
          return { grantee: { type: "Group", uri }, permission };
        }
        case "CanonicalUser":
          if (!grantee.ID) throw new InvalidConfigItemError(`${where} has a canonical user without ID`);
          return {
            grantee: {
              type: "CanonicalUser",
              id: grantee.ID,
              ...(grantee.DisplayName ? { displayName: grantee.DisplayName } : {}),
            },
            permission,
          };
        case "AmazonCustomerByEmail":
          if (!grantee.EmailAddress) throw new InvalidConfigItemError(`${where} has an email grantee without address`);
          return { grantee: { type: "AmazonCustomerByEmail", emailAddress: grantee.EmailAddress }, permission };
        default:
          throw new InvalidConfigItemError(`${where} has grantee type "${grantee?.Type}"`);
      }
    }),
  );
}

export type AclPermission = "FULL_CONTROL" | "READ" | "WRITE" | "READ_ACP" | "WRITE_ACP";

/** A grant exactly as PutBucketAcl takes it (literal types, so it is assignable to the SDK's Grant). */
export type WritableApiGrant = {
  Permission: AclPermission;
  Grantee:
    | { Type: "Group"; URI: string }
    | { Type: "CanonicalUser"; ID: string; DisplayName?: string }
    | { Type: "AmazonCustomerByEmail"; EmailAddress: string };
};

/** AclGrant → the S3 API's Grant, for PutBucketAcl. */
export function aclGrantToApi(grant: AclGrant): WritableApiGrant {
  // Permissions of an AclGrant were normalised to these names when it was read.
  const Permission = grant.permission as AclPermission;
  const grantee = grant.grantee;
  switch (grantee.type) {
    case "Group":
      return { Grantee: { Type: "Group", URI: grantee.uri }, Permission };
    case "CanonicalUser":
      return {
        Grantee: {
          Type: "CanonicalUser",
          ID: grantee.id,
          ...(grantee.displayName ? { DisplayName: grantee.displayName } : {}),
        },
        Permission,
      };
    case "AmazonCustomerByEmail":
      return { Grantee: { Type: "AmazonCustomerByEmail", EmailAddress: grantee.emailAddress }, Permission };
  }
}

/** What makes a grant the same grant (the one definition is the ACL problem's contract, s3-public-acl/contract.ts). */
export { aclGrantIdentity };

export function aclGrantKey(grant: AclGrant): string {
  const { grantee, permission } = aclGrantIdentity(grant);
  return `${grantee}:${permission}`;
}

function uniqueGrants(grants: AclGrant[]): AclGrant[] {
  // Nothing to repeat (the caller's own fresh array, as filter's copy would be).
  if (grants.length <= 1) return grants;
  const seen = new Set<string>();
  const unique: AclGrant[] = [];
  for (const grant of grants) {
    const key = aclGrantKey(grant);
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(grant);
  }
  return unique;
}

export function isPublicGrant(grant: AclGrant): boolean {
  return grant.grantee.type === "Group" && PUBLIC_GROUP_URIS.has(grant.grantee.uri);
}

// ---------------------------------------------------------------------------------------------------------------
// Policies

/** Parses a bucket policy's text; null/empty means "no policy". Statement is normalised to an array. */
export function parsePolicyDocument(
  text: string | null | undefined,
  where = "bucket policy",
): BucketPolicyDocument | null {
  if (text === null || text === undefined || text.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidConfigItemError(`${where} is not valid JSON: ${(error as Error).message}`);
  }
  return policyDocument(value, where);
}

function policyDocument(value: unknown, where: string): BucketPolicyDocument {
  if (!isRecord(value)) throw new InvalidConfigItemError(`${where} is not a JSON object`);
  const statement = value.Statement;
  const statements = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  for (let index = 0; index < statements.length; index++) {
    // forEach skips holes.
    if (index in statements && !isRecord(statements[index])) {
      throw new InvalidConfigItemError(`${where} Statement[${index}] is not an object`);
    }
  }
  return { ...value, Statement: statements as PolicyStatement[] };
}

function values(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** Principal "*", {"AWS": "*"}, or any principal list containing "*". */
function principalIsEveryone(principal: unknown): boolean {
  if (principal === "*") return true;
  if (Array.isArray(principal)) return principal.some(principalIsEveryone);
  if (isRecord(principal)) return Object.values(principal).some((value) => values(value).includes("*"));
  return false;
}

// AWS's meaning of "public" (S3 User Guide, "The meaning of 'public'"): a policy is public unless it grants access
// only to fixed values — values without a wildcard or a policy variable — of a principal or of one of these keys.
// Principal keys (aws:PrincipalOrgID, ...) restrict who calls; the source keys restrict where the call comes from.
// Keys about the resource or the request's path (aws:ResourceAccount, s3:ResourceAccount, aws:ResourceOrgID,
// aws:CalledVia, aws:SecureTransport, aws:RequestedRegion, ...) say nothing about the caller and never confine.
// IAM condition keys are case-insensitive.
export const CONFINING_CONDITION_KEYS: readonly string[] = [
  "aws:PrincipalArn",
  "aws:PrincipalAccount",
  "aws:PrincipalOrgID",
  "aws:PrincipalOrgPaths",
  "aws:userid",
  "aws:SourceArn",
  "aws:SourceAccount",
  "aws:SourceOwner",
  "aws:SourceOrgID",
  "aws:SourceOrgPaths",
  "aws:SourceVpc",
  "aws:SourceVpce",
  "s3:DataAccessPointArn",
  "s3:DataAccessPointAccount",
  "s3:x-amz-server-side-encryption-aws-kms-key-id",
];
const RESTRICTING_KEYS: ReadonlySet<string> = new Set(CONFINING_CONDITION_KEYS.map((key) => key.toLowerCase()));

// Operators whose match confines access to the listed values. Negated operators and ...IfExists do not
// (a request without the key passes), nor does the Null operator.
const CONFINING_OPERATORS: ReadonlySet<string> = new Set(
  ["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"].map((op) => op.toLowerCase()),
);

/**
 * A list of aws:SourceIp CIDRs confines unless, taken together, it is open by the security-group rule's width test
 * (detection/cidr.ts) with S3's own limits: S3 counts a source range broader than /8 (IPv4) or /32 (IPv6), other than
 * private ranges, as public ("The meaning of public", S3 Block Public Access), so its union must contain none.
 */
export const SOURCE_IP_OPEN_THRESHOLDS: OpenThresholds = { ...DEFAULT_OPEN_THRESHOLDS, ipv6MinPrefix: 32 };

/**
 * A fixed value names exactly one thing: a non-empty string with no wildcard (`*` or `?` anywhere, whatever the
 * operator) and no policy variable (`${aws:username}`, and the `${*}` escapes too).
 */
export function isFixedConditionValue(value: unknown): boolean {
  return typeof value === "string" && value !== "" && !/[*?]/.test(value) && !value.includes("${");
}

/** aws:SourceIp values (CIDRs or bare addresses) that together stay within known networks. */
function sourceIpsConfine(listed: readonly unknown[]): boolean {
  if (!listed.every((cidr): cidr is string => typeof cidr === "string")) return false;
  try {
    return !isOpenCidrUnion(
      listed.map((cidr) => parseCidr(cidr)),
      SOURCE_IP_OPEN_THRESHOLDS,
    );
  } catch {
    // A wildcard ("203.0.113.*"), a variable or a typo is not a set of CIDRs: it confines nothing.
    return false;
  }
}

function confiningClause(operator: string, key: string, value: unknown): boolean {
  const lowerOperator = operator.toLowerCase();
  // ForAllValues passes when the request has no value for the key at all.
  if (lowerOperator.startsWith("forallvalues:")) return false;
  const op = lowerOperator.replace(/^foranyvalue:/, "");
  const listed = values(value);
  if (listed.length === 0) return false;
  const lowerKey = key.toLowerCase();
  if (lowerKey === "aws:sourceip") return op === "ipaddress" && sourceIpsConfine(listed);
  // Every listed value must be fixed: one pattern among them lets anyone matching it in.
  return CONFINING_OPERATORS.has(op) && RESTRICTING_KEYS.has(lowerKey) && listed.every(isFixedConditionValue);
}

/** Whether a statement's Condition confines it to known callers or networks. */
function conditionConfines(condition: unknown): boolean {
  if (!isRecord(condition)) return false;
  // Object.entries' keys and values, without its [key, value] pairs (policies are plain parsed JSON).
  const operators = Object.keys(condition);
  for (let at = 0; at < operators.length; at++) {
    const operator = operators[at]!;
    const clauses = condition[operator];
    if (!isRecord(clauses)) continue;
    const keys = Object.keys(clauses);
    for (let index = 0; index < keys.length; index++) {
      if (confiningClause(operator, keys[index]!, clauses[keys[index]!])) return true;
    }
  }
  return false;
}

/**
 * Allow statements for everyone ("*" principal, or NotPrincipal, which allows everyone but the listed) are
 * public unless a condition confines them. Deny statements never are.
 */
export function isPublicStatement(statement: PolicyStatement): boolean {
  const effect = statement.Effect;
  // The two spellings policies use, without lowering a copy of either; anything else is compared case-insensitively.
  if (effect === "Deny") return false;
  if (effect !== "Allow" && String(effect ?? "").toLowerCase() !== "allow") return false;
  const everyone = "NotPrincipal" in statement || principalIsEveryone(statement.Principal);
  return everyone && !conditionConfines(statement.Condition);
}

// ---------------------------------------------------------------------------------------------------------------
// Bucket state from a Config item

/** Config's camelCase name of each flag, or the API's PascalCase one (the flag's own name). */
const FLAG_NAMES: readonly [keyof PublicAccessBlock, string][] = BLOCK_PUBLIC_ACCESS_FLAGS.map((name) => [
  name,
  name[0]!.toLowerCase() + name.slice(1),
]);

function publicAccessBlockFromConfig(raw: unknown): PublicAccessBlock | null {
  if (!isRecord(raw)) return null;
  const block: PublicAccessBlock = {};
  for (const [name, camel] of FLAG_NAMES) {
    const value = raw[camel] ?? raw[name];
    if (typeof value === "boolean") block[name] = value;
  }
  return block;
}

/** BucketOwnershipControls: `{bucketName, ownershipControls: {rules: [{objectOwnership}]}}` (or `rules` at the top). */
function aclsDisabledFromConfig(raw: unknown): boolean {
  if (!isRecord(raw)) return false;
  const controls = isRecord(raw.ownershipControls) ? raw.ownershipControls : raw;
  const rules = values(controls.rules ?? controls.Rules);
  for (let index = 0; index < rules.length; index++) {
    // some() skips holes.
    if (!(index in rules)) continue;
    const rule = rules[index];
    if (isRecord(rule) && (rule.objectOwnership ?? rule.ObjectOwnership) === "BucketOwnerEnforced") return true;
  }
  return false;
}

/** The bucket as its Config item says, with the account's Block Public Access when the runtime could read it. */
export function s3StateFromConfigItem(item: ConfigItem, facts?: AccountFacts): BucketState {
  const supplementary = item.supplementaryConfiguration;
  const configurationName = item.configuration?.name;
  const bucket = typeof configurationName === "string" && configurationName ? configurationName : item.resourceId;
  const { ownerId, grants } = aclFromConfig(supplementary.AccessControlList);

  let policy: BucketPolicyDocument | null = null;
  const bucketPolicy = supplementary.BucketPolicy;
  if (bucketPolicy !== undefined && bucketPolicy !== null) {
    if (!isRecord(bucketPolicy))
      throw new InvalidConfigItemError("supplementaryConfiguration.BucketPolicy is not an object");
    // policyText is JSON in a string (null or empty without a policy), like parsePolicyDocument's input.
    const text = bucketPolicy.policyText;
    const decoded =
      typeof text === "string" && text.trim() === "" ? null : decodeJsonString(text ?? null, "BucketPolicy.policyText");
    policy = decoded === null ? null : policyDocument(decoded, "BucketPolicy.policyText");
  }

  // Assigned in the key order the spreads it replaced gave (ownerId, accountPublicAccessBlock only when known).
  const state = { bucket } as BucketState;
  if (ownerId) state.ownerId = ownerId;
  state.aclsDisabled = aclsDisabledFromConfig(supplementary.BucketOwnershipControls);
  state.grants = grants;
  state.policy = policy;
  state.publicAccessBlock = publicAccessBlockFromConfig(supplementary.PublicAccessBlockConfiguration);
  if (facts?.s3PublicAccessBlock !== undefined) state.accountPublicAccessBlock = facts.s3PublicAccessBlock;
  return state;
}

// ---------------------------------------------------------------------------------------------------------------
// Judgement

const GROUP_WORDS: Record<string, string> = {
  [GROUP_URIS.AllUsers]: "AllUsers (anyone on the internet)",
  [GROUP_URIS.AuthenticatedUsers]: "AuthenticatedUsers (any AWS account)",
};

function statementName(statement: PolicyStatement, index: number): string {
  return typeof statement.Sid === "string" && statement.Sid ? `Sid ${statement.Sid}` : `statement #${index + 1}`;
}

/**
 * Identity of a statement: its content, key order aside (its canonical JSON). A matched entry's key
 * (contract/instruction.ts matchedEntryKey) is built from the same.
 */
export function policyStatementKey(statement: PolicyStatement): string {
  return canonicalJson(statement);
}

/**
 * Which Block Public Access turns `flag` on for the bucket, in words ("the bucket's Block Public Access
 * (IgnorePublicAcls)"), or undefined when neither the bucket's nor the account's does. An account level that is not
 * known (undefined) counts as off.
 */
function neutralisedBy(state: BucketState, flag: "IgnorePublicAcls" | "RestrictPublicBuckets"): string | undefined {
  const bucket = state.publicAccessBlock?.[flag] === true;
  const account = state.accountPublicAccessBlock?.[flag] === true;
  if (!bucket && !account) return undefined;
  const levels = bucket && account ? "the bucket's and the account's" : bucket ? "the bucket's" : "the account's";
  return `${levels} Block Public Access (${flag})`;
}

export function judgeS3(state: BucketState): Verdict {
  const findings: Finding[] = [];
  const neutralised: string[] = [];

  const publicGrants = state.aclsDisabled ? [] : state.grants.filter(isPublicGrant);
  const aclsIgnoredBy = neutralisedBy(state, "IgnorePublicAcls");
  if (publicGrants.length > 0 && aclsIgnoredBy) {
    neutralised.push(`${publicGrants.length} public ACL grant(s) neutralised by ${aclsIgnoredBy}`);
  } else {
    for (const grant of publicGrants) {
      const group = grant.grantee.type === "Group" ? grant.grantee.uri : "";
      findings.push({
        problem: "s3-public-acl",
        matched: { kind: "acl-grant", grant },
        reason: `ACL grants ${grant.permission} to ${GROUP_WORDS[group] ?? group}`,
      });
    }
  }

  // Made at the first public statement (most policies have none).
  let seenStatements: Set<string> | undefined;
  const publicStatements: { statement: PolicyStatement; index: number }[] = [];
  const statements = state.policy?.Statement ?? [];
  for (let index = 0; index < statements.length; index++) {
    // forEach skips holes.
    if (!(index in statements)) continue;
    const statement = statements[index]!;
    if (!isPublicStatement(statement)) continue;
    const key = policyStatementKey(statement);
    seenStatements ??= new Set();
    if (seenStatements.has(key)) continue;
    seenStatements.add(key);
    publicStatements.push({ statement, index });
  }
  const policyRestrictedBy = neutralisedBy(state, "RestrictPublicBuckets");
  if (publicStatements.length > 0 && policyRestrictedBy) {
    neutralised.push(`${publicStatements.length} public policy statement(s) neutralised by ${policyRestrictedBy}`);
  } else {
    for (const { statement, index } of publicStatements) {
      const who = "NotPrincipal" in statement ? "everyone but its NotPrincipal" : "everyone (Principal *)";
      findings.push({
        problem: "s3-public-policy",
        matched: { kind: "policy-statement", statement },
        reason: `policy ${statementName(statement, index)} allows ${who} without a confining condition`,
      });
    }
  }

  if (findings.length === 0) {
    // neutralised is this call's own: the note goes on the end of it, not of a copy.
    const notes = neutralised;
    if (state.aclsDisabled) notes.push("ACLs disabled (BucketOwnerEnforced)");
    return {
      compliance: "COMPLIANT",
      annotation: notes.length > 0 ? `not public: ${notes.join("; ")}` : "no public ACL grant or policy statement",
      findings: [],
    };
  }
  const parts = findings.map((finding) => finding.reason);
  return {
    compliance: "NON_COMPLIANT",
    annotation: [`public: ${parts.join("; ")}`, ...neutralised].join(" | "),
    findings,
  };
}

export function parseS3PublicParameters(raw: Record<string, unknown>): S3PublicParams {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new RuleParameterError("ruleParameters", "must be an object of parameter names to values");
  }
  const [unknown] = Object.keys(raw);
  if (unknown !== undefined) throw new RuleParameterError(unknown, "unknown parameter (this rule takes none)");
  return {};
}

export const s3PublicRule: RemedyRule<S3PublicParams> = {
  id: S3_PUBLIC_RULE_ID,
  problems: ["s3-public-acl", "s3-public-policy"],
  resourceTypes: ["AWS::S3::Bucket"],
  facts: ["s3PublicAccessBlock"],
  parseParameters: parseS3PublicParameters,
  evaluate: (item, _params, facts) => judgeS3(s3StateFromConfigItem(item, facts)),
};

/** This folder's rule (detection/rules.ts loads it by the rule id). */
export const rule = s3PublicRule;
