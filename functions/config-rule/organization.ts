// Organisation mode of the rule function: detection in the organisation's member accounts. An organisation custom
// rule in a member account invokes the hub's rule function of that region with the member's event; everything Config
// is told or asked about the member's resources must be said with the member account's credentials (RDK's "assume
// role mode"). So, per event (and per periodic-scan task):
//   1. the event's account and region are claims: the account must be an active, non-excluded account of the
//      organisation (the directory, never the event, says so), the item in this function's region, that region one
//      of the settings'. Anything else is refused before anything is assumed, reported or queued;
//   2. the member's `remedy-member-detect` role is assumed (credentials kept per account until a minute before they
//      expire), and the Config and S3 Control clients for that account and region are made with them;
//      a periodic scan's tasks (every region's, on the hub's scan queue) run in the region each task names;
//   3. the existing judging runs (core.ts, scan.ts) with a deployment naming the member account and this region, so
//      every item, fact and instruction is checked against, and speaks for, that account; the account's settings
//      decide what is queued on the hub queue (off, or a problem not enabled: the verdict is still reported).
import { randomUUID } from "node:crypto";
import { ConfigServiceClient } from "@aws-sdk/client-config-service";
import { S3ControlClient } from "@aws-sdk/client-s3-control";
import type { STSClient } from "@aws-sdk/client-sts";
import { type AccountFactsReader, accountFactsReader } from "../../detection/account-facts.ts";
import { memberClient, type TemporaryCredentials } from "../../platform/clients.ts";
import { type Deployment, deployedRuleNamed } from "../../platform/deployment.ts";
import { PermanentError } from "../../platform/errors.ts";
import { errorFields, type Log } from "../../platform/logging.ts";
import { assumeMemberRoleOf, type MemberRole, memberSessionCache } from "../../platform/member-roles.ts";
import { type AccountStanding, admittedBySettings, type OrganizationDirectory } from "../../platform/organization.ts";

export { admittedBySettings } from "../../platform/organization.ts";

import { type RuleRunResult, type RuleRuntimeDeps, runConfigRule } from "./core.ts";
import { parseRuleEvent, type RuleEvent } from "./event.ts";
import { type InventoryAccess, inventoryAccess } from "./inventory-access.ts";
import { InvalidScanTaskError, runScanTask, type ScanDeps, type ScanTask, type ScanTaskResult } from "./scan.ts";

/** The event's account or region is not one Remedy serves: refused, nothing assumed, reported or queued. */
export class OutsideOrganizationError extends PermanentError {
  override name = "OutsideOrganizationError";
}

/** STS refused the member detect role (missing, or not trusting the hub): retrying the event cannot help. */
export class MemberDetectRoleError extends PermanentError {
  override name = "MemberDetectRoleError";
}

const DETECT_ROLE: MemberRole = { kind: "detect" };

export { RENEW_BEFORE_EXPIRY_MS } from "../../platform/member-roles.ts";

/** The clients that speak to a member account's Config and S3 Control, with its detect role's credentials. */
export interface MemberClients {
  configService: ConfigServiceClient;
  s3control: S3ControlClient;
  /**
   * A client of any other SDK class there (the listers of the types Config does not record ask for theirs by class).
   * Absent: platform/clients.ts memberClient's.
   */
  client?<C>(Client: new (config: object) => C): C;
}

export type MemberClientFactory = (target: {
  accountId: string;
  region: string;
  credentials: TemporaryCredentials;
}) => MemberClients;

/** platform/clients.ts memberClient's: the only place clients are made. */
const defaultMemberClients: MemberClientFactory = (target) => ({
  configService: memberClient(ConfigServiceClient, target),
  s3control: memberClient(S3ControlClient, target),
});

export interface MemberDetectionOptions {
  /** The hub's deployment: this function's region (REMEDY_REGION) and the organisation settings. */
  deployment: Deployment;
  /** Who the organisation says an account is (ListAccounts / ListParents, cached). */
  directory: OrganizationDirectory;
  /** STS with the hub function's own credentials: assumes the member detect roles. */
  sts: Pick<STSClient, "send">;
  now: () => Date;
  /** For the account facts' warnings (the per-invocation log is used for everything else). */
  log: Log;
  memberClients?: MemberClientFactory;
}

export interface MemberDetection {
  /** A Config rule invocation from a member account. `invocationId` names the detect sessions it opens. */
  runRule(event: unknown, deps: RuleRuntimeDeps, invocationId?: string): Promise<RuleRunResult>;
  /** A periodic scan's task, run in the member account and region it names. */
  runScanTask(task: ScanTask, deps: ScanDeps, invocationId?: string): Promise<ScanTaskResult>;
}

/** What a member account gives the judging in one region: its clients, its facts reader and its listers. */
interface MemberAccess {
  configService: ConfigServiceClient;
  accountFacts: AccountFactsReader;
  inventories: InventoryAccess;
}

