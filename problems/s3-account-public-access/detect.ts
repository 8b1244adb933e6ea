// Rule "account-level S3 Block Public Access off": each of the account's four flags that is not on is one finding.
// One account state, built either from the Config item (AWS::S3::AccountPublicAccessBlock, whose resourceId is the
// account id) or from S3 Control's GetPublicAccessBlock (the fix's re-check and the real-time path), and one
// judgement over it. No configuration at all is every flag off: Config records that as the item's deletion, which this
// rule therefore judges (judgesDeleted).
import { InvalidConfigItemError, isDeleted } from "../../detection/config-item.ts";
import {
  BLOCK_PUBLIC_ACCESS_FLAGS,
  type ConfigItem,
  type Finding,
  type PublicAccessBlockFlags,
  type RemedyRule,
  type Verdict,
} from "../../detection/types.ts";
import { parseS3PublicParameters } from "../s3-public/detect.ts";

export const S3_ACCOUNT_PUBLIC_ACCESS_RULE_ID = "s3-account-public-access";
const PROBLEM = "s3-account-public-access";

/** The rule has no parameters: every flag must be on. */
export type S3AccountPublicAccessParams = Record<string, never>;

/** The account's Block Public Access as the rule judges it. */
export interface AccountBlock {
  accountId: string;
  /** The flags as configured; null: no configuration (S3 then blocks nothing at account level). */
  publicAccessBlock: PublicAccessBlockFlags | null;
}

/** Config's camelCase name of each flag. */
const CONFIG_NAMES = BLOCK_PUBLIC_ACCESS_FLAGS.map((flag) => [flag, flag[0]!.toLowerCase() + flag.slice(1)] as const);

/**
 * The account's flags as its Config item records them (`configuration.blockPublicAcls`, …; the API's PascalCase is
 * read too). A deleted item is no configuration. A flag Config left out is off, as S3 treats it; one that is not a
 * boolean makes the item unjudgeable rather than guessed.
 */
export function accountBlockFromConfigItem(item: ConfigItem): AccountBlock {
  if (item.resourceId !== item.accountId) {
    throw new InvalidConfigItemError(
      `an account's Block Public Access item names ${item.resourceId} as its resource, not its account ${item.accountId}`,
    );
  }
  if (isDeleted(item)) return { accountId: item.accountId, publicAccessBlock: null };
  const configuration = item.configuration;
  if (configuration === null || typeof configuration !== "object") {
    throw new InvalidConfigItemError("the account's Block Public Access item has no configuration");
  }
  const flags: PublicAccessBlockFlags = {};
  for (const [flag, camel] of CONFIG_NAMES) {
    const value = configuration[camel] ?? configuration[flag];
    if (value === undefined || value === null) continue;
    if (typeof value !== "boolean") throw new InvalidConfigItemError(`configuration.${camel} is not a boolean`);
    flags[flag] = value;
  }
  return { accountId: item.accountId, publicAccessBlock: flags };
}

/** The flags that are not on, in S3's order. */
export function flagsOff(block: PublicAccessBlockFlags | null): (typeof BLOCK_PUBLIC_ACCESS_FLAGS)[number][] {
  return BLOCK_PUBLIC_ACCESS_FLAGS.filter((flag) => block?.[flag] !== true);
}

const WHAT_IT_STOPS: Readonly<Record<(typeof BLOCK_PUBLIC_ACCESS_FLAGS)[number], string>> = {
  BlockPublicAcls: "new public ACLs are accepted",
  IgnorePublicAcls: "public ACLs grant access",
  BlockPublicPolicy: "new public bucket policies are accepted",
  RestrictPublicBuckets: "public bucket policies grant access",
};

export function judgeAccountBlock(state: AccountBlock): Verdict {
  const off = flagsOff(state.publicAccessBlock);
  if (off.length === 0) {
    return {
      compliance: "COMPLIANT",
      annotation: "all four account-level Block Public Access settings are on",
      findings: [],
    };
  }
  const none = state.publicAccessBlock === null;
  const findings: Finding[] = off.map((flag) => ({
    problem: PROBLEM,
    matched: { kind: "s3-account-bpa-flag", flag },
    reason: `account-level Block Public Access ${flag} is ${none ? "not configured" : "off"}: ${WHAT_IT_STOPS[flag]} in every bucket the bucket's own settings leave open`,
  }));
  return {
    compliance: "NON_COMPLIANT",
    annotation: none
      ? "no account-level Block Public Access configuration: all four settings are off"
      : `account-level Block Public Access off: ${off.join(", ")}`,
    findings,
  };
}

export const s3AccountPublicAccessRule: RemedyRule<S3AccountPublicAccessParams> = {
  id: S3_ACCOUNT_PUBLIC_ACCESS_RULE_ID,
  problems: [PROBLEM],
  resourceTypes: ["AWS::S3::AccountPublicAccessBlock"],
  judgesDeleted: true,
  // The same "takes none" as the bucket rule: an unknown parameter is an error, never ignored.
  parseParameters: parseS3PublicParameters,
  evaluate: (item) => judgeAccountBlock(accountBlockFromConfigItem(item)),
};

/** This folder's rule (detection/rules.ts loads it by the rule id). */
export const rule = s3AccountPublicAccessRule;
