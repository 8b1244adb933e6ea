// The periodic run as a scan in pages, so it fits any account in bounded memory and time. Config's
// ScheduledNotification only starts it (one task on Remedy's scan queue); the same function then takes tasks from
// that queue, several invocations at once (the event source mapping's concurrency), each within its time budget:
//
//   verdicts  reads what Config already holds for the rule (GetComplianceDetailsByConfigRule), page by page, into a
//             compact part (recorded.ts) stored under scans/; runs out of time → stores what it read and hands the
//             rest to the next task. Then one `list` task.
//   list      reads the recorded verdicts, lists the rule's resources (ListDiscoveredResources) page by page and
//             sends one `judge` task per page, naming each resource with the verdict Config holds for it; runs out
//             of time → hands the rest on. A type Config does not record (EBS snapshots: its ResourceSpec says
//             `recordedByConfig: false`) is listed through its own service's API instead (its inventory,
//             problems/<folder>/inventory.ts), and each page is judged, reported and queued right there: what the
//             listing read is the live resource, so there is nothing left for a judge task to read.
//   judge     reads one page of items (BatchGetResourceConfig), judges them with the deployed rule, reports to
//             Config only the verdicts that differ from what it holds (Config keeps a result until it is replaced,
//             so re-sending an unchanged one only costs an evaluation), and queues a fix instruction for every
//             violation, changed or not (the coordinator drops repeats).
//
// A task is a claim like any message: it only says where to read; what is judged is read from Config and judged with
// the deployed rule. Its recorded verdicts decide only whether a verdict is re-sent, never whether a fix is queued.
// A task that fails is retried by the queue; every task can run twice without harm (a repeated verdict or
// instruction is idempotent).
//
// Organisation mode: a scan is per member account and region. Every task names both (taken from the deployment the
// scan was started with: the member's, organization.ts), and organization.ts checks the account's standing again and
// assumes its detect role for each task before it runs here; the scan queue and the bucket of parts are the hub's.
import { randomUUID } from "node:crypto";
import {
  type ConfigServiceClient,
  type Evaluation,
  GetComplianceDetailsByConfigRuleCommand,
  ListDiscoveredResourcesCommand,
  type ResourceType,
} from "@aws-sdk/client-config-service";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import * as v from "valibot";
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from "../../contract/ids.ts";
import type { Instruction } from "../../contract/instruction.ts";
import type { AccountFactsReader } from "../../detection/account-facts.ts";
import { InvalidConfigItemError } from "../../detection/config-item.ts";
import type { AccountFacts } from "../../detection/types.ts";
import { hasErrorCode } from "../../platform/aws-errors.ts";
import { mapLimit } from "../../platform/concurrency.ts";
import { type DeployedRule, type Deployment, deployedRuleNamed } from "../../platform/deployment.ts";
import { PermanentError } from "../../platform/errors.ts";
import { errorFields, type MetricSink } from "../../platform/logging.ts";
import { sendMessages } from "../../platform/queue.ts";
import { listedByInventory } from "../../problems/inventory.ts";
import type { InventoryAccess } from "./inventory-access.ts";
import {
  batchGetItems,
  type Judged,
  type JudgingDeps,
  judgeBatchItem,
  putEvaluations,
  queueInstructions,
} from "./judging.ts";
import { decodeVerdicts, encodeVerdicts, packVerdict, type RecordedVerdict, RecordedVerdicts } from "./recorded.ts";
import { scanPartKey } from "./scan-layout.ts";

export const SCAN_TASK_VERSION = 1;
/** A page of each listing: Config's maximum for both. */
const PAGE_SIZE = 100;
/** Violations whose tags are read again at once (GetResourceConfigHistory), within one page. */
const TAG_READS_IN_FLIGHT = 8;
/** Task messages being sent while the listing goes on. */
const SENDS_IN_FLIGHT = 4;

// -- Tasks ------------------------------------------------------------------------------------------------------

