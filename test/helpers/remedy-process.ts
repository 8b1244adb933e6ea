// The `remedy` command line as a process runs it, either in this process or in a child:
//
// - remedyInProcess: cli/remedy.ts's main(), the entry bin/remedy.js calls, with the same argv parsing and the real
//   dependencies (realDeps: the AWS SDK, its credential chain, shared files, endpoints), given a host of its own: a
//   working directory, an environment, stdout and stderr captured as pipes, and a stdin that is no terminal (so a
//   command that asks is answered "no", as with a closed stdin). The AWS SDK reads its settings from process.env,
//   so for the run process.env holds exactly the AWS and Remedy settings given (every AWS_*, REMEDY_* and INIT_CWD
//   of this process's own is taken out) and is restored after; runs are one at a time in this process.
// - remedyChild: `node bin/remedy.js` in a child process (the real process: tsx, streams, exit code), for the few
//   smoke tests that keep spawning covered.
//
// Both answer the same shape, so a check can take either.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Host } from "../../cli/deps.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(REPO_ROOT, "bin", "remedy.js");

export interface RemedyRun {
  argv: string[];
  /** The exit code (null: killed, e.g. by the timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Where it ran: "in-process" (main() with its own host) or "child" (node bin/remedy.js). */
  how: "in-process" | "child";
}

export interface RemedyOptions {
  cwd: string;
  /** The command's whole environment (a child sees only this; in process, see above). */
  env: Record<string, string | undefined>;
}

/** What this process's own environment must not lend a run: the CLI's and the AWS SDK's settings. */
const OWN_SETTING = /^(AWS_|REMEDY_|INIT_CWD$)/;

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    done();
  }
}

let queue: Promise<unknown> = Promise.resolve();

/** One at a time: each run owns process.env (and the global console, which main() points at its stderr). */
function serialized<T>(run: () => Promise<T>): Promise<T> {
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

/** Runs `run` with process.env's AWS and Remedy settings exactly `env`'s, restoring process.env after. */
export async function withSettings<T>(env: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (OWN_SETTING.test(name)) delete process.env[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  try {
    return await run();
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
}

/** `remedy <argv>` through cli/remedy.ts's main(), in this process (see the top of this file). */
export function remedyInProcess(argv: readonly string[], options: RemedyOptions): Promise<RemedyRun> {
  return serialized(async () => {
    const { main } = await import("../../cli/remedy.ts");
    const stdout = new Capture();
    const stderr = new Capture();
    const stdin = new PassThrough();
    stdin.end();
    // As process.cwd() says it: absolute, no trailing separator.
    const cwd = resolve(options.cwd);
    const host: Host = { stdout, stderr, stdin, env: { ...options.env }, cwd: () => cwd };
    const started = Date.now();
    const code = await withSettings(options.env, () => main([...argv], host));
    return {
      argv: [...argv],
      code,
      stdout: stdout.text,
      stderr: stderr.text,
      ms: Date.now() - started,
      how: "in-process",
    };
  });
}

/** `node bin/remedy.js <argv>` in a child process that sees only `env`, stdin closed. */
export function remedyChild(
  argv: readonly string[],
  options: RemedyOptions & { timeoutMs?: number },
): Promise<RemedyRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [BIN, ...argv],
      { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code === "string") {
          reject(error);
          return;
        }
        const code = error ? (typeof error.code === "number" ? error.code : null) : 0;
        resolve({ argv: [...argv], code, stdout, stderr, ms: Date.now() - started, how: "child" });
      },
    );
    child.stdin?.end();
  });
}
