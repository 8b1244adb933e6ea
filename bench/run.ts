// `npm run bench`: every benchmark, then one table of the figures that have targets. No timed assertions:
// these print what this machine measured.
import { main as bundlesBench, print as printBundles } from "./bundles.bench.ts";
import { main as coordinatorBench } from "./coordinator.bench.ts";
import { main as costBench, print as printCost, total } from "./cost.bench.ts";
import { main as exemptionsBench, print as printExemptions } from "./exemptions.bench.ts";
import { main as periodicBench, print as printPeriodic } from "./periodic.bench.ts";
import { DEFAULT_DELAY_SECONDS, print as printRealtime, main as realtimeBench } from "./realtime.bench.ts";
import { print as printRules, main as rulesBench } from "./rules.bench.ts";
import { print as printStartup, main as startupBench } from "./startup.bench.ts";
import { print as printTimeline, main as timelineBench } from "./timeline.bench.ts";

const summary: Record<string, { measured: string; target: string }> = {};

console.log("\n== Rule evaluation ==");
const rules = rulesBench(100_000);
printRules(rules);
summary["rule evaluation vs JSON.parse"] = {
  measured: `${rules.evaluateMicrosPerItem.toFixed(2)} µs vs ${rules.parseMicrosPerItem.toFixed(2)} µs per item (${rules.ratio.toFixed(2)}×)`,
  target: "≤ 2×",
};

summary["rule handler (whole change path) vs JSON.parse"] = {
  measured: `${rules.handlerMicrosPerItem.toFixed(2)} µs vs ${rules.handlerParseMicrosPerItem.toFixed(2)} µs per item (${rules.handlerRatio.toFixed(2)}×)`,
  target: "≤ 3×",
};

console.log("\n== Allowlist patterns ==");
const exemptions = exemptionsBench(200_000);
printExemptions(exemptions);
summary["allowlist pattern, pathological vs plain"] = {
  measured: `${exemptions.slowest.microsPerFinding.toFixed(3)} µs (${exemptions.slowest.pattern}) vs ${exemptions.plain.microsPerFinding.toFixed(3)} µs per finding (${exemptions.ratio.toFixed(2)}×)`,
  target: "≤ 2×",
};

console.log("\n== Periodic scan (Config stand-in, AWS-like latency on a virtual clock) ==");
// 1,000,000 takes minutes of CPU here: `npx tsx bench/periodic.bench.ts 1000000` (its figures are in the README).
const periodic = await periodicBench([10_000, 100_000]);
printPeriodic(periodic);
for (const figures of periodic.filter((f) => f.day === 2)) {
  summary[`periodic scan of ${figures.resources.toLocaleString("en-US")}, day 2`] = {
    measured: `longest invocation ${figures.longestInvocationSeconds.toFixed(0)} s, heap growth ${figures.largestInvocationHeapMb.toFixed(0)} MB, ${figures.reported} evaluations reported, ${(figures.wallSeconds / 60).toFixed(1)} min`,
    target: "each invocation ≤ 300 s and ≤ 256 MB",
  };
}

console.log("\n== Coordinator drain (local-aws-sqs, Lambda stubbed) ==");
const drain = await coordinatorBench(10_000);
summary["coordinator drain of 10,000"] = {
  measured: `${Math.round(drain.messagesPerSecond)} messages/s, ${drain.sqsCalls} SQS calls`,
  target: "—",
};
summary[
  `coordinator vs Defendable Design's loop, +${drain.latency.sqsMs} ms per SQS call, +${drain.latency.invokeMs} ms per Invoke`
] = {
  measured: `${Math.round(drain.withLatency.remedy.messagesPerSecond)} vs ${Math.round(drain.withLatency.defendableDesign.messagesPerSecond)} messages/s (${drain.withLatency.ratio.toFixed(1)}×)`,
  target: "≥ 10×",
};

console.log("\n== Bundles (esbuild, nodejs22.x arm64 target) ==");
const bundles = await bundlesBench();
printBundles(bundles);
const largest = bundles.reduce((max, figure) => (figure.bundleBytes > max.bundleBytes ? figure : max));
summary["largest bundle"] = {
  measured: `${(largest.bundleBytes / 1024).toFixed(0)} KB (${largest.name}); cold imports ${Math.min(...bundles.map((b) => b.coldImportMs)).toFixed(0)}–${Math.max(...bundles.map((b) => b.coldImportMs)).toFixed(0)} ms`,
  target: "≤ 1 MB",
};

console.log("\n== Timeline: queued → dispatched, auto-response on ==");
const timeline = await timelineBench();
printTimeline(timeline);
const steady = timeline[0]!;
summary["queued → dispatched, p99 (steady load)"] = {
  measured: `${steady.p99Seconds.toFixed(1)} s (+ fix time)`,
  target: "≤ 60 s + fix time",
};

console.log("\n== Real time: API call → fixed, auto-response on, no grace ==");
const realtime = await realtimeBench();
printRealtime(realtime);
const atDefault = realtime.realtime.find((path) => path.delaySeconds === DEFAULT_DELAY_SECONDS)!;
summary[`API call → fixed, p99 (real-time path, realtime_delay_seconds ${atDefault.delaySeconds})`] = {
  measured: `${atDefault.total.p99.toFixed(1)} s (p50 ${atDefault.total.p50.toFixed(1)} s); Config-driven p99 ${(realtime.config.total.p99 / 60).toFixed(1)} min`,
  target: "< 60 s",
};
summary["real-time path per 1,000 events"] = {
  measured: `$${total(realtime.cost.perThousand).toFixed(4)} ($${total(realtime.cost.perThousandAllFixes).toFixed(4)} if every event is a fix); ${realtime.cost.assumptions.eventsPerMonth.toLocaleString("en-US")} a month $${total(realtime.cost.monthly).toFixed(2)} + $${total(realtime.cost.fixedMonthly).toFixed(2)} idle polls`,
  target: "—",
};

console.log("\n== Cost ==");
const cost = await costBench(drain.sqsCalls / Math.max(1, drain.dispatched));
printCost(cost);
summary["monthly cost, 10,000 resources"] = {
  measured: `$${cost.reduce((sum, line) => sum + line.usd, 0).toFixed(2)}`,
  target: "≤ $25",
};
for (const scenario of cost.report.organization.scenarios) {
  const { accounts, regions } = cost.report.organization.organization;
  summary[
    `monthly cost, ${scenario.resources.toLocaleString("en-US")} resources in ${accounts} accounts × ${regions} regions`
  ] = {
    measured: `$${scenario.total.toFixed(2)} (in one account: $${scenario.singleAccountTotal.toFixed(2)})`,
    target: "—",
  };
}

console.log("\n== CLI startup (node bin/remedy.js, no AWS calls) ==");
const startup = startupBench(5);
printStartup(startup, 5);
summary["remedy startup, mean of 5"] = {
  measured: startup.map((figure) => `${figure.command} ${figure.meanMs.toFixed(0)} ms`).join(", "),
  target: "—",
};

console.log("\n== Summary ==");
console.table(summary);