/** One account's detect session: its credentials (assumed once for every region), and its clients by region. */
interface MemberSession {
  credentials: Promise<TemporaryCredentials>;
  regions: Map<string, MemberAccess>;
}

export function memberDetection(options: MemberDetectionOptions): MemberDetection {
  const { deployment, directory } = options;
  const organization = deployment.organization;
  if (!organization) throw new Error("memberDetection needs a deployment in organisation mode");
  const makeClients = options.memberClients ?? defaultMemberClients;
  // Warm containers keep one session per account: a burst of changes in one account assumes its role once.
  const sessions = memberSessionCache<MemberSession>(options.now);
  const memberDeployments = new Map<string, Deployment>();

  /** The hub's deployment, speaking for the member account and region: what judging checks every item against. */
  const deploymentOf = (accountId: string, region: string): Deployment => {
    const key = `${accountId}/${region}`;
    let member = memberDeployments.get(key);
    if (!member) {
      member = { ...deployment, accountId, region };
      memberDeployments.set(key, member);
    }
    return member;
  };

  const sessionOf = (accountId: string, invocationId: string): MemberSession =>
    sessions.get(accountId, () => ({
      credentials: assumeDetectRole(options.sts, deployment, accountId, invocationId),
      regions: new Map(),
    }));

  const accessTo = async (accountId: string, region: string, invocationId: string): Promise<MemberAccess> => {
    const session = sessionOf(accountId, invocationId);
    const credentials = await session.credentials;
    let access = session.regions.get(region);
    if (!access) {
      const clients = makeClients({ accountId, region, credentials });
      const made = new Map<unknown, unknown>();
      const client = <C>(Client: new (config: object) => C): C => {
        if (!made.has(Client))
          made.set(Client, clients.client?.(Client) ?? memberClient(Client, { region, credentials }));
        return made.get(Client) as C;
      };
      access = {
        configService: clients.configService,
        // The reader's own cache lives as long as these credentials: one S3 Control read per account per session.
        accountFacts: accountFactsReader({ s3control: () => clients.s3control, now: options.now, log: options.log }),
        // A periodic scan lists the types Config does not record in the member account, with its detect session.
        inventories: inventoryAccess({ client, now: options.now, log: options.log }),
      };
      session.regions.set(region, access);
    }
    return access;
  };

  /** The member deps for judging in `accountId`, with its settings deciding what is queued. */
  const memberDeps = <D extends RuleRuntimeDeps | ScanDeps>(
    deps: D,
    standing: Extract<AccountStanding, { member: true }>,
    region: string,
    access: MemberAccess,
  ): D => ({
    ...deps,
    configService: access.configService,
    accountFacts: access.accountFacts,
    inventories: access.inventories,
    deployment: deploymentOf(standing.accountId, region),
    admitInstructions: admittedBySettings(standing, deps.log),
  });

  return {
    async runRule(event, deps, invocationId = randomUUID()) {
      let parsed: RuleEvent;
      try {
        parsed = parseRuleEvent(event);
      } catch {
        // Unusable as an event at all: the core refuses it as in single-account mode, before any AWS call.
        return runConfigRule(event, deps);
      }
      // A rule this stack did not deploy: refused by the core's exact-name check, before any AWS call.
      if (!deployedRuleNamed(deployment, parsed.configRuleName)) return runConfigRule(event, deps);

      const claimed = eventPlace(parsed);
      const misplaced = placeProblem(deployment, claimed);
      if (misplaced) return refuse(deps, parsed, claimed.accountId, new OutsideOrganizationError(misplaced));
      const accountId = claimed.accountId as string;
      const standing = await directory.standing(accountId);
      if (!standing.member) return refuse(deps, parsed, accountId, new OutsideOrganizationError(standing.reason));

      let access: MemberAccess;
      try {
        access = await accessTo(accountId, deployment.region, invocationId);
      } catch (error) {
        if (!(error instanceof MemberDetectRoleError)) throw error;
        return refuse(deps, parsed, accountId, error);
      }
      // Judged as this region's: Config of the member account in this region invoked this function.
      return runConfigRule(event, memberDeps(deps, standing, deployment.region, access));
    },

    async runScanTask(task, deps, invocationId = randomUUID()) {
      if (task.accountId === undefined || task.region === undefined) {
        throw new InvalidScanTaskError(
          "scan task names no account and region: in organisation mode every task names the member account and region it scans",
        );
      }
      // The scan queue's tasks of every region are taken by the hub region's function: a task runs in its own region.
      const regions = organization.regions;
      if (!regions.includes(task.region)) {
        throw new InvalidScanTaskError(
          `scan task refused: region ${task.region} is not one of the organisation settings' regions (${regions.join(", ")})`,
        );
      }
      // Checked again for every task: an account that left (or was excluded) since the scan started is not read.
      const standing = await directory.standing(task.accountId);
      if (!standing.member) throw new InvalidScanTaskError(`scan task refused: ${standing.reason}`);
      let access: MemberAccess;
      try {
        access = await accessTo(task.accountId, task.region, invocationId);
      } catch (error) {
        if (error instanceof MemberDetectRoleError) throw new InvalidScanTaskError(error.message, { cause: error });
        throw error;
      }
      return runScanTask(task, memberDeps(deps, standing, task.region, access));
    },
  };
}

