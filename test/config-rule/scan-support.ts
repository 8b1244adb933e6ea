// A periodic scan run in process: the scan queue and the store of its parts in memory, and a driver that takes
// tasks off the queue and runs each as its own invocation would (its own time budget), until none is left.
import type { Evaluation } from "@aws-sdk/client-config-service";
import {
  parseScanTask,
  runScanTask,
  type ScanDeps,
  type ScanQueue,
  type ScanStore,
  type ScanTask,
  type ScanTaskResult,
} from "../../functions/config-rule/scan.ts";

export interface MemoryScanQueue extends ScanQueue {
  /** Task bodies as sent (JSON), oldest first. */
  bodies: string[];
  sent: ScanTask[];
}

export function memoryScanQueue(): MemoryScanQueue {
  const bodies: string[] = [];
  const sent: ScanTask[] = [];
  return {
    bodies,
    sent,
    async send(tasks) {
      for (const task of tasks) {
        bodies.push(JSON.stringify(task));
        sent.push(task);
      }
    },
  };
}

export function memoryScanStore(): ScanStore & { parts: Map<string, Uint8Array> } {
  const parts = new Map<string, Uint8Array>();
  return {
    parts,
    async putPart(scanId, part, bytes) {
      parts.set(`${scanId}/${part}`, new Uint8Array(bytes));
    },
    async getPart(scanId, part) {
      const bytes = parts.get(`${scanId}/${part}`);
      if (!bytes) throw Object.assign(new Error(`no part ${scanId}/${part}`), { name: "NoSuchKey" });
      return bytes;
    },
  };
}

export interface DrivenScan {
  results: ScanTaskResult[];
  /** Every verdict sent to Config, in order. */
  evaluations: Evaluation[];
  tasks: ScanTask[];
  failures: string[];
}

/**
 * Runs every task the queue holds (and those they add), one per invocation as the event source mapping would, until
 * none is left; `budgetFor(n)` gives the n-th invocation's remaining-time function (default: plenty). A task that
 * throws is recorded in `failures` (the queue would retry it) and not run again.
 */
export async function driveScan(
  queue: MemoryScanQueue,
  deps: Omit<ScanDeps, "scanQueue" | "remainingTimeMs">,
  options: { budgetFor?: (invocation: number) => () => number; maxInvocations?: number } = {},
): Promise<DrivenScan> {
  const driven: DrivenScan = { results: [], evaluations: [], tasks: [], failures: [] };
  for (let invocation = 0; invocation < queue.bodies.length; invocation++) {
    if (invocation >= (options.maxInvocations ?? 100_000)) throw new Error("the scan did not end");
    const task = parseScanTask(queue.bodies[invocation]!);
    driven.tasks.push(task);
    const remainingTimeMs = options.budgetFor?.(invocation) ?? (() => 15 * 60_000);
    try {
      const result = await runScanTask(task, { ...deps, scanQueue: queue, remainingTimeMs });
      driven.results.push(result);
      if (result.kind === "judge") driven.evaluations.push(...result.evaluations);
      // A type Config does not record is judged by the list task that lists it (through its inventory).
      if (result.kind === "list" && result.inventory) driven.evaluations.push(...result.inventory.evaluations);
    } catch (error) {
      driven.failures.push(`${task.kind}: ${(error as Error).message}`);
    }
  }
  return driven;
}

/** Config's BatchGetResourceConfig shape: configuration and supplementary values as JSON strings. */
// biome-ignore lint/suspicious/noExplicitAny: a fixture item of any type
export function asBaseItem(item: Record<string, any>) {
  return {
    version: item.configurationItemVersion,
    accountId: item.awsAccountId,
    configurationItemCaptureTime: new Date(item.configurationItemCaptureTime),
    configurationItemStatus: item.configurationItemStatus,
    configurationStateId: String(item.configurationStateId),
    arn: item.ARN,
    resourceType: item.resourceType,
    resourceId: item.resourceId,
    resourceName: item.resourceName,
    awsRegion: item.awsRegion,
    availabilityZone: item.availabilityZone,
    configuration: JSON.stringify(item.configuration),
    supplementaryConfiguration: Object.fromEntries(
      Object.entries(item.supplementaryConfiguration ?? {}).map(([key, value]) => [
        key,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    ),
  };
}