const nonEmpty = v.pipe(v.string(), v.minLength(1), v.maxLength(4_096));
const common = {
  version: v.literal(SCAN_TASK_VERSION),
  scanId: v.pipe(v.string(), v.uuid()),
  configRuleName: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  resultToken: nonEmpty,
  startedAt: v.pipe(v.string(), v.isoTimestamp()),
  /** Organisation mode only: the member account and region the scan is of (single-account tasks carry neither). */
  accountId: v.optional(v.pipe(v.string(), v.regex(ACCOUNT_ID_PATTERN, "must be a 12-digit account id"))),
  region: v.optional(v.pipe(v.string(), v.regex(REGION_PATTERN, "must be an AWS region"))),
};
const index = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000_000));
const VERDICTS = ["COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "INSUFFICIENT_DATA"] as const;

export const ScanTaskSchema = v.pipe(
  v.variant("kind", [
    v.strictObject({
      kind: v.literal("verdicts"),
      ...common,
      /** The part this task stores (0, 1, …): each task of the chain stores one. */
      part: index,
      nextToken: v.optional(nonEmpty),
    }),
    v.strictObject({
      kind: v.literal("list"),
      ...common,
      /** How many parts of recorded verdicts the scan stored. */
      parts: index,
      /** Which of the rule's resource types is being listed, and where its listing goes on. */
      typeIndex: index,
      nextToken: v.optional(nonEmpty),
    }),
    v.strictObject({
      kind: v.literal("judge"),
      ...common,
      resourceType: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
      resources: v.pipe(
        v.array(
          v.strictObject({
            id: v.pipe(v.string(), v.minLength(1), v.maxLength(768)),
            recorded: v.optional(v.picklist(VERDICTS)),
          }),
        ),
        v.minLength(1),
        v.maxLength(PAGE_SIZE),
      ),
    }),
  ]),
  v.check(
    (task) => (task.accountId === undefined) === (task.region === undefined),
    "must name both an account and a region, or neither",
  ),
);
export type ScanTask = v.InferOutput<typeof ScanTaskSchema>;
type TaskOf<K extends ScanTask["kind"]> = Extract<ScanTask, { kind: K }>;

/**
 * A message on the scan queue that can never run: not a task of this version, a rule this stack did not deploy, or
 * (organisation mode) an account or region Remedy does not serve, or a member detect role that refuses the hub.
 */
export class InvalidScanTaskError extends PermanentError {
  override name = "InvalidScanTaskError";
}

export function parseScanTask(body: string): ScanTask {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new InvalidScanTaskError(`scan task is not JSON: ${(error as Error).message}`);
  }
  const parsed = v.safeParse(ScanTaskSchema, value, { abortEarly: true });
  if (!parsed.success) {
    const [issue] = parsed.issues;
    const path = v.getDotPath(issue);
    throw new InvalidScanTaskError(`scan task ${path ? `${path}: ` : ""}${issue.message}`);
  }
  return parsed.output;
}

// -- What a scan needs ------------------------------------------------------------------------------------------

/** Where tasks go: Remedy's scan queue (SQS), or an in-memory queue in tests and benchmarks. */
export interface ScanQueue {
  send(tasks: readonly ScanTask[]): Promise<void>;
}

/** Where the recorded verdicts wait between the tasks of one scan (S3 under scans/, expiring). */
export interface ScanStore {
  putPart(scanId: string, part: number, bytes: Uint8Array): Promise<void>;
  getPart(scanId: string, part: number): Promise<Uint8Array>;
}

/** Organisation mode: which judged instructions the account's settings let be queued (organization.ts). */
export type InstructionAdmission = (instructions: Instruction[]) => Instruction[];

export interface ScanDeps extends JudgingDeps {
  configService: ConfigServiceClient;
  sqs: SQSClient;
  /** The remediation queue, where fix instructions go. */
  queueUrl: string;
  scanQueue: ScanQueue;
  scanStore: ScanStore;
  accountFacts: AccountFactsReader;
  /** The invocation's remaining time (Lambda's context.getRemainingTimeInMillis). */
  remainingTimeMs: () => number;
  /** A task stops reading and hands the rest on when less than this is left. */
  safetyMarginMs: number;
  metrics: MetricSink;
  /** Organisation mode: the account's settings hold back what they do not enable (verdicts are still reported). */
  admitInstructions?: InstructionAdmission;
  /**
   * The listers of the rule's types that Config does not record, in the scan's account and region (organisation
   * mode: with the member's detect session). Absent: a rule that judges such a type cannot be scanned.
   */
  inventories?: InventoryAccess;
}

