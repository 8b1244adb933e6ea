// Organisation mode: acting in a member account. The runner asks the organisation who the account is, then assumes
// the account's `remedy-member-fix-<problem>` role for this one action (15 minutes, named after the action id, so the
// member account's CloudTrail names the Remedy action behind every call) and makes the problem's fix with clients in
// that account and the instruction's region. Fixes are made per run here (the credentials are the run's); in
// single-account mode they are made once at cold start (handler.ts).
import type { STSClient } from "@aws-sdk/client-sts";
import type { Instruction } from "../../contract/instruction.ts";
import { PermanentRemediationError } from "../../platform/aws-errors.ts";
import { memberClient, type TemporaryCredentials } from "../../platform/clients.ts";
import type { Deployment } from "../../platform/deployment.ts";
import { assumeMemberRoleOf, type MemberRole } from "../../platform/member-roles.ts";
import type { OrganizationDirectory } from "../../platform/organization.ts";
import type { FixContext, FixModule, ProblemFix } from "../../problems/fix.ts";
import type { Problem } from "../../problems/index.ts";

/** What organisation mode adds to a remediation's dependencies. */
export interface OrganizationDeps {
  /** Who the organisation says an account is (ListAccounts / ListParents, cached). */
  directory: OrganizationDirectory;
  /** STS with the hub function's own credentials: assumes the member fix roles. */
  sts: Pick<STSClient, "send">;
}

/** Where one run acts: the instruction's account and region, with the member role's credentials. */
export interface MemberTarget {
  accountId: string;
  region: string;
  credentials: TemporaryCredentials;
}

/** A function's fixes in organisation mode: made for each run in the account the run acts in. */
export interface MemberFixes {
  problems: readonly Problem[];
  create(problem: Problem, target: MemberTarget): ProblemFix;
}

/** The fixes a function runs: made once (single-account mode), or per run in a member account (organisation mode). */
export type RemediationFixes = readonly ProblemFix[] | MemberFixes;

export function isMemberFixes(fixes: RemediationFixes): fixes is MemberFixes {
  return !Array.isArray(fixes);
}

export function fixedProblems(fixes: RemediationFixes): readonly Problem[] {
  return isMemberFixes(fixes) ? fixes.problems : (fixes as readonly ProblemFix[]).map((fix) => fix.problem);
}

/**
 * The modules' fixes made per run: each run's fix asks for its clients by class and gets one per class, in the
 * target account and region with the assumed credentials (never the hub's shared clients).
 */
export function memberFixes(
  modules: readonly FixModule[],
  context: Omit<FixContext, "client">,
  clientIn: typeof memberClient = memberClient,
): MemberFixes {
  return {
    problems: modules.map((module) => module.problem),
    create(problem, target) {
      const module = modules.find((candidate) => candidate.problem === problem);
      if (!module) throw new Error(`no fix module for ${problem}`);
      const clients = new Map<unknown, unknown>();
      const client = <C>(Client: new (config: object) => C): C => {
        if (!clients.has(Client)) clients.set(Client, clientIn(Client, target));
        return clients.get(Client) as C;
      };
      return module.create({ ...context, client });
    },
  };
}

/** The member fix role could not be assumed and retrying will not help: missing, not trusting the hub, STS off. */
export class MemberRoleError extends PermanentRemediationError {
  override name = "MemberRoleError";
}

/**
 * Assumes the instruction's problem's fix role in the instruction's account for one action. Throws MemberRoleError
 * (permanent) when STS refuses; throttling and outages are thrown as they came (transient by their codes).
 */
export async function assumeFixRole(
  sts: Pick<STSClient, "send">,
  deployment: Pick<Deployment, "partition" | "organization">,
  instruction: Pick<Instruction, "problem" | "resource">,
  actionId: string,
): Promise<TemporaryCredentials> {
  const role: MemberRole = { kind: "fix", problem: instruction.problem };
  return assumeMemberRoleOf(sts, deployment, instruction.resource.accountId, role, actionId, {
    trusted: "the hub",
    error: (message, cause) => new MemberRoleError(message, { cause }),
  });
}
