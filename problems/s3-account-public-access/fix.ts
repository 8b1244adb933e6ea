// Fixing the account's Block Public Access: re-read the four flags (observe.ts) and, when one is off, every bucket of
// the account (survey.ts); turn on exactly the instructed flags that are still off, every other flag kept as it is
// (PutPublicAccessBlock with the before-flags plus those, AccountId the instruction's account, which the runner has
// checked is one Remedy acts in), then read them back to confirm. Never while a bucket is public on purpose: an exempt public
// bucket, or one an undo made public again (its undo exemption still running), is named instead, and nothing changes.
import {
  PutPublicAccessBlockCommand as PutAccountPublicAccessBlockCommand,
  type S3ControlClient,
} from "@aws-sdk/client-s3-control";
import type { ActiveUndoExemption } from "../../contract/undo-exemption.ts";
import { type AllowlistEntry, describeExemption, type Exemption, parseAllowlist } from "../../detection/exemptions.ts";
import { BLOCK_PUBLIC_ACCESS_FLAGS, type PublicAccessBlockFlags } from "../../detection/types.ts";
import { describeAwsError, PermanentRemediationError, TransientRemediationError } from "../../platform/aws-errors.ts";
import { S3ControlAtEndpoint } from "../../platform/clients.ts";
import { optionalEnv } from "../../platform/env.ts";
import type { FixContext, FixModule, ProblemFix } from "../fix.ts";
import { plural } from "../words.ts";
import type { AccountBlockState } from "./contract.ts";
import { flagsOff } from "./detect.ts";
import { accountBlockObserver, readAccountBlockState, readAccountLive } from "./observe.ts";
import { s3AccountPublicAccess } from "./spec.ts";
import { AnyRegionS3Client, type BucketSurvey, type SurveyDeps, surveyBuckets } from "./survey.ts";
import { describeAccountFlags } from "./words.ts";

/** The live account as read: its flags (the ledger's state) and, when a flag is off, the survey of its buckets. */
export interface JudgedAccount {
  state: AccountBlockState;
  survey?: BucketSurvey;
}

export interface S3AccountFixDeps extends SurveyDeps {
  s3control: S3ControlClient;
  /**
   * The whole allowlist as it is at each fix (the deployed entries, then those granted in Slack): a bucket exempted a
   * minute ago holds the account's fix back. Absent: `allowlist` alone.
   */
  currentAllowlist?: () => Promise<readonly AllowlistEntry[]>;
}

/** `current` with `turnOn` on and every other flag as it was (absent = off), all four written out. */
function flagsWith(
  current: PublicAccessBlockFlags | null,
  turnOn: readonly string[],
): Required<PublicAccessBlockFlags> {
  const next = {} as Required<PublicAccessBlockFlags>;
  for (const flag of BLOCK_PUBLIC_ACCESS_FLAGS) next[flag] = turnOn.includes(flag) || current?.[flag] === true;
  return next;
}

const SHOWN_BUCKETS = 5;

/** A public bucket that is so on purpose: exempt, or left public by an undo whose exemption is still running. */
type IntentionallyPublic = { bucket: string } & (
  | { exemption: Exemption; undone?: never }
  | { undone: ActiveUndoExemption; exemption?: never }
);

const cut = (text: string) => (text.length > 100 ? `${text.slice(0, 99)}…` : text);

/**
 * "acme-site (exempt by allowlist (owner web@acme) until 2027-06-30: static site behind Cloud…)", or
 * "acme-site (left public by an undo until 2026-11-21T10:28:19.000Z: undone by arn:aws:sts::… (act-…))".
 */
function namedBucket(entry: IntentionallyPublic): string {
  if (entry.exemption) return `${entry.bucket} (${cut(describeExemption(entry.exemption))})`;
  const { until, by, undoActionId } = entry.undone;
  return `${entry.bucket} (left public by an undo until ${until}: ${cut(`undone by ${by} (${undoActionId})`)})`;
}

/** Why the flags are not turned on: the buckets public on purpose they would close, each named (the first few in full). */
function intentionallyPublic(accountId: string, buckets: readonly IntentionallyPublic[]): string {
  const shown = buckets.slice(0, SHOWN_BUCKETS).map(namedBucket);
  const more = buckets.length - shown.length;
  const them = buckets.length === 1 ? "it" : "them";
  const those = buckets.length === 1 ? "that bucket is" : "those buckets are";
  const exempt = buckets.some((entry) => entry.exemption);
  const undone = buckets.some((entry) => entry.undone);
  const why = exempt && undone ? "exempt, or left public by an undo" : exempt ? "exempt" : "left public by an undo";
  return `not turned on: ${plural(buckets.length, "bucket")} of account ${accountId} ${buckets.length === 1 ? "is" : "are"} public on purpose (${why}), and account-level Block Public Access would close ${them}: ${shown.join("; ")}${more > 0 ? `; and ${more} more` : ""}. Turn the account's flags on once ${those} no longer meant to be public.`;
}