export function scanStoreOnS3(s3: S3Client, bucket: string): ScanStore {
  return {
    async putPart(scanId, part, bytes) {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: scanPartKey(scanId, part),
          Body: bytes,
          ContentType: "application/octet-stream",
        }),
      );
    },
    async getPart(scanId, part) {
      const output = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: scanPartKey(scanId, part) }));
      if (!output.Body) throw new InvalidScanTaskError(`scan ${scanId} has no part ${part}`);
      return output.Body.transformToByteArray();
    },
  };
}

export function scanQueueOnSqs(sqs: SQSClient, queueUrl: string): ScanQueue {
  return {
    async send(tasks) {
      await sendMessages(
        sqs,
        queueUrl,
        tasks.map((task, n) => ({ id: `${task.kind}-${n}`, body: JSON.stringify(task) })),
      );
    },
  };
}

// -- Starting ---------------------------------------------------------------------------------------------------

/** The first task of a scan for a ScheduledNotification: read what Config holds. */
export async function startScan(
  deps: Pick<ScanDeps, "scanQueue" | "now" | "log" | "deployment">,
  event: { configRuleName: string; resultToken: string },
): Promise<string> {
  const scanId = randomUUID();
  // Organisation mode: the deployment is the member's (organization.ts), so the scan is of that account and region.
  const where = deps.deployment.organization
    ? { accountId: deps.deployment.accountId, region: deps.deployment.region }
    : {};
  await deps.scanQueue.send([
    {
      kind: "verdicts",
      version: SCAN_TASK_VERSION,
      scanId,
      configRuleName: event.configRuleName,
      resultToken: event.resultToken,
      startedAt: deps.now().toISOString(),
      ...where,
      part: 0,
    },
  ]);
  deps.log.info("periodic scan started", {
    configRuleName: event.configRuleName,
    scanId,
    step: "scan-started",
    ...where,
  });
  return scanId;
}

// -- Running a task ---------------------------------------------------------------------------------------------

/** What judging a page of items came to. */
export interface PageJudgement {
  judged: number;
  /** Verdicts sent to Config (those that differ from what it held). */
  reported: number;
  unchanged: number;
  queued: number;
  skippedItems: number;
  evaluations: Evaluation[];
}

export type ScanTaskResult =
  | { kind: "verdicts"; read: number; handedOn: boolean }
  | {
      kind: "list";
      listed: number;
      judgeTasks: number;
      handedOn: boolean;
      /** The pages of types listed through their inventory, judged in this task (absent: none). */
      inventory?: PageJudgement & {
        /** Resources listed that could not be read for good (not judged, not reported). */
        unread: number;
        /** Resources listed that were deleted before they were read. */
        gone: number;
      };
    }
  | ({ kind: "judge"; unprocessed: number } & PageJudgement);

export async function runScanTask(task: ScanTask, deps: ScanDeps): Promise<ScanTaskResult> {
  // The rule is the deployment's, found by its exact name: a task cannot choose what counts as a violation.
  const deployed = deployedRuleNamed(deps.deployment, task.configRuleName);
  if (!deployed) {
    throw new InvalidScanTaskError(`config rule "${task.configRuleName}" is not one of this deployment's rules`);
  }
  const misplaced = taskPlaceProblem(task, deps.deployment);
  if (misplaced) throw new InvalidScanTaskError(misplaced);
  switch (task.kind) {
    case "verdicts":
      return readVerdicts(task, deps);
    case "list":
      return listResources(task, deployed, deps);
    case "judge":
      return judgePage(task, deployed, deps);
  }
}

/**
 * Why a task may not run with this deployment's clients, or undefined: single-account tasks name no account;
 * organisation-mode tasks name exactly the account and region of the (member) deployment they run with.
 */
