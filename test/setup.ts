import "aws-sdk-client-mock-vitest/extend";
import { createRequire } from "node:module";
import { afterAll, vi } from "vitest";

// Test files share workers (vitest.config.ts: isolate is off), so each file must leave nothing behind for the next
// one in the same process:
// - this repository's modules are evaluated afresh for each file (their module-level state, e.g. the lazily built
//   SDK clients of platform/clients.ts the Lambda handlers use, is the file's own); node_modules (the AWS SDK,
//   cdktf: most of the import time) stay loaded;
// - aws-sdk-client-mock's mockClient(SomeClient) stubs SomeClient.prototype.send in sinon's default sandbox: all
//   restored once the file is done, so the next file's clients are real again (sinon as aws-sdk-client-mock requires
//   it: its ES module build would be another sandbox);
// - fake timers end with the file.
const sinon: { restore(): void } = createRequire(createRequire(import.meta.url).resolve("aws-sdk-client-mock"))(
  "sinon",
);

vi.resetModules();
afterAll(() => {
  sinon.restore();
  vi.useRealTimers();
});
