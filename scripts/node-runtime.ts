// Pinned Node binaries for tests that must run on another Node than the machine's: the Lambda runtime's (nodejs22.x)
// and every version the CLI supports. Each comes from the npm registry package the `node` package installs
// (node-<platform>-<arch>), fetched once with `npm pack` into .cache/node/<version>-<platform>-<arch>/ (git-ignored),
// checked against the sha512 pinned below before anything is extracted, and reused afterwards.
//
// Never a package.json dependency: those packages' `bin` is named `node`, so npm would link node_modules/.bin/node
// and every npm script (tsc, vitest) would quietly run on that Node instead of the machine's.
//
// `tsx scripts/node-runtime.ts 22` prints the binary's path (fetching it first when needed).
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type NodeMajor = 22 | 24;

interface Pin {
  version: string;
  /** `npm view node-<platform>-<arch>@<version> dist.integrity`, per platform-arch. */
  integrity: Readonly<Record<string, string>>;
}

/** The exact versions, and the registry's sha512 of each tarball. Raise both together. */
export const PINNED: Readonly<Record<NodeMajor, Pin>> = {
  22: {
    version: "22.23.5",
    integrity: {
      "linux-x64": "sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==",
      "linux-arm64": "sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==",
    },
  },
  24: {
    version: "24.22.3",
    integrity: {
      "linux-x64": "sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==",
      "linux-arm64": "sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==",
    },
  },
};

export const NODE_CACHE = join(dirname(fileURLToPath(import.meta.url)), "..", ".cache", "node");

export interface NodeBinaryOptions {
  /** Where binaries are kept; default .cache/node in the repository. */
  cacheDir?: string;
  platform?: string;
  arch?: string;
  /** Longest wait for another process fetching the same binary, ms. */
  lockTimeoutMs?: number;
}

/** A fetch (npm pack, verify, extract) that takes longer than this is taken for dead, its lock for stale. */
const FETCH_TIMEOUT_MS = 10 * 60_000;

/** Fetches of this process, by target directory: concurrent callers share one. */
const inFlight = new Map<string, Promise<string>>();

/** The path of the pinned Node `major` for this platform and arch, fetched into the cache on first use. */
export function nodeBinary(major: NodeMajor, options: NodeBinaryOptions = {}): Promise<string> {
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const target = `${platform}-${arch}`;
  const pin = PINNED[major];
  if (!pin) return Promise.reject(new Error(`no pinned Node ${major} in scripts/node-runtime.ts (pinned: 22, 24)`));
  const integrity = pin.integrity[target];
  if (!integrity) {
    return Promise.reject(
      new Error(
        `Node ${major} is not pinned for ${target} (scripts/node-runtime.ts pins ${Object.keys(pin.integrity).join(", ")}): ` +
          `add node-${target}@${pin.version}'s dist.integrity there to run on this machine`,
      ),
    );
  }
  const cacheDir = resolve(options.cacheDir ?? NODE_CACHE);
  const dir = join(cacheDir, `${pin.version}-${target}`);
  let pending = inFlight.get(dir);
  if (!pending) {
    pending = ensure({
      pkg: `node-${target}`,
      version: pin.version,
      integrity,
      cacheDir,
      dir,
      lockTimeoutMs: options.lockTimeoutMs ?? FETCH_TIMEOUT_MS,
    });
    inFlight.set(dir, pending);
    // A failure is not remembered: the next call tries again.
    pending.catch(() => inFlight.delete(dir));
  }
  return pending;
}

interface Fetch {
  pkg: string;
  version: string;
  integrity: string;
  cacheDir: string;
  /** The finished directory: only ever created whole, by one rename. */
  dir: string;
  lockTimeoutMs: number;
}