export function taskPlaceProblem(
  task: Pick<ScanTask, "accountId" | "region">,
  deployment: Pick<Deployment, "accountId" | "region" | "organization">,
): string | undefined {
  if (!deployment.organization) {
    return task.accountId === undefined
      ? undefined
      : `scan task names account ${task.accountId}, but this deployment is single-account`;
  }
  if (task.accountId === undefined || task.region === undefined) {
    return "scan task names no account and region: in organisation mode every task names the member account and region it scans";
  }
  if (task.accountId !== deployment.accountId || task.region !== deployment.region) {
    return `scan task is of ${task.accountId}/${task.region}, not of ${deployment.accountId}/${deployment.region} it was to run in`;
  }
  return undefined;
}

const timeLeft = (deps: ScanDeps) => deps.remainingTimeMs() > deps.safetyMarginMs;
const carry = ({ version, scanId, configRuleName, resultToken, startedAt, accountId, region }: ScanTask) =>
  accountId === undefined || region === undefined
    ? { version, scanId, configRuleName, resultToken, startedAt }
    : { version, scanId, configRuleName, resultToken, startedAt, accountId, region };

async function readVerdicts(task: TaskOf<"verdicts">, deps: ScanDeps): Promise<ScanTaskResult> {
  const packed: bigint[] = [];
  let nextToken = task.nextToken;
  do {
    const page = await deps.configService.send(
      new GetComplianceDetailsByConfigRuleCommand({
        ConfigRuleName: task.configRuleName,
        Limit: PAGE_SIZE,
        NextToken: nextToken,
      }),
    );
    for (const result of page.EvaluationResults ?? []) {
      const qualifier = result.EvaluationResultIdentifier?.EvaluationResultQualifier;
      const value =
        qualifier?.ResourceType && qualifier.ResourceId && result.ComplianceType
          ? packVerdict(qualifier.ResourceType, qualifier.ResourceId, result.ComplianceType)
          : undefined;
      if (value !== undefined) packed.push(value);
    }
    nextToken = page.NextToken || undefined;
  } while (nextToken && timeLeft(deps));

  await deps.scanStore.putPart(task.scanId, task.part, encodeVerdicts(packed));
  const next: ScanTask = nextToken
    ? { kind: "verdicts", ...carry(task), part: task.part + 1, nextToken }
    : { kind: "list", ...carry(task), parts: task.part + 1, typeIndex: 0 };
  await deps.scanQueue.send([next]);
  deps.log.info("read recorded verdicts", {
    configRuleName: task.configRuleName,
    scanId: task.scanId,
    step: "verdicts",
    part: task.part,
    read: packed.length,
    handedOn: nextToken !== undefined,
  });
  return { kind: "verdicts", read: packed.length, handedOn: nextToken !== undefined };
}

/** A warm invocation keeps the last scan's verdicts: the next list task of the chain needs the same ones. */
let cachedVerdicts: { scanId: string; verdicts: RecordedVerdicts } | undefined;

async function recordedVerdicts(task: TaskOf<"list">, deps: ScanDeps): Promise<RecordedVerdicts> {
  if (cachedVerdicts?.scanId === task.scanId) return cachedVerdicts.verdicts;
  const parts = await mapLimit(
    Array.from({ length: task.parts }, (_, part) => part),
    SENDS_IN_FLIGHT,
    async (part) => decodeVerdicts(await deps.scanStore.getPart(task.scanId, part)),
  );
  const verdicts = new RecordedVerdicts(parts);
  cachedVerdicts = { scanId: task.scanId, verdicts };
  return verdicts;
}

