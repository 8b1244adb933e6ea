// Structured JSON logs and EMF metrics through Powertools, one service name per function.
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

export const METRICS_NAMESPACE = "Remedy";

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}

/** What cores need from logging: a subset of Powertools' Logger, so tests can record lines. */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What cores need from metrics. */
export interface MetricSink {
  count(name: string, value?: number): void;
}

/**
 * Counts into Powertools metrics. A zero is not sent: CloudWatch bills a custom metric for every hour it receives a
 * value, and an idle coordinator tick would otherwise send a dozen zeros a minute (bench/cost.bench.ts). A graph
 * shows no data where it would have shown 0.
 */
export function metricSink(metrics: Metrics): MetricSink {
  return {
    count: (name, value = 1) => {
      if (value !== 0) metrics.addMetric(name, MetricUnit.Count, value);
    },
  };
}

/** Shapes an error for a log line: name, message and, for AWS errors, the service's error code. */
export function errorFields(error: unknown): { errorName: string; errorMessage: string } {
  if (error instanceof Error) return { errorName: error.name, errorMessage: error.message };
  return { errorName: "NonError", errorMessage: String(error) };
}
