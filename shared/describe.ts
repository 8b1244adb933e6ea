// Human words for matched entries and the actions Remedy takes on them; one wording everywhere
// (plan, peek, logs), so what an operator reviews is what later happens.
import type { AclGrant, MatchedEntry, Problem, SgRuleEntry } from "../rules/types.ts";

export type S3FixStrategy = "surgical" | "block-public-access";

const GROUP_NAMES: Record<string, string> = {
  "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
  "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
  "http://acs.amazonaws.com/groups/s3/LogDelivery": "LogDelivery",
};

export function describeSgRule(rule: SgRuleEntry): string {
  const source = rule.cidrIpv4 ?? rule.cidrIpv6 ?? "?";
  const protocol = rule.ipProtocol === "-1" ? "all traffic" : rule.ipProtocol;
  const ports =
    rule.ipProtocol === "-1"
      ? ""
      : rule.ipProtocol === "tcp" || rule.ipProtocol === "udp"
        ? rule.fromPort === rule.toPort
          ? ` ${rule.fromPort}`
          : ` ${rule.fromPort}-${rule.toPort}`
        : rule.ipProtocol.startsWith("icmp")
          ? ` type ${rule.fromPort}${rule.toPort >= 0 ? ` code ${rule.toPort}` : ""}`.replace("type -1", "all types")
          : "";
  return `${protocol}${ports} from ${source}${rule.securityGroupRuleId ? ` (${rule.securityGroupRuleId})` : ""}`;
}

export function describeGrant(grant: AclGrant): string {
  const grantee = grant.grantee;
  const who =
    grantee.type === "Group"
      ? (GROUP_NAMES[grantee.uri] ?? grantee.uri)
      : grantee.type === "CanonicalUser"
        ? `canonical user ${grantee.displayName ?? grantee.id.slice(0, 12)}`
        : grantee.emailAddress;
  return `${who} ${grant.permission}`;
}

export function describeStatement(statement: Record<string, unknown>): string {
  const sid = typeof statement.Sid === "string" && statement.Sid ? `Sid ${statement.Sid}` : "unnamed statement";
  const actions = ([] as unknown[]).concat(statement.Action ?? statement.NotAction ?? []).join(",");
  return `${sid} (${statement.Effect} ${actions || "?"})`;
}

export function describeMatched(entry: MatchedEntry): string {
  switch (entry.kind) {
    case "sg-rule":
      return describeSgRule(entry.rule);
    case "acl-grant":
      return describeGrant(entry.grant);
    case "policy-statement":
      return describeStatement(entry.statement);
  }
}

/**
 * The Block Public Access flags that neutralise each S3 problem (and keep it from coming back): what the
 * block-public-access strategy turns on, keeping every other flag as it is.
 */
export const BLOCK_FLAGS_FOR_PROBLEM: Readonly<
  Partial<
    Record<Problem, readonly ("BlockPublicAcls" | "IgnorePublicAcls" | "BlockPublicPolicy" | "RestrictPublicBuckets")[]>
  >
> = {
  "s3-public-acl": ["IgnorePublicAcls", "BlockPublicAcls"],
  "s3-public-policy": ["RestrictPublicBuckets", "BlockPublicPolicy"],
};

/** What the remediation for `problem` will do to one matched entry. */
export function describeAction(problem: Problem, entry: MatchedEntry, s3Strategy: S3FixStrategy): string {
  const flags = BLOCK_FLAGS_FOR_PROBLEM[problem];
  if (flags && s3Strategy === "block-public-access") {
    return `turn on Block Public Access ${flags.join(" + ")}`;
  }
  switch (entry.kind) {
    case "sg-rule":
      return `revoke ingress ${describeSgRule(entry.rule)}`;
    case "acl-grant":
      return `remove ACL grant ${describeGrant(entry.grant)}`;
    case "policy-statement":
      return `remove policy statement ${describeStatement(entry.statement)}`;
  }
}
