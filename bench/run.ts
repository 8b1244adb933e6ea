// `npm run bench`: every benchmark, then one table of the figures that have targets. No timed assertions:
// these print what this machine measured.
import { main as coordinatorBench } from "./coordinator.bench.ts";
import { print as printRules, main as rulesBench } from "./rules.bench.ts";

const summary: Record<string, { measured: string; target: string }> = {};

console.log("\n== Rule evaluation ==");
const rules = rulesBench(100_000);
printRules(rules);
summary["rule evaluation vs JSON.parse"] = {
  measured: `${rules.evaluateMicrosPerItem.toFixed(2)} µs vs ${rules.parseMicrosPerItem.toFixed(2)} µs per item (${rules.ratio.toFixed(2)}×)`,
  target: "≤ 2×",
};

console.log("\n== Coordinator drain (local-aws-sqs, Lambda stubbed) ==");
const drain = await coordinatorBench(10_000);
summary["coordinator drain of 10,000"] = {
  measured: `${Math.round(drain.messagesPerSecond)} messages/s, ${drain.sqsCalls} SQS calls`,
  target: "—",
};

console.log("\n== Summary ==");
console.table(summary);
