// The member roles a hub function assumes in an organisation's accounts (organisation mode), and how: 15-minute
// sessions named after the Remedy action (RoleSessionName and SourceIdentity), so the member account's CloudTrail
// names the action behind every change. The roles themselves are deployed by the StackSet (infra/).
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { Problem } from "../problems/index.ts";
import { classifyAwsError, describeAwsError, hasErrorCode } from "./aws-errors.ts";
import type { TemporaryCredentials } from "./clients.ts";
import { PermanentError } from "./errors.ts";

/** Every member role lives under this path; the hub roles may assume only roles under it. */
export const MEMBER_ROLE_PATH = "/remedy/";
export type MemberRole = { kind: "detect" } | { kind: "fix"; problem: Problem } | { kind: "undo" };

export function memberRoleName(role: MemberRole): string {
  return role.kind === "fix" ? `remedy-member-fix-${role.problem}` : `remedy-member-${role.kind}`;
}

export function memberRoleArn(partition: string, accountId: string, role: MemberRole): string {
  return `arn:${partition}:iam::${accountId}:role${MEMBER_ROLE_PATH}${memberRoleName(role)}`;
}

/** Sessions last the shortest STS allows: a leaked set of credentials is useless within 15 minutes. */
export const MEMBER_SESSION_SECONDS = 900;

/** STS: a RoleSessionName / SourceIdentity is 2–64 characters of [\w+=,.@-]. */
export function sessionNameFor(text: string): string {
  const cleaned = text.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `remedy-${cleaned}`;
}

export interface MemberSession {
  partition: string;
  accountId: string;
  role: MemberRole;
  /** The Remedy action (or detection) behind the session: its RoleSessionName and SourceIdentity. */
  sessionName: string;
  externalId?: string;
}

/** Assumes a member role for one action. Throws what STS throws (AccessDenied: permanent, throttling: transient). */
export async function assumeMemberRole(
  sts: Pick<STSClient, "send">,
  session: MemberSession,
  abortSignal?: AbortSignal,
): Promise<TemporaryCredentials> {
  const name = sessionNameFor(session.sessionName);
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: memberRoleArn(session.partition, session.accountId, session.role),
      RoleSessionName: name,
      SourceIdentity: name,
      DurationSeconds: MEMBER_SESSION_SECONDS,
      ...(session.externalId ? { ExternalId: session.externalId } : {}),
    }),
    abortSignal ? { abortSignal } : {},
  );
  if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.SessionToken) {
    throw new Error(`AssumeRole of ${memberRoleName(session.role)} in ${session.accountId} returned no credentials`);
  }
  return {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretAccessKey,
    sessionToken: Credentials.SessionToken,
    ...(Credentials.Expiration ? { expiration: Credentials.Expiration } : {}),
  };
}

export const MEMBER_ROLE_PERMISSIONS = { AssumeRoleCommand: "sts:AssumeRole" } as const;

/** STS refused a member role (missing, not trusting this hub function, STS off there): retrying cannot help. */
export class MemberRoleRefusedError extends PermanentError {
  override name = "MemberRoleRefusedError";
}

/** How a hub function words a refused member role, and as which error (permanent: retrying cannot help). */
export interface MemberRoleRefusal {
  /** "the member detect role": what is missing or not trusting. */
  role?: string;
  /** "the hub", "this hub rule function": whom the role must trust. */
  trusted?: string;
  /** What follows the reason: "; nothing was reported or queued for the account". */
  afterwards?: string;
  error?: (message: string, cause: unknown) => Error;
}

/**
 * Assumes `role` in the account for one session, with the settings' ExternalId. STS refusals → a permanent error
 * (MemberRoleRefusedError, or the caller's) naming the role and what to check; throttling and outages are thrown as
 * they came (transient by their codes).
 */
export async function assumeMemberRoleOf(
  sts: Pick<STSClient, "send">,
  deployment: { partition: string; organization?: { externalId?: string | undefined } | undefined },
  accountId: string,
  role: MemberRole,
  sessionName: string,
  refusal: MemberRoleRefusal = {},
): Promise<TemporaryCredentials> {
  const arn = memberRoleArn(deployment.partition, accountId, role);
  const externalId = deployment.organization?.externalId;
  const refused = refusal.error ?? ((message, cause) => new MemberRoleRefusedError(message, { cause }));
  const afterwards = refusal.afterwards ?? "";
  try {
    return await assumeMemberRole(sts, {
      partition: deployment.partition,
      accountId,
      role,
      sessionName,
      ...(externalId ? { externalId } : {}),
    });
  } catch (error) {
    // STS says AccessDenied both for a role that does not exist and for one whose trust policy leaves the hub out.
    if (hasErrorCode(error, "AccessDenied", "AccessDeniedException")) {
      throw refused(
        `cannot assume ${arn}: ${refusal.role ?? "the member role"} is missing in account ${accountId} or does not trust ${refusal.trusted ?? "this hub function"} (${describeAwsError(error)})${afterwards}`,
        error,
      );
    }
    if (classifyAwsError(error) === "transient") throw error;
    throw refused(`cannot assume ${arn}: ${describeAwsError(error)}`, error);
  }
}

/** Whether a role ARN (a CloudTrail session issuer) is one of the member roles Remedy acts with: fix or undo. */
export function isMemberActionRole(roleArn: string): boolean {
  const match = /^arn:[\w-]+:iam::\d{12}:role(\/.*\/|\/)([\w+=,.@-]+)$/.exec(roleArn);
  if (!match || match[1] !== MEMBER_ROLE_PATH) return false;
  const name = match[2]!;
  return name === memberRoleName({ kind: "undo" }) || name.startsWith("remedy-member-fix-");
}

/** Credentials are renewed this long before they expire, so no call starts with credentials about to lapse. */
export const RENEW_BEFORE_EXPIRY_MS = 60_000;

/** What a hub function keeps per member account for a session: at least its credentials (being assumed). */
export interface HeldSession {
  credentials: Promise<TemporaryCredentials>;
}

/**
 * One session per member account for a warm container (a burst in one account assumes its role once), kept until a
 * minute before its credentials expire; a refused or failed assume is not kept, so the next event asks STS again.
 */
export function memberSessionCache<S extends HeldSession>(now: () => Date) {
  const sessions = new Map<string, { session: S; renewAt?: number }>();
  return {
    /** The account's session, or the one `open` starts (its assume begun, not awaited). */
    get(accountId: string, open: () => S): S {
      const cached = sessions.get(accountId);
      if (cached && (cached.renewAt === undefined || now().getTime() < cached.renewAt)) return cached.session;
      const assumedAt = now().getTime();
      const held: { session: S; renewAt?: number } = { session: open() };
      sessions.set(accountId, held);
      held.session.credentials.then(
        (ready) => {
          const expiresAt = ready.expiration?.getTime() ?? assumedAt + MEMBER_SESSION_SECONDS * 1000;
          held.renewAt = expiresAt - RENEW_BEFORE_EXPIRY_MS;
        },
        () => {
          if (sessions.get(accountId) === held) sessions.delete(accountId);
        },
      );
      return held.session;
    },
  };
}
