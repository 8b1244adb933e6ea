// A scratch directory for one `vitest run`, shared by its worker processes (what one test file works out once for
// all of them: test/helpers/bundles.ts, test/helpers/moto.ts), removed when the run is over (vitest.config.ts
// globalSetup).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  writeFileSync(join(dir, "owner"), String(process.pid));
  project.provide("runDir", dir);
  return () => {
    // What the run's files started for the whole run (test/helpers/moto.ts's servers) stops with it.
    const pids = join(dir, "pids");
    for (const name of existsSync(pids) ? readdirSync(pids) : []) {
      try {
        process.kill(Number(name), "SIGTERM");
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
}

const OWN = Symbol.for("remedy.test.runDir");

/** The process the run belongs to (vitest's main process; without the globalSetup, this one). */
export function runOwner(): number {
  const file = join(runDir(), "owner");
  return existsSync(file) ? Number(readFileSync(file, "utf8")) : process.pid;
}

/** A process to stop when the run is over (the globalSetup's teardown). */
export function registerPid(pid: number): void {
  mkdirSync(join(runDir(), "pids"), { recursive: true });
  writeFileSync(join(runDir(), "pids", String(pid)), "");
}

/** The run's directory; without the globalSetup (another config), one of this process's own (left in the tmpdir). */
export function runDir(): string {
  const given = inject("runDir");
  if (typeof given === "string") return given;
  const own = globalThis as { [OWN]?: string };
  own[OWN] ??= mkdtempSync(join(tmpdir(), "remedy-test-run-"));
  return own[OWN];
}
