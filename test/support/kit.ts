// The small pieces every suite shares: an AWS service error as the SDK throws it, a recording reporter and a clock
// the test moves by hand. One of each (the suites' support modules re-export them).
import type { ReportBody, Reporter } from "../../contract/report.ts";

/** An AWS SDK-shaped service error: name, HTTP status and fault as the SDK sets them. */
export function awsError(name: string, status: number, message = `${name} (test)`): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status },
  });
}

/** A reporter that keeps every report (`of(kind)` picks one kind); `fail` makes every report throw, as SNS down. */
export function recordingReporter(options: { fail?: boolean } = {}): Reporter & {
  reports: ReportBody[];
  of<K extends ReportBody["kind"]>(kind: K): Extract<ReportBody, { kind: K }>[];
} {
  const reports: ReportBody[] = [];
  return {
    reports,
    async report(body) {
      if (options.fail) throw awsError("InternalError", 500, "SNS is down");
      reports.push(body);
    },
    of: <K extends ReportBody["kind"]>(kind: K) =>
      reports.filter((report): report is Extract<ReportBody, { kind: K }> => report.kind === kind),
  };
}

/** A clock under the test's control; `now` is what the code under test reads. */
export function fakeClock(start: Date) {
  let current = start.getTime();
  return {
    now: () => new Date(current),
    advance(ms: number) {
      current += ms;
    },
    set(date: Date) {
      current = date.getTime();
    },
  };
}
