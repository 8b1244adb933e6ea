import type { Log, MetricSink } from "../../platform/logging.ts";

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  message: string;
  fields: Record<string, unknown>;
}

/** A Log that keeps every line, so tests can assert on what was reported. */
export function recordingLog(): Log & { lines: LogLine[]; errors(): LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine["level"]) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, fields: Object.assign({}, ...extra) });
  return {
    lines,
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    errors: () => lines.filter((line) => line.level === "error"),
  };
}

export function recordingMetrics(): MetricSink & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    counts,
    count(name, value = 1) {
      counts[name] = (counts[name] ?? 0) + value;
    },
  };
}
