// One local SQS server per test, its waits on virtual time (a receive that finds fewer messages than asked waits
// out WaitTimeSeconds: see local-sqs.ts), stopped after it with real timers back. Kept apart from local-sqs.ts,
// which benchmarks import outside vitest.
import { afterEach, beforeEach, vi } from "vitest";
import { type LocalSqs, SQS_SERVER_TIMERS, startLocalSqs } from "./local-sqs.ts";

/** Registers the hooks; `use` receives each test's server. */
export function localSqsPerTest(use: (server: LocalSqs) => void): void {
  let server: LocalSqs | undefined;
  beforeEach(async () => {
    vi.useFakeTimers({ toFake: [...SQS_SERVER_TIMERS], shouldAdvanceTime: true });
    server = await startLocalSqs({ advanceTimers: (ms) => vi.advanceTimersByTime(ms) });
    use(server);
  });
  afterEach(async () => {
    await server?.stop();
    vi.useRealTimers();
  });
}