async function listResources(task: TaskOf<"list">, deployed: DeployedRule, deps: ScanDeps): Promise<ScanTaskResult> {
  const types = deployed.rule.resourceTypes;
  const verdicts = await recordedVerdicts(task, deps);
  const sending = new Set<Promise<void>>();
  const send = async (tasks: ScanTask[]) => {
    while (sending.size >= SENDS_IN_FLIGHT) await Promise.race(sending);
    const sent = deps.scanQueue.send(tasks).finally(() => sending.delete(sent));
    sending.add(sent);
  };

  let typeIndex = task.typeIndex;
  let nextToken = task.nextToken;
  let listed = 0;
  let judgeTasks = 0;
  let inventory: Extract<ScanTaskResult, { kind: "list" }>["inventory"];
  // At least one page per task, whatever the time says: a chain of tasks always gets somewhere.
  for (let pages = 0; typeIndex < types.length && (pages === 0 || timeLeft(deps)); pages++) {
    const resourceType = types[typeIndex]!;
    if (listedByInventory(resourceType)) {
      const {
        listed: read,
        nextToken: next,
        ...judged
      } = await inventoryPage(task, deployed, deps, resourceType, nextToken, verdicts);
      inventory = inventory ? addJudgements(inventory, judged) : judged;
      listed += read;
      nextToken = next;
      if (!nextToken) typeIndex++;
      continue;
    }
    const page = await deps.configService.send(
      new ListDiscoveredResourcesCommand({ resourceType: resourceType as ResourceType, limit: PAGE_SIZE, nextToken }),
    );
    const ids = (page.resourceIdentifiers ?? []).flatMap((identifier) =>
      identifier.resourceId ? [identifier.resourceId] : [],
    );
    // A page is at most 100 ids (Config's own limit); a larger answer still becomes tasks of 100.
    for (let start = 0; start < ids.length; start += PAGE_SIZE) {
      const resources = ids.slice(start, start + PAGE_SIZE).map((id) => {
        const recorded = verdicts.verdictOf(resourceType, id);
        return recorded ? { id, recorded } : { id };
      });
      await send([{ kind: "judge", ...carry(task), resourceType, resources }]);
      judgeTasks++;
    }
    listed += ids.length;
    nextToken = page.nextToken || undefined;
    if (!nextToken) typeIndex++;
  }
  // Every page listed is on the queue before the rest of the listing is handed on (or the task fails and runs again).
  await Promise.all(sending);
  const handedOn = typeIndex < types.length;
  if (handedOn) {
    await deps.scanQueue.send([{ kind: "list", ...carry(task), parts: task.parts, typeIndex, nextToken }]);
  }
  deps.log.info("listed resources", {
    configRuleName: task.configRuleName,
    scanId: task.scanId,
    step: "list",
    listed,
    judgeTasks,
    handedOn,
    ...(inventory ? { judged: inventory.judged, reported: inventory.reported, queued: inventory.queued } : {}),
  });
  return { kind: "list", listed, judgeTasks, handedOn, ...(inventory ? { inventory } : {}) };
}

type InventoryJudgement = NonNullable<Extract<ScanTaskResult, { kind: "list" }>["inventory"]>;

function addJudgements(a: InventoryJudgement, b: InventoryJudgement): InventoryJudgement {
  return {
    judged: a.judged + b.judged,
    reported: a.reported + b.reported,
    unchanged: a.unchanged + b.unchanged,
    queued: a.queued + b.queued,
    skippedItems: a.skippedItems + b.skippedItems,
    evaluations: [...a.evaluations, ...b.evaluations],
    unread: a.unread + b.unread,
    gone: a.gone + b.gone,
  };
}

/**
 * One page of a type Config does not record, listed through its inventory (live, in the scan's account and region)
 * and judged as a judge task judges Config's items: the verdicts that differ from what Config holds are reported
 * (ComplianceResourceType the type, ComplianceResourceId the resource's id), every violation is queued.
 */
async function inventoryPage(
  task: TaskOf<"list">,
  deployed: DeployedRule,
  deps: ScanDeps,
  resourceType: string,
  nextToken: string | undefined,
  verdicts: RecordedVerdicts,
): Promise<InventoryJudgement & { listed: number; nextToken?: string }> {
  const lister = deps.inventories?.(resourceType);
  if (!lister) throw new Error(`${resourceType} is not recorded by Config and this scan has no inventory of it`);
  const { accountId, region } = deps.deployment;
  const page = await lister.page({ accountId, region }, nextToken);
  for (const unread of page.unread) {
    deps.metrics.count("UnreadResources");
    deps.log.error("skipped a resource that cannot be read: it is judged on the next periodic run", {
      configRuleName: task.configRuleName,
      scanId: task.scanId,
      step: "unread",
      resourceType,
      resourceId: unread.resourceId,
      reason: unread.reason,
    });
  }
  const judged = await judgeItems(task, deployed, deps, page.items, (id) => verdicts.verdictOf(resourceType, id));
  deps.log.info(
    "judged a page of the periodic scan",
    scanLog(task, "inventory", {
      resourceType,
      judged: judged.judged,
      reported: judged.reported,
      queued: judged.queued,
      skippedItems: judged.skippedItems,
      unread: page.unread.length,
      gone: page.gone,
    }),
  );
  return {
    ...judged,
    unread: page.unread.length,
    gone: page.gone,
    listed: page.items.length + page.unread.length + page.gone,
    ...(page.nextToken ? { nextToken: page.nextToken } : {}),
  };
}

