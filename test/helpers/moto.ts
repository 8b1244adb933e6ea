// moto (the AWS emulator on this machine's image) as real servers on free ports of 127.0.0.1, shared by the test
// files of a run one at a time, reset for each (see startMoto).
// Tests that need AWS's real wire protocols use it through the SDK's standard AWS_ENDPOINT_URL (clients in code under
// test are never given an endpoint). Where moto_server is missing, `motoAvailable` is false and those tests skip with
// one clear line, except in CI (CI=true), where a missing emulator fails the run: a skip must not pass as a pass.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KMSClient } from "@aws-sdk/client-kms";
import { registerPid, runDir, runOwner } from "./run-dir.ts";

export const MOTO_ACCOUNT_ID = "123456789012";
export const MOTO_REGION = "eu-west-1";

/** For describe.skipIf: in CI a missing moto is an error, not a skip. */
export function skipWithoutMoto(what: string): boolean {
  if (motoAvailable) return false;
  if (process.env.CI && !/^(false|0)$/i.test(process.env.CI))
    throw new Error(`moto_server is not on PATH: ${what} cannot run, and CI must not skip it`);
  console.warn(`skipped: ${what} needs moto_server (the AWS emulator), which is not on PATH here`);
  return true;
}

export interface Moto {
  endpoint: string;
  /** Environment for code under test (and child processes): endpoint, region and dummy credentials. */
  env: Record<string, string>;
  /** Client settings for the test's own setup clients. */
  clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: true;
  };
  /** Forgets every resource (moto's reset API), for tests that need a fresh account. */
  reset(): Promise<void>;
  /** Done with it: the shared moto is given back (the next file gets it reset), one of its own is stopped. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, deadline: number): Promise<void> {
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error("moto_server exited while starting");
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok || response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint}`);
}

export interface StartMotoOptions {
  /**
   * Extra environment for moto_server itself, over this process's (e.g. MOTO_RECORDER_FILEPATH, which moto_server
   * reads when it starts). This process's environment is not changed. A moto with its own environment is the
   * caller's alone (never shared, see startMoto).
   */
  env?: Record<string, string>;
}

interface Server {
  endpoint: string;
  child: ChildProcess;
}

/**
 * moto_server on a free port, under a small sh watchdog that stops it when asked (SIGTERM) or once process `owner`
 * is gone however it ended (test processes are killed, not asked to clean up): no moto outlives the tests. Its
 * request recorder (off until /moto-api/recorder/start-recording) writes to a file of its own, removed with it, unless
 * `env` names another.
 */
async function launch(
  env: Record<string, string> | undefined,
  owner: number = process.pid,
  port?: number,
): Promise<Server> {
  port ??= await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const recording = join(tmpdir(), `remedy-moto-${owner}-${port}.jsonl`);
  const watchdog = [
    `moto_server -H 127.0.0.1 -p ${port} & moto=$!`,
    `trap 'kill $moto 2>/dev/null; wait $moto; rm -f "$OWN_RECORDING"; exit 0' TERM INT`,
    `while kill -0 ${owner} 2>/dev/null && kill -0 $moto 2>/dev/null; do sleep 1 & wait $!; done`,
    "kill $moto 2>/dev/null",
    "wait $moto",
    `rm -f "$OWN_RECORDING"`,
  ].join("\n");
  const child = spawn("sh", ["-c", watchdog], {
    stdio: "ignore",
    env: { ...process.env, MOTO_RECORDER_FILEPATH: recording, ...env, OWN_RECORDING: recording },
  });
  child.unref();
  try {
    await waitUntilUp(endpoint, child, Date.now() + 30_000);
  } catch (error) {
    child.kill("SIGTERM");
    throw error;
  }
  return { endpoint, child };
}

function stopServer({ child }: Server): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

function handle(endpoint: string, release: () => Promise<void>): Moto {
  const credentials = { accessKeyId: "testing", secretAccessKey: "testing" };
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: MOTO_REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_S3_FORCE_PATH_STYLE: "true",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    clientConfig: { endpoint, region: MOTO_REGION, credentials, forcePathStyle: true },
    reset: () => resetMoto(endpoint),
    stop: release,
  };
}

