// The functions' bundles (scripts/build.ts's buildAll: every function of the registry, exactly as `npm run synth`
// builds them), for the test files that need them (test/infra/stack.test.ts synthesizes the stack with them,
// test/infra/runtime.test.ts runs them under Node 22). Bundling the AWS SDK into each function costs seconds of
// esbuild, so they are built at most once per `vitest run`, and not at all when nothing they are built from changed:
//
// - built from: scripts/build.ts, every file of functions/ and problems/ and every repository file they import (the
//   import graph, followed), package.json, tsconfig.json, and the dependencies as locked and as installed
//   (node_modules/.package-lock.json, which npm rewrites on every install). Their SHA-256 names the build in
//   .cache/test-bundles/ (git-ignored, as .cache/node is): a change to any of them is a new build, a change elsewhere
//   (the CLI, the stack, the tests) is not;
// - the first test file of a run to ask finds or builds them (into a temporary directory, renamed into place once
//   complete, so a reader never sees half a build, and two runs at once never mix theirs); the other files of the
//   run, in other worker processes, wait for it and use the same (a lock in the run's directory:
//   test/helpers/run-dir.ts).
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
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { BundleResult } from "../../scripts/build.ts";
import { runDir } from "./run-dir.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CACHE = join(ROOT, ".cache", "test-bundles");
const WAIT_MS = 180_000;
/** Builds kept besides the one in use; older ones are removed once they are an hour old (a run may still read one). */
const KEEP = 3;

/** Where the build starts: the build script and everything a function entry can be (functions/, problems/). */
const ROOTS = ["scripts/build.ts", "functions", "problems"];
/** What else shapes a build: the dependencies as declared and as installed, and the compiler settings. */
const SETTINGS = ["package.json", "package-lock.json", "node_modules/.package-lock.json", "tsconfig.json"];
/** Relative module specifiers: `from "./x.ts"`, `import("../y.ts")`, `export ... from "./z.ts"`. */
const RELATIVE_IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

function filesUnder(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() || /\.(ts|json)$/.test(entry.name) ? filesUnder(join(path, entry.name)) : [],
  );
}

/**
 * The SHA-256 of what a build is made from (see the top of this file): the roots and every repository file they
 * import, transitively (relative imports; packages are the lockfiles'), and the settings.
 */
export function bundleInputsHash(): string {
  const root = ROOT.replace(/\/$/, "");
  const seen = new Set<string>();
  const pending = ROOTS.flatMap((path) => filesUnder(join(root, path)));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file) || !file.endsWith(".ts")) continue;
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(RELATIVE_IMPORT)) {
      pending.push(join(dirname(file), specifier!));
    }
  }
  const hash = createHash("sha256");
  for (const file of [...[...seen].sort(), ...SETTINGS.map((path) => join(root, path))]) {
    hash.update(`${relative(root, file)}\0`);
    // A missing file (an import of one that is not there, no lockfile) is part of the state too.
    hash.update(existsSync(file) ? readFileSync(file) : "(missing)");
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

/**
 * Where the build for the sources as they are now is: the cache's, else a new one. Built into a temporary directory
 * of the cache, then renamed into place (a build already there wins); when what it is built from changed while it
 * was built (another engineer's edit), it is this run's alone (in `run`), never cached under either name.
 */
async function locate(run: string): Promise<string> {
  const name = bundleInputsHash();
  const cached = join(CACHE, name);
  if (existsSync(join(cached, "built.json"))) return cached;
  const { buildAll } = await import("../../scripts/build.ts");
  mkdirSync(CACHE, { recursive: true });
  const building = mkdtempSync(join(CACHE, ".building-"));
  try {
    const built = await buildAll(undefined, building);
    writeFileSync(join(building, "built.json"), JSON.stringify(built));
    const target = bundleInputsHash() === name ? cached : join(run, "bundles");
    try {
      renameSync(building, target);
    } catch (error) {
      if (!existsSync(join(target, "built.json"))) throw error;
    }
    if (target === cached) prune(name);
    return target;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
}

/**
 * This run's bundles: `out` is where they are (`<out>/<name>/index.mjs`, `<out>/<name>.zip`); read them only. The
 * first file of the run to ask finds (or builds) them; the others get the same.
 */
export async function sharedBundles(): Promise<{ out: string; built: BundleResult[] }> {
  const run = runDir();
  const found = join(run, "bundles.json");
  const failed = join(run, "bundles.failed");
  let first = false;
  try {
    mkdirSync(join(run, "bundles.lock"));
    first = true;
  } catch {
    // another test file of this run is finding them
  }
  if (first) {
    try {
      const out = await locate(run);
      writeFileSync(`${found}.tmp`, JSON.stringify({ out }));
      renameSync(`${found}.tmp`, found);
      return { out, built: await resultsIn(out) };
    } catch (error) {
      writeFileSync(failed, String((error as Error).stack ?? error));
      throw error;
    }
  }
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (existsSync(found)) {
      const { out } = JSON.parse(readFileSync(found, "utf8")) as { out: string };
      return { out, built: await resultsIn(out) };
    }
    if (existsSync(failed)) throw new Error(`the bundle build failed:\n${readFileSync(failed, "utf8")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the bundle build did not finish within ${WAIT_MS / 1000} s`);
}