function scanLog(task: ScanTask, step: string, extra: object = {}) {
  return { ...extra, configRuleName: task.configRuleName, scanId: task.scanId, step };
}

async function judgePage(task: TaskOf<"judge">, deployed: DeployedRule, deps: ScanDeps): Promise<ScanTaskResult> {
  const recorded = new Map<string, RecordedVerdict | undefined>(task.resources.map((r) => [r.id, r.recorded]));
  const { items, unprocessed } = await batchGetItems(
    deps.configService,
    task.resources.map((resource) => ({ resourceType: task.resourceType as ResourceType, resourceId: resource.id })),
  );
  if (unprocessed.length > 0) {
    deps.log.error(
      "Config left resources unprocessed; they will be judged on the next periodic run",
      scanLog(task, "unprocessed", { unprocessed: unprocessed.map((key) => key.resourceId) }),
    );
  }
  const judged = await judgeItems(task, deployed, deps, items, (id) => recorded.get(id));
  deps.log.info(
    "judged a page of the periodic scan",
    scanLog(task, "judge", {
      judged: judged.judged,
      reported: judged.reported,
      queued: judged.queued,
      skippedItems: judged.skippedItems,
      unprocessed: unprocessed.length,
    }),
  );
  return { kind: "judge", ...judged, unprocessed: unprocessed.length };
}

/**
 * Judges a page of items with the deployed rule, queues every violation's instruction, then reports to Config the
 * verdicts that differ from what it holds (`recordedOf`); an item that cannot be judged is skipped and counted.
 */
async function judgeItems(
  task: ScanTask,
  deployed: DeployedRule,
  deps: ScanDeps,
  items: readonly unknown[],
  recordedOf: (resourceId: string) => RecordedVerdict | undefined,
): Promise<PageJudgement> {
  const rule = deployed.rule;
  const facts: AccountFacts = rule.facts?.length ? await deps.accountFacts(deps.deployment.accountId, rule.facts) : {};
  let skippedItems = 0;
  const judged = (
    await mapLimit(items, TAG_READS_IN_FLIGHT, async (raw): Promise<Judged | undefined> => {
      try {
        return await judgeBatchItem(deps, deployed, task.configRuleName, facts, raw);
      } catch (error) {
        if (!(error instanceof InvalidConfigItemError)) throw error;
        skippedItems++;
        deps.metrics.count("InvalidConfigurationItems");
        deps.log.error(
          "skipped a configuration item that cannot be judged",
          scanLog(task, "skipped", { resourceId: (raw as { resourceId?: string }).resourceId, ...errorFields(error) }),
        );
        return undefined;
      }
    })
  ).filter((entry): entry is Judged => entry !== undefined);

  // Violations first: a fix instruction must not wait on Config accepting a verdict.
  // "TESTMODE" is the token Config's console uses for test invocations: nothing is recorded, nothing is queued.
  const judgedInstructions = task.resultToken === "TESTMODE" ? [] : judged.flatMap((entry) => entry.instructions);
  const instructions =
    deps.admitInstructions && judgedInstructions.length > 0
      ? deps.admitInstructions(judgedInstructions)
      : judgedInstructions;
  await queueInstructions(deps, instructions, { scanId: task.scanId });

  // Only what Config does not already hold: a resource it has no result for, or a different one.
  const evaluations = judged
    .map((entry) => entry.evaluation)
    .filter((evaluation) => recordedOf(evaluation.ComplianceResourceId!) !== evaluation.ComplianceType);
  let reported = evaluations.length;
  try {
    await putEvaluations(deps, task, evaluations);
  } catch (error) {
    // The trigger's token is the scan's for as long as Config honours it; once it does not, retrying cannot help.
    // What this page judged is queued already; its verdicts are reported by the next scan.
    if (!hasErrorCode(error, "InvalidResultTokenException")) throw error;
    reported = 0;
    deps.metrics.count("ExpiredScanTokens");
    deps.log.error(
      "Config no longer accepts this scan's result token: the page's verdicts wait for the next scan",
      scanLog(task, "token-refused", { unreported: evaluations.length, ...errorFields(error) }),
    );
  }

  const nonCompliant = judged.filter((entry) => entry.evaluation.ComplianceType === "NON_COMPLIANT").length;
  deps.metrics.count("Evaluations", reported);
  deps.metrics.count("UnchangedVerdicts", judged.length - evaluations.length);
  deps.metrics.count("NonCompliantResources", nonCompliant);
  deps.metrics.count("InstructionsQueued", instructions.length);
  deps.metrics.count(
    "ExemptFindings",
    judged.reduce((sum, entry) => sum + entry.exemptFindings, 0),
  );
  return {
    judged: judged.length,
    reported,
    unchanged: judged.length - evaluations.length,
    queued: instructions.length,
    skippedItems,
    evaluations: reported > 0 ? evaluations : [],
  };
}