/** Where an event says it comes from: the event's account, and the item's own account and region when it names them. */
export interface EventPlace {
  accountId?: string;
  itemAccountId?: unknown;
  itemRegion?: unknown;
  /** Whether the event carries a full item (which must then name its account and region). */
  carriesItem?: boolean;
}

export function eventPlace(parsed: RuleEvent): EventPlace {
  const invoking = parsed.invoking;
  const place: EventPlace = parsed.accountId === undefined ? {} : { accountId: parsed.accountId };
  switch (invoking.messageType) {
    case "ConfigurationItemChangeNotification": {
      const item = invoking.configurationItem as Record<string, unknown>;
      place.itemAccountId = item.awsAccountId ?? item.accountId;
      place.itemRegion = item.awsRegion;
      place.carriesItem = true;
      break;
    }
    case "OversizedConfigurationItemChangeNotification":
      // Without them, the full item is read from the member's Config in this region and checked by the judging.
      place.itemAccountId = invoking.configurationItemSummary.awsAccountId;
      place.itemRegion = invoking.configurationItemSummary.awsRegion;
      break;
    case "ScheduledNotification":
      place.itemAccountId = invoking.awsAccountId;
      break;
  }
  return place;
}

/**
 * Why an event from `place` is not one this function serves, or undefined: it must name an account,
 * any item must be of that account and in this function's region, and that region must be one of the settings'.
 * (Whether the account is a member is the directory's to say, asked after this.)
 */
export function placeProblem(deployment: Pick<Deployment, "region" | "organization">, place: EventPlace) {
  const region = deployment.region;
  const regions = deployment.organization?.regions ?? [region];
  const { accountId, itemAccountId, itemRegion } = place;
  if (accountId === undefined || accountId === "") {
    return "the event names no account: an organisation rule's event carries the member's accountId";
  }
  if (!regions.includes(region)) {
    return `this rule function's region ${region} is not one of the organisation settings' regions (${regions.join(", ")})`;
  }
  if (place.carriesItem && (typeof itemAccountId !== "string" || typeof itemRegion !== "string")) {
    return `the event's configuration item does not name its account and region`;
  }
  if (itemAccountId !== undefined && itemAccountId !== accountId) {
    return `the item is of account ${String(itemAccountId)}, but the event comes from account ${accountId}`;
  }
  if (itemRegion !== undefined && itemRegion !== region) {
    const served = regions.includes(String(itemRegion))
      ? `its own region's rule function judges it`
      : `a region not in the organisation settings (${regions.join(", ")})`;
    return `the item is in region ${String(itemRegion)}, but this rule function serves ${region} (${served})`;
  }
  return undefined;
}

/**
 * Refused: logged with the reason and counted as any unusable event is (InvalidEvents; the log line's step and error
 * name say which), with the same outcome.
 */
function refuse(
  deps: Pick<RuleRuntimeDeps, "log" | "metrics">,
  parsed: RuleEvent,
  accountId: string | undefined,
  error: OutsideOrganizationError | MemberDetectRoleError,
): RuleRunResult {
  deps.metrics.count("InvalidEvents");
  deps.log.error("refused a member account's Config rule event", {
    configRuleName: parsed.configRuleName,
    ...(accountId === undefined ? {} : { accountId }),
    step: "member-refused",
    ...errorFields(error),
  });
  return { outcome: "rejected", reason: `${error.name}: ${error.message}` };
}

/**
 * Assumes `remedy-member-detect` in the account (15 minutes, RoleSessionName = SourceIdentity = "detect-<invocation>",
 * the settings' ExternalId). STS refusals → MemberDetectRoleError (permanent); throttling and outages are thrown as
 * they came (transient by their codes).
 */
export async function assumeDetectRole(
  sts: Pick<STSClient, "send">,
  deployment: Pick<Deployment, "partition" | "organization">,
  accountId: string,
  invocationId: string,
): Promise<TemporaryCredentials> {
  return assumeMemberRoleOf(sts, deployment, accountId, DETECT_ROLE, detectSessionName(invocationId), {
    role: "the member detect role",
    trusted: "this hub rule function",
    afterwards: "; nothing was reported or queued for the account",
    error: (message, cause) => new MemberDetectRoleError(message, { cause }),
  });
}

/** "detect-" and the first 8 characters of the invocation's id: the member's CloudTrail names the invocation. */
export function detectSessionName(invocationId: string): string {
  return `detect-${invocationId.replace(/[^A-Za-z0-9]/g, "").slice(0, 8) || "remedy"}`;
}
