import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** The test files that spend most of their time waiting on moto (Python, its own process) rather than computing. */
const ON_MOTO = /\/helpers\/moto\.ts"|\/moto-stack\.ts"/;

/**
 * The default order (failed first, then the longest first), with the files on moto spread out: one in every three
 * started, so that while one waits on moto the others have the CPU, and fewer run at once, each needing a moto
 * server (test/helpers/moto.ts). The longest files are on moto: in the default order they would all start at once.
 */
class SpreadSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const onMoto = sorted.filter((file) => ON_MOTO.test(readFileSync(file.moduleId, "utf8")));
    const rest = sorted.filter((file) => !onMoto.includes(file));
    const order: TestSpecification[] = [];
    while (onMoto.length > 0 || rest.length > 0) {
      order.push(...onMoto.splice(0, 1), ...rest.splice(0, 2));
    }
    return order;
  }
}

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // A scratch directory per run, for what one file works out for all (test/helpers/run-dir.ts).
    globalSetup: ["test/helpers/run-dir.ts"],
    // Test files share worker processes, so the AWS SDK and cdktf (most of the import time) load once per worker,
    // not once per file. Each file still gets this repository's modules afresh, and leaves no SDK mocks or fake timers
    // behind (test/setup.ts); nothing else may leak: process.env changes are undone (vi.stubEnv, withEnv helpers).
    isolate: false,
    // Unless the files are shuffled (--sequence.shuffle, which picks its own sequencer).
    ...(process.argv.some((arg) => arg.startsWith("--sequence.shuffle"))
      ? {}
      : { sequence: { sequencer: SpreadSequencer } }),
    // One more worker than cores (3 on the 2-core machine this is timed on): many files wait on moto, a child
    // process or a long poll for a while, and another file then has the CPU. More costs more than it gains: each
    // worker loads the SDK, and files on moto at the same time need a moto server each (test/helpers/moto.ts).
    maxWorkers: availableParallelism() + 1,
    // Timeouts only catch hangs: no test asserts on time (speed lives in bench/), and a busy 2-core machine can make
    // a correct test slow.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Powertools logs go to stdout; tests that care capture them explicitly.
    env: {
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_METRICS_DISABLED: "true",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    },
  },
});
