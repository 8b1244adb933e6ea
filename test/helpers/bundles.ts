// The functions' bundles (scripts/build.ts's buildAll: every function of the registry, exactly as `npm run synth`
// builds them), for the test files that need them (test/infra/stack.test.ts synthesizes the stack with them,
// test/infra/runtime.test.ts runs them under Node 22). Bundling the AWS SDK into each function costs seconds of
// esbuild, so they are built at most once per `vitest run`, and not at all when nothing they are built from changed:
//
// - built from: every file of this repository outside test/, bench/, examples/, the Markdown and what git ignores
//   (the functions, the code they import, scripts/build.ts, package.json, tsconfig.json, ...), and the dependencies
//   as installed (node_modules/.package-lock.json, which npm rewrites on every install). Their SHA-256 names the
//   build in .cache/test-bundles/ (git-ignored, as .cache/node is): a change to any of them is a new build;
// - the first test file of a run to ask builds (into a temporary directory, renamed into place once complete, so a
//   reader never sees half a build, and two runs at once never mix theirs); the other files of the run, in other
//   worker processes, wait for it (a lock in the run's directory: test/helpers/run-dir.ts).
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { BundleResult } from "../../scripts/build.ts";
import { runDir } from "./run-dir.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CACHE = join(ROOT, ".cache", "test-bundles");
/** Not what a bundle is built from. */
const NOT_INPUTS = new Set([
  ".git",
  ".cache",
  "node_modules",
  "dist",
  "cdktf.out",
  "coverage",
  "test",
  "bench",
  "examples",
]);
const WAIT_MS = 180_000;
/** Builds kept besides the one in use; older ones are removed once they are an hour old (a run may still read one). */
const KEEP = 3;

function inputFiles(dir: string, files: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!(dir === ROOT.replace(/\/$/, "") && NOT_INPUTS.has(entry.name))) inputFiles(path, files);
    } else if (entry.isFile() && !entry.name.endsWith(".md")) {
      files.push(path);
    }
  }
  return files;
}

/** The SHA-256 of everything a build is made from (see the top of this file). */
export function bundleInputsHash(): string {
  const hash = createHash("sha256");
  const root = ROOT.replace(/\/$/, "");
  const files = inputFiles(root).sort();
  const installed = join(ROOT, "node_modules", ".package-lock.json");
  if (existsSync(installed)) files.push(installed);
  for (const file of files) {
    hash.update(`${relative(root, file)}\0`);
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex").slice(0, 32);
}

/** What a finished build holds: each function's bundle and zip, where buildAll puts them under `out`. */
async function resultsIn(out: string): Promise<BundleResult[]> {
  const { bundlePath, zipPath } = await import("../../scripts/build.ts");
  const saved = JSON.parse(readFileSync(join(out, "built.json"), "utf8")) as BundleResult[];
  return saved.map((result) => ({
    ...result,
    bundlePath: bundlePath(result.name, out),
    zipPath: zipPath(result.name, out),
  }));
}

function prune(current: string): void {
  const hourAgo = Date.now() - 3_600_000;
  const builds = readdirSync(CACHE)
    .filter((name) => !name.startsWith(".") && name !== current)
    .map((name) => ({ path: join(CACHE, name), mtime: statSync(join(CACHE, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of builds.slice(KEEP)) if (old.mtime < hourAgo) rmSync(old.path, { recursive: true, force: true });
}

/** Builds into a temporary directory of the cache, then renames it into place (a build already there wins). */
async function buildInto(out: string, name: string): Promise<void> {
  const { buildAll } = await import("../../scripts/build.ts");
  mkdirSync(CACHE, { recursive: true });
  const building = mkdtempSync(join(CACHE, ".building-"));
  try {
    const built = await buildAll(undefined, building);
    writeFileSync(join(building, "built.json"), JSON.stringify(built));
    try {
      renameSync(building, out);
    } catch (error) {
      if (!existsSync(join(out, "built.json"))) throw error;
    }
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  prune(name);
}

/** This run's bundles: `out` is where they are (`<out>/<name>/index.mjs`, `<out>/<name>.zip`); read them only. */
export async function sharedBundles(): Promise<{ out: string; built: BundleResult[] }> {
  const name = bundleInputsHash();
  const out = join(CACHE, name);
  if (existsSync(join(out, "built.json"))) return { out, built: await resultsIn(out) };

  const run = runDir();
  const failed = join(run, `bundles-${name}.failed`);
  let builder = false;
  try {
    mkdirSync(join(run, `bundles-${name}.lock`));
    builder = true;
  } catch {
    // another test file of this run is building them
  }
  if (builder) {
    try {
      await buildInto(out, name);
    } catch (error) {
      writeFileSync(failed, String((error as Error).stack ?? error));
      throw error;
    }
    return { out, built: await resultsIn(out) };
  }
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (existsSync(join(out, "built.json"))) return { out, built: await resultsIn(out) };
    if (existsSync(failed)) throw new Error(`the bundle build failed:\n${readFileSync(failed, "utf8")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the bundle build did not finish within ${WAIT_MS / 1000} s`);
}
