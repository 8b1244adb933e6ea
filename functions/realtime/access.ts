// Where the real-time path reads and asks: the deployment's own account and region (single-account mode, the
// function's own credentials), or a member account of the organisation (its `remedy-member-detect` role, assumed
// once per account and kept until a minute before it expires). An event's account and region are claims: each is
// checked here before anything is read.
import {
  ConfigServiceClient,
  DescribeConfigRulesCommand,
  StartConfigRulesEvaluationCommand,
} from "@aws-sdk/client-config-service";
import type { STSClient } from "@aws-sdk/client-sts";
import type { Instruction } from "../../contract/instruction.ts";
import { memberClient, sharedClient, type TemporaryCredentials } from "../../platform/clients.ts";
import { type Deployment, isDeployedRuleName } from "../../platform/deployment.ts";
import type { Log } from "../../platform/logging.ts";
import { assumeMemberRoleOf, memberSessionCache } from "../../platform/member-roles.ts";
import { admittedBySettings, type OrganizationDirectory } from "../../platform/organization.ts";
import type { ResourceObserver } from "../../problems/observe.ts";
import { observeModuleFor } from "./observers.ts";

/** An account and region an event names. */
export interface Place {
  accountId: string;
  region: string;
}

/** What the real-time path may do in one account and region, once the place is accepted. */
export interface PlaceAccess {
  /** The live reader of a resource type there. */
  observer(resourceType: string): ResourceObserver | undefined;
  /** What the account's settings let be queued (organisation mode); absent: everything judged. */
  admit?: (instructions: Instruction[]) => Instruction[];
  /** Re-evaluates the deployment's Config rules of these rule ids there; resolves with the names started. */
  reevaluate(ruleIds: readonly string[]): Promise<string[]>;
}

export interface RealtimeAccess {
  /** The place's access, or why Remedy does not act there (nothing is read then). */
  open(place: Place): Promise<PlaceAccess | { refused: string }>;
}

/** A client of an SDK class, per class, for one set of credentials and one region. */
type ClientOf = <C>(Client: new (config: object) => C) => C;

function accessWith(
  client: ClientOf,
  log: Log,
  now: () => Date,
  ruleNames: (ruleIds: readonly string[]) => Promise<string[]>,
): Omit<PlaceAccess, "admit"> {
  const observers = new Map<string, ResourceObserver | undefined>();
  return {
    observer(resourceType) {
      if (!observers.has(resourceType)) {
        observers.set(resourceType, observeModuleFor(resourceType)?.create({ client, now, log }));
      }
      return observers.get(resourceType);
    },
    async reevaluate(ruleIds) {
      const names = await ruleNames(ruleIds);
      // StartConfigRulesEvaluation takes at most 25 names per call.
      for (let start = 0; start < names.length; start += 25) {
        await client(ConfigServiceClient).send(
          new StartConfigRulesEvaluationCommand({ ConfigRuleNames: names.slice(start, start + 25) }),
        );
      }
      return names;
    },
  };
}

/** The deployment's Config rule names of these rule ids. */
function deployedNames(deployment: Deployment, ruleIds: readonly string[]): string[] {
  return deployment.rules.filter((entry) => ruleIds.includes(entry.rule.id)).map((entry) => entry.configRuleName);
}

/** Single-account mode: only the deployment's own account and region, with the function's own clients. */
export function ownAccountAccess(deployment: Deployment, log: Log, now: () => Date): RealtimeAccess {
  const access = accessWith(
    (Client) => sharedClient(Client as never) as never,
    log,
    now,
    async (ids) => deployedNames(deployment, ids),
  );
  return {
    async open(place) {
      if (place.accountId !== deployment.accountId || place.region !== deployment.region) {
        return {
          refused: `${place.accountId}/${place.region} is not this deployment's account and region (${deployment.accountId}/${deployment.region})`,
        };
      }
      return access;
    },
  };
}

export interface OrganizationAccessOptions {
  deployment: Deployment;
  directory: OrganizationDirectory;
  sts: Pick<STSClient, "send">;
  log: Log;
  now: () => Date;
  /** Test seam: the client for a member place (default: platform/clients.ts memberClient). */
  clientIn?: typeof memberClient;
}

/** Organisation mode: any active, non-excluded member account in a region of the settings, through its detect role. */
export function organizationAccess(options: OrganizationAccessOptions): RealtimeAccess {
  const { deployment, directory, log, now } = options;
  const organization = deployment.organization;
  if (!organization) throw new Error("organizationAccess needs a deployment in organisation mode");
  const clientIn = options.clientIn ?? memberClient;
  const sessions = memberSessionCache(now);
  const accesses = new Map<string, { credentials: TemporaryCredentials; access: PlaceAccess }>();
  const credentialsOf = (accountId: string): Promise<TemporaryCredentials> =>
    sessions.get(accountId, () => ({
      credentials: assumeMemberRoleOf(options.sts, deployment, accountId, { kind: "detect" }, "realtime"),
    })).credentials;

  return {
    async open(place) {
      if (!organization.regions.includes(place.region)) {
        return {
          refused: `region ${place.region} is not one of the organisation settings' regions (${organization.regions.join(", ")})`,
        };
      }
      const standing = await directory.standing(place.accountId);
      if (!standing.member) return { refused: standing.reason };
      const credentials = await credentialsOf(place.accountId);
      // One access per place and session: a burst in one account reads with the same clients.
      const key = `${place.accountId}/${place.region}`;
      const cached = accesses.get(key);
      if (cached?.credentials === credentials) return cached.access;
      const clients = new Map<unknown, unknown>();
      const client: ClientOf = (Client) => {
        if (!clients.has(Client)) clients.set(Client, clientIn(Client, { region: place.region, credentials }));
        return clients.get(Client) as never;
      };
      // The member account's names of Remedy's organisation rules: OrgConfigRule-<name>-<suffix>.
      const ruleNames = async (ruleIds: readonly string[]) => {
        const wanted = deployment.rules.filter((entry) => ruleIds.includes(entry.rule.id));
        const names: string[] = [];
        let token: string | undefined;
        do {
          const page = await client(ConfigServiceClient).send(
            new DescribeConfigRulesCommand(token ? { NextToken: token } : {}),
          );
          for (const rule of page.ConfigRules ?? []) {
            const name = rule.ConfigRuleName;
            if (name && wanted.some((entry) => isDeployedRuleName(deployment, entry, name))) names.push(name);
          }
          token = page.NextToken || undefined;
        } while (token);
        return names;
      };
      const access = {
        ...accessWith(client, log, now, ruleNames),
        admit: admittedBySettings(standing, log),
      };
      accesses.set(key, { credentials, access });
      return access;
    },
  };
}
