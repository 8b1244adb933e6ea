// The bad-input suite's size is part of the claim: at least 1,000 malformed inputs across the three entry points.
import { expect, it } from "vitest";
import { eventCases, s3ItemMutations, sgItemMutations } from "./config-cases.ts";
import { seededRandom } from "./generate.ts";
import { queueCases } from "./queue-cases.ts";

// Seeds as in the entry-point tests (config-rule, coordinator, notifier).
const CONFIG_SEED = 0x5eed_c0f1;
const QUEUE_SEED = 0x5eed_0c0d;
/** Malformed records in the notifier's mixed batch (asserted there to be at least this many) plus its 8 bad events. */
const NOTIFIER_MINIMUM = 200 + 8;

it("generates at least 1,000 malformed inputs across Config events, queue messages and SNS notices", () => {
  const config =
    eventCases(seededRandom(CONFIG_SEED)).length +
    sgItemMutations().length /* oversized notifications with a malformed fetched item */ +
    sgItemMutations().length +
    s3ItemMutations().length; /* scheduled runs */
  const queue = queueCases(seededRandom(QUEUE_SEED)).length;
  expect(config).toBeGreaterThanOrEqual(1_000);
  expect(queue).toBeGreaterThanOrEqual(400);
  expect(config + queue + NOTIFIER_MINIMUM).toBeGreaterThanOrEqual(1_000);
});
