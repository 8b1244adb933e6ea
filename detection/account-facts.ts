// Facts about an account that rules judge with but Config items do not carry: today the account-level S3 Block
// Public Access, which neutralises public ACLs and policies exactly as a bucket's own flags do. Read with S3
// Control, cached briefly per account (a periodic run judges thousands of buckets of one account), and never fatal:
// a failure to read degrades to "not known" (bucket-level flags only) with a warning, never to a crash or to a
// COMPLIANT that was not established.
// Aliased: S3's bucket-level call has the same class name, and permissions are declared by command name.
import {
  GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand,
  type S3ControlClient,
} from "@aws-sdk/client-s3-control";
import { describeAwsError, hasErrorCode } from "../platform/aws-errors.ts";
import type { Log } from "../platform/logging.ts";
import { type AccountFacts, BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "./types.ts";

/** How long a reading is reused: a change to the account's flags is seen within this, and by the next periodic run. */
export const ACCOUNT_FACTS_TTL_MS = 5 * 60_000;

/** The account's Block Public Access flags; null when none is configured. Other errors are thrown. */
export async function readAccountPublicAccessBlock(
  s3control: S3ControlClient,
  accountId: string,
): Promise<PublicAccessBlockFlags | null> {
  try {
    const output = await s3control.send(new GetAccountPublicAccessBlockCommand({ AccountId: accountId }));
    const flags: PublicAccessBlockFlags = {};
    for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) {
      const value = output.PublicAccessBlockConfiguration?.[flag];
      if (value !== undefined) flags[flag] = value;
    }
    return flags;
  } catch (error) {
    if (hasErrorCode(error, "NoSuchPublicAccessBlockConfiguration")) return null;
    throw error;
  }
}

export type AccountFactsReader = (accountId: string, wanted: readonly (keyof AccountFacts)[]) => Promise<AccountFacts>;

/**
 * Reads the wanted facts, each at most once per account per ttl. A fact that cannot be read is left out (unknown)
 * and logged as a warning; it is not cached, so the next invocation tries again.
 */
export function accountFactsReader(deps: {
  s3control: () => S3ControlClient;
  now: () => Date;
  log: Log;
  ttlMs?: number;
}): AccountFactsReader {
  const ttl = deps.ttlMs ?? ACCOUNT_FACTS_TTL_MS;
  const cache = new Map<string, { at: number; block: PublicAccessBlockFlags | null }>();
  return async (accountId, wanted) => {
    const facts: AccountFacts = {};
    if (!wanted.includes("s3PublicAccessBlock")) return facts;
    const now = deps.now().getTime();
    const cached = cache.get(accountId);
    if (cached && now - cached.at < ttl) {
      facts.s3PublicAccessBlock = cached.block;
      return facts;
    }
    try {
      const block = await readAccountPublicAccessBlock(deps.s3control(), accountId);
      cache.set(accountId, { at: now, block });
      facts.s3PublicAccessBlock = block;
    } catch (error) {
      deps.log.warn("account-level Block Public Access unreadable: judging with the bucket-level flags only", {
        accountId,
        error: describeAwsError(error),
      });
    }
    return facts;
  };
}