export function s3AccountPublicAccessFix(deps: S3AccountFixDeps): ProblemFix<JudgedAccount> {
  // The one reading and judging of the account's flags (observe.ts), shared with the real-time path.
  const observer = accountBlockObserver(deps);
  return {
    problem: s3AccountPublicAccess.id,

    async readLive(resource, log) {
      const live = await readAccountLive(deps.s3control, resource);
      const state = live.judged;
      // All on: nothing to fix, so no bucket needs reading.
      if (flagsOff(state.publicAccessBlock).length === 0) return { tags: live.tags, judged: { state } };
      let allowlist = deps.allowlist;
      if (deps.currentAllowlist) {
        try {
          allowlist = await deps.currentAllowlist();
        } catch (error) {
          // Unknown exemptions: nothing is turned on without knowing (the message stays for a retry).
          throw new TransientRemediationError(`could not read the allowlist: ${describeAwsError(error)}`, {
            cause: error,
          });
        }
      }
      const survey = await surveyBuckets(
        { ...deps, allowlist },
        { accountId: state.accountId, region: resource.region },
        log,
      );
      log.info("account's buckets surveyed", {
        buckets: survey.buckets,
        public: survey.public.length,
        exempt: survey.public.filter((entry) => entry.exemption).length,
        undone: survey.public.filter((entry) => entry.undone).length,
      });
      return { tags: live.tags, judged: { state, survey } };
    },

    judge: (live, parameters) => observer.verdict({ tags: live.tags, judged: live.judged.state }, parameters).findings,

    plan(targets, live, resource) {
      const before = live.judged.state;
      const { accountId } = before;
      const survey = live.judged.survey;
      // readLive surveys whenever a flag is off, and a target is a flag that is off.
      if (!survey) throw new PermanentRemediationError(`the buckets of account ${accountId} were not surveyed`);
      const onPurpose = survey.public.flatMap((entry): IntentionallyPublic[] =>
        entry.exemption
          ? [{ bucket: entry.bucket, exemption: entry.exemption }]
          : entry.undone
            ? [{ bucket: entry.bucket, undone: entry.undone }]
            : [],
      );
      if (onPurpose.length > 0) return { skipped: intentionallyPublic(accountId, onPurpose) };
      const turnOn = targets.flatMap((finding) =>
        finding.matched.kind === "s3-account-bpa-flag" ? [finding.matched.flag] : [],
      );
      const after = flagsWith(before.publicAccessBlock, turnOn);
      return {
        before,
        changes: [
          {
            kind: "account-public-access-block-enabled",
            accountId,
            before: before.publicAccessBlock,
            after: { ...after },
          },
        ],
        async apply() {
          await deps.s3control.send(
            new PutAccountPublicAccessBlockCommand({
              AccountId: accountId,
              PublicAccessBlockConfiguration: { ...after },
            }),
          );
          // Confirmed only when S3 Control reads back what was written; else the next attempt re-reads and decides.
          const read = await readAccountBlockState(deps.s3control, resource.accountId);
          const missing = BLOCK_PUBLIC_ACCESS_FLAGS.filter((flag) => read.publicAccessBlock?.[flag] !== after[flag]);
          if (missing.length > 0) {
            throw new TransientRemediationError(
              `account ${accountId}'s Block Public Access reads ${describeAccountFlags(read.publicAccessBlock)} after it was set to ${describeAccountFlags(after)}`,
            );
          }
          return read;
        },
      };
    },
  };
}

/**
 * The function's clients, the deployed allowlist (its bad entries, reported at cold start, exempt nothing) and the
 * runner's reader of undo exemptions (the ledger's, with the function's own credentials).
 */
export function s3AccountFixDeps(context: FixContext): S3AccountFixDeps {
  return {
    undoExemptions: context.undoExemptions,
    s3control: context.client(S3ControlAtEndpoint),
    s3: context.client(AnyRegionS3Client),
    allowlist: parseAllowlist(optionalEnv("REMEDY_ALLOWLIST", "[]", context.env)).entries,
    ...(context.allowlist ? { currentAllowlist: context.allowlist } : {}),
    partition: optionalEnv("REMEDY_PARTITION", "aws", context.env),
    now: context.now,
  };
}

export const fix: FixModule = {
  problem: s3AccountPublicAccess.id,
  create: (context) => s3AccountPublicAccessFix(s3AccountFixDeps(context)),
};