// -- The scan queue's batches -----------------------------------------------------------------------------------

/** The part of Lambda's SQS event a scan reads. */
export interface ScanQueueEvent {
  Records: { messageId: string; body: string; attributes?: { ApproximateReceiveCount?: string } }[];
}

export function isScanQueueEvent(event: unknown): event is ScanQueueEvent {
  const records = (event as { Records?: unknown } | null)?.Records;
  return (
    Array.isArray(records) &&
    records.length > 0 &&
    records.every((record) => (record as { eventSource?: unknown })?.eventSource === "aws:sqs")
  );
}

/**
 * Runs each task of a batch. A task that can never run (not a task, a rule not deployed) goes to the scan's
 * dead-letter queue with its reason at once; one that failed otherwise is retried by the queue (reported in
 * batchItemFailures; after a few receives the queue's redrive moves it to the same dead-letter queue). One bad
 * message never stops the others.
 */
export async function runScanBatch(
  event: ScanQueueEvent,
  deps: ScanDeps & {
    scanDeadLetterUrl: string;
    /** How a task runs: runScanTask, or (organisation mode) in its member account (organization.ts). */
    runTask?: (task: ScanTask, deps: ScanDeps) => Promise<ScanTaskResult>;
  },
): Promise<{ batchItemFailures: { itemIdentifier: string }[] }> {
  const failures: { itemIdentifier: string }[] = [];
  const runTask = deps.runTask ?? runScanTask;
  for (const record of event.Records) {
    try {
      await runTask(parseScanTask(record.body), deps);
    } catch (error) {
      if (error instanceof InvalidScanTaskError) {
        deps.metrics.count("InvalidScanTasks");
        deps.log.error("dead-lettered a scan task that cannot run", {
          step: "scan-task-refused",
          messageId: record.messageId,
          ...errorFields(error),
        });
        try {
          await sendMessages(deps.sqs, deps.scanDeadLetterUrl, [
            {
              id: record.messageId,
              body: record.body,
              attributes: { reason: { DataType: "String", StringValue: error.message.slice(0, 1_000) } },
            },
          ]);
        } catch (sendError) {
          deps.log.error("could not dead-letter the scan task: the queue retries it", errorFields(sendError));
          failures.push({ itemIdentifier: record.messageId });
        }
        continue;
      }
      deps.metrics.count("ScanTaskFailures");
      deps.log.error("scan task failed: the queue retries it", {
        step: "scan-task-failed",
        messageId: record.messageId,
        receiveCount: record.attributes?.ApproximateReceiveCount,
        ...errorFields(error),
      });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
