// moto (the AWS emulator on this machine's image) as a real server on a free port of 127.0.0.1, one per test file.
// Tests that need AWS's real wire protocols use it through the SDK's standard AWS_ENDPOINT_URL (clients in code under
// test are never given an endpoint). Where moto_server is missing, `motoAvailable` is false and those tests skip with
// one clear line, except in CI (CI=true), where a missing emulator fails the run: a skip must not pass as a pass.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import type { KMSClient } from "@aws-sdk/client-kms";

export const MOTO_ACCOUNT_ID = "123456789012";
export const MOTO_REGION = "eu-west-1";

function hasMoto(): boolean {
  try {
    execFileSync("moto_server", ["--help"], { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

export const motoAvailable = hasMoto();

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
   * reads when it starts). This process's environment is not changed.
   */
  env?: Record<string, string>;
}

export async function startMoto(options: StartMotoOptions = {}): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: "ignore",
    ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
  });
  await waitUntilUp(endpoint, child, Date.now() + 30_000);
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
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: "POST" });
    },
    async stop() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
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