async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
  if (!response.ok) throw new Error(`moto reset answered HTTP ${response.status}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The run's pool of moto servers (in the run's directory, test/helpers/run-dir.ts): `moto/<port>/endpoint` once a
// server answers, `moto/<port>/lease` (a directory: made by one process only) while a test file has it. Servers live
// as long as the run (their watchdog watches the process that owns the run; its teardown stops them).

const pool = () => join(runDir(), "moto");

/** Starts a server into the pool; `leased`: for the caller, else left free (the first check below). */
async function launchPooled(leased: boolean): Promise<string> {
  const port = await freePort();
  const dir = join(pool(), String(port));
  mkdirSync(dir, { recursive: true });
  if (leased) mkdirSync(join(dir, "lease"));
  try {
    const server = await launch(undefined, runOwner(), port);
    if (server.child.pid !== undefined) registerPid(server.child.pid);
    writeFileSync(join(dir, "endpoint.tmp"), server.endpoint);
    renameSync(join(dir, "endpoint.tmp"), join(dir, "endpoint"));
    return server.endpoint;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A free server of the pool, reset (every resource of the file before forgotten), leased to the caller. */
async function leaseFree(): Promise<{ endpoint: string; lease: string } | undefined> {
  if (!existsSync(pool())) return undefined;
  for (const name of readdirSync(pool())) {
    const dir = join(pool(), name);
    if (!existsSync(join(dir, "endpoint"))) continue;
    const lease = join(dir, "lease");
    try {
      mkdirSync(lease);
    } catch {
      continue;
    }
    const endpoint = readFileSync(join(dir, "endpoint"), "utf8");
    try {
      await resetMoto(endpoint);
      return { endpoint, lease };
    } catch {
      // Gone (its lease stays, so nobody takes it again).
    }
  }
  return undefined;
}

/**
 * A moto for the calling test file, empty (as a fresh one is). Test files take turns on the run's moto servers: one
 * free is reset (every resource forgotten) and lent to the file until `stop()` gives it back; only when none is free
 * is another started (starting moto and its first EC2 call cost seconds of Python each time). One with its own
 * environment is a server of its own, stopped by `stop()`. Every moto here has its request recorder ready
 * (/moto-api/recorder/...), stopped and emptied by nothing but its user.
 */
export async function startMoto(options: StartMotoOptions = {}): Promise<Moto> {
  if (options.env) {
    const server = await launch(options.env);
    return handle(server.endpoint, () => stopServer(server));
  }
  const free = await leaseFree();
  const endpoint = free?.endpoint ?? (await launchPooled(true));
  const lease = free?.lease ?? join(pool(), new URL(endpoint).port, "lease");
  let released = false;
  return handle(endpoint, async () => {
    if (released) return;
    released = true;
    rmSync(lease, { recursive: true, force: true });
  });
}

/**
 * The environment for a child process (e.g. the `remedy` CLI) talking to moto and to nothing else: moto's endpoint,
 * region and dummy keys, and AWS config/credentials files that do not exist, so no profile, SSO session or region of
 * the machine running the tests leaks in. Nothing else of the parent's environment is passed (not even INIT_CWD,
 * which npm sets and the CLI would take as the caller's directory).
 */
export function isolatedEnv(moto: Moto, scratchDir: string): Record<string, string> {
  return {
    ...moto.env,
    AWS_CONFIG_FILE: join(scratchDir, "no-such-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(scratchDir, "no-such-aws-credentials"),
  };
}

/**
 * moto gap (5.2.1): GenerateMac answers `KeyId` with the bare key id, where KMS answers with the key's ARN (which is
 * what a ledger record's `integrity.keyId` then says, and what undo compares with the stack's `ledger_mac_key_id`
 * output, the key's ARN). This makes a client's GenerateMac answers say the ARN, as KMS does; nothing else changes.
 */
export function kmsKeyArnsAsAws(kms: KMSClient, region: string = MOTO_REGION, account: string = MOTO_ACCOUNT_ID) {
  // Once per client (a second add with the same name would throw).
  if (kms.middlewareStack.identify().some((entry) => entry.startsWith("motoGenerateMacKeyArn"))) return kms;
  kms.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const output = result.output as { KeyId?: string };
      if (context.commandName === "GenerateMacCommand" && output.KeyId && !output.KeyId.startsWith("arn:")) {
        output.KeyId = `arn:aws:kms:${region}:${account}:key/${output.KeyId}`;
      }
      return result;
    },
    { step: "initialize", name: "motoGenerateMacKeyArn" },
  );
  return kms;
}

// ---------------------------------------------------------------------------------------------------------------

const PROBED = Symbol.for("remedy.test.motoAvailable");

/**
 * Whether moto runs here: the run has a moto server, or one starts now (it is needed anyway, and starting it is a
 * surer test than `moto_server --help`, which alone costs a second of Python imports). A start that failed is written
 * in the run's directory, so the other files of the run skip at once.
 */
async function hasMoto(): Promise<boolean> {
  const cached = globalThis as { [PROBED]?: boolean };
  if (cached[PROBED] !== undefined) return cached[PROBED];
  const missing = join(runDir(), "moto-missing");
  const running = () =>
    existsSync(pool()) && readdirSync(pool()).some((name) => existsSync(join(pool(), name, "endpoint")));
  let available = !existsSync(missing);
  if (available && !running()) {
    try {
      await launchPooled(false);
    } catch (error) {
      writeFileSync(missing, String((error as Error).message));
      available = false;
    }
  }
  cached[PROBED] = available;
  return available;
}

export const motoAvailable = await hasMoto();
