// A scratch directory for one `vitest run`, shared by its worker processes (what one test file works out once for
// all of them: test/helpers/bundles.ts, test/helpers/moto.ts), removed when the run is over (vitest.config.ts
// globalSetup).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    runDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "remedy-test-run-"));
  project.provide("runDir", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}

const OWN = Symbol.for("remedy.test.runDir");

/** The run's directory; without the globalSetup (another config), one of this process's own (left in the tmpdir). */
export function runDir(): string {
  const given = inject("runDir");
  if (typeof given === "string") return given;
  const own = globalThis as { [OWN]?: string };
  own[OWN] ??= mkdtempSync(join(tmpdir(), "remedy-test-run-"));
  return own[OWN];
}