async function ensure(fetch: Fetch): Promise<string> {
  const binary = join(fetch.dir, "bin", "node");
  if (existsSync(binary)) return binary;
  await mkdir(fetch.cacheDir, { recursive: true });
  // The lock only saves a second download (another test file, another worker): correctness is the rename's.
  const lock = `${fetch.dir}.lock`;
  const deadline = Date.now() + fetch.lockTimeoutMs;
  while (!(await tryLock(lock))) {
    if (existsSync(binary)) return binary;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${lock} (another process fetching ${fetch.pkg}@${fetch.version})`);
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  try {
    if (existsSync(binary)) return binary;
    await download(fetch);
    return binary;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** mkdir is atomic: whoever creates the lock directory holds it. A holder that died leaves a stale lock behind. */
async function tryLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    await writeFile(join(lock, "pid"), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  if (await isStale(lock)) await rm(lock, { recursive: true, force: true });
  return false;
}

async function isStale(lock: string): Promise<boolean> {
  try {
    const pid = Number(await readFile(join(lock, "pid"), "utf8"));
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) return true;
    return Date.now() - (await stat(lock)).mtimeMs > FETCH_TIMEOUT_MS;
  } catch {
    // No pid yet (its holder is between mkdir and writeFile), or the lock is already gone.
    try {
      return Date.now() - (await stat(lock)).mtimeMs > 30_000;
    } catch {
      return false;
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function download(fetch: Fetch): Promise<void> {
  const spec = `${fetch.pkg}@${fetch.version}`;
  const staging = await mkdtemp(join(fetch.cacheDir, `.fetch-${fetch.pkg}-${fetch.version}-`));
  try {
    let packed: string;
    try {
      packed = await run("npm", ["pack", spec, "--pack-destination", staging, "--json", "--loglevel=error"], {
        cwd: staging,
        timeout: FETCH_TIMEOUT_MS,
      });
    } catch (error) {
      throw new Error(`could not fetch Node ${fetch.version} (npm pack ${spec}): ${(error as Error).message}`);
    }
    const tarball = join(staging, tarballName(packed, fetch));
    const actual = await sha512(tarball);
    if (actual !== fetch.integrity) {
      throw new Error(
        `${spec}: the tarball's integrity is ${actual}, not the pinned ${fetch.integrity}: not extracted`,
      );
    }
    // Only the binary (and its licence): the package also carries npm, headers and docs (~180 MB unpacked).
    try {
      await run("tar", ["-xzf", tarball, "-C", staging, "package/bin/node", "package/LICENSE"], {
        timeout: FETCH_TIMEOUT_MS,
      });
    } catch (error) {
      throw new Error(`could not extract ${tarball}: ${(error as Error).message}`);
    }
    const extracted = join(staging, "package");
    const binary = join(extracted, "bin", "node");
    // Proves it runs here (a glibc build on musl, say, fails now, with the loader's message, not inside a test).
    let version: string;
    try {
      version = (await run(binary, ["--version"], { timeout: 60_000 })).trim();
    } catch (error) {
      throw new Error(`${spec} does not run on this machine: ${(error as Error).message}`);
    }
    if (version !== `v${fetch.version}`) throw new Error(`${spec}: bin/node reports ${version}, not v${fetch.version}`);
    try {
      await rename(extracted, fetch.dir);
    } catch (error) {
      // Someone finished first (without the lock, or after taking a stale one): theirs is as good.
      if (!existsSync(join(fetch.dir, "bin", "node"))) throw error;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The tarball `npm pack --json` wrote; when its output cannot be read, npm's default name for it. */
function tarballName(packed: string, fetch: Fetch): string {
  try {
    const [entry] = JSON.parse(packed) as { filename?: string }[];
    if (entry?.filename) return entry.filename;
  } catch {
    // npm printed something besides the JSON: fall back to the default name
  }
  return `${fetch.pkg}-${fetch.version}.tgz`;
}

async function sha512(file: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest("base64")}`;
}

function run(file: string, args: readonly string[], options: { cwd?: string; timeout: number }): Promise<string> {
  return new Promise((done, fail) => {
    execFile(file, args, { ...options, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return done(stdout);
      const said = `${stderr}`.trim().split("\n").slice(-5).join(" | ");
      fail(new Error(said ? `${error.message.split("\n")[0]}: ${said}` : error.message));
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const major = Number(process.argv[2] ?? 22);
  if (major !== 22 && major !== 24) {
    console.error("usage: tsx scripts/node-runtime.ts 22|24");
    process.exit(2);
  }
  console.log(await nodeBinary(major));
}
