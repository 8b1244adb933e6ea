// The fix's safety condition: which of the account's buckets are intentionally public. The account-level setting
// applies to every bucket of the account in every region, so every bucket ListBuckets lists (all regions) is read
// and judged by the S3 rule's own judgement (problems/s3-public/observe.ts) with the account's flags left out — what
// the bucket would expose on its own — and each public one is checked for an exemption exactly as the S3 path checks
// it (its live `remedy:exempt` tag, the deployed allowlist, per problem found) and, when it has none, for an undo's
// temporary exemption of one of its public entries (`remedy undo` made it public again: the runner's reader, one
// GetObject per such bucket). A bucket or an exemption that cannot be read is never guessed about: the survey fails,
// and the fix with it.
import { ListBucketsCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { matchedEntryKey } from "../../contract/instruction.ts";
import {
  type ActiveUndoExemption,
  activeUndoExemption,
  type UndoExemptionRecord,
  type UndoExemptionResource,
} from "../../contract/undo-exemption.ts";
import { type AllowlistEntry, type Exemption, findExemption } from "../../detection/exemptions.ts";
import type { AccountFacts, Problem } from "../../detection/types.ts";
import { describeAwsError, hasErrorCode, TransientRemediationError } from "../../platform/aws-errors.ts";
import type { Log } from "../../platform/logging.ts";
import { bucketObserver } from "../s3-public/observe.ts";
import { bucket as bucketResource } from "../s3-public/resource.ts";
import { listText } from "../words.ts";

/**
 * S3 that follows a bucket to its own region (followRegionRedirects): the listing holds every region's buckets and
 * the fix's client is in one. Asked for by class, so the platform still makes it (platform/clients.ts).
 */
export class AnyRegionS3Client extends S3Client {
  constructor(config: S3ClientConfig = {}) {
    super({ ...config, followRegionRedirects: true });
  }
}

/** Buckets read at once: each takes five calls, and S3's per-prefix limits are far above this. */
export const BUCKET_READS_IN_FLIGHT = 8;
const PAGE_SIZE = 1_000;

export interface PublicBucket {
  bucket: string;
  /** ListBuckets' BucketRegion (else the fix's region). */
  region: string;
  /** The S3 problems it has on its own. */
  problems: Problem[];
  /** The exemption of one of those problems: it is public on purpose. */
  exemption?: Exemption & { problem: Problem };
  /** Without an exemption: the active undo exemption of one of its public entries (an undo made it public again). */
  undone?: ActiveUndoExemption;
}

export interface BucketSurvey {
  /** Buckets the account has (every one was read). */
  buckets: number;
  /** The public ones, in listing order. */
  public: PublicBucket[];
}

export interface SurveyDeps {
  s3: S3Client;
  allowlist: readonly AllowlistEntry[];
  partition: string;
  now: () => Date;
  /** Undo's temporary exemption of a bucket (FixContext undoExemptions): undefined when none; throws when unreadable. */
  undoExemptions: (resource: UndoExemptionResource) => Promise<UndoExemptionRecord | undefined>;
}

/** The account-level flags are what is being decided: the rule sees the bucket as if there were none. */
const withoutAccountFlags = async (): Promise<AccountFacts> => ({});

async function listBuckets(s3: S3Client, fallbackRegion: string): Promise<{ name: string; region: string }[]> {
  const buckets: { name: string; region: string }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListBucketsCommand({ MaxBuckets: PAGE_SIZE, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const entry of page.Buckets ?? []) {
      if (entry.Name) buckets.push({ name: entry.Name, region: entry.BucketRegion || fallbackRegion });
    }
    token = page.ContinuationToken || undefined;
  } while (token);
  return buckets;
}

/**
 * Every bucket of `accountId`, judged and checked for exemptions. Throws TransientRemediationError naming the
 * buckets it could not read or judge (a bucket deleted meanwhile is simply not there).
 */
export async function surveyBuckets(
  deps: SurveyDeps,
  account: { accountId: string; region: string },
  log: Log,
): Promise<BucketSurvey> {
  const { accountId } = account;
  const listed = await listBuckets(deps.s3, account.region);
  const observer = bucketObserver({ s3: deps.s3, accountFacts: withoutAccountFlags });
  const found: (PublicBucket | undefined)[] = new Array(listed.length);
  const unreadable: string[] = [];
  const now = deps.now();
  let next = 0;
  const worker = async () => {
    while (next < listed.length) {
      const index = next++;
      const { name, region } = listed[index]!;
      const resource = { type: bucketResource.type, id: name, accountId, region };
      try {
        const live = await observer.readLive(resource, log);
        // Gone since the listing: it exposes nothing.
        if (!live) continue;
        const findings = observer.verdict(live, {}).findings;
        const problems = [...new Set(findings.map((finding) => finding.problem))];
        if (problems.length === 0) continue;
        const arn = bucketResource.arn({ partition: deps.partition, region, accountId }, name);
        const exempt = problems
          .map((problem) => ({
            problem,
            ...findExemption({ resourceId: name, arn, tags: live.tags, problem }, deps.allowlist, now),
          }))
          .find((check) => check.exemption);
        if (exempt?.exemption) {
          found[index] = {
            bucket: name,
            region,
            problems,
            exemption: { ...exempt.exemption, problem: exempt.problem },
          };
          continue;
        }
        let record: UndoExemptionRecord | undefined;
        try {
          record = await deps.undoExemptions(resource);
        } catch (error) {
          unreadable.push(`the undo exemption of ${name} (${describeAwsError(error)})`);
          continue;
        }
        // Only the exact entries the undo put back, on this bucket, until it ends (the runner's matching).
        const undone = findings
          .map((finding) => activeUndoExemption(record, finding.problem, matchedEntryKey(finding.matched), now))
          .find((active) => active !== undefined);
        found[index] = { bucket: name, region, problems, ...(undone ? { undone } : {}) };
      } catch (error) {
        if (hasErrorCode(error, "NoSuchBucket")) continue;
        unreadable.push(`${name} (${describeAwsError(error)})`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BUCKET_READS_IN_FLIGHT, listed.length) }, worker));
  if (unreadable.length > 0) {
    const shown = unreadable.slice(0, 5);
    const more = unreadable.length - shown.length;
    throw new TransientRemediationError(
      `the account's Block Public Access is not turned on while a bucket's access is unknown: ${listText([...shown, ...(more > 0 ? [`${more} more`] : [])])} could not be read`,
    );
  }
  return { buckets: listed.length, public: found.filter((entry) => entry !== undefined) };
}
