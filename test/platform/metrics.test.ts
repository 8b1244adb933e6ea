// Counts reach CloudWatch only when they are not zero (each metric that receives a value in an hour is billed).
import { Metrics } from "@aws-lambda-powertools/metrics";
import { describe, expect, it, vi } from "vitest";
import { metricSink } from "../../platform/logging.ts";

describe("metricSink", () => {
  it("sends a count that is not zero and never a zero", () => {
    const metrics = new Metrics({ namespace: "Remedy", serviceName: "remedy-test" });
    const added = vi.spyOn(metrics, "addMetric");
    const sink = metricSink(metrics);
    sink.count("Evaluations", 0);
    sink.count("Evaluations", 3);
    sink.count("InvalidEvents");
    expect(added.mock.calls).toEqual([
      ["Evaluations", "Count", 3],
      ["InvalidEvents", "Count", 1],
    ]);
  });
});
